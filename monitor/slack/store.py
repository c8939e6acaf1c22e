"""The Slack side's own queries: which message belongs to which post, and who did what.

Kept apart from storage/repository.py because only the Slack sender and the button handler
need them. Every write is its own short transaction, made right after Slack accepted a
message, so a crash leaves at most the last message unrecorded, and that one is found again
by its metadata (see sink.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from monitor.alert_model import Answered, minutes_between
from storage.models import Alert, AlertAction, Author, Mention, MentionLabel, SlackMessage
from storage.repository import Repository

ROOT_KINDS = ("alert", "summarised")
POSTED_KINDS = ("alert", "summary")


class SlackStore:
    def __init__(self, engine: Engine) -> None:
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._repository = Repository(engine)

    # -- reading ------------------------------------------------------------------------------

    def root_for_mention(self, mention_id: int) -> SlackMessage | None:
        """The post's message (or its line in a summary); the newest wins after a promotion."""
        with self.sessions() as session:
            return session.scalars(
                select(SlackMessage)
                .where(SlackMessage.mention_id == mention_id, SlackMessage.kind.in_(ROOT_KINDS))
                .order_by(SlackMessage.id.desc())
                .limit(1)
            ).first()

    def incident_root(self, brand: str, channel: str, since: datetime) -> SlackMessage | None:
        """The brand's incident message in `channel`: its newest top-level spike message
        posted since `since`."""
        with self.sessions() as session:
            return session.scalars(
                select(SlackMessage)
                .join(Alert, Alert.id == SlackMessage.alert_id)
                .where(
                    Alert.kind == "spike",
                    Alert.brand == brand,
                    SlackMessage.channel == channel,
                    SlackMessage.kind == "alert",
                    SlackMessage.thread_ts.is_(None),
                    SlackMessage.posted_at >= since,
                )
                .order_by(SlackMessage.id.desc())
                .limit(1)
            ).first()

    def conversation_root(self, mention: Mention) -> SlackMessage | None:
        """When `mention` answers the brand's reply to a post that has a message: that
        message (the customer's follow-up belongs in its thread)."""
        if not mention.in_reply_to:
            return None
        brand_reply, original = aliased(Mention), aliased(Mention)
        with self.sessions() as session:
            found = session.scalar(
                select(original.id)
                .join(
                    brand_reply,
                    (brand_reply.network == original.network)
                    & (brand_reply.in_reply_to == original.native_id),
                )
                .where(
                    brand_reply.network == mention.network,
                    brand_reply.native_id == mention.in_reply_to,
                    brand_reply.from_brand.is_(True),
                    original.id != mention.id,
                )
                .limit(1)
            )
        return self.root_for_mention(found) if found is not None else None

    def answered(self, mention: Mention) -> Answered | None:
        """Whether and how fast the brand answered the post (its first reply)."""
        found = self._repository.brand_answer(mention.network, mention.native_id)
        if found is None:
            return None
        return Answered(found[0], minutes_between(mention.created_at, found[1]))

    def for_alert(self, alert_id: int) -> SlackMessage | None:
        with self.sessions() as session:
            return session.scalars(
                select(SlackMessage)
                .where(SlackMessage.alert_id == alert_id)
                .order_by(SlackMessage.id.desc())
                .limit(1)
            ).first()

    def at(self, channel: str, ts: str) -> SlackMessage | None:
        """The alert message Slack knows as (channel, ts), e.g. the one whose button was hit."""
        with self.sessions() as session:
            return session.scalars(
                select(SlackMessage).where(
                    SlackMessage.channel == channel,
                    SlackMessage.ts == ts,
                    SlackMessage.kind == "alert",
                )
            ).first()

    def posted_since(self, channel: str, since: datetime) -> int:
        """Top-level messages (alerts and summaries) posted in `channel` since `since`."""
        with self.sessions() as session:
            return (
                session.scalar(
                    select(func.count())
                    .select_from(SlackMessage)
                    .where(
                        SlackMessage.channel == channel,
                        SlackMessage.kind.in_(POSTED_KINDS),
                        SlackMessage.thread_ts.is_(None),
                        SlackMessage.posted_at >= since,
                    )
                )
                or 0
            )

    def open_summary(self, channel: str, since: datetime) -> SlackMessage | None:
        with self.sessions() as session:
            return session.scalars(
                select(SlackMessage)
                .where(
                    SlackMessage.channel == channel,
                    SlackMessage.kind == "summary",
                    SlackMessage.posted_at >= since,
                )
                .order_by(SlackMessage.id.desc())
                .limit(1)
            ).first()

    def summary_items(
        self, channel: str, ts: str
    ) -> list[tuple[SlackMessage, Alert | None, Mention | None, Author | None]]:
        with self.sessions() as session:
            rows = session.execute(
                select(SlackMessage, Alert, Mention, Author)
                .outerjoin(Alert, Alert.id == SlackMessage.alert_id)
                .outerjoin(Mention, Mention.id == SlackMessage.mention_id)
                .outerjoin(Author, Author.id == Mention.author_id)
                .where(
                    SlackMessage.channel == channel,
                    SlackMessage.ts == ts,
                    SlackMessage.kind == "summarised",
                )
                .order_by(SlackMessage.id)
            )
            return [(m, a, n, u) for m, a, n, u in rows.tuples()]

    def alert(self, alert_id: int | None) -> Alert | None:
        if alert_id is None:
            return None
        with self.sessions() as session:
            return session.get(Alert, alert_id)

    def mention(self, mention_id: int | None) -> tuple[Mention, Author | None] | None:
        return None if mention_id is None else self._repository.mention(mention_id)

    def actions(self, message_id: int) -> list[AlertAction]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(AlertAction)
                    .where(AlertAction.message_id == message_id)
                    .order_by(AlertAction.id)
                )
            )

    def labels(self, mention_id: int) -> list[MentionLabel]:
        with self.sessions() as session:
            return list(
                session.scalars(select(MentionLabel).where(MentionLabel.mention_id == mention_id))
            )

    # -- writing ------------------------------------------------------------------------------

    def record(
        self,
        *,
        kind: str,
        channel: str,
        ts: str,
        at: datetime,
        alert_id: int | None = None,
        mention_id: int | None = None,
        severity: str | None = None,
        escalated: bool = False,
        thread_ts: str | None = None,
    ) -> SlackMessage:
        with self.sessions.begin() as session:
            message = SlackMessage(
                kind=kind,
                channel=channel,
                ts=ts,
                thread_ts=thread_ts,
                posted_at=at,
                alert_id=alert_id,
                mention_id=mention_id,
                severity=severity,
                escalated_at=at if escalated else None,
                status="open",
            )
            session.add(message)
        return message

    def mark_escalated(self, message_id: int, *, at: datetime, severity: str) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(SlackMessage)
                .where(SlackMessage.id == message_id, SlackMessage.escalated_at.is_(None))
                .values(escalated_at=at, severity=severity)
            )

    def set_severity(self, message_id: int, severity: str) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(SlackMessage).where(SlackMessage.id == message_id).values(severity=severity)
            )

    def record_action(
        self,
        message_id: int,
        *,
        status: str,
        user_id: str,
        user_name: str | None,
        at: datetime,
        snoozed_until: datetime | None = None,
    ) -> SlackMessage:
        """Log the action, make it the message's status, and label the mention for the
        brand's learning: acknowledged or resolved say "complaint", "not_complaint" says no
        (and stops re-reading its engagement)."""
        with self.sessions.begin() as session:
            message = session.get(SlackMessage, message_id)
            if message is None:
                raise KeyError(message_id)
            message.status = status
            message.status_by = user_id
            message.status_at = at
            message.snoozed_until = snoozed_until
            session.add(
                AlertAction(
                    message_id=message_id,
                    mention_id=message.mention_id,
                    action=status,
                    user_id=user_id,
                    user_name=user_name,
                    at=at,
                )
            )
            if status in {"acknowledged", "resolved"} and message.mention_id is not None:
                self._label(session, message.mention_id, "complaint", user_id, at)
            if status == "not_complaint" and message.mention_id is not None:
                self._label(session, message.mention_id, "not_complaint", user_id, at)
                session.execute(
                    update(Mention)
                    .where(Mention.id == message.mention_id)
                    .values(tracking=False, next_refresh_at=None)
                )
        return message

    @staticmethod
    def _label(session: Session, mention_id: int, label: str, user_id: str, at: datetime) -> None:
        exists = session.scalar(
            select(MentionLabel.id).where(
                MentionLabel.mention_id == mention_id, MentionLabel.label == label
            )
        )
        if exists is None:
            session.add(
                MentionLabel(
                    mention_id=mention_id, label=label, source="slack", user_id=user_id, at=at
                )
            )
