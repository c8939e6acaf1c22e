"""Reshare cascades from a file, seen the way the daemon sees a post: counts at checkpoints.

The format is one JSON object a line, as exported by research tools (and by
`../shared/datasets/cascades/`): `cascade` (id), `author_followers` (null when unknown),
`reshare_seconds` (each repost's time after the post) and optionally `like_seconds`,
`reply_seconds` and `quote_seconds`. The daemon never sees individual reactions, only totals
when it re-reads a post, so a cascade becomes snapshots at the engagement checkpoints, and its
count at 7 days becomes the outcome a deployment would learn from. `brandmon viral` and
bench/eval_viral.py share this reader, so the bench scores exactly what the command does.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.errors import InputError
from rules.viral import Example, Snapshot
from rules.viral_growth import HORIZON_S

POSTED = datetime(2000, 1, 1, tzinfo=UTC)  # cascades carry relative times only
KINDS = ("like_seconds", "reshare_seconds", "reply_seconds", "quote_seconds")  # Snapshot order


@dataclass(frozen=True, slots=True)
class Cascade:
    """One post's reactions: sorted seconds after posting, per kind (in Snapshot order)."""

    id: str
    author_followers: int | None
    times: tuple[tuple[float, ...], ...]

    def counts(self, seconds: float) -> tuple[int, int, int, int]:
        """(likes, reposts, replies, quotes) within `seconds` of posting."""
        c = [bisect.bisect_right(t, seconds) for t in self.times]
        return c[0], c[1], c[2], c[3]

    def total(self, seconds: float) -> int:
        return sum(self.counts(seconds))

    def snapshots(self, checkpoints_minutes: Sequence[float]) -> list[Snapshot]:
        return [
            Snapshot(POSTED + timedelta(minutes=m), *self.counts(m * 60.0))
            for m in checkpoints_minutes
        ]

    def example(self, checkpoints_minutes: Sequence[float]) -> Example:
        """The cascade as a past post with a known 7-day outcome."""
        ages = tuple(m * 60.0 for m in checkpoints_minutes if m * 60.0 < HORIZON_S)
        return Example(
            ages_s=ages,
            totals=tuple(self.total(a) for a in ages),
            final=self.total(HORIZON_S),
            followers=self.author_followers,
        )


def _seconds(record: dict[str, Any], key: str) -> tuple[float, ...]:
    value = record.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{key!r} must be a list of seconds")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{key!r} holds {v!r}, not a number of seconds >= 0")
        out.append(float(v))
    return tuple(sorted(out))


def parse_cascade(record: object) -> Cascade:
    """One JSON object as a Cascade; ValueError says what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    if "cascade" not in record:
        raise ValueError("no 'cascade' id")
    if "reshare_seconds" not in record:
        raise ValueError("no 'reshare_seconds' list")
    followers = record.get("author_followers")
    if followers is not None and (
        isinstance(followers, bool) or not isinstance(followers, int) or followers < 0
    ):
        raise ValueError(f"'author_followers' is {followers!r}, not a count or null")
    return Cascade(str(record["cascade"]), followers, tuple(_seconds(record, k) for k in KINDS))


def read_cascades(path: Path) -> Iterator[Cascade]:
    """Every cascade in `path`; a bad line raises InputError naming the file and line."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield parse_cascade(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}: line {number}: not JSON: {exc.msg}") from None
            except ValueError as exc:
                raise InputError(f"{path}: line {number}: {exc}") from None
