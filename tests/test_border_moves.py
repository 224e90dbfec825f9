"""Border moves and swaps (border_moves.py) on four regions and two reps, by hand.

Every region carries potential 1; A owns r0 and r1, B owns r2 and r3 (cost 10 below).

    cost     r0  r1  r2  r3
    A         0   5   5   1
    B         5   1   0   5
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from territory_planner.optimize.border_moves import improve_by_moves
from territory_planner.optimize.contiguity import adjacency_matrix
from territory_planner.optimize.model import PairSet

COST = {0: [0.0, 5.0, 5.0, 1.0], 1: [5.0, 1.0, 0.0, 5.0]}
START = np.array([0, 0, 1, 1])


def _instance(lower: float, upper: float, edges):
    units = np.repeat(np.arange(4), 2)
    reps = np.tile(np.arange(2), 4)
    cost = np.array([COST[j][u] for u, j in zip(units, reps)])
    pairs = PairSet(units, reps, cost, np.ones((1, 8)), np.zeros(8))
    problem = SimpleNamespace(
        n_units=4,
        n_reps=2,
        n_metrics=1,
        lower=np.full((1, 2), lower),
        upper=np.full((1, 2), upper),
        max_moved_potential=None,
    )
    neighbours = [np.array([v for a, b in edges for v in (b,) if a == u]) for u in range(4)]
    return problem, pairs, adjacency_matrix(neighbours, 4)


PATH = [(0, 1), (1, 2), (2, 3)]
CYCLE = PATH + [(3, 0)]


def test_a_move_within_the_bands_is_taken():
    """Bands [1, 3]: r1 to B gains 5 - 1 = 4 and leaves A = {r0}, B = {r1, r2, r3}, both
    connected and within [1, 3]; after it nothing gains (r0 to B costs 5 more; r3 to A
    would gain 4 but r3 does not border A on the path). Cost 10 -> 6."""
    problem, pairs, graph = _instance(1.0, 3.0, PATH)
    plan = improve_by_moves(problem, pairs, graph, 4, START, seconds=10.0)
    assert plan.tolist() == [0, 1, 1, 1]


def test_a_move_past_a_band_is_refused():
    """Bands exactly 2: every move leaves one rep at 1 and one at 3; the one swap that
    gains, r1 <-> r3 (cost 10 -> 2), makes A = {r0, r3}, two pieces on the path. The plan
    stays as it is."""
    problem, pairs, graph = _instance(2.0, 2.0, PATH)
    plan = improve_by_moves(problem, pairs, graph, 4, START, seconds=10.0)
    assert plan.tolist() == START.tolist()


def test_a_swap_that_keeps_both_territories_connected_is_taken():
    """The same bands on the 4-cycle (r3 borders r0): r1 <-> r3 gives A = {r0, r3} and
    B = {r1, r2}, each one piece, loads 2 and 2, cost 1 + 1 = 2 instead of 10."""
    problem, pairs, graph = _instance(2.0, 2.0, CYCLE)
    plan = improve_by_moves(problem, pairs, graph, 4, START, seconds=10.0)
    assert plan.tolist() == [0, 1, 1, 0]
