"""/metrics and /healthz over real HTTP, from a daemon that polled a good and a failing source."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.clock import FixedClock
from monitor.config import load_config, parse_config
from monitor.daemon import Daemon
from monitor.metrics import MetricsServer, render_metrics
from monitor.sinks import build_sink
from tests.factories import write_config, write_feed
from tests.test_daemon import Broken, Collect, _daemon


def _get(port: int, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def _samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


@pytest.fixture
def served(tmp_path, db_url, clock):
    daemon = _daemon(tmp_path, db_url, clock, Broken(RuntimeError("connection reset")))
    server = MetricsServer(daemon, host="127.0.0.1", port=0)
    yield daemon, server.port
    server.close()


def test_metrics_count_polls_errors_mentions_and_alerts(served, clock) -> None:
    daemon, port = served
    daemon.run_once()
    clock.advance(seconds=5)  # the failing source backs off for at least 15 s
    status, kind, text = _get(port, "/metrics")
    assert status == 200
    assert kind.startswith("text/plain; version=0.0.4")
    values = _samples(text)
    assert values['brandmon_polls_total{source="good"}'] == 1
    assert values['brandmon_poll_errors_total{source="good"}'] == 0
    assert values['brandmon_poll_errors_total{source="bad"}'] == 1
    assert values['brandmon_mentions{source="good"}'] == 2
    assert values['brandmon_source_lag_seconds{source="good"}'] == 5
    assert values['brandmon_source_paused{source="bad"}'] == 1
    assert values['brandmon_alerts{state="sent"}'] == 1  # the complaint went out
    assert values['brandmon_alerts{state="pending"}'] == 0
    assert values["brandmon_outbox_oldest_pending_seconds"] == 0
    assert values["brandmon_leases_held"] >= 2  # the source and the cluster jobs it ran
    assert "# TYPE brandmon_polls_total counter" in text


def test_outbox_age_is_the_oldest_unsent_alert(served, clock) -> None:
    daemon, port = served
    daemon.poll("good")  # queued, not dispatched
    clock.advance(minutes=7)
    values = _samples(_get(port, "/metrics")[2])
    assert values['brandmon_alerts{state="pending"}'] == 1
    assert values["brandmon_outbox_oldest_pending_seconds"] == 420


def test_healthz_names_each_source(served) -> None:
    daemon, port = served
    daemon.run_once()
    status, _, body = _get(port, "/healthz")
    assert status == 200
    assert body.splitlines()[0] == "ok"
    assert "good: ok" in body
    assert "bad: failing (1 failed polls in a row)" in body


def test_healthz_is_503_when_the_database_is_gone(served) -> None:
    daemon, port = served
    daemon.engine.dispose()
    daemon.repository.engine = daemon.engine = _unreachable()
    daemon.repository.sessions.configure(bind=daemon.engine)
    status, _, body = _get(port, "/healthz")
    assert status == 503
    assert body.startswith("database unreachable")


def test_unknown_path_is_404(served) -> None:
    assert _get(served[1], "/")[0] == 404


def test_the_daemon_serves_metrics_only_when_a_port_is_configured(tmp_path, clock) -> None:
    feed = write_feed(tmp_path / "f.jsonl", [])
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    off = load_config(
        write_config(
            tmp_path / "a.yaml", db_url=url, sources={"f": {"type": "replay", "path": str(feed)}}
        )
    )
    assert off.metrics.port is None
    on = load_config(
        write_config(
            tmp_path / "b.yaml",
            db_url=url,
            sources={"f": {"type": "replay", "path": str(feed)}},
            metrics={"port": 0},
        )
    )
    daemon = Daemon(on, clock=clock, sink=Collect())
    daemon.start()
    try:
        assert daemon.metrics is not None
        port = daemon.metrics.port
        assert _get(port, "/healthz")[0] == 200
    finally:
        daemon.stop()
    with pytest.raises(urllib.error.URLError):
        _get(port, "/healthz")


def _unreachable():
    from sqlalchemy import create_engine

    return create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_x_spend_today_is_a_metric(tmp_path: Path, clock: FixedClock) -> None:
    config = parse_config(
        {
            "brands": [{"name": "Kestrel", "terms": ["kestrel"]}],
            "sources": {"x": {"type": "x", "bearer_token": "t", "price_per_read_usd": 0.01}},
            "storage": {"url": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
        }
    )
    daemon = Daemon(config, clock=clock, sink=build_sink(config, out=io.StringIO(), clock=clock))
    daemon.repository.record_reads("x", clock.now().date(), ["1", "2", "3"])
    assert 'brandmon_source_spend_usd_today{source="x"} 0.03' in render_metrics(daemon)
