"""Bluesky searchPosts backfill: a local XRPC server serving the real recorded search and
login, filtering by since/until and paging by cursor as the AppView does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from connectors.bluesky import native_id_of
from connectors.bluesky_search import BlueskySearchConnector, BlueskySearchSourceConfig
from connectors.errors import FatalSourceError
from core.clock import FixedClock
from core.records import Engagement
from tests.conftest import shared_path
from tests.contract import ConnectorContract
from tests.recorded_api import Recorded, RecordedAPI, Reply

SEARCH = "/xrpc/app.bsky.feed.searchPosts"
LOGIN = "/xrpc/com.atproto.server.createSession"


def recorded(name: str) -> str:
    cassette = yaml.safe_load(shared_path("fixtures", "bluesky", name).read_text("utf-8"))
    return str(cassette["http_interactions"][0]["response"]["body"]["string"])


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sort_at(view: dict[str, Any]) -> datetime:
    times = [view.get("indexedAt"), (view.get("record") or {}).get("createdAt")]
    return min(_instant(t) for t in times if t)


class SearchHarness:
    brand_terms = ["redistricting"]

    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.views: list[dict[str, Any]] = []
        self.clock = FixedClock(datetime(2025, 5, 19, 18, 0, tzinfo=UTC))
        api.add("POST", LOGIN, Reply(200, recorded("repo_auth_direct.yml")), repeat=True)
        api.add("GET", SEARCH, self._search, repeat=True)
        api.add("GET", "/xrpc/app.bsky.feed.getPosts", self._get_posts, repeat=True)

    def _get_posts(self, request: Recorded) -> Reply:
        wanted = set(request.query.get("uris", []))
        return Reply(200, {"posts": [v for v in self.views if v["uri"] in wanted]})

    def _search(self, request: Recorded) -> Reply:
        since, until = request.param("since"), request.param("until")
        views = sorted(self.views, key=sort_at, reverse=True)
        if since:
            views = [v for v in views if sort_at(v) >= _instant(since)]
        if until:
            views = [v for v in views if sort_at(v) < _instant(until)]
        start, size = int(request.param("cursor") or 0), int(request.param("limit") or 25)
        page = views[start : start + size]
        body: dict[str, Any] = {"posts": page}
        if start + size < len(views):
            body["cursor"] = str(start + size)
        return Reply(200, body)

    def connector(self, **options: Any) -> BlueskySearchConnector:
        config = BlueskySearchSourceConfig(
            type="bluesky_search",
            identifier="brand.example.com",
            app_password="abcd-efgh-ijkl-mnop",
            service_url=self.api.url,
            backfill_hours=options.pop("backfill_hours", 24 * 30),
            **options,
        )
        return BlueskySearchConnector(config, [_Brand(self.brand_terms)], clock=self.clock)

    def real_items(self) -> list[dict[str, Any]]:
        return list(json.loads(recorded("f_search.yml"))["posts"])

    def expected_ids(self, items: list[dict[str, Any]]) -> set[str]:
        return {i for v in items if "record" in v and (i := native_id_of(v["uri"]))}

    def expected_time(self, item: dict[str, Any]) -> datetime:
        return _instant(item["record"]["createdAt"])

    def new_item(self, number: int, *, minutes: int = 30) -> dict[str, Any]:
        did = "did:plc:brandmontestauthor000000"
        at = (self.clock.now() - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        return {
            "uri": f"at://{did}/app.bsky.feed.post/3new{number:06d}",
            "author": {"did": did, "handle": "someone.bsky.social", "displayName": "Some One"},
            "record": {"text": "redistricting map is broken", "createdAt": at, "langs": ["en"]},
            "indexedAt": at,
            "likeCount": 4,
            "repostCount": 1,
            "replyCount": 2,
            "quoteCount": 0,
        }

    def malformed_item(self) -> dict[str, Any]:
        return {"uri": "at://did:plc:x/app.bsky.feed.post/bad", "indexedAt": "2025-05-19T12:00Z"}

    def publish(self, items: list[dict[str, Any]]) -> None:
        self.views = list(items)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        reply = Reply(status, {"error": "scripted"}, headers or {})
        self.api.add("GET", SEARCH, reply, first=True)


class _Brand:
    def __init__(self, terms: list[str]) -> None:
        self.name, self.terms, self.exclude, self.handles = "Brand", terms, [], {}


@pytest.fixture
def harness() -> Iterator[SearchHarness]:
    with RecordedAPI() as api:
        yield SearchHarness(api)


class TestContract(ConnectorContract):
    pass


def test_logs_in_with_the_app_password_and_searches_newest_first(harness: SearchHarness) -> None:
    harness.publish(harness.real_items())
    connector = harness.connector()
    connector.fetch_new(None)
    login, search = harness.api.requests[0], harness.api.requests[1]
    assert login.json() == {"identifier": "brand.example.com", "password": "abcd-efgh-ijkl-mnop"}
    assert search.headers["Authorization"] == "Bearer "  # the recording's blanked token
    assert (search.param("q"), search.param("sort"), search.param("limit")) == (
        '"redistricting"',
        "latest",
        "100",
    )
    assert search.param("since") == "2025-04-19T18:00:00.000000Z"  # backfill_hours back


def test_the_session_is_reused_for_an_hour(harness: SearchHarness) -> None:
    harness.publish([])
    connector = harness.connector()
    connector.fetch_new(None)
    harness.clock.advance(minutes=59)
    connector.fetch_new(None)
    assert harness.api.count("POST", LOGIN) == 1
    harness.clock.advance(minutes=1)
    connector.fetch_new(None)
    assert harness.api.count("POST", LOGIN) == 2


def test_a_burst_larger_than_a_poll_is_finished_on_the_next(harness: SearchHarness) -> None:
    harness.publish([])
    connector = harness.connector(max_pages=1)
    first = connector.fetch_new(None)
    burst = [harness.new_item(n, minutes=250 - n) for n in range(250)]
    harness.publish(burst)
    read: list[str] = []
    cursor = first.cursor
    for _ in range(3):
        result = connector.fetch_new(cursor)
        read += [p.native_id for p in result.posts]
        cursor = result.cursor
    assert sorted(read) == sorted(harness.expected_ids(burst))
    assert connector.fetch_new(cursor).posts == []


def test_posts_carry_author_counts_and_the_jetstream_id(harness: SearchHarness) -> None:
    item = harness.new_item(1)
    harness.publish([item])
    (post,) = harness.connector().fetch_new(None).posts
    assert post.native_id == "did:plc:brandmontestauthor000000/3new000001"
    assert (post.author.handle, post.author.name, post.lang) == (
        "someone.bsky.social",
        "Some One",
        "en",
    )
    assert post.engagement == Engagement(likes=4, reposts=1, replies=2)
    assert post.url == "https://bsky.app/profile/did:plc:brandmontestauthor000000/post/3new000001"


def test_a_rejected_login_is_fatal_and_names_the_keys(harness: SearchHarness) -> None:
    harness.api.add("POST", LOGIN, Reply(401, {"error": "AuthenticationRequired"}), first=True)
    with pytest.raises(FatalSourceError) as raised:
        harness.connector().fetch_new(None)
    assert raised.value.credential == "identifier/app_password"


def test_no_app_password_is_a_start_up_error() -> None:
    config = BlueskySearchSourceConfig(type="bluesky_search", identifier="me.bsky.social")
    with pytest.raises(FatalSourceError):
        BlueskySearchConnector(config, [], clock=FixedClock(datetime(2025, 1, 1, tzinfo=UTC)))


def test_engagement_is_read_back_25_posts_a_request(harness: SearchHarness) -> None:
    items = [harness.new_item(n) for n in range(30)]
    harness.publish(items)
    ids = sorted(harness.expected_ids(items))
    found = harness.connector().refresh_engagement(ids)
    assert found == {i: Engagement(likes=4, reposts=1, replies=2) for i in ids}
    lookups = [r for r in harness.api.requests if r.path.endswith("getPosts")]
    assert [len(r.query["uris"]) for r in lookups] == [25, 5]
    assert lookups[0].headers["Authorization"] == "Bearer "
