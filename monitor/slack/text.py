"""Untrusted text into Slack mrkdwn: escaped, cut cleanly, links and mentions only ours.

Slack turns `<...>` into links, user mentions and `<!channel>` pings, and decodes `&amp;`
`&lt;` `&gt;`. Escaping those three characters in every piece of post text (and handle, name,
reason) is what keeps a post from pinging the channel or planting a link; the only `<...>`
left in a message are the ones built here from values we checked.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from urllib.parse import urlsplit

ELLIPSIS = "…"
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
# Zero-width joiner and variation selectors glue emoji sequences: never cut right before one.
_GLUE = {"\u200d", "\ufe0e", "\ufe0f"}


def escape(text: str) -> str:
    """Slack's three control characters as entities; everything else is left as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut_point(text: str, limit: int) -> int:
    """An index <= limit that splits neither a word (when one ends close by) nor a character
    sequence (combining accents, emoji joined by ZWJ, skin tones)."""
    cut = limit
    while cut > 0 and (
        unicodedata.combining(text[cut])
        or text[cut] in _GLUE
        or text[cut - 1] == "\u200d"
        or 0x1F3FB <= ord(text[cut]) <= 0x1F3FF
    ):
        cut -= 1
    space = max(text.rfind(" ", 0, cut + 1), text.rfind("\n", 0, cut + 1))
    return space if space >= cut * 0.8 else cut


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in an ellipsis when it was cut."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    return text[: _cut_point(text, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def clip_escaped(text: str, limit: int) -> str:
    """Escaped text within `limit` characters *after* escaping, never cutting an entity."""
    budget = limit
    while budget > len(ELLIPSIS):
        out = escape(clip(text, budget))
        if len(out) <= limit:
            return out
        budget -= max(1, (len(out) - limit) // 4)
    return clip(text, budget) if len(escape(text)) > limit else escape(text)


def clip_markup(markup: str, limit: int) -> str:
    """Cut text we already escaped and formatted without leaving half an `&amp;` or `<link>`."""
    if len(markup) <= limit:
        return markup
    cut = clip(markup, limit)[: -len(ELLIPSIS)]
    for opener, closer in (("&", ";"), ("<", ">")):
        start = cut.rfind(opener)
        if start != -1 and closer not in cut[start:]:
            cut = cut[:start]
    return cut.rstrip() + ELLIPSIS


def quote(text: str, limit: int) -> str:
    """Post text as a mrkdwn block quote; the quote markers count against `limit`."""
    lines = clip_escaped(text, limit - 2 * (text.count("\n") + 1)).split("\n")
    return "\n".join(f">{line}" for line in lines)


def link(url: str | None, label: str) -> str:
    """`<url|label>` for a plain http(s) URL, else the escaped label alone (never a link
    whose target or text a post could shape)."""
    label = escape(label).replace("|", "¦")
    if not url or any(c in url for c in '<>| \n\t"') or len(url) > 1000:
        return label
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return label
    return f"<{url.replace('&', '&amp;')}|{label}>"


def user(user_id: str | None, fallback: str = "someone") -> str:
    """A mention of a Slack user ID Slack itself gave us; anything else as escaped text."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(fallback)


def ping(target: str) -> str:
    """The escalation ping: `<!here>`, `<!channel>` or a user group `<!subteam^S…>`."""
    if target in {"here", "channel"}:
        return f"<!{target}>"
    if _USERGROUP_ID.match(target):
        return f"<!subteam^{target}>"
    raise ValueError(f"not an escalation target: {target!r}")


def when(at: datetime) -> str:
    """A time every reader sees in their own zone, with a UTC fallback for old clients."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def compact(number: int | float | None) -> str:
    """12 -> "12", 12_345 -> "12.3k", 2_100_000 -> "2.1M"."""
    if number is None:
        return "?"
    value = float(number)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".rstrip("0").rstrip(".") + suffix
    return f"{int(value)}" if value == int(value) else f"{value:.1f}"
