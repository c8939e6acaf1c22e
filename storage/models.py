"""SQLAlchemy 2.0 typed models: what brandmon remembers.

One table per thing the daemon must not lose: mentions (unique per network and native id, so
a post found twice is stored once), their authors, engagement over time, the alert outbox,
and each source's cursor and health.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use timezone-aware UTC")
        from datetime import UTC

        return value.astimezone(UTC).replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Author(Base):
    __tablename__ = "authors"
    __table_args__ = (UniqueConstraint("network", "native_id", name="uq_author_native"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network: Mapped[str] = mapped_column(String(32))
    native_id: Mapped[str] = mapped_column(String(64))
    handle: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    followers: Mapped[int | None] = mapped_column(BigInteger)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)


class Mention(Base):
    """A post that matched a brand, with the judgement made on it and its latest engagement."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("network", "native_id", name="uq_mention_native"),
        # Partial indexes: only tracked posts and replies are looked up this way, and
        # leaving the rest out keeps the write path cheap.
        Index(
            "ix_mentions_tracking",
            "next_refresh_at",
            sqlite_where=text("next_refresh_at IS NOT NULL"),
            postgresql_where=text("next_refresh_at IS NOT NULL"),
        ),
        Index(
            "ix_mentions_reply_to",
            "network",
            "in_reply_to",
            sqlite_where=text("in_reply_to IS NOT NULL"),
            postgresql_where=text("in_reply_to IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(64))
    network: Mapped[str] = mapped_column(String(32))
    native_id: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(512))
    lang: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    fetched_at: Mapped[datetime]
    in_reply_to: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    from_brand: Mapped[bool] = mapped_column(Boolean, default=False)
    sentiment: Mapped[float | None] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str | None] = mapped_column(String(64))
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The judgement (rules/judge.py): intent, the complaint probability, and for complaints
    # severity 1-4 and risk flags. NULL intent: not judged (the brand's own, or a language
    # brandmon does not judge; `reasons` says which).
    intent: Mapped[str | None] = mapped_column(String(16))
    complaint_score: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[int | None] = mapped_column(SmallInteger)
    risks: Mapped[list[Any] | None] = mapped_column(JSON, default=list)
    reply: Mapped[str | None] = mapped_column(Text)
    risk: Mapped[float | None] = mapped_column(Float)
    tracking: Mapped[bool] = mapped_column(Boolean, default=False)
    next_refresh_at: Mapped[datetime | None]
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    reposts: Mapped[int] = mapped_column(BigInteger, default=0)
    replies: Mapped[int] = mapped_column(BigInteger, default=0)
    quotes: Mapped[int] = mapped_column(BigInteger, default=0)


class EngagementSnapshot(Base):
    __tablename__ = "engagement_snapshots"
    __table_args__ = (Index("ix_snapshots_mention", "mention_id", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime]
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    reposts: Mapped[int] = mapped_column(BigInteger, default=0)
    replies: Mapped[int] = mapped_column(BigInteger, default=0)
    quotes: Mapped[int] = mapped_column(BigInteger, default=0)
    views: Mapped[int | None] = mapped_column(BigInteger)


class Alert(Base):
    """The outbox: an alert is written here in the same transaction as its cause, then sent.

    `dedupe_key` is unique, so the same cause (e.g. "complaint:<mention id>") can never queue
    two alerts, even across restarts.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status", "status", "next_attempt_at"),
        Index("ix_alerts_mention", "mention_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    brand: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(128))
    ts: Mapped[str | None] = mapped_column(String(64))


class SourceState(Base):
    """A source's cursor and health; the cursor moves only with a committed batch."""

    __tablename__ = "source_state"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    last_poll_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_until: Mapped[datetime | None]
    paused_reason: Mapped[str | None] = mapped_column(Text)
    items_total: Mapped[int] = mapped_column(BigInteger, default=0)
    quota_remaining: Mapped[int | None] = mapped_column(Integer)
    # posts that could not be normalised or stored, skipped so the rest of the batch went in
    skipped_total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class PostRead(Base):
    """A post a paid source read on a UTC day: X bills each post once a day, so the day's
    billable reads are this table's rows for the source and day (see core.billing)."""

    __tablename__ = "post_reads"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    native_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Lease(Base):
    """Who does a thing in a cluster of daemons: a source's polls, or a once-per-cluster job.

    A daemon holds a lease by renewing it before `expires_at`; when it dies the lease runs
    out and the next daemon to ask takes it over (repository.acquire_lease).
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class DigestRun(Base):
    """One brand's weekly digest: claimed by a unique (brand, week) insert, then sent once.

    The insert is the lock: a restarted daemon, or a second one on the same PostgreSQL,
    finds the row and does not send again. Status moves sending -> sent, or to retry (with
    `next_attempt_at`) after a failed attempt, or to failed once the attempts are used up.
    """

    __tablename__ = "digest_runs"
    __table_args__ = (
        UniqueConstraint("brand", "week", name="uq_digest_brand_week"),
        Index("ix_digest_runs_status", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    brand: Mapped[str] = mapped_column(String(128))
    week: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[str | None] = mapped_column(Text)


# The digest's scans: a brand's mentions by others, or its own replies, in a time range.
Index("ix_mentions_brand_own", Mention.brand, Mention.from_brand, Mention.created_at)


class SlackMessage(Base):
    """A top-level Slack message brandmon posted, so a post's later news goes to its thread.

    `kind` is "alert" (one per post, or one per spike/operations alert), "summary" (the
    message that rolls up alerts over the channel's rate limit) or "summarised" (a post whose
    alert went into the summary at `ts`). `thread_ts` is set when the message itself went into
    another's thread (an incident's complaint, a customer's follow-up): it is no top-level
    message, and its news goes to that thread. The support team's latest action is kept here;
    every action is also logged in `alert_actions`.
    """

    __tablename__ = "slack_messages"
    __table_args__ = (
        Index("ix_slack_messages_ts", "channel", "ts"),
        Index("ix_slack_messages_posted", "channel", "posted_at"),
        Index("ix_slack_messages_mention", "mention_id"),
        Index("ix_slack_messages_alert", "alert_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime]
    severity: Mapped[str | None] = mapped_column(String(16))
    escalated_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="open")
    status_by: Mapped[str | None] = mapped_column(String(64))
    status_at: Mapped[datetime | None]
    snoozed_until: Mapped[datetime | None]


class AlertAction(Base):
    """Who pressed which button on which Slack alert, and when (the audit trail)."""

    __tablename__ = "alert_actions"
    __table_args__ = (Index("ix_alert_actions_message", "message_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("slack_messages.id", ondelete="CASCADE"))
    mention_id: Mapped[int | None] = mapped_column(ForeignKey("mentions.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime]


class MentionLabel(Base):
    """A person's verdict on a mention ("not_complaint", "complaint"): what each brand's
    own correction to the shipped model learns from (monitor/learning.py)."""

    __tablename__ = "mention_labels"
    __table_args__ = (UniqueConstraint("mention_id", "label", name="uq_mention_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]


class BrandModel(Base):
    """A brand's correction to the shipped judgement, learned from its team's labels."""

    __tablename__ = "brand_models"

    brand: Mapped[str] = mapped_column(String(128), primary_key=True)
    labels: Mapped[int] = mapped_column(Integer)  # how many labels it was learned from
    trained_at: Mapped[datetime]
    model: Mapped[bytes] = mapped_column(LargeBinary)
