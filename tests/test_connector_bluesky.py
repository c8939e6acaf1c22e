"""Bluesky through Jetstream: a local WebSocket server replaying real firehose events."""

from __future__ import annotations

import http
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from connectors.bluesky import BlueskyConnector, BlueskySourceConfig
from core.clock import FixedClock
from tests.conftest import shared_path
from tests.contract import ConnectorContract
from tests.recorded_api import RecordedAPI, Reply

POST = "app.bsky.feed.post"


class JetstreamHarness:
    brand_terms = ["the"]

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.cursors: list[str | None] = []
        self.clock = FixedClock(datetime(2026, 7, 4, 14, 40, tzinfo=UTC))
        self.server = serve(self._stream, "127.0.0.1", 0, process_request=self._handshake)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join()

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        if not self.failures:
            return None
        status, headers = self.failures.pop(0)
        response = connection.respond(http.HTTPStatus(status), "scripted failure\n")
        for name, value in headers.items():
            response.headers[name] = value
        return response

    def _stream(self, connection: ServerConnection) -> None:
        """Jetstream's replay: events from `cursor` on, in time order, then the live end."""
        assert connection.request is not None
        query = parse_qs(urlsplit(connection.request.path).query)
        cursor = query.get("cursor", [None])[0]
        self.cursors.append(cursor)
        since = int(cursor) if cursor else 0
        for event in sorted(self.events, key=lambda e: e.get("time_us", 0)):
            if event.get("time_us", 0) >= since:
                connection.send(json.dumps(event))

    def connector(self) -> BlueskyConnector:
        config = BlueskySourceConfig(type="bluesky", jetstream_url=self.url, idle_seconds=10)
        return BlueskyConnector(config, [_Brand(self.brand_terms)], clock=self.clock)

    def real_items(self) -> list[dict[str, Any]]:
        path = shared_path("fixtures", "bluesky", "expected_v1.jsonl")
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def expected_ids(self, items: list[dict[str, Any]]) -> set[str]:
        wanted = re.compile(r"(?<!\w)the(?!\w)", re.IGNORECASE)
        return {
            f"{e['did']}/{e['commit']['rkey']}"
            for e in items
            if e.get("kind") == "commit"
            and e["commit"].get("collection") == POST
            and e["commit"].get("operation") == "create"
            and isinstance(e["commit"]["record"].get("text"), str)
            and wanted.search(e["commit"]["record"]["text"])
            and "T" in str(e["commit"]["record"].get("createdAt"))
        }

    def expected_time(self, item: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(item["commit"]["record"]["createdAt"].replace("Z", "+00:00"))

    def new_item(self, number: int) -> dict[str, Any]:
        return {
            "did": "did:plc:newcomer0000000000000000",
            "time_us": 1783175999000000 + number,
            "kind": "commit",
            "commit": {
                "operation": "create",
                "collection": POST,
                "rkey": f"3newpost{number:05d}",
                "record": {
                    "$type": POST,
                    "createdAt": "2026-07-04T20:08:59.000+05:30",
                    "langs": ["en"],
                    "text": "Waited an hour on the phone and nobody answered",
                },
            },
        }

    def malformed_item(self) -> dict[str, Any]:
        broken = self.new_item(99)
        broken["commit"]["record"]["createdAt"] = "yesterday"
        return broken

    def publish(self, items: list[dict[str, Any]]) -> None:
        self.events = list(items)

    def fail_next(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.failures.append((status, headers or {}))


class _Brand:
    def __init__(self, terms: list[str]) -> None:
        self.name, self.terms, self.exclude, self.handles = "Brand", terms, [], {}


@pytest.fixture
def harness() -> Iterator[JetstreamHarness]:
    made = JetstreamHarness()
    yield made
    made.close()


class TestContract(ConnectorContract):
    pass


def test_a_restart_resumes_a_few_seconds_before_the_stored_time_us(
    harness: JetstreamHarness,
) -> None:
    harness.publish(harness.real_items())
    first = harness.connector().fetch_new(None)
    harness.connector().fetch_new(first.cursor)
    newest = max(e["time_us"] for e in harness.real_items())
    assert harness.cursors[-1] == str(newest - 5_000_000)
    ten_minutes_back = datetime(2026, 7, 4, 14, 30, tzinfo=UTC).timestamp()
    assert harness.cursors[0] == str(int(ten_minutes_back) * 10**6)


def test_only_posts_naming_the_brand_leave_the_connector(harness: JetstreamHarness) -> None:
    harness.publish(harness.real_items())
    posts = harness.connector().fetch_new(None).posts
    assert posts
    assert all(re.search(r"(?i)\bthe\b", p.text) for p in posts)
    events = [e for e in harness.real_items() if e.get("commit", {}).get("collection") == POST]
    assert len(posts) < len(events)


def test_replies_link_to_their_parent_and_urls_open_in_the_app(harness: JetstreamHarness) -> None:
    harness.publish(harness.real_items())
    posts = harness.connector().fetch_new(None).posts
    reply = next(p for p in posts if p.in_reply_to)
    assert reply.in_reply_to == "did:plc:vqr6qcne2dya6o46z2citxdk/3mpt6d6eu5k2p"
    assert all(p.url and p.url.startswith("https://bsky.app/profile/did:") for p in posts)


def test_engagement_comes_from_the_public_appview() -> None:
    view = {"uri": f"at://did:plc:abc/{POST}/3kxyz", "likeCount": 5, "repostCount": 2}
    view |= {"replyCount": 1, "quoteCount": 0}
    with RecordedAPI() as api:
        api.add("GET", "/xrpc/app.bsky.feed.getPosts", Reply(200, {"posts": [view]}))
        config = BlueskySourceConfig(type="bluesky", appview_url=api.url)
        connector = BlueskyConnector(config, [], clock=FixedClock(datetime.now(UTC)))
        found = connector.refresh_engagement(["did:plc:abc/3kxyz"])
        assert api.requests[0].query["uris"] == [f"at://did:plc:abc/{POST}/3kxyz"]
    assert (found["did:plc:abc/3kxyz"].likes, found["did:plc:abc/3kxyz"].reposts) == (5, 2)
