"""What the hand-written English rules and VADER see in a post: named, weighted evidence.

One pass per post: unescape and lowercase once, one regex pass for every phrase rule, one
VADER call. The rules no longer decide alone (rules/judge.py does, with the learned model);
they supply the model's most readable features: how negative the post sounds (VADER
adjusted by the matched phrases), how much concrete trouble it describes (the phrases'
weight, so politeness cannot hide "still no refund"), the post's shape, and which complaint
category the phrases point to. Those are also the reasons a person reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal, NamedTuple

from rules.categories import Taxonomy
from rules.phrases import PhraseMatcher
from rules.ruledata import RuleData, load_rule_data
from rules.sentiment import Sentiment

Kind = Literal["signal", "category", "subject", "shape"]
# Handles and links carry no sentiment ("@united" is a positive word to VADER), and VADER's
# time grows with every character it reads.
_NOT_WORDS = re.compile(r"@\w+|https?://\S+")


@dataclass(frozen=True, slots=True)
class Rule:
    """What a matched phrase means, and the words around it in a reason (worked out once)."""

    kind: Kind
    weight: float  # shape: score change; otherwise evidence for `category`
    valence: float  # counts as one more word of this valence in the post
    category: str | None
    prefix: str
    suffix: str


def _rule(kind: Kind, weight: float, category: str | None = None, valence: float = 0.0) -> Rule:
    if kind == "shape":
        return Rule(kind, weight, 0.0, category, "looks like ", "")
    if kind != "subject":
        valence = weight
    return Rule(kind, weight, valence, category, "matched ", f" ({category})" if category else "")


class Evidence(NamedTuple):
    """The rules' figures for one post (a named tuple: made for every English post)."""

    vader: float  # VADER's compound, with the customer-service lexicon
    sentiment: float  # the compound with the matched phrases' valences added
    trouble: float  # weighted count of concrete problems named (>= 0)
    shape: float  # score change from the post's form ("does anyone know", "thank you")
    score: float  # trouble - sentiment + shape: the rules' own complaint score
    totals: dict[str, float]  # category -> summed (negative) phrase evidence
    aimed: bool  # names the brand (always True when no brand is configured)
    phrases: tuple[tuple[str, float], ...]  # readable matched phrases, most negative first

    def features(self) -> dict[str, float]:
        """The evidence as named model features (see rules/features.py)."""
        named = {
            "rule:vader_neg": max(-self.vader, 0.0),
            "rule:vader_pos": max(self.vader, 0.0),
            "rule:sentiment_neg": max(-self.sentiment, 0.0),
            "rule:sentiment_pos": max(self.sentiment, 0.0),
            "rule:trouble": min(self.trouble, 2.0),
            "rule:shape": self.shape,
            "rule:score": max(min(self.score, 2.0), -2.0),
        }
        for key, total in self.totals.items():
            named["rule:category:" + key] = min(-total / 4.0, 1.0)
        return named


def _rules(data: RuleData) -> list[tuple[str, Rule]]:
    rules = [(p, _rule("signal", w)) for p, w in data.signals.items()]
    rules += [(p, _rule("shape", w)) for p, w in data.shape.items()]
    for key, category in data.categories.items():
        rules += [(p, _rule("category", w, key)) for p, w in category.phrases.items()]
        subjects = category.subjects.items()
        rules += [(p, _rule("subject", w, key, data.subject_valence)) for p, w in subjects]
    return rules


def _brand_pattern(terms: Sequence[str], handles: Sequence[str]) -> re.Pattern[str] | None:
    """Brand terms as words, handles as @handle; None when the brand is not configured."""
    names = [re.escape(t.lower().strip()) for t in terms if t.strip()]
    names += ["@" + re.escape(h.lower().strip(" @")) for h in handles if h.strip(" @")]
    if not names:
        return None
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w@])(?:{alternatives})(?!\w)")


class ComplaintRules:
    """The default rules, compiled once; `evidence` is pure and fast.

    Without brand terms or handles every post counts as aimed at the brand (the caller has
    already matched it). `data` replaces the default rules file (tests, experiments).
    """

    def __init__(
        self,
        *,
        brand_terms: Sequence[str] = (),
        brand_handles: Sequence[str] = (),
        data: RuleData | None = None,
    ) -> None:
        data = data or load_rule_data()
        self._matcher = PhraseMatcher(_rules(data))
        self._sentiment = Sentiment(data.lexicon)
        self._taxonomy = Taxonomy.from_rules(data.categories, data.aftermath_service_share)
        self._hashtag_rules = {stem: _rule("signal", w) for stem, w in data.hashtags.items()}
        stems = "|".join(map(re.escape, sorted(data.hashtags, key=len, reverse=True)))
        self._hashtags = re.compile(rf"#\w*?({stems})\w*") if stems else None
        self._brand = _brand_pattern(brand_terms, brand_handles)
        self._evidence = data.evidence_weight
        service = [(p, True) for p in data.handling] + [(p, False) for p in data.frontline]
        self._service = PhraseMatcher(service) if service else None

    @property
    def taxonomy(self) -> Taxonomy:
        """Category keys and labels, for showing a verdict's category to people."""
        return self._taxonomy

    def evidence(self, text: str) -> Evidence:
        """What the hand-written rules and VADER see in an English post (see `Evidence`)."""
        if "\u2019" in text:  # phones type a curly apostrophe: "can\u2019t"
            text = text.replace("\u2019", "'")
        lowered = text.lower()
        hits = self._matcher.find(lowered)
        if self._hashtags is not None and "#" in lowered:
            tags = self._hashtags.finditer(lowered)
            hits += [(tag.group(), self._hashtag_rules[tag[1]]) for tag in tags]
        valence = trouble = shape = 0.0
        totals: dict[str, float] = {}
        phrases: list[tuple[str, float]] = []
        for matched, rule in hits:
            if rule.kind == "shape":
                shape += rule.weight
                continue
            valence += rule.valence
            trouble -= min(rule.valence, 0.0)
            if rule.category is not None:
                totals[rule.category] = totals.get(rule.category, 0.0) + rule.weight
            if rule.valence < 0:
                phrases.append((repr(matched) + rule.suffix, rule.valence))
        plain = _NOT_WORDS.sub("", text) if "@" in text or "://" in text else text
        vader, sentiment = self._sentiment.scores(plain, valence)
        aimed = self._brand is None or self._brand.search(lowered) is not None
        evidence = trouble * self._evidence
        return Evidence(
            vader=vader,
            sentiment=sentiment,
            trouble=evidence,
            shape=shape,
            score=evidence - sentiment + shape,
            totals=totals,
            aimed=aimed,
            phrases=tuple(sorted(phrases, key=lambda p: p[1])),
        )

    def service(self, text: str) -> tuple[bool, bool, list[str]]:
        """Whether a complaint names how it was handled (a call, an agent) or frontline staff."""
        handled = frontline = False
        reasons = []
        if self._service is not None:
            for matched, handling in self._service.find(text.lower()):
                handled |= handling
                frontline |= not handling
                reasons.append(f"{'handling' if handling else 'frontline staff'}: {matched!r}")
        return handled, frontline, reasons

    def is_customer_service(self, text: str, category: str | None, evidence: Evidence) -> bool:
        """The airline data's "Customer Service Issue", from the rules (see `Taxonomy`)."""
        handled, frontline, _ = self.service(text)
        return self._taxonomy.is_customer_service(category, evidence.totals, handled, frontline)


@cache
def default_rules() -> ComplaintRules:
    """The default rules with no brand overrides, built once per process."""
    return ComplaintRules()
