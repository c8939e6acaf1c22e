"""The Slack sink end to end: slack_sdk talks real HTTP to a local fake Slack.

One message per post, updates in its thread, one escalation ping, every error class, and
no second message after a crash between Slack accepting a message and the outbox marking it.
"""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from core.clock import FixedClock
from monitor.alerts import AlertView, Dispatcher
from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.sinks import build_sink
from monitor.slack import SlackSink
from storage.models import SlackMessage
from storage.repository import Repository
from tests.conftest import shared_path
from tests.factories import feed_record, write_feed
from tests.fake_slack import (
    BOT_TOKEN,
    FakeSlack,
    Scripted,
    all_alerts,
    iter_texts,
    queue_update,
    seed_complaint,
    slack_config,
    slack_dispatcher,
)


def test_complaint_is_posted_once_with_metadata_and_marked_sent(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    seed_complaint(repo, clock.now(), "1")
    assert slack_dispatcher(fake, engine, clock).dispatch() == 1
    (call,) = fake.calls_to("chat.postMessage")
    assert call.token == BOT_TOKEN
    assert call.args["channel"] == "C0SUPPORT"
    assert (call.args["unfurl_links"], call.args["unfurl_media"]) == (False, False)
    assert call.args["link_names"] is False
    assert call.args["metadata"]["event_payload"]["alert_id"] == 1
    (alert,) = all_alerts(repo)
    (message,) = fake.top_level("C0SUPPORT")
    assert (alert.status, alert.channel, alert.ts) == ("sent", "C0SUPPORT", message["ts"])
    assert slack_dispatcher(fake, engine, clock).dispatch() == 0
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_updates_go_to_the_thread_and_redraw_the_message(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    dispatcher = slack_dispatcher(fake, engine, clock)
    mention = seed_complaint(repo, clock.now(), "1")
    dispatcher.dispatch()
    queue_update(repo, clock.now(), mention, risk=65, reposts=40)
    queue_update(repo, clock.now(), mention, risk=72, reposts=400)
    assert dispatcher.dispatch() == 2
    (root,) = fake.top_level("C0SUPPORT")
    replies = fake.thread("C0SUPPORT", root["ts"])
    assert len(replies) == 2
    assert "viral risk 72/100" in replies[1]["text"]
    assert "400 reposts" in replies[1]["text"]
    assert root["blocks"][0]["text"]["text"] == "🟠 Viral risk · Kestrel"
    assert "*Viral risk*\n72/100" in iter_texts(root["blocks"])
    assert [a.ts for a in all_alerts(repo)][1:] == [r["ts"] for r in replies]


@pytest.mark.parametrize(
    ("target", "ping"), [("here", "<!here>"), ("S0SUPPORT", "<!subteam^S0SUPPORT>")]
)
def test_escalation_pings_once(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock, target: str, ping: str
) -> None:
    dispatcher = slack_dispatcher(fake, engine, clock, escalate_to=target)
    mention = seed_complaint(repo, clock.now(), "1")
    dispatcher.dispatch()
    for risk in (88, 92, 97):
        queue_update(repo, clock.now(), mention, risk=risk, escalate=True)
    assert dispatcher.dispatch() == 3
    (root,) = fake.top_level("C0SUPPORT")
    texts = [r["text"] for r in fake.thread("C0SUPPORT", root["ts"])]
    assert [ping in text for text in texts] == [True, False, False]
    assert root["blocks"][0]["text"]["text"] == "🔴 Escalation · Kestrel"


def test_a_post_already_escalated_when_first_seen_pings_in_its_message(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    """E.g. the alert was held (quiet hours) while the tracker scored the post."""
    mention = seed_complaint(repo, clock.now(), "1")
    repo.record_engagement(mention, None, at=clock.now(), next_refresh_at=None, risk=95)
    queue_update(repo, clock.now(), mention, risk=97, escalate=True)
    assert slack_dispatcher(fake, engine, clock).dispatch() == 2
    first, second = fake.calls_to("chat.postMessage")
    assert first.args["text"].startswith("<!here> 🔴 Escalation")
    assert second.args["thread_ts"] == first_ts(fake)
    assert "<!here>" not in second.args["text"]


def first_ts(fake: FakeSlack) -> str:
    return fake.top_level("C0SUPPORT")[0]["ts"]


def test_a_rate_limit_holds_the_update_behind_its_first_message(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    """A 429 on the post's first message pauses every send; the update waits for the first
    message and then goes into its thread (no second top-level message, no attempt used)."""
    dispatcher = slack_dispatcher(fake, engine, clock)
    mention = seed_complaint(repo, clock.now(), "1")
    queue_update(repo, clock.now(), mention, risk=70)
    fake.rate_limit("chat.postMessage", retry_after=60)
    assert dispatcher.dispatch() == 0
    clock.advance(seconds=59)
    assert dispatcher.dispatch() == 0
    assert len(fake.calls_to("chat.postMessage")) == 1  # nothing tried during Retry-After
    clock.advance(seconds=1)
    assert dispatcher.dispatch() == 2
    (message,) = fake.top_level("C0SUPPORT")
    assert len(fake.thread("C0SUPPORT", message["ts"])) == 1
    assert [a.status for a in all_alerts(repo)] == ["sent", "sent"]


def test_operations_alerts_go_to_the_ops_channel(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    repo.queue_alert(
        dedupe_key="ops:1",
        kind="operations",
        at=clock.now(),
        payload={"source": "x", "problem": "401", "check": "sources.x.bearer_token"},
    )
    seed_complaint(repo, clock.now(), "1")
    assert slack_dispatcher(fake, engine, clock, ops_channel="C0OPS").dispatch() == 2
    assert len(fake.top_level("C0OPS")) == 1
    assert len(fake.top_level("C0SUPPORT")) == 1


@pytest.mark.parametrize(
    ("error", "fix"),
    [
        ("invalid_auth", "SLACK_BOT_TOKEN"),
        ("channel_not_found", "alerting.slack.channel"),
        ("not_in_channel", "/invite"),
        ("missing_scope", "chat:write"),
    ],
)
def test_setup_errors_stop_sending_keep_alerts_pending_and_say_what_to_fix(
    fake: FakeSlack,
    engine: Engine,
    repo: Repository,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
    error: str,
    fix: str,
) -> None:
    seed_complaint(repo, clock.now(), "1")
    seed_complaint(repo, clock.now(), "2")
    fake.fail("chat.postMessage", error, needed="chat:write")
    with caplog.at_level(logging.ERROR, logger="monitor.alerts"):
        assert slack_dispatcher(fake, engine, clock).dispatch() == 0
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert [a.status for a in all_alerts(repo)] == ["pending", "pending"]
    assert error in caplog.text
    assert fix in caplog.text
    assert BOT_TOKEN not in caplog.text


def test_wrong_token_is_a_setup_error_too(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    seed_complaint(repo, clock.now(), "1")
    config = slack_config(fake, bot_token="xoxb-wrong")
    Dispatcher(repo, SlackSink(config, engine, clock=clock), clock=clock).dispatch()
    (alert,) = all_alerts(repo)
    assert alert.status == "pending"
    assert "invalid_auth" in (alert.last_error or "")


def test_ratelimited_honours_retry_after_without_sleeping_in_the_client(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    seed_complaint(repo, clock.now(), "1")
    fake.rate_limit("chat.postMessage", retry_after=42)
    dispatcher = slack_dispatcher(fake, engine, clock)
    assert dispatcher.dispatch() == 0
    assert len(fake.calls_to("chat.postMessage")) == 1
    (alert,) = all_alerts(repo)
    assert alert.next_attempt_at == clock.now() + timedelta(seconds=42)
    clock.advance(seconds=42)
    assert dispatcher.dispatch() == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_retry_with_backoff(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock, status: int
) -> None:
    seed_complaint(repo, clock.now(), "1")
    fake.server_error("chat.postMessage", status=status)
    dispatcher = slack_dispatcher(fake, engine, clock)
    assert dispatcher.dispatch() == 0
    (alert,) = all_alerts(repo)
    assert alert.status == "pending"
    assert timedelta(seconds=15) <= alert.next_attempt_at - clock.now() <= timedelta(seconds=30)
    clock.advance(seconds=30)
    assert dispatcher.dispatch() == 1


def test_network_errors_retry(engine: Engine, repo: Repository, clock: FixedClock) -> None:
    with FakeSlack() as gone:
        config = slack_config(gone)
    seed_complaint(repo, clock.now(), "1")
    Dispatcher(repo, SlackSink(config, engine, clock=clock), clock=clock).dispatch()
    (alert,) = all_alerts(repo)
    assert alert.status == "pending"
    assert "Slack unreachable" in (alert.last_error or "")


def test_slow_slack_times_out_and_the_retry_adopts_the_message_it_got(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    seed_complaint(repo, clock.now(), "1")
    fake.delay("chat.postMessage", 30)
    dispatcher = slack_dispatcher(fake, engine, clock, timeout_seconds=0.3)
    assert dispatcher.dispatch() == 0
    clock.advance(minutes=1)
    assert dispatcher.dispatch() == 1
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(fake.top_level("C0SUPPORT")) == 1


def test_lost_response_is_found_in_history_not_posted_again(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    seed_complaint(repo, clock.now(), "1")
    fake.lose_response("chat.postMessage")
    dispatcher = slack_dispatcher(fake, engine, clock)
    assert dispatcher.dispatch() == 0
    clock.advance(minutes=1)
    assert dispatcher.dispatch() == 1
    (history,) = fake.calls_to("conversations.history")
    assert history.args["include_all_metadata"] in ("1", True)
    assert len(fake.calls_to("chat.postMessage")) == 1
    (message,) = fake.top_level("C0SUPPORT")
    (alert,) = all_alerts(repo)
    assert (alert.status, alert.ts) == ("sent", message["ts"])
    with repo.sessions() as session:
        assert session.scalars(select(SlackMessage.ts)).all() == [message["ts"]]


def test_crash_after_slack_accepted_does_not_send_twice(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    """The process dies after Slack took the message and before anything was recorded."""
    seed_complaint(repo, clock.now(), "1")
    (alert,) = repo.pending_alerts(clock.now())
    repo.begin_attempt(alert.id)
    found = repo.mention(alert.mention_id)
    SlackSink(slack_config(fake), engine, clock=clock).send(AlertView(alert, *found))
    with repo.sessions.begin() as session:  # ...and before its own record was written
        session.execute(SlackMessage.__table__.delete())
    clock.advance(minutes=5)
    assert slack_dispatcher(fake, engine, clock).dispatch() == 1  # a new process
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert all_alerts(repo)[0].ts == fake.top_level("C0SUPPORT")[0]["ts"]


def test_lost_thread_reply_is_found_in_the_thread(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    dispatcher = slack_dispatcher(fake, engine, clock)
    mention = seed_complaint(repo, clock.now(), "1")
    dispatcher.dispatch()
    queue_update(repo, clock.now(), mention, risk=92, escalate=True)
    fake.lose_response("chat.postMessage")
    assert dispatcher.dispatch() == 0
    clock.advance(minutes=1)
    queue_update(repo, clock.now(), mention, risk=96, escalate=True)
    assert dispatcher.dispatch() == 2
    assert len(fake.calls_to("conversations.replies")) == 1
    (root,) = fake.top_level("C0SUPPORT")
    replies = fake.thread("C0SUPPORT", root["ts"])
    assert len(replies) == 2
    assert ["<!here>" in r["text"] for r in replies] == [True, False]


def test_build_sink_wires_slack(fake: FakeSlack, engine: Engine, clock: FixedClock) -> None:
    sink = build_sink(slack_config(fake), out=io.StringIO(), engine=engine, clock=clock)
    assert isinstance(sink, SlackSink)


def test_daemon_to_slack_end_to_end(
    fake: FakeSlack, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    """The real daemon: replayed posts, real rules and replies, one message per complaint."""
    feed = write_feed(
        tmp_path / "feed.jsonl",
        [
            feed_record(
                "1",
                "@Kestrel lost my parcel <!channel> and nobody answers the phone. Useless.",
                handle="ann",
            ),
            feed_record("2", "Kestrel delivered early, great service"),
        ],
    )
    config = slack_config(fake).model_copy(
        update={
            "sources": parse_config(
                {
                    "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
                    "sources": {
                        "feed": {"type": "replay", "path": str(feed), "follow_clock": False}
                    },
                }
            ).sources
        }
    )
    daemon = Daemon(
        config,
        clock=clock,
        engine=engine,
        sink=build_sink(config, out=io.StringIO(), engine=engine, clock=clock),
    )
    daemon.run_once()
    daemon.run_once()
    (message,) = fake.top_level("C0SUPPORT")
    texts = list(iter_texts(message["blocks"]))
    quoted = ">@Kestrel lost my parcel &lt;!channel&gt; and nobody answers the phone. Useless."
    assert quoted in texts
    reply = next(t for t in texts if t.startswith("*Suggested reply*"))
    assert "@ann " in reply
    assert "Useless" not in reply


def _documented(name: str) -> dict:
    """One of Slack's documented example responses (../shared/fixtures/slack/)."""
    return json.loads(shared_path("fixtures", "slack", name).read_text())


def test_slacks_documented_responses_are_understood(
    fake: FakeSlack,
    engine: Engine,
    repo: Repository,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    posted = _documented("chat.postMessage.ok.json")
    fake.script("chat.postMessage", Scripted(body=posted))
    mention = seed_complaint(repo, clock.now(), "1")
    dispatcher = slack_dispatcher(fake, engine, clock)
    assert dispatcher.dispatch() == 1
    assert (all_alerts(repo)[0].channel, all_alerts(repo)[0].ts) == (
        posted["channel"],
        posted["ts"],
    )
    fake.channels.add(posted["channel"])
    fake.messages[posted["channel"]] = [{**posted["message"], "blocks": []}]
    fake.script("chat.update", Scripted(body=_documented("chat.update.error.json")))
    queue_update(repo, clock.now(), mention, risk=70)
    with caplog.at_level(logging.WARNING, logger="monitor.slack.sink"):
        assert dispatcher.dispatch() == 1  # the thread reply went; the redraw failing is logged
    assert "cant_update_message" in caplog.text
    fake.script("chat.postMessage", Scripted(body=_documented("auth.test.error.json")))
    seed_complaint(repo, clock.now(), "2")
    assert dispatcher.dispatch() == 0
    assert "invalid_auth" in (all_alerts(repo)[-1].last_error or "")
