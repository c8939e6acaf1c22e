"""A flagged post that spreads gets risk-scored at each checkpoint and raises updates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from core.clock import FixedClock
from monitor.config import load_config
from monitor.daemon import Daemon
from storage.db import open_database
from storage.models import Alert
from tests.factories import T0, feed_record, write_config, write_feed
from tests.test_daemon import Collect

GROWTH = [(5, 40), (15, 200), (60, 1500), (180, 6000), (720, 9000), (1440, 9100)]


def _viral_feed(path: Path) -> Path:
    snapshots = [
        {
            "at": (T0 + timedelta(minutes=m)).isoformat(),
            "reposts": n,
            "replies": n // 2,
            "likes": n * 2,
            "quotes": n // 5,
        }
        for m, n in GROWTH
    ]
    record = feed_record(
        "v1",
        "Kestrel lost my parcel, 3 weeks and nobody answers. Disgraceful.",
        snapshots=snapshots,
    )
    record["author"]["followers"] = 80_000
    calm = feed_record(
        "c1", "Kestrel refund still not here, on hold for an hour", minutes=1, handle="calm"
    )
    return write_feed(path, [record, calm])


def test_spreading_complaint_raises_updates_and_escalates_once(tmp_path, db_url) -> None:
    feed = _viral_feed(tmp_path / "feed.jsonl")
    config = load_config(
        write_config(
            tmp_path / "c.yaml",
            db_url=db_url,
            sources={"feed": {"type": "replay", "path": str(feed)}},
            alerting={"risk_threshold": 50, "escalation_threshold": 65},
        )
    )
    clock = FixedClock(T0 + timedelta(minutes=2))
    daemon = Daemon(config, clock=clock, sink=Collect(), engine=open_database(db_url))
    daemon.run_once()
    for minutes, _ in GROWTH:
        clock.set(T0 + timedelta(minutes=minutes, seconds=1))
        daemon.run_once()
    with daemon.repository.sessions() as session:
        updates = list(session.scalars(select(Alert).where(Alert.kind == "update")))
    assert updates, "a post growing to thousands of reposts must raise updates"
    assert {u.mention_id for u in updates} == {updates[0].mention_id}  # only the viral one
    assert sum(bool(u.payload["escalate"]) for u in updates) == 1
    assert all(u.payload["score"] >= config.alerting.risk_threshold for u in updates)
    assert len({u.dedupe_key for u in updates}) == len(updates)
    why = updates[0].payload["reasons"]
    assert "author has 80k followers" in why
    assert any(r.startswith("no 7-day history yet for Kestrel's posts") for r in why)
    due = daemon.repository.due_refreshes(T0 + timedelta(days=30))
    assert due == []  # tracking stopped after the last checkpoint or once cooled
