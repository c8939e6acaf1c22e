"""Re-rendering a post's message from the database, for chat.update.

Both the sender (a tracked post grew) and the button handler (someone acknowledged it)
rewrite the same top-level message. Each renders it whole from stored state, so whichever
update lands last still shows the latest numbers *and* the latest action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.alert_model import build_card
from monitor.config import SlackRateLimit
from monitor.slack.blocks import (
    Message,
    Severity,
    Status,
    SummaryItem,
    mention_message,
    spike_message,
    summary_message,
)
from monitor.slack.store import SlackStore
from storage.models import SlackMessage


def status_of(message: SlackMessage) -> Status:
    return Status(message.status, message.status_by, message.status_at, message.snoozed_until)


def render_root(
    store: SlackStore, message: SlackMessage, *, latest: Mapping[str, Any] | None = None
) -> Message | None:
    """The message as it should look now; None when there is nothing to redraw."""
    alert = store.alert(message.alert_id)
    if alert is None:
        return None
    if alert.kind == "spike":
        return spike_message(alert, status=status_of(message))
    found = store.mention(message.mention_id)
    if found is None:
        return None
    if latest is not None:
        alert.payload = {**(alert.payload or {}), **latest}
    mention, author = found
    card = build_card(alert, mention, author, answered=store.answered(mention))
    return mention_message(
        alert,
        mention,
        author,
        severity=Severity(message.severity or Severity.COMPLAINT),
        status=status_of(message),
        card=card,
    )


def render_summary(store: SlackStore, channel: str, ts: str, *, limit: SlackRateLimit) -> Message:
    """The rate-limit summary at (channel, ts) as it should look now, each post's status
    included."""
    items = [
        SummaryItem(
            Severity(m.severity or Severity.COMPLAINT), mention, author, alert, status_of(m)
        )
        for m, alert, mention, author in store.summary_items(channel, ts)
        if alert is not None
    ]
    return summary_message(items, limit=limit.max_messages, minutes=limit.per_minutes)
