"""The daemon: APScheduler jobs that poll each source, re-read engagement and send alerts.

One job per source (`max_instances=1`, jitter), each wrapped so that a failing source backs
off and records its error while the others keep polling. Stopping waits for the jobs in hand,
so a batch that was fetched is committed (with its cursor) or not at all.

Several daemons may share one PostgreSQL database. Each source is polled by the daemon that
holds its lease, and the spike watch, the engagement refresh and the digest by the daemon that
holds theirs; a heartbeat renews a daemon's leases, so when it dies they run out and another
daemon takes them over. Every daemon sends alerts, each alert claimed before it is sent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from connectors import build_connector
from connectors.base import Connector
from connectors.errors import BudgetSpentError, FatalSourceError, RetriableSourceError
from core.clock import Clock
from monitor.alerts import AlertSink, Dispatcher, backoff_seconds
from monitor.config import AppConfig, ConfigError
from monitor.digest.service import RETRY_INTERVAL_SECONDS, digest_cron_trigger, send_due_digest
from monitor.drafts import ReplyDrafter
from monitor.learning import BrandLearner
from monitor.metrics import MetricsServer, PollCounters
from monitor.pipeline import Pipeline
from monitor.spikes import SpikeWatch
from monitor.tracking import EngagementTracker
from storage.db import open_database
from storage.labels import LabelStore
from storage.reads import StoredReadLedger
from storage.repository import LeaseFence, LeaseLostError, Repository

if TYPE_CHECKING:
    from monitor.slack import SocketModeHandle

log = logging.getLogger(__name__)

FATAL_PAUSE = timedelta(hours=1)
# A paused_reason starting with this is a rejected credential: a restart (which may carry new
# credentials) ends the pause instead of waiting out the hour.
CREDENTIALS_REJECTED = "credentials rejected: "
# A daemon renews its leases every LEASE_RENEW_SECONDS; a lease not renewed for LEASE_SECONDS
# (its daemon died or hung) is taken over by the next daemon that asks.
LEASE_RENEW_SECONDS = 10.0
LEASE_SECONDS = 30.0
CLUSTER_JOBS = ("engagement", "spikes", "digest")
# stop() waits this long for the jobs in hand, then leaves them: a systemd unit's stop
# timeout (TimeoutStopSec, 30 s in ours; 10 s promised) must never be the thing that ends us.
STOP_DEADLINE_SECONDS = 8.0


def daemon_id() -> str:
    """This process's name in the leases table: host, pid and a random part."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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
        lease_seconds: float = LEASE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.clock = clock
        self.engine = engine or open_database(config.storage.url)
        self.repository = Repository(self.engine)
        self.pipeline = Pipeline(config, self.repository, clock=clock)
        self.sink = sink
        self.holder = daemon_id()
        self.lease_seconds = lease_seconds
        self.stopping = threading.Event()  # set on stop: dispatch ends between two alerts
        self.counters = PollCounters()
        self.monotonic = monotonic  # the stop deadline's clock (tests inject one)
        self._jobs_running = 0
        self._jobs_done = threading.Condition()
        self.metrics: MetricsServer | None = None
        self.dispatcher = Dispatcher(
            self.repository,
            sink,
            clock=clock,
            max_attempts=config.alerting.max_attempts,
            drafter=ReplyDrafter(config),
            stop=self.stopping,
        )
        self.connectors = connectors if connectors is not None else self._build_connectors()
        for name, connector in self.connectors.items():
            connector.bill_reads_to(StoredReadLedger(self.repository, name))
            connector.stop_on(self.stopping)
        self._free_leases_of_dead_processes()
        for name in self.repository.clear_credential_pauses(
            self.connectors, marker=CREDENTIALS_REJECTED
        ):
            log.info("source %s: credentials pause ended by the restart", name)
        self.tracker = EngagementTracker(
            config, self.repository, self.connectors, clock=clock, stop=self.stopping
        )
        self.spikes = SpikeWatch(config, self.repository, clock=clock)
        self.learner = BrandLearner(config, LabelStore(self.engine), clock=clock)
        for brand in config.brands:  # each brand's judgement starts from what it last learned
            self.pipeline.judge_for(brand.name).adjustment = self.learner.stored(brand.name)
        self._scheduler: BackgroundScheduler | None = None
        self._lease_lock = threading.Lock()
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

    def _free_leases_of_dead_processes(self) -> None:
        """A daemon on this host that was killed (SIGKILL, OOM) left leases that would keep
        its restart from polling for a lease's length: its process is gone, so free them."""
        host = self.holder.split(":", 1)[0]
        for lease in self.repository.leases():
            lease_host, _, rest = lease.holder.partition(":")
            pid = rest.split(":", 1)[0]
            if lease_host == host and pid.isdigit() and not _process_exists(int(pid)):
                self.repository.release_lease(lease.name, holder=lease.holder)
                log.info("lease %s: its daemon (pid %s) is gone; freed", lease.name, pid)

    def holds(self, lease: str) -> bool:
        """Take or renew `lease` for this daemon; False when another live daemon has it, or
        when this one is stopping (a job that starts as the stop gives the leases up must
        not take one back)."""
        with self._lease_lock:  # the stop gives the leases up only between two takes
            if self.stopping.is_set():
                return False
            now = self.clock.now()
            until = now + timedelta(seconds=self.lease_seconds)
            return self.repository.acquire_lease(lease, holder=self.holder, now=now, until=until)

    def renew_leases(self) -> int:
        until = self.clock.now() + timedelta(seconds=self.lease_seconds)
        return self.repository.renew_leases(holder=self.holder, until=until)

    def poll(self, name: str) -> int:
        """Fetch and store one batch from source `name`; returns new mentions stored.
        Only the daemon holding the source's lease polls it."""
        lease = f"source:{name}"
        if not self.holds(lease):
            return 0
        now = self.clock.now()
        state = self.repository.source_state(name)
        if state and state.paused_until and state.paused_until > now:
            log.debug("source %s paused until %s", name, state.paused_until)
            return 0
        failures = (state.consecutive_failures if state else 0) + 1
        connector = self.connectors[name]
        failed = True
        try:
            result = connector.fetch_new(state.cursor if state else None)
            stored = self.pipeline.process(
                name,
                result,
                brand=self.config.sources[name].brand,
                fence=LeaseFence(lease, self.holder),
            )
            failed = False
        except BudgetSpentError as exc:  # the day's budget: a pause, not a failure
            failed = False
            self._budget_spent(name, exc)
            return 0
        except LeaseLostError:  # another daemon took the source over mid-poll: its cursor stands
            log.warning("source %s: taken over by another daemon; batch dropped", name)
            return 0
        except RetriableSourceError as exc:
            if self.stopping.is_set():  # cut short by the stop, not the source's fault
                log.info("source %s: poll ended by the stop; nothing of it stored", name)
                return 0
            self._back_off(name, exc, failures=failures, retry_after=exc.retry_after)
            return 0
        except FatalSourceError as exc:
            self._pause(name, exc)
            return 0
        except Exception as exc:  # one bad source must never stop the others
            log.exception("source %s: unexpected error", name)
            self._back_off(name, exc, failures=failures, retry_after=None)
            return 0
        finally:
            self.counters.count(name, failed=failed)
        if result.skipped or stored.skipped:
            log.warning(
                "source %s: skipped %d malformed items, %d posts that could not be stored",
                name,
                result.skipped,
                stored.skipped,
            )
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
        variables = self._credential_variables(name, exc.credential)
        if variables:
            what += f" (environment variable {' / '.join(variables)})"
        reason = f"{CREDENTIALS_REJECTED}{exc} — check {what}"
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

    def _budget_spent(self, name: str, exc: BudgetSpentError) -> None:
        """Stop reading until the next UTC day; operations hear of it once that day."""
        now = self.clock.now()
        self.repository.pause_source(name, until=exc.resume_at, reason=str(exc))
        log.warning("source %s paused: %s", name, exc)
        self.repository.queue_alert(
            dedupe_key=f"ops:budget:{name}:{now:%Y-%m-%d}",
            kind="operations",
            at=now,
            payload={
                "source": name,
                "problem": str(exc),
                "check": f"sources.{name}.daily_budget_usd",
            },
        )

    def _credential_variables(self, name: str, credential: str | None) -> list[str]:
        """The environment variables the source's credential keys were read from."""
        if not credential:
            return []
        keys = [f"sources.{name}.{part}" for part in credential.split("/")]
        return [var for key in keys if (var := self.config.env_var(key))]

    def refresh_engagement(self) -> int:
        """Re-read engagement of tracked posts that are due; returns how many were read."""
        if not self.holds("job:engagement"):
            return 0
        return self.tracker.refresh_due()

    def check_spikes(self) -> None:
        if self.holds("job:spikes"):
            self.spikes.check()

    def send_digest(self) -> None:
        if self.holds("job:digest"):
            send_due_digest(self.config, self.engine, clock=self.clock)

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
        self.check_spikes()
        self.dispatch_alerts()

    # -- scheduling -----------------------------------------------------------------------------

    def _guarded(self, job: str, func: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            with self._jobs_done:
                self._jobs_running += 1
            try:
                if not self.stopping.is_set():
                    func()
            except Exception:  # keep the scheduler alive; the job runs again next time
                log.exception("job %s failed", job)
            finally:
                with self._jobs_done:
                    self._jobs_running -= 1
                    self._jobs_done.notify_all()

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
            self._guarded("leases", self.renew_leases),
            "interval",
            seconds=LEASE_RENEW_SECONDS,
            id="leases",
        )
        scheduler.add_job(
            self._guarded("spikes", self.check_spikes),
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
            digest = self._guarded("digest", self.send_digest)
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
        if self.config.metrics.port is not None:
            self.metrics = MetricsServer(
                self, host=self.config.metrics.host, port=self.config.metrics.port
            )
        slack = self.config.alerting.slack
        if self.config.alerting.sink == "slack" and slack.app_token is not None:
            from monitor.slack import start_socket_mode

            self._socket_mode = start_socket_mode(self.config, self.engine, self.clock)
        return scheduler

    def stop(self) -> bool:
        """Stop within STOP_DEADLINE_SECONDS: the batch in hand is committed (or, cut short,
        not at all), the send in hand finishes, dispatch stops before the next alert, no new
        request starts; then give up this daemon's leases. Returns False when a job was still
        in flight at the deadline (a request hanging on a slow server): it is left behind
        and the caller exits without it; its batch commits all or nothing and, the leases
        gone, is fenced off if another daemon has taken its source."""
        self.stopping.set()
        if self.metrics is not None:
            self.metrics.close()
            self.metrics = None
        if self._socket_mode is not None:
            self._socket_mode.close()
            self._socket_mode = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        finished = self._wait_for_jobs(STOP_DEADLINE_SECONDS)
        if finished:
            for connector in self.connectors.values():
                connector.close()
        else:
            log.warning(
                "stopping: %d job(s) still in flight after %.0fs; leaving them",
                self._jobs_running,
                STOP_DEADLINE_SECONDS,
            )
        try:
            with self._lease_lock:
                self.repository.release_leases(holder=self.holder)
        except Exception:  # the leases run out by themselves; stopping must not fail on it
            log.warning("could not release leases; they expire in %.0fs", self.lease_seconds)
        if finished:
            self.stopping.clear()  # no job runs any more; a later run_once works as usual
        return finished

    def _wait_for_jobs(self, seconds: float) -> bool:
        deadline = self.monotonic() + seconds
        with self._jobs_done:
            while self._jobs_running:
                left = deadline - self.monotonic()
                if left <= 0:
                    return False
                self._jobs_done.wait(left)
        return True

    def run_forever(self, stop: threading.Event) -> bool:
        """Run until `stop` is set; returns stop()'s answer (False: a job was left behind)."""
        self.start()
        try:
            stop.wait()
        finally:
            finished = self.stop()  # pending alerts stay in the outbox for the next start
        return finished


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _soon() -> datetime:
    """First run time for a job: now, on the wall clock APScheduler runs on."""
    return datetime.now(UTC)
