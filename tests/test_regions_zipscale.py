"""Geography mode at ZIP scale: models over candidate pairs, the LP priced over all pairs,
stray pieces mended by the rooted flow over the pairs near a plan. Checked on the 3 x 3 grid
of test_regions_tiny.py, whose connected optimum is worked out there, with the scale switch
(``full_model_pairs``) set so low that the tiny map takes the ZIP-scale path."""

from __future__ import annotations

import numpy as np
import pytest

from territory_planner.data import load_scenario
from territory_planner.geo import haversine_km
from territory_planner.optimize import pairs as pairs_module
from territory_planner.optimize import region_pairs
from territory_planner.optimize.contiguity import adjacency_matrix
from territory_planner.optimize.region_solve import solve_regions
from territory_planner.optimize.rooted_flow import near_plan_pairs
from territory_planner.optimize.settings import SolveSettings
from territory_planner.regions import build_region_problem
from tests.test_regions_tiny import _far_region_scenario


def _geography(tmp_path):
    return build_region_problem(load_scenario(_far_region_scenario(tmp_path, contiguous=True)))


def _solve(geography, homes=True, **settings):
    return solve_regions(
        geography.problem,
        geography.neighbours,
        geography.n_regions,
        SolveSettings(time_limit=60, gap=0.0, **settings),
        contiguous=True,
        homes=geography.home_region if homes else None,
    )


def _one_cheapest_rep(monkeypatch):
    """Candidates: each region's one cheapest rep, nothing from the reps' side."""
    monkeypatch.setattr(
        region_pairs,
        "candidate_pairs",
        lambda problem, k: pairs_module.candidate_pairs(problem, 1, rep_side=0),
    )


def test_candidate_solve_proves_the_same_connected_optimum(tmp_path, monkeypatch):
    """The grid of test_contiguity_gives_up_the_heavy_far_region: A (home r00) must own
    exactly 2 of the 9 regions, B (home r21) the other 7. Candidates: each region's one
    cheapest rep only (A: r00, r01, r02, r10; B: the other five), 9 of the 18 pairs. B
    cannot fill its band of 7 from its five, so the restricted LP needs slack, and pricing
    must bring in B's pairs to A's four regions. The priced LP is the LP over all pairs
    (A = {r00, r02}, relative travel -3.652 cells); the separator-cut rounds (no homes
    given, so no rooted rows) cut r00-r02 apart, and the connected optimum A = {r00, r01}
    (-3.236) is proven optimal, gap 0, as with every pair in the model: the bound
    min(round bound over the candidates, LP + smallest reduced cost left out) reaches it."""
    geography = _geography(tmp_path)
    full = _solve(geography)
    _one_cheapest_rep(monkeypatch)
    sparse = _solve(geography, homes=False, full_model_pairs=0)
    assert full.total_pairs == sparse.total_pairs == 18
    assert 9 < sparse.candidate_pairs < 18  # pricing added B's pairs, not every pair
    assert full.status == "optimal" and full.gap <= 1e-9
    # this LP is degenerate, and the dual vertex HiGHS returns may leave a left-out pair at
    # a reduced cost that undercuts the plan; the pairs that could still beat it then join
    # and the rounds run again, so the bound is closed exactly whichever vertex comes back
    assert sparse.gap <= 1e-9
    assert sparse.objective == pytest.approx(full.objective, rel=1e-9)
    assert sparse.lower_bound <= sparse.objective + 1e-9
    ids = list(geography.problem.unit_ids)
    a_regions = {ids[u].removeprefix("region:") for u in np.flatnonzero(sparse.unit_rep == 0)}
    assert a_regions == {"r00", "r01"}
    # the worked number: B's travel over all nine regions plus A's -3.236 cells
    cell_km = haversine_km(0.0, 0.0, 0.0, 0.1)
    b_all = sum(
        w * float(np.hypot(int(r[1]) - 2, int(r[2]) - 1))
        for r, w in {f"r{i}{j}": 1.0 for i in range(3) for j in range(3)}.items()
    ) + 5 * float(np.hypot(2, 1))  # r02 weighs 6: five more than the others
    assert sparse.objective == pytest.approx((b_all - 3.236068) * cell_km, rel=1e-4)


def test_rooted_rounds_find_the_connected_optimum_with_the_lp_bound(tmp_path, monkeypatch):
    """The same map and candidates with the reps' homes: the first round's plan breaks A
    (r00 and r02), so A gets flow rows rooted at its home r00 and the next round's plan
    is the connected optimum A = {r00, r01}. Rooted rows restrict (homes held), so the
    proven bound is the priced LP's, A = {r00, r02}: the gap is the contiguity's price,
    (3.652476 - 3.236068) cells over the plan's travel."""
    geography = _geography(tmp_path)
    full = _solve(geography)
    _one_cheapest_rep(monkeypatch)
    rooted = _solve(geography, full_model_pairs=0)
    assert rooted.objective == pytest.approx(full.objective, rel=1e-9)
    assert (rooted.unit_rep == full.unit_rep).all()
    rounds = [p for p in rooted.phases if p["phase"] == "regions_milp"]
    assert rounds[-1]["rooted_reps"] == 1 and rounds[-1]["disconnected_territories"] == 0
    cell_km = haversine_km(0.0, 0.0, 0.0, 0.1)
    lp = [p for p in rooted.phases if p["phase"] == "lp"][-1]["objective"]
    assert rooted.lower_bound == pytest.approx(lp, rel=1e-9)
    assert rooted.objective - lp == pytest.approx((3.652476 - 3.236068) * cell_km, rel=1e-4)


def test_near_plan_pairs_keep_own_and_neighbouring_reps(tmp_path):
    """Plan: A = {r00, r02}, B = the rest (the disconnected optimum). One ring: r00 keeps
    A and may take B (its neighbours r01 and r10 are B's); r01 and r12 border A's r00 or
    r02, so both reps; r11 and r21 border only B's regions, so B only. Two rings let r11
    take A (r00 is two steps away), while every region within two steps of r21 is B's."""
    geography = _geography(tmp_path)
    problem = geography.problem
    graph = adjacency_matrix(geography.neighbours, geography.n_regions)
    every = pairs_module.all_allowed_pairs(problem)
    ids = [u.removeprefix("region:") for u in problem.unit_ids]
    plan = np.array([0 if rid in ("r00", "r02") else 1 for rid in ids])
    homes = geography.home_region

    def reps_of(near, rid):
        u = ids.index(rid)
        return {"AB"[j] for j in near.rep[near.unit == u]}

    one = near_plan_pairs(every, graph, plan, geography.n_regions, homes, rings=1)
    assert reps_of(one, "r00") == {"A", "B"} and reps_of(one, "r01") == {"A", "B"}
    assert reps_of(one, "r11") == {"B"} and reps_of(one, "r21") == {"B"}
    assert reps_of(one, "r12") == {"A", "B"}  # r02 is A's and borders r12
    two = near_plan_pairs(every, graph, plan, geography.n_regions, homes, rings=2)
    assert reps_of(two, "r11") == {"A", "B"} and reps_of(two, "r21") == {"B"}


def test_a_stray_piece_may_go_whole_to_a_rep_bordering_it(tmp_path):
    """Plan: A = {r00, r01, r10, r11}, B = the L {r02, r12, r22, r21, r20}. One ring: r22
    borders only B's r12 and r21, so only B. Given the L as a stray piece (one the plan
    must give away), every region of it may take A, which borders the piece."""
    geography = _geography(tmp_path)
    problem = geography.problem
    graph = adjacency_matrix(geography.neighbours, geography.n_regions)
    every = pairs_module.all_allowed_pairs(problem)
    ids = [u.removeprefix("region:") for u in problem.unit_ids]
    plan = np.array([0 if rid in ("r00", "r01", "r10", "r11") else 1 for rid in ids])
    homes, n = geography.home_region, geography.n_regions
    piece = np.flatnonzero(plan == 1)
    r22 = ids.index("r22")
    alone = near_plan_pairs(every, graph, plan, n, homes, rings=1)
    assert set(alone.rep[alone.unit == r22]) == {1}
    stray = near_plan_pairs(every, graph, plan, n, homes, rings=1, stray=[piece])
    assert all(set(stray.rep[stray.unit == u]) == {0, 1} for u in piece)
