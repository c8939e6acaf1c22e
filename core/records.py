"""Plain records passed between layers: a post, its author and its engagement.

Frozen dataclasses with no behaviour beyond arithmetic, so connectors, the pipeline and
storage agree on one shape without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
