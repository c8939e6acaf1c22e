"""How much more a post will gather, and what is normal for one brand on one network.

Real retweet cascades slow down much faster than a single audience's reaction clock: a
complaint that reached 10 reposts in its first hour is usually almost done (checked on real
`#auspol` cascades by bench/eval_viral.py). So the projection extrapolates the *last*
interval between reads, not the whole history, along a power-law decay of the post's
reaction rate, rate(s) ~ s^-(1 + theta) (the shape of SEISMIC's kernel, Zhao et al.,
KDD 2015): what the last interval gained, times the kernel mass still ahead over the mass
that interval covered. A post that stopped gaining is projected to stay where it is; a post
still gaining fast keeps its pace in proportion. The rate measured is the whole cascade's,
later generations included, so there is no branching series to saturate: the only knob is
theta, bounded to [THETA_MIN, THETA_MAX] so no history can make a projection infinite.

theta starts from a published prior and is learned per brand and network from the
deployment's own history (`learn_baseline`): posts whose 7-day outcome is known become
examples, the theta that projects them best is found on a grid, and the two are averaged on
a log scale with the prior counting as PRIOR_WEIGHT observations (Szabo and Huberman, 2010,
learn the same kind of per-platform growth factor from past items). The prior theta 0.2315 is
SEISMIC's fitted tail; it also matches Kwak et al. (WWW 2010): half of retweets within an
hour, three quarters within a day gives theta = ln 2 / ln 24 = 0.22. It over-projects
ordinary complaints, which is the safe side while a brand has no history.

The same history says what is *usual*: the mean engagement at each age, the final size that
marks the brand's top 5%, and the typical author's reach. Everything here is pure.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

HORIZON_S = 7 * 86400.0
PRIOR_THETA = 0.2315  # SEISMIC (Zhao et al. 2015); Kwak et al. 2010 imply 0.22
THETA_MIN, THETA_MAX = 0.1, 4.0
PRIOR_WEIGHT = 10.0  # the prior counts as this many fitted observations
# With no history, a complaint heading for 100 engagements is at the alert line: a product
# default (the old fixed ramp spanned 20 to 2,000), replaced by the brand's own top 5% as
# its examples arrive.
PRIOR_TOP_FINAL = 100.0
PRIOR_TYPICAL_REACH = 1_000.0  # followers: reach counts from here when a brand has no history
TOP_QUANTILE = 0.95
FIT_MIN_COUNT = 5  # reads with fewer engagements say little about the decay
FIT_MAX_AGE_S = 3 * 3600.0  # the decay that matters is the early one
USUAL_AGES_S = (300.0, 900.0, 3600.0, 10800.0, 43200.0, 86400.0)
_GRID = tuple(THETA_MIN * (THETA_MAX / THETA_MIN) ** (i / 24) for i in range(25))


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


SEISMIC = Kernel()


def project_final(
    ages_s: Sequence[float],
    totals: Sequence[int],
    *,
    theta: float,
    horizon_s: float = HORIZON_S,
) -> float:
    """Projected engagement at `horizon_s` from reads (age in seconds, cumulative count).

    Extrapolates the gain since the latest read at most half the last age (the last two
    checkpoints by default; a read a minute before the last would make the rate noise).
    """
    if not ages_s:
        return 0.0
    t, current = ages_s[-1], totals[-1]
    if t >= horizon_s:
        return float(current)
    before = [i for i, a in enumerate(ages_s[:-1]) if a <= t / 2.0]
    start, gained_from = (ages_s[before[-1]], totals[before[-1]]) if before else (0.0, 0)
    kernel = Kernel.normalised(min(THETA_MAX, max(THETA_MIN, theta)))
    covered = kernel.cdf(t) - kernel.cdf(start)
    if covered <= 0:
        return float(current)
    ahead = kernel.cdf(horizon_s) - kernel.cdf(t)
    return current + max(0, current - gained_from) * ahead / covered


@dataclass(frozen=True, slots=True)
class Example:
    """A past post whose 7-day outcome is known: its reads (age in seconds, cumulative
    engagement, non-decreasing) and its final engagement."""

    ages_s: tuple[float, ...]
    totals: tuple[int, ...]
    final: int
    followers: int | None = None

    def total_at(self, age_s: float) -> int:
        """Engagement as last read at or before `age_s` (0 before the first read)."""
        seen = [n for a, n in zip(self.ages_s, self.totals, strict=True) if a <= age_s]
        return seen[-1] if seen else 0


@dataclass(frozen=True, slots=True)
class Baseline:
    """What is normal for one brand's posts on one network (the prior when `examples` is 0)."""

    theta: float = PRIOR_THETA
    top_final: float = PRIOR_TOP_FINAL
    usual: tuple[tuple[float, float], ...] = ()  # (age s, mean engagement at that age)
    typical_reach: float | None = None
    examples: int = 0

    def usual_at(self, age_s: float) -> float | None:
        """Mean engagement of past posts at this age (the nearest learned age below it)."""
        below = [mean for age, mean in self.usual if age <= age_s * 1.01]
        return below[-1] if below else None


PRIOR = Baseline()


def _fit_theta(examples: Sequence[Example]) -> tuple[float, int]:
    """(theta with the least mean absolute log error over the examples' early reads, reads
    used)."""
    points = [
        (ex.ages_s[: i + 1], ex.totals[: i + 1], ex.final)
        for ex in examples
        for i, (age, n) in enumerate(zip(ex.ages_s, ex.totals, strict=True))
        if age <= FIT_MAX_AGE_S and n >= FIT_MIN_COUNT and ex.final >= n
    ]
    if not points:
        return PRIOR_THETA, 0

    def loss(theta: float) -> float:
        return sum(
            abs(math.log(project_final(a, n, theta=theta) / final)) for a, n, final in points
        )

    return min(_GRID, key=loss), len(points)


def _blend(prior: float, learned: float, weight: float) -> float:
    """Geometric mean of `prior` (PRIOR_WEIGHT) and `learned` (`weight`)."""
    total = PRIOR_WEIGHT + weight
    return math.exp((PRIOR_WEIGHT * math.log(prior) + weight * math.log(learned)) / total)


def learn_baseline(examples: Sequence[Example]) -> Baseline:
    """The baseline for one brand and network from its posts with a known 7-day outcome."""
    if not examples:
        return PRIOR
    theta, used = _fit_theta(examples)
    finals = sorted(ex.final for ex in examples)
    top = finals[min(len(finals) - 1, int(TOP_QUANTILE * len(finals)))]
    usual = tuple(
        (age, sum(ex.total_at(age) for ex in examples) / len(examples)) for age in USUAL_AGES_S
    )
    reach = [ex.followers for ex in examples if ex.followers is not None]
    return Baseline(
        theta=_blend(PRIOR_THETA, theta, used),
        top_final=_blend(PRIOR_TOP_FINAL, max(1.0, float(top)), len(examples)),
        usual=usual,
        typical_reach=float(statistics.median(reach)) if reach else None,
        examples=len(examples),
    )
