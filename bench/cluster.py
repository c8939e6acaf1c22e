"""Three daemons on one PostgreSQL database, one of them SIGKILLed mid-run.

    BRANDMON_TEST_POSTGRES_URL=postgresql+psycopg://... \\
        python3 dev.py shell bench/cluster.py [--daemons 3] [--brands 6] [--seconds 60]

Real `brandmon run` processes poll 2 sources per brand (X and Reddit, local fakes) and send
to a local fake Slack. Posts arrive steadily; a third of the way in, the daemon holding the
most leases is killed (SIGKILL). Printed: mentions lost, Slack messages duplicated, failover
time (kill until every source it polled has a new holder; the lease is 30 s) and throughput:
seconds from a burst of posts until all are stored and alerted, these daemons against one
daemon measured in the same run on a fresh schema.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cluster_rig import BRANDS, Cluster, cluster

SETTLE_SECONDS = 420.0  # a claim left by a daemon killed mid-send runs out after 300 s


def wait_started(rig: Cluster, sources: int) -> None:
    """Until every source's lease is held (all daemons migrated and polling)."""
    while True:
        held = rig.holders({f"source:{name}" for name in _sources(rig)})
        if len(held) >= sources:
            return
        time.sleep(0.2)


def _sources(rig: Cluster) -> list[str]:
    return [f"{net}-{b.lower()}" for b in rig.brands for net in ("x", "reddit")]


def taken_over(rig: Cluster, orphaned: set[str], pid: int, killed_at: float) -> float:
    """Seconds since the kill once every lease the dead daemon held has a new holder."""
    holders = rig.holders(orphaned)
    if len(holders) == len(orphaned) and all(h.split(":")[1] != str(pid) for h in holders.values()):
        return time.monotonic() - killed_at
    return float("nan")


def failover_run(workdir: Path, daemons: int, brands: list[str], seconds: float) -> None:
    with cluster(workdir, brands=brands, interval=2.0) as rig:
        for _ in range(daemons):
            rig.start()
        wait_started(rig, 2 * len(brands))
        started = time.monotonic()
        victim, orphaned, killed_at = None, set(), 0.0
        failover = float("nan")
        while time.monotonic() - started < seconds:
            for brand in brands:
                rig.publish(brand, 2)
            if victim is None and time.monotonic() - started > seconds / 3:
                victim = max(rig.alive(), key=lambda p: len(rig.leases_of(p.pid)))
                orphaned = {n for n in rig.leases_of(victim.pid) if n.startswith("source:")}
                rig.kill(victim)
                killed_at = time.monotonic()
            if victim is not None and failover != failover:  # still NaN: not yet taken over
                failover = taken_over(rig, orphaned, victim.pid, killed_at)
            time.sleep(1.0)
        while failover != failover and time.monotonic() - killed_at < 120:
            failover = taken_over(rig, orphaned, victim.pid, killed_at) if victim else 0.0
            time.sleep(0.2)
        settle = rig.wait_settled(SETTLE_SECONDS)
        figures = rig.figures()
        rig.stop_all()
    print(f"failover run: {daemons} daemons, {len(brands)} brands, {2 * len(brands)} sources,")
    print(f"  posts for {seconds:.0f} s, one daemon SIGKILLed at {seconds / 3:.0f} s")
    print(f"  posts published             {figures.published}")
    print(f"  mentions lost               {figures.lost}")
    print(f"  alerts                      {figures.alerts} ({figures.delivered} in Slack)")
    print(f"  Slack messages duplicated   {figures.duplicated}")
    print(f"  alerts failed / pending     {figures.failed} / {figures.pending}")
    print(f"  failover time               {failover:.1f} s for its {len(orphaned)} sources")
    print(f"  settled after the feed      {settle:.1f} s")


def burst_seconds(workdir: Path, daemons: int, brands: list[str], posts: int) -> float:
    """Seconds from a burst of `posts` per brand and network until stored and alerted."""
    with cluster(workdir, brands=brands, interval=1.0) as rig:
        for _ in range(daemons):
            rig.start()
        wait_started(rig, 2 * len(brands))
        for brand in brands:  # a first poll reads one page and no further back (by design)
            rig.publish(brand, 1)
        rig.wait_settled(SETTLE_SECONDS)
        for brand in brands:
            rig.publish(brand, posts)
        took = rig.wait_settled(SETTLE_SECONDS)
        figures = rig.figures()
        rig.stop_all()
    if figures.lost or figures.pending:
        sys.exit(f"burst with {daemons} daemon(s) did not settle: {figures}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--daemons", type=int, default=3)
    parser.add_argument("--brands", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--burst", type=int, default=200, help="posts per brand and network")
    args = parser.parse_args()
    brands = BRANDS[: args.brands]
    with tempfile.TemporaryDirectory(prefix="brandmon-cluster-") as tmp:
        failover_run(Path(tmp) / "failover", args.daemons, brands, args.seconds)
        total = args.burst * len(brands) * 2
        many = burst_seconds(Path(tmp) / "many", args.daemons, brands, args.burst)
        one = burst_seconds(Path(tmp) / "one", 1, brands, args.burst)
    print(f"throughput: a burst of {total} posts until all stored and alerted in Slack")
    print(f"  {args.daemons} daemons  {many:6.1f} s  {total / many:7.0f} posts/s")
    print(f"  1 daemon   {one:6.1f} s  {total / one:7.0f} posts/s  (baseline, same run)")


if __name__ == "__main__":
    main()
