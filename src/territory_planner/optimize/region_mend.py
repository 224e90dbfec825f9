"""Mending a round's plan whose territories are in pieces into a connected one, and the
connected starts the rounds begin from (region_solve.py runs the rounds).

In order of trial (mend): regions with no accounts re-given along the pieces; moves alone
(band_repair.py), kept at once when within the gap; the rooted flow over the pairs near the
plan (rooted_repair, ZIP scale); the cut rounds with the units away from the stray pieces
held (repair). Every mended plan is then made cheaper by border moves (cheaper_by_moves).
Each is a heuristic start: connected, within every rule, proving nothing.
"""

from __future__ import annotations

import math

import numpy as np

from .band_repair import mend_by_moves
from .border_moves import improve_by_moves
from .contiguity import (
    MAX_CUT_ROUNDS,
    _plan_of,
    connect_rows,
    separator_cuts,
    settle_empty_regions,
    territory_pieces,
)
from .pairs import all_allowed_pairs
from .results import objective_of
from .settings import Clock
from .solvers import run

LOOSE_GAP = 0.01  # rounds hunting for a connected plan stop within 1% of their bound
REPAIR_RINGS = (1, 2)  # how far a region may move when a plan is mended by rooted flow
MOVES_SHARE = 0.05  # of the time left, at most, for border moves on a new connected plan
#: of the time left, at most, for the band moves of a mend (band_repair.mend_by_moves: the
#: full spread, then the zoned searches; on a national district the three took 30 s)
BAND_MOVES_SHARE = 0.15


def cheaper_by_moves(model, problem, graph, n_regions: int, plan, clock: Clock):
    """A connected ``plan`` after border moves and swaps over the model's pairs and the
    plan's own (border_moves.py): connected, within every rule, never dearer. A plan
    mended over pairs the model lacks (band_repair.py) is no start for the model as it
    stands; the rounds rebuild it for the plan (region_solve.rebuilt_for_start)."""
    seconds = MOVES_SHARE * clock.remaining
    return improve_by_moves(problem, model.pairs, graph, n_regions, plan, seconds)


def mend_round(
    model, problem, graph, n_regions, plan, homes, settings, clock, seen, best, enough=-math.inf
):
    """A connected plan near a round's disconnected ``plan``, or None: its empty regions
    re-given; the fuller mends (mend) only while no connected plan ``best`` is known or at
    ZIP scale (``homes``): with one in hand at county scale they rarely beat it (none in
    seven tries) and took 2-3 s of the next round's time each. The mended plan is made
    cheaper by border moves (cheaper_by_moves)."""
    repaired = settle_empty_regions(problem, graph, plan, n_regions)
    if repaired is None and (best is None or homes is not None):
        repaired = mend(
            model, problem, graph, n_regions, plan, homes, settings, clock, seen, enough
        )
    if repaired is None:
        return None
    return cheaper_by_moves(model, problem, graph, n_regions, repaired, clock)


def mend(model, problem, graph, n_regions, plan, homes, settings, clock, seen, enough=-math.inf):
    """A connected plan near a disconnected ``plan``, or None: its empty regions re-given;
    else mended by moves (band_repair.py: a second or two, where the rooted flow near the
    plan spent 95 s without a solution on a national district), kept at once when, after
    border moves, it costs no more than ``enough``; else the cheaper of that and (with
    ``homes``) the rooted flow over the pairs near it, else of the cut rounds with the units
    away from its stray pieces held (the rooted flow mends closer to the optimum: 0.63%
    against 0.70% on the five-state ZIP map)."""
    repaired = settle_empty_regions(problem, graph, plan, n_regions)
    if repaired is not None:
        return repaired
    seconds = BAND_MOVES_SHARE * clock.remaining
    moved = mend_by_moves(problem, model.pairs, graph, n_regions, plan, homes, seconds)
    if moved is not None:
        moved = cheaper_by_moves(model, problem, graph, n_regions, moved, clock)
        if objective_of(problem, moved) <= enough:
            return moved
    if homes is not None:
        repaired = rooted_repair(model, problem, graph, n_regions, plan, homes, settings, clock)
    if repaired is None:
        repaired = repair(model, problem, graph, n_regions, plan, settings, clock, seen)
    if repaired is None or (
        moved is not None and objective_of(problem, moved) <= objective_of(problem, repaired)
    ):
        return moved
    return repaired


def rooted_start(problem, pairs, graph, neighbours, n_regions, homes, settings, clock, share=1 / 3):
    """A connected plan from the rooted flow model (rooted_flow.py) in at most ``share`` of
    the time left, or None. A rep without a usable home has no flow rows, so the plan is
    checked, and its empty regions re-given when that alone connects it."""
    from .rooted_flow import rooted_model

    model = rooted_model(problem, pairs, neighbours, n_regions, homes)
    if model is None:
        return None
    gap = max(settings.gap, LOOSE_GAP)
    outcome = run(model, settings, mip=True, time_limit=clock.remaining * share, gap=gap)
    if not outcome.has_solution:
        return None
    plan = _plan_of(model, problem.n_units)
    if separator_cuts(graph, plan, n_regions, problem.n_reps)[1] == 0:
        return plan
    return settle_empty_regions(problem, graph, plan, n_regions)


def piece_roots(graph, plan: np.ndarray, n_regions: int, homes: np.ndarray):
    """A root for each rep in the largest piece of its territory in ``plan`` (its home
    region when the home lies there, else the piece's first region; -1 with no regions),
    and the other pieces (stray: to be given away or joined up)."""
    roots, stray = np.full(len(homes), -1), []
    for j, home in enumerate(homes):
        pieces = territory_pieces(graph, np.flatnonzero(plan[:n_regions] == j))
        if pieces:
            roots[j] = home if home in pieces[0] else pieces[0][0]
            stray += pieces[1:]
    return roots, stray


def rooted_repair(
    model, problem, graph, n_regions, plan, homes, settings, clock, rings=REPAIR_RINGS
):
    """A connected plan near ``plan`` from the rooted flow over the model's pairs near it
    (rooted_flow.near_plan_pairs: each region keeps its rep or takes one of a rep a few
    rings away, a stray piece whole), each territory rooted in its largest piece
    (piece_roots); fewer rings first, more if they cannot hold the bands; each in a
    quarter of the time left. A heuristic start like rooted_start: its bound is never
    used."""
    from .rooted_flow import near_plan_pairs, region_neighbours

    neighbours = region_neighbours(graph)
    roots, stray = piece_roots(graph, plan, n_regions, homes)
    for ring in rings:
        near = near_plan_pairs(model.pairs, graph, plan, n_regions, roots, ring, stray)
        found = rooted_start(
            problem, near, graph, neighbours, n_regions, roots, settings, clock, share=0.25
        )
        if found is not None:
            return found
    return None


def _free_units(graph, plan: np.ndarray, n_regions: int, rings: int) -> np.ndarray:
    """The units a repair may move: every piece of a territory but its largest, the regions
    within ``rings`` steps of them, and every named account."""
    free = np.zeros(len(plan), dtype=bool)
    free[n_regions:] = True
    for j in np.unique(plan[:n_regions]):
        for piece in territory_pieces(graph, np.flatnonzero(plan[:n_regions] == j))[1:]:
            free[piece] = True
    for _ in range(rings):
        near = graph[np.flatnonzero(free[:n_regions])].indices
        free[near] = True
    return free


def repair(model, problem, graph, n_regions, plan, settings, clock, seen, rings=2):
    """A connected plan near ``plan``: units away from its stray pieces stay where they
    are (their x fixed at 1), the rest are re-solved with cut rounds. A heuristic: its
    bound proves nothing and is not used; its plan is a start for the full rounds. The cuts
    it adds are valid for the full model and stay. None when it finds no connected plan."""
    free = _free_units(graph, plan, n_regions, rings)
    held = [
        var
        for var, u, j in zip(model.x, model.pairs.unit, model.pairs.rep)
        if not free[u] and plan[u] == j
    ]
    for var in held:
        var.lowBound = 1
    deadline = clock.elapsed + 0.25 * clock.remaining
    try:
        for _ in range(MAX_CUT_ROUNDS):
            limit = deadline - clock.elapsed
            if limit <= 0.05:
                return None
            outcome = run(model, settings, mip=True, time_limit=limit, gap=settings.gap)
            if not outcome.has_solution:
                return None
            unit_rep = _plan_of(model, problem.n_units)
            cuts, broken = separator_cuts(graph, unit_rep, n_regions, problem.n_reps)
            if broken == 0:
                return unit_rep
            fresh = [cut for cut in cuts if cut not in seen]
            if not fresh:
                return None
            seen.update(fresh)
            connect_rows(model, problem, fresh)
        return None
    finally:
        for var in held:
            var.lowBound = 0


def connected_start(
    problem, pairs, graph, neighbours, n_regions, homes, seed, settings, clock, phases, say
):
    """The rounds' first connected plan below ZIP scale: the flow rooted at each rep's home
    (from ``seed``'s objective when given, over all its pairs), else on a small map the
    free-root flow model, which also proves when no connected plan exists. None when
    neither finds one in its share."""
    start = None
    if homes is not None:
        rooted, rooted_pairs = (problem, pairs) if seed is None else (seed, all_allowed_pairs(seed))
        start = rooted_start(
            rooted, rooted_pairs, graph, neighbours, n_regions, homes, settings, clock
        )
        found = {"phase": "regions_rooted_start", "found": start is not None}
        phases.append(found | {"seconds": round(clock.elapsed, 3)})
        if start is not None:
            say(f"connected start (rooted flow): objective {objective_of(problem, start):,.1f}")
            return start
    start = free_root_start(problem, graph, neighbours, n_regions, settings, clock, phases)
    if start is not None:
        say(f"connected start (free roots): objective {objective_of(problem, start):,.1f}")
    return start


def free_root_start(problem, graph, neighbours, n_regions, settings, clock, phases):
    """On a small map with no connected start yet: the free-root flow model
    (region_feasible.py) over every allowed pair, in FREE_ROOT_SHARE of the time left. A
    connected plan within every band, or None; InfeasibleError when it proves there is none."""
    from .region_feasible import FREE_ROOT_SHARE, connected_within_bands, decides

    if not decides(problem, n_regions):
        return None
    pairs = all_allowed_pairs(problem)
    share = clock.share(FREE_ROOT_SHARE)
    plan = connected_within_bands(problem, pairs, graph, neighbours, n_regions, settings, share)
    phases.append(
        {"phase": "regions_free_roots", "found": plan is not None}
        | {"seconds": round(clock.elapsed, 3)}
    )
    return plan
