"""The hourly storm watch: a burst of complaints raises one explained spike alert; a source
that goes silent raises an operations alert."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core.clock import FixedClock
from monitor.config import parse_config
from monitor.spikes import SpikeWatch
from storage.models import Alert
from storage.repository import NewMention, Repository
from tests.factories import make_post

NOW = datetime(2026, 11, 16, 15, 5, tzinfo=UTC)  # judging the 14:00 hour
CONFIG = parse_config(
    {
        "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
        "sources": {
            "feed": {"type": "replay", "path": "f"},
            "quiet": {"type": "replay", "path": "q"},
        },
    }
)


def _history(repo: Repository, *, burst: int, quiet_stops: bool) -> None:
    rng = random.Random(3)
    rows: list[NewMention] = []
    start = NOW.replace(minute=0) - timedelta(weeks=4, hours=72)
    hour = start
    n = 0
    while hour < NOW.replace(minute=0):
        busy = 8 <= hour.hour < 22
        complaints = (
            burst
            if hour == NOW.replace(minute=0) - timedelta(hours=1)
            else (rng.randint(2, 5) if busy else rng.randint(0, 1))
        )
        for i in range(complaints):
            text = "Kestrel fibre down again, no internet" if complaints == burst else "late parcel"
            post = make_post(f"c{n}", text)
            rows.append(
                NewMention(
                    post=_at(post, hour, i),
                    brand="Kestrel",
                    source="feed",
                    flagged=True,
                    category="outage",
                )
            )
            n += 1
        if not (quiet_stops and hour >= NOW.replace(minute=0) - timedelta(hours=3)):
            for i in range(12):
                post = make_post(f"q{n}", "Kestrel is fine")
                rows.append(NewMention(post=_at(post, hour, i), brand="Kestrel", source="quiet"))
                n += 1
        hour += timedelta(hours=1)
    for chunk in range(0, len(rows), 2000):
        repo.store_batch(
            source="feed", mentions=rows[chunk : chunk + 2000], cursor=None, fetched_at=NOW
        )


def _polled(repo: Repository, at: datetime) -> None:
    """Both sources polled successfully at `at` (the watch judges only hours that are in)."""
    for source in ("feed", "quiet"):
        repo.store_batch(source=source, mentions=[], cursor=None, fetched_at=at)


def _at(post, hour: datetime, i: int):
    import dataclasses

    return dataclasses.replace(post, created_at=hour + timedelta(minutes=i % 60))


def test_burst_raises_one_explained_spike_and_silence_an_ops_alert(engine) -> None:
    repo = Repository(engine)
    _history(repo, burst=50, quiet_stops=True)
    _polled(repo, NOW)
    clock = FixedClock(NOW)
    watch = SpikeWatch(CONFIG, repo, clock=clock)
    watch.check()
    watch.check()
    clock.advance(hours=1)  # the source is still silent an hour later: no second ops alert
    _polled(repo, clock.now())
    watch.check()
    with repo.sessions() as session:
        alerts = list(session.scalars(select(Alert).order_by(Alert.id)))
    spikes = [a for a in alerts if a.kind == "spike" and a.payload["metric"] == "complaints"]
    assert len(spikes) == 1
    payload = spikes[0].payload
    assert payload["observed"] == 50
    assert payload["categories"][0] == {"category": "outage", "posts": 50}
    assert any("internet" in p["phrase"] for p in payload["phrases"])
    assert payload["samples"] == [
        {
            "text": "Kestrel fibre down again, no internet",
            "handle": "someone",
            "url": None,
            "engagement": 0,
        }
    ]
    ops = [a for a in alerts if a.kind == "operations"]
    assert [a.payload["source"] for a in ops] == ["quiet"]


def test_ordinary_hour_raises_nothing(engine) -> None:
    repo = Repository(engine)
    _history(repo, burst=4, quiet_stops=False)
    _polled(repo, NOW)
    assert SpikeWatch(CONFIG, repo, clock=FixedClock(NOW)).check() == 0


def test_hours_missed_between_checks_are_still_judged(engine) -> None:
    repo = Repository(engine)
    _history(repo, burst=50, quiet_stops=False)
    clock = FixedClock(NOW - timedelta(hours=2))  # checked before the burst hour ...
    _polled(repo, clock.now())
    watch = SpikeWatch(CONFIG, repo, clock=clock)
    watch.check()
    clock.set(NOW + timedelta(hours=3))  # ... and next only hours after it
    _polled(repo, clock.now())
    watch.check()
    with repo.sessions() as session:
        keys = list(session.scalars(select(Alert.dedupe_key).where(Alert.kind == "spike")))
    assert "spike:Kestrel:complaints:2026-11-16T14" in keys


def test_hours_are_judged_only_once_every_source_has_polled_past_them(engine) -> None:
    repo = Repository(engine)
    _history(repo, burst=50, quiet_stops=False)
    repo.store_batch(source="feed", mentions=[], cursor=None, fetched_at=NOW)
    repo.store_batch(source="quiet", mentions=[], cursor=None, fetched_at=NOW - timedelta(hours=2))
    watch = SpikeWatch(CONFIG, repo, clock=FixedClock(NOW))
    assert watch.check() == 0  # "quiet" has not polled since 14:00 ended
    _polled(repo, NOW)
    assert watch.check() > 0
