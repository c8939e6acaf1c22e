"""Learning what is normal for a brand on a network from its own finished posts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.records import Engagement
from monitor.history import RELEARN, Baselines, example
from rules.viral import PRIOR
from storage.models import Mention
from storage.repository import NewMention, PastPost, Repository
from tests.factories import T0, make_post

READS = ((5, 1), (60, 3), (1440, 4), (10080, 4))


def _store(repo: Repository, native_id: str, *, network: str = "x", done: bool = True) -> None:
    post = make_post(native_id, network=network, followers=2_000)
    mention = NewMention(post=post, brand="Kestrel", source="s", flagged=True, tracking=True)
    repo.store_batch(source="s", mentions=[mention], cursor=None, fetched_at=T0)
    with repo.sessions() as session:
        mention_id = session.scalar(select(Mention.id).where(Mention.native_id == native_id))
    assert mention_id is not None
    for k, (minutes, reposts) in enumerate(READS):
        last = k == len(READS) - 1
        repo.record_engagement(
            mention_id,
            Engagement(reposts=reposts),
            at=T0 + timedelta(minutes=minutes),
            next_refresh_at=None if last and done else T0 + timedelta(days=30),
        )


def test_finished_posts_of_the_brand_on_the_network_are_examples(engine) -> None:
    repo = Repository(engine)
    for i in range(3):
        _store(repo, f"done{i}")
    _store(repo, "still-tracked", done=False)
    _store(repo, "other-network", network="reddit")
    now = T0 + timedelta(days=8)
    posts = repo.past_posts("Kestrel", "x", until=now - timedelta(days=7), since=T0)
    assert len(posts) == 3
    assert posts[0].final == 4
    assert posts[0].followers == 2_000
    assert [n for _, n in posts[0].reads] == [0, 1, 3, 4, 4]  # the stored post's own count first
    baseline = Baselines(repo).get("Kestrel", "x", now=now)
    assert baseline.examples == 3
    assert baseline.usual_at(3600.0) == 3.0
    assert baseline.typical_reach == 2_000


def test_too_young_posts_teach_nothing_and_baselines_are_relearned_hourly(engine) -> None:
    repo = Repository(engine)
    baselines = Baselines(repo)
    assert baselines.get("Kestrel", "x", now=T0 + timedelta(days=8)) == PRIOR
    _store(repo, "p1")
    assert baselines.get("Kestrel", "x", now=T0 + timedelta(days=8)) == PRIOR  # cached
    later = T0 + timedelta(days=8) + RELEARN
    assert baselines.get("Kestrel", "x", now=later).examples == 1
    young = Baselines(repo).get("Kestrel", "x", now=T0 + timedelta(days=6, hours=23))
    assert young == PRIOR  # not 7 days old yet: no outcome


def test_example_keeps_reads_before_seven_days_and_never_shrinks() -> None:
    post = PastPost(
        created_at=T0,
        followers=None,
        reads=[
            (T0, 0),
            (T0 + timedelta(minutes=5), 4),
            (T0 + timedelta(minutes=60), 3),
            (T0 + timedelta(days=7), 9),
        ],
        final=9,
    )
    ex = example(post)
    assert ex.ages_s == (300.0, 3600.0)
    assert ex.totals == (4, 4)
    assert ex.final == 9
    assert ex.followers is None
