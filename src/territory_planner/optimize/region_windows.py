"""Border windows: every region may pass only to a territory next to it, with contiguity.

The cut MILP over the whole map (region_solve.py) rarely finds the chain of moves along the
borders that a departure needs (every rep's target rises, so load ripples across the map
from the leaver's regions, one border at a time). A border window is that neighbourhood of
a plan as one MILP: the model of the whole map (every band row, the budget, every cut stays
valid) with one family of bounds on the assignment variables,

* ``border_moves_only``: for every region u and rep k, ``x[u, k] = 0`` unless k owns, in the
  plan, u itself or a region within ``reach`` steps of u on the region graph (named accounts
  stay free: they take no part in contiguity),

solved by the separator-cut rounds of region_solve.py, so each territory is one connected
piece. Reach 1 first; reach 2 when reach 1 finds no plan within the bands. A window's plan
is checked connected on the region graph (the rounds do) and meets every row of the whole
model, so it is a valid start for the full rounds; its bound holds only in the window and is
never reported.
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

#: the widest border window tried, in steps on the region graph
MAX_REACH = 2


def border_owners(graph: csr_matrix, plan: np.ndarray, n_regions: int, reach: int):
    """(U, J) bool: the reps owning, in ``plan``, unit u or a region within ``reach`` steps
    of it (every rep for a named account)."""
    near = np.zeros((len(plan), int(plan.max()) + 1), dtype=bool)
    near[n_regions:] = True
    near[np.arange(n_regions), plan[:n_regions]] = True
    step = graph.astype(bool).astype(np.int32)
    within = step.copy()
    for _ in range(reach - 1):
        within = ((within + within @ step) > 0).astype(np.int32)
    rows, cols = within.nonzero()
    near[rows, plan[cols]] = True
    return near


def border_moves_only(model: AssignmentModel, near: np.ndarray) -> list:
    """x[u, k] = 0 unless ``near[u, k]`` (module docstring); returns the variables whose
    upper bound was lowered."""
    shut = [
        var
        for var, u, j in zip(model.x, model.pairs.unit, model.pairs.rep)
        if j >= near.shape[1] or not near[u, j]
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


def solve_window(model, problem, graph, n_regions, plan, reach, settings, clock, start=None):
    """The cut rounds over the border window of ``reach`` around ``plan`` (module
    docstring): the connected plan they reach, or None. The bounds are restored afterwards;
    the cuts stay (valid for the whole map)."""
    shut = border_moves_only(model, border_owners(graph, plan, n_regions, reach))
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
        for var in shut:
            var.upBound = 1
    return rounds.plan


def improve_around(
    problem,
    graph: csr_matrix,
    n_regions: int,
    plan: np.ndarray,
    settings: SolveSettings,
    clock: Clock,
    log: Callable[[dict], None] = lambda entry: None,
) -> np.ndarray | None:
    """The best connected plan the border windows of ``plan`` (connected, maybe outside its
    bands) reach: reach 1 first, reach 2 when it finds none; None when neither does.
    ``plan`` itself is the window's start when it meets every rule."""
    model = build_assignment_model(
        problem,
        all_allowed_pairs(problem),
        np.arange(problem.n_units),
        relax=False,
        name="region_window",
    )
    start = plan if within_rules(problem, plan) else None
    for reach in range(1, MAX_REACH + 1):
        found = solve_window(
            model, problem, graph, n_regions, plan, reach, settings, clock.share(0.5), start
        )
        log({"phase": "regions_window", "reach": reach, "found": found is not None})
        if found is not None:
            return found
        if clock.remaining <= 0.05:
            break
    return start
