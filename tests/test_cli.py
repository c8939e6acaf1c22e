"""The CLI contract: score, classify, run --once, status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from tests.factories import feed_record, write_config, write_feed

COMPLAINT = "@KestrelHelp on hold for 2 hours and still no refund. Useless."


def test_score_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", COMPLAINT]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["flagged"] is True
    assert -1 <= result["sentiment"] < 0
    assert result["reasons"]
    assert result["suggested_reply"]


def test_score_of_praise_is_not_flagged(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "Kestrel delivered a day early, brilliant service"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["flagged"] is False
    assert "suggested_reply" not in result


def test_classify_csv_keeps_order_and_handles_multiline_fields(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(
        'id,body\n1,"great stuff, thanks"\n2,"line one\nstill waiting for my refund, '
        'third time I ask"\n3,\n',
        encoding="utf-8",
    )
    target = tmp_path / "out.jsonl"
    assert (
        main(["classify", "--input", str(source), "--text-column", "body", "--output", str(target)])
        == 0
    )
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3]
    assert [r["flagged"] for r in rows] == [False, True, False]
    assert all({"flagged", "category", "sentiment", "reasons"} <= r.keys() for r in rows)


def test_classify_jsonl_and_missing_column(tmp_path: Path, capsys) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "love it"}\n{"msg": "no text here"}\n')
    assert main(["classify", "--input", str(source), "--output", str(tmp_path / "o")]) == 2
    assert "line 2: no 'text' field" in capsys.readouterr().err
    csv_source = tmp_path / "in.csv"
    csv_source.write_text("a,b\n1,2\n")
    assert main(["classify", "--input", str(csv_source), "--output", str(tmp_path / "o")]) == 2
    assert "no column 'text' (columns: a, b)" in capsys.readouterr().err


def test_run_once_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feed = write_feed(
        tmp_path / "feed.jsonl",
        [
            feed_record("1", COMPLAINT),
            feed_record("2", "what time does the Kestrel store open on Sunday?"),
            "{bad",
        ],
    )
    config = write_config(
        tmp_path / "config.yaml",
        db_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        sources={"feed": {"type": "replay", "path": str(feed)}},
    )
    assert main(["run", "--once", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.count("━━ COMPLAINT") == 1
    assert out.count("━━ QUESTION") == 1  # a question needs an answer, not an apology
    assert main(["status", "--config", str(config)]) == 0
    status = capsys.readouterr().out
    assert "feed (replay): ok" in status
    assert "mentions:      2" in status
    assert "last error:    none" in status
    assert "alerts: sent 2" in status
    assert " UTC" in status  # times say their zone


@pytest.mark.parametrize(
    ("failures", "success_minutes_ago", "expected"),
    [
        (0, 1, (True, "ok")),
        (2, 1, (False, "failing (2 failed polls in a row)")),
        (0, 60, (False, "stale: no successful poll in the last 0:10:00")),
    ],
)
def test_source_health(failures: int, success_minutes_ago: int, expected: tuple) -> None:
    from datetime import timedelta

    from connectors.replay import ReplaySourceConfig
    from monitor.status import source_health
    from storage.models import SourceState
    from tests.factories import T0

    source = ReplaySourceConfig(type="replay", path=Path("f"), interval_seconds=60)
    state = SourceState(
        source="f",
        consecutive_failures=failures,
        last_success_at=T0 - timedelta(minutes=success_minutes_ago),
    )
    assert source_health(source, state, T0) == expected


def _classify(*argv: str) -> int:
    return main(["classify", *argv])


def test_classify_never_overwrites_its_input(tmp_path: Path, capsys) -> None:
    source = tmp_path / "f.jsonl"
    source.write_text('{"text": "love it"}\n')
    assert _classify("--input", str(source), "--output", str(tmp_path / "." / "f.jsonl")) == 2
    assert "is the input file" in capsys.readouterr().err
    assert source.read_text() == '{"text": "love it"}\n'


def test_classify_missing_output_folder_is_one_line(tmp_path: Path, capsys) -> None:
    source = tmp_path / "f.jsonl"
    source.write_text('{"text": "love it"}\n')
    assert _classify("--input", str(source), "--output", str(tmp_path / "no" / "out.jsonl")) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err
    assert err.count("\n") == 1


def test_classify_latin1_csv_names_the_encoding_option(tmp_path: Path, capsys) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes("text\nKestrel caf\u00e9 was closed\n".encode("latin-1"))
    out = tmp_path / "out.jsonl"
    assert _classify("--input", str(source), "--output", str(out)) == 2
    assert "not utf-8 text (byte 0xe9); give the file's encoding with --encoding" in (
        capsys.readouterr().err
    )
    assert _classify("--input", str(source), "--output", str(out), "--encoding", "latin-1") == 0
    assert json.loads(out.read_text())["row"] == 1


def test_classify_dash_is_stdin_and_stdout(tmp_path: Path, capsys, monkeypatch) -> None:
    import io
    import sys

    stdin = io.TextIOWrapper(io.BytesIO(b'{"text": "still no refund, useless"}\n'))
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.chdir(tmp_path)
    assert _classify("--input", "-", "--output", "-") == 0
    assert json.loads(capsys.readouterr().out)["row"] == 1
    assert not (tmp_path / "-").exists()


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("brandmon ")


def test_the_readme_shows_the_shipped_systemd_unit() -> None:
    root = Path(__file__).resolve().parents[1]
    unit = (root / "deploy" / "brandmon.service").read_text()
    assert f"```ini\n{unit}```" in (root / "README.md").read_text()
