"""The digest's period: an ISO week in the configured time zone, and its days, as UTC bounds.

The database holds UTC; marketing thinks in local weeks. Every bound is computed here once, in
Python, so SQL only ever compares `created_at` with UTC instants (the same query on SQLite and
PostgreSQL). A week across a daylight-saving change is 167 or 169 hours long, and its days are
23 or 25: local midnights are converted one by one, never "start + n * 24 h".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.errors import InputError

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Week:
    """ISO week `year`-W`number` in time zone `tz` (an IANA name)."""

    year: int
    number: int
    tz: str

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(7)]

    def midnight(self, day: date) -> datetime:
        """Local midnight starting `day`, as UTC (zoneinfo resolves DST gaps and folds)."""
        return datetime.combine(day, time(), ZoneInfo(self.tz)).astimezone(UTC)

    @property
    def bounds(self) -> list[datetime]:
        """Eight UTC instants: the start of each local day and the end of the week."""
        return [self.midnight(self.first_day + timedelta(days=i)) for i in range(8)]

    @property
    def start(self) -> datetime:
        return self.midnight(self.first_day)

    @property
    def end(self) -> datetime:
        return self.midnight(self.first_day + timedelta(days=7))

    def previous(self) -> Week:
        return week_of(self.first_day - timedelta(days=7), self.tz)

    def next(self) -> Week:
        return week_of(self.first_day + timedelta(days=7), self.tz)

    def send_time(self, *, day_of_week: str, hour: int, minute: int) -> datetime:
        """When this week's digest is due: the given local day and time of the next week."""
        day = self.next().first_day + timedelta(days=WEEKDAYS.index(day_of_week))
        return datetime.combine(day, time(hour, minute), ZoneInfo(self.tz)).astimezone(UTC)

    def describe(self) -> str:
        """'2026-W47, Mon 16 Nov – Sun 22 Nov 2026 (Europe/London)'."""
        first, last = self.first_day, self.first_day + timedelta(days=6)
        return f"{self.label}, Mon {first:%d %b} – Sun {last:%d %b %Y} ({self.tz})"


def week_of(day: date, tz: str) -> Week:
    year, number, _ = day.isocalendar()
    return Week(year, number, tz)


def week_at(instant: datetime, tz: str) -> Week:
    """The ISO week that contains `instant` in local time."""
    return week_of(instant.astimezone(ZoneInfo(tz)).date(), tz)


def parse_week(text: str, tz: str) -> Week:
    """'2026-W47' -> Week; anything else is an InputError naming the expected form."""
    match = WEEK_PATTERN.match(text.strip())
    if match is None:
        raise InputError(f"--week {text!r}: expected an ISO week such as 2026-W47")
    year, number = int(match[1]), int(match[2])
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise InputError(f"--week {text!r}: {year} has no ISO week {number}") from None
    return Week(year, number, tz)


def due_week(now: datetime, tz: str, *, day_of_week: str, hour: int, minute: int) -> Week:
    """The newest week whose digest is due at `now` (last week once its send time passed)."""
    week = week_at(now, tz).previous()
    if week.send_time(day_of_week=day_of_week, hour=hour, minute=minute) > now:
        week = week.previous()
    return week
