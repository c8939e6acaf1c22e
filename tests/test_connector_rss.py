"""RSS/Atom feeds: a local server serving a real Google Alerts feed, with ETag support."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from connectors.rss import RssConnector, RssSourceConfig
from core.clock import FixedClock
from tests.conftest import shared_path
from tests.contract import ConnectorContract
from tests.recorded_api import Recorded, RecordedAPI, Reply

ENTRY = re.compile(r"<entry>.*?</entry>", re.DOTALL)


class RssHarness:
    brand_terms = ["slack"]

    def __init__(self, api: RecordedAPI) -> None:
        self.api = api
        self.entries: list[str] = []
        self.clock = FixedClock(datetime(2019, 7, 12, tzinfo=UTC))
        api.add("GET", "/alerts.xml", self._feed, repeat=True)

    def _document(self) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>Google Alert - Slack</title>'
            + "".join(self.entries)
            + "</feed>"
        )

    def _feed(self, request: Recorded) -> Reply:
        body = self._document()
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return Reply(304, b"", {"ETag": etag})
        return Reply(200, body, {"Content-Type": "application/atom+xml", "ETag": etag})

    def connector(self) -> RssConnector:
        config = RssSourceConfig(type="rss", feeds=[self.api.url + "/alerts.xml"])
        return RssConnector(config, [], clock=self.clock)

    def real_items(self) -> list[str]:
        text = shared_path("fixtures", "rss", "google_alerts_atom.xml").read_text()
        return ENTRY.findall(text)

    def expected_ids(self, items: list[str]) -> set[str]:
        return {m[1] for i in items if (m := re.search(r"<id>(.*?)</id>", i))}

    def expected_time(self, item: str) -> datetime:
        match = re.search(r"<published>(.*?)</published>", item)
        assert match is not None
        return datetime.fromisoformat(match[1].replace("Z", "+00:00"))

    def new_item(self, number: int) -> str:
        return (
            f"<entry><id>tag:example.org,2019:alert-{number}</id>"
            '<title type="html">&lt;b&gt;Slack&lt;/b&gt; outage leaves teams waiting</title>'
            '<link href="https://www.google.com/url?rct=j&amp;sa=t&amp;'
            f'url=https://news.example.org/slack-{number}&amp;ct=ga"></link>'
            "<published>2019-07-11T09:30:00+02:00</published>"
            '<content type="html">Support said &amp;quot;soon&amp;quot;</content></entry>'
        )

    def malformed_item(self) -> str:
        return "<entry><updated>2019-07-10T11:00:00Z</updated></entry>"

    def publish(self, items: list[str]) -> None:
        self.entries = list(items)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.api.add("GET", "/alerts.xml", Reply(status, b"", headers or {}), first=True)


@pytest.fixture
def harness() -> Iterator[RssHarness]:
    with RecordedAPI() as api:
        yield RssHarness(api)


class TestContract(ConnectorContract):
    pass


def test_an_unchanged_feed_is_answered_not_modified(harness: RssHarness) -> None:
    harness.publish(harness.real_items())
    connector = harness.connector()
    first = connector.fetch_new(None)
    second = connector.fetch_new(first.cursor)
    assert second.posts == []
    assert [r.headers.get("If-None-Match") is not None for r in harness.api.requests] == [
        False,
        True,
    ]


def test_google_alert_entries_read_as_text_with_the_real_article_link(
    harness: RssHarness,
) -> None:
    harness.publish([harness.new_item(7)])
    (post,) = harness.connector().fetch_new(None).posts
    assert post.text == 'Slack outage leaves teams waiting\n\nSupport said "soon"'
    assert post.url == "https://news.example.org/slack-7"
    assert post.created_at == datetime(2019, 7, 11, 7, 30, tzinfo=UTC)
