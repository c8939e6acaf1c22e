"""The replay connector: JSONL format, clock-following, cursor, snapshots, malformed lines."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from connectors.replay import ReplayConnector, ReplaySourceConfig
from core.clock import FixedClock
from tests.factories import T0, feed_record, write_feed


def _connector(path: Path, clock: FixedClock, **options: object) -> ReplayConnector:
    config = ReplaySourceConfig(type="replay", path=path, network="x", **options)
    return ReplayConnector(config, [], clock=clock)


def test_serves_posts_as_the_clock_passes_them(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path / "feed.jsonl",
        [feed_record("a", "one", minutes=0), feed_record("b", "two", minutes=10)],
    )
    clock = FixedClock(T0 + timedelta(minutes=5))
    connector = _connector(feed, clock)
    first = connector.fetch_new(None)
    assert [p.native_id for p in first.posts] == ["a"]
    assert connector.fetch_new(first.cursor).posts == []
    clock.advance(minutes=10)
    assert [p.native_id for p in connector.fetch_new(first.cursor).posts] == ["b"]


def test_malformed_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    feed = write_feed(
        tmp_path / "feed.jsonl",
        [
            feed_record("a", "ok"),
            "{not json",
            {"id": "no-author", "text": "x"},
            feed_record("b", "ok"),
        ],
    )
    result = _connector(feed, FixedClock(T0)).fetch_new(None)
    assert [p.native_id for p in result.posts] == ["a", "b"]
    assert (result.skipped, result.cursor) == (2, "4")


def test_batch_size_caps_a_poll(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", [feed_record(str(i), "t") for i in range(5)])
    connector = _connector(feed, FixedClock(T0), batch_size=2)
    first = connector.fetch_new(None)
    second = connector.fetch_new(first.cursor)
    assert [p.native_id for p in first.posts + second.posts] == ["0", "1", "2", "3"]


def test_engagement_follows_snapshots(tmp_path: Path) -> None:
    snap = lambda minutes, reposts: {  # noqa: E731
        "at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "reposts": reposts,
    }
    snapshots = [snap(5, 10), snap(60, 400)]
    record = feed_record("a", "t", engagement={"reposts": 1}, snapshots=snapshots)
    clock = FixedClock(T0)
    connector = _connector(write_feed(tmp_path / "feed.jsonl", [record]), clock)
    assert connector.refresh_engagement(["a", "gone"])["a"].reposts == 1
    clock.advance(minutes=30)
    assert connector.refresh_engagement(["a"])["a"].reposts == 10
    clock.advance(minutes=60)
    assert connector.refresh_engagement(["a"])["a"].reposts == 400
    assert ReplayConnector.feed_span(tmp_path / "feed.jsonl") == (T0, T0 + timedelta(minutes=60))
