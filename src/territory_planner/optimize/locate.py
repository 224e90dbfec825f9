"""Where reps should be based: a capacitated p-median with balance bands.

Units u (accounts, or sites of a benchmark graph) and candidate sites s; the
PlanningProblem's "reps" are the candidate sites, and ``count`` of them are opened. The
strong formulation and its rows are in locate_model.py. This module chooses the path:

- Without bands (the plain p-median) and up to DENSE_PAIRS pairs, the Lagrangian path
  (median_lagrange.py, on the dual and site tree of median_dual.py) proves the optimum.
- From SEARCH_MIN_PAIRS pairs on with HiGHS, the constructive search of locate_search.py.
- A capacity and nothing else (one metric's maximum, no minimum) below SEARCH_MIN_PAIRS:
  the knapsack Lagrangian of median_capacity.py, reduced-cost fixing, the reduced MILP.
- Otherwise the priced LP path (locate_priced.py): candidate pairs, the LP priced over all
  pairs, MILPs over the candidates with the pairs that could still beat the plan.

The names of those modules that callers use are importable from here as well.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..problem import PlanningProblem
from .locate_model import (
    LocateModel,
    LocateResult,
    build_locate_model,
    has_bands,
    median_problem,
)
from .locate_priced import locate_candidates, solve_priced_locate
from .locate_search import solve_sparse_locate
from .median_capacity import capacity_knapsack_applies, solve_capacitated_median
from .median_dual import (
    MedianBound,
    _cutoff,
    _MedianDual,
    lagrangian_median_bound,
    median_branch_and_bound,
)
from .median_lagrange import (
    DENSE_PAIRS,
    dense_costs,
    improve_by_swaps,
    serving_cost,
    solve_median_by_lagrange,
)
from .settings import Clock, SolveSettings
from .solvers import solver_name

__all__ = [
    "DENSE_PAIRS",
    "SEARCH_MIN_PAIRS",
    "LocateModel",
    "LocateResult",
    "MedianBound",
    "_MedianDual",
    "_cutoff",
    "build_locate_model",
    "dense_costs",
    "improve_by_swaps",
    "lagrangian_median_bound",
    "locate_candidates",
    "median_branch_and_bound",
    "median_problem",
    "serving_cost",
    "solve_locate",
    "solve_locate_problem",
    "solve_median_by_lagrange",
    "sparse_search_applies",
    "with_open_bands",
]

SEARCH_MIN_PAIRS = 50_000  # from this many pairs on, the constructive search runs


def sparse_search_applies(problem, settings: SolveSettings) -> bool:
    """Instances of SEARCH_MIN_PAIRS pairs or more with HiGHS and rep-independent loads go
    to the constructive search with the Lagrangian bound (optimize/locate_search.py): the
    PuLP model below needs memory and time that grow with every pair. Smaller ones, and
    other solvers, keep the priced PuLP path, which proves them optimal."""
    return (
        solver_name(settings.solver) == "HiGHS"
        and problem.pair_load is None
        and problem.n_units * problem.n_reps >= SEARCH_MIN_PAIRS
    )


def solve_locate_problem(
    problem, count: int, settings: SolveSettings, progress: Callable[[str], None] | None = None
) -> LocateResult:
    """Choose ``count`` sites among ``problem.rep_ids`` and serve every unit from one."""
    say = progress or (lambda message: None)
    clock = Clock(settings.time_limit)
    if not 1 <= count <= problem.n_reps:
        raise InputError(
            f"the number of bases must be between 1 and the {problem.n_reps} "
            f"candidate sites; got {count}"
        )
    if not has_bands(problem) and problem.n_units * problem.n_reps <= DENSE_PAIRS:
        result = solve_median_by_lagrange(problem, count, settings, say)
        if result is not None:
            return result
        settings, clock = _priced_lp_next(settings, clock, say, "the rules")
    if sparse_search_applies(problem, settings):
        return solve_sparse_locate(problem, count, settings, say)
    if capacity_knapsack_applies(problem):
        result = solve_capacitated_median(problem, count, settings, say)
        if result is not None:
            return result
        settings, clock = _priced_lp_next(settings, clock, say, "the capacities")
    return solve_priced_locate(problem, count, settings, say, clock)


def solve_locate(
    cost: np.ndarray,
    count: int,
    *,
    loads: np.ndarray | None = None,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    settings: SolveSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> LocateResult:
    """(Capacitated) p-median on a cost matrix: open ``count`` sites, serve every unit.

    ``cost[u, s]``: serving unit u from site s; ``loads[m, u]``; every open site's load on
    metric m within ``[lower[m], upper[m]]``. Example (4 units on a line, sites = units)::

        solve_locate(abs(x[:, None] - x[None, :]), 2)
    """
    problem = median_problem(cost, loads=loads, lower=lower, upper=upper)
    return solve_locate_problem(problem, count, settings or SolveSettings(), progress)


def with_open_bands(problem: PlanningProblem, count: int) -> PlanningProblem:
    """Bands of a territory scenario re-based for ``count`` open bases of equal capacity:
    target[m] = total[m] / count, band = target * (1 -/+ tolerance[m])."""
    totals = problem.unit_load.sum(axis=1)
    target = np.repeat((totals / count)[:, None], problem.n_reps, axis=1)
    tol = problem.tolerance[:, None]
    return replace(problem, target=target, lower=target * (1 - tol), upper=target * (1 + tol))


def _priced_lp_next(settings: SolveSettings, clock: Clock, say, rules: str):
    """A special method found no plan: the priced LP gets what is left of the limit."""
    say(f"locate: no plan within {rules} found yet; continuing with the priced LP")
    settings = replace(settings, time_limit=clock.remaining)
    return settings, Clock(settings.time_limit)
