"""Re-reading the engagement of flagged posts, scoring their viral risk, raising updates.

Each due post gets a snapshot, a risk assessment (rules/viral.py, against what is normal for
its brand on its network: monitor/history.py) and its next checkpoint;
when its risk is at or above `alerting.risk_threshold` an "update" alert is queued in the same
transaction, at most one per snapshot, and the first time it crosses
`alerting.escalation_threshold` the update is marked `escalate`.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Mapping

from connectors.base import Connector
from core.clock import Clock
from core.records import Engagement
from monitor.config import AppConfig
from monitor.history import Baselines
from rules.viral import Snapshot, assess_risk, next_check_at
from storage.repository import DueRefresh, NewAlert, Repository

log = logging.getLogger(__name__)

REFRESH_BATCH = 100  # the most ids X and Reddit accept in one lookup


def _snapshot(at: object, e: object) -> Snapshot:
    return Snapshot(
        at=at,  # type: ignore[arg-type]
        likes=e.likes,  # type: ignore[attr-defined]
        reposts=e.reposts,  # type: ignore[attr-defined]
        replies=e.replies,  # type: ignore[attr-defined]
        quotes=e.quotes,  # type: ignore[attr-defined]
    )


class EngagementTracker:
    def __init__(
        self,
        config: AppConfig,
        repository: Repository,
        connectors: Mapping[str, Connector],
        *,
        clock: Clock,
        stop: threading.Event | None = None,
    ) -> None:
        self._config = config
        self._stop = stop or threading.Event()
        self._repository = repository
        self._connectors = connectors
        self._clock = clock
        self._baselines = Baselines(repository)

    def refresh_due(self) -> int:
        """Refresh every post whose checkpoint has come; returns how many were read."""
        now = self._clock.now()
        by_source: dict[str, list[DueRefresh]] = defaultdict(list)
        for item in self._repository.due_refreshes(now):
            by_source[item.source].append(item)
        refreshed = 0
        for source, items in by_source.items():
            connector = self._connectors.get(source)
            if connector is None:
                continue
            for start in range(0, len(items), REFRESH_BATCH):
                if self._stop.is_set():  # the daemon is stopping: the rest stay due
                    return refreshed
                chunk = items[start : start + REFRESH_BATCH]
                try:
                    found = connector.refresh_engagement([i.native_id for i in chunk])
                except Exception as exc:  # retried at the next run; polling is unaffected
                    log.warning("source %s: engagement refresh failed: %s", source, exc)
                    break
                for item in chunk:
                    self._assess(item, found.get(item.native_id))
                    refreshed += 1
        return refreshed

    def _assess(self, item: DueRefresh, engagement: Engagement | None) -> None:
        now = self._clock.now()
        history = [_snapshot(s.taken_at, s) for s in self._repository.snapshots(item.mention_id)]
        if engagement is not None:
            history.append(_snapshot(now, engagement))
        risk = assess_risk(
            posted_at=item.created_at,
            snapshots=history,
            author_followers=item.followers,
            now=now,
            baseline=self._baselines.get(item.brand, item.network, now=now),
            scope=f"{item.brand}'s",
        )
        next_at = next_check_at(
            posted_at=item.created_at,
            snapshots=history,
            now=now,
            checkpoints_minutes=self._config.engagement.checkpoints_minutes,
        )
        alerting = self._config.alerting
        alert = None
        if engagement is not None and risk.score >= alerting.risk_threshold:
            escalate = (
                risk.score >= alerting.escalation_threshold
                and (item.risk or 0.0) < alerting.escalation_threshold
            )
            alert = NewAlert(
                dedupe_key=f"update:{item.network}:{item.native_id}:{len(history)}",
                kind="update",
                payload={**risk.as_dict(), "escalate": escalate},
            )
        self._repository.record_engagement(
            item.mention_id,
            engagement,
            at=now,
            next_refresh_at=next_at,
            risk=risk.score,
            alert=alert,
        )
