"""The connector registry: config `type` -> connector class (explicit, no name scanning)."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.base import Connector
from connectors.reddit import RedditConnector
from connectors.replay import ReplayConnector
from connectors.x import XConnector
from monitor.clock import Clock
from monitor.config import BrandConfig, SourceConfig

CONNECTORS: dict[str, type[Connector]] = {
    "replay": ReplayConnector,
    "x": XConnector,
    "reddit": RedditConnector,
}


def build_connector(
    config: SourceConfig, brands: Sequence[BrandConfig], *, clock: Clock
) -> Connector:
    """Instantiate the connector for one source's config."""
    cls = CONNECTORS[config.type]
    return cls(config, brands, clock=clock)  # type: ignore[call-arg]
