"""What every connector speaks: plain `Post` records, a cursor, and engagement refreshes.

A connector turns one network's API into these records and knows its own cursor and rate
limits. It never scores, stores or alerts: that keeps each network's quirks in one module and
lets the pipeline treat every source alike.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote a post; `followers` is the author's reach (karma on Reddit)."""

    native_id: str
    handle: str
    name: str | None = None
    followers: int | None = None
    verified: bool = False


@dataclass(frozen=True, slots=True)
class Engagement:
    """Aggregate reaction counts as the API reports them at one moment."""

    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    views: int | None = None

    @property
    def total(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


@dataclass(frozen=True, slots=True)
class Post:
    """One post as a network served it, before brandmon judges it.

    `native_id` is unique per network. `in_reply_to` is the native id of the post this one
    answers (used to link the brand's replies to the complaint they answer).
    """

    network: str
    native_id: str
    text: str
    created_at: datetime
    author: Author
    engagement: Engagement = field(default_factory=Engagement)
    url: str | None = None
    lang: str | None = None
    in_reply_to: str | None = None
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A batch of new posts and the cursor to store once the batch is committed.

    `quota_remaining` is the API's own count of requests left, when it tells (for health).
    """

    posts: list[Post]
    cursor: str | None
    quota_remaining: int | None = None
    skipped: int = 0


class Connector(abc.ABC):
    """A source of posts. Subclasses set `network` and implement the two calls.

    The cursor is an opaque string owned by the connector (a since_id, a timestamp or JSON);
    the daemon stores it and hands it back, and only after the batch it came with is stored.
    """

    network: ClassVar[str]

    @abc.abstractmethod
    def fetch_new(self, cursor: str | None) -> FetchResult:
        """Return posts newer than `cursor` (all recent ones when it is None)."""

    def refresh_engagement(self, native_ids: Sequence[str]) -> dict[str, Engagement]:
        """Current engagement of known posts; ids the network no longer has are left out."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release network resources."""
