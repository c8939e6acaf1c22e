"""The slack_sdk WebClient brandmon uses: bot token, configurable base URL, and no retries.

slack_sdk can retry and sleep by itself (connection errors by default, 429s on request).
brandmon turns every failure into an outbox decision instead (Retry-After honoured, backoff
with jitter, alerts kept pending), so the client's own retry handlers are switched off: a
send either succeeds or raises at once, and no thread sleeps inside the library.
"""

from __future__ import annotations

from slack_sdk import WebClient

from monitor.config import SlackConfig


def make_client(slack: SlackConfig) -> WebClient:
    base = slack.base_url if slack.base_url.endswith("/") else slack.base_url + "/"
    token = slack.bot_token.get_secret_value() if slack.bot_token else None
    return WebClient(
        token=token,
        base_url=base,
        timeout=slack.timeout_seconds,  # type: ignore[arg-type]  # urllib takes float seconds
        retry_handlers=[],
    )
