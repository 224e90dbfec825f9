"""Windows of neighbouring territories re-optimised together, with contiguity.

The cut MILP over the whole map (region_solve.py) rarely finds the few moves along a
border that a change needs. A window does: the territories around the change are solved
again as one small MILP, every other unit held where the plan has it, and the separator-cut
rounds of region_solve.py keep each territory of the window connected. On the model of the
whole map (every band row, the budget, every cut stays valid) a window is two families of
bounds on the assignment variables:

* ``hold_outside_rows``: for every unit u outside the window, ``x[u, plan(u)] = 1`` (its
  lower bound raised to 1), so the rest of the map is fixed;
* ``window_reps_only``: for every unit u of the window and every rep k outside it,
  ``x[u, k] = 0`` (its upper bound lowered to 0), so the window's units stay among its reps.

The window's reps (``window_reps``): the reps whose territories in ``plan`` border the
``focus`` regions (a departing rep's regions), widened ring by ring (the reps bordering
those) when a window finds no plan. A window's plan is checked connected on the region graph
(the rounds do) and meets every row of the whole model, so it is a valid start for the full
rounds; its bound is only a bound on the window and is never reported.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import csr_matrix

from .breach import band_excess, budget_excess, rep_loads
from .model import AssignmentModel, build_assignment_model
from .pairs import all_allowed_pairs
from .region_solve import cut_rounds
from .settings import Clock, SolveSettings

#: the widest window tried, in rings of territories around the focus
MAX_RINGS = 2


def window_reps(graph: csr_matrix, plan: np.ndarray, n_regions: int, focus, rings: int):
    """Reps whose territories lie within ``rings`` steps of territory adjacency from the
    ``focus`` regions (ring 1: the territories holding or bordering a focus region)."""
    region_rep = plan[:n_regions]
    near = set(np.asarray(focus, dtype=int).tolist())
    reps: set[int] = set()
    for _ in range(rings):
        border = {
            int(c) for u in near for c in graph.indices[graph.indptr[u] : graph.indptr[u + 1]]
        }
        reps |= {int(region_rep[u]) for u in near | border}
        near = set(np.flatnonzero(np.isin(region_rep, sorted(reps))).tolist())
    return np.array(sorted(reps), dtype=int)


def hold_outside_rows(model: AssignmentModel, plan: np.ndarray, free: np.ndarray) -> list:
    """x[u, plan(u)] = 1 for every unit u outside the window (module docstring); returns
    the variables whose lower bound was raised."""
    held = [
        var
        for var, u, j in zip(model.x, model.pairs.unit, model.pairs.rep)
        if not free[u] and plan[u] == j
    ]
    for var in held:
        var.lowBound = 1
    return held


def window_reps_only(model: AssignmentModel, free: np.ndarray, reps: np.ndarray) -> list:
    """x[u, k] = 0 for every unit u of the window and rep k outside it; returns the
    variables whose upper bound was lowered."""
    inside = np.zeros(int(model.pairs.rep.max()) + 1 if len(model.pairs.rep) else 0, bool)
    inside[reps] = True
    shut = [
        var
        for var, u, j in zip(model.x, model.pairs.unit, model.pairs.rep)
        if free[u] and not inside[j]
    ]
    for var in shut:
        var.upBound = 0
    return shut


def within_rules(problem, plan: np.ndarray) -> bool:
    """Every band and the budget hold for ``plan`` (breach.py's excess is 0)."""
    loads = rep_loads(problem, plan)
    moved = problem.moved_potential_of(plan)
    return float(band_excess(problem, loads).max(initial=0.0)) <= 1e-9 and (
        budget_excess(problem, moved) <= 1e-9
    )


def solve_window(model, problem, graph, n_regions, plan, reps, settings, clock, start=None):
    """The cut rounds over the window of ``reps`` (module docstring): the connected plan
    they reach, or None. The bounds are restored afterwards; the cuts stay (valid)."""
    free = np.isin(plan, reps)
    held = hold_outside_rows(model, plan, free)
    shut = window_reps_only(model, free, reps)
    try:
        rounds = cut_rounds(
            model,
            problem,
            graph,
            n_regions,
            settings,
            clock,
            contiguous=True,
            log=lambda entry: None,
            start=start,
        )
    finally:
        for var in held:
            var.lowBound = 0
        for var in shut:
            var.upBound = 1
    return rounds.plan


def improve_around(
    problem,
    graph: csr_matrix,
    n_regions: int,
    plan: np.ndarray,
    focus,
    settings: SolveSettings,
    clock: Clock,
    log: Callable[[dict], None] = lambda entry: None,
) -> np.ndarray | None:
    """The best connected plan the windows around ``focus`` reach from ``plan`` (connected,
    maybe outside its bands), ring 1 first and wider when a window finds no plan; None
    when none does. ``plan`` itself is the window's start when it meets every rule."""
    model = build_assignment_model(
        problem,
        all_allowed_pairs(problem),
        np.arange(problem.n_units),
        relax=False,
        name="region_window",
    )
    start = plan if within_rules(problem, plan) else None
    for rings in range(1, MAX_RINGS + 1):
        reps = window_reps(graph, plan, n_regions, focus, rings)
        found = solve_window(
            model, problem, graph, n_regions, plan, reps, settings, clock.share(0.5), start
        )
        log(
            {
                "phase": "regions_window",
                "rings": rings,
                "reps": len(reps),
                "found": found is not None,
            }
        )
        if found is not None:
            return found
        if clock.remaining <= 0.05 or len(reps) >= problem.n_reps:
            break
    return start
