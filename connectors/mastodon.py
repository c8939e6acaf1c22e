"""Mastodon posts that name a brand: hashtag timelines and status search on chosen instances.

Why it is built this way:
- Each configured instance is asked for the tag timeline of every brand term that can be a
  hashtag (`#acme` for "Acme", `#acmecorp` for "Acme Corp") and of the extra `hashtags`;
  tag timelines are public on most instances. Status search (`/api/v2/search`) needs an
  account on every instance, so it runs only with an `access_token`, and only where the
  instance has full-text search (it answers 422 or nothing otherwise).
- Paging follows the `Link` header as Mastodon means it: the first poll reads back from the
  newest post (`rel="next"`), later polls ask for what is just above the stored id
  (`min_id`) and walk up (`rel="prev"`), so a burst larger than a poll is read on the next
  poll from where this one stopped, never skipped.
- The same post reaches several instances with a different local id each; its ActivityPub
  `uri` names its home instance and its id there, so `home.host/id` is its one identity and
  a post seen on two instances is one mention. Its counts are read back from its home
  instance when that is a configured one (`GET /api/v1/statuses?id[]=`, 20 a request).
- Plain HTTP (requests), not Mastodon.py: three GET endpoints of JSON; Mastodon.py asks the
  instance for its version on creation and sleeps in-thread on rate limits by default,
  while requests already parses `Link` headers.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from connectors import http
from connectors.base import Connector, FetchResult
from connectors.cursor import load_json_cursor
from connectors.errors import RetriableSourceError
from connectors.html_text import html_to_text
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

PAGE_SIZE = 40  # the most a Mastodon timeline or search page holds
LOOKUP_SIZE = 20
CREDENTIAL = "access_token"
_TAG = re.compile(r"^[^\W_][\w]*$")
_MAX_NATIVE_ID = 64


class MastodonSourceConfig(SourceBase):
    """Tag timelines (no account) and status search (with a token) on chosen instances."""

    type: Literal["mastodon"]
    instances: list[str] = Field(min_length=1, description="instance base URLs")
    hashtags: list[str] = Field(default_factory=list, description="extra tags, without #")
    access_token: SecretStr | None = None
    search: bool = Field(default=True, description="status search, when a token is given")
    max_pages: int = Field(default=3, ge=1, description="pages of 40 per timeline per poll")
    timeout_seconds: float = Field(default=20, gt=0)

    @field_validator("instances")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).netloc:
                raise ValueError(f"{url!r} is not an http(s) URL such as https://mastodon.social")
        return [url.rstrip("/") for url in value]


@dataclass
class _Feed:
    """One thing to read on one instance: a tag timeline or a search term."""

    instance: str
    kind: Literal["tag", "search"]
    value: str

    @property
    def key(self) -> str:
        return f"{self.instance} {self.kind}:{self.value}"


@dataclass
class _Poll:
    posts: dict[str, Post] = field(default_factory=dict)
    skipped: int = 0


class MastodonConnector(Connector):
    """Mentions on Mastodon instances."""

    network = "mastodon"
    config_model = MastodonSourceConfig

    def __init__(
        self, config: MastodonSourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        self._config = config
        self._clock = clock
        self._session = http.session()
        if config.access_token is not None:
            token = config.access_token.get_secret_value()
            self._session.headers["Authorization"] = f"Bearer {token}"
        terms = list(dict.fromkeys(t for b in config.watched(brands) for t in b.terms))
        tags = [hashtag(t) for t in [*terms, *config.hashtags]]
        searching = config.search and config.access_token is not None
        self.feeds = [
            *(
                _Feed(instance, "tag", tag)
                for instance in config.instances
                for tag in dict.fromkeys(t for t in tags if t)
            ),
            *(
                _Feed(instance, "search", term)
                for instance in config.instances
                for term in (terms if searching else [])
            ),
        ]
        self._homes = {urlsplit(url).netloc.lower(): url for url in config.instances}

    # -- fetching -------------------------------------------------------------------------

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network=self.network)
        poll = _Poll()
        new_state: dict[str, dict[str, Any]] = {}
        for feed in self.feeds:
            since = state.get(feed.key, {}).get("since")
            reader = self._timeline if feed.kind == "tag" else self._search
            newest = reader(feed, since if isinstance(since, str) else None, poll)
            new_state[feed.key] = {"since": newest}
        return FetchResult(
            posts=sorted(poll.posts.values(), key=lambda p: (p.created_at, p.native_id)),
            cursor=json.dumps(new_state, sort_keys=True),
            skipped=poll.skipped,
        )

    def _timeline(self, feed: _Feed, since: str | None, poll: _Poll) -> str | None:
        """Read a tag timeline above `since` (or back from the newest); returns the new
        `since`: the newest local id read without a gap below it."""
        url = f"{feed.instance}/api/v1/timelines/tag/{feed.value}"
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if since:
            params["min_id"] = since
        newest = since
        for _ in range(self._config.max_pages):
            response = self._get(url, params)
            statuses = _list(response.json())
            if not statuses:
                break
            newest = _max_id(newest, *self._keep(statuses, feed.instance, poll))
            # later polls walk up from `since` (each page just above the last one read);
            # the first poll starts at the newest page and walks back in time
            link = response.links.get("prev" if since else "next", {}).get("url")
            if not link:
                break
            url, params = link, {}
        return newest

    def _search(self, feed: _Feed, since: str | None, poll: _Poll) -> str | None:
        """Statuses matching a term, newer than `since`, paged by offset (search sends no
        Link header)."""
        newest = since
        for page in range(self._config.max_pages):
            params: dict[str, Any] = {
                "q": feed.value,
                "type": "statuses",
                "limit": PAGE_SIZE,
                "offset": page * PAGE_SIZE,
            }
            if since:
                params["min_id"] = since
            payload = self._get(f"{feed.instance}/api/v2/search", params).json()
            statuses = _list(payload.get("statuses") if isinstance(payload, dict) else None)
            newer = [s for s in statuses if not since or _id_after(s.get("id"), since)]
            newest = _max_id(newest, *self._keep(newer, feed.instance, poll))
            if len(statuses) < PAGE_SIZE:
                break
        return newest

    def _keep(self, statuses: list[Any], instance: str, poll: _Poll) -> list[str]:
        """Add the page's posts to the poll; returns the page's local ids (for the cursor)."""
        ids: list[str] = []
        for status in statuses:
            local = status.get("id") if isinstance(status, dict) else None
            if isinstance(local, str) and local.isdigit():
                ids.append(local)
            try:
                post = to_post(status)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                poll.skipped += 1
                log.warning("mastodon: skipping malformed status from %s: %s", instance, exc)
                continue
            if post is not None:
                poll.posts.setdefault(post.native_id, post)
        return ids

    # -- engagement -----------------------------------------------------------------------

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Counts from each post's home instance, when that is a configured instance."""
        by_home: dict[str, list[str]] = {}
        for native_id in dict.fromkeys(native_ids):
            host, _, local = native_id.partition("/")
            if host.lower() in self._homes and local.isdigit():
                by_home.setdefault(host.lower(), []).append(local)
        found: dict[str, Engagement] = {}
        for host, ids in by_home.items():
            for start in range(0, len(ids), LOOKUP_SIZE):
                chunk = ids[start : start + LOOKUP_SIZE]
                url = f"{self._homes[host]}/api/v1/statuses"
                for status in _list(self._get(url, {"id[]": chunk}).json()):
                    local = str(status.get("id", ""))
                    if local in chunk:
                        found[f"{host}/{local}"] = _engagement(status)
        return found

    def _get(self, url: str, params: dict[str, Any]) -> Any:
        response = http.get(
            self._session,
            url,
            network=self.network,
            timeout=self._config.timeout_seconds,
            params=params,
            credential=CREDENTIAL,
            now=self._clock.now(),
        )
        try:
            response.json()
        except ValueError:
            raise RetriableSourceError("mastodon: response is not complete JSON") from None
        return response

    def close(self) -> None:
        self._session.close()


def hashtag(term: str) -> str | None:
    """The hashtag a term is written as (`Acme Corp` -> `acmecorp`), if it can be one."""
    tag = "".join(term.lstrip("#").split()).lower()
    return tag if _TAG.match(tag) else None


def native_id(uri: str) -> str:
    """`home.host/id`: the post's id on its home instance, the same from every instance."""
    parts = urlsplit(uri)
    last = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if not parts.netloc or not last:
        raise ValueError(f"status uri {uri!r} names no post")
    identity = f"{parts.netloc.lower()}/{last}"
    if len(identity) > _MAX_NATIVE_ID:
        raise ValueError(f"status uri {uri!r} is too long to be an id")
    return identity


def to_post(status: Any) -> Post | None:
    """A status as a post; a boost (`reblog`) is not a new post and gives None."""
    if not isinstance(status, dict):
        raise TypeError("status is not an object")
    if status.get("reblog"):
        return None
    identity = native_id(str(status["uri"]))
    created_at = datetime.fromisoformat(str(status["created_at"]).replace("Z", "+00:00"))
    if created_at.tzinfo is None:
        raise ValueError("created_at has no time zone")
    text = html_to_text(str(status["content"]))
    warning = str(status.get("spoiler_text") or "")
    account = status["account"]
    followers = account.get("followers_count")
    return Post(
        network="mastodon",
        native_id=identity,
        text=f"{warning}\n\n{text}" if warning else text,
        created_at=created_at.astimezone(UTC),
        author=Author(
            native_id=str(account.get("url") or account["acct"])[:_MAX_NATIVE_ID],
            handle=str(account["acct"]),
            name=str(account.get("display_name") or "") or None,
            followers=int(followers) if followers is not None else None,
            verified=False,
        ),
        engagement=_engagement(status),
        url=str(status.get("url") or status["uri"]),
        # `in_reply_to_id` is the parent's id on the instance read, not on its home, so it
        # cannot be matched with stored posts' ids: replies are not linked on Mastodon.
        lang=status.get("language") or None,
    )


def _engagement(status: dict[str, Any]) -> Engagement:
    return Engagement(
        likes=int(status.get("favourites_count") or 0),
        reposts=int(status.get("reblogs_count") or 0),
        replies=int(status.get("replies_count") or 0),
        quotes=int(status.get("quotes_count") or 0),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _max_id(current: str | None, *ids: str) -> str | None:
    numbers = [int(v) for v in (current, *ids) if v and v.isdigit()]
    return str(max(numbers)) if numbers else None


def _id_after(value: Any, since: str) -> bool:
    return isinstance(value, str) and value.isdigit() and int(value) > int(since)
