"""An alert made ready to show: its typed card decided and its suggested reply drafted.

Both wait for the alert to be sent rather than happening as a post is stored: a burst of
complaints (an outage hour) is stored as fast as it arrives; the draft uses the templates in
force, and knows whether an incident is now under way (then an outage complaint gets a
holding reply pointing to the brand's status page: an incident is under way for
alerting.incident.hours after the brand's latest spike, raised early by a burst of complaints,
monitor/incidents.py) and whether the brand has answered; alerts
never shown one by one need no draft. The draft is stored with the mention before the alert
is sent, so what support saw stays on record.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from monitor.alert_model import Answered, Thresholds, build_card, minutes_between, situation_of
from monitor.alerts import AlertView
from monitor.config import AppConfig
from rules.replies import Draft, ReplyBook, load_book
from storage.models import Author, Mention
from storage.repository import Repository

DRAFTED_KINDS = frozenset({"complaint", "question", "praise", "security"})


class ReplyDrafter:
    """Decides each alert's card and drafts its reply with the brand's voice."""

    def __init__(self, config: AppConfig) -> None:
        replies = config.alerting.replies
        self._config = config
        self._thresholds = Thresholds(
            config.alerting.risk_threshold, config.alerting.escalation_threshold
        )
        self._books: dict[str, ReplyBook] = {}
        for brand in config.brands:
            voice = config.brand_alerting(brand.name)
            self._books[brand.name] = load_book(
                replies.templates.get(brand.name),
                allow_refund_mention=replies.allow_refund_mention,
                vocabulary=tuple(sorted(voice.vocabulary.items())),
                tone=voice.tone,
                sign_off=voice.sign_off,
            )

    def draft(
        self, mention: Mention, author: Author | None, *, status_page: str | None = None
    ) -> Draft | None:
        """The reply to suggest for `mention`; None for the brand's own posts, posts that
        need no reply, or a brand no longer configured."""
        book = self._books.get(mention.brand)
        if book is None or mention.from_brand:
            return None
        return book.draft(
            situation_of(mention, status_page=status_page),
            handle=author.handle if author else None,
            name=author.name if author else None,
            text=mention.text,
            seed=mention.native_id,
        )

    def prepare(self, view: AlertView, repository: Repository, now: datetime) -> AlertView:
        """The view with its card, the reply drafted and stored first when it has none."""
        mention, alert = view.mention, view.alert
        status_page = self._incident_page(alert.brand or (mention.brand if mention else None))
        if status_page and alert.brand:
            since = now - timedelta(hours=self._config.alerting.incident.hours)
            if repository.latest_spike_at(alert.brand, since) is None:
                status_page = None
        answered = None
        if mention is not None and alert.kind in DRAFTED_KINDS | {"update"}:
            found = repository.brand_answer(mention.network, mention.native_id)
            if found is not None:
                answered = Answered(found[0], minutes_between(mention.created_at, found[1]))
            if mention.reply is None and alert.kind in DRAFTED_KINDS:
                draft = self.draft(mention, view.author, status_page=status_page)
                if draft is not None:
                    repository.set_reply(mention.id, draft.text)
                    mention.reply = draft.text
        card = build_card(
            alert,
            mention,
            view.author,
            thresholds=self._thresholds,
            answered=answered,
            status_page=status_page,
        )
        return replace(view, card=card)

    def _incident_page(self, brand: str | None) -> str | None:
        if brand is None or brand not in {b.name for b in self._config.brands}:
            return None
        return self._config.brand_alerting(brand).status_page
