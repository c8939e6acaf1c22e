"""Facebook: visitor posts on the brand's Page and the comments on its posts (Graph API).

Why it is built this way:
- A Page token reads the Page's `feed`: the Page's own posts, whose comments are where
  customers answer, and posts visitors write on the Page. Visitor posts and comments are
  the brand's mentions without naming it (they are `addressed` when the source has `brand`);
  the Page's own posts are not mentions, only the places comments come from.
- The feed and each post's comments are read newest first (`order=reverse_chronological`)
  from the newest second already read (`since`, inclusive, with the ids of that second
  remembered), 100 a page by the `paging.next` link up to `max_pages`. A poll stopped by
  the cap keeps the unread range (down to the oldest second read, whose ids it remembers)
  and finishes it next time.
- Comments are read on the Page's posts of the last `comment_days` days.
- Graph errors come as JSON: code 190 (token) pauses the source, 4/17/32/613 (rate limits)
  wait. The comment id is taken from `permalink_url` when a response leaves `id` out.
- Plain HTTP (requests): a few GETs of JSON; facebook-sdk is unmaintained and the business
  SDK is for ads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

import requests
from pydantic import Field, SecretStr

from connectors import http
from connectors.base import Connector, FetchResult
from connectors.cursor import load_json_cursor
from connectors.errors import FatalSourceError, RetriableSourceError
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

PAGE_SIZE = 100
LOOKUP_SIZE = 50
CREDENTIAL = "page_token"
RATE_LIMIT_CODES = {4, 17, 32, 613}
FEED_FIELDS = (
    "id,from,message,created_time,permalink_url,shares,"
    "comments.summary(true).limit(0),reactions.summary(true).limit(0)"
)
COMMENT_FIELDS = "id,from,message,created_time,like_count,comment_count,permalink_url,parent{id}"
COUNT_FIELDS = "reactions.summary(true).limit(0),comments.summary(true).limit(0)"
MAX_GAPS = 10


class FacebookSourceConfig(SourceBase):
    """The brand's own Page: its feed and the comments on its posts (a Page token)."""

    required_secrets: ClassVar[dict[str, str]] = {"page_token": "a Page access token"}

    type: Literal["facebook"]
    page_id: str = Field(min_length=1)
    page_token: SecretStr | None = None
    base_url: str = "https://graph.facebook.com/v21.0"
    comment_days: float = Field(default=7, gt=0, description="read comments of posts this new")
    interval_seconds: float = Field(default=300, gt=0)
    max_pages: int = Field(default=3, ge=1, description="pages of 100 per feed/post per poll")
    timeout_seconds: float = Field(default=20, gt=0)


@dataclass
class _Poll:
    posts: dict[str, Post] = field(default_factory=dict)
    skipped: int = 0
    page_posts: dict[str, int] = field(default_factory=dict)  # Page post id -> created (unix)


@dataclass
class _Range:
    """What reading one edge (the feed, a post's comments) between two instants gave."""

    pages: int = 0
    newest: int | None = None
    newest_ids: set[str] = field(default_factory=set)
    oldest: int | None = None
    oldest_ids: set[str] = field(default_factory=set)
    complete: bool = False


def _gap(start: int, start_ids: set[str], done: _Range) -> dict[str, Any]:
    """The seconds from `start` to the oldest one read, both included, with the ids already
    returned at either end (so they are not returned again)."""
    return {"from": start, "to": done.oldest, "ids": sorted(start_ids | done.oldest_ids)}


class FacebookConnector(Connector):
    """Visitor posts and comments on one Facebook Page."""

    network = "facebook"
    config_model = FacebookSourceConfig

    def __init__(
        self, config: FacebookSourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        if config.page_token is None:
            raise FatalSourceError("no Facebook Page token configured", credential=CREDENTIAL)
        self._config = config
        self._clock = clock
        self._session = http.session()

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network=self.network)
        poll = _Poll()
        now = int(self._clock.now().timestamp())
        window = int(timedelta(days=self._config.comment_days).total_seconds())
        tracked = {
            k: int(v) for k, v in (state.get("posts") or {}).items() if int(v) >= now - window
        }
        new_state: dict[str, Any] = {}
        feed_path = f"{self._config.page_id}/feed"
        new_state["feed"] = self._edge(
            feed_path, FEED_FIELDS, state.get("feed", {}), now - window, poll, None
        )
        tracked |= {k: v for k, v in poll.page_posts.items() if v >= now - window}
        comments = state.get("comments") or {}
        new_state["comments"] = {
            post_id: self._edge(
                f"{post_id}/comments",
                COMMENT_FIELDS,
                comments.get(post_id, {}),
                created,
                poll,
                post_id,
            )
            for post_id, created in sorted(tracked.items())
        }
        new_state["posts"] = tracked
        return FetchResult(
            posts=sorted(poll.posts.values(), key=lambda p: (p.created_at, p.native_id)),
            cursor=json.dumps(new_state, sort_keys=True),
            skipped=poll.skipped,
            addressed=frozenset(poll.posts) if self._config.brand else frozenset(),
        )

    def _edge(
        self,
        path: str,
        fields: str,
        saved: dict[str, Any],
        start: int,
        poll: _Poll,
        post_id: str | None,
    ) -> dict[str, Any]:
        """Read an edge from its stored second (and its gaps); returns its new state."""
        since = int(saved.get("since") or start)
        known = {str(i) for i in saved.get("ids", [])}
        budget = self._config.max_pages
        gaps: list[dict[str, Any]] = []
        for gap in [g for g in saved.get("gaps", []) if isinstance(g, dict)]:
            seen = {str(i) for i in gap.get("ids", [])}
            low, high = int(gap["from"]), int(gap["to"]) + 1  # `until` is exclusive
            done = self._range(path, fields, low, high, seen, budget, poll, post_id)
            budget -= done.pages
            if not done.complete:
                gaps.append(_gap(low, seen, done))
        done = self._range(path, fields, since, None, known, budget, poll, post_id)
        if not done.complete and done.oldest is not None:
            gaps.insert(0, _gap(since, known, done))
        newest, ids = since, known
        if done.newest is not None and done.newest > since:
            newest, ids = done.newest, done.newest_ids
        elif done.newest == since:
            ids = known | done.newest_ids
        return {"since": newest, "ids": sorted(ids), "gaps": gaps[:MAX_GAPS]}

    def _range(
        self,
        path: str,
        fields: str,
        since: int,
        until: int | None,
        known: set[str],
        budget: int,
        poll: _Poll,
        post_id: str | None,
    ) -> _Range:
        done = _Range()
        url: str | None = f"{self._config.base_url.rstrip('/')}/{path}"
        params: dict[str, Any] = {"fields": fields, "limit": PAGE_SIZE, "since": since}
        if post_id is not None:
            params |= {"filter": "stream", "order": "reverse_chronological"}
        if until is not None:
            params["until"] = until
        while url and done.pages < budget:
            payload = self._get(url, params)
            done.pages += 1
            for item in payload.get("data") or []:
                self._take(item, poll, post_id, known, done)
            paging = payload.get("paging") if isinstance(payload.get("paging"), dict) else {}
            url, params = paging.get("next"), {}
            if not payload.get("data"):
                url = None
        done.complete = not url
        return done

    def _take(
        self, item: Any, poll: _Poll, post_id: str | None, known: set[str], done: _Range
    ) -> None:
        """One feed post or comment: a post to return, or a Page post to read comments of."""
        try:
            post, page_post = self._to_post(item, post_id)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            poll.skipped += 1
            log.warning("facebook: skipping malformed item: %s", exc)
            return
        second = int(post.created_at.timestamp())
        if done.newest is None or second > done.newest:
            done.newest, done.newest_ids = second, set()
        if second == done.newest:
            done.newest_ids.add(post.native_id)
        if done.oldest is None or second < done.oldest:
            done.oldest, done.oldest_ids = second, set()
        if second == done.oldest:
            done.oldest_ids.add(post.native_id)
        if page_post:
            poll.page_posts[post.native_id] = second
        elif post.native_id not in known:
            poll.posts.setdefault(post.native_id, post)

    def _to_post(self, item: Any, post_id: str | None) -> tuple[Post, bool]:
        if not isinstance(item, dict):
            raise TypeError("item is not an object")
        created = datetime.strptime(str(item["created_time"]), "%Y-%m-%dT%H:%M:%S%z")
        sender = item.get("from") if isinstance(item.get("from"), dict) else {}
        by_page = not sender or str(sender.get("id")) == self._config.page_id
        if post_id is None:  # a feed item
            identity = str(item["id"])
            engagement = Engagement(
                likes=_total(item.get("reactions")),
                replies=_total(item.get("comments")),
                reposts=int((item.get("shares") or {}).get("count") or 0),
            )
            in_reply_to = None
        else:
            linked, replied = _comment_ids(post_id, str(item.get("permalink_url") or ""))
            identity = str(item.get("id") or linked)
            engagement = Engagement(
                likes=int(item.get("like_count") or 0), replies=int(item.get("comment_count") or 0)
            )
            parent = item.get("parent") if isinstance(item.get("parent"), dict) else {}
            in_reply_to = str(parent.get("id") or replied or post_id)
        text = item.get("message")
        if not isinstance(text, str):
            raise TypeError("message is not a string")
        post = Post(
            network="facebook",
            native_id=identity,
            text=text,
            created_at=created.astimezone(UTC),
            author=Author(
                native_id=str(sender.get("id") or ""), handle=str(sender.get("name") or "")
            ),
            engagement=engagement,
            url=item.get("permalink_url"),
            in_reply_to=in_reply_to,
            conversation_id=post_id or identity,
        )
        return post, post_id is None and by_page

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Reactions and comment counts, 50 objects a request (`?ids=`)."""
        ids = list(dict.fromkeys(native_ids))
        found: dict[str, Engagement] = {}
        for start in range(0, len(ids), LOOKUP_SIZE):
            chunk = ids[start : start + LOOKUP_SIZE]
            payload = self._get(
                f"{self._config.base_url.rstrip('/')}/",
                {"ids": ",".join(chunk), "fields": COUNT_FIELDS},
            )
            for key, item in payload.items():
                if key in chunk and isinstance(item, dict):
                    found[key] = Engagement(
                        likes=_total(item.get("reactions")), replies=_total(item.get("comments"))
                    )
        return found

    def _get(self, url: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self._config.page_token is not None
        token = self._config.page_token.get_secret_value()
        try:
            response = self._session.get(
                url,
                params=params or None,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self._config.timeout_seconds,
            )
        except requests.RequestException as exc:
            raise RetriableSourceError(f"facebook: {type(exc).__name__}") from None
        if response.status_code in (400, 403):
            code = _error_code(response)
            if code in RATE_LIMIT_CODES:
                raise RetriableSourceError(f"facebook: rate limited (code {code})")
            if code == 190:
                raise FatalSourceError(
                    "facebook: the Page token was refused", credential=CREDENTIAL
                )
        http.checked(response, network=self.network, credential=CREDENTIAL, now=self._clock.now())
        try:
            payload = response.json()
        except ValueError:
            raise RetriableSourceError("facebook: response is not complete JSON") from None
        if not isinstance(payload, dict):
            raise RetriableSourceError("facebook: response is not a JSON object")
        return payload

    def close(self) -> None:
        self._session.close()


def _total(edge: Any) -> int:
    """`summary.total_count` of an edge asked for with `.summary(true)`."""
    summary = edge.get("summary") if isinstance(edge, dict) else None
    return int(summary.get("total_count") or 0) if isinstance(summary, dict) else 0


def _comment_ids(post_id: str, permalink: str) -> tuple[str, str | None]:
    """A comment's id and its parent comment's, `<post>_<comment>`, from its permalink
    (`comment_id`, and `reply_comment_id` for a reply): some responses leave `id` out."""
    query = parse_qs(urlsplit(permalink).query)
    prefix = post_id.rsplit("_", 1)[-1]
    (comment,) = query["comment_id"]
    reply = query.get("reply_comment_id")
    if reply:
        return f"{prefix}_{reply[0]}", f"{prefix}_{comment}"
    return f"{prefix}_{comment}", None


def _error_code(response: requests.Response) -> int | None:
    try:
        return int(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None
