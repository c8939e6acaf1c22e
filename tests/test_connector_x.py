"""XConnector against a local server: real tweepy, real HTTP, own fixtures and recorded ones."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.x import XConnector, XSourceConfig, snowflake_time
from connectors.x_query import brand_queries, pack, quote
from core.clock import FixedClock
from core.records import Engagement
from monitor.config import BrandConfig
from tests.recorded_api import RecordedAPI, Reply, load_cassette, read_jsonl

FIXTURES = Path(__file__).parent / "fixtures" / "x"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "x"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared fixtures absent")

SEARCH = "/2/tweets/search/recent"
LOOKUP = "/2/tweets"
NOW = datetime(2024, 5, 1, 12, 10, tzinfo=UTC)
ACME = BrandConfig(name="Acme", terms=["Acme"], handles={"x": ["AcmeSupport"]})
ACME_QUERY = "(Acme OR @AcmeSupport OR (from:AcmeSupport is:reply)) -is:retweet"


def page(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def ok(body: Any, remaining: int = 449) -> Reply:
    reset = str(int(NOW.timestamp()) + 900)
    return Reply(200, body, {"x-rate-limit-remaining": str(remaining), "x-rate-limit-reset": reset})


@pytest.fixture
def api() -> Iterator[RecordedAPI]:
    with RecordedAPI() as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def connector(
    api: RecordedAPI, clock: FixedClock, brands: list[BrandConfig] | None = None, **options: Any
) -> XConnector:
    config = XSourceConfig(type="x", bearer_token="test-token", base_url=api.url, **options)
    return XConnector(config, brands or [ACME], clock=clock)


# -- queries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brand", "retweets", "expected"),
    [
        (
            ACME,
            False,
            ["(Acme OR @AcmeSupport OR (from:AcmeSupport is:reply)) -is:retweet"],
        ),
        (
            BrandConfig(
                name="Acme",
                terms=["Acme", "acme corp", 'say "hi"'],
                exclude=["road runner"],
                languages=["en", "fr"],
            ),
            True,
            ['(Acme OR "acme corp" OR "say hi") -"road runner" (lang:en OR lang:fr)'],
        ),
        (
            BrandConfig(name="A", terms=["a"], exclude=["b"], languages=["de"]),
            False,
            ["(a) -b lang:de -is:retweet"],
        ),
    ],
)
def test_brand_queries(brand: BrandConfig, retweets: bool, expected: list[str]) -> None:
    assert brand_queries(brand, include_retweets=retweets, limit=512) == expected


def test_long_queries_are_split_within_the_limit() -> None:
    brand = BrandConfig(name="Big", terms=[f"term{i:03d}" for i in range(120)])
    queries = brand_queries(brand, include_retweets=False, limit=512)
    assert len(queries) > 1
    assert all(len(q) <= 512 and q.endswith(" -is:retweet") for q in queries)
    words = [w for q in queries for w in q.split("(")[1].split(")")[0].split(" OR ")]
    assert words == [f"term{i:03d}" for i in range(120)]


@pytest.mark.parametrize(
    ("term", "quoted"), [("Acme", "Acme"), ("#acme", "#acme"), ("t-mobile", '"t-mobile"')]
)
def test_quote(term: str, quoted: str) -> None:
    assert quote(term) == quoted


def test_filters_that_cannot_fit_are_a_config_error() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        pack(["acme"], "-" + "x" * 600, 512)


# -- mapping ---------------------------------------------------------------------------------


def test_maps_posts_authors_reach_metrics_and_brand_replies(
    api: RecordedAPI, clock: FixedClock
) -> None:
    api.add("GET", SEARCH, ok(page("search_page1.json")), ok(page("search_page2.json")))
    result = connector(api, clock).fetch_new(None)

    posts = {p.native_id: p for p in result.posts}
    assert len(posts) == 5
    assert result.skipped == 1  # the tweet without text
    complaint = posts["1785642070963227373"]
    assert (
        complaint.text == "Acme support kept me on hold for 2 hours & then hung up. Never again </3"
    )
    assert complaint.created_at == datetime(2024, 5, 1, 12, 7, tzinfo=UTC)
    assert (complaint.author.handle, complaint.author.followers) == ("bob_r", 3400)
    assert complaint.engagement == Engagement(
        likes=230, reposts=41, replies=17, quotes=9, views=18250
    )
    assert complaint.url == "https://x.com/bob_r/status/1785642070963227373"
    reply = posts["1785642574279707373"]
    assert (reply.author.handle, reply.author.verified) == ("AcmeSupport", True)
    assert reply.in_reply_to == "1785641567646747373"
    deleted = posts["1785641064330267373"]
    assert (deleted.author.native_id, deleted.author.handle, deleted.author.followers) == (
        "13",
        "",
        None,
    )
    assert deleted.url == "https://x.com/i/status/1785641064330267373"
    assert [p.created_at for p in result.posts] == sorted(p.created_at for p in result.posts)


def test_asks_for_fields_expansions_and_100_a_page(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, ok(page("search_page1.json")), ok(page("search_page2.json")))
    connector(api, clock).fetch_new(None)

    first, second = api.requests
    assert first.param("max_results") == "100"
    assert first.param("expansions") == "author_id,referenced_tweets.id"
    assert set(first.param("tweet.fields").split(",")) >= {
        "created_at",
        "public_metrics",
        "lang",
        "conversation_id",
        "author_id",
        "referenced_tweets",
        "in_reply_to_user_id",
        "note_tweet",
    }
    assert set(first.param("user.fields").split(",")) == {
        "public_metrics",
        "username",
        "name",
        "verified",
    }
    assert first.headers["Authorization"] == "Bearer test-token"
    assert first.param("next_token") is None
    assert second.param("next_token") == page("search_page1.json")["meta"]["next_token"]


# -- cursors and paging ----------------------------------------------------------------------


def test_since_id_resumes_after_restart(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, ok(page("search_page1.json")), ok(page("search_page2.json")))
    first = connector(api, clock).fetch_new(None)
    api.add("GET", SEARCH, ok({"meta": {"result_count": 0}}))

    second = connector(api, clock).fetch_new(first.cursor)  # a new process, same stored cursor

    assert second.posts == []
    assert api.requests[-1].param("since_id") == "1785642574279707373"
    assert second.cursor == first.cursor


def test_page_cap_leaves_a_gap_that_the_next_poll_fills(
    api: RecordedAPI, clock: FixedClock
) -> None:
    older = "1785640000000000000"
    cursor = json.dumps({ACME_QUERY: {"since": older}})
    api.add("GET", SEARCH, ok(page("search_page1.json")))
    capped = connector(api, clock, max_pages=1).fetch_new(cursor)
    assert json.loads(capped.cursor)[ACME_QUERY] == {
        "since": "1785642574279707373",
        "gaps": [[older, "1785641567646747373"]],
    }

    api.add("GET", SEARCH, ok({"meta": {"result_count": 0}}), ok(page("search_page2.json")))
    filled = connector(api, clock, max_pages=2).fetch_new(capped.cursor)

    gap_request = api.requests[-1]
    assert (gap_request.param("since_id"), gap_request.param("until_id")) == (
        older,
        "1785641567646747373",
    )
    assert len(filled.posts) == 2
    assert json.loads(filled.cursor)[ACME_QUERY] == {"since": "1785642574279707373"}


def test_first_poll_does_not_backfill_beyond_the_cap(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, ok(page("search_page1.json")))
    result = connector(api, clock, max_pages=1).fetch_new(None)
    assert json.loads(result.cursor)[ACME_QUERY] == {"since": "1785642574279707373"}


def test_since_id_older_than_the_search_window_is_dropped(
    api: RecordedAPI, clock: FixedClock
) -> None:
    stale = "1785640309355547373"
    clock.advance(days=8)
    api.add("GET", SEARCH, ok({"meta": {"result_count": 0}}))
    connector(api, clock).fetch_new(json.dumps({ACME_QUERY: {"since": stale}}))
    assert api.requests[0].param("since_id") is None


def test_a_post_found_by_two_queries_is_returned_once(api: RecordedAPI, clock: FixedClock) -> None:
    other = BrandConfig(name="Road", terms=["roadrunner"])
    api.add("GET", SEARCH, ok(page("search_page2.json")), repeat=True)
    result = connector(api, clock, brands=[ACME, other]).fetch_new(None)
    assert api.count("GET", SEARCH) == 2
    assert len(result.posts) == len({p.native_id for p in result.posts}) == 2


def test_brand_filter_limits_queries(api: RecordedAPI, clock: FixedClock) -> None:
    other = BrandConfig(name="Road", terms=["roadrunner"])
    assert connector(api, clock, brands=[ACME, other], brand="Road").queries == [
        "(roadrunner) -is:retweet"
    ]


def test_snowflake_time() -> None:
    assert snowflake_time("1785641567646747373") == datetime(2024, 5, 1, 12, 5, tzinfo=UTC)


# -- errors ----------------------------------------------------------------------------------


def test_429_reports_the_reset_and_the_source_waits_without_requests(
    api: RecordedAPI, clock: FixedClock
) -> None:
    reset = int(NOW.timestamp()) + 300
    api.add(
        "GET",
        SEARCH,
        Reply(
            429,
            {"title": "Too Many Requests", "status": 429},
            {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)},
        ),
    )
    x = connector(api, clock)
    with pytest.raises(RetriableSourceError) as first:
        x.fetch_new(None)
    assert first.value.retry_after == pytest.approx(300)

    clock.advance(seconds=100)
    with pytest.raises(RetriableSourceError) as second:
        x.fetch_new(None)
    assert second.value.retry_after == pytest.approx(200)
    assert api.count() == 1


def test_429_without_reset_uses_retry_after(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, Reply(429, {"title": "Too Many Requests"}, {"Retry-After": "42"}))
    with pytest.raises(RetriableSourceError) as error:
        connector(api, clock).fetch_new(None)
    assert error.value.retry_after == 42


def test_spent_quota_stops_paging_and_keeps_what_was_read(
    api: RecordedAPI, clock: FixedClock
) -> None:
    cursor = json.dumps({ACME_QUERY: {"since": "1785640000000000000"}})
    api.add("GET", SEARCH, ok(page("search_page1.json"), remaining=0))
    x = connector(api, clock)
    result = x.fetch_new(cursor)
    assert (len(result.posts), result.quota_remaining, api.count()) == (3, 0, 1)
    assert json.loads(result.cursor)[ACME_QUERY]["gaps"]
    with pytest.raises(RetriableSourceError):
        x.fetch_new(result.cursor)
    assert api.count() == 1


def test_500_then_success(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, Reply(500, "oops"), ok(page("search_page2.json")))
    x = connector(api, clock)
    with pytest.raises(RetriableSourceError):
        x.fetch_new(None)
    assert len(x.fetch_new(None).posts) == 2


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_are_fatal_and_name_the_key(
    api: RecordedAPI, clock: FixedClock, status: int
) -> None:
    api.add("GET", SEARCH, Reply(status, {"title": "Unauthorized", "status": status}))
    with pytest.raises(FatalSourceError) as error:
        connector(api, clock).fetch_new(None)
    assert error.value.credential == "bearer_token"
    assert "test-token" not in str(error.value)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, b'{"data": [{"id": "1785641567646747373", "text": "acm'),
        Reply(200, b"[1, 2]"),
    ],
)
def test_truncated_or_odd_json_is_retriable(
    api: RecordedAPI, clock: FixedClock, reply: Reply
) -> None:
    api.add("GET", SEARCH, reply)
    with pytest.raises(RetriableSourceError, match="JSON"):
        connector(api, clock).fetch_new(None)


def test_partial_errors_keep_the_page(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, ok(page("search_page2.json")))
    result = connector(api, clock).fetch_new(None)
    assert {p.native_id for p in result.posts} == {"1785641064330267373", "1785640309355547373"}


def test_malformed_items_of_every_shape_are_skipped(api: RecordedAPI, clock: FixedClock) -> None:
    body = page("search_page2.json")
    body["data"] += [
        "not a tweet",
        {"id": "abc", "text": "x"},
        {"id": "1", "text": "x", "created_at": "?"},
    ]
    api.add("GET", SEARCH, ok(body))
    result = connector(api, clock).fetch_new(None)
    assert (len(result.posts), result.skipped) == (2, 4)


def test_timeout_is_retriable(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, Reply(stall=True))
    with pytest.raises(RetriableSourceError, match="Timeout"):
        connector(api, clock, timeout_seconds=0.2).fetch_new(None)


def test_connection_refused_is_retriable(clock: FixedClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = XSourceConfig(type="x", bearer_token="t", base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(RetriableSourceError):
        XConnector(config, [ACME], clock=clock).fetch_new(None)


def test_base_url_may_carry_a_path_prefix(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", "/proxy/x" + SEARCH, ok(page("search_page2.json")))
    config = XSourceConfig(type="x", bearer_token="t", base_url=api.url + "/proxy/x/")
    assert len(XConnector(config, [ACME], clock=clock).fetch_new(None).posts) == 2


def test_bearer_token_never_reaches_the_log(
    api: RecordedAPI, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    api.add("GET", SEARCH, ok(page("search_page2.json")))
    with caplog.at_level(logging.DEBUG):
        connector(api, clock).fetch_new(None)
    assert caplog.records
    assert "test-token" not in caplog.text


# -- engagement ------------------------------------------------------------------------------


def test_refresh_reads_100_ids_a_call_and_leaves_out_deleted(
    api: RecordedAPI, clock: FixedClock
) -> None:
    api.add("GET", LOOKUP, ok(page("lookup.json")), repeat=True)
    ids = [str(1785641064330267373 + i) for i in range(250)]
    ids[:3] = ["1785642070963227373", "1785641567646747373", "1785641064330267373"]

    found = connector(api, clock).refresh_engagement(ids)

    assert [len(r.param("ids").split(",")) for r in api.requests] == [100, 100, 50]
    assert set(found) == {"1785642070963227373", "1785641567646747373"}
    assert found["1785642070963227373"] == Engagement(
        likes=980, reposts=130, replies=45, quotes=22, views=70210
    )
    assert api.requests[0].param("tweet.fields") == "public_metrics"


def test_refresh_errors_raise_rather_than_report_posts_gone(
    api: RecordedAPI, clock: FixedClock
) -> None:
    api.add("GET", LOOKUP, Reply(503, "busy"))
    with pytest.raises(RetriableSourceError):
        connector(api, clock).refresh_engagement(["1785642070963227373"])


# -- recorded real responses (../shared) -----------------------------------------------------


@needs_shared
def test_recorded_twarc_search_page(api: RecordedAPI) -> None:
    body = next(read_jsonl(SHARED / "brexit.jsonl"))
    api.add("GET", SEARCH, ok(body))
    clock = FixedClock(datetime(2021, 9, 22, 16, 40, tzinfo=UTC))
    result = connector(api, clock, max_pages=1).fetch_new(None)

    assert (len(result.posts), result.skipped) == (100, 0)
    first = next(p for p in result.posts if p.native_id == "1440716895355764743")
    assert first.author.handle == "WarmongerHodges"
    assert first.author.followers == 34920
    assert first.created_at == datetime(2021, 9, 22, 16, 37, 29, tzinfo=UTC)
    assert first.engagement == Engagement()
    assert "#PeoplesVote" in first.text
    assert not any("&amp;" in p.text for p in result.posts)
    users = {u["id"]: u for u in body["includes"]["users"]}
    for post in result.posts:
        raw = next(t for t in body["data"] if t["id"] == post.native_id)
        assert post.author.followers == users[raw["author_id"]]["public_metrics"]["followers_count"]
        assert post.engagement.reposts == raw["public_metrics"]["retweet_count"]
    assert json.loads(result.cursor)[ACME_QUERY] == {"since": body["meta"]["newest_id"]}


@needs_shared
def test_recorded_tweepy_mentions_with_next_page(api: RecordedAPI) -> None:
    (mentions,) = load_cassette(SHARED / "test_client_get_users_mentions.yaml")
    api.add("GET", SEARCH, mentions.reply, ok({"meta": {"result_count": 0}}))
    clock = FixedClock(datetime(2022, 10, 8, tzinfo=UTC))
    result = connector(api, clock).fetch_new(None)

    assert len(result.posts) == 10
    assert "respond to my ticket" in result.posts[-1].text
    assert all(p.created_at.year == 2022 and p.created_at.tzinfo is UTC for p in result.posts)
    assert api.requests[1].param("next_token") is not None


@needs_shared
def test_recorded_tweepy_lookup(api: RecordedAPI) -> None:
    (lookup,) = load_cassette(SHARED / "test_client_get_tweets.yaml")
    api.add("GET", LOOKUP, lookup.reply)
    found = connector(api, FixedClock(NOW)).refresh_engagement(
        ["1293593516040269825", "1293595870563381249"]
    )
    assert set(found) == {"1293593516040269825", "1293595870563381249"}


@needs_shared
def test_recorded_truncated_stream_line_is_retriable(api: RecordedAPI) -> None:
    last = list(read_jsonl(SHARED / "streaming_output_with_error.jsonl"))[-1]
    api.add("GET", SEARCH, ok(last["__raw__"]))
    with pytest.raises(RetriableSourceError):
        connector(api, FixedClock(NOW)).fetch_new(None)
