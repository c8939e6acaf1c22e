"""Suggested replies: a first reply a support agent can adapt, chosen per complaint category.

Templates follow what good complaint handling does: acknowledge, apologise, own it, and move
the conversation to a private channel with a concrete next step. They never promise outcomes
and never repeat the customer's words back (which may be abusive).
"""

from __future__ import annotations

import zlib

_TEMPLATES: dict[str | None, tuple[str, ...]] = {
    None: (
        "Hi {handle}, I'm sorry to hear this. Could you send us a DM with the details "
        "so we can look into it for you?",
        "Hi {handle}, thanks for flagging this, and sorry for the trouble. "
        "Please DM us and we'll take it from there.",
    ),
}


def suggest_reply(
    *, category: str | None, network: str, handle: str | None, text: str, seed: str
) -> str | None:
    """A reply for a flagged post; `seed` makes the choice stable per post but varied."""
    options = _TEMPLATES.get(category) or _TEMPLATES[None]
    choice = options[zlib.crc32(seed.encode()) % len(options)]
    who = f"@{handle.lstrip('@')}" if handle and network in {"x", "replay"} else "there"
    return choice.format(handle=who)
