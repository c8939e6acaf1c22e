"""Fast multi-row writes for the pipeline's hot path.

SQLAlchemy's Core executemany builds a parameter dict per row and runs every value through
its type machinery; at tens of thousands of mentions a second that cost more than scoring the
posts. Here a statement is compiled once per table and dialect, values go through the same
column bind processors SQLAlchemy would use (so stored formats are identical), and the driver's
own `executemany` does the rest. The SQL is the `INSERT ... ON CONFLICT` form that SQLite and
PostgreSQL share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from storage.models import UTCDateTime


def _sqlite_utc(value: datetime | None) -> str | None:
    """What UTCDateTime + SQLite's DATETIME store, in one C-level call (same text format)."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc
    return column_type._cached_bind_processor(dialect)  # the processor Core itself would use


@dataclass(frozen=True, slots=True)
class BulkInsert:
    """An INSERT for `columns` of `table`, with an optional ON CONFLICT clause."""

    sql: str
    processors: tuple[Callable[[Any], Any] | None, ...]

    @classmethod
    def build(
        cls, table: Table, columns: Sequence[str], dialect: Dialect, *, on_conflict: str = ""
    ) -> BulkInsert:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(columns)
        marks = ", ".join(mark for _ in columns)
        sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks}) {on_conflict}".strip()
        processors = tuple(_processor(table.c[name].type, dialect) for name in columns)
        return cls(sql, processors)

    def execute(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        active = [(i, p) for i, p in enumerate(self.processors) if p is not None]
        if active:
            converted = []
            for row in rows:
                values = list(row)
                for index, processor in active:
                    values[index] = processor(values[index])
                converted.append(tuple(values))
            rows = converted
        conn.exec_driver_sql(self.sql, list(rows))  # type: ignore[arg-type]
