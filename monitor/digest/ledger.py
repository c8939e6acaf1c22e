"""The digest ledger: who sends which brand's week, and what became of it (`digest_runs`).

Claiming is an INSERT that does nothing when the (brand, week) row exists, so of two daemons
sharing one PostgreSQL, or a daemon restarted on Monday morning, exactly one gets the row.
Taking over an existing row is one conditional UPDATE (a retry that is due, or a send that
was abandoned mid-way: its claim is older than the lease) and again only one caller's UPDATE
matches. Attempts are counted when claimed, before sending, so a crash is still counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import DigestRun

LEASE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Claim:
    run_id: int
    attempts: int


def _insert(engine: Engine) -> Any:
    return (postgresql if engine.dialect.name == "postgresql" else sqlite).insert(DigestRun)


def claim(
    engine: Engine, *, brand: str, week: str, now: datetime, force: bool = False
) -> Claim | None:
    """Take (brand, week) for sending now, or None when it is sent, due later or in hand.

    `force` (a person's explicit `--send`) also takes rows already sent, failed or waiting
    for their retry time; never one that another process is sending right now.
    """
    row = {"brand": brand, "week": week, "status": "sending", "attempts": 1, "claimed_at": now}
    statement = (
        _insert(engine)
        .values(row)
        .on_conflict_do_nothing(index_elements=["brand", "week"])
        .returning(DigestRun.id)
    )
    with engine.begin() as conn:
        run_id = conn.execute(statement).scalar()
        if run_id is not None:
            return Claim(run_id, 1)
        takeover = or_(
            and_(DigestRun.status == "retry", DigestRun.next_attempt_at <= now),
            and_(DigestRun.status == "sending", DigestRun.claimed_at <= now - LEASE),
        )
        if force:
            takeover = or_(takeover, DigestRun.status.in_(["retry", "sent", "failed"]))
        taken = conn.execute(
            update(DigestRun)
            .where(DigestRun.brand == brand, DigestRun.week == week, takeover)
            .values(
                status="sending",
                attempts=DigestRun.attempts + 1,
                claimed_at=now,
                next_attempt_at=None,
            )
        )
        if taken.rowcount != 1:
            return None
        found = conn.execute(
            select(DigestRun.id, DigestRun.attempts).where(
                DigestRun.brand == brand, DigestRun.week == week
            )
        ).one()
        return Claim(found.id, found.attempts)


def mark_sent(engine: Engine, run_id: int, *, at: datetime, recipients: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id)
            .values(status="sent", sent_at=at, last_error=None, recipients=", ".join(recipients))
        )


def mark_failed(engine: Engine, run_id: int, *, error: str, retry_at: datetime | None) -> None:
    """Record a failed attempt: retry at `retry_at`, or give up (status failed) when None."""
    with engine.begin() as conn:
        conn.execute(
            update(DigestRun)
            .where(DigestRun.id == run_id)
            .values(
                status="retry" if retry_at else "failed",
                next_attempt_at=retry_at,
                last_error=error[:2000],
            )
        )


def run(engine: Engine, *, brand: str, week: str) -> DigestRun | None:
    """The ledger row of (brand, week), for status displays and tests."""
    with Session(engine) as session:
        return session.scalar(
            select(DigestRun).where(DigestRun.brand == brand, DigestRun.week == week)
        )
