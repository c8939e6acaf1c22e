"""Hacker News through Algolia's search API: a local server serving real recorded hits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.hackernews import HackerNewsConnector, HackerNewsSourceConfig
from core.clock import FixedClock
from tests.conftest import shared_path
from tests.contract import ConnectorContract
from tests.recorded_api import Recorded, RecordedAPI, Reply


class HackerNewsHarness:
    brand_terms = ["acme"]

    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.items: list[dict[str, Any]] = []
        self.clock = FixedClock(datetime(2014, 6, 21, tzinfo=UTC))
        api.add("GET", "/api/v1/search_by_date", self._search, repeat=True)

    def _search(self, request: Recorded) -> Reply:
        since, until = 0, 2**40
        for part in (request.param("numericFilters") or "").split(","):
            if part.startswith("created_at_i>="):
                since = int(part.split(">=")[1])
            elif part.startswith("created_at_i<"):
                until = int(part.split("<")[1])
        hits = sorted(
            (h for h in self.items if since <= int(h.get("created_at_i", 0)) < until),
            key=lambda h: -int(h.get("created_at_i", 0)),
        )
        size, page = int(request.param("hitsPerPage") or 20), int(request.param("page") or 0)
        pages = max(1, -(-len(hits) // size))
        body = {"hits": hits[page * size : (page + 1) * size], "page": page, "nbPages": pages}
        return Reply(200, body)

    def connector(self) -> HackerNewsConnector:
        config = HackerNewsSourceConfig(type="hackernews", base_url=self.api.url + "/api/v1")
        return HackerNewsConnector(config, [_Brand(self.brand_terms)], clock=self.clock)

    def real_items(self) -> list[dict[str, Any]]:
        replies = json.loads(shared_path("fixtures", "hackernews", "fixtures.json").read_text())
        hits = {
            str(hit["objectID"]): hit
            for reply in replies
            if "/search_by_date" in reply["url"]
            for hit in reply["reply"]["hits"]
        }
        return list(hits.values())

    def expected_ids(self, items: list[dict[str, Any]]) -> set[str]:
        return {str(i["objectID"]) for i in items if str(i.get("objectID", "")).isdigit()}

    def expected_time(self, item: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))

    def new_item(self, number: int) -> dict[str, Any]:
        return {
            "objectID": str(9_000_000 + number),
            "created_at": "2014-06-20T12:00:00.000Z",
            "created_at_i": 1403265600 + number,
            "author": "someone",
            "comment_text": "Acme support never answered &amp; my order is lost<p>again",
            "points": None,
            "num_comments": None,
            "parent_id": 7919424,
            "story_id": 7919424,
            "_tags": ["comment", "author_someone", "story_7919424"],
        }

    def malformed_item(self) -> dict[str, Any]:
        return {"objectID": "not-a-number", "created_at_i": 1403235000, "_tags": ["story"]}

    def publish(self, items: list[dict[str, Any]]) -> None:
        self.items = list(items)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        reply = Reply(status, {"message": "scripted failure"}, headers or {})
        self.api.add("GET", "/api/v1/search_by_date", reply, first=True)


class _Brand:
    def __init__(self, terms: list[str]) -> None:
        self.name, self.terms, self.exclude, self.handles = "Brand", terms, [], {}


@pytest.fixture
def harness() -> Iterator[HackerNewsHarness]:
    with RecordedAPI() as api:
        yield HackerNewsHarness(api)


class TestContract(ConnectorContract):
    pass


def test_comments_become_text_linked_to_their_story(harness: HackerNewsHarness) -> None:
    harness.publish([harness.new_item(1)])
    (post,) = harness.connector().fetch_new(None).posts
    assert post.text == "Acme support never answered & my order is lost\nagain"
    assert (post.in_reply_to, post.conversation_id) == ("7919424", "7919424")
    assert post.url == "https://news.ycombinator.com/item?id=9000001"


def test_stories_carry_points_and_comment_counts(harness: HackerNewsHarness) -> None:
    story = next(i for i in harness.real_items() if "story" in i["_tags"])
    harness.publish([{**story, "points": 12, "num_comments": 4}])
    (post,) = harness.connector().fetch_new(None).posts
    assert (post.engagement.likes, post.engagement.replies) == (12, 4)
    assert post.text.startswith(story["title"])


def test_the_query_asks_for_the_term_and_only_what_is_newer(harness: HackerNewsHarness) -> None:
    harness.publish(harness.real_items())
    connector = harness.connector()
    first = connector.fetch_new(None)
    connector.fetch_new(first.cursor)
    asked = [r for r in harness.api.requests if r.path == "/api/v1/search_by_date"]
    assert asked[0].param("query") == '"acme"'
    assert asked[0].param("numericFilters") is None
    newest = max(int(i["created_at_i"]) for i in harness.real_items())
    assert asked[-1].param("numericFilters") == f"created_at_i>={newest}"


def test_a_burst_larger_than_a_poll_is_finished_on_the_next(harness: HackerNewsHarness) -> None:
    connector = harness.connector()
    harness.publish([harness.new_item(0)])
    cursor = connector.fetch_new(None).cursor
    # three hits a second: the page cap falls inside a second
    burst = [{**harness.new_item(n), "created_at_i": 1403265601 + n // 3} for n in range(1, 1001)]
    harness.publish([harness.new_item(0), *burst])
    read: list[str] = []
    for _ in range(4):  # 3 pages of 100 a poll
        result = connector.fetch_new(cursor)
        read += [p.native_id for p in result.posts]
        cursor = result.cursor
    assert sorted(read) == sorted(harness.expected_ids(burst))
    assert len(read) == len(set(read))
    assert connector.fetch_new(cursor).posts == []
