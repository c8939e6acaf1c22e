"""`brandmon digest` through `monitor.digest.cli`: print, --out preview, --send, bad input."""

from __future__ import annotations

import argparse
import io
import struct
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from core.clock import FixedClock
from monitor.config import parse_config
from monitor.digest import ledger
from monitor.digest.browser import find_browser
from monitor.digest.cli import add_digest_command, run_digest
from monitor.digest.service import send_due_digest
from monitor.errors import InputError
from tests.test_digest_figures import BRAND, make_seed, seed_database
from tests.test_digest_mail import (
    SEND_AT,
    Inbox,
    LocalController,
    config_data,
    free_port,
    start_smtp,
)
from tests.test_digest_render import parse_html


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANDMON_TEST_SMTP_PASSWORD", "s3cret pass")


def _run(
    tmp_path: Path, db_url: str, *argv: str, port: int = 25, **config: Any
) -> tuple[int, str, str]:
    data = config_data(db_url, port=port)
    data["brands"] += config.pop("brands", [])
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    parser = argparse.ArgumentParser(prog="brandmon")
    add_digest_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["digest", "--config", str(path), *argv])
    out, err = io.StringIO(), io.StringIO()
    code = run_digest(args, clock=FixedClock(SEND_AT), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_prints_last_week_as_text(engine: Engine, db_url: str, tmp_path: Path) -> None:
    seed_database(engine, make_seed())
    code, out, _ = _run(tmp_path, db_url)
    assert code == 0
    assert "2026-W47, Mon 16 Nov – Sun 22 Nov 2026 (America/New_York)" in out
    assert "- Mentions: " in out


def test_out_writes_a_standalone_preview(engine: Engine, db_url: str, tmp_path: Path) -> None:
    seed_database(engine, make_seed())
    preview = tmp_path / "digest.html"
    code, out, err = _run(tmp_path, db_url, "--week", "2026-W46", "--out", str(preview))
    assert (code, out) == (0, "")
    assert f"wrote {preview}" in err
    html = preview.read_text(encoding="utf-8")
    sources = [a["src"] or "" for tag, a in parse_html(html).tags if tag == "img"]
    assert len(sources) == 3
    assert all(s.startswith("data:image/png;base64,iVBORw0KGgo") for s in sources)
    assert "2026-W46" in html
    assert ledger.run(engine, brand=BRAND, week="2026-W46") is None  # a preview sends nothing


def test_out_with_several_brands_writes_one_file_each(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    other = {"name": "Ka & Co", "terms": ["kaco"]}
    code, _, _ = _run(tmp_path, db_url, "--out", str(tmp_path / "d.html"), brands=[other])
    assert code == 0
    assert sorted(p.name for p in tmp_path.glob("d-*.html")) == ["d-Ka-Co.html", "d-Kestrel.html"]


def test_send_now_is_recorded_so_the_scheduler_skips_it(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    inbox = Inbox()
    smtp: LocalController = start_smtp(inbox)
    try:
        code, _, err = _run(tmp_path, db_url, "--send", "--brand", BRAND, port=smtp.port)
        assert code == 0
        assert "Kestrel 2026-W47: sent to marketing@example.com, cmo@example.com" in err
        config = yaml.safe_load((tmp_path / "config.yaml").read_text(encoding="utf-8"))
        assert send_due_digest(parse_config(config), engine, clock=FixedClock(SEND_AT)) == []
    finally:
        smtp.stop()
    assert len(inbox.envelopes) == 1


def test_send_with_the_relay_down_fails(engine: Engine, db_url: str, tmp_path: Path) -> None:
    code, _, err = _run(tmp_path, db_url, "--send", port=free_port())
    assert code == 1
    assert "Kestrel 2026-W47: not sent: ConnectionRefusedError" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--week", "47"], "expected an ISO week"), (["--brand", "Nope"], "not in the config")],
)
def test_bad_input(db_url: str, tmp_path: Path, argv: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        _run(tmp_path, db_url, *argv)


def test_competitors_get_no_digest_of_their_own(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    rival = {"name": "Ka & Co", "terms": ["kaco"], "competitor": True}
    code, _, _ = _run(tmp_path, db_url, "--out", str(tmp_path / "d.html"), brands=[rival])
    assert code == 0
    assert [p.name for p in tmp_path.glob("d*.html")] == ["d.html"]
    assert "Share of voice" in (tmp_path / "d.html").read_text(encoding="utf-8")


def test_send_uses_the_schedulers_message_id(engine: Engine, db_url: str, tmp_path: Path) -> None:
    inbox = Inbox()
    smtp: LocalController = start_smtp(inbox)
    try:
        code, _, _ = _run(tmp_path, db_url, "--send", port=smtp.port)
    finally:
        smtp.stop()
    assert code == 0
    (message,) = inbox.messages()
    assert message["Message-ID"] == "<digest.2026-w47.kestrel@kestrel.example>"  # as scheduled


@pytest.mark.skipif(find_browser() is None, reason="no Chromium on PATH")
def test_screenshots_at_both_widths(engine: Engine, db_url: str, tmp_path: Path) -> None:
    seed_database(engine, make_seed())
    code, _, err = _run(tmp_path, db_url, "--out", str(tmp_path / "d.html"), "--screenshots")
    assert code == 0
    for width in (390, 1200):
        shot = tmp_path / f"d-{width}.png"
        assert f"wrote {shot}" in err
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">I", shot.read_bytes()[16:20])[0] >= width
