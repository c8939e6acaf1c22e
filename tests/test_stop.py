"""Stopping while a poll is in flight: no new request after the stop, a bounded wait for the
one in hand (on an injected clock), and nothing half-stored.

A local Hacker News server stands in for a slow network: it answers page 1 and sets the stop,
or holds its answer until the test releases it.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from monitor.config import load_config
from monitor.daemon import Daemon
from storage.db import open_database
from tests.factories import write_config
from tests.recorded_api import Recorded, RecordedAPI, Reply
from tests.test_daemon import Broken, Collect, _daemon

PAGE = 100


def _hits(count: int) -> list[dict[str, Any]]:
    return [
        {
            "objectID": str(9_000_000 + n),
            "created_at": "2026-11-29T12:00:00.000Z",
            "created_at_i": 1795003200 + n,
            "author": "someone",
            "comment_text": "Kestrel lost my parcel and nobody answers",
            "_tags": ["comment"],
        }
        for n in range(count)
    ]


@pytest.fixture
def api() -> Iterator[RecordedAPI]:
    with RecordedAPI() as served:
        yield served


def _hn_daemon(tmp_path, db_url: str, clock, api: RecordedAPI, **kwargs: Any) -> Daemon:
    config = load_config(
        write_config(
            tmp_path / "config.yaml",
            db_url=db_url,
            sources={"hn": {"type": "hackernews", "base_url": api.url + "/api/v1"}},
        )
    )
    return Daemon(config, clock=clock, sink=Collect(), engine=open_database(db_url), **kwargs)


def test_a_stop_during_a_poll_ends_it_before_the_next_page(tmp_path, db_url, clock, api) -> None:
    daemon = _hn_daemon(tmp_path, db_url, clock, api)

    def first_page(request: Recorded) -> Reply:
        daemon.stopping.set()  # SIGTERM arrives while page 1 is on its way
        return Reply(200, {"hits": _hits(PAGE), "page": 0, "nbPages": 3})

    api.add("GET", "/api/v1/search_by_date", first_page, repeat=True)
    assert daemon.poll("hn") == 0
    assert api.count() == 1  # pages 2 and 3 were never asked for
    state = daemon.repository.source_state("hn")
    assert state is None or (state.consecutive_failures == 0 and state.cursor is None)
    assert daemon.repository.mention_counts_by_source() == {}  # all or nothing: nothing


def test_stop_leaves_a_request_hanging_on_a_slow_server_at_the_deadline(
    tmp_path, db_url, clock, api
) -> None:
    arrived, release = threading.Event(), threading.Event()

    def slow(request: Recorded) -> Reply:
        arrived.set()
        release.wait(timeout=60)  # a server that does not answer until the test says so
        return Reply(200, {"hits": _hits(PAGE), "page": 0, "nbPages": 3})

    api.add("GET", "/api/v1/search_by_date", slow, repeat=True)
    seconds = itertools.count(0.0, 9.0)  # each look at the clock: 9 s later
    daemon = _hn_daemon(tmp_path, db_url, clock, api, monotonic=lambda: next(seconds))
    daemon.start()
    try:
        assert arrived.wait(timeout=30)
        assert daemon.stop() is False  # past the 8 s deadline with the request in hand
        assert [lease.name for lease in daemon.repository.leases()] == []  # handed over all
    finally:
        release.set()
    daemon.monotonic = lambda: 0.0  # now wait for the abandoned poll (no deadline)
    assert daemon._wait_for_jobs(1.0)
    assert api.count() == 1  # the answer came, but no second page was asked for
    assert daemon.repository.cursor("hn") is None
    assert daemon.repository.mention_counts_by_source() == {}


def test_stop_returns_at_once_when_no_job_is_running(tmp_path, db_url, clock, api) -> None:
    frozen = itertools.repeat(0.0)
    daemon = _hn_daemon(tmp_path, db_url, clock, api, monotonic=lambda: next(frozen))
    assert daemon.stop() is True
    assert not daemon.stopping.is_set()


def test_an_engagement_refresh_stops_between_batches(tmp_path, db_url, clock) -> None:
    daemon = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    daemon.poll("good")
    clock.advance(minutes=10)
    daemon.stopping.set()
    assert daemon.refresh_engagement() == 0
    daemon.stopping.clear()
    assert daemon.refresh_engagement() > 0
