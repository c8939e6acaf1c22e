"""The default alert sink: prints alerts to a terminal, as the support team would read them.

Used when Slack is not configured and by `brandmon demo`. Post text has already had control
characters removed by the pipeline, so a post cannot drive the terminal.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import TextIO

from monitor.alerts import AlertView, Delivery


def render_alert(view: AlertView, *, width: int = 88) -> str:
    """Plain-text rendering of one alert."""
    alert, mention, author = view.alert, view.mention, view.author
    title = f" {alert.kind.upper()} · {alert.brand or ''} "
    lines = [f"━━{title}".ljust(width, "━")]
    if mention is not None:
        reach = f" ({author.followers:,} followers)" if author and author.followers else ""
        who = f"@{author.handle}{reach}" if author else "unknown author"
        when = mention.created_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"{who} on {mention.network} · {when}")
        if mention.url:
            lines.append(mention.url)
        text = mention.text if len(mention.text) <= 600 else mention.text[:599] + "…"
        lines += textwrap.wrap(
            text, width - 4, initial_indent="  │ ", subsequent_indent="  │ "
        ) or ["  │"]
        facts = [f"sentiment {mention.sentiment:+.2f}" if mention.sentiment is not None else ""]
        facts.append(f"category {mention.category}" if mention.category else "")
        facts.append(f"risk {mention.risk:.0f}/100" if mention.risk is not None else "")
        lines.append(" · ".join(f for f in facts if f))
        if mention.reasons:
            lines += textwrap.wrap(
                "Why: " + "; ".join(str(r) for r in mention.reasons),
                width,
                subsequent_indent="     ",
            )
        if mention.reply:
            lines += textwrap.wrap(
                "Suggested reply: " + mention.reply, width, subsequent_indent="                 "
            )
    for key, value in (alert.payload or {}).items():
        lines.append(f"{key}: {value}")
    return "\n".join(lines)


class ConsoleSink:
    name = "console"

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._width = min(100, shutil.get_terminal_size((88, 20)).columns)

    def send(self, view: AlertView) -> Delivery:
        self._out.write(render_alert(view, width=self._width) + "\n\n")
        self._out.flush()
        return Delivery(channel="console")
