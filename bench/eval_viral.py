"""How well rules/viral.py projects final engagement and ranks "will it double from here".

Runs the daemon's own call, `assess_risk`, on posts simulated by bench/cascades.py and
observed the way the daemon observes them: aggregate counts at the checkpoints 5, 15, 60 min
(then 3, 12, 24 h). Truth is the engagement count at 7 days.

Printed beside brandmon's figures:
- the naive baseline "current count x 2" (a constant growth, so its doubling AUC is 0.5);
- an oracle that knows what no API tells: the post's true infectiousness and branching and
  the follower count and time of every resharer. Its conditional-mean projection shows how
  much of the outcome is decided after the observation, i.e. what any model can reach;
- for Cheng et al.'s design (observe a cascade when it first reaches k = 10, across ages),
  the post's age alone, which carries most of the signal there.

    .venv/bin/python -m bench.eval_viral          # figures, ~10 s
    .venv/bin/python -m bench.eval_viral --fit    # how the model's defaults were chosen
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bench.cascades import CascadeParams, Cascades, simulate
from rules.viral import Snapshot, assess_risk

POSTED = datetime(2025, 1, 6, 9, tzinfo=UTC)
CHECKPOINTS_MIN = (5, 15, 60, 180, 720, 1440)
AT_ONE_HOUR = CHECKPOINTS_MIN.index(60)
MIN_COUNT = 10
POSTS = 100_000
TRAIN_SEED, TEST_SEED = 1, 2


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]
    pos = int(label.sum())
    neg = len(label) - pos
    return float((ranks[label].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def median_rel_error(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.median(np.abs(pred - truth) / truth))


@dataclass(frozen=True, slots=True)
class World:
    """One simulation, observed at every checkpoint: counts[post, checkpoint, kind]."""

    params: CascadeParams
    cascades: Cascades
    counts: np.ndarray
    final: np.ndarray

    @classmethod
    def simulate(cls, params: CascadeParams, seed: int) -> World:
        c = simulate(POSTS, params, np.random.default_rng(seed))
        counts = np.stack([c.counts(m * 60.0) for m in CHECKPOINTS_MIN], axis=1)
        return cls(params, c, counts, c.counts(params.horizon_s).sum(axis=1))

    def project(self, posts: np.ndarray, upto: np.ndarray, **model: Any) -> np.ndarray:
        """brandmon's projected final engagement, each post seen up to checkpoint `upto`."""
        out = np.empty(len(posts))
        for j, (post, last) in enumerate(zip(posts, upto, strict=True)):
            snaps = [
                Snapshot(POSTED + timedelta(minutes=minutes), *map(int, self.counts[post, k]))
                for k, minutes in enumerate(CHECKPOINTS_MIN[: last + 1])
            ]
            out[j] = assess_risk(
                posted_at=POSTED,
                snapshots=snaps,
                author_followers=int(self.cascades.author_followers[post]),
                now=snaps[-1].at,
                **model,
            ).projected_final
        return out

    def oracle(self, posts: np.ndarray, at_s: float) -> np.ndarray:
        """E[final | everything simulated up to at_s], from the true parameters."""
        c, kernel, horizon = self.cascades, self.params.kernel, self.params.horizon_s
        cdf = np.vectorize(kernel.cdf)
        spread = (c.time <= at_s) & (c.followers > 0)
        ahead = c.followers[spread] * (cdf(horizon - c.time[spread]) - cdf(at_s - c.time[spread]))
        exposures = np.bincount(c.post[spread], ahead, minlength=c.n)[posts]
        exposures += c.author_followers[posts] * (kernel.cdf(horizon) - kernel.cdf(at_s))
        m = c.branching[posts] * kernel.cdf(horizon - at_s)
        current = self.counts[posts, AT_ONE_HOUR].sum(axis=1)
        return current + c.infectiousness[posts] * exposures / (1.0 - m)


def evaluate(world: World, **model: Any) -> dict[str, float]:
    """Figures at 1 h, and in Cheng et al.'s design (first checkpoint with >= MIN_COUNT)."""
    totals = world.counts.sum(axis=2)
    hour = np.flatnonzero(totals[:, AT_ONE_HOUR] >= MIN_COUNT)
    current, truth = totals[hour, AT_ONE_HOUR], world.final[hour]
    pred = world.project(hour, np.full(len(hour), AT_ONE_HOUR), **model)
    oracle = world.oracle(hour, 3600.0)
    doubled = truth >= 2 * current

    reached = totals >= MIN_COUNT
    first_seen = np.flatnonzero(reached.any(axis=1))
    first = reached[first_seen].argmax(axis=1)
    seen_count = totals[first_seen, first]
    seen_pred = world.project(first_seen, first, **model)
    seen_doubled = world.final[first_seen] >= 2 * seen_count
    age = np.asarray(CHECKPOINTS_MIN)[first]
    return {
        "posts": len(hour),
        "median_count": float(np.median(current)),
        "doubled": float(doubled.mean()),
        "err_naive": median_rel_error(2.0 * current, truth),
        "err_model": median_rel_error(pred, truth),
        "err_oracle": median_rel_error(oracle, truth),
        "auc_model": auc(pred / current, doubled),
        "auc_oracle": auc(oracle / current, doubled),
        "cheng_posts": len(first_seen),
        "cheng_auc_model": auc(seen_pred / seen_count, seen_doubled),
        "cheng_auc_age": auc(-age.astype(float), seen_doubled),
        **{
            f"err_model_{lo}": median_rel_error(pred[sel], truth[sel])
            for lo, hi in ((10, 30), (30, 100), (100, None))
            if (sel := (current >= lo) & (current < (hi or np.inf))).any()
        },
    }


def _row(label: str, r: dict[str, float]) -> str:
    return (
        f"{label:<38}{r['posts']:>6}  {r['err_naive']:>6.3f} {r['err_model']:>6.3f}"
        f"  {r['auc_model']:>6.3f} {r['auc_oracle']:>6.3f}"
        f"  {r['cheng_auc_age']:>6.3f} {r['cheng_auc_model']:>6.3f}"
    )


def fit() -> None:
    """The grid behind rules/viral.py's defaults, on the training seed only."""
    world = World.simulate(CascadeParams(), TRAIN_SEED)
    print(
        f"training seed {TRAIN_SEED}, half_weight_shares: median relative error at 1 h, "
        "the same for posts with >= 100 engagements, doubling AUC at 1 h"
    )
    for degree in (350.0, 700.0, 1400.0):
        cells = []
        for half in (3.0, 10.0, 30.0, 100.0, 300.0, 1e9):
            r = evaluate(world, mean_degree=degree, half_weight_shares=half)
            cells.append(
                f"{half:>5g}: {r['err_model']:.3f} {r['err_model_100']:.3f} {r['auc_model']:.3f}"
            )
        print(f"  mean_degree {degree:>4.0f}  " + "  ".join(cells))


def main() -> None:
    base = CascadeParams()
    world = World.simulate(base, TEST_SEED)
    r = evaluate(world)
    print(
        f"Simulated Hawkes cascades (bench/cascades.py), seed {TEST_SEED}, {POSTS:,} posts; "
        f"kernel theta {base.theta}, followers log-normal median {base.follower_median:.0f} "
        f"sigma {base.follower_sigma} (mean {base.mean_followers:.0f}), branching "
        f"U{base.branching}; truth = engagement at {base.horizon_s / 86400:.0f} d."
    )
    print(
        f"At 1 h (snapshots 5, 15, 60 min): {r['posts']:,} posts with >= {MIN_COUNT} "
        f"engagements (median {r['median_count']:.0f}); {r['doubled']:.0%} went on to double.\n"
    )
    print(f"{'':<44}{'median rel. error':>18}{'doubling AUC':>16}")
    print(f"{'target':<44}{'<= 0.25':>18}{'>= 0.85':>16}")
    print(f"{'naive: current x 2':<44}{r['err_naive']:>18.3f}{0.5:>16.3f}")
    print(f"{'brandmon (SEISMIC adaptation)':<44}{r['err_model']:>18.3f}{r['auc_model']:>16.3f}")
    print(
        f"{'oracle: true p, m, every resharer (mean)':<44}"
        f"{r['err_oracle']:>18.3f}{r['auc_oracle']:>16.3f}"
    )
    sizes = "  ".join(
        f"{label}: {r[key]:.3f}"
        for label, key in (
            ("10-29", "err_model_10"),
            ("30-99", "err_model_30"),
            ("100+", "err_model_100"),
        )
        if key in r
    )
    print(f"brandmon median rel. error by count at 1 h: {sizes}")
    print(
        f"\nCheng et al. design ({r['cheng_posts']:,} posts, each first seen at the checkpoint "
        f"where it has >= {MIN_COUNT} engagements, 5 min..24 h):\n"
        f"  doubling AUC  naive 0.500   post age alone {r['cheng_auc_age']:.3f}"
        f"   brandmon {r['cheng_auc_model']:.3f}   (Cheng et al. 2014: 0.877 on real cascades)"
    )

    print("\nRobustness: the model keeps its defaults (theta 0.2315, mean degree 700).")
    print(
        f"{'':<38}{'posts':>6}  {'naive':>6} {'model':>6}  {'AUC':>6} {'oracle':>6}"
        f"  {'age':>6} {'model':>6}"
    )
    print(f"{'':<38}{'':>6}  {'median rel. error':>13}  {'1 h doubling':>13}  {'Cheng design':>13}")
    print(_row("as above", r))
    for theta in (0.15, 0.35, 0.5):
        w = World.simulate(replace(base, theta=theta), TEST_SEED)
        print(_row(f"simulated kernel theta {theta}", evaluate(w)))
    for degree in (350.0, 1400.0):
        print(_row(f"model mean degree {degree:.0f}", evaluate(world, mean_degree=degree)))
    for label, params in (
        ("branching U(0, 0.5)", replace(base, branching=(0.0, 0.5))),
        ("followers sigma 1.0 (lighter tail)", replace(base, follower_sigma=1.0)),
        ("followers sigma 2.2 (heavier tail)", replace(base, follower_sigma=2.2)),
    ):
        print(_row(label, evaluate(World.simulate(params, TEST_SEED))))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="print the grid behind the defaults")
    if parser.parse_args().fit:
        fit()
    else:
        main()
