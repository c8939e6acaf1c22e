"""Incidents: a burst of complaints of one kind is known within minutes, not when the hour ends.

The hourly spike watch (monitor/spikes.py) judges an hour once it is complete, so an outage
at 14:05 was an incident only after 15:00, and its first fifty complaints had been alerted one
by one, each with an apology. Here, every spike check also counts the brand's complaints of
the incident category (alerting.incident.category; any, by default) posted in the last
`burst_minutes`; at `burst_posts` or more, and no incident under way, it queues a spike
alert at once. From then on, for `hours` after the brand's latest spike: replies are holding
replies pointing to the status page (monitor/drafts.py), and Slack gathers the incident's
complaints in that message's thread (monitor/slack/sink.py).

`explain` is what both kinds of spike say about their posts: phrases, categories, the places
named, and samples with author, link and engagement, most spread first.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select

from core.clock import Clock
from monitor.config import AppConfig
from rules.places import places_named
from rules.spike import explain_spike
from storage.models import Author, Mention
from storage.repository import Repository

log = logging.getLogger(__name__)

SAMPLE_LIMIT = 500
SAMPLES = 3
SPREAD = Mention.likes + Mention.reposts + Mention.replies + Mention.quotes


def explain(
    repository: Repository,
    where: Collection[ColumnElement[bool]],
    *,
    start: datetime,
    end: datetime,
    terms: Collection[str],
) -> dict[str, Any]:
    """What the posts in [start, end) matching `where` are about, as a spike payload."""
    with repository.sessions() as session:
        rows = session.execute(
            select(Mention.text, Mention.category, Author.handle, Mention.url, SPREAD)
            .outerjoin(Author, Author.id == Mention.author_id)
            .where(Mention.created_at >= start, Mention.created_at < end, *where)
            .order_by(SPREAD.desc(), Mention.id)
            .limit(SAMPLE_LIMIT)
        ).all()
    texts = [r[0] for r in rows]
    explanation = explain_spike(texts, [r[1] for r in rows], ignore=terms, samples=0)
    chosen: dict[str, dict[str, Any]] = {}
    for text, _, handle, url, spread in rows:  # most spread first
        key = " ".join(text.casefold().split())
        if len(chosen) < SAMPLES and key not in chosen:
            chosen[key] = {"text": text, "handle": handle, "url": url, "engagement": int(spread)}
    return {
        **explanation,
        "samples": list(chosen.values()),
        "places": [{"place": p, "posts": n} for p, n in places_named(texts, ignore=terms)],
    }


class IncidentWatch:
    """Raises a brand's incident from a burst of complaints of one category."""

    def __init__(self, config: AppConfig, repository: Repository, *, clock: Clock) -> None:
        self._config = config
        self._settings = config.alerting.incident
        self._repository = repository
        self._clock = clock

    def check(self) -> int:
        """Queue a spike alert for each brand whose burst just started; returns how many."""
        if self._settings.burst_posts == 0:
            return 0
        now = self._clock.now()
        start = now - timedelta(minutes=self._settings.burst_minutes)
        queued = 0
        for brand in (b for b in self._config.brands if not b.competitor):
            if self._repository.latest_spike_at(
                brand.name, now - timedelta(hours=self._settings.hours)
            ):
                continue  # one incident: its later spikes join it
            where: tuple[ColumnElement[bool], ...] = (
                Mention.brand == brand.name,
                Mention.from_brand.is_(False),
                Mention.flagged.is_(True),
            )
            if self._settings.category is not None:
                where += (Mention.category == self._settings.category,)
            with self._repository.sessions() as session:
                count = session.scalar(
                    select(func.count())
                    .select_from(Mention)
                    .where(Mention.created_at >= start, Mention.created_at <= now, *where)
                )
            if (count or 0) < self._settings.burst_posts:
                continue
            queued += self._queue(brand.name, brand.terms, where, start, now, count or 0)
        return queued

    def _queue(
        self,
        brand: str,
        terms: Collection[str],
        where: tuple[ColumnElement[bool], ...],
        start: datetime,
        now: datetime,
        count: int,
    ) -> int:
        minutes = self._settings.burst_minutes
        kind = f"{self._settings.category} complaints" if self._settings.category else "complaints"
        reason = f"{count} {kind} in the last {minutes} minutes"
        log.warning("incident: %s: %s", brand, reason)
        payload = {
            "brand": brand,
            "metric": "complaints",
            "hour": now.replace(minute=0, second=0, microsecond=0).isoformat(),
            "observed": count,
            "burst_minutes": minutes,
            "reasons": [reason],
            **explain(self._repository, where, start=start, end=now + timedelta(seconds=1),
                      terms=terms),
        }  # fmt: skip
        return int(
            self._repository.queue_alert(
                dedupe_key=f"spike:{brand}:incident:{now:%Y-%m-%dT%H:%M}",
                kind="spike",
                at=now,
                brand=brand,
                payload=payload,
            )
        )
