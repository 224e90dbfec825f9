"""The contiguity pieces on their own: separators, cuts, the rooted flow model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory_planner.data import load_scenario
from territory_planner.optimize.contiguity import (
    adjacency_matrix,
    minimal_separator,
    separator_cuts,
    settle_empty_regions,
)
from territory_planner.optimize.rooted_flow import rooted_model
from territory_planner.optimize.strategy import SolveSettings, all_allowed_pairs, run
from territory_planner.regions import build_region_problem
from tests.helpers import cell_centre, grid_regions, write_region_scenario


def _grid(tmp_path, workload, homes, capacity, tolerance=0.0, metric="potential"):
    rows = []
    for rid, w in sorted(workload.items()):
        lat, lon = cell_centre(rid)
        rows.append(dict(account_id=f"a{rid[1:]}", lat=lat, lon=lon, workload=w, potential=1.0))
    reps = [
        dict(rep_id=r, lat=cell_centre(h)[0], lon=cell_centre(h)[1], capacity=capacity[r])
        for r, h in homes.items()
    ]
    path = write_region_scenario(
        tmp_path,
        grid_regions(3, 3),
        pd.DataFrame(rows),
        pd.DataFrame(reps),
        balance=[{"metric": metric, "tolerance": tolerance}],
    )
    return build_region_problem(load_scenario(path))


def _ids(geography, units):
    return sorted(geography.region_ids[u] for u in units)


def test_minimal_separator_on_the_grid(tmp_path):
    """3 x 3 grid: the corner r00 is cut from r22 by its two neighbours r01 and r10. The
    piece {r00, r01} has N = {r02, r10, r11}; removing N leaves r12, r20, r21, r22 in one part
    holding r22, and r02 borders it (through r12), r10 (through r20), r11 (all): all three."""
    g = _grid(
        tmp_path, {f"r{r}{c}": 1 for r in range(3) for c in range(3)}, {"A": "r00"}, {"A": 1}, 1.0
    )
    graph = adjacency_matrix(g.neighbours, g.n_regions)
    at = {r: k for k, r in enumerate(g.region_ids)}
    assert _ids(g, minimal_separator(graph, np.array([at["r00"]]), at["r22"])) == ["r01", "r10"]
    piece = np.array([at["r00"], at["r01"]])
    assert _ids(g, minimal_separator(graph, piece, at["r22"])) == ["r02", "r10", "r11"]


def test_separator_cuts_name_every_pair_of_two_pieces(tmp_path):
    """Territory A = {r00, r02} (two pieces of one region each) gives the cuts (r00, r02)
    with separator N(r00) = {r01, r10} and (r02, r00) with {r01, r12}; B is connected."""
    g = _grid(
        tmp_path,
        {f"r{r}{c}": 1 for r in range(3) for c in range(3)},
        {"A": "r00", "B": "r22"},
        {"A": 1, "B": 1},
        1.0,
    )
    graph = adjacency_matrix(g.neighbours, g.n_regions)
    at = {r: k for k, r in enumerate(g.region_ids)}
    plan = np.ones(g.problem.n_units, dtype=int)
    plan[[at["r00"], at["r02"]]] = 0
    cuts, broken = separator_cuts(graph, plan, g.n_regions, 2)
    assert broken == 1
    found = {(g.region_ids[c.a], g.region_ids[c.b], tuple(_ids(g, c.separator))) for c in cuts}
    assert found == {("r00", "r02", ("r01", "r10")), ("r02", "r00", ("r01", "r12"))}


def test_rooted_flow_gives_the_connected_optimum(tmp_path):
    """The far-region case of test_regions_tiny (A at r00 holds 2 regions, r02 weighs 6):
    rooted at the homes r00 and r21 the flow model's optimum is the connected optimum
    A = {r00, r01}, and it holds each home."""
    workload = {f"r{r}{c}": 1.0 for r in range(3) for c in range(3)} | {"r02": 6.0}
    g = _grid(tmp_path, workload, {"A": "r00", "B": "r21"}, {"A": 2, "B": 7})
    pairs = all_allowed_pairs(g.problem)
    model = rooted_model(g.problem, pairs, g.neighbours, g.n_regions, g.home_region)
    outcome = run(model, SolveSettings(gap=0.0), mip=True, time_limit=30, gap=0.0)
    assert outcome.status == "optimal"
    values = model.values()
    a_regions = [
        g.region_ids[u] for u, j, v in zip(pairs.unit, pairs.rep, values) if j == 0 and v > 0.5
    ]
    assert sorted(a_regions) == ["r00", "r01"]


def test_empty_regions_are_re_given_to_connect(tmp_path):
    """Accounts only in the corners r00 and r02 (A) and r20, r22 (B); every other region
    is empty. A plan giving A {r00, r02, r11} and B the rest is disconnected for A;
    re-giving empty regions joins r00 and r02 along r01 and keeps B connected."""
    workload = {"r00": 1, "r02": 1, "r20": 1, "r22": 1}
    g = _grid(tmp_path, workload, {"A": "r00", "B": "r22"}, {"A": 1, "B": 1}, 1.0, "workload")
    graph = adjacency_matrix(g.neighbours, g.n_regions)
    at = {r: k for k, r in enumerate(g.region_ids)}
    plan = np.ones(g.problem.n_units, dtype=int)
    plan[[at["r00"], at["r02"], at["r11"]]] = 0
    settled = settle_empty_regions(g.problem, graph, plan, g.n_regions)
    assert settled is not None
    assert separator_cuts(graph, settled, g.n_regions, 2)[1] == 0
    for rid in ("r00", "r02", "r20", "r22"):  # loaded regions keep their rep
        assert settled[at[rid]] == plan[at[rid]]
