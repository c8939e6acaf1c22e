"""Repository behaviour on SQLite and PostgreSQL: dedupe, outbox, cursors, engagement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from core.clock import FixedClock
from core.records import Engagement
from storage.models import Alert, Base, EngagementSnapshot, Mention
from storage.repository import NewMention, Repository
from tests.factories import make_post


def _mention(native_id: str, *, flagged: bool = False) -> NewMention:
    return NewMention(
        post=make_post(native_id, engagement=Engagement(likes=2)),
        brand="Kestrel",
        source="demo",
        flagged=flagged,
        tracking=flagged,
        alert_kind="complaint" if flagged else None,
    )


def test_batch_is_stored_once_with_one_alert_per_flagged_post(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    batch = [_mention("1", flagged=True), _mention("2"), _mention("1", flagged=True)]
    first = repo.store_batch(source="demo", mentions=batch, cursor="3", fetched_at=clock.now())
    again = repo.store_batch(source="demo", mentions=batch, cursor="3", fetched_at=clock.now())
    assert (first.inserted, first.alerts_queued) == (2, 1)
    assert (again.inserted, again.duplicates, again.alerts_queued) == (0, 3, 0)
    with repo.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mention)) == 2
        assert session.scalar(select(func.count()).select_from(Alert)) == 1
        assert session.scalar(select(func.count()).select_from(EngagementSnapshot)) == 1


def test_cursor_moves_with_the_batch_and_health_is_recorded(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    assert repo.cursor("demo") is None
    repo.store_batch(
        source="demo",
        mentions=[_mention("1")],
        cursor="c1",
        fetched_at=clock.now(),
        quota_remaining=42,
    )
    state = repo.source_state("demo")
    assert state is not None
    assert (state.cursor, state.items_total, state.quota_remaining) == ("c1", 1, 42)
    assert state.last_success_at == clock.now()
    failures = repo.record_failure("demo", error="boom", at=clock.now(), paused_until=None)
    assert failures == 1
    assert repo.cursor("demo") == "c1"


def test_a_later_batch_keeps_what_it_does_not_report_and_clears_a_pause(
    engine, clock: FixedClock
) -> None:
    repo = Repository(engine)
    repo.store_batch(
        source="demo",
        mentions=[_mention("1")],
        cursor="c1",
        fetched_at=clock.now(),
        quota_remaining=42,
    )
    repo.record_failure(
        "demo", error="401", at=clock.now(), paused_until=clock.now(), paused_reason="bad token"
    )
    clock.advance(minutes=5)
    repo.store_batch(
        source="demo", mentions=[_mention("2"), _mention("3")], cursor=None, fetched_at=clock.now()
    )
    state = repo.source_state("demo")
    assert state is not None
    assert (state.cursor, state.quota_remaining, state.items_total) == ("c1", 42, 3)
    assert (state.consecutive_failures, state.paused_until, state.paused_reason) == (0, None, None)
    assert state.last_poll_at == state.last_success_at == clock.now()


def test_outbox_attempts_and_marks(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    repo.store_batch(
        source="demo", mentions=[_mention("9", flagged=True)], cursor=None, fetched_at=clock.now()
    )
    (alert,) = repo.pending_alerts(clock.now())
    repo.begin_attempt(alert.id)
    repo.mark_attempt_failed(alert.id, error="503", retry_at=clock.now() + timedelta(minutes=1))
    assert repo.pending_alerts(clock.now()) == []
    (retry,) = repo.pending_alerts(clock.now() + timedelta(minutes=1))
    assert (retry.attempts, retry.last_error) == (1, "503")
    repo.mark_sent(alert.id, at=clock.now(), channel="C1", ts="1.2")
    assert repo.pending_alerts(clock.now() + timedelta(days=1)) == []
    assert repo.alert_counts() == {"sent": 1}


def test_queue_alert_is_idempotent_per_key(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    assert repo.queue_alert(dedupe_key="ops:x", kind="operations", at=clock.now())
    assert not repo.queue_alert(dedupe_key="ops:x", kind="operations", at=clock.now())


def test_engagement_refresh_records_snapshots_and_schedule(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    flagged = _mention("5", flagged=True)
    flagged.next_refresh_at = clock.now()
    repo.store_batch(source="demo", mentions=[flagged], cursor=None, fetched_at=clock.now())
    (due,) = repo.due_refreshes(clock.now())
    assert (due.native_id, due.followers) == ("5", 100)
    repo.record_engagement(
        due.mention_id, Engagement(reposts=50), at=clock.now(), next_refresh_at=None, risk=70.0
    )
    assert repo.due_refreshes(clock.now() + timedelta(days=2)) == []
    assert [s.reposts for s in repo.snapshots(due.mention_id)] == [0, 50]
    mention, author = repo.mention(due.mention_id)  # type: ignore[misc]
    assert (mention.reposts, mention.risk, mention.tracking) == (50, 70.0, False)
    assert author is not None
    assert author.handle == "someone"


def test_datetimes_come_back_timezone_aware(engine, clock: FixedClock) -> None:
    repo = Repository(engine)
    repo.store_batch(source="demo", mentions=[_mention("7")], cursor=None, fetched_at=clock.now())
    with repo.sessions() as session:
        mention = session.scalars(select(Mention)).one()
    assert mention.created_at.utcoffset() == timedelta(0)
    assert mention.fetched_at == clock.now()


def test_migrations_build_the_schema_the_models_describe(engine) -> None:
    """The models are what the code queries; the migrations are what a database gets. A model
    change without its migration (or the reverse) shows up here, on both backends."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert compare_metadata(context, Base.metadata) == []


def test_daemons_started_together_on_an_empty_database_all_start(db_url: str) -> None:
    """Migrations run under an advisory lock on PostgreSQL: four at once on an empty schema
    all succeed (without it, the losers crash creating tables the winner just made)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("the lock is PostgreSQL's; SQLite is for one daemon")
    from concurrent.futures import ThreadPoolExecutor

    from storage.db import open_database

    with ThreadPoolExecutor(4) as pool:
        engines = list(pool.map(open_database, [db_url] * 4))
    for engine in engines:
        assert Repository(engine).alert_counts() == {}
        engine.dispose()
