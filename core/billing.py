"""Paid reads: which posts a source read on which UTC day, so a budget can be kept.

X bills each post a request returns, but a post read again the same UTC day is not billed
again. A connector that pays per read records the ids it read in a `ReadLedger`; the daemon
gives it one kept in the database (so restarts and `brandmon status` see the same count),
tests and one-off runs use `MemoryLedger`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, runtime_checkable


class ReadLedger(Protocol):
    """The posts one source read, per UTC day."""

    def record(self, day: date, native_ids: Collection[str]) -> int:
        """Note that these posts were read on `day`; returns how many were new that day
        (the billable reads)."""
        ...

    def count(self, first: date, last: date) -> int:
        """Billable reads on the days from `first` to `last`, both included."""
        ...


@runtime_checkable
class BilledSource(Protocol):
    """Settings of a source whose network charges per post read (X)."""

    @property
    def daily_budget_usd(self) -> float: ...

    @property
    def price_per_read_usd(self) -> float: ...


class MemoryLedger:
    """A ledger that lives as long as its connector (tests, one-off runs)."""

    def __init__(self) -> None:
        self._read: dict[date, set[str]] = {}

    def record(self, day: date, native_ids: Collection[str]) -> int:
        seen = self._read.setdefault(day, set())
        before = len(seen)
        seen.update(native_ids)
        return len(seen) - before

    def count(self, first: date, last: date) -> int:
        return sum(len(ids) for day, ids in self._read.items() if first <= day <= last)


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def next_utc_day(at: datetime) -> datetime:
    """Midnight UTC after `at`: when a spent daily budget is renewed."""
    day = utc_day(at) + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
