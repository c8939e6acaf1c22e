"""`brandmon viral`: run the viral-risk model over an export of cascades, checkpoint by checkpoint.

For each cascade and each engagement checkpoint it writes what the daemon would have said
then: engagement so far, projected 7-day engagement, risk score, whether an alert fires, and
why, beside the cascade's real 7-day count, so a team can check the model on its own history
before trusting its alerts. What is "usual" is learned from a history file of cascades with
known outcomes (by default the input itself, as a deployment that had seen these posts would
know them; `--prior` uses only the published prior).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from monitor.cascades import POSTED, read_cascades
from monitor.config import EngagementConfig
from rules.viral import PRIOR, Baseline, assess_risk, learn_baseline
from rules.viral_growth import HORIZON_S

DEFAULT_THRESHOLD = 60.0  # monitor/config.py's alerting.risk_threshold


def baseline_from(path: Path, checkpoints_minutes: Sequence[float]) -> Baseline:
    """The baseline learned from every cascade in `path`."""
    return learn_baseline([c.example(checkpoints_minutes) for c in read_cascades(path)])


def run_viral(
    source: Path,
    target: Path,
    *,
    history: Path | None,
    threshold: float = DEFAULT_THRESHOLD,
    checkpoints_minutes: Sequence[float] | None = None,
) -> int:
    """Write one JSON line per cascade and checkpoint to `target`; returns cascades read.

    The whole input is validated before `target` is written, so a bad line leaves no half
    output behind.
    """
    minutes = [
        m
        for m in (checkpoints_minutes or EngagementConfig().checkpoints_minutes)
        if m * 60.0 < HORIZON_S
    ]
    cascades = list(read_cascades(source))
    baseline = baseline_from(history, minutes) if history is not None else PRIOR
    with target.open("w", encoding="utf-8") as out:
        for cascade in cascades:
            snaps = cascade.snapshots(minutes)
            final = cascade.total(HORIZON_S)
            for k, m in enumerate(minutes):
                risk = assess_risk(
                    posted_at=POSTED,
                    snapshots=snaps[: k + 1],
                    author_followers=cascade.author_followers,
                    now=snaps[k].at,
                    baseline=baseline,
                )
                row = {
                    "cascade": cascade.id,
                    "minutes": m,
                    "engagement": risk.current,
                    "projected_final": round(risk.projected_final, 1),
                    "score": round(risk.score, 1),
                    "alert": risk.score >= threshold,
                    "final_7d": final,
                    "reasons": list(risk.reasons),
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(cascades)
