"""An API's rate-limit state as its headers last described it, on the injected clock.

Connectors refuse to send requests while the quota is spent and tell the daemon how long to
wait, instead of sleeping in a scheduler thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class RateLimit:
    remaining: int | None = None
    reset_at: datetime | None = None

    def wait(self, now: datetime) -> float | None:
        """Seconds until requests may resume, or None when they may be sent now."""
        if self.remaining is None or self.remaining > 0 or self.reset_at is None:
            return None
        seconds = (self.reset_at - now).total_seconds()
        return seconds if seconds > 0 else None
