"""Suggested replies: a first public answer a support agent can adapt and send in seconds.

Templates are data (rules/data/replies.yaml, overridable per brand) because the wording is a
brand's voice, not code. A reply follows what good complaint handling does: name the problem
in the customer's own terms, apologise, show empathy, take ownership and move the
conversation to a private channel with one concrete next step. What it must never do is
checked when the templates load, not hoped for: no promised outcomes (refunds only when the
config allows them), no placeholders beyond the known few (so a template cannot reach the
post's text or the internal reasons), and the post's words come back only through a
whitelisted topic word, so abuse is never echoed.

Which reply fits depends on the situation, not the category alone (`Situation`, `ReplyBook.draft`):
a complaint with a safety, legal, privacy or vulnerable-customer flag gets that route's own
wording; an outage complaint while an incident is under way gets a holding reply pointing to
the brand's status page; a question gets an answer-shaped draft, praise a thank-you, a scam a
public warning (never a reply to the scammer). Only complaints are apologised to. Replies are
written in the customer's language for en, de, fr, es, nl, it, pt and pl (rules/data/replies/).

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
SITUATION = frozenset({"private", "detail", "status_page"})
LANGUAGES = Path(__file__).resolve().parent / "data" / "replies"
SUPPORTED_LANGUAGES = ("en", "de", "fr", "es", "nl", "it", "pt", "pl")
# Risk flags that change what a complaint's reply says, most urgent first.
ROUTE_FLAGS = ("safety", "vulnerable", "privacy", "legal")
_SITUATIONS = ("question", "thanks", "holding", *ROUTE_FLAGS, "warning")
# A display name looks like a person's when it is written as one: a capitalised given name,
# then nothing, a capitalised surname or an initial; pronouns, emoji and "from <place>" aside.
_GIVEN = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'-]{1,14}(?:[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'-]{1,14})?")
_SURNAME = re.compile(r"[A-ZÀ-ÖØ-Þ](?:[a-zà-öø-ÿ'A-Z-]{1,20}|\.?)")
_PRONOUNS = re.compile(r"\([a-z]+/[a-z]+\)")
PROMISES = re.compile(
    r"refund|reimburs|compensat|voucher|\bcredit|replace|money back|\bfree\b|guarantee", re.I
)
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
class Situation:
    """What the reply has to fit: the judgement of the post and the state of the brand."""

    intent: str | None = "complaint"
    category: str | None = None
    severity: int | None = None
    risks: tuple[str, ...] = ()
    network: str = "default"
    language: str | None = "en"
    status_page: str | None = None  # set while an incident is under way: a holding reply


@dataclass(frozen=True, slots=True)
class Draft:
    """A suggested reply and what it is for (apology, answer, thanks, holding, safety,
    vulnerable, privacy, legal, warning), in `language`."""

    purpose: str
    text: str
    language: str


@dataclass(frozen=True, slots=True)
class _Voice:
    """One language's wording for everything that is not an English category apology."""

    named: tuple[str, ...]
    anonymous: tuple[str, ...]
    private: str | None  # None: the network's own word (English)
    vocabulary: Mapping[str, str]
    acknowledge: tuple[str, ...]
    next_step: tuple[str, ...]
    situations: Mapping[str, tuple[str, ...]]


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

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        allow_refund_mention: bool = False,
        languages: Mapping[str, Mapping[str, Any]] | None = None,
        tone: str = "friendly",
        sign_off: str = "",
    ) -> None:
        self.allow_refund_mention = allow_refund_mention
        self._sign_off = sign_off.strip()
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
        formal = tone == "formal" and greetings.get("formal_named")
        named_key, anonymous_key = (
            ("formal_named", "formal_anonymous") if formal else ("named", "anonymous")
        )
        self._named = _lines(
            f"greetings.{named_key}", greetings.get(named_key), frozenset({"name"})
        )
        self._anonymous = _lines(
            f"greetings.{anonymous_key}", greetings.get(anonymous_key), frozenset()
        )
        self._never_say = frozenset(str(w).lower() for w in data.get("never_say") or [])
        self._vocabulary = _vocabulary("vocabulary", data.get("vocabulary") or {})
        default = data.get("default") or {}
        self._default = _category("default", default)
        self._categories = {
            name: _category(f"categories.{name}", merge(default, raw or {}))
            for name, raw in (data.get("categories") or {}).items()
        }
        english = _Voice(
            named=self._named,
            anonymous=self._anonymous,
            private=None,
            vocabulary=self._vocabulary,
            acknowledge=self._default.acknowledge,
            next_step=self._default.next_step,
            situations=_situations("situations", data.get("situations") or {}),
        )
        self._voices = {"en": english}
        for lang, raw in (languages or {}).items():
            self._voices[lang] = _voice(lang, raw, english)

    @classmethod
    def load(
        cls,
        override: Path | Mapping[str, Any] | None = None,
        *,
        allow_refund_mention: bool = False,
        vocabulary: Mapping[str, str] | None = None,
        tone: str = "friendly",
        sign_off: str = "",
    ) -> ReplyBook:
        """The bundled templates, with a brand's file (or mapping) merged over them, and the
        brand's own words for what a reply asks for (`vocabulary`) in English."""
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
        if vocabulary:
            data = merge(data, {"vocabulary": dict(vocabulary)})
        return cls(
            data,
            allow_refund_mention=allow_refund_mention,
            languages=_bundled_languages(),
            tone=tone,
            sign_off=sign_off,
        )

    def first_name(self, name: str | None) -> str | None:
        """The given name when the display name looks like a person's ("Abi Morris (she/her)",
        "Adam B", "Ellie from York"), else None: "crumpet lucky", "Kestrel Help" and
        "Kettle" alone are not greeted by name (a lone capitalised word is, when the rest
        of the name is a surname, an initial or nothing and it is no abuse)."""
        words = [w for w in (name or "").split() if w[:1].isalnum() or w[:1] == "("]
        words = [w for w in words if not _PRONOUNS.fullmatch(w)]
        if "from" in words:
            words = words[: words.index("from")]
        if not words or len(words) > 3 or not _GIVEN.fullmatch(words[0]):
            return None
        if any(not _SURNAME.fullmatch(w) for w in words[1:]):
            return None
        if any(w.lower().strip(".") in self._never_say for w in words):
            return None
        if len(words) == 1 and words[0].lower() in self._never_say:
            return None
        return words[0]

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
        """An English complaint reply within the network's limit (the @handle included)."""
        draft = self.draft(
            Situation(category=category, network=network),
            handle=handle,
            text=text,
            seed=seed,
            name=name,
        )
        return draft.text if draft else None

    def draft(
        self, situation: Situation, *, handle: str | None, text: str, seed: str, name: str | None
    ) -> Draft | None:
        """The reply that fits `situation`, or None when nothing should be said (chatter,
        off-topic, or a post with no intent)."""
        purpose = purpose_of(situation)
        if purpose is None:
            return None
        lang = situation.language if situation.language in self._voices else "en"
        net = self._networks.get(situation.network) or self._networks["default"]
        crc = zlib.crc32(seed.encode())
        if purpose == "apology" and lang == "en":
            return Draft(purpose, self._apology(situation, net, handle, name, text, crc), lang)
        voice = self._voices[lang]
        cat = self._categories.get(situation.category or "", self._default)
        values = {
            "private": voice.private or net.private,
            "detail": voice.vocabulary.get(cat.detail, voice.vocabulary.get("account", "")),
            "status_page": situation.status_page or "",
        }
        if purpose == "apology":
            body = [
                _pick(voice.acknowledge, crc, b"|acknowledge"),
                _pick(voice.next_step, crc, b"|next_step").format(**values),
            ]
        else:
            body = [_pick(voice.situations[purpose], crc, b"|" + purpose.encode()).format(**values)]
        # A public warning answers nobody: it is posted by the brand, not at the scammer.
        address = "" if purpose == "warning" else self._address(net, handle)
        first = self.first_name(name) if purpose != "warning" else None
        greeting = "" if purpose == "warning" else self._greeting(voice, first, crc)
        return Draft(purpose, self._finish(address, [greeting, *body], net), lang)

    def _address(self, net: _Network, handle: str | None) -> str:
        if not (net.address and handle):
            return ""
        return net.address.format(handle=handle.lstrip("@")).strip() + " "

    @staticmethod
    def _greeting(voice: _Voice, first: str | None, crc: int) -> str:
        greeting = _pick(voice.named if first else voice.anonymous, crc, b"|greeting")
        return greeting.format(name=first or "")

    def _finish(self, address: str, parts: Sequence[str], net: _Network) -> str:
        """Join, then add the sign-off when it still fits the network's hard limit."""
        reply = address + _sentences([p for p in parts if p])
        if self._sign_off and len(reply) + 1 + len(self._sign_off) <= net.limit:
            return f"{reply} {self._sign_off}"
        return reply if len(reply) <= net.limit else _clip(reply, net.limit)

    def _apology(
        self,
        situation: Situation,
        net: _Network,
        handle: str | None,
        name: str | None,
        text: str,
        crc: int,
    ) -> str:
        cat = self._categories.get(situation.category or "", self._default)
        topic = cat.topic
        lowered = text.lower()
        for candidate in cat.topics:
            found = candidate.pattern.search(lowered)
            if found:
                topic = candidate.say.format(match=" ".join(found.group(0).split()))
                break
        first = self.first_name(name)
        detail = self._vocabulary.get(cat.detail, cat.detail)
        values = {"name": first or "", "topic": topic, "private": net.private, "detail": detail}
        address = self._address(net, handle)
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
        sign = len(self._sign_off) + 1 if self._sign_off else 0
        for parts in drafts:  # the fullest draft within the preferred length, else the limit
            reply = address + _sentences(parts)
            if len(reply) + sign <= net.target:
                return self._finish(address, parts, net)
            fits = fits or (reply if len(reply) <= net.limit else "")
        return fits or _clip(reply, net.limit)


def purpose_of(situation: Situation) -> str | None:
    """What the reply is for. Only complaints are apologised to; a flagged risk picks its
    route's wording; an outage complaint during an incident gets the holding reply."""
    intent = situation.intent
    if intent == "complaint":
        flags = [f for f in ROUTE_FLAGS if f in situation.risks]
        if flags:
            return flags[0]
        if situation.status_page and situation.category == "outage":
            return "holding"
        return "apology"
    return {"question": "answer", "praise": "thanks", "spam": "warning"}.get(intent or "")


def _vocabulary(key: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise ReplyTemplateError(f"{key}: must map a name to words, e.g. order: your order number")
    return {str(k): _check(f"{key}.{k}", v, frozenset()) for k, v in raw.items()}


def _situations(
    key: str, raw: Any, fallback: Mapping[str, tuple[str, ...]] | None = None
) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for name in _SITUATIONS:
        value = raw.get(name) if isinstance(raw, Mapping) else None
        if value is None and fallback is not None:
            found[name] = fallback[name]
            continue
        found[name] = _lines(f"{key}.{name}", value, SITUATION)
    found["answer"] = found.pop("question")
    return found


def _voice(lang: str, raw: Mapping[str, Any], english: _Voice) -> _Voice:
    key = f"replies/{lang}.yaml"
    greetings = raw.get("greetings") or {}
    complaint = raw.get("complaint") or {}
    situations = {("question" if k == "answer" else k): v for k, v in english.situations.items()}
    return _Voice(
        named=_lines(f"{key}: greetings.named", greetings.get("named"), frozenset({"name"})),
        anonymous=_lines(f"{key}: greetings.anonymous", greetings.get("anonymous"), frozenset()),
        private=_check(f"{key}: private", raw.get("private"), frozenset()),
        vocabulary={
            **english.vocabulary,
            **_vocabulary(f"{key}: vocabulary", raw.get("vocabulary") or {}),
        },
        acknowledge=_lines(
            f"{key}: complaint.acknowledge", complaint.get("acknowledge"), frozenset()
        ),
        next_step=_lines(f"{key}: complaint.next_step", complaint.get("next_step"), SITUATION),
        situations=_situations(key, raw, situations),
    )


@cache
def _bundled_languages() -> dict[str, dict[str, Any]]:
    return {
        lang: yaml.safe_load((LANGUAGES / f"{lang}.yaml").read_text(encoding="utf-8"))
        for lang in SUPPORTED_LANGUAGES
        if lang != "en"
    }


@cache
def load_book(
    override: Path | None = None,
    *,
    allow_refund_mention: bool = False,
    vocabulary: tuple[tuple[str, str], ...] = (),
    tone: str = "friendly",
    sign_off: str = "",
) -> ReplyBook:
    """`ReplyBook.load`, once per (file, settings): the pipeline may ask for every post."""
    return ReplyBook.load(
        override,
        allow_refund_mention=allow_refund_mention,
        vocabulary=dict(vocabulary),
        tone=tone,
        sign_off=sign_off,
    )


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
