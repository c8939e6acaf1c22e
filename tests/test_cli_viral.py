"""`brandmon viral`: one line per cascade and checkpoint, and one clear error for a bad line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main

QUIET = {"cascade": 1, "author_followers": 300, "reshare_seconds": [4000.0]}
LOUD = {
    "cascade": 2,
    "author_followers": None,
    "reshare_seconds": [60.0 * i for i in range(1, 41)],
    "like_seconds": [30.0, 90.0],
}


def write(path: Path, *lines: object) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def test_viral_writes_every_checkpoint_of_every_cascade(tmp_path: Path) -> None:
    source = write(tmp_path / "c.jsonl", QUIET, LOUD)
    target = tmp_path / "out.jsonl"
    assert main(["viral", "--input", str(source), "--output", str(target), "--prior"]) == 0
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(r["cascade"], r["minutes"]) for r in rows[:3]] == [("1", 5), ("1", 15), ("1", 60)]
    assert {r["final_7d"] for r in rows if r["cascade"] == "2"} == {42}
    loud_hour = next(r for r in rows if r["cascade"] == "2" and r["minutes"] == 60)
    assert loud_hour["engagement"] == 42
    assert loud_hour["projected_final"] >= 42
    assert "author's follower count is unknown (not assumed)" in loud_hour["reasons"]
    assert not any(r["alert"] for r in rows if r["cascade"] == "1")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not JSON"),
        (json.dumps({"cascade": 3}), "line 2: no 'reshare_seconds' list"),
        (json.dumps({**QUIET, "reshare_seconds": ["soon"]}), "line 2: 'reshare_seconds' holds"),
        (json.dumps({**QUIET, "author_followers": -5}), "line 2: 'author_followers' is -5"),
    ],
)
def test_a_bad_line_is_one_error_naming_it(tmp_path: Path, capsys, line: str, message: str) -> None:
    source = write(tmp_path / "c.jsonl", QUIET, line)
    target = tmp_path / "out.jsonl"
    assert main(["viral", "--input", str(source), "--output", str(target)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not target.exists()
