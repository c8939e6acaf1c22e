"""Slack's answers turned into what the outbox does next, with the fix in the message.

`ratelimited` (HTTP 429) -> retry after Slack's Retry-After. 5xx, Slack's own internal
errors and network trouble -> retry with backoff. Token and channel problems -> blocked:
nothing can be sent until a person fixes the setup, so alerts stay pending and the log names
the setting or the Slack step to fix. Anything else is a problem with this one alert.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from monitor.alerts import SinkBlockedError, SinkRetryError

DEFAULT_RETRY_AFTER = 60.0
TOKEN = "check the bot token in alerting.slack.bot_token (SLACK_BOT_TOKEN)"
FIXES = {
    "invalid_auth": f"Slack rejected the bot token: {TOKEN}",
    "not_authed": f"no bot token was sent: {TOKEN}",
    "account_inactive": f"the bot token belongs to a deactivated app or user: {TOKEN}",
    "token_revoked": f"the bot token was revoked (app uninstalled?): reinstall the app; {TOKEN}",
    "token_expired": f"the bot token expired: {TOKEN}",
    "missing_scope": "the bot token lacks a scope ({needed}): add it under OAuth & Permissions "
    "and reinstall the app",
    "no_permission": "the app is not allowed to post in {channel}: check the workspace settings",
    "channel_not_found": "channel {channel} does not exist or the bot cannot see it: check "
    "alerting.slack.channel / ops_channel (a channel ID, not a name)",
    "not_in_channel": "the bot is not a member of {channel}: run `/invite @<your app>` there",
    "is_archived": "channel {channel} is archived: unarchive it or set another in alerting.slack",
    "restricted_action": "a workspace admin setting stops the bot posting in {channel}",
    "ekm_access_denied": "the workspace's key management denies access: ask a Slack admin",
}
TRANSIENT = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
}


class SlackAlertError(Exception):
    """Slack refused this one alert (e.g. invalid_blocks); retried with backoff, then failed."""


def classify(exc: SlackApiError, *, channel: str) -> Exception:
    """The outbox exception for a Slack API error."""
    response = exc.response
    error = str(response.get("error") or f"HTTP {response.status_code}")
    if response.status_code == 429 or error == "ratelimited":
        return SinkRetryError(f"Slack: ratelimited on {channel}", retry_after=_retry_after(exc))
    if response.status_code >= 500 or error in TRANSIENT:
        return SinkRetryError(f"Slack: {error} (HTTP {response.status_code})")
    if error in FIXES:
        needed = response.get("needed") or "see the Slack README section"
        return SinkBlockedError(
            f"Slack: {error}: " + FIXES[error].format(channel=channel, needed=needed)
        )
    return SlackAlertError(f"Slack: {error}")


def _retry_after(exc: SlackApiError) -> float:
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(float(value), 0.0) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
