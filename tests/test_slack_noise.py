"""Noise control: per-channel rate limit rolled into one summary, quiet hours, snooze."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from core.clock import FixedClock
from monitor.config import QuietHours
from monitor.slack.noise import QuietHoursWindow
from monitor.slack.store import SlackStore
from storage.repository import Repository
from tests.fake_slack import (
    FakeSlack,
    all_alerts,
    queue_update,
    seed_complaint,
    slack_dispatcher,
)

LONDON = ZoneInfo("Europe/London")


# -- quiet hours arithmetic ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "now", "until"),
    [
        ("22:00", "07:00", "2026-11-16T23:30", "2026-11-17T07:00"),
        ("22:00", "07:00", "2026-11-17T06:59", "2026-11-17T07:00"),
        ("22:00", "07:00", "2026-11-17T07:00", None),
        ("22:00", "07:00", "2026-11-16T21:59", None),
        ("12:00", "14:00", "2026-11-16T12:00", "2026-11-16T14:00"),
        ("12:00", "14:00", "2026-11-16T14:30", None),
        # the night the clocks go back in London: 07:00 GMT, not 07:00 BST
        ("22:00", "07:00", "2026-10-24T23:00", "2026-10-25T07:00"),
    ],
)
def test_quiet_hours_window(start: str, end: str, now: str, until: str | None) -> None:
    window = QuietHoursWindow(
        QuietHours(start=time.fromisoformat(start), end=time.fromisoformat(end)), LONDON
    )
    at = datetime.fromisoformat(now).replace(tzinfo=LONDON).astimezone(UTC)
    expected = datetime.fromisoformat(until).replace(tzinfo=LONDON) if until else None
    assert window.until(at) == expected


# -- rate limit and summary ------------------------------------------------------------------


def test_alerts_over_the_rate_limit_roll_into_one_summary(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    for n in range(6):
        seed_complaint(repo, clock.now(), str(n), f"kestrel post {n}", handle=f"user{n}")
    dispatcher = slack_dispatcher(
        fake, engine, clock, rate_limit={"max_messages": 3, "per_minutes": 10}
    )
    assert dispatcher.dispatch() == 6
    top = fake.top_level("C0SUPPORT")
    assert len(top) == 4
    summary = top[-1]
    assert summary["blocks"][0]["text"]["text"] == "🧺 3 more alerts (rate limit)"
    rows = summary["blocks"][2:]
    assert [row["text"]["text"].split("*")[1] for row in rows] == ["@user3", "@user4", "@user5"]
    alert_ids = [a.id for a in all_alerts(repo)][3:]
    # each rolled-up post keeps its actions, as a menu naming the post's alert
    assert [row["accessory"]["options"][0]["value"] for row in rows] == [
        f"brandmon:acknowledge|{alert_id}" for alert_id in alert_ids
    ]
    assert len(fake.calls_to("chat.update")) == 2
    assert [a.ts for a in all_alerts(repo)][3:] == [summary["ts"]] * 3


def test_the_window_slides_and_escalations_skip_the_queue(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    dispatcher = slack_dispatcher(
        fake, engine, clock, rate_limit={"max_messages": 1, "per_minutes": 10}
    )
    seed_complaint(repo, clock.now(), "1")
    seed_complaint(repo, clock.now(), "2")
    hot = seed_complaint(repo, clock.now(), "3")
    repo.record_engagement(hot, None, at=clock.now(), next_refresh_at=None, risk=90)
    dispatcher.dispatch()
    kinds = [m["blocks"][0]["text"]["text"] for m in fake.top_level("C0SUPPORT")]
    assert kinds == [
        "🟡 Complaint · Kestrel",
        "🧺 1 more alert (rate limit)",
        "🔴 Escalation · Kestrel",
    ]
    clock.advance(minutes=11)
    seed_complaint(repo, clock.now(), "4")
    dispatcher.dispatch()
    assert fake.top_level("C0SUPPORT")[-1]["blocks"][0]["text"]["text"].startswith("🟡 Complaint")


def test_summarised_post_that_escalates_gets_its_own_message(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    dispatcher = slack_dispatcher(
        fake, engine, clock, rate_limit={"max_messages": 1, "per_minutes": 10}
    )
    seed_complaint(repo, clock.now(), "1")
    quiet = seed_complaint(repo, clock.now(), "2")
    dispatcher.dispatch()
    queue_update(repo, clock.now(), quiet, risk=70)
    dispatcher.dispatch()
    assert len(fake.top_level("C0SUPPORT")) == 2  # the update only refreshed the summary
    queue_update(repo, clock.now(), quiet, risk=93, escalate=True)
    dispatcher.dispatch()
    last = fake.top_level("C0SUPPORT")[-1]
    assert last["text"].startswith("<!here> 🔴 Escalation")
    assert SlackStore(engine).root_for_mention(quiet).ts == last["ts"]


# -- quiet hours in the outbox ---------------------------------------------------------------


def test_quiet_hours_hold_alerts_without_using_up_attempts(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    dispatcher = slack_dispatcher(
        fake, engine, clock, quiet_hours={"start": "11:00", "end": "13:00"}
    )
    seed_complaint(repo, clock.now(), "1")
    for _ in range(3):
        assert dispatcher.dispatch() == 0
    (alert,) = all_alerts(repo)
    assert (alert.status, alert.attempts) == ("pending", 0)
    assert alert.next_attempt_at == datetime(2026, 11, 16, 13, 0, tzinfo=UTC)
    assert fake.calls == []
    clock.set(alert.next_attempt_at)
    assert dispatcher.dispatch() == 1


def test_escalations_only_lets_escalations_through_and_holds_the_rest(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    quiet = {"start": "11:00", "end": "13:00", "policy": "escalations_only"}
    dispatcher = slack_dispatcher(fake, engine, clock, quiet_hours=quiet)
    hot = seed_complaint(repo, clock.now(), "1")
    seed_complaint(repo, clock.now(), "2")
    queue_update(repo, clock.now(), hot, risk=95, escalate=True)
    assert dispatcher.dispatch() == 2  # the hot post's complaint and its update
    assert len(fake.top_level("C0SUPPORT")) == 1
    assert fake.calls_to("chat.postMessage")[0].args["text"].startswith("<!here> 🔴 Escalation")
    assert [a.status for a in all_alerts(repo)] == ["sent", "pending", "sent"]
    clock.set(datetime(2026, 11, 16, 13, 0, tzinfo=UTC))
    assert dispatcher.dispatch() == 1
    assert len(fake.top_level("C0SUPPORT")) == 2


def test_operations_alerts_are_never_held(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    repo.queue_alert(
        dedupe_key="ops",
        kind="operations",
        at=clock.now(),
        payload={"source": "x", "problem": "401", "check": "token"},
    )
    dispatcher = slack_dispatcher(
        fake, engine, clock, ops_channel="C0OPS", quiet_hours={"start": "11:00", "end": "13:00"}
    )
    assert dispatcher.dispatch() == 1
    assert len(fake.top_level("C0OPS")) == 1


def test_snoozed_post_holds_its_updates_but_not_escalations(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    dispatcher = slack_dispatcher(fake, engine, clock)
    mention = seed_complaint(repo, clock.now(), "1")
    dispatcher.dispatch()
    store = SlackStore(engine)
    root = store.root_for_mention(mention)
    until = clock.now() + timedelta(hours=1)
    store.record_action(
        root.id,
        status="snoozed",
        user_id="U0AGENT",
        user_name=None,
        at=clock.now(),
        snoozed_until=until,
    )
    queue_update(repo, clock.now(), mention, risk=70)
    assert dispatcher.dispatch() == 0
    queue_update(repo, clock.now(), mention, risk=96, escalate=True)
    assert dispatcher.dispatch() == 1
    clock.set(until)
    assert dispatcher.dispatch() == 1
    assert len(fake.thread("C0SUPPORT", root.ts)) == 2
