"""Scale benchmark: the engine's plan against two common alternatives.

    python benchmarks/scale.py --accounts 10000 --reps 50 --time-limit 30
    python benchmarks/scale.py --accounts 100000 --reps 500 --time-limit 600 --skip full-milp

On one seeded synthetic instance (benchmarks/synthetic.py: clustered accounts, lognormal
workloads, bands of 5% on workload and 10% on potential, current owners, 0.5% locked):

- ``engine``: ``territory_planner.plan`` (candidates + priced LP bound + fix-and-finish).
- ``full-milp``: the same formulation over *every* account x rep pair, built with the
  engine's own model builder and handed to HiGHS as one MILP with the same time limit.
- ``kmeans``: k-means-constrained (size-balanced clustering into one cluster per rep, sizes
  within 5% of equal counts), clusters then given to reps by a min-cost matching of cluster
  workload x centroid distance. Locks and current owners are ignored by this method.

Each method runs in its own process (``spawn``), so ``peak MB`` is that method's own
``ru_maxrss`` (or its largest child's: the engine's time-boxed MIP solves run in forks).
Travel cost and the largest balance deviation are computed by evaluate.kpis for all three.
``gap`` is the proven gap (engine: LP bound over all pairs; full MILP: HiGHS's own bound);
k-means proves nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from families import FAMILIES, write_family  # noqa: E402


def _peak_mb() -> float:
    """The method's peak resident memory: its own, or that of the largest process it
    started (the engine solves each MIP in a forked copy of itself, optimize/timebox.py,
    whose resident size counts the pages it shares with the parent too)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024.0


def _evaluate(data, rep_of_account) -> dict:
    from territory_planner.evaluate import assignment_frame, kpis, territory_frame

    metrics = [rule.metric for rule in data.settings.balance]
    assignments = assignment_frame(data.accounts, data.reps, rep_of_account)
    territories = territory_frame(assignments, data.accounts, data.reps, metrics)
    numbers = kpis(assignments, territories, data.accounts, data.settings.balance)
    return {
        "travel_cost": numbers["travel_cost"],
        "max_deviation": {m: numbers["balance"][m]["max_abs_deviation"] for m in metrics},
        "within_bands": all(numbers["balance"][m]["within_band"] for m in metrics),
        "locks_kept": _locks_kept(data, rep_of_account),
    }


def _locks_kept(data, rep_of_account) -> bool:
    locked = data.accounts[data.accounts["locked"]]
    return bool((locked["account_id"].map(rep_of_account) == locked["current_rep_id"]).all())


def run_engine(scenario: str, time_limit: float) -> dict:
    from territory_planner import load_scenario, plan

    started = time.perf_counter()
    data = load_scenario(scenario)
    made = plan(data, time_limit=time_limit)
    seconds = time.perf_counter() - started
    out = _evaluate(data, made.rep_of_account)
    out.update(
        seconds=seconds,
        gap=made.summary["gap"],
        status=made.summary["status"],
        objective=made.summary["objective"],
        bound=made.summary["lower_bound"],
        slowest_phase=_slowest_phase(made.summary["solver"].get("phases", [])),
    )
    return out


def _slowest_phase(phases: list[dict]) -> str | None:
    """The phase that took the most time: phases log their end time, so each one's own
    duration is the step from the one before."""
    best, best_seconds, before = None, -1.0, 0.0
    for phase in phases:
        took = phase["seconds"] - before
        before = phase["seconds"]
        if took > best_seconds:
            best_seconds = took
            best = f"{phase['phase']} {phase.get('scope', '')}".strip() + f" ({took:.1f} s)"
    return best


def run_full_milp(scenario: str, time_limit: float) -> dict:
    import numpy as np
    import pandas as pd

    from territory_planner import build_problem, load_scenario
    from territory_planner.optimize.model import build_assignment_model
    from territory_planner.optimize.strategy import (
        SolveSettings,
        all_allowed_pairs,
        relative_gap,
        run,
    )

    started = time.perf_counter()
    data = load_scenario(scenario)
    problem = build_problem(data)
    pairs = all_allowed_pairs(problem)
    model = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=False, name="full"
    )
    built = time.perf_counter() - started
    outcome = run(
        model,
        SolveSettings(gap=data.settings.solver.gap),
        mip=True,
        time_limit=max(1.0, time_limit - built),
        gap=data.settings.solver.gap,
    )
    seconds = time.perf_counter() - started
    out = {
        "seconds": seconds,
        "build_seconds": built,
        "status": outcome.status,
        "pairs": len(pairs),
    }
    if not outcome.has_solution:
        out.update(travel_cost=None, max_deviation=None, gap=None)
        return out
    values = model.values()
    chosen = values > 0.5
    unit_rep = np.full(problem.n_units, -1)
    unit_rep[pairs.unit[chosen]] = pairs.rep[chosen]
    rep_of_account = pd.Series(
        problem.rep_ids[unit_rep[problem.account_unit]], index=problem.account_ids
    )
    out.update(_evaluate(data, rep_of_account))
    out["gap"] = (
        relative_gap(outcome.objective, outcome.bound) if outcome.bound is not None else None
    )
    return out


def run_kmeans(scenario: str, time_limit: float) -> dict:
    import numpy as np
    import pandas as pd
    from k_means_constrained import KMeansConstrained
    from scipy.optimize import linear_sum_assignment

    from territory_planner import load_scenario
    from territory_planner.geo import distance_matrix_km

    started = time.perf_counter()
    data = load_scenario(scenario)
    accounts = data.accounts
    reps = data.reps[data.reps["status"] != "leaving"].reset_index(drop=True)
    n, k = len(accounts), len(reps)
    lat = accounts["lat"].to_numpy(float)
    lon = accounts["lon"].to_numpy(float)
    # an equal-area-ish plane: degrees of longitude shrink with cos(latitude)
    xy = np.column_stack([lat, lon * np.cos(np.radians(lat.mean()))])
    size = n / k
    model = KMeansConstrained(
        n_clusters=k,
        size_min=int(np.floor(size * 0.95)),
        size_max=int(np.ceil(size * 1.05)),
        random_state=0,
        n_init=1,
        max_iter=50,
    )
    labels = model.fit_predict(xy)
    workload = accounts["workload"].to_numpy(float)
    cost = np.zeros((k, k))
    for c in range(k):
        members = labels == c
        km = distance_matrix_km(
            lat[members], lon[members], reps["lat"].to_numpy(float), reps["lon"].to_numpy(float)
        )
        cost[c] = (km * workload[members][:, None]).sum(axis=0)
    rows, cols = linear_sum_assignment(cost)
    rep_of_cluster = np.empty(k, dtype=object)
    rep_of_cluster[rows] = reps["rep_id"].to_numpy()[cols]
    rep_of_account = pd.Series(rep_of_cluster[labels], index=accounts["account_id"].to_numpy())
    seconds = time.perf_counter() - started
    out = _evaluate(data, rep_of_account)
    out.update(seconds=seconds, gap=None, status="heuristic")
    return out


METHODS = {"engine": run_engine, "full-milp": run_full_milp, "kmeans": run_kmeans}


def _physical_gb() -> float:
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def _child(name: str, scenario: str, time_limit: float, memory_cap_gb: float, queue) -> None:
    # a method that outgrows the cap fails with MemoryError here instead of sending the
    # whole machine into the kernel's out-of-memory killer (the full MILP at 100,000 x 500)
    cap = int(memory_cap_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        result = METHODS[name](scenario, time_limit)
    except Exception as error:  # the benchmark reports a failed method and goes on
        result = {"status": f"failed: {type(error).__name__}: {error}"[:300]}
    result["peak_mb"] = _peak_mb()
    queue.put(result)


def run_method(
    name: str, scenario: str, time_limit: float, wall: float, memory_cap_gb: float
) -> dict:
    import queue as queues

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(
        target=_child, args=(name, scenario, time_limit, memory_cap_gb, results)
    )
    started = time.perf_counter()
    process.start()
    result = None
    while result is None:
        try:
            result = results.get(timeout=2.0)
        except queues.Empty:
            if not process.is_alive():  # died without a word: a crash or the kernel's kill
                result = {"status": f"the process died (exit code {process.exitcode})"}
            elif time.perf_counter() - started > wall:
                process.kill()
                result = {"status": f"did not finish within {wall:.0f} s (killed)"}
    process.join(timeout=10)
    result.setdefault("wall_seconds", time.perf_counter() - started)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--skip", action="append", default=[], choices=list(METHODS))
    parser.add_argument(
        "--wall",
        type=float,
        default=None,
        help="kill a method after this many seconds (default 3 x limit + 120)",
    )
    parser.add_argument(
        "--memory-cap-gb",
        type=float,
        default=round(0.75 * _physical_gb(), 1),
        help="address-space limit of each method's process (default: 75%% "
        "of this machine's memory)",
    )
    parser.add_argument(
        "--family",
        default="clustered",
        choices=list(FAMILIES),
        help="the shape of the data (benchmarks/families.py)",
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the instance is written (default: a temporary folder)",
    )
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tp-scale-"))
    scenario = str(
        write_family(workdir, args.family, args.accounts, args.reps, args.seed, args.time_limit)
    )
    wall = args.wall or 3 * args.time_limit + 120
    print(
        f"instance: {args.family}, {args.accounts:,} accounts x {args.reps} reps "
        f"(seed {args.seed}), "
        f"time limit {args.time_limit:g} s, memory cap {args.memory_cap_gb:g} GB per method, "
        f"{scenario}"
    )
    results = {}
    for name in METHODS:
        if name in args.skip:
            continue
        results[name] = result = run_method(
            name, scenario, args.time_limit, wall, args.memory_cap_gb
        )
        deviation = result.get("max_deviation") or {}
        travel = result.get("travel_cost")
        gap = result.get("gap")
        print(
            f"{name:<10} {result.get('seconds', result['wall_seconds']):8.1f} s  travel "
            f"{travel if travel is None else f'{travel:,.0f}'}  deviation "
            + ", ".join(f"{m} {v:.2%}" for m, v in deviation.items())
            + f"  gap {gap if gap is None else f'{gap:.3%}'}  peak "
            f"{result.get('peak_mb', float('nan')):,.0f} MB  {result.get('status')}"
            + (f"  slowest: {result['slowest_phase']}" if result.get("slowest_phase") else ""),
            flush=True,
        )
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
