"""The default alert sink: prints alerts to a terminal, as the support team would read them.

Used when Slack is not configured and by `brandmon demo`. It renders the typed card the
dispatcher decided (monitor/alert_model.py) and decides nothing itself. Post text has already
had control characters removed by the pipeline, so a post cannot drive the terminal.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import TextIO

from monitor.alert_model import AlertCard, Route
from monitor.alerts import AlertView, Delivery
from storage.models import Author, Mention

QUOTE_LIMIT = 600
SAMPLE_LIMIT = 160
ROUTE_NOTES = {
    Route.ESCALATION: "ESCALATE: send to the escalation team now",
    Route.SECURITY: "SECURITY: tell the brand's security contact",
}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _wrap(label: str, text: str, width: int) -> list[str]:
    return textwrap.wrap(label + text, width, subsequent_indent=" " * len(label)) or [label]


def _post(mention: Mention, author: Author | None, width: int) -> list[str]:
    who = "unknown author"
    if author is not None:
        details = [f"{author.followers:,} followers"] if author.followers else []
        details += ["verified"] if author.verified else []
        who = f"@{author.handle}" + (f" ({', '.join(details)})" if details else "")
    lines = [f"{who} on {mention.network} · {mention.created_at:%Y-%m-%d %H:%M} UTC"]
    if mention.url:
        lines.append(mention.url)
    quoted = textwrap.wrap(
        _clip(mention.text, QUOTE_LIMIT), width - 4, initial_indent="  │ ", subsequent_indent="  │ "
    )
    return lines + (quoted or ["  │"])


def _mention_body(view: AlertView, card: AlertCard, width: int) -> list[str]:
    mention = view.mention
    if mention is None:
        return []
    lines = [f"{card.priority.label} · {card.title}"]
    if card.route in ROUTE_NOTES:
        lines.append(ROUTE_NOTES[card.route])
    if card.answered is not None:
        lines.append(f"✔ {card.answered}")
    if card.update is not None:
        e = card.update.engagement
        lines.append(
            f"now {e.get('likes', mention.likes):,} likes, {e.get('reposts', mention.reposts):,} "
            f"reposts, {e.get('replies', mention.replies):,} replies, "
            f"{e.get('quotes', mention.quotes):,} quotes"
        )
        lines += _wrap("Post: ", _clip(mention.text, SAMPLE_LIMIT), width)
    else:
        lines += _post(mention, view.author, width)
        facts = [
            f"sentiment {mention.sentiment:+.2f}" if mention.sentiment is not None else "",
            f"category {mention.category}" if mention.category else "",
            f"risk {card.risk:.0f}/100" if card.risk is not None else "",
        ]
        lines.append(" · ".join(f for f in facts if f))
    if card.why:
        lines += _wrap("Why: ", "; ".join(card.why), width)
    if mention.reply and card.reply_label and card.update is None:
        lines += _wrap(f"{card.reply_label}: ", mention.reply, width)
    return lines


def _spike_body(card: AlertCard, width: int) -> list[str]:
    spike = card.spike
    assert spike is not None
    lines = _wrap("", "; ".join(spike.reasons), width)
    phrases = ", ".join(f"'{p}' ({n})" for p, n in spike.phrases)
    categories = ", ".join(f"{c} ({n})" for c, n in spike.categories)
    if phrases:
        lines += _wrap("Top phrases: ", phrases, width)
    if categories:
        lines += _wrap("Categories: ", categories, width)
    for sample in spike.samples:
        who = f"@{sample.handle}: " if sample.handle else ""
        lines += _wrap("  • ", who + _clip(sample.text, SAMPLE_LIMIT), width)
    return lines


def render_alert(view: AlertView, *, width: int = 88) -> str:
    """Plain-text rendering of one alert."""
    card = view.decided()
    if card.spike is not None:
        body = _spike_body(card, width)
    elif card.operations is not None:
        ops = card.operations
        body = _wrap(f"source {ops.source}: ", f"{ops.problem} — check {ops.check}", width)
    else:
        body = _mention_body(view, card, width)
    kind = card.kind.upper() + (f" ({card.spike.metric})" if card.spike else "")
    title = f" {kind} · {card.brand or 'brandmon'} "
    return "\n".join([f"━━{title}".ljust(width, "━"), *body])


class ConsoleSink:
    name = "console"

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._width = min(100, shutil.get_terminal_size((88, 20)).columns)

    def send(self, view: AlertView) -> Delivery:
        self._out.write(render_alert(view, width=self._width) + "\n\n")
        self._out.flush()
        return Delivery(channel="console")
