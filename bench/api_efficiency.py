"""API requests (and X's billable reads) per 1,000 mentions stored and per 1,000 engagement
refreshes, per source, and what one poll costs before it finds anything.

    python bench/api_efficiency.py [--mentions 1000] [--per-poll 25]

Real tweepy and praw talk to a local server that simulates the APIs (recent search with
since_id/until_id/next_token and tweet lookup; Reddit search listings with `after`, karma by
account id, /api/info) and counts every request, OAuth token requests included. Each figure
is printed beside a naive client measured in the same run against the same server (library
defaults: tweepy's 10 results a page, one lookup per post and per author) and beside the floor
of 10 per 1,000 (100 items a request).

Scenarios: "burst" (all mentions arrive between two polls; polls repeat until every one is
ingested) and "steady" (`--per-poll` new mentions before each poll: the cost is then set by
the polling cadence, one search per poll, rather than by the connector). Every Reddit author
is distinct, the worst case for karma lookups. X's billable post reads (a post read again
the same UTC day is not billed again) are counted by the connector's read ledger; the best
possible is 1,000 per 1,000 (each post read once).

The second table runs Mastodon, Bluesky search, Hacker News, YouTube and Facebook against the
local servers of their tests (which page as the real APIs do) for the same burst, beside the
floor set by each API's largest page. The third counts the requests of a poll that finds
nothing, the fixed cost paid every interval, for 1, 3 and 10 brands of two terms and 1 and 5
feeds or instances, beside the fewest requests the API allows for the same question.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import praw
import tweepy

from connectors.base import Connector
from connectors.reddit import RedditConnector, RedditSourceConfig
from connectors.x import TWITTER_EPOCH_MS, XConnector, XSourceConfig, _HostSession
from core.billing import MemoryLedger
from core.clock import FixedClock
from monitor.config import BrandConfig
from tests.recorded_api import Recorded, RecordedAPI, Reply

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BRAND = BrandConfig(name="Acme", terms=["Acme"])
FLOOR = 10.0


@dataclass
class Figures:
    burst: float
    steady: float
    refresh: float
    naive_ingest: float
    naive_refresh: float
    reads: float = float("nan")  # billable post reads per 1,000 stored (X)
    refresh_reads: float = float("nan")
    naive_reads: float = float("nan")


def per_1000(requests_made: int, items: int) -> float:
    return requests_made * 1000 / items if items else float("nan")


class Counter:
    """Requests the server saw since the last `take()`."""

    def __init__(self, api: RecordedAPI) -> None:
        self._api = api
        self._mark = len(api.requests)

    def take(self) -> int:
        now = len(self._api.requests)
        count, self._mark = now - self._mark, now
        return count


# -- a simulated X API ----------------------------------------------------------------------


class FakeX:
    """Recent search and lookups over an in-memory list of tweets in the real v2 shape."""

    def __init__(self, start: float) -> None:
        self.tweets: list[dict[str, Any]] = []  # oldest first
        self._at = start

    def post(self, count: int) -> list[str]:
        ids = []
        for _ in range(count):
            self._at += 1
            tid = str((int(self._at * 1000) - TWITTER_EPOCH_MS) << 22)
            author = str(10_000 + len(self.tweets))
            self.tweets.append(
                {
                    "id": tid,
                    "text": f"Acme order {tid} never arrived",
                    "author_id": author,
                    "created_at": f"{datetime.fromtimestamp(self._at, UTC):%Y-%m-%dT%H:%M:%S}.000Z",
                    "edit_history_tweet_ids": [tid],
                    "public_metrics": {"like_count": 1, "retweet_count": 0, "reply_count": 0},
                }
            )
            ids.append(tid)
        return ids

    def search(self, request: Recorded) -> Reply:
        since = int(request.param("since_id") or 0)
        until = int(request.param("until_id") or 2**63)
        size = int(request.param("max_results") or 10)
        offset = int(request.param("next_token") or 0)
        hits = [t for t in reversed(self.tweets) if since < int(t["id"]) < until]
        page = hits[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if offset + size < len(hits):
            meta["next_token"] = str(offset + size)
        users = [
            {"id": t["author_id"], "username": f"u{t['author_id']}", "name": "U"} for t in page
        ]
        return Reply(200, {"data": page, "includes": {"users": users}, "meta": meta})

    def lookup(self, request: Recorded) -> Reply:
        wanted = set((request.param("ids") or "").split(","))
        return Reply(200, {"data": [t for t in self.tweets if t["id"] in wanted]})

    def one(self, request: Recorded) -> Reply:
        wanted = request.path.rsplit("/", 1)[1]
        return Reply(200, {"data": next(t for t in self.tweets if t["id"] == wanted)})

    def serve(self, api: RecordedAPI) -> None:
        api.add("GET", "/2/tweets/search/recent", self.search, repeat=True)
        api.add("GET", "/2/tweets", self.lookup, repeat=True)
        api.add("GET", re.compile(r"/2/tweets/\d+"), self.one, repeat=True)


# -- a simulated Reddit API -----------------------------------------------------------------


class FakeReddit:
    """Search listings (newest first, `after` paging), karma by account id, /api/info."""

    def __init__(self, start: float) -> None:
        self.items: list[dict[str, Any]] = []  # oldest first
        self._at = start

    def post(self, count: int, spacing: float = 1.0) -> list[str]:
        names = []
        for _ in range(count):
            self._at += spacing
            n = len(self.items)
            data = {
                "name": f"t3_s{n:06d}",
                "id": f"s{n:06d}",
                "title": f"Acme refund {n}",
                "selftext": "",
                "author": f"user{n}",
                "author_fullname": f"t2_u{n:06d}",
                "created_utc": self._at,
                "score": 1,
                "num_comments": 0,
                "subreddit": "AcmeUsers",
                "permalink": f"/r/AcmeUsers/comments/s{n:06d}/x/",
            }
            self.items.append({"kind": "t3", "data": data})
            names.append(data["name"])
        return names

    def search(self, request: Recorded) -> Reply:
        newest_first = list(reversed(self.items))
        names = [c["data"]["name"] for c in newest_first]
        after = request.param("after")
        start = names.index(after) + 1 if after in names else 0
        size = min(int(request.param("limit") or 25), 100)
        page = newest_first[start : start + size]
        more = start + size < len(newest_first)
        last = page[-1]["data"]["name"] if page and more else None
        return Reply(200, _listing(page, last))

    def karma(self, request: Recorded) -> Reply:
        ids = (request.param("ids") or "").split(",")
        return Reply(200, {i: {"name": i, "link_karma": 1, "comment_karma": 2} for i in ids})

    def about(self, request: Recorded) -> Reply:
        name = request.path.split("/")[2]
        data = {"name": name, "id": name, "link_karma": 1, "comment_karma": 2}
        return Reply(200, {"kind": "t2", "data": data})

    def info(self, request: Recorded) -> Reply:
        wanted = set((request.param("id") or "").split(","))
        return Reply(200, _listing([c for c in self.items if c["data"]["name"] in wanted], None))

    def serve(self, api: RecordedAPI) -> None:
        token = {"access_token": "t", "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        api.add("POST", "/api/v1/access_token", Reply(200, token), repeat=True)
        api.add("GET", "/r/all/search/", self.search, repeat=True)
        api.add("GET", "/api/user_data_by_account_ids", self.karma, repeat=True)
        api.add("GET", re.compile(r"/user/[^/]+/about/?"), self.about, repeat=True)
        api.add("GET", "/api/info/", self.info, repeat=True)


def _listing(children: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": after, "before": None, "children": children}}


# -- measuring ------------------------------------------------------------------------------


def poll_until(connector: Connector, cursor: str | None, wanted: int) -> tuple[str | None, int]:
    """Poll until `wanted` new posts came in (or 100 polls); return the cursor and the count."""
    got = 0
    for _ in range(100):
        result = connector.fetch_new(cursor)
        cursor, got = result.cursor, got + len(result.posts)
        if got >= wanted:
            break
    return cursor, got


def steady(
    connector: Connector, cursor: str | None, post: Callable[[int], object], total: int, per: int
) -> int:
    got = 0
    for _ in range(total // per):
        post(per)
        result = connector.fetch_new(cursor)
        cursor, got = result.cursor, got + len(result.posts)
    return got


def x_figures(mentions: int, per_poll: int, max_pages: int) -> Figures:
    fake = FakeX(NOW.timestamp() - 3 * 3600)
    with RecordedAPI() as api:
        fake.serve(api)
        config = XSourceConfig(
            type="x",
            bearer_token="t",
            base_url=api.url,
            max_pages=max_pages,
            daily_budget_usd=1e6,  # the bench counts reads; a budget would stop it
        )
        x = XConnector(config, [BRAND], clock=FixedClock(NOW))
        (first,) = fake.post(1)
        cursor = x.fetch_new(None).cursor
        count = Counter(api)
        ledger = MemoryLedger()
        x.bill_reads_to(ledger)
        day = NOW.date()

        ids = fake.post(mentions)
        cursor, got = poll_until(x, cursor, mentions)
        burst = per_1000(count.take(), got)
        reads = per_1000(ledger.count(day, day), got)
        refresh_ledger = MemoryLedger()  # refreshes come on later days: billed again
        x.bill_reads_to(refresh_ledger)
        refreshed = x.refresh_engagement(ids)
        refresh = per_1000(count.take(), len(refreshed))
        refresh_reads = per_1000(refresh_ledger.count(day, day), len(refreshed))
        x.bill_reads_to(ledger)

        naive = tweepy.Client(bearer_token="t")  # library defaults: 10 results a page
        naive.session = _HostSession(api.url, 20)
        pages = tweepy.Paginator(
            naive.search_recent_tweets, "Acme", since_id=first, until_id=str(int(ids[-1]) + 1)
        )
        naive_got = sum(len(page.data or []) for page in pages)
        naive_ingest = per_1000(count.take(), naive_got)
        naive_reads = per_1000(naive_got, naive_got)  # each post read once, billed once
        for tid in ids:
            naive.get_tweet(tid, tweet_fields=["public_metrics"])
        naive_refresh = per_1000(count.take(), len(ids))

        steady_got = steady(x, cursor, fake.post, mentions, per_poll)
        return Figures(
            burst,
            per_1000(count.take(), steady_got),
            refresh,
            naive_ingest,
            naive_refresh,
            reads,
            refresh_reads,
            naive_reads,
        )


def reddit_figures(mentions: int, per_poll: int, max_pages: int) -> Figures:
    fake = FakeReddit(NOW.timestamp() - 6 * 3600)
    with RecordedAPI() as api:
        fake.serve(api)
        config = RedditSourceConfig(
            type="reddit",
            client_id="i",
            client_secret="s",
            oauth_url=api.url,
            reddit_url=api.url,
            max_pages=max_pages,
        )
        count = Counter(api)
        reddit = RedditConnector(config, [BRAND], clock=FixedClock(NOW))
        fake.post(5, spacing=1200)  # older posts, 20 minutes apart
        cursor = reddit.fetch_new(None).cursor
        count.take()  # the first poll's token and page are not part of the burst

        names = fake.post(mentions)
        cursor, got = poll_until(reddit, cursor, mentions)
        burst = per_1000(count.take(), got)
        refreshed = reddit.refresh_engagement(names)
        refresh = per_1000(count.take(), len(refreshed))

        naive = praw.Reddit(
            client_id="i",
            client_secret="s",
            user_agent="bench naive client",
            oauth_url=api.url,
            reddit_url=api.url,
            check_for_updates=False,
        )
        naive_got = 0
        for submission in naive.subreddit("all").search("Acme", sort="new", limit=mentions):
            naive_got += 1
            _ = naive.redditor(submission.author.name).link_karma
        naive_ingest = per_1000(count.take(), naive_got)
        for name in names:
            list(naive.info(fullnames=[name]))
        naive_refresh = per_1000(count.take(), len(names))

        steady_got = steady(reddit, cursor, lambda n: fake.post(n, 30), mentions, per_poll)
        return Figures(
            burst, per_1000(count.take(), steady_got), refresh, naive_ingest, naive_refresh
        )


# -- the keyless and app-password sources -----------------------------------------------------


@dataclass
class Burst:
    """Requests per 1,000 for one source, beside the floor its API's page sizes allow."""

    source: str
    stored: int
    ingest: float
    refresh: float | None
    ingest_floor: float
    refresh_floor: float | None


def mastodon_burst(mentions: int) -> Burst:
    from tests.test_connector_mastodon import MastodonHarness

    with RecordedAPI() as api:
        harness = MastodonHarness(api)
        harness.publish([harness.new_item(0)])
        connector = harness.connector()
        cursor = connector.fetch_new(None).cursor
        count = Counter(api)
        items = [harness.new_item(n) for n in range(1, mentions + 1)]
        harness.publish(items)
        _, got = poll_until(connector, cursor, mentions)
        ingest = per_1000(count.take(), got)
        ids = sorted(harness.expected_ids(items))
        refreshed = connector.refresh_engagement(ids)
        refresh = per_1000(count.take(), len(refreshed))
    return Burst("mastodon", got, ingest, refresh, 1000 / 40, 1000 / 20)


def bluesky_search_burst(mentions: int) -> Burst:
    from tests.test_connector_bluesky_search import SearchHarness

    with RecordedAPI() as api:
        harness = SearchHarness(api)
        connector = harness.connector()
        cursor = connector.fetch_new(None).cursor
        count = Counter(api)
        items = [harness.new_item(n, minutes=n + 1) for n in range(mentions)]
        harness.publish(items)
        _, got = poll_until(connector, cursor, mentions)
        ingest = per_1000(count.take(), got)
        refreshed = connector.refresh_engagement(sorted(harness.expected_ids(items)))
        refresh = per_1000(count.take(), len(refreshed))
    return Burst("bluesky_search", got, ingest, refresh, 1000 / 100, 1000 / 25)


def hackernews_burst(mentions: int) -> Burst:
    from tests.test_connector_hackernews import HackerNewsHarness

    with RecordedAPI() as api:
        harness = HackerNewsHarness(api)
        connector = harness.connector()
        cursor = connector.fetch_new(None).cursor
        count = Counter(api)
        harness.publish([harness.new_item(n) for n in range(mentions)])
        _, got = poll_until(connector, cursor, mentions)
        ingest = per_1000(count.take(), got)
    return Burst("hackernews", got, ingest, None, 1000 / 100, None)


def youtube_burst(mentions: int) -> Burst:
    from tests.test_connector_youtube import YouTubeHarness

    with RecordedAPI() as api:
        harness = YouTubeHarness(api)
        connector = harness.connector()
        cursor = connector.fetch_new(None).cursor
        count = Counter(api)
        items = [harness.new_item(n) for n in range(mentions)]
        harness.publish(items)
        _, got = poll_until(connector, cursor, mentions)
        ingest = per_1000(count.take(), got)
        refreshed = connector.refresh_engagement(sorted(harness.expected_ids(items)))
        refresh = per_1000(count.take(), len(refreshed))
    return Burst("youtube", got, ingest, refresh, 1000 / 100, 1000 / 50)


def facebook_burst(mentions: int) -> Burst:
    from tests.test_connector_facebook import FacebookHarness

    with RecordedAPI() as api:
        harness = FacebookHarness(api)
        connector = harness.connector()
        harness.publish([])
        cursor = connector.fetch_new(None).cursor
        count = Counter(api)
        items = [harness.new_item(n) for n in range(mentions)]
        harness.publish(items)
        _, got = poll_until(connector, cursor, mentions)
        ingest = per_1000(count.take(), got)
        refreshed = connector.refresh_engagement(sorted(harness.expected_ids(items)))
        refresh = per_1000(count.take(), len(refreshed))
    return Burst("facebook", got, ingest, refresh, 1000 / 100, 1000 / 50)


# -- the fixed cost of a poll ------------------------------------------------------------------


def brands(count: int) -> list[BrandConfig]:
    return [
        BrandConfig(name=f"Brand{n}", terms=[f"brand{n}", f"brand{n}app"]) for n in range(count)
    ]


def empty_poll(
    make: Callable[[RecordedAPI], Connector], serve: Callable[[RecordedAPI], None]
) -> int:
    """Requests of the second poll of an empty source (the first may log in or look back)."""
    with RecordedAPI() as api:
        serve(api)
        connector = make(api)
        cursor = connector.fetch_new(None).cursor
        count = Counter(api)
        connector.fetch_new(cursor)
        return count.take()


def fixed_costs(watched: list[BrandConfig], feeds: int) -> list[tuple[str, int, int]]:
    """(source, requests of an empty poll, fewest the API allows) for these brands and feeds."""
    from connectors.hackernews import HackerNewsConnector, HackerNewsSourceConfig
    from connectors.mastodon import MastodonConnector, MastodonSourceConfig
    from connectors.rss import RssConnector, RssSourceConfig
    from connectors.x_query import brand_queries

    clock = FixedClock(NOW)
    terms = [t for b in watched for t in b.terms]
    empty_x = {"data": [], "meta": {"result_count": 0}}
    x_floor = len(
        brand_queries(BrandConfig(name="all", terms=terms), include_retweets=False, limit=512)
    )

    def x(api: RecordedAPI) -> Connector:
        config = XSourceConfig(type="x", bearer_token="t", base_url=api.url)
        return XConnector(config, watched, clock=clock)

    def hn(api: RecordedAPI) -> Connector:
        config = HackerNewsSourceConfig(type="hackernews", base_url=api.url)
        return HackerNewsConnector(config, watched, clock=clock)

    def mastodon(api: RecordedAPI) -> Connector:
        instances = [f"{api.url}/i{n}" for n in range(feeds)]
        config = MastodonSourceConfig(type="mastodon", instances=instances)
        return MastodonConnector(config, watched, clock=clock)

    def rss(api: RecordedAPI) -> Connector:
        config = RssSourceConfig(type="rss", feeds=[f"{api.url}/feed{n}" for n in range(feeds)])
        return RssConnector(config, watched, clock=clock)

    atom = '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>'

    def serve(api: RecordedAPI) -> None:
        api.add("GET", "/2/tweets/search/recent", Reply(200, empty_x), repeat=True)
        api.add("GET", "/search_by_date", Reply(200, {"hits": [], "nbPages": 0}), repeat=True)
        api.add("GET", re.compile(r"/i\d+/api/v1/timelines/tag/.+"), Reply(200, []), repeat=True)
        api.add("GET", re.compile(r"/feed\d+"), Reply(200, atom, {"ETag": '"1"'}), repeat=True)

    return [
        ("x", empty_poll(x, serve), x_floor),
        ("hackernews", empty_poll(hn, serve), len(terms)),  # no OR across quoted phrases
        # a tag timeline's any[] filter would carry more tags (4 assumed; not used yet)
        ("mastodon", empty_poll(mastodon, serve), feeds * -(-len(terms) // 5)),
        ("rss", empty_poll(rss, serve), feeds),  # each an If-None-Match answered by 304
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentions", type=int, default=1000)
    parser.add_argument("--per-poll", type=int, default=25)
    args = parser.parse_args()
    print(f"API requests per 1,000 items (floor {FLOOR:.0f}: 100 items a request); lower is better")
    header = (
        "network",
        "max_pages",
        "burst",
        "steady",
        "refresh",
        "naive in",
        "naive ref",
        "in/naive",
        "ref/naive",
        "burst/floor",
    )
    print("{:8} {:>9} {:>7} {:>7} {:>8} {:>9} {:>9} {:>9} {:>9} {:>11}".format(*header))
    billed: list[tuple[int, Figures]] = []
    for name, measure in (("x", x_figures), ("reddit", reddit_figures)):
        for max_pages in (5, 10):
            f = measure(args.mentions, args.per_poll, max_pages)
            if name == "x":
                billed.append((max_pages, f))
            print(
                f"{name:8} {max_pages:>9} {f.burst:>7.1f} {f.steady:>7.1f} {f.refresh:>8.1f} "
                f"{f.naive_ingest:>9.1f} {f.naive_refresh:>9.1f} "
                f"{f.burst / f.naive_ingest:>9.3f} {f.refresh / f.naive_refresh:>9.3f} "
                f"{f.burst / FLOOR:>11.2f}"
            )
    print(f"steady: {args.per_poll} new mentions before each poll; burst: all at once")
    print()
    print("X billable post reads per 1,000 (best possible 1,000: each post read once)")
    print("{:>9} {:>12} {:>14} {:>12}".format("max_pages", "per stored", "per refreshed", "naive"))
    for max_pages, f in billed:
        print(f"{max_pages:>9} {f.reads:>12.0f} {f.refresh_reads:>14.0f} {f.naive_reads:>12.0f}")
    print()
    print(f"requests per 1,000, burst of {args.mentions} (floor: the API's largest page)")
    print(
        "{:16} {:>7} {:>8} {:>8} {:>9} {:>9}".format(
            "source", "stored", "per 1k", "floor", "refresh", "floor"
        )
    )
    for burst in (
        mastodon_burst(args.mentions),
        bluesky_search_burst(args.mentions),
        hackernews_burst(args.mentions),
        youtube_burst(args.mentions),
        facebook_burst(args.mentions),
    ):
        refresh = f"{burst.refresh:>9.1f}" if burst.refresh is not None else f"{'-':>9}"
        floor = f"{burst.refresh_floor:>9.1f}" if burst.refresh_floor is not None else f"{'-':>9}"
        print(
            f"{burst.source:16} {burst.stored:>7} {burst.ingest:>8.1f}"
            f" {burst.ingest_floor:>8.1f} {refresh} {floor}"
        )
    print()
    print("requests of a poll that finds nothing (fixed cost per interval) / fewest possible")
    print(
        "{:8} {:>6} {:>6} {:>10} {:>10} {:>10} {:>10}".format(
            "brands", "feeds", "x", "hackernews", "mastodon", "rss", ""
        )
    )
    for count in (1, 3, 10):
        for feeds in (1, 5):
            costs = fixed_costs(brands(count), feeds)
            cells = " ".join(f"{f'{made}/{best}':>10}" for _, made, best in costs)
            print(f"{count:8} {feeds:>6} {cells}")
    print("stored: mentions of the burst read within 100 polls (of --mentions)")
    print("x: one query per brand (the floor packs every brand's terms into 512-character ORs);")
    print(
        "mastodon: one tag timeline per term per instance (floor: a timeline's any[] taking"
        " 4 more tags, Mastodon's documented tag filter; not used yet)"
    )


if __name__ == "__main__":
    main()
