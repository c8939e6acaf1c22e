"""RedditConnector against a local server: real praw/prawcore, real HTTP, no sleeping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import FatalSourceError, RetriableSourceError
from connectors.reddit import RedditConnector, RedditSourceConfig, matcher, search_queries
from core.clock import FixedClock
from core.records import Engagement
from monitor.config import BrandConfig
from tests.recorded_api import RecordedAPI, Reply, load_cassette

FIXTURES = Path(__file__).parent / "fixtures" / "reddit"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "reddit"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared fixtures absent")

TOKEN = "/api/v1/access_token"
SEARCH = "/r/all/search/"
COMMENTS = "/r/AcmeUsers+cartoons+food/comments/"
USER = "/user/AcmeSupport/comments"
KARMA = "/api/user_data_by_account_ids"
INFO = "/api/info/"
NOW = datetime(2024, 5, 1, 12, 15, tzinfo=UTC)
T0 = 1714564800.0  # 2024-05-01T12:00:00Z, the fixtures' time base
ACME = BrandConfig(
    name="Acme", terms=["Acme"], exclude=["anvil"], handles={"reddit": ["AcmeSupport"]}
)


def body(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": after, "before": None, "children": children}}


def submission(name: str, created: float, title: str = "Acme again") -> dict[str, Any]:
    return {
        "kind": "t3",
        "data": {
            "name": name,
            "id": name[3:],
            "title": title,
            "selftext": "",
            "author": "someone",
            "author_fullname": "t2_someone",
            "created_utc": created,
            "score": 1,
            "num_comments": 0,
            "subreddit": "AcmeUsers",
            "permalink": f"/r/AcmeUsers/comments/{name[3:]}/x/",
        },
    }


@pytest.fixture
def api() -> Iterator[RecordedAPI]:
    with RecordedAPI() as server:
        server.add("POST", TOKEN, Reply(200, body("token.json")), repeat=True)
        yield server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def connector(
    api: RecordedAPI, clock: FixedClock, brands: list[BrandConfig] | None = None, **options: Any
) -> RedditConnector:
    settings: dict[str, Any] = {
        "type": "reddit",
        "client_id": "app-id",
        "client_secret": "app-secret",
        "oauth_url": api.url,
        "reddit_url": api.url,
        "comment_subreddits": ["AcmeUsers", "cartoons", "food"],
        **options,
    }
    return RedditConnector(RedditSourceConfig(**settings), brands or [ACME], clock=clock)


def serve_all(api: RecordedAPI) -> None:
    api.add("GET", SEARCH, Reply(200, body("search_new.json")))
    api.add("GET", COMMENTS, Reply(200, body("comments.json")))
    api.add("GET", USER, Reply(200, body("user_comments.json")))
    api.add("GET", KARMA, Reply(200, body("karma.json")))


# -- queries and matching ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("brand", "expected"),
    [
        (ACME, ["(Acme) NOT anvil"]),
        (BrandConfig(name="A", terms=["Acme", "acme corp"]), ['(Acme OR "acme corp")']),
    ],
)
def test_search_queries(brand: BrandConfig, expected: list[str]) -> None:
    assert search_queries(brand) == expected


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("ACME never answers", True),
        ("thanks u/AcmeSupport", True),
        ("acmeville is nice", False),
        ("acme anvil cartoon", False),
        ("pizza", False),
    ],
)
def test_comment_matcher(text: str, matches: bool) -> None:
    assert matcher(ACME)(text) is matches


# -- mapping -------------------------------------------------------------------------------------


def test_maps_submissions_comments_brand_replies_and_karma(
    api: RecordedAPI, clock: FixedClock
) -> None:
    serve_all(api)
    result = connector(api, clock).fetch_new(None)

    posts = {p.native_id: p for p in result.posts}
    assert set(posts) == {
        "t3_1cha3x1",
        "t3_1cha2k9",
        "t3_1cha1zz",
        "t1_l2b9w77",
        "t1_l2b9x01",
        "t1_l2a0000",
    }
    assert result.skipped == 2  # a submission without created_utc, a comment without a body
    complaint = posts["t3_1cha3x1"]
    assert complaint.text.startswith("Acme support: 3 weeks & still no refund\n\nOrder #5521.")
    assert 'phone line "busy"' in complaint.text
    assert complaint.created_at == datetime(2024, 5, 1, 12, 9, tzinfo=UTC)
    assert (complaint.author.native_id, complaint.author.handle) == ("t2_jane1", "jane_r")
    assert complaint.author.followers == 1200 + 8800
    assert complaint.engagement == Engagement(likes=57, replies=23)
    assert complaint.url == (
        "https://www.reddit.com/r/AcmeUsers/comments/1cha3x1/acme_support_3_weeks_still_no_refund/"
    )
    reply = posts["t1_l2b9x01"]
    assert (reply.author.handle, reply.in_reply_to, reply.conversation_id) == (
        "AcmeSupport",
        "t3_1cha3x1",
        "t3_1cha3x1",
    )
    # praw asks for raw_json=1, so the text arrives unescaped and must not be decoded again
    assert reply.text == (
        "Sorry to hear this u/jane_r, please DM us your order number & we'll sort it. "
        "Details: acme.example/help?order=1&region=EU"
    )
    assert reply.engagement.replies == 0  # not the thread's 23 comments
    deleted = posts["t3_1cha2k9"]
    assert (deleted.author.handle, deleted.author.followers) == ("", None)
    assert posts["t3_1cha1zz"].author.followers is None  # karma lookup did not know this one


def test_requests_pages_of_100_sorted_new_and_karma_in_one_batch(
    api: RecordedAPI, clock: FixedClock
) -> None:
    serve_all(api)
    connector(api, clock).fetch_new(None)

    search = next(r for r in api.requests if r.path == SEARCH)
    assert (search.param("sort"), search.param("limit"), search.param("q")) == (
        "new",
        "100",
        "(Acme) NOT anvil",
    )
    (karma,) = [r for r in api.requests if r.path == KARMA]
    assert sorted(karma.param("ids").split(",")) == [
        "t2_acmesup",
        "t2_bob",
        "t2_gadget",
        "t2_jane1",
    ]
    assert api.count("POST", TOKEN) == 1
    assert api.count() == 5


def test_karma_is_cached_between_polls(api: RecordedAPI, clock: FixedClock) -> None:
    serve_all(api)
    reddit = connector(api, clock)
    first = reddit.fetch_new(None)
    api.add("GET", SEARCH, Reply(200, body("search_new.json")))
    api.add("GET", COMMENTS, Reply(200, listing([])))
    api.add("GET", USER, Reply(200, listing([])))
    reddit.fetch_new(None)
    assert api.count("GET", KARMA) == 1
    assert first.posts


# -- cursors -------------------------------------------------------------------------------------


def test_resume_after_restart_returns_only_new_items(api: RecordedAPI, clock: FixedClock) -> None:
    serve_all(api)
    first = connector(api, clock).fetch_new(None)
    newer = submission("t3_1chb000", T0 + 900)
    search = body("search_new.json")
    search["data"]["children"].insert(0, newer)
    api.add("GET", SEARCH, Reply(200, search))
    api.add("GET", COMMENTS, Reply(200, body("comments.json")))
    api.add("GET", USER, Reply(200, body("user_comments.json")))
    api.add("GET", KARMA, Reply(200, {}))

    second = connector(api, clock).fetch_new(first.cursor)

    assert [p.native_id for p in second.posts] == ["t3_1chb000"]


def test_late_indexed_search_result_inside_the_overlap_is_found(
    api: RecordedAPI, clock: FixedClock
) -> None:
    cursor = json.dumps(
        {"search:all:(Acme) NOT anvil": {"newest": T0 + 540, "seen": {"t3_1cha3x1": T0 + 540}}}
    )
    late = submission("t3_1chlate", T0 + 200)
    too_old = submission("t3_1cholde", T0 - 3600)
    api.add(
        "GET",
        SEARCH,
        Reply(
            200,
            listing(
                [body("search_new.json")["data"]["children"][0], late, too_old], after="t3_next"
            ),
        ),
    )
    api.add("GET", KARMA, Reply(200, {}))

    result = connector(
        api,
        clock,
        comment_subreddits=[],
        brands=[BrandConfig(name="Acme", terms=["Acme"], exclude=["anvil"])],
    ).fetch_new(cursor)

    assert [p.native_id for p in result.posts] == ["t3_1chlate"]
    assert api.count("GET", SEARCH) == 1  # stopped at the floor, no next page
    state = json.loads(result.cursor)["search:all:(Acme) NOT anvil"]
    assert set(state["seen"]) == {"t3_1cha3x1", "t3_1chlate"}


def test_follows_pages_until_the_cursor(api: RecordedAPI, clock: FixedClock) -> None:
    brand = BrandConfig(name="Acme", terms=["Acme"])
    cursor = json.dumps({"search:all:(Acme)": {"newest": T0, "seen": {}}})
    page1 = listing(
        [submission(f"t3_p1{i:03d}", T0 + 1000 - i) for i in range(100)], after="t3_p1099"
    )
    page2 = listing([submission("t3_p2000", T0 + 10), submission("t3_p2old", T0 - 4000)])
    api.add("GET", SEARCH, Reply(200, page1), when=lambda q: "after" not in q)
    api.add("GET", SEARCH, Reply(200, page2), when=lambda q: q.get("after") == ["t3_p1099"])
    api.add("GET", KARMA, Reply(200, {}))

    result = connector(api, clock, brands=[brand], comment_subreddits=[]).fetch_new(cursor)

    assert len(result.posts) == 101
    assert api.count("GET", SEARCH) == 2
    assert json.loads(result.cursor)["search:all:(Acme)"]["newest"] == T0 + 1000


def test_page_cap_leaves_a_backlog_that_the_next_poll_reads(
    api: RecordedAPI, clock: FixedClock
) -> None:
    brand = BrandConfig(name="Acme", terms=["Acme"])
    key = "search:all:(Acme)"
    cursor = json.dumps({key: {"newest": T0, "seen": {}}})
    page1 = listing([submission(f"t3_p1{i:03d}", T0 + 1000 - i) for i in range(100)], "t3_p1099")
    api.add("GET", SEARCH, Reply(200, page1))
    api.add("GET", KARMA, Reply(200, {}), repeat=True)
    capped = connector(api, clock, brands=[brand], comment_subreddits=[], max_pages=1)
    first = capped.fetch_new(cursor)
    assert json.loads(first.cursor)[key]["backlog"] == [{"after": "t3_p1099", "floor": T0 - 900}]

    newest = listing([submission("t3_p0new", T0 + 2000), page1["data"]["children"][0]])
    rest = listing([submission("t3_p2000", T0 + 10), submission("t3_p2old", T0 - 4000)])
    api.add("GET", SEARCH, Reply(200, newest), when=lambda q: "after" not in q)
    api.add("GET", SEARCH, Reply(200, rest), when=lambda q: q.get("after") == ["t3_p1099"])
    second = connector(api, clock, brands=[brand], comment_subreddits=[], max_pages=2).fetch_new(
        first.cursor
    )

    assert [p.native_id for p in second.posts] == ["t3_p2000", "t3_p0new"]
    state = json.loads(second.cursor)[key]
    assert (state["newest"], "backlog" in state) == (T0 + 2000, False)


def test_a_page_of_seen_items_ends_the_read(api: RecordedAPI, clock: FixedClock) -> None:
    brand = BrandConfig(name="Acme", terms=["Acme"])
    items = [submission(f"t3_s{i:03d}", T0 + 1000 - i) for i in range(100)]
    cursor = json.dumps(
        {"search:all:(Acme)": {"newest": T0 + 1000, "seen": {i["data"]["name"]: 0 for i in items}}}
    )
    api.add("GET", SEARCH, Reply(200, listing(items, after="t3_s099")))
    result = connector(api, clock, brands=[brand], comment_subreddits=[]).fetch_new(cursor)
    assert (result.posts, api.count("GET", SEARCH)) == ([], 1)


def test_error_mid_feed_keeps_what_was_read_and_resumes(
    api: RecordedAPI, clock: FixedClock
) -> None:
    brand = BrandConfig(name="Acme", terms=["Acme"])
    key = "search:all:(Acme)"
    cursor = json.dumps({key: {"newest": T0, "seen": {}}})
    page1 = listing([submission(f"t3_p1{i:03d}", T0 + 1000 - i) for i in range(100)], "t3_p1099")
    api.add("GET", SEARCH, Reply(200, page1), Reply(503, "busy"))
    api.add("GET", KARMA, Reply(200, {}))

    result = connector(api, clock, brands=[brand], comment_subreddits=[]).fetch_new(cursor)

    assert len(result.posts) == 100
    assert json.loads(result.cursor)[key]["backlog"] == [{"after": "t3_p1099", "floor": T0 - 900}]


# -- errors --------------------------------------------------------------------------------------


def test_429_reports_when_to_retry(api: RecordedAPI, clock: FixedClock) -> None:
    api.add(
        "GET",
        SEARCH,
        Reply(
            429,
            {"message": "Too Many Requests", "error": 429},
            {"x-ratelimit-remaining": "0", "x-ratelimit-used": "600", "x-ratelimit-reset": "120"},
        ),
    )
    reddit = connector(api, clock, comment_subreddits=[])
    with pytest.raises(RetriableSourceError) as error:
        reddit.fetch_new(None)
    assert error.value.retry_after == pytest.approx(120)
    clock.advance(seconds=20)
    with pytest.raises(RetriableSourceError) as again:
        reddit.fetch_new(None)
    assert again.value.retry_after == pytest.approx(100)
    assert api.count("GET") == 1


def test_429_with_retry_after(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, Reply(429, "slow down", {"Retry-After": "7"}))
    with pytest.raises(RetriableSourceError) as error:
        connector(api, clock, comment_subreddits=[]).fetch_new(None)
    assert error.value.retry_after == 7


def test_spent_quota_waits_for_the_reset_without_sleeping(
    api: RecordedAPI, clock: FixedClock
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "1000", "x-ratelimit-reset": "300"}
    api.add("GET", SEARCH, Reply(200, body("search_new.json"), headers))
    api.add("GET", KARMA, Reply(200, body("karma.json")))
    reddit = connector(
        api,
        clock,
        comment_subreddits=[],
        brands=[BrandConfig(name="Acme", terms=["Acme"], exclude=["anvil"])],
    )

    result = reddit.fetch_new(None)  # the karma lookup is refused locally; reach stays unknown

    assert (len(result.posts), result.quota_remaining) == (3, 0)
    assert api.count("GET", KARMA) == 0
    with pytest.raises(RetriableSourceError) as error:
        reddit.fetch_new(result.cursor)
    assert error.value.retry_after == pytest.approx(300)


def test_500_then_success_without_prawcore_retries(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, Reply(500, "oops"), Reply(200, body("search_new.json")))
    api.add("GET", KARMA, Reply(200, body("karma.json")))
    reddit = connector(
        api,
        clock,
        comment_subreddits=[],
        brands=[BrandConfig(name="A", terms=["Acme"], exclude=["anvil"])],
    )
    with pytest.raises(RetriableSourceError):
        reddit.fetch_new(None)
    assert api.count("GET", SEARCH) == 1
    assert len(reddit.fetch_new(None).posts) == 3


@pytest.mark.parametrize(
    ("path", "reply"),
    [
        (TOKEN, Reply(401, {"message": "Unauthorized", "error": 401})),
        (SEARCH, Reply(403, {"message": "Forbidden", "error": 403})),
        (TOKEN, Reply(200, {"error": "invalid_grant"})),
    ],
)
def test_rejected_credentials_are_fatal(
    api: RecordedAPI, clock: FixedClock, path: str, reply: Reply
) -> None:
    api.add("POST" if path == TOKEN else "GET", path, reply, first=True)
    with pytest.raises(FatalSourceError) as error:
        connector(api, clock, comment_subreddits=[]).fetch_new(None)
    assert error.value.credential == "client_id/client_secret"
    assert "app-secret" not in str(error.value)


@pytest.mark.parametrize(("path", "method"), [(SEARCH, "GET"), (TOKEN, "POST")])
def test_truncated_json_is_retriable(
    api: RecordedAPI, clock: FixedClock, path: str, method: str
) -> None:
    truncated = b'{"kind": "Listing", "data": {"children": [{"ki'
    api.add(method, path, Reply(200, truncated, {"Content-Type": "application/json"}), first=True)
    with pytest.raises(RetriableSourceError):
        connector(api, clock, comment_subreddits=[]).fetch_new(None)


def test_timeout_is_retriable(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, Reply(stall=True))
    with pytest.raises(RetriableSourceError, match="Timeout"):
        connector(api, clock, comment_subreddits=[], timeout_seconds=0.2).fetch_new(None)


def test_karma_failure_keeps_the_posts(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", SEARCH, Reply(200, body("search_new.json")))
    api.add("GET", KARMA, Reply(502, "bad gateway"))
    result = connector(
        api, clock, comment_subreddits=[], brands=[BrandConfig(name="A", terms=["Acme"])]
    ).fetch_new(None)
    assert len(result.posts) == 3
    assert all(p.author.followers is None for p in result.posts)


# -- engagement ----------------------------------------------------------------------------------


def test_refresh_reads_100_a_call(api: RecordedAPI, clock: FixedClock) -> None:
    api.add("GET", INFO, Reply(200, body("info.json")), repeat=True)
    names = ["t3_1cha3x1", "t1_l2b9w77"] + [f"t3_x{i:04d}" for i in range(248)] + ["bogus"]

    found = connector(api, clock).refresh_engagement(names)

    assert [len(r.param("id").split(",")) for r in api.requests if r.path == INFO] == [100, 100, 50]
    assert found == {
        "t3_1cha3x1": Engagement(likes=412, replies=88),
        "t1_l2b9w77": Engagement(likes=31),
    }


# -- recorded real responses (../shared) ---------------------------------------------------------


def serve_cassette(api: RecordedAPI, name: str, path: str | None = None) -> list[Any]:
    """Serve a praw cassette's API interactions (its token request is already served)."""
    interactions = [i for i in load_cassette(SHARED / name) if i.path != TOKEN]
    for interaction in interactions:
        api.add(interaction.method, path or interaction.path, interaction.reply)
    return interactions


@needs_shared
def test_recorded_search(api: RecordedAPI) -> None:
    (search,) = serve_cassette(api, "TestSubreddit.test_search.json", SEARCH)
    clock = FixedClock(datetime(2016, 7, 1, tzinfo=UTC))
    result = connector(
        api, clock, comment_subreddits=[], brands=[BrandConfig(name="P", terms=["praw"])]
    ).fetch_new(None)

    raw = [c["data"] for c in json.loads(search.reply.body)["data"]["children"]]
    assert sorted(p.native_id for p in result.posts) == sorted(r["name"] for r in raw)
    post = next(p for p in result.posts if p.native_id == "t3_3gpbiu")
    assert post.text.startswith("[PRAW][OAuth2Util] Problem using get_banned()")
    assert (post.author.handle, post.engagement.replies) == ("dClauzel", 21)
    assert (
        post.url
        == "https://www.reddit.com/r/redditdev/comments/3gpbiu/prawoauth2util_problem_using_get_banned_raise/"
    )
    assert post.created_at == datetime.fromtimestamp(1439370514, UTC)
    assert json.loads(result.cursor)["search:all:(praw)"]["newest"] == max(
        r["created_utc"] for r in raw
    )


@needs_shared
def test_recorded_comment_feed_is_matched_against_the_brand(api: RecordedAPI) -> None:
    (feed,) = serve_cassette(
        api, "TestSubredditListings.test_comments.json", "/r/askreddit/comments/"
    )
    raw = [c["data"] for c in json.loads(feed.reply.body)["data"]["children"]]
    api.add("GET", SEARCH, Reply(200, listing([])))
    clock = FixedClock(datetime(2016, 7, 4, tzinfo=UTC))
    brand = BrandConfig(name="Life", terms=["life", "job"])

    result = connector(api, clock, comment_subreddits=["askreddit"], brands=[brand]).fetch_new(None)

    expected = {r["name"] for r in raw if matcher(brand)(r["body"])}
    assert expected
    assert {p.native_id for p in result.posts} == expected
    post = next(p for p in result.posts if p.native_id == "t1_d4y8bdp")
    assert (post.in_reply_to, post.author.handle, post.author.native_id) == (
        "t3_4r4inc",
        "preppypuppy",
        "preppypuppy",
    )
    assert post.url == "https://www.reddit.com/r/AskReddit/comments/4r4inc/_/d4y8bdp/"


@needs_shared
def test_recorded_mentions_and_partial_redditors_give_reach(api: RecordedAPI) -> None:
    (mentions,) = serve_cassette(api, "TestInbox.test_mentions.json", SEARCH)
    api.add("GET", SEARCH, Reply(200, listing([])))  # it was recorded with limit=16: a next page
    serve_cassette(api, "TestRedditors.test_partial_redditors.json")
    clock = FixedClock(datetime(2025, 6, 1, tzinfo=UTC))
    result = connector(
        api, clock, comment_subreddits=[], brands=[BrandConfig(name="P", terms=["praw"])]
    ).fetch_new(None)

    raw = [c["data"] for c in json.loads(mentions.reply.body)["data"]["children"]]
    assert len(result.posts) == len(raw) == 16
    assert all(p.in_reply_to for p in result.posts)
    karma_request = next(r for r in api.requests if r.path == KARMA)
    assert set(karma_request.param("ids").split(",")) == {
        r["author_fullname"] for r in raw if r.get("author_fullname")
    }


@needs_shared
def test_recorded_400_error_is_fatal(api: RecordedAPI) -> None:
    serve_cassette(api, "TestRedditor.test_trophies__user_not_exist.json", SEARCH)
    with pytest.raises(FatalSourceError, match="request refused"):
        connector(api, FixedClock(NOW), comment_subreddits=[]).fetch_new(None)
