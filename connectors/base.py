"""What every connector speaks: plain `Post` records, a cursor, and engagement refreshes.

A connector turns one network's API into these records and knows its own cursor and rate
limits. It never scores, stores or alerts: that keeps each network's quirks in one module and
lets the pipeline treat every source alike.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import requests

from connectors import http
from core.billing import ReadLedger
from core.records import Engagement, Post
from core.settings import SourceBase


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A batch of new posts and the cursor to store once the batch is committed.

    `quota_remaining` is the API's own count of requests left, when it tells (for health).
    `addressed` holds the ids of posts written to the source's brand where it lives (comments
    on its own YouTube channel or Facebook Page): they are its mentions without naming it.
    """

    posts: list[Post]
    cursor: str | None
    quota_remaining: int | None = None
    skipped: int = 0
    addressed: frozenset[str] = frozenset()


class Connector(abc.ABC):
    """A source of posts. Subclasses set `network` and implement the two calls.

    The cursor is an opaque string owned by the connector (a since_id, a timestamp or JSON);
    the daemon stores it and hands it back, and only after the batch it came with is stored.
    """

    network: ClassVar[str]
    config_model: ClassVar[type[SourceBase]]
    _stop: threading.Event | None = None

    @abc.abstractmethod
    def fetch_new(self, cursor: str | None) -> FetchResult:
        """Return posts newer than `cursor` (all recent ones when it is None)."""

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Current engagement of known posts; ids the network no longer has are left out."""
        return {}

    def bill_reads_to(self, ledger: ReadLedger) -> None:  # noqa: B027 - optional hook
        """Where a network that charges per post read records its reads (others ignore it)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources."""

    def http_sessions(self) -> Sequence[requests.Session]:
        """The sessions this connector's requests go through (for `stop_on`)."""
        return ()

    def stop_on(self, stop: threading.Event) -> None:
        """Refuse new requests once `stop` is set, so a poll or refresh in flight ends at its
        next page instead of reading all of them while the daemon is stopping."""
        self._stop = stop
        for session in self.http_sessions():
            http.stop_on(session, stop)

    @property
    def stopping(self) -> bool:
        """True once the daemon is stopping: loops that do not go through HTTP check it."""
        return self._stop is not None and self._stop.is_set()
