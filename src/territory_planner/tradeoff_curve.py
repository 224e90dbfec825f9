"""The trade-off curve of a re-balance: for a few disruption budgets, the best balance.

For each budget, ``min z`` subject to ``|load[m, j] - target[m, j]| <= z * target[m, j]`` for
every rep and balance metric, the rules, and the budget (optimize/tradeoff.py). Budgets are
solved in increasing order, each warm-started from the previous plan (which stays feasible
when the budget grows), and a plan that comes out worse than the previous one is replaced by
it, so the curve is non-increasing by construction. Budgets below the potential the
departures alone force to move (:func:`forced_moved_potential`) cannot be met.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from .optimize.model import read_assignment, set_start
from .optimize.pairs import all_allowed_pairs
from .optimize.results import relative_gap
from .optimize.settings import TINY, SolveSettings
from .optimize.solvers import run
from .optimize.tradeoff import build_tradeoff_model, largest_deviation
from .problem import PlanningProblem

#: disruption budgets (share of potential) of the default trade-off curve
TRADEOFF_BUDGETS = (0.0, 0.02, 0.05, 0.10, 0.20)


def forced_moved_potential(problem: PlanningProblem) -> float:
    """Potential that must change owner whatever the plan: for each unit, the least it moves
    over the reps it may go to (all of it when its owner leaves; 0 when the owner may keep it)."""
    forced = 0.0
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        moved = np.where(allowed, PlanningProblem.moved_potential_block(problem, units), np.inf)
        least = moved.min(axis=1)
        forced += float(least[np.isfinite(least)].sum())
    return forced


def _plan_of(problem: PlanningProblem, pairs, chosen: np.ndarray) -> np.ndarray:
    """The rep of each unit in the plan the ``chosen`` pairs (a mask) make."""
    unit_rep = np.full(problem.n_units, -1, dtype=int)
    unit_rep[pairs.unit[chosen]] = pairs.rep[chosen]
    return unit_rep


def tradeoff_curve(
    problem: PlanningProblem,
    budgets: list[float],
    settings: SolveSettings,
    progress: Callable[[str], None] | None = None,
    start: np.ndarray | None = None,
) -> pd.DataFrame:
    """tradeoff.csv: moved_share_budget, moved_share, max_deviation, bound, gap, status.

    Budgets below the share the departures force are reported ``infeasible`` without a solve.
    The forced share itself is always one of the points (the least disruption possible).
    ``start`` (rep position per unit, e.g. the re-balanced plan) is a known plan: from the
    first budget it fits, it warm-starts the solve and is kept when the solve ends worse.
    Each solve gets ``settings.time_limit`` / (number of budgets solved), at least 2 s.
    """
    say = progress or (lambda message: None)
    total = float(problem.account_potential.sum())
    forced = forced_moved_potential(problem)
    forced_share = forced / total if total > 0 else 0.0
    shares = sorted({round(float(b), 9) for b in budgets} | {round(forced_share, 9)})
    pairs = all_allowed_pairs(problem)
    feasible = [s for s in shares if s >= forced_share - TINY]
    per_budget = max(2.0, settings.time_limit / max(len(feasible), 1))
    seed = seed_moved = None
    seed_value = math.inf
    if start is not None:
        seed = pairs.rep == np.asarray(start)[pairs.unit]
        if int(seed.sum()) == problem.n_units:
            seed_moved = float(pairs.moved[seed].sum())
            seed_value = largest_deviation(problem, pairs, seed)
        else:  # the plan uses a pair the rules forbid: not a valid start
            seed = None
    rows = []
    incumbent: np.ndarray | None = None  # best plan known within the current budget
    incumbent_value = math.inf
    for share in shares:
        if share < forced_share - TINY:
            rows.append(
                {
                    "moved_share_budget": share,
                    "moved_share": None,
                    "max_deviation": None,
                    "bound": None,
                    "gap": None,
                    "status": f"infeasible (departures alone move {forced_share:.2%} of potential)",
                }
            )
            continue
        # a hair above the share, so the forced point is not lost to rounding
        # (the forced share is rounded to 9 digits in the table, never below the forced moves)
        budget = max(share * total, forced) * (1 + TINY) + TINY if total > 0 else None
        if (
            seed is not None
            and seed_value < incumbent_value
            and (budget is None or seed_moved <= budget)
        ):
            incumbent, incumbent_value = seed, seed_value
        model, z = build_tradeoff_model(problem, pairs, budget)
        if incumbent is not None:
            set_start(model, _plan_of(problem, pairs, incumbent))
            z.setInitialValue(incumbent_value)
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=per_budget,
            gap=settings.gap,
            warm_start=incumbent is not None,
        )
        status = outcome.status
        chosen = None
        if outcome.has_solution:
            unit_rep, _ = read_assignment(model, problem.n_units)
            chosen = pairs.rep == unit_rep[pairs.unit]
        value = largest_deviation(problem, pairs, chosen) if chosen is not None else math.inf
        if incumbent is not None and value > incumbent_value + 1e-12:
            # a plan known to fit this budget is better: keep it (the curve stays monotone)
            chosen, value = incumbent, incumbent_value
            status = f"{status} (better known plan kept)"
        if chosen is None:
            rows.append(
                {
                    "moved_share_budget": share,
                    "moved_share": None,
                    "max_deviation": None,
                    "bound": outcome.bound,
                    "gap": None,
                    "status": status,
                }
            )
            continue
        moved = float(pairs.moved[chosen].sum())
        bound = min(outcome.bound, value) if outcome.bound is not None else None
        gap = relative_gap(value, bound) if bound is not None and value > 0 else 0.0
        rows.append(
            {
                "moved_share_budget": share,
                "moved_share": round(moved / total, 6) if total > 0 else 0.0,
                "max_deviation": round(value, 6),
                "bound": None if bound is None else round(max(bound, 0.0), 6),
                "gap": round(max(gap, 0.0), 6),
                "status": status,
            }
        )
        say(f"trade-off: budget {share:.1%} -> largest deviation {value:.2%}")
        incumbent, incumbent_value = chosen, value
    columns = ["moved_share_budget", "moved_share", "max_deviation", "bound", "gap", "status"]
    return pd.DataFrame(rows, columns=columns)
