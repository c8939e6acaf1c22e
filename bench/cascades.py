"""Engagement cascades from a self-exciting (Hawkes) branching process with known parameters.

Ground truth for bench/eval_viral.py. Each post is a Hawkes process in the SEISMIC form:
every share by a user with n followers triggers Poisson(p * n) reactions, each after a
delay drawn from the power-law kernel of rules/viral.py (normalised to mass 1). A reaction
is a like, reply, repost or quote; reposts and quotes are shares and get their own
followers, drawn from the same log-normal as authors, so they trigger reactions in turn.
The branching factor m = p * share_fraction * mean_followers is drawn per post, so p is set
from m. All cascades are simulated together, generation by generation, with numpy.
`futures` re-runs the rest of chosen cascades from their state at some time (the
evaluation's oracle).

Default parameters (stated, not fitted to flatter the model):
- followers: log-normal, median 200, sigma 1.7 (mean 848; 1% of accounts above ~10k,
  0.01% above ~110k): heavy-tailed like real follower counts, and the model never sees the
  resharers' counts, only their mean as a platform constant.
- branching m ~ uniform(0, 0.9): from posts that die with the author's followers to
  near-critical ones whose later generations dwarf the first.
- per post, shares are 10-40% of reactions (a fifth of them quotes), replies 5-30%, the
  rest likes.
- kernel exponent theta = 0.2315 (SEISMIC's fit); other values test a mis-specified kernel.
- truth is the engagement count 7 days after posting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rules.viral import Kernel

LIKE, REPOST, REPLY, QUOTE = range(4)
MAX_EVENTS = 20_000_000  # a guard against a runaway simulation, far above what runs reach
FUTURES_BATCH = 20  # runs simulated together by `futures` (memory grows with events)


@dataclass(frozen=True, slots=True)
class CascadeParams:
    theta: float = 0.2315
    s0: float = 300.0
    follower_median: float = 200.0
    follower_sigma: float = 1.7
    branching: tuple[float, float] = (0.0, 0.9)
    share_fraction: tuple[float, float] = (0.1, 0.4)
    reply_fraction: tuple[float, float] = (0.05, 0.3)
    quote_share: float = 0.2
    horizon_s: float = 7 * 86400.0

    @property
    def mean_followers(self) -> float:
        return self.follower_median * float(np.exp(self.follower_sigma**2 / 2))

    @property
    def kernel(self) -> Kernel:
        return Kernel.normalised(self.theta, self.s0)


@dataclass(frozen=True, slots=True)
class Cascades:
    """`n` posts: per post author reach, true branching, infectiousness and reaction mix; per
    reaction its post, time, kind and followers (0 for likes and replies, which spread nothing).
    """

    author_followers: np.ndarray
    branching: np.ndarray
    infectiousness: np.ndarray
    share_fraction: np.ndarray
    reply_fraction: np.ndarray
    post: np.ndarray
    time: np.ndarray
    kind: np.ndarray
    followers: np.ndarray

    @property
    def n(self) -> int:
        return len(self.author_followers)

    def counts(self, at_s: float) -> np.ndarray:
        """(n, 4) cumulative likes, reposts, replies, quotes of every post at `at_s` seconds."""
        seen = self.time <= at_s
        flat = np.bincount(self.post[seen] * 4 + self.kind[seen], minlength=self.n * 4)
        return flat.reshape(self.n, 4)


def sample_delays(
    rng: np.random.Generator, kernel: Kernel, size: int, done: np.ndarray | float = 0.0
) -> np.ndarray:
    """Reaction delays in seconds by inverting the kernel's CDF (kernel mass must be 1).

    `done` is the kernel mass already spent, Phi(elapsed): each delay is then drawn
    conditioned on exceeding `elapsed` (the reactions an exposure still has to give);
    0 is the plain draw.
    """
    u = done + rng.random(size) * (1.0 - done)
    flat = kernel.c * kernel.s0
    tail = kernel.s0 * (kernel.theta * (1.0 - u) / flat) ** (-1.0 / kernel.theta)
    return np.where(u <= flat, u / kernel.c, tail)


def _followers(rng: np.random.Generator, params: CascadeParams, size: int) -> np.ndarray:
    draws = rng.lognormal(np.log(params.follower_median), params.follower_sigma, size)
    return np.rint(draws)


def _kind_cdf(share: np.ndarray, reply: np.ndarray, quote_share: float) -> np.ndarray:
    """Per post, the cumulative chance of like, repost, reply, quote (last column exactly 1,
    so rounding can never produce a fifth kind)."""
    parts = [1 - share - reply, share * (1 - quote_share), reply, share * quote_share]
    cdf = np.stack(parts, axis=1).cumsum(axis=1)
    cdf[:, -1] = 1.0
    return cdf


@dataclass(frozen=True, slots=True)
class _Events:
    post: np.ndarray
    time: np.ndarray
    kind: np.ndarray
    followers: np.ndarray


def _spread(
    rng: np.random.Generator,
    params: CascadeParams,
    p: np.ndarray,
    kind_cdf: np.ndarray,
    parents: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | float],
) -> _Events:
    """Every reaction up to the horizon that the parents trigger, generation by generation.

    A parent is (post, time it appeared, followers, share of its kernel mass already spent);
    a fresh parent has spent 0, one observed partway through has spent Phi(elapsed).
    """
    kernel = params.kernel
    parent_post, parent_time, parent_n, done = parents
    posts, times, kinds, followers = [], [], [], []
    total = 0
    while len(parent_post):
        k = rng.poisson(p[parent_post] * parent_n * (1.0 - done))
        post = np.repeat(parent_post, k)
        spent = np.repeat(done, k) if np.ndim(done) else done
        time = np.repeat(parent_time, k) + sample_delays(rng, kernel, int(k.sum()), spent)
        post, time = post[time <= params.horizon_s], time[time <= params.horizon_s]
        kind = (rng.random(len(post))[:, None] > kind_cdf[post]).sum(axis=1)
        posts.append(post)
        times.append(time)
        kinds.append(kind)
        total += len(post)
        if total > MAX_EVENTS:
            raise RuntimeError("simulation ran away; lower the branching range")
        shares = (kind == REPOST) | (kind == QUOTE)
        parent_post, parent_time, done = post[shares], time[shares], 0.0
        parent_n = _followers(rng, params, len(parent_post))
        degree = np.zeros(len(post))
        degree[shares] = parent_n
        followers.append(degree)
    return _Events(*(np.concatenate(a) for a in (posts, times, kinds, followers)))


def simulate(n: int, params: CascadeParams, rng: np.random.Generator) -> Cascades:
    """Simulate `n` independent posts up to `params.horizon_s`."""
    authors = _followers(rng, params, n)
    m = rng.uniform(*params.branching, n)
    share = rng.uniform(*params.share_fraction, n)
    reply = rng.uniform(*params.reply_fraction, n)
    p = m / (share * params.mean_followers)
    kind_cdf = _kind_cdf(share, reply, params.quote_share)
    events = _spread(rng, params, p, kind_cdf, (np.arange(n), np.zeros(n), authors, 0.0))
    return Cascades(
        author_followers=authors,
        branching=m,
        infectiousness=p,
        share_fraction=share,
        reply_fraction=reply,
        post=events.post,
        time=events.time,
        kind=events.kind,
        followers=events.followers,
    )


def futures(
    cascades: Cascades,
    params: CascadeParams,
    posts: np.ndarray,
    at_s: np.ndarray | float,
    reps: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(len(posts), reps) engagement each post gains after `at_s` seconds (one value or one
    per post), simulated `reps` times from everything that happened before it.

    In a Hawkes process the future given the past is the past's pending exposures (the
    author's and every resharer's, each conditioned on the time already elapsed) plus the
    cascades they start: this is the exact conditional distribution, what an oracle knowing
    p, m and every resharer's followers and time would predict.
    """
    c = cascades
    at_s = np.broadcast_to(np.asarray(at_s, dtype=float), posts.shape)
    slot = np.full(c.n, -1)
    slot[posts] = np.arange(len(posts))
    cutoff = np.full(c.n, -np.inf)
    cutoff[posts] = at_s
    spread = (c.followers > 0) & (c.time <= cutoff[c.post])
    owner = np.concatenate([slot[posts], slot[c.post[spread]]])
    born = np.concatenate([np.zeros(len(posts)), c.time[spread]])
    reach = np.concatenate([c.author_followers[posts], c.followers[spread]])
    done = np.vectorize(params.kernel.cdf, otypes=[float])(at_s[owner] - born)
    out = []
    for batch in np.array_split(np.arange(reps), max(1, reps // FUTURES_BATCH)):
        # one virtual post per (post, run): id = slot * runs + run
        runs = len(batch)
        virtual = np.repeat(owner, runs) * runs + np.tile(np.arange(runs), len(owner))
        source = np.repeat(posts, runs)
        kinds = _kind_cdf(c.share_fraction[source], c.reply_fraction[source], params.quote_share)
        parents = (virtual, np.repeat(born, runs), np.repeat(reach, runs), np.repeat(done, runs))
        events = _spread(rng, params, c.infectiousness[source], kinds, parents)
        out.append(np.bincount(events.post, minlength=len(posts) * runs).reshape(-1, runs))
    return np.hstack(out)
