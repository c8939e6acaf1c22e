"""`brandmon demo`: the real daemon on the bundled feed, with a day compressed into seconds.

Same scheduler, pipeline, storage and outbox as production; only the clock runs fast and the
source is the replay connector. It stops once the clock has passed the feed's last event and
every queued alert has been printed, then prints a summary.
"""

from __future__ import annotations

import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select

from connectors.replay import ReplayConnector
from core.clock import CompressedClock
from monitor.config import load_config
from monitor.console_sink import ConsoleSink
from monitor.daemon import Daemon
from storage.models import Alert, Mention

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"


def run_demo(*, seconds: float, data_dir: str | None, out: TextIO) -> int:
    workdir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="brandmon-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = load_config(DEMO_DIR / "config.yaml")
    config = config.model_copy(
        update={
            "storage": config.storage.model_copy(
                update={"url": f"sqlite:///{workdir / 'brandmon-demo.sqlite3'}"}
            )
        }
    )
    first, last = ReplayConnector.feed_span(config.sources["demo"].path)  # type: ignore[union-attr]
    speed = (last - first).total_seconds() / seconds
    clock = CompressedClock(first - timedelta(minutes=1), speed)
    daemon = Daemon(config, clock=clock, sink=ConsoleSink(out))
    out.write(
        f"brandmon demo: replaying {first:%Y-%m-%d %H:%M} to {last:%H:%M} UTC of posts about "
        f"Kestrel in about {seconds:.0f}s (database: {workdir})\n\n"
    )
    daemon.start()
    try:
        # The scheduler works in the background until the clock has passed the last event.
        remaining = (last + timedelta(minutes=1) - clock.now()).total_seconds() / speed
        time.sleep(max(0.0, remaining))
    finally:
        daemon.stop()
    daemon.run_once()  # the final poll, refresh and dispatch, after the jobs have stopped
    _summary(daemon, out)
    return 0


def _summary(daemon: Daemon, out: TextIO) -> None:
    with daemon.repository.sessions() as session:
        mentions = session.scalar(select(func.count()).select_from(Mention)) or 0
        flagged = session.scalar(select(func.count()).where(Mention.flagged.is_(True))) or 0
        own = session.scalar(select(func.count()).where(Mention.from_brand.is_(True))) or 0
        by_category = session.execute(
            select(Mention.category, func.count())
            .where(Mention.flagged.is_(True))
            .group_by(Mention.category)
            .order_by(func.count().desc())
        ).all()
        alerts = session.execute(
            select(Alert.kind, Alert.status, func.count()).group_by(Alert.kind, Alert.status)
        ).all()
    out.write("━" * 88 + "\n")
    out.write(
        f"Demo finished: {mentions} mentions stored, {flagged} flagged as complaints, "
        f"{own} replies by the brand.\n"
    )
    out.write(
        "Complaints by category: "
        + ", ".join(f"{c or 'uncategorised'} {n}" for c, n in by_category)
        + "\n"
    )
    out.write("Alerts: " + ", ".join(f"{k} {s} {n}" for k, s, n in alerts) + "\n")
