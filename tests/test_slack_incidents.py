"""Incidents and conversations in Slack (real slack_sdk client, fake Slack): a burst of
complaints is one incident whose complaints go to its thread; a customer's follow-up to the
brand's reply goes to the original post's thread, which then says who answered and when;
rolled-up posts keep their actions."""

from __future__ import annotations

from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import Engine, select

from core.clock import FixedClock
from monitor.incidents import IncidentWatch
from monitor.slack.actions import ActionHandler
from monitor.slack.store import SlackStore
from storage.models import Alert, SlackMessage
from storage.repository import NewMention, Repository
from tests.factories import make_post
from tests.fake_slack import (
    BOT_TOKEN,
    FakeSlack,
    all_alerts,
    button_payload,
    iter_texts,
    seed_complaint,
    slack_config,
    slack_dispatcher,
)

INCIDENT = {"incident": {"burst_posts": 3, "burst_minutes": 20}}


def _burst(repo: Repository, clock: FixedClock, n: int = 3) -> None:
    for i in range(n):
        seed_complaint(
            repo, clock.now(), f"o{i}", f"kestrel fibre down in Leeds {i}", handle=f"cust{i}",
            minutes=(clock.now() - timedelta(minutes=5 - i) - _t0()).total_seconds() / 60,
        )  # fmt: skip


def _t0():
    from tests.factories import T0

    return T0


def test_a_burst_is_one_incident_and_its_complaints_go_to_its_thread(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    _burst(repo, clock)
    config = slack_config(fake, alerting=INCIDENT)
    watch = IncidentWatch(config, repo, clock=clock)
    assert watch.check() == 1
    assert watch.check() == 0  # one incident, not one per check
    # the hour's own spike, judged later, joins the incident
    repo.queue_alert(
        dedupe_key="spike:Kestrel:mentions:2026-11-16T11",
        kind="spike",
        at=clock.now(),
        brand="Kestrel",
        payload={"metric": "mentions", "observed": 40, "expected": 9},
    )
    dispatcher = slack_dispatcher(fake, engine, clock, alerting=INCIDENT)
    assert dispatcher.dispatch() == 5
    top = fake.top_level("C0SUPPORT")
    assert len(top) == 1  # the incident; nothing else in the channel
    incident = top[0]
    text = "\n".join(iter_texts(incident["blocks"]))
    assert "3 complaints in the last 20 minutes" in text
    assert "*Where*\nLeeds (3)" in text
    assert "*@cust0*" in text
    thread = fake.thread("C0SUPPORT", incident["ts"])
    posts = [m for m in thread if m["ts"] != incident["ts"]]
    assert len(posts) == 4
    texts = ["\n".join(iter_texts(post["blocks"])) for post in posts]
    assert sum("40* mentions in the hour" in text for text in texts) == 1
    complaints = [p for p, text in zip(posts, texts, strict=True) if "Complaint" in text]
    assert len(complaints) == 3
    for post in complaints:  # each complaint keeps its buttons
        assert any(b.get("block_id") == "brandmon_actions" for b in post["blocks"])
    with repo.sessions() as session:
        threaded = session.scalars(
            select(SlackMessage).where(SlackMessage.mention_id.is_not(None))
        ).all()
    assert {m.thread_ts for m in threaded} == {incident["ts"]}


def test_without_an_incident_complaints_stay_in_the_channel(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    _burst(repo, clock, n=2)  # below the burst
    assert IncidentWatch(slack_config(fake, alerting=INCIDENT), repo, clock=clock).check() == 0
    assert slack_dispatcher(fake, engine, clock, alerting=INCIDENT).dispatch() == 2
    assert len(fake.top_level("C0SUPPORT")) == 2


def test_a_follow_up_to_the_brands_reply_goes_to_the_original_thread(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    seed_complaint(repo, clock.now(), "p1", "kestrel alarm line down for 16 days", handle="ann")
    dispatcher = slack_dispatcher(fake, engine, clock)
    assert dispatcher.dispatch() == 1
    reply = make_post("b1", "@ann so sorry", handle="KestrelHelp", minutes=34, in_reply_to="p1")
    repo.store_batch(
        source="feed",
        mentions=[NewMention(post=reply, brand="Kestrel", source="feed", from_brand=True)],
        cursor=None,
        fetched_at=clock.now(),
    )
    seed_complaint(
        repo, clock.now(), "f1", "@KestrelHelp still no engineer", handle="ann",
        minutes=50, in_reply_to="b1",
    )  # fmt: skip
    assert dispatcher.dispatch() == 1
    top = fake.top_level("C0SUPPORT")
    assert len(top) == 1  # no new alert in the channel
    thread = fake.thread("C0SUPPORT", top[0]["ts"])
    assert any("still no engineer" in t for m in thread for t in iter_texts(m["blocks"]))
    original = fake.message("C0SUPPORT", top[0]["ts"])
    assert "answered by @KestrelHelp after 34 min" in "\n".join(iter_texts(original["blocks"]))


def test_a_rolled_up_post_can_be_acted_on(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    for n in range(3):
        seed_complaint(repo, clock.now(), str(n), f"kestrel post {n}", handle=f"user{n}")
    limit = {"max_messages": 1, "per_minutes": 10}
    assert slack_dispatcher(fake, engine, clock, rate_limit=limit).dispatch() == 3
    summary = fake.top_level("C0SUPPORT")[-1]
    last = all_alerts(repo)[-1]
    press = button_payload("C0SUPPORT", summary["ts"], "brandmon:item")
    press["actions"][0] = {
        "type": "overflow",
        "action_id": "brandmon:item",
        "selected_option": {"value": f"brandmon:resolve|{last.id}"},
    }
    client = WebClient(token=BOT_TOKEN, base_url=fake.base_url)
    config = slack_config(fake, rate_limit=limit)
    handler = ActionHandler(
        SlackStore(engine), client, clock=clock, snooze=timedelta(hours=1),
        limit=config.alerting.slack.rate_limit,
    )  # fmt: skip
    assert handler.handle(press) == 1
    with repo.sessions() as session:
        row = session.scalars(select(SlackMessage).where(SlackMessage.alert_id == last.id)).one()
        assert session.get(Alert, last.id) is not None
    assert row.status == "resolved"
    redrawn = "\n".join(iter_texts(fake.message("C0SUPPORT", summary["ts"])["blocks"]))
    assert "Resolved by" in redrawn
