"""X's full texts and its bill: retweets and long posts read whole, post reads counted once a
UTC day, a daily budget that stops the source until the next day with one operations alert."""

from __future__ import annotations

import html
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import BudgetSpentError
from connectors.x import XConnector, XSourceConfig
from core.billing import MemoryLedger
from core.clock import FixedClock
from monitor.cli import main
from monitor.config import BrandConfig, load_config
from monitor.daemon import Daemon
from monitor.status import print_status
from storage.db import open_database
from storage.reads import StoredReadLedger
from storage.repository import Repository
from tests.factories import write_config
from tests.recorded_api import RecordedAPI, read_jsonl
from tests.test_connector_x import SHARED, needs_shared, ok, page

SEARCH = "/2/tweets/search/recent"
LOOKUP = "/2/tweets"
NOW = datetime(2024, 5, 1, 12, 10, tzinfo=UTC)
ACME = BrandConfig(name="Acme", terms=["Acme"], handles={"x": ["AcmeSupport"]})


@pytest.fixture
def api() -> Iterator[RecordedAPI]:
    with RecordedAPI() as server:
        yield server


def x(api: RecordedAPI, clock: FixedClock, **options: Any) -> XConnector:
    config = XSourceConfig(type="x", bearer_token="t", base_url=api.url, **options)
    return XConnector(config, [ACME], clock=clock)


def tweets(count: int, start: int = 1785642070963227000) -> dict[str, Any]:
    return {
        "data": [
            {"id": str(start + n), "text": f"Acme ate my parcel {n}", "author_id": "1"}
            for n in range(count)
        ],
        "meta": {"result_count": count},
    }


# -- whole texts ------------------------------------------------------------------------------


@needs_shared
def test_a_retweet_carries_the_originals_whole_text(api: RecordedAPI) -> None:
    body = next(read_jsonl(SHARED / "brexit.jsonl"))
    api.add("GET", SEARCH, ok(body))
    clock = FixedClock(datetime(2021, 9, 22, 16, 40, tzinfo=UTC))
    posts = {p.native_id: p for p in x(api, clock, max_pages=1).fetch_new(None).posts}

    originals = {t["id"]: t for t in body["includes"]["tweets"]}
    retweets = [
        (t, originals[r["id"]])
        for t in body["data"]
        for r in t.get("referenced_tweets", [])
        if r["type"] == "retweeted" and r["id"] in originals
    ]
    assert len(retweets) > 50
    for retweet, original in retweets:
        handle = retweet["text"].split(":", 1)[0]
        assert posts[retweet["id"]].text == html.unescape(f"{handle}: {original['text']}")
    # a tag only past the 140-character cut is now read
    cut, original = next((r, o) for r, o in retweets if "#JohnsonOut" in o["text"])
    assert "#JohnsonOut" not in cut["text"]
    assert "#JohnsonOut" in posts[cut["id"]].text


def test_a_long_post_is_read_from_its_note_tweet(api: RecordedAPI) -> None:
    body = page("search_page1.json")
    long_text = "Week three of waiting. " * 20 + "Acme, where is my refund?"
    body["data"][1]["text"] = long_text[:275] + "…"
    body["data"][1]["note_tweet"] = {"text": long_text}
    api.add("GET", SEARCH, ok(body), ok({"meta": {"result_count": 0}}))
    posts = {p.native_id: p for p in x(api, FixedClock(NOW)).fetch_new(None).posts}
    assert posts[body["data"][1]["id"]].text == long_text


def test_a_retweet_whose_original_was_not_sent_keeps_its_own_text(api: RecordedAPI) -> None:
    body = tweets(1)
    body["data"][0]["text"] = "RT @bob: Acme lost my…"
    body["data"][0]["referenced_tweets"] = [{"type": "retweeted", "id": "42"}]
    api.add("GET", SEARCH, ok(body))
    (post,) = x(api, FixedClock(NOW)).fetch_new(None).posts
    assert post.text == "RT @bob: Acme lost my…"


# -- the bill ---------------------------------------------------------------------------------


def test_each_post_is_billed_once_a_utc_day_expanded_ones_included(api: RecordedAPI) -> None:
    clock = FixedClock(NOW)
    body = tweets(3)
    body["includes"] = {"tweets": [{"id": "77", "text": "the original"}]}
    api.add("GET", SEARCH, ok(body), ok(body), ok(body), ok(body))
    connector, ledger = x(api, clock), MemoryLedger()
    connector.bill_reads_to(ledger)

    connector.fetch_new(None)
    connector.fetch_new(None)
    assert ledger.count(NOW.date(), NOW.date()) == 4
    clock.set(datetime(2024, 5, 1, 23, 59, tzinfo=UTC))
    connector.fetch_new(None)
    assert ledger.count(NOW.date(), NOW.date()) == 4  # read again the same day: not billed
    clock.set(datetime(2024, 5, 2, 0, 0, tzinfo=UTC))
    connector.fetch_new(None)
    assert ledger.count(date(2024, 5, 2), date(2024, 5, 2)) == 4


def test_engagement_lookups_are_billed_too(api: RecordedAPI) -> None:
    connector, ledger = x(api, FixedClock(NOW)), MemoryLedger()
    connector.bill_reads_to(ledger)
    api.add("GET", LOOKUP, ok(tweets(2)))
    connector.refresh_engagement(["1785642070963227000", "1785642070963227001"])
    assert ledger.count(NOW.date(), NOW.date()) == 2


def test_pages_shrink_to_what_the_budget_has_left(api: RecordedAPI) -> None:
    connector, ledger = x(api, FixedClock(NOW), daily_budget_usd=0.5), MemoryLedger()
    connector.bill_reads_to(ledger)
    ledger.record(NOW.date(), [str(n) for n in range(70)])  # $0.35 spent: 30 reads left
    api.add("GET", SEARCH, ok(tweets(30)))
    connector.fetch_new(None)
    assert api.requests[-1].param("max_results") == "30"
    with pytest.raises(BudgetSpentError) as spent:
        connector.fetch_new(None)
    assert len(api.requests) == 1  # nothing is asked once the budget is spent
    assert spent.value.resume_at == datetime(2024, 5, 2, tzinfo=UTC)
    assert spent.value.retry_after == (spent.value.resume_at - NOW).total_seconds()


def test_lookups_stop_at_the_budget(api: RecordedAPI) -> None:
    connector, ledger = x(api, FixedClock(NOW), daily_budget_usd=0.01), MemoryLedger()
    connector.bill_reads_to(ledger)
    api.add("GET", LOOKUP, ok(tweets(2)))
    with pytest.raises(BudgetSpentError):
        connector.refresh_engagement([str(1785642070963227000 + n) for n in range(5)])
    assert api.requests[0].param("ids") == "1785642070963227000,1785642070963227001"


def test_a_price_of_zero_is_never_budget_bound(api: RecordedAPI) -> None:
    connector = x(api, FixedClock(NOW), daily_budget_usd=0, price_per_read_usd=0)
    api.add("GET", SEARCH, ok(tweets(3)))
    assert len(connector.fetch_new(None).posts) == 3
    assert api.requests[0].param("max_results") == "100"


def test_stored_reads_count_each_post_once_a_day(repo: Repository) -> None:
    repository = repo
    ledger = StoredReadLedger(repository, "x-main")
    day = date(2024, 5, 1)
    assert ledger.record(day, ["1", "2", "3"]) == 3
    assert ledger.record(day, ["3", "4"]) == 1
    assert ledger.record(date(2024, 5, 2), ["1"]) == 1
    assert StoredReadLedger(repository, "other").record(day, ["1"]) == 1
    assert ledger.count(day, day) == 4
    assert ledger.count(day, date(2024, 5, 31)) == 5
    assert repository.read_counts(day, day) == {"x-main": 4, "other": 1}


# -- the daemon and status --------------------------------------------------------------------


def _config(tmp_path: Path, **x_options: Any) -> Path:
    return write_config(
        tmp_path / "config.yaml",
        db_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        sources={
            "x-main": {
                "type": "x",
                "bearer_token": "t",
                "base_url": "http://127.0.0.1:9",
                **x_options,
            }
        },
        brands=[{"name": "Acme", "terms": ["Acme"]}],
    )


class _NoSink:
    name = "none"

    def send(self, view: Any) -> Any:
        raise AssertionError("nothing is sent here")


def test_the_daemon_stops_a_spent_source_until_the_next_utc_day_with_one_alert(
    api: RecordedAPI, tmp_path: Path
) -> None:
    clock = FixedClock(NOW)
    config = load_config(_config(tmp_path, daily_budget_usd=0.05))
    daemon = Daemon(config, clock=clock, sink=_NoSink(), engine=open_database(config.storage.url))
    connector = x(api, clock, daily_budget_usd=0.05)
    connector.bill_reads_to(StoredReadLedger(daemon.repository, "x-main"))
    daemon.connectors["x-main"] = connector
    body = tweets(10)
    api.add("GET", SEARCH, ok(body), ok(tweets(10, start=1785642070963228000)))

    assert daemon.poll("x-main") == 10  # $0.05: the budget is spent by this page
    clock.advance(minutes=5)
    assert daemon.poll("x-main") == 0
    clock.advance(hours=3)
    assert daemon.poll("x-main") == 0
    assert len(api.requests) == 1
    state = daemon.repository.source_state("x-main")
    assert state is not None
    assert state.paused_until == datetime(2024, 5, 2, tzinfo=UTC)
    assert state.consecutive_failures == 0  # a spent budget is not a failure
    alerts = daemon.repository.pending_alerts(clock.now())
    assert [(a.kind, a.payload["check"]) for a in alerts] == [
        ("operations", "sources.x-main.daily_budget_usd")
    ]
    clock.set(datetime(2024, 5, 2, 0, 0, 1, tzinfo=UTC))
    assert daemon.poll("x-main") == 10  # a new UTC day, a new budget
    assert len(api.requests) == 2


def test_status_shows_reads_and_estimated_spend(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, daily_budget_usd=2, price_per_read_usd=0.01))
    repository = Repository(open_database(config.storage.url))
    repository.record_reads("x-main", date(2024, 5, 1), [str(n) for n in range(30)])
    repository.record_reads("x-main", date(2024, 5, 2), [str(n) for n in range(50)])
    repository.record_reads("x-main", date(2024, 4, 30), ["1"])  # last month: not counted
    out = io.StringIO()
    print_status(config, out=out, now=datetime(2024, 5, 2, 9, tzinfo=UTC))
    assert "paid reads:    today 50 ($0.50 of $2.00), this month 80 ($0.80)" in out.getvalue()


def test_budget_settings_are_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, daily_budget_usd=-1)
    assert main(["status", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "sources.x-main.daily_budget_usd" in err
    assert len(err.strip().splitlines()) == 1
