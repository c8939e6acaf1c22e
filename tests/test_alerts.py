"""The outbox dispatcher: retries, Retry-After, blocked sinks, attempts counted before sending."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from monitor.alerts import (
    CLAIM_SECONDS,
    AlertView,
    Delivery,
    Dispatcher,
    SinkBlockedError,
    SinkRetryError,
)
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
    """A crash inside send leaves attempts=1, so the next try knows to check first; the
    claim keeps the alert from every daemon until it runs out."""
    repo = Repository(engine)
    _queue(repo, clock, "a")
    with pytest.raises(SystemExit):
        Dispatcher(repo, ScriptedSink(SystemExit()), clock=clock).dispatch()
    assert repo.pending_alerts(clock.now()) == []
    (alert,) = repo.pending_alerts(clock.now() + timedelta(seconds=CLAIM_SECONDS))
    assert alert.attempts == 1


def test_everything_due_is_sent_in_pages_and_each_alert_once(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, *[f"k{i}" for i in range(5)])
    refused = RuntimeError("invalid_blocks")  # about this alert only: the others still go
    sink = ScriptedSink(refused, *[Delivery(channel="C", ts=str(i)) for i in range(4)])
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


def test_two_dispatchers_never_send_one_alert_twice(engine, clock: FixedClock) -> None:
    """Two daemons read the same page; the claim lets only one of them send each alert."""
    repo_a, repo_b = Repository(engine), Repository(engine)
    _queue(repo_a, clock, "a", "b")
    page = repo_b.pending_alerts(clock.now())
    sink_a = ScriptedSink(Delivery(channel="C", ts="1"), Delivery(channel="C", ts="2"))
    assert Dispatcher(repo_a, sink_a, clock=clock).dispatch() == 2
    sink_b = ScriptedSink()
    assert Dispatcher(repo_b, sink_b, clock=clock)._send_page(page) == (0, False)
    assert sink_b.seen == []
    assert repo_a.alert_counts() == {"sent": 2}


def test_a_rate_limit_pauses_every_send_and_uses_up_no_attempt(engine, clock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, "a", "b", "c")
    limited = SinkRetryError("Slack: ratelimited", retry_after=30)
    sink = ScriptedSink(*[limited] * 20, *[Delivery(channel="C", ts=str(i)) for i in range(3)])
    dispatcher = Dispatcher(repo, sink, clock=clock, max_attempts=2)
    for _ in range(20):  # twenty 429s in a row: one call per Retry-After, nothing given up
        assert dispatcher.dispatch() == 0
        assert dispatcher.dispatch() == 0  # paused: Slack is not called again before 30 s
        clock.advance(seconds=30)
    assert len(sink.seen) == 20
    assert repo.alert_counts() == {"pending": 3}
    assert dispatcher.dispatch() == 3


def test_a_second_dispatcher_waits_out_the_pause_too(engine, clock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, "a")
    Dispatcher(repo, ScriptedSink(SinkRetryError("503")), clock=clock).dispatch()
    _queue(repo, clock, "b")
    other = ScriptedSink(Delivery(channel="C", ts="1"))
    assert Dispatcher(Repository(engine), other, clock=clock).dispatch() == 0
    assert other.seen == []


def test_a_posts_update_waits_for_its_first_message(engine, clock: FixedClock) -> None:
    """The first message's answer was lost (network error): its update must not go first
    and open a second top-level message."""
    repo = Repository(engine)
    post = make_post("9", "@Kestrel where is my parcel", handle="ann")
    repo.store_batch(
        source="feed",
        mentions=[NewMention(post=post, brand="Kestrel", source="feed", alert_kind="complaint")],
        cursor="1",
        fetched_at=clock.now(),
    )
    with repo.sessions() as session:
        mention_id = session.scalars(select(Mention.id)).one()
    lost = SinkRetryError("Slack unreachable: timed out")
    sink = ScriptedSink(lost, Delivery(channel="C", ts="1"), Delivery(channel="C", ts="2"))
    dispatcher = Dispatcher(repo, sink, clock=clock)
    dispatcher.dispatch()
    clock.advance(seconds=1)
    repo.queue_alert(dedupe_key="u", kind="update", at=clock.now(), mention_id=mention_id)
    clock.advance(seconds=10)
    dispatcher.dispatch()  # the sink is paused anyway; after the pause, the order holds
    assert [v.alert.kind for v in sink.seen] == ["complaint"]
    clock.advance(hours=1)
    assert dispatcher.dispatch() == 2
    assert [v.alert.kind for v in sink.seen] == ["complaint", "complaint", "update"]
    assert sink.seen[1].alert.attempts == 1  # the retry knows to look for the lost message


def test_stop_ends_a_round_between_two_alerts(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    _queue(repo, clock, *[f"k{i}" for i in range(500)])
    stop = threading.Event()

    class StopAfterOne:
        name = "stopping"

        def send(self, view: AlertView) -> Delivery:
            stop.set()  # SIGTERM arrives during the first send
            return Delivery(channel="C", ts="1")

    assert Dispatcher(repo, StopAfterOne(), clock=clock, stop=stop).dispatch() == 1
    assert repo.alert_counts() == {"pending": 499, "sent": 1}
