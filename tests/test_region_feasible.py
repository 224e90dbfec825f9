"""The free-root flow model (optimize/region_feasible.py) against its definition: its rows
admit a territory exactly when it is connected, a plan it returns is connected and within
the bands, and "no plan" from it is a proof (exit 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territory_planner import InfeasibleError
from territory_planner.data import load_scenario
from territory_planner.optimize.contiguity import adjacency_matrix, broken_reps
from territory_planner.optimize.model import build_assignment_model
from territory_planner.optimize.region_feasible import (
    connected_within_bands,
    free_root_flow_rows,
    root_rows,
    symmetry_rows,
)
from territory_planner.optimize.settings import Clock
from territory_planner.optimize.strategy import SolveSettings, all_allowed_pairs, run
from territory_planner.regions import build_region_problem
from tests.helpers import cell_centre, grid_regions, write_region_scenario


def _grid(tmp_path, rows, cols, workload, homes, tolerance):
    """A rows x cols grid, one account per cell with the given workload, reps at homes."""
    regions = grid_regions(rows, cols)
    accounts = [
        dict(account_id=f"a{rid[1:]}", lat=cell_centre(rid)[0], lon=cell_centre(rid)[1], workload=w)
        for rid, w in workload.items()
    ]
    reps = [dict(rep_id=r, lat=cell_centre(h)[0], lon=cell_centre(h)[1]) for r, h in homes.items()]
    path = write_region_scenario(
        tmp_path,
        regions,
        pd.DataFrame(accounts),
        pd.DataFrame(reps),
        balance=[{"metric": "workload", "tolerance": tolerance}],
    )
    geography = build_region_problem(load_scenario(path))
    graph = adjacency_matrix(geography.neighbours, geography.n_regions)
    return geography, graph


def _decide(g, graph):
    """connected_within_bands over every allowed pair of the map, 10 s."""
    pairs = all_allowed_pairs(g.problem)
    settings, clock = SolveSettings(time_limit=10), Clock(10)
    return connected_within_bands(
        g.problem, pairs, graph, g.neighbours, g.n_regions, settings, clock
    )


def test_the_rows_admit_a_territory_exactly_when_it_is_connected(tmp_path):
    """3 x 3 grid, two reps, bands wide open: 40 random plans, each fixed in the model; the
    flow rows are feasible exactly when both territories are connected (or empty)."""
    cells = {f"r{r}{c}": 1.0 for r in range(3) for c in range(3)}
    g, graph = _grid(tmp_path, 3, 3, cells, {"A": "r00", "B": "r22"}, tolerance=1.0)
    problem, pairs = g.problem, all_allowed_pairs(g.problem)
    rng = np.random.default_rng(7)
    seen = {True: 0, False: 0}
    for _ in range(40):
        plan = rng.integers(0, 2, size=g.n_regions)
        model = build_assignment_model(problem, pairs, np.arange(problem.n_units), relax=False)
        roots = root_rows(model, problem, g.n_regions)
        free_root_flow_rows(model, problem, g.neighbours, g.n_regions, roots)
        for var, u, j in zip(model.x, pairs.unit, pairs.rep):
            var.lowBound = var.upBound = float(plan[u] == j)
        outcome = run(model, SolveSettings(time_limit=10), mip=True, time_limit=10, gap=1.0)
        connected = not broken_reps(graph, plan, g.n_regions, problem.n_reps)
        assert (outcome.status != "infeasible") == connected, plan
        seen[connected] += 1
    assert seen[True] and seen[False]  # both kinds were drawn


def test_a_plan_found_is_connected_and_within_the_bands(tmp_path):
    """1 x 4 strip of workloads 1, 2, 2, 1 and two reps, tolerance 0: 3 each. The only
    connected plans are {r00, r01} | {r02, r03} (split after the second cell); the model
    returns one of its two namings."""
    g, graph = _grid(
        tmp_path,
        1,
        4,
        {"r00": 1.0, "r01": 2.0, "r02": 2.0, "r03": 1.0},
        {"A": "r00", "B": "r03"},
        tolerance=0.0,
    )
    plan = _decide(g, graph)
    assert plan is not None
    sides = {frozenset(g.region_ids[u] for u in np.flatnonzero(plan == j)) for j in (0, 1)}
    assert sides == {frozenset({"r00", "r01"}), frozenset({"r02", "r03"})}


def test_no_connected_plan_is_a_proof_with_its_reason(tmp_path):
    """1 x 3 strip of workloads 1, 2, 1 and two reps, tolerance 0: 2 each. Whole regions
    can (r01 | r00 + r02) but not connected ones: InfeasibleError naming contiguity."""
    g, graph = _grid(
        tmp_path,
        1,
        3,
        {"r00": 1.0, "r01": 2.0, "r02": 1.0},
        {"A": "r00", "B": "r02"},
        tolerance=0.0,
    )
    with pytest.raises(InfeasibleError, match="connected"):
        _decide(g, graph)


def test_interchangeable_reps_take_their_roots_in_order(tmp_path):
    """Three reps with the same bands and the same regions allowed: two order rows (A before
    B, B before C). A lock on one region makes its rep differ: one row is left."""
    cells = {f"r0{c}": 1.0 for c in range(3)}
    homes = {"A": "r00", "B": "r01", "C": "r02"}
    g, _ = _grid(tmp_path / "same", 1, 3, cells, homes, tolerance=0.5)
    problem, pairs = g.problem, all_allowed_pairs(g.problem)
    model = build_assignment_model(problem, pairs, np.arange(problem.n_units), relax=False)
    roots = root_rows(model, problem, g.n_regions)
    assert symmetry_rows(model, problem, g.n_regions, roots) == 2
    problem.locked_rep[0] = 2  # r00 locked to C: C's allowed regions differ now
    locked = problem.allowed_block(np.arange(problem.n_units))
    assert not locked[0, 0]
    pairs = all_allowed_pairs(problem)
    model = build_assignment_model(problem, pairs, np.arange(problem.n_units), relax=False)
    roots = root_rows(model, problem, g.n_regions)
    assert symmetry_rows(model, problem, g.n_regions, roots) == 1
