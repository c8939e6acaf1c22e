"""Injectable clocks: real time in production, compressed time for the demo, fixed in tests.

Everything that asks "what time is it" takes a `Clock`, so tests never sleep and the demo can
replay a day of posts in seconds through the same scheduler and pipeline as production.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything with a `now()`; see the module docstring."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class CompressedClock:
    """Starts at `start` and runs `speed` times faster than the wall clock."""

    def __init__(self, start: datetime, speed: float) -> None:
        self._start = start
        self._speed = speed
        self._wall_start = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._wall_start) * self._speed
        return self._start + timedelta(seconds=elapsed)


class FixedClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, **delta: float) -> None:
        self._at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self._at = at
