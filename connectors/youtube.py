"""YouTube comment threads on the brand's channels and videos, with the user's API key.

Why it is built this way:
- `commentThreads.list` costs one quota unit a page of 100 (10,000 units a day by default):
  each configured channel (`allThreadsRelatedToChannelId`: every video of the channel and
  its discussion) and video is read newest first (`order=time`) down to the newest comment
  already returned, so a quiet poll costs one unit per channel or video.
- Comments on the brand's own channel or video are its mentions whether or not they name
  it, when the source is one brand's (`brand` set): they are returned as `addressed`.
- `search.list` costs 100 units, so it runs only when `search: true`, at most
  `searches_per_day` times a UTC day (100 at most), spread over the day: it finds recent
  videos naming a brand term, whose comments are then read for a week like a configured
  video (these must name the brand to count), the newest 50 at most.
- A poll stopped by `max_pages` keeps the next page's token and the old stopping point, and
  reads that backlog first on the next poll, so a burst is finished later, not lost.
- Quota errors (403 `quotaExceeded`, `rateLimitExceeded`) wait; a video whose comments are
  off (403 `commentsDisabled`) is skipped; any other 400/401/403 is the key's fault.
- Plain HTTP (requests), not google-api-python-client: two GET endpoints of JSON; the
  discovery client would bring httplib2 and its own retries for them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import requests
from pydantic import Field, SecretStr

from connectors import http
from connectors.base import Connector, FetchResult
from connectors.cursor import load_json_cursor
from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.html_text import html_to_text
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

PAGE_SIZE = 100
LOOKUP_SIZE = 50
CREDENTIAL = "api_key"
FOUND_VIDEO_DAYS = 7
MAX_FOUND_VIDEOS = 50
QUOTA_REASONS = {"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"}


class YouTubeSourceConfig(SourceBase):
    """Comment threads of channels and videos (Data API v3, an API key)."""

    required_secrets: ClassVar[dict[str, str]] = {"api_key": "a YouTube Data API v3 key"}

    type: Literal["youtube"]
    api_key: SecretStr | None = None
    base_url: str = "https://www.googleapis.com/youtube/v3"
    channels: list[str] = Field(default_factory=list, description="channel ids (UC...)")
    videos: list[str] = Field(default_factory=list, description="video ids")
    search: bool = False
    searches_per_day: int = Field(default=20, ge=1, le=100)
    interval_seconds: float = Field(default=600, gt=0)
    max_pages: int = Field(default=3, ge=1, description="pages of 100 per channel/video per poll")
    timeout_seconds: float = Field(default=20, gt=0)


class CommentsDisabledError(Exception):
    """The video takes no comments: nothing to read there."""


@dataclass
class _Poll:
    posts: dict[str, Post] = field(default_factory=dict)
    addressed: set[str] = field(default_factory=set)
    skipped: int = 0


class YouTubeConnector(Connector):
    """Comments on YouTube channels and videos."""

    network = "youtube"
    config_model = YouTubeSourceConfig

    def __init__(
        self, config: YouTubeSourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        if config.api_key is None:
            raise FatalSourceError("no YouTube API key configured", credential=CREDENTIAL)
        self._config = config
        self._clock = clock
        self._session = http.session()
        self.terms = list(dict.fromkeys(t for b in config.watched(brands) for t in b.terms))

    # -- fetching -------------------------------------------------------------------------

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network=self.network)
        poll = _Poll()
        own = {f"channel:{c}": {"allThreadsRelatedToChannelId": c} for c in self._config.channels}
        own |= {f"video:{v}": {"videoId": v} for v in self._config.videos}
        search = self._search_for_videos(state.get("search", {}))
        found = {f"found:{v}": {"videoId": v} for v in search.get("videos", {})}
        new_state: dict[str, Any] = {"search": search} if self._config.search else {}
        for key, target in [*own.items(), *found.items()]:
            try:
                new_state[key] = self._read(target, state.get(key, {}), poll, key in own)
            except CommentsDisabledError:
                log.info("youtube: comments are off for %s", key)
                new_state[key] = state.get(key, {})
        addressed = frozenset(poll.addressed) if self._config.brand else frozenset()
        return FetchResult(
            posts=sorted(poll.posts.values(), key=lambda p: (p.created_at, p.native_id)),
            cursor=json.dumps(new_state, sort_keys=True),
            skipped=poll.skipped,
            addressed=addressed,
        )

    def _read(
        self, target: dict[str, str], saved: dict[str, Any], poll: _Poll, own: bool
    ) -> dict[str, Any]:
        """New threads down to the stored stopping point, then the backlog a cap left."""
        since = saved.get("since")
        known = set(saved.get("ids", []))
        budget = self._config.max_pages
        result: dict[str, Any] = {}
        backlog = saved.get("backlog")
        if isinstance(backlog, dict) and backlog.get("token"):
            floor, floor_ids = backlog.get("since"), set(backlog.get("ids", []))
            pages, token, _, _ = self._walk(target, floor, floor_ids, budget, poll, own, backlog)
            budget -= pages
            if token:  # one backlog at a time: the newer threads wait above `since`
                return {**saved, "backlog": {**backlog, "token": token}}
        pages, token, newest, newest_ids = self._walk(target, since, known, budget, poll, own)
        if token and pages:  # stopped by the cap with older new threads left
            result["backlog"] = {"token": token, "since": since, "ids": sorted(known)}
        if newest is None or (since is not None and newest < since):
            newest, newest_ids = since, known
        elif newest == since:
            newest_ids |= known
        result |= {"since": newest, "ids": sorted(newest_ids)}
        return result

    def _walk(
        self,
        target: dict[str, str],
        since: str | None,
        known: set[str],
        budget: int,
        poll: _Poll,
        own: bool,
        start: dict[str, Any] | None = None,
    ) -> tuple[int, str | None, str | None, set[str]]:
        """Pages newest first until a thread at or before `since`; returns pages read, the
        next page's token when the budget ran out first, and the newest instant and ids."""
        token = start.get("token") if start else None
        newest: str | None = None
        newest_ids: set[str] = set()
        pages = 0
        while pages < budget:
            params = {
                "part": "snippet",
                "order": "time",
                "maxResults": PAGE_SIZE,
                "textFormat": "plainText",
                **target,
            }
            if token:
                params["pageToken"] = token
            payload = self._get("commentThreads", params)
            pages += 1
            reached = False
            for item in payload.get("items") or []:
                try:
                    post = to_post(item)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    poll.skipped += 1
                    log.warning("youtube: skipping malformed comment thread: %s", exc)
                    continue
                at = _iso(post.created_at)
                if since is not None and (at < since or (at == since and post.native_id in known)):
                    reached = True
                    continue
                if newest is None or at > newest:
                    newest, newest_ids = at, set()
                if at == newest:
                    newest_ids.add(post.native_id)
                poll.posts.setdefault(post.native_id, post)
                if own:
                    poll.addressed.add(post.native_id)
            token = payload.get("nextPageToken")
            if reached or not token:
                return pages, None, newest, newest_ids
        return pages, token, newest, newest_ids

    def _search_for_videos(self, saved: dict[str, Any]) -> dict[str, Any]:
        """Recent videos naming a brand term, searched at most `searches_per_day` a UTC day."""
        if not self._config.search or not self.terms:
            return {}
        now = self._clock.now()
        today = now.date().isoformat()
        count = int(saved.get("count", 0)) if saved.get("day") == today else 0
        last = saved.get("last")
        spacing = timedelta(days=1) / self._config.searches_per_day
        keep_after = now - timedelta(days=FOUND_VIDEO_DAYS)
        videos = {
            v: seen
            for v, seen in (saved.get("videos") or {}).items()
            if datetime.fromisoformat(seen) > keep_after
        }
        due = last is None or now - datetime.fromisoformat(last) >= spacing
        if count >= self._config.searches_per_day or not due:
            return {**saved, "videos": videos}
        after = datetime.fromisoformat(last) if last else keep_after
        payload = self._get(
            "search",
            {
                "part": "snippet",
                "type": "video",
                "order": "date",
                "maxResults": 50,
                "q": "|".join(f'"{t}"' for t in self.terms),
                "publishedAfter": after.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
        for item in payload.get("items") or []:
            video = (item.get("id") or {}).get("videoId") if isinstance(item, dict) else None
            if isinstance(video, str) and video not in self._config.videos:
                videos.setdefault(video, now.isoformat())
        # each video read costs a unit a poll: keep the newest found
        newest = dict(sorted(videos.items(), key=lambda v: v[1], reverse=True)[:MAX_FOUND_VIDEOS])
        return {"day": today, "count": count + 1, "last": now.isoformat(), "videos": newest}

    # -- engagement -----------------------------------------------------------------------

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Likes and reply counts of threads, 50 a request (one unit each)."""
        ids = list(dict.fromkeys(native_ids))
        found: dict[str, Engagement] = {}
        for start in range(0, len(ids), LOOKUP_SIZE):
            chunk = ids[start : start + LOOKUP_SIZE]
            payload = self._get("commentThreads", {"part": "snippet", "id": ",".join(chunk)})
            for item in payload.get("items") or []:
                try:
                    post = to_post(item)
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue
                found[post.native_id] = post.engagement
        return found

    # -- HTTP -----------------------------------------------------------------------------

    def _get(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        assert self._config.api_key is not None
        url = f"{self._config.base_url.rstrip('/')}/{endpoint}"
        query = {**params, "key": self._config.api_key.get_secret_value()}
        try:
            response = self._session.get(url, params=query, timeout=self._config.timeout_seconds)
        except requests.RequestException as exc:
            raise RetriableSourceError(f"youtube: {type(exc).__name__}") from None
        if response.status_code == 403:
            reason = _reason(response)
            if reason in QUOTA_REASONS:
                raise RetriableSourceError(
                    f"youtube: {reason}", retry_after=_until_quota_reset(self._clock.now())
                )
            if reason == "commentsDisabled":
                raise CommentsDisabledError(reason)
        http.checked(response, network=self.network, credential=CREDENTIAL, now=self._clock.now())
        try:
            payload = response.json()
        except ValueError:
            raise RetriableSourceError("youtube: response is not complete JSON") from None
        if not isinstance(payload, dict):
            raise RetriableSourceError("youtube: response is not a JSON object")
        return payload

    def close(self) -> None:
        self._session.close()


def to_post(thread: dict[str, Any]) -> Post:
    """A comment thread's top-level comment as a post (its replies counted)."""
    snippet = thread["snippet"]
    comment = snippet["topLevelComment"]["snippet"]
    thread_id = str(thread["id"])
    text = comment.get("textOriginal")
    if not isinstance(text, str):
        text = html_to_text(str(comment["textDisplay"]))
    created_at = datetime.fromisoformat(str(comment["publishedAt"]).replace("Z", "+00:00"))
    if created_at.tzinfo is None:
        raise ValueError("publishedAt has no time zone")
    video = snippet.get("videoId") or comment.get("videoId")
    channel = snippet.get("channelId") or comment.get("channelId")
    url = (
        f"https://www.youtube.com/watch?v={video}&lc={thread_id}"
        if video
        else f"https://www.youtube.com/channel/{channel}?lc={thread_id}"
    )
    author_channel = (comment.get("authorChannelId") or {}).get("value")
    return Post(
        network="youtube",
        native_id=thread_id,
        text=text,
        created_at=created_at.astimezone(UTC),
        author=Author(
            native_id=str(author_channel or ""),
            handle=str(comment.get("authorDisplayName") or ""),
            name=str(comment.get("authorDisplayName") or "") or None,
        ),
        engagement=Engagement(
            likes=int(comment.get("likeCount") or 0),
            replies=int(snippet.get("totalReplyCount") or 0),
        ),
        url=url,
        conversation_id=str(video) if video else None,
    )


def _reason(response: requests.Response) -> str | None:
    """The first `errors[].reason` of a Google API error body."""
    try:
        errors = response.json()["error"]["errors"]
        return str(errors[0]["reason"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _until_quota_reset(now: datetime) -> float:
    """Seconds to midnight Pacific time, when YouTube's daily quota is renewed (UTC-8 is
    assumed all year: at worst an hour late in summer)."""
    pacific = now.astimezone(UTC) - timedelta(hours=8)
    midnight = (pacific + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - pacific).total_seconds()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
