"""Fast multi-row writes for the pipeline's hot path.

SQLAlchemy's Core executemany builds a parameter dict per row and runs every value through
its type machinery; at tens of thousands of mentions a second that cost more than scoring the
posts. Here a statement is compiled once per table, dialect and row count, values go through
the same column bind processors SQLAlchemy would use (so stored formats are identical), and one
multi-row `INSERT ... VALUES (...), (...) ON CONFLICT ... RETURNING` does a whole chunk. That
form is shared by SQLite (3.35+) and PostgreSQL, and RETURNING tells exactly which rows were
new without a second query.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Float, Integer, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from storage.models import UTCDateTime

_UNSET = object()
_JSON_TEXT = json.JSONEncoder().encode  # json.dumps with its defaults, minus the call layers
CHUNK_ROWS = 400  # x columns stays under SQLite's and PostgreSQL's bound-parameter limits


def _sqlite_utc(value: datetime | None) -> str | None:
    """What UTCDateTime + SQLite's DATETIME store, in one C-level call (same text format)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(" ", "microseconds")[:26]


def _json_text(value: Any) -> str | None:
    """A JSON column's text on SQLite (each mention's reasons differ: no point remembering)."""
    return None if value is None else _JSON_TEXT(value)


def _remember_last(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Skip re-converting a value equal to the previous one (a batch's shared fetched_at, an
    alert's empty payload): conversion is the costly part of a write."""
    last: list[Any] = [_UNSET, None]

    def process(value: Any) -> Any:
        if value is None:
            return None
        if value != last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return process


def _processor(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    if dialect.name == "sqlite":
        if isinstance(column_type, UTCDateTime):
            return _remember_last(_sqlite_utc)
        if isinstance(column_type, Boolean | Float | Integer):
            return None  # sqlite3 takes Python bools, ints and floats as they are
        if isinstance(column_type, JSON) and dialect._json_serializer is None:  # type: ignore[attr-defined]
            return _json_text  # what SQLAlchemy's json.dumps writes, directly
    convert = column_type._cached_bind_processor(dialect)  # the processor Core would use
    if convert is not None and isinstance(column_type, JSON):
        return _remember_last(convert)
    return convert


@dataclass(slots=True)
class BulkInsert:
    """A multi-row INSERT for `columns` of `table`, with optional ON CONFLICT and RETURNING."""

    table: str
    columns: tuple[str, ...]
    mark: str
    tail: str
    processors: tuple[Callable[[Any], Any] | None, ...]
    _sql: dict[int, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        table: Table,
        columns: Sequence[str],
        dialect: Dialect,
        *,
        on_conflict: str = "",
        returning: str = "",
    ) -> BulkInsert:
        tail = " ".join(
            p for p in (on_conflict, f"RETURNING {returning}" if returning else "") if p
        )
        return cls(
            table=table.name,
            columns=tuple(columns),
            mark="?" if dialect.paramstyle == "qmark" else "%s",
            tail=tail,
            processors=tuple(_processor(table.c[name].type, dialect) for name in columns),
        )

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            one = "(" + ", ".join(self.mark for _ in self.columns) + ")"
            sql = (
                f"INSERT INTO {self.table} ({', '.join(self.columns)}) "
                f"VALUES {', '.join(one for _ in range(rows))} {self.tail}"
            ).strip()
            self._sql[rows] = sql
        return sql

    def _flat(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """Row values in one flat list, each converted by its column's processor
        (column by column: one map per converted column beats a loop per value)."""
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for index, processor in enumerate(self.processors):
            if processor is not None:
                columns[index] = list(map(processor, columns[index]))
        return list(chain.from_iterable(zip(*columns, strict=True)))

    def execute(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> list[Any]:
        """Insert `rows` (tuples in column order); returns the RETURNING rows, if asked."""
        returned: list[Any] = []
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            result = conn.exec_driver_sql(self._statement(len(chunk)), tuple(self._flat(chunk)))
            if self.tail.find("RETURNING") >= 0:
                returned.extend(result.all())
        return returned
