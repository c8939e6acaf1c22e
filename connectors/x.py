"""X (API v2) mentions through tweepy's `Client`: recent search, paging, engagement lookups.

Why it is built this way:
- One OR query per brand (see x_query) at 100 results a page, so one request brings up to
  100 mentions; lookups refresh 100 tweets a call.
- tweepy is asked for raw `requests.Response`s so the connector sees the rate-limit headers
  and can tell truncated JSON from a good page. tweepy's host is fixed in its code, so the
  session swaps it for the configured base URL (a local server, a proxy, a compatible API).
- Nothing here sleeps. When the API says the quota is spent, that endpoint is skipped until
  the reset and the daemon is told how long to wait; only this source waits.
- X bills every post a response carries (pay-per-use), except a post already read that UTC
  day. Each response's post ids go to a `ReadLedger`; before each request the day's reads are
  weighed against `daily_budget_usd`, pages shrink to what is left, and a spent budget stops
  the source until the next UTC day (`BudgetSpentError`).
- Retweets and long posts carry truncated `text`: the original comes with the
  `referenced_tweets.id` expansion and a long post's whole text in `note_tweet`, so the
  brand named past the cut is still read.
- The cursor keeps a `since_id` per query and the "gaps" left when a poll hit its page cap,
  filled on later polls with `until_id`, so a burst larger than the cap is not lost.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import requests
import tweepy
from pydantic import Field, SecretStr

from connectors.base import Connector, FetchResult
from connectors.cursor import load_json_cursor
from connectors.errors import BudgetSpentError, FatalSourceError, RetriableSourceError
from connectors.ratelimit import RateLimit
from connectors.x_query import brand_queries
from core.billing import MemoryLedger, ReadLedger, next_utc_day, utc_day
from core.clock import Clock
from core.records import Author, Engagement, Post
from core.settings import BrandTerms, SourceBase

log = logging.getLogger(__name__)

TWEEPY_HOST = "https://api.twitter.com"
PAGE_SIZE = 100
TWEET_FIELDS = [
    "created_at",
    "public_metrics",
    "lang",
    "conversation_id",
    "author_id",
    "referenced_tweets",
    "in_reply_to_user_id",
    "note_tweet",
]
EXPANSIONS = ["author_id", "referenced_tweets.id"]
MIN_PAGE = 10  # recent search refuses max_results below 10
USER_FIELDS = ["public_metrics", "username", "name", "verified"]
# Recent search covers seven days; ids older than that are refused, so they are dropped.
SEARCH_WINDOW = timedelta(days=7) - timedelta(minutes=10)
MAX_GAPS = 20
TWITTER_EPOCH_MS = 1288834974657
CREDENTIAL = "bearer_token"


class _NoDebugRecords(logging.Filter):
    """tweepy logs each request's headers, bearer token included, at DEBUG: keep them out."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


logging.getLogger("tweepy.client").addFilter(_NoDebugRecords())


def snowflake_time(tweet_id: str) -> datetime:
    """When a tweet was created, read from its id (X ids embed a millisecond timestamp)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)


class _HostSession(requests.Session):
    """Sends tweepy's requests to `base_url` instead of its built-in host, with a timeout."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self._base_url + url[len(TWEEPY_HOST) :]
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


@dataclass
class _Poll:
    """One `fetch_new` call in progress: its posts, pages read and why it stopped early."""

    posts: dict[str, Post] = field(default_factory=dict)
    skipped: int = 0
    pages: int = 0
    stopped: RetriableSourceError | None = None


@dataclass
class _Run:
    """What draining one id range of one query produced."""

    pages: int = 0
    newest: int | None = None
    oldest: int | None = None
    complete: bool = False

    def saw(self, tweet_id: Any) -> None:
        if tweet_id is not None and str(tweet_id).isdigit():
            value = int(tweet_id)
            self.newest = max(self.newest or value, value)
            self.oldest = min(self.oldest or value, value)


class XSourceConfig(SourceBase):
    """Recent search on X API v2 with an app's bearer token."""

    required_secrets: ClassVar[dict[str, str]] = {"bearer_token": "the X API bearer token"}

    type: Literal["x"]
    bearer_token: SecretStr | None = None
    base_url: str = "https://api.x.com"
    max_pages: int = Field(default=5, ge=1, description="pages of 100 per query per poll")
    include_retweets: bool = False
    max_query_length: int = Field(
        default=512, ge=64, le=4096, description="the API plan's query limit; longer are split"
    )
    timeout_seconds: float = Field(default=20, gt=0)
    daily_budget_usd: float = Field(
        default=5.0, ge=0, description="estimated spend per UTC day at which reading stops"
    )
    price_per_read_usd: float = Field(
        default=0.005, ge=0, description="what X charges per post read (0: not billed)"
    )


class XConnector(Connector):
    """Mentions of the configured brands on X, with author reach and engagement."""

    network = "x"
    config_model = XSourceConfig

    def __init__(
        self, config: XSourceConfig, brands: Sequence[BrandTerms], *, clock: Clock
    ) -> None:
        if config.bearer_token is None:
            raise FatalSourceError("no X bearer token configured", credential=CREDENTIAL)
        self._config = config
        self._clock = clock
        self._client = tweepy.Client(
            bearer_token=config.bearer_token.get_secret_value(),
            return_type=requests.Response,
            wait_on_rate_limit=False,
        )
        self._client.session = _HostSession(config.base_url, config.timeout_seconds)
        watched = [b for b in brands if config.brand in (None, b.name)]
        self.queries = list(
            dict.fromkeys(
                q
                for brand in watched
                for q in brand_queries(
                    brand,
                    include_retweets=config.include_retweets,
                    limit=config.max_query_length,
                )
            )
        )
        self._quota: dict[str, RateLimit] = {"search": RateLimit(), "lookup": RateLimit()}
        self._ledger: ReadLedger = MemoryLedger()

    def bill_reads_to(self, ledger: ReadLedger) -> None:
        self._ledger = ledger

    # -- fetching -------------------------------------------------------------------------

    def fetch_new(self, cursor: str | None) -> FetchResult:
        state = load_json_cursor(cursor, network="x")
        poll = _Poll()
        new_state: dict[str, Any] = {}
        for query in self.queries:
            new_state[query] = self._poll_query(query, state.get(query), poll)
        if poll.stopped is not None and not poll.posts and not poll.pages:
            raise poll.stopped
        return FetchResult(
            posts=sorted(poll.posts.values(), key=lambda p: (p.created_at, int(p.native_id))),
            cursor=json.dumps(new_state, sort_keys=True, separators=(",", ":")),
            quota_remaining=self._quota["search"].remaining,
            skipped=poll.skipped,
        )

    def _poll_query(self, query: str, saved: dict[str, Any] | None, poll: _Poll) -> dict[str, Any]:
        """Read what is new for one query, then fill older gaps with the pages left."""
        saved = saved or {}
        since = self._fresh(saved.get("since"))
        gaps = [(self._fresh(lo), hi) for lo, hi in saved.get("gaps", []) if self._fresh(hi)]
        # First sight of a query reads recent history up to the cap and no further back.
        backfill = bool(saved)
        segments: list[tuple[str | None, str | None, bool]] = [(since, None, backfill)]
        segments += [(lo, hi, True) for lo, hi in gaps]
        newest = int(since) if since else None
        budget = self._config.max_pages
        left: list[list[str | None]] = []
        for index, (lo, hi, keep_gap) in enumerate(segments):
            run = self._drain(query, lo, hi, budget, poll)
            budget -= run.pages
            if index == 0 and run.newest is not None:
                newest = max(newest or 0, run.newest)
            # An unread gap stays; the new-posts range needs one only if it was partly read.
            if not run.complete and keep_gap and (index > 0 or run.oldest is not None):
                left.append([lo, str(run.oldest) if run.oldest is not None else hi])
        if len(left) > MAX_GAPS:
            log.warning("x: %d unread gaps for %r; dropping the oldest", len(left), query)
            left = left[:MAX_GAPS]
        result: dict[str, Any] = {"since": str(newest) if newest else None}
        if left:
            result["gaps"] = left
        return result

    def _drain(
        self, query: str, since: str | None, until: str | None, budget: int, poll: _Poll
    ) -> _Run:
        """Follow `next_token` through the ids in (since, until) while the page budget lasts.

        A retriable error after some pages were read ends the poll quietly: what was read is
        returned with a cursor that remembers the rest, and the daemon learns of the
        trouble on the next poll if it persists.
        """
        run = _Run()
        token: str | None = None
        while poll.stopped is None and run.pages < budget:
            try:
                payload = self._call(
                    "search",
                    self._client.search_recent_tweets,
                    query,
                    since_id=since,
                    until_id=until,
                    next_token=token,
                    max_results=max(MIN_PAGE, min(PAGE_SIZE, self._reads_left())),
                    tweet_fields=TWEET_FIELDS,
                    expansions=EXPANSIONS,
                    user_fields=USER_FIELDS,
                )
            except RetriableSourceError as exc:
                poll.stopped = exc
                break
            poll.pages += 1
            run.pages += 1
            posts, skipped = self._parse_page(payload)
            poll.skipped += skipped
            meta = _meta(payload)
            run.saw(meta.get("newest_id"))
            run.saw(meta.get("oldest_id"))
            for post in posts:
                poll.posts.setdefault(post.native_id, post)
                run.saw(post.native_id)
            token = meta.get("next_token")
            if not token:
                run.complete = True
                break
        return run

    def _fresh(self, tweet_id: str | None) -> str | None:
        """`tweet_id` if recent search still accepts it as a bound, else None."""
        if not tweet_id or not str(tweet_id).isdigit():
            return None
        if self._clock.now() - snowflake_time(tweet_id) > SEARCH_WINDOW:
            return None
        return str(tweet_id)

    # -- engagement -----------------------------------------------------------------------

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Current metrics, 100 tweets a lookup; deleted tweets are simply absent."""
        ids = list(dict.fromkeys(i for i in native_ids if str(i).isdigit()))
        found: dict[str, Engagement] = {}
        start = 0
        while start < len(ids):
            batch = ids[start : start + max(1, min(PAGE_SIZE, self._reads_left()))]
            start += len(batch)
            payload = self._call(
                "lookup", self._client.get_tweets, batch, tweet_fields=["public_metrics"]
            )
            _log_partial_errors(payload)
            for item in _items(payload.get("data")):
                try:
                    found[str(item["id"])] = _engagement(item.get("public_metrics"))
                except (KeyError, TypeError, ValueError) as exc:
                    log.warning("x: skipping malformed tweet in lookup: %s", exc)
        return found

    def http_sessions(self) -> Sequence[requests.Session]:
        return (self._client.session,)

    def close(self) -> None:
        self._client.session.close()

    # -- HTTP -----------------------------------------------------------------------------

    def _reads_left(self) -> int:
        """Post reads the day's budget still allows (a large number when reads are free)."""
        price = self._config.price_per_read_usd
        if price <= 0:
            return PAGE_SIZE
        today = utc_day(self._clock.now())
        spent = self._ledger.count(today, today) * price
        return int((self._config.daily_budget_usd - spent) / price + 1e-9)

    def _bill(self, payload: dict[str, Any]) -> None:
        """Record the posts a response carried, expanded ones included: each is billed."""
        includes = payload.get("includes")
        expanded = includes.get("tweets") if isinstance(includes, dict) else None
        ids = {str(t["id"]) for t in [*_items(payload.get("data")), *_items(expanded)] if "id" in t}
        if ids:
            self._ledger.record(utc_day(self._clock.now()), ids)

    def _call(self, endpoint: str, method: Callable[..., Any], *args: Any, **params: Any) -> Any:
        """One API call, with every failure turned into the error class that decides next."""
        now = self._clock.now()
        if self._reads_left() <= 0:
            resume = next_utc_day(now)
            raise BudgetSpentError(
                f"x: daily budget of ${self._config.daily_budget_usd:.2f} spent at "
                f"${self._config.price_per_read_usd} a post read; resumes {resume:%F} UTC",
                retry_after=(resume - now).total_seconds(),
                resume_at=resume,
            )
        wait = self._quota[endpoint].wait(now)
        if wait is not None:
            raise RetriableSourceError(f"x {endpoint} quota spent", retry_after=wait)
        try:
            response = method(*args, **params)
        except tweepy.TooManyRequests as exc:
            self._note_quota(endpoint, exc.response.headers)
            raise RetriableSourceError(
                f"x {endpoint}: 429 too many requests", retry_after=self._retry_after(exc)
            ) from None
        except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
            raise FatalSourceError(
                f"x {endpoint}: {exc} (check the bearer token)", credential=CREDENTIAL
            ) from None
        except tweepy.TwitterServerError as exc:
            raise RetriableSourceError(f"x {endpoint}: server error {exc}") from None
        except tweepy.HTTPException as exc:
            raise FatalSourceError(f"x {endpoint}: request refused: {exc}") from None
        except requests.RequestException as exc:
            raise RetriableSourceError(f"x {endpoint}: {type(exc).__name__}: {exc}") from None
        self._note_quota(endpoint, response.headers)
        try:
            payload = response.json()
        except ValueError:
            raise RetriableSourceError(f"x {endpoint}: response is not complete JSON") from None
        if not isinstance(payload, dict):
            raise RetriableSourceError(f"x {endpoint}: response is not a JSON object")
        self._bill(payload)
        return payload

    def _note_quota(self, endpoint: str, headers: Mapping[str, str]) -> None:
        remaining, reset = headers.get("x-rate-limit-remaining"), headers.get("x-rate-limit-reset")
        if remaining is None or not remaining.isdigit():
            return
        reset_at = datetime.fromtimestamp(int(reset), UTC) if reset and reset.isdigit() else None
        self._quota[endpoint] = RateLimit(int(remaining), reset_at)

    def _retry_after(self, exc: tweepy.TooManyRequests) -> float | None:
        """Seconds to wait: until `x-rate-limit-reset`, else `Retry-After`, else unknown."""
        if exc.reset_time is not None:
            seconds = exc.reset_time - self._clock.now().timestamp()
            return max(seconds, 1.0)
        retry_after = exc.response.headers.get("retry-after", "")
        return float(retry_after) if retry_after.isdigit() else None

    # -- parsing --------------------------------------------------------------------------

    def _parse_page(self, payload: dict[str, Any]) -> tuple[list[Post], int]:
        """Posts of one search page; a malformed tweet is logged, counted and skipped."""
        _log_partial_errors(payload)
        includes = payload.get("includes")
        users_raw = includes.get("users") if isinstance(includes, dict) else None
        users = {str(u["id"]): u for u in _items(users_raw) if "id" in u}
        tweets_raw = includes.get("tweets") if isinstance(includes, dict) else None
        referenced = {str(t["id"]): t for t in _items(tweets_raw) if "id" in t}
        posts: list[Post] = []
        skipped = 0
        for item in _items(payload.get("data")):
            try:
                posts.append(_to_post(item, users, referenced))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                skipped += 1
                log.warning("x: skipping malformed tweet %r: %s", _safe_id(item), exc)
        data = payload.get("data")
        if isinstance(data, list):
            skipped += sum(1 for item in data if not isinstance(item, dict))
        return posts, skipped


def _to_post(
    item: dict[str, Any],
    users: Mapping[str, dict[str, Any]],
    referenced: Mapping[str, dict[str, Any]],
) -> Post:
    tweet_id = str(item["id"])
    if not tweet_id.isdigit():
        raise ValueError(f"tweet id {tweet_id!r} is not numeric")
    text = _full_text(item, referenced)
    created = item.get("created_at")
    created_at = _parse_time(created) if created is not None else snowflake_time(tweet_id)
    author = _author(item.get("author_id"), users)
    handle = author.handle
    replied_to = next(
        (
            str(ref["id"])
            for ref in item.get("referenced_tweets") or []
            if isinstance(ref, dict) and ref.get("type") == "replied_to" and "id" in ref
        ),
        None,
    )
    return Post(
        network="x",
        native_id=tweet_id,
        text=html.unescape(text),
        created_at=created_at,
        author=author,
        engagement=_engagement(item.get("public_metrics")),
        url=f"https://x.com/{handle or 'i'}/status/{tweet_id}",
        lang=item.get("lang"),
        in_reply_to=replied_to,
        conversation_id=str(item["conversation_id"]) if item.get("conversation_id") else None,
    )


def _full_text(item: dict[str, Any], referenced: Mapping[str, dict[str, Any]]) -> str:
    """The whole text: a long post's `note_tweet`, a retweet's original after "RT @user:".

    A retweet's own `text` is the original cut at 140 characters with "…"; when the original
    came in `includes.tweets`, its full text replaces the cut one.
    """
    text = _own_text(item)
    original_id = next(
        (
            str(ref["id"])
            for ref in item.get("referenced_tweets") or []
            if isinstance(ref, dict) and ref.get("type") == "retweeted" and "id" in ref
        ),
        None,
    )
    original = referenced.get(original_id) if original_id else None
    if original is None:
        return text
    try:
        full = _own_text(original)
    except TypeError:
        return text
    prefix, colon, _ = text.partition(": ")
    return f"{prefix}: {full}" if colon and prefix.startswith("RT @") else full


def _own_text(item: dict[str, Any]) -> str:
    note = item.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        return str(note["text"])
    text = item["text"]
    if not isinstance(text, str):
        raise TypeError("tweet text is not a string")
    return text


def _author(author_id: Any, users: Mapping[str, dict[str, Any]]) -> Author:
    """The tweet's author from `includes.users`; a deleted or suspended one keeps only its id."""
    if author_id is None:
        return Author(native_id="", handle="")
    user = users.get(str(author_id))
    if user is None:
        return Author(native_id=str(author_id), handle="")
    metrics = user.get("public_metrics") or {}
    followers = metrics.get("followers_count")
    return Author(
        native_id=str(author_id),
        handle=str(user.get("username") or ""),
        name=user.get("name"),
        followers=int(followers) if followers is not None else None,
        verified=bool(user.get("verified", False)),
    )


def _engagement(metrics: Any) -> Engagement:
    if not isinstance(metrics, dict):
        return Engagement()
    views = metrics.get("impression_count")
    return Engagement(
        likes=int(metrics.get("like_count", 0)),
        reposts=int(metrics.get("retweet_count", 0)),
        replies=int(metrics.get("reply_count", 0)),
        quotes=int(metrics.get("quote_count", 0)),
        views=int(views) if views is not None else None,
    )


def _parse_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"created_at {value!r} has no time zone")
    return parsed.astimezone(UTC)


def _items(value: Any) -> Iterator[dict[str, Any]]:
    """The dict entries of a JSON list (anything else yields nothing)."""
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, dict))


def _meta(payload: dict[str, Any]) -> dict[str, Any]:
    meta = payload.get("meta")
    return meta if isinstance(meta, dict) else {}


def _safe_id(item: dict[str, Any]) -> str:
    return str(item.get("id", "?"))[:32]


def _log_partial_errors(payload: dict[str, Any]) -> None:
    """A 200 response may carry `errors` for parts it could not serve (deleted authors...)."""
    for error in _items(payload.get("errors")):
        log.info(
            "x: partial error: %s %s: %s",
            error.get("title"),
            error.get("resource_type"),
            error.get("detail"),
        )
