"""Hourly storm watch: complaint and mention spikes per brand, silent sources per source.

Counts come from SQL (one GROUP BY over the look-back window), the judgement from
rules/spike.py. A spike queues one "spike" alert per brand, metric and hour, with its
explanation (top phrases, categories, places, sample posts by spread: monitor/incidents.py);
a source gone silent queues an "operations" alert. Each check first looks for a burst of
complaints that starts an incident before the hour is over (monitor/incidents.IncidentWatch).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select

from core.clock import Clock
from monitor.config import AppConfig
from monitor.incidents import IncidentWatch, explain
from rules.spike import SpikeDecision, evaluate_latest
from storage.models import Alert, Mention
from storage.repository import Repository

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
HISTORY = timedelta(weeks=4, hours=72)  # what rules.spike needs for its full baseline
CATCH_UP = timedelta(hours=24)
LAGGING = timedelta(hours=2)
KEY_HOUR = "%Y-%m-%dT%H"


def _hour_start(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


class SpikeWatch:
    def __init__(self, config: AppConfig, repository: Repository, *, clock: Clock) -> None:
        self._config = config
        self._repository = repository
        self._clock = clock
        self._judged_until: datetime | None = None
        self.incidents = IncidentWatch(config, repository, clock=clock)

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

    def _last_spike_hour(self, prefix: str) -> datetime | None:
        """The hour of the newest spike alert with this key prefix (keys end in the hour)."""
        with self._repository.sessions() as session:
            key = session.scalar(
                select(func.max(Alert.dedupe_key)).where(Alert.dedupe_key.startswith(prefix))
            )
        return datetime.strptime(key[len(prefix) :], KEY_HOUR).replace(tzinfo=UTC) if key else None

    def _hours_to_judge(self, end: datetime) -> list[datetime]:
        """Every complete hour since the last check (at most a day), oldest first, so a slow
        or paused daemon still judges each hour once."""
        first = self._judged_until or end - HOUR
        first = max(first, end - CATCH_UP)
        hours = []
        while first < end:
            hours.append(first)
            first += HOUR
        return hours

    def _settled_until(self) -> datetime | None:
        """Hours before this are complete in the database: every working source has polled
        successfully since they ended (a post is counted in the hour it was posted, and it
        arrives with the next poll). A source failing for longer than `LAGGING` is left out,
        so one broken source (already an ops alert) does not stop storm detection."""
        now = self._clock.now()
        enabled = {n for n, s in self._config.sources.items() if s.enabled}
        states = [s for s in self._repository.source_states() if s.source in enabled]
        if len(states) < len(enabled):
            return None  # a source has not polled even once yet
        times = [
            s.last_success_at
            for s in states
            if s.last_success_at is not None and now - s.last_success_at <= LAGGING
        ]
        return _hour_start(min(times)) if times else None

    def check(self) -> int:
        """Look for a burst, then judge the settled hours not judged yet; returns how many
        alerts were queued."""
        queued = self.incidents.check()
        settled = self._settled_until()
        if settled is None:
            return queued
        end = min(settled, _hour_start(self._clock.now()))
        hours = self._hours_to_judge(end)
        for brand in (b for b in self._config.brands if not b.competitor):  # never alerted
            for metric, where in (
                (
                    "complaints",
                    # from_brand: always false for complaints; said so that the range scan
                    # uses ix_mentions_brand_own
                    (
                        Mention.brand == brand.name,
                        Mention.from_brand.is_(False),
                        Mention.flagged.is_(True),
                    ),
                ),
                ("mentions", (Mention.brand == brand.name, Mention.from_brand.is_(False))),
            ):
                counts, starts = self._hourly(*where, end=end)
                prefix = f"spike:{brand.name}:{metric}:"
                for hour in hours:
                    if hour not in starts:
                        continue
                    n = starts.index(hour) + 1
                    decision = evaluate_latest(
                        counts[:n], starts[:n], last_spike_at=self._last_spike_hour(prefix)
                    )
                    if decision.is_spike:
                        queued += self._queue_spike(
                            prefix, brand.name, metric, hour, where, decision
                        )
        queued += self._check_silence(end)
        self._judged_until = end
        return queued

    def _check_silence(self, end: datetime) -> int:
        """Operations alerts for sources gone silent, once per silence."""
        hour = end - HOUR
        queued = 0
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
                    at=self._clock.now(),
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
        terms = self._config.brand(brand).terms
        explanation = explain(self._repository, where, start=hour, end=hour + HOUR, terms=terms)
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
                dedupe_key=f"{prefix}{hour.strftime(KEY_HOUR)}",
                kind="spike",
                at=self._clock.now(),
                brand=brand,
                payload=payload,
            )
        )
