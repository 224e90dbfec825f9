"""The infeasibility explanation: over the pairs it is given, within the user's time limit.

Four accounts with workload 1 each (conftest.line_accounts), two reps, workload band of 0%
around the target 2: every plan giving each rep two accounts holds the band.
"""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from territory_planner import InfeasibleError, build_problem, load_data, load_scenario, plan
from territory_planner.optimize.diagnose import explain_infeasibility
from territory_planner.optimize.pairs import all_allowed_pairs, pairs_for
from territory_planner.optimize.settings import SolveSettings
from territory_planner.scenario import parse_scenario
from tests.helpers import line_accounts, line_reps

WORKLOAD_EXACT = [{"metric": "workload", "tolerance": 0.0}]


def _line_problem():
    scenario = parse_scenario({"accounts": "a", "reps": "r", "balance": WORKLOAD_EXACT})
    return build_problem(load_data(scenario, accounts=line_accounts(), reps=line_reps()))


def test_the_explanation_reads_the_pairs_it_is_given():
    """Over every allowed pair the bands hold (no band needs slack); over the pairs to R1
    alone, R1 gets all four accounts: 2 above its band, and R2 2 below it."""
    problem = _line_problem()
    settings = SolveSettings(time_limit=10)
    with pytest.raises(InfeasibleError) as everything:
        explain_infeasibility(problem, all_allowed_pairs(problem), settings)
    assert everything.value.details == []
    assert "no single band explains it" in str(everything.value)

    r1 = list(problem.rep_ids).index("R1")
    units = np.arange(problem.n_units)
    only_r1 = pairs_for(problem, units, np.full(problem.n_units, r1))
    with pytest.raises(InfeasibleError) as restricted:
        explain_infeasibility(problem, only_r1, settings)
    text = str(restricted.value)
    assert "rep R1 would need 2.0 less workload" in text
    assert "rep R2 would need 2.0 more workload" in text
    slack = {(d["kind"], d["rep_id"]): d["slack"] for d in restricted.value.details}
    assert slack == {("over", "R1"): pytest.approx(2.0), ("short", "R2"): pytest.approx(2.0)}


def test_the_diagnosis_keeps_to_the_users_time_limit(tiny, monkeypatch):
    """Potential 100, 200, 300, 500 with 0% bands on workload and potential: the LP holds
    the bands, no whole-account plan does, so the elastic MILP explains; with a time limit
    of 2 s it may not be handed more than 2 s (it used to get at least 30 s)."""
    limits: dict[str, list[float]] = {}
    solve = pulp.LpProblem.solve

    def recording(lp, solver=None, **kwargs):
        limits.setdefault(lp.name, []).append(solver.timeLimit)
        return solve(lp, solver, **kwargs)

    monkeypatch.setattr(pulp.LpProblem, "solve", recording)
    both = WORKLOAD_EXACT + [{"metric": "potential", "tolerance": 0.0}]
    accounts = line_accounts(potential=[100.0, 200.0, 300.0, 500.0])
    scenario = tiny(accounts=accounts, balance=both, solver={"gap": 0.0, "time_limit": 2})
    with pytest.raises(InfeasibleError, match="rep R1 would need 50.0 less potential"):
        plan(load_scenario(scenario))
    assert limits["elastic"] and all(0 < limit <= 2.0 for limit in limits["elastic"])


def test_an_account_heavier_than_every_band_is_named_before_solving():
    """Workloads 1, 1, 1 and 9 on the line, two reps, workload 10%: the total 12 gives each
    rep the target 6 and the band [5.4, 6.6]. A4 alone carries 9 > 6.6, so no plan exists;
    the precheck names A4, its 9 and the largest upper band 6.6, and no rep's band."""
    scenario = parse_scenario(
        {"accounts": "a", "reps": "r", "balance": [{"metric": "workload", "tolerance": 0.1}]}
    )
    accounts = line_accounts(workload=[1.0, 1.0, 1.0, 9.0])
    problem = build_problem(load_data(scenario, accounts=accounts, reps=line_reps()))
    from territory_planner.optimize.diagnose import precheck

    with pytest.raises(InfeasibleError) as raised:
        precheck(problem)
    text = str(raised.value)
    assert "account A4 alone carries 9.0 workload" in text
    assert "(at most 6.6)" in text
    assert "rep R" not in text
    assert raised.value.details == [
        {"kind": "account_over_band", "account_id": "A4", "metric": "workload", "load": 9.0}
    ]


def test_a_breach_below_a_tenth_is_said_with_its_digits():
    """0.025 of workload short reads '0.025', not '0.0'; whole numbers keep one decimal."""
    from territory_planner.optimize.diagnose import _fmt

    assert _fmt(0.025) == "0.025"
    assert _fmt(-0.004) == "-0.004"
    assert _fmt(2.0) == "2.0" and _fmt(0.0) == "0.0" and _fmt(2_500_000.4) == "2,500,000"
