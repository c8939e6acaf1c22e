"""The shape of rules/data/complaint_rules.yaml, validated once when the rules are built.

Keeping the default rules as data lets a brand read and extend them without touching code;
validating them with the same strictness as config.yaml turns a typo into an error.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_RULES = Path(__file__).with_name("data") / "complaint_rules.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryRules(_Strict):
    """One complaint category: its label for people and the phrases that point to it."""

    label: str
    customer_service: bool = Field(
        default=False, description="counts as a customer-service issue (staff, wait, no help)"
    )
    service_when_handled: bool = Field(
        default=True,
        description="a complaint in this category that also says how the customer was handled "
        "(on hold, no reply) is a customer-service issue; false where the failure is the product "
        "itself (a cancelled trip, a lost parcel) and the handling its aftermath",
    )
    handling: bool = Field(
        default=False,
        description="its phrases say how the customer was dealt with (waiting, staff), not what "
        "went wrong: its evidence is what an aftermath category's failure is weighed against",
    )
    weight: float = Field(
        default=1.0,
        description="multiplies this category's evidence when a post names several categories",
    )
    phrases: dict[str, float]
    subjects: dict[str, float] = Field(
        default_factory=dict,
        description="words naming what a post is about (bag, booking), weighted like phrases: "
        "they count towards the category but change neither the sentiment nor the score",
    )

    @field_validator("phrases", "subjects")
    @classmethod
    def _evidence_is_negative(cls, weights: dict[str, float]) -> dict[str, float]:
        """A weight of 0 or more would name the category with no evidence for it."""
        wrong = [phrase for phrase, weight in weights.items() if weight >= 0]
        if wrong:
            raise ValueError(f"category weights must be negative: {wrong}")
        return weights


class RuleData(_Strict):
    """Everything the complaint rules need; see the comments in the default YAML file."""

    flag_threshold: float
    evidence_weight: float
    extra_phrase_weight: float
    not_aimed_penalty: float
    subject_valence: float = Field(
        default=0.0, description="valence of every matched subject word (see CategoryRules)"
    )
    default_category: str | None = Field(
        default=None, description="category of a flagged post that names no concrete problem"
    )
    aftermath_service_share: float = Field(
        default=1.0,
        description="in a category whose handling is the aftermath (service_when_handled false), "
        "a complaint is a customer-service issue when its handling categories' evidence is more "
        "than this share of the failure's",
    )
    lexicon: dict[str, float]
    signals: dict[str, float]
    shape: dict[str, float]
    hashtags: dict[str, float]
    categories: dict[str, CategoryRules]
    handling: list[str] = Field(
        default_factory=list,
        description="phrases showing the post is about how the company dealt with the customer "
        "(a call, an agent, being on hold): a complaint naming one is a customer-service issue "
        "whatever its category",
    )
    frontline: list[str] = Field(
        default_factory=list,
        description="people who deliver the product rather than serve the customer (cabin crew, "
        "drivers, waiters): a complaint about them is about the product, not customer service",
    )


@cache
def load_rule_data(path: Path = DEFAULT_RULES) -> RuleData:
    """Read and validate a rules file; cached because the defaults never change at run time."""
    with path.open(encoding="utf-8") as handle:
        return RuleData.model_validate(yaml.safe_load(handle))
