"""The digest ledger: one claim per brand and week, retries when due, abandoned sends, --send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from monitor.digest import ledger

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def _claim(engine: Engine, at: datetime = NOW, **options: bool) -> ledger.Claim | None:
    return ledger.claim(engine, brand="Kestrel", week="2026-W47", now=at, **options)


def test_only_the_first_claim_wins(engine: Engine) -> None:
    first = _claim(engine)
    assert first is not None
    assert first.attempts == 1
    assert _claim(engine) is None
    assert ledger.claim(engine, brand="Other", week="2026-W47", now=NOW) is not None
    assert ledger.claim(engine, brand="Kestrel", week="2026-W48", now=NOW) is not None


@pytest.mark.parametrize(
    ("status", "retry_in", "later", "taken"),
    [
        ("retry", timedelta(minutes=5), timedelta(minutes=4), False),
        ("retry", timedelta(minutes=5), timedelta(minutes=5), True),
        ("sent", None, timedelta(days=1), False),
        ("failed", None, timedelta(days=1), False),
    ],
)
def test_taking_over_an_existing_row(
    engine: Engine, status: str, retry_in: timedelta | None, later: timedelta, taken: bool
) -> None:
    claim = _claim(engine)
    assert claim is not None
    if status == "sent":
        ledger.mark_sent(engine, claim.run_id, at=NOW, recipients=["m@example.com"])
    else:
        retry_at = NOW + retry_in if retry_in else None
        ledger.mark_failed(engine, claim.run_id, error="boom", retry_at=retry_at)
    again = _claim(engine, NOW + later)
    assert (again is not None) is taken
    if again is not None:
        assert again.attempts == 2


def test_an_abandoned_send_is_taken_over_after_the_lease(engine: Engine) -> None:
    assert _claim(engine) is not None  # claimed, then the process died before recording
    assert _claim(engine, NOW + ledger.LEASE - timedelta(seconds=1)) is None
    again = _claim(engine, NOW + ledger.LEASE)
    assert again is not None
    assert again.attempts == 2


def test_force_resends_a_sent_week_but_never_one_in_hand(engine: Engine) -> None:
    claim = _claim(engine)
    assert claim is not None
    assert _claim(engine, force=True) is None  # someone is sending it right now
    ledger.mark_sent(engine, claim.run_id, at=NOW, recipients=["m@example.com"])
    forced = _claim(engine, NOW + timedelta(hours=1), force=True)
    assert forced is not None
    assert forced.attempts == 2
    run = ledger.run(engine, brand="Kestrel", week="2026-W47")
    assert run is not None
    assert run.status == "sending"
