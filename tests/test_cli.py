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
        [feed_record("1", COMPLAINT), feed_record("2", "what time does the Kestrel store open on Sunday?"), "{bad"],
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
