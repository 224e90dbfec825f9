"""The bands' prices before the first LP (optimize/band_prices.py).

The hand-worked case (a generalised assignment, unit loads, each rep's capacity a band top):

    cost   R1  R2        capacity R1 = 1, R2 = 2
    u1      1   4
    u2      2   3
    u3      5   1

The candidates are each unit's cheapest rep alone: u1, u2 -> R1 and u3 -> R2, two units on
R1 against its capacity 1, so no plan over them holds the bands and their dual is unbounded.
The LP optimum over every pair is u1 -> R1, u2 -> R2, u3 -> R2 = 1 + 3 + 1 = 5, with the
price mu = 1 on R1's capacity (moving u2 costs 3 - 2 = 1; y = -mu = -1). At those prices

    L = min(1 + 1, 4) + min(2 + 1, 3) + min(5 + 1, 1) - 1 * 1 = 2 + 3 + 1 - 1 = 5,

the LP optimum (so are prices with the same difference between R1 and R2, or mu up to 3:
the dual's maximum is flat there, so the test asserts the bound, not the prices); and the
pair the bands need, (u2, R2), is cheap at them (3, a tie with
R1's 2 + 1), so pricing must bring it in.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from territory_planner.optimize.band_prices import band_prices
from territory_planner.optimize.model import build_assignment_model
from territory_planner.optimize.pairs import all_allowed_pairs, candidate_pairs, pairs_for
from territory_planner.optimize.settings import Clock, SolveSettings
from territory_planner.optimize.solvers import run
from territory_planner.problem import assignment_problem
from tests.helpers import scattered_problem

COST = [[1.0, 4.0], [2.0, 3.0], [5.0, 1.0]]


def _lp_optimum(problem) -> float:
    units = np.arange(problem.n_units)
    model = build_assignment_model(problem, all_allowed_pairs(problem), units, relax=True)
    outcome = run(model, SolveSettings(), mip=False, time_limit=60)
    assert outcome.status == "optimal"
    return outcome.objective


def test_the_prices_reach_the_lp_optimum_and_bring_in_the_pair_the_bands_need():
    problem = assignment_problem(COST, np.ones((3, 2)), np.array([1.0, 2.0]))
    cheapest_only = pairs_for(problem, np.array([0, 1, 2]), np.array([0, 0, 1]))

    prices = band_prices(problem, cheapest_only, Clock(30))

    assert prices.bound <= 5.0 + 1e-9  # a proven bound never passes the optimum
    assert prices.bound >= 5.0 - 0.01
    joined = set(zip(prices.joined.unit.tolist(), prices.joined.rep.tolist()))
    assert (1, 1) in joined  # u2 -> R2


def test_on_scattered_accounts_the_bound_is_valid_and_close_to_the_lp():
    problem = scattered_problem(400, 10, seed=3)
    pairs, _ = candidate_pairs(problem, 2)
    lp = _lp_optimum(problem)

    prices = band_prices(problem, pairs, Clock(60))

    assert prices.bound <= lp + 1e-6 * abs(lp)
    assert prices.bound >= lp * (1 - 0.005)
    assert prices.joined is not None  # two candidates a unit cannot hold these bands


def test_the_disruption_budget_is_priced_too():
    """Today's owners far from balanced (everyone on the first two reps) and at most a
    tenth of the potential may move: the budget binds, and its price keeps the bound
    valid and close."""
    base = scattered_problem(300, 6, seed=5)
    current = (np.arange(base.n_units) % 2).astype(int)
    problem = dataclasses.replace(
        base,
        current_rep=current,
        disruption_weight=0.0,
        max_moved_potential=0.6 * float(base.account_potential.sum()),
    )
    pairs, _ = candidate_pairs(problem, 2)
    lp = _lp_optimum(problem)

    prices = band_prices(problem, pairs, Clock(60))

    assert prices.budget > 0
    assert prices.bound <= lp + 1e-6 * abs(lp)
    assert prices.bound >= lp * (1 - 0.005)
