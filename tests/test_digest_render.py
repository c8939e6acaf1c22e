"""Formatting, escaping and the HTML/text templates of the digest."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from monitor.digest.charts import Chart
from monitor.digest.figures import DayCounts, Figures, PostRow, Responses, SpikeRow, WeekFigures
from monitor.digest.period import Week
from monitor.digest.render import (
    Metric,
    change_count,
    change_duration,
    change_share,
    clean_text,
    explain_spike,
    fmt_duration,
    fmt_share,
    metrics,
    render,
    safe_url,
)

WEEK = Week(2026, 47, "Europe/London")
CHART = Chart("volume", "Mentions per day", "Mon 16: 3 mentions", b"\x89PNG")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "n/a"),
        (0, "0 s"),
        (59.4, "59 s"),
        (59.6, "1 min"),
        (3569, "59 min"),
        (3570, "1 h 00 min"),
        (8100, "2 h 15 min"),
        (90000, "25 h 00 min"),
    ],
)
def test_fmt_duration(seconds: float | None, text: str) -> None:
    assert fmt_duration(seconds) == text


@pytest.mark.parametrize(
    ("this", "last", "text"),
    [
        (10, 10, "no change"),
        (12, 10, "+2 (+20.0%)"),
        (5, 10, "-5 (-50.0%)"),
        (3, 0, "+3 (none the week before)"),
        (0, 4, "-4 (-100.0%)"),
        (1500, 1000, "+500 (+50.0%)"),
    ],
)
def test_change_count(this: int, last: int, text: str) -> None:
    assert change_count(this, last) == text


@pytest.mark.parametrize(
    ("this", "last", "text"),
    [(0.25, 0.2, "+5.0 pp"), (0.1, 0.1, "no change"), (None, 0.1, "n/a"), (0.0, 0.5, "-50.0 pp")],
)
def test_change_share(this: float | None, last: float | None, text: str) -> None:
    assert change_share(this, last) == text


@pytest.mark.parametrize(
    ("this", "last", "text"),
    [
        (600, 1200, "-10 min"),
        (7200, 600, "+1 h 50 min"),
        (600, 600.2, "no change"),
        (600, 610, "-10 s"),
        (None, 5, "n/a"),
    ],
)
def test_change_duration(this: float | None, last: float | None, text: str) -> None:
    assert change_duration(this, last) == text


@pytest.mark.parametrize(("value", "text"), [(None, "n/a"), (0.0, "0.0%"), (1 / 3, "33.3%")])
def test_fmt_share(value: float | None, text: str) -> None:
    assert fmt_share(value) == text


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://x.com/a/status/1", True),
        ("http://reddit.com/r/x", True),
        ("javascript:alert(1)", False),
        ('https://x.com/"onmouseover=', False),
        ("", False),
    ],
)
def test_safe_url(url: str | None, kept: bool) -> None:
    assert (safe_url(url) == url) is kept


def test_clean_text_is_one_bounded_line() -> None:
    assert clean_text("a\nb\r\n\tc\x00d") == "a b c d"
    assert clean_text("x" * 300) == "x" * 279 + "…"


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        (
            {
                "observed": 42,
                "expected": 6.6,
                "phrases": [{"phrase": "no signal", "posts": 12}, {"phrase": "down", "posts": 9}],
                "categories": [{"category": "outage", "posts": 30}],
            },
            '42 mentions in the hour where about 7 were expected; top phrases: "no signal" (12), '
            '"down" (9); mostly Outage, can\'t log in (30)',
        ),
        (
            {"is_drop": True, "reasons": ["silent for 3 h where 40 posts were expected"]},
            "silent for 3 h where 40 posts were expected",
        ),
        (
            {"categories": {"staff": 2, "delivery": 5}},
            "mostly Delivery, lost or damaged item (5), Staff attitude or no help (2)",
        ),
        ({}, "no explanation recorded"),
    ],
)
def test_explain_spike(payload: dict[str, Any], text: str) -> None:
    assert explain_spike(payload) == text


def _figures(**this: Any) -> Figures:
    days = [DayCounts(d, mentions=2, complaints=1, negative=1, neutral=1) for d in WEEK.days]
    week = WeekFigures(
        days, {"outage": 7}, {"spike": 1, "complaint": 3}, Responses(3, 2, 1, 1800.0, 5400.0)
    )
    before = WeekFigures([DayCounts(d) for d in WEEK.previous().days], {}, {}, Responses())
    hostile = PostRow(
        "x",
        "1",
        "eve<img src=x>",
        "<script>alert('x')</script> & @channel",
        "javascript:alert(1)",
        datetime(2026, 11, 17, 10, tzinfo=UTC),
        "outage",
        -0.8,
        90.0,
        5,
        4,
        3,
        2,
    )
    return Figures(
        "Kestrel & <Co>",
        WEEK,
        60.0,
        week,
        before,
        top_posts=[hostile],
        examples={"outage": [hostile]},
        spikes=[
            SpikeRow(
                datetime(2026, 11, 18, 9, tzinfo=UTC), "mentions", {"phrases": ["<b>bold</b>"]}
            )
        ],
        **this,
    )


class _Html(HTMLParser):
    """Collects tags, attributes and the text of each outermost <div> (a row of figures)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: list[str] = []
        self._depth = 0
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "div":
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self._depth -= 1
            if self._depth == 0:
                self.blocks.append(" ".join(self._text))
                self._text = []

    def handle_data(self, data: str) -> None:
        if self._depth and data.strip():
            self._text.append(" ".join(data.split()))


def assert_metric_shown(html: str, metric: Metric) -> None:
    """The figure's row reads: name, (note), this week, change, week before."""
    row = next(b for b in parse_html(html).blocks if b.startswith(metric.name + " "))
    assert row.endswith(
        f"This week {metric.value} Change {metric.change} Week before {metric.previous}"
    ), row


def parse_html(html: str) -> _Html:
    parser = _Html()
    parser.feed(html)
    return parser


def test_html_escapes_untrusted_text_and_drops_unsafe_links() -> None:
    html = render(_figures(), [CHART], image_src=lambda c: f"cid:{c.cid}@t").html
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; @channel" in html
    assert "eve&lt;img src=x&gt;" in html
    assert "<b>bold" not in html
    assert "Kestrel &amp; &lt;Co&gt;" in html
    parsed = parse_html(html)
    hrefs = [a.get("href") for tag, a in parsed.tags if tag == "a"]
    assert hrefs == []
    assert [a["src"] for tag, a in parsed.tags if tag == "img"] == ["cid:volume@t"]
    assert not [t for t, _ in parsed.tags if t in ("script", "style", "link", "iframe")]


def test_html_and_text_show_the_same_figures() -> None:
    figures = _figures()
    rendered = render(figures, [CHART], image_src=lambda c: "cid:x")
    for m in metrics(figures):
        assert_metric_shown(rendered.html, m)
        assert f"- {m.name}: {m.value} | {m.change} | {m.previous}" in rendered.text
    assert "Median time to first reply: 30 min | n/a | n/a" in rendered.text
    assert "Complaints answered within 60 minutes: 14.3% |" in rendered.text  # 1 of 7
    assert rendered.subject == (  # the headline change: the week before had none
        "Kestrel & <Co> weekly social digest, 2026-W47: mentions 14 (none the week before)"
    )


def test_text_part_is_plain_and_keeps_post_text_on_one_line() -> None:
    text = render(_figures(), [CHART], image_src=lambda c: "cid:x").text
    assert "<script>alert('x')</script> & @channel" in text
    assert "javascript:" not in text
    assert not re.search(r"&(lt|gt|amp);", text)


def test_empty_week_renders_without_numbers_it_does_not_have() -> None:
    empty = WeekFigures([DayCounts(d) for d in WEEK.days], {}, {}, Responses())
    figures = Figures("Kestrel", WEEK, 60.0, empty, empty)
    rendered = render(figures, [], image_src=lambda c: "")
    assert "- Mentions: 0 | no change | 0" in rendered.text
    assert "- Negative mentions: n/a | n/a | n/a" in rendered.text
    assert "No mentions this week." in rendered.text
    assert "No spikes this week." in rendered.html
