"""Connector cursors stored as JSON: per-query or per-feed state in one opaque string."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger(__name__)


def load_json_cursor(cursor: str | None, *, network: str) -> dict[str, dict[str, Any]]:
    """The saved per-query state; an unreadable cursor starts afresh rather than failing."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        log.warning("%s: ignoring unreadable cursor", network)
        return {}
    if not isinstance(state, dict):
        return {}
    return {k: v for k, v in state.items() if isinstance(v, dict)}
