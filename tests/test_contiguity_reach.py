"""Reach cuts (a territory holding a region leaves a set too light for its band) and the
reduced-cost fixing of the geography-mode rounds, on the 3 x 3 grid by hand."""

from __future__ import annotations

import numpy as np
import pytest

from territory_planner.optimize.contiguity import (
    BandFloors,
    ReachCut,
    adjacency_matrix,
    fractional_reach_cuts,
    piece_reach_cuts,
    reach_rows,
)
from territory_planner.optimize.model import build_assignment_model
from territory_planner.optimize.region_bound import PricedCosts, fix_by_reduced_cost
from territory_planner.optimize.strategy import all_allowed_pairs
from tests.test_contiguity import _grid, _ids

FAR_WORKLOAD = {f"r{r}{c}": 1.0 for r in range(3) for c in range(3)} | {"r02": 6.0}


def _far(tmp_path):
    """test_regions_tiny's far-region grid: potential 1 per region, A's band exactly 2,
    B's exactly 7 (tolerance 0)."""
    g = _grid(tmp_path, FAR_WORKLOAD, {"A": "r00", "B": "r21"}, {"A": 2, "B": 7})
    at = {r: k for k, r in enumerate(g.region_ids)}
    return g, adjacency_matrix(g.neighbours, g.n_regions), at


def test_band_floors_name_the_sets_too_light(tmp_path):
    """A needs potential 2: one region (1) is too light, two (2) are not; B needs 7."""
    g, graph, at = _far(tmp_path)
    floors = BandFloors(g.problem, all_allowed_pairs(g.problem), g.n_regions)
    assert floors.too_light([at["r02"]], 0)
    assert not floors.too_light([at["r01"], at["r02"]], 0)
    six = [at[r] for r in ("r00", "r01", "r02", "r10", "r11", "r12")]
    assert floors.too_light(six, 1) and not floors.too_light(six + [at["r20"]], 1)


def test_piece_reach_cuts_leave_each_light_piece(tmp_path):
    """A = {r00, r02}: both pieces carry 1 < 2, so x[r00, A] <= x[r01, A] + x[r10, A] and
    x[r02, A] <= x[r01, A] + x[r12, A]; B's territory is connected and gets none."""
    g, graph, at = _far(tmp_path)
    floors = BandFloors(g.problem, all_allowed_pairs(g.problem), g.n_regions)
    plan = np.ones(g.problem.n_units, dtype=int)
    plan[[at["r00"], at["r02"]]] = 0
    cuts = piece_reach_cuts(graph, plan, g.n_regions, floors)
    found = {(g.region_ids[c.a], c.rep, tuple(_ids(g, c.boundary))) for c in cuts}
    assert found == {("r00", 0, ("r01", "r10")), ("r02", 0, ("r01", "r12"))}


def test_fractional_reach_cut_and_its_row(tmp_path):
    """x*[r02, A] = 1, x*[r01, A] = 0.5, x*[r12, A] = 0.25, A's other x* 0: from r02 the
    set {r02} (potential 1 < 2) has N = {r01, r12} worth 0.75 < 1, a cut violated by 0.25.
    From r01 (0.5) N({r01}) holds r02 (1), and {r01, r02} carries 2, not too light; from
    r12 likewise. B's x* are 0. So exactly one cut, whose row reads
    x[r02, A] - x[r01, A] - x[r12, A] <= 0 and is violated by the solution."""
    g, graph, at = _far(tmp_path)
    pairs = all_allowed_pairs(g.problem)
    model = build_assignment_model(
        g.problem, pairs, np.arange(g.problem.n_units), relax=True, name="hand"
    )
    given = {(at["r02"], 0): 1.0, (at["r01"], 0): 0.5, (at["r12"], 0): 0.25}
    for u, j, var in zip(pairs.unit, pairs.rep, model.x):
        var.varValue = given.get((int(u), int(j)), 0.0)
    floors = BandFloors(g.problem, pairs, g.n_regions)
    cuts = fractional_reach_cuts(graph, model, g.n_regions, floors)
    assert cuts == [ReachCut(at["r02"], 0, (at["r01"], at["r12"]))]
    before = model.lp.numConstraints()
    reach_rows(model, g.problem, cuts)
    assert model.lp.numConstraints() == before + 1
    row = list(model.lp.constraints())[-1]
    coefficients = {var.name: value for var, value in row.items()}
    assert sorted(coefficients.values()) == [-1.0, -1.0, 1.0]
    assert row.value() == pytest.approx(0.25)  # lhs - rhs > 0: violated


def test_fix_by_reduced_cost_drops_pairs_no_cheaper_plan_uses(tmp_path):
    """LP value 10; reduced costs 0, 3 and 6 on three pairs; a connected plan costs 15.
    A plan using the pair with d = 6 costs at least 16 > 15: fixed at 0. d = 3 gives 13
    and d = 0 gives 10: both stay. With a plan of 16 none of the three is fixed."""
    g, graph, at = _far(tmp_path)
    pairs = all_allowed_pairs(g.problem)
    model = build_assignment_model(
        g.problem, pairs, np.arange(g.problem.n_units), relax=False, name="hand"
    )
    keys = [(int(u), int(j)) for u, j in zip(pairs.unit[:3], pairs.rep[:3])]
    priced = PricedCosts(10.0, dict(zip(keys, [0.0, 3.0, 6.0])))
    assert fix_by_reduced_cost(model, priced, 16.0) == 0
    assert [model.x[p].upBound for p in range(3)] == [1, 1, 1]
    assert fix_by_reduced_cost(model, priced, 15.0) == 1
    assert [model.x[p].upBound for p in range(3)] == [1, 1, 0]
