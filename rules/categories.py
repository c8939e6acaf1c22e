"""The complaint taxonomy: stable keys, labels for people, and picking one for a post.

Keys are stored in the database and shown in Slack and the digest, so they never change;
labels and phrases are data (rules/data/complaint_rules.yaml) that a brand can extend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rules.ruledata import CategoryRules, load_rule_data

KEYS = (
    "wait_time",
    "staff",
    "refund_billing",
    "delivery",
    "product_quality",
    "outage",
    "cancellation_delay",
    "booking_account",
)


@dataclass(frozen=True, slots=True)
class Taxonomy:
    labels: Mapping[str, str]
    customer_service: frozenset[str]
    handled_aftermath: frozenset[str]
    handling: frozenset[str]
    aftermath_share: float
    rank: Mapping[str, int]
    weights: Mapping[str, float]

    @classmethod
    def from_rules(
        cls, categories: Mapping[str, CategoryRules], aftermath_share: float = 1.0
    ) -> Taxonomy:
        return cls(
            labels={key: rules.label for key, rules in categories.items()},
            customer_service=frozenset(k for k, r in categories.items() if r.customer_service),
            handled_aftermath=frozenset(
                k for k, r in categories.items() if not r.service_when_handled
            ),
            handling=frozenset(k for k, r in categories.items() if r.handling),
            aftermath_share=aftermath_share,
            rank={key: i for i, key in enumerate(categories)},
            weights={key: rules.weight for key, rules in categories.items()},
        )

    def choose(self, totals: Mapping[str, float]) -> str | None:
        """The category with the strongest (most negative) weighted evidence; None without any.

        Summing lets two weak hints ("bag", "lost") beat one. A category's weight says how
        much its evidence counts against the others': when a post names both what went
        wrong and how it was handled ("lost my bag, on hold for an hour"), what went wrong
        is usually the complaint. Ties go to the category listed first in the rules file.
        """
        if not totals:
            return None
        weights = self.weights
        return min(totals, key=lambda key: (totals[key] * weights[key], self.rank[key]))

    def is_customer_service(
        self,
        category: str | None,
        totals: Mapping[str, float],
        handled: bool,
        frontline: bool,
    ) -> bool:
        """Whether a complaint is (also) about how the customer was served.

        A customer-service category (staff attitude, no help) makes it one by itself;
        waiting alone does not, since a queue or a late train is the product. How the company
        handled the customer (`handled`: a call, an agent, a reply or none) makes it one
        whatever went wrong, except where the product itself failed (a cancelled trip, a lost
        parcel): there a call about it is the aftermath, unless the post says more about how
        it was handled than in passing: the handling categories' evidence (`totals`, as in
        `choose`) is more than `aftermath_share` of the failure's ("lost my bag, and on hold
        for an hour" is both; "lost my bag, I'll call you" is the bag). Staff who deliver the
        product (`frontline`: crew, drivers) are the product, so a complaint naming them is
        about the experience, not the service desk.
        """
        if frontline:
            return False
        if category in self.customer_service:
            return True
        if not handled:
            return False
        if category not in self.handled_aftermath:
            return True
        handling = sum(totals.get(key, 0.0) for key in self.handling)
        return handling < self.aftermath_share * totals.get(category, 0.0)  # evidence is negative


UNCATEGORISED = "No specific problem named"


def category_label(key: str | None) -> str:
    """The one name people see for a category key, in Slack and the digest alike: its `label`
    in rules/data/complaint_rules.yaml; a key the file does not know (a brand's own) tidied."""
    if not key:
        return UNCATEGORISED
    known = load_rule_data().categories.get(key)
    return known.label if known else key.replace("_", " ").capitalize()
