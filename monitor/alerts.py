"""The alert outbox dispatcher and the sink interface it delivers through.

Alerts are rows written before anything is sent. The dispatcher counts an attempt in the
database *before* calling the sink, so after a crash a sink can see that an earlier attempt may
have gone through (`alert.attempts > 0`) and check before sending again. Sinks raise
`SinkRetryError` for transient trouble (backoff, honour Retry-After) and `SinkBlockedError` when
nothing can be sent until a human fixes the setup (alerts stay pending); neither uses up an
alert's attempts. Any other exception is about the alert itself. A sink may also
define `hold_until(view) -> datetime | None` to defer an alert (quiet hours, a snoozed post):
a held alert is rescheduled without counting an attempt, so holding never uses up retries.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from core.clock import Clock
from monitor.alert_model import AlertCard, build_card
from storage.models import Alert, Author, Mention
from storage.repository import Repository

if TYPE_CHECKING:
    from monitor.drafts import ReplyDrafter

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 3600.0
BLOCKED_RETRY_SECONDS = 300.0
# How long a claimed alert is hidden from other daemons: far longer than one send can take
# (Slack's timeout), so only a daemon that died mid-send lets it come back, with attempts > 0.
CLAIM_SECONDS = 300.0
# Backoff cap while the sink is down: once it is back, the backlog goes out within minutes.
TRANSIENT_CAP_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class AlertView:
    """What a sink needs to render one alert: the outbox row, its post and author, and the
    typed card (monitor/alert_model.py) the dispatcher decided for it."""

    alert: Alert
    mention: Mention | None
    author: Author | None
    card: AlertCard | None = None

    def decided(self) -> AlertCard:
        """The card; built with the default thresholds when the view was made by hand."""
        return self.card or build_card(self.alert, self.mention, self.author)


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str | None = None
    ts: str | None = None


class SinkRetryError(Exception):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SinkBlockedError(Exception):
    """Sending cannot work until the setup is fixed (bad token, unknown channel)."""


class AlertSink(Protocol):
    name: str

    def send(self, view: AlertView) -> Delivery:
        """Deliver one alert; raise SinkRetryError / SinkBlockedError on failure."""
        ...


def backoff_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: up to base * 2^(attempt-1), capped."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


class Dispatcher:
    """Sends pending alerts through one sink and records the outcome of every attempt.

    Several daemons may dispatch from one outbox: each alert is claimed in the database
    before it is sent (`Repository.claim_alert`), so exactly one of them sends it. When the
    sink is rate-limited or down (`SinkRetryError`) every send through it waits, cluster-wide,
    until Retry-After or the backoff: a 429 on one alert is a 429 for the workspace. Such
    waits never use up an alert's attempts; only errors about the alert itself do. `stop`
    (set on SIGTERM) ends a round between two alerts.
    """

    def __init__(
        self,
        repository: Repository,
        sink: AlertSink,
        *,
        clock: Clock,
        max_attempts: int = 8,
        drafter: ReplyDrafter | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self._repository = repository
        self._sink = sink
        self._clock = clock
        self._max_attempts = max_attempts
        self._drafter = drafter
        self._stop = stop or threading.Event()
        self.pause_name = f"pause:{sink.name}"

    def dispatch(self, page: int = 100) -> int:
        """Send everything that is due, each alert at most once per call; returns how many
        were sent. Stops early when the sink says nothing can be sent, or on `stop`.

        A sweep that sent something is followed by another: the alerts that were waiting
        for an earlier alert about the same post may go now.
        """
        sent, after_id, progress = 0, 0, 0
        while not self._stop.is_set():
            now = self._clock.now()
            paused = self._repository.pause_until(self.pause_name)
            if paused is not None and paused > now:
                log.debug("alerts: %s paused until %s", self._sink.name, paused)
                return sent
            alerts = self._repository.pending_alerts(now, page, after_id=after_id)
            delivered, halted = self._send_page(alerts) if alerts else (0, False)
            sent, progress = sent + delivered, progress + delivered
            if halted:
                return sent
            if len(alerts) < page:  # the end of a sweep
                if not progress:
                    return sent
                after_id, progress = 0, 0
            else:
                after_id = alerts[-1].id
        return sent

    def _send_page(self, alerts: list[Alert]) -> tuple[int, bool]:
        """Send one page of alerts; returns (sent, halted)."""
        sent = 0
        hold: Callable[[AlertView], datetime | None] | None = getattr(
            self._sink, "hold_until", None
        )
        for alert in alerts:
            if self._stop.is_set():
                return sent, True
            found = self._repository.mention(alert.mention_id) if alert.mention_id else None
            view = AlertView(alert, *(found or (None, None)))
            until = hold(view) if hold is not None else None
            if until is not None:
                self._repository.mark_attempt_failed(
                    alert.id,
                    error=f"held by {self._sink.name} until {until:%Y-%m-%d %H:%M %Z}",
                    retry_at=until,
                )
                continue
            now = self._clock.now()
            before = self._repository.claim_alert(
                alert.id, now=now, hold_until=now + timedelta(seconds=CLAIM_SECONDS)
            )
            if before is None:
                continue  # another daemon has it
            alert.attempts = before  # what the sink checks: could an earlier try have landed?
            if self._drafter is not None:
                view = self._drafter.prepare(view, self._repository, now)
            try:
                delivery = self._sink.send(view)
            except SinkBlockedError as exc:
                log.error("alerts: %s cannot send (%s); alerts stay pending", self._sink.name, exc)
                retry_at = self._clock.now() + timedelta(seconds=BLOCKED_RETRY_SECONDS)
                self._repository.mark_attempt_failed(alert.id, error=str(exc), retry_at=retry_at)
                return sent, True
            except SinkRetryError as exc:
                self._pause(alert, exc)
                return sent, True
            except Exception as exc:  # a problem with this alert: retried, then given up
                self._retry_later(alert, exc)
                continue
            self._repository.mark_sent(
                alert.id, at=self._clock.now(), channel=delivery.channel, ts=delivery.ts
            )
            sent += 1
        return sent, False

    def _pause(self, alert: Alert, exc: SinkRetryError) -> None:
        """The sink is rate-limited or unreachable: this alert and every other one wait, and
        no attempt is used up (the alert is never failed for it)."""
        if exc.retry_after is not None:
            delay = max(exc.retry_after, 0.0)
        else:
            delay = min(TRANSIENT_CAP_SECONDS, backoff_seconds(alert.attempts + 1))
        retry_at = self._clock.now() + timedelta(seconds=delay)
        log.warning(
            "alerts: %s unavailable (%s); all sends wait %.0fs", self._sink.name, exc, delay
        )
        self._repository.set_pause(self.pause_name, until=retry_at, reason=str(exc))
        self._repository.mark_attempt_failed(alert.id, error=str(exc), retry_at=retry_at)

    def _retry_later(self, alert: Alert, exc: Exception) -> None:
        attempts = alert.attempts + 1
        if attempts >= self._max_attempts:
            log.error(
                "alerts: giving up on alert %s after %d attempts: %s", alert.id, attempts, exc
            )
            self._repository.mark_attempt_failed(alert.id, error=str(exc), retry_at=None)
            return
        delay = backoff_seconds(attempts)
        log.warning("alerts: alert %s failed (%s); retry in %.0fs", alert.id, exc, delay)
        retry_at = self._clock.now() + timedelta(seconds=delay)
        self._repository.mark_attempt_failed(alert.id, error=str(exc), retry_at=retry_at)
