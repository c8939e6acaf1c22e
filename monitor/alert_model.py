"""The typed alert every sink renders: what happened, how urgent, who must see it, and why.

An outbox row (storage.models.Alert) stores its facts as JSON; this module is the one place
that reads them. `build_card` turns a row, its post and its author into an `AlertCard` with a
single `Priority`, a `Route` and the reasons in plain words, decided here once, so the
console, Slack, the digest or a new sink (Microsoft Teams, email) render the same decision
and none of them reads payload keys or re-decides severity.

Priority (1 is most urgent), from the rules below; each rule that moved it says so in `why`:
- start: complaint by severity (4 -> 1, 3 -> 2, else 3), question and praise 4, security,
  spike and operations 2, a spreading post's update 2 (1 when it crossed escalation);
- a safety, legal, privacy or vulnerable-customer flag: at least 2; safety or vulnerable
  with severity 3 or more: 1;
- reach: 50,000+ followers, or verified with 10,000+: one step up;
- velocity: viral risk at the escalation threshold: 1; at the risk threshold: one step up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from rules.replies import ROUTE_FLAGS, Situation, purpose_of
from storage.models import Alert, Author, Mention

LARGE_REACH = 50_000
VERIFIED_REACH = 10_000


class Priority(IntEnum):
    URGENT = 1
    HIGH = 2
    NORMAL = 3
    LOW = 4

    @property
    def label(self) -> str:
        return f"P{self.value} {self.name.lower()}"


class Route(StrEnum):
    """Who must see it: the support queue, the escalation target, the brand's security
    contact, or the operator."""

    SUPPORT = "support"
    ESCALATION = "escalation"
    SECURITY = "security"
    OPERATIONS = "operations"


class Level(StrEnum):
    """The header word a sink shows."""

    COMPLAINT = "complaint"
    VIRAL_RISK = "viral risk"
    ESCALATION = "escalation"
    SPIKE = "spike"
    OPERATIONS = "operations"
    QUESTION = "question"
    PRAISE = "praise"
    SECURITY = "security"


FLAG_TITLES = {
    "safety": "Safety risk",
    "vulnerable": "Vulnerable customer",
    "privacy": "Privacy or data exposure",
    "legal": "Legal, regulator or press",
}
REPLY_LABELS = {
    "apology": "Suggested reply",
    "answer": "Answer draft (fill in the answer)",
    "thanks": "Thank-you draft (optional)",
    "holding": "Holding reply (incident under way)",
    "warning": "Public warning draft (do not reply to the scammer)",
    **{flag: f"{FLAG_TITLES[flag]} reply" for flag in ROUTE_FLAGS},
}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The viral-risk thresholds from config (alerting.risk_threshold, escalation_threshold)."""

    risk: float = 60
    escalation: float = 75


@dataclass(frozen=True, slots=True)
class Answered:
    by: str
    minutes: int

    def __str__(self) -> str:
        return f"answered by @{self.by} after {self.minutes} min"


@dataclass(frozen=True, slots=True)
class UpdateFacts:
    """A tracked post grew (monitor/tracking.py)."""

    score: float | None
    escalate: bool
    reasons: tuple[str, ...]
    engagement: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Sample:
    """One of an incident's posts: its text, who wrote it, where, and how far it spread."""

    text: str
    handle: str | None = None
    url: str | None = None
    engagement: int | None = None


@dataclass(frozen=True, slots=True)
class SpikeFacts:
    """More posts than usual (monitor/spikes.py, an hour) or a burst of complaints of one
    kind (monitor/incidents.py, minutes): one incident."""

    metric: str
    observed: str
    expected: str
    reasons: tuple[str, ...]
    phrases: tuple[tuple[str, int | None], ...]
    categories: tuple[tuple[str, int | None], ...]
    samples: tuple[Sample, ...]
    places: tuple[tuple[str, int | None], ...] = ()
    hour: datetime | None = None
    drop: bool = False
    burst_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class OperationsFacts:
    source: str
    problem: str
    check: str


@dataclass(frozen=True, slots=True)
class AlertCard:
    """One alert as every sink renders it."""

    id: int
    kind: str
    brand: str | None
    level: Level
    priority: Priority
    route: Route
    title: str
    why: tuple[str, ...]
    risk: float | None = None
    reply_label: str | None = None
    answered: Answered | None = None
    update: UpdateFacts | None = None
    spike: SpikeFacts | None = None
    operations: OperationsFacts | None = None


def situation_of(mention: Mention, *, status_page: str | None = None) -> Situation:
    """What a reply to `mention` has to fit (rules/replies.py)."""
    return Situation(
        intent=mention.intent or ("complaint" if mention.flagged else None),
        category=mention.category,
        severity=mention.severity,
        risks=tuple(str(r) for r in mention.risks or ()),
        network=mention.network,
        language=mention.lang,
        status_page=status_page,
    )


def build_card(
    alert: Alert,
    mention: Mention | None,
    author: Author | None,
    *,
    thresholds: Thresholds = Thresholds(),
    answered: Answered | None = None,
    status_page: str | None = None,
) -> AlertCard:
    """The alert's one decision: level, priority, route, title and reasons."""
    payload: Mapping[str, Any] = alert.payload or {}
    if alert.kind == "spike":
        spike = spike_facts(payload)
        return AlertCard(
            id=alert.id,
            kind=alert.kind,
            brand=alert.brand,
            level=Level.SPIKE,
            priority=Priority.HIGH,
            route=Route.SUPPORT,
            title=f"Spike ({spike.metric})",
            why=spike.reasons,
            spike=spike,
        )
    if alert.kind == "operations":
        ops = OperationsFacts(
            str(payload.get("source", "?")),
            str(payload.get("problem", "")),
            str(payload.get("check", "")),
        )
        return AlertCard(
            id=alert.id,
            kind=alert.kind,
            brand=alert.brand,
            level=Level.OPERATIONS,
            priority=Priority.HIGH,
            route=Route.OPERATIONS,
            title="Operations",
            why=(ops.problem,),
            operations=ops,
        )
    update = _update(payload) if alert.kind == "update" else None
    risk = _risk(payload, mention)
    severity = mention.severity if mention is not None else None
    flags = [f for f in ROUTE_FLAGS if mention is not None and f in (mention.risks or ())]
    why: list[str] = []
    priority, level, title = _start(alert.kind, severity, update, why)
    route = Route.SECURITY if alert.kind == "security" else Route.SUPPORT
    if flags and alert.kind in {"complaint", "update"}:
        route = Route.ESCALATION
        title = " · ".join(FLAG_TITLES[f] for f in flags)
        why.append(f"flagged {', '.join(flags)}: goes to the escalation team")
        urgent = {"safety", "vulnerable"} & set(flags) and (severity or 0) >= 3
        priority = min(priority, Priority.URGENT if urgent else Priority.HIGH)
    if alert.kind in {"complaint", "update"}:
        priority = _reach(priority, author, why)
        priority, level = _velocity(priority, level, risk, update, thresholds, why)
    if route is Route.ESCALATION:
        level = Level.ESCALATION
    if mention is not None:
        why += [str(r) for r in payload.get("reasons") or mention.reasons or []]
    purpose = None
    if mention is not None:
        situation = situation_of(mention, status_page=status_page)
        if situation.intent is None and alert.kind in {"complaint", "update"}:
            situation = replace(situation, intent="complaint")
        purpose = purpose_of(situation)
    return AlertCard(
        id=alert.id,
        kind=alert.kind,
        brand=alert.brand or (mention.brand if mention else None),
        level=level,
        priority=priority,
        route=route,
        title=title,
        why=tuple(why),
        risk=risk,
        reply_label=REPLY_LABELS.get(purpose) if purpose else None,
        answered=answered,
        update=update,
    )


def with_answer(card: AlertCard, answered: Answered | None) -> AlertCard:
    return replace(card, answered=answered)


def _start(
    kind: str, severity: int | None, update: UpdateFacts | None, why: list[str]
) -> tuple[Priority, Level, str]:
    if kind == "question":
        why.append("a question: needs an answer, after complaints")
        return Priority.LOW, Level.QUESTION, "Question: needs a reply"
    if kind == "praise":
        why.append("praise from a wide audience: a thank-you is optional")
        return Priority.LOW, Level.PRAISE, "Praise with reach"
    if kind == "security":
        why.append("someone may be posing as the brand: warn customers, do not reply to it")
        return Priority.HIGH, Level.SECURITY, "Impersonation or phishing"
    if update is not None:
        if update.escalate:
            return Priority.URGENT, Level.ESCALATION, "Spreading fast"
        return Priority.HIGH, Level.COMPLAINT, "Still spreading"
    if severity is not None:
        why.append(f"severity {severity} of 4")
    start = {4: Priority.URGENT, 3: Priority.HIGH}.get(severity or 0, Priority.NORMAL)
    return start, Level.COMPLAINT, "Complaint"


def _reach(priority: Priority, author: Author | None, why: list[str]) -> Priority:
    followers = (author.followers or 0) if author else 0
    if author is None or not (
        followers >= LARGE_REACH or (author.verified and followers >= VERIFIED_REACH)
    ):
        return priority
    verified = "verified, " if author.verified else ""
    why.append(f"large audience ({verified}{followers:,} followers)")
    return Priority(max(Priority.URGENT, priority - 1))


def _velocity(
    priority: Priority,
    level: Level,
    risk: float | None,
    update: UpdateFacts | None,
    thresholds: Thresholds,
    why: list[str],
) -> tuple[Priority, Level]:
    if (update is not None and update.escalate) or (
        risk is not None and risk >= thresholds.escalation
    ):
        if risk is not None:
            why.append(f"spreading fast: viral risk {risk:.0f}/100")
        return Priority.URGENT, Level.ESCALATION
    if risk is not None and risk >= thresholds.risk:
        why.append(f"spreading: viral risk {risk:.0f}/100")
        return Priority(max(Priority.URGENT, priority - 1)), Level.VIRAL_RISK
    return priority, level


def _risk(payload: Mapping[str, Any], mention: Mention | None) -> float | None:
    """The risk an update alert carries ("score" from rules/viral.py), else the post's own."""
    for key in ("risk", "score"):
        if isinstance(payload.get(key), int | float):
            return float(payload[key])
    return mention.risk if mention is not None else None


def _update(payload: Mapping[str, Any]) -> UpdateFacts:
    raw = payload.get("engagement")
    counts = raw if isinstance(raw, Mapping) else payload
    engagement = {
        k: int(counts[k])
        for k in ("likes", "reposts", "replies", "quotes")
        if isinstance(counts.get(k), int)
    }
    score = payload.get("score")
    return UpdateFacts(
        score=float(score) if isinstance(score, int | float) else None,
        escalate=bool(payload.get("escalate")),
        reasons=_strings(payload.get("reasons")),
        engagement=engagement,
    )


def spike_facts(payload: Mapping[str, Any]) -> SpikeFacts:
    """A spike alert's stored facts, typed (older alerts lack places, samples' spread)."""
    try:
        hour: datetime | None = datetime.fromisoformat(str(payload["hour"]))
    except (KeyError, ValueError):
        hour = None
    window = payload.get("burst_minutes")
    return SpikeFacts(
        metric=str(payload.get("metric") or "mentions"),
        observed=str(payload.get("observed", "?")),
        expected=str(payload.get("expected", "?")),
        reasons=_strings(payload.get("reasons")),
        phrases=_counted(payload.get("phrases") or payload.get("top_phrases"), "phrase"),
        categories=_counted(payload.get("categories"), "category"),
        samples=tuple(_sample(s) for s in payload.get("samples") or []),
        places=_counted(payload.get("places"), "place"),
        hour=hour,
        drop=bool(payload.get("is_drop")),
        burst_minutes=window if isinstance(window, int) else None,
    )


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, Sequence) and value else ()


def _counted(items: Any, key: str) -> tuple[tuple[str, int | None], ...]:
    found: list[tuple[str, int | None]] = []
    for item in items or []:
        if isinstance(item, Mapping):
            count = item.get("posts")
            found.append((str(item.get(key, "")), count if isinstance(count, int) else None))
        else:
            found.append((str(item), None))
    return tuple(found)


def _sample(raw: Any) -> Sample:
    if isinstance(raw, Mapping):
        handle, url, spread = raw.get("handle"), raw.get("url"), raw.get("engagement")
        return Sample(
            str(raw.get("text", "")),
            str(handle) if handle else None,
            str(url) if url else None,
            spread if isinstance(spread, int) else None,
        )
    return Sample(str(raw))


def minutes_between(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds() / 60))
