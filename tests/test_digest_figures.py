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
    AuthorRow,
    BrandVoice,
    DayCounts,
    Figures,
    PostRow,
    Responses,
    SpikeRow,
    ViralPost,
    Voice,
    WeekFigures,
    collect,
)
from monitor.digest.period import Week
from storage.models import Alert, AlertAction, Author, Mention, MentionLabel, SlackMessage

TZ = "America/New_York"
WEEK = Week(2026, 47, TZ)
BRAND = "Kestrel"
THRESHOLD = 60.0
CATEGORIES = ["wait_time", "staff", "refund_billing", "delivery", "outage", None]
US = timedelta(microseconds=1)
HANDLES = {1: "ann<b>", 2: "bob", 3: "cat"}
FOLLOWERS = {1: 120, 2: None, 3: 98_000}
COMPETITOR = "Other"


@dataclass
class Seed:
    mentions: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    not_complaint: set[int] = field(default_factory=set)  # mention ids labelled so

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
            "intent": None,
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
        mention_id: int | None = None,
    ) -> None:
        self.alerts.append(
            {
                "dedupe_key": f"a{len(self.alerts)}",
                "kind": kind,
                "brand": brand,
                "mention_id": mention_id,
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
            lang=rng.choice(["en", "en", "de", None]),
            intent=rng.choice(["praise", "chatter", None]),
            author_id=rng.choice([None, 1, 2, 3]),
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
            brand=COMPETITOR,
            flagged=True,
            category="staff",
            reposts=999,
            sentiment=[0.5, -0.5, None, 0.0, 0.9][other],
        )
    flagged = [r for r in seed.mentions if r["flagged"] and r["brand"] == BRAND]
    seed.not_complaint.update(r["id"] for r in flagged[::4])
    for n, row in enumerate(flagged[1::5]):  # raised viral alerts; the risk decayed since
        row["risk"] = 5.0
        for step, score in enumerate([61.0 + n, 90.0 - n, 70.0]):
            seed.alert(
                "update",
                row["created_at"] + timedelta(hours=step + 1),
                BRAND,
                {"score": score, "escalate": step == 1 and n % 2 == 0},
                mention_id=row["id"],
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
            "metric": "complaints",
            "hour": (week.start + timedelta(hours=hours - 2)).isoformat(),
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
                {
                    "id": i,
                    "network": "x",
                    "native_id": f"u{i}",
                    "handle": h,
                    "followers": FOLLOWERS[i],
                    "verified": False,
                }
                for i, h in HANDLES.items()
            ],
        )
        conn.execute(insert(Mention), seed.mentions)
        if seed.alerts:
            conn.execute(insert(Alert), seed.alerts)
        if seed.not_complaint:
            conn.execute(
                insert(MentionLabel),
                [
                    {"mention_id": i, "label": "not_complaint", "source": "slack", "at": WEEK.start}
                    for i in seed.not_complaint
                ],
            )


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


def _complaint(seed: Seed, row: dict[str, Any]) -> bool:
    return row["flagged"] and row["id"] not in seed.not_complaint


def _counts(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _raised(seed: Seed, week: Week) -> dict[int, list[dict[str, Any]]]:
    """Mention id -> its viral-risk alerts raised in `week`."""
    raised: dict[int, list[dict[str, Any]]] = {}
    for a in seed.alerts:
        if a["kind"] == "update" and a["mention_id"] and week.start <= a["created_at"] < week.end:
            raised.setdefault(a["mention_id"], []).append(a["payload"])
    return raised


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
                complaints=sum(_complaint(seed, r) for r in of_day),
                positive=sum(s >= 0.05 for s in scores),
                neutral=sum(-0.05 < s < 0.05 for s in scores),
                negative=sum(s <= -0.05 for s in scores),
            )
        )
    categories: dict[str, int] = {}
    for r in rows:
        if _complaint(seed, r):
            key = r["category"] or "other"
            categories[key] = categories.get(key, 0) + 1
    alerts: dict[str, int] = {}
    for a in seed.alerts:
        if a["brand"] == BRAND and week.start <= a["created_at"] < week.end:
            alerts[a["kind"]] = alerts.get(a["kind"], 0) + 1
    answered: list[tuple[dict[str, Any], float]] = []
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
            answered_complaints=sum(_complaint(seed, r) for r, _ in answered),
            complaints_within_hour=sum(_complaint(seed, r) and d <= 3600 for r, d in answered),
            median_seconds=median,
            p90_seconds=p90,
        )
        if answered
        else Responses()
    )
    authors = {r["author_id"] for r in rows if r["author_id"] is not None}
    return WeekFigures(
        days,
        categories,
        alerts,
        responses,
        viral=len(_raised(seed, week)),
        not_complaints=sum(r["flagged"] and r["id"] in seed.not_complaint for r in rows),
        authors=len(authors),
        reach=sum(FOLLOWERS[a] or 0 for a in authors),
        networks=_counts([r["network"] for r in rows]),
        languages=_counts([r["lang"] or "unknown" for r in rows]),
    )


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
        if _complaint(seed, r):
            picked = examples.setdefault(r["category"] or "other", [])
            if len(picked) < 2:
                picked.append(_post(seed, r))
    spikes = [
        SpikeRow(datetime.fromisoformat(a["payload"]["hour"]), "complaints", a["payload"])
        for a in sorted(seed.alerts, key=lambda a: a["created_at"])
        if a["kind"] == "spike"
        and a["brand"] == BRAND
        and week.start <= datetime.fromisoformat(a["payload"]["hour"]) < week.end
    ]
    by_id = {r["id"]: r for r in seed.mentions}
    peaks = sorted(
        (-max(p["score"] for p in ps), i, any(p["escalate"] for p in ps))
        for i, ps in _raised(seed, week).items()
    )
    in_week = [r for r in seed.mentions if _in(r, week) and r["author_id"]]
    authors = sorted(
        {r["author_id"] for r in in_week},
        key=lambda a: (
            -(FOLLOWERS[a] or 0),
            -sum(r["author_id"] == a for r in in_week),
            HANDLES[a],
        ),
    )
    voices = [
        BrandVoice(name, name != BRAND, *(_voice(seed, name, w) for w in (week, week.previous())))
        for name in (BRAND, COMPETITOR)
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
        viral_posts=[ViralPost(_post(seed, by_id[i]), -peak, esc) for peak, i, esc in peaks[:5]],
        praise=[_post(seed, r) for r in rows if r["intent"] == "praise"][:3],
        top_authors=[
            AuthorRow("x", HANDLES[a], FOLLOWERS[a] or 0, sum(r["author_id"] == a for r in in_week))
            for a in authors[:5]
        ],
        voices=voices,
    )


def _voice(seed: Seed, brand: str, week: Week) -> Voice:
    rows = [
        r
        for r in seed.mentions
        if r["brand"] == brand and not r["from_brand"] and week.start <= r["created_at"] < week.end
    ]
    scores = [r["sentiment"] for r in rows if r["sentiment"] is not None]
    return Voice(
        len(rows), sum(s >= 0.05 for s in scores), sum(s <= -0.05 for s in scores), len(scores)
    )


def assert_same_figures(got: Figures, want: Figures) -> None:
    for name in ("this", "last"):
        g, w = getattr(got, name), getattr(want, name)
        assert g.days == w.days, name
        assert g.categories == w.categories, name
        assert g.alerts == w.alerts, name
        for attr in ("viral", "not_complaints", "authors", "reach", "networks", "languages"):
            assert getattr(g, attr) == getattr(w, attr), (name, attr)
        for attr in ("answered", "answered_complaints", "complaints_within_hour"):
            assert getattr(g.responses, attr) == getattr(w.responses, attr), (name, attr)
        for attr in ("median_seconds", "p90_seconds"):
            value = getattr(w.responses, attr)
            expected = None if value is None else pytest.approx(value, abs=1e-3)
            assert getattr(g.responses, attr) == expected, (name, attr)
    assert got.top_posts == want.top_posts
    assert got.examples == want.examples
    assert got.spikes == want.spikes
    assert got.viral_posts == want.viral_posts
    assert got.praise == want.praise
    assert got.top_authors == want.top_authors
    if got.voices:
        assert got.voices == want.voices


# -- tests ----------------------------------------------------------------------------------------


def _median_by_network(seed: Seed, week: Week) -> list[tuple[str, int, float]]:
    delays: dict[str, list[float]] = {}
    for r in seed.mentions:
        replies = [
            b["created_at"]
            for b in seed.mentions
            if b["brand"] == BRAND
            and b["from_brand"]
            and b["network"] == r["network"]
            and b["in_reply_to"] == r["native_id"]
        ]
        if _in(r, week) and replies:
            delay = (min(replies) - r["created_at"]).total_seconds()
            delays.setdefault(r["network"], []).append(delay)
    return sorted(
        ((n, len(d), statistics.median(d)) for n, d in delays.items()), key=lambda x: (-x[1], x[0])
    )


def test_figures_match_the_reference(engine: Engine) -> None:
    seed = make_seed()
    seed_database(engine, seed)
    got = collect(
        engine, brand=BRAND, week=WEEK, risk_threshold=THRESHOLD, competitors=[COMPETITOR]
    )
    want = reference(seed)
    assert want.this.mentions > 50  # the seed is rich enough to mean something
    assert want.this.responses.answered > 10
    assert want.this.not_complaints > 3
    assert want.this.viral > 3
    assert len(want.praise) == 3
    assert want.viral_posts[0].peak_risk >= 85  # peak risk, though the latest decayed to 5
    assert_same_figures(got, want)
    assert len(got.voices) == 2
    by_network = [
        (r.network, r.answered, round(r.median_seconds, 3)) for r in got.replies_by_network
    ]
    assert by_network == _median_by_network(seed, WEEK)
    assert len(by_network) == 2
    assert got.voices[1].this.mentions == 5


def test_empty_week(engine: Engine) -> None:
    got = collect(engine, brand=BRAND, week=WEEK, risk_threshold=THRESHOLD)
    assert got.this == WeekFigures([DayCounts(d) for d in WEEK.days], {}, {}, Responses())
    assert (got.viral_posts, got.praise, got.top_authors, got.trending) == ([], [], [], [])
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


def test_what_the_support_team_did_counts_each_alert_once_per_action(engine: Engine) -> None:
    seed = Seed()
    ours = seed.mention(WEEK.start + timedelta(hours=1), flagged=True)
    theirs = seed.mention(WEEK.start + timedelta(hours=1), brand=COMPETITOR, flagged=True)
    seed_database(engine, seed)
    at = WEEK.start + timedelta(hours=2)
    with engine.begin() as conn:
        for message_id, mention in ((1, ours), (2, theirs)):
            conn.execute(
                insert(SlackMessage),
                {
                    "id": message_id,
                    "kind": "alert",
                    "mention_id": mention["id"],
                    "channel": "C1",
                    "ts": f"{message_id}.0",
                    "posted_at": at,
                },
            )
        actions = [(1, "acknowledged"), (1, "acknowledged"), (1, "resolved"), (2, "resolved")]
        conn.execute(
            insert(AlertAction),
            [
                {"message_id": m, "mention_id": m, "action": a, "user_id": "U1", "at": at}
                for m, a in actions
            ],
        )
    got = collect(engine, brand=BRAND, week=WEEK, risk_threshold=THRESHOLD)
    assert got.this.support == {"acknowledged": 1, "resolved": 1}
    assert got.last.support == {}
