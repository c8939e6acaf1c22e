"""A fault soak: three daemons on PostgreSQL through Slack down, 429 storms, a failing
source, poison posts and SIGKILLs, all at once and in turn.

    BRANDMON_TEST_POSTGRES_URL=postgresql+psycopg://... \\
        python3 dev.py shell bench/fault_soak.py [--seconds 120] [--brands 4] [--kills 4]

Real `brandmon run` processes against local fake X, Reddit and Slack servers; posts arrive
every second. The run is cut in phases: Slack answering 503 to every call, then 429 with
Retry-After 2 to every call, then Reddit's search failing with 503, with poison posts (a lone
surrogate and a NUL in the text) mixed in throughout and a random daemon SIGKILLed and
restarted every `--seconds / --kills`. Afterwards every fault is lifted and the cluster given
time to settle. Printed: lost (published, never stored), duplicated (Slack messages for an
alert already in Slack) and failed (alerts marked failed) counts: targets 0, beside the same
counts for a run without faults in the same invocation.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cluster import SETTLE_SECONDS, wait_started
from bench.cluster_rig import BRANDS, SLACK_DOWN, SLACK_STORM, Cluster, Figures, cluster


def phase(rig: Cluster, fraction: float) -> str:
    """The fault for this part of the run (the last fifth has none, to see recovery)."""
    if fraction < 0.2:
        rig.slack.outage, rig.reddit.failing = SLACK_DOWN, False
        return "slack down"
    if fraction < 0.4:
        rig.slack.outage, rig.reddit.failing = SLACK_STORM, False
        return "429 storm"
    if fraction < 0.6:
        rig.slack.outage, rig.reddit.failing = None, True
        return "source failing"
    if fraction < 0.8:
        rig.slack.outage, rig.reddit.failing = SLACK_DOWN, True
        return "slack down + source failing"
    rig.slack.outage, rig.reddit.failing = None, False
    return "none"


def soak(
    workdir: Path, brands: list[str], seconds: float, kills: int, *, faults: bool
) -> tuple[Figures, int, float]:
    rng = random.Random(13)
    with cluster(workdir, brands=brands, interval=2.0) as rig:
        for _ in range(3):
            rig.start()
        wait_started(rig, 2 * len(brands))
        started, killed = time.monotonic(), 0
        next_kill = seconds / (kills + 1)
        while (elapsed := time.monotonic() - started) < seconds:
            if faults:
                phase(rig, elapsed / seconds)
                rig.publish(rng.choice(brands), 1, poison=True)
                if killed < kills and elapsed >= next_kill * (killed + 1):
                    rig.kill(rng.choice(rig.alive()))
                    rig.start()
                    killed += 1
            for brand in brands:
                rig.publish(brand, 1)
            time.sleep(1.0)
        rig.slack.outage, rig.reddit.failing = None, False
        settle = rig.wait_settled(SETTLE_SECONDS)
        figures = rig.figures()
        rig.stop_all()
    return figures, killed, settle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--brands", type=int, default=4)
    parser.add_argument("--kills", type=int, default=4)
    args = parser.parse_args()
    brands = BRANDS[: args.brands]
    with tempfile.TemporaryDirectory(prefix="brandmon-soak-") as tmp:
        soaked, killed, settle = soak(
            Path(tmp) / "faults", brands, args.seconds, args.kills, faults=True
        )
        calm, _, calm_settle = soak(Path(tmp) / "calm", brands, args.seconds, 0, faults=False)
    print(
        f"fault soak: 3 daemons, {len(brands)} brands, {2 * len(brands)} sources, "
        f"{args.seconds:.0f} s; {killed} SIGKILLs; Slack down, 429 storm, Reddit failing, "
        "poison posts (targets: 0)"
    )
    print(f"{'':24}{'faults':>10}{'no faults':>12}")
    rows = [
        ("posts published", soaked.published, calm.published),
        ("alerts", soaked.alerts, calm.alerts),
        ("lost", soaked.lost, calm.lost),
        ("duplicated", soaked.duplicated, calm.duplicated),
        ("failed", soaked.failed, calm.failed),
        ("still pending", soaked.pending, calm.pending),
        ("alerts not in Slack", soaked.alerts - soaked.delivered, calm.alerts - calm.delivered),
    ]
    for name, faulty, baseline in rows:
        print(f"{name:24}{faulty:>10}{baseline:>12}")
    print(f"{'settled after (s)':24}{settle:>10.1f}{calm_settle:>12.1f}")


if __name__ == "__main__":
    main()
