"""`brandmon status`: each source's last poll, success, error and stored mentions."""

from __future__ import annotations

from datetime import datetime
from typing import TextIO

from monitor.config import AppConfig
from storage.db import open_database
from storage.repository import Repository


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "never"


def print_status(config: AppConfig, *, out: TextIO) -> None:
    repository = Repository(open_database(config.storage.url))
    states = {s.source: s for s in repository.source_states()}
    counts = repository.mention_counts_by_source()
    for name, source in config.sources.items():
        state = states.get(name)
        out.write(f"{name} ({source.type}{'' if source.enabled else ', disabled'})\n")
        out.write(f"  last poll:     {_when(state.last_poll_at if state else None)}\n")
        out.write(f"  last success:  {_when(state.last_success_at if state else None)}\n")
        error = (
            f"{_when(state.last_error_at)}  {state.last_error}"
            if state and state.last_error
            else "none"
        )
        out.write(f"  last error:    {error}\n")
        if state and state.paused_until:
            out.write(f"  paused until:  {_when(state.paused_until)} ({state.paused_reason})\n")
        if state and state.quota_remaining is not None:
            out.write(f"  API quota left: {state.quota_remaining}\n")
        out.write(f"  mentions:      {counts.get(name, 0)}\n")
    alerts = repository.alert_counts()
    out.write(
        "alerts: " + ", ".join(f"{k} {v}" for k, v in sorted(alerts.items())) + "\n"
        if alerts
        else "alerts: none\n"
    )
