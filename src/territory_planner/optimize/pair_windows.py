"""Pair windows: two territories that share a border re-split between their two reps as one
small exact MILP, each kept one connected piece.

Why. On the sparse districts of the national map the cut rounds stop at their first
connected plan, which the band moves made (band_repair.py) and border moves polished
(border_moves.py), and the round after it finds nothing cheaper in minutes: the whole
district's MILP is too big for HiGHS to improve on, and single moves and swaps are too
small. In between lie the windows the account engine uses: a few neighbouring territories
re-optimised together. On the district 6.8% above its LP (3,793 ZIP cells, 37 reps) one pass
over its touching pairs took 2,679,356 to 2,628,059 (1.9%) in 71 s.

How. For each pair (j, k) of reps whose territories touch, the units they hold in the plan
(their regions and named accounts) form a problem of their own with the same costs, loads,
bands and rules and two reps (region_split.district_problem). Its rooted flow model
(rooted_flow.rooted_model: x[r_j, j] = 1 and a single-commodity flow from r_j reaching every
region of j) is solved, each rep rooted in its territory (its home when the territory holds
it, else the territory's first region), time-boxed to PAIR_SECONDS. When its plan is
cheaper, the pair takes it. Every other rep keeps its territory and load, so every band
still holds; j's and k's territories are connected by the flow rows and checked again on
the region graph. Passes run over all touching pairs until a pass improves nothing, the
time is out or the plan is within the gap asked for of the bound; a pair neither of whose
territories changed since it was last solved is skipped. Each pass takes the pairs in
order of what re-splitting could save at most (their units' cost in the plan less each
unit's cost at the cheaper of the two reps, bands and contiguity ignored), so that on a map
where most pairs are near their optimum the time goes to the few that are not; a pair that
could save nothing is not solved.

It is not used with a disruption budget (it couples every rep; a pair's share of it is not
tracked). A heuristic on the incumbent: it proves nothing, and the bound is untouched.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import csr_matrix

from .contiguity import _plan_of, territory_pieces
from .districts import District
from .pairs import all_allowed_pairs
from .region_split import district_map, district_problem
from .results import objective_of, relative_gap
from .rooted_flow import rooted_model
from .settings import SolveSettings
from .solvers import run

#: the most seconds one pair's MILP may take (they take well under one on ZIP cells)
PAIR_SECONDS = 5.0
#: of the time left when the rounds end short of the gap, what the pair windows may use
PAIRS_SHARE = 0.9
#: a pair's plan is taken when it is cheaper by more than this share of the pair's cost
SAVING = 1e-7


def touching_reps(graph: csr_matrix, plan: np.ndarray, n_regions: int) -> list[tuple[int, int]]:
    """The pairs (j, k), j < k, of reps holding two neighbouring regions in ``plan``."""
    edges = graph.tocoo()
    a, b = plan[:n_regions][edges.row], plan[:n_regions][edges.col]
    keep = a < b
    return sorted(set(zip(a[keep].tolist(), b[keep].tolist())))


def at_most_saved(problem, plan: np.ndarray, j: int, k: int) -> float:
    """What re-splitting the units of j and k in ``plan`` could save at most: their cost
    in the plan less each one's cost at the cheaper of j and k."""
    units = np.flatnonzero((plan == j) | (plan == k))
    cost = problem.cost_block(units)
    now = cost[np.arange(len(units)), plan[units]].sum()
    return float(now - np.minimum(cost[:, j], cost[:, k]).sum())


def pair_resplit(problem, graph, n_regions: int, plan, homes, j: int, k: int, settings):
    """The cheapest connected split of the units j and k hold in ``plan`` between them
    (module docstring), as (units, their reps), or None when it is not cheaper."""
    reps = np.array([j, k])
    roots = np.full(problem.n_reps, -1)
    for rep in reps:
        mine = np.flatnonzero(plan[:n_regions] == rep)
        roots[rep] = homes[rep] if homes[rep] in mine else mine[0]
    units = np.flatnonzero(np.isin(plan, reps))
    sub = district_problem(problem, units, reps)
    window = District(units, reps)
    neighbours, sub_regions, sub_roots = district_map(graph, window, n_regions, roots)
    model = rooted_model(sub, all_allowed_pairs(sub), neighbours, sub_regions, sub_roots)
    if model is None or len(model.x) == 0:
        return None
    now = np.where(plan[units] == j, 0, 1)
    before = objective_of(sub, now)
    outcome = run(model, settings, mip=True, time_limit=PAIR_SECONDS, gap=0.0)
    if not outcome.has_solution:
        return None
    split = _plan_of(model, sub.n_units)
    if (split < 0).any() or objective_of(sub, split) >= before - SAVING * max(1.0, abs(before)):
        return None
    return units, reps[split]


def _connected(graph, plan, n_regions: int, reps) -> bool:
    return all(
        len(territory_pieces(graph, np.flatnonzero(plan[:n_regions] == j))) == 1 for j in reps
    )


def improved_by_pairs(
    problem,
    graph: csr_matrix,
    n_regions: int,
    plan: np.ndarray,
    homes,
    settings: SolveSettings,
    deadline: float,
    enough: float = -np.inf,
) -> np.ndarray:
    """``plan`` (connected, within every rule) after pair windows (module docstring) until
    ``deadline`` (a ``perf_counter()``) or until it costs ``enough`` or less (the gap asked
    for is then met: more windows would only spend the planner's time): connected, within
    every rule, never dearer."""
    if problem.max_moved_potential is not None or objective_of(problem, plan) <= enough:
        return plan
    homes = np.full(problem.n_reps, -1) if homes is None else np.asarray(homes)
    best = plan.copy()
    changed = np.zeros(problem.n_reps, dtype=int)  # how often each rep's territory changed
    solved: dict[tuple[int, int], tuple[int, int]] = {}
    improved = True
    while improved:
        improved = False
        fresh = [
            pair
            for pair in touching_reps(graph, best, n_regions)
            if solved.get(pair) != (changed[pair[0]], changed[pair[1]])
        ]
        saving = {pair: at_most_saved(problem, best, *pair) for pair in fresh}
        for j, k in sorted(fresh, key=lambda pair: -saving[pair]):
            if time.perf_counter() + PAIR_SECONDS > deadline:
                return best
            nothing_to_save = saving[(j, k)] <= 1e-9
            if nothing_to_save or solved.get((j, k)) == (changed[j], changed[k]):
                continue
            found = pair_resplit(problem, graph, n_regions, best, homes, j, k, settings)
            if found is not None:
                trial = best.copy()
                trial[found[0]] = found[1]
                if _connected(graph, trial, n_regions, (j, k)):
                    best, improved = trial, True
                    changed[[j, k]] += 1
                    if objective_of(problem, best) <= enough:
                        return best
            solved[(j, k)] = (changed[j], changed[k])
    return best


def pairs_polished(problem, graph, n_regions, plan, bound, homes, settings, clock, phases, wanted):
    """``plan`` after pair windows (pair_windows.py) in PAIRS_SHARE of the time left when
    it is further than the gap from ``bound``, until it is within it: the rounds' next MILP
    over the whole map seldom finds a cheaper plan where two territories re-split exactly
    often do. Only when ``wanted``: never without contiguity (the rounds' MILP is then the
    whole answer)."""
    before = objective_of(problem, plan)
    if not wanted or relative_gap(before, bound) <= settings.gap:
        return plan
    # within the gap asked for of ``bound`` once it costs this much or less
    enough = bound / (1.0 - settings.gap) if settings.gap < 1.0 else np.inf
    deadline = clock.deadline(PAIRS_SHARE)
    plan = improved_by_pairs(problem, graph, n_regions, plan, homes, settings, deadline, enough)
    after = objective_of(problem, plan)
    phases.append(
        {"phase": "regions_pairs", "before": before, "after": after, "seconds": clock.elapsed}
    )
    return plan
