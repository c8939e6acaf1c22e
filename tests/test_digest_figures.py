"""The digest's SQL figures against a plain-Python reference over a seeded pair of weeks.

The seed is deterministic but irregular: posts on the week's exact boundaries, sentiment on
the -0.05/+0.05 edges, risk at and just below the threshold, brand replies at 59/60/61
minutes, second replies, replies on the wrong network or by another brand, other brands'
posts and alerts. The reference computes every figure from the seed rows with the definitions
written out in Python; `collect` must agree on SQLite and PostgreSQL. The mail tests reuse
`seed_database` and `reference`.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert

from monitor.digest.figures import (
    DayCounts,
    Figures,
    PostRow,
    Responses,
    SpikeRow,
    WeekFigures,
    collect,
)
from monitor.digest.period import Week
from storage.models import Alert, Author, Mention

TZ = "America/New_York"
WEEK = Week(2026, 47, TZ)
BRAND = "Kestrel"
THRESHOLD = 60.0
CATEGORIES = ["wait_time", "staff", "refund_billing", "delivery", "outage", None]
US = timedelta(microseconds=1)
HANDLES = {1: "ann<b>", 2: "bob"}


@dataclass
class Seed:
    mentions: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def mention(self, created_at: datetime, **values: Any) -> dict[str, Any]:
        n = len(self.mentions) + 1
        row = {
            "id": n,
            "brand": BRAND,
            "source": "seed",
            "network": "x",
            "native_id": f"p{n}",
            "author_id": None,
            "text": f"post {n}",
            "url": f"https://x.example/p/{n}",
            "lang": "en",
            "created_at": created_at,
            "fetched_at": created_at,
            "in_reply_to": None,
            "conversation_id": None,
            "from_brand": False,
            "sentiment": None,
            "flagged": False,
            "category": None,
            "reasons": [],
            "reply": None,
            "risk": None,
            "tracking": False,
            "next_refresh_at": None,
            "likes": 0,
            "reposts": 0,
            "replies": 0,
            "quotes": 0,
        } | values
        self.mentions.append(row)
        return row

    def alert(
        self,
        kind: str,
        created_at: datetime,
        brand: str | None = BRAND,
        payload: dict[str, Any] | None = None,
    ) -> None:
        self.alerts.append(
            {
                "dedupe_key": f"a{len(self.alerts)}",
                "kind": kind,
                "brand": brand,
                "payload": payload or {},
                "status": "sent",
                "attempts": 1,
                "created_at": created_at,
            }
        )


def make_seed(
    week: Week = WEEK, *, posts: int = 160, replies: bool = True, rng_seed: int = 7
) -> Seed:
    rng = random.Random(rng_seed)
    seed = Seed()
    prev = week.previous()
    span = (week.end - prev.start).total_seconds()
    for i in range(posts):
        at = prev.start - timedelta(hours=6) + timedelta(seconds=rng.randrange(int(span) + 43200))
        flagged = rng.random() < 0.35
        seed.mention(
            at,
            network=rng.choice(["x", "x", "reddit"]),
            author_id=rng.choice([None, 1, 2]),
            text=rng.choice(
                [f"post {i}", "<script>alert(1)</script> @channel & co", "line one\nline two"]
            ),
            url=rng.choice([f"https://x.example/p/{i}", "javascript:alert(1)", None]),
            sentiment=rng.choice([None, -0.9, -0.05, -0.0499, 0.0, 0.0499, 0.05, 0.7]),
            flagged=flagged,
            category=rng.choice(CATEGORIES) if flagged else None,
            risk=rng.choice([None, 10.0, 59.99, 60.0, 95.0]),
            likes=rng.randrange(40),
            reposts=rng.randrange(15),
            quotes=rng.randrange(5),
        )
    for at in (week.start, week.end - US, week.end, prev.start - US, prev.start):
        seed.mention(at, sentiment=-0.5, flagged=True, category="outage", risk=80.0)
    for other in range(5):
        seed.mention(
            week.start + timedelta(hours=other * 20),
            brand="Other",
            flagged=True,
            category="staff",
            reposts=999,
        )
    if replies:
        _add_replies(seed, rng)
    for kind, brand, hours in [
        ("spike", BRAND, 30),
        ("spike", BRAND, -100),
        ("spike", "Other", 5),
        ("complaint", BRAND, 1),
        ("complaint", BRAND, 2),
        ("update", BRAND, 50),
        ("operations", None, 3),
        ("complaint", BRAND, -3),
        ("complaint", BRAND, 24 * 7 + 1),
    ]:
        payload = {
            "observed": 42,
            "expected": 6.5,
            "phrases": [{"phrase": "<b>no signal</b>", "posts": 12}],
            "categories": [{"category": "outage", "posts": 30}],
        }
        seed.alert(
            kind, week.start + timedelta(hours=hours), brand, payload if kind == "spike" else None
        )
    return seed


def _add_replies(seed: Seed, rng: random.Random) -> None:
    minutes = [0, 5, 59, 60, 61, 180, 60 * 30]
    for row in list(seed.mentions):
        if row["brand"] != BRAND or rng.random() < 0.45:
            continue
        delay = timedelta(minutes=rng.choice(minutes), seconds=rng.choice([0, 1]))
        first = row["created_at"] + delay
        seed.mention(
            first,
            from_brand=True,
            network=row["network"],
            in_reply_to=row["native_id"],
            text="Sorry to hear that",
            reposts=500,
        )
        if rng.random() < 0.3:  # a second, later reply: only the first counts
            seed.mention(
                first + timedelta(minutes=30),
                from_brand=True,
                network=row["network"],
                in_reply_to=row["native_id"],
            )
        if rng.random() < 0.2:  # same id on another network, or another brand: never counts
            seed.mention(
                row["created_at"], from_brand=True, network="mastodon", in_reply_to=row["native_id"]
            )
            seed.mention(
                row["created_at"],
                brand="Other",
                from_brand=True,
                network=row["network"],
                in_reply_to=row["native_id"],
            )


def seed_database(engine: Engine, seed: Seed) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Author),
            [
                {"id": i, "network": "x", "native_id": f"u{i}", "handle": h, "verified": False}
                for i, h in HANDLES.items()
            ],
        )
        conn.execute(insert(Mention), seed.mentions)
        if seed.alerts:
            conn.execute(insert(Alert), seed.alerts)


# -- the reference: the definitions, written out in Python ---------------------------------------


def _in(row: dict[str, Any], week: Week) -> bool:
    return (
        row["brand"] == BRAND
        and not row["from_brand"]
        and week.start <= row["created_at"] < week.end
    )


def _percentiles(delays: list[float]) -> tuple[float | None, float | None]:
    if not delays:
        return None, None
    if len(delays) == 1:
        return delays[0], delays[0]
    return statistics.median(delays), statistics.quantiles(delays, n=10, method="inclusive")[8]


def _week(seed: Seed, week: Week) -> WeekFigures:
    rows = [r for r in seed.mentions if _in(r, week)]
    zone = ZoneInfo(week.tz)
    days = []
    for day in week.days:
        of_day = [r for r in rows if r["created_at"].astimezone(zone).date() == day]
        scores = [r["sentiment"] for r in of_day if r["sentiment"] is not None]
        days.append(
            DayCounts(
                day,
                mentions=len(of_day),
                complaints=sum(r["flagged"] for r in of_day),
                positive=sum(s >= 0.05 for s in scores),
                neutral=sum(-0.05 < s < 0.05 for s in scores),
                negative=sum(s <= -0.05 for s in scores),
                viral=sum(r["risk"] is not None and r["risk"] >= THRESHOLD for r in of_day),
            )
        )
    categories: dict[str, int] = {}
    for r in rows:
        if r["flagged"]:
            key = r["category"] or "other"
            categories[key] = categories.get(key, 0) + 1
    alerts: dict[str, int] = {}
    for a in seed.alerts:
        if a["brand"] == BRAND and week.start <= a["created_at"] < week.end:
            alerts[a["kind"]] = alerts.get(a["kind"], 0) + 1
    answered = []
    for r in rows:
        replies = [
            b["created_at"]
            for b in seed.mentions
            if b["brand"] == BRAND
            and b["from_brand"]
            and b["network"] == r["network"]
            and b["in_reply_to"] == r["native_id"]
        ]
        if replies:
            answered.append((r, (min(replies) - r["created_at"]).total_seconds()))
    median, p90 = _percentiles(sorted(d for _, d in answered))
    responses = (
        Responses(
            answered=len(answered),
            answered_complaints=sum(r["flagged"] for r, _ in answered),
            complaints_within_hour=sum(r["flagged"] and d <= 3600 for r, d in answered),
            median_seconds=median,
            p90_seconds=p90,
        )
        if answered
        else Responses()
    )
    return WeekFigures(days, categories, alerts, responses)


def _post(seed: Seed, r: dict[str, Any]) -> PostRow:
    return PostRow(
        r["network"],
        r["native_id"],
        HANDLES.get(r["author_id"]),
        r["text"],
        r["url"],
        r["created_at"],
        r["category"],
        r["sentiment"],
        r["risk"],
        r["likes"],
        r["reposts"],
        r["replies"],
        r["quotes"],
    )


def _by_spread(r: dict[str, Any]) -> tuple[int, int, int]:
    return -(r["reposts"] + r["quotes"]), -r["likes"], r["id"]


def reference(seed: Seed, week: Week = WEEK) -> Figures:
    rows = sorted((r for r in seed.mentions if _in(r, week)), key=_by_spread)
    examples: dict[str, list[PostRow]] = {}
    for r in rows:
        if r["flagged"]:
            picked = examples.setdefault(r["category"] or "other", [])
            if len(picked) < 2:
                picked.append(_post(seed, r))
    spikes = [
        SpikeRow(a["created_at"], a["payload"])
        for a in sorted(seed.alerts, key=lambda a: a["created_at"])
        if a["kind"] == "spike" and a["brand"] == BRAND and week.start <= a["created_at"] < week.end
    ]
    return Figures(
        BRAND,
        week,
        THRESHOLD,
        _week(seed, week),
        _week(seed, week.previous()),
        top_posts=[_post(seed, r) for r in rows[:5]],
        examples=examples,
        spikes=spikes,
    )


def assert_same_figures(got: Figures, want: Figures) -> None:
    for name in ("this", "last"):
        g, w = getattr(got, name), getattr(want, name)
        assert g.days == w.days, name
        assert g.categories == w.categories, name
        assert g.alerts == w.alerts, name
        for attr in ("answered", "answered_complaints", "complaints_within_hour"):
            assert getattr(g.responses, attr) == getattr(w.responses, attr), (name, attr)
        for attr in ("median_seconds", "p90_seconds"):
            value = getattr(w.responses, attr)
            expected = None if value is None else pytest.approx(value, abs=1e-3)
            assert getattr(g.responses, attr) == expected, (name, attr)
    assert got.top_posts == want.top_posts
    assert got.examples == want.examples
    assert got.spikes == want.spikes


# -- tests ----------------------------------------------------------------------------------------


def test_figures_match_the_reference(engine: Engine) -> None:
    seed = make_seed()
    seed_database(engine, seed)
    got = collect(engine, brand=BRAND, week=WEEK, risk_threshold=THRESHOLD)
    want = reference(seed)
    assert want.this.mentions > 50  # the seed is rich enough to mean something
    assert want.this.responses.answered > 10
    assert_same_figures(got, want)


def test_empty_week(engine: Engine) -> None:
    got = collect(engine, brand=BRAND, week=WEEK, risk_threshold=THRESHOLD)
    assert got.this == WeekFigures([DayCounts(d) for d in WEEK.days], {}, {}, Responses())
    assert (got.this.negative_share, got.this.within_hour_share) == (None, None)
    assert (got.top_posts, got.examples, got.spikes) == ([], {}, [])


def test_brand_with_no_replies(engine: Engine) -> None:
    seed = make_seed(replies=False)
    seed_database(engine, seed)
    got = collect(engine, brand=BRAND, week=WEEK, risk_threshold=THRESHOLD)
    assert got.this.responses == Responses()
    assert got.this.complaints > 0
    assert got.this.within_hour_share == 0.0
    assert_same_figures(got, reference(seed))


@pytest.mark.parametrize(("week", "hours"), [(Week(2026, 44, TZ), 169), (Week(2026, 10, TZ), 167)])
def test_week_across_a_dst_change(engine: Engine, week: Week, hours: int) -> None:
    assert (week.end - week.start) / timedelta(hours=1) == hours
    seed = make_seed(week, rng_seed=11)
    sunday = week.bounds[6]
    for at in (sunday, sunday + timedelta(minutes=150), week.end - timedelta(minutes=1)):
        seed.mention(at, sentiment=0.9)  # first, across the changed hour, last of local Sunday
    seed_database(engine, seed)
    got = collect(engine, brand=BRAND, week=week, risk_threshold=THRESHOLD)
    assert_same_figures(got, reference(seed, week))
    local = {r["created_at"].astimezone(ZoneInfo(TZ)).date() for r in seed.mentions[-3:]}
    assert local == {week.days[6]}
    assert got.this.days[6].positive >= 3


def test_percentiles_interpolate_like_percentile_cont(engine: Engine) -> None:
    seed = Seed()
    delays = [10, 20, 30, 40, 1000]  # minutes
    for i, minutes in enumerate(delays):
        row = seed.mention(WEEK.start + timedelta(hours=i), flagged=True)
        seed.mention(
            row["created_at"] + timedelta(minutes=minutes),
            from_brand=True,
            in_reply_to=row["native_id"],
        )
    seed_database(engine, seed)
    got = collect(engine, brand=BRAND, week=WEEK, risk_threshold=THRESHOLD).this.responses
    assert got.median_seconds == pytest.approx(30 * 60)
    assert got.p90_seconds == pytest.approx((40 + 0.6 * 960) * 60)
    assert (got.answered, got.complaints_within_hour) == (5, 4)
