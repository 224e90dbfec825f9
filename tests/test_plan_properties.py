"""Invariants of every plan, on random small instances (hypothesis), and the honesty of the
bound when candidate pairs are sparsified and priced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory_planner import InfeasibleError, load_data, plan
from territory_planner.optimize.model import build_assignment_model
from territory_planner.optimize.pairs import all_allowed_pairs
from territory_planner.optimize.strategy import SolveSettings, run, solve_assignment
from territory_planner.scenario import parse_scenario
from tests.helpers import scattered_problem

pytestmark = pytest.mark.slow  # a demo-size, fuzz, cluster or browser run


@st.composite
def instances(draw):
    n_acc = draw(st.integers(4, 14))
    n_rep = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{j}" for j in range(n_rep)],
            "lat": rng.uniform(30, 45, n_rep),
            "lon": rng.uniform(-110, -80, n_rep),
            "capacity": rng.choice([0.5, 1.0, 1.0], n_rep),
        }
    )
    status = ["active"] * n_rep
    if n_rep >= 3 and draw(st.booleans()):
        status[draw(st.integers(0, n_rep - 1))] = "leaving"
    reps["status"] = status
    owners = rng.choice(reps["rep_id"], n_acc)
    locked = rng.random(n_acc) < 0.15
    leaving = set(reps.loc[reps["status"] == "leaving", "rep_id"])
    locked &= ~np.isin(owners, list(leaving))
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(n_acc)],
            "lat": rng.uniform(30, 45, n_acc),
            "lon": rng.uniform(-110, -80, n_acc),
            "workload": rng.integers(1, 20, n_acc).astype(float),
            "potential": rng.integers(0, 100, n_acc).astype(float),
            "current_rep_id": owners,
            "locked": locked,
        }
    )
    tolerance = draw(st.sampled_from([0.1, 0.25, 0.5, 1.0]))
    return accounts, reps, tolerance


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_every_plan_assigns_once_holds_bands_keeps_locks_and_empties_leavers(case):
    accounts, reps, tolerance = case
    scenario = parse_scenario(
        {
            "accounts": "a.csv",
            "reps": "r.csv",
            "balance": [{"metric": "workload", "tolerance": tolerance}],
            "solver": {"time_limit": 20, "gap": 0.0},
        }
    )
    try:
        made = plan(load_data(scenario, accounts=accounts, reps=reps))
    except InfeasibleError as error:
        assert error.reasons  # an impossible instance must say why
        return
    assignments = made.assignments
    assert sorted(assignments["account_id"]) == sorted(accounts["account_id"])
    assert assignments["account_id"].is_unique
    leaving = set(reps.loc[reps["status"] == "leaving", "rep_id"])
    assert not set(assignments["rep_id"]) & leaving
    rep_of = dict(zip(assignments["account_id"], assignments["rep_id"]))
    for _, row in accounts[accounts["locked"]].iterrows():
        assert rep_of[row["account_id"]] == row["current_rep_id"]
    territories = made.territories[made.territories["status"] != "leaving"]
    deviation = territories["workload_deviation"].abs()
    assert (deviation <= tolerance + 1e-6).all()
    assert made.summary["lower_bound"] <= made.summary["objective"] + 1e-6
    assert made.summary["gap"] <= 1e-6  # gap target 0 on a tiny instance: proven optimal


def test_sparse_candidates_with_pricing_give_a_valid_bound():
    """200 accounts, 8 reps, only 2 candidate reps per account at first: the bound the
    strategy reports must not exceed the true optimum (computed over all pairs with a
    proven-optimal MILP), and its plan must not beat it."""
    problem = scattered_problem()
    sparse = solve_assignment(
        problem, SolveSettings(candidates=2, full_model_pairs=0, gap=0.001, time_limit=60)
    )
    assert sparse.candidate_pairs < sparse.total_pairs == 1600
    exact = build_assignment_model(
        problem, all_allowed_pairs(problem), np.arange(problem.n_units), relax=False
    )
    outcome = run(exact, SolveSettings(gap=0.0, time_limit=60), mip=True, time_limit=60, gap=0.0)
    assert outcome.status == "optimal"
    assert sparse.lower_bound <= outcome.objective + 1e-6 * outcome.objective
    assert sparse.objective >= outcome.objective - 1e-6 * outcome.objective
    assert sparse.gap == pytest.approx((sparse.objective - sparse.lower_bound) / sparse.objective)
