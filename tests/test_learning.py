"""Each brand's judgement learns from its team: labels, the correction, the scheduled job."""

from __future__ import annotations

from sqlalchemy import Engine

from core.clock import FixedClock
from monitor.config import AppConfig
from monitor.learning import BrandLearner
from monitor.pipeline import Pipeline
from rules.brand_model import Adjustment
from rules.judge import Judge
from storage.labels import LabelStore
from storage.models import MentionLabel
from storage.repository import NewMention, Repository
from tests.factories import make_post

# A brand whose name is also a lager: its team says posts about the beer are not complaints,
# and that "status?" chasers about an order are (the shipped model calls them questions).
BEER = [f"the kestrel lager at the pub tonight was flat and warm, round {n}" for n in range(15)]
REAL = [f"@KestrelHelp order {n} status?" for n in range(15)]


def config(min_labels: int = 20) -> AppConfig:
    return AppConfig.model_validate(
        {
            "brands": [
                {"name": "Kestrel", "terms": ["kestrel"], "handles": {"x": ["KestrelHelp"]}}
            ],
            "sources": {"feed": {"type": "replay", "path": "feed.jsonl"}},
            "learning": {"min_labels": min_labels},
        }
    )


def store(repo: Repository, texts: list[str], *, start: int = 0) -> None:
    mentions = [
        NewMention(post=make_post(f"p{start + i}", text), brand="Kestrel", source="feed")
        for i, text in enumerate(texts)
    ]
    repo.store_batch(
        source="feed", mentions=mentions, cursor=None, fetched_at=make_post("x").created_at
    )


def label(engine: Engine, clock: FixedClock, label_name: str, native_ids: list[str]) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from storage.models import Mention

    with Session(engine) as session, session.begin():
        for native_id in native_ids:
            mention_id = session.scalar(select(Mention.id).where(Mention.native_id == native_id))
            session.add(
                MentionLabel(
                    mention_id=mention_id, label=label_name, source="slack", at=clock.now()
                )
            )


def test_team_labels_come_from_people_and_from_the_brands_replies(
    engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    store(repo, ["beer post", "late parcel", "answered post", "answered and dismissed"])
    reply = make_post("r1", "sorry about that", handle="KestrelHelp", in_reply_to="p2")
    reply2 = make_post("r2", "hi", handle="KestrelHelp", in_reply_to="p3")
    repo.store_batch(
        source="feed",
        mentions=[
            NewMention(post=reply, brand="Kestrel", source="feed", from_brand=True),
            NewMention(post=reply2, brand="Kestrel", source="feed", from_brand=True),
        ],
        cursor=None,
        fetched_at=clock.now(),
    )
    label(engine, clock, "not_complaint", ["p0", "p3"])
    label(engine, clock, "complaint", ["p1"])
    labels = {(t.text, t.complaint) for t in LabelStore(engine).team_labels("Kestrel")}
    assert labels == {
        ("beer post", False),
        ("late parcel", True),
        ("answered post", True),
        ("answered and dismissed", False),  # people's "not a complaint" wins over a reply
    }


def test_a_brands_labels_move_its_judgement_and_no_other(
    engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    store(repo, BEER + REAL)
    label(engine, clock, "not_complaint", [f"p{i}" for i in range(15)])
    label(engine, clock, "complaint", [f"p{i}" for i in range(15, 30)])
    learner = BrandLearner(config(), LabelStore(engine), clock=clock)
    judge = Judge(brand_terms=["Kestrel"], brand_handles=["KestrelHelp"])
    probe = "@KestrelHelp order 4471 status?"
    before = judge.judge(probe).complaint_score
    learned = learner.learn("Kestrel", judge)
    assert learned.labels == 30
    assert learned.adjustment is not None
    judge.adjustment = learned.adjustment
    assert judge.judge(probe).complaint_score > before + 0.2
    assert judge.judge(probe).flagged
    assert not judge.judge("the kestrel lager was flat and warm again").flagged
    assert Judge().judge(probe).complaint_score == before  # the shipped model is unchanged


def test_learning_waits_for_enough_labels_and_skips_when_nothing_is_new(
    engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    store(repo, BEER + REAL)
    label(engine, clock, "not_complaint", [f"p{i}" for i in range(15)])
    learner = BrandLearner(config(min_labels=20), LabelStore(engine), clock=clock)
    judge = Judge()
    assert learner.learn("Kestrel", judge).adjustment is None  # 15 < 20
    label(engine, clock, "complaint", [f"p{i}" for i in range(15, 30)])
    assert learner.learn("Kestrel", judge).adjustment is not None
    clock.advance(hours=1)
    assert learner.learn("Kestrel", judge).adjustment is None  # the same 30 labels
    stored = learner.stored("Kestrel")
    assert isinstance(stored, Adjustment)
    assert stored.labels == 30


def test_the_pipeline_judges_with_the_brands_correction(
    engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    store(repo, BEER + REAL)
    label(engine, clock, "not_complaint", [f"p{i}" for i in range(15)])
    label(engine, clock, "complaint", [f"p{i}" for i in range(15, 30)])
    pipeline = Pipeline(config(), repo, clock=clock)
    learned = BrandLearner(config(), LabelStore(engine), clock=clock).learn(
        "Kestrel", pipeline.judge_for("Kestrel")
    )
    pipeline.judge_for("Kestrel").adjustment = learned.adjustment
    judged = pipeline.judge_posts("feed", [make_post("new", "@KestrelHelp order 8812 status?")])
    assert judged[0].flagged
