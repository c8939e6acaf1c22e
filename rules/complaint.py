"""Is this post a customer-service complaint that needs a human, and about what?

One pass per post: unescape and lowercase once, one regex pass for every phrase rule, one
VADER call. The complaint score is how negative the post sounds (VADER adjusted by the
matched phrases), plus how much concrete trouble it describes (the phrases' weight, so
politeness cannot hide "still no refund"), plus the post's shape (a plain question reads
negative but is not a complaint), minus a penalty when the brand is not named. Every
verdict carries the reasons behind each part, for the support team and the CLI.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal, NamedTuple

from rules.categories import Taxonomy
from rules.phrases import PhraseMatcher
from rules.ruledata import RuleData, load_rule_data
from rules.sentiment import Sentiment
from rules.settings import RuleOverrides

Kind = Literal["signal", "category", "subject", "shape", "ignore"]
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
        return Rule(kind, weight, 0.0, category, "looks like ", f" ({weight:+.2f})")
    if kind == "ignore":
        return Rule(kind, weight, 0.0, category, "ignored: contains ", "")
    if kind != "subject":
        valence = weight
    return Rule(kind, weight, valence, category, "matched ", f" ({category})" if category else "")


class Verdict(NamedTuple):
    """One post's judgement (a named tuple: immutable, and made for every post, so cheap)."""

    sentiment: float  # VADER-style compound in [-1, 1], after the customer-service adjustments
    flagged: bool  # a complaint needing a human
    category: str | None  # one of the taxonomy keys, None when not a complaint/unknown
    customer_service: bool  # the "Customer Service Issue" detector (staff / no help / wait)
    reasons: tuple[str, ...]  # human-readable, e.g. "matched 'on hold for 2 hours' (wait_time)"
    aimed_at_brand: bool

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, for the database, the CLI and Slack."""
        return {
            "sentiment": self.sentiment,
            "flagged": self.flagged,
            "category": self.category,
            "customer_service": self.customer_service,
            "reasons": list(self.reasons),
            "aimed_at_brand": self.aimed_at_brand,
        }


def _rules(data: RuleData, overrides: RuleOverrides) -> list[tuple[str, Rule]]:
    rules = [(p, _rule("signal", w)) for p, w in data.signals.items()]
    rules += [(p, _rule("shape", w)) for p, w in data.shape.items()]
    for key, category in data.categories.items():
        rules += [(p, _rule("category", w, key)) for p, w in category.phrases.items()]
        subjects = category.subjects.items()
        rules += [(p, _rule("subject", w, key, data.subject_valence)) for p, w in subjects]
    for key, phrases in overrides.extra_phrases.items():
        rules += [(p, _rule("category", data.extra_phrase_weight, key)) for p in phrases]
    return rules + [(p, _rule("ignore", 0.0)) for p in overrides.ignore_phrases]


def _brand_pattern(terms: Sequence[str], handles: Sequence[str]) -> re.Pattern[str] | None:
    """Brand terms as words, handles as @handle; None when the brand is not configured."""
    names = [re.escape(t.lower().strip()) for t in terms if t.strip()]
    names += ["@" + re.escape(h.lower().strip(" @")) for h in handles if h.strip(" @")]
    if not names:
        return None
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w@])(?:{alternatives})(?!\w)")


class ComplaintRules:
    """Default rules plus a brand's overrides, compiled once; `judge` is pure and fast.

    Without brand terms or handles every post counts as aimed at the brand (the caller has
    already matched it). `data` replaces the default rules file (tests, experiments).
    """

    def __init__(
        self,
        overrides: RuleOverrides | None = None,
        *,
        brand_terms: Sequence[str] = (),
        brand_handles: Sequence[str] = (),
        data: RuleData | None = None,
    ) -> None:
        overrides = overrides or RuleOverrides()
        data = data or load_rule_data()
        unknown = set(overrides.extra_phrases) - set(data.categories)
        if unknown:
            raise ValueError(f"extra_phrases: unknown categories {sorted(unknown)}")
        self._matcher = PhraseMatcher(_rules(data, overrides))
        self._sentiment = Sentiment(data.lexicon)
        self._taxonomy = Taxonomy.from_rules(data.categories, data.aftermath_service_share)
        self._hashtag_rules = {stem: _rule("signal", w) for stem, w in data.hashtags.items()}
        stems = "|".join(map(re.escape, sorted(data.hashtags, key=len, reverse=True)))
        self._hashtags = re.compile(rf"#\w*?({stems})\w*") if stems else None
        self._brand = _brand_pattern(brand_terms, brand_handles)
        self._threshold = (
            data.flag_threshold if overrides.flag_threshold is None else overrides.flag_threshold
        )
        self._not_aimed = data.not_aimed_penalty
        self._evidence = data.evidence_weight
        self._default_category = data.default_category
        service = [(p, True) for p in data.handling] + [(p, False) for p in data.frontline]
        self._service = PhraseMatcher(service) if service else None

    @property
    def taxonomy(self) -> Taxonomy:
        """Category keys and labels, for showing a verdict's category to people."""
        return self._taxonomy

    def judge(self, text: str) -> Verdict:
        """Score one post; see the module docstring."""
        if "&" in text:
            text = html.unescape(text)
        if "\u2019" in text:  # phones type a curly apostrophe: "can\u2019t"
            text = text.replace("\u2019", "'")
        lowered = text.lower()
        hits = self._matcher.find(lowered)
        if self._hashtags is not None and "#" in lowered:
            tags = self._hashtags.finditer(lowered)
            hits += [(tag.group(), self._hashtag_rules[tag[1]]) for tag in tags]
        valence = trouble = shape = 0.0
        ignored = False
        totals: dict[str, float] = {}
        reasons = []
        for matched, rule in hits:
            reasons.append(rule.prefix + repr(matched) + rule.suffix)
            if rule.kind == "shape":
                shape += rule.weight
            elif rule.kind == "ignore":
                ignored = True
            else:
                valence += rule.valence
                trouble -= min(rule.valence, 0.0)
                if rule.category is not None:
                    totals[rule.category] = totals.get(rule.category, 0.0) + rule.weight
        plain = _NOT_WORDS.sub("", text) if "@" in text or "://" in text else text
        vader, sentiment = self._sentiment.scores(plain, valence)
        aimed = self._brand is None or self._brand.search(lowered) is not None
        evidence = trouble * self._evidence
        score = evidence - sentiment + shape + (0.0 if aimed else self._not_aimed)
        flagged = not ignored and score >= self._threshold
        category = (self._taxonomy.choose(totals) or self._default_category) if flagged else None
        handled = frontline = False
        if flagged and self._service is not None:
            for matched, handling in self._service.find(lowered):
                handled |= handling
                frontline |= not handling
                reasons.append(f"{'handling' if handling else 'frontline staff'}: {matched!r}")
        if not aimed:
            reasons.append(f"brand not named ({self._not_aimed:+.2f})")
        reasons.append(f"sentiment {sentiment:+.2f} (VADER {vader:+.2f})")
        reasons.append(
            f"complaint score {score:.2f} {'>=' if flagged else '<'} {self._threshold:.2f}"
            f" (problem evidence {evidence:+.2f})"
        )
        return Verdict(
            sentiment=sentiment,
            flagged=flagged,
            category=category,
            customer_service=flagged
            and self._taxonomy.is_customer_service(category, totals, handled, frontline),
            reasons=tuple(reasons),
            aimed_at_brand=aimed,
        )


@cache
def default_rules() -> ComplaintRules:
    """The default rules with no brand overrides, built once per process."""
    return ComplaintRules()
