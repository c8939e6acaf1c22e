"""Suggested replies: a first public answer a support agent can adapt and send in seconds.

Templates are data (rules/data/replies.yaml, overridable per brand) because the wording is a
brand's voice, not code. A reply follows what good complaint handling does: name the problem
in the customer's own terms, apologise, show empathy, take ownership and move the
conversation to a private channel with one concrete next step. What it must never do is
checked when the templates load, not hoped for: no promised outcomes (refunds only when the
config allows them), no placeholders beyond the known few (so a template cannot reach the
post's text or the internal reasons), and the post's words come back only through a
whitelisted topic word, so abuse is never echoed.

The pipeline calls this for every flagged post, so it is cheap: templates are parsed and
compiled once, and choosing is a few hashes and string joins. The choice is seeded by the
post id: stable for a post, varied across twenty similar complaints.
"""

from __future__ import annotations

import re
import string
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEFAULTS = Path(__file__).resolve().parent / "data" / "replies.yaml"
# Which placeholders each kind of line may use; nothing else reaches a template.
SENTENCE = frozenset({"name", "topic", "private", "detail"})
PROMISES = re.compile(
    r"refund|reimburs|compensat|voucher|\bcredit|replace|money back|\bfree\b|guarantee", re.I
)
_NAME = re.compile(r"[A-Za-z][A-Za-z'-]{1,19}")
_PARTS = ("acknowledge", "empathy", "ownership", "next_step")
ELLIPSIS = "…"


class ReplyTemplateError(ValueError):
    """Templates that break a rule; the message names the key, e.g. categories.x.next_step.1."""


@dataclass(frozen=True, slots=True)
class _Network:
    limit: int
    target: int
    address: str
    private: str


@dataclass(frozen=True, slots=True)
class _Topic:
    pattern: re.Pattern[str]
    say: str


@dataclass(frozen=True, slots=True)
class _Category:
    topic: str
    topics: tuple[_Topic, ...]
    acknowledge: tuple[str, ...]
    empathy: tuple[str, ...]
    ownership: tuple[str, ...]
    next_step: tuple[str, ...]
    detail: str
    refund_line: tuple[str, ...]


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists, strings) in `override` replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check(
    key: str, template: Any, allowed: frozenset[str] = SENTENCE, *, may_promise: bool = False
) -> str:
    if not isinstance(template, str) or not template.strip():
        raise ReplyTemplateError(f"{key}: must be non-empty text")
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None and field not in allowed:
            raise ReplyTemplateError(
                f"{key}: placeholder {{{field}}} is not allowed here; use {sorted(allowed)}"
            )
    promise = PROMISES.search(template)
    if promise and not may_promise:
        raise ReplyTemplateError(
            f"{key}: must not promise an outcome ({promise.group(0)!r}); "
            "replies may mention refunds only through refund_line"
        )
    return template


def _lines(
    key: str, value: Any, allowed: frozenset[str] = SENTENCE, *, may_promise: bool = False
) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ReplyTemplateError(f"{key}: must be a non-empty list of lines")
    return tuple(
        _check(f"{key}.{i}", line, allowed, may_promise=may_promise) for i, line in enumerate(value)
    )


def _topic(key: str, raw: Any) -> _Topic:
    if not isinstance(raw, Mapping) or not raw.get("when"):
        raise ReplyTemplateError(f"{key}: needs `when` (words) and `say`")
    words = sorted((str(w).lower() for w in raw["when"]), key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    say = _check(f"{key}.say", raw.get("say"), frozenset({"match"}))
    return _Topic(re.compile(rf"\b(?:{alternatives})\b"), say)


def _category(key: str, raw: Mapping[str, Any]) -> _Category:
    parts = {part: _lines(f"{key}.{part}", raw.get(part)) for part in _PARTS}
    return _Category(
        topic=_check(f"{key}.topic", raw.get("topic"), frozenset()),
        topics=tuple(_topic(f"{key}.topics.{i}", t) for i, t in enumerate(raw.get("topics") or [])),
        detail=_check(f"{key}.detail", raw.get("detail"), frozenset()),
        refund_line=_lines(f"{key}.refund_line", raw["refund_line"], may_promise=True)
        if raw.get("refund_line")
        else (),
        **parts,
    )


def _pick(options: Sequence[str], seed: int, part: bytes) -> str:
    """One of `options`, fixed by the post (`seed`: CRC-32 of its id) and the part's name.

    CRC-32 continued from the id's checksum equals the checksum of "id|part" in one go, so
    each part costs one short checksum, not one over the whole id.
    """
    return options[zlib.crc32(part, seed) % len(options)]


def _sentences(parts: Sequence[str]) -> str:
    """Join parts; after a greeting ending in a comma the next sentence goes on in lower case."""
    joined = list(parts)
    for i in range(1, len(joined)):
        part = joined[i]
        if joined[i - 1].endswith(",") and not part.startswith(("I ", "I'")):
            joined[i] = part[:1].lower() + part[1:]
    return " ".join(joined)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;-") + ELLIPSIS


class ReplyBook:
    """Compiled reply templates for one brand; build with `ReplyBook.load` (or `load_book`)."""

    def __init__(self, data: Mapping[str, Any], *, allow_refund_mention: bool = False) -> None:
        self.allow_refund_mention = allow_refund_mention
        networks = data.get("networks") or {}
        if "default" not in networks:
            raise ReplyTemplateError("networks.default: missing")
        self._networks = {
            name: _Network(
                limit=int(net["limit"]),
                target=int(net.get("target", net["limit"])),
                address=_check(f"networks.{name}.address", net["address"], frozenset({"handle"}))
                if net.get("address")
                else "",
                private=_check(f"networks.{name}.private", net["private"], frozenset()),
            )
            for name, net in networks.items()
        }
        greetings = data.get("greetings") or {}
        self._named = _lines("greetings.named", greetings.get("named"), frozenset({"name"}))
        self._anonymous = _lines("greetings.anonymous", greetings.get("anonymous"), frozenset())
        self._never_say = frozenset(str(w).lower() for w in data.get("never_say") or [])
        default = data.get("default") or {}
        self._default = _category("default", default)
        self._categories = {
            name: _category(f"categories.{name}", merge(default, raw or {}))
            for name, raw in (data.get("categories") or {}).items()
        }

    @classmethod
    def load(
        cls, override: Path | Mapping[str, Any] | None = None, *, allow_refund_mention: bool = False
    ) -> ReplyBook:
        """The bundled templates, with a brand's file (or mapping) merged over them."""
        data = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
        if isinstance(override, Path):
            try:
                override = yaml.safe_load(override.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise ReplyTemplateError(f"{override}: cannot read templates: {exc}") from None
        if override is not None:
            if not isinstance(override, Mapping):
                raise ReplyTemplateError("reply templates must be a mapping of settings")
            data = merge(data, override)
        return cls(data, allow_refund_mention=allow_refund_mention)

    def first_name(self, name: str | None) -> str | None:
        """The first word of a display name when it looks like a name and is not abuse."""
        words = (name or "").split()
        if not words or not _NAME.fullmatch(words[0]) or words[0].lower() in self._never_say:
            return None
        first = words[0]
        return first.capitalize() if first.islower() or first.isupper() else first

    def suggest(
        self,
        *,
        category: str | None,
        network: str,
        handle: str | None,
        text: str,
        seed: str,
        name: str | None = None,
    ) -> str | None:
        """A reply within the network's limit (the @handle included)."""
        net = self._networks.get(network) or self._networks["default"]
        cat = self._categories.get(category or "", self._default)
        topic = cat.topic
        lowered = text.lower()
        for candidate in cat.topics:
            found = candidate.pattern.search(lowered)
            if found:
                topic = candidate.say.format(match=" ".join(found.group(0).split()))
                break
        first = self.first_name(name)
        values = {"name": first or "", "topic": topic, "private": net.private, "detail": cat.detail}
        address = ""
        if net.address and handle:
            address = net.address.format(handle=handle.lstrip("@")).strip() + " "
        crc = zlib.crc32(seed.encode())
        greeting = _pick(self._named if first else self._anonymous, crc, b"|greeting")
        greeting = greeting.format(**values)
        ack = _pick(cat.acknowledge, crc, b"|acknowledge").format(**values)
        empathy = _pick(cat.empathy, crc, b"|empathy").format(**values)
        ownership = _pick(cat.ownership, crc, b"|ownership").format(**values)
        step = _pick(cat.next_step, crc, b"|next_step").format(**values)
        refund = (
            [_pick(cat.refund_line, crc, b"|refund").format(**values)]
            if self.allow_refund_mention and cat.refund_line
            else []
        )
        drafts = (
            [greeting, ack, empathy, ownership, *refund, step],
            [greeting, ack, ownership, *refund, step],
            [greeting, ack, *refund, step],
            [greeting, ack, step],
            [ack, step],
        )
        fits = reply = ""
        for parts in drafts:  # the fullest draft within the preferred length, else the limit
            reply = address + _sentences(parts)
            if len(reply) <= net.target:
                return reply
            fits = fits or (reply if len(reply) <= net.limit else "")
        return fits or _clip(reply, net.limit)


@cache
def load_book(override: Path | None = None, *, allow_refund_mention: bool = False) -> ReplyBook:
    """`ReplyBook.load`, once per (file, flag): the pipeline may ask for every post."""
    return ReplyBook.load(override, allow_refund_mention=allow_refund_mention)


def suggest_reply(
    *,
    category: str | None,
    network: str,
    handle: str | None,
    text: str,
    seed: str,
    name: str | None = None,
    book: ReplyBook | None = None,
) -> str | None:
    """A reply for a flagged post; `seed` (the post id) makes it stable per post but varied."""
    return (book or load_book()).suggest(
        category=category, network=network, handle=handle, text=text, seed=seed, name=name
    )
