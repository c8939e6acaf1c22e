"""Bluesky posts that name a brand, live from Jetstream (no account needed).

Why it is built this way:
- Jetstream is Bluesky's JSON firehose over a WebSocket: every public post, no credentials.
  It filters by collection on the server (`wantedCollections=app.bsky.feed.post`), and the
  brand's terms are matched here, so only mentions leave the connector.
- Each poll connects with `cursor=<time_us>` from the stored cursor and reads until it has
  caught up with the clock, the stream is quiet for `idle_seconds`, or `max_events`; the
  daemon's schedule is the reconnect and its back-off is the reconnect back-off. A restart
  resumes where the last stored batch ended.
- Events are not strictly ordered by `time_us`, so a poll starts `replay_overlap_seconds`
  before the cursor and skips the posts it already returned (their ids are in the cursor).
- Engagement comes from the public AppView's `app.bsky.feed.getPosts` (25 posts a request,
  no account), the same counts the app shows.
- `websockets` (sync client) rather than the atproto SDK: Jetstream is plain JSON, and the SDK
  would bring its own HTTP stack and models for two calls.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

import requests
import websockets
from pydantic import Field
from websockets.sync.client import connect

from connectors import http
from connectors.base import Connector, FetchResult
from connectors.cursor import load_json_cursor
from connectors.errors import FatalSourceError, RetriableSourceError
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
LOOKUP_SIZE = 25
MAX_ID = 64


class BlueskySourceConfig(SourceBase):
    """Jetstream (live, keyless) for new posts; the public AppView for engagement."""

    type: Literal["bluesky"]
    jetstream_url: str = "wss://jetstream2.us-east.bsky.network/subscribe"
    appview_url: str = "https://public.api.bsky.app"
    interval_seconds: float = Field(default=60, gt=0)
    max_events: int = Field(default=200_000, ge=1, description="most events read per poll")
    idle_seconds: float = Field(default=5, gt=0, description="a quiet stream means caught up")
    replay_overlap_seconds: float = Field(default=5, ge=0)
    first_replay_minutes: float = Field(
        default=10, ge=0, description="how far back the very first poll starts"
    )
    timeout_seconds: float = Field(default=20, gt=0)


class BlueskyConnector(Connector):
    """Post creates from Jetstream whose text names a watched brand."""

    network = "bluesky"
    config_model = BlueskySourceConfig

    def __init__(
        self, config: BlueskySourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        self._config = config
        self._clock = clock
        self._session = http.session()
        terms = sorted({t for b in config.watched(brands) for t in b.terms}, key=len, reverse=True)
        alternatives = "|".join(re.escape(t) for t in terms) or r"(?!x)x"
        self._wanted = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network=self.network).get("stream", {})
        start = self._clock.now()
        start_us = _micros(start)
        overlap = int(self._config.replay_overlap_seconds * 1_000_000)
        newest = int(state.get("time_us") or 0)
        seen: dict[str, int] = {str(k): int(v) for k, v in (state.get("seen") or {}).items()}
        if newest:
            resume = newest - overlap
        else:
            resume = _micros(start - timedelta(minutes=self._config.first_replay_minutes))
        posts: dict[str, Post] = {}
        skipped = 0
        for event in self._events(resume, start_us):
            time_us = event.get("time_us")
            if not isinstance(time_us, int):
                skipped += 1
                continue
            newest = max(newest, time_us)
            commit = event.get("commit")
            if (
                event.get("kind") != "commit"
                or not isinstance(commit, dict)
                or commit.get("collection") != POST
                or commit.get("operation") != "create"
            ):
                continue
            try:
                post = _to_post(event, commit)
            except (KeyError, TypeError, ValueError) as exc:
                skipped += 1
                log.warning("bluesky: skipping malformed post event: %s", exc)
                continue
            if post.native_id in seen or not self._wanted.search(post.text):
                continue
            seen[post.native_id] = time_us
            posts[post.native_id] = post
        floor = newest - overlap
        kept = {k: v for k, v in seen.items() if v >= floor}
        new_state = {"stream": {"time_us": newest or None, "seen": kept}}
        return FetchResult(
            posts=sorted(posts.values(), key=lambda p: (p.created_at, p.native_id)),
            cursor=json.dumps(new_state, sort_keys=True),
            skipped=skipped,
        )

    def _events(self, resume_us: int, until_us: int) -> Any:
        """Decoded events from `resume_us` until caught up with `until_us` (or quiet)."""
        query = urlencode({"wantedCollections": POST, "cursor": resume_us})
        url = f"{self._config.jetstream_url}?{query}"
        read = 0
        try:
            with connect(
                url,
                open_timeout=self._config.timeout_seconds,
                close_timeout=1,
                max_size=2**22,
                user_agent_header=http.USER_AGENT,
            ) as socket:
                while read < self._config.max_events and not self.stopping:
                    try:
                        message = socket.recv(timeout=self._config.idle_seconds)
                    except TimeoutError:
                        return
                    read += 1
                    try:
                        event = json.loads(message)
                    except ValueError:
                        yield {"time_us": None}  # counted as skipped
                        continue
                    if not isinstance(event, dict):
                        yield {"time_us": None}
                        continue
                    yield event
                    if isinstance(event.get("time_us"), int) and event["time_us"] >= until_us:
                        return
        except websockets.ConnectionClosedOK:
            return
        except websockets.InvalidStatus as exc:
            status = exc.response.status_code
            retry = http.retry_after(exc.response.headers.get("Retry-After"), self._clock.now())
            if status == 429 or status >= 500:
                raise RetriableSourceError(
                    f"bluesky: Jetstream answered {status}", retry_after=retry
                ) from None
            raise FatalSourceError(
                f"bluesky: Jetstream refused the connection ({status})", credential="jetstream_url"
            ) from None
        except (websockets.WebSocketException, OSError, TimeoutError) as exc:
            raise RetriableSourceError(f"bluesky: Jetstream: {type(exc).__name__}: {exc}") from None

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Counts from the public AppView, 25 posts a request."""
        uris = {post_uri(i): i for i in dict.fromkeys(native_ids) if "/" in i}
        found: dict[str, Engagement] = {}
        chunks = list(uris)
        for start in range(0, len(chunks), LOOKUP_SIZE):
            response = http.get(
                self._session,
                f"{self._config.appview_url.rstrip('/')}/xrpc/app.bsky.feed.getPosts",
                network=self.network,
                timeout=self._config.timeout_seconds,
                params={"uris": chunks[start : start + LOOKUP_SIZE]},
                now=self._clock.now(),
            )
            try:
                payload = response.json()
            except ValueError:
                raise RetriableSourceError("bluesky: getPosts is not complete JSON") from None
            for view in payload.get("posts") or [] if isinstance(payload, dict) else []:
                if isinstance(view, dict) and view.get("uri") in uris:
                    found[uris[view["uri"]]] = engagement(view)
        return found

    def http_sessions(self) -> Sequence[requests.Session]:
        return (self._session,)

    def close(self) -> None:
        self._session.close()


def engagement(view: dict[str, Any]) -> Engagement:
    """Counts of a post view (getPosts, searchPosts)."""
    return Engagement(
        likes=int(view.get("likeCount") or 0),
        reposts=int(view.get("repostCount") or 0),
        replies=int(view.get("replyCount") or 0),
        quotes=int(view.get("quoteCount") or 0),
    )


def _to_post(event: dict[str, Any], commit: dict[str, Any]) -> Post:
    did, rkey = str(event["did"]), str(commit["rkey"])
    record = commit["record"]
    text = record["text"]
    if not isinstance(text, str):
        raise TypeError("post text is not a string")
    created_at = datetime.fromisoformat(str(record["createdAt"]).replace("Z", "+00:00"))
    if created_at.tzinfo is None:
        raise ValueError(f"createdAt {record['createdAt']!r} has no time zone")
    langs = record.get("langs")
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = (reply.get("parent") or {}).get("uri")
    root = (reply.get("root") or {}).get("uri")
    return Post(
        network="bluesky",
        native_id=_native_id(did, rkey),
        text=text,
        created_at=created_at.astimezone(UTC),
        author=Author(native_id=did, handle=did),
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        lang=str(langs[0]) if isinstance(langs, list) and langs else None,
        in_reply_to=native_id_of(parent),
        conversation_id=native_id_of(root),
    )


def _native_id(did: str, rkey: str) -> str:
    """`did/rkey`, short enough to store (an at:// URI is not); a hash for very long DIDs."""
    value = f"{did}/{rkey}"
    return value if len(value) <= MAX_ID else "h:" + hashlib.sha256(value.encode()).hexdigest()[:40]


def native_id_of(uri: Any) -> str | None:
    """The native id of an `at://did/app.bsky.feed.post/rkey` URI."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    did, _, rkey = uri[5:].partition(f"/{POST}/")
    return _native_id(did, rkey) if rkey else None


def post_uri(native_id: str) -> str:
    did, _, rkey = native_id.rpartition("/")
    return f"at://{did}/{POST}/{rkey}"


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)
