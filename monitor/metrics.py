"""`/metrics` (Prometheus text format) and `/healthz`, served by the daemon itself.

The standard library's ThreadingHTTPServer serves them: most figures are read from the shared
database when scraped (so any daemon of a cluster reports the cluster's outbox and sources),
and the few this process counts itself (polls, poll errors) are plain integers under a lock.
prometheus_client would add a dependency and a global registry for the same ~40 lines.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from sqlalchemy import exc as sa_exc

from core.billing import BilledSource, utc_day
from monitor.status import source_health

if TYPE_CHECKING:
    from monitor.daemon import Daemon

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class PollCounters:
    """What this daemon did since it started (Prometheus counters reset on restart)."""

    polls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, source: str, *, failed: bool) -> None:
        with self._lock:
            self.polls[source] += 1
            if failed:
                self.errors[source] += 1

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        with self._lock:
            return dict(self.polls), dict(self.errors)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Family:
    """One metric's HELP, TYPE and samples."""

    def __init__(self, name: str, kind: str, help_text: str) -> None:
        self.lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        self.name = name

    def add(self, value: float, **labels: str) -> None:
        inner = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
        self.lines.append(
            f"{self.name}{{{inner}}} {value:g}" if inner else f"{self.name} {value:g}"
        )


def render_metrics(daemon: Daemon) -> str:
    """The exposition text: this daemon's counters and the database's figures."""
    now = daemon.clock.now()
    repository = daemon.repository
    polls, errors = daemon.counters.snapshot()
    sources = list(daemon.connectors)
    families: list[_Family] = []

    def family(name: str, kind: str, help_text: str) -> _Family:
        families.append(_Family(name, kind, help_text))
        return families[-1]

    poll_total = family("brandmon_polls_total", "counter", "Polls this daemon made, by source.")
    error_total = family("brandmon_poll_errors_total", "counter", "Polls that failed, by source.")
    for name in sources:
        poll_total.add(polls.get(name, 0), source=name)
        error_total.add(errors.get(name, 0), source=name)
    mentions = family("brandmon_mentions", "gauge", "Mentions stored, by source.")
    for name, count in sorted(repository.mention_counts_by_source().items()):
        mentions.add(count, source=name)
    states = {state.source: state for state in repository.source_states()}
    lag = family("brandmon_source_lag_seconds", "gauge", "Seconds since the last good poll.")
    skipped = family(
        "brandmon_source_skipped_posts_total", "counter", "Posts that could not be stored."
    )
    paused = family("brandmon_source_paused", "gauge", "1 while the source is paused.")
    quota = family("brandmon_source_quota_remaining", "gauge", "API calls left (X, Reddit).")
    for name in sources:
        state = states.get(name)
        if state is None:
            continue
        if state.last_success_at is not None:
            lag.add(max(0.0, (now - state.last_success_at).total_seconds()), source=name)
        skipped.add(state.skipped_total or 0, source=name)
        paused.add(int(bool(state.paused_until and state.paused_until > now)), source=name)
        if state.quota_remaining is not None:
            quota.add(state.quota_remaining, source=name)
    today = utc_day(now)
    reads = repository.read_counts(today, today)
    spend = family(
        "brandmon_source_spend_usd_today", "gauge", "Estimated API spend this UTC day (X)."
    )
    for name, source in daemon.config.sources.items():
        if name in sources and isinstance(source, BilledSource):
            spend.add(reads.get(name, 0) * source.price_per_read_usd, source=name)
    counts, oldest = repository.alert_ages(now)
    alerts = family("brandmon_alerts", "gauge", "Alerts in the outbox, by state.")
    for status in sorted({"pending", "sent", "failed", *counts}):
        alerts.add(counts.get(status, 0), state=status)
    family(
        "brandmon_outbox_oldest_pending_seconds", "gauge", "Age of the oldest unsent alert."
    ).add(oldest)
    held = sum(1 for lease in repository.leases() if lease.holder == daemon.holder)
    family(
        "brandmon_leases_held", "gauge", "Leases (sources, cluster jobs) this daemon holds."
    ).add(held)
    return "\n".join(line for f in families for line in f.lines) + "\n"


def render_health(daemon: Daemon) -> tuple[int, str]:
    """200 when the database answers, 503 when it does not; one line per source either way."""
    now = daemon.clock.now()
    try:
        states = {state.source: state for state in daemon.repository.source_states()}
    except sa_exc.SQLAlchemyError as exc:
        return 503, f"database unreachable: {type(exc).__name__}\n"
    lines = ["ok"]
    for name in daemon.connectors:
        _, health = source_health(daemon.config.sources[name], states.get(name), now)
        lines.append(f"{name}: {health}")
    return 200, "\n".join(lines) + "\n"


class MetricsServer:
    """The HTTP server in a daemon thread; `close()` stops it."""

    def __init__(self, daemon: Daemon, *, host: str, port: int) -> None:
        handler = _handler_for(daemon)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="brandmon-metrics", daemon=True
        )
        self._thread.start()
        log.info("metrics on http://%s:%d/metrics", host, self.port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(daemon: Daemon) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            try:
                if path == "/metrics":
                    status, body, kind = 200, render_metrics(daemon), CONTENT_TYPE
                elif path == "/healthz":
                    status, body = render_health(daemon)
                    kind = "text/plain; charset=utf-8"
                else:
                    status, body, kind = 404, "not found: try /metrics or /healthz\n", "text/plain"
            except sa_exc.SQLAlchemyError as exc:
                status, body, kind = (
                    503,
                    f"database unreachable: {type(exc).__name__}\n",
                    "text/plain",
                )
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("metrics: " + format, *args)

    return Handler
