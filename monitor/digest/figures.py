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
a complaint is a flagged mention nobody labelled "not a complaint"; negative means sentiment
<= -0.05 among scored mentions; a post went viral when it raised a viral-risk alert (an
"update": its risk reached the alert threshold) in the week, shown at its peak risk; response
time runs from a mention to the brand's first reply to it (a brand post on the same network
with `in_reply_to` = its id); potential reach is the sum of the followers of the week's
distinct authors.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    Engine,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement

from monitor.digest.period import Week
from monitor.digest.terms import Term, trending_terms
from storage.models import Alert, AlertAction, Author, Mention, MentionLabel, SlackMessage

NEGATIVE = -0.05
POSITIVE = 0.05
WITHIN_SECONDS = 3600
SPREAD = Mention.reposts + Mention.quotes
NOT_COMPLAINT = "not_complaint"
SUPPORT_ACTIONS = ("acknowledged", "resolved", "not_complaint")
TERM_SAMPLE = 4000  # posts per week read for trending terms
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class DayCounts:
    day: date
    mentions: int = 0
    complaints: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0

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
class NetworkReplies:
    """The brand's first replies on one network this week."""

    network: str
    answered: int
    median_seconds: float


@dataclass(frozen=True, slots=True)
class WeekFigures:
    days: list[DayCounts]
    categories: dict[str, int]
    alerts: dict[str, int]
    responses: Responses
    viral: int = 0
    not_complaints: int = 0  # flagged, then labelled "not a complaint": left out above
    authors: int = 0
    reach: int = 0
    networks: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    support: dict[str, int] = field(default_factory=dict)

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
class ViralPost:
    post: PostRow
    peak_risk: float
    escalated: bool


@dataclass(frozen=True, slots=True)
class AuthorRow:
    network: str
    handle: str
    followers: int
    mentions: int


@dataclass(frozen=True, slots=True)
class Voice:
    """One brand's week, for share of voice."""

    mentions: int = 0
    positive: int = 0
    negative: int = 0
    scored: int = 0

    @property
    def net_sentiment(self) -> float | None:
        """(positive - negative) / scored: -1 all negative, +1 all positive."""
        return (self.positive - self.negative) / self.scored if self.scored else None


@dataclass(frozen=True, slots=True)
class BrandVoice:
    brand: str
    competitor: bool
    this: Voice
    last: Voice


@dataclass(frozen=True, slots=True)
class SpikeRow:
    """A spike alert: the hour it measured (not when it was raised) and what it counted."""

    hour: datetime
    metric: str
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
    viral_posts: list[ViralPost] = field(default_factory=list)
    praise: list[PostRow] = field(default_factory=list)
    top_authors: list[AuthorRow] = field(default_factory=list)
    trending: list[Term] = field(default_factory=list)
    replies_by_network: list[NetworkReplies] = field(default_factory=list)
    voices: list[BrandVoice] = field(default_factory=list)


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


def _days(engine: Engine, brand: str, bounds: list[datetime]) -> list[Any]:
    """Per local day, network, language and category: one indexed range scan per day, glued
    with UNION ALL. The one pass over the mentions that gives the days, the categories and
    the split by network and language.

    Faster than GROUP BY over a CASE of the day boundaries, which makes SQLite sort every
    row into a temporary B-tree.
    """
    sentiment = Mention.sentiment
    group = (Mention.network, Mention.lang, Mention.category)
    parts = [
        select(
            literal(i).label("bucket"),
            *group,
            func.count().label("mentions"),
            _count_if(Mention.flagged == true()).label("complaints"),
            _count_if(sentiment >= POSITIVE).label("positive"),
            _count_if(and_(sentiment > NEGATIVE, sentiment < POSITIVE)).label("neutral"),
            _count_if(sentiment <= NEGATIVE).label("negative"),
        )
        .where(*_by_others(brand, start, end))
        .group_by(*group)
        for i, start, end in _ranges(bounds)
    ]
    with engine.connect() as conn:
        return list(conn.execute(union_all(*parts)))


def _not_complaints(engine: Engine, brand: str, start: datetime, end: datetime) -> list[Any]:
    """Flagged mentions a person labelled "not a complaint": (created_at, category).

    Labels are few, so the query starts from them; complaint figures subtract these rows.
    """
    query = (
        select(Mention.created_at, Mention.category)
        .join(MentionLabel, MentionLabel.mention_id == Mention.id)
        .where(MentionLabel.label == NOT_COMPLAINT, Mention.flagged == true())
        .where(*_by_others(brand, start, end))
    )
    with engine.connect() as conn:
        return list(conn.execute(query))


def _is_complaint() -> ColumnElement[bool]:
    labelled = exists().where(
        MentionLabel.mention_id == Mention.id, MentionLabel.label == NOT_COMPLAINT
    )
    return and_(Mention.flagged == true(), not_(labelled))


def _alerts(engine: Engine, brand: str, weeks: list[datetime]) -> list[Any]:
    parts = [
        select(literal(i).label("bucket"), Alert.kind, func.count().label("n"))
        .where(Alert.brand == brand, Alert.created_at >= start, Alert.created_at < end)
        .group_by(Alert.kind)
        for i, start, end in _ranges(weeks)
    ]
    with engine.connect() as conn:
        return list(conn.execute(union_all(*parts)))


def _authors(engine: Engine, brand: str, start: datetime, end: datetime, limit: int) -> list[Any]:
    """The week's authors with most followers, each row carrying the week's totals.

    One scan: mentions are counted per author, joined to the (far fewer) authors, and
    windowed sums over all of them give the distinct authors and their potential reach.
    """
    per_author = (
        select(Mention.author_id, func.count().label("mentions"))
        .where(*_by_others(brand, start, end), Mention.author_id.is_not(None))
        .group_by(Mention.author_id)
        .subquery("per_author")
    )
    followers = func.coalesce(Author.followers, 0)
    query = (
        select(
            Author.network,
            Author.handle,
            followers.label("followers"),
            per_author.c.mentions,
            func.count().over().label("authors"),
            func.sum(followers).over().label("reach"),
        )
        .join(per_author, per_author.c.author_id == Author.id)
        .order_by(followers.desc(), per_author.c.mentions.desc(), Author.handle)
        .limit(limit)
    )
    with engine.connect() as conn:
        return list(conn.execute(query))


def _support(engine: Engine, brand: str, weeks: list[datetime]) -> list[Any]:
    """What the support team did in Slack each week: alerts per action taken."""
    m = aliased(Mention, name="m")
    parts = [
        select(
            literal(i).label("bucket"),
            AlertAction.action,
            func.count(AlertAction.message_id.distinct()).label("n"),
        )
        .join(SlackMessage, SlackMessage.id == AlertAction.message_id)
        .outerjoin(Alert, Alert.id == SlackMessage.alert_id)
        .outerjoin(m, m.id == AlertAction.mention_id)
        .where(
            AlertAction.at >= start,
            AlertAction.at < end,
            AlertAction.action.in_(SUPPORT_ACTIONS),
            func.coalesce(m.brand, Alert.brand) == brand,
        )
        .group_by(AlertAction.action)
        for i, start, end in _ranges(weeks)
    ]
    with engine.connect() as conn:
        return list(conn.execute(union_all(*parts)))


def _voices(engine: Engine, brands: list[str], weeks: list[datetime]) -> list[Any]:
    sentiment = Mention.sentiment
    parts = [
        select(
            literal(b).label("brand"),
            literal(i).label("bucket"),
            func.count().label("mentions"),
            _count_if(sentiment >= POSITIVE).label("positive"),
            _count_if(sentiment <= NEGATIVE).label("negative"),
            func.count(sentiment).label("scored"),
        ).where(*_by_others(name, start, end))
        for b, name in enumerate(brands)
        for i, start, end in _ranges(weeks)
    ]
    with engine.connect() as conn:
        return list(conn.execute(union_all(*parts)))


def _viral(engine: Engine, brand: str, weeks: list[datetime], limit: int) -> tuple[list[int], Any]:
    """Posts that raised a viral-risk alert in each week, and this week's by peak risk.

    Counted on the alerts, not on the post's latest risk, which decays as it cools.
    """
    score = Alert.payload["score"].as_float()
    escalated = case((Alert.payload["escalate"].as_boolean() == true(), 1), else_=0)
    raised = (
        select(
            Alert.mention_id.label("id"),
            case((Alert.created_at < weeks[1], 0), else_=1).label("bucket"),
            func.max(score).label("peak"),
            func.max(escalated).label("escalated"),
        )
        .join(Mention, Mention.id == Alert.mention_id)
        .where(
            Alert.kind == "update",
            Alert.created_at >= weeks[0],
            Alert.created_at < weeks[-1],
            Mention.brand == brand,
        )
        .group_by(Alert.mention_id, "bucket")
        .subquery("raised")
    )
    with engine.connect() as conn:
        counts = dict(
            conn.execute(select(raised.c.bucket, func.count()).group_by(raised.c.bucket)).all()
        )
    chosen = (
        select(raised.c.id, raised.c.peak, raised.c.escalated)
        .where(raised.c.bucket == 1)
        .order_by(raised.c.peak.desc(), raised.c.id)
        .limit(limit)
        .subquery("chosen")
    )
    return [int(counts.get(0, 0)), int(counts.get(1, 0))], chosen


def _response_rows(engine: Engine, brand: str, weeks: list[datetime]) -> list[Any]:
    """Per week, and per week and network: the reply delays at the percentile positions,
    with the totals (rn/n rank within the week, rn_net/n_net within its network).

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
            m.network.label("network"),
            _is_complaint_of(m).label("flagged"),
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
    per_network = {"partition_by": [bucket, answered.c.network]}
    complaint = answered.c.flagged == true()
    ranked = select(
        bucket.label("bucket"),
        answered.c.network,
        delay.label("delay"),
        func.row_number().over(order_by=delay, **per_week).label("rn"),
        func.count().over(**per_week).label("n"),
        func.row_number().over(order_by=delay, **per_network).label("rn_net"),
        func.count().over(**per_network).label("n_net"),
        func.sum(case((complaint, 1), else_=0)).over(**per_week).label("complaints"),
        func.sum(case((and_(complaint, delay <= WITHIN_SECONDS), 1), else_=0))
        .over(**per_week)
        .label("fast"),
    ).subquery("ranked")
    wanted = [
        rank - 1 == position
        for rank, n in ((ranked.c.rn, ranked.c.n), (ranked.c.rn_net, ranked.c.n_net))
        for position in _positions(n)
    ]
    query = select(ranked).where(or_(*wanted))
    with engine.connect() as conn:
        return list(conn.execute(query))


def _positions(n: Any) -> list[Any]:
    """The 0-based ranks the 50th and 90th percentiles of n delays interpolate between."""
    return [(n - 1) // 2, n // 2, (9 * (n - 1)) // 10, (9 * (n - 1) + 9) // 10]


def _is_complaint_of(m: Any) -> ColumnElement[bool]:
    labelled = exists().where(MentionLabel.mention_id == m.id, MentionLabel.label == NOT_COMPLAINT)
    return case((and_(m.flagged == true(), not_(labelled)), true()), else_=false())


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


def _replies_by_network(rows: list[Any]) -> list[NetworkReplies]:
    """This week's (bucket 1) answered mentions and median first reply, per network."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.bucket == 1:
            grouped[row.network].append(row)
    replies = [
        NetworkReplies(
            network,
            net_rows[0].n_net,
            _percentile({r.rn_net - 1: float(r.delay) for r in net_rows}, net_rows[0].n_net, 5),
        )
        for network, net_rows in grouped.items()
    ]
    return sorted(replies, key=lambda r: (-r.answered, r.network))


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


def _most_spread(
    engine: Engine, brand: str, week: Week, limit: int, *where: ColumnElement[bool]
) -> list[PostRow]:
    """The posts that spread most (reposts + quotes; likes, then age break ties)."""
    chosen = (
        select(Mention.id)
        .where(*_by_others(brand, week.start, week.end), *where)
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
        .where(*_by_others(brand, week.start, week.end), _is_complaint())
        .subquery("ranked")
    )
    chosen = select(ranked).where(ranked.c.rank <= per_category).subquery("chosen")
    examples: dict[str, list[PostRow]] = defaultdict(list)
    for post in _posts(engine, chosen, [chosen.c.rank]):
        examples[post.category or "other"].append(post)
    return dict(examples)


def _spikes(engine: Engine, brand: str, start: datetime, end: datetime) -> list[SpikeRow]:
    """Spikes of hours in [start, end), at the hour they measured (raised a little later)."""
    query = (
        select(Alert.created_at, Alert.payload)
        .where(
            Alert.brand == brand,
            Alert.kind == "spike",
            Alert.created_at >= start,
            Alert.created_at < end + timedelta(days=1),
        )
        .order_by(Alert.created_at)
    )
    with engine.connect() as conn:
        rows = [_spike(at, payload or {}) for at, payload in conn.execute(query)]
    return sorted((r for r in rows if start <= r.hour < end), key=lambda r: r.hour)


def _spike(raised_at: datetime, payload: dict[str, Any]) -> SpikeRow:
    try:
        hour = datetime.fromisoformat(str(payload["hour"])).astimezone(UTC)
    except (KeyError, ValueError):
        hour = raised_at  # an alert from before the hour was recorded
    return SpikeRow(hour, str(payload.get("metric") or "mentions"), payload)


def _term_texts(
    engine: Engine,
    brand: str,
    start: datetime,
    end: datetime,
    *,
    mentions: int,
    spikes: list[SpikeRow],
) -> list[str]:
    """About TERM_SAMPLE texts spread evenly over the week (every k-th id), spike hours left out."""
    every = max(1, mentions // TERM_SAMPLE)
    outside = [
        not_(and_(Mention.created_at >= s.hour, Mention.created_at < s.hour + HOUR)) for s in spikes
    ]
    query = select(Mention.text).where(
        *_by_others(brand, start, end), Mention.id % every == 0, *outside
    )
    with engine.connect() as conn:
        return list(conn.scalars(query.limit(2 * TERM_SAMPLE)))


def _positive(week: WeekFigures) -> int:
    return sum(d.positive for d in week.days)


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def collect(
    engine: Engine,
    *,
    brand: str,
    week: Week,
    risk_threshold: float,
    competitors: Sequence[str] = (),
    ignore_terms: Sequence[str] = (),
    top_posts: int = 5,
    examples_per_category: int = 2,
) -> Figures:
    """All of the digest's figures for `brand` in `week`, with the week before for change."""
    prev = week.previous()
    bounds = prev.bounds[:-1] + week.bounds
    weeks = [prev.start, week.start, week.end]
    day_totals: dict[int, list[int]] = defaultdict(lambda: [0] * 5)
    categories: list[dict[str, int]] = [{}, {}]
    splits: list[list[dict[str, int]]] = [[{}, {}], [{}, {}]]  # [network, lang][week]
    for row in _days(engine, brand, bounds):
        counts = [int(v) for v in row[4:]]
        day_totals[row.bucket] = [
            a + b for a, b in zip(day_totals[row.bucket], counts, strict=True)
        ]
        bucket = int(row.bucket >= 7)
        if counts[1]:
            key = row.category or "other"
            categories[bucket][key] = categories[bucket].get(key, 0) + counts[1]
        for split, value in zip(splits, (row.network, row.lang), strict=True):
            name = str(value or "unknown")
            split[bucket][name] = split[bucket].get(name, 0) + counts[0]
    labelled = _not_complaints(engine, brand, prev.start, week.end)
    labelled_days = [bisect_right(bounds, at) - 1 for at, _ in labelled]
    days = []
    for i, day in enumerate(prev.days + week.days):
        values = list(day_totals[i]) if i in day_totals else [0] * 5
        values[1] -= labelled_days.count(i)
        days.append(DayCounts(day, *values))
    not_complaints = [0, 0]
    for at, category in labelled:
        bucket = int(at >= week.start)
        not_complaints[bucket] += 1
        key = category or "other"
        categories[bucket][key] -= 1
        if not categories[bucket][key]:
            del categories[bucket][key]
    alerts: list[dict[str, int]] = [{}, {}]
    for row in _alerts(engine, brand, weeks):
        alerts[row.bucket][row.kind] = row.n
    support: list[dict[str, int]] = [{}, {}]
    for row in _support(engine, brand, weeks):
        support[row.bucket][row.action] = row.n
    response_rows = _response_rows(engine, brand, weeks)
    responses = _responses(response_rows)
    viral_counts, viral_chosen = _viral(engine, brand, weeks, top_posts)
    author_rows = [_authors(engine, brand, start, end, top_posts) for start, end in pairwise(weeks)]
    last, this = (
        WeekFigures(
            days[i * 7 : i * 7 + 7],
            categories[i],
            alerts[i],
            responses.get(i, Responses()),
            viral=viral_counts[i],
            not_complaints=not_complaints[i],
            authors=int(author_rows[i][0].authors) if author_rows[i] else 0,
            reach=int(author_rows[i][0].reach) if author_rows[i] else 0,
            networks=_ranked(splits[0][i]),
            languages=_ranked(splits[1][i]),
            support=support[i],
        )
        for i in (0, 1)
    )
    spikes = [_spikes(engine, brand, start, end) for start, end in pairwise(weeks)]
    trending = trending_terms(
        _term_texts(engine, brand, *weeks[1:], mentions=this.mentions, spikes=spikes[1]),
        _term_texts(engine, brand, *weeks[:2], mentions=last.mentions, spikes=spikes[0]),
        ignore=ignore_terms,
    )
    by_peak = [viral_chosen.c.peak.desc(), viral_chosen.c.id]
    with engine.connect() as conn:
        peaks = list(conn.execute(select(viral_chosen).order_by(*by_peak)))
    viral_posts = [
        ViralPost(post, float(row.peak), bool(row.escalated))
        for row, post in zip(peaks, _posts(engine, viral_chosen, by_peak), strict=True)
    ]
    voice = {
        (r.brand, r.bucket): Voice(*(int(v) for v in r[2:]))
        for r in (_voices(engine, list(competitors), weeks) if competitors else [])
    }
    voices = [
        BrandVoice(
            brand,
            False,
            *(Voice(w.mentions, _positive(w), w.negative, w.scored) for w in (this, last)),
        ),
        *(
            BrandVoice(name, True, voice.get((b, 1), Voice()), voice.get((b, 0), Voice()))
            for b, name in enumerate(competitors)
        ),
    ]
    return Figures(
        brand=brand,
        week=week,
        risk_threshold=risk_threshold,
        this=this,
        last=last,
        top_posts=_most_spread(engine, brand, week, top_posts),
        examples=_examples(engine, brand, week, examples_per_category),
        spikes=spikes[1],
        viral_posts=viral_posts,
        praise=_most_spread(engine, brand, week, 3, Mention.intent == "praise"),
        top_authors=[
            AuthorRow(r.network, r.handle, int(r.followers), int(r.mentions))
            for r in author_rows[1]
        ],
        trending=trending,
        replies_by_network=_replies_by_network(response_rows),
        voices=voices if competitors else [],
    )
