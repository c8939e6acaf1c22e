"""Opening the database: engine settings per backend, and migrations applied on start.

SQLite is the embedded default and runs in WAL mode so that `brandmon status` can read while
the daemon writes; PostgreSQL needs nothing special. Alembic migrations run at every start so
an upgraded brandmon brings its schema along without a manual step. On PostgreSQL they run
under a transaction-scoped advisory lock: daemons started together on an empty database take
turns, and the later ones find the schema already there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key for "brandmon is migrating this database" (any fixed bigint)
MIGRATION_LOCK_KEY = 0x6272616E646D6F6E  # "brandmon"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-16000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; creates the SQLite file's folder when needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migrations (a no-op when already there).

    "heads": features may add their own migration branch off 0001; all of them are applied.
    """
    config = alembic_config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # held until this transaction ends: the next daemon waits, then finds nothing to do
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


class StorageError(Exception):
    """The database cannot be used: an unknown URL or driver, or it cannot be reached. The
    message names the URL with its password hidden."""


def open_database(url: str) -> Engine:
    """An engine for `url` with the schema brought up to date; `StorageError` if the URL is
    wrong or the database cannot be reached."""
    engine = connect(url)
    migrate(engine)
    return engine


def check_database(url: str) -> None:
    """What `brandmon check-config` asks: is the URL usable and, for a server database, can
    it be reached? (A SQLite file is not created by checking.)"""
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError) as exc:
        raise StorageError(
            f"{_shown(url)}: not a usable database URL ({_first_line(exc)})"
        ) from None
    if backend != "sqlite":
        connect(url).dispose()
    else:
        try:
            make_url(url).get_dialect()
        except (NoSuchModuleError, ImportError) as exc:
            raise StorageError(f"{_shown(url)}: unknown database driver ({exc})") from None


def connect(url: str) -> Engine:
    """An engine for `url` that has connected once; `StorageError` naming what is wrong."""
    shown = _shown(url)
    try:
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise StorageError(f"{shown}: not a usable database URL ({_first_line(exc)})") from None
    except ImportError as exc:
        raise StorageError(f"{shown}: its database driver is not installed ({exc})") from None
    try:
        with engine.connect():
            pass
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        raise StorageError(f"{shown}: cannot connect: {_first_line(exc.orig or exc)}") from None
    return engine


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "the database URL"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
