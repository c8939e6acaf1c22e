"""The queries the rest of brandmon needs, in one place, on SQLite and PostgreSQL alike.

The write path (`store_batch`) is the hot path: one transaction per batch that upserts
authors, inserts mentions with ON CONFLICT DO NOTHING (so a post seen twice is stored once),
queues alerts for the new flagged ones in the outbox, and moves the source's cursor. Either
all of it is committed or none of it, which is what makes kill-and-restart safe.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, sessionmaker

from core.records import Engagement, Post
from storage.bulk import BulkInsert
from storage.models import (
    Alert,
    Author,
    EngagementSnapshot,
    Lease,
    Mention,
    PostRead,
    SourceState,
)

log = logging.getLogger(__name__)

AUTHOR_CACHE_SIZE = 20_000  # authors whose stored row we remember, to skip rewriting them


@dataclass(slots=True)
class NewMention:
    """A judged post ready to store; `alert_kind` queues an outbox alert when set."""

    post: Post
    brand: str
    source: str
    from_brand: bool = False
    sentiment: float | None = None
    flagged: bool = False
    category: str | None = None
    reasons: list[str] = field(default_factory=list)
    intent: str | None = None
    complaint_score: float | None = None
    severity: int | None = None
    risks: list[str] = field(default_factory=list)
    language: str | None = None  # the judged language, stored when the network gave none
    reply: str | None = None
    tracking: bool = False
    next_refresh_at: datetime | None = None
    alert_kind: str | None = None


class LeaseLostError(Exception):
    """The daemon storing a batch no longer holds its source's lease: another daemon took the
    source over while this batch was being fetched, so nothing of it is written."""


@dataclass(frozen=True, slots=True)
class LeaseFence:
    """Who must still hold which lease for a batch to be written (the fencing token is the
    holder's name: host, pid and a random part, new for every daemon run)."""

    lease: str
    holder: str


@dataclass(frozen=True, slots=True)
class StoredBatch:
    inserted: int
    duplicates: int
    alerts_queued: int
    skipped: int = 0  # posts that could not be normalised or stored

    def plus(self, other: StoredBatch) -> StoredBatch:
        return StoredBatch(
            self.inserted + other.inserted,
            self.duplicates + other.duplicates,
            self.alerts_queued + other.alerts_queued,
            self.skipped + other.skipped,
        )


@dataclass(frozen=True, slots=True)
class DueRefresh:
    """A tracked mention whose engagement should be re-read now."""

    mention_id: int
    source: str
    network: str
    native_id: str
    brand: str
    created_at: datetime
    risk: float | None
    followers: int | None


@dataclass(frozen=True, slots=True)
class PastPost:
    """A flagged post whose tracking has ended: its reads (time, total engagement) and the
    author's reach, as the viral-risk model learns from them (monitor/history.py)."""

    created_at: datetime
    followers: int | None
    reads: list[tuple[datetime, int]]
    final: int


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to queue together with another write (deduplicated by key)."""

    dedupe_key: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


# The database could not be reached or used: never a reason to skip a post.
_UNREACHABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:300]


def _check_fence(conn: Any, fence: LeaseFence) -> None:
    """Raise LeaseLostError unless `fence.holder` still has `fence.lease`. The no-op UPDATE takes
    the row's lock until the transaction ends, so a takeover waits for this batch's commit
    (PostgreSQL; SQLite has one writer at a time anyway)."""
    held = conn.execute(
        update(Lease)
        .where(Lease.name == fence.lease, Lease.holder == fence.holder)
        .values(expires_at=Lease.expires_at)
    ).rowcount
    if not held:
        raise LeaseLostError(f"{fence.lease} is no longer held by {fence.holder}")


def _insert_for(engine: Engine) -> Any:
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True, slots=True)
class _BulkStatements:
    """The hot path's multi-row INSERTs, compiled once per engine (column order = row order)."""

    authors: BulkInsert
    mentions: BulkInsert
    snapshots: BulkInsert
    alerts: BulkInsert
    success: BulkInsert  # a source's state after a committed batch

    @classmethod
    def build(cls, engine: Engine) -> _BulkStatements:
        dialect = engine.dialect
        return cls(
            authors=BulkInsert.build(
                Author.__table__,  # type: ignore[arg-type]
                ["network", "native_id", "handle", "name", "followers", "verified"],
                dialect,
                on_conflict=(
                    "ON CONFLICT (network, native_id) DO UPDATE SET handle = excluded.handle, "
                    "name = excluded.name, "
                    "followers = COALESCE(excluded.followers, authors.followers), "
                    "verified = excluded.verified"
                ),
                returning="id, network, native_id",
            ),
            mentions=BulkInsert.build(
                Mention.__table__,  # type: ignore[arg-type]
                [
                    "brand",
                    "source",
                    "network",
                    "native_id",
                    "author_id",
                    "text",
                    "url",
                    "lang",
                    "created_at",
                    "fetched_at",
                    "in_reply_to",
                    "conversation_id",
                    "from_brand",
                    "sentiment",
                    "flagged",
                    "category",
                    "reasons",
                    "intent",
                    "complaint_score",
                    "severity",
                    "risks",
                    "reply",
                    "tracking",
                    "next_refresh_at",
                    "likes",
                    "reposts",
                    "replies",
                    "quotes",
                ],
                dialect,
                on_conflict="ON CONFLICT (network, native_id) DO NOTHING",
                returning="id, network, native_id",
            ),
            snapshots=BulkInsert.build(
                EngagementSnapshot.__table__,  # type: ignore[arg-type]
                ["mention_id", "taken_at", "likes", "reposts", "replies", "quotes", "views"],
                dialect,
            ),
            alerts=BulkInsert.build(
                Alert.__table__,  # type: ignore[arg-type]
                [
                    "dedupe_key",
                    "kind",
                    "mention_id",
                    "brand",
                    "payload",
                    "status",
                    "attempts",
                    "created_at",
                    "next_attempt_at",
                ],
                dialect,
                on_conflict="ON CONFLICT (dedupe_key) DO NOTHING",
            ),
            success=BulkInsert.build(
                SourceState.__table__,  # type: ignore[arg-type]
                [
                    "source",
                    "cursor",
                    "last_poll_at",
                    "last_success_at",
                    "consecutive_failures",
                    "items_total",
                    "quota_remaining",
                    "skipped_total",
                ],
                dialect,
                # A batch without a cursor or a quota reading keeps the stored one.
                on_conflict=(
                    "ON CONFLICT (source) DO UPDATE SET "
                    "cursor = COALESCE(excluded.cursor, source_state.cursor), "
                    "last_poll_at = excluded.last_poll_at, "
                    "last_success_at = excluded.last_success_at, "
                    "consecutive_failures = 0, paused_until = NULL, paused_reason = NULL, "
                    "items_total = source_state.items_total + excluded.items_total, "
                    "quota_remaining = "
                    "COALESCE(excluded.quota_remaining, source_state.quota_remaining), "
                    "skipped_total = source_state.skipped_total + excluded.skipped_total"
                ),
            ),
        )


class Repository:
    """All database access; callers pass timezone-aware UTC datetimes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._insert = _insert_for(engine)
        self._bulk = _BulkStatements.build(engine)
        self._known_sql_by_count: dict[int, str] = {}
        self._author_lock = threading.Lock()
        self._author_cache: OrderedDict[tuple[str, str], tuple[int, tuple[Any, ...]]] = (
            OrderedDict()
        )

    # -- write path ---------------------------------------------------------------------------

    def store_batch(
        self,
        *,
        source: str,
        mentions: Sequence[NewMention],
        cursor: str | None,
        fetched_at: datetime,
        quota_remaining: int | None = None,
        skipped: int = 0,
        fence: LeaseFence | None = None,
    ) -> StoredBatch:
        """Store a batch, queue its alerts and move the cursor, all in one transaction.

        With a `fence`, that transaction first checks (and on PostgreSQL locks) the lease row:
        if another daemon has taken the source over, LeaseLostError is raised and nothing is
        written, so a daemon that stalled past its lease never moves back a cursor its
        successor moved.

        When the database refuses the batch for what is in it (a value it cannot store), each
        mention is stored on its own and those it still refuses are skipped, logged with
        their id and counted (`skipped`, and `source_state.skipped_total`); the cursor moves
        with the last of them. Trouble reaching the database is raised: nothing is skipped
        for it. `skipped` adds posts the caller already dropped (e.g. not normalisable).
        """
        try:
            return self._store_all(
                source, mentions, cursor, fetched_at, quota_remaining, skipped=skipped, fence=fence
            )
        except (*_UNREACHABLE, LeaseLostError):
            raise
        except Exception as exc:
            if len(mentions) == 0:
                raise
            log.warning("source %s: batch refused (%s); storing post by post", source, exc)
        totals = StoredBatch(0, 0, 0, skipped)
        for mention in mentions:
            try:
                one = self._store_all(
                    source, [mention], None, fetched_at, None, skipped=0, fence=fence
                )
            except (*_UNREACHABLE, LeaseLostError):
                raise
            except Exception as exc:
                log.warning(
                    "source %s: skipped post %s:%s that cannot be stored: %s",
                    source,
                    mention.post.network,
                    mention.post.native_id,
                    _first_line(exc),
                )
                one = StoredBatch(0, 0, 0, 1)
            totals = totals.plus(one)
        # the cursor and the count move once every post that could be stored is in
        self._store_all(
            source, [], cursor, fetched_at, quota_remaining, skipped=totals.skipped, fence=fence
        )
        return totals

    def _store_all(
        self,
        source: str,
        mentions: Sequence[NewMention],
        cursor: str | None,
        fetched_at: datetime,
        quota_remaining: int | None,
        *,
        skipped: int,
        fence: LeaseFence | None = None,
    ) -> StoredBatch:
        given = len(mentions)
        unique = list({(m.post.network, m.post.native_id): m for m in reversed(mentions)}.values())
        unique.reverse()
        with self.engine.begin() as conn:
            if fence is not None:
                _check_fence(conn, fence)
            author_ids, remember = self._upsert_authors(conn, [m.post for m in unique])
            inserted = {
                (network, native_id): row_id
                for row_id, network, native_id in self._bulk.mentions.execute(
                    conn, [self._mention_row(m, author_ids, fetched_at) for m in unique]
                )
            }
            new = [m for m in unique if (m.post.network, m.post.native_id) in inserted]
            self._bulk.snapshots.execute(
                conn,
                [
                    self._snapshot_row(
                        inserted[(m.post.network, m.post.native_id)], m.post, fetched_at
                    )
                    for m in new
                    if m.tracking
                ],
            )
            alert_rows = [
                (
                    f"{m.alert_kind}:{m.post.network}:{m.post.native_id}",
                    m.alert_kind,
                    inserted[(m.post.network, m.post.native_id)],
                    m.brand,
                    {},
                    "pending",
                    0,
                    fetched_at,
                    fetched_at,
                )
                for m in new
                if m.alert_kind
            ]
            self._bulk.alerts.execute(conn, alert_rows)
            self._record_success(
                conn, source, cursor, fetched_at, len(new), quota_remaining, skipped
            )
        self._remember_authors(remember)
        return StoredBatch(len(new), given - len(new), len(alert_rows), skipped)

    def known_mentions(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (network, native id) pairs are stored already."""
        by_network: dict[str, list[str]] = {}
        for network, native_id in keys:
            by_network.setdefault(network, []).append(native_id)
        found: set[tuple[str, str]] = set()
        with self.engine.connect() as conn:
            for network, native_ids in by_network.items():
                for chunk in _chunks(native_ids, 500):
                    rows = conn.exec_driver_sql(self._known_sql(len(chunk)), (network, *chunk))
                    found.update((network, native_id) for (native_id,) in rows)
        return found

    def _known_sql(self, count: int) -> str:
        """`known_mentions`' query for `count` ids, as driver SQL made once per count: every
        batch asks it, and rendering an expanding IN list per call cost more than the lookup."""
        sql = self._known_sql_by_count.get(count)
        if sql is None:
            mark = self._bulk.mentions.mark
            sql = (
                f"SELECT native_id FROM mentions WHERE network = {mark} "
                f"AND native_id IN ({', '.join(mark for _ in range(count))})"
            )
            self._known_sql_by_count[count] = sql
        return sql

    def _upsert_authors(
        self, conn: Any, posts: Sequence[Post]
    ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], tuple[Any, ...]]]:
        """Author ids for `posts`, writing only authors that are new or changed.

        Returns the ids and the cache entries to remember once the transaction commits
        (remembering them earlier could cache ids that a rollback took back).
        """
        wanted: dict[tuple[str, str], tuple[Any, ...]] = {}
        for post in posts:
            a = post.author
            if not a.native_id:  # deleted or unknown author: the mention keeps no author
                continue
            wanted[(post.network, a.native_id)] = (
                post.network,
                a.native_id,
                a.handle,
                a.name,
                a.followers,
                a.verified,
            )
        ids: dict[tuple[str, str], int] = {}
        changed: dict[tuple[str, str], tuple[Any, ...]] = {}
        with self._author_lock:
            for key, row in wanted.items():
                cached = self._author_cache.get(key)
                if cached is not None and cached[1] == row:
                    ids[key] = cached[0]
                else:
                    changed[key] = row
        if not changed:
            return ids, {}
        fresh = {
            (network, native_id): row_id
            for row_id, network, native_id in self._bulk.authors.execute(
                conn, list(changed.values())
            )
        }
        ids.update(fresh)
        return ids, {key: (fresh[key], row) for key, row in changed.items() if key in fresh}

    def _remember_authors(self, entries: dict[tuple[str, str], tuple[Any, ...]]) -> None:
        with self._author_lock:
            for key, entry in entries.items():
                self._author_cache[key] = entry
                self._author_cache.move_to_end(key)
            while len(self._author_cache) > AUTHOR_CACHE_SIZE:
                self._author_cache.popitem(last=False)

    @staticmethod
    def _mention_row(
        m: NewMention, author_ids: dict[tuple[str, str], int], fetched_at: datetime
    ) -> tuple[Any, ...]:
        post, eng = m.post, m.post.engagement
        return (
            m.brand,
            m.source,
            post.network,
            post.native_id,
            author_ids.get((post.network, post.author.native_id)),
            post.text,
            post.url,
            post.lang or m.language,
            post.created_at,
            fetched_at,
            post.in_reply_to,
            post.conversation_id,
            m.from_brand,
            m.sentiment,
            m.flagged,
            m.category,
            m.reasons,
            m.intent,
            m.complaint_score,
            m.severity,
            m.risks,
            m.reply,
            m.tracking,
            m.next_refresh_at,
            eng.likes,
            eng.reposts,
            eng.replies,
            eng.quotes,
        )

    @staticmethod
    def _snapshot_row(mention_id: int, post: Post, taken_at: datetime) -> tuple[Any, ...]:
        eng = post.engagement
        return (
            mention_id,
            taken_at,
            eng.likes,
            eng.reposts,
            eng.replies,
            eng.quotes,
            eng.views,
        )

    # -- source state -------------------------------------------------------------------------

    def _state(self, session: Session, source: str) -> SourceState:
        state = session.get(SourceState, source)
        if state is None:
            state = SourceState(source=source, consecutive_failures=0, items_total=0)
            session.add(state)
        return state

    def _record_success(
        self,
        conn: Any,
        source: str,
        cursor: str | None,
        at: datetime,
        items: int,
        quota_remaining: int | None,
        skipped: int = 0,
    ) -> None:
        """Move the cursor and mark the source healthy, in the batch's transaction (one
        statement made once: building an upsert per batch cost ~0.3 ms)."""
        self._bulk.success.execute(
            conn, [(source, cursor, at, at, 0, items, quota_remaining, skipped)]
        )

    def source_state(self, source: str) -> SourceState | None:
        with self.sessions() as session:
            return session.get(SourceState, source)

    def cursor(self, source: str) -> str | None:
        with self.sessions() as session:
            state = session.get(SourceState, source)
            return state.cursor if state else None

    def record_failure(
        self,
        source: str,
        *,
        error: str,
        at: datetime,
        paused_until: datetime | None,
        paused_reason: str | None = None,
    ) -> int:
        """Note a failed poll; returns the number of failures in a row."""
        with self.sessions.begin() as session:
            state = self._state(session, source)
            state.last_poll_at = at
            state.last_error_at = at
            state.last_error = error[:2000]
            state.consecutive_failures = (state.consecutive_failures or 0) + 1
            state.paused_until = paused_until
            state.paused_reason = paused_reason
            return state.consecutive_failures

    def pause_source(self, source: str, *, until: datetime, reason: str) -> None:
        """Pause a source that is not failing (a spent budget): no failure is counted."""
        with self.sessions.begin() as session:
            state = self._state(session, source)
            state.paused_until = until
            state.paused_reason = reason

    # -- paid reads ---------------------------------------------------------------------------

    def record_reads(self, source: str, day: date, native_ids: Iterable[str]) -> int:
        """Note posts `source` read on `day`; returns how many it had not read that day."""
        rows = [{"source": source, "day": day, "native_id": i} for i in sorted(set(native_ids))]
        inserted = 0
        with self.engine.begin() as conn:
            for chunk in _chunks(rows, 500):
                stmt = (
                    self._insert(PostRead)
                    .values(list(chunk))
                    .on_conflict_do_nothing()
                    .returning(PostRead.native_id)
                )
                inserted += len(conn.execute(stmt).all())
        return inserted

    def read_counts(self, first: date, last: date) -> dict[str, int]:
        """Billable reads per source on the days from `first` to `last`, both included."""
        with self.sessions() as session:
            rows = session.execute(
                select(PostRead.source, func.count())
                .where(PostRead.day >= first, PostRead.day <= last)
                .group_by(PostRead.source)
            )
            return dict(rows.tuples().all())

    def source_states(self) -> list[SourceState]:
        with self.sessions() as session:
            return list(session.scalars(select(SourceState).order_by(SourceState.source)))

    def mention_counts_by_source(self) -> dict[str, int]:
        with self.sessions() as session:
            rows = session.execute(select(Mention.source, func.count()).group_by(Mention.source))
            return dict(rows.tuples().all())

    # -- engagement tracking ------------------------------------------------------------------

    def due_refreshes(self, now: datetime, limit: int = 1000) -> list[DueRefresh]:
        with self.sessions() as session:
            rows = session.execute(
                select(
                    Mention.id,
                    Mention.source,
                    Mention.network,
                    Mention.native_id,
                    Mention.brand,
                    Mention.created_at,
                    Mention.risk,
                    Author.followers,
                )
                .outerjoin(Author, Author.id == Mention.author_id)
                .where(Mention.next_refresh_at <= now)
                .order_by(Mention.next_refresh_at)
                .limit(limit)
            )
            return [DueRefresh(*row) for row in rows]

    def past_posts(
        self, brand: str, network: str, *, until: datetime, since: datetime, limit: int = 1000
    ) -> list[PastPost]:
        """The brand's newest flagged posts on `network` created in [since, until] whose
        tracking has ended, with their engagement reads (served by ix_mentions_brand_own)."""
        total = Mention.likes + Mention.reposts + Mention.replies + Mention.quotes
        with self.sessions() as session:
            rows = session.execute(
                select(Mention.id, Mention.created_at, Author.followers, total)
                .outerjoin(Author, Author.id == Mention.author_id)
                .where(
                    Mention.brand == brand,
                    Mention.from_brand.is_(False),
                    Mention.created_at >= since,
                    Mention.created_at <= until,
                    Mention.network == network,
                    Mention.flagged.is_(True),
                    Mention.next_refresh_at.is_(None),
                )
                .order_by(Mention.created_at.desc())
                .limit(limit)
            ).all()
            reads: dict[int, list[tuple[datetime, int]]] = {row[0]: [] for row in rows}
            for ids in _chunks(list(reads), 500):
                snaps = session.execute(
                    select(
                        EngagementSnapshot.mention_id,
                        EngagementSnapshot.taken_at,
                        EngagementSnapshot.likes
                        + EngagementSnapshot.reposts
                        + EngagementSnapshot.replies
                        + EngagementSnapshot.quotes,
                    )
                    .where(EngagementSnapshot.mention_id.in_(ids))
                    .order_by(EngagementSnapshot.mention_id, EngagementSnapshot.taken_at)
                )
                for mention_id, taken_at, n in snaps:
                    reads[mention_id].append((taken_at, int(n)))
        return [
            PastPost(created_at, followers, reads[mid], int(final))
            for mid, created_at, followers, final in rows
            if reads[mid]
        ]

    def snapshots(self, mention_id: int) -> list[EngagementSnapshot]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(EngagementSnapshot)
                    .where(EngagementSnapshot.mention_id == mention_id)
                    .order_by(EngagementSnapshot.taken_at)
                )
            )

    def record_engagement(
        self,
        mention_id: int,
        engagement: Engagement | None,
        *,
        at: datetime,
        next_refresh_at: datetime | None,
        risk: float | None = None,
        alert: NewAlert | None = None,
    ) -> None:
        """Store a snapshot (when the network still has the post), schedule the next one,
        and queue `alert` for this mention, all in one transaction."""
        values: dict[str, Any] = {
            "next_refresh_at": next_refresh_at,
            "tracking": next_refresh_at is not None,
        }
        if risk is not None:
            values["risk"] = risk
        with self.engine.begin() as conn:
            if engagement is not None:
                self._bulk.snapshots.execute(
                    conn,
                    [
                        (
                            mention_id,
                            at,
                            engagement.likes,
                            engagement.reposts,
                            engagement.replies,
                            engagement.quotes,
                            engagement.views,
                        )
                    ],
                )
                values |= {
                    "likes": engagement.likes,
                    "reposts": engagement.reposts,
                    "replies": engagement.replies,
                    "quotes": engagement.quotes,
                }
            conn.execute(update(Mention).where(Mention.id == mention_id).values(**values))
            if alert is not None:
                brand = conn.scalar(select(Mention.brand).where(Mention.id == mention_id))
                self._bulk.alerts.execute(
                    conn,
                    [
                        (
                            alert.dedupe_key,
                            alert.kind,
                            mention_id,
                            brand,
                            alert.payload,
                            "pending",
                            0,
                            at,
                            at,
                        )
                    ],
                )

    # -- alert outbox -------------------------------------------------------------------------

    def queue_alert(
        self,
        *,
        dedupe_key: str,
        kind: str,
        at: datetime,
        brand: str | None = None,
        mention_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Queue an alert unless one with the same key exists; True when it was queued."""
        with self.engine.begin() as conn:
            stmt = (
                self._insert(Alert)
                .on_conflict_do_nothing(index_elements=["dedupe_key"])
                .returning(Alert.id)
            )
            result = conn.execute(
                stmt,
                {
                    "dedupe_key": dedupe_key,
                    "kind": kind,
                    "mention_id": mention_id,
                    "brand": brand,
                    "payload": payload or {},
                    "status": "pending",
                    "attempts": 0,
                    "created_at": at,
                    "next_attempt_at": at,
                },
            )
            return result.first() is not None

    def pending_alerts(self, now: datetime, limit: int = 100, *, after_id: int = 0) -> list[Alert]:
        """Due alerts in queue order, from the one after `after_id` (for paging).

        An alert waits while an earlier first alert about the same post (anything but an
        update) is still pending: a post's update goes into the thread of its first message,
        so it must not go before it. Updates do not wait for each other (a snoozed post's
        held update must not hold back its escalation). A brand's alerts also wait while a
        due spike of that brand is pending: an incident's message goes first, so its
        complaints can go to its thread and their replies know the incident is under way.
        """
        earlier = aliased(Alert)
        waiting = (
            select(earlier.id)
            .where(
                earlier.mention_id == Alert.mention_id,
                earlier.id < Alert.id,
                earlier.status == "pending",
                earlier.kind != "update",
            )
            .exists()
        )
        spike = aliased(Alert)
        incident_first = (
            select(spike.id)
            .where(
                spike.kind == "spike",
                spike.brand == Alert.brand,
                spike.status == "pending",
                spike.next_attempt_at <= now,
                Alert.kind != "spike",
            )
            .exists()
        )
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(Alert)
                    .where(
                        Alert.status == "pending",
                        Alert.next_attempt_at <= now,
                        Alert.id > after_id,
                        ~waiting,
                        ~incident_first,
                    )
                    .order_by(Alert.id)
                    .limit(limit)
                )
            )

    def claim_alert(self, alert_id: int, *, now: datetime, hold_until: datetime) -> int | None:
        """Claim a due alert for one send and count the attempt; returns the attempts made
        before this one, or None when it is not ours (another daemon claimed or sent it).

        The claim is the row's own next_attempt_at moved to `hold_until` in one conditional
        UPDATE, so two daemons can never both send it; a daemon that dies holding a claim
        leaves the alert to be retried (with recovery: attempts > 0) once the hold ends.
        """
        with self.engine.begin() as conn:
            row = conn.execute(
                update(Alert)
                .where(
                    Alert.id == alert_id,
                    Alert.status == "pending",
                    Alert.next_attempt_at <= now,
                )
                .values(attempts=Alert.attempts + 1, next_attempt_at=hold_until)
                .returning(Alert.attempts)
            ).first()
        return None if row is None else int(row[0]) - 1

    def mention(self, mention_id: int) -> tuple[Mention, Author | None] | None:
        with self.sessions() as session:
            row = session.execute(
                select(Mention, Author)
                .outerjoin(Author, Author.id == Mention.author_id)
                .where(Mention.id == mention_id)
            ).first()
            return (row[0], row[1]) if row else None

    def latest_spike_at(self, brand: str, since: datetime) -> datetime | None:
        """When the brand's newest spike alert since `since` was queued: an incident is
        under way while this is recent (replies then point to the status page)."""
        with self.sessions() as session:
            return session.scalar(
                select(func.max(Alert.created_at)).where(
                    Alert.kind == "spike", Alert.brand == brand, Alert.created_at >= since
                )
            )

    def brand_answer(self, network: str, native_id: str) -> tuple[str, datetime] | None:
        """(@handle, when) of the brand's first reply to a post, if it has answered."""
        with self.sessions() as session:
            row = session.execute(
                select(Author.handle, Mention.created_at)
                .join(Author, Author.id == Mention.author_id)
                .where(
                    Mention.network == network,
                    Mention.in_reply_to == native_id,
                    Mention.from_brand.is_(True),
                )
                .order_by(Mention.created_at)
                .limit(1)
            ).first()
            return (row[0], row[1]) if row else None

    def set_reply(self, mention_id: int, reply: str) -> None:
        """Store a complaint's suggested reply (drafted when its alert is first shown)."""
        with self.sessions.begin() as session:
            session.execute(
                update(Mention)
                .where(Mention.id == mention_id, Mention.reply.is_(None))
                .values(reply=reply)
            )

    def mark_sent(
        self, alert_id: int, *, at: datetime, channel: str | None, ts: str | None
    ) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Alert)
                .where(Alert.id == alert_id)
                .values(
                    status="sent",
                    sent_at=at,
                    channel=channel,
                    ts=ts,
                    attempts=Alert.attempts + 1,
                    last_error=None,
                )
            )

    def begin_attempt(self, alert_id: int) -> None:
        """Count an attempt before sending, so a crash mid-send is visible afterwards."""
        with self.sessions.begin() as session:
            session.execute(
                update(Alert).where(Alert.id == alert_id).values(attempts=Alert.attempts + 1)
            )

    def mark_attempt_failed(self, alert_id: int, *, error: str, retry_at: datetime | None) -> None:
        """Record a failed send; `retry_at=None` gives up (status 'failed')."""
        values: dict[str, Any] = {"last_error": error[:2000], "next_attempt_at": retry_at}
        if retry_at is None:
            values["status"] = "failed"
        with self.sessions.begin() as session:
            session.execute(update(Alert).where(Alert.id == alert_id).values(**values))

    def alert_counts(self) -> dict[str, int]:
        with self.sessions() as session:
            rows = session.execute(select(Alert.status, func.count()).group_by(Alert.status))
            return dict(rows.tuples().all())

    def alert_ages(self, now: datetime) -> tuple[dict[str, int], float]:
        """Alerts by status, and the age in seconds of the oldest pending one (0 if none)."""
        with self.sessions() as session:
            oldest = session.scalar(
                select(func.min(Alert.created_at)).where(Alert.status == "pending")
            )
        return self.alert_counts(), max(0.0, (now - oldest).total_seconds()) if oldest else 0.0

    # -- leases (several daemons on one database) ---------------------------------------------

    def acquire_lease(self, name: str, *, holder: str, now: datetime, until: datetime) -> bool:
        """Take or renew lease `name` until `until`; True when `holder` has it now.

        One statement: insert it, or take it over when it is ours or has run out. Two daemons
        asking at once are serialised by the row, and only one of them gets it.
        """
        stmt = self._insert(Lease).values(name=name, holder=holder, expires_at=until)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": holder, "expires_at": until},
            where=(Lease.holder == holder) | (Lease.expires_at <= now),
        ).returning(Lease.holder)
        with self.engine.begin() as conn:
            row = conn.execute(stmt).first()
        return row is not None and row[0] == holder

    def renew_leases(self, *, holder: str, until: datetime) -> int:
        """Extend every lease `holder` has; returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(Lease).where(Lease.holder == holder).values(expires_at=until)
            )
        return int(result.rowcount or 0)

    def release_leases(self, *, holder: str) -> None:
        """Give up every lease `holder` has (a clean stop), so others take over at once."""
        with self.engine.begin() as conn:
            conn.execute(delete(Lease).where(Lease.holder == holder))

    def release_lease(self, name: str, *, holder: str) -> None:
        """Free lease `name` if `holder` still has it."""
        with self.engine.begin() as conn:
            conn.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

    def leases(self) -> list[Lease]:
        with self.sessions() as session:
            return list(session.scalars(select(Lease).order_by(Lease.name)))

    def pause_until(self, name: str) -> datetime | None:
        """When a cluster-wide pause (a lease held by no daemon) ends, if one is set."""
        with self.sessions() as session:
            lease = session.get(Lease, name)
            return lease.expires_at if lease is not None else None

    def set_pause(self, name: str, *, until: datetime, reason: str) -> None:
        """Pause `name` for the whole cluster until `until` (a later pause wins)."""
        stmt = self._insert(Lease).values(name=name, holder=reason[:128], expires_at=until)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": reason[:128], "expires_at": until},
            where=Lease.expires_at < until,
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def clear_credential_pauses(self, sources: Iterable[str], *, marker: str) -> list[str]:
        """End the pauses of these sources whose reason starts with `marker` (rejected
        credentials): a restart may carry new ones. Returns the sources unpaused."""
        names = list(sources)
        with self.engine.begin() as conn:
            rows = conn.execute(
                update(SourceState)
                .where(
                    SourceState.source.in_(names),
                    SourceState.paused_reason.startswith(marker, autoescape=True),
                )
                .values(paused_until=None, paused_reason=None)
                .returning(SourceState.source)
            ).all()
        return sorted(row[0] for row in rows)
