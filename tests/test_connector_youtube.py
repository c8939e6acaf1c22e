"""YouTube comment threads: a local server paging like the Data API v3 (order=time,
pageToken, maxResults) serving the real responses recorded by python-youtube."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import RetriableSourceError
from connectors.youtube import YouTubeConnector, YouTubeSourceConfig
from core.clock import FixedClock
from core.records import Engagement
from monitor.config import load_config
from monitor.daemon import Daemon
from storage.db import open_database
from tests.conftest import shared_path
from tests.contract import ConnectorContract
from tests.factories import write_config
from tests.recorded_api import Recorded, RecordedAPI, Reply

THREADS = "/youtube/v3/commentThreads"
SEARCH = "/youtube/v3/search"
CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"


def recorded(name: str) -> dict[str, Any]:
    return dict(json.loads(shared_path("fixtures", "youtube", name).read_text("utf-8")))


def published(thread: dict[str, Any]) -> str:
    snippet = thread.get("snippet", {}).get("topLevelComment", {}).get("snippet", {})
    return str(snippet.get("publishedAt", ""))


class YouTubeServer:
    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.threads: list[dict[str, Any]] = []
        self.disabled: set[str] = set()
        api.add("GET", THREADS, self._threads, repeat=True)

    def _threads(self, request: Recorded) -> Reply:
        if request.param("videoId") in self.disabled:
            error = {"code": 403, "errors": [{"reason": "commentsDisabled"}]}
            return Reply(403, {"error": error})
        if request.param("id"):
            wanted = set((request.param("id") or "").split(","))
            return Reply(200, {"items": [t for t in self.threads if t["id"] in wanted]})
        ordered = sorted(self.threads, key=published)
        ordered.reverse()
        start, size = int(request.param("pageToken") or 0), int(request.param("maxResults") or 20)
        body: dict[str, Any] = {"items": ordered[start : start + size]}
        if start + size < len(ordered):
            body["nextPageToken"] = str(start + size)
        return Reply(200, body)


class YouTubeHarness:
    brand_terms = ["google"]

    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.server = YouTubeServer(api)
        self.clock = FixedClock(datetime(2019, 12, 1, tzinfo=UTC))

    def connector(self, **options: Any) -> YouTubeConnector:
        options.setdefault("channels", [CHANNEL])
        config = YouTubeSourceConfig(
            type="youtube", api_key="k", base_url=self.api.url + "/youtube/v3", **options
        )
        return YouTubeConnector(config, [_Brand(self.brand_terms)], clock=self.clock)

    def real_items(self) -> list[dict[str, Any]]:
        names = [
            "comment_threads_by_video_paged_1.json",
            "comment_threads_multi.json",
            "comment_threads_with_search.json",
        ]
        return [item for name in names for item in recorded(name)["items"]]

    def expected_ids(self, items: list[dict[str, Any]]) -> set[str]:
        return {i["id"] for i in items if "topLevelComment" in i.get("snippet", {})}

    def expected_time(self, item: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(published(item).replace("Z", "+00:00"))

    def new_item(self, number: int, text: str = "Google lost my photos") -> dict[str, Any]:
        at = datetime(2019, 11, 30, tzinfo=UTC) + timedelta(seconds=number)
        comment = {
            "authorDisplayName": "Some One",
            "authorChannelId": {"value": "UCsomeone"},
            "videoId": "vid1",
            "textDisplay": text.replace("&", "&amp;"),
            "textOriginal": text,
            "likeCount": 3,
            "publishedAt": at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        }
        return {
            "id": f"UgNew{number:06d}",
            "snippet": {
                "videoId": "vid1",
                "topLevelComment": {"id": f"UgNew{number:06d}", "snippet": comment},
                "totalReplyCount": 2,
            },
        }

    def malformed_item(self) -> dict[str, Any]:
        return {"id": "broken", "snippet": {"topLevelComment": {}}}

    def publish(self, items: list[dict[str, Any]]) -> None:
        self.server.threads = list(items)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.api.add("GET", THREADS, Reply(status, {"error": {}}, headers or {}), first=True)


class _Brand:
    def __init__(self, terms: list[str]) -> None:
        self.name, self.terms, self.exclude, self.handles = "Brand", terms, [], {}


@pytest.fixture
def harness() -> Iterator[YouTubeHarness]:
    with RecordedAPI() as api:
        yield YouTubeHarness(api)


class TestContract(ConnectorContract):
    pass


def test_a_comment_becomes_a_post_with_its_likes_and_replies(harness: YouTubeHarness) -> None:
    harness.publish([harness.new_item(1, "Google & me")])
    result = harness.connector().fetch_new(None)
    (post,) = result.posts
    assert post.text == "Google & me"
    assert post.engagement == Engagement(likes=3, replies=2)
    assert post.url == "https://www.youtube.com/watch?v=vid1&lc=UgNew000001"
    assert (post.author.handle, post.conversation_id) == ("Some One", "vid1")
    asked = harness.api.requests[0]
    assert (asked.param("allThreadsRelatedToChannelId"), asked.param("key")) == (CHANNEL, "k")
    assert (asked.param("order"), asked.param("maxResults")) == ("time", "100")


def test_own_channel_comments_are_addressed_when_the_source_is_one_brands(
    harness: YouTubeHarness,
) -> None:
    harness.publish(harness.real_items())
    assert harness.connector().fetch_new(None).addressed == frozenset()
    addressed = harness.connector(brand="Brand").fetch_new(None).addressed
    assert addressed == harness.expected_ids(harness.real_items())


def test_a_comment_on_the_brands_channel_is_stored_without_naming_it(
    harness: YouTubeHarness, tmp_path: Path
) -> None:
    harness.publish([harness.new_item(1, "my order never came, two weeks now")])
    db_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    source = {"type": "youtube", "api_key": "k", "channels": [CHANNEL], "brand": "Kestrel"}
    source["base_url"] = harness.api.url + "/youtube/v3"
    config = load_config(write_config(tmp_path / "c.yaml", db_url=db_url, sources={"yt": source}))
    daemon = Daemon(config, clock=harness.clock, sink=_NoSink(), engine=open_database(db_url))
    assert daemon.poll("yt") == 1
    del source["brand"]  # a source for every brand: the comment must name one
    config = load_config(write_config(tmp_path / "d.yaml", db_url=db_url, sources={"all": source}))
    other = Daemon(config, clock=harness.clock, sink=_NoSink(), engine=open_database(db_url))
    harness.publish([harness.new_item(2, "my refund never came")])
    assert other.poll("all") == 0


def test_a_burst_larger_than_a_poll_is_finished_from_the_backlog(harness: YouTubeHarness) -> None:
    harness.publish([harness.new_item(0)])
    connector = harness.connector(max_pages=1)
    cursor = connector.fetch_new(None).cursor
    burst = [harness.new_item(n) for n in range(1, 251)]
    harness.publish([harness.new_item(0), *burst])
    read: list[str] = []
    for _ in range(4):
        result = connector.fetch_new(cursor)
        read += [p.native_id for p in result.posts]
        cursor = result.cursor
    assert sorted(read) == sorted(harness.expected_ids(burst))
    later = harness.new_item(999)
    harness.publish([harness.new_item(0), *burst, later])
    assert [p.native_id for p in connector.fetch_new(cursor).posts] == [later["id"]]


def test_a_spent_quota_waits_until_midnight_pacific(harness: YouTubeHarness) -> None:
    error = {"error": {"code": 403, "errors": [{"reason": "quotaExceeded"}]}}
    harness.api.add("GET", THREADS, Reply(403, error), first=True)
    with pytest.raises(RetriableSourceError) as raised:
        harness.connector().fetch_new(None)
    assert raised.value.retry_after == 8 * 3600  # 00:00 UTC is 16:00 the day before in PST


def test_a_video_with_comments_off_is_skipped(harness: YouTubeHarness) -> None:
    harness.server.disabled = {"off"}
    harness.publish([harness.new_item(1)])
    result = harness.connector(videos=["off"]).fetch_new(None)
    assert [p.native_id for p in result.posts] == ["UgNew000001"]


def test_search_runs_within_its_daily_share_and_its_videos_are_read(
    harness: YouTubeHarness,
) -> None:
    found = recorded("search_by_keywords_p1.json")
    harness.api.add("GET", SEARCH, Reply(200, found), repeat=True)
    harness.publish([])
    connector = harness.connector(channels=[], search=True, searches_per_day=4)
    cursor = connector.fetch_new(None).cursor
    videos = [i["id"]["videoId"] for i in found["items"]]
    read = {r.param("videoId") for r in harness.api.requests if r.path == THREADS}
    assert read == set(videos)
    (search,) = [r for r in harness.api.requests if r.path == SEARCH]
    assert (search.param("q"), search.param("type"), search.param("order")) == (
        '"google"',
        "video",
        "date",
    )
    for _ in range(23):  # 4 a day: one every 6 h at most
        harness.clock.advance(hours=1)
        cursor = connector.fetch_new(cursor).cursor
    assert harness.api.count("GET", SEARCH) == 4  # at 0, 6, 12 and 18 h
    harness.clock.advance(hours=1)
    connector.fetch_new(cursor)
    assert harness.api.count("GET", SEARCH) == 5  # a new UTC day


def test_refresh_reads_threads_by_id(harness: YouTubeHarness) -> None:
    items = recorded("comment_threads_multi.json")["items"]
    harness.publish(items)
    ids = [i["id"] for i in items]
    found = harness.connector().refresh_engagement(ids)
    assert set(found) == set(ids)
    assert harness.api.requests[-1].param("id") == ",".join(ids)


class _NoSink:
    name = "none"

    def send(self, view: Any) -> Any:
        raise AssertionError("nothing is sent here")
