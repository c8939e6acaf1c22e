"""Viral-risk model: kernel maths, projection, score reasons, and the re-check schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bench.cascades import CascadeParams, futures, sample_delays, simulate
from bench.eval_viral import least_relative_error
from rules.viral import SEISMIC, Kernel, Snapshot, assess_risk, next_check_at

POSTED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CHECKPOINTS = (5, 15, 60, 180, 720, 1440)


def snap(minutes: float, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0):
    return Snapshot(POSTED + timedelta(minutes=minutes), likes, reposts, replies, quotes)


def assess(*snaps: Snapshot, followers: int | None = 1000, now_min: float | None = None):
    now = POSTED + timedelta(minutes=now_min) if now_min is not None else snaps[-1].at
    return assess_risk(posted_at=POSTED, snapshots=snaps, author_followers=followers, now=now)


@pytest.mark.parametrize("seconds", [1.0, 299.0, 300.0, 301.0, 3600.0, 86400.0])
def test_kernel_integral_matches_numeric_integration(seconds: float) -> None:
    grid = np.linspace(0.0, seconds, 20001)
    values = [SEISMIC.cdf(s) for s in grid]
    assert SEISMIC.cdf_integral(seconds) == pytest.approx(np.trapezoid(values, grid), rel=1e-4)


@pytest.mark.parametrize("theta", [0.15, 0.2315, 0.5])
def test_normalised_kernel_has_unit_mass_and_is_continuous(theta: float) -> None:
    kernel = Kernel.normalised(theta)
    assert kernel.cdf(1e40) == pytest.approx(1.0, abs=1e-5)
    assert kernel.cdf(300.0) == pytest.approx(kernel.cdf(300.0 + 1e-9))


def test_published_kernel_has_a_heavy_tail() -> None:
    assert SEISMIC.cdf(3600) == pytest.approx(0.5435, abs=1e-3)
    assert SEISMIC.cdf(7 * 86400) == pytest.approx(0.861, abs=1e-3)


def test_author_only_cascade_projects_the_kernel_mass_still_ahead() -> None:
    # Reactions that follow the author's exposure exactly: the projection is the 7-day share.
    snaps = [snap(m, likes=round(10_000 * SEISMIC.cdf(m * 60))) for m in (5, 15, 60)]
    risk = assess(*snaps)
    assert risk.branching == 0
    assert risk.projected_final == pytest.approx(10_000 * SEISMIC.cdf(7 * 86400), rel=0.01)


def test_projection_on_simulated_broadcast_cascades() -> None:
    """With almost no resharing, only timing noise is left: the projection must be tight."""
    params = CascadeParams(branching=(0.02, 0.02), share_fraction=(0.002, 0.002))
    cascades = simulate(30_000, params, np.random.default_rng(5))
    seen = [cascades.counts(m * 60.0) for m in (5, 15, 60)]
    final = cascades.counts(params.horizon_s).sum(axis=1)
    posts = np.flatnonzero(seen[-1].sum(axis=1) >= 30)
    errors = []
    for post in posts:
        snaps = [snap(m, *map(int, seen[k][post])) for k, m in enumerate((5, 15, 60))]
        risk = assess(*snaps, followers=int(cascades.author_followers[post]))
        errors.append(abs(risk.projected_final - final[post]) / final[post])
    assert len(posts) > 30
    assert np.median(errors) < 0.10  # the naive "x 2" is off by ~0.28 here


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


def test_least_relative_error_point_beats_every_other_outcome() -> None:
    outcomes = np.array([[10.0, 12.0, 15.0, 40.0, 400.0], [5.0, 5.0, 6.0, 60.0, 70.0]])
    best = least_relative_error(outcomes)
    for row, point in zip(outcomes, best, strict=True):
        loss = [np.mean(np.abs(x - row) / row) for x in row]
        assert np.mean(np.abs(point - row) / row) == pytest.approx(min(loss))


def test_no_snapshots_means_nothing_to_project() -> None:
    risk = assess_risk(posted_at=POSTED, snapshots=[], author_followers=50, now=POSTED)
    assert (risk.projected_final, risk.velocity_per_hour, risk.current) == (0.0, 0.0, 0)
    assert risk.score == 0.0


def test_velocity_and_acceleration_come_from_the_last_two_intervals() -> None:
    risk = assess(snap(5, likes=10), snap(15, likes=30), snap(60, likes=150))
    assert risk.velocity_per_hour == pytest.approx(160.0)  # 120 in 45 min
    # 120/h then 160/h, between interval midpoints 10 and 37.5 min apart
    assert risk.acceleration == pytest.approx(40.0 / (27.5 / 60))
    assert any(r.startswith("accelerating") for r in risk.reasons)


def test_shrinking_counts_never_give_negative_velocity() -> None:
    risk = assess(snap(5, likes=40), snap(15, likes=35))
    assert risk.velocity_per_hour == 0.0
    assert risk.current == 40


def test_snapshots_after_now_are_ignored() -> None:
    early = assess(snap(5, likes=10), snap(60, likes=900), now_min=10)
    assert early.current == 10


@pytest.mark.parametrize(
    ("snaps", "followers", "expected", "absent"),
    [
        ([snap(60, likes=10, replies=25, quotes=5)], 10, "reply share 75% (ratio)", None),
        ([snap(60, likes=5, replies=10)], 10, None, "reply share"),  # under 20 reactions
        ([snap(60, likes=1)], 120_000, "author reach 120k", None),
        ([snap(60, likes=1)], None, None, "author reach"),
        ([snap(30, likes=300)], 10, "velocity 600 engagements/h", None),
    ],
)
def test_reasons(snaps, followers, expected: str | None, absent: str | None) -> None:
    reasons = assess(*snaps, followers=followers).reasons
    assert reasons[0].startswith("projected ")
    if expected:
        assert expected in reasons
    if absent:
        assert not any(absent in r for r in reasons)


def test_bigger_faster_posts_score_higher() -> None:
    quiet = assess(snap(5, likes=1), snap(60, likes=3), followers=200)
    loud = assess(snap(5, likes=50, reposts=20), snap(60, likes=900, reposts=300), followers=50_000)
    assert 0 <= quiet.score < 20 < 60 < loud.score <= 100
    assert loud.projected_final > loud.current > quiet.projected_final


def test_runaway_sharing_is_self_sustaining_but_finite() -> None:
    risk = assess(snap(5, reposts=50), snap(15, reposts=600), snap(60, reposts=9000), followers=100)
    assert risk.branching >= 1
    assert any("self-sustaining" in r for r in risk.reasons)
    assert risk.current < risk.projected_final < float("inf")


def test_two_lucky_reposts_are_not_called_self_sustaining() -> None:
    risk = assess(snap(30, likes=3, reposts=2), followers=100)
    assert risk.branching >= 1
    assert not any("self-sustaining" in r for r in risk.reasons)


def test_as_dict_is_json_ready() -> None:
    data = assess(snap(5, likes=3), snap(15, likes=9, replies=2)).as_dict()
    assert set(data) >= {"score", "projected_final", "velocity_per_hour", "acceleration", "reasons"}
    json.dumps(data)


def check(snaps: list[Snapshot], now_min: float) -> float | None:
    due = next_check_at(
        posted_at=POSTED,
        snapshots=snaps,
        now=POSTED + timedelta(minutes=now_min),
        checkpoints_minutes=CHECKPOINTS,
    )
    return None if due is None else (due - POSTED).total_seconds() / 60


@pytest.mark.parametrize(
    ("snaps", "now_min", "expected"),
    [
        ([], 1, 5),  # first checkpoint
        ([snap(5.2, likes=3)], 6, 15),  # the 5-minute check is covered
        ([snap(5, likes=3), snap(15, likes=9)], 100, 100),  # missed 60: due now, once
        ([snap(5, likes=3), snap(15, likes=9), snap(102, likes=30)], 103, 180),
        ([snap(15, likes=0), snap(30, likes=0)], 31, 60),  # quiet, but too young to drop
        ([snap(15, likes=10), snap(60, likes=10)], 61, 180),  # a quiet first hour: keep reading
        ([snap(180, likes=10), snap(720, likes=10)], 721, None),  # nothing new for 9 h: cooled
        ([snap(720, likes=500), snap(1440, likes=509)], 1441, None),  # under 2%: cooled
        ([snap(720, likes=500), snap(1440, likes=900)], 1441, None),  # past the last checkpoint
        ([snap(180, likes=500), snap(720, likes=900)], 721, 1440),  # still growing
    ],
)
def test_next_check_at(snaps: list[Snapshot], now_min: float, expected: float | None) -> None:
    assert check(snaps, now_min) == expected
