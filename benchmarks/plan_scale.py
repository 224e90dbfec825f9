"""Plan benchmark: the engine's strategy against a plain full MILP, side by side, same run.

    python benchmarks/plan_scale.py --sizes 1000x10,10000x50 --time-limit 60

For each size (accounts x reps) a seeded synthetic instance (benchmarks/synthetic.py: two
balance metrics at 5% and 10%, clustered accounts, skewed workloads, owners, a few locks) is
solved twice with the same time limit:
  * engine: sparse candidates + LP with pricing (proven bound) + fix-and-finish + polish;
  * naive:  every (account, rep) pair as a binary in one PuLP model, HiGHS, the same gap
            target and time limit, its own MILP dual bound.
Printed per run: build, solve and total seconds, objective, proven bound, gap, and the
largest balance deviation; then the ratios. Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import make_instance, scenario_dict  # noqa: E402

from territory_planner import build_problem, load_data  # noqa: E402
from territory_planner.evaluate import assignment_frame, kpis, territory_frame  # noqa: E402
from territory_planner.optimize.model import build_assignment_model  # noqa: E402
from territory_planner.optimize.strategy import (  # noqa: E402
    SolveSettings,
    all_allowed_pairs,
    objective_of,
    relative_gap,
    run,
    solve_assignment,
)
from territory_planner.scenario import parse_scenario  # noqa: E402


def deviation(data, problem, unit_rep) -> float:
    import pandas as pd

    rep_of_account = pd.Series(
        problem.rep_ids[unit_rep][problem.account_unit], index=problem.account_ids
    )
    assignments = assignment_frame(data.accounts, data.reps, rep_of_account)
    metrics = [r.metric for r in data.settings.balance]
    territories = territory_frame(assignments, data.accounts, data.reps, metrics)
    numbers = kpis(assignments, territories, data.accounts, data.settings.balance)
    return max(v["max_abs_deviation"] for v in numbers["balance"].values())


def engine(data, time_limit: float, gap: float) -> dict:
    started = time.perf_counter()
    problem = build_problem(data)
    result = solve_assignment(problem, SolveSettings(time_limit=time_limit, gap=gap))
    total = time.perf_counter() - started
    return {
        "method": "engine",
        "total_s": total,
        "objective": result.objective,
        "bound": result.lower_bound,
        "gap": result.gap,
        "max_dev": deviation(data, problem, result.unit_rep),
        "status": result.status,
        "pairs": result.candidate_pairs,
    }


def naive(data, time_limit: float, gap: float) -> dict:
    started = time.perf_counter()
    problem = build_problem(data)
    pairs = all_allowed_pairs(problem)
    model = build_assignment_model(problem, pairs, np.arange(problem.n_units), relax=False)
    built = time.perf_counter() - started
    outcome = run(model, SolveSettings(), mip=True, time_limit=time_limit, gap=gap)
    total = time.perf_counter() - started
    row = {
        "method": "naive full MILP",
        "total_s": total,
        "build_s": built,
        "status": outcome.status,
        "pairs": len(pairs),
    }
    if outcome.has_solution:
        values = model.values()
        unit_rep = np.full(problem.n_units, -1)
        chosen = values > 0.5
        unit_rep[pairs.unit[chosen]] = pairs.rep[chosen]
        objective = objective_of(problem, unit_rep)
        bound = outcome.bound if outcome.bound is not None else float("nan")
        row.update(
            objective=objective,
            bound=bound,
            gap=relative_gap(objective, bound),
            max_dev=deviation(data, problem, unit_rep),
        )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000x10,10000x50")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"{'size':>10} {'method':>16} {'total s':>8} {'objective':>14} {'bound':>14} "
        f"{'gap':>7} {'max dev':>7} {'pairs':>8} status"
    )
    for size in args.sizes.split(","):
        n_acc, n_rep = (int(x) for x in size.lower().split("x"))
        accounts, reps = make_instance(n_acc, n_rep, args.seed)
        data = load_data(parse_scenario(scenario_dict(size)), accounts=accounts, reps=reps)
        rows = [engine(data, args.time_limit, args.gap), naive(data, args.time_limit, args.gap)]
        for row in rows:
            print(
                f"{size:>10} {row['method']:>16} {row['total_s']:8.1f} "
                f"{row.get('objective', float('nan')):14,.0f} "
                f"{row.get('bound', float('nan')):14,.0f} {row.get('gap', float('nan')):7.3%} "
                f"{row.get('max_dev', float('nan')):7.2%} {row['pairs']:8,} {row['status']}",
                flush=True,
            )
        if "objective" in rows[1]:
            speed = rows[1]["total_s"] / rows[0]["total_s"]
            gaps = rows[1]["gap"] / max(rows[0]["gap"], 1e-9)
            print(f"{size:>10} ratio naive/engine: time {speed:.1f}x, gap {gaps:.1f}x", flush=True)
        else:
            print(f"{size:>10} naive found no plan within {args.time_limit:g} s", flush=True)


if __name__ == "__main__":
    main()
