"""Reddit mentions through praw (read-only app credentials): search, comment feeds, brand replies.

Why it is built this way:
- Three kinds of feed, all read newest first and stopped at the stored cursor: a search of
  the configured subreddits sorted by new (submissions), the comment feeds of configured
  subreddits matched against the brand's terms, and the comments of the brand's own accounts
  (its replies, linked to their parent so response time can be measured).
- prawcore retries and sleeps inside the calling thread (on 5xx, timeouts and rate limits).
  The daemon owns retries, with jitter and without blocking other sources, so a requestor
  (praw's documented extension point) turns every failure into the connector's error classes
  at once and keeps the rate-limit headers for itself, leaving prawcore nothing to sleep on.
- Author reach is karma, looked up 100 authors a request by account id and cached (bounded),
  only for authors of posts actually returned.
- Search results can appear late (indexing lag), so the search cursor keeps the names it has
  seen over a short overlap window instead of a bare timestamp; comment feeds are ordered by
  time and need no overlap.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import praw
import prawcore
import requests
from pydantic import Field, SecretStr

from connectors.base import Connector, FetchResult
from connectors.cursor import load_json_cursor
from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.ratelimit import RateLimit
from connectors.x_query import pack, quote
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_QUERY_LENGTH = 512
SEARCH_OVERLAP = 15 * 60.0
MAX_SEEN = 2000
MAX_BACKLOG = 10
KARMA_CACHE = 10_000
CREDENTIAL = "client_id/client_secret"
PUBLIC_URL = "https://www.reddit.com"
RATE_HEADERS = ("x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset")


class _Limits(RateLimit):
    """Reddit's rate-limit headers as last seen; `reset_at` is absolute on the injected clock."""

    def update(self, headers: Any, now: datetime) -> None:
        try:
            remaining = int(float(headers["x-ratelimit-remaining"]))
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        self.remaining, self.reset_at = remaining, now + timedelta(seconds=reset)


class _FailFastRequestor(prawcore.Requestor):
    """prawcore's HTTP layer, raising the connector's error classes instead of retrying.

    Raising here, below prawcore's retry loop, means a 5xx or timeout costs one request and
    no sleep; removing the rate-limit headers keeps prawcore's limiter from sleeping, while
    `_Limits` lets the connector refuse requests until the reset instead.
    """

    def __init__(self, *, limits: _Limits, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._limits = limits
        self._clock = clock

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        wait = self._limits.wait(self._clock.now())
        if wait is not None:
            raise RetriableSourceError("reddit quota spent", retry_after=wait)
        try:
            response = super().request(*args, timeout=self.timeout, **kwargs)
        except prawcore.RequestException as exc:
            original = exc.original_exception
            raise RetriableSourceError(f"reddit: {type(original).__name__}: {original}") from None
        self._limits.update(response.headers, self._clock.now())
        for name in RATE_HEADERS:
            response.headers.pop(name, None)
        status = response.status_code
        if status == 429:
            raise RetriableSourceError(
                "reddit: 429 too many requests", retry_after=self._retry_after(response)
            )
        if status in (401, 403):
            raise FatalSourceError(
                f"reddit: {status} for {response.request.path_url.split('?')[0]} "
                "(check the app's client id and secret)",
                credential=CREDENTIAL,
            )
        if status >= 500:
            raise RetriableSourceError(f"reddit: server error {status}")
        return response

    def _retry_after(self, response: requests.Response) -> float | None:
        value = response.headers.get("retry-after", "")
        if value.replace(".", "", 1).isdigit():
            return float(value)
        return self._limits.wait(self._clock.now())


@dataclass(frozen=True)
class _Feed:
    """One listing read newest first: `key` names it in the cursor.

    `listing(limit, params)` returns praw's generator; params may carry `after`.
    """

    key: str
    listing: Callable[..., Iterator[Any]]
    keep: Callable[[Post], bool]
    overlap: float = 0.0


@dataclass
class _Range:
    """What reading one stretch of a feed produced: `resume` is where to continue."""

    pages: int = 0
    top: float | None = None
    last: str | None = None
    done: bool = False
    resume: str | None = None


@dataclass
class _Poll:
    posts: dict[str, Post] = field(default_factory=dict)
    skipped: int = 0
    requests_ok: bool = False
    stopped: RetriableSourceError | None = None


class RedditSourceConfig(SourceBase):
    """Reddit search and comment feeds through an approved app's read-only credentials."""

    required_secrets: ClassVar[dict[str, str]] = {
        "client_id": "the Reddit app's client id",
        "client_secret": "the Reddit app's client secret",
    }

    type: Literal["reddit"]
    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    user_agent: str = "brandmon/0.1 (self-hosted brand monitoring)"
    subreddits: list[str] = Field(default_factory=lambda: ["all"])
    comment_subreddits: list[str] = Field(default_factory=list)
    max_pages: int = Field(default=5, ge=1, description="pages of 100 per feed per poll")
    oauth_url: str = "https://oauth.reddit.com"
    reddit_url: str = "https://www.reddit.com"
    timeout_seconds: float = Field(default=20, gt=0)


class RedditConnector(Connector):
    """Mentions of the configured brands on Reddit, with karma as reach."""

    network = "reddit"
    config_model = RedditSourceConfig

    def __init__(
        self, config: RedditSourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        if config.client_id is None or config.client_secret is None:
            raise FatalSourceError("no Reddit app credentials configured", credential=CREDENTIAL)
        self._config = config
        self._clock = clock
        self._limits = _Limits()
        self._session = requests.Session()
        self._reddit = praw.Reddit(
            client_id=config.client_id.get_secret_value(),
            client_secret=config.client_secret.get_secret_value(),
            user_agent=config.user_agent,
            oauth_url=config.oauth_url.rstrip("/"),
            reddit_url=config.reddit_url.rstrip("/"),
            check_for_updates=False,
            check_for_async=False,
            requestor_class=_FailFastRequestor,
            requestor_kwargs={
                "limits": self._limits,
                "clock": clock,
                "timeout": config.timeout_seconds,
                "session": self._session,
            },
        )
        self._reddit.read_only = True
        watched = [b for b in brands if config.brand in (None, b.name)]
        accounts = [h for b in watched for h in b.handles.get("reddit", [])]
        self._accounts = list(dict.fromkeys(accounts))
        self._handles = {h.lower() for h in accounts}
        self.feeds = self._build_feeds(watched)
        self._karma: OrderedDict[str, int | None] = OrderedDict()

    def _build_feeds(self, brands: Sequence[BrandTerms]) -> list[_Feed]:
        feeds: dict[str, _Feed] = {}
        searched = self._reddit.subreddit("+".join(self._config.subreddits))
        for brand in brands:
            for query in search_queries(brand):
                feeds.setdefault(
                    f"search:{searched.display_name}:{query}",
                    _Feed(
                        f"search:{searched.display_name}:{query}",
                        lambda limit, params, q=query: searched.search(
                            q, sort="new", limit=limit, request_limit=PAGE_SIZE, params=params
                        ),
                        keep=lambda _post: True,
                        overlap=SEARCH_OVERLAP,
                    ),
                )
        if self._config.comment_subreddits:
            matches = [matcher(b) for b in brands]
            commented = self._reddit.subreddit("+".join(self._config.comment_subreddits))
            feeds["comments:" + commented.display_name] = _Feed(
                "comments:" + commented.display_name,
                lambda limit, params: commented.comments(
                    limit=limit, request_limit=PAGE_SIZE, params=params
                ),
                keep=lambda post: self._is_brand(post) or any(m(post.text) for m in matches),
            )
        for handle in self._accounts:
            account = self._reddit.redditor(handle)
            feeds["user:" + handle] = _Feed(
                "user:" + handle,
                lambda limit, params, a=account: a.comments.new(
                    limit=limit, request_limit=PAGE_SIZE, params=params
                ),
                keep=lambda _p: True,
            )
        return list(feeds.values())

    # -- fetching -------------------------------------------------------------------------

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network="reddit")
        poll = _Poll()
        new_state = {
            feed.key: self._read_feed(feed, state.get(feed.key, {}), poll) for feed in self.feeds
        }
        if poll.stopped is not None and not poll.requests_ok:
            raise poll.stopped
        posts = self._with_reach(list(poll.posts.values()))
        return FetchResult(
            posts=sorted(posts, key=lambda p: (p.created_at, p.native_id)),
            cursor=json.dumps(new_state, sort_keys=True, separators=(",", ":")),
            quota_remaining=self._limits.remaining,
            skipped=poll.skipped,
        )

    def _read_feed(self, feed: _Feed, saved: dict[str, Any], poll: _Poll) -> dict[str, Any]:
        """New items of one feed down to the stored cursor, and that feed's next cursor.

        `seen` holds names within the overlap window so a late-indexed item is still found
        and an item is never returned twice; a full page of items already seen ends the
        read early, so a busy feed does not pay for the whole window on every poll. When
        the page cap or an error stops a read above the cursor, a backlog entry (`after`
        the last item read, down to its floor) is kept and read on later polls after the
        newest items, so a burst is not lost. A feed seen for the first time starts from
        its latest page, not from its history.
        """
        if poll.stopped is not None:
            return saved
        newest: float | None = saved.get("newest")
        seen: dict[str, float] = dict(saved.get("seen") or {})
        floor = newest - feed.overlap if newest is not None else None
        budget = self._config.max_pages if newest is not None else 1
        head = self._read_range(feed, None, floor, budget, seen, poll, stop_on_seen=True)
        budget -= head.pages
        backlog: list[dict[str, Any]] = []
        if head.resume and floor is not None:
            backlog.append({"after": head.resume, "floor": floor})
        for entry in saved.get("backlog") or []:
            if poll.stopped is not None or budget <= 0:
                backlog.append(entry)
                continue
            run = self._read_range(feed, entry["after"], entry["floor"], budget, seen, poll)
            budget -= run.pages
            if run.resume:
                backlog.append({"after": run.resume, "floor": entry["floor"]})
            elif not run.done:
                backlog.append(entry)
        if len(backlog) > MAX_BACKLOG:
            log.warning("reddit: %s: %d backlogs, dropping the oldest", feed.key, len(backlog))
        backlog = backlog[:MAX_BACKLOG]
        tops = [t for t in (newest, head.top) if t is not None]
        floors = [b["floor"] for b in backlog]
        state = _feed_state(max(tops) if tops else None, seen, feed.overlap, floors)
        if backlog:
            state["backlog"] = backlog
        return state

    def _read_range(
        self,
        feed: _Feed,
        after: str | None,
        floor: float | None,
        pages: int,
        seen: dict[str, float],
        poll: _Poll,
        *,
        stop_on_seen: bool = False,
    ) -> _Range:
        """Read newest first from `after` (or the top) until `floor` or `pages` run out."""
        run = _Range()
        limit = pages * PAGE_SIZE
        read = seen_in_a_row = 0
        try:
            with _translated():
                for item in feed.listing(limit, {"after": after} if after else {}):
                    poll.requests_ok = True
                    read += 1
                    data = vars(item)
                    name, created = data.get("name"), data.get("created_utc")
                    if not isinstance(name, str) or not isinstance(created, int | float):
                        poll.skipped += 1
                        log.warning("reddit: skipping item without name/created_utc: %s", feed.key)
                        continue
                    if floor is not None and created < floor:
                        run.done = True
                        break
                    run.last = name
                    if name in seen:
                        seen_in_a_row += 1
                        if stop_on_seen and seen_in_a_row >= PAGE_SIZE:
                            run.done = True
                            break
                        continue
                    seen_in_a_row = 0
                    seen[name] = float(created)
                    run.top = max(run.top or created, created)
                    post = self._parse(data, poll)
                    if post is not None and feed.keep(post):
                        poll.posts.setdefault(post.native_id, post)
                else:
                    run.done = read < limit
        except RetriableSourceError as exc:
            poll.stopped = exc
        run.pages = max(1, -(-read // PAGE_SIZE))
        if not run.done:
            run.resume = run.last
        return run

    def _parse(self, data: dict[str, Any], poll: _Poll) -> Post | None:
        try:
            return self._to_post(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            poll.skipped += 1
            log.warning("reddit: skipping malformed item %s: %s", str(data.get("name"))[:32], exc)
            return None

    def _to_post(self, data: dict[str, Any]) -> Post:
        name = data["name"]
        is_comment = name.startswith("t1_")
        if is_comment:
            text = data["body"]
        else:
            selftext = data.get("selftext") or ""
            text = f"{data['title']}\n\n{selftext}" if selftext else data["title"]
        if not isinstance(text, str):
            raise TypeError("text is not a string")
        author = data.get("author")
        handle = str(author.name) if author is not None else ""
        author_id = data.get("author_fullname") or handle
        return Post(
            network="reddit",
            native_id=name,
            text=text,  # praw asks for raw_json=1: Reddit sends it unescaped
            created_at=datetime.fromtimestamp(float(data["created_utc"]), UTC),
            author=Author(
                native_id=str(author_id), handle=handle, followers=self._karma.get(str(author_id))
            ),
            engagement=_engagement(data),
            url=PUBLIC_URL + _permalink(data),
            in_reply_to=str(data["parent_id"]) if is_comment else None,
            conversation_id=str(data.get("link_id") or "") or None if is_comment else name,
        )

    def _is_brand(self, post: Post) -> bool:
        return post.author.handle.lower() in self._handles

    # -- author reach ---------------------------------------------------------------------

    def _with_reach(self, posts: list[Post]) -> list[Post]:
        """Fill in karma for authors not yet cached: one request per 100 of them."""
        unknown = {
            p.author.native_id
            for p in posts
            if p.author.native_id.startswith("t2_") and p.author.native_id not in self._karma
        }
        if unknown:
            try:
                self._remember_karma(sorted(unknown))
            except RetriableSourceError as exc:
                log.warning("reddit: karma lookup failed, reach left unknown: %s", exc)
        return [self._reached(p) for p in posts]

    def _reached(self, post: Post) -> Post:
        karma = self._karma.get(post.author.native_id)
        if karma is None or post.author.followers == karma:
            return post
        return dataclasses.replace(post, author=dataclasses.replace(post.author, followers=karma))

    def _remember_karma(self, fullnames: list[str]) -> None:
        found: dict[str, int | None] = dict.fromkeys(fullnames)
        with _translated():
            for partial in self._reddit.redditors.partial_redditors(fullnames):
                link, comment = (
                    getattr(partial, "link_karma", None),
                    getattr(partial, "comment_karma", None),
                )
                if isinstance(link, int) and isinstance(comment, int):
                    found[partial.fullname] = link + comment
        for fullname, karma in found.items():
            self._karma[fullname] = karma
            self._karma.move_to_end(fullname)
        while len(self._karma) > KARMA_CACHE:
            self._karma.popitem(last=False)

    # -- engagement -----------------------------------------------------------------------

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Current score and comment counts, 100 items a call to /api/info."""
        names = list(dict.fromkeys(i for i in native_ids if re.fullmatch(r"t[13]_[0-9a-z]+", i)))
        found: dict[str, Engagement] = {}
        if not names:
            return found
        with _translated():
            for item in self._reddit.info(fullnames=names):
                data = vars(item)
                try:
                    found[str(data["name"])] = _engagement(data)
                except (KeyError, TypeError, ValueError) as exc:
                    log.warning("reddit: skipping malformed item in info: %s", exc)
        return found

    def http_sessions(self) -> Sequence[requests.Session]:
        return (self._session,)

    def close(self) -> None:
        self._session.close()


def search_queries(brand: BrandTerms) -> list[str]:
    """Reddit search queries (lucene syntax) for a brand's terms minus its exclusions."""
    exclusions = " ".join(f"NOT {quote(t)}" for t in brand.exclude)
    return pack([quote(t) for t in brand.terms], exclusions, MAX_QUERY_LENGTH)


def matcher(brand: BrandTerms) -> Callable[[str], bool]:
    """Does a comment mention the brand (a term or u/handle, whole words) and no exclusion?"""

    def words(items: Iterable[str]) -> re.Pattern[str] | None:
        alternatives = [re.escape(i) for i in items if i]
        if not alternatives:
            return None
        return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)

    wanted = words([*brand.terms, *(f"u/{h}" for h in brand.handles.get("reddit", []))])
    unwanted = words(brand.exclude)
    return lambda text: bool(
        wanted and wanted.search(text) and not (unwanted and unwanted.search(text))
    )


def _engagement(data: dict[str, Any]) -> Engagement:
    """Score and replies. A comment's `num_comments` (when a listing sends it) counts its
    whole thread, so a comment's replies are only the direct ones it carries itself."""
    if str(data.get("name", "")).startswith("t1_"):
        replies = _own_replies(data.get("replies"))
    else:
        replies = int(data.get("num_comments") or 0)
    return Engagement(
        likes=int(data.get("score") or 0),
        replies=replies,
        reposts=int(data.get("num_crossposts") or 0),
    )


def _own_replies(replies: Any) -> int:
    """Direct replies in a comment's embedded `replies` listing ('' when it has none)."""
    if isinstance(replies, dict):
        children = (replies.get("data") or {}).get("children") or []
        return sum(1 for c in children if isinstance(c, dict) and c.get("kind") == "t1")
    if isinstance(replies, list):  # praw's CommentForest, when praw built one
        return len(replies)
    return 0


def _permalink(data: dict[str, Any]) -> str:
    """The item's path on reddit.com (inbox items call it `context`; old comments lack it)."""
    for key in ("permalink", "context"):
        value = data.get(key)
        if isinstance(value, str) and value.startswith("/"):
            return value.split("?", 1)[0]
    return f"/r/{data['subreddit']}/comments/{str(data['link_id'])[3:]}/_/{data['id']}/"


def _feed_state(
    newest: float | None, seen: dict[str, float], overlap: float, floors: list[float]
) -> dict[str, Any]:
    """Keep the names inside the overlap window below `newest` (ties included) and, while
    backlogs remain, down to their floors, so nothing read is returned twice; bounded."""
    if newest is None:
        return {}
    floor = min([newest - overlap, *floors])
    kept = sorted(((c, n) for n, c in seen.items() if c >= floor), reverse=True)[:MAX_SEEN]
    return {"newest": newest, "seen": {n: c for c, n in kept}}


@contextmanager
def _translated() -> Iterator[None]:
    """praw/prawcore exceptions as the connector's error classes."""
    try:
        yield
    except prawcore.OAuthException as exc:
        raise FatalSourceError(
            f"reddit refused the app credentials: {exc}", credential=CREDENTIAL
        ) from None
    except prawcore.BadJSON:
        raise RetriableSourceError("reddit: response is not complete JSON") from None
    except (prawcore.PrawcoreException, praw.exceptions.PRAWException) as exc:
        raise FatalSourceError(f"reddit: request refused: {type(exc).__name__}: {exc}") from None
    except ValueError as exc:  # a truncated token response fails in json() before prawcore sees it
        raise RetriableSourceError(f"reddit: unreadable response: {exc}") from None
