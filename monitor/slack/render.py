"""Re-rendering a post's message from the database, for chat.update.

Both the sender (a tracked post grew) and the button handler (someone acknowledged it)
rewrite the same top-level message. Each renders it whole from stored state, so whichever
update lands last still shows the latest numbers *and* the latest action.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from monitor.slack.blocks import Message, Severity, Status, mention_message, spike_message
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
    return mention_message(
        alert,
        *found,
        severity=Severity(message.severity or Severity.COMPLAINT),
        status=status_of(message),
    )
