"""The outbox dispatcher: retries, Retry-After, blocked sinks, attempts counted before sending."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from monitor.alerts import AlertView, Delivery, Dispatcher, SinkBlockedError, SinkRetryError
from monitor.config import parse_config
from monitor.drafts import ReplyDrafter
from storage.models import Mention
from storage.repository import NewMention, Repository
from tests.factories import make_post


class ScriptedSink:
    """Raises or delivers as scripted, one outcome per call."""

    name = "scripted"

    def __init__(self, *outcomes: Exception | Delivery) -> None:
        self.outcomes = list(outcomes)
        self.seen: list[AlertView] = []

    def send(self, view: AlertView) -> Delivery:
        self.seen.append(view)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def _queue(repo: Repository, clock: FixedClock, *keys: str) -> None:
    for key in keys:
        repo.queue_alert(dedupe_key=key, kind="operations", at=clock.now(), payload={"k": key})


def test_sent_alert_is_marked_with_channel_and_ts(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, "a")
    sink = ScriptedSink(Delivery(channel="C1", ts="1700.1"))
    assert Dispatcher(repo, sink, clock=clock).dispatch() == 1
    assert repo.pending_alerts(clock.now() + timedelta(days=1)) == []
    assert sink.seen[0].alert.payload == {"k": "a"}


def test_retry_after_is_honoured(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, "a")
    Dispatcher(repo, ScriptedSink(SinkRetryError("429", retry_after=42)), clock=clock).dispatch()
    assert repo.pending_alerts(clock.now() + timedelta(seconds=41)) == []
    (alert,) = repo.pending_alerts(clock.now() + timedelta(seconds=42))
    assert (alert.attempts, alert.last_error) == (1, "429")


def test_blocked_sink_keeps_everything_pending_and_stops_the_round(engine, clock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, "a", "b")
    sink = ScriptedSink(SinkBlockedError("invalid_auth: check SLACK_BOT_TOKEN"))
    assert Dispatcher(repo, sink, clock=clock).dispatch() == 0
    assert len(sink.seen) == 1
    assert len(repo.pending_alerts(clock.now() + timedelta(hours=1))) == 2


def test_gives_up_after_max_attempts(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, "a")
    sink = ScriptedSink(RuntimeError("500"), RuntimeError("500"))
    dispatcher = Dispatcher(repo, sink, clock=clock, max_attempts=2)
    dispatcher.dispatch()
    clock.advance(hours=2)
    dispatcher.dispatch()
    assert repo.alert_counts() == {"failed": 1}


def test_attempt_is_recorded_before_sending(engine, clock: FixedClock) -> None:
    """A crash inside send leaves attempts=1, so the next try knows to check first."""
    repo = Repository(engine)
    _queue(repo, clock, "a")
    with pytest.raises(SystemExit):
        Dispatcher(repo, ScriptedSink(SystemExit()), clock=clock).dispatch()
    (alert,) = repo.pending_alerts(clock.now())
    assert alert.attempts == 1


def test_everything_due_is_sent_in_pages_and_each_alert_once(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, *[f"k{i}" for i in range(5)])
    retry_now = SinkRetryError("429", retry_after=0)  # due again at once: still not retried here
    sink = ScriptedSink(retry_now, *[Delivery(channel="C", ts=str(i)) for i in range(4)])
    assert Dispatcher(repo, sink, clock=clock).dispatch(page=2) == 4
    assert len(sink.seen) == 5
    assert repo.alert_counts() == {"pending": 1, "sent": 4}


def test_a_complaint_gets_its_suggested_reply_stored_before_its_alert_is_sent(
    engine, clock: FixedClock
) -> None:
    """The pipeline stores complaints without a draft; the dispatcher drafts one with the
    brand's templates, stores it, then sends. A failed send keeps the same draft."""
    repo = Repository(engine)
    config = parse_config(
        {
            "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
            "sources": {"feed": {"type": "replay", "path": "f"}},
        }
    )
    post = make_post("7", "@Kestrel my parcel is lost and nobody answers", handle="ann")
    repo.store_batch(
        source="feed",
        mentions=[
            NewMention(
                post=post,
                brand="Kestrel",
                source="feed",
                flagged=True,
                category="delivery",
                alert_kind="complaint",
            )
        ],
        cursor="1",
        fetched_at=clock.now(),
    )
    sink = ScriptedSink(SinkRetryError("busy", retry_after=1), Delivery(channel="C1", ts="1"))
    dispatcher = Dispatcher(repo, sink, clock=clock, drafter=ReplyDrafter(config))
    dispatcher.dispatch()
    clock.advance(seconds=5)
    dispatcher.dispatch()
    first, second = (view.mention.reply for view in sink.seen if view.mention)
    assert first is not None
    assert first.startswith("@ann ")
    assert second == first
    with repo.sessions() as session:
        assert session.scalars(select(Mention.reply)).one() == first
