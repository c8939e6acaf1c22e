"""Figures to words: one view model, rendered to HTML and to plain text by Jinja2 templates.

Every number is formatted once, here, and both templates print the same strings, so the
HTML and the plain-text part cannot disagree. The HTML environment autoescapes: post text,
handles and spike phrases are untrusted and can never become markup; links are kept only when
they are http(s). Images are referenced through `image_src`, which gives `cid:` references
for the mail and data URIs for the preview file.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from monitor.digest.charts import Chart
from monitor.digest.figures import NEGATIVE, WITHIN_SECONDS, Figures, PostRow, SpikeRow
from rules.categories import category_label

TEMPLATES = Path(__file__).resolve().parent / "templates"
POST_CHARS = 280
EXAMPLE_CATEGORIES = 3
Better = Literal["up", "down", None]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    value: str
    previous: str
    change: str
    tone: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    html: str
    text: str


def fmt_count(value: int) -> str:
    return f"{value:,}"


def fmt_share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def fmt_duration(seconds: float | None) -> str:
    """'45 s', '12 min', '3 h 05 min'; 'n/a' when nothing was answered."""
    if seconds is None:
        return "n/a"
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _signed(diff: float, text: str) -> str:
    return f"+{text}" if diff > 0 else f"-{text}"


def change_count(this: int, last: int) -> str:
    diff = this - last
    if diff == 0:
        return "no change"
    if last == 0:
        return f"+{diff:,} (none the week before)"
    return f"{_signed(diff, f'{abs(diff):,}')} ({diff / last * 100:+.1f}%)"


def change_share(this: float | None, last: float | None) -> str:
    if this is None or last is None:
        return "n/a"
    diff = round((this - last) * 100, 1)
    return "no change" if diff == 0 else f"{diff:+.1f} pp"


def change_duration(this: float | None, last: float | None) -> str:
    if this is None or last is None:
        return "n/a"
    diff = this - last
    text = fmt_duration(abs(diff))
    return "no change" if text in ("0 s", "0 min") else _signed(diff, text)


def _tone(this: float | None, last: float | None, better: Better) -> str:
    if better is None or this is None or last is None or this == last:
        return "neutral"
    return "good" if (this > last) == (better == "up") else "bad"


def _count_metric(name: str, this: int, last: int, better: Better, note: str = "") -> Metric:
    return Metric(
        name,
        fmt_count(this),
        fmt_count(last),
        change_count(this, last),
        _tone(this, last, better),
        note,
    )


def metrics(figures: Figures) -> list[Metric]:
    this, last = figures.this, figures.last
    med = (this.responses.median_seconds, last.responses.median_seconds)
    p90 = (this.responses.p90_seconds, last.responses.p90_seconds)
    share = (this.within_hour_share, last.within_hour_share)
    negative = (this.negative_share, last.negative_share)
    left_out = (
        f"{this.not_complaints:,} flagged posts the team marked \u201cnot a complaint\u201d are "
        "left out"
        if this.not_complaints
        else "flagged posts, less any the team marked \u201cnot a complaint\u201d"
    )
    return [
        _count_metric(
            "Mentions", this.mentions, last.mentions, None, "posts about the brand by others"
        ),
        _count_metric("Complaints", this.complaints, last.complaints, "down", left_out),
        Metric(
            "Negative mentions",
            fmt_share(negative[0]),
            fmt_share(negative[1]),
            change_share(*negative),
            _tone(*negative, "down"),
            f"{this.negative:,} of {this.scored:,} scored mentions: sentiment {NEGATIVE} or lower",
        ),
        _count_metric(
            "Potential reach",
            this.reach,
            last.reach,
            "up",
            f"followers of the week's {this.authors:,} authors, added up",
        ),
        _count_metric(
            "Went viral",
            this.viral,
            last.viral,
            "down",
            f"posts that raised a viral-risk alert (risk {figures.risk_threshold:g} or more)",
        ),
        _count_metric("Spikes", this.spikes, last.spikes, "down"),
        Metric(
            "Median time to first reply",
            fmt_duration(med[0]),
            fmt_duration(med[1]),
            change_duration(*med),
            _tone(*med, "down"),
            f"{this.responses.answered:,} mentions answered",
        ),
        Metric(
            "90th percentile time to first reply",
            fmt_duration(p90[0]),
            fmt_duration(p90[1]),
            change_duration(*p90),
            _tone(*p90, "down"),
        ),
        Metric(
            f"Complaints answered within {WITHIN_SECONDS // 60} minutes",
            fmt_share(share[0]),
            fmt_share(share[1]),
            change_share(*share),
            _tone(*share, "up"),
            f"{this.responses.complaints_within_hour:,} of {this.complaints:,}",
        ),
    ]


_SPACE = re.compile(r"\s+")


def clean_text(text: str, limit: int = POST_CHARS) -> str:
    """One line of at most `limit` characters: no newlines or control characters."""
    flat = _SPACE.sub(" ", "".join(c if c.isprintable() else " " for c in text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"^https?://[^\s\"'<>]+$", url) else None


def _post(post: PostRow, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "text": clean_text(post.text),
        "url": safe_url(post.url),
        "who": f"@{clean_text(post.handle, 64)}" if post.handle else "someone",
        "network": post.network,
        "when": f"{post.created_at.astimezone(tz):%a %d %b %H:%M}",
        "spread": fmt_count(post.spread),
        "reposts": fmt_count(post.reposts),
        "quotes": fmt_count(post.quotes),
        "likes": fmt_count(post.likes),
        "replies": fmt_count(post.replies),
        "risk": "n/a" if post.risk is None else f"{post.risk:.0f}",
        "category": category_label(post.category) if post.category else "",
    }


def _named_counts(value: Any, name: str) -> list[tuple[str, Any]]:
    """[(name, count or None)] from {name: count}, [{name: .., "posts": n}] or [name]."""
    if isinstance(value, dict):
        return sorted(((str(k), v) for k, v in value.items()), key=lambda kv: -kv[1])
    if not isinstance(value, list):
        return []
    return [
        (str(item.get(name, "")), item.get("posts"))
        if isinstance(item, dict)
        else (str(item), None)
        for item in value
    ]


def explain_spike(payload: dict[str, Any], metric: str = "mentions") -> str:
    """A spike alert's payload as one sentence, counting what the spike measured (`metric`).

    Reads what rules/spike.py records: observed, expected, is_drop, reasons, phrases
    ([{"phrase", "posts"}]) and categories ([{"category", "posts"}]); missing keys are skipped.
    """
    parts = []
    observed, expected = payload.get("observed"), payload.get("expected")
    if payload.get("is_drop") and payload.get("reasons"):
        parts.append(str(payload["reasons"][-1]))
    elif observed is not None and expected is not None:
        parts.append(
            f"{float(observed):,.0f} {metric} in the hour where about "
            f"{float(expected):,.0f} were expected"
        )
    phrases = _named_counts(payload.get("phrases") or payload.get("top_phrases"), "phrase")
    if phrases:
        parts.append(
            "top phrases: "
            + ", ".join(
                f'"{clean_text(p, 60)}"' + (f" ({n})" if n is not None else "")
                for p, n in phrases[:5]
            )
        )
    categories = _named_counts(payload.get("categories"), "category")
    if categories:
        parts.append(
            "mostly "
            + ", ".join(
                category_label(c) + (f" ({n})" if n is not None else "") for c, n in categories[:3]
            )
        )
    return clean_text("; ".join(parts), 400) or "no explanation recorded"


def _categories(figures: Figures, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Named categories, largest first; complaints that name no problem are not a category."""
    this, last = figures.this.categories, figures.last.categories
    keys = sorted(
        (set(this) | set(last)) - {"other"},
        key=lambda k: (-this.get(k, 0), -last.get(k, 0), k),
    )
    rows = []
    for rank, key in enumerate(keys):
        examples = figures.examples.get(key, []) if rank < EXAMPLE_CATEGORIES else []
        rows.append(
            {
                "label": category_label(key),
                "this": fmt_count(this.get(key, 0)),
                "last": fmt_count(last.get(key, 0)),
                "change": change_count(this.get(key, 0), last.get(key, 0)),
                "examples": [_post(p, tz) for p in examples],
            }
        )
    return rows


def headline(figures: Figures) -> str:
    """The week's biggest relative change among complaints and mentions, e.g. 'complaints +93%'."""
    this, last = figures.this, figures.last
    changes = [
        (name, now, before)
        for name, now, before in (
            ("complaints", this.complaints, last.complaints),
            ("mentions", this.mentions, last.mentions),
        )
        if now or before
    ]
    if not changes:
        return "no mentions"
    name, now, before = max(changes, key=lambda c: abs(c[1] - c[2]) / max(c[2], 1))
    if before == 0:
        return f"{name} {now:,} (none the week before)"
    if now == before:
        return f"{name} unchanged at {now:,}"
    return f"{name} {(now - before) / before * 100:+.0f}% ({before:,} to {now:,})"


def subject(figures: Figures) -> str:
    return (
        f"{clean_text(figures.brand, 80)} weekly social digest, {figures.week.label}: "
        f"{headline(figures)}"
    )


def _spike(spike: SpikeRow, tz: ZoneInfo) -> dict[str, str]:
    local = spike.hour.astimezone(tz)
    return {
        "when": f"{local:%a %d %b %H:%M}",
        "metric": spike.metric,
        "explanation": explain_spike(spike.payload, spike.metric),
    }


def _voices(figures: Figures) -> list[dict[str, Any]]:
    """Share of voice and net sentiment per brand, this week against the week before."""
    totals = [sum(getattr(v, week).mentions for v in figures.voices) for week in ("this", "last")]
    rows = []
    for v in figures.voices:
        share = [
            getattr(v, week).mentions / total if total else None
            for week, total in zip(("this", "last"), totals, strict=True)
        ]
        net = (v.this.net_sentiment, v.last.net_sentiment)
        rows.append(
            {
                "brand": clean_text(v.brand, 80),
                "competitor": v.competitor,
                "mentions": fmt_count(v.this.mentions),
                "share": fmt_share(share[0]),
                "share_change": change_share(*share),
                "net": "n/a" if net[0] is None else f"{net[0] * 100:+.0f}",
                "net_change": change_share(*net).replace(" pp", " points"),
            }
        )
    return rows


def _split(counts: dict[str, int], total: int) -> list[dict[str, str]]:
    return [
        {"name": clean_text(name, 40), "count": fmt_count(n), "share": fmt_share(n / total)}
        for name, n in list(counts.items())[:8]
    ]


def _support(figures: Figures) -> dict[str, Any]:
    done = figures.this.support
    return {
        "acknowledged": fmt_count(done.get("acknowledged", 0)),
        "resolved": fmt_count(done.get("resolved", 0)),
        "not_complaint": fmt_count(done.get("not_complaint", 0)),
        "networks": [
            {
                "network": r.network,
                "answered": fmt_count(r.answered),
                "median": fmt_duration(r.median_seconds),
            }
            for r in figures.replies_by_network
        ],
    }


def context(
    figures: Figures, charts: list[Chart], image_src: Callable[[Chart], str]
) -> dict[str, Any]:
    tz = ZoneInfo(figures.week.tz)
    this = figures.this
    uncategorised = this.categories.get("other", 0)
    return {
        "brand": figures.brand,
        "period": figures.week.describe(),
        "headline": headline(figures),
        "metrics": metrics(figures),
        "charts": [{"src": image_src(c), "alt": c.alt, "title": c.title} for c in charts],
        "categories": _categories(figures, tz),
        "uncategorised": fmt_count(uncategorised) if uncategorised else "",
        "voices": _voices(figures),
        "top_posts": [_post(p, tz) for p in figures.top_posts],
        "viral": [
            _post(v.post, tz) | {"peak": f"{v.peak_risk:.0f}", "escalated": v.escalated}
            for v in figures.viral_posts
        ],
        "praise": [_post(p, tz) for p in figures.praise],
        "authors": [
            {
                "who": f"@{clean_text(a.handle, 64)}",
                "network": a.network,
                "followers": fmt_count(a.followers),
                "mentions": fmt_count(a.mentions),
            }
            for a in figures.top_authors
        ],
        "networks": _split(this.networks, this.mentions),
        "languages": _split(this.languages, this.mentions),
        "trending": [
            {
                "term": clean_text(t.term, 40),
                "share": fmt_share(t.share),
                "previous": fmt_share(t.previous_share),
                "posts": fmt_count(t.posts),
                "sampled": fmt_count(t.sampled),
            }
            for t in figures.trending
        ],
        "support": _support(figures),
        "spikes": [_spike(s, tz) for s in figures.spikes],
        "negative": NEGATIVE,
    }


_HTML = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
_TEXT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=False,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(figures: Figures, charts: list[Chart], *, image_src: Callable[[Chart], str]) -> Rendered:
    values = context(figures, charts, image_src)
    return Rendered(
        subject=subject(figures),
        html=_HTML.get_template("digest.html.j2").render(values),
        text=_TEXT.get_template("digest.txt.j2").render(values),
    )


def data_uri(chart: Chart) -> str:
    """The chart inline, for a preview file that opens in any browser without a server."""
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")
