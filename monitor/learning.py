"""The scheduled job that teaches each brand's judgement from its team's labels.

For each brand with at least `learning.min_labels` labels (storage/labels.py), fit its
correction to the shipped model (rules/brand_model.py), store it, and hand it to the
pipeline's judge for that brand. A brand whose labels have not changed since its last
correction is skipped, so the hourly job costs one query per brand when nothing is new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.clock import Clock
from monitor.config import AppConfig
from rules.brand_model import Adjustment, fit_adjustment
from rules.judge import Judge
from storage.labels import LabelStore, TeamLabel

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Learned:
    brand: str
    labels: int
    adjustment: Adjustment | None  # None: too few labels, or none new


def fit_brand(judge: Judge, labels: list[TeamLabel]) -> Adjustment:
    """The brand's correction from its labels, encoded as its judge encodes posts."""
    rows = [judge.learning_row(label.text, label.lang) for label in labels]
    labelled = [label.complaint for label in labels]
    return fit_adjustment(judge.model, [r for r, _ in rows], labelled, [p for _, p in rows])


class BrandLearner:
    """Relearns each brand's correction when its labels change; see the module docstring."""

    def __init__(self, config: AppConfig, store: LabelStore, *, clock: Clock) -> None:
        self._config = config
        self._store = store
        self._clock = clock

    def stored(self, brand: str) -> Adjustment | None:
        """The brand's last learned correction, for a judge starting up."""
        saved = self._store.brand_model(brand)
        return None if saved is None else Adjustment.from_bytes(saved.model)

    def learn(self, brand: str, judge: Judge) -> Learned:
        labels = self._store.team_labels(brand)
        saved = self._store.brand_model(brand)
        if len(labels) < self._config.learning.min_labels:
            return Learned(brand, len(labels), None)
        if saved is not None and saved.labels == len(labels):
            return Learned(brand, len(labels), None)
        adjustment = fit_brand(judge, labels)
        self._store.save_brand_model(
            brand, labels=len(labels), trained_at=self._clock.now(), model=adjustment.to_bytes()
        )
        log.info("brand %s: judgement relearned from %d labels", brand, len(labels))
        return Learned(brand, len(labels), adjustment)
