"""Viral risk of a flagged post: is it spreading unusually fast for this brand, and why.

A complaint is at risk when its engagement so far, extrapolated with the brand's own growth
(rules/viral_growth.py), is heading for the brand's top 5% of posts on that network, and more
so when its author's reach is large for the brand. The score is 60 (the default alert line)
when the projection reaches the brand's top-5% size, 90 at ten times it, and up to 10 more
for an author with up to 100 times the brand's typical reach. A fixed engagement ramp would
never fire for a brand whose complaints stay small, and always for one whose posts are big.

Every assessment says why in a support agent's words: how fast the post is going against the
brand's usual posts at the same age, whether it is slowing down, where it is heading, and
the author's reach -- or that the reach is unknown, which is never replaced by a guess.
`projected_final` is total engagement (likes + reposts + replies + quotes), the number a
support team sees on the post. Everything is pure: time comes in as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from rules.viral_growth import (
    HORIZON_S,
    PRIOR,
    PRIOR_TYPICAL_REACH,
    SEISMIC,
    Baseline,
    Example,
    Kernel,
    learn_baseline,
    project_final,
)

__all__ = [
    "PRIOR",
    "SEISMIC",
    "Baseline",
    "Example",
    "Kernel",
    "RiskAssessment",
    "Snapshot",
    "assess_risk",
    "learn_baseline",
    "next_check_at",
    "project_final",
]

ALERT_SCORE = 60.0  # score at the brand's top-5% size; monitor/config.py's default threshold
W_REACH = 10.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Cumulative engagement of a post as read at `at`."""

    at: datetime
    likes: int
    reposts: int
    replies: int
    quotes: int

    @property
    def total(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """A 0-100 score with the numbers behind it; engagement means all four reaction kinds."""

    score: float
    projected_final: float
    velocity_per_hour: float
    reasons: tuple[str, ...]
    current: int = 0
    pace: float | None = None  # current over the brand's usual at this age
    top_final: float = 0.0

    @property
    def growth(self) -> float:
        """Projected final over current engagement (1.0 when there is none yet)."""
        return self.projected_final / self.current if self.current else 1.0

    def as_dict(self) -> dict[str, object]:
        return {
            "score": round(self.score, 1),
            "projected_final": round(self.projected_final, 1),
            "velocity_per_hour": round(self.velocity_per_hour, 2),
            "current": self.current,
            "pace": None if self.pace is None else round(self.pace, 2),
            "top_final": round(self.top_final, 1),
            "reasons": list(self.reasons),
        }


def reads(posted_at: datetime, snapshots: Sequence[Snapshot], now: datetime) -> list[Snapshot]:
    """The snapshots taken by `now`, in time order, with counts made non-decreasing (unlikes
    and deletions would otherwise read as negative growth)."""
    out: list[Snapshot] = []
    for s in sorted((s for s in snapshots if s.at <= now and s.at >= posted_at), key=_at):
        if out:
            p = out[-1]
            s = Snapshot(
                s.at,
                max(s.likes, p.likes),
                max(s.reposts, p.reposts),
                max(s.replies, p.replies),
                max(s.quotes, p.quotes),
            )
        out.append(s)
    return out


def _at(s: Snapshot) -> datetime:
    return s.at


def human(n: float) -> str:
    """A count as people say it: 950, 1,200, 80k, 1.2M."""
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e4:
        return f"{n / 1e3:.0f}k"
    return f"{n:,.0f}"


def span(seconds: float) -> str:
    """An age as people say it: 5 min, 1 h, 2 d."""
    if seconds >= 86400:
        return f"{seconds / 86400:.0f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{max(1.0, seconds / 60):.0f} min"


def _ratio(x: float) -> str:
    return f"{x:.0f}x" if x >= 10 else f"{x:.1f}x".replace(".0x", "x")


def _size_score(projected: float, top: float) -> float:
    if projected < top:
        return ALERT_SCORE * math.log1p(projected) / math.log1p(top)
    return min(90.0, ALERT_SCORE + 30.0 * math.log10(projected / top))


def _trend(seen: Sequence[Snapshot], posted_at: datetime) -> str | None:
    """Speeding up, holding or slowing: the last interval's rate against the one before."""
    if len(seen) < 2:
        return None
    ages = [0.0] + [(s.at - posted_at).total_seconds() for s in seen]
    totals = [0] + [s.total for s in seen]
    late = (totals[-1] - totals[-2], ages[-1] - ages[-2])
    early = (totals[-2] - totals[-3], ages[-2] - ages[-3])
    if late[1] <= 0 or early[1] <= 0 or early[0] <= 0:
        return None
    change = (late[0] / late[1]) / (early[0] / early[1])
    word = "speeding up" if change > 1.2 else "holding its pace" if change >= 0.8 else "slowing"
    return (
        f"{word}: {_per_hour(late)} over the last {span(late[1])}, "
        f"{_per_hour(early)} in the {span(early[1])} before"
    )


def _per_hour(gain: tuple[float, float]) -> str:
    rate = 3600.0 * gain[0] / gain[1]
    return f"{rate:.1f}/h" if rate < 10 else f"{human(rate)}/h"


def _reach(followers: int | None, baseline: Baseline) -> tuple[float, str]:
    """(score part, reason) for the author's reach; an unknown reach scores nothing."""
    if followers is None:
        return 0.0, "author's follower count is unknown (not assumed)"
    typical = baseline.typical_reach or PRIOR_TYPICAL_REACH
    ratio = followers / typical
    part = W_REACH * min(1.0, max(0.0, math.log(max(ratio, 1e-9)) / math.log(100.0)))
    text = f"author has {human(followers)} followers"
    if baseline.typical_reach and ratio >= 2:
        text += f" ({_ratio(ratio)} this brand's typical author)"
    return part, text


def assess_risk(
    *,
    posted_at: datetime,
    snapshots: Sequence[Snapshot],
    author_followers: int | None,
    now: datetime,
    baseline: Baseline = PRIOR,
    horizon: timedelta = timedelta(seconds=HORIZON_S),
    scope: str = "this brand's",
) -> RiskAssessment:
    """Score a post's risk of spreading from the snapshots taken up to `now`, against what is
    normal for its brand on its network (`baseline`; the published prior when it has no
    history). `scope` names whose usual posts these are in the reasons ("Kestrel's on x")."""
    seen = reads(posted_at, snapshots, now)
    if not seen:
        part, why = _reach(author_followers, baseline)
        return RiskAssessment(0.0, 0.0, 0.0, ("no engagement read yet", why))
    ages = [(s.at - posted_at).total_seconds() for s in seen]
    totals = [s.total for s in seen]
    current, age = totals[-1], ages[-1]
    projected = project_final(ages, totals, theta=baseline.theta, horizon_s=horizon.total_seconds())
    before = (ages[-2], totals[-2]) if len(seen) > 1 else (0.0, 0)
    velocity = 3600.0 * (current - before[1]) / (age - before[0]) if age > before[0] else 0.0
    usual = baseline.usual_at(age) if baseline.examples else None
    pace = current / max(usual, 0.1) if usual is not None else None

    reasons = []
    if pace is not None and current > 0:
        reasons.append(
            f"{_ratio(pace)} {scope} usual engagement at {span(age)} "
            f"({human(current)} now, usually {usual:.1f})"
        )
    elif pace is None:
        reasons.append(
            f"no 7-day history yet for {scope} posts here: judged against brandmon's defaults"
        )
    if trend := _trend(seen, posted_at):
        reasons.append(trend)
    reasons.append(
        f"heading for about {human(projected)} engagements within {span(horizon.total_seconds())}"
        f" ({scope} top 5% end above {human(baseline.top_final)})"
    )
    part, why = _reach(author_followers, baseline)
    reasons.append(why)
    score = _size_score(projected, baseline.top_final) + (part if current > 0 else 0.0)
    return RiskAssessment(
        score=min(100.0, score),
        projected_final=projected,
        velocity_per_hour=velocity,
        reasons=tuple(reasons),
        current=current,
        pace=pace,
        top_final=baseline.top_final,
    )


def next_check_at(
    *,
    posted_at: datetime,
    snapshots: Sequence[Snapshot],
    now: datetime,
    checkpoints_minutes: Sequence[float],
    cool_fraction: float = 0.02,
    cool_after_minutes: float = 720.0,
) -> datetime | None:
    """When to read the post's engagement next; None to stop tracking it.

    The next checkpoint is the first one not yet covered by a snapshot; if the daemon missed
    it (downtime), the check is due `now` and the missed checkpoints collapse into one.
    Tracking stops after the last checkpoint, or once the post has cooled: older than
    `cool_after_minutes` and its last interval added at most `cool_fraction` of its total.
    Cooling waits for 12 h: with reactions arriving on a power-law clock, about half of a
    post's come after its first hour, and a small post's quiet hour is mostly chance, so
    dropping after 1 h lost about one in eight of the simulated posts that later reached 10
    engagements (bench/cascades.py's simulator); each extra read is one id in a 100-id lookup.
    """
    if not snapshots:  # a post just stored: the first checkpoint (every flagged post asks)
        first = min(checkpoints_minutes, default=None)
        return None if first is None else max(posted_at + timedelta(minutes=first), now)
    taken = sorted((s for s in snapshots if s.at <= now), key=lambda s: s.at)
    if len(taken) >= 2:
        last, before = taken[-1], taken[-2]
        age_min = (last.at - posted_at).total_seconds() / 60.0
        if age_min >= cool_after_minutes and (
            last.total - before.total <= cool_fraction * last.total
        ):
            return None
    covered = taken[-1].at if taken else None
    for minutes in sorted(checkpoints_minutes):
        due = posted_at + timedelta(minutes=minutes)
        if covered is None or due > covered:
            return max(due, now)
    return None
