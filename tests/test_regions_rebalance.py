"""Re-balancing and comparing geography-mode plans on tiny hand-drawn grids.

Grid squares of 0.1 degree near the equator (tests/helpers.py: region ``r{row}{col}``, row =
latitude band); one account per region at its centre, workload 1 and potential 1, so a
region's potential is 1 and distances below are in cells (1 cell = 0.1 degree, 11.12 km;
haversine and plane distances agree to a millionth here). Rep homes are written as
``(row, col)`` in cells, the centre of ``r{row}{col}`` being ``(row, col)``.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner import InfeasibleError, compare, plan, rebalance
from territory_planner.cli import main
from territory_planner.geo import haversine_km
from tests.helpers import CELL, grid_neighbours, grid_regions, is_connected, write_region_scenario

GRID = [f"r{r}{c}" for r in range(3) for c in range(3)]
CELL_KM = haversine_km(0.0, 0.0, 0.0, CELL)


def _point(row: float, col: float) -> tuple[float, float]:
    """(lat, lon) of the point ``(row, col)`` in cells (a region centre when integral)."""
    return (row + 0.5) * CELL, (col + 0.5) * CELL


def _accounts(named: dict[str, dict] | None = None) -> pd.DataFrame:
    rows = []
    for rid in GRID:
        lat, lon = _point(int(rid[1]), int(rid[2]))
        rows.append(dict(account_id=f"a{rid[1:]}", lat=lat, lon=lon, workload=1.0, potential=1.0))
    for account_id, extra in (named or {}).items():
        rows.append(dict(account_id=account_id, workload=1.0, potential=0.0, **extra))
    return pd.DataFrame(rows)


def _reps(homes: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = []
    for rep_id, (row, col) in homes.items():
        lat, lon = _point(row, col)
        rows.append(dict(rep_id=rep_id, name=f"Rep {rep_id}", lat=lat, lon=lon))
    return pd.DataFrame(rows)


def _owners(made) -> dict[str, str]:
    table = made.extra_files["regions.csv"]
    return dict(zip(table["region_id"], table["rep_id"]))


def _territories_connected(made) -> bool:
    by_rep: dict[str, set[str]] = {}
    for rid, rep in _owners(made).items():
        by_rep.setdefault(rep, set()).add(rid)
    return all(is_connected(regions, grid_neighbours(3, 3)) for regions in by_rep.values())


def _two_rep_plan(tmp_path):
    """A at (1, 0), B at (1, 1.8); capacity 1 and 2, potential within 35%: targets 3 and 6,
    bands [1.95, 4.05] and [3.9, 8.1]. Every region is strictly nearer one rep: the left
    column to A (r00: 1 against 2.06, r10: 0 against 1.8), the rest to B (r01: 1.28 against
    1.41, r11: 0.8 against 1). The nearest-rep plan (A = left column, 3 regions; B = the six
    others) is connected and within the bands, so it is the unique optimum."""
    reps = _reps({"A": (1, 0), "B": (1, 1.8)})
    reps["capacity"] = [1.0, 2.0]
    path = write_region_scenario(
        tmp_path / "start",
        grid_regions(3, 3),
        _accounts(),
        reps,
        name="grid",
        balance=[{"metric": "potential", "tolerance": 0.35}],
    )
    made = plan(path)
    left = {"r00", "r10", "r20"}
    assert _owners(made) == {rid: "A" if rid in left else "B" for rid in GRID}
    return made


HIRE_C = pd.DataFrame({"rep_id": ["C"], "name": ["Cleo"], "lat": [0.25], "lon": [0.25]})


def test_hire_takes_the_two_regions_nearest_it_and_nothing_else_moves(tmp_path):
    """Hire C (capacity 1) at (2, 2), the centre of r22. Targets 9/4 = 2.25, 4.5, 2.25;
    bands A [1.46, 3.04], B [2.93, 6.08], C [1.46, 3.04]. C needs at least 2 regions, and
    every region C owns moves, so at least 2 potential moves; A (3) and B (6) stay within
    their bands if C's two come from either, so the least disruption is exactly 2 regions.
    Travel second, among connected pairs for C: taking a region from B changes travel by
    d_C - d_B: r22 0 - 1.020 = -1.020, r21 1 - 1.281 = -0.281, r12 1 - 0.2 = +0.8, r11
    1.414 - 0.8 = +0.614, r02 2 - 1.020 = +0.980; from A: r20 2 - 1.414 = +0.586. The best
    connected pair is {r22, r21} (-1.301 cells; next {r22, r12}, -0.220), and B keeps
    {r01, r02, r11, r12}, connected. So r21 and r22 move B -> C, for balance."""
    start = _two_rep_plan(tmp_path)
    made = rebalance(start, hires=HIRE_C)
    owners = _owners(made)
    assert {rid for rid, rep in owners.items() if rep == "C"} == {"r21", "r22"}
    assert {rid for rid, rep in owners.items() if rep == "A"} == {"r00", "r10", "r20"}
    assert _territories_connected(made)
    region_moves = made.extra_files["region_moves.csv"]
    assert region_moves[
        ["region_id", "from_rep", "to_rep", "accounts", "reason"]
    ].values.tolist() == [
        ["r21", "B", "C", 1, "balance"],
        ["r22", "B", "C", 1, "balance"],
    ]
    assert region_moves["potential"].tolist() == [1.0, 1.0]
    regions = made.extra_files["regions.csv"].set_index("region_id")
    assert regions["previous_rep_id"].to_dict() == _owners(start)
    disruption = made.summary["disruption"]
    assert disruption["moved_potential"] == pytest.approx(2.0)
    assert disruption["moved_regions"] == 2 and disruption["moved_accounts"] == 2
    # proven: every plan moves at least LB - eps * units, eps = 1e-4 x 9 / 9
    assert 2.0 - 1e-3 <= disruption["bound"] <= 2.0 + 1e-9
    assert disruption["gap"] <= 1e-3
    assert sorted(made.extra_files["moves.csv"]["account_id"]) == ["a21", "a22"]
    travel_change = (0.0 - math.sqrt(1.04)) + (1.0 - math.sqrt(1.64))  # r22, r21
    assert made.summary["travel_cost"] - start.summary["travel_cost"] == pytest.approx(
        travel_change * CELL_KM, rel=1e-4
    )
    assert made.summary["unit"] == "region" and made.summary["contiguity"]["proven"] is True


def _three_column_plan(tmp_path):
    """A, B, C at the centres of r10, r11, r12 (capacity 1 each, potential within 35%:
    bands [1.95, 4.05]). Every region is strictly nearest the rep of its column, so the
    optimum is the three columns. A named account n1 at r00's centre, locked to C, has
    potential 0 (it changes no band)."""
    named = {"n1": dict(lat=0.05, lon=0.05, named="true", locked="true", current_rep_id="C")}
    path = write_region_scenario(
        tmp_path / "start",
        grid_regions(3, 3),
        _accounts(named),
        _reps({"A": (1, 0), "B": (1, 1), "C": (1, 2)}),
        name="columns",
        balance=[{"metric": "potential", "tolerance": 0.35}],
    )
    made = plan(path)
    assert _owners(made) == {rid: "ABC"[int(rid[2])] for rid in GRID}
    assert made.rep_of_account["n1"] == "C"
    return made


def test_departing_reps_regions_all_move_and_the_rest_stay(tmp_path):
    """C leaves: targets 4.5, bands [2.93, 6.08]. C's column (3 potential) must move: the
    forced potential is 3, so the least disruption is 3 and no other region moves. Travel
    second: each of r02, r12, r22 is nearer B (1, 1.41) than A (2, 2.24), and B may take all
    three (6 <= 6.08), so B owns the middle and right columns and A keeps the left. The named
    account n1 loses its lock with its rep and goes on its own to A, the nearer (1 against
    1.41); it has no potential, so the moved potential stays 3 (proven: the forced 3)."""
    start = _three_column_plan(tmp_path)
    made = rebalance(start, leaves=["C"])
    owners = _owners(made)
    assert owners == {rid: "A" if rid[2] == "0" else "B" for rid in GRID}
    assert _territories_connected(made)
    region_moves = made.extra_files["region_moves.csv"]
    assert region_moves[["region_id", "from_rep", "to_rep", "reason"]].values.tolist() == [
        ["r02", "C", "B", "leaving rep"],
        ["r12", "C", "B", "leaving rep"],
        ["r22", "C", "B", "leaving rep"],
    ]
    moves = made.extra_files["moves.csv"].set_index("account_id")
    assert sorted(moves.index) == ["a02", "a12", "a22", "n1"]
    assert moves.loc["n1", "to_rep"] == "A" and moves.loc["n1", "reason"] == "leaving rep"
    disruption = made.summary["disruption"]
    assert disruption["moved_potential"] == pytest.approx(3.0)
    assert disruption["forced_potential"] == pytest.approx(3.0)
    assert disruption["bound"] == pytest.approx(3.0) and disruption["gap"] == pytest.approx(0.0)
    assert made.summary["rebalance"]["unlocked"] == ["n1"]


def test_budget_below_the_departures_is_infeasible_with_numbers(tmp_path):
    """C's column is 3 of 9 potential (33.3%): a 20% budget (1.8) cannot hold."""
    start = _three_column_plan(tmp_path)
    with pytest.raises(InfeasibleError, match=r"max_moved_share allows 1\.8 .*3\.0 \(33\.3%\)"):
        rebalance(start, leaves=["C"], max_moved_share=0.2)


def test_budget_that_whole_regions_cannot_meet_is_infeasible(tmp_path):
    """The hire of the first test needs 1.46 potential in C's band, so a fractional plan
    moves 1.46 (within a 20% budget, 1.8), but whole regions move 2: the budget is named,
    0.2 short."""
    start = _two_rep_plan(tmp_path)
    with pytest.raises(InfeasibleError, match=r"budget \(max_moved_share\) is 0\.2 of potential"):
        rebalance(start, hires=HIRE_C, max_moved_share=0.2)


STRIP_POTENTIAL = {"r00": 10.0, "r01": 10.0, "r02": 10.0, "r03": 1.0, "r04": 10.0}


def _strip_plan(tmp_path, contiguous: bool):
    """A 1 x 5 strip, workload 1 per region, potential 10 except r03 (1); workload within
    50%. A at (0, 0) with capacity 2, B at (0, 3.9) with capacity 3: targets 2 and 3. r00
    and r01 are nearer A, r02 (2 against 1.9), r03 and r04 nearer B, and that plan holds
    the bands, so A = {r00, r01}, B = {r02, r03, r04}."""
    rows = []
    for rid, potential in STRIP_POTENTIAL.items():
        lat, lon = _point(0, int(rid[2]))
        rows.append(
            dict(account_id=f"a{rid[1:]}", lat=lat, lon=lon, workload=1.0, potential=potential)
        )
    reps = _reps({"A": (0, 0), "B": (0, 3.9)})
    reps["capacity"] = [2.0, 3.0]
    path = write_region_scenario(
        tmp_path / f"strip-{contiguous}",
        grid_regions(1, 5),
        pd.DataFrame(rows),
        reps,
        balance=[{"metric": "workload", "tolerance": 0.5}],
        constraints={"contiguous": contiguous},
    )
    made = plan(path)
    assert _owners(made) == {"r00": "A", "r01": "A", "r02": "B", "r03": "B", "r04": "B"}
    return made


HIRE_STRIP = pd.DataFrame({"rep_id": ["C"], "lat": [0.05], "lon": [0.35]})  # r03's centre


def test_contiguity_makes_the_hire_take_a_bigger_region(tmp_path):
    """Hire C (capacity 1) at (0, 3): targets 5/3, 2.5, 5/6, bands A [0.83, 2.5], B [1.25,
    3.75], C [0.42, 1.25], so C owns exactly one region and A or B gives it up. Without
    contiguity the cheapest is r03 (potential 1), which splits B into {r02} and {r04}.
    Connected, C's region must be an end of A's or B's stretch (r00, r01, r02 or r04), each
    of 10 potential. Travel second:
    r02 costs d_C - d_B = 1 - 1.9 = -0.9, r04 1 - 0.1 = +0.9, r01 2 - 1 = +1, r00 3 - 0 = +3,
    so r02 goes to C: 10 potential moved, not 1."""
    free = rebalance(_strip_plan(tmp_path, contiguous=False), hires=HIRE_STRIP)
    assert free.extra_files["region_moves.csv"]["region_id"].tolist() == ["r03"]
    assert free.summary["disruption"]["moved_potential"] == pytest.approx(1.0)
    made = rebalance(_strip_plan(tmp_path, contiguous=True), hires=HIRE_STRIP)
    moves = made.extra_files["region_moves.csv"]
    assert moves[["region_id", "from_rep", "to_rep"]].values.tolist() == [["r02", "B", "C"]]
    assert made.summary["disruption"]["moved_potential"] == pytest.approx(10.0)
    # the proven bound holds for connected plans: above the unconnected optimum of 1
    assert 10.0 - 1e-2 <= made.summary["disruption"]["bound"] <= 10.0 + 1e-9


def test_budget_that_only_contiguity_breaks_is_named(tmp_path):
    """As above with a 10% budget (4.1 of 41): r03 alone (1) would fit, but it splits B;
    every connected plan moves 10. The explanation names C's band within the budget."""
    start = _strip_plan(tmp_path, contiguous=True)
    with pytest.raises(InfeasibleError) as caught:
        rebalance(start, hires=HIRE_STRIP, max_moved_share=0.1)
    text = str(caught.value)
    assert "within the moved-potential budget of 4.1" in text and "rep C" in text
    assert "raise max_moved_share" in text


def test_compare_lists_exactly_the_regions_that_changed_hands(tmp_path):
    """The start plan against its re-balance after hiring C: r21 and r22 change hands (B ->
    C), one account and 1 potential each; the KPI table counts 2 regions."""
    start = _two_rep_plan(tmp_path)
    after = rebalance(start, hires=HIRE_C)
    result = compare(start, after)
    assert result.region_moves.to_dict("records") == [
        {"region_id": "r21", "rep_a": "B", "rep_b": "C", "accounts": 1, "potential": 1.0},
        {"region_id": "r22", "rep_a": "B", "rep_b": "C", "accounts": 1, "potential": 1.0},
    ]
    kpis = result.kpis.set_index("metric")
    assert kpis.loc["regions changing owner from A to B", ["a", "b"]].tolist() == [0, 2]
    assert compare(start, start).region_moves.empty
    out = result.write(tmp_path / "cmp", html=True)
    page = (out / "compare.html").read_text()
    assert "Regions that change owner (2)" in page and "tp-changed-region" in page
    assert pd.read_csv(out / "region_moves.csv")["region_id"].tolist() == ["r21", "r22"]


def test_cli_rebalance_then_compare_a_region_plan(tmp_path):
    """plan -> rebalance --hire -> compare through the CLI: the files are written, the
    rebalanced folder reads back (its regions' owners are the start plan's), and an
    impossible budget exits 3 with the numbers and writes nothing."""
    start = _two_rep_plan(tmp_path)
    start_dir, after_dir, cmp_dir = tmp_path / "plan", tmp_path / "after", tmp_path / "cmp"
    start.write(start_dir)
    hires = tmp_path / "hires.csv"
    HIRE_C.to_csv(hires, index=False)
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["rebalance", str(start_dir), "--hire", str(hires), "--out", str(after_dir), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "2 regions change hands, every territory connected" in result.output
    for name in ("regions.csv", "region_moves.csv", "moves.csv", "map.html", "plan.xlsx"):
        assert (after_dir / name).is_file(), name
    assert (after_dir / "inputs" / "regions.geojson").is_file()
    summary = json.loads((after_dir / "summary.json").read_text())
    assert summary["disruption"]["moved_regions"] == 2 and summary["unit"] == "region"
    regions = pd.read_csv(after_dir / "regions.csv")
    assert dict(zip(regions["region_id"], regions["previous_rep_id"])) == _owners(start)

    result = runner.invoke(main, ["compare", str(start_dir), str(after_dir), "--out", str(cmp_dir)])
    assert result.exit_code == 0, result.output
    assert "2 regions change owner" in result.output
    assert pd.read_csv(cmp_dir / "region_moves.csv")["region_id"].tolist() == ["r21", "r22"]
    from openpyxl import load_workbook

    assert "Region moves" in load_workbook(cmp_dir / "plan.xlsx").sheetnames

    # the re-balanced folder is itself a region plan that can be re-balanced: nobody moves
    again = tmp_path / "again"
    result = runner.invoke(main, ["rebalance", str(after_dir), "--out", str(again), "--no-map"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(again / "region_moves.csv").empty

    refused = tmp_path / "refused"
    result = runner.invoke(
        main,
        ["rebalance", str(start_dir), "--hire", str(hires), "--max-moved-share", "0.2"]
        + ["--out", str(refused)],
    )
    assert result.exit_code == 3, result.output
    assert "max_moved_share" in result.output and not refused.exists()
