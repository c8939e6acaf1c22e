"""Untrusted text into Slack mrkdwn: escaping, clean cuts, and only our own links and pings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.slack import text as t


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel> wake up", "&lt;!channel&gt; wake up"),
        ("<!here|here>", "&lt;!here|here&gt;"),
        ("<@U024BE7LH> look", "&lt;@U024BE7LH&gt; look"),
        ("<!subteam^S0123|@support>", "&lt;!subteam^S0123|@support&gt;"),
        ("<https://evil.example|your refund>", "&lt;https://evil.example|your refund&gt;"),
        ("fish &amp; chips", "fish &amp;amp; chips"),
        ("a > b & c < d", "a &gt; b &amp; c &lt; d"),
        ("plain @channel text", "plain @channel text"),
    ],
)
def test_escape_neutralises_slack_control_characters(raw: str, escaped: str) -> None:
    assert t.escape(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("the quick brown fox jumps", 20, "the quick brown fox…"),
        ("a" * 30, 10, "a" * 9 + "…"),
        ("café" + "\u0301" + " ok", 5, "caf…"),  # é keeps its accent
        ("family 👨\u200d👩\u200d👧 here", 11, "family…"),
    ],
)
def test_clip_cuts_at_words_and_never_inside_a_character(
    raw: str, limit: int, expected: str
) -> None:
    clipped = t.clip(raw, limit)
    assert clipped == expected
    assert len(clipped) <= limit


@pytest.mark.parametrize("limit", [5, 6, 7, 8, 9, 10, 11, 12])
def test_clip_escaped_fits_after_escaping_and_never_splits_an_entity(limit: int) -> None:
    out = t.clip_escaped("<<<<&&&& more", limit)
    assert len(out) <= limit
    body = out.removesuffix("…")
    assert body.count("&") == body.count(";")


@pytest.mark.parametrize(
    ("markup", "limit", "expected"),
    [
        ("see <https://x.example/a|the post> now", 20, "see…"),
        ("fish &amp; chips and more", 9, "fish…"),
    ],
)
def test_clip_markup_drops_half_links_and_entities(markup: str, limit: int, expected: str) -> None:
    assert t.clip_markup(markup, limit) == expected


def test_quote_marks_every_line_and_stays_within_the_limit() -> None:
    quoted = t.quote("line one\n<!here> line two\n" + "x " * 100, 60)
    assert all(line.startswith(">") for line in quoted.split("\n"))
    assert "<!here>" not in quoted
    assert len(quoted) <= 60


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/a/status/1", "<https://x.com/a/status/1|Open post>"),
        ("https://x.com/?a=1&b=2", "<https://x.com/?a=1&amp;b=2|Open post>"),
        ("javascript:alert(1)", "Open post"),
        ("https://x.com/a|<!channel>", "Open post"),
        ("https://x.com/a>b", "Open post"),
        ("//no-scheme.example", "Open post"),
        (None, "Open post"),
    ],
)
def test_link_only_for_plain_http_urls(url: str | None, expected: str) -> None:
    assert t.link(url, "Open post") == expected


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        ("U0AGENT", "<@U0AGENT>"),
        ("W0ENTERPRISE", "<@W0ENTERPRISE>"),
        ("<!channel>", "&lt;!channel&gt;"),
        (None, "someone"),
    ],
)
def test_user_mentions_only_real_ids(user_id: str | None, expected: str) -> None:
    assert t.user(user_id, fallback=user_id or "someone") == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [("here", "<!here>"), ("channel", "<!channel>"), ("S0SUPPORT", "<!subteam^S0SUPPORT>")],
)
def test_ping_targets(target: str, expected: str) -> None:
    assert t.ping(target) == expected


def test_ping_rejects_anything_else() -> None:
    with pytest.raises(ValueError, match="not an escalation target"):
        t.ping("everyone>")


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (None, "?"),
        (0, "0"),
        (999, "999"),
        (1000, "1k"),
        (12_345, "12.3k"),
        (2_100_000, "2.1M"),
        (3_000_000_000, "3B"),
    ],
)
def test_compact_numbers(number: int | None, shown: str) -> None:
    assert t.compact(number) == shown


def test_when_renders_in_the_readers_zone_with_a_utc_fallback() -> None:
    at = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
    assert t.when(at) == (
        f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|2026-11-16 12:00 UTC>"
    )
