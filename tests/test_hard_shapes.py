"""Shapes of data that used to defeat the solve: today's owners far from the bands under a
small disruption budget (proven impossible before any solve), and giant accounts, each a
large share of a band (rounded first, so the small accounts make room for them)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territory_planner import build_problem, load_data
from territory_planner.errors import InfeasibleError
from territory_planner.optimize import rounding
from territory_planner.optimize.breach import rep_loads
from territory_planner.optimize.diagnose import least_moved_for_bands, precheck
from territory_planner.optimize.model import PairSet, build_assignment_model, read_assignment
from territory_planner.optimize.pairs import all_allowed_pairs
from territory_planner.optimize.rounding import (
    INTEGRAL,
    giant_units,
    narrowed_rounds,
    pin_giants,
    restricted_model,
)
from territory_planner.optimize.settings import Clock, SolveSettings
from territory_planner.optimize.solvers import LpBasis, run
from territory_planner.scenario import parse_scenario
from tests.conftest import line_accounts, line_reps
from tests.helpers import banded_problem


def _all_with_r1(share: float):
    """The four line accounts (workload 1 each, potential 100..400), all owned by R1 today;
    a workload band of 10%: each rep's target is 2, so R2 needs at least 1.8."""
    scenario = parse_scenario(
        {
            "accounts": "a",
            "reps": "r",
            "balance": [{"metric": "workload", "tolerance": 0.1}],
            "constraints": {"max_moved_share": share},
        }
    )
    accounts = line_accounts(current_rep_id="R1")
    return build_problem(load_data(scenario, accounts=accounts, reps=line_reps()))


def test_bands_far_from_today_under_a_small_budget_are_proven_impossible():
    problem = _all_with_r1(0.2)
    # R2 needs 1.8 workload from moved accounts, the cheapest potential per workload first:
    # all of A1 (100) and 0.8 of A2 (0.8 * 200): at least 260 of 1,000 must move
    least, metric = least_moved_for_bands(problem)
    assert least == pytest.approx(260.0) and problem.metrics[metric] == "workload"
    with pytest.raises(InfeasibleError) as caught:
        precheck(problem)
    assert "allows 200.0 of potential (20.0%)" in str(caught.value)
    assert "moves at least 260.0 (26.0%)" in str(caught.value)
    assert caught.value.details[-1]["kind"] == "budget_below_band_moves"


def test_a_budget_that_covers_the_moves_passes_the_precheck():
    problem = _all_with_r1(0.3)  # 300 >= 260, and moving A1 and A2 (300) is a plan
    precheck(problem)


def _giants():
    """Ten accounts of workload 0.1 and two giants of workload 6 between two reps, a band
    of 5% on a target of 6.5 (width 0.65): a giant is 9 widths and 60 times the typical
    account, a small account 0.15 widths."""
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(12)],
            "lat": 0.0,
            "lon": np.r_[np.linspace(1, 9, 10), 4.9, 5.1],
            "workload": np.r_[np.full(10, 0.1), 6.0, 6.0],
            "potential": 1.0,
        }
    )
    scenario = parse_scenario(
        {"accounts": "a", "reps": "r", "balance": [{"metric": "workload", "tolerance": 0.05}]}
    )
    return build_problem(load_data(scenario, accounts=accounts, reps=line_reps()))


def test_giants_are_the_accounts_a_band_cannot_absorb():
    problem = _giants()
    assert problem.unit_ids[giant_units(problem)].tolist() == ["A10", "A11"]


def test_split_giants_are_pinned_to_their_larger_share():
    problem = _giants()
    pairs: PairSet = all_allowed_pairs(problem)
    model = build_assignment_model(problem, pairs, np.arange(problem.n_units), relax=True)
    a10 = int(np.flatnonzero(problem.unit_ids == "A10")[0])
    # split A10 by hand: its pair to R1 at most 0.4, so the LP gives R2 the larger share
    r1 = int(np.flatnonzero((pairs.unit == a10) & (pairs.rep == 0))[0])
    model.x[r1].upBound = 0.4
    assert run(model, SolveSettings(), mip=False, time_limit=30).status == "optimal"
    rep, share = read_assignment(model, problem.n_units)
    assert share[a10] < 1.0 and rep[a10] == 1
    pinned = pin_giants(problem, model)
    # A11 splits too, to even out A10's share; each giant keeps only its larger share's rep
    assert model.x[r1] in [variable for variable, _ in pinned]
    assert all(variable.upBound == 0.0 for variable, _ in pinned)
    assert run(model, SolveSettings(), mip=False, time_limit=30).status == "optimal"
    rep, share = read_assignment(model, problem.n_units)
    assert (share[giant_units(problem)] == pytest.approx(1.0)) and rep[a10] == 1
    # the old bounds come back with the list pin_giants returns
    for variable, upper in pinned:
        variable.upBound = upper
    assert model.x[r1].upBound == 0.4


def _metros_with_giants(seed: int):
    """400 accounts around five metros, 8 reps; 2% of the accounts hold 20% of the
    workload; bands of 5% on workload and 10% on potential."""
    rng = np.random.default_rng(seed)
    n = 400
    centers = rng.uniform([30, -100], [40, -80], (5, 2))
    metro = rng.integers(0, 5, n)
    lat = centers[metro, 0] + rng.normal(0, 0.5, n)
    lon = centers[metro, 1] + rng.normal(0, 0.5, n)
    workload = np.round(rng.lognormal(0, 0.5, n), 2)
    top = rng.choice(n, n // 50, replace=False)
    rest = np.setdiff1d(np.arange(n), top)
    workload[top] *= 0.25 * workload[rest].sum() / workload[top].sum()
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n)],
            "lat": lat,
            "lon": lon,
            "workload": np.round(workload, 2),
            "potential": np.round(rng.lognormal(0, 0.5, n), 2),
        }
    )
    homes = rng.integers(0, n, 8)
    reps = pd.DataFrame(
        {"rep_id": [f"R{j}" for j in range(8)], "lat": lat[homes], "lon": lon[homes]}
    )
    return banded_problem(accounts, reps, workload=0.05, potential=0.1)


def _narrowed_breach(problem) -> float:
    pairs = all_allowed_pairs(problem)
    lp = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=True, slack_penalty=1e9
    )
    assert run(lp, SolveSettings(), mip=False, time_limit=30).status == "optimal"
    rep, placed = read_assignment(lp, problem.n_units)
    fractional = np.flatnonzero(placed < INTEGRAL)
    assert len(np.intersect1d(fractional, giant_units(problem)))  # the LP splits giants
    in_place = restricted_model(problem, pairs, rep, fractional, name="finish")
    assert run(in_place, SolveSettings(), mip=True, time_limit=30).status == "infeasible"
    _, breach = narrowed_rounds(
        problem, pairs, lp, LpBasis.capture(lp), SolveSettings(), Clock(60.0), log=_no_log
    )
    return breach


def _no_log(*args, **kwargs) -> None:
    return None


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_pinned_giants_let_the_narrowed_rounds_reach_a_whole_plan(seed, monkeypatch):
    # the narrowing alone: the boundary round (tested below) would find a plan either way
    monkeypatch.setattr(rounding, "boundary_round", lambda *args, **kwargs: None)
    problem = _metros_with_giants(seed)
    assert _narrowed_breach(problem) == 0.0
    # the same rounds with the giants left to round with the rest break some band
    monkeypatch.setattr(rounding, "pin_giants", lambda problem, model: [])
    assert _narrowed_breach(problem) > 1e-3


def _lp_with_giants_pinned(seed: int, monkeypatch, pin_rounds: int):
    problem = _metros_with_giants(seed)
    pairs = all_allowed_pairs(problem)
    lp = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=True, slack_penalty=1e9
    )
    assert run(lp, SolveSettings(), mip=False, time_limit=30).status == "optimal"
    monkeypatch.setattr(rounding, "PIN_ROUNDS", pin_rounds)
    scopes = []
    rounding.resolve_with_giants_pinned(
        problem,
        lp,
        LpBasis.capture(lp),
        SolveSettings(),
        Clock(60.0),
        lambda *a, **k: scopes.append(k["scope"]),
    )
    _, placed = read_assignment(lp, problem.n_units)
    split = np.intersect1d(np.flatnonzero(placed < INTEGRAL), giant_units(problem))
    return problem, pairs, lp, scopes, split


def test_giants_are_pinned_again_while_the_re_solved_lp_splits_others(monkeypatch):
    # seed 9: the LP splits three giants; pinned, the LP splits two others
    *_, scopes, split = _lp_with_giants_pinned(9, monkeypatch, pin_rounds=1)
    assert scopes == ["split giants pinned (21 pairs closed)"] and len(split) == 2
    *_, scopes, split = _lp_with_giants_pinned(9, monkeypatch, pin_rounds=10)
    assert scopes == [
        "split giants pinned (21 pairs closed)",
        "split giants pinned (14 pairs closed)",
    ]
    assert len(split) == 0


@pytest.mark.parametrize("seed", [2, 9])
def test_the_boundary_round_holds_the_giants_the_lp_does_not_split(seed, monkeypatch):
    problem, pairs, lp, _, split = _lp_with_giants_pinned(seed, monkeypatch, pin_rounds=10)
    assert len(split) == 0
    freed = []
    real_model = rounding.restricted_model

    def recording(problem, pairs, base, free, name, slack_penalty=None):
        freed.append(free)
        return real_model(problem, pairs, base, free, name, slack_penalty)

    monkeypatch.setattr(rounding, "restricted_model", recording)
    plan = rounding.boundary_round(problem, pairs, lp, SolveSettings(), Clock(60.0), _no_log)
    rep, _ = read_assignment(lp, problem.n_units)
    assert len(np.intersect1d(freed[0], giant_units(problem))) == 0
    # a whole plan: every band holds, the giants where the pinned LP put them
    loads = rep_loads(problem, plan)
    assert (loads >= problem.lower - 1e-9).all() and (loads <= problem.upper + 1e-9).all()
    assert (plan[giant_units(problem)] == rep[giant_units(problem)]).all()
