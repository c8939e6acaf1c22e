"""The pipeline: own posts kept unjudged, off-topic dropped, known posts not judged twice."""

from __future__ import annotations

from connectors.base import FetchResult
from core.clock import FixedClock
from monitor.config import parse_config
from monitor.pipeline import Pipeline
from storage.repository import Repository
from tests.factories import make_post

CONFIG = parse_config(
    {
        "brands": [
            {
                "name": "Kestrel",
                "terms": ["kestrel"],
                "exclude": ["bird"],
                "handles": {"x": ["KestrelHelp"]},
            }
        ],
        "sources": {"feed": {"type": "replay", "path": "f"}},
    }
)


def test_judgement_of_a_batch(engine, clock: FixedClock) -> None:
    pipeline = Pipeline(CONFIG, Repository(engine), clock=clock)
    posts = [
        make_post("1", "Kestrel lost my parcel and nobody answers the phone"),
        make_post("2", "a kestrel bird over the field"),
        make_post("3", "Sorry to hear that, please DM us", handle="KestrelHelp", in_reply_to="1"),
        make_post("4", "Kestrel delivered early, lovely"),
        make_post("1", "Kestrel lost my parcel and nobody answers the phone"),
    ]
    judged = {m.post.native_id: m for m in pipeline.judge_posts("feed", posts)}
    assert set(judged) == {"1", "3", "4"}
    assert judged["1"].flagged
    assert judged["1"].alert_kind == "complaint"
    assert judged["1"].reply is None  # drafted when its alert is sent (monitor/drafts.py)
    assert judged["3"].from_brand
    assert judged["3"].sentiment is None
    assert not judged["4"].flagged
    assert judged["4"].reasons


def test_posts_stored_on_an_earlier_poll_are_not_judged_again(engine, clock) -> None:
    pipeline = Pipeline(CONFIG, Repository(engine), clock=clock)
    batch = [make_post("1", "Kestrel refund still missing"), make_post("2", "Kestrel ok")]
    first = pipeline.process("feed", FetchResult(posts=batch, cursor="2"))
    assert first.inserted == 2
    assert pipeline.judge_posts("feed", [*batch, make_post("3", "Kestrel again")]) != []
    assert [m.post.native_id for m in pipeline.judge_posts("feed", batch)] == []


def test_a_competitor_is_judged_and_stored_but_never_alerted(engine, clock) -> None:
    config = parse_config(
        {
            "brands": [
                {"name": "Kestrel", "terms": ["kestrel"]},
                {"name": "Osprey", "terms": ["osprey"], "competitor": True},
            ],
            "sources": {"feed": {"type": "replay", "path": "f"}},
        }
    )
    pipeline = Pipeline(config, Repository(engine), clock=clock)
    text = "{} lost my parcel and nobody answers the phone"
    posts = [make_post("1", text.format("Kestrel")), make_post("2", text.format("Osprey"))]
    stored = pipeline.process("feed", FetchResult(posts=posts, cursor="2"))
    judged = {
        m.post.native_id: m
        for m in pipeline.judge_posts("feed", [make_post("3", text.format("Osprey"))])
    }
    assert judged["3"].flagged  # the same judgement as the brand's own
    assert judged["3"].category == "delivery"
    assert (judged["3"].alert_kind, judged["3"].tracking) == (None, False)
    assert stored.alerts_queued == 1  # Kestrel's complaint only
