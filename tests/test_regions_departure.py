"""A rep leaves a geography-mode plan: the hand-over start, the windows, the least move.

A 2 x 6 grid of 0.1-degree squares (tests/helpers.py: region ``r{row}{col}``), one account
per region at its centre, potential 1, balanced on potential within 10%. Reps A, B and C sit
at the centres of the 2 x 2 blocks of columns 0-1, 2-3 and 4-5 (capacity 1 each): targets 4,
bands [3.6, 4.4], so each rep owns exactly 4 regions, and every region is strictly nearest
its block's rep. The three blocks are connected and hold the bands: they are the plan.

C leaves. Targets become 6, bands [5.4, 6.6]: A and B own exactly 6 regions each. C's four
regions move whatever happens (4, forced). A keeps at most its own four, so it takes at
least two regions, and a region of C's block joins A only through a region of columns 2-3
(each row of B's block separates A's columns from C's), which then moves too: A takes at
least two of B's regions, and every plan moves at least 4 + 2 = 6 potential. Six is
reached: A takes r02 and r12 (column 2), B keeps column 3 and takes C's block, both
connected. So the least disruption is exactly 6 regions, 6 of 12 potential (50%).

The hand-over start gives C's four regions to B (the only territory bordering them): B
owns 8, outside its band, A 4. The border window of reach 1 (each region may pass only to
a territory next to it) lets column 2 pass to A and reaches 6.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from territory_planner import plan, rebalance
from territory_planner.optimize.contiguity import adjacency_matrix, territory_pieces
from territory_planner.optimize.region_handover import hand_over, kept_owners
from territory_planner.optimize.region_windows import border_owners, improve_around, within_rules
from territory_planner.optimize.settings import Clock, SolveSettings
from territory_planner.rebalance import rebalanced_data
from territory_planner.region_rebalance import region_rebalance
from tests.helpers import (
    cell_centre,
    grid_neighbours,
    grid_regions,
    is_connected,
    write_region_scenario,
)

ROWS, COLS = 2, 6
GRID = [f"r{r}{c}" for r in range(ROWS) for c in range(COLS)]
BLOCK = {rid: "ABC"[int(rid[2]) // 2] for rid in GRID}


def _block_plan(tmp_path):
    rows = []
    for rid in GRID:
        lat, lon = cell_centre(rid)
        rows.append(dict(account_id=f"a{rid[1:]}", lat=lat, lon=lon, workload=1.0, potential=1.0))
    reps = pd.DataFrame(
        [
            dict(rep_id=rep, name=f"Rep {rep}", lat=0.1, lon=0.1 + 0.2 * k)
            for k, rep in enumerate("ABC")
        ]
    )
    path = write_region_scenario(
        tmp_path / "start",
        grid_regions(ROWS, COLS),
        pd.DataFrame(rows),
        reps,
        name="blocks",
        balance=[{"metric": "potential", "tolerance": 0.1}],
    )
    made = plan(path)
    assert _owners(made) == BLOCK
    return made


def _owners(made) -> dict[str, str]:
    table = made.extra_files["regions.csv"]
    return dict(zip(table["region_id"], table["rep_id"]))


def _connected(owners: dict[str, str]) -> bool:
    by_rep: dict[str, set[str]] = {}
    for rid, rep in owners.items():
        by_rep.setdefault(rep, set()).add(rid)
    return all(is_connected(regions, grid_neighbours(ROWS, COLS)) for regions in by_rep.values())


def _setup(tmp_path):
    setup = region_rebalance(rebalanced_data(_block_plan(tmp_path), leaves=["C"]))
    geography = setup.geography
    graph = adjacency_matrix(geography.neighbours, geography.n_regions)
    return setup, graph


def test_hand_over_gives_the_leavers_regions_to_the_bordering_territory(tmp_path):
    """Everything of A and B stays; C's block goes to B, which alone borders it. Connected
    (checked), but B's 8 lie outside its band [5.4, 6.6], so it is no start on its own."""
    setup, graph = _setup(tmp_path)
    problem, n_regions = setup.problem, setup.geography.n_regions
    previous = setup.problem.unit_previous_rep
    assert (kept_owners(problem, previous)[:n_regions] < 0).sum() == 4  # C's block
    handed = hand_over(problem, graph, n_regions, previous)
    reps = problem.rep_ids
    ids = setup.geography.region_ids
    owners = {ids[u]: reps[handed[u]] for u in range(n_regions)}
    assert owners == {rid: "A" if BLOCK[rid] == "A" else "B" for rid in GRID}
    for j in range(problem.n_reps):
        assert len(territory_pieces(graph, np.flatnonzero(handed[:n_regions] == j))) == 1
    assert not within_rules(problem, handed)


def test_border_window_reaches_the_least_move(tmp_path):
    """In the border window of reach 1 around the hand-over plan, column 2 (next to A) may
    pass to A and nothing else may change owner but to B; its plan moves exactly 6 (module
    docstring), holds the bands and is connected."""
    setup, graph = _setup(tmp_path)
    problem, n_regions = setup.problem, setup.geography.n_regions
    handed = hand_over(problem, graph, n_regions, problem.unit_previous_rep)
    near = border_owners(graph, handed, n_regions, 1)
    a = list(problem.rep_ids).index("A")
    ids = setup.geography.region_ids
    assert {ids[u] for u in np.flatnonzero(near[:n_regions, a])} == {
        rid for rid in GRID if int(rid[2]) <= 2
    }
    settings = SolveSettings(time_limit=30.0, gap=0.0)
    first = _least_disruption(problem)
    log: list[dict] = []
    found = improve_around(first, graph, n_regions, handed, settings, Clock(30.0), log=log.append)
    assert found is not None and within_rules(first, found)
    assert [entry["found"] for entry in log] == [True]
    assert first.moved_potential_of(found) == pytest.approx(6.0)
    for j in range(problem.n_reps):
        assert len(territory_pieces(graph, np.flatnonzero(found[:n_regions] == j))) == 1


def _least_disruption(problem):
    return dataclasses.replace(problem, travel_weight=0.0, disruption_weight=1.0)


def test_departure_moves_the_proven_least_potential_and_keeps_territories_connected(tmp_path):
    """The re-balance moves 6 of 12 potential (50%), the proven minimum: its bound is 6 up
    to the per-move eps (rebalance.py: ``LB - eps * units``, eps = 1e-4 x 12 / 12, so at
    most 12 eps = 0.0012 below), the gap at most 2e-4. A and B are connected; the four
    regions of C move for the leaving rep and two of B's go to A for balance."""
    start = _block_plan(tmp_path)
    made = rebalance(start, leaves=["C"])
    owners = _owners(made)
    assert _connected(owners)
    assert sorted(owners.values()).count("A") == 6 and sorted(owners.values()).count("B") == 6
    assert {rid for rid in GRID if BLOCK[rid] == "A"} <= {r for r, o in owners.items() if o == "A"}
    disruption = made.summary["disruption"]
    assert disruption["moved_potential"] == pytest.approx(6.0)
    assert disruption["moved_regions"] == 6
    assert 6.0 - 12 * 1e-4 - 1e-9 <= disruption["bound"] <= 6.0 + 1e-9
    assert disruption["gap"] <= 2e-4
    reasons = made.extra_files["region_moves.csv"].groupby("reason")["region_id"].count()
    assert reasons.to_dict() == {"balance": 2, "leaving rep": 4}
    assert made.summary["contiguity"]["proven"] is True
