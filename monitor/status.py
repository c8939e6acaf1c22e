"""`brandmon status`: each source's last poll, success, error and stored mentions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TextIO

from core.billing import BilledSource, utc_day
from monitor.config import AppConfig, SourceConfig
from storage.db import open_database
from storage.models import SourceState
from storage.repository import Repository


def _when(value: datetime | None) -> str:
    """A stored time as the database holds it, in UTC, saying so."""
    return value.strftime("%Y-%m-%d %H:%M:%S %Z") if value else "never"


STALE_AFTER_INTERVALS = 3
STALE_MINIMUM = timedelta(minutes=10)


def source_health(
    source: SourceConfig, state: SourceState | None, now: datetime
) -> tuple[bool, str]:
    """Healthy = polled successfully within a few intervals and not failing right now."""
    if not source.enabled:
        return True, "disabled"
    if state is None:
        return True, "not polled yet"
    if state.consecutive_failures:
        return False, f"failing ({state.consecutive_failures} failed polls in a row)"
    limit = max(STALE_MINIMUM, STALE_AFTER_INTERVALS * timedelta(seconds=source.interval_seconds))
    if state.last_success_at is None or now - state.last_success_at > limit:
        return False, f"stale: no successful poll in the last {limit}"
    return True, "ok"


def print_status(config: AppConfig, *, out: TextIO, now: datetime) -> bool:
    """Print each source's health; returns True when every enabled source is healthy."""
    repository = Repository(open_database(config.storage.url))
    states = {s.source: s for s in repository.source_states()}
    counts = repository.mention_counts_by_source()
    leases = {lease.name: lease for lease in repository.leases()}
    today = utc_day(now)
    reads_today = repository.read_counts(today, today)
    reads_month = repository.read_counts(today.replace(day=1), today)
    all_ok = True
    for name, source in config.sources.items():
        state = states.get(name)
        ok, health = source_health(source, state, now)
        all_ok = all_ok and ok
        out.write(f"{name} ({source.type}): {health}\n")
        out.write(f"  last poll:     {_when(state.last_poll_at if state else None)}\n")
        out.write(f"  last success:  {_when(state.last_success_at if state else None)}\n")
        error = (
            f"{_when(state.last_error_at)}  {state.last_error}"
            if state and state.last_error
            else "none"
        )
        out.write(f"  last error:    {error}\n")
        if state and state.paused_until:
            out.write(f"  paused until:  {_when(state.paused_until)} ({state.paused_reason})\n")
        if state and state.quota_remaining is not None:
            out.write(f"  API quota left: {state.quota_remaining}\n")
        out.write(f"  mentions:      {counts.get(name, 0)}\n")
        if isinstance(source, BilledSource):
            price = source.price_per_read_usd
            day, month = reads_today.get(name, 0), reads_month.get(name, 0)
            out.write(
                f"  paid reads:    today {day} (${day * price:.2f} of "
                f"${source.daily_budget_usd:.2f}), this month {month} (${month * price:.2f})\n"
            )
        if state and state.skipped_total:
            out.write(
                f"  skipped posts: {state.skipped_total} (could not be stored; see the log)\n"
            )
        holder = leases.get(f"source:{name}")
        if holder is not None and holder.expires_at > now:
            out.write(f"  polled by:     {holder.holder}\n")
    alerts = repository.alert_counts()
    out.write(
        "alerts: " + ", ".join(f"{k} {v}" for k, v in sorted(alerts.items())) + "\n"
        if alerts
        else "alerts: none\n"
    )
    return all_ok
