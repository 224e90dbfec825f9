"""Geography mode with many reps: the map split into districts (optimize/region_split.py),
each solved on its own, the plans joined. Checked on grid maps with the split switch
(``district_reps``) set so low that a few reps make several districts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix

from territory_planner.data import load_scenario
from territory_planner.optimize import region_split
from territory_planner.optimize.contiguity import adjacency_matrix, separator_cuts
from territory_planner.optimize.districts import (
    District,
    balance_districts,
    group_reps,
    join_pieces,
)
from territory_planner.optimize.model import build_assignment_model
from territory_planner.optimize.pairs import all_allowed_pairs
from territory_planner.optimize.region_solve import solve_regions
from territory_planner.optimize.region_split import district_problem
from territory_planner.optimize.settings import SolveSettings
from territory_planner.optimize.solvers import run
from territory_planner.regions import build_region_problem
from tests.helpers import cell_centre, grid_regions, write_region_scenario

#: six reps on a 6 x 8 grid, two per band of rows: three districts of two at district_reps=2
HOMES = {"A": "r00", "B": "r07", "C": "r30", "D": "r37", "E": "r50", "F": "r57"}


def _grid_geography(tmp_path, accounts_per_cell: int = 1, owners: bool = False):
    rows = []
    for r in range(6):
        for c in range(8):
            lat, lon = cell_centre(f"r{r}{c}")
            for k in range(accounts_per_cell):
                row = dict(account_id=f"a{r}{c}_{k}", lat=lat, lon=lon, workload=1.0 + (r + c) % 3)
                if owners:  # today's owner by column band: splits across the districts
                    row["current_rep_id"] = "ABCDEF"[c % 6]
                rows.append(row | {"potential": 1.0 + k})
    reps = pd.DataFrame(
        [dict(rep_id=j, lat=cell_centre(h)[0], lon=cell_centre(h)[1]) for j, h in HOMES.items()]
    )
    path = write_region_scenario(
        tmp_path,
        grid_regions(6, 8),
        pd.DataFrame(rows),
        reps,
        balance=[{"metric": "workload", "tolerance": 0.2}],
    )
    return build_region_problem(load_scenario(path))


def _solve(geography, **settings):
    return solve_regions(
        geography.problem,
        geography.neighbours,
        geography.n_regions,
        SolveSettings(time_limit=60, **settings),
        contiguous=True,
        homes=geography.home_region,
    )


def _lp_value(problem) -> float:
    """The LP relaxation over every allowed pair, solved here on its own."""
    units = np.arange(problem.n_units)
    model = build_assignment_model(problem, all_allowed_pairs(problem), units, relax=True)
    return run(model, SolveSettings(), mip=False, time_limit=60).objective


def _loads(problem, plan) -> np.ndarray:
    loads = np.zeros(problem.n_reps)
    np.add.at(loads, plan, problem.unit_load[0])
    return loads


def test_split_plan_is_connected_within_its_bands_and_bounded_by_the_whole_lp(tmp_path):
    """Three districts of two reps. The joined plan: every region once, every territory one
    piece of the whole map, every band held; its bound is the LP relaxation over all pairs
    (computed here independently), never the districts' own bounds; its cost is at least
    the connected optimum of the map unsplit (the split restricts), and the gap is
    (cost - LP) / cost."""
    geography = _grid_geography(tmp_path)
    problem = geography.problem
    split = _solve(geography, gap=0.0, district_reps=2)
    assert [p["districts"] for p in split.phases if p["phase"] == "regions_split"] == [3]
    districts = [p for p in split.phases if p["phase"] == "regions_district"]
    assert sorted(p["reps"] for p in districts) == [2, 2, 2]
    assert sum(p["units"] for p in districts) == 48
    graph = adjacency_matrix(geography.neighbours, geography.n_regions)
    assert separator_cuts(graph, split.unit_rep, 48, 6)[1] == 0
    assert sorted(np.unique(split.unit_rep)) == list(range(6))
    loads = _loads(problem, split.unit_rep)
    assert (loads >= problem.lower[0] - 1e-9).all() and (loads <= problem.upper[0] + 1e-9).all()
    lp = _lp_value(problem)
    assert split.lower_bound == pytest.approx(lp, rel=1e-9)
    assert split.gap == pytest.approx((split.objective - lp) / split.objective, rel=1e-9)
    whole = _solve(geography, gap=0.0, district_reps=0)
    assert not [p for p in whole.phases if p["phase"] == "regions_split"]
    assert split.objective >= whole.objective - 1e-6
    assert whole.lower_bound >= lp - 1e-6


def test_district_problem_prices_every_pair_as_the_whole_problem_does(tmp_path):
    """Travel and moved potential of a district's pairs equal the whole problem's, including
    accounts whose owner today is a rep of another district (moving them costs their whole
    potential either way) and regions holding two accounts."""
    geography = _grid_geography(tmp_path, accounts_per_cell=2, owners=True)
    problem = dataclasses.replace(geography.problem, disruption_weight=3.0)
    units = np.array([0, 5, 9, 17, 30, 47])
    reps = np.array([1, 4])
    sub = district_problem(problem, units, reps)
    whole = problem.cost_block(units)[:, reps]
    assert np.allclose(sub.cost_block(np.arange(len(units))), whole)
    assert np.allclose(sub.load_block(np.arange(len(units))), problem.load_block(units)[:, :, reps])
    assert sub.n_units == 6 and sub.n_reps == 2 and len(sub.account_ids) == 12
    assert list(sub.rep_ids) == [problem.rep_ids[1], problem.rep_ids[4]]


def test_a_piece_cut_off_from_its_district_joins_the_district_around_it():
    """A path 0-1-2-3-4-5 with districts [0, 0, 1, 0, 1, 1]: region 3 is cut off from
    district 0's piece {0, 1}; both its neighbours (2 and 4) are district 1's, so it joins
    district 1, and every district is one piece."""
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    rows, cols = zip(*edges)
    graph = csr_matrix((np.ones(10), (rows + cols, cols + rows)), shape=(6, 6))
    joined = join_pieces(graph, np.array([0, 0, 1, 0, 1, 1]), 6)
    assert joined.tolist() == [0, 0, 1, 1, 1, 1]


def test_reps_are_grouped_into_touching_districts_from_the_edge():
    """Reps on a path 0-1-2-3-4-5, two per district: the walk from rep 0 ends at rep 5, the
    first district grows from there ({5, 4}), then {3, 2} from the new edge, then {1, 0}."""
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]
    rows, cols = zip(*edges)
    reps = csr_matrix((np.ones(10), (rows + cols, cols + rows)), shape=(6, 6))
    district = group_reps(reps, 2)
    assert district.tolist() == [2, 2, 1, 1, 0, 0]


@pytest.mark.parametrize("lanes", [True, False], ids=["side_by_side", "one_after_another"])
def test_a_district_its_bands_cannot_hold_is_merged_and_solved_again(tmp_path, monkeypatch, lanes):
    """A split drawn badly on purpose. Row r's workload is 8 + the sum of (r + c) mod 3 over
    its 8 cells: 15, 17, 16, 15, 17, 16 (96 in all), so each rep's band is 16 +- 20% =
    [12.8, 19.2]. District 1: rows 0-2 (48) for A and B, past their 38.4; district 2: row 3
    (15) for C and D, under their 25.6; district 3: rows 4-5 (33) for E and F, within
    [25.6, 38.4]. District 1 is proven infeasible (side by side, district 2 too), merged
    with district 2, the one it borders (rows 0-3, 63 within [51.2, 76.8] for four reps),
    and solved again; the joined plan is connected, complete and within every band."""
    geography = _grid_geography(tmp_path)

    def bad_split(problem, graph, n_regions, model, size, seconds):
        return [
            District(np.arange(0, 24), np.array([0, 1])),
            District(np.arange(24, 32), np.array([2, 3])),
            District(np.arange(32, 48), np.array([4, 5])),
        ]

    monkeypatch.setattr(region_split, "draw_districts", bad_split)
    monkeypatch.setattr(region_split, "can_run_together", lambda settings: lanes)
    result = _solve(geography, gap=0.01, district_reps=2)
    failed = [p["district"] for p in result.phases if p.get("failed")]
    assert failed == ([0, 1] if lanes else [0])
    districts = [p for p in result.phases if p["phase"] == "regions_district"]
    solved = [(p["units"], p["reps"]) for p in districts if "objective" in p]
    assert sorted(solved) == [(16, 2), (32, 4)]
    graph = adjacency_matrix(geography.neighbours, geography.n_regions)
    assert separator_cuts(graph, result.unit_rep, 48, 6)[1] == 0
    assert (result.unit_rep >= 0).all()
    loads = _loads(geography.problem, result.unit_rep)
    assert (loads >= 12.8 - 1e-9).all() and (loads <= 19.2 + 1e-9).all()


def test_a_full_district_hands_border_regions_to_the_one_beside_it():
    """A strip of six regions of load 1; reps 0, 1 form district 0 and reps 2, 3 district
    1, each rep's band [1, 2] around 1.5. Summed: [2, 4] around 3, drawn 15% of the way in:
    [2.15, 3.85]. District 0 starts with regions 0-4 (5, over by 1.15), district 1 with
    region 5 (1, short by 1.15). Region 4 moves (breach 2.3 -> 0.3), then region 3 (-> 0):
    districts {0, 1, 2} and {3, 4, 5}, each still one piece."""
    from tests.test_band_repair import _strip, _strip_problem

    problem = _strip_problem(6, [1, 1, 1, 1], [1.5] * 4, [2, 2, 2, 2])
    problem = dataclasses.replace(problem, pair_load=None, unit_load=np.ones((1, 6)))
    balanced = balance_districts(
        problem, _strip(6), 6, np.array([0, 0, 0, 0, 0, 1]), np.array([0, 0, 1, 1]), 10.0
    )
    assert balanced.tolist() == [0, 0, 0, 1, 1, 1]
