"""Shared fixtures: a database per test on SQLite and, when its URL is set, on PostgreSQL.

PostgreSQL tests read `BRANDMON_TEST_POSTGRES_URL` (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) and skip without it. Each test gets its own
schema, so tests can run side by side on one database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from core.clock import FixedClock
from storage.db import open_database
from storage.repository import Repository
from tests.fake_slack import FakeSlack

PG_ENV = "BRANDMON_TEST_POSTGRES_URL"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test when that folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'brandmon.sqlite3'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = open_database(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 16, 12, 0, tzinfo=UTC))


@pytest.fixture
def repo(engine: Engine) -> Repository:
    return Repository(engine)


@pytest.fixture
def fake(engine: Engine, clock: FixedClock) -> Iterator[FakeSlack]:
    """A local fake Slack; started after `engine`, so a PostgreSQL skip comes first."""
    with FakeSlack(now=lambda: clock.now().timestamp()) as slack:
        yield slack
