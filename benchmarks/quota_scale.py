"""Quota allocation at scale: 10,000 territories, growth bounds on, both LPs timed.

Run from the repository root:

    PYTHONPATH=src python benchmarks/quota_scale.py [--reps 10000] [--seed 7]

Builds a seeded random per-rep table (lognormal potential, revenue a noisy share of it, one
rep in ten a ramping hire, one in fifty with no history), sets a target 8% above last year's
revenue with growth bounds [0%, +20%], solves with HiGHS and prints the build and solve
seconds of each LP and of the spread step, the total (wall clock and CPU), and the largest
relative deviation with its proven bound. The budget is under 2 s in total. HiGHS runs on
one thread, so on a busy machine the wall clock exceeds the CPU time; the load average is
printed with it.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from territory_planner.optimize.solvers import make_solver
from territory_planner.quota import solve_quotas
from territory_planner.scenario import QuotaSettings

BUDGET_SECONDS = 2.0


def random_table(reps: int, seed: int) -> pd.DataFrame:
    """One row per rep: potential and revenue of its territory, region, status."""
    rng = np.random.default_rng(seed)
    potential = rng.lognormal(mean=14.0, sigma=0.6, size=reps)
    revenue = potential * rng.uniform(0.2, 0.6, size=reps)
    revenue[rng.random(reps) < 0.02] = 0.0
    status = np.where(rng.random(reps) < 0.10, "new", "active")
    return pd.DataFrame(
        {
            "rep_id": [f"R{i:05d}" for i in range(reps)],
            "name": [f"Rep {i}" for i in range(reps)],
            "region_id": rng.choice(["North", "South", "East", "West"], size=reps),
            "status": status,
            "potential": potential,
            "revenue": revenue,
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    table = random_table(args.reps, args.seed)
    target = float(table["revenue"].sum()) * 1.08
    settings = QuotaSettings(
        target=target, method="blend", alpha=0.6, min_growth=0.0, max_growth=0.20, ramp={"new": 0.5}
    )
    solver = make_solver("highs", mip=False, time_limit=60, threads=1, seed=0)

    start, cpu_start = time.perf_counter(), time.process_time()
    plan = solve_quotas(table, settings, solver)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu_start

    t = plan.timings
    # quotas are written to the cent and add up to the target's cents exactly
    quota_cents = int(np.round(plan.frame["quota"].to_numpy() * 100).astype(np.int64).sum())
    target_cents = round(target * 100)
    print(f"reps                      {args.reps:,} (seed {args.seed})")
    print(
        f"target                    {target_cents / 100:,.2f}  (quotas sum to "
        f"{quota_cents / 100:,.2f}, {quota_cents - target_cents:+d} cents)"
    )
    print(f"prepare (shares, checks)  {t['prepare']:.3f} s")
    print(f"LP 1 build / solve        {t['build_lp1']:.3f} s / {t['solve_lp1']:.3f} s")
    print(f"spread levels             {t.get('spread', 0.0):.3f} s")
    print(f"LP 2 build / solve        {t['build_lp2']:.3f} s / {t['solve_lp2']:.3f} s")

    def verdict(seconds: float) -> str:
        return "within" if seconds < BUDGET_SECONDS else "OVER"

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"total                     {total:.3f} s wall ({verdict(total)} "
        f"{BUDGET_SECONDS:.0f} s), {cpu:.3f} s CPU ({verdict(cpu)}); load average "
        f"{load:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"max relative deviation    {plan.max_relative_deviation:.6f}  "
        f"(LP-proven lower bound {plan.lower_bound:.6f})"
    )
    print(f"sum relative deviation    {plan.sum_relative_deviation:.6f}")
    print(
        f"binding growth bounds     min {len(plan.binding['min_growth'])}, "
        f"max {len(plan.binding['max_growth'])}"
    )


if __name__ == "__main__":
    main()
