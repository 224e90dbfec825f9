"""Column generation without rebuilding: an LP grown by extend_assignment_model and solved
with ``resume`` goes on in the same HiGHS instance, handed only its new columns, and
reaches exactly the optimum (and the row prices) of the LP built anew over all its pairs.

The hand-worked case (a generalised assignment, loads 1, each rep's capacity a band top):

    cost   R1  R2        capacity R1 = 1, R2 = 2
    u1      1   4
    u2      2   3
    u3      5   1

Over the pairs u1:{R1, R2}, u2:{R2}, u3:{R1} the LP must give R1 to u3 (its only rep), so
u1 and u2 go to R2: 4 + 3 + 5 = 12. With u2 -> R1 and u3 -> R2 priced in, the cheapest
plan gives R1's one seat to whichever of u1, u2 loses most by moving (u1: 4 - 1 = 3 against
u2: 3 - 2 = 1): u1 -> R1, u2 -> R2, u3 -> R2 = 1 + 3 + 1 = 5, and the LP (capacity rows with
unit loads: an integral polytope) has the same value.
"""

from __future__ import annotations

import numpy as np
import pytest

from territory_planner.optimize.model import (
    build_assignment_model,
    extend_assignment_model,
    read_assignment,
)
from territory_planner.optimize.pairs import all_allowed_pairs
from territory_planner.optimize.pricing import assignment_duals, reduced_costs
from territory_planner.optimize.settings import SolveSettings
from territory_planner.optimize.solvers import model_columns, run
from territory_planner.problem import assignment_problem

COST = [[1.0, 4.0], [2.0, 3.0], [5.0, 1.0]]


def _case():
    problem = assignment_problem(COST, np.ones((3, 2)), np.array([1.0, 2.0]))
    pairs = all_allowed_pairs(problem)
    first = ((pairs.unit == 0) | (pairs.rep == 1)) & ~((pairs.unit == 2) & (pairs.rep == 1))
    first |= (pairs.unit == 2) & (pairs.rep == 0)
    return problem, pairs, pairs.subset(first), pairs.subset(~first)


def _solve(model, resume: bool = True):
    return run(model, SolveSettings(), mip=False, time_limit=30, resume=resume)


def test_priced_columns_join_the_same_highs_instance_and_reach_the_full_optimum():
    problem, pairs, first, rest = _case()
    units = np.arange(problem.n_units)
    model = build_assignment_model(problem, first, units, relax=True)
    assert _solve(model).objective == pytest.approx(12.0)
    highs = model.lp.solverModel

    extend_assignment_model(model, problem, rest, relax=True)
    grown = _solve(model)

    assert model.lp.solverModel is highs  # resumed, not rebuilt
    assert highs.getNumCol() == 6 and len(model.lp.handover.columns) == 6
    assert model_columns(model) is not None  # the grown model still lists all its columns
    assert grown.objective == pytest.approx(5.0)
    rep, _ = read_assignment(model, problem.n_units)
    assert rep.tolist() == [0, 1, 1]
    fresh = build_assignment_model(problem, pairs, units, relax=True)
    assert _solve(fresh, resume=False).objective == pytest.approx(grown.objective, abs=1e-9)
    # the prices pricing reads prove it (other prices than the fresh build's may come back:
    # the LP is degenerate): no pair at 0 prices below 0, and the dual value, the rows'
    # prices times their sides plus the x <= 1 bounds' (a pair at 1 with rc < 0), is 5
    rc = reduced_costs(problem, model, model.pairs)
    at_one = model.values() > 0.5
    assert rc[~at_one].min() >= -1e-9
    duals = assignment_duals(problem, model)
    rows = duals.once.sum() + (duals.band[0] * problem.upper[0]).sum()
    assert rows + np.minimum(rc[at_one], 0.0).sum() == pytest.approx(5.0)


def test_a_resumed_lp_sees_changed_sides_and_bounds():
    problem, _, first, rest = _case()
    model = build_assignment_model(problem, first, np.arange(problem.n_units), relax=True)
    _solve(model)
    extend_assignment_model(model, problem, rest, relax=True)
    _solve(model)
    # R1 gets a second seat: u1 and u2 both to R1, u3 to R2 = 1 + 2 + 1
    model.band_max[(0, 0)].changeRHS(2.0)
    assert _solve(model).objective == pytest.approx(4.0)
    # u3 may no longer go to R2: u3 -> R1 (5), then R1's other seat to u1 (1), u2 -> R2 (3)
    closed = next(
        var for var, u, j in zip(model.x, model.pairs.unit, model.pairs.rep) if (u, j) == (2, 1)
    )
    closed.upBound = 0.0
    assert _solve(model).objective == pytest.approx(9.0)


def test_without_resume_the_grown_model_is_handed_over_whole():
    problem, _, first, rest = _case()
    model = build_assignment_model(problem, first, np.arange(problem.n_units), relax=True)
    _solve(model)
    highs = model.lp.solverModel
    extend_assignment_model(model, problem, rest, relax=True)
    assert _solve(model, resume=False).objective == pytest.approx(5.0)
    assert model.lp.solverModel is not highs


def test_a_resumed_lp_gets_its_limit_on_top_of_the_instance_s_earlier_runs(monkeypatch):
    """HiGHS holds time_limit against the clock of the instance, which keeps counting over
    its runs: a resumed LP whose instance has run for 1,000 s already is given 1,000 s plus
    its own limit (else it would stop at once, 'time limit', after no iteration)."""
    import highspy

    problem, _, first, rest = _case()
    model = build_assignment_model(problem, first, np.arange(problem.n_units), relax=True)
    _solve(model)
    extend_assignment_model(model, problem, rest, relax=True)
    monkeypatch.setattr(highspy.Highs, "getRunTime", lambda self: 1000.0)
    outcome = _solve(model)
    assert outcome.status == "optimal" and outcome.objective == pytest.approx(5.0)
    _, limit = model.lp.solverModel.getOptionValue("time_limit")
    assert 1000.0 + 25.0 < limit <= 1000.0 + 30.0
