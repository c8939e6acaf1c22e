"""Facebook Page feed and comments: a local Graph API server (since/until, newest first,
`paging.next`, `?ids=` lookups) serving the real responses recorded by python-facebook."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.facebook import FacebookConnector, FacebookSourceConfig
from core.clock import FixedClock
from core.records import Engagement
from tests.conftest import shared_path
from tests.contract import ConnectorContract
from tests.recorded_api import Recorded, RecordedAPI, Reply

PAGE = "19292868552"
PAGE_POST = "19292868552_10158407654328553"
FEED = re.compile(rf"/v21\.0/{PAGE}/feed")
COMMENTS = re.compile(r"/v21\.0/[0-9_]+/comments")


def recorded(name: str) -> dict[str, Any]:
    return dict(json.loads(shared_path("fixtures", "facebook", name).read_text("utf-8")))


def when(item: dict[str, Any]) -> int:
    try:
        return int(datetime.strptime(item["created_time"], "%Y-%m-%dT%H:%M:%S%z").timestamp())
    except (KeyError, ValueError):
        return 0


class GraphServer:
    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.feed: list[dict[str, Any]] = []
        self.comments: dict[str, list[dict[str, Any]]] = {}
        api.add("GET", FEED, lambda r: self._edge(r, self.feed), repeat=True)
        api.add("GET", COMMENTS, self._comments, repeat=True)
        api.add("GET", "/v21.0/", self._lookup, repeat=True)

    def _comments(self, request: Recorded) -> Reply:
        post = request.path.split("/")[2]
        return self._edge(request, self.comments.get(post, []))

    def _edge(self, request: Recorded, items: list[dict[str, Any]]) -> Reply:
        since, until = int(request.param("since") or 0), request.param("until")
        chosen = [i for i in items if not when(i) or when(i) >= since]
        if until:
            chosen = [i for i in chosen if when(i) < int(until)]
        chosen.sort(key=when, reverse=True)
        start, size = int(request.param("after") or 0), int(request.param("limit") or 25)
        body: dict[str, Any] = {"data": chosen[start : start + size]}
        if start + size < len(chosen):
            query = {k: v[0] for k, v in request.query.items()} | {"after": start + size}
            body["paging"] = {"next": f"{self.api.url}{request.path}?{urlencode(query)}"}
        return Reply(200, body)

    def _lookup(self, request: Recorded) -> Reply:
        ids = (request.param("ids") or "").split(",")
        summary = {"summary": {"total_count": 5}}
        return Reply(200, {i: {"id": i, "reactions": summary, "comments": summary} for i in ids})


class FacebookHarness:
    brand_terms = ["facebook"]

    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.server = GraphServer(api)
        self.clock = FixedClock(datetime(2021, 8, 13, tzinfo=UTC))
        page_post = dict(recorded("feeds_default_fields_p1.json")["data"][0])
        page_post |= {"id": PAGE_POST, "created_time": "2021-08-10T17:00:00+0000"}
        self.server.feed = [page_post]

    def connector(self, **options: Any) -> FacebookConnector:
        config = FacebookSourceConfig(
            type="facebook",
            page_id=PAGE,
            page_token="page-token",
            base_url=self.api.url + "/v21.0",
            **options,
        )
        return FacebookConnector(config, [], clock=self.clock)

    def real_items(self) -> list[dict[str, Any]]:
        return list(recorded("comments_p1.json")["data"])

    def expected_ids(self, items: list[dict[str, Any]]) -> set[str]:
        return {
            i.get("id") or "10158407654328553_" + i["permalink_url"].rsplit("comment_id=", 1)[1]
            for i in items
            if "message" in i
        }

    def expected_time(self, item: dict[str, Any]) -> datetime:
        return datetime.fromtimestamp(when(item), UTC)

    def new_item(self, number: int, message: str = "Still no answer from support") -> dict:
        at = datetime(2021, 8, 12, 20, tzinfo=UTC) + timedelta(seconds=number)
        return {
            "id": f"10158407654328553_9{number:09d}",
            "from": {"id": "555", "name": "Some One"},
            "message": message,
            "created_time": at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "like_count": 2,
            "comment_count": 1,
            "permalink_url": f"https://www.facebook.com/{PAGE}/posts/1/?comment_id=9{number}",
        }

    def malformed_item(self) -> dict[str, Any]:
        return {"id": "1_2", "created_time": "yesterday"}

    def publish(self, items: list[dict[str, Any]]) -> None:
        self.server.comments = {PAGE_POST: list(items)}

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.api.add("GET", FEED, Reply(status, {"error": {}}, headers or {}), first=True)


@pytest.fixture
def harness() -> Iterator[FacebookHarness]:
    with RecordedAPI() as api:
        yield FacebookHarness(api)


class TestContract(ConnectorContract):
    pass


def test_comments_on_the_pages_posts_are_read_and_addressed(harness: FacebookHarness) -> None:
    harness.publish([harness.new_item(1)])
    result = harness.connector(brand="Brand").fetch_new(None)
    (post,) = result.posts
    assert result.addressed == {post.native_id}
    assert (post.text, post.author.handle) == ("Still no answer from support", "Some One")
    assert (post.in_reply_to, post.conversation_id) == (PAGE_POST, PAGE_POST)
    assert post.engagement == Engagement(likes=2, replies=1)
    asked = [r for r in harness.api.requests if COMMENTS.fullmatch(r.path)]
    assert asked[0].path == f"/v21.0/{PAGE_POST}/comments"
    assert (asked[0].param("order"), asked[0].param("filter")) == (
        "reverse_chronological",
        "stream",
    )
    assert asked[0].headers["Authorization"] == "Bearer page-token"
    assert harness.connector().fetch_new(None).addressed == frozenset()  # no brand: must name it


def test_the_pages_own_posts_are_not_mentions_but_visitor_posts_are(
    harness: FacebookHarness,
) -> None:
    visitor = {
        "id": f"{PAGE}_777",
        "from": {"id": "1313195878", "name": "A Visitor"},
        "message": "Where is my refund?",
        "created_time": "2021-08-12T10:00:00+0000",
        "reactions": {"summary": {"total_count": 4}},
        "comments": {"summary": {"total_count": 3}},
        "shares": {"count": 1},
    }
    harness.server.feed.append(visitor)
    harness.publish([])
    posts = harness.connector().fetch_new(None).posts
    assert [(p.native_id, p.engagement) for p in posts] == [
        (f"{PAGE}_777", Engagement(likes=4, replies=3, reposts=1))
    ]


def test_replies_are_linked_to_the_comment_they_answer(harness: FacebookHarness) -> None:
    harness.publish(harness.real_items())
    posts = {p.native_id: p for p in harness.connector().fetch_new(None).posts}
    reply = posts["10158407654328553_10158409983033553"]
    assert reply.in_reply_to == "10158407654328553_10158407903973553"
    assert reply.in_reply_to in posts
    assert posts["10158407654328553_10158407903973553"].in_reply_to == PAGE_POST


def test_posts_older_than_comment_days_are_not_read(harness: FacebookHarness) -> None:
    harness.publish(harness.real_items())
    harness.clock.set(datetime(2021, 8, 20, tzinfo=UTC))
    assert harness.connector().fetch_new(None).posts == []
    assert not [r for r in harness.api.requests if COMMENTS.fullmatch(r.path)]


def test_a_burst_larger_than_a_poll_is_finished_next_time(harness: FacebookHarness) -> None:
    connector = harness.connector(max_pages=1)
    harness.publish([])
    cursor = connector.fetch_new(None).cursor
    burst = [harness.new_item(n) for n in range(250)]
    for n, item in enumerate(burst):  # three comments a second: the cap falls inside one
        at = datetime(2021, 8, 12, 20, tzinfo=UTC) + timedelta(seconds=n // 3)
        item["created_time"] = at.strftime("%Y-%m-%dT%H:%M:%S+0000")
    harness.publish(burst)
    read: list[str] = []
    for _ in range(4):
        result = connector.fetch_new(cursor)
        read += [p.native_id for p in result.posts]
        cursor = result.cursor
    assert sorted(read) == sorted(harness.expected_ids(burst))
    assert connector.fetch_new(cursor).posts == []


@pytest.mark.parametrize(("code", "error"), [(190, FatalSourceError), (4, RetriableSourceError)])
def test_graph_error_codes(harness: FacebookHarness, code: int, error: type[Exception]) -> None:
    body = {"error": {"message": "x", "type": "OAuthException", "code": code}}
    harness.api.add("GET", FEED, Reply(400, body), first=True)
    with pytest.raises(error):
        harness.connector().fetch_new(None)


def test_refresh_reads_50_objects_a_request(harness: FacebookHarness) -> None:
    ids = [f"1_{n}" for n in range(60)]
    found = harness.connector().refresh_engagement(ids)
    assert found["1_0"] == Engagement(likes=5, replies=5)
    lookups = [r for r in harness.api.requests if r.path == "/v21.0/"]
    assert [len((r.param("ids") or "").split(",")) for r in lookups] == [50, 10]
