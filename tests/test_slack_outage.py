"""An hour of Slack down (503s, then 429 storms) under the real daemon on an injected clock,
then Slack back: every alert arrives exactly once and none is marked failed."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine

from core.clock import FixedClock
from monitor.config import parse_config
from monitor.daemon import Daemon
from monitor.sinks import build_sink
from tests.factories import T0, feed_record, write_feed
from tests.fake_slack import FakeSlack, Scripted, all_alerts, slack_config

COMPLAINTS = [
    "Kestrel lost my parcel and nobody answers the phone. Useless.",
    "@Kestrel on hold for 2 hours again, worst customer service ever",
    "Kestrel charged me twice and support keeps closing my ticket",
]
DOWN = Scripted(status=503, body=None)
STORM = Scripted(
    status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "5"}
)


def _daemon(fake: FakeSlack, engine: Engine, clock: FixedClock, feed: Path) -> Daemon:
    # no roll-up into a summary and no incident thread: each alert must be its own
    # top-level message, to be counted
    config = slack_config(fake, rate_limit={"max_messages": 1000})
    incident = config.alerting.incident.model_copy(update={"burst_posts": 0})
    config = config.model_copy(
        update={"alerting": config.alerting.model_copy(update={"incident": incident})}
    )
    config = config.model_copy(
        update={
            "sources": parse_config(
                {
                    "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
                    "sources": {"feed": {"type": "replay", "path": str(feed)}},
                }
            ).sources
        }
    )
    sink = build_sink(config, out=io.StringIO(), engine=engine, clock=clock)
    return Daemon(config, clock=clock, engine=engine, sink=sink)


def test_an_hour_of_slack_down_then_back_delivers_every_alert_once(
    fake: FakeSlack, engine: Engine, clock: FixedClock, tmp_path: Path
) -> None:
    clock.set(T0)
    posts = [
        feed_record(str(n), COMPLAINTS[n % 3] + f" (order {n})", minutes=n, handle=f"c{n}")
        for n in range(60)
    ]
    daemon = _daemon(fake, engine, clock, write_feed(tmp_path / "feed.jsonl", posts))
    for minute in range(60):  # posts keep arriving while Slack is down
        fake.outage = DOWN if minute % 20 < 10 else STORM
        clock.advance(minutes=1)
        daemon.run_once()
    during = len(fake.calls)
    alerts = all_alerts(daemon.repository)
    assert alerts
    assert all(a.status == "pending" for a in alerts)
    assert fake.top_level("C0SUPPORT") == []
    fake.outage = None
    for _ in range(15):  # back: the pauses and backoffs (5 min at most) run out
        clock.advance(minutes=1)
        daemon.run_once()
    alerts = all_alerts(daemon.repository)
    complaints = [a for a in alerts if a.kind == "complaint"]
    assert len(complaints) >= 40  # most of the 60 posts are flagged complaints
    assert Counter(a.status for a in alerts) == {"sent": len(alerts)}  # none failed
    messages = fake.top_level("C0SUPPORT")
    sent_ids = [m["metadata"]["event_payload"]["alert_id"] for m in messages]
    assert sorted(sent_ids) == sorted({a.id for a in alerts if a.kind == "complaint"})
    assert len(sent_ids) == len(set(sent_ids))  # exactly once
    assert during < 400  # an hour down cost a few calls a minute, not a storm
