"""Digest settings: validated at load, the SMTP password required only when it is used."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.config import ConfigError, parse_config


def _config(digest: dict[str, Any]) -> dict[str, Any]:
    return {
        "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
        "sources": {"demo": {"type": "replay", "path": "feed.jsonl"}},
        "digest": digest,
    }


@pytest.mark.parametrize(
    ("digest", "key", "reason"),
    [
        ({"enabled": True}, "digest", "needs at least one recipient"),
        (
            {"enabled": True, "recipients": ["m@example.com"], "smtp": {"username": "u"}},
            "digest.smtp.password",
            "is required",
        ),
        (
            {
                "enabled": True,
                "recipients": ["m@example.com"],
                "smtp": {"username": "u", "password": "${BRANDMON_TEST_UNSET_PASSWORD}"},
            },
            "digest.smtp.password",
            "BRANDMON_TEST_UNSET_PASSWORD is not set",
        ),
        ({"day_of_week": "monday"}, "digest.day_of_week", "Input should be"),
        ({"smtp": {"security": "tls"}}, "digest.smtp.security", "Input should be"),
        ({"smpt": {}}, "digest.smpt", "unknown key"),
        ({"recipients": ["marketing.example.com"]}, "digest.recipients", "not an email"),
        ({"recipients": ["a@example.com, b@example.com"]}, "digest.recipients", "not an email"),
    ],
)
def test_bad_digest_settings(digest: dict[str, Any], key: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as error:
        parse_config(_config(digest))
    assert error.value.key == key


def test_password_from_the_environment_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRANDMON_TEST_SMTP_SECRET", "hunter2")
    config = parse_config(
        _config(
            {
                "enabled": True,
                "recipients": ["m@example.com"],
                "smtp": {"username": "u", "password": "${BRANDMON_TEST_SMTP_SECRET}"},
            }
        )
    )
    password = config.digest.smtp.password
    assert password is not None
    assert password.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(config)


def test_disabled_digest_needs_nothing() -> None:
    config = parse_config(_config({"smtp": {"username": "u"}}))
    assert not config.digest.enabled
    assert (config.digest.day_of_week, config.digest.hour, config.digest.minute) == ("mon", 9, 0)
