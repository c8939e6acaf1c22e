"""Slack settings: channel IDs, escalation targets, quiet hours, tokens from the environment."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest

from monitor.config import ConfigError, parse_config, redacted

BASE: dict[str, Any] = {
    "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
    "sources": {"feed": {"type": "replay", "path": "feed.jsonl"}},
}


def _parse(slack: dict[str, Any], **alerting: Any) -> Any:
    return parse_config(
        {
            **BASE,
            "alerting": {"sink": "slack", "slack": {"bot_token": "xoxb-1", **slack}, **alerting},
        }
    )


def test_full_slack_settings_parse() -> None:
    config = _parse(
        {
            "channel": "C0SUPPORT",
            "ops_channel": "G0OPS",
            "escalate_to": "S0SUPPORT",
            "app_token": "xapp-1",
            "rate_limit": {"max_messages": 5, "per_minutes": 15},
            "quiet_hours": {"start": "22:00", "end": "07:00", "policy": "escalations_only"},
        },
        replies={"allow_refund_mention": True, "templates": {"Kestrel": "kestrel.yaml"}},
    )
    slack = config.alerting.slack
    assert (slack.channel, slack.ops_channel, slack.escalate_to) == (
        "C0SUPPORT",
        "G0OPS",
        "S0SUPPORT",
    )
    assert (slack.rate_limit.max_messages, slack.rate_limit.per_minutes) == (5, 15)
    assert (slack.quiet_hours.start, slack.quiet_hours.end) == (time(22), time(7))
    assert config.alerting.replies.allow_refund_mention is True
    shown = redacted(config)["alerting"]["slack"]
    assert (shown["bot_token"], shown["app_token"]) == ("**********", "**********")


@pytest.mark.parametrize(
    ("slack", "key", "reason"),
    [
        ({}, "alerting", "alerting.slack.channel is required"),
        ({"channel": "#support"}, "alerting.slack.channel", "not a channel ID"),
        (
            {"channel": "C0S", "ops_channel": "ops"},
            "alerting.slack.ops_channel",
            "not a channel ID",
        ),
        (
            {"channel": "C0S", "escalate_to": "@support"},
            "alerting.slack.escalate_to",
            "user group ID",
        ),
        (
            {"channel": "C0S", "quiet_hours": {"start": "22:00", "end": "22:00"}},
            "alerting.slack.quiet_hours",
            "the same time",
        ),
        (
            {"channel": "C0S", "quiet_hours": {"start": "22:00", "end": "7", "policy": "mute"}},
            "alerting.slack.quiet_hours.end",
            "",
        ),
        (
            {"channel": "C0S", "rate_limit": {"max_messages": 0}},
            "alerting.slack.rate_limit.max_messages",
            "greater than or equal to 1",
        ),
        ({"channel": "C0S", "colour": "red"}, "alerting.slack.colour", "unknown key"),
    ],
)
def test_bad_slack_settings_name_the_key(slack: dict[str, Any], key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _parse(slack)
    assert caught.value.key == key
    assert reason in caught.value.reason


def test_tokens_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    config = parse_config(
        {
            **BASE,
            "alerting": {
                "sink": "slack",
                "slack": {
                    "bot_token": "${SLACK_BOT_TOKEN}",
                    "app_token": "${SLACK_APP_TOKEN}",
                    "channel": "C0SUPPORT",
                },
            },
        }
    )
    assert config.alerting.slack.bot_token.get_secret_value() == "xoxb-from-env"
    assert config.alerting.slack.app_token is None  # optional: buttons off, alerts still sent


def test_missing_bot_token_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError) as caught:
        parse_config(
            {
                **BASE,
                "alerting": {
                    "sink": "slack",
                    "slack": {"bot_token": "${SLACK_BOT_TOKEN}", "channel": "C0SUPPORT"},
                },
            }
        )
    assert caught.value.key == "alerting.slack.bot_token"
    assert "SLACK_BOT_TOKEN is not set" in caught.value.reason
