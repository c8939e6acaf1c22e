"""What is normal for each brand on each network, learned from the deployment's own history.

A flagged post whose tracking has ended and that is at least 7 days old has a known outcome
(its last read: the 7-day checkpoint, or the read at which it cooled), so it becomes an
example for rules/viral_growth.py's `learn_baseline`. Baselines are relearned at most once
an hour per brand and network: a day's new outcomes barely move them, and the query reads
up to `MAX_EXAMPLES` posts with their snapshots.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rules.viral import Baseline, Example, learn_baseline
from rules.viral_growth import HORIZON_S
from storage.repository import PastPost, Repository

OUTCOME_AGE = timedelta(seconds=HORIZON_S)
LOOKBACK = timedelta(days=90)  # how a brand's complaints spread changes; older posts say less
MAX_EXAMPLES = 1000
RELEARN = timedelta(hours=1)


def example(post: PastPost) -> Example:
    """A past post as reads before 7 days (counts made non-decreasing) and its outcome."""
    ages: list[float] = []
    totals: list[int] = []
    for at, n in post.reads:
        age = (at - post.created_at).total_seconds()
        if 0 < age < HORIZON_S and (not ages or age > ages[-1]):
            ages.append(age)
            totals.append(max(n, totals[-1]) if totals else n)
    final = max([post.final, *totals])
    return Example(tuple(ages), tuple(totals), final, post.followers)


class Baselines:
    """Per (brand, network) baselines, relearned from the repository at most every RELEARN."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._cache: dict[tuple[str, str], tuple[datetime, Baseline]] = {}

    def get(self, brand: str, network: str, *, now: datetime) -> Baseline:
        cached = self._cache.get((brand, network))
        if cached is not None and now - cached[0] < RELEARN:
            return cached[1]
        posts = self._repository.past_posts(
            brand, network, until=now - OUTCOME_AGE, since=now - LOOKBACK, limit=MAX_EXAMPLES
        )
        baseline = learn_baseline([example(p) for p in posts])
        self._cache[(brand, network)] = (now, baseline)
        return baseline
