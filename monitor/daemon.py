"""The daemon: APScheduler jobs that poll each source, re-read engagement and send alerts.

One job per source (`max_instances=1`, jitter), each wrapped so that a failing source backs
off and records its error while the others keep polling. Stopping waits for the jobs in hand,
so a batch that was fetched is committed (with its cursor) or not at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from connectors import build_connector
from connectors.base import Connector
from connectors.errors import FatalSourceError, RetriableSourceError
from core.clock import Clock
from monitor.alerts import AlertSink, Dispatcher, backoff_seconds
from monitor.config import AppConfig, ConfigError
from monitor.digest.service import RETRY_INTERVAL_SECONDS, digest_cron_trigger, send_due_digest
from monitor.drafts import ReplyDrafter
from monitor.learning import BrandLearner
from monitor.pipeline import Pipeline
from monitor.spikes import SpikeWatch
from monitor.tracking import EngagementTracker
from storage.db import open_database
from storage.labels import LabelStore
from storage.repository import Repository

if TYPE_CHECKING:
    from monitor.slack import SocketModeHandle

log = logging.getLogger(__name__)

FATAL_PAUSE = timedelta(hours=1)


class Daemon:
    """Everything a running brandmon holds; the scheduler only calls its methods."""

    def __init__(
        self,
        config: AppConfig,
        *,
        clock: Clock,
        sink: AlertSink,
        engine: Engine | None = None,
        connectors: dict[str, Connector] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.engine = engine or open_database(config.storage.url)
        self.repository = Repository(self.engine)
        self.pipeline = Pipeline(config, self.repository, clock=clock)
        self.sink = sink
        self.dispatcher = Dispatcher(
            self.repository,
            sink,
            clock=clock,
            max_attempts=config.alerting.max_attempts,
            drafter=ReplyDrafter(config),
        )
        self.connectors = connectors if connectors is not None else self._build_connectors()
        self.tracker = EngagementTracker(config, self.repository, self.connectors, clock=clock)
        self.spikes = SpikeWatch(config, self.repository, clock=clock)
        self.learner = BrandLearner(config, LabelStore(self.engine), clock=clock)
        for brand in config.brands:  # each brand's judgement starts from what it last learned
            self.pipeline.judge_for(brand.name).adjustment = self.learner.stored(brand.name)
        self._scheduler: BackgroundScheduler | None = None
        self._socket_mode: SocketModeHandle | None = None  # Slack buttons, when configured

    def _build_connectors(self) -> dict[str, Connector]:
        """One connector per enabled source; a source that cannot start is a config error."""
        built: dict[str, Connector] = {}
        for name, source in self.config.sources.items():
            if not source.enabled:
                continue
            try:
                built[name] = build_connector(source, self.config.brands, clock=self.clock)
            except (ValueError, FatalSourceError, OSError) as exc:
                raise ConfigError("config", f"sources.{name}", str(exc)) from exc
        return built

    # -- jobs -----------------------------------------------------------------------------------

    def poll(self, name: str) -> int:
        """Fetch and store one batch from source `name`; returns new mentions stored."""
        now = self.clock.now()
        state = self.repository.source_state(name)
        if state and state.paused_until and state.paused_until > now:
            log.debug("source %s paused until %s", name, state.paused_until)
            return 0
        failures = (state.consecutive_failures if state else 0) + 1
        connector = self.connectors[name]
        try:
            result = connector.fetch_new(state.cursor if state else None)
            stored = self.pipeline.process(name, result, brand=self.config.sources[name].brand)
        except RetriableSourceError as exc:
            self._back_off(name, exc, failures=failures, retry_after=exc.retry_after)
            return 0
        except FatalSourceError as exc:
            self._pause(name, exc)
            return 0
        except Exception as exc:  # one bad source must never stop the others
            log.exception("source %s: unexpected error", name)
            self._back_off(name, exc, failures=failures, retry_after=None)
            return 0
        if result.skipped:
            log.warning("source %s: skipped %d malformed items", name, result.skipped)
        log.info(
            "source %s: %d new, %d already known, %d alerts queued",
            name,
            stored.inserted,
            stored.duplicates,
            stored.alerts_queued,
        )
        return stored.inserted

    def _back_off(
        self, name: str, exc: Exception, *, failures: int, retry_after: float | None
    ) -> None:
        now = self.clock.now()
        delay = max(retry_after or 0.0, backoff_seconds(failures))
        self.repository.record_failure(
            name,
            error=str(exc),
            at=now,
            paused_until=now + timedelta(seconds=delay),
            paused_reason=f"backing off after {failures} failure(s) in a row",
        )
        log.warning("source %s: %s; retrying in %.0fs", name, exc, delay)

    def _pause(self, name: str, exc: FatalSourceError) -> None:
        now = self.clock.now()
        what = f"sources.{name}.{exc.credential}" if exc.credential else "its credentials"
        reason = f"{exc} — check {what}"
        self.repository.record_failure(
            name, error=reason, at=now, paused_until=now + FATAL_PAUSE, paused_reason=reason
        )
        log.error("source %s paused: %s", name, reason)
        self.repository.queue_alert(
            dedupe_key=f"ops:fatal:{name}:{now:%Y-%m-%dT%H}",
            kind="operations",
            at=now,
            payload={"source": name, "problem": str(exc), "check": what},
        )

    def refresh_engagement(self) -> int:
        """Re-read engagement of tracked posts that are due; returns how many were read."""
        return self.tracker.refresh_due()

    def dispatch_alerts(self) -> int:
        return self.dispatcher.dispatch()

    def learn(self) -> int:
        """Relearn each brand's judgement from its team's labels; returns brands updated."""
        updated = 0
        for brand in self.config.brands:
            judge = self.pipeline.judge_for(brand.name)
            learned = self.learner.learn(brand.name, judge)
            if learned.adjustment is not None:
                judge.adjustment = learned.adjustment
                updated += 1
        return updated

    def run_once(self) -> None:
        """Poll every enabled source once, refresh what is due, send pending alerts."""
        for name in self.connectors:
            self.poll(name)
        self.refresh_engagement()
        self.spikes.check()
        self.dispatch_alerts()

    # -- scheduling -----------------------------------------------------------------------------

    def _guarded(self, job: str, func: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                func()
            except Exception:  # keep the scheduler alive; the job runs again next time
                log.exception("job %s failed", job)

        return run

    def start(self) -> BackgroundScheduler:
        """Start the scheduler in background threads; `stop()` ends it."""
        # A run skipped because the previous one is still going is normal (max_instances=1);
        # our own jobs log their failures, so only the scheduler's errors are worth showing.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=len(self.connectors) + 5)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
        )
        for name, source in self.config.sources.items():
            if name not in self.connectors:
                continue
            scheduler.add_job(
                self._guarded(f"poll:{name}", lambda n=name: self.poll(n)),
                "interval",
                seconds=source.interval_seconds,
                jitter=source.jitter_seconds or None,
                id=f"poll:{name}",
                next_run_time=_soon(),
            )
        engagement = self.config.engagement.refresh_interval_seconds
        scheduler.add_job(
            self._guarded("engagement", self.refresh_engagement),
            "interval",
            seconds=engagement,
            id="engagement",
            next_run_time=_soon(),
        )
        scheduler.add_job(
            self._guarded("dispatch", self.dispatch_alerts),
            "interval",
            seconds=self.config.alerting.dispatch_interval_seconds,
            id="dispatch",
            next_run_time=_soon(),
        )
        scheduler.add_job(
            self._guarded("spikes", self.spikes.check),
            "interval",
            seconds=self.config.alerting.spike_check_interval_seconds,
            id="spikes",
            next_run_time=_soon(),
        )
        if self.config.learning.enabled:
            scheduler.add_job(
                self._guarded("learn", self.learn),
                "interval",
                seconds=self.config.learning.interval_seconds,
                id="learn",
                next_run_time=_soon(),
            )
        if self.config.digest.enabled:
            digest = self._guarded(
                "digest", lambda: send_due_digest(self.config, self.engine, clock=self.clock)
            )
            scheduler.add_job(digest, digest_cron_trigger(self.config), id="digest")
            # The ledger makes this safe beside the cron job: it retries failed sends and
            # catches up a week missed while the daemon was down.
            scheduler.add_job(
                digest,
                "interval",
                seconds=RETRY_INTERVAL_SECONDS,
                id="digest-retry",
                next_run_time=_soon(),
            )
        scheduler.start()
        self._scheduler = scheduler
        slack = self.config.alerting.slack
        if self.config.alerting.sink == "slack" and slack.app_token is not None:
            from monitor.slack import start_socket_mode

            self._socket_mode = start_socket_mode(self.config, self.engine, self.clock)
        return scheduler

    def stop(self) -> None:
        """Wait for running jobs (the batch in hand is committed), then stop."""
        if self._socket_mode is not None:
            self._socket_mode.close()
            self._socket_mode = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        for connector in self.connectors.values():
            connector.close()

    def run_forever(self, stop: threading.Event) -> None:
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()
            self.dispatch_alerts()


def _soon() -> datetime:
    """First run time for a job: now, on the wall clock APScheduler runs on."""
    return datetime.now(UTC)
