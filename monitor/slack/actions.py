"""The alert buttons, over Socket Mode: no public URL, just an outgoing WebSocket.

Slack delivers a button press as an "interactive" envelope on the socket. The handler
acknowledges it at once (Slack wants that within three seconds), stores who did what and
when (and, for "Not a complaint", a label on the mention for later learning), then redraws
the message from the database so everyone in the channel sees the new status.

The daemon starts this with `start_socket_mode(config, engine, clock)` when
`alerting.slack.app_token` is set, and calls `.close()` on the handle when it stops. If
Slack cannot be reached at start, a background thread keeps trying with backoff instead of
failing the daemon: alerts are still sent, only the buttons wait.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import Engine

from core.clock import Clock
from monitor.config import AppConfig, SlackRateLimit
from monitor.slack.blocks import STATUS_AFTER, Action
from monitor.slack.client import make_client
from monitor.slack.render import render_root, render_summary
from monitor.slack.store import SlackStore
from storage.models import SlackMessage

log = logging.getLogger(__name__)

CONNECT_BACKOFF_SECONDS = (5.0, 15.0, 60.0, 300.0)


class ActionHandler:
    """Turns one `block_actions` payload into stored actions and a redrawn message."""

    def __init__(
        self,
        store: SlackStore,
        client: WebClient,
        *,
        clock: Clock,
        snooze: timedelta,
        limit: SlackRateLimit | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._clock = clock
        self._snooze = snooze
        self._limit = limit or SlackRateLimit()

    def handle(self, payload: Mapping[str, Any]) -> int:
        """Apply the payload's button presses; returns how many were ours and applied."""
        if payload.get("type") != "block_actions":
            return 0
        container = payload.get("container") or {}
        channel = (payload.get("channel") or {}).get("id") or container.get("channel_id")
        ts = container.get("message_ts") or (payload.get("message") or {}).get("ts")
        user = payload.get("user") or {}
        applied = 0
        for action in payload.get("actions") or []:
            kind, message = self._target(action, channel, ts)
            if kind is None:
                continue
            if message is None or not user.get("id"):
                log.warning("slack: button %s on unknown message %s/%s", kind, channel, ts)
                continue
            now = self._clock.now()
            message = self._store.record_action(
                message.id,
                status=STATUS_AFTER[kind],
                user_id=str(user["id"]),
                user_name=user.get("username") or user.get("name"),
                at=now,
                snoozed_until=now + self._snooze if kind is Action.SNOOZE else None,
            )
            log.info("slack: %s by %s on %s/%s", STATUS_AFTER[kind], user["id"], channel, ts)
            self._redraw(message)
            applied += 1
        return applied

    def _target(
        self, action: Mapping[str, Any], channel: str | None, ts: str | None
    ) -> tuple[Action | None, SlackMessage | None]:
        """What was pressed and on which post: a message's own button, or the menu of one
        post rolled up in a summary (its option value names the action and the alert)."""
        try:
            kind = Action(action.get("action_id"))
        except ValueError:
            return None, None
        if kind is not Action.ITEM:
            return kind, self._store.at(channel, ts) if channel and ts else None
        chosen, _, alert_id = str((action.get("selected_option") or {}).get("value", "")).partition(
            "|"
        )
        try:
            kind = Action(chosen)
        except ValueError:
            return None, None
        if kind is Action.ITEM or not alert_id.isdigit():
            return None, None
        found = self._store.for_alert(int(alert_id))
        if (
            found is None
            or found.kind != "summarised"
            or (found.channel, found.ts) != (channel, ts)
        ):
            return kind, None
        return kind, found

    def _redraw(self, message: SlackMessage) -> None:
        if message.kind == "summarised":
            drawn = render_summary(self._store, message.channel, message.ts, limit=self._limit)
        else:
            drawn = render_root(self._store, message)
        if drawn is None:
            return
        try:
            self._client.chat_update(channel=message.channel, ts=message.ts, **drawn.payload())
        except SlackApiError as exc:
            log.warning("slack: could not show the action on %s: %s", message.ts, exc)


class SocketModeHandle:
    """A running Socket Mode connection; `connected` is set once the socket is open."""

    def __init__(self, client: SocketModeClient) -> None:
        self.client = client
        self.connected = threading.Event()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._connect, name="slack-socket", daemon=True)

    def _connect(self) -> None:
        for attempt in itertools.count():
            if self._closed.is_set():
                return
            try:
                self.client.connect()
            except Exception as exc:  # keep the daemon up; buttons wait until Slack answers
                delay = CONNECT_BACKOFF_SECONDS[min(attempt, len(CONNECT_BACKOFF_SECONDS) - 1)]
                log.error(
                    "slack: Socket Mode connection failed (%s); check alerting.slack.app_token "
                    "(SLACK_APP_TOKEN, scope connections:write); retrying in %.0fs",
                    exc,
                    delay,
                )
                self._closed.wait(delay)
                continue
            self.connected.set()
            return

    def start(self) -> SocketModeHandle:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self.client.close()


def start_socket_mode(
    config: AppConfig, engine: Engine, clock: Clock, *, web_client: WebClient | None = None
) -> SocketModeHandle:
    """Connect to Slack over Socket Mode and handle the alert buttons until `.close()`."""
    slack = config.alerting.slack
    if slack.app_token is None:
        raise ValueError("alerting.slack.app_token is needed for Socket Mode")
    web = web_client or make_client(slack)
    handler = ActionHandler(
        SlackStore(engine),
        web,
        clock=clock,
        snooze=timedelta(minutes=slack.snooze_minutes),
        limit=slack.rate_limit,
    )

    def on_request(client: SocketModeClient, request: SocketModeRequest) -> None:
        client.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        if request.type != "interactive":
            return
        try:
            handler.handle(request.payload)
        except Exception:  # one bad press must not stop the listener
            log.exception("slack: could not handle a button press")

    client = SocketModeClient(
        app_token=slack.app_token.get_secret_value(),
        web_client=web,
        auto_reconnect_enabled=True,
        logger=logging.getLogger("monitor.slack.socket"),
    )
    client.socket_mode_request_listeners.append(on_request)
    return SocketModeHandle(client).start()
