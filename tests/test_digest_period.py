"""ISO weeks in a time zone: UTC bounds, 23/25-hour days across DST, parsing, the due week."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from monitor.digest.period import Week, due_week, parse_week, week_at
from monitor.errors import InputError

LONDON = "Europe/London"


@pytest.mark.parametrize(
    ("week", "hours", "short_or_long_day"),
    [
        (Week(2026, 47, LONDON), 168, None),
        (Week(2026, 13, LONDON), 167, (6, 23)),  # clocks go forward on Sunday 29 March
        (Week(2026, 43, LONDON), 169, (6, 25)),  # clocks go back on Sunday 25 October
        (Week(2026, 44, "America/New_York"), 169, (6, 25)),  # back on Sunday 1 November
        (Week(2026, 47, "UTC"), 168, None),
    ],
)
def test_week_length_follows_the_local_clock(
    week: Week, hours: int, short_or_long_day: tuple[int, int] | None
) -> None:
    bounds = week.bounds
    assert (week.end - week.start) == timedelta(hours=hours)
    day_hours = [(b - a) / timedelta(hours=1) for a, b in pairwise(bounds)]
    expected = [24.0] * 7
    if short_or_long_day:
        expected[short_or_long_day[0]] = short_or_long_day[1]
    assert day_hours == expected


def test_bounds_are_local_midnights_in_utc() -> None:
    week = Week(2026, 47, "America/New_York")
    assert week.start == datetime(2026, 11, 16, 5, 0, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
    assert week.describe() == "2026-W47, Mon 16 Nov – Sun 22 Nov 2026 (America/New_York)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-W47", Week(2026, 47, LONDON)),
        ("2026-W01", Week(2026, 1, LONDON)),
        (" 2026-W53 ", Week(2026, 53, LONDON)),
    ],
)
def test_parse_week(text: str, expected: Week) -> None:
    assert parse_week(text, LONDON) == expected


@pytest.mark.parametrize("text", ["2026-47", "2026W47", "2025-W53", "2026-W00", "last"])
def test_parse_week_rejects(text: str) -> None:
    with pytest.raises(InputError, match="--week"):
        parse_week(text, LONDON)


def test_previous_and_next_cross_the_year() -> None:
    assert Week(2027, 1, LONDON).previous() == Week(2026, 53, LONDON)
    assert Week(2026, 53, LONDON).next() == Week(2027, 1, LONDON)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2026, 11, 23, 8, 59, tzinfo=UTC), "2026-W46"),  # Monday before 09:00
        (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "2026-W47"),  # Monday 09:00 London
        (datetime(2026, 11, 29, 23, 0, tzinfo=UTC), "2026-W47"),  # all week long
        (datetime(2026, 11, 30, 9, 0, tzinfo=UTC), "2026-W48"),
    ],
)
def test_due_week(now: datetime, due: str) -> None:
    assert due_week(now, LONDON, day_of_week="mon", hour=9, minute=0).label == due


def test_due_week_uses_local_time() -> None:
    # 09:00 in Tokyo on Monday 23 Nov is 00:00 UTC the same day.
    now = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert due_week(now, "Asia/Tokyo", day_of_week="mon", hour=9, minute=0).label == "2026-W47"
    assert week_at(now - timedelta(seconds=1), "Asia/Tokyo").label == "2026-W48"
