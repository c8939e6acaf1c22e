"""Block Kit messages: structure, fallback text, severity, and hostile posts that stay text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.slack.blocks import (
    Action,
    Severity,
    Status,
    SummaryItem,
    mention_message,
    operations_message,
    spike_message,
    status_line,
    summary_message,
    update_message,
)
from storage.models import Alert, Author, Mention
from tests.fake_slack import iter_texts

AT = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
HOSTILE = [
    "<!channel> everyone look at this",
    "<!here|here> <!everyone>",
    "hey <@U024BE7LH> and <#C0SUPPORT>",
    "<https://evil.example/phish|Kestrel refund form>",
    "<!subteam^S0SUPPORT|@support> wake up",
    "&lt;!channel&gt; pre-escaped",
    "```\n*bold* _it_ ~strike~ > not a quote",
]
# Strings that only we may produce: a hostile post must never create them.
FORBIDDEN = ("<!channel", "<!here", "<!everyone", "<@U024", "<#C0", "<https://evil", "<!subteam")


def _alert(kind: str = "complaint", **payload: Any) -> Alert:
    return Alert(id=7, kind=kind, brand="Kestrel", payload=payload, dedupe_key="k", attempts=0)


def _mention(text: str = "@Kestrel on hold for 2 hours", **extra: Any) -> Mention:
    values: dict[str, Any] = {
        "id": 3,
        "brand": "Kestrel",
        "network": "x",
        "native_id": "1",
        "text": text,
        "url": "https://x.com/ann/status/1",
        "created_at": AT,
        "sentiment": -0.71,
        "category": "wait_time",
        "reasons": ["matched: 'on hold for 2 hours'"],
        "reply": "@ann Hi Ann, sorry about being kept on hold.",
        "risk": 72.0,
        "likes": 1,
        "reposts": 1200,
        "replies": 3,
        "quotes": 0,
    }
    return Mention(**(values | extra))


def _author(**extra: Any) -> Author:
    return Author(
        **({"handle": "ann", "name": "Ann Lee", "followers": 12_345, "verified": True} | extra)
    )


def _blocks(message: Any) -> list[dict[str, Any]]:
    return message.payload()["blocks"]


def test_complaint_message_has_every_part_an_agent_needs() -> None:
    message = mention_message(_alert(), _mention(), _author(), severity=Severity.VIRAL_RISK)
    blocks = _blocks(message)
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "context",
        "section",
        "section",
        "section",
        "actions",
        "context",
    ]
    assert blocks[0]["text"]["text"] == "🟠 Viral risk · Kestrel"
    assert blocks[1]["text"]["text"] == ">@Kestrel on hold for 2 hours"
    who = blocks[2]["elements"][0]["text"]
    assert "*@ann* (Ann Lee) · 12.3k followers · verified · x · " in who
    assert "<https://x.com/ann/status/1|Open post>" in who
    fields = [f["text"] for f in blocks[3]["fields"]]
    assert fields == [
        "*Engagement*\n1 like · 1.2k reposts · 3 replies · 0 quotes",
        "*Viral risk*\n72/100",
        "*Sentiment*\n-0.71",
        "*Category*\nWait or response time",  # complaint_rules.yaml's label
        "*Priority*\nP1 urgent",
    ]
    why = blocks[4]["text"]["text"]
    assert why == (
        "*Why*\n• large audience (verified, 12,345 followers)\n"
        "• spreading: viral risk 72/100\n• matched: 'on hold for 2 hours'"
    )
    assert "```@ann Hi Ann, sorry about being kept on hold.```" in blocks[5]["text"]["text"]
    buttons = blocks[6]["elements"]
    assert [b["action_id"] for b in buttons] == [a.value for a in Action if a is not Action.ITEM]
    assert {b["value"] for b in buttons} == {"7"}
    assert "confirm" in buttons[-1]
    assert blocks[7]["elements"][0]["text"].startswith("⏳ Open")
    assert message.text == "🟠 Viral risk: @ann on x: “@Kestrel on hold for 2 hours” (risk 72/100)"


def test_untrusted_sections_are_verbatim_so_slack_does_not_autolink_them() -> None:
    blocks = _blocks(mention_message(_alert(), _mention(), _author(), severity=Severity.COMPLAINT))
    for block in blocks[1:6]:
        texts = [block.get("text"), *block.get("fields", []), *block.get("elements", [])]
        assert all(t["verbatim"] for t in texts if t), block


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_post_cannot_ping_mention_or_link(hostile: str) -> None:
    message = mention_message(
        _alert(reasons=[f"matched: '{hostile}'"]),
        _mention(hostile, reply=f"@ann {hostile}", url="https://evil.example/a|<!channel>"),
        _author(handle=f"ann{hostile}", name=hostile),
        severity=Severity.COMPLAINT,
    )
    texts = [message.text, *iter_texts(message.payload()["blocks"])]
    for text in texts:
        assert not any(bad in text for bad in FORBIDDEN), text
    assert any(
        hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in text
        for text in texts
    )


def test_very_long_post_is_cut_cleanly_within_slack_limits() -> None:
    text = ("word & <b> " * 2000).strip()
    message = mention_message(_alert(), _mention(text), _author(), severity=Severity.COMPLAINT)
    quote = _blocks(message)[1]["text"]["text"]  # payload() validated every limit already
    assert len(quote) <= 3000
    assert quote.endswith("…")
    assert quote[:-1].count("&") == quote[:-1].count(";")
    assert len(message.text) < 400


def test_post_without_url_or_author_still_renders() -> None:
    message = mention_message(
        _alert(), _mention(url=None, risk=None, reply=None), None, severity=Severity.COMPLAINT
    )
    blocks = _blocks(message)
    assert "Open post" not in blocks[2]["elements"][0]["text"]
    assert "*Viral risk*\nnot scored yet" in [f["text"] for f in blocks[3]["fields"]]
    assert "Suggested reply" not in str(blocks)


def test_escalation_pings_in_the_message_and_the_notification() -> None:
    message = mention_message(
        _alert(),
        _mention(risk=91),
        _author(),
        severity=Severity.ESCALATION,
        ping="<!subteam^S0SUPPORT>",
        escalation_threshold=85,
    )
    blocks = _blocks(message)
    assert blocks[0]["text"]["text"] == "🔴 Escalation · Kestrel"
    assert blocks[1]["text"]["text"].startswith("<!subteam^S0SUPPORT> *Escalation:*")
    assert "(risk 91/100 ≥ 85)" in blocks[1]["text"]["text"]
    assert message.text.startswith("<!subteam^S0SUPPORT> 🔴 Escalation")


def test_update_reply_carries_the_new_numbers_and_optional_ping() -> None:
    """`score` and `reasons` as rules/viral.py's RiskAssessment.as_dict() gives them."""
    alert = _alert(
        "update",
        score=88.0,
        velocity_per_hour=400.0,
        likes=900,
        reposts=4000,
        replies=50,
        quotes=7,
        reasons=["velocity 400 reposts/h"],
    )
    quiet = update_message(alert, _mention())
    assert quiet.text.startswith("📈 *Still spreading* · viral risk 88/100 · 900 likes · 4k")
    assert "• velocity 400 reposts/h" in quiet.text
    loud = update_message(alert, _mention(), ping="<!here>", threshold=85)
    assert loud.text.startswith("<!here> *Escalation:* viral risk is now 88/100 past 85.")


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (Status(), "⏳ Open"),
        (Status("acknowledged", "U0AGENT", AT), "👀 Acknowledged by <@U0AGENT> · <!date^"),
        (Status("resolved", "U0AGENT", AT), "✅ Resolved by <@U0AGENT>"),
        (Status("snoozed", "U0AGENT", AT, AT), "💤 Snoozed by <@U0AGENT> until <!date^"),
        (Status("not_complaint", "U0AGENT", AT), "🚫 Marked *not a complaint* by <@U0AGENT>"),
        (Status("acknowledged", "<!channel>", AT), "👀 Acknowledged by someone"),
    ],
)
def test_status_line(status: Status, shown: str) -> None:
    assert status_line(status).startswith(shown)


def test_summary_lists_each_rolled_up_post_and_caps_the_list() -> None:
    items = [
        SummaryItem(Severity.COMPLAINT, _mention(f"<!channel> post {i}"), _author(), _alert())
        for i in range(33)
    ]
    message = summary_message(items, limit=10, minutes=10)
    blocks = _blocks(message)
    assert blocks[0]["text"]["text"] == "🧺 33 more alerts (rate limit)"
    lines = "\n".join(b["text"]["text"] for b in blocks[2:]).split("\n")
    assert len(lines) == 31
    assert lines[0].startswith("• 🟡 *@ann* (12.3k): “&lt;!channel&gt; post 0” <https://x.com/")
    assert lines[-1] == "…and 3 more"
    assert message.text == "🧺 33 more alerts, rolled up (rate limit)"


def test_spike_and_operations_messages_escape_their_payloads() -> None:
    """The spike payload as monitor/spikes.py queues it."""
    spike = spike_message(
        _alert(
            "spike",
            brand="Kestrel",
            metric="complaints",
            observed=240,
            expected=31.25,
            reasons=["240 complaints vs 31 expected"],
            phrases=[
                {"phrase": "<!channel> outage", "posts": 40},
                {"phrase": "no wifi", "posts": 9},
            ],
            categories=[{"category": "outage", "posts": 180}],
            samples=["<@U024BE7LH> down again", "<https://evil.example|refund>"],
        )
    )
    texts = [spike.text, *iter_texts(spike.payload()["blocks"])]
    assert not any(bad in text for text in texts for bad in FORBIDDEN)
    assert (
        "*240* complaints in the hour where about *31.25* were expected.\n"
        "• 240 complaints vs 31 expected"
    ) in texts
    assert "*Top phrases*\n&lt;!channel&gt; outage (40), no wifi (9)" in texts
    assert "*Categories*\nOutage, can't log in (180)" in texts
    assert ">&lt;@U024BE7LH&gt; down again" in texts
    assert spike.payload()["blocks"][-2]["elements"][-1]["action_id"] == Action.SNOOZE
    ops = operations_message(
        _alert("operations", source="x", problem="401 <!here>", check="sources.x.bearer_token")
    )
    assert ops.payload()["blocks"][1]["text"]["text"] == (
        "Source *x* has stopped: 401 &lt;!here&gt;\n*Check:* sources.x.bearer_token"
    )
