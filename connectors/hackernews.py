"""Hacker News stories and comments that name a brand, from Algolia's free HN Search API.

Why it is built this way:
- `search_by_date` returns newest first and filters on `created_at_i`, so one request per
  brand term asks only for what is newer than the stored cursor; 100 hits a page, paged up
  to `max_pages`. No key, no client library: the API is two GET endpoints of plain JSON.
- The cursor keeps, per term, the newest second seen and the ids seen in that second, and
  asks again from that second (`>=`): a hit indexed late in the same second is not lost and
  one already stored is not returned twice. A poll stopped by `max_pages` keeps the range it
  did not reach (down to the oldest second read, whose ids it remembers) and reads it first
  on the next poll, so a burst is finished later, not lost.
- Engagement (points, comment count) is read back 100 stories a request by their
  `story_<id>` tags; comments carry no public score, so they are left out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import requests
from pydantic import Field

from connectors import http
from connectors.base import Connector, FetchResult
from connectors.cursor import load_json_cursor
from connectors.errors import RetriableSourceError
from connectors.html_text import html_to_text
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_GAPS = 20
ITEM_URL = "https://news.ycombinator.com/item?id="


@dataclass
class _Poll:
    posts: dict[str, Post] = field(default_factory=dict)
    skipped: int = 0


@dataclass
class _Run:
    """What reading one time range of one term produced."""

    pages: int = 0
    newest: int = 0
    newest_ids: set[str] = field(default_factory=set)
    oldest: int | None = None
    oldest_ids: set[str] = field(default_factory=set)
    complete: bool = False


def _gap(start: Any, start_ids: set[str], run: _Run) -> dict[str, Any]:
    """The seconds from `start` to the oldest one `run` reached, both included, with the ids
    already returned at either end (so they are not returned again)."""
    return {"from": int(start), "to": run.oldest, "ids": sorted(start_ids | run.oldest_ids)}


class HackerNewsSourceConfig(SourceBase):
    """Stories and comments from Algolia's HN Search API (no key)."""

    type: Literal["hackernews"]
    base_url: str = "https://hn.algolia.com/api/v1"
    max_pages: int = Field(default=3, ge=1, description="pages of 100 per term per poll")
    timeout_seconds: float = Field(default=20, gt=0)


class HackerNewsConnector(Connector):
    """Mentions on Hacker News: one `search_by_date` query per brand term."""

    network = "hackernews"
    config_model = HackerNewsSourceConfig

    def __init__(
        self, config: HackerNewsSourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        self._config = config
        self._clock = clock
        self._session = http.session()
        self.terms = list(
            dict.fromkeys(t.lower() for brand in config.watched(brands) for t in brand.terms)
        )

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network=self.network)
        poll = _Poll()
        new_state: dict[str, dict[str, Any]] = {}
        for term in self.terms:
            saved = state.get(term, {})
            since = int(saved.get("since", 0))
            known = set(saved.get("ids", []))
            budget = self._config.max_pages
            gaps: list[dict[str, Any]] = []
            for gap in [g for g in saved.get("gaps", []) if isinstance(g, dict)]:
                seen = {*gap.get("ids", [])}
                run = self._read(term, int(gap["from"]), int(gap["to"]) + 1, seen, budget, poll)
                budget -= run.pages
                if not run.complete:
                    gaps.append(_gap(gap["from"], seen, run))
            run = self._read(term, since, None, known, budget, poll)
            if not run.complete and run.oldest is not None:
                # the seconds between the stored one and the oldest read: read next poll
                gaps.insert(0, _gap(since, known, run))
            newest, newest_ids = since, known
            if run.newest > since:
                newest, newest_ids = run.newest, run.newest_ids
            elif run.newest == since:
                newest_ids = known | run.newest_ids
            new_state[term] = {"since": newest, "ids": sorted(newest_ids)}
            if gaps:
                new_state[term]["gaps"] = gaps[:MAX_GAPS]
        return FetchResult(
            posts=sorted(poll.posts.values(), key=lambda p: (p.created_at, p.native_id)),
            cursor=json.dumps(new_state, sort_keys=True),
            skipped=poll.skipped,
        )

    def _read(
        self, term: str, since: int, until: int | None, known: set[str], budget: int, poll: _Poll
    ) -> _Run:
        """Hits from `since` (inclusive) to `until` (exclusive), newest first, while the
        page budget lasts."""
        run = _Run()
        for page in range(budget):
            payload = self._search(term, since, until, page)
            run.pages += 1
            hits = payload.get("hits")
            hits = hits if isinstance(hits, list) else []
            for hit in hits:
                try:
                    post = _to_post(hit)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    poll.skipped += 1
                    log.warning("hackernews: skipping malformed hit: %s", exc)
                    continue
                second = int(post.created_at.timestamp())
                if run.oldest is None or second < run.oldest:
                    run.oldest, run.oldest_ids = second, set()
                if second == run.oldest:
                    run.oldest_ids.add(post.native_id)
                if post.native_id in known:
                    continue
                poll.posts.setdefault(post.native_id, post)
                if second > run.newest:
                    run.newest, run.newest_ids = second, set()
                if second == run.newest:
                    run.newest_ids.add(post.native_id)
            if len(hits) < PAGE_SIZE or page + 1 >= int(payload.get("nbPages") or 0):
                run.complete = True
                break
        return run

    def _search(self, term: str, since: int, until: int | None, page: int) -> dict[str, Any]:
        """One page; a failure after posts were read still fails the poll (nothing is stored
        until the whole batch is, so the cursor never skips the unread pages)."""
        params: dict[str, Any] = {
            "query": f'"{term}"',
            "tags": "(story,comment)",
            "hitsPerPage": PAGE_SIZE,
            "page": page,
        }
        filters = [f"created_at_i>={since}"] if since else []
        if until is not None:
            filters.append(f"created_at_i<{until}")
        if filters:
            params["numericFilters"] = ",".join(filters)
        return self._get("search_by_date", params)

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Points and comment counts of stories, 100 a request; comments are left out."""
        ids = list(dict.fromkeys(i for i in native_ids if i.isdigit()))
        found: dict[str, Engagement] = {}
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start : start + PAGE_SIZE]
            tags = "story,(" + ",".join(f"story_{i}" for i in chunk) + ")"
            payload = self._get("search", {"tags": tags, "hitsPerPage": PAGE_SIZE})
            for hit in payload.get("hits") or []:
                if isinstance(hit, dict) and str(hit.get("objectID")) in chunk:
                    found[str(hit["objectID"])] = _engagement(hit)
        return found

    def _get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        response = http.get(
            self._session,
            f"{self._config.base_url.rstrip('/')}/{endpoint}",
            network=self.network,
            timeout=self._config.timeout_seconds,
            params=params,
            now=self._clock.now(),
        )
        try:
            payload = response.json()
        except ValueError:
            raise RetriableSourceError("hackernews: response is not complete JSON") from None
        if not isinstance(payload, dict):
            raise RetriableSourceError("hackernews: response is not a JSON object")
        return payload

    def http_sessions(self) -> Sequence[requests.Session]:
        return (self._session,)

    def close(self) -> None:
        self._session.close()


def _to_post(hit: dict[str, Any]) -> Post:
    object_id = str(hit["objectID"])
    if not object_id.isdigit():
        raise ValueError(f"objectID {object_id!r} is not numeric")
    created_at = datetime.fromtimestamp(int(hit["created_at_i"]), UTC)
    tags = hit.get("_tags") or []
    if "comment" in tags:
        text = html_to_text(str(hit["comment_text"]))
        parent = hit.get("parent_id")
        story = hit.get("story_id")
        in_reply_to = str(parent) if parent is not None else None
        conversation = str(story) if story is not None else None
    else:
        title = str(hit["title"])
        body = html_to_text(str(hit.get("story_text") or ""))
        text = f"{title}\n\n{body}" if body else title
        in_reply_to, conversation = None, object_id
    author = str(hit.get("author") or "")
    return Post(
        network="hackernews",
        native_id=object_id,
        text=text,
        created_at=created_at,
        author=Author(native_id=author, handle=author),
        engagement=_engagement(hit),
        url=ITEM_URL + object_id,
        in_reply_to=in_reply_to,
        conversation_id=conversation,
    )


def _engagement(hit: dict[str, Any]) -> Engagement:
    return Engagement(likes=int(hit.get("points") or 0), replies=int(hit.get("num_comments") or 0))
