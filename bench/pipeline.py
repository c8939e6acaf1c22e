"""Pipeline throughput against bare VADER, and memory growth, on synthetic mentions.

    python bench/pipeline.py [--count 50000] [--memory-count 200000] [--rounds 3]

Prints the full pipeline's rate (normalise, dedupe against the database, own-post check, brand
match, judge, store in SQLite with snapshots, outbox alerts and the cursor, one transaction per
batch) beside `SentimentIntensityAnalyzer.polarity_scores` alone on the same texts, and their
ratio (target: >= 0.60). Suggested replies are drafted when an alert is sent
(monitor/drafts.py), so they are not in this path; `bench/rules_speed.py` times them. Then
pushes `--memory-count` mentions through and prints how much resident memory grew (target:
< 50 MB).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bench.synthetic import posts
from connectors.base import FetchResult
from core.clock import FixedClock
from core.records import Post
from monitor.config import parse_config
from monitor.pipeline import Pipeline
from storage.db import open_database
from storage.repository import Repository

BATCH = 500


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_pipeline(db_path: Path) -> Pipeline:
    config = parse_config(
        {
            "brands": [
                {
                    "name": "Kestrel",
                    "terms": ["kestrel", "kestrel fibre"],
                    "handles": {"x": ["KestrelHelp"]},
                }
            ],
            "sources": {"bench": {"type": "replay", "path": "unused.jsonl"}},
            "storage": {"url": f"sqlite:///{db_path}"},
        }
    )
    clock = FixedClock(datetime(2026, 11, 16, tzinfo=UTC))
    return Pipeline(config, Repository(open_database(config.storage.url)), clock=clock)


def batches(count: int, *, seed: int) -> Iterator[list[Post]]:
    """The synthetic posts in connector-sized batches, made as they are asked for."""
    stream = posts(count, seed=seed)
    while batch := list(islice(stream, BATCH)):
        yield batch


def push(pipeline: Pipeline, batches: Iterable[list[Post]]) -> None:
    """Process each batch as a connector's fetch would hand it over, cursor = batch number."""
    for done, batch in enumerate(batches, start=1):
        pipeline.process("bench", FetchResult(posts=batch, cursor=str(done)))


def run_pipeline(pipeline: Pipeline, count: int, *, seed: int) -> float:
    """Push `count` posts through in connector-sized batches; returns seconds.

    The posts are made before the clock starts, as VADER's texts are: making synthetic posts
    is the benchmark's own cost, not the pipeline's.
    """
    ready = list(batches(count, seed=seed))
    started = time.perf_counter()
    push(pipeline, ready)
    return time.perf_counter() - started


def run_vader(count: int, *, seed: int) -> float:
    analyzer = SentimentIntensityAnalyzer()
    texts = [p.text for p in posts(count, seed=seed)]
    started = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--memory-count", type=int, default=200_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="each side runs this many times, alternating; the best time of each counts",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        # Alternating rounds and keeping each side's best time: another process taking the
        # CPU for a moment slows one round, not the figure (a fresh database each round).
        vader_times, full_times = [], []
        for round_ in range(args.rounds):
            vader_times.append(run_vader(args.count, seed=1))
            pipeline = make_pipeline(Path(tmp) / f"speed{round_}.sqlite3")
            full_times.append(run_pipeline(pipeline, args.count, seed=1))
        vader, full = min(vader_times), min(full_times)
        print(f"{args.count:,} synthetic mentions, best of {args.rounds} rounds each")
        print(f"bare VADER polarity_scores: {args.count / vader:10,.0f} posts/s")
        print(f"full pipeline into SQLite : {args.count / full:10,.0f} posts/s")
        print(f"ratio pipeline / VADER    : {vader / full:10.2f}   (target >= 0.60)")
        spread = [f"{v / f:.2f}" for v, f in zip(vader_times, full_times, strict=True)]
        print(f"ratio in each round       : {' '.join(spread)}")
        if args.memory_count:
            pipeline = make_pipeline(Path(tmp) / "memory.sqlite3")
            # Posts made as they are due: holding them all would count the benchmark's own
            # posts as the pipeline's growth.
            push(pipeline, batches(10_000, seed=2))  # warm caches and the connection pool
            before = rss_mb()
            push(pipeline, batches(args.memory_count, seed=3))
            after = rss_mb()
            print(
                f"resident memory over {args.memory_count:,} mentions: {before:.0f} MB -> "
                f"{after:.0f} MB, growth {after - before:.1f} MB   (target < 50 MB)"
            )


if __name__ == "__main__":
    main()
