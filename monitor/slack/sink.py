"""The Slack alert sink: one message per post, its news in the thread, nothing sent twice.

Per alert the dispatcher calls `send` (after counting the attempt in the outbox):
- a post's first alert becomes its top-level message, or a line in the channel's summary
  when the channel is over its rate limit (escalations always get their own message);
- later alerts about the same post ("update") go into that message's thread, and the
  message itself is redrawn with `chat.update`; the first one over the escalation threshold
  pings the configured user group (or @here), once;
- spike alerts get a message of their own, unless an incident of the brand is under way
  (a spike message within alerting.incident.hours): then they go into that one's thread;
- while an incident is under way, its complaints (of alerting.incident.category, or any;
  on the support route; not escalations) go into the incident message's thread, not the
  channel;
- a customer's follow-up to the brand's reply goes into the original post's thread, and the
  original is redrawn ("answered by @handle after N min");
- operations alerts go to the ops channel.
Every message carries the alert id as Slack message metadata. When an alert comes back
with attempts > 0 (an earlier try may have reached Slack before a crash or a timeout), the
sink looks for that id first in its own records, then in the channel's recent history (or
the post's thread), and adopts the message it finds instead of posting again.
"""

from __future__ import annotations

import http.client
import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.error import URLError
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine

from core.clock import Clock
from monitor.alert_model import Level, Route
from monitor.alerts import AlertView, Delivery, SinkRetryError
from monitor.config import AppConfig
from monitor.slack import text
from monitor.slack.blocks import (
    Message,
    Severity,
    SummaryItem,
    mention_message,
    operations_message,
    spike_message,
    summary_message,
    update_message,
)
from monitor.slack.client import make_client
from monitor.slack.errors import classify
from monitor.slack.noise import QuietHoursWindow, window_start
from monitor.slack.render import render_root, render_summary
from monitor.slack.store import SlackStore
from storage.models import Alert, SlackMessage

log = logging.getLogger(__name__)

EVENT_TYPE = "brandmon_alert"
HISTORY_PAGES = 5
HISTORY_PAGE_SIZE = 200
HISTORY_SLACK = timedelta(minutes=5)
RANK = {Severity.VIRAL_RISK: 1, Severity.SECURITY: 1, Severity.ESCALATION: 2}
NETWORK_ERRORS = (URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError)


class Thread(NamedTuple):
    """Where a message goes when it belongs in another's thread, and why."""

    channel: str
    ts: str
    root: SlackMessage
    follow_up: bool


class SlackSink:
    """An `AlertSink` that posts Block Kit messages through slack_sdk's WebClient."""

    name = "slack"

    def __init__(
        self,
        config: AppConfig,
        engine: Engine,
        *,
        clock: Clock,
        client: WebClient | None = None,
    ) -> None:
        alerting = config.alerting
        slack = alerting.slack
        if slack.channel is None:
            raise ValueError("alerting.slack.channel is required for the Slack sink")
        self._client = client or make_client(slack)
        self._store = SlackStore(engine)
        self._clock = clock
        self._channel = slack.channel
        self._ops_channel = slack.ops_channel or slack.channel
        self._ping = text.ping(slack.escalate_to)
        # Where each route goes (monitor/alert_model.Route): channel and who is pinged.
        route = alerting.escalation
        self._escalation = (
            route.channel or slack.channel,
            text.ping(route.ping or slack.escalate_to),
        )
        self._security = {
            name: (
                brand.security_channel or slack.channel,
                text.ping(brand.security_ping) if brand.security_ping else None,
            )
            for name, brand in alerting.brands.items()
        }
        self._limit = slack.rate_limit
        self._incident = alerting.incident
        self._escalation_threshold = alerting.escalation_threshold
        self._quiet = (
            QuietHoursWindow(slack.quiet_hours, ZoneInfo(config.timezone))
            if slack.quiet_hours
            else None
        )

    # -- the AlertSink interface ----------------------------------------------------------

    def hold_until(self, view: AlertView) -> datetime | None:
        """When to try this alert instead of now: quiet hours, or its post is snoozed.

        Operations alerts are never held; escalations pass when the policy says so, and
        always pass a snooze.
        """
        if view.alert.kind == "operations":
            return None
        now = self._clock.now()
        escalation = self._severity(view) is Severity.ESCALATION
        if self._quiet is not None and not (escalation and self._quiet.escalations_pass):
            until = self._quiet.until(now)
            if until is not None:
                return until
        if view.alert.kind == "update" and view.alert.mention_id and not escalation:
            root = self._store.root_for_mention(view.alert.mention_id)
            if root and root.status == "snoozed" and root.snoozed_until:
                return root.snoozed_until if root.snoozed_until > now else None
        return None

    def _route(self, view: AlertView) -> tuple[str, str | None]:
        """(channel, ping for a new message) for the alert's route."""
        card = view.decided()
        if card.route is Route.OPERATIONS:
            return self._ops_channel, None
        if card.route is Route.ESCALATION:
            return self._escalation
        if card.route is Route.SECURITY:
            return self._security.get(card.brand or "", (self._channel, None))
        return self._channel, self._ping if card.level is Severity.ESCALATION else None

    def send(self, view: AlertView) -> Delivery:
        channel, _ = self._route(view)
        try:
            if view.alert.attempts > 0:
                found = self._recover(view, channel)
                if found is not None:
                    return found
            if view.alert.kind in {"operations", "spike"}:
                return self._post_own(view, channel)
            if view.mention is None:  # deleted since (retention): nothing left to show
                log.warning("slack: alert %s has no post any more; not sent", view.alert.id)
                return Delivery()
            return self._send_for_mention(view, channel)
        except SlackApiError as exc:
            raise classify(exc, channel=channel) from exc
        except NETWORK_ERRORS as exc:
            raise SinkRetryError(f"Slack unreachable: {exc}") from exc

    # -- per kind -------------------------------------------------------------------------

    @staticmethod
    def _severity(view: AlertView) -> Severity:
        return view.decided().level

    def _post_own(self, view: AlertView, channel: str) -> Delivery:
        alert = view.alert
        if alert.kind == "operations":
            message = operations_message(alert)
        else:
            message = spike_message(alert, card=view.decided())
        thread = self._thread_for(view, channel)
        thread_ts = thread.ts if thread is not None else None
        posted = self._post(channel, message, alert, kind="alert", thread_ts=thread_ts)
        self._store.record(
            kind="alert",
            channel=posted["channel"],
            ts=posted["ts"],
            at=self._clock.now(),
            alert_id=alert.id,
            severity=self._severity(view).value,
            thread_ts=thread_ts,
        )
        return Delivery(channel=posted["channel"], ts=posted["ts"])

    def _thread_for(self, view: AlertView, channel: str) -> Thread | None:
        """The thread this alert's first message belongs in, if any: the original post's
        when it is a follow-up to the brand's reply, else the brand's incident's when it is
        one of the incident's complaints (or a later spike of it)."""
        card, mention = view.decided(), view.mention
        if card.route is not Route.SUPPORT or card.level is Level.ESCALATION:
            return None
        if mention is not None and view.alert.kind != "update":
            root = self._store.conversation_root(mention)
            if root is not None and root.channel == channel:
                return Thread(root.channel, root.thread_ts or root.ts, root, True)
        if not self._incident.thread or card.brand is None:
            return None
        part_of_incident = view.alert.kind == "spike" or (
            view.alert.kind == "complaint"
            and mention is not None
            and self._incident.category in {None, mention.category}
        )
        if not part_of_incident:
            return None
        since = self._clock.now() - timedelta(hours=self._incident.hours)
        root = self._store.incident_root(card.brand, channel, since)
        return None if root is None else Thread(root.channel, root.ts, root, False)

    def _post_in_thread(self, view: AlertView, thread: Thread, severity: Severity) -> Delivery:
        """The post's own message (with its buttons) inside another message's thread."""
        assert view.mention is not None
        alert = view.alert
        message = mention_message(
            alert,
            view.mention,
            view.author,
            severity=severity,
            escalation_threshold=self._escalation_threshold,
            card=view.decided(),
        )
        posted = self._post(thread.channel, message, alert, kind="alert", thread_ts=thread.ts)
        self._store.record(
            kind="alert",
            channel=posted["channel"],
            ts=posted["ts"],
            at=self._clock.now(),
            alert_id=alert.id,
            mention_id=view.mention.id,
            severity=severity.value,
            thread_ts=thread.ts,
        )
        if thread.follow_up and thread.root.kind == "alert":
            self._redraw(thread.root)  # shows that the brand answered
        return Delivery(channel=posted["channel"], ts=posted["ts"])

    def _send_for_mention(self, view: AlertView, channel: str) -> Delivery:
        assert view.mention is not None
        severity = self._severity(view)
        root = self._store.root_for_mention(view.mention.id)
        if root is None:
            thread = self._thread_for(view, channel)
            if thread is not None:
                return self._post_in_thread(view, thread, severity)
        if root is None or (root.kind == "summarised" and severity is Severity.ESCALATION):
            return self._post_root(view, channel, severity)
        if root.kind == "summarised":
            self._refresh_summary(root.channel, root.ts)
            return Delivery(channel=root.channel, ts=root.ts)
        if view.alert.kind != "update":
            return Delivery(channel=root.channel, ts=root.ts)  # the post already has its message
        return self._post_update(view, root, severity)

    def _post_root(self, view: AlertView, channel: str, severity: Severity) -> Delivery:
        assert view.mention is not None
        alert, now = view.alert, self._clock.now()
        _, ping = self._route(view)
        if ping is None and self._over_limit(channel, now):
            return self._summarise(view, channel, severity)
        message = mention_message(
            alert,
            view.mention,
            view.author,
            severity=severity,
            ping=ping,
            escalation_threshold=self._escalation_threshold,
            card=view.decided(),
        )
        posted = self._post(channel, message, alert, kind="alert", escalated=ping is not None)
        self._store.record(
            kind="alert",
            channel=posted["channel"],
            ts=posted["ts"],
            at=now,
            alert_id=alert.id,
            mention_id=view.mention.id,
            severity=severity.value,
            escalated=ping is not None,
        )
        return Delivery(channel=posted["channel"], ts=posted["ts"])

    def _post_update(self, view: AlertView, root: SlackMessage, severity: Severity) -> Delivery:
        assert view.mention is not None
        alert, now = view.alert, self._clock.now()
        if root.status == "not_complaint":
            return Delivery(channel=root.channel, ts=root.ts)
        ping = None
        if (
            severity is Severity.ESCALATION
            and root.escalated_at is None
            and root.status != "resolved"
        ):
            ping = self._ping
        message = update_message(
            alert,
            view.mention,
            ping=ping,
            threshold=self._escalation_threshold,
            author=view.author,
        )
        posted = self._post(
            root.channel,
            message,
            alert,
            kind="update",
            thread_ts=root.thread_ts or root.ts,
            escalated=ping is not None,
        )
        if RANK.get(severity, 0) > RANK.get(Severity(root.severity or Severity.COMPLAINT), 0):
            root.severity = severity.value
            self._store.set_severity(root.id, severity.value)
        if ping is not None:
            self._store.mark_escalated(root.id, at=now, severity=root.severity or severity.value)
        self._redraw(root, latest=alert.payload)
        return Delivery(channel=root.channel, ts=posted["ts"])

    # -- rate limit and summary -----------------------------------------------------------

    def _over_limit(self, channel: str, now: datetime) -> bool:
        since = window_start(self._limit, now)
        return self._store.posted_since(channel, since) >= self._limit.max_messages

    def _summarise(self, view: AlertView, channel: str, severity: Severity) -> Delivery:
        assert view.mention is not None
        alert, now = view.alert, self._clock.now()
        summary = self._store.open_summary(channel, window_start(self._limit, now))
        if summary is not None:
            self._store.record(
                kind="summarised",
                channel=summary.channel,
                ts=summary.ts,
                at=now,
                alert_id=alert.id,
                mention_id=view.mention.id,
                severity=severity.value,
            )
            self._refresh_summary(summary.channel, summary.ts)
            return Delivery(channel=summary.channel, ts=summary.ts)
        message = summary_message(
            [SummaryItem(severity, view.mention, view.author, alert)],
            limit=self._limit.max_messages,
            minutes=self._limit.per_minutes,
        )
        posted = self._post(channel, message, alert, kind="summary")
        self._adopt_summary(posted["channel"], posted["ts"], view, severity)
        return Delivery(channel=posted["channel"], ts=posted["ts"])

    def _adopt_summary(self, channel: str, ts: str, view: AlertView, severity: Severity) -> None:
        now = self._clock.now()
        self._store.record(kind="summary", channel=channel, ts=ts, at=now)
        self._store.record(
            kind="summarised",
            channel=channel,
            ts=ts,
            at=now,
            alert_id=view.alert.id,
            mention_id=view.alert.mention_id,
            severity=severity.value,
        )

    def _refresh_summary(self, channel: str, ts: str) -> None:
        message = render_summary(self._store, channel, ts, limit=self._limit)
        self._client.chat_update(channel=channel, ts=ts, **message.payload())

    # -- talking to Slack -----------------------------------------------------------------

    def _post(
        self,
        channel: str,
        message: Message,
        alert: Alert,
        *,
        kind: str,
        thread_ts: str | None = None,
        escalated: bool = False,
    ) -> dict[str, Any]:
        response = self._client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            link_names=False,
            metadata={
                "event_type": EVENT_TYPE,
                "event_payload": {
                    "alert_id": alert.id,
                    "kind": kind,
                    "mention_id": alert.mention_id or 0,
                    "escalated": escalated,
                },
            },
            **message.payload(),
        )
        return {"channel": response["channel"], "ts": response["ts"]}

    def _redraw(self, root: SlackMessage, *, latest: dict[str, Any] | None = None) -> None:
        """Best effort: the thread reply is what matters; a failed redraw is only logged."""
        message = render_root(self._store, root, latest=latest)
        if message is None:
            return
        try:
            self._client.chat_update(channel=root.channel, ts=root.ts, **message.payload())
        except (SlackApiError, *NETWORK_ERRORS) as exc:
            log.warning("slack: could not redraw message %s in %s: %s", root.ts, root.channel, exc)

    # -- recovery after a crash or a lost response ----------------------------------------

    def _recover(self, view: AlertView, channel: str) -> Delivery | None:
        """An earlier attempt may have reached Slack: find its message instead of reposting."""
        alert = view.alert
        known = self._store.for_alert(alert.id)
        if known is not None:
            if known.kind == "summarised":
                self._refresh_summary(known.channel, known.ts)
            return Delivery(channel=known.channel, ts=known.ts)
        found = self._search(channel, view)
        if found is None:
            return None
        ts, payload = found
        kind, now = payload.get("kind"), self._clock.now()
        severity = self._severity(view)
        log.info(
            "slack: alert %s was already in %s at %s; not sending again", alert.id, channel, ts
        )
        if kind == "summary":
            self._adopt_summary(channel, ts, view, severity)
        elif kind == "alert":
            self._store.record(
                kind="alert",
                channel=channel,
                ts=ts,
                at=now,
                alert_id=alert.id,
                mention_id=alert.mention_id,
                severity=severity.value,
                escalated=bool(payload.get("escalated")),
                thread_ts=payload.get("thread_ts"),
            )
        elif kind == "update" and payload.get("escalated") and alert.mention_id:
            root = self._store.root_for_mention(alert.mention_id)
            if root is not None:
                self._store.mark_escalated(root.id, at=now, severity=severity.value)
        return Delivery(channel=channel, ts=ts)

    def _search(self, channel: str, view: AlertView) -> tuple[str, dict[str, Any]] | None:
        """(ts, metadata payload) of the message carrying this alert's id, if Slack has one:
        in the channel, or in the thread the alert would have gone to."""
        alert = view.alert
        oldest = f"{(alert.created_at - HISTORY_SLACK).timestamp():.6f}"
        found = self._scan(
            self._client.conversations_history, alert.id, channel=channel, oldest=oldest
        )
        threads: list[tuple[str, str]] = []
        if alert.kind == "update" and alert.mention_id:
            root = self._store.root_for_mention(alert.mention_id)
            if root is not None and root.kind == "alert":
                threads.append((root.channel, root.thread_ts or root.ts))
        else:
            thread = self._thread_for(view, channel)
            if thread is not None:
                threads.append((thread.channel, thread.ts))
        for thread_channel, ts in threads:
            if found is None:
                found = self._scan(
                    self._client.conversations_replies, alert.id, channel=thread_channel, ts=ts
                )
        return found

    @staticmethod
    def _scan(method: Any, alert_id: int, **kwargs: Any) -> tuple[str, dict[str, Any]] | None:
        cursor = None
        for _ in range(HISTORY_PAGES):
            page = method(
                include_all_metadata=True, limit=HISTORY_PAGE_SIZE, cursor=cursor, **kwargs
            )
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == EVENT_TYPE and str(payload.get("alert_id")) == str(
                    alert_id
                ):
                    thread_ts = message.get("thread_ts")
                    in_thread = thread_ts and thread_ts != message["ts"]
                    return str(message["ts"]), {
                        **payload,
                        "thread_ts": thread_ts if in_thread else None,
                    }
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None
