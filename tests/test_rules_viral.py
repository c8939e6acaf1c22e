"""Viral-risk model: kernel maths, projection from the slowdown, learning what is usual, the
score and its reasons, and the re-check schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from rules.viral import (
    PRIOR,
    SEISMIC,
    Baseline,
    Example,
    Kernel,
    Snapshot,
    assess_risk,
    learn_baseline,
    next_check_at,
    project_final,
)
from rules.viral_growth import HORIZON_S, PRIOR_THETA

POSTED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CHECKPOINTS = (5, 15, 60, 180, 720, 1440)
HOUR_READS = (300.0, 900.0, 3600.0)


def snap(minutes: float, likes: int = 0, reposts: int = 0, replies: int = 0, quotes: int = 0):
    return Snapshot(POSTED + timedelta(minutes=minutes), likes, reposts, replies, quotes)


def assess(*snaps: Snapshot, followers: int | None = 1000, now_min: float | None = None, **kw):
    now = POSTED + timedelta(minutes=now_min) if now_min is not None else snaps[-1].at
    return assess_risk(posted_at=POSTED, snapshots=snaps, author_followers=followers, now=now, **kw)


def kernel_shaped(theta: float, final: float, ages=HOUR_READS) -> list[int]:
    """Counts that follow the normalised kernel exactly, heading for `final`."""
    kernel = Kernel.normalised(theta)
    return [round(final * kernel.cdf(a)) for a in ages]


# A brand whose complaints are small: 1 engagement at 1 h is usual, 8 is its top 5%.
SMALL = Baseline(
    theta=1.0,
    top_final=8.0,
    usual=((300.0, 0.3), (900.0, 0.5), (3600.0, 1.0)),
    typical_reach=1000.0,
    examples=500,
)


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


@pytest.mark.parametrize("theta", [0.2315, 1.0, 2.5])
def test_a_post_on_the_kernel_clock_projects_its_final(theta: float) -> None:
    counts = kernel_shaped(theta, 10_000)
    expected = 10_000 * Kernel.normalised(theta).cdf(HORIZON_S)
    assert project_final(HOUR_READS, counts, theta=theta) == pytest.approx(expected, rel=0.01)


def test_a_post_that_stopped_gaining_stays_where_it_is() -> None:
    assert project_final(HOUR_READS, [5, 12, 12], theta=0.2) == 12.0


def test_slower_decay_projects_more_and_stays_finite() -> None:
    counts = [5, 20, 60]
    projections = [project_final(HOUR_READS, counts, theta=t) for t in (0.0, 0.2, 1.0, 9.0)]
    assert projections == sorted(projections, reverse=True)
    assert all(60 <= p < float("inf") for p in projections)


def test_a_read_just_before_the_last_is_not_used_as_the_rate() -> None:
    # reads at 59 and 60 min: the rate comes from the 15-minute read, not the last minute
    assert project_final((900.0, 3540.0, 3600.0), [10, 30, 30], theta=1.0) == pytest.approx(
        project_final((900.0, 3600.0), [10, 30], theta=1.0)
    )


def test_no_history_is_the_published_prior() -> None:
    assert learn_baseline([]) == PRIOR
    assert PRIOR.theta == PRIOR_THETA


def test_history_learns_the_decay_pulled_toward_the_prior() -> None:
    examples = [
        Example(HOUR_READS, tuple(kernel_shaped(1.0, n)), round(n * 0.9999), 500 + n)
        for n in range(20, 120)
    ]
    baseline = learn_baseline(examples)
    assert PRIOR_THETA < baseline.theta < 1.0
    assert baseline.theta > 0.8  # 100 posts x 3 reads outweigh the prior's 10
    assert baseline.examples == 100
    assert baseline.typical_reach == pytest.approx(569.5)


def test_history_learns_usual_engagement_and_the_top_line() -> None:
    quiet = [Example((3600.0,), (1,), 1, None) for _ in range(950)]
    loud = [Example((3600.0,), (30,), 40, None) for _ in range(50)]
    baseline = learn_baseline(quiet + loud)
    assert baseline.usual_at(3600.0) == pytest.approx(2.45)
    assert baseline.usual_at(600.0) == 0.0  # nobody had been read by 10 min
    assert 40 < baseline.top_final < 42  # 40, pulled a little toward the prior's 100
    assert baseline.typical_reach is None


def test_no_snapshots_means_nothing_to_project() -> None:
    risk = assess_risk(posted_at=POSTED, snapshots=[], author_followers=50, now=POSTED)
    assert (risk.projected_final, risk.velocity_per_hour, risk.current) == (0.0, 0.0, 0)
    assert risk.score == 0.0


def test_shrinking_counts_never_give_negative_velocity() -> None:
    risk = assess(snap(5, likes=40), snap(15, likes=35))
    assert risk.velocity_per_hour == 0.0
    assert risk.current == 40


def test_snapshots_after_now_are_ignored() -> None:
    early = assess(snap(5, likes=10), snap(60, likes=900), now_min=10)
    assert early.current == 10


def test_the_same_post_is_unusual_for_a_small_brand_only() -> None:
    snaps = (snap(5, reposts=3), snap(15, reposts=6), snap(60, reposts=14))
    small = assess(*snaps, baseline=SMALL, scope="Kestrel's")
    big = assess(
        *snaps, baseline=Baseline(theta=1.0, top_final=500.0, usual=((3600.0, 40.0),), examples=9)
    )
    assert small.score >= 60 > big.score
    assert "14x Kestrel's usual engagement at 1 h (14 now, usually 1.0)" in small.reasons


def test_a_complaint_that_dies_does_not_alert() -> None:
    assert (
        assess(snap(5, reposts=3), snap(15, reposts=4), snap(60, reposts=4), baseline=SMALL).score
        < 60
    )


@pytest.mark.parametrize(
    ("followers", "expected"),
    [
        (None, "author's follower count is unknown (not assumed)"),
        (80_000, "author has 80k followers (80x this brand's typical author)"),
        (900, "author has 900 followers"),
    ],
)
def test_reach_is_said_and_never_invented(followers: int | None, expected: str) -> None:
    risk = assess(snap(5, likes=2), snap(60, likes=4), followers=followers, baseline=SMALL)
    assert expected in risk.reasons
    unknown = assess(snap(5, likes=2), snap(60, likes=4), followers=None, baseline=SMALL)
    assert risk.score >= unknown.score


def test_trend_words() -> None:
    slowing = assess(snap(5, likes=10), snap(15, likes=20), snap(60, likes=25), baseline=SMALL)
    assert "slowing: 6.7/h over the last 45 min, 60/h in the 10 min before" in slowing.reasons
    faster = assess(snap(5, likes=1), snap(15, likes=3), snap(60, likes=40), baseline=SMALL)
    assert any(r.startswith("speeding up") for r in faster.reasons)


def test_without_history_the_reasons_say_so() -> None:
    risk = assess(snap(60, likes=3))
    assert any(r.startswith("no 7-day history yet") for r in risk.reasons)
    assert risk.pace is None


def test_bigger_faster_posts_score_higher() -> None:
    quiet = assess(snap(5, likes=1), snap(60, likes=3), followers=200)
    loud = assess(snap(5, likes=50, reposts=20), snap(60, likes=900, reposts=300), followers=50_000)
    assert 0 <= quiet.score < 40 < 60 < loud.score <= 100
    assert loud.projected_final > loud.current > quiet.projected_final


def test_as_dict_is_json_ready() -> None:
    data = assess(snap(5, likes=3), snap(15, likes=9, replies=2), baseline=SMALL).as_dict()
    assert set(data) >= {"score", "projected_final", "velocity_per_hour", "pace", "reasons"}
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
