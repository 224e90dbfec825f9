"""Pricing the pairs an LP left out (optimize/pricing.py ``scan_left_out``), by hand.

Two units, three reps, unit loads, the LP over (u1, R1) and (u2, R1) only, priced with
duals pi_once = (5, 5) and 0 on every band (so rc[u, j] = c[u, j] - 5):

    cost   R1  R2  R3        rc of the left-out pairs
    u1      1   2   3        u1: R2 -3, R3 -2
    u2      9   4   6        u2: R2 -1, R3 +1

One pair a unit: u1 -> R2 (its cheaper improving pair, not R3) and u2 -> R2 (its only one).
The Lagrangian correction is the sum of each unit's smallest rc: -3 + -1 = -4; the smallest
rc left out is -3 and the smallest not picked -2 (u1 -> R3).
"""

from __future__ import annotations

import numpy as np
import pytest

from territory_planner.optimize.pairs import all_allowed_pairs
from territory_planner.optimize.pricing import Duals, scan_left_out
from territory_planner.problem import assignment_problem

COST = [[1.0, 2.0, 3.0], [9.0, 4.0, 6.0]]


def _scan(per_unit: int):
    problem = assignment_problem(COST, np.ones((2, 3)), np.array([2.0, 2.0, 2.0]))
    pairs = all_allowed_pairs(problem)
    in_lp = pairs.subset(pairs.rep == 0)
    duals = Duals(once=np.array([5.0, 5.0]), band=np.zeros((1, 3)))
    return scan_left_out(problem, in_lp, duals, per_unit)


def test_each_unit_brings_in_its_cheapest_improving_pairs():
    new, correction, smallest, smallest_unpicked = _scan(per_unit=1)
    assert sorted(zip(new.unit.tolist(), new.rep.tolist())) == [(0, 1), (1, 1)]
    assert new.cost.tolist() == [2.0, 4.0]  # the pairs come priced as the model needs them
    assert new.load.tolist() == [[1.0, 1.0]] and new.moved.tolist() == [0.0, 0.0]
    assert correction == pytest.approx(-4.0)
    assert smallest == pytest.approx(-3.0)
    assert smallest_unpicked == pytest.approx(-2.0)


def test_a_pair_that_does_not_improve_is_never_brought_in():
    new, _, _, smallest_unpicked = _scan(per_unit=2)
    assert sorted(zip(new.unit.tolist(), new.rep.tolist())) == [(0, 1), (0, 2), (1, 1)]
    assert smallest_unpicked == pytest.approx(1.0)  # u2 -> R3, rc +1, left out


def test_nearest_units_keep_every_reps_cheapest_over_many_blocks():
    """1,000 units in 40 blocks of 25, 6 reps, widest 7: the table merges eight blocks'
    worth at a time and ends holding, for every rep, exactly its 7 cheapest units of all
    1,000 (distinct costs, so the set is unique), and never more than 8 x 7 rows plus a
    block in between."""
    from territory_planner.optimize.pairs import NearestUnits

    rng = np.random.default_rng(5)
    cost = rng.permutation(6000).reshape(1000, 6).astype(float)
    nearest = NearestUnits(7)
    most = 0
    for start in range(0, 1000, 25):
        units = np.arange(start, start + 25)
        nearest.add(units, cost[units])
        most = max(most, sum(len(c) for c in nearest._costs))
    costs, units = nearest.table()
    assert costs.shape == units.shape == (7, 6)
    for j in range(6):
        assert sorted(units[:, j]) == sorted(np.argsort(cost[:, j])[:7])
        assert np.array_equal(np.sort(costs[:, j]), np.sort(cost[:, j])[:7])
    assert most <= 8 * 7 + 7
