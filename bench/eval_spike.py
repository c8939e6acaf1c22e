"""Storm (spike) and silence (drop) detection on synthetic hourly counts, against Huginn.

Each series is a brand's hourly complaint count over 10 weeks: a level between 0.5 and 40
posts/hour (log-uniform), a daily cycle (amplitude 40-90%, peak between 09:00 and 21:00),
weekends at 40-120% of weekdays, weekday wobble of +-15%, a trend of -30%..+40% over the
period, and gamma-Poisson noise (negative binomial, shape 5-50: burstier than Poisson).
Injected into it:
- storms, about one per 5 days: 1-6 hours long, rising to a peak of max(10, r x the usual
  count) extra posts with r log-uniform in 1..5, then decaying;
- outages, about one per 3 weeks, away from storms: the source returns nothing for 2-12 h.
The first 4 weeks are history only; alerts and storms are scored over weeks 5-10.

An alert inside a storm's hours is a true positive, any other is a false one; a storm is
found if an alert falls in its hours, and the delay counts buckets from its first hour.
Huginn's PeakDetectorAgent runs with its defaults (14-day window, 3 standard deviations,
2 days between peaks) and, to show no setting of it wins on both counts, with 2 and 4.

    .venv/bin/python -m bench.eval_spike        # ~30 s
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from rules.spike import evaluate_latest, huginn_peak_detector

SERIES = 30
WEEKS = 10
WARMUP = 4 * 168
HISTORY = 4 * 168 + 72 + 24  # what the daemon passes: 4 weeks, the dispersion window, slack
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
SEED = 3
Z_SWEEP = (3.0, 4.0, 3.5)  # the default last
DEFAULT_Z = 3.5
STORM_SHAPE = (0.6, 1.0, 0.7, 0.5, 0.35, 0.25)


@dataclass(frozen=True, slots=True)
class Series:
    usual: np.ndarray  # the mean count of each hour before storms and outages
    counts: np.ndarray
    storms: list[tuple[int, int]]  # [start, end) bucket indices
    outages: list[tuple[int, int]]


def make_series(rng: np.random.Generator) -> Series:
    hours = WEEKS * 168
    t = np.arange(hours)
    hour, day = t % 24, (t // 24) % 7
    daily = 1 + rng.uniform(0.4, 0.9) * np.cos(2 * np.pi * (hour - rng.uniform(9, 21)) / 24)
    weekday = np.r_[1 + rng.uniform(-0.15, 0.15, 5), np.full(2, rng.uniform(0.4, 1.2))]
    trend = np.linspace(1.0, rng.uniform(0.7, 1.4), hours)
    usual = math.exp(rng.uniform(math.log(0.5), math.log(40))) * daily * weekday[day] * trend
    shape = rng.uniform(5, 50)
    counts = rng.poisson(usual * rng.gamma(shape, 1 / shape, hours))

    storms: list[tuple[int, int]] = []
    busy = np.zeros(hours, bool)
    for start in np.sort(rng.integers(0, hours - 6, rng.poisson(hours / 120))):
        length = int(rng.integers(1, 7))
        if busy[max(0, start - 12) : start + length].any():
            continue
        profile = np.array(STORM_SHAPE[:length]) if length > 1 else np.array([1.0])
        peak = max(10.0, math.exp(rng.uniform(0, math.log(5))) * usual[start + profile.argmax()])
        counts[start : start + length] += rng.poisson(peak * profile)
        storms.append((int(start), int(start + length)))
        busy[start : start + length] = True

    outages: list[tuple[int, int]] = []
    for start in rng.integers(0, hours - 12, rng.poisson(hours / (21 * 24))):
        end = int(start + rng.integers(2, 13))
        if not busy[max(0, start - 12) : end + 12].any():
            counts[start:end] = 0
            outages.append((int(start), end))
            busy[start:end] = True
    return Series(usual, counts, storms, outages)


@dataclass
class Score:
    alerts: int = 0
    true_alerts: int = 0
    storms: int = 0
    found: int = 0
    delays: list[int] | None = None

    def add(self, alerts: list[int], series: Series) -> None:
        self.delays = self.delays if self.delays is not None else []
        spans = [(a, b) for a, b in series.storms if a >= WARMUP]
        inside = np.zeros(len(series.counts), bool)
        for a, b in series.storms:
            inside[a:b] = True
        scored = [i for i in alerts if i >= WARMUP]
        self.alerts += len(scored)
        self.true_alerts += int(sum(inside[i] for i in scored))
        self.storms += len(spans)
        for a, b in spans:
            hits = [i for i in scored if a <= i < b]
            if hits:
                self.found += 1
                self.delays.append(hits[0] - a)

    def row(self, label: str, weeks: float) -> str:
        delays = np.array(self.delays or [0])
        precision = self.true_alerts / max(self.alerts, 1)
        return (
            f"{label:<34}{precision:>10.3f}{self.found / max(self.storms, 1):>8.3f}"
            f"{delays.mean():>8.2f}{np.median(delays):>7.0f}"
            f"{(delays <= 1).mean():>8.0%}{(self.alerts - self.true_alerts) / weeks:>9.2f}"
        )


def brandmon(series: Series, starts: list[datetime], z: float) -> tuple[list[int], list[int]]:
    """Spike alerts (with the default cooldown) and the first hour of each drop alert."""
    spikes: list[int] = []
    drops: list[int] = []
    last: datetime | None = None
    was_drop = False
    counts = series.counts.tolist()
    for i in range(WARMUP, len(counts)):
        lo = max(0, i + 1 - HISTORY)
        d = evaluate_latest(counts[lo : i + 1], starts[lo : i + 1], z=z, last_spike_at=last)
        if d.is_spike:
            spikes.append(i)
            last = starts[i]
        if d.is_drop and not was_drop:
            drops.append(i)
        was_drop = d.is_drop
    return spikes, drops


def main() -> None:
    began = time.perf_counter()
    rng = np.random.default_rng(SEED)
    starts = [START + timedelta(hours=h) for h in range(WEEKS * 168)]
    ours = {z: Score() for z in Z_SWEEP}
    huginn = {k: Score() for k in (2.0, 3.0, 4.0)}
    outages: list[tuple[float, int | None]] = []  # (posts expected, hours to the drop alert)
    false_drops = 0
    for _ in range(SERIES):
        series = make_series(rng)
        for k, score in huginn.items():
            score.add(huginn_peak_detector(series.counts.tolist(), starts, std_multiple=k), series)
        for z, score in ours.items():
            spikes, drops = brandmon(series, starts, z)
            score.add(spikes, series)
        # drops do not depend on z: these are from the last (default) run
        for a, b in series.outages:
            if a >= WARMUP:
                hits = [i - a + 1 for i in drops if a <= i < b]
                outages.append((float(series.usual[a:b].sum()), hits[0] if hits else None))
        false_drops += sum(1 for i in drops if not any(a <= i < b for a, b in series.outages))

    weeks = SERIES * (WEEKS - WARMUP / 168)
    storms = ours[DEFAULT_Z].storms
    print(
        f"{SERIES} synthetic hourly series x {WEEKS} weeks (seed {SEED}), scored over weeks "
        f"5-{WEEKS}: {storms} storms, {len(outages)} outages.\n"
    )
    header = f"{'spike detector':<34}{'precision':>10}{'recall':>8}{'delay':>8}{'median':>7}"
    print(header + f"{'<=1 h':>8}{'false/wk':>9}")
    for k, score in huginn.items():
        print(score.row(f"Huginn mean + {k:g} sd" + (" (default)" if k == 3.0 else ""), weeks))
    for z, score in ours.items():
        print(score.row(f"brandmon z {z:g}" + (" (default)" if z == DEFAULT_Z else ""), weeks))
    print(
        "target: higher precision than Huginn's default at equal or better recall; delay <= 1.\n"
        "delay: buckets from a storm's first hour to its first alert (0 = that same hour); "
        "false/wk: false alerts per series-week"
    )
    expected = np.array([e for e, _ in outages])
    found = np.array([d is not None for _, d in outages])
    delays = np.array([d for _, d in outages if d is not None] or [0])
    worth = expected >= 10
    print(
        f"\ndrop detector: {found.sum()}/{len(outages)} outages found "
        f"({found[worth].sum()}/{worth.sum()} of those where >= 10 posts were expected); "
        f"alert {np.median(delays):.0f} h (median), at most {delays.max()} h into the silence; "
        f"{false_drops} false drop alerts ({false_drops / weeks:.3f} per series-week)"
    )
    print(f"({time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
