"""Viral risk of a flagged post: where its engagement is heading, and why that matters.

The projection adapts SEISMIC (Zhao et al., KDD 2015), a self-exciting point process. In
SEISMIC every reshare i, at time t_i by a user with n_i followers, exposes the post to n_i
people who react after a delay drawn from a power-law memory kernel phi (c = 6.27e-4/s
flat for s0 = 300 s, then decaying as s^-(1+theta), theta = 0.2315). The post's
infectiousness p is estimated as "reactions so far / exposures so far", where exposures so
far are N(t) = sum_i n_i * Phi(t - t_i) and Phi is the kernel's CDF; the final size is what
the remaining exposures sum_i n_i * (1 - Phi(t - t_i)) will yield, multiplied by the
geometric series 1 / (1 - p * n*) of the reshares they trigger in turn.

What the APIs give is different, and the adaptation is:
- Aggregate counts at snapshot times, not individual reshare times: the reshares that appear
  between two snapshots are spread uniformly over that interval, so each interval adds its
  count times the *average* of Phi over the interval (closed form via the integral of Phi).
- Resharers' follower counts are unknown: the author's reach is exact (n_0), and every
  reshare (repost or quote) counts as `mean_degree` followers, a platform constant.
- Likes and replies do not carry the post further but follow the same exposure, so one
  infectiousness covers all reactions, and the branching factor is
  m = mean_degree * shares / N(t) (shares per exposure times followers per share).
- A "final" size needs a horizon because the kernel's tail is heavy (only ~86% of the
  reactions to an exposure arrive within 7 days): the projection counts what arrives by
  `horizon` (default 7 days).
- Later generations: SEISMIC multiplies the remaining reactions by 1 / (1 - gamma * m) and
  fits gamma (and a similar alpha for the direct part) on training cascades. Here the
  factor is 1 / (1 - w * m * Phi(horizon - t)): Phi(horizon - t) is the kernel mass still
  ahead, and w = shares / (shares + half_weight_shares) trusts the branching estimate only
  as far as the shares behind it. A few shares give a noisy m, and with heavy-tailed follower
  counts the *typical* later generation of a small cascade is far below its mean (what the
  median relative error measures); many shares give both a firm m and a sum of many
  followers' worth of spread, close to its mean. `half_weight_shares` and `mean_degree`
  were fitted on a training simulation (`python -m bench.eval_viral --fit`). The sum is
  capped at `max_branching` (SEISMIC calls m >= 1 supercritical and predicts an infinite
  size); the reasons then say "self-sustaining".

`projected_final` is total engagement (likes + reposts + replies + quotes), the number a
support team sees on the post. Everything is pure: time comes in as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Kernel:
    """SEISMIC's reaction-time density: flat `c` up to `s0` seconds, then a power-law tail."""

    c: float = 6.27e-4
    s0: float = 300.0
    theta: float = 0.2315

    @classmethod
    def normalised(cls, theta: float, s0: float = 300.0) -> Kernel:
        """The kernel with this tail exponent whose total mass is exactly 1."""
        return cls(c=1.0 / (s0 * (1.0 + 1.0 / theta)), s0=s0, theta=theta)

    def cdf(self, s: float) -> float:
        """Phi(s): share of an exposure's reactions that arrive within `s` seconds."""
        if s <= 0:
            return 0.0
        if s <= self.s0:
            return self.c * s
        return self.c * self.s0 * (1.0 + (1.0 - (s / self.s0) ** -self.theta) / self.theta)

    def cdf_integral(self, s: float) -> float:
        """Integral of Phi from 0 to `s`, for averaging Phi over an interval in closed form."""
        if s <= 0:
            return 0.0
        c, s0, th = self.c, self.s0, self.theta
        if s <= s0:
            return c * s * s / 2.0
        tail = s0 / (1.0 - th) * ((s / s0) ** (1.0 - th) - 1.0)
        return c * s0 * s0 / 2.0 + c * s0 * (1.0 + 1.0 / th) * (s - s0) - c * s0 / th * tail

    def mean_cdf(self, at: float, start: float, end: float) -> float:
        """Average of Phi(at - u) for u uniform in [start, end] (end <= at)."""
        if end - start <= 0:
            return self.cdf(at - start)
        return (self.cdf_integral(at - start) - self.cdf_integral(at - end)) / (end - start)


SEISMIC = Kernel()


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

    @property
    def shares(self) -> int:
        """Reactions that carry the post to new audiences."""
        return self.reposts + self.quotes


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    """A 0-100 score with the numbers behind it; engagement means all four reaction kinds."""

    score: float
    projected_final: float
    velocity_per_hour: float
    acceleration: float
    reasons: tuple[str, ...]
    current: int = 0
    branching: float = 0.0

    @property
    def growth(self) -> float:
        """Projected final over current engagement (1.0 when there is none yet)."""
        return self.projected_final / self.current if self.current else 1.0

    def as_dict(self) -> dict[str, object]:
        return {
            "score": round(self.score, 1),
            "projected_final": round(self.projected_final, 1),
            "velocity_per_hour": round(self.velocity_per_hour, 2),
            "acceleration": round(self.acceleration, 2),
            "current": self.current,
            "branching": round(self.branching, 3),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class _Interval:
    start: float  # seconds after posting
    end: float
    engagement: int  # gained in the interval
    shares: int


def _intervals(
    posted_at: datetime, snapshots: Sequence[Snapshot], now: datetime
) -> list[_Interval]:
    """Gains between consecutive snapshots (the first from zero at posting time).

    Counts can shrink (unlikes, deletions); a running maximum keeps the gains non-negative.
    """
    seen = sorted((s for s in snapshots if s.at <= now), key=lambda s: s.at)
    out: list[_Interval] = []
    prev_t, prev_total, prev_shares = 0.0, 0, 0
    for snap in seen:
        t = max((snap.at - posted_at).total_seconds(), prev_t)
        total, shares = max(snap.total, prev_total), max(snap.shares, prev_shares)
        out.append(_Interval(prev_t, t, total - prev_total, shares - prev_shares))
        prev_t, prev_total, prev_shares = t, total, shares
    return out


def project_final(
    intervals: Sequence[_Interval],
    *,
    author_followers: float,
    mean_degree: float,
    horizon_s: float,
    kernel: Kernel,
    half_weight_shares: float,
    max_branching: float,
) -> tuple[float, float]:
    """(projected engagement at the horizon, branching factor m) -- see the module docstring."""
    if not intervals:
        return 0.0, 0.0
    t = intervals[-1].end
    current = sum(i.engagement for i in intervals)
    shares = sum(i.shares for i in intervals)

    def exposures(at: float) -> float:
        spread = sum(i.shares * kernel.mean_cdf(at, i.start, i.end) for i in intervals)
        return author_followers * kernel.cdf(at) + mean_degree * spread

    seen = exposures(t)
    if current == 0 or seen <= 0:
        return float(current), 0.0
    branching = mean_degree * shares / seen
    trust = shares / (shares + half_weight_shares)
    damped = min(trust * branching * kernel.cdf(horizon_s - t), max_branching)
    remaining = exposures(horizon_s) - seen
    return current * (1.0 + remaining / (seen * (1.0 - damped))), branching


def _ramp(value: float, low: float, high: float) -> float:
    """0 at `low`, 1 at `high`, linear in log scale between them (sizes span decades)."""
    if value <= low:
        return 0.0
    return min(1.0, math.log(value / low) / math.log(high / low))


def _human(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e4:
        return f"{n / 1e3:.0f}k"
    return f"{n:,.0f}"


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600.0
    return f"{hours / 24:g} d" if hours >= 24 else f"{hours:g} h"


# Weights of the score's parts; they sum to 100.
W_SIZE, W_VELOCITY, W_ACCEL, W_REACH, W_RATIO = 45.0, 20.0, 10.0, 10.0, 15.0


def assess_risk(
    *,
    posted_at: datetime,
    snapshots: Sequence[Snapshot],
    author_followers: int | None,
    now: datetime,
    mean_degree: float = 700.0,
    horizon: timedelta = timedelta(days=7),
    kernel: Kernel = SEISMIC,
    half_weight_shares: float = 100.0,
    max_branching: float = 0.9,
) -> RiskAssessment:
    """Score a post's risk of spreading from the snapshots taken up to `now`.

    Parts: projected final engagement (45 at 2,000), velocity over the last interval (20 at
    500/h), acceleration against the interval before (10 at double), author reach (10 at
    1M), and the share of replies and quotes once there are 20 reactions (15 at 60%) -- a
    post whose answers outnumber its likes is being "ratioed", usually by people who agree
    with the complaint. Sizes count on a log scale, so a post heading for 2,000 engagements
    at 200/h scores about 60 (the default alert threshold), and 1,000 at 100/h with an angry
    40% reply share about the same.
    `author_followers=None` (unknown) counts the author as a typical user (`mean_degree`).
    """
    intervals = _intervals(posted_at, snapshots, now)
    reach = float(author_followers) if author_followers is not None else mean_degree
    projected, branching = project_final(
        intervals,
        author_followers=reach,
        mean_degree=mean_degree,
        horizon_s=horizon.total_seconds(),
        kernel=kernel,
        half_weight_shares=half_weight_shares,
        max_branching=max_branching,
    )
    rates = [3600.0 * i.engagement / (i.end - i.start) for i in intervals if i.end > i.start]
    velocity = rates[-1] if rates else 0.0
    previous = rates[-2] if len(rates) > 1 else 0.0
    acceleration = 0.0
    if len(rates) > 1:
        spacing_h = (intervals[-1].end - intervals[-2].start) / 7200.0
        acceleration = (velocity - previous) / spacing_h if spacing_h > 0 else 0.0
    current = sum(i.engagement for i in intervals)
    last = max((s for s in snapshots if s.at <= now), key=lambda s: s.at, default=None)

    reasons = [
        f"projected {_human(projected)} engagements within {_span(horizon)} "
        f"(now {_human(current)}, branching {branching:.2f})"
    ]
    shares = sum(i.shares for i in intervals)
    if shares > 4 and branching * (1.0 - 2.0 / math.sqrt(shares)) >= 1.0:
        # m >= 1 even at about two standard errors down (a count of S has error ~sqrt(S))
        reasons.append("self-sustaining spread: each share brings more than one share")
    score = W_SIZE * _ramp(projected, 20, 2000)
    part = _ramp(velocity, 5, 500)
    if part:
        score += W_VELOCITY * part
        reasons.append(f"velocity {_human(velocity)} engagements/h")
    if previous > 0 and velocity >= 10 and velocity > previous:
        score += W_ACCEL * min(1.0, velocity / previous - 1.0)
        reasons.append(f"accelerating: {_human(previous)}/h then {_human(velocity)}/h")
    part = _ramp(reach, 1_000, 1_000_000) if author_followers is not None else 0.0
    if part:
        score += W_REACH * part
        reasons.append(f"author reach {_human(reach)}")
    if last is not None and last.total >= 20:
        share = (last.replies + last.quotes) / last.total
        part = min(1.0, max(0.0, (share - 0.2) / 0.4))
        if part:
            score += W_RATIO * part
            reasons.append(f"reply share {share:.0%} (ratio)")
    return RiskAssessment(
        score=min(100.0, score),
        projected_final=projected,
        velocity_per_hour=velocity,
        acceleration=acceleration,
        reasons=tuple(reasons),
        current=current,
        branching=branching,
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
    engagements (bench/eval_viral.py); each extra read is one id in a 100-id lookup.
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
