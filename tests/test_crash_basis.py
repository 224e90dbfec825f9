"""The assignment LP's first basis: every unit on its cheapest candidate rep
(optimize/crash_basis.py).

The hand-worked case (a generalised assignment, unit loads, each rep's capacity a band top):

    cost   R1  R2        capacity R1 = 1, R2 = 2
    u1      1   4
    u2      2   3
    u3      5   1

The crash basis makes x[u1,R1], x[u2,R1] and x[u3,R2] basic (each unit's cheapest rep) and
every band row basic: as many basic variables as rows. Its duals are pi_once = (1, 2, 1) and
0 on the bands, so every reduced cost is c[u, j] - min_j c[u, j] >= 0 (dual feasible), while
R1 holds two units against its capacity 1 (primal infeasible). One dual simplex pivot moves
the unit that loses least by leaving R1 (u2: 3 - 2 = 1 against u1: 4 - 1 = 3) to R2, the
optimum u1 -> R1, u2 -> R2, u3 -> R2 = 1 + 3 + 1 = 5. From HiGHS's slack basis, where no x
is basic, the simplex needs at least one pivot per unit, three at least.
"""

from __future__ import annotations

import highspy
import numpy as np
import pytest

from territory_planner.optimize import strategy
from territory_planner.optimize.crash_basis import CheapestPairBasis
from territory_planner.optimize.model import build_assignment_model, read_assignment
from territory_planner.optimize.pairs import all_allowed_pairs
from territory_planner.optimize.settings import SolveSettings
from territory_planner.optimize.solvers import run
from territory_planner.optimize.strategy import solve_assignment
from territory_planner.problem import assignment_problem
from tests.helpers import scattered_problem

COST = [[1.0, 4.0], [2.0, 3.0], [5.0, 1.0]]


def _model():
    problem = assignment_problem(COST, np.ones((3, 2)), np.array([1.0, 2.0]))
    units = np.arange(problem.n_units)
    return problem, build_assignment_model(problem, all_allowed_pairs(problem), units, relax=True)


def _iterations(model) -> int:
    return model.lp.solverModel.getInfo().simplex_iteration_count


def test_each_unit_is_basic_on_its_cheapest_rep_and_every_band_row_is_basic():
    problem, model = _model()
    columns, rows = model.columns(), list(model.lp.constraints())
    basis = CheapestPairBasis(model).for_model(columns, rows)
    basic = highspy.HighsBasisStatus.kBasic
    chosen = [
        (int(model.pairs.unit[p]), int(model.pairs.rep[p]))
        for p, status in enumerate(basis.col_status)
        if status == basic
    ]
    assert chosen == [(0, 0), (1, 0), (2, 1)]
    basic_rows = [row.name for row, s in zip(rows, basis.row_status) if s == basic]
    assert not any(name.startswith("assign_once") for name in basic_rows)
    assert len(chosen) + len(basic_rows) == len(rows)  # square


def test_the_crash_basis_reaches_the_same_optimum_in_fewer_pivots():
    problem, crashed = _model()
    outcome = run(
        crashed,
        SolveSettings(),
        mip=False,
        time_limit=30,
        start_basis=CheapestPairBasis(crashed),
    )
    _, cold = _model()
    cold_outcome = run(cold, SolveSettings(), mip=False, time_limit=30)

    assert outcome.objective == pytest.approx(5.0)
    assert cold_outcome.objective == pytest.approx(5.0)
    rep, _ = read_assignment(crashed, problem.n_units)
    assert rep.tolist() == [0, 1, 1]
    # the basis was used: from the slack basis no single pivot can reach the optimum (and
    # HiGHS's presolve, which it skips when given a basis, solves this case in 0)
    assert _iterations(crashed) == 1


def _first_lp(monkeypatch, crash_from: int):
    """The priced LP's value with the crash basis from ``crash_from`` units, and how many
    crash bases the strategy built."""
    built = []

    class Counted(CheapestPairBasis):
        def __init__(self, model):
            built.append(len(model.pairs))
            super().__init__(model)

    monkeypatch.setattr(strategy, "CRASH_MIN_UNITS", crash_from)
    monkeypatch.setattr(strategy, "CheapestPairBasis", Counted)
    settings = SolveSettings(candidates=2, full_model_pairs=0, gap=0.001, time_limit=60)
    result = solve_assignment(scattered_problem(), settings)
    values = [entry["objective"] for entry in result.phases if entry["phase"] == "lp"]
    return values, built


def test_the_strategy_starts_a_large_first_lp_from_the_crash_basis(monkeypatch):
    """200 accounts with 2 candidate reps each, priced: from the crash basis (threshold
    lowered to 0 units) or from HiGHS's slack basis (threshold above 200), the priced LP
    ends at the same optimum; the crash basis is built once, for the first LP only."""
    crashed, built = _first_lp(monkeypatch, crash_from=0)
    cold, none_built = _first_lp(monkeypatch, crash_from=201)
    assert len(built) == 1 and not none_built
    assert crashed[0] == pytest.approx(cold[0], rel=1e-9)  # the same first LP
    assert crashed[-1] == pytest.approx(cold[-1], rel=1e-9)  # the same priced optimum
