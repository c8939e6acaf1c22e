"""Storm alerts: is the newest hour's count a jump (or a silence) against the usual rhythm?

Mention volume follows the clock: busy afternoons, quiet nights, slow weekends. A flat
"mean + 3 standard deviations" rule (Huginn's PeakDetectorAgent, kept here as the baseline
for bench/eval_spike.py) counts that rhythm as noise, so it misses a storm at night and
fires on an ordinary Monday afternoon. Here the expected count for an hour is the median of
the same hour of the week over the past `weeks` weeks (the same hour of the past days while
fewer than two weeks are known); a median shrugs off one past storm in its references.

Counts are compared on Anscombe's square-root scale, 2 * sqrt(x + 3/8), where Poisson noise
has variance about 1 whatever the mean, so one band fits quiet nights and busy afternoons
(a plain "expected + 4 * sqrt(expected)" is far too tight at one post an hour, where the
Poisson tail is long). The band is z * sqrt(dispersion), the dispersion being how much
noisier than Poisson the last few days were: the median squared residual of those hours
against their own baselines, divided by 0.455 (the median of a chi-square with one degree
of freedom), at least 1. Back on the count scale that gives the threshold; a spike must also
reach `min_count` posts and `min_ratio` times the expected count, so that 3 posts instead of
1 at 4 a.m. wake nobody.

A drop is a source gone silent: the newest hours are all zero while the baseline expected at
least `drop_min_expected` posts over them, so a 50-posts-an-hour source is flagged after an
hour and a 2-an-hour one after about five.

Stateless: the daemon passes hourly counts (complete buckets, oldest first) and, for the
cooldown, when it last alerted. Everything here is stdlib and pure.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)
CHI2_1_MEDIAN = 0.455
COLD_HOURS = 12  # history needed before a first, rhythm-blind judgement
COLD_Z = 5.0
COLD_RATIO = 3.0


def _root(x: float) -> float:
    """Anscombe's variance-stabilising transform for Poisson counts."""
    return 2.0 * math.sqrt(x + 0.375)


@dataclass(frozen=True, slots=True)
class SpikeDecision:
    is_spike: bool
    is_drop: bool
    observed: int
    expected: float
    threshold: float
    reasons: tuple[str, ...]
    silent_hours: int = 0  # trailing hours with no posts; with is_drop, when the silence began

    def as_dict(self) -> dict[str, object]:
        return {
            "is_spike": self.is_spike,
            "is_drop": self.is_drop,
            "observed": self.observed,
            "expected": round(self.expected, 2),
            "threshold": round(self.threshold, 2),
            "reasons": list(self.reasons),
            "silent_hours": self.silent_hours,
        }


def in_cooldown(last_spike_at: datetime | None, now: datetime, hours: float) -> bool:
    """True while the last spike alert is younger than `hours`."""
    return last_spike_at is not None and now - last_spike_at < timedelta(hours=hours)


def _hours(counts: Sequence[int], starts: Sequence[datetime]) -> dict[int, int]:
    """Counts keyed by hour number; positions when the buckets are contiguous (fast path)."""
    if starts[-1] - starts[0] == (len(starts) - 1) * HOUR:
        return dict(enumerate(counts))
    first = starts[0]
    return {(s - first) // HOUR: c for s, c in zip(starts, counts, strict=True)}


def _baseline(counts: Mapping[int, int], at: int, weeks: int) -> tuple[float, int, str] | None:
    """Expected count for hour `at` from earlier hours, and from how many weeks or days."""
    same_hour = [counts[h] for w in range(1, weeks + 1) if (h := at - 168 * w) in counts]
    if len(same_hour) >= 2:
        return statistics.median(same_hour), len(same_hour), "weeks"
    daily = [counts[h] for d in range(1, 8) if (h := at - 24 * d) in counts]
    if len(daily) >= 3:
        return statistics.median(daily), len(daily), "days"
    return None


def _cold_baseline(counts: Mapping[int, int], at: int) -> tuple[float, int, str] | None:
    """Before three days are known: the busiest of the previous `COLD_HOURS` hours.

    It knows no daily rhythm, so the reference is the busiest recent hour and
    `evaluate_latest` asks for `COLD_RATIO` times it beyond a wider band (`COLD_Z`): a normal
    morning or afternoon rise stays quiet, and a new install still catches an outage storm.
    """
    recent = [counts[h] for h in range(at - COLD_HOURS, at) if h in counts]
    if len(recent) < COLD_HOURS:
        return None
    return float(max(recent)), len(recent), "hours"


def _dispersion(counts: Mapping[int, int], newest: int, hours: int, weeks: int) -> float:
    """How much noisier than Poisson the recent hours were, at least 1 (see module doc)."""
    residuals = []
    for at in range(newest - hours, newest):
        base = _baseline(counts, at, weeks) if at in counts else None
        if base is not None:
            residuals.append((_root(counts[at]) - _root(base[0])) ** 2)
    if not residuals:
        return 1.0
    return min(25.0, max(1.0, statistics.median(residuals) / CHI2_1_MEDIAN))


def _silence(counts: Mapping[int, int], newest: int, weeks: int) -> tuple[int, float]:
    """Hours of trailing zeros and the posts the baseline expected over them."""
    hours, expected = 0, 0.0
    while counts.get(newest - hours) == 0:
        base = _baseline(counts, newest - hours, weeks)
        hours, expected = hours + 1, expected + (base[0] if base else 0.0)
    return hours, expected


def evaluate_latest(
    counts: Sequence[int],
    bucket_starts: Sequence[datetime],
    *,
    min_count: int = 5,
    z: float = 3.5,
    min_ratio: float = 1.5,
    weeks: int = 4,
    dispersion_hours: int = 72,
    drop_min_expected: float = 10.0,
    last_spike_at: datetime | None = None,
    cooldown_hours: float = 6.0,
) -> SpikeDecision:
    """Judge the newest hourly bucket against its seasonal baseline.

    `bucket_starts` are the (UTC, hour-aligned, increasing) starts of the buckets in
    `counts`; a missing hour is unknown, not zero (pass zeros for hours without posts).
    Pass at least `weeks` weeks plus `dispersion_hours` of history for the full baseline.
    A spike inside the cooldown after `last_spike_at` is reported as not a spike, with the
    reason, so one storm makes one alert.
    """
    if len(counts) != len(bucket_starts) or not counts:
        raise ValueError("counts and bucket_starts must be equally long and not empty")
    table = _hours(counts, bucket_starts)
    newest, observed = bucket_starts[-1], counts[-1]
    last = max(table)
    base = _baseline(table, last, weeks)
    basis = "same hour, last {refs} {unit}"
    if base is None:
        base = _cold_baseline(table, last)
        z, min_ratio = max(z, COLD_Z), max(min_ratio, COLD_RATIO)
        basis = "busiest of the last {refs} {unit}; no daily rhythm known yet"
    if base is None:
        reason = f"learning the rhythm: {len(counts)} h of history, need {COLD_HOURS} h"
        return SpikeDecision(False, False, observed, 0.0, 0.0, (reason,))
    expected, refs, unit = base
    dispersion = _dispersion(table, last, dispersion_hours, weeks)
    band = (_root(expected) + z * math.sqrt(dispersion)) ** 2 / 4.0 - 0.375
    threshold = max(float(min_count), band, min_ratio * expected)
    reasons = [
        f"{observed} posts in the hour from {newest:%a %H:00} UTC; expected {expected:.1f} "
        f"({basis.format(refs=refs, unit=unit)})"
    ]

    is_spike = observed >= threshold
    if is_spike:
        ratio = f"{observed / expected:.1f}x the usual" if expected else "none usually"
        reasons.append(f"above the threshold {threshold:.1f}: {ratio}")
        if in_cooldown(last_spike_at, newest, cooldown_hours):
            is_spike = False
            reasons.append(f"in cooldown: last spike alert at {last_spike_at:%a %H:%M} UTC")

    silent_hours, silent_expected = _silence(table, last, weeks)
    is_drop = silent_expected >= drop_min_expected
    if is_drop:
        reasons.append(
            f"silent for {silent_hours} h where {silent_expected:.0f} posts were expected: "
            "check the source"
        )
    return SpikeDecision(
        is_spike, is_drop, observed, expected, threshold, tuple(reasons), silent_hours
    )


_FILLERS = """a an the and or but so to of in on at for with from by as if is are was were be been
    being am it its it's this that these those i i'm im me my mine you you're your we our us
    they their them he she his her there here what which who when how do does did doing have
    has had having will would can could should just about up out into than then too very
    also get got rt amp via u ur"""
STOPWORDS = frozenset(_FILLERS.split())
_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_TOKEN = re.compile(r"#?[\w']+")


def _ngrams(text: str, ignore: Collection[str]) -> set[tuple[str, ...]]:
    """Distinct 1-3 word phrases of a post that neither start nor end with a filler word."""
    text = _HANDLE.sub(" ", _URL.sub(" ", text.casefold()))
    words = [w.strip("'") for w in _TOKEN.findall(text)]
    out = set()
    for n in (1, 2, 3):
        for i in range(len(words) - n + 1):
            gram = tuple(words[i : i + n])
            if not any(w in STOPWORDS or w in ignore or not w for w in (gram[0], gram[-1])):
                out.add(gram)
    return out


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return n < len(longer) and any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _top_phrases(
    grams: Sequence[set[tuple[str, ...]]], top: int
) -> list[tuple[tuple[str, ...], int]]:
    """The phrases most posts share, counted once per post, in the longest wording that fits.

    A longer phrase replaces the shorter ones it contains when it covers at least 80% of
    their posts ("lost luggage" over "luggage"); parts of a chosen phrase are skipped, and a
    phrase must be in at least two posts.
    """
    df = Counter(gram for post in grams for gram in post)
    chosen: list[tuple[str, ...]] = []
    for gram, count in sorted(df.items(), key=lambda kv: (-kv[1], -len(kv[0]), kv[0])):
        if count < 2:
            break
        if any(_contains(c, gram) for c in chosen):
            continue
        inside = [c for c in chosen if _contains(gram, c)]
        if not inside and len(chosen) < top:
            chosen.append(gram)
        elif inside and all(count >= 0.8 * df[c] for c in inside):
            first = chosen.index(inside[0])
            chosen = [
                gram if i == first else c for i, c in enumerate(chosen) if c not in inside[1:]
            ]
    return [(gram, df[gram]) for gram in chosen]


def explain_spike(
    texts: Sequence[str],
    categories: Sequence[str | None],
    *,
    top: int = 5,
    samples: int = 3,
    ignore: Collection[str] = (),
) -> dict[str, object]:
    """What a spike is about: top phrases, complaint categories and a few distinct posts.

    `ignore` holds words every post shares (the brand's terms) so they do not top the list.
    Samples are distinct posts, those with the top phrase first. Texts are returned as they
    are: whoever renders them (Slack, HTML) escapes them.
    """
    skip = {w.casefold() for w in ignore}
    grams = [_ngrams(text, skip) for text in texts]
    phrases = _top_phrases(grams, top)
    lead = phrases[0][0] if phrases else ()
    picked: dict[str, str] = {}
    for i in sorted(range(len(texts)), key=lambda i: lead not in grams[i]):
        key = " ".join(_URL.sub("", texts[i]).casefold().split())
        if len(picked) < samples and key and key not in picked:
            picked[key] = texts[i]
    counted = Counter(c for c in categories if c)
    return {
        "posts": len(texts),
        "phrases": [{"phrase": " ".join(p), "posts": n} for p, n in phrases],
        "categories": [{"category": c, "posts": n} for c, n in counted.most_common(top)],
        "samples": list(picked.values()),
    }


def huginn_peak_detector(
    values: Sequence[float],
    times: Sequence[datetime],
    *,
    window_days: float = 14.0,
    std_multiple: float = 3.0,
    min_events: int = 4,
    min_peak_spacing_days: float = 2.0,
) -> list[int]:
    """Indices where Huginn's PeakDetectorAgent would fire, fed the series in order.

    Its rule (app/models/agents/peak_detector_agent.rb): keep the values of the last
    `window_days`; once more than `min_events` are kept and the last peak is older than
    `min_peak_spacing_days`, fire when the newest value exceeds the mean plus `std_multiple`
    population standard deviations of the others. For the evaluation only.
    """
    window, spacing = timedelta(days=window_days), timedelta(days=min_peak_spacing_days)
    peaks: list[int] = []
    start, total, squares = 0, 0.0, 0.0
    for i, (value, at) in enumerate(zip(values, times, strict=True)):
        while times[start] <= at - window:
            total, squares, start = total - values[start], squares - values[start] ** 2, start + 1
        kept = i - start  # values before the newest still in the window
        if kept + 1 > min_events and (not peaks or times[peaks[-1]] < at - spacing):
            mean = total / kept
            std = max(squares / kept - mean * mean, 0.0) ** 0.5
            if value > mean + std_multiple * std:
                peaks.append(i)
        total, squares = total + value, squares + value**2
    return peaks
