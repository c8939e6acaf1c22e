"""Noise control that is pure time arithmetic: quiet hours and the rate-limit window.

Quiet hours are a daily window in the config's time zone (DST-safe: the end is built from
the local date and wall time, then converted). The sink asks `QuietHoursWindow.until(now)`
before each alert; the outbox keeps held alerts pending until then, without counting an
attempt, so holding never uses up an alert's retries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.config import QuietHours, SlackRateLimit


class QuietHoursWindow:
    def __init__(self, hours: QuietHours, zone: ZoneInfo) -> None:
        self.hours = hours
        self.zone = zone

    @property
    def escalations_pass(self) -> bool:
        return self.hours.policy == "escalations_only"

    def until(self, now: datetime) -> datetime | None:
        """When the current quiet window ends (UTC), or None outside quiet hours."""
        local = now.astimezone(self.zone)
        start, end, clock = self.hours.start, self.hours.end, local.time()
        if start < end:
            inside, day = start <= clock < end, local.date()
        else:  # crosses midnight: 22:00-07:00
            inside = clock >= start or clock < end
            day = local.date() + timedelta(days=1) if clock >= start else local.date()
        if not inside:
            return None
        return datetime.combine(day, end, tzinfo=self.zone).astimezone(now.tzinfo)


def window_start(limit: SlackRateLimit, now: datetime) -> datetime:
    """The start of the sliding window the per-channel rate limit counts messages in."""
    return now - timedelta(minutes=limit.per_minutes)
