"""The default alert sink: prints alerts to a terminal, as the support team would read them.

Used when Slack is not configured and by `brandmon demo`. Post text has already had control
characters removed by the pipeline, so a post cannot drive the terminal.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable
from typing import Any, TextIO

from monitor.alerts import AlertView, Delivery
from storage.models import Author, Mention

QUOTE_LIMIT = 600
SAMPLE_LIMIT = 160


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _wrap(label: str, text: str, width: int) -> list[str]:
    return textwrap.wrap(label + text, width, subsequent_indent=" " * len(label)) or [label]


def _post(mention: Mention, author: Author | None, width: int) -> list[str]:
    reach = f" ({author.followers:,} followers)" if author and author.followers else ""
    who = f"@{author.handle}{reach}" if author else "unknown author"
    lines = [f"{who} on {mention.network} · {mention.created_at:%Y-%m-%d %H:%M} UTC"]
    if mention.url:
        lines.append(mention.url)
    quoted = textwrap.wrap(
        _clip(mention.text, QUOTE_LIMIT), width - 4, initial_indent="  │ ", subsequent_indent="  │ "
    )
    return lines + (quoted or ["  │"])


def _complaint(view: AlertView, width: int) -> list[str]:
    mention = view.mention
    if mention is None:
        return []
    lines = _post(mention, view.author, width)
    facts = [
        f"sentiment {mention.sentiment:+.2f}" if mention.sentiment is not None else "",
        f"category {mention.category}" if mention.category else "",
        f"risk {mention.risk:.0f}/100" if mention.risk is not None else "",
    ]
    lines.append(" · ".join(f for f in facts if f))
    if mention.reasons:
        lines += _wrap("Why: ", "; ".join(str(r) for r in mention.reasons), width)
    if mention.reply:
        lines += _wrap("Suggested reply: ", mention.reply, width)
    return lines


def _update(view: AlertView, width: int) -> list[str]:
    payload, mention = view.alert.payload or {}, view.mention
    head = f"risk {payload.get('score', 0):.0f}/100"
    if payload.get("escalate"):
        head += " · ESCALATION: needs a senior look now"
    lines = [head]
    if mention is not None:
        lines.append(
            f"now {mention.likes:,} likes, {mention.reposts:,} reposts, "
            f"{mention.replies:,} replies, {mention.quotes:,} quotes"
        )
        lines += _wrap("Post: ", _clip(mention.text, SAMPLE_LIMIT), width)
    lines += _wrap("Why: ", "; ".join(payload.get("reasons", [])), width)
    return lines


def _spike(view: AlertView, width: int) -> list[str]:
    p: dict[str, Any] = view.alert.payload or {}
    lines = _wrap("", "; ".join(p.get("reasons", [])), width)
    phrases = ", ".join(f"'{x['phrase']}' ({x['posts']})" for x in p.get("phrases", []))
    categories = ", ".join(f"{x['category']} ({x['posts']})" for x in p.get("categories", []))
    if phrases:
        lines += _wrap("Top phrases: ", phrases, width)
    if categories:
        lines += _wrap("Categories: ", categories, width)
    for sample in p.get("samples", []):
        lines += _wrap("  • ", _clip(sample, SAMPLE_LIMIT), width)
    return lines


def _operations(view: AlertView, width: int) -> list[str]:
    p: dict[str, Any] = view.alert.payload or {}
    return _wrap(
        f"source {p.get('source')}: ", f"{p.get('problem')} — check {p.get('check')}", width
    )


BODIES: dict[str, Callable[[AlertView, int], list[str]]] = {
    "complaint": _complaint,
    "update": _update,
    "spike": _spike,
    "operations": _operations,
}


def render_alert(view: AlertView, *, width: int = 88) -> str:
    """Plain-text rendering of one alert."""
    alert = view.alert
    kind = alert.kind.upper()
    if alert.kind == "spike":
        kind += f" ({(alert.payload or {}).get('metric', '')})"
    title = f" {kind} · {alert.brand or 'brandmon'} "
    body = BODIES.get(alert.kind, _complaint)(view, width)
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
