"""A departing rep's regions handed to the neighbouring territories along their borders.

A re-balance's least-disruption step (region_rebalance.py) needs a connected start close to
the previous plan: the cut MILP over the whole map, started from a plan that moves far more
than it must, does not find the few border moves that a departure needs. This module builds
the start the way a planner would draw it:

* every unit keeps its previous owner when that rep is still on the team and may own it
  (its lock, if any, wins);
* the orphaned regions (no such owner) are handed out one at a time, each to a territory it
  borders, so every territory stays one connected piece (a region joined to a connected
  territory along a shared border leaves it connected). Among the (orphan, bordering rep)
  pairs allowed, the rep with the most room goes first: the smallest ``fill_j = max_m
  load[m, j] / upper[m, j]``, ties broken by the orphan sharing the most borders with it,
  then by position (the order is deterministic);
* orphaned named accounts (no contiguity) go to the allowed rep with the most room.

The plan is a heuristic start, not a claim: it is returned only when every territory is
checked connected on the region graph, and it may break bands (the windows of
region_windows.py mend and improve it under the MILP's rows).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from .breach import rep_loads
from .contiguity import separator_cuts
from .settings import TINY


def kept_owners(problem, previous: np.ndarray) -> np.ndarray:
    """Each unit's rep position in the start: its lock, else its previous owner when that
    rep may own it, else -1 (orphaned)."""
    allowed = problem.allowed_block(np.arange(problem.n_units))
    plan = np.asarray(previous, dtype=int).copy()
    plan[(plan >= 0) & ~allowed[np.arange(problem.n_units), np.maximum(plan, 0)]] = -1
    locked = problem.locked_rep[: problem.n_units]
    plan[locked >= 0] = locked[locked >= 0]
    return plan


def _fill(problem, loads: np.ndarray) -> np.ndarray:
    """(J,) ``max_m load[m, j] / upper[m, j]``: how full each rep's fullest band is."""
    if problem.n_metrics == 0:
        return np.zeros(problem.n_reps)
    return (loads / np.maximum(np.abs(problem.upper), TINY)).max(axis=0)


def _next_handover(graph: csr_matrix, plan, orphans, allowed, fill):
    """The (region, rep) of the module docstring's order, or None when no orphan borders an
    allowed territory."""
    best = None
    for u in orphans:
        owners = plan[graph.indices[graph.indptr[u] : graph.indptr[u + 1]]]
        owners = owners[owners >= 0]
        for j in np.unique(owners):
            if not allowed[u, j]:
                continue
            key = (fill[j], -int((owners == j).sum()), int(u), int(j))
            if best is None or key < best:
                best = key
    return None if best is None else (best[2], best[3])


def hand_over(
    problem, graph: csr_matrix, n_regions: int, previous: np.ndarray
) -> np.ndarray | None:
    """The connected start of the module docstring (rep position per unit), or None when an
    orphan borders no territory that may own it or the plan is not connected."""
    plan = kept_owners(problem, previous)
    allowed = problem.allowed_block(np.arange(problem.n_units))
    known = plan.copy()
    known[known < 0] = 0  # rep_loads needs a rep per unit; orphans are taken out below
    loads = rep_loads(problem, known) - rep_loads(
        problem, known, np.flatnonzero(plan < 0).astype(int)
    )
    for u in np.flatnonzero(plan[n_regions:] < 0) + n_regions:
        reps = np.flatnonzero(allowed[u])
        if len(reps) == 0:
            return None
        j = int(reps[np.argmin(_fill(problem, loads)[reps])])
        plan[u] = j
        loads += rep_loads(problem, plan, np.array([u]))
    orphans = set(np.flatnonzero(plan[:n_regions] < 0).tolist())
    while orphans:
        step = _next_handover(graph, plan, sorted(orphans), allowed, _fill(problem, loads))
        if step is None:
            return None
        u, j = step
        plan[u] = j
        orphans.discard(u)
        loads += rep_loads(problem, plan, np.array([u]))
    if separator_cuts(graph, plan, n_regions, problem.n_reps)[1] != 0:
        return None
    return plan
