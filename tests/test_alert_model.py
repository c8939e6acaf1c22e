"""One priority, route and level per alert, decided outside any sink (monitor/alert_model.py)."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.alert_model import Level, Priority, Route, Thresholds, build_card
from storage.models import Alert, Author, Mention


def _mention(**extra: Any) -> Mention:
    values: dict[str, Any] = {
        "brand": "Kestrel", "network": "x", "native_id": "1", "text": "t", "flagged": True,
        "intent": "complaint", "severity": 2, "risks": [], "reasons": [], "risk": None,
        "lang": "en", "category": "delivery",
    }  # fmt: skip
    return Mention(**(values | extra))


def _card(kind: str = "complaint", payload: dict[str, Any] | None = None, author=None, **m: Any):
    alert = Alert(id=1, kind=kind, brand="Kestrel", payload=payload or {})
    return build_card(alert, _mention(**m), author, thresholds=Thresholds(60, 85))


@pytest.mark.parametrize(
    ("kind", "risk", "escalate", "level"),
    [
        ("complaint", None, False, Level.COMPLAINT),
        ("complaint", 59.9, False, Level.COMPLAINT),
        ("complaint", 60, False, Level.VIRAL_RISK),
        ("update", 70, False, Level.VIRAL_RISK),
        ("update", 70, True, Level.ESCALATION),
        ("update", 85, False, Level.ESCALATION),
        ("update", None, False, Level.COMPLAINT),
    ],
)
def test_level_follows_viral_risk(
    kind: str, risk: float | None, escalate: bool, level: Level
) -> None:
    payload = {"score": risk, "escalate": escalate} if kind == "update" else {}
    assert _card(kind, payload, risk=risk if kind != "update" else None).level is level


@pytest.mark.parametrize(
    ("severity", "priority"),
    [(1, Priority.NORMAL), (2, Priority.NORMAL), (3, Priority.HIGH), (4, Priority.URGENT)],
)
def test_a_complaint_starts_from_its_severity(severity: int, priority: Priority) -> None:
    assert _card(severity=severity).priority is priority


def test_a_large_verified_account_starts_high() -> None:
    author = Author(handle="big", followers=80_000, verified=True)
    card = _card(author=author, severity=2)
    assert card.priority is Priority.HIGH
    assert "large audience (verified, 80,000 followers)" in card.why
    small = Author(handle="small", followers=9_000, verified=True)
    assert _card(author=small, severity=2).priority is Priority.NORMAL


@pytest.mark.parametrize(
    ("risks", "severity", "priority", "title"),
    [
        (["safety"], 3, Priority.URGENT, "Safety risk"),
        (["vulnerable"], 2, Priority.HIGH, "Vulnerable customer"),
        (["privacy"], 1, Priority.HIGH, "Privacy or data exposure"),
        (["legal", "churn"], 2, Priority.HIGH, "Legal, regulator or press"),
    ],
)
def test_risk_flags_route_to_escalation(
    risks: list[str], severity: int, priority: Priority, title: str
) -> None:
    card = _card(risks=risks, severity=severity)
    assert (card.route, card.level, card.priority, card.title) == (
        Route.ESCALATION, Level.ESCALATION, priority, title,
    )  # fmt: skip
    assert card.reply_label == f"{title} reply"


def test_churn_alone_stays_with_support() -> None:
    assert _card(risks=["churn"]).route is Route.SUPPORT


@pytest.mark.parametrize(
    ("kind", "intent", "level", "route", "label"),
    [
        ("question", "question", Level.QUESTION, Route.SUPPORT,
         "Answer draft (fill in the answer)"),
        ("praise", "praise", Level.PRAISE, Route.SUPPORT, "Thank-you draft (optional)"),
        ("security", "spam", Level.SECURITY, Route.SECURITY,
         "Public warning draft (do not reply to the scammer)"),
    ],
)  # fmt: skip
def test_questions_praise_and_scams_have_their_own_cards(
    kind: str, intent: str, level: Level, route: Route, label: str
) -> None:
    card = _card(kind, intent=intent, flagged=False, severity=None)
    assert (card.level, card.route, card.reply_label) == (level, route, label)
    assert card.priority is (Priority.HIGH if kind == "security" else Priority.LOW)


def test_spike_and_operations_read_their_facts_once() -> None:
    spike = build_card(
        Alert(id=2, kind="spike", brand="Kestrel", payload={
            "metric": "complaints", "observed": 52, "expected": 7.5, "reasons": ["7x usual"],
            "phrases": [{"phrase": "no internet", "posts": 30}],
            "samples": [{"text": "down", "handle": "ann", "url": "https://x.example/1"}],
        }),
        None,
        None,
    )  # fmt: skip
    assert spike.spike is not None
    assert (spike.title, spike.spike.observed, spike.spike.phrases) == (
        "Spike (complaints)", "52", (("no internet", 30),),
    )  # fmt: skip
    ops = build_card(Alert(id=3, kind="operations", payload={"source": "x"}), None, None)
    assert (ops.route, ops.operations.source if ops.operations else None) == (Route.OPERATIONS, "x")
