"""Choose the alert sink the config asks for: the console by default, Slack when configured."""

from __future__ import annotations

from typing import TextIO

from monitor.alerts import AlertSink
from monitor.config import AppConfig
from monitor.console_sink import ConsoleSink


def build_sink(config: AppConfig, *, out: TextIO) -> AlertSink:
    if config.alerting.sink == "slack":
        raise NotImplementedError("the Slack sink is not wired yet")
    return ConsoleSink(out)
