"""Routes through the real Slack client and the fake Slack: escalation flags and scams go
where the config says, pinging who it says, with the post and what to do."""

from __future__ import annotations

from sqlalchemy import Engine

from core.clock import FixedClock
from monitor.alerts import Dispatcher
from monitor.slack import SlackSink
from storage.repository import NewMention, Repository
from tests.fake_slack import FakeSlack, all_alerts, iter_texts, make_post, slack_config


def _store(repo: Repository, clock: FixedClock, kind: str, **mention: object) -> None:
    repo.store_batch(
        source="feed",
        mentions=[
            NewMention(
                post=make_post("1", "Kestrel charger melted, fire waiting to happen"),
                brand="Kestrel",
                source="feed",
                alert_kind=kind,
                **mention,  # type: ignore[arg-type]
            )
        ],
        cursor=None,
        fetched_at=clock.now(),
    )


def _send(fake: FakeSlack, engine: Engine, clock: FixedClock, **alerting: object) -> None:
    sink = SlackSink(slack_config(fake, alerting=alerting), engine, clock=clock)
    sent = Dispatcher(Repository(engine), sink, clock=clock).dispatch()
    assert sent == 1, [(a.status, a.last_error) for a in all_alerts(Repository(engine))]


def test_a_safety_complaint_goes_to_the_escalation_channel_with_a_ping_and_a_to_do(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    _store(repo, clock, "complaint", flagged=True, intent="complaint", severity=3,
           risks=["safety"], category="product_quality")  # fmt: skip
    _send(fake, engine, clock, escalation={"channel": "C0ESCALATE", "ping": "S0SAFETY"})
    assert fake.top_level("C0SUPPORT") == []
    (message,) = fake.top_level("C0ESCALATE")
    texts = list(iter_texts(message["blocks"]))
    assert any(t.startswith("<!subteam^S0SAFETY> *Safety risk:* check whether") for t in texts)
    assert ">Kestrel charger melted, fire waiting to happen" in texts
    assert message["text"].startswith("<!subteam^S0SAFETY>")


def test_impersonation_goes_to_the_security_channel_as_a_warning(
    fake: FakeSlack, engine: Engine, repo: Repository, clock: FixedClock
) -> None:
    _store(repo, clock, "security", intent="spam", reasons=["impersonation or phishing: x"])
    _send(
        fake, engine, clock,
        brands={"Kestrel": {"security_channel": "C0SECURITY", "security_ping": "here"}},
    )  # fmt: skip
    (message,) = fake.top_level("C0SECURITY")
    assert message["blocks"][0]["text"]["text"].startswith("🛡️ Security: Impersonation")
    assert message["text"].startswith("<!here>")
