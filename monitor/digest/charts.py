"""The digest's three charts as PNG bytes, drawn with matplotlib's Agg backend.

Figures are built with `matplotlib.figure.Figure` directly, never pyplot: pyplot keeps global
state that is not safe in the daemon's scheduler threads, and Agg needs no display. The PNGs
travel inside the mail (Content-ID) or the preview (data URIs), so nothing is fetched from
the network when the mail is opened.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from monitor.digest.figures import Figures
from rules.categories import category_label

# 600 px wide, drawn at the width the mail shows it on a desktop. On a 390 px phone it is
# shown about 344 px wide, so 10 pt (20.8 px in the PNG) is still 11.9 px on screen: every
# text in a chart is FONT_PT, and tests/test_digest_browser.py checks the shown size.
WIDTH_IN, HEIGHT_IN, DPI = 4.0, 3.0, 150
FONT_PT = 10
FONT_PX = FONT_PT * DPI / 72
BLUE, RED, GREEN, GREY, LIGHT = "#2563eb", "#dc2626", "#16a34a", "#9ca3af", "#cbd5e1"


@dataclass(frozen=True, slots=True)
class Chart:
    """A PNG with the Content-ID it is referenced by and a text alternative."""

    cid: str
    title: str
    alt: str
    png: bytes


def _new() -> tuple[Figure, Axes]:
    """An empty chart; its title is HTML text above the image (readable with images off)."""
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=FONT_PT)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure, axes


def _legend(axes: Axes) -> None:
    """Above the plot, where it can never hide a bar, and across the whole figure's width."""
    axes.figure.legend(fontsize=FONT_PT, frameon=False, ncols=2, loc="outside upper left")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _day_labels(figures: Figures) -> list[str]:
    return [f"{d:%a} {d.day}" for d in figures.week.days]


def _ticks(labels: list[str]) -> list[str]:
    """Day and date on two lines, so seven of them fit a phone-sized chart."""
    return [label.replace(" ", "\n") for label in labels]


def volume_chart(figures: Figures) -> Chart:
    """Mentions and complaints per local day, with last week's mentions for comparison."""
    this, last = figures.this.days, figures.last.days
    labels = _day_labels(figures)
    figure, axes = _new()
    x = range(len(labels))
    axes.bar([i - 0.2 for i in x], [d.mentions for d in this], 0.4, color=BLUE, label="Mentions")
    axes.bar([i + 0.2 for i in x], [d.complaints for d in this], 0.4, color=RED, label="Complaints")
    axes.plot(
        list(x),
        [d.mentions for d in last],
        color=GREY,
        linestyle="--",
        marker=".",
        label="Mentions, week before",
    )
    axes.set_xticks(list(x), _ticks(labels))
    _legend(axes)
    alt = "; ".join(
        f"{label}: {d.mentions} mentions, {d.complaints} complaints"
        for label, d in zip(labels, this, strict=True)
    )
    return Chart("volume", "Mentions and complaints per day", alt, _png(figure))


def sentiment_chart(figures: Figures) -> Chart:
    """Positive, neutral and negative mentions per local day, stacked."""
    days = figures.this.days
    labels = _day_labels(figures)
    figure, axes = _new()
    x = list(range(len(labels)))
    negative = [d.negative for d in days]
    neutral = [d.neutral for d in days]
    positive = [d.positive for d in days]
    axes.bar(x, negative, color=RED, label="Negative")
    axes.bar(x, neutral, bottom=negative, color=LIGHT, label="Neutral")
    axes.bar(
        x,
        positive,
        bottom=[a + b for a, b in zip(negative, neutral, strict=True)],
        color=GREEN,
        label="Positive",
    )
    axes.set_xticks(x, _ticks(labels))
    _legend(axes)
    alt = "; ".join(
        f"{label}: {d.positive} positive, {d.neutral} neutral, {d.negative} negative"
        for label, d in zip(labels, days, strict=True)
    )
    return Chart("sentiment", "Sentiment mix per day", alt, _png(figure))


def categories_chart(figures: Figures) -> Chart:
    """Complaints per category, this week against the week before."""
    this, last = figures.this.categories, figures.last.categories
    named = (set(this) | set(last)) - {"other"}  # "named no problem" is not a category
    keys = sorted(named, key=lambda k: (-this.get(k, 0), -last.get(k, 0), k))
    figure, axes = _new()
    if not keys:
        axes.text(
            0.5,
            0.5,
            "No categorised complaints in either week",
            ha="center",
            fontsize=FONT_PT,
            va="center",
            transform=axes.transAxes,
            color=GREY,
        )
        axes.set_axis_off()
    else:
        y = list(range(len(keys)))
        axes.barh(
            [i - 0.2 for i in y], [this.get(k, 0) for k in keys], 0.4, color=RED, label="This week"
        )
        axes.barh(
            [i + 0.2 for i in y],
            [last.get(k, 0) for k in keys],
            0.4,
            color=GREY,
            label="Week before",
        )
        axes.set_yticks(y, [textwrap.fill(category_label(k), 16) for k in keys])
        axes.invert_yaxis()
        _legend(axes)
    alt = (
        "; ".join(
            f"{category_label(k)}: {this.get(k, 0)} (week before {last.get(k, 0)})" for k in keys
        )
        or "No categorised complaints in either week"
    )
    title = "Complaint categories, this week and the week before"
    return Chart("categories", title, alt, _png(figure))


def draw_all(figures: Figures) -> list[Chart]:
    return [volume_chart(figures), sentiment_chart(figures), categories_chart(figures)]
