"""Untrusted text is cleaned and bounded; unusable posts are rejected with a reason."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from monitor.normalise import MAX_TEXT, RejectedPostError, clean_text, normalise
from tests.factories import make_post


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("AT&amp;T stays as typed", "AT&amp;T stays as typed"),
        ("Kes\u200btrel is down", "Kestrel is down"),
        ("e\u0301t\u00e9", "\u00e9t\u00e9"),
        ("bell\x07 and \x1b[31mred", "bell and [31mred"),
        ("  padded \n", "padded"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_exported_api_text_can_be_unescaped() -> None:
    assert clean_text("AT&amp;T &lt;3", unescape_html=True) == "AT&T <3"


def test_huge_text_is_truncated_cleanly_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    text = clean_text("word " * 5000)
    assert len(text) == MAX_TEXT
    assert text.endswith("…")
    with caplog.at_level("INFO", logger="monitor.normalise"):
        post = normalise(dataclasses.replace(make_post("9"), text="word " * 5000))
    assert len(post.text) == MAX_TEXT
    assert "post 9: text of 25000 characters cut to 4000" in caplog.text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"text": " \u200b "}, "empty text"),
        ({"native_id": ""}, "no id"),
        ({"created_at": datetime(2026, 11, 16, 9, 0)}, "no time zone"),
    ],
)
def test_unusable_posts_are_rejected(change: dict, reason: str) -> None:
    with pytest.raises(RejectedPostError, match=reason):
        normalise(dataclasses.replace(make_post("1"), **change))
