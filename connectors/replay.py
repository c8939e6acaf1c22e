"""Replay connector: serves posts from a JSONL file, as if a network had just published them.

It is the demo's source and a user's way to backfill history or try their rules on an export.

Format: one JSON object per line, UTF-8::

    {"id": "x-100001",                      # required, unique within the network
     "created_at": "2026-11-16T08:03:12Z",  # required, ISO 8601 with zone
     "author": {"id": "u1234", "handle": "maria_k",        # required: id, handle
                "name": "Maria K", "followers": 230, "verified": false},
     "text": "...",                          # required
     "network": "x",                         # optional; default: the source's `network`
     "lang": "en", "url": "https://...", "in_reply_to": "x-100000", "conversation_id": "...",
     "engagement": {"likes": 1, "reposts": 0, "replies": 0, "quotes": 0, "views": null},
     "snapshots": [{"at": "2026-11-16T08:08:12Z", "likes": 3, "reposts": 1,
                    "replies": 0, "quotes": 0}]}

`engagement` is the count at posting time; `snapshots` are later counts, served by
`refresh_engagement` once the clock has passed them. With `follow_clock`, a post is served only
once the clock has reached its `created_at`, so a compressed clock replays a day in seconds.
The cursor is the number of lines served. A malformed line is skipped with a log line.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from connectors.base import Connector, FetchResult
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Entry:
    line: int
    post: Post | None
    snapshots: tuple[tuple[datetime, Engagement], ...]


def _parse_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {value!r}")
    return parsed


def _engagement(raw: Any) -> Engagement:
    raw = raw or {}
    return Engagement(
        likes=int(raw.get("likes", 0)),
        reposts=int(raw.get("reposts", 0)),
        replies=int(raw.get("replies", 0)),
        quotes=int(raw.get("quotes", 0)),
        views=raw.get("views"),
    )


def parse_line(raw: dict[str, Any], default_network: str) -> tuple[Post, tuple[Any, ...]]:
    """One JSONL object to a Post and its later snapshots; raises on missing fields."""
    author = raw["author"]
    post = Post(
        network=str(raw.get("network") or default_network),
        native_id=str(raw["id"]),
        text=str(raw["text"]),
        created_at=_parse_time(raw["created_at"]),
        author=Author(
            native_id=str(author["id"]),
            handle=str(author["handle"]),
            name=author.get("name"),
            followers=author.get("followers"),
            verified=bool(author.get("verified", False)),
        ),
        engagement=_engagement(raw.get("engagement")),
        url=raw.get("url"),
        lang=raw.get("lang"),
        in_reply_to=None if raw.get("in_reply_to") is None else str(raw["in_reply_to"]),
        conversation_id=raw.get("conversation_id"),
    )
    snapshots = tuple((_parse_time(s["at"]), _engagement(s)) for s in raw.get("snapshots") or ())
    return post, snapshots


class ReplaySourceConfig(SourceBase):
    """Posts from a JSONL file (see connectors/replay.py for the format)."""

    type: Literal["replay"]
    path: Path
    network: str = Field(default="replay", description="network name recorded on the posts")
    follow_clock: bool = Field(
        default=True, description="serve only posts whose created_at has passed on the clock"
    )
    batch_size: int = Field(default=500, ge=1, description="most posts served per poll")

    def with_base_dir(self, base_dir: Path) -> ReplaySourceConfig:
        if self.path.is_absolute():
            return self
        return self.model_copy(update={"path": base_dir / self.path})


class ReplayConnector(Connector):
    network = "replay"
    config_model = ReplaySourceConfig

    def __init__(
        self, config: ReplaySourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        self._config = config
        self._clock = clock
        self._entries = self._load(config.path, config.network)
        self._by_id = {e.post.native_id: e for e in self._entries if e.post is not None}
        self.network = config.network

    @staticmethod
    def _load(path: Path, network: str) -> list[_Entry]:
        entries: list[_Entry] = []
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    post, snapshots = parse_line(json.loads(line), network)
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    log.warning("%s:%d: skipped malformed post: %s", path, number, exc)
                    entries.append(_Entry(number, None, ()))
                    continue
                entries.append(_Entry(number, post, snapshots))
        return entries

    @classmethod
    def feed_span(cls, path: Path) -> tuple[datetime, datetime]:
        """First post time and last post-or-snapshot time in a feed (the demo's timeline)."""
        entries = [e for e in cls._load(path, "replay") if e.post is not None]
        if not entries:
            raise ValueError(f"{path}: no usable posts")
        first = min(e.post.created_at for e in entries)  # type: ignore[union-attr]
        last = max(
            [e.post.created_at for e in entries]  # type: ignore[union-attr]
            + [at for e in entries for at, _ in e.snapshots]
        )
        return first, last

    def fetch_new(self, cursor: str | None) -> FetchResult:
        start = int(cursor or 0)
        now = self._clock.now()
        end = start
        posts: list[Post] = []
        skipped = 0
        while end < len(self._entries) and len(posts) < self._config.batch_size:
            entry = self._entries[end]
            if entry.post is None:
                skipped += 1
            elif self._config.follow_clock and entry.post.created_at > now:
                break
            else:
                posts.append(entry.post)
            end += 1
        return FetchResult(posts=posts, cursor=str(end), skipped=skipped)

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        now = self._clock.now()
        found: dict[str, Engagement] = {}
        for native_id in native_ids:
            entry = self._by_id.get(native_id)
            if entry is None or entry.post is None:
                continue
            times = [at for at, _ in entry.snapshots]
            index = bisect_right(times, now)
            found[native_id] = entry.snapshots[index - 1][1] if index else entry.post.engagement
        return found
