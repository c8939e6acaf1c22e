"""Block Kit messages for every alert kind, built with slack_sdk's block models.

A support agent should be able to act from the message alone: severity in the header, the
post quoted, who wrote it and their reach, how fast it spreads and why it was flagged, the
suggested reply, and buttons. Every string that came from outside (post text, handle, name,
reasons, sample posts) goes through `text.escape`/`quote`, and sections holding it are
`verbatim` so Slack does not auto-link it either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from monitor.alert_model import AlertCard, Level, Sample, build_card
from monitor.slack import text as t
from rules.categories import category_label
from storage.models import Alert, Author, Mention

SECTION_LIMIT = 2900
FIELD_LIMIT = 1900
FALLBACK_POST_CHARS = 200
MAX_REASONS = 8
SUMMARY_ITEMS_SHOWN = 30
ACTIONS_BLOCK = "brandmon_actions"


# The header word is the card's level (monitor/alert_model.py decides it, not Slack code).
Severity = Level

EMOJI = {
    Level.COMPLAINT: "🟡",
    Level.VIRAL_RISK: "🟠",
    Level.ESCALATION: "🔴",
    Level.SPIKE: "📈",
    Level.OPERATIONS: "⚙️",
    Level.QUESTION: "❓",
    Level.PRAISE: "💚",
    Level.SECURITY: "🛡️",
}
# What the escalation ping asks people to do, by the flag that routed the post.
TO_DO = {
    "Safety risk": "check whether anyone is in danger and call the customer today",
    "Vulnerable customer": "a specialist should reply, with care, before anyone else",
    "Privacy or data exposure": "ask them to remove personal data; involve data protection",
    "Legal, regulator or press": "loop in legal or communications before replying in public",
    "Impersonation or phishing": "report the account, warn customers; do not reply to it",
}
GENERIC_TITLES = frozenset({"Complaint", "Still spreading", "Spreading fast"})


class Action(StrEnum):
    """Button action ids; the value stored in the database is the status it leads to."""

    ACKNOWLEDGE = "brandmon:acknowledge"
    RESOLVE = "brandmon:resolve"
    SNOOZE = "brandmon:snooze"
    NOT_COMPLAINT = "brandmon:not_complaint"
    # A rolled-up post's menu in a summary; its option value is "<action id>|<alert id>".
    ITEM = "brandmon:item"


STATUS_AFTER = {
    Action.ACKNOWLEDGE: "acknowledged",
    Action.RESOLVE: "resolved",
    Action.SNOOZE: "snoozed",
    Action.NOT_COMPLAINT: "not_complaint",
}


@dataclass(frozen=True, slots=True)
class Status:
    """The support team's latest action on a message, as shown under it."""

    status: str = "open"
    by: str | None = None
    at: datetime | None = None
    snoozed_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """What chat.postMessage / chat.update take: blocks and the notification fallback."""

    text: str
    blocks: list[Block]

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": [b.to_dict() for b in self.blocks]}


def _mrkdwn(text: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=text, verbatim=True)


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=_mrkdwn(t.clip_markup(text, 3000)))


def _header(severity: Severity, brand: str | None, card: AlertCard | None = None) -> HeaderBlock:
    title = f"{EMOJI[severity]} {severity.value.capitalize()}"
    if card is not None and card.title not in GENERIC_TITLES and card.title.lower() != severity:
        title += f": {card.title}"
    title += f" · {brand}" if brand else ""
    return HeaderBlock(text=PlainTextObject(text=t.clip(title, 150), emoji=True))


def _who(author: Author | None) -> str:
    return f"@{author.handle}" if author else "unknown author"


def _engagement(mention: Mention, payload: Mapping[str, Any] | None = None) -> str:
    counts = dict(payload.get("engagement", payload)) if payload else {}
    parts = []
    for key, one in (
        ("likes", "like"),
        ("reposts", "repost"),
        ("replies", "reply"),
        ("quotes", "quote"),
    ):
        value = counts.get(key, getattr(mention, key, 0)) or 0
        word = one if value == 1 else key
        parts.append(f"{t.compact(value)} {word}")
    return " · ".join(parts)


def _risk(risk: float | None) -> str:
    return "not scored yet" if risk is None else f"{risk:.0f}/100"


def _reasons(reasons: Iterable[Any]) -> str:
    items = [f"• {t.clip_escaped(str(r), 300)}" for r in list(reasons)[:MAX_REASONS]]
    return t.clip_markup("\n".join(items), FIELD_LIMIT) if items else "—"


def status_line(status: Status) -> str:
    who = t.user(status.by)
    at = f" · {t.when(status.at)}" if status.at else ""
    if status.status == "acknowledged":
        return f"👀 Acknowledged by {who}{at}"
    if status.status == "resolved":
        return f"✅ Resolved by {who}{at}"
    if status.status == "snoozed" and status.snoozed_until:
        return f"💤 Snoozed by {who} until {t.when(status.snoozed_until)}"
    if status.status == "not_complaint":
        return f"🚫 Marked *not a complaint* by {who}{at}"
    return "⏳ Open: nobody has picked this up yet"


def _buttons(alert_id: int, *, labels: bool = True) -> ActionsBlock:
    value = str(alert_id)
    elements = [
        ButtonElement(
            text="Acknowledge", action_id=Action.ACKNOWLEDGE, value=value, style="primary"
        ),
        ButtonElement(text="Resolved", action_id=Action.RESOLVE, value=value),
        ButtonElement(text="Snooze", action_id=Action.SNOOZE, value=value),
    ]
    if labels:
        elements.append(
            ButtonElement(
                text="Not a complaint",
                action_id=Action.NOT_COMPLAINT,
                value=value,
                style="danger",
                confirm=ConfirmObject(
                    title="Not a complaint?",
                    text="This closes the alert and teaches brandmon from it.",
                    confirm="Not a complaint",
                    deny="Cancel",
                ),
            )
        )
    return ActionsBlock(block_id=ACTIONS_BLOCK, elements=elements)


def mention_message(
    alert: Alert,
    mention: Mention,
    author: Author | None,
    *,
    severity: Severity,
    status: Status = Status(),
    ping: str | None = None,
    escalation_threshold: float | None = None,
    card: AlertCard | None = None,
) -> Message:
    """The one top-level message for a post, rendered from its card (`card`; built with the
    default thresholds when not given)."""
    card = card or build_card(alert, mention, author)
    payload = alert.payload or {}
    risk = card.risk
    who = _who(author)
    reach = ""
    if author is not None:
        name = f" ({t.clip_escaped(author.name, 60)})" if author.name else ""
        reach = f"*{t.escape(who)}*{name} · {t.compact(author.followers)} followers"
        reach += " · verified" if author.verified else ""
    else:
        reach = f"*{who}*"
    where = [reach, t.escape(mention.network)]
    where += [t.link(mention.url, "Open post")] if mention.url else []
    context = " · ".join([*where, t.when(mention.created_at)])
    blocks: list[Block] = [_header(severity, alert.brand or mention.brand, card)]
    if ping:
        blocks.append(_section(_ping_line(ping, card, risk, escalation_threshold)))
    blocks += [
        _section(t.quote(mention.text, SECTION_LIMIT)),
        ContextBlock(elements=[_mrkdwn(t.clip_markup(context, 3000))]),
        SectionBlock(
            fields=[
                _mrkdwn(f"*Engagement*\n{_engagement(mention, payload)}"),
                _mrkdwn(f"*Viral risk*\n{_risk(risk)}"),
                _mrkdwn(
                    "*Sentiment*\n"
                    + ("—" if mention.sentiment is None else f"{mention.sentiment:+.2f}")
                ),
                _mrkdwn(f"*Category*\n{t.escape(_label(mention.category))}"),
                _mrkdwn(f"*Priority*\n{card.priority.label}"),
            ]
        ),
        _section(f"*Why*\n{_reasons(card.why)}"),
    ]
    if card.answered is not None:
        blocks.append(ContextBlock(elements=[_mrkdwn(f"💬 {t.escape(str(card.answered))}")]))
    if mention.reply and card.reply_label:
        reply = t.clip_escaped(mention.reply, SECTION_LIMIT - 60).replace("`", "'")
        blocks.append(_section(f"*{card.reply_label}* (adapt before sending)\n```{reply}```"))
    blocks += [_buttons(alert.id), ContextBlock(elements=[_mrkdwn(status_line(status))])]
    post = t.clip_escaped(mention.text.replace("\n", " "), FALLBACK_POST_CHARS)
    fallback = (
        f"{EMOJI[severity]} {severity.value.capitalize()}: {t.escape(who)} on "
        f"{t.escape(mention.network)}: “{post}” (risk {_risk(risk)})"
    )
    return Message(text=f"{ping} {fallback}" if ping else fallback, blocks=blocks)


def update_message(
    alert: Alert,
    mention: Mention,
    *,
    ping: str | None = None,
    threshold: float | None = None,
    author: Author | None = None,
) -> Message:
    """A thread reply: the tracked post keeps growing. The escalation ping (once) carries the
    post, its author and what to do, so whoever is pinged can act from the notification."""
    payload = alert.payload or {}
    card = build_card(alert, mention, author)
    risk = card.risk
    lines = [f"📈 *Still spreading* · viral risk {_risk(risk)} · {_engagement(mention, payload)}"]
    if card.update is not None and card.update.reasons:
        lines.append(f"*Why*\n{_reasons(card.update.reasons)}")
    if ping:
        over = f" past {threshold:.0f}" if threshold is not None else ""
        who = f"*{t.escape(_who(author))}*" + (
            f" · {t.compact(author.followers)} followers" if author and author.followers else ""
        )
        lines[:0] = [
            f"{ping} *Escalation:* viral risk is now {_risk(risk)}{over}. "
            "*To do:* reply in public within the hour and tell the team lead.",
            t.quote(mention.text, 600),
            f"{who} · {t.link(mention.url, 'Open post')}" if mention.url else who,
        ]
    text = "\n".join(lines)
    return Message(text=t.clip_markup(text, 3000), blocks=[_section(text)])


def _ping_line(
    ping: str, card: AlertCard, risk: float | None, escalation_threshold: float | None
) -> str:
    """The ping's first line: what the alert is and what to do about it."""
    if card.title in TO_DO:
        return f"{ping} *{t.escape(card.title)}:* {TO_DO[card.title]}."
    threshold = (
        f" (risk {_risk(risk)} ≥ {escalation_threshold:.0f})"
        if (escalation_threshold is not None and risk is not None)
        else ""
    )
    return f"{ping} *Escalation:* this post is spreading fast{threshold}."


def spike_message(
    alert: Alert, *, status: Status = Status(), card: AlertCard | None = None
) -> Message:
    """One incident: the numbers, why, where (places named in the posts), what people say,
    and sample posts with author, link and engagement, most spread first. Rendered from the
    card's typed facts (monitor/alert_model.SpikeFacts)."""
    card = card or build_card(alert, None, None)
    facts = card.spike
    assert facts is not None
    observed, metric = t.escape(facts.observed), t.escape(facts.metric)
    expected = t.escape(facts.expected)
    if facts.burst_minutes is not None:
        headline = f"*{observed}* {metric} in the last {facts.burst_minutes} minutes."
    else:
        headline = f"*{observed}* {metric} in the hour where about *{expected}* were expected."
    phrases = ", ".join(_count(p, n) for p, n in facts.phrases[:10])
    categories = ", ".join(_count(_label(c), n) for c, n in facts.categories[:10])
    places = ", ".join(_count(p, n) for p, n in facts.places[:8])
    blocks: list[Block] = [
        _header(Severity.SPIKE, card.brand),
        _section(headline + (f"\n{_reasons(facts.reasons)}" if facts.reasons else "")),
        _section(f"*Where*\n{places or 'no places named in the posts'}"),
        SectionBlock(
            fields=[
                _mrkdwn(t.clip_markup(f"*Top phrases*\n{phrases or '—'}", FIELD_LIMIT)),
                _mrkdwn(t.clip_markup(f"*Categories*\n{categories or '—'}", FIELD_LIMIT)),
            ]
        ),
    ]
    blocks += [_section(_sample(sample)) for sample in facts.samples[:3]]
    blocks += [
        _buttons(alert.id, labels=False),
        ContextBlock(elements=[_mrkdwn(status_line(status))]),
    ]
    fallback = (
        f"{EMOJI[Severity.SPIKE]} Spike · {t.escape(card.brand or '')}: "
        f"{observed} {metric}" + ("" if facts.burst_minutes else f" vs {expected} expected")
    )
    return Message(text=fallback, blocks=blocks)


def _count(name: str, count: int | None) -> str:
    """("no wifi", 12) -> "no wifi (12)"."""
    return t.clip_escaped(name, 60) + (f" ({count})" if count is not None else "")


def _sample(sample: Sample) -> str:
    who = f"*@{t.escape(sample.handle)}*" if sample.handle else ""
    spread = f"{t.compact(sample.engagement)} engagements" if sample.engagement is not None else ""
    link = t.link(sample.url, "Open") if sample.url else ""
    context = " · ".join(part for part in (who, spread, link) if part)
    return t.quote(sample.text, 600) + (f"\n{context}" if context else "")


def operations_message(alert: Alert) -> Message:
    """A source is failing or its credentials were rejected: what and what to check."""
    p = alert.payload or {}
    source = t.escape(str(p.get("source", "?")))
    problem = t.clip_escaped(str(p.get("problem", "")), 1500)
    check = t.clip_escaped(str(p.get("check", "")), 500)
    body = f"Source *{source}* has stopped: {problem}"
    if check:
        body += f"\n*Check:* {check}"
    return Message(
        text=t.clip_markup(f"{EMOJI[Severity.OPERATIONS]} Operations: {source}: {problem}", 3000),
        blocks=[_header(Severity.OPERATIONS, alert.brand), _section(body)],
    )


@dataclass(frozen=True, slots=True)
class SummaryItem:
    severity: Severity
    mention: Mention | None
    author: Author | None
    alert: Alert
    status: Status = Status()


ITEM_ACTIONS = (
    (Action.ACKNOWLEDGE, "Acknowledge"),
    (Action.RESOLVE, "Resolved"),
    (Action.SNOOZE, "Snooze"),
    (Action.NOT_COMPLAINT, "Not a complaint"),
)


def _item_menu(alert_id: int) -> OverflowMenuElement:
    """The same four actions as a post's own buttons, for one rolled-up post."""
    return OverflowMenuElement(
        action_id=Action.ITEM,
        options=[
            Option(value=f"{action}|{alert_id}", text=label) for action, label in ITEM_ACTIONS
        ],
    )


def summary_message(items: Sequence[SummaryItem], *, limit: int, minutes: float) -> Message:
    """Alerts beyond the channel's rate limit, rolled up into one message."""
    count = len(items)
    noun = "alert" if count == 1 else "alerts"
    intro = (
        f"More than {limit} alerts in {minutes:g} minutes in this channel, so the "
        f"next {count} {noun} are listed here instead of one message each."
    )
    lines = [_summary_line(i) for i in items[:SUMMARY_ITEMS_SHOWN]]
    if count > SUMMARY_ITEMS_SHOWN:
        lines.append(f"…and {count - SUMMARY_ITEMS_SHOWN} more")
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=f"🧺 {count} more {noun} (rate limit)")),
        _section(intro),
    ]
    # One section per post, with its own action menu: a rolled-up post can still be acted on.
    shown = items[:SUMMARY_ITEMS_SHOWN]
    for item, line in zip(shown, lines[: len(shown)], strict=True):
        blocks.append(
            SectionBlock(
                text=_mrkdwn(t.clip_markup(line, 3000)), accessory=_item_menu(item.alert.id)
            )
        )
    if count > SUMMARY_ITEMS_SHOWN:
        blocks.append(_section(lines[-1]))
    return Message(text=f"🧺 {count} more {noun}, rolled up (rate limit)", blocks=blocks)


def _summary_line(item: SummaryItem) -> str:
    mention, author = item.mention, item.author
    if mention is None:
        return f"• {EMOJI[item.severity]} {item.alert.kind}"
    who = t.escape(_who(author))
    reach = f" ({t.compact(author.followers)})" if author and author.followers else ""
    post = t.clip_escaped(mention.text.replace("\n", " "), 120)
    done = f"\n    {status_line(item.status)}" if item.status.status != "open" else ""
    return (
        f"• {EMOJI[item.severity]} *{who}*{reach}: “{post}” {t.link(mention.url, 'open')}"
    ).rstrip() + done


def _label(category: str | None) -> str:
    return category_label(category) if category else "—"
