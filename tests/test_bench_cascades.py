"""The simulator behind bench/eval_viral.py's stress test: delays keep the kernel's tail and
re-simulated futures are calibrated."""

from __future__ import annotations

import numpy as np
import pytest

from bench.cascades import CascadeParams, futures, sample_delays, simulate


def test_delays_conditioned_on_elapsed_time_keep_the_kernel_tail() -> None:
    kernel = CascadeParams().kernel
    done = kernel.cdf(3600.0)
    delays = sample_delays(np.random.default_rng(1), kernel, 200_000, done)
    assert delays.min() >= 3600.0
    expected = (1 - kernel.cdf(86400.0)) / (1 - done)  # still to come after a day
    assert np.mean(delays > 86400.0) == pytest.approx(expected, abs=0.005)


def test_simulated_futures_are_calibrated_against_what_happened() -> None:
    """The oracle's futures start from each post's state at 1 h: their chance of doubling
    matches how often the posts really doubled, and high chances really double more."""
    params = CascadeParams()
    cascades = simulate(20_000, params, np.random.default_rng(7))
    hour = cascades.counts(3600.0).sum(axis=1)
    posts = np.flatnonzero(hour >= 10)
    current = hour[posts]
    doubled = cascades.counts(params.horizon_s).sum(axis=1)[posts] >= 2 * current
    gained = futures(cascades, params, posts, 3600.0, 40, np.random.default_rng(8))
    chance = (gained >= current[:, None]).mean(axis=1)
    assert len(posts) > 400
    assert chance.mean() == pytest.approx(doubled.mean(), abs=0.04)
    assert doubled[chance > 0.5].mean() > 2 * doubled[chance < 0.3].mean()
