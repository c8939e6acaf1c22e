"""RSS and Atom feeds (Google Alerts, news, blogs): each entry is a post.

Why it is built this way:
- feedparser reads every RSS and Atom dialect in the wild, broken ones included; requests
  fetches the bytes so that timeouts, status codes and the configured URL are ours.
- Conditional GET: the cursor keeps each feed's `ETag` and `Last-Modified`, so an unchanged
  feed costs one request answered `304 Not Modified` with no body.
- Feeds have no "since" parameter, so the cursor also keeps the ids of the entries last
  served (bounded); an entry is new when its id has not been seen.
- Google Alerts wraps links in a redirect; the real article address is taken from it.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import feedparser
import requests
from pydantic import Field

from connectors import http
from connectors.base import Connector, FetchResult
from connectors.cursor import load_json_cursor
from connectors.errors import RetriableSourceError
from connectors.html_text import html_to_text
from core.clock import Clock
from core.records import Author, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

MAX_SEEN = 1000
MAX_ID = 64  # storage keeps native ids of up to 64 characters


class RssSourceConfig(SourceBase):
    """Any RSS or Atom feed; a Google Alert's "Deliver to: RSS feed" address works as is."""

    type: Literal["rss"]
    feeds: list[str] = Field(min_length=1, description="feed URLs")
    interval_seconds: float = Field(default=900, gt=0)
    timeout_seconds: float = Field(default=20, gt=0)


class RssConnector(Connector):
    """New entries of the configured feeds; the pipeline keeps those naming a brand."""

    network = "rss"
    config_model = RssSourceConfig

    def __init__(
        self, config: RssSourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        self._config = config
        self._clock = clock
        self._session = http.session()

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network=self.network)
        posts: dict[str, Post] = {}
        skipped = 0
        new_state: dict[str, dict[str, Any]] = {}
        for url in self._config.feeds:
            saved = state.get(url, {})
            new_state[url], found, bad = self._read(url, saved)
            skipped += bad
            for post in found:
                posts.setdefault(post.native_id, post)
        return FetchResult(
            posts=sorted(posts.values(), key=lambda p: (p.created_at, p.native_id)),
            cursor=json.dumps(new_state, sort_keys=True),
            skipped=skipped,
        )

    def _read(self, url: str, saved: dict[str, Any]) -> tuple[dict[str, Any], list[Post], int]:
        headers = {}
        if saved.get("etag"):
            headers["If-None-Match"] = str(saved["etag"])
        if saved.get("modified"):
            headers["If-Modified-Since"] = str(saved["modified"])
        response = http.get(
            self._session,
            url,
            network=self.network,
            timeout=self._config.timeout_seconds,
            headers=headers,
            credential="feeds",
            now=self._clock.now(),
        )
        if response.status_code == 304:
            return saved, [], 0
        parsed = feedparser.parse(response.content)
        if parsed.bozo and not parsed.entries:
            raise RetriableSourceError(
                f"rss: {url} is not a readable feed: {parsed.bozo_exception}"
            )
        seen = list(saved.get("seen", []))
        known = set(seen)
        posts: list[Post] = []
        skipped = 0
        fetched_at = self._clock.now()
        feed_title = str(parsed.feed.get("title") or urlsplit(url).hostname or url)
        for entry in parsed.entries:
            try:
                post = _to_post(entry, feed_title=feed_title, fetched_at=fetched_at)
            except (KeyError, TypeError, ValueError) as exc:
                skipped += 1
                log.warning("rss: skipping malformed entry in %s: %s", url, exc)
                continue
            if post.native_id not in known:
                known.add(post.native_id)
                seen.append(post.native_id)
                posts.append(post)
        state = {
            "etag": response.headers.get("ETag"),
            "modified": response.headers.get("Last-Modified"),
            "seen": seen[-MAX_SEEN:],
        }
        return state, posts, skipped

    def http_sessions(self) -> Sequence[requests.Session]:
        return (self._session,)

    def close(self) -> None:
        self._session.close()


def _to_post(entry: Any, *, feed_title: str, fetched_at: datetime) -> Post:
    link = _real_link(str(entry.get("link") or ""))
    entry_id = str(entry.get("id") or link)
    if not entry_id:
        raise ValueError("entry has neither an id nor a link")
    title = html_to_text(str(entry.get("title") or ""))
    summary = html_to_text(str(entry.get("summary") or ""))
    text = f"{title}\n\n{summary}" if title and summary else title or summary
    if not text:
        raise ValueError(f"entry {entry_id[:64]!r} has no title or text")
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    # feedparser normalises every date format and offset to a UTC struct_time
    created_at = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else fetched_at
    author = str(entry.get("author") or feed_title)
    return Post(
        network="rss",
        native_id=entry_id if len(entry_id) <= MAX_ID else _digest(entry_id),
        text=text,
        created_at=created_at,
        author=Author(native_id=_digest(author)[:32], handle=author[:64], name=feed_title),
        url=link or None,
    )


def _real_link(link: str) -> str:
    """The article behind a Google redirect (`google.com/url?...&url=<article>`)."""
    parts = urlsplit(link)
    if parts.hostname and parts.hostname.endswith("google.com") and parts.path == "/url":
        target = parse_qs(parts.query).get("url")
        if target:
            return target[0]
    return link


def _digest(value: str) -> str:
    return "h:" + hashlib.sha256(value.encode()).hexdigest()[:40]
