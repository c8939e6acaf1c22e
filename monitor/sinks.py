"""Choose the alert sink the config asks for: the console by default, Slack when configured."""

from __future__ import annotations

from typing import TextIO

from sqlalchemy import Engine

from core.clock import Clock, SystemClock
from monitor.alerts import AlertSink
from monitor.config import AppConfig
from monitor.console_sink import ConsoleSink


def build_sink(
    config: AppConfig, *, out: TextIO, engine: Engine | None = None, clock: Clock | None = None
) -> AlertSink:
    """The configured sink. Slack keeps its own records (threads, actions) in the database:
    pass the daemon's engine and clock; without them it opens the configured database."""
    if config.alerting.sink == "slack":
        from monitor.slack import SlackSink
        from storage.db import open_database

        return SlackSink(
            config,
            engine if engine is not None else open_database(config.storage.url),
            clock=clock or SystemClock(),
        )
    return ConsoleSink(out)
