"""Property: on random grid maps every territory is one piece and every region has one rep."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territory_planner import plan
from tests.helpers import (
    cell_centre,
    grid_neighbours,
    grid_regions,
    is_connected,
    write_region_scenario,
)

pytestmark = pytest.mark.slow  # a demo-size, fuzz, cluster or browser run


@st.composite
def grid_maps(draw):
    rows, cols = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    cells = [f"r{r}{c}" for r in range(rows) for c in range(cols)]
    missing = draw(st.sets(st.sampled_from(cells), max_size=len(cells) - 2))
    present = [c for c in cells if c not in missing]
    accounts = []
    for rid in present:
        for k in range(draw(st.integers(0, 2))):  # some regions stay empty
            lat, lon = cell_centre(rid)
            workload = draw(st.integers(1, 9))
            accounts.append(dict(account_id=f"a{rid[1:]}_{k}", lat=lat, lon=lon, workload=workload))
    if not accounts:
        lat, lon = cell_centre(present[0])
        accounts.append(dict(account_id="only", lat=lat, lon=lon, workload=1))
    n_reps = draw(st.integers(2, 3))
    homes = [draw(st.sampled_from(present)) for _ in range(n_reps)]
    reps = [
        dict(rep_id=f"R{j}", lat=cell_centre(h)[0], lon=cell_centre(h)[1])
        for j, h in enumerate(homes)
    ]
    return rows, cols, tuple(sorted(missing)), pd.DataFrame(accounts), pd.DataFrame(reps)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid_maps())
def test_every_territory_is_connected_and_every_region_assigned_once(case):
    """Upper band = the whole workload (tolerance n_reps - 1), so a connected plan always
    exists: the plan must be one, whatever the map, holes and islands included."""
    rows, cols, missing, accounts, reps = case
    with tempfile.TemporaryDirectory() as folder:
        path = write_region_scenario(
            Path(folder),
            grid_regions(rows, cols, missing=missing),
            accounts,
            reps,
            balance=[{"metric": "workload", "tolerance": float(len(reps) - 1)}],
            solver={"time_limit": 30, "gap": 0.0},
        )
        made = plan(path)
    table = made.extra_files["regions.csv"]
    present = sorted(set(grid_neighbours(rows, cols)) - set(missing))
    assert sorted(table["region_id"]) == present and table["region_id"].is_unique
    neighbours = {
        r: nb - set(missing) for r, nb in grid_neighbours(rows, cols).items() if r in present
    }
    for link in made.summary["contiguity"]["island_links"]:
        neighbours[link["from"]].add(link["to"])
        neighbours[link["to"]].add(link["from"])
    for rep, group in table.groupby("rep_id"):
        assert is_connected(set(group["region_id"]), neighbours), (rep, sorted(group["region_id"]))
    by_region = dict(zip(table["region_id"], table["rep_id"]))
    for account, rep in zip(made.assignments["account_id"], made.assignments["rep_id"]):
        region = "r" + account[1:3] if account != "only" else present[0]
        assert by_region[region] == rep
    assert made.summary["gap"] <= 1e-6
