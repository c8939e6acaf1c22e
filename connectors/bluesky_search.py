"""Bluesky posts that name a brand, from `app.bsky.feed.searchPosts` with an app password.

Why it is built this way:
- Jetstream (connectors/bluesky) sees what is posted while brandmon runs and keeps about a
  day of history; search reaches back further and fills what a long outage missed, so it is
  the backfill. It needs an account: an app password logs in (`createSession`) and the
  search goes through the account's PDS, which forwards it to the AppView.
- One query per brand term (quoted), newest first (`sort=latest`), 100 a page, paged by the
  returned `cursor` up to `max_pages`. Each later poll asks only from the newest instant it
  read (`since`, inclusive; posts already returned at that instant are remembered). When a
  poll stops at the page cap, the unread range is kept (`until` the oldest post read) and
  read on the next poll, so a burst is finished later, not lost.
- Posts get the same `did/rkey` ids as Jetstream's, so a post both sources read is stored
  once; counts come with the search results (`likeCount`, ...) and are read back with
  `getPosts`, 25 a request.
- Plain HTTP (requests), not the atproto SDK: two XRPC calls of JSON.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from connectors import http
from connectors.base import Connector, FetchResult
from connectors.bluesky import LOOKUP_SIZE, engagement, native_id_of, post_uri
from connectors.cursor import load_json_cursor
from connectors.errors import FatalSourceError, RetriableSourceError
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

PAGE_SIZE = 100
CREDENTIAL = "identifier/app_password"
MAX_GAPS = 20
SESSION_REUSE = timedelta(hours=1)  # access tokens live about 2 h; log in again before


class BlueskySearchSourceConfig(SourceBase):
    """searchPosts with an account's app password (backfill beside Jetstream)."""

    required_secrets: ClassVar[dict[str, str]] = {
        "identifier": "the Bluesky handle or e-mail the app password belongs to",
        "app_password": "a Bluesky app password (Settings -> Privacy and security)",
    }

    type: Literal["bluesky_search"]
    identifier: str | None = None
    app_password: SecretStr | None = None
    service_url: str = "https://bsky.social"
    interval_seconds: float = Field(default=900, gt=0)
    backfill_hours: float = Field(default=72, ge=0, description="how far back the first poll reads")
    max_pages: int = Field(default=5, ge=1, description="pages of 100 per term per poll")
    timeout_seconds: float = Field(default=20, gt=0)


@dataclass
class _Poll:
    posts: dict[str, Post] = field(default_factory=dict)
    skipped: int = 0


@dataclass
class _Run:
    """What reading one time range of one term produced."""

    newest: str | None = None
    newest_ids: set[str] = field(default_factory=set)
    oldest: str | None = None
    complete: bool = False
    pages: int = 0


class BlueskySearchConnector(Connector):
    """Mentions found by Bluesky's post search."""

    network = "bluesky"
    config_model = BlueskySearchSourceConfig

    def __init__(
        self, config: BlueskySearchSourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        if not config.identifier or config.app_password is None:
            raise FatalSourceError("no Bluesky identifier/app password", credential=CREDENTIAL)
        self._config = config
        self._clock = clock
        self._session = http.session()
        self._token: tuple[str, datetime] | None = None  # the access token, when it came
        self.terms = list(dict.fromkeys(t for b in config.watched(brands) for t in b.terms))

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network=self.network)
        poll = _Poll()
        first_since = _iso(self._clock.now() - timedelta(hours=self._config.backfill_hours))
        new_state: dict[str, dict[str, Any]] = {}
        for term in self.terms:
            saved = state.get(term, {})
            since = str(saved.get("since") or first_since)
            known = {str(i) for i in saved.get("ids", [])}
            budget = self._config.max_pages
            gaps: list[list[str]] = []
            for low, high in [g for g in saved.get("gaps", []) if len(g) == 2]:
                run = self._read(term, str(low), str(high), set(), budget, poll)
                budget -= run.pages
                if not run.complete:
                    gaps.append([str(low), run.oldest or str(high)])
            run = self._read(term, since, None, known, budget, poll)
            if not run.complete and run.oldest is not None:
                gaps.insert(0, [since, run.oldest])
            newest, ids = since, known
            if run.newest is not None and run.newest > since:
                newest, ids = run.newest, run.newest_ids
            elif run.newest == since:
                ids = known | run.newest_ids
            new_state[term] = {"since": newest, "ids": sorted(ids), "gaps": gaps[:MAX_GAPS]}
        return FetchResult(
            posts=sorted(poll.posts.values(), key=lambda p: (p.created_at, p.native_id)),
            cursor=json.dumps(new_state, sort_keys=True),
            skipped=poll.skipped,
        )

    def _read(
        self, term: str, since: str, until: str | None, known: set[str], budget: int, poll: _Poll
    ) -> _Run:
        run = _Run()
        page_cursor: str | None = None
        for _ in range(budget):
            params: dict[str, Any] = {
                "q": f'"{term}"',
                "sort": "latest",
                "limit": PAGE_SIZE,
                "since": since,
            }
            if until:
                params["until"] = until
            if page_cursor:
                params["cursor"] = page_cursor
            payload = self._search(params)
            run.pages += 1
            views = payload.get("posts")
            for view in views if isinstance(views, list) else []:
                try:
                    post, sort_at = to_post(view)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    poll.skipped += 1
                    log.warning("bluesky: skipping malformed search result: %s", exc)
                    continue
                if run.newest is None or sort_at > run.newest:
                    run.newest, run.newest_ids = sort_at, set()
                if sort_at == run.newest:
                    run.newest_ids.add(post.native_id)
                run.oldest = sort_at if run.oldest is None else min(run.oldest, sort_at)
                if post.native_id not in known:
                    poll.posts.setdefault(post.native_id, post)
            page_cursor = payload.get("cursor") if isinstance(payload.get("cursor"), str) else None
            if not page_cursor or not views:
                run.complete = True
                break
        return run

    def _search(self, params: dict[str, Any]) -> dict[str, Any]:
        response = http.get(
            self._session,
            f"{self._config.service_url.rstrip('/')}/xrpc/app.bsky.feed.searchPosts",
            network=self.network,
            timeout=self._config.timeout_seconds,
            params=params,
            headers={"Authorization": f"Bearer {self._login()}"},
            credential=CREDENTIAL,
            now=self._clock.now(),
        )
        return _json(response)

    def _login(self) -> str:
        """The session's access token, logging in again before it expires (about 2 h)."""
        now = self._clock.now()
        if self._token is None or now - self._token[1] >= SESSION_REUSE:
            assert self._config.app_password is not None
            response = http.post_json(
                self._session,
                f"{self._config.service_url.rstrip('/')}/xrpc/com.atproto.server.createSession",
                {
                    "identifier": self._config.identifier,
                    "password": self._config.app_password.get_secret_value(),
                },
                network=self.network,
                timeout=self._config.timeout_seconds,
                credential=CREDENTIAL,
                now=now,
            )
            token = _json(response).get("accessJwt")
            if not isinstance(token, str):
                raise RetriableSourceError("bluesky: createSession sent no accessJwt")
            self._token = (token, now)
        return self._token[0]

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Counts from `app.bsky.feed.getPosts` through the account's PDS, 25 a request."""
        uris = {post_uri(i): i for i in dict.fromkeys(native_ids) if "/" in i}
        chunks = list(uris)
        found: dict[str, Engagement] = {}
        for start in range(0, len(chunks), LOOKUP_SIZE):
            response = http.get(
                self._session,
                f"{self._config.service_url.rstrip('/')}/xrpc/app.bsky.feed.getPosts",
                network=self.network,
                timeout=self._config.timeout_seconds,
                params={"uris": chunks[start : start + LOOKUP_SIZE]},
                headers={"Authorization": f"Bearer {self._login()}"},
                credential=CREDENTIAL,
                now=self._clock.now(),
            )
            views = _json(response).get("posts")
            for view in views if isinstance(views, list) else []:
                if isinstance(view, dict) and view.get("uri") in uris:
                    found[uris[view["uri"]]] = engagement(view)
        return found

    def close(self) -> None:
        self._session.close()


def to_post(view: Any) -> tuple[Post, str]:
    """A search result (a postView) as a post, with its `sortAt` instant (ISO, UTC)."""
    if not isinstance(view, dict):
        raise TypeError("post view is not an object")
    identity = native_id_of(view["uri"])
    if identity is None:
        raise ValueError(f"{view['uri']!r} is not a post URI")
    record, author = view["record"], view["author"]
    text = record["text"]
    if not isinstance(text, str):
        raise TypeError("post text is not a string")
    created_at = _parse(record["createdAt"])
    indexed = view.get("indexedAt")
    sort_at = min(created_at, _parse(indexed)) if indexed else created_at
    langs = record.get("langs")
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    did, rkey = identity.rsplit("/", 1)
    handle = str(author.get("handle") or did)
    return (
        Post(
            network="bluesky",
            native_id=identity,
            text=text,
            created_at=created_at,
            author=Author(
                native_id=str(author.get("did") or did),
                handle=handle,
                name=str(author.get("displayName") or "") or None,
            ),
            engagement=engagement(view),
            url=f"https://bsky.app/profile/{did}/post/{rkey}",
            lang=str(langs[0]) if isinstance(langs, list) and langs else None,
            in_reply_to=native_id_of((reply.get("parent") or {}).get("uri")),
            conversation_id=native_id_of((reply.get("root") or {}).get("uri")),
        ),
        _iso(sort_at),
    )


def _parse(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    """Fixed-width UTC ISO text: compares in the order of the instants."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(response: Any) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        raise RetriableSourceError("bluesky: response is not complete JSON") from None
    if not isinstance(payload, dict):
        raise RetriableSourceError("bluesky: response is not a JSON object")
    return payload
