"""Suggested replies, drafted when an alert about a complaint is about to be shown.

Drafting waits for the alert rather than happening as a post is stored: a burst of complaints
(an outage hour) is stored as fast as it arrives, the draft uses the templates in force when
support sees it, and complaints whose alerts are never shown one by one (rolled into a
rate-limit summary, labelled "not a complaint" first) need no draft at all. The draft is stored
with the mention before the alert is sent, so what support saw stays on record.
"""

from __future__ import annotations

from monitor.config import AppConfig
from rules.replies import ReplyBook, load_book, suggest_reply
from storage.models import Author, Mention


class ReplyDrafter:
    """Drafts a brand's suggested reply for a stored complaint, with that brand's templates."""

    def __init__(self, config: AppConfig) -> None:
        replies = config.alerting.replies
        self._books: dict[str, ReplyBook] = {
            brand.name: load_book(
                replies.templates.get(brand.name),
                allow_refund_mention=replies.allow_refund_mention,
            )
            for brand in config.brands
        }

    def draft(self, mention: Mention, author: Author | None) -> str | None:
        """The reply to suggest for `mention`; None when it is no complaint or its brand is
        no longer configured."""
        book = self._books.get(mention.brand)
        if book is None or not mention.flagged or mention.from_brand:
            return None
        return suggest_reply(
            category=mention.category,
            network=mention.network,
            handle=author.handle if author else None,
            name=author.name if author else None,
            text=mention.text,
            seed=mention.native_id,
            book=book,
        )
