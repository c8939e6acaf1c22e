"""Every number in the digest, computed by SQL aggregation over one brand's two weeks.

Nothing here loads mentions into Python: each query returns at most a few dozen rows
(per-day counts, per-category counts, the handful of example posts, the reply delays at the
percentile positions). The same queries run on SQLite and PostgreSQL:

- Days are bucketed with `CASE created_at < <next local midnight>` against UTC instants
  computed in Python (period.py), so a 23- or 25-hour day needs no time-zone support in SQL.
- Response-time percentiles use window functions on the answered mentions only: rank the
  delays per week, keep the (at most four) rows at the positions the 50th and 90th
  percentiles need, and interpolate between them in Python exactly as PostgreSQL's
  `percentile_cont` does. One code path, identical numbers on both backends.

Definitions (the mail repeats them): a mention is a post by someone other than the brand;
negative means sentiment <= -0.05 among scored mentions; a post went viral when its risk
reached the alerting threshold; response time runs from a mention to the brand's first reply
to it (a brand post on the same network with `in_reply_to` = its id).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from monitor.digest.period import Week
from storage.models import Alert, Author, Mention

NEGATIVE = -0.05
POSITIVE = 0.05
WITHIN_SECONDS = 3600
SPREAD = Mention.reposts + Mention.quotes


@dataclass(frozen=True, slots=True)
class DayCounts:
    day: date
    mentions: int = 0
    complaints: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    viral: int = 0

    @property
    def scored(self) -> int:
        return self.positive + self.neutral + self.negative


@dataclass(frozen=True, slots=True)
class Responses:
    """Reply delays of one week: mentions answered and complaints answered within the hour."""

    answered: int = 0
    answered_complaints: int = 0
    complaints_within_hour: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class WeekFigures:
    days: list[DayCounts]
    categories: dict[str, int]
    alerts: dict[str, int]
    responses: Responses

    @property
    def mentions(self) -> int:
        return sum(d.mentions for d in self.days)

    @property
    def complaints(self) -> int:
        return sum(d.complaints for d in self.days)

    @property
    def negative(self) -> int:
        return sum(d.negative for d in self.days)

    @property
    def scored(self) -> int:
        return sum(d.scored for d in self.days)

    @property
    def viral(self) -> int:
        return sum(d.viral for d in self.days)

    @property
    def spikes(self) -> int:
        return self.alerts.get("spike", 0)

    @property
    def alerts_raised(self) -> int:
        return sum(self.alerts.values())

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored else None

    @property
    def within_hour_share(self) -> float | None:
        """Share of the week's complaints that the brand answered within 60 minutes."""
        if not self.complaints:
            return None
        return self.responses.complaints_within_hour / self.complaints


@dataclass(frozen=True, slots=True)
class PostRow:
    network: str
    native_id: str
    handle: str | None
    text: str
    url: str | None
    created_at: datetime
    category: str | None
    sentiment: float | None
    risk: float | None
    likes: int
    reposts: int
    replies: int
    quotes: int

    @property
    def spread(self) -> int:
        return self.reposts + self.quotes


@dataclass(frozen=True, slots=True)
class SpikeRow:
    created_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Figures:
    """This week and last week for one brand, plus the posts and spikes worth showing."""

    brand: str
    week: Week
    risk_threshold: float
    this: WeekFigures
    last: WeekFigures
    top_posts: list[PostRow] = field(default_factory=list)
    examples: dict[str, list[PostRow]] = field(default_factory=dict)
    spikes: list[SpikeRow] = field(default_factory=list)


def _bucket(column: Any, bounds: list[datetime]) -> ColumnElement[int]:
    """Index of the [bounds[i], bounds[i+1]) range holding `column` (rows are pre-filtered)."""
    return case(*[(column < b, i) for i, b in enumerate(bounds[1:-1])], else_=len(bounds) - 2)


def _seconds_between(engine: Engine, start: Any, end: Any) -> ColumnElement[float]:
    if engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff'; round away julianday's float noise.
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _by_others(brand: str, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [
        Mention.brand == brand,
        Mention.created_at >= start,
        Mention.created_at < end,
        Mention.from_brand.is_(False),
    ]


def _days(engine: Engine, brand: str, bounds: list[datetime], threshold: float) -> list[Any]:
    bucket = _bucket(Mention.created_at, bounds).label("bucket")
    sentiment = Mention.sentiment
    query = (
        select(
            bucket,
            func.count().label("mentions"),
            _count_if(Mention.flagged.is_(True)).label("complaints"),
            _count_if(sentiment >= POSITIVE).label("positive"),
            _count_if(and_(sentiment > NEGATIVE, sentiment < POSITIVE)).label("neutral"),
            _count_if(sentiment <= NEGATIVE).label("negative"),
            _count_if(Mention.risk >= threshold).label("viral"),
        )
        .where(*_by_others(brand, bounds[0], bounds[-1]))
        .group_by(bucket)
    )
    with engine.connect() as conn:
        return list(conn.execute(query))


def _categories(engine: Engine, brand: str, week: Week, prev: Week) -> list[Any]:
    bucket = _bucket(Mention.created_at, [prev.start, week.start, week.end]).label("bucket")
    query = (
        select(bucket, Mention.category, func.count().label("n"))
        .where(*_by_others(brand, prev.start, week.end), Mention.flagged.is_(True))
        .group_by(bucket, Mention.category)
    )
    with engine.connect() as conn:
        return list(conn.execute(query))


def _alerts(engine: Engine, brand: str, week: Week, prev: Week) -> list[Any]:
    bucket = _bucket(Alert.created_at, [prev.start, week.start, week.end]).label("bucket")
    query = (
        select(bucket, Alert.kind, func.count().label("n"))
        .where(Alert.brand == brand, Alert.created_at >= prev.start, Alert.created_at < week.end)
        .group_by(bucket, Alert.kind)
    )
    with engine.connect() as conn:
        return list(conn.execute(query))


def _response_rows(engine: Engine, brand: str, week: Week, prev: Week) -> list[Any]:
    """Per week: the reply delays at the percentile positions, with the week's totals."""
    m, r = aliased(Mention, name="m"), aliased(Mention, name="r")
    first = (
        select(
            m.created_at.label("created_at"),
            m.flagged.label("flagged"),
            func.min(r.created_at).label("replied_at"),
        )
        .join_from(r, m, and_(m.network == r.network, m.native_id == r.in_reply_to))
        .where(
            r.brand == brand,
            r.from_brand.is_(True),
            r.created_at >= prev.start,
            m.brand == brand,
            m.from_brand.is_(False),
            m.created_at >= prev.start,
            m.created_at < week.end,
        )
        .group_by(m.id, m.created_at, m.flagged)
        .subquery()
    )
    delay = _seconds_between(engine, first.c.created_at, first.c.replied_at)
    bucket = _bucket(first.c.created_at, [prev.start, week.start, week.end])
    per_week = {"partition_by": bucket}
    complaint = first.c.flagged.is_(True)
    ranked = select(
        bucket.label("bucket"),
        delay.label("delay"),
        func.row_number().over(order_by=delay, **per_week).label("rn"),
        func.count().over(**per_week).label("n"),
        func.sum(case((complaint, 1), else_=0)).over(**per_week).label("complaints"),
        func.sum(case((and_(complaint, delay <= WITHIN_SECONDS), 1), else_=0))
        .over(**per_week)
        .label("fast"),
    ).subquery()
    n = ranked.c.n
    positions = [(n - 1) // 2, n // 2, (9 * (n - 1)) // 10, (9 * (n - 1) + 9) // 10]
    query = select(ranked).where(or_(*[ranked.c.rn - 1 == p for p in positions]))
    with engine.connect() as conn:
        return list(conn.execute(query))


def _percentile(delays: dict[int, float], n: int, tenths: int) -> float:
    """`percentile_cont(tenths/10)` from the ranked delays (0-based position -> delay)."""
    low, rest = divmod(tenths * (n - 1), 10)
    high = low + (1 if rest else 0)
    return delays[low] + (delays[high] - delays[low]) * rest / 10


def _responses(rows: list[Any]) -> dict[int, Responses]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.bucket].append(row)
    result: dict[int, Responses] = {}
    for bucket, week_rows in grouped.items():
        delays = {row.rn - 1: float(row.delay) for row in week_rows}
        head = week_rows[0]
        result[bucket] = Responses(
            answered=head.n,
            answered_complaints=int(head.complaints),
            complaints_within_hour=int(head.fast),
            median_seconds=_percentile(delays, head.n, 5),
            p90_seconds=_percentile(delays, head.n, 9),
        )
    return result


def _post_columns() -> list[Any]:
    return [
        Mention.network,
        Mention.native_id,
        Author.handle,
        Mention.text,
        Mention.url,
        Mention.created_at,
        Mention.category,
        Mention.sentiment,
        Mention.risk,
        Mention.likes,
        Mention.reposts,
        Mention.replies,
        Mention.quotes,
    ]


def _top_posts(engine: Engine, brand: str, week: Week, limit: int) -> list[PostRow]:
    """The posts that spread most (reposts + quotes; likes, then age break ties)."""
    query = (
        select(*_post_columns())
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(*_by_others(brand, week.start, week.end))
        .order_by(SPREAD.desc(), Mention.likes.desc(), Mention.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [PostRow(*row) for row in conn.execute(query)]


def _examples(
    engine: Engine, brand: str, week: Week, per_category: int
) -> dict[str, list[PostRow]]:
    """The most-spread complaints of each category this week."""
    rank = func.row_number().over(
        partition_by=Mention.category,
        order_by=[SPREAD.desc(), Mention.likes.desc(), Mention.id],
    )
    ranked = (
        select(*_post_columns(), rank.label("rn"))
        .outerjoin(Author, Author.id == Mention.author_id)
        .where(*_by_others(brand, week.start, week.end), Mention.flagged.is_(True))
        .subquery()
    )
    columns = [c for c in ranked.c if c.name != "rn"]
    query = select(*columns).where(ranked.c.rn <= per_category).order_by(ranked.c.rn)
    examples: dict[str, list[PostRow]] = defaultdict(list)
    with engine.connect() as conn:
        for row in conn.execute(query):
            post = PostRow(*row)
            examples[post.category or "other"].append(post)
    return dict(examples)


def _spikes(engine: Engine, brand: str, week: Week) -> list[SpikeRow]:
    query = (
        select(Alert.created_at, Alert.payload)
        .where(
            Alert.brand == brand,
            Alert.kind == "spike",
            Alert.created_at >= week.start,
            Alert.created_at < week.end,
        )
        .order_by(Alert.created_at)
    )
    with engine.connect() as conn:
        return [SpikeRow(at, payload or {}) for at, payload in conn.execute(query)]


def collect(
    engine: Engine,
    *,
    brand: str,
    week: Week,
    risk_threshold: float,
    top_posts: int = 5,
    examples_per_category: int = 2,
) -> Figures:
    """All of the digest's figures for `brand` in `week`, with the week before for change."""
    prev = week.previous()
    bounds = prev.bounds[:-1] + week.bounds
    day_rows = {row.bucket: row for row in _days(engine, brand, bounds, risk_threshold)}
    days = [
        DayCounts(day, *(int(v) for v in day_rows[i][1:])) if i in day_rows else DayCounts(day)
        for i, day in enumerate(prev.days + week.days)
    ]
    categories: list[dict[str, int]] = [{}, {}]
    for row in _categories(engine, brand, week, prev):
        categories[row.bucket][row.category or "other"] = row.n
    alerts: list[dict[str, int]] = [{}, {}]
    for row in _alerts(engine, brand, week, prev):
        alerts[row.bucket][row.kind] = row.n
    responses = _responses(_response_rows(engine, brand, week, prev))
    last, this = (
        WeekFigures(days[i * 7 : i * 7 + 7], categories[i], alerts[i],
            responses.get(i, Responses()))
        for i in (0, 1)
    )
    return Figures(
        brand=brand,
        week=week,
        risk_threshold=risk_threshold,
        this=this,
        last=last,
        top_posts=_top_posts(engine, brand, week, top_posts),
        examples=_examples(engine, brand, week, examples_per_category),
        spikes=_spikes(engine, brand, week),
    )
