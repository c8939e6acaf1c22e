"""Kill the real daemon (SIGKILL and SIGTERM) mid-run: nothing lost, nothing queued twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from storage.db import open_database
from storage.models import Alert, Mention
from storage.repository import Repository
from tests.factories import feed_record, write_config, write_feed

POSTS = 3000
DEADLINE_SECONDS = 60


def _setup(tmp_path: Path, db_url: str, batch_size: int) -> Path:
    texts = [
        "Kestrel lost my parcel and nobody answers the phone. Useless.",
        "Kestrel fibre has been down all day, still waiting for an engineer",
        "Just bought a kettle from Kestrel, nice",
    ]
    feed = tmp_path / "feed.jsonl"
    if not feed.exists():
        write_feed(feed, [feed_record(str(i), texts[i % 3], handle=f"u{i}") for i in range(POSTS)])
    return write_config(
        tmp_path / f"config-{batch_size}.yaml",
        db_url=db_url,
        sources={
            "feed": {
                "type": "replay",
                "path": str(feed),
                "follow_clock": False,
                "interval_seconds": 0.05,
                "jitter_seconds": 0,
                "batch_size": batch_size,
            }
        },
        alerting={"dispatch_interval_seconds": 0.05},
    )


def _start(config: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    log = (tmp_path / "daemon.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "run", "--config", str(config)],
        stdout=log,
        stderr=log,
        cwd=Path(__file__).resolve().parents[1],
    )


def _wait_for_some_mentions(repo: Repository, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "daemon exited early"
        try:
            stored = sum(repo.mention_counts_by_source().values())
        except Exception:  # schema not migrated yet
            stored = 0
        if 0 < stored < POSTS:
            return stored
        time.sleep(0.02)
    raise AssertionError("daemon stored nothing in time")


def _assert_consistent(repo: Repository) -> None:
    with repo.sessions() as session:
        mentions = session.scalar(select(func.count()).select_from(Mention))
        flagged = session.scalar(select(func.count()).where(Mention.flagged.is_(True)))
        alerts = session.scalar(select(func.count()).select_from(Alert))
        distinct = session.scalar(select(func.count(func.distinct(Alert.mention_id))))
    assert repo.cursor("feed") == str(mentions)  # cursor moved exactly with stored batches
    assert alerts == flagged == distinct  # one alert per flagged post, none twice


def test_sigkill_then_restart_loses_nothing(tmp_path: Path, db_url: str) -> None:
    repo = Repository(open_database(db_url))
    process = _start(_setup(tmp_path, db_url, batch_size=40), tmp_path)
    try:
        _wait_for_some_mentions(repo, process)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    _assert_consistent(repo)
    resume = _setup(tmp_path, db_url, batch_size=POSTS)
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "run", "--once", "--config", str(resume)],
        capture_output=True,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert sum(repo.mention_counts_by_source().values()) == POSTS
    _assert_consistent(repo)


def test_sigterm_finishes_the_batch_and_exits_zero(tmp_path: Path, db_url: str) -> None:
    repo = Repository(open_database(db_url))
    process = _start(_setup(tmp_path, db_url, batch_size=40), tmp_path)
    _wait_for_some_mentions(repo, process)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=DEADLINE_SECONDS) == 0
    _assert_consistent(repo)
