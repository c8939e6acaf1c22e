"""Per-brand overrides of the default rules, as written under `brands[].rules` in config.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RuleOverrides(BaseModel):
    """Additions to the default complaint rules; every field is optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extra_phrases: dict[str, list[str]] = Field(
        default_factory=dict,
        description="category -> extra phrases that mark a complaint of that category",
    )
    ignore_phrases: list[str] = Field(
        default_factory=list, description="posts containing these are never flagged"
    )
    flag_threshold: float | None = Field(
        default=None, description="override the complaint score needed to flag a post"
    )
