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
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, and_, case, false, func, literal, or_, select, true, union_all
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


def _ranges(bounds: list[datetime]) -> list[tuple[int, datetime, datetime]]:
    return [(i, start, end) for i, (start, end) in enumerate(pairwise(bounds))]


def _seconds_between(engine: Engine, start: Any, end: Any) -> ColumnElement[float]:
    if engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff'; round away julianday's float noise.
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _by_others(brand: str, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Mentions of `brand` by others in [start, end): one range of ix_mentions_brand_own."""
    return [
        Mention.brand == brand,
        Mention.from_brand == false(),
        Mention.created_at >= start,
        Mention.created_at < end,
    ]


def _days(engine: Engine, brand: str, bounds: list[datetime], threshold: float) -> list[Any]:
    """Per local day: one indexed range scan each, glued with UNION ALL.

    Faster than GROUP BY over a CASE of the day boundaries, which makes SQLite sort every
    row into a temporary B-tree.
    """
    sentiment = Mention.sentiment
    parts = [
        select(
            literal(i).label("bucket"),
            func.count().label("mentions"),
            _count_if(Mention.flagged == true()).label("complaints"),
            _count_if(sentiment >= POSITIVE).label("positive"),
            _count_if(and_(sentiment > NEGATIVE, sentiment < POSITIVE)).label("neutral"),
            _count_if(sentiment <= NEGATIVE).label("negative"),
            _count_if(Mention.risk >= threshold).label("viral"),
        ).where(*_by_others(brand, start, end))
        for i, start, end in _ranges(bounds)
    ]
    with engine.connect() as conn:
        return list(conn.execute(union_all(*parts)))


def _categories(engine: Engine, brand: str, weeks: list[datetime]) -> list[Any]:
    parts = [
        select(literal(i).label("bucket"), Mention.category, func.count().label("n"))
        .where(*_by_others(brand, start, end), Mention.flagged == true())
        .group_by(Mention.category)
        for i, start, end in _ranges(weeks)
    ]
    with engine.connect() as conn:
        return list(conn.execute(union_all(*parts)))


def _alerts(engine: Engine, brand: str, weeks: list[datetime]) -> list[Any]:
    parts = [
        select(literal(i).label("bucket"), Alert.kind, func.count().label("n"))
        .where(Alert.brand == brand, Alert.created_at >= start, Alert.created_at < end)
        .group_by(Alert.kind)
        for i, start, end in _ranges(weeks)
    ]
    with engine.connect() as conn:
        return list(conn.execute(union_all(*parts)))


def _response_rows(engine: Engine, brand: str, weeks: list[datetime]) -> list[Any]:
    """Per week: the reply delays at the percentile positions, with the week's totals.

    The brand's replies are few, so the query starts from them: the first reply to each post
    (MIN per network and in_reply_to), then the post it answers, a unique-index lookup.
    """
    first = (
        select(
            Mention.network,
            Mention.in_reply_to,
            func.min(Mention.created_at).label("replied_at"),
        )
        .where(
            Mention.brand == brand,
            Mention.from_brand == true(),
            Mention.created_at >= weeks[0],
            Mention.in_reply_to.is_not(None),
        )
        .group_by(Mention.network, Mention.in_reply_to)
        .subquery("first_reply")
    )
    m = aliased(Mention, name="m")
    answered = (
        select(
            m.created_at.label("created_at"),
            m.flagged.label("flagged"),
            first.c.replied_at,
        )
        .join_from(first, m, and_(m.network == first.c.network, m.native_id == first.c.in_reply_to))
        .where(
            m.brand == brand,
            m.from_brand == false(),
            m.created_at >= weeks[0],
            m.created_at < weeks[-1],
        )
        .subquery("answered")
    )
    delay = _seconds_between(engine, answered.c.created_at, answered.c.replied_at)
    bucket = case((answered.c.created_at < weeks[1], 0), else_=1)
    per_week = {"partition_by": bucket}
    complaint = answered.c.flagged == true()
    ranked = select(
        bucket.label("bucket"),
        delay.label("delay"),
        func.row_number().over(order_by=delay, **per_week).label("rn"),
        func.count().over(**per_week).label("n"),
        func.sum(case((complaint, 1), else_=0)).over(**per_week).label("complaints"),
        func.sum(case((and_(complaint, delay <= WITHIN_SECONDS), 1), else_=0))
        .over(**per_week)
        .label("fast"),
    ).subquery("ranked")
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


def _posts(engine: Engine, chosen: Any, order_by: list[Any]) -> list[PostRow]:
    """The chosen mention ids (a subquery with `id`) as posts, in the given order.

    Authors are joined only here, for the handful of chosen rows, not for every candidate.
    """
    query = (
        select(
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
        )
        .join(chosen, chosen.c.id == Mention.id)
        .outerjoin(Author, Author.id == Mention.author_id)
        .order_by(*order_by)
    )
    with engine.connect() as conn:
        return [PostRow(*row) for row in conn.execute(query)]


def _spread_order() -> list[Any]:
    return [SPREAD.desc(), Mention.likes.desc(), Mention.id]


def _top_posts(engine: Engine, brand: str, week: Week, limit: int) -> list[PostRow]:
    """The posts that spread most (reposts + quotes; likes, then age break ties)."""
    chosen = (
        select(Mention.id)
        .where(*_by_others(brand, week.start, week.end))
        .order_by(*_spread_order())
        .limit(limit)
        .subquery("chosen")
    )
    return _posts(engine, chosen, _spread_order())


def _examples(
    engine: Engine, brand: str, week: Week, per_category: int
) -> dict[str, list[PostRow]]:
    """The most-spread complaints of each category this week."""
    ranked = (
        select(
            Mention.id,
            func.row_number()
            .over(partition_by=Mention.category, order_by=_spread_order())
            .label("rank"),
        )
        .where(*_by_others(brand, week.start, week.end), Mention.flagged == true())
        .subquery("ranked")
    )
    chosen = select(ranked).where(ranked.c.rank <= per_category).subquery("chosen")
    examples: dict[str, list[PostRow]] = defaultdict(list)
    for post in _posts(engine, chosen, [chosen.c.rank]):
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
    weeks = [prev.start, week.start, week.end]
    day_rows = {row.bucket: row for row in _days(engine, brand, bounds, risk_threshold)}
    days = [
        DayCounts(day, *(int(v) for v in day_rows[i][1:])) if i in day_rows else DayCounts(day)
        for i, day in enumerate(prev.days + week.days)
    ]
    categories: list[dict[str, int]] = [{}, {}]
    for row in _categories(engine, brand, weeks):
        categories[row.bucket][row.category or "other"] = row.n
    alerts: list[dict[str, int]] = [{}, {}]
    for row in _alerts(engine, brand, weeks):
        alerts[row.bucket][row.kind] = row.n
    responses = _responses(_response_rows(engine, brand, weeks))
    last, this = (
        WeekFigures(
            days[i * 7 : i * 7 + 7], categories[i], alerts[i], responses.get(i, Responses())
        )
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
