"""Mastodon tag timelines and search: a local server that pages like Mastodon (max_id,
min_id, Link headers) serving the real statuses recorded by Mastodon.py's test suite."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.mastodon import MastodonConnector, MastodonSourceConfig, hashtag, native_id
from core.clock import FixedClock
from core.records import Engagement
from tests.conftest import shared_path
from tests.contract import ConnectorContract
from tests.recorded_api import Recorded, RecordedAPI, Reply

TAG = "fgiztsshwiaqqiztpmmjbtvmescsculuvmgjgopwoeidbcrixp"
TIMELINE = re.compile(r"/api/v1/timelines/tag/[^/]+")


def recorded(name: str) -> list[tuple[str, Any]]:
    """(uri, JSON body) of each GET in a Mastodon.py cassette."""
    cassette = yaml.load(
        shared_path("fixtures", "mastodon", name).read_text(encoding="utf-8"),
        Loader=yaml.SafeLoader,
    )
    return [
        (i["request"]["uri"], json.loads(i["response"]["body"]["string"]))
        for i in cassette["interactions"]
        if i["request"]["method"] == "GET"
    ]


class MastodonServer:
    """Serves `statuses` as any tag timeline, newest first, paged as Mastodon pages."""

    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.statuses: list[dict[str, Any]] = []
        api.add("GET", TIMELINE, self._timeline, repeat=True)
        api.add("GET", "/api/v1/statuses", self._lookup, repeat=True)

    def _timeline(self, request: Recorded) -> Reply:
        limit = min(int(request.param("limit") or 20), 40)
        ordered = sorted(self.statuses, key=lambda s: int(s["id"]))
        max_id, min_id = request.param("max_id"), request.param("min_id")
        if max_id:
            ordered = [s for s in ordered if int(s["id"]) < int(max_id)]
        if min_id:
            page = [s for s in ordered if int(s["id"]) > int(min_id)][:limit][::-1]
        else:
            page = ordered[::-1][:limit]
        headers = {}
        if page:
            base = f"{self.api.url}{request.path}?limit={limit}"
            headers["Link"] = (
                f'<{base}&max_id={page[-1]["id"]}>; rel="next", '
                f'<{base}&min_id={page[0]["id"]}>; rel="prev"'
            )
        return Reply(200, page, headers)

    def _lookup(self, request: Recorded) -> Reply:
        wanted = set(request.query.get("id[]", []))
        return Reply(200, [s for s in self.statuses if s["id"] in wanted])


class MastodonHarness:
    brand_terms = [TAG]

    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.server = MastodonServer(api)
        self.clock = FixedClock(datetime(2026, 8, 2, tzinfo=UTC))

    def connector(self, **options: Any) -> MastodonConnector:
        config = MastodonSourceConfig(type="mastodon", instances=[self.api.url], **options)
        return MastodonConnector(config, [_Brand(self.brand_terms)], clock=self.clock)

    def real_items(self) -> list[dict[str, Any]]:
        statuses = {
            s["id"]: s
            for name in ("test_pagination_iterator.yaml", "test_hashtag_tl.yaml")
            for uri, body in recorded(name)
            if "/timelines/" in uri
            for s in body
        }
        return list(statuses.values())

    def expected_ids(self, items: list[dict[str, Any]]) -> set[str]:
        return {native_id(i["uri"]) for i in items if "uri" in i and not i.get("reblog")}

    def expected_time(self, item: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))

    def new_item(self, number: int, **fields: Any) -> dict[str, Any]:
        local = str(117_100_000_000_000_000 + number)
        host = self.api.url.split("://", 1)[1]
        return {
            "id": local,
            "uri": f"{self.api.url}/users/someone/statuses/{local}",
            "url": f"{self.api.url}/@someone/{local}",
            "created_at": "2026-08-01T15:00:00.000Z",
            "content": f"<p>Acme lost my parcel &amp; nobody answers <a href='x'>#{TAG}</a></p>",
            "spoiler_text": "",
            "language": "en",
            "reblog": None,
            "in_reply_to_id": None,
            "favourites_count": 3,
            "reblogs_count": 2,
            "replies_count": 1,
            "account": {"acct": "someone", "url": f"http://{host}/@someone", "followers_count": 9},
            **fields,
        }

    def malformed_item(self) -> dict[str, Any]:
        return {"id": "1", "content": "<p>no uri, no author</p>"}

    def publish(self, items: list[dict[str, Any]]) -> None:
        self.server.statuses = list(items)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        reply = Reply(status, {"error": "scripted failure"}, headers or {})
        self.api.add("GET", TIMELINE, reply, first=True)


class _Brand:
    def __init__(self, terms: list[str]) -> None:
        self.name, self.terms, self.exclude, self.handles = "Brand", terms, [], {}


@pytest.fixture
def harness() -> Iterator[MastodonHarness]:
    with RecordedAPI() as api:
        yield MastodonHarness(api)


class TestContract(ConnectorContract):
    pass


def test_html_content_becomes_text_and_counts_engagement(harness: MastodonHarness) -> None:
    harness.publish([harness.new_item(1, spoiler_text="parcel rant")])
    (post,) = harness.connector().fetch_new(None).posts
    assert post.text == f"parcel rant\n\nAcme lost my parcel & nobody answers #{TAG}"
    assert post.engagement == Engagement(likes=3, reposts=2, replies=1)
    assert (post.author.handle, post.author.followers, post.lang) == ("someone", 9, "en")
    assert post.url == f"{harness.api.url}/@someone/117100000000000001"


def test_a_burst_larger_than_a_poll_is_read_on_the_next_poll(harness: MastodonHarness) -> None:
    harness.publish([harness.new_item(0)])
    connector = harness.connector(max_pages=1)
    first = connector.fetch_new(None)
    burst = [harness.new_item(n) for n in range(1, 51)]
    harness.publish([harness.new_item(0), *burst])
    second = connector.fetch_new(first.cursor)
    third = connector.fetch_new(second.cursor)
    assert len(second.posts) == 40  # one page: the 40 just above the stored id
    read = [p.native_id for p in [*second.posts, *third.posts]]
    assert sorted(read) == sorted(harness.expected_ids(burst))
    assert connector.fetch_new(third.cursor).posts == []
    walked = [r for r in harness.api.requests if TIMELINE.fullmatch(r.path)]
    assert walked[-1].param("min_id") == burst[-1]["id"]


def test_the_first_poll_walks_back_by_the_next_link(harness: MastodonHarness) -> None:
    items = harness.real_items()
    harness.publish(items)
    harness.connector().fetch_new(None)
    asked = [r for r in harness.api.requests if TIMELINE.fullmatch(r.path)]
    assert asked[0].path == f"/api/v1/timelines/tag/{TAG}"
    assert (asked[0].param("limit"), asked[0].param("max_id")) == ("40", None)
    assert (
        asked[1].param("max_id")
        == min(sorted(items, key=lambda s: -int(s["id"]))[:40], key=lambda s: int(s["id"]))["id"]
    )


def test_a_post_seen_on_two_instances_is_one_post(harness: MastodonHarness) -> None:
    post = harness.new_item(1)
    with RecordedAPI() as other:
        MastodonServer(other).statuses = [{**post, "id": "5"}]
        harness.publish([post])
        config = MastodonSourceConfig(type="mastodon", instances=[harness.api.url, other.url])
        connector = MastodonConnector(config, [_Brand([TAG])], clock=harness.clock)
        posts = connector.fetch_new(None).posts
    assert [p.native_id for p in posts] == [native_id(post["uri"])]


def test_engagement_is_read_from_the_home_instance(harness: MastodonHarness) -> None:
    items = [harness.new_item(1), harness.new_item(2)]
    harness.publish(items)
    ids = [native_id(i["uri"]) for i in items]
    found = harness.connector().refresh_engagement([*ids, "elsewhere.example/42"])
    assert found == {i: Engagement(likes=3, reposts=2, replies=1) for i in ids}
    (lookup,) = [r for r in harness.api.requests if r.path == "/api/v1/statuses"]
    assert lookup.query["id[]"] == [i["id"] for i in items]


def test_search_needs_a_token_and_reads_statuses(harness: MastodonHarness) -> None:
    harness.publish([])
    harness.connector().fetch_new(None)
    assert not [r for r in harness.api.requests if r.path == "/api/v2/search"]

    (search,) = [body for uri, body in recorded("test_entity_searchv2.yaml") if "search" in uri]
    harness.api.add("GET", "/api/v2/search", Reply(200, search), repeat=True)
    result = harness.connector(access_token="secret").fetch_new(None)
    asked = [r for r in harness.api.requests if r.path == "/api/v2/search"]
    assert asked[0].headers["Authorization"] == "Bearer secret"
    assert (asked[0].param("q"), asked[0].param("type")) == (TAG, "statuses")
    assert {p.native_id for p in result.posts} == {
        "icosahedron.website/116388148912635764",
        "social.sublingual.xyz/116388107097123650",
    }
    post = next(p for p in result.posts if p.native_id.startswith("icosahedron"))
    assert "<" not in post.text
    assert post.created_at == datetime(2026, 4, 11, 21, 16, 53, tzinfo=UTC)


@pytest.mark.parametrize(
    ("term", "tag"), [("Acme", "acme"), ("Acme Corp", "acmecorp"), ("#Kestrel", "kestrel")]
)
def test_terms_become_hashtags(term: str, tag: str) -> None:
    assert hashtag(term) == tag


@pytest.mark.parametrize("term", ["t-mobile", "acme.com", "_x"])
def test_terms_that_cannot_be_hashtags_are_not_asked(term: str) -> None:
    assert hashtag(term) is None


def test_an_instance_that_is_not_a_url_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not an http"):
        MastodonSourceConfig(type="mastodon", instances=["mastodon.social"])
