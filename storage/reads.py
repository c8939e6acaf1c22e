"""A source's paid reads kept in the database, as the `ReadLedger` its connector bills to.

Kept in the database rather than in the connector so that a restart, a second daemon taking
over the source and `brandmon status` all count the same reads.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from storage.repository import Repository


class StoredReadLedger:
    """`core.billing.ReadLedger` for one source, in the `post_reads` table."""

    def __init__(self, repository: Repository, source: str) -> None:
        self._repository = repository
        self._source = source

    def record(self, day: date, native_ids: Collection[str]) -> int:
        return self._repository.record_reads(self._source, day, native_ids)

    def count(self, first: date, last: date) -> int:
        return self._repository.read_counts(first, last).get(self._source, 0)
