"""Time to build a weekly digest over 1,000,000 mentions, on SQLite and PostgreSQL.

    python bench/digest.py [--rows 1000000] [--repeat 3]

Fills a fresh database with `--rows` mentions of one brand spread over two ISO weeks (the
digest's week and the week before), 3% of them answered by the brand, from 50,000 authors
with follower counts, in three languages, a tenth of them praise; plus a competitor with a
quarter as many mentions (for share of voice), "not a complaint" labels, and viral alerts;
then times, best of `--repeat`:

- baseline: `SELECT count(*)` of the brand's mentions in the two weeks (the least any
  digest must read),
- figures: every number in the digest (monitor.digest.figures.collect),
- digest: figures + the three charts + HTML and text (what the scheduler does before SMTP),
  every section included: share of voice, reach and top authors, networks and languages,
  praise, trending terms, support actions, reply times by network, viral posts.

and prints each with its ratio to the baseline measured in the same run. Target: digest under
5 s on SQLite on the 2-core machine. PostgreSQL runs when BRANDMON_TEST_POSTGRES_URL is set
(in a scratch schema that is dropped afterwards).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, func, select, text

from monitor.config import parse_config
from monitor.digest.figures import collect
from monitor.digest.period import Week
from monitor.digest.service import build_digest
from rules.categories import KEYS
from storage.db import open_database
from storage.models import Mention

BRAND = "Kestrel"
COMPETITOR = "Osprey"
AUTHORS = 50_000
WEEK = Week(2026, 47, "Europe/London")
COLUMNS = (
    "brand",
    "author_id",
    "lang",
    "intent",
    "source",
    "network",
    "native_id",
    "text",
    "url",
    "created_at",
    "fetched_at",
    "in_reply_to",
    "from_brand",
    "sentiment",
    "flagged",
    "category",
    "reasons",
    "risk",
    "tracking",
    "likes",
    "reposts",
    "replies",
    "quotes",
)
CATEGORIES = [*KEYS, None]
LANGS = ["en", "en", "en", "de", "fr"]
WORDS = [
    "late",
    "refund",
    "app",
    "crash",
    "lovely",
    "staff",
    "parcel",
    "queue",
    "price",
    "update",
    "signal",
    "gate",
]
REPLY_SHARE = 0.03


def rows(count: int, *, seed: int = 1) -> Iterator[tuple[Any, ...]]:
    """The brand's mentions, then the competitor's (a quarter as many)."""
    yield from brand_rows(BRAND, count, seed=seed)
    yield from brand_rows(COMPETITOR, count // 4, seed=seed + 1)


def brand_rows(brand: str, count: int, *, seed: int) -> Iterator[tuple[Any, ...]]:
    """Mentions in time order (as the daemon stores them), brand replies among them."""
    rng = random.Random(seed)
    start = WEEK.previous().start
    span = (WEEK.end - start).total_seconds()
    mentions = int(count / (1 + REPLY_SHARE))
    step = span / mentions
    for i in range(mentions):
        at = start + timedelta(seconds=i * step)
        network = "x" if i % 3 else "reddit"
        flagged = rng.random() < 0.2
        yield (
            brand,
            rng.randrange(AUTHORS) + 1,
            rng.choice(LANGS),
            "praise" if rng.random() < 0.1 else ("complaint" if flagged else "chatter"),
            "bench",
            network,
            f"{brand}{i}",
            f"post {i} about {brand.lower()} {rng.choice(WORDS)} {rng.choice(WORDS)}",
            None,
            at,
            at,
            None,
            False,
            rng.uniform(-1, 1),
            flagged,
            rng.choice(CATEGORIES) if flagged else None,
            "[]",
            rng.uniform(0, 100) if flagged else None,
            False,
            rng.randrange(50),
            rng.randrange(20),
            0,
            rng.randrange(5),
        )
        if rng.random() < REPLY_SHARE:
            reply_at = at + timedelta(minutes=rng.expovariate(1 / 90))
            yield (
                brand,
                None,
                "en",
                None,
                "bench",
                network,
                f"r{brand}{i}",
                "Sorry to hear that",
                None,
                reply_at,
                reply_at,
                f"{brand}{i}",
                True,
                0.3,
                False,
                None,
                "[]",
                None,
                False,
                0,
                0,
                0,
                0,
            )


def fill_sqlite(engine: Engine, count: int) -> None:
    placeholders = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO mentions ({', '.join(COLUMNS)}) VALUES ({placeholders})"

    def as_sqlite(row: tuple[Any, ...]) -> tuple[Any, ...]:
        at, fetched = row[9], row[10]
        return (*row[:9], _naive(at), _naive(fetched), *row[11:])

    raw = engine.raw_connection()
    try:
        raw.execute("PRAGMA synchronous=OFF")
        raw.executemany(
            "INSERT INTO authors (id, network, native_id, handle, followers, verified) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            authors(),
        )
        raw.executemany(sql, map(as_sqlite, rows(count)))
        raw.executemany(
            "INSERT INTO mention_labels (mention_id, label, source, at) VALUES (?, ?, ?, ?)",
            [(i, "not_complaint", "slack", _naive(WEEK.start)) for i in range(1, count, 500)],
        )
        raw.executemany(
            "INSERT INTO alerts (dedupe_key, kind, mention_id, brand, payload, status, attempts,"
            " created_at) VALUES (?, 'update', ?, ?, ?, 'sent', 1, ?)",
            [
                (f"u{i}", i, BRAND, f'{{"score": {60 + i % 40}, "escalate": false}}', when)
                for i, when in viral_alerts(count)
            ],
        )
        raw.commit()
        raw.execute("ANALYZE")
    finally:
        raw.close()


def authors() -> Iterator[tuple[Any, ...]]:
    rng = random.Random(3)
    for i in range(1, AUTHORS + 1):
        yield (i, "x", f"u{i}", f"author{i}", int(rng.paretovariate(1.2) * 100))


def viral_alerts(count: int) -> list[tuple[int, str]]:
    """A viral-risk alert for one mention in 2,000, raised within the two weeks."""
    span = (WEEK.end - WEEK.previous().start) / count
    return [
        (i, _naive(WEEK.previous().start + span * i + timedelta(hours=1)))
        for i in range(1, count, 2000)
    ]


def _naive(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill_postgres(engine: Engine, count: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = "id, network, native_id, handle, followers, verified"
        with cursor.copy(f"COPY authors ({columns}) FROM STDIN") as copy:
            for author in authors():
                copy.write_row((*author, False))
        with cursor.copy(f"COPY mentions ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows(count):
                copy.write_row(row)
        for i, when in viral_alerts(count):
            cursor.execute(
                "INSERT INTO alerts (dedupe_key, kind, mention_id, brand, payload, status,"
                " attempts, created_at) VALUES (%s, 'update', %s, %s, %s, 'sent', 1, %s)",
                (f"u{i}", i, BRAND, f'{{"score": {60 + i % 40}, "escalate": false}}', when + "Z"),
            )
        raw.commit()
        cursor.execute("ANALYZE mentions")
        raw.commit()
    finally:
        raw.close()


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(name: str, url: str, count: int, repeat: int) -> None:
    engine = open_database(url)
    started = time.perf_counter()
    (fill_sqlite if engine.dialect.name == "sqlite" else fill_postgres)(engine, count)
    filled = time.perf_counter() - started
    prev = WEEK.previous()
    count_query = select(func.count()).where(
        Mention.brand == BRAND, Mention.created_at >= prev.start, Mention.created_at < WEEK.end
    )
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Mention)).scalar_one()

    def baseline() -> None:
        with engine.connect() as conn:
            conn.execute(count_query).scalar_one()

    config = parse_config(
        {
            "brands": [
                {"name": BRAND, "terms": ["kestrel"]},
                {"name": COMPETITOR, "terms": ["osprey"], "competitor": True},
            ],
            "sources": {"bench": {"type": "replay", "path": "unused.jsonl"}},
            "timezone": WEEK.tz,
        }
    )

    def figures() -> None:
        collect(engine, brand=BRAND, week=WEEK, risk_threshold=60, competitors=[COMPETITOR])

    def digest() -> None:
        build_digest(config, engine, brand=BRAND, week=WEEK).preview_html()

    digest()  # warm up: imports, matplotlib font cache, page cache
    base, fig, full = best(repeat, baseline), best(repeat, figures), best(repeat, digest)
    print(f"{name}: {stored:,} mentions stored in {filled:.1f} s")
    print(f"  baseline count(*) of the two weeks  {base:7.3f} s")
    print(f"  figures (all SQL aggregation)       {fig:7.3f} s   {fig / base:5.1f}x baseline")
    print(
        f"  digest (figures + charts + HTML)    {full:7.3f} s   {full / base:5.1f}x baseline"
        f"   target < 5 s: {'met' if full < 5 else 'MISSED'}"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", f"sqlite:///{folder}/bench.sqlite3", args.rows, args.repeat)
    base = os.environ.get("BRANDMON_TEST_POSTGRES_URL")
    if not base:
        print("PostgreSQL: skipped (set BRANDMON_TEST_POSTGRES_URL)")
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        measure(
            "PostgreSQL", f"{base}{sep}options=-csearch_path%3D{schema}", args.rows, args.repeat
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
