"""What a connector needs from the configuration, without importing the application.

Each connector owns a pydantic model for its source's settings, built on `SourceBase`; the
monitor collects those models from the registry into its config schema. Brands reach
connectors as `BrandTerms`, the few fields a connector uses to ask a network for mentions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Unknown keys are errors (a typo must not be a silently ignored setting)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BrandTerms(Protocol):
    """A brand as a connector sees it: its name, what people call it, what to leave out,
    and its own accounts per network."""

    @property
    def name(self) -> str: ...

    @property
    def terms(self) -> Sequence[str]: ...

    @property
    def exclude(self) -> Sequence[str]: ...

    @property
    def handles(self) -> Mapping[str, Sequence[str]]: ...


class SourceBase(Strict):
    """Settings every source has. Subclasses add a `type: Literal[...]` and their own keys.

    `required_secrets` names the keys an enabled source cannot work without (key -> what it
    is), so a missing `${ENV}` is reported at start-up, naming the key.
    """

    required_secrets: ClassVar[dict[str, str]] = {}

    enabled: bool = True
    interval_seconds: float = Field(default=120, gt=0)
    jitter_seconds: float = Field(default=5, ge=0)
    brand: str | None = Field(default=None, description="restrict to one brand; default all")

    def with_base_dir(self, base_dir: Path) -> Self:
        """The same settings with relative file paths resolved against the config's folder."""
        return self

    def watched(self, brands: Sequence[BrandTerms]) -> list[BrandTerms]:
        """The brands this source reads for (`brand` restricts it to one)."""
        return [b for b in brands if self.brand in (None, b.name)]
