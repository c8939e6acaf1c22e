"""Make untrusted post text safe to store and judge: one form of Unicode, no control
characters, a bounded length. A post missing what brandmon needs is
rejected with a reason rather than crashing the batch.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import re
import unicodedata

from core.records import Post

log = logging.getLogger(__name__)

MAX_TEXT = 4000
ELLIPSIS = "…"
# C0/C1 controls except tab/newline, and invisible format characters used to dodge matching.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
)


class RejectedPostError(ValueError):
    """A post that cannot be used; the message says why."""


def clean_text(text: str, *, unescape_html: bool = False) -> str:
    """Normalised text; `unescape_html` for exported API text (`&amp;`), which connectors
    already decode for the daemon."""
    if unescape_html and "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
        text = _INVISIBLE.sub("", text)
    elif _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    text = text.strip()
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1].rstrip() + ELLIPSIS
    return text


def normalise(post: Post) -> Post:
    """The same post with clean text; raises `RejectedPostError` when it cannot be used."""
    if not post.native_id:
        raise RejectedPostError("post has no id")
    if post.created_at.tzinfo is None:
        raise RejectedPostError(f"post {post.native_id}: created_at has no time zone")
    text = clean_text(post.text or "")
    if not text:
        raise RejectedPostError(f"post {post.native_id}: empty text")
    if text.endswith(ELLIPSIS) and len(post.text) > MAX_TEXT:
        log.info(
            "post %s: text of %d characters cut to %d", post.native_id, len(post.text), MAX_TEXT
        )
    if text == post.text:
        return post
    return dataclasses.replace(post, text=text)
