"""Make untrusted post text safe to store and judge: valid Unicode (a lone surrogate, which
no database can store, becomes U+FFFD), one form of it, no control characters, a bounded
length; the same for the post's other strings. A post missing what brandmon needs is
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


# UTF-16 halves: valid only in pairs, and then only in text decoded as UTF-16 by mistake.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def valid_unicode(text: str) -> str:
    """`text` with surrogate pairs joined into the character they encode and lone
    surrogates replaced by U+FFFD, so it can be encoded as UTF-8 (and so stored)."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_field(value: str | None) -> str | None:
    """An id, handle, name or URL made storable: valid Unicode, no control characters."""
    if value is None:
        return None
    return _CONTROL.sub("", valid_unicode(value))


class RejectedPostError(ValueError):
    """A post that cannot be used; the message says why."""


def clean_text(text: str, *, unescape_html: bool = False) -> str:
    """Normalised text; `unescape_html` for exported API text (`&amp;`), which connectors
    already decode for the daemon."""
    if unescape_html and "&" in text:
        text = html.unescape(text)
    if not text.isascii():
        text = valid_unicode(text)
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
    post = _clean_fields(post)
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


def _clean_fields(post: Post) -> Post:
    """The post with its ids, author and links made storable (usually: itself)."""
    author = post.author
    fields = (
        post.network,
        post.native_id,
        post.url,
        post.lang,
        post.in_reply_to,
        post.conversation_id,
        author.native_id,
        author.handle,
        author.name,
    )
    cleaned = tuple(clean_field(f) for f in fields)
    if cleaned == fields:
        return post
    network, native_id, url, lang, in_reply_to, conversation_id, a_id, handle, name = cleaned
    return dataclasses.replace(
        post,
        network=network or "",
        native_id=native_id or "",
        url=url,
        lang=lang,
        in_reply_to=in_reply_to,
        conversation_id=conversation_id,
        author=dataclasses.replace(author, native_id=a_id or "", handle=handle or "", name=name),
    )
