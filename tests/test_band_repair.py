"""Mending a plan of whole regions by moves (optimize/band_repair.py), on strips of regions
worked by hand: region u borders u - 1 and u + 1, each region's load is 1."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.sparse import csr_matrix

from territory_planner.optimize.band_repair import mend_by_moves
from territory_planner.optimize.pairs import all_allowed_pairs
from territory_planner.problem import assignment_problem

A, B, C = 0, 1, 2


def _strip(n: int) -> csr_matrix:
    rows = list(range(n - 1)) + list(range(1, n))
    cols = list(range(1, n)) + list(range(n - 1))
    return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def _strip_problem(n: int, lower, target, upper, cost=None):
    reps = len(target)
    problem = assignment_problem(
        np.zeros((n, reps)) if cost is None else cost, np.ones((n, reps)), np.array(upper)
    )
    return dataclasses.replace(
        problem,
        lower=np.array([lower], dtype=float),
        target=np.array([target], dtype=float),
        upper=np.array([upper], dtype=float),
    )


def test_a_stray_piece_is_given_away_and_the_band_it_breaks_is_mended():
    """Six regions, A (home 0) = {0, 1, 2, 4}, B (home 5) = {3, 5}; bands A = 4, B = 2
    exactly, travel c[u, A] = u, c[u, B] = 5 - u. Step 1: A's stray piece {4} borders only
    B (3 and 5), so it goes to B: A = {0, 1, 2} (3, short 1), B = {3, 4, 5} (3, over 1).
    Step 2: B's most breached; its move 3 -> A brings both to their bands (breach 0) and
    leaves B = {4, 5} one piece. Result A = {0, 1, 2, 3}, B = {4, 5}."""
    cost = np.array([[u, 5 - u] for u in range(6)], dtype=float)
    problem = _strip_problem(6, [4, 2], [4, 2], [4, 2], cost)
    plan = np.array([A, A, A, B, A, B])
    mended = mend_by_moves(
        problem, all_allowed_pairs(problem), _strip(6), 6, plan, np.array([0, 5]), 10.0
    )
    assert mended.tolist() == [A, A, A, A, B, B]
    assert plan.tolist() == [A, A, A, B, A, B]  # the plan given is not changed


def test_a_full_neighbour_makes_room_by_passing_a_region_on():
    """Eight regions, A = {0..3} (4), B = {4, 5, 6} (3), C = {7} (1); targets 3 each; bands
    A [2.5, 3.5], B [1.5, 3.5], C [0.5, 3.5]. A is over by 0.5. Its only helpful-looking
    move, 3 -> B, leaves the breach at 0.5 (B over instead) and the spread
    sum((load - 3) / 3)^2 at (0 + 1 + 4) / 9, as before (1 + 0 + 4) / 9: not taken. One
    ring out, B's move 6 -> C keeps the breach and lowers the spread to (1 + 1 + 1) / 9:
    taken. Now 3 -> B brings A and B to 3 each: breach 0. Result A = {0, 1, 2},
    B = {3, 4, 5}, C = {6, 7}."""
    problem = _strip_problem(8, [2.5, 1.5, 0.5], [3, 3, 3], [3.5, 3.5, 3.5])
    plan = np.array([A, A, A, A, B, B, B, C])
    mended = mend_by_moves(
        problem, all_allowed_pairs(problem), _strip(8), 8, plan, np.array([0, 4, 7]), 10.0
    )
    assert mended.tolist() == [A, A, A, B, B, B, C, C]


def test_no_plan_when_no_move_can_mend_the_bands():
    """Four regions, A = {0, 1, 2}, B = {3}, bands A = B = 2 exactly, but B may own region
    3 alone (the others' pairs to B are not allowed): A must give a region that B cannot
    take. None, not a plan that breaks a band."""
    problem = _strip_problem(4, [2, 2], [2, 2], [2, 2])
    allowed = np.array([[True, False], [True, False], [True, False], [False, True]])
    problem = dataclasses.replace(problem, allowed=allowed)
    plan = np.array([A, A, A, B])
    assert (
        mend_by_moves(problem, all_allowed_pairs(problem), _strip(4), 4, plan, None, 10.0) is None
    )
