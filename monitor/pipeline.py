"""One batch from a connector to storage: normalise, match a brand, judge, store, queue alerts.

The pipeline never sends anything itself: flagged complaints are written to the alert outbox
in the same transaction as the mention and the source's new cursor, and a separate job sends
them. That ordering is what makes a crash at any point lose nothing and send nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from connectors.base import FetchResult, Post
from monitor.clock import Clock
from monitor.config import AppConfig
from monitor.matching import BrandMatcher, build_matchers
from monitor.normalise import RejectedPostError, normalise
from rules.complaint import ComplaintRules
from rules.replies import ReplyBook, load_book, suggest_reply
from rules.viral import next_check_at
from storage.repository import NewMention, Repository, StoredBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Brand:
    matcher: BrandMatcher
    rules: ComplaintRules
    replies: ReplyBook


class Pipeline:
    """Turns fetched posts into stored, judged mentions; one instance serves every source."""

    def __init__(
        self,
        config: AppConfig,
        repository: Repository,
        *,
        clock: Clock,
        on_stored: Callable[[str, StoredBatch], None] | None = None,
    ) -> None:
        self._config = config
        self._repository = repository
        self._clock = clock
        self._on_stored = on_stored
        self._brands = [
            _Brand(
                matcher=matcher,
                rules=ComplaintRules(
                    matcher.brand.rules,
                    brand_terms=matcher.brand.terms,
                    brand_handles=[h for hs in matcher.brand.handles.values() for h in hs],
                ),
                replies=load_book(
                    config.alerting.replies.templates.get(matcher.brand.name),
                    allow_refund_mention=config.alerting.replies.allow_refund_mention,
                ),
            )
            for matcher in build_matchers(config.brands)
        ]

    def judge_posts(
        self, source: str, posts: Sequence[Post], *, brand: str | None = None
    ) -> list[NewMention]:
        """Normalise, match, and judge; posts that match no brand are dropped."""
        now = self._clock.now()
        checkpoints = self._config.engagement.checkpoints_minutes
        brands = [b for b in self._brands if brand is None or b.matcher.brand.name == brand]
        judged: list[NewMention] = []
        seen: set[tuple[str, str]] = set()
        for raw in posts:
            try:
                post = normalise(raw)
            except RejectedPostError as exc:
                log.warning("source %s: skipped post: %s", source, exc)
                continue
            key = (post.network, post.native_id)
            if key in seen:
                continue
            seen.add(key)
            for candidate in brands:
                if candidate.matcher.is_own_post(post):
                    judged.append(
                        NewMention(
                            post=post,
                            brand=candidate.matcher.brand.name,
                            source=source,
                            from_brand=True,
                        )
                    )
                    break
                if not candidate.matcher.matches(post):
                    continue
                verdict = candidate.rules.judge(post.text)
                reply = None
                if verdict.flagged:
                    reply = suggest_reply(
                        category=verdict.category,
                        network=post.network,
                        handle=post.author.handle,
                        name=post.author.name,
                        text=post.text,
                        seed=post.native_id,
                        book=candidate.replies,
                    )
                judged.append(
                    NewMention(
                        post=post,
                        brand=candidate.matcher.brand.name,
                        source=source,
                        sentiment=verdict.sentiment,
                        flagged=verdict.flagged,
                        category=verdict.category,
                        reasons=list(verdict.reasons),
                        reply=reply,
                        tracking=verdict.flagged,
                        next_refresh_at=(
                            next_check_at(
                                posted_at=post.created_at,
                                snapshots=(),
                                now=now,
                                checkpoints_minutes=checkpoints,
                            )
                            if verdict.flagged
                            else None
                        ),
                        alert_kind="complaint" if verdict.flagged else None,
                    )
                )
                break
        return judged

    def process(self, source: str, result: FetchResult, *, brand: str | None = None) -> StoredBatch:
        """Judge and store one fetched batch, moving the source's cursor with it."""
        mentions = self.judge_posts(source, result.posts, brand=brand)
        stored = self._repository.store_batch(
            source=source,
            mentions=mentions,
            cursor=result.cursor,
            fetched_at=self._clock.now(),
            quota_remaining=result.quota_remaining,
        )
        if self._on_stored is not None:
            self._on_stored(source, stored)
        return stored
