"""Spike and drop detection against the weekly rhythm, spike explanations, Huginn's rule."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from rules.spike import evaluate_latest, explain_spike, huginn_peak_detector, in_cooldown

MONDAY = datetime(2025, 2, 3, tzinfo=UTC)
HISTORY_H = 4 * 168 + 72


def usual(at: datetime) -> int:
    """A brand's rhythm: 2 posts/h at night, 30 in the afternoon, weekends at half."""
    base = 30 if 12 <= at.hour < 18 else 10 if 8 <= at.hour < 22 else 2
    return base // 2 if at.weekday() >= 5 else base


def series(
    hours: int = HISTORY_H, rate: Callable[[datetime], int] = usual, noise: bool = False
) -> tuple[list[int], list[datetime]]:
    """`hours` buckets ending at 23:00 on the Monday 5 weeks on, counts from `rate`."""
    rng = random.Random(7)
    newest = MONDAY + timedelta(weeks=5, hours=23)
    starts = [newest - timedelta(hours=h) for h in range(hours - 1, -1, -1)]
    counts = [rate(s) for s in starts]
    if noise:  # roughly Poisson: +-sqrt
        counts = [max(0, round(rng.gauss(c, c**0.5))) for c in counts]
    return counts, starts


def at_hour(hour: int, observed: int, **kwargs):
    """Decision for a newest bucket `hour`:00 on that Monday, replacing its count."""
    counts, starts = series()
    cut = next(i for i, s in enumerate(starts) if s == MONDAY + timedelta(weeks=5, hours=hour))
    counts, starts = counts[: cut + 1], starts[: cut + 1]
    counts[-1] = observed
    return evaluate_latest(counts, starts, **kwargs)


@pytest.mark.parametrize(
    ("hour", "observed", "spike", "expected"),
    [
        (14, 30, False, 30),  # a normal busy afternoon
        (14, 40, False, 30),  # a busy one, within the band
        (14, 75, True, 30),
        (3, 2, False, 2),
        (3, 15, True, 2),  # a storm at night: far below the daytime level, still a spike
        (3, 4, False, 2),  # twice the usual, but under min_count
    ],
)
def test_spike_is_judged_against_the_same_hour_of_the_week(
    hour: int, observed: int, spike: bool, expected: float
) -> None:
    decision = at_hour(hour, observed)
    assert decision.is_spike is spike
    assert decision.expected == expected
    assert decision.observed == observed
    assert "same hour, last 4 weeks" in decision.reasons[0]


def test_weekend_rhythm_is_known() -> None:
    counts, starts = series(rate=usual)
    saturday = MONDAY + timedelta(weeks=4, days=5, hours=14)
    cut = starts.index(saturday)
    decision = evaluate_latest(counts[: cut + 1], starts[: cut + 1])
    assert decision.expected == 15
    assert not decision.is_spike


def test_min_ratio_ignores_small_relative_jumps_at_high_volume() -> None:
    counts, starts = series(rate=lambda _: 1000)
    assert not evaluate_latest([*counts[:-1], 1400], starts).is_spike  # 1.4x: significant, small
    assert evaluate_latest([*counts[:-1], 1600], starts).is_spike


def test_noisy_sources_get_a_wider_band() -> None:
    steady, starts = series(rate=lambda _: 20)
    bursty = [20 + (15 if h % 2 else -15) for h in range(len(steady))]
    calm = evaluate_latest(steady, starts)
    wild = evaluate_latest(bursty, starts)
    assert wild.threshold > calm.threshold
    assert evaluate_latest([*steady[:-1], 45], starts).is_spike
    assert not evaluate_latest([*bursty[:-1], 45], starts).is_spike


def test_a_past_storm_does_not_raise_the_baseline() -> None:
    counts, starts = series()
    counts[-1 - 168] = 300  # last week's same hour was a storm
    assert evaluate_latest(counts, starts).expected == usual(starts[-1])


def test_realistic_noise_gives_no_false_alarm_over_a_week() -> None:
    counts, starts = series(hours=HISTORY_H + 168, noise=True)
    alarms = [
        i
        for i in range(len(counts) - 168, len(counts))
        if evaluate_latest(counts[: i + 1], starts[: i + 1]).is_spike
    ]
    assert alarms == []


@pytest.mark.parametrize(
    ("hours", "expected_reason"),
    [
        (6, "learning the rhythm"),
        (2 * 24, "busiest of the last 12 hours; no daily rhythm known yet"),
        (5 * 24 + 1, "same hour, last 5 days"),
        (2 * 168 + 1, "same hour, last 2 weeks"),
    ],
)
def test_baseline_falls_back_while_history_is_short(hours: int, expected_reason: str) -> None:
    counts, starts = series(hours=hours)
    decision = evaluate_latest(counts, starts)
    assert expected_reason in decision.reasons[0]
    assert not decision.is_spike


def test_first_day_catches_an_outage_but_not_the_morning_rise() -> None:
    counts, starts = series(hours=30)  # starts 18:00 Sunday; the morning rise is 2 -> 10
    morning = [evaluate_latest(counts[: i + 1], starts[: i + 1]) for i in range(12, 18)]
    assert [starts[i].hour for i in (12, 17)] == [6, 11]
    assert not any(d.is_spike for d in morning)
    counts[-1] = 10 * max(counts) + 20
    assert evaluate_latest(counts, starts).is_spike


def test_missing_hours_are_unknown_not_zero() -> None:
    counts, starts = series()
    gone = len(counts) - 1 - 2 * 168  # the same hour two weeks ago
    del counts[gone], starts[gone]
    decision = evaluate_latest(counts, starts)
    assert "last 3 weeks" in decision.reasons[0]
    assert decision.expected == usual(starts[-1])


@pytest.mark.parametrize(
    ("last_spike_hours_ago", "spike"),
    [(None, True), (1, False), (5.9, False), (6, True), (30, True)],
)
def test_cooldown(last_spike_hours_ago: float | None, spike: bool) -> None:
    newest = MONDAY + timedelta(weeks=5, hours=14)
    last = None if last_spike_hours_ago is None else newest - timedelta(hours=last_spike_hours_ago)
    decision = at_hour(14, 90, last_spike_at=last)
    assert decision.is_spike is spike
    assert any("in cooldown" in r for r in decision.reasons) is (not spike)


@pytest.mark.parametrize(
    ("last", "minutes_later", "cooling"),
    [(None, 1, False), (MONDAY, 1, True), (MONDAY, 359, True), (MONDAY, 360, False)],
)
def test_in_cooldown(last: datetime | None, minutes_later: int, cooling: bool) -> None:
    assert in_cooldown(last, MONDAY + timedelta(minutes=minutes_later), 6) is cooling


@pytest.mark.parametrize(
    ("rate", "silent_hours", "drop"),
    [
        (5, 1, False),  # 5 expected: a quiet hour happens
        (5, 2, True),  # 10 expected and nothing came: the source is down
        (50, 1, True),
        (0, 24, False),  # a source that never posts is not "down"
    ],
)
def test_drop_detector(rate: int, silent_hours: int, drop: bool) -> None:
    counts, starts = series(rate=lambda _: rate)
    counts[-silent_hours:] = [0] * silent_hours
    decision = evaluate_latest(counts, starts)
    assert decision.is_drop is drop
    assert decision.silent_hours == (silent_hours if rate else len(counts))
    assert any("check the source" in r for r in decision.reasons) is drop


def test_decision_serialises_and_validates_input() -> None:
    counts, starts = series()
    json.dumps(evaluate_latest(counts, starts).as_dict())
    with pytest.raises(ValueError, match="equally long"):
        evaluate_latest(counts[:-1], starts)


TEXTS = [
    "@Kestrel lost luggage again, 3 days and no answer https://t.co/abc",
    "Kestrel lost luggage and nobody at the desk cares",
    "kestrel LOST LUGGAGE #fail",
    "Lost luggage, lost patience. Kestrel never again",
    "@Kestrel lost luggage again, 3 days and no answer https://t.co/xyz",  # a copy
    "kestrel rude staff at the desk",
    "kestrel staff at the desk were rude #fail",
]
CATEGORIES = ["baggage", "baggage", "baggage", "baggage", "baggage", "staff", None]


def test_explain_spike_names_phrases_categories_and_samples() -> None:
    out = explain_spike(TEXTS, CATEGORIES, ignore=["kestrel"])
    phrases = [(p["phrase"], p["posts"]) for p in out["phrases"]]
    assert phrases[0] == ("lost luggage", 5)  # not "lost" or "luggage" on their own
    assert {("again", 3), ("desk", 3)} <= set(phrases)
    assert not any("kestrel" in p or "http" in p or "t.co" in p for p, _ in phrases)
    assert out["categories"] == [
        {"category": "baggage", "posts": 5},
        {"category": "staff", "posts": 1},
    ]
    assert out["posts"] == 7
    assert len(out["samples"]) == 3
    assert all("lost luggage" in s.casefold() for s in out["samples"])
    assert len({s.split("https")[0] for s in out["samples"]}) == 3  # the copy is left out
    json.dumps(out)


def test_hashtags_are_phrases_and_handles_are_not() -> None:
    out = explain_spike(["@acme down #outage", "@acme #outage again"], [None, None])
    assert out["phrases"] == [{"phrase": "#outage", "posts": 2}]


def test_explain_spike_without_shared_phrases() -> None:
    out = explain_spike(["one thing", "another matter"], [None, None])
    assert out["phrases"] == []
    assert out["categories"] == []
    assert out["samples"] == ["one thing", "another matter"]


def hourly(values: list[float]) -> list[datetime]:
    return [MONDAY + timedelta(hours=h) for h in range(len(values))]


@pytest.mark.parametrize(
    ("values", "peaks"),
    [
        ([5, 5, 6, 5, 5, 40], [5]),
        ([5, 5, 6, 5, 40], [4]),
        ([5, 5, 6, 40], []),  # Huginn needs more than min_events (4) values, the newest included
        ([5, 5, 6, 5, 5, 40, 5, 5, 50], [5]),  # the second peak is within 2 days
        ([5, 5, 6, 5, 5, 40] + [5] * 47 + [50], [5]),  # 48 h later: not yet
        ([5, 5, 6, 5, 5, 40] + [5] * 48 + [50], [5, 54]),  # more than 48 h later
        ([5, 6] * 10 + [6], []),  # not above mean + 3 sd
    ],
)
def test_huginn_peak_detector(values: list[float], peaks: list[int]) -> None:
    assert huginn_peak_detector(values, hourly(values)) == peaks


def test_huginn_forgets_values_older_than_its_window() -> None:
    values = [100.0, 0.0] * 3 + [1.0, 2.0] * 200 + [9.0]  # the early swings leave the window
    assert huginn_peak_detector(values, hourly(values), window_days=7) == [len(values) - 1]
    assert huginn_peak_detector(values, hourly(values), window_days=30) == []
