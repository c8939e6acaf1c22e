"""Small builders for posts, feeds and config files used across tests."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.records import Author, Engagement, Post

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def make_post(
    native_id: str,
    text: str = "I love Kestrel",
    *,
    network: str = "x",
    handle: str = "someone",
    minutes: float = 0,
    followers: int | None = 100,
    in_reply_to: str | None = None,
    engagement: Engagement | None = None,
) -> Post:
    return Post(
        network=network,
        native_id=native_id,
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        author=Author(native_id=f"u-{handle}", handle=handle, followers=followers),
        engagement=engagement or Engagement(),
        in_reply_to=in_reply_to,
    )


def feed_record(
    native_id: str, text: str, *, minutes: float = 0, handle: str = "someone", **extra: Any
) -> dict[str, Any]:
    return {
        "id": native_id,
        "created_at": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        "author": {"id": f"u-{handle}", "handle": handle, "followers": 100},
        "text": text,
        **extra,
    }


def write_feed(path: Path, records: Iterable[dict[str, Any] | str]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write((record if isinstance(record, str) else json.dumps(record)) + "\n")
    return path


def write_config(path: Path, *, db_url: str, sources: dict[str, Any], **extra: Any) -> Path:
    config: dict[str, Any] = {
        "brands": [
            {
                "name": "Kestrel",
                "terms": ["kestrel"],
                "exclude": ["bird", "hovering"],
                "handles": {"x": ["KestrelHelp"]},
            }
        ],
        "sources": sources,
        "storage": {"url": db_url},
        **extra,
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
