"""The parts of the solve strategy that make large instances fast: the aggregate flow LP that
adds far-travelling candidate pairs, and the windows of reps that repair and improve a plan.

Both are heuristics for the plan, never for the bound, so the tests check what each must
achieve on instances small enough to know the answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territory_planner import build_problem, load_data
from territory_planner.optimize import rounding
from territory_planner.optimize.breach import band_excess, rep_loads
from territory_planner.optimize.model import build_assignment_model, read_assignment
from territory_planner.optimize.pairs import (
    CellSums,
    all_allowed_pairs,
    candidate_pairs,
    flow_pairs,
    union_pairs,
)
from territory_planner.optimize.pricing import relative_slack
from territory_planner.optimize.results import objective_of
from territory_planner.optimize.rounding import (
    INTEGRAL,
    alternative_cost,
    boundary_round,
    narrow_rows,
    narrowed_rounds,
    restricted_model,
)
from territory_planner.optimize.settings import Clock, SolveSettings
from territory_planner.optimize.solvers import LpBasis, run
from territory_planner.optimize.windows import Windows, improve_by_windows
from territory_planner.scenario import parse_scenario
from tests.helpers import DEG_KM, banded_problem, line_accounts, line_reps, scattered_problem


def _west_and_east():
    """30 accounts around one rep in the west, 10 around three reps in the east, workload 1
    each, one band of 10%: every rep's target is 40 / 4 = 10, so 20 western accounts must
    travel east, though each one's nearest rep is the western one."""
    rng = np.random.default_rng(3)
    lat = np.r_[37.0 + rng.normal(0, 0.1, 30), 40.0 + rng.normal(0, 0.1, 10)]
    lon = np.r_[-120.0 + rng.normal(0, 0.1, 30), -75.0 + rng.normal(0, 0.1, 10)]
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(40)],
            "lat": lat,
            "lon": lon,
            "workload": 1.0,
            "potential": 1.0,
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["W", "E1", "E2", "E3"],
            "lat": [37.0, 40.1, 39.9, 40.0],
            "lon": [-120.0, -75.1, -74.9, -75.0],
        }
    )
    scenario = parse_scenario(
        {"accounts": "a", "reps": "r", "balance": [{"metric": "workload", "tolerance": 0.1}]}
    )
    return build_problem(load_data(scenario, accounts=accounts, reps=reps))


def _lp_slack(problem, pairs) -> float:
    model = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=True, slack_penalty=1e9
    )
    outcome = run(model, SolveSettings(), mip=False, time_limit=30)
    assert outcome.status == "optimal"
    return relative_slack(problem, model)


def test_flow_pairs_let_load_travel_where_nearest_reps_cannot_take_it():
    problem = _west_and_east()
    cells = CellSums(problem)
    nearest, allowed = candidate_pairs(problem, 1, rep_side=0.0, cells=cells)
    assert allowed == 160 and len(nearest) == 40
    # with its nearest rep only, the western rep carries 30 against a band of 9 to 11
    assert _lp_slack(problem, nearest) == pytest.approx(
        (30 - 11) / 10 + 3 * (9 - 10 / 3) / 10, rel=1e-6
    )
    east = problem.rep_ids != "W"
    assert cells.size[~east].tolist() == [30] and cells.size[east].sum() == 10
    travel = flow_pairs(problem, cells, SolveSettings(), time_limit=30)
    west = np.flatnonzero(problem.rep_ids == "W")[0]
    # at least the 20 western accounts that must travel east are offered eastern reps
    assert travel is not None
    from_west = problem.account_lon[travel.unit] < -100
    assert (travel.rep[from_west] != west).all()
    assert len(np.unique(travel.unit[from_west])) >= 20
    assert _lp_slack(problem, union_pairs(problem, nearest, travel)) == pytest.approx(0.0, abs=1e-9)


def _three_reps():
    """30 accounts on a line between three reps; workload 1 to 3, bands of 5%: the nearest-
    rep plan breaks them, the optimum is known from the exact MILP over every pair."""
    rng = np.random.default_rng(11)
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(30)],
            "lat": rng.uniform(-0.5, 0.5, 30),
            "lon": rng.uniform(0, 4, 30),
            "workload": rng.integers(1, 4, 30).astype(float),
            "potential": 1.0,
        }
    )
    reps = pd.DataFrame(
        {"rep_id": ["R1", "R2", "R3"], "lat": [0.0, 0.0, 0.0], "lon": [0.2, 0.6, 3.8]}
    )
    scenario = parse_scenario(
        {"accounts": "a", "reps": "r", "balance": [{"metric": "workload", "tolerance": 0.05}]}
    )
    return build_problem(load_data(scenario, accounts=accounts, reps=reps))


def _windows(problem, pairs, plan, first, clock_seconds, done=None, **options):
    """improve_by_windows from ``plan`` with nothing logged; ``done`` by default never says
    stop. Returns (plan, objective, breach)."""
    return improve_by_windows(
        problem,
        pairs,
        plan,
        objective_of(problem, plan),
        SolveSettings(),
        Clock(clock_seconds),
        done=done or (lambda objective, excess: False),
        log=lambda *a, **k: None,
        first=first,
        **options,
    )


def test_a_window_over_every_rep_repairs_broken_bands_and_reaches_the_optimum():
    problem = _three_reps()
    pairs = all_allowed_pairs(problem)
    nearest = problem.cost_block(np.arange(problem.n_units)).argmin(axis=1)
    assert band_excess(problem, rep_loads(problem, nearest)).sum() > 0.1
    exact = build_assignment_model(problem, pairs, np.arange(problem.n_units), relax=False)
    optimum = run(exact, SolveSettings(), mip=True, time_limit=30, gap=0.0)
    assert optimum.status == "optimal"
    plan, objective, excess = _windows(
        problem, pairs, nearest, np.arange(problem.n_reps), 30.0, size=3, gap=0.0
    )
    assert excess == 0.0
    assert band_excess(problem, rep_loads(problem, plan)).max() == 0.0
    assert objective == pytest.approx(objective_of(problem, plan), rel=1e-9)
    assert objective == pytest.approx(optimum.objective, rel=1e-6)


def test_windows_mend_broken_bands_and_stop_when_told():
    problem = _three_reps()
    pairs = all_allowed_pairs(problem)
    nearest = problem.cost_block(np.arange(problem.n_units)).argmin(axis=1)
    start_cost = objective_of(problem, nearest)
    # two-rep windows, told to stop as soon as every band holds
    calls = []

    def done(objective, excess):
        calls.append((objective, excess))
        return excess == 0.0

    plan, objective, excess = _windows(
        problem, pairs, nearest, np.arange(problem.n_reps), 30.0, done=done, size=2
    )
    assert calls[0] == (
        start_cost,
        pytest.approx(band_excess(problem, rep_loads(problem, nearest)).sum()),
    )
    assert excess == 0.0 and band_excess(problem, rep_loads(problem, plan)).max() == 0.0
    # asked before every window: once it said stop, no window ran (the sweep's own check
    # asks once more)
    assert [e for _, e in calls].count(0.0) <= 2
    assert objective == pytest.approx(objective_of(problem, plan), rel=1e-9)


def _clustered(seed: int):
    """400 accounts in five clusters, eight reps, skewed workload and potential, both bands
    at 3%: tight enough that the LP splits accounts which cannot all be rounded in place."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform([36, -100], [42, -85], size=(5, 2))
    cluster = rng.integers(0, 5, 400)
    lat = centers[cluster, 0] + rng.normal(0, 0.5, 400)
    lon = centers[cluster, 1] + rng.normal(0, 0.5, 400)
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(400)],
            "lat": lat,
            "lon": lon,
            "workload": np.round(rng.lognormal(0, 0.6, 400), 2),
            "potential": np.round(rng.lognormal(0, 0.6, 400), 2),
        }
    )
    homes = rng.integers(0, 400, 8)
    reps = pd.DataFrame(
        {"rep_id": [f"R{j}" for j in range(8)], "lat": lat[homes], "lon": lon[homes]}
    )
    return banded_problem(accounts, reps, workload=0.03, potential=0.03)


@pytest.mark.parametrize("seed", [4, 5])
def test_narrowed_bands_round_the_lp_where_rounding_in_place_cannot(seed, monkeypatch):
    # the narrowing alone: the boundary round is tested on its own
    monkeypatch.setattr(rounding, "boundary_round", lambda *args, **kwargs: None)
    problem = _clustered(seed)
    pairs = all_allowed_pairs(problem)
    settings = SolveSettings()
    lp = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=True, slack_penalty=1e9
    )
    bound = run(lp, settings, mip=False, time_limit=30)
    assert bound.status == "optimal" and relative_slack(problem, lp) == 0.0
    rep, placed = read_assignment(lp, problem.n_units)
    fractional = np.flatnonzero(placed < INTEGRAL)
    # the fractional units alone, every other unit where the LP put it: no plan exists
    in_place = restricted_model(problem, pairs, rep, fractional, name="finish")
    assert run(in_place, settings, mip=True, time_limit=30).status == "infeasible"
    true_sides = {row.name: row.constant for row in lp.lp.constraints()}

    plan, breach = narrowed_rounds(
        problem, pairs, lp, LpBasis.capture(lp), settings, Clock(60.0), log=lambda *a, **k: None
    )
    assert breach == 0.0
    loads = rep_loads(problem, plan)
    assert (loads >= problem.lower - 1e-9).all() and (loads <= problem.upper + 1e-9).all()
    # a whole plan costs at least the LP bound; the LP's rows are back at the true bands
    assert objective_of(problem, plan) >= bound.objective - 1e-6
    assert {row.name: row.constant for row in lp.lp.constraints()} == true_sides


def test_narrowed_rows_move_every_band_and_the_budget_inward_and_back():
    """Four accounts (workload 1 each, potential 100..400), all with R1 today; workload band
    of 25% (target 2: 1.5 to 2.5) and at most half the potential (500) may move. Narrowing
    R1 by 0.2, R2 by 0.3 and the budget by 100 gives 1.7..2.3, 1.8..2.2 and 400; the LP then
    keeps within them; zero margins give the true sides back."""
    scenario = parse_scenario(
        {
            "accounts": "a",
            "reps": "r",
            "balance": [{"metric": "workload", "tolerance": 0.25}],
            "constraints": {"max_moved_share": 0.5},
        }
    )
    problem = build_problem(
        load_data(scenario, accounts=line_accounts(current_rep_id="R1"), reps=line_reps())
    )
    assert problem.max_moved_potential == pytest.approx(500.0)
    model = build_assignment_model(
        problem, all_allowed_pairs(problem), np.arange(problem.n_units), relax=True
    )

    def sides():
        return (
            [-model.band_min[(0, j)].constant for j in range(2)],
            [-model.band_max[(0, j)].constant for j in range(2)],
            -model.budget.constant,
        )

    assert sides() == ([1.5, 1.5], [2.5, 2.5], 500.0)
    narrow_rows(problem, model, np.array([[0.2, 0.3]]), 100.0)
    assert sides() == (pytest.approx([1.7, 1.8]), pytest.approx([2.3, 2.2]), 400.0)
    assert run(model, SolveSettings(), mip=False, time_limit=30).status == "optimal"
    x = model.values()
    loads = np.bincount(model.pairs.rep, weights=x * model.pairs.load[0], minlength=2)
    assert (loads >= [1.7 - 1e-9, 1.8 - 1e-9]).all() and (loads <= [2.3 + 1e-9, 2.2 + 1e-9]).all()
    assert float((x * model.pairs.moved).sum()) <= 400.0 + 1e-6
    narrow_rows(problem, model, np.zeros((1, 2)), 0.0)
    assert sides() == ([1.5, 1.5], [2.5, 2.5], 500.0)


def _split_middle():
    """Five accounts on the equator between R1 (longitude 0) and R2 (10): S1 at 1, S2 at 4,
    M at 4.5 (workload 2), T1 at 6, T2 at 9 (workload 1 each); a workload band of 10%
    (target 3: 2.7 to 3.3). Travel is distance times workload, in degrees d.

    Nearest reps put S1, S2 and M (4) with R1: 0.7 must go to R2, cheapest from M (1 d per
    workload, against 2 for S2 and 8 for S1), so the LP sends 0.35 of M to R2 at 19.7 d.
    M whole on either side breaks a band; the plans: M with R1 and S2 to R2 (21 d), M with
    R2 and T1 to R1 (23 d), M with R1 and S1 to R2 (27 d). With the bands' prices (1 d per
    workload from R1 to R2) moving S1, S2, T1, T2 costs 7, 1, 3 and 9 d."""
    accounts = pd.DataFrame(
        {
            "account_id": ["S1", "S2", "M", "T1", "T2"],
            "lat": 0.0,
            "lon": [1.0, 4.0, 4.5, 6.0, 9.0],
            "workload": [1.0, 1.0, 2.0, 1.0, 1.0],
            "potential": 1.0,
        }
    )
    reps = pd.DataFrame({"rep_id": ["R1", "R2"], "lat": [0.0, 0.0], "lon": [0.0, 10.0]})
    scenario = parse_scenario(
        {"accounts": "a", "reps": "r", "balance": [{"metric": "workload", "tolerance": 0.1}]}
    )
    problem = build_problem(load_data(scenario, accounts=accounts, reps=reps))
    pairs = all_allowed_pairs(problem)
    lp = build_assignment_model(problem, pairs, np.arange(5), relax=True, slack_penalty=1e9)
    outcome = run(lp, SolveSettings(), mip=False, time_limit=30)
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(19.7 * DEG_KM)
    return problem, pairs, lp


def _by_id(problem, values) -> dict:
    return dict(zip(problem.unit_ids.tolist(), np.asarray(values).tolist(), strict=True))


def test_alternative_cost_prices_a_move_from_the_units_own_pair():
    problem, _, lp = _split_middle()
    rep, placed = read_assignment(lp, problem.n_units)
    fractional = np.flatnonzero(placed < INTEGRAL)
    assert problem.unit_ids[fractional].tolist() == ["M"]
    cheapness = _by_id(problem, alternative_cost(problem, lp, rep, fractional) / DEG_KM)
    assert cheapness.pop("M") == -np.inf
    assert cheapness == {
        "S1": pytest.approx(7.0),
        "S2": pytest.approx(1.0),
        "T1": pytest.approx(3.0),
        "T2": pytest.approx(9.0),
    }


@pytest.mark.parametrize("share, freed", [(0.2, 2), (0.4, 3)])
def test_the_boundary_round_frees_the_cheapest_moves_and_finds_the_whole_plan(
    share, freed, monkeypatch
):
    problem, pairs, lp = _split_middle()
    monkeypatch.setattr(rounding, "ROUNDING_BOUNDARY_SHARE", share)
    logged = []
    plan = boundary_round(
        problem, pairs, lp, SolveSettings(gap=0.0), Clock(30.0), lambda *a, **k: logged.append(k)
    )
    # M and S2 (then T1) free: M stays with R1 and S2 goes to R2, the 21 d optimum
    assert logged[0]["free_units"] == freed
    assert _by_id(problem, problem.rep_ids[plan]) == {
        "M": "R1",
        "S1": "R1",
        "S2": "R2",
        "T1": "R2",
        "T2": "R2",
    }
    assert objective_of(problem, plan) == pytest.approx(21.0 * DEG_KM)
    exact = build_assignment_model(problem, pairs, np.arange(5), relax=False)
    optimum = run(exact, SolveSettings(), mip=True, time_limit=30, gap=0.0)
    assert optimum.objective == pytest.approx(21.0 * DEG_KM)


def test_the_boundary_round_gives_up_without_boundary_units(monkeypatch):
    problem, pairs, lp = _split_middle()
    monkeypatch.setattr(rounding, "ROUNDING_BOUNDARY_SHARE", 0.0)
    logged = []
    plan = boundary_round(
        problem, pairs, lp, SolveSettings(), Clock(30.0), lambda *a, **k: logged.append(a)
    )
    # M alone is the rounding in place, which breaks a band: no MILP is even built
    assert plan is None and logged == []


def test_windows_mend_every_broken_band_before_any_improving_window(monkeypatch):
    # the nearest-rep plan of 600 scattered accounts breaks the bands of most of 24 reps;
    # an improving window built while another rep's bands still break is time a whole
    # plan needed (clustered 100,000 x 500 ran out with three reps broken)
    problem = scattered_problem(n_accounts=600, n_reps=24, seed=0)
    pairs = all_allowed_pairs(problem)
    nearest = problem.cost_block(np.arange(problem.n_units)).argmin(axis=1)
    broken = np.flatnonzero(band_excess(problem, rep_loads(problem, nearest)).sum(axis=0) > 0)
    assert len(broken) >= 18
    built = []
    window_of = Windows._window

    def recording(self, j, mend, width=None):
        built.append((mend, self.breach()))
        return window_of(self, j, mend, width)

    monkeypatch.setattr(Windows, "_window", recording)
    plan, objective, excess = _windows(problem, pairs, nearest, broken, 60.0, size=2)
    assert excess == 0.0 and band_excess(problem, rep_loads(problem, plan)).max() == 0.0
    improving = [breach for mend, breach in built if not mend]
    assert improving and max(improving) == 0.0
    assert sum(mend for mend, _ in built) >= 2
