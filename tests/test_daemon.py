"""Daemon behaviour under faults: one failing source never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from connectors.base import Connector, FetchResult
from connectors.errors import FatalSourceError, RetriableSourceError
from core.clock import FixedClock
from core.records import Engagement
from monitor.alerts import AlertView, Delivery
from monitor.config import load_config
from monitor.daemon import Daemon
from storage.db import open_database
from tests.factories import feed_record, write_config, write_feed


class Broken(Connector):
    network = "x"

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.calls = 0

    def fetch_new(self, cursor: str | None) -> FetchResult:
        self.calls += 1
        raise self.error

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        raise self.error


class Collect:
    name = "collect"

    def __init__(self) -> None:
        self.views: list[AlertView] = []

    def send(self, view: AlertView) -> Delivery:
        self.views.append(view)
        return Delivery(channel="test")


def _daemon(tmp_path: Path, db_url: str, clock: FixedClock, broken: Connector) -> Daemon:
    feed = write_feed(
        tmp_path / "feed.jsonl",
        [
            feed_record("1", "Kestrel lost my parcel and nobody answers the phone. Useless."),
            feed_record("2", "Kestrel delivered early, great service"),
        ],
    )
    config = load_config(
        write_config(
            tmp_path / "config.yaml",
            db_url=db_url,
            sources={
                "good": {"type": "replay", "path": str(feed), "follow_clock": False},
                "bad": {"type": "replay", "path": str(feed)},
            },
        )
    )
    daemon = Daemon(config, clock=clock, sink=Collect(), engine=open_database(db_url))
    daemon.connectors["bad"] = broken
    return daemon


def test_failing_source_backs_off_while_others_poll(tmp_path, db_url, clock) -> None:
    broken = Broken(RuntimeError("connection reset"))
    daemon = _daemon(tmp_path, db_url, clock, broken)
    daemon.run_once()
    assert daemon.repository.mention_counts_by_source() == {"good": 2}
    state = daemon.repository.source_state("bad")
    assert state is not None
    assert state.last_error == "connection reset"
    assert state.paused_until is not None
    assert state.paused_until > clock.now()
    daemon.poll("bad")
    assert broken.calls == 1  # still backing off: not called again
    clock.set(state.paused_until + timedelta(seconds=1))
    daemon.poll("bad")
    assert broken.calls == 2
    assert daemon.repository.source_state("bad").consecutive_failures == 2  # type: ignore[union-attr]


def test_rate_limit_waits_until_reset(tmp_path, db_url, clock) -> None:
    daemon = _daemon(tmp_path, db_url, clock, Broken(RetriableSourceError("429", retry_after=900)))
    daemon.poll("bad")
    state = daemon.repository.source_state("bad")
    assert state is not None
    assert state.paused_until is not None
    assert state.paused_until >= clock.now() + timedelta(seconds=900)


def test_rejected_credentials_pause_the_source_and_alert_ops_once(tmp_path, db_url, clock) -> None:
    error = FatalSourceError("401 Unauthorized", credential="bearer_token")
    daemon = _daemon(tmp_path, db_url, clock, Broken(error))
    daemon.poll("bad")
    clock.advance(hours=2)
    daemon.poll("bad")
    daemon.dispatch_alerts()
    ops = [v.alert for v in daemon.sink.views if v.alert.kind == "operations"]  # type: ignore[attr-defined]
    assert len(ops) == 2  # one per hour at most
    assert ops[0].payload["check"] == "sources.bad.bearer_token"
    assert "sources.bad.bearer_token" in (daemon.repository.source_state("bad").paused_reason or "")  # type: ignore[union-attr]


def test_flagged_posts_get_one_alert_and_are_tracked(tmp_path, db_url, clock) -> None:
    daemon = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    daemon.run_once()
    daemon.run_once()
    sink: Collect = daemon.sink  # type: ignore[assignment]
    complaints = [v for v in sink.views if v.alert.kind == "complaint"]
    assert len(complaints) == 1
    mention = complaints[0].mention
    assert mention is not None
    assert mention.native_id == "1"
    assert mention.risk is not None  # its engagement was re-read and scored
    assert mention.reply


def test_scheduler_has_one_job_per_source_and_the_digest_when_enabled(tmp_path, clock) -> None:
    config = load_config(
        write_config(
            tmp_path / "config.yaml",
            db_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            sources={"feed": {"type": "replay", "path": str(write_feed(tmp_path / "f", []))}},
            digest={"enabled": True, "recipients": ["m@example.com"]},
        )
    )
    daemon = Daemon(config, clock=clock, sink=Collect())
    scheduler = daemon.start()
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        daemon.stop()
    assert set(jobs) == {
        "poll:feed",
        "leases",
        "engagement",
        "dispatch",
        "spikes",
        "learn",
        "digest",
        "digest-retry",
    }
    assert jobs["poll:feed"].max_instances == 1
    assert "day_of_week='mon'" in str(jobs["digest"].trigger)


def test_a_source_is_polled_by_one_daemon_and_taken_over_when_it_dies(
    tmp_path, db_url, clock
) -> None:
    first = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    second = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    assert first.poll("good") == 2
    assert second.poll("good") == 0  # first holds the source's lease
    clock.advance(seconds=first.lease_seconds - 1)
    assert first.renew_leases() >= 1  # the heartbeat keeps it
    clock.advance(seconds=first.lease_seconds - 1)
    assert not second.holds("source:good")
    clock.advance(seconds=2)  # first died: no heartbeat for a whole lease
    assert second.holds("source:good")
    assert not first.holds("source:good")  # and it stays taken when first wakes up


def test_a_clean_stop_hands_the_leases_over_at_once(tmp_path, db_url, clock) -> None:
    first = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    second = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    first.run_once()
    first.stop()
    assert second.holds("source:good")
    assert second.holds("job:spikes")


def test_cluster_jobs_run_on_one_daemon(tmp_path, db_url, clock) -> None:
    first = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    second = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    for job in ("job:engagement", "job:spikes", "job:digest"):
        assert first.holds(job)
        assert not second.holds(job)


def test_a_restart_ends_a_credentials_pause_and_the_alert_names_the_variable(
    tmp_path, db_url, clock, monkeypatch
) -> None:
    monkeypatch.setenv("X_TOKEN_FOR_BAD", "wrong")
    feed = write_feed(tmp_path / "feed.jsonl", [])
    config = load_config(
        write_config(
            tmp_path / "config.yaml",
            db_url=db_url,
            sources={
                "bad": {
                    "type": "replay",
                    "path": str(feed),
                    "network": "x",
                },
            },
        )
    )
    config._env_refs["sources.bad.bearer_token"] = "X_TOKEN_FOR_BAD"  # as an x source has it
    broken = Broken(FatalSourceError("401 Unauthorized", credential="bearer_token"))
    daemon = Daemon(config, clock=clock, sink=Collect(), engine=open_database(db_url))
    daemon.connectors["bad"] = broken
    daemon.poll("bad")
    daemon.dispatch_alerts()
    daemon.stop()
    state = daemon.repository.source_state("bad")
    assert state is not None
    assert state.paused_until is not None
    assert "environment variable X_TOKEN_FOR_BAD" in (state.paused_reason or "")
    (ops,) = [v.alert for v in daemon.sink.views if v.alert.kind == "operations"]  # type: ignore[attr-defined]
    assert "X_TOKEN_FOR_BAD" in ops.payload["check"]
    restarted = Daemon(config, clock=clock, sink=Collect(), engine=open_database(db_url))
    restarted.connectors["bad"] = broken
    assert restarted.repository.source_state("bad").paused_until is None  # type: ignore[union-attr]
    restarted.poll("bad")
    assert broken.calls == 2  # tried again at once with what the restart brought


def test_a_backoff_pause_survives_a_restart(tmp_path, db_url, clock) -> None:
    daemon = _daemon(tmp_path, db_url, clock, Broken(RetriableSourceError("503")))
    daemon.poll("bad")
    restarted = _daemon(tmp_path, db_url, clock, Broken(RetriableSourceError("503")))
    assert restarted.repository.source_state("bad").paused_until is not None  # type: ignore[union-attr]


def test_a_killed_daemons_leases_are_freed_when_it_restarts(tmp_path, db_url, clock) -> None:
    import socket

    first = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    dead = f"{socket.gethostname()[:80]}:999999999:deadbeef"  # no such process
    until = clock.now() + timedelta(seconds=30)
    assert first.repository.acquire_lease("source:good", holder=dead, now=clock.now(), until=until)
    restarted = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))
    assert restarted.poll("good") == 2


class Stalls(Connector):
    """Returns one batch with cursor "stale", after `meanwhile` runs: the daemon stalled."""

    network = "x"

    def __init__(self, meanwhile: Callable[[], object]) -> None:
        self.meanwhile = meanwhile

    def fetch_new(self, cursor: str | None) -> FetchResult:
        self.meanwhile()
        return FetchResult(posts=[], cursor="stale")

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        return {}


def test_a_daemon_whose_lease_was_taken_over_does_not_write_its_cursor(
    tmp_path, db_url, clock
) -> None:
    second = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("x")))

    def taken_over() -> None:  # first stalls past its lease; second takes the source over
        clock.advance(seconds=second.lease_seconds + 1)
        assert second.poll("good") == 2

    first = _daemon(tmp_path, db_url, clock, Stalls(taken_over))
    first.connectors["good"] = first.connectors.pop("bad")
    assert first.poll("good") == 0
    assert first.repository.cursor("good") == second.repository.cursor("good") != "stale"
    assert first.repository.mention_counts_by_source() == {"good": 2}


def test_a_daemon_whose_lease_ran_out_untaken_still_writes(tmp_path, db_url, clock) -> None:
    def stall() -> None:
        clock.advance(seconds=1000)

    first = _daemon(tmp_path, db_url, clock, Stalls(stall))
    first.connectors["good"] = first.connectors.pop("bad")
    first.poll("good")
    assert first.repository.cursor("good") == "stale"
