"""One batch from a connector to storage: normalise, match a brand, judge, store, queue alerts.

The pipeline never sends anything itself: flagged complaints are written to the alert outbox
in the same transaction as the mention and the source's new cursor, and a separate job sends
them. That ordering is what makes a crash at any point lose nothing and send nothing twice.
The suggested reply is drafted when the alert is sent (monitor/drafts.py), not here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from connectors.base import FetchResult
from core.clock import Clock
from core.records import Post
from monitor.config import AppConfig
from monitor.matching import BrandMatcher, build_matchers
from monitor.normalise import normalise
from rules.judge import Judge, Verdict
from rules.scams import impersonation_signals
from rules.viral import next_check_at
from storage.repository import LeaseFence, NewMention, Repository, StoredBatch

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Brand:
    matcher: BrandMatcher
    judge: Judge


class Pipeline:
    """Turns fetched posts into stored, judged mentions; one instance serves every source."""

    def __init__(
        self,
        config: AppConfig,
        repository: Repository,
        *,
        clock: Clock,
    ) -> None:
        self._config = config
        self._repository = repository
        self._clock = clock
        self._brands = [
            _Brand(
                matcher=matcher,
                judge=Judge(
                    matcher.brand.rules,
                    brand_terms=matcher.brand.terms,
                    brand_handles=[h for hs in matcher.brand.handles.values() for h in hs],
                ),
            )
            for matcher in build_matchers(config.brands)
        ]

    def judge_posts(
        self, source: str, posts: Sequence[Post], *, brand: str | None = None
    ) -> list[NewMention]:
        """Normalise, drop what is stored already, match a brand, judge.

        Posts that match no brand are dropped; the brand's own posts are kept unjudged (they
        are its replies, for response times). Posts that cannot be normalised or judged are
        skipped, logged with their id and counted in `self.skipped`.
        """
        return self._judge_posts(source, posts, brand=brand, skipped=[])

    def _judge_posts(
        self,
        source: str,
        posts: Sequence[Post],
        *,
        brand: str | None,
        skipped: list[str],
        addressed: frozenset[str] = frozenset(),
    ) -> list[NewMention]:
        now = self._clock.now()
        brands = [b for b in self._brands if brand is None or b.matcher.brand.name == brand]
        fresh: dict[tuple[str, str], Post] = {}
        for raw in posts:
            try:
                post = normalise(raw)
            except Exception as exc:  # RejectedPostError, or text nothing could clean
                log.warning("source %s: skipped post %s: %s", source, raw.native_id[:64], exc)
                skipped.append(raw.native_id)
                continue
            fresh.setdefault((post.network, post.native_id), post)
        for key in self._repository.known_mentions(list(fresh)):
            del fresh[key]  # a post seen on an earlier poll is not judged again
        # Match first, then judge each brand's posts as one batch (rules/judge.py).
        matched: list[tuple[Post, _Brand] | NewMention] = []
        for post in fresh.values():
            for candidate in brands:
                name = candidate.matcher.brand.name
                if candidate.matcher.is_own_post(post):
                    own = NewMention(post=post, brand=name, source=source, from_brand=True)
                    matched.append(own)
                    break
                # a post on the brand's own channel or page is its mention when the source
                # is that one brand's
                mine = brand is not None and post.native_id in addressed
                if candidate.matcher.matches(post, addressed=mine):
                    matched.append((post, candidate))
                    break
        verdicts: dict[int, Verdict] = {}
        for candidate in brands:
            mine = [i for i, m in enumerate(matched) if isinstance(m, tuple) and m[1] is candidate]
            if mine:
                posts_of = [matched[i][0] for i in mine]  # type: ignore[index]
                verdicts.update(self._judged(source, candidate.judge, mine, posts_of, skipped))
        return [
            m if isinstance(m, NewMention) else self._mention(source, m[0], m[1], verdicts[i], now)
            for i, m in enumerate(matched)
            if isinstance(m, NewMention) or i in verdicts
        ]

    @staticmethod
    def _judged(
        source: str, judge: Judge, indexes: list[int], posts: list[Post], skipped: list[str]
    ) -> dict[int, Verdict]:
        """Judge as one batch; if the batch fails, post by post, skipping those that fail."""
        try:
            judged = judge.judge_many([p.text for p in posts], [p.lang for p in posts])
            return dict(zip(indexes, judged, strict=True))
        except Exception:
            log.exception("source %s: judging the batch failed; judging post by post", source)
        verdicts: dict[int, Verdict] = {}
        for index, post in zip(indexes, posts, strict=True):
            try:
                (verdicts[index],) = judge.judge_many([post.text], [post.lang])
            except Exception as exc:
                log.warning(
                    "source %s: skipped post %s: cannot judge: %s", source, post.native_id, exc
                )
                skipped.append(post.native_id)
        return verdicts

    def judge_for(self, brand: str) -> Judge:
        """The judge of one brand, to give it the brand's learned correction."""
        return next(b.judge for b in self._brands if b.matcher.brand.name == brand)

    def _mention(
        self, source: str, post: Post, brand: _Brand, verdict: Verdict, now: datetime
    ) -> NewMention:
        name, competitor = brand.matcher.brand.name, brand.matcher.brand.competitor
        if not verdict.flagged:
            kind, why = self._other_alert(post, brand, verdict)
            return NewMention(
                post=post,
                brand=name,
                source=source,
                sentiment=verdict.sentiment,
                reasons=[*why, *verdict.reasons],
                intent=verdict.intent,
                complaint_score=verdict.complaint_score if verdict.judged else None,
                language=verdict.language,
                alert_kind=kind,
            )
        return NewMention(
            post=post,
            brand=name,
            source=source,
            sentiment=verdict.sentiment,
            flagged=True,
            category=verdict.category,
            reasons=list(verdict.reasons),
            intent=verdict.intent,
            complaint_score=verdict.complaint_score,
            severity=verdict.severity,
            risks=list(verdict.risks),
            language=verdict.language,
            # A competitor's complaints count in the digest, but nobody is alerted to them.
            tracking=not competitor,
            next_refresh_at=None
            if competitor
            else next_check_at(
                posted_at=post.created_at,
                snapshots=(),
                now=now,
                checkpoints_minutes=self._config.engagement.checkpoints_minutes,
            ),
            alert_kind=None if competitor else "complaint",
        )

    def _other_alert(
        self, post: Post, brand: _Brand, verdict: Verdict
    ) -> tuple[str | None, list[str]]:
        """The alert a post that is no complaint still needs, and why: a question wants an
        answer, praise from a wide audience a thank-you, impersonation or phishing a warning
        to the brand's security contact. Everything else needs none."""
        if verdict.intent == "question":
            return "question", []
        settings = self._config.brand_alerting(brand.matcher.brand.name)
        if verdict.intent == "praise" and (post.author.followers or 0) >= settings.praise_reach:
            return "praise", []
        if verdict.intent == "spam":
            signals = impersonation_signals(post.text, brand.matcher.brand.terms)
            if signals:
                return "security", [f"impersonation or phishing: {'; '.join(signals)}"]
        return None, []

    def process(
        self,
        source: str,
        result: FetchResult,
        *,
        brand: str | None = None,
        fence: LeaseFence | None = None,
    ) -> StoredBatch:
        """Judge and store one fetched batch, moving the source's cursor with it (only while
        `fence` still holds, when given)."""
        skipped: list[str] = []
        mentions = self._judge_posts(
            source, result.posts, brand=brand, skipped=skipped, addressed=result.addressed
        )
        return self._repository.store_batch(
            source=source,
            mentions=mentions,
            cursor=result.cursor,
            fetched_at=self._clock.now(),
            quota_remaining=result.quota_remaining,
            skipped=len(skipped),
            fence=fence,
        )
