"""Build a brand's weekly digest, and send the week that is due exactly once.

`send_due_digest` is what the daemon's scheduler calls: on its weekly cron trigger, and again
every few minutes so that a failed send is retried once its backoff has passed. It is cheap
and safe to call at any time: it works out which week is due, claims each brand's week in the
ledger (only one caller ever wins a claim) and sends only what it claimed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from core.clock import Clock
from monitor.alerts import backoff_seconds
from monitor.config import AppConfig
from monitor.digest import ledger, mailer
from monitor.digest.charts import Chart, draw_all
from monitor.digest.figures import Figures, collect
from monitor.digest.period import Week, due_week
from monitor.digest.render import data_uri, render

log = logging.getLogger(__name__)

RETRY_INTERVAL_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Digest:
    """One brand's week, computed and drawn: ready to preview or to mail."""

    figures: Figures
    charts: list[Chart]

    @property
    def key(self) -> str:
        return f"{self.figures.week.label}-{self.figures.brand}"

    def preview_html(self) -> str:
        """A standalone HTML file: the mail's HTML with the charts as data URIs."""
        return render(self.figures, self.charts, image_src=data_uri).html

    def text(self) -> str:
        return render(self.figures, self.charts, image_src=data_uri).text

    def message(
        self, config: AppConfig, *, date: datetime, message_id: str | None = None
    ) -> EmailMessage:
        rendered = render(
            self.figures,
            self.charts,
            image_src=lambda chart: "cid:" + mailer.content_id(chart, self.key),
        )
        return mailer.compose(
            rendered,
            self.charts,
            key=self.key,
            sender=config.digest.smtp.sender,
            recipients=config.digest.recipients,
            date=date,
            message_id=message_id,
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one claimed send did: status is "sent", "retry" or "failed"."""

    brand: str
    week: str
    status: str
    attempts: int
    error: str | None = None
    retry_at: datetime | None = None


def build_digest(config: AppConfig, engine: Engine, *, brand: str, week: Week) -> Digest:
    figures = collect(
        engine,
        brand=brand,
        week=week,
        risk_threshold=config.alerting.risk_threshold,
        competitors=[b.name for b in config.brands if b.competitor],
        ignore_terms=config.brand(brand).terms,
    )
    return Digest(figures, draw_all(figures))


def digest_brands(config: AppConfig) -> list[str]:
    """The brands that get a digest: competitors only appear in the others' share of voice."""
    return [b.name for b in config.brands if not b.competitor]


def message_id(config: AppConfig, brand: str, week: Week) -> str:
    """One Message-ID per brand and week, whoever sends it (the scheduler or `--send`)."""
    return mailer.digest_message_id(brand, week.label, config.digest.smtp.sender)


def deliver(
    config: AppConfig,
    engine: Engine,
    claim: ledger.Claim,
    *,
    brand: str,
    week: Week,
    now: datetime,
) -> Outcome:
    """Build and send a claimed digest, and record the result in the ledger.

    Any failure (the relay down, refused credentials, even a bug while building) is logged
    and becomes a retry with backoff, so the week's digest is not lost; after
    `digest.max_attempts` attempts it is marked failed and logged as an error.
    """
    recipients = config.digest.recipients
    try:
        digest = build_digest(config, engine, brand=brand, week=week)
        message = digest.message(config, date=now, message_id=message_id(config, brand, week))
        mailer.send(message, config.digest.smtp, recipients)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        retry_at = None
        if claim.attempts < config.digest.max_attempts:
            retry_at = now + timedelta(seconds=backoff_seconds(claim.attempts))
            log.warning(
                "digest %s %s: attempt %d failed (%s); retrying at %s",
                brand,
                week.label,
                claim.attempts,
                error,
                retry_at.isoformat(),
            )
        else:
            log.error(
                "digest %s %s: giving up after %d attempts: %s",
                brand,
                week.label,
                claim.attempts,
                error,
            )
        ledger.mark_failed(engine, claim.run_id, error=error, retry_at=retry_at)
        status = "retry" if retry_at else "failed"
        return Outcome(brand, week.label, status, claim.attempts, error, retry_at)
    ledger.mark_sent(engine, claim.run_id, at=now, recipients=recipients)
    log.info("digest %s %s: sent to %d recipient(s)", brand, week.label, len(recipients))
    return Outcome(brand, week.label, "sent", claim.attempts)


def send_due_digest(config: AppConfig, engine: Engine, *, clock: Clock) -> list[Outcome]:
    """Send each brand's digest for the week that is due, unless it is sent or in hand."""
    if not config.digest.enabled:
        return []
    now = clock.now()
    schedule = config.digest
    week = due_week(
        now,
        config.timezone,
        day_of_week=schedule.day_of_week,
        hour=schedule.hour,
        minute=schedule.minute,
    )
    outcomes = []
    for brand in digest_brands(config):
        claim = ledger.claim(engine, brand=brand, week=week.label, now=now)
        if claim is None:
            continue
        outcomes.append(deliver(config, engine, claim, brand=brand, week=week, now=now))
    return outcomes


def digest_cron_trigger(config: AppConfig) -> CronTrigger:
    """The weekly trigger: the configured day and time in the configured time zone."""
    schedule = config.digest
    return CronTrigger(
        day_of_week=schedule.day_of_week,
        hour=schedule.hour,
        minute=schedule.minute,
        timezone=ZoneInfo(config.timezone),
    )
