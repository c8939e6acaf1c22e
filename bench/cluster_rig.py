"""What bench/cluster.py and bench/fault_soak.py share: real `brandmon run` processes on one
PostgreSQL schema against local fake X, Reddit and Slack servers, and the counts that decide
whether anything was lost or sent twice.

The fakes are the ones the tests and bench/api_efficiency.py use (tweepy, praw and slack_sdk
talk real HTTP to them); each search answers only the posts naming the queried brand, so
several brands' sources split the work as they would on the real APIs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_efficiency import FakeReddit, FakeX  # noqa: E402
from connectors.x import TWITTER_EPOCH_MS  # noqa: E402
from tests.fake_slack import BOT_TOKEN, FakeSlack, Scripted  # noqa: E402
from tests.recorded_api import Recorded, RecordedAPI, Reply  # noqa: E402

PG_ENV = "BRANDMON_TEST_POSTGRES_URL"
CHANNEL = "C0SUPPORT"
BRANDS = ["Acme", "Bolt", "Corvid", "Dunmore", "Ember", "Fjord"]
SLACK_DOWN = Scripted(status=503, body=None)
SLACK_STORM = Scripted(
    status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "2"}
)
COMPLAINTS = [
    "{brand} lost my order {n} and nobody answers, useless support",
    "{brand} charged me twice for order {n}, still no refund",
    "on hold with {brand} for 2 hours about order {n}, worst service",
]


class BrandX(FakeX):
    """FakeX whose search answers the tweets that name a brand in the query."""

    def publish(self, brand: str, count: int, *, poison: bool = False) -> list[str]:
        ids = []
        for _ in range(count):
            self._at = max(self._at + 0.001, time.time() - 60)  # a millisecond apart
            tid = str((int(self._at * 1000) - TWITTER_EPOCH_MS) << 22)
            text_ = COMPLAINTS[len(self.tweets) % 3].format(brand=brand, n=tid[-6:])
            if poison:
                text_ += " \ud800 \x00"  # a lone surrogate and a NUL
            self.tweets.append(
                {
                    "id": tid,
                    "text": text_,
                    "author_id": str(10_000 + len(self.tweets)),
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self._at)),
                    "edit_history_tweet_ids": [tid],
                    "public_metrics": {"like_count": 1, "retweet_count": 0, "reply_count": 0},
                }
            )
            ids.append(tid)
        return ids

    def search(self, request: Recorded) -> Reply:
        query = request.param("query") or ""
        kept, self.tweets = self.tweets, [t for t in self.tweets if _named(t["text"], query)]
        try:
            return super().search(request)
        finally:
            self.tweets = kept


class BrandReddit(FakeReddit):
    """FakeReddit whose search answers the posts naming a brand in `q`; `failing` makes
    every search a 503 (a source failing for a while)."""

    failing = False

    def publish(self, brand: str, count: int) -> list[str]:
        self._at = max(self._at, time.time() - 60)
        names = self.post(count, spacing=0.001)
        for index, child in enumerate(self.items[-count:]):
            child["data"]["title"] = COMPLAINTS[index % 3].format(
                brand=brand, n=child["data"]["id"]
            )
        return names

    def search(self, request: Recorded) -> Reply:
        if self.failing:
            return Reply(503, {"message": "upstream down"})
        query = request.param("q") or ""
        kept = self.items
        self.items = [c for c in kept if _named(c["data"]["title"], query)]
        try:
            return super().search(request)
        finally:
            self.items = kept


def _named(text_: str, query: str) -> bool:
    return any(brand in text_ and brand.lower() in query.lower() for brand in BRANDS)


@dataclass
class Figures:
    published: int
    stored: int
    lost: int
    alerts: int
    delivered: int
    duplicated: int
    failed: int
    pending: int


class Cluster:
    """The fakes, one PostgreSQL schema and the daemons; use `with cluster(...) as c:`."""

    def __init__(self, workdir: Path, *, brands: list[str], interval: float) -> None:
        self.workdir = workdir
        self.brands = brands
        self.interval = interval
        self.x_api, self.reddit_api = RecordedAPI(), RecordedAPI()
        start = time.time() - 60
        self.x, self.reddit = BrandX(start), BrandReddit(start)
        self.x.serve(self.x_api)
        self.reddit.serve(self.reddit_api)
        self.slack = FakeSlack()
        self.processes: list[subprocess.Popen[bytes]] = []
        self.published: set[tuple[str, str]] = set()
        base = os.environ.get(PG_ENV)
        if not base:
            sys.exit(f"set {PG_ENV} (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
        self.schema = f"bench_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(base)
        sep = "&" if "?" in base else "?"
        self.url = f"{base}{sep}options=-csearch_path%3D{self.schema}"
        self.engine = create_engine(self.url)

    def __enter__(self) -> Cluster:
        self.x_api.__enter__()
        self.reddit_api.__enter__()
        self.slack.__enter__()
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        self.config = self.workdir / "config.yaml"
        self.config.write_text(yaml.safe_dump(self._config()), encoding="utf-8")
        return self

    def __exit__(self, *_exc: object) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.engine.dispose()
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()
        self.slack.__exit__(None, None, None)
        self.x_api.close()
        self.reddit_api.close()

    def _config(self) -> dict[str, Any]:
        every = {"interval_seconds": self.interval, "jitter_seconds": 0}
        sources: dict[str, Any] = {}
        for brand in self.brands:
            key = brand.lower()
            sources[f"x-{key}"] = {
                "type": "x",
                "bearer_token": "${BENCH_X_TOKEN}",
                "base_url": self.x_api.url,
                "brand": brand,
                "timeout_seconds": 5,
                **every,
            }
            sources[f"reddit-{key}"] = {
                "type": "reddit",
                "client_id": "${BENCH_REDDIT_ID}",
                "client_secret": "${BENCH_REDDIT_SECRET}",
                "oauth_url": self.reddit_api.url,
                "reddit_url": self.reddit_api.url,
                "brand": brand,
                "timeout_seconds": 5,
                **every,
            }
        return {
            "brands": [{"name": b, "terms": [b]} for b in self.brands],
            "sources": sources,
            "storage": {"url": self.url},
            "log_level": "WARNING",
            "learning": {"enabled": False},
            "alerting": {
                "sink": "slack",
                "dispatch_interval_seconds": 0.5,
                "slack": {
                    "bot_token": "${BENCH_SLACK_TOKEN}",
                    "channel": CHANNEL,
                    "base_url": self.slack.base_url,
                    "timeout_seconds": 2,
                    "rate_limit": {"max_messages": 1_000_000},
                },
            },
        }

    # -- daemons ----------------------------------------------------------------------------

    def start(self) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "BENCH_X_TOKEN": "t",
            "BENCH_REDDIT_ID": "i",
            "BENCH_REDDIT_SECRET": "s",
            "BENCH_SLACK_TOKEN": BOT_TOKEN,
        }
        log = (self.workdir / f"daemon-{len(self.processes)}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "run", "--config", str(self.config)],
            stdout=log,
            stderr=log,
            cwd=ROOT,
            env=env,
        )
        self.processes.append(process)
        return process

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.alive():
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=30)

    def _leases(self) -> list[tuple[str, str]]:
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT name, holder FROM leases")).all()
        except Exception:  # not migrated yet
            return []
        return [(name, holder) for name, holder in rows]

    def leases_of(self, pid: int) -> set[str]:
        return {name for name, holder in self._leases() if holder.split(":")[1:2] == [str(pid)]}

    def holders(self, names: set[str]) -> dict[str, str]:
        return {name: holder for name, holder in self._leases() if name in names}

    # -- posts and counts -------------------------------------------------------------------

    def publish(self, brand: str, count: int, *, poison: bool = False) -> None:
        for tid in self.x.publish(brand, count, poison=poison):
            self.published.add(("x", tid))
        if not poison:
            for name in self.reddit.publish(brand, count):
                self.published.add(("reddit", name))

    def stored(self) -> set[tuple[str, str]]:
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(text("SELECT network, native_id FROM mentions")).all()
        except Exception:  # not migrated yet
            return set()
        return {(network, native_id) for network, native_id in rows}

    def figures(self) -> Figures:
        stored = self.stored()
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status FROM alerts WHERE kind <> 'operations'")
            ).all()
        ids = [
            message["metadata"]["event_payload"]["alert_id"]
            for message in self.slack.top_level(CHANNEL)
            if message.get("metadata")
        ]
        wanted = {alert_id for alert_id, _ in rows}
        return Figures(
            published=len(self.published),
            stored=len(stored & self.published),
            lost=len(self.published - stored),
            alerts=len(rows),
            delivered=len(set(ids) & wanted),
            duplicated=len(ids) - len(set(ids)),
            failed=sum(1 for _, status in rows if status == "failed"),
            pending=sum(1 for _, status in rows if status == "pending"),
        )

    def settled(self) -> bool:
        """Every published post stored and every alert sent (or failed)."""
        figures = self.figures()
        return figures.lost == 0 and figures.pending == 0 and figures.alerts > 0

    def wait_settled(self, seconds: float) -> float:
        """Seconds until settled (polling the database), or `seconds` when it never was."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            if self.settled():
                return time.monotonic() - started
            time.sleep(0.25)
        return seconds


@contextmanager
def cluster(workdir: Path, *, brands: list[str], interval: float) -> Iterator[Cluster]:
    workdir.mkdir(parents=True, exist_ok=True)
    with Cluster(workdir, brands=brands, interval=interval) as made:
        yield made
