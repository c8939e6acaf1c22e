"""The alert buttons end to end over Socket Mode, with a local server playing Slack's side.

`apps.connections.open` hands slack_sdk's Socket Mode client a ws://127.0.0.1 URL; the fake
pushes a `block_actions` envelope like Slack does when someone presses a button, and the test
checks the ack, what was stored, and the redrawn message.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from core.clock import FixedClock
from monitor.alerts import Dispatcher
from monitor.slack import SlackSink, SocketModeHandle, start_socket_mode
from monitor.slack.actions import ActionHandler
from monitor.slack.blocks import Action
from monitor.slack.client import make_client
from monitor.slack.store import SlackStore
from storage.repository import Repository
from tests.fake_slack import (
    APP_TOKEN,
    FakeSlack,
    button_payload,
    seed_complaint,
    slack_config,
)


@pytest.fixture
def posted(fake: FakeSlack, engine: Engine, clock: FixedClock) -> list[tuple[int, str]]:
    """Four complaints already in the channel: (mention id, message ts) each."""
    repo = Repository(engine)
    mentions = [seed_complaint(repo, clock.now(), str(n), handle=f"u{n}") for n in range(4)]
    Dispatcher(repo, SlackSink(slack_config(fake), engine, clock=clock), clock=clock).dispatch()
    return list(zip(mentions, [m["ts"] for m in fake.top_level("C0SUPPORT")], strict=True))


@pytest.fixture
def socket(fake: FakeSlack, engine: Engine, clock: FixedClock) -> Iterator[SocketModeHandle]:
    """One Socket Mode connection per test: closing one takes slack_sdk up to 3 s."""
    handle = start_socket_mode(slack_config(fake), engine, clock)
    assert handle.connected.wait(10)
    yield handle
    handle.close()


def _press(fake: FakeSlack, ts: str, action: Action) -> None:
    updates = len(fake.calls_to("chat.update")) + 1
    envelope = fake.push_interactive(button_payload("C0SUPPORT", ts, action.value))
    assert fake.wait_ack(envelope) == {"envelope_id": envelope}
    fake.wait_for("chat.update", updates)


PRESSES = [
    (Action.ACKNOWLEDGE, "acknowledged", "👀 Acknowledged by <@U0AGENT>"),
    (Action.RESOLVE, "resolved", "✅ Resolved by <@U0AGENT>"),
    (Action.SNOOZE, "snoozed", "💤 Snoozed by <@U0AGENT> until <!date^"),
    (Action.NOT_COMPLAINT, "not_complaint", "🚫 Marked *not a complaint* by <@U0AGENT>"),
]


def test_each_button_press_is_stored_and_shown(
    fake: FakeSlack,
    engine: Engine,
    clock: FixedClock,
    posted: list[tuple[int, str]],
    socket: SocketModeHandle,
) -> None:
    (connect,) = fake.calls_to("apps.connections.open")
    assert connect.token == APP_TOKEN
    store = SlackStore(engine)
    for (mention, ts), (action, status, shown) in zip(posted, PRESSES, strict=True):
        _press(fake, ts, action)
        message = store.at("C0SUPPORT", ts)
        assert (message.status, message.status_by, message.status_at) == (
            status,
            "U0AGENT",
            clock.now(),
        )
        (logged,) = store.actions(message.id)
        assert (logged.action, logged.user_name, logged.mention_id) == (
            status,
            "agent.smith",
            mention,
        )
        blocks = fake.message("C0SUPPORT", ts)["blocks"]
        assert blocks[-1]["elements"][0]["text"].startswith(shown)
        assert blocks[0]["text"]["text"] == "🟡 Complaint · Kestrel"  # redrawn intact
    snoozed = store.at("C0SUPPORT", posted[2][1])
    assert snoozed.snoozed_until == clock.now() + timedelta(minutes=60)
    not_complaint = posted[3][0]
    (label,) = store.labels(not_complaint)
    assert (label.label, label.source, label.user_id) == ("not_complaint", "slack", "U0AGENT")
    found, _ = store.mention(not_complaint)
    assert (found.tracking, found.next_refresh_at) == (False, None)
    # acknowledging or resolving says "this was a complaint"; snoozing says nothing
    said = [[label.label for label in store.labels(m)] for m, _ in posted[:3]]
    assert said == [["complaint"], ["complaint"], []]


def test_later_presses_are_logged_in_order_and_the_last_one_shows(
    fake: FakeSlack,
    engine: Engine,
    clock: FixedClock,
    posted: list[tuple[int, str]],
    socket: SocketModeHandle,
) -> None:
    _, ts = posted[0]
    _press(fake, ts, Action.ACKNOWLEDGE)
    clock.advance(minutes=7)
    _press(fake, ts, Action.RESOLVE)
    store = SlackStore(engine)
    message = store.at("C0SUPPORT", ts)
    actions = store.actions(message.id)
    assert [(a.action, a.at) for a in actions] == [
        ("acknowledged", clock.now() - timedelta(minutes=7)),
        ("resolved", clock.now()),
    ]
    assert fake.message("C0SUPPORT", ts)["blocks"][-1]["elements"][0]["text"].startswith("✅")


def test_a_rejected_app_token_does_not_stop_anything(
    fake: FakeSlack, engine: Engine, clock: FixedClock
) -> None:
    handle = start_socket_mode(slack_config(fake, app_token="xapp-wrong"), engine, clock)
    fake.wait_for("apps.connections.open")
    assert not handle.connected.wait(0.2)
    handle.close()


@pytest.mark.parametrize(
    "make",
    [
        lambda ts: {"type": "view_submission"},
        lambda ts: button_payload("C0SUPPORT", ts, "someone_elses_button"),
        lambda ts: button_payload("C0SUPPORT", "9999.000001", Action.ACKNOWLEDGE.value),
        lambda ts: button_payload("C0OPS", ts, Action.ACKNOWLEDGE.value),
        lambda ts: {**button_payload("C0SUPPORT", ts, Action.ACKNOWLEDGE.value), "user": {}},
    ],
    ids=["other-payload", "other-action", "unknown-message", "other-channel", "no-user"],
)
def test_presses_that_are_not_ours_change_nothing(
    fake: FakeSlack,
    engine: Engine,
    clock: FixedClock,
    posted: list[tuple[int, str]],
    make: Callable[[str], dict[str, Any]],
) -> None:
    handler = ActionHandler(
        SlackStore(engine),
        make_client(slack_config(fake).alerting.slack),
        clock=clock,
        snooze=timedelta(hours=1),
    )
    assert handler.handle(make(posted[0][1])) == 0
    assert fake.calls_to("chat.update") == []


def test_the_daemon_opens_socket_mode_with_an_app_token_and_closes_it_on_stop(
    fake: FakeSlack, engine: Engine, clock: FixedClock
) -> None:
    from monitor.daemon import Daemon
    from monitor.sinks import build_sink

    config = slack_config(fake)
    sink = build_sink(config, out=io.StringIO(), engine=engine, clock=clock)
    daemon = Daemon(config, clock=clock, engine=engine, sink=sink, connectors={})
    daemon.start()
    try:
        handle = daemon._socket_mode
        assert handle is not None
        assert handle.connected.wait(10)
        assert fake.calls_to("apps.connections.open")
    finally:
        daemon.stop()
    assert daemon._socket_mode is None
