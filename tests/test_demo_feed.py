"""The bundled demo feed stays a valid, complete replay of one day.

The demo, the e2e tests and the README walkthrough all lean on particular posts being there
(the outage burst, the viral complaint, the hostile markup), so a careless edit should fail here
rather than in a demo that quietly shows nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

FEED = Path(__file__).resolve().parents[1] / "demo" / "feed.jsonl"
START = datetime(2026, 11, 16, tzinfo=UTC)
END = START + timedelta(days=1)

Post = dict[str, Any]


def _time(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def posts() -> list[Post]:
    with FEED.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def test_enough_posts_with_unique_ids(posts: list[Post]) -> None:
    ids = [p["id"] for p in posts]
    assert len(posts) >= 400
    assert len(ids) == len(set(ids))


def test_required_fields_present(posts: list[Post]) -> None:
    for post in posts:
        assert isinstance(post["text"], str), post["id"]
        assert all(post["author"][key] for key in ("id", "handle")), post["id"]


def test_timestamps_are_utc_inside_the_day_and_sorted(posts: list[Post]) -> None:
    times = [_time(p["created_at"]) for p in posts]
    assert all(START <= t < END for t in times)
    assert times == sorted(times)


def test_snapshots_come_after_the_post_and_increase(posts: list[Post]) -> None:
    for post in posts:
        times = [_time(s["at"]) for s in post.get("snapshots") or ()]
        assert times == sorted(set(times)), post["id"]
        assert all(t > _time(post["created_at"]) for t in times), post["id"]


def test_replies_point_at_earlier_posts(posts: list[Post]) -> None:
    by_id = {p["id"]: p for p in posts}
    for post in posts:
        parent = post.get("in_reply_to")
        if parent is not None:
            assert _time(by_id[parent]["created_at"]) < _time(post["created_at"]), post["id"]


def test_brand_replies_measure_a_response_time(posts: list[Post]) -> None:
    by_id = {p["id"]: p for p in posts}
    replies = [p for p in posts if p["author"]["handle"] == "KestrelHelp" and p["in_reply_to"]]
    assert len(replies) >= 25
    for reply in replies:
        waited = _time(reply["created_at"]) - _time(by_id[reply["in_reply_to"]]["created_at"])
        assert timedelta(minutes=5) <= waited <= timedelta(minutes=180), reply["id"]


def test_outage_hour_is_a_burst(posts: list[Post]) -> None:
    def in_hour(hour: int) -> int:
        return sum(_time(p["created_at"]).hour == hour for p in posts)

    assert in_hour(14) >= 40
    assert in_hour(14) >= 2 * max(in_hour(h) for h in range(24) if h != 14)


def _viral(p: Post) -> bool:
    snaps = p.get("snapshots") or []
    return bool(snaps) and p["author"]["followers"] >= 80_000 and snaps[-1]["reposts"] >= 2000


def _has(fragment: str) -> Callable[[Post], bool]:
    return lambda p: fragment in p["text"]


def _lang(code: str) -> Callable[[Post], bool]:
    return lambda p: p.get("lang") == code


@pytest.mark.parametrize(
    ("kind", "wanted", "minimum"),
    [
        ("ping the channel", _has("<!channel>"), 2),
        ("ping here", _has("<!here>"), 1),
        ("mention a Slack user", _has("<@U"), 1),
        ("disguised link", _has("<https://evil.example"), 2),
        ("code fence", _has("```"), 1),
        ("script tag", _has("<script>"), 1),
        ("HTML entity", _has("&amp;"), 1),
        ("zero-width space", _has("\u200b"), 1),
        ("right-to-left mark", _has("\u200f"), 1),
        ("combining accent", _has("\u0301"), 1),
        ("German", _lang("de"), 3),
        ("French", _lang("fr"), 3),
        ("Spanish", _lang("es"), 3),
        ("Dutch", _lang("nl"), 3),
        ("Polish", _lang("pl"), 3),
        ("Reddit", lambda p: p.get("network") == "reddit", 10),
        ("off-topic bird", _has("hovering"), 3),
        ("off-topic lager", _has("lager"), 2),
        ("growing engagement", lambda p: len(p.get("snapshots") or ()) >= 6, 3),
        ("viral complaint", _viral, 1),
        ("very long", lambda p: len(p["text"]) >= 5000, 1),
        ("empty-ish", lambda p: not p["text"].replace("@KestrelHelp", "").strip(" \u200b"), 1),
    ],
)
def test_every_kind_is_present(
    posts: list[Post], kind: str, wanted: Callable[[Post], bool], minimum: int
) -> None:
    assert sum(map(wanted, posts)) >= minimum, kind
