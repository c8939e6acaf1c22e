"""The connector registry: config `type` -> connector class (explicit, no name scanning).

Adding a network is its module here, one line below, its fixtures, its test file and its
README section; the monitor builds its config schema from `config_model` of each entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from connectors.base import Connector
from connectors.bluesky import BlueskyConnector
from connectors.bluesky_search import BlueskySearchConnector
from connectors.facebook import FacebookConnector
from connectors.hackernews import HackerNewsConnector
from connectors.mastodon import MastodonConnector
from connectors.reddit import RedditConnector
from connectors.replay import ReplayConnector
from connectors.rss import RssConnector
from connectors.x import XConnector
from connectors.youtube import YouTubeConnector
from core.clock import Clock
from core.settings import BrandTerms, SourceBase

CONNECTORS: dict[str, type[Connector]] = {
    "replay": ReplayConnector,
    "x": XConnector,
    "reddit": RedditConnector,
    "bluesky": BlueskyConnector,
    "hackernews": HackerNewsConnector,
    "rss": RssConnector,
    "mastodon": MastodonConnector,
    "bluesky_search": BlueskySearchConnector,
    "youtube": YouTubeConnector,
    "facebook": FacebookConnector,
}


def build_connector(config: SourceBase, brands: Sequence[BrandTerms], *, clock: Clock) -> Connector:
    """Instantiate the connector for one source's config."""
    cls = CONNECTORS[config.type]  # type: ignore[attr-defined]
    return cls(config, brands, clock=clock)  # type: ignore[call-arg]
