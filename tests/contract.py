"""The contract every connector passes, against a local server speaking its real protocol.

A network's test file subclasses `ConnectorContract` and supplies a `harness` fixture: a
local server it controls (what items it serves, a failure for the next request) and the
connector pointed at it. The tests here then prove the same promises for every network:
first poll, resume from the stored cursor, nothing twice, a malformed item skipped and
counted, 429/5xx retriable (and the daemon backs off), 401 fatal (the daemon pauses the
source and queues one operations alert), and times as aware UTC instants.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pytest

from connectors.base import Connector
from connectors.errors import FatalSourceError, RetriableSourceError
from core.clock import FixedClock
from monitor.config import load_config
from monitor.daemon import Daemon
from storage.db import open_database
from tests.factories import write_config


class Harness(Protocol):
    """A local server for one network and the connector pointed at it."""

    brand_terms: list[str]
    clock: FixedClock

    def connector(self) -> Connector: ...

    def real_items(self) -> list[Any]:
        """Items from the real recordings in ../shared/fixtures (skip when absent)."""
        ...

    def expected_ids(self, items: list[Any]) -> set[str]:
        """Native ids of the mentions the connector must return for `items`."""
        ...

    def expected_time(self, item: Any) -> datetime:
        """The instant an item was posted, read independently of the connector."""
        ...

    def new_item(self, number: int) -> Any:
        """An item newer than every real one that names the brand."""
        ...

    def malformed_item(self) -> Any: ...

    def publish(self, items: list[Any]) -> None:
        """Serve exactly these items from now on."""
        ...

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Answer the next request (or connection) with this HTTP status."""
        ...


class ConnectorContract:
    """Subclass in tests/test_connector_<network>.py with a `harness` fixture."""

    def test_first_poll_returns_every_mention(self, harness: Harness) -> None:
        items = harness.real_items()
        harness.publish(items)
        result = harness.connector().fetch_new(None)
        assert {p.native_id for p in result.posts} == harness.expected_ids(items)
        assert result.skipped == 0

    def test_resume_from_the_stored_cursor_returns_only_what_is_new(self, harness: Harness) -> None:
        items = harness.real_items()
        harness.publish(items)
        first = harness.connector().fetch_new(None)
        fresh = harness.new_item(1)
        harness.publish([*items, fresh])
        # a new connector: the cursor is all that survives a restart
        again = harness.connector().fetch_new(first.cursor)
        assert [p.native_id for p in again.posts] == sorted(harness.expected_ids([fresh]))

    def test_nothing_is_returned_twice(self, harness: Harness) -> None:
        items = [*harness.real_items(), harness.new_item(1)]
        harness.publish(items)
        connector = harness.connector()
        first = connector.fetch_new(None)
        second = connector.fetch_new(first.cursor)
        assert second.posts == []
        third = connector.fetch_new(second.cursor)
        assert third.posts == []

    def test_a_malformed_item_is_skipped_and_counted(self, harness: Harness) -> None:
        items = harness.real_items()
        harness.publish([harness.malformed_item(), *items])
        result = harness.connector().fetch_new(None)
        assert result.skipped == 1
        assert {p.native_id for p in result.posts} == harness.expected_ids(items)

    @pytest.mark.parametrize("status", [429, 500, 503])
    def test_throttling_and_server_errors_are_retriable(
        self, harness: Harness, status: int
    ) -> None:
        harness.publish(harness.real_items())
        harness.fail_next(status, {"Retry-After": "30"})
        connector = harness.connector()
        with pytest.raises(RetriableSourceError) as raised:
            connector.fetch_new(None)
        if status == 429:
            assert raised.value.retry_after == 30
        assert connector.fetch_new(None).posts  # the next try goes through

    def test_a_rejected_credential_is_fatal(self, harness: Harness) -> None:
        harness.publish(harness.real_items())
        harness.fail_next(401)
        with pytest.raises(FatalSourceError):
            harness.connector().fetch_new(None)

    def test_times_are_the_posted_instants_in_utc(self, harness: Harness) -> None:
        items = harness.real_items()
        harness.publish(items)
        posts = {p.native_id: p for p in harness.connector().fetch_new(None).posts}
        assert posts
        for item in items:
            for native_id in harness.expected_ids([item]):
                post = posts[native_id]
                assert post.created_at.utcoffset() is not None
                assert post.created_at.tzinfo == UTC
                assert post.created_at == harness.expected_time(item)

    def test_the_daemon_backs_off_then_resumes(self, harness: Harness, tmp_path: Path) -> None:
        items = harness.real_items()
        harness.publish(items)
        daemon = _daemon(harness, tmp_path)
        harness.fail_next(503)
        assert daemon.poll("source") == 0
        state = daemon.repository.source_state("source")
        assert state is not None
        assert state.paused_until is not None
        assert state.paused_until > harness.clock.now()
        assert daemon.poll("source") == 0  # still backing off: no request
        harness.clock.set(state.paused_until)
        daemon.poll("source")
        stored = daemon.repository.source_state("source")
        assert stored is not None
        assert stored.cursor is not None

    def test_the_daemon_pauses_on_401_and_tells_operations(
        self, harness: Harness, tmp_path: Path
    ) -> None:
        harness.publish(harness.real_items())
        daemon = _daemon(harness, tmp_path)
        harness.fail_next(401)
        daemon.poll("source")
        state = daemon.repository.source_state("source")
        assert state is not None
        assert state.paused_until is not None
        alerts = daemon.repository.pending_alerts(harness.clock.now())
        assert [a.kind for a in alerts] == ["operations"]


def _daemon(harness: Harness, tmp_path: Path) -> Daemon:
    feed = tmp_path / "empty.jsonl"
    feed.write_text("")
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    config = load_config(
        write_config(
            tmp_path / "config.yaml",
            db_url=db_url,
            sources={"source": {"type": "replay", "path": str(feed)}},
            brands=[{"name": "Brand", "terms": harness.brand_terms}],
        )
    )
    daemon = Daemon(config, clock=harness.clock, sink=_NoSink(), engine=open_database(db_url))
    daemon.connectors["source"] = harness.connector()
    return daemon


class _NoSink:
    name = "none"

    def send(self, view: Any) -> Any:
        raise AssertionError("no alert is sent in these tests")
