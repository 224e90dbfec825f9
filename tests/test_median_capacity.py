"""The knapsack Lagrangian of the capacitated p-median (optimize/median_capacity.py) on
hand-worked instances: the knapsack values, the bound, the pairs it rules out, and the
optimum of a solve through it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from territory_planner.optimize.locate import solve_locate
from territory_planner.optimize.locate_model import median_problem
from territory_planner.optimize.median_capacity import (
    CapacityKnapsacks,
    capacity_knapsack_applies,
    cutoff_value,
    kept_pairs,
)
from territory_planner.optimize.median_dual import fix_sites_by_rho, inner_choice
from territory_planner.optimize.strategy import SolveSettings

EXACT = SolveSettings(gap=0.0, time_limit=30)
# four units at 0, 1, 10, 11 on a line, sites = units, load 2 each, capacity 4, 2 bases
PAIRS_LINE = np.array([0.0, 1.0, 10.0, 11.0])
PAIRS_COST = np.abs(PAIRS_LINE[:, None] - PAIRS_LINE[None, :])


def test_knapsack_value_is_the_integer_one_above_the_fractional_one():
    """One site, capacity 5, units of weight 2, 3, 4 and reduced cost -3, -4, -6 (costs 0
    with lam = 3, 4, 6). Integer: {1st, 2nd} weighs 5 and gives -7; {3rd} gives -6; the
    three weigh 9. rho = -7. The LP relaxation takes the 1st and 3/4 of the 3rd (ratios
    -1.5, -1.33, -1.5): -3 - 4.5 = -7.5, below -7: the knapsack bound is the stronger one."""
    cost = np.zeros((3, 1))
    knapsacks = CapacityKnapsacks(cost, np.array([2.0, 3.0, 4.0]), np.array([5.0]))
    rho, table = knapsacks.values(np.array([3.0, 4.0, 6.0]), np.array([0]))
    assert rho.tolist() == [-7.0]
    # F(q) for q = 0..5: nothing fits below 2; -3 at 2; -4 at 3; -6 at 4; -7 at 5
    assert table[0].tolist() == [0.0, 0.0, -3.0, -4.0, -6.0, -7.0]
    chosen = knapsacks.members(np.array([3.0, 4.0, 6.0]), np.array([0]))
    assert chosen.tolist() == [[True, True, False]]


def test_fractional_loads_are_rounded_down_to_a_relaxation():
    """Loads 0.5 and 0.7 with capacity 1.0 (0.5 + 0.7 > 1: never both). The grid makes
    the knapsack a relaxation: rho can only be at or below the exact value -2 (best single
    unit: reduced costs -1, -2)."""
    knapsacks = CapacityKnapsacks(np.zeros((2, 1)), np.array([0.5, 0.7]), np.array([1.0]))
    rho, _ = knapsacks.values(np.array([1.0, 2.0]), np.array([0]))
    assert rho[0] <= -2.0 + 1e-12


def test_bound_and_the_pairs_it_rules_out_by_hand():
    """Units at 0, 1, 10, 11, load 2, capacity 4, 2 bases; lam = 1 for every unit.

    rho[s] = the knapsack over units with c - 1 < 0: only the unit at s itself (cost 0),
    so rho = -1 everywhere and L = 4 - 1 - 1 = 2, the optimum (open one of 0/1 and one of
    10/11: cost 1 + 1). The inner choice takes sites 0 and 1 (ties by position).
    With an incumbent of 4 (integer costs: cutoff 3 + 1e-6) the pair (unit at 0, site 10),
    a site not taken, costs at least L - rho[w] + (c - lam) + F[10](4 - 2) = 2 + 1 + 9 - 1
    = 11: ruled out. The pair (unit at 1, site 0), a site taken, at least
    2 + 1 + (1 - 1) + F[0](2) = 2 + 1 + 0 - 1 = 2: kept. No site is fixed: forcing any
    site in or out leaves L at 2 (every rho equal)."""
    knapsacks = CapacityKnapsacks(PAIRS_COST, np.full(4, 2.0), np.full(4, 4.0))
    lam = np.ones(4)
    rho, table = knapsacks.values(lam, np.arange(4))
    assert rho.tolist() == [-1.0] * 4
    closed, opened = np.zeros(4, dtype=bool), np.zeros(4, dtype=bool)
    chosen = inner_choice(rho, closed, opened, 2)
    assert chosen.tolist() == [0, 1]
    value = float(lam.sum() + rho[chosen].sum())
    assert value == pytest.approx(2.0)
    cutoff = cutoff_value(4.0, integral=True)
    fix_sites_by_rho(value, rho, chosen, closed, opened, cutoff, 2)
    assert not closed.any() and not opened.any()
    keep = kept_pairs(knapsacks, lam, value, rho, table, chosen, closed, opened, cutoff)
    assert not keep[0, 2]  # unit at 0 from site 10: bound 11 >= 3
    assert keep[1, 0]  # unit at 1 from site 0: bound 2 < 3
    # every pair across the gap costs at least 9 on its own: all ruled out; within a side kept
    assert keep.tolist() == [
        [True, True, False, False],
        [True, True, False, False],
        [False, False, True, True],
        [False, False, True, True],
    ]


def test_a_site_is_closed_when_opening_it_lifts_the_bound_to_the_cutoff():
    """rho = -5, -4, 0 for three sites and one base: the inner problem takes site 0; say
    L = 5, and the incumbent costs 7 (integer costs: cutoff 6 + 1e-6). Opening site 2
    instead costs at least 5 + 0 - (-5) = 10: closed. Opening site 1: 5 - 4 + 5 = 6, below
    the cutoff: stays free. Closing site 0 (then site 1 opens): 5 + (-4) - (-5) = 6: site 0
    is not fixed open either."""
    rho = np.array([-5.0, -4.0, 0.0])
    closed, opened = np.zeros(3, dtype=bool), np.zeros(3, dtype=bool)
    chosen = inner_choice(rho, closed, opened, 1)
    assert chosen.tolist() == [0]
    fix_sites_by_rho(5.0, rho, chosen, closed, opened, cutoff_value(7.0, integral=True), 1)
    assert closed.tolist() == [False, False, True]
    assert opened.tolist() == [False, False, False]


def brute_force(cost, load, capacity, count):
    """The optimum over every choice of sites and every assignment within capacity."""
    n = len(cost)
    best = np.inf
    for plan in itertools.product(range(n), repeat=n):
        if len(set(plan)) > count:
            continue
        used = np.zeros(n)
        np.add.at(used, list(plan), load)
        if (used <= capacity + 1e-9).all():
            best = min(best, float(cost[np.arange(n), list(plan)].sum()))
    return best


def test_solve_through_the_knapsack_path_keeps_the_optimum():
    """Points 0, 1, 2, 10, 11, 12 with loads 1, 1, 1, 2, 2, 1 and capacity 4, 2 bases.
    Total load 8 fills both bases. Both bases on one side leave the other side's three
    units at >= 8 each, so one base is in {0, 1, 2} and one in {10, 11, 12}. The right
    side's load 5 exceeds 4, so a right unit crosses to the left base, which already
    carries 3: only the load-1 unit 12 fits. The left base then serves 0, 1, 2, 12: at 0
    that costs 0 + 1 + 2 + 12 = 15, at 1 or 2 it costs 13; the right base serves 10 and 11
    at cost 1 at best. Optimum 14 (the brute force over all 6^6 assignments agrees). The
    solve must reach it, prove it, and go through the knapsack dual (the phases say so)."""
    points = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    cost = np.abs(points[:, None] - points[None, :])
    load = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 1.0])
    assert capacity_knapsack_applies(median_problem(cost, loads=load[None], upper=np.array([4.0])))
    expected = brute_force(cost, load, 4.0, 2)
    result = solve_locate(cost, 2, loads=load[None], upper=np.array([4.0]), settings=EXACT)
    assert result.objective == pytest.approx(expected)
    assert result.lower_bound == pytest.approx(expected)
    assert result.status == "optimal"
    assert any(p["phase"] == "knapsack lagrangian" for p in result.phases)
    used = np.zeros(6)
    np.add.at(used, result.unit_rep, load)
    assert (used <= 4.0).all()


def test_bands_with_a_minimum_keep_the_priced_path():
    """A positive lower band is not a capacity: the knapsack path does not apply."""
    problem = median_problem(
        PAIRS_COST, loads=np.ones((1, 4)), lower=np.array([1.0]), upper=np.array([3.0])
    )
    assert not capacity_knapsack_applies(problem)
