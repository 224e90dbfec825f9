"""Mending a plan of whole regions by moves (optimize/band_repair.py), on strips of regions
worked by hand: region u borders u - 1 and u + 1, each region's load is 1."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.sparse import csr_matrix

from territory_planner.optimize.band_repair import BandSearch, mend_by_moves
from territory_planner.optimize.border_moves import PlanTables
from territory_planner.optimize.contiguity import Cut, ReachCut
from territory_planner.optimize.model import build_assignment_model
from territory_planner.optimize.pairs import all_allowed_pairs
from territory_planner.optimize.region_solve import (
    prepare_round,
    rebuilt_for_start,
    start_from,
    takes_start,
)
from territory_planner.optimize.region_windows import border_moves_only, border_owners
from territory_planner.optimize.rooted_flow import LazyFlows
from territory_planner.problem import assignment_problem

A, B, C = 0, 1, 2


def _strip(n: int) -> csr_matrix:
    rows = list(range(n - 1)) + list(range(1, n))
    cols = list(range(1, n)) + list(range(n - 1))
    return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def _strip_problem(n: int, lower, target, upper, cost=None):
    reps = len(target)
    problem = assignment_problem(
        np.zeros((n, reps)) if cost is None else cost, np.ones((n, reps)), np.array(upper)
    )
    return dataclasses.replace(
        problem,
        lower=np.array([lower], dtype=float),
        target=np.array([target], dtype=float),
        upper=np.array([upper], dtype=float),
    )


def test_a_stray_piece_is_given_away_and_the_band_it_breaks_is_mended():
    """Six regions, A (home 0) = {0, 1, 2, 4}, B (home 5) = {3, 5}; bands A = 4, B = 2
    exactly, travel c[u, A] = u, c[u, B] = 5 - u. Step 1: A's stray piece {4} borders only
    B (3 and 5), so it goes to B: A = {0, 1, 2} (3, short 1), B = {3, 4, 5} (3, over 1).
    Step 2: B's most breached; its move 3 -> A brings both to their bands (breach 0) and
    leaves B = {4, 5} one piece. Result A = {0, 1, 2, 3}, B = {4, 5}."""
    cost = np.array([[u, 5 - u] for u in range(6)], dtype=float)
    problem = _strip_problem(6, [4, 2], [4, 2], [4, 2], cost)
    plan = np.array([A, A, A, B, A, B])
    mended = mend_by_moves(
        problem, all_allowed_pairs(problem), _strip(6), 6, plan, np.array([0, 5]), 10.0
    )
    assert mended.tolist() == [A, A, A, A, B, B]
    assert plan.tolist() == [A, A, A, B, A, B]  # the plan given is not changed


def test_a_full_neighbour_makes_room_by_passing_a_region_on():
    """Eight regions, A = {0..3} (4), B = {4, 5, 6} (3), C = {7} (1); targets 3 each; bands
    A [2.5, 3.5], B [1.5, 3.5], C [0.5, 3.5]. A is over by 0.5. Its only helpful-looking
    move, 3 -> B, leaves the breach at 0.5 (B over instead) and the spread
    sum((load - 3) / 3)^2 at (0 + 1 + 4) / 9, as before (1 + 0 + 4) / 9: not taken. One
    ring out, B's move 6 -> C keeps the breach and lowers the spread to (1 + 1 + 1) / 9:
    taken. Now 3 -> B brings A and B to 3 each: breach 0. Result A = {0, 1, 2},
    B = {3, 4, 5}, C = {6, 7}."""
    problem = _strip_problem(8, [2.5, 1.5, 0.5], [3, 3, 3], [3.5, 3.5, 3.5])
    plan = np.array([A, A, A, A, B, B, B, C])
    mended = mend_by_moves(
        problem, all_allowed_pairs(problem), _strip(8), 8, plan, np.array([0, 4, 7]), 10.0
    )
    assert mended.tolist() == [A, A, A, B, B, B, C, C]


def test_no_plan_when_no_move_can_mend_the_bands():
    """Four regions, A = {0, 1, 2}, B = {3}, bands A = B = 2 exactly, but B may own region
    3 alone (the others' pairs to B are not allowed): A must give a region that B cannot
    take. None, not a plan that breaks a band."""
    problem = _strip_problem(4, [2, 2], [2, 2], [2, 2])
    allowed = np.array([[True, False], [True, False], [True, False], [False, True]])
    problem = dataclasses.replace(problem, allowed=allowed)
    plan = np.array([A, A, A, B])
    assert (
        mend_by_moves(problem, all_allowed_pairs(problem), _strip(4), 4, plan, None, 10.0) is None
    )


def test_room_comes_from_a_territory_five_steps_away():
    """64 regions, A = {0..6}, B = {7..14}, C = {15..22}, D = {23..30}, E = {31..38},
    F = {39..63}; targets 12, bands [8, 28]; homes at each territory's right end (A's at
    0). A carries 7, short by 1; B..E carry 8, at their lower band; F 25. Every move
    between two of A..E leaves one of them short, so the breach does not fall; A and B
    would trade the shortage at an equal spread ((7-12)^2 + (8-12)^2 = 41 before and
    after, over 144). Only F, five territories from A, has load to spare: 39 -> E keeps
    the breach and lowers the spread ((13^2 + 4^2) -> (12^2 + 3^2)). From there load
    passes down the strip, and the mend ends with every band held, each territory one
    piece of the strip, every home with its rep. Three rings out (the search before)
    found no move and gave None."""
    sizes = [7, 8, 8, 8, 8, 25]
    problem = _strip_problem(64, [8] * 6, [12] * 6, [28] * 6)
    plan = np.repeat(np.arange(6), sizes)
    homes = np.array([0, 14, 22, 30, 38, 63])
    mended = mend_by_moves(problem, all_allowed_pairs(problem), _strip(64), 64, plan, homes, 10.0)
    assert mended is not None
    loads = np.bincount(mended, minlength=6)
    assert ((loads >= 8) & (loads <= 28)).all(), loads
    # each territory one piece of the strip: its regions a run of consecutive numbers
    assert all(np.ptp(np.flatnonzero(mended == j)) == loads[j] - 1 for j in range(6))
    assert mended[homes].tolist() == list(range(6))


def test_an_ejection_chain_passes_a_region_on_when_no_single_move_helps():
    """Six regions of load 1, A = {0, 1, 2}, B = {3, 4}, C = {5}; targets 2, bands
    A [1, 2], B [2, 2], C [1, 3]; homes 0, 3, 5. A is over by 1 (breach 1/2). Its only
    move, 2 -> B, leaves B over instead (breach 1/2, spread (1 + 0 + 1) / 4 before and
    (0 + 1 + 1) / 4 after): not taken. B's move 4 -> C leaves B short: not taken. No
    single move lowers the score. The chain A -> B -> C does: A gives 2 to B, B passes 4
    on to C, the one rep with room (3 - 1 of its band), and every band holds:
    A = {0, 1}, B = {2, 3}, C = {4, 5}."""
    problem = _strip_problem(6, [1, 2, 1], [2, 2, 2], [2, 2, 3])
    plan = np.array([A, A, A, B, B, C])
    mended = mend_by_moves(
        problem, all_allowed_pairs(problem), _strip(6), 6, plan, np.array([0, 3, 5]), 10.0
    )
    assert mended.tolist() == [A, A, B, B, C, C]


def test_the_moves_may_use_an_allowed_pair_the_candidates_lack():
    """Four regions, A = {0, 1, 2}, B = {3}, bands A = B = 2 exactly. The one mending move
    gives 2 to B, but (2, B) is not among the candidate pairs handed over. It is allowed,
    and the dense tables hold every allowed pair anyway, so the mend takes it:
    A = {0, 1}, B = {2, 3}."""
    problem = _strip_problem(4, [2, 2], [2, 2], [2, 2])
    everything = all_allowed_pairs(problem)
    candidates = everything.subset(~((everything.unit == 2) & (everything.rep == B)))
    plan = np.array([A, A, A, B])
    mended = mend_by_moves(problem, candidates, _strip(4), 4, plan, np.array([0, 3]), 10.0)
    assert mended.tolist() == [A, A, B, B]


def test_a_home_region_stays_with_its_rep():
    """Three regions of load 1, A = {0}, B = {1, 2}, bands A = [2, 2], B = [1, 1]. Only
    region 1 borders A. With B's home
    at 2 the move 1 -> A mends both: A = {0, 1}, B = {2}. With B's home at 1 the move would
    take B's home away: no plan (None)."""
    problem = _strip_problem(3, [2, 1], [2, 1], [2, 1])
    plan = np.array([A, B, B])
    pairs = all_allowed_pairs(problem)
    mended = mend_by_moves(problem, pairs, _strip(3), 3, plan, np.array([0, 2]), 10.0)
    assert mended.tolist() == [A, A, B]
    assert mend_by_moves(problem, pairs, _strip(3), 3, plan, np.array([0, 1]), 10.0) is None


def test_the_rounds_model_is_rebuilt_to_take_a_mended_plan_as_its_start():
    """Four regions, bands A = B = 2 exactly. The rounds' model lacks the pair (1, A) and
    roots B at its home, region 1 (A at 0). The mended plan A = {0, 1}, B = {2, 3} uses
    (1, A) and gives B's home to A, so the model cannot take it as a start. Rebuilt, the
    model holds (1, A), roots A at 0 and B at 2 (the first region of its territory, its
    home not being in it), keeps the separator cut and drops the reach cut; the plan then
    meets every row of it, flows included."""
    problem = _strip_problem(4, [2, 2], [2, 2], [2, 2])
    graph = _strip(4)
    everything = all_allowed_pairs(problem)
    candidates = everything.subset(~((everything.unit == 1) & (everything.rep == A)))
    model = build_assignment_model(problem, candidates, np.arange(4), relax=False)
    lazy = LazyFlows(model, problem, graph, np.array([0, 1]))
    assert lazy.add([A, B]) == 2
    plan = np.array([A, A, B, B])
    assert not takes_start(model, 2, lazy, plan)
    separator, reach = Cut(0, 3, (1, 2)), ReachCut(0, A, (1,))
    seen = {separator, reach}
    model, kept, lazy, _ = rebuilt_for_start(model, problem, graph, 4, plan, seen, lazy)
    assert kept == {separator}
    assert lazy.roots == {A: 0, B: 2}
    assert takes_start(model, 2, lazy, plan)
    start_from(model, plan)
    lazy.start(plan)
    assert [row.name for row in model.lp.constraints() if not row.valid(1e-9)] == []


def test_the_zoned_spread_leaves_cost_to_choose_between_moves_equal_in_breach():
    """Five regions, C = {0} (home 0), A = {1, 2, 3} (home 2), B = {4} (home 4); targets
    A 2, B 1, C 1.5, bands A [1.5, 2.5], B and C [0.5, 2.5]; travel 0 to A, 1 to B, 5 to C.
    A carries 3, over by 0.5: giving 1 -> C or 3 -> B each lowers the breach by 0.5 / 2.
    Full spread (z = 0): 1 -> C leaves C as far from 1.5 as before and lowers A's term by
    (1/2)^2; 3 -> B adds (1/1)^2 for B; so 1 -> C, costing 5. Zoned (z = 0.8): A's zone is
    [1.6, 2.4], B's [0.6, 2.2], C's [0.7, 2.3]; both moves take A's 0.6 outside to 0 and
    leave B and C inside, an equal spread, so cost decides: 3 -> B, costing 1. The mend
    tries the zone first: C = {0}, A = {1, 2}, B = {3, 4}, travel 7 against 11."""
    cost = np.array([[0.0, 1.0, 5.0]] * 5)
    problem = _strip_problem(5, [1.5, 0.5, 0.5], [2, 1, 1.5], [2.5, 2.5, 2.5], cost)
    plan, homes = np.array([C, A, A, A, B]), np.array([2, 4, 0])
    tables = PlanTables(problem, all_allowed_pairs(problem))
    target = problem.target.astype(float)
    full = BandSearch(tables, target, _strip(5), 5, plan, homes, zone=0.0)
    assert full.run(float("inf"))
    assert full.plan.tolist() == [C, C, A, A, B]
    mended = mend_by_moves(problem, all_allowed_pairs(problem), _strip(5), 5, plan, homes, 10.0)
    assert mended.tolist() == [C, A, A, B, B]


def test_a_plan_that_leaves_the_border_window_is_kept_but_not_handed_over():
    """Four regions in a row, plan A = {0, 1}, B = {2, 3}; the border window of reach 1
    shuts (0, B) and (3, A) (no region of the other rep within one step). A mend that gives
    region 0 to B (B = {0, 2, 3} is not connected, but any plan using (0, B) will do) lies
    outside the window: PuLP refuses a start above a variable's bound (ValueError: 'initial
    value 1.0 is greater than upBound 0'), which ended a re-balance with a traceback under
    load. Now such a plan is not handed over, and one inside the window is."""
    problem = _strip_problem(4, [2, 2], [2, 2], [2, 2])
    model = build_assignment_model(problem, all_allowed_pairs(problem), np.arange(4), relax=False)
    plan = np.array([A, A, B, B])
    border_moves_only(model, border_owners(_strip(4), plan, 4, 1))
    pairs = list(zip(model.pairs.unit.tolist(), model.pairs.rep.tolist(), model.x))
    assert {(u, j) for u, j, var in pairs if var.upBound == 0} == {(0, B), (3, A)}
    outside = np.array([B, A, B, B])
    assert prepare_round(model, outside, 4.0, None, None) == (0, False)
    assert prepare_round(model, plan, 4.0, None, None) == (0, True)
    values = {(u, j): var.varValue for u, j, var in pairs}
    assert values[(0, A)] == 1 and values[(2, B)] == 1 and values[(1, B)] == 0
