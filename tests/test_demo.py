"""`brandmon demo` runs the real daemon on the bundled feed and shows flagged complaints."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.cli import main
from storage.db import open_database
from storage.models import Alert, Mention


def test_demo_replays_the_feed_and_prints_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--seconds", "3", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "━━ COMPLAINT · Kestrel" in out
    assert "Why: " in out
    assert "Suggested reply: " in out
    assert "Demo finished:" in out
    assert "━━ SPIKE (mentions) · Kestrel" in out  # the outage hour
    assert "posts in the hour from Mon 14:00 UTC" in out
    assert "━━ UPDATE · Kestrel" in out  # a complaint that spreads
    engine = open_database(f"sqlite:///{tmp_path / 'brandmon-demo.sqlite3'}")
    with engine.connect() as conn:
        mentions = conn.scalar(select(func.count()).select_from(Mention))
        off_topic = conn.scalar(select(func.count()).where(Mention.text.ilike("%hovering%")))
        own = conn.scalar(select(func.count()).where(Mention.from_brand.is_(True)))
        flagged = conn.scalar(select(func.count()).where(Mention.flagged.is_(True)))
        complaint_alerts = conn.scalar(select(func.count()).where(Alert.kind == "complaint"))
        unsent = conn.scalar(select(func.count()).where(Alert.status != "sent"))
    assert mentions is not None
    assert mentions > 400
    assert off_topic == 0
    assert own is not None
    assert own >= 30
    assert complaint_alerts == flagged
    assert unsent == 0
