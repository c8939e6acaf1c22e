"""Hourly storm watch: complaint and mention spikes per brand, silent sources per source.

Counts come from SQL (one GROUP BY over the look-back window), the judgement from
rules/spike.py. A spike queues one "spike" alert per brand, metric and hour, with its
explanation (top phrases, categories, sample posts); a source gone silent queues an
"operations" alert.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select

from monitor.clock import Clock
from monitor.config import AppConfig
from rules.spike import SpikeDecision, evaluate_latest, explain_spike
from storage.models import Alert, Mention
from storage.repository import Repository

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
HISTORY = timedelta(weeks=4, hours=72)  # what rules.spike needs for its full baseline
SAMPLE_LIMIT = 500


def _hour_start(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


class SpikeWatch:
    def __init__(self, config: AppConfig, repository: Repository, *, clock: Clock) -> None:
        self._config = config
        self._repository = repository
        self._clock = clock

    def _bucket(self) -> ColumnElement[str]:
        """The hour a mention was posted in, as text, on either backend."""
        if self._repository.engine.dialect.name == "postgresql":
            return func.to_char(func.timezone("UTC", Mention.created_at), "YYYY-MM-DD HH24")
        return func.strftime("%Y-%m-%d %H", Mention.created_at)

    def _hourly(
        self, *where: ColumnElement[bool], end: datetime
    ) -> tuple[list[int], list[datetime]]:
        start = end - HISTORY
        bucket = self._bucket()
        with self._repository.sessions() as session:
            rows = session.execute(
                select(bucket, func.count())
                .where(Mention.created_at >= start, Mention.created_at < end, *where)
                .group_by(bucket)
            ).all()
        counts = {
            datetime.strptime(b, "%Y-%m-%d %H").replace(tzinfo=end.tzinfo): n for b, n in rows
        }
        if not counts:
            return [], []
        # Hours before the first known post are unknown (brandmon was not watching yet),
        # not quiet: the series starts at the first one.
        first = min(counts)
        starts = [first + i * HOUR for i in range(int((end - first) / HOUR))]
        return [counts.get(s, 0) for s in starts], starts

    def _last_alert(self, prefix: str) -> datetime | None:
        with self._repository.sessions() as session:
            return session.scalar(
                select(func.max(Alert.created_at)).where(Alert.dedupe_key.startswith(prefix))
            )

    def check(self) -> int:
        """Judge the last complete hour; returns how many alerts were queued."""
        now = self._clock.now()
        end = _hour_start(now)
        hour = end - HOUR
        queued = 0
        for brand in self._config.brands:
            for metric, where in (
                ("complaints", (Mention.brand == brand.name, Mention.flagged.is_(True))),
                ("mentions", (Mention.brand == brand.name, Mention.from_brand.is_(False))),
            ):
                counts, starts = self._hourly(*where, end=end)
                if not counts:
                    continue
                prefix = f"spike:{brand.name}:{metric}:"
                decision = evaluate_latest(counts, starts, last_spike_at=self._last_alert(prefix))
                if not decision.is_spike:
                    continue
                queued += self._queue_spike(prefix, brand.name, metric, hour, where, decision)
        for source in self._config.sources:
            counts, starts = self._hourly(Mention.source == source, end=end)
            if not counts:
                continue
            decision = evaluate_latest(counts, starts)
            silent_since = hour - (decision.silent_hours - 1) * HOUR
            if (
                decision.is_drop
                and self._repository.queue_alert(
                    dedupe_key=f"ops:silent:{source}:{silent_since:%Y-%m-%dT%H}",  # once per outage
                    kind="operations",
                    at=now,
                    payload={
                        "source": source,
                        "problem": " ".join(decision.reasons[-1:]),
                        "check": f"the {source} source and its credentials",
                    },
                )
            ):
                queued += 1
        return queued

    def _queue_spike(
        self,
        prefix: str,
        brand: str,
        metric: str,
        hour: datetime,
        where: tuple[ColumnElement[bool], ...],
        decision: SpikeDecision,
    ) -> int:
        with self._repository.sessions() as session:
            rows = session.execute(
                select(Mention.text, Mention.category)
                .where(Mention.created_at >= hour, Mention.created_at < hour + HOUR, *where)
                .limit(SAMPLE_LIMIT)
            ).all()
        terms = self._config.brand(brand).terms
        explanation = explain_spike([r[0] for r in rows], [r[1] for r in rows], ignore=terms)
        payload = {
            "brand": brand,
            "metric": metric,
            "hour": hour.isoformat(),
            **decision.as_dict(),
            **explanation,
        }
        log.warning("spike: %s %s: %s", brand, metric, "; ".join(decision.reasons))
        return int(
            self._repository.queue_alert(
                dedupe_key=f"{prefix}{hour:%Y-%m-%dT%H}",
                kind="spike",
                at=self._clock.now(),
                brand=brand,
                payload=payload,
            )
        )
