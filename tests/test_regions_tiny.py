"""Geography mode on tiny hand-drawn maps: squares of 0.1 degree near the equator.

Region ``r{row}{col}`` is the square with row = latitude band, col = longitude band, so
``r00`` is the south-west corner. Distances below are in cells (one cell = 0.1 degree, about
11.12 km); at these latitudes haversine and plane distances agree to a millionth, far below
every margin worked out here.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from territory_planner import InfeasibleError, plan
from territory_planner.geo import haversine_km
from tests.helpers import (
    cell_centre,
    grid_neighbours,
    grid_regions,
    is_connected,
    write_region_scenario,
)


def _accounts(workload: dict[str, float], potential: float = 1.0, **extra) -> pd.DataFrame:
    rows = []
    for rid, w in sorted(workload.items()):
        lat, lon = cell_centre(rid)
        rows.append(
            dict(account_id=f"a{rid[1:]}", lat=lat, lon=lon, workload=w, potential=potential)
        )
    return pd.DataFrame(rows)


def _reps(homes: dict[str, str], capacity: dict[str, float] | None = None) -> pd.DataFrame:
    rows = []
    for rep_id, rid in homes.items():
        lat, lon = cell_centre(rid)
        rows.append(dict(rep_id=rep_id, lat=lat, lon=lon, capacity=(capacity or {}).get(rep_id, 1)))
    return pd.DataFrame(rows)


def _owners(made) -> dict[str, set[str]]:
    table = made.extra_files["regions.csv"]
    owners: dict[str, set[str]] = {}
    for rid, rep in zip(table["region_id"], table["rep_id"]):
        owners.setdefault(rep, set()).add(rid)
    return owners


def _travel(made) -> float:
    """DESIGN travel, recomputed from the assignment: sum workload x km(account, rep)."""
    acc = made.accounts.set_index("account_id")
    reps = made.reps.set_index("rep_id")
    total = 0.0
    for account, rep in zip(made.assignments["account_id"], made.assignments["rep_id"]):
        km = haversine_km(
            acc.at[account, "lat"], acc.at[account, "lon"], *reps.loc[rep, ["lat", "lon"]]
        )
        total += float(km) * acc.at[account, "workload"]
    return total


GRID_WORKLOAD = {f"r{r}{c}": 1.0 for r in range(3) for c in range(3)} | {"r02": 6.0}


def _far_region_scenario(tmp_path, contiguous: bool):
    return write_region_scenario(
        tmp_path,
        grid_regions(3, 3),
        _accounts(GRID_WORKLOAD),
        _reps({"A": "r00", "B": "r21"}, {"A": 2, "B": 7}),
        balance=[{"metric": "potential", "tolerance": 0.0}],
        constraints={"contiguous": contiguous},
    )


def test_contiguity_gives_up_the_heavy_far_region(tmp_path):
    """3 x 3 grid, one account per region at its centre, potential 1 each; rep A lives in
    r00, rep B in r21; capacities 2 and 7 with tolerance 0, so A owns exactly 2 regions.
    Workload is 1 everywhere except r02 (6). Travel = sum over B's distances plus, for each
    region A takes, workload x (d_A - d_B):

        r00: 0 - sqrt5 = -2.236     r01: 1 - 2 = -1       r10: 1 - sqrt2 = -0.414
        r02: 6 x (2 - sqrt5) = -1.416    (every other region costs A more than B)

    Without contiguity A takes the two best, r00 and r02 (-3.652), which r01 separates.
    The connected pairs: {r00, r01} -3.236, {r00, r10} -2.650, {r01, r02} -2.416, so the
    connected optimum is A = {r00, r01}, B = the other seven (connected through r02-r12).
    """
    free = plan(_far_region_scenario(tmp_path / "free", contiguous=False))
    assert _owners(free)["A"] == {"r00", "r02"}
    made = plan(_far_region_scenario(tmp_path / "tied", contiguous=True))
    owners = _owners(made)
    assert owners["A"] == {"r00", "r01"}
    assert owners["B"] == {"r02", "r10", "r11", "r12", "r20", "r21", "r22"}
    cell_km = haversine_km(0.0, 0.0, 0.0, 0.1)
    difference = (-3.236068 + 3.652476) * cell_km  # connected minus free, in km
    assert made.summary["objective"] - free.summary["objective"] == pytest.approx(
        difference, rel=1e-4
    )
    assert made.summary["objective"] == pytest.approx(_travel(made), rel=1e-9)
    assert made.summary["status"] == "optimal" and made.summary["gap"] <= 1e-9
    assert made.summary["lower_bound"] == pytest.approx(made.summary["objective"])
    assert made.summary["contiguity"] == {
        "required": True,
        "proven": True,
        "adjacency": "rook",
        "island_links": [],
    }
    # {r02} alone carries potential 1, below A's band of 2, so the LP's reach cuts
    # (x[r02, A] <= x[r01, A] + x[r12, A], ...) already keep the first MILP round connected
    phases = made.summary["solver"]["phases"]
    assert [p["cuts"] for p in phases if p["phase"] == "lp_reach_cuts"][0] > 0
    rounds = [p for p in phases if p["phase"] == "regions_milp"]
    assert rounds[0]["disconnected_territories"] == 0
    assert rounds[-1]["disconnected_territories"] == 0


def test_named_account_follows_its_owner_not_its_region(tmp_path):
    """Rep A in r00, B in r22, equal capacity, potential 1 per account, tolerance 25%:
    total potential 10 (nine regions + the named account N), target 5, band [3.75, 6.25].
    N sits in r22, B's home, but is named and locked to A: it goes to A while r22 and its
    own account a22 go to B; N's potential counts in A's band, so A holds 3 to 5 regions."""
    accounts = _accounts({f"r{r}{c}": 1.0 for r in range(3) for c in range(3)})
    lat, lon = cell_centre("r22")
    named = dict(account_id="N", lat=lat, lon=lon, workload=1.0, potential=1.0)
    accounts = pd.concat(
        [accounts, pd.DataFrame([named | {"current_rep_id": "A", "locked": True}])]
    )
    accounts["named"] = accounts["account_id"].eq("N")
    made = plan(
        write_region_scenario(
            tmp_path,
            grid_regions(3, 3),
            accounts,
            _reps({"A": "r00", "B": "r22"}),
            balance=[{"metric": "potential", "tolerance": 0.25}],
        )
    )
    rep = made.assignments.set_index("account_id")["rep_id"]
    assert rep["N"] == "A" and rep["a22"] == "B"
    owners = _owners(made)
    assert "r22" in owners["B"] and 3 <= len(owners["A"]) <= 5
    for members in owners.values():
        assert is_connected(members, grid_neighbours(3, 3))
    territories = made.territories.set_index("rep_id")
    assert territories.loc["A", "potential_load"] == len(owners["A"]) + 1
    assert made.summary["named_accounts"] == 1
    regions = made.extra_files["regions.csv"].set_index("region_id")
    assert regions.loc["r22", "accounts"] == 1  # N is named: it does not follow r22


def test_empty_region_joins_the_two_halves(tmp_path):
    """2 x 3 grid. r00 and r02 are locked to A in the regions file; r01, between them, has
    no account. Workload 1 in each of the five other regions; capacities A 2, B 3 with
    tolerance 0, so A holds exactly r00 and r02 (workload 2) and B the north row. The only
    other way to join r00 and r02 runs through the north row, which would give A all five.
    So the empty r01 must go to A, and B is left with r10, r11, r12."""
    regions = grid_regions(2, 3)
    regions["current_rep_id"] = ["A", None, "A", None, None, None]
    regions["locked"] = [True, False, True, False, False, False]
    workload = {"r00": 1.0, "r02": 1.0, "r10": 1.0, "r11": 1.0, "r12": 1.0}
    made = plan(
        write_region_scenario(
            tmp_path,
            regions,
            _accounts(workload),
            _reps({"A": "r01", "B": "r11"}, {"A": 2, "B": 3}),
            balance=[{"metric": "workload", "tolerance": 0.0}],
        )
    )
    table = made.extra_files["regions.csv"].set_index("region_id")
    assert list(table.index) == ["r00", "r01", "r02", "r10", "r11", "r12"]
    assert table.loc["r01", "rep_id"] == "A"
    assert table.loc["r01", "accounts"] == 0 and table.loc["r01", "workload"] == 0.0
    assert table.loc["r00", "previous_rep_id"] == "A"
    assert _owners(made)["B"] == {"r10", "r11", "r12"}


def test_island_is_joined_to_the_mainland_region_facing_it(tmp_path):
    """2 x 2 grid plus an island (0.1 x 0.05 degree) 0.1 degree east of r01 (about 11 km of
    water, far beyond the 100 m snap; r11 is sqrt(0.1^2 + 0.05^2) away): the island's link
    is to r01. Rep A in r00, B in r11, workload 1 in each of the five regions, equal
    capacity, tolerance 20%: band [2, 3]. The island's account (0.025, 0.35) costs B
    sqrt(0.125^2 + 0.2^2) = 0.236 degree and A sqrt(0.025^2 + 0.3^2) = 0.301, so B takes it and,
    to stay connected through the link, r01 too (r01 is 0.1 from both reps); r11 is B's
    home. A keeps r00 and r10."""
    import shapely

    regions = grid_regions(2, 2)
    island = regions.iloc[[0]].copy()
    island["region_id"] = "isl"
    island["geometry"] = [shapely.box(0.3, 0.0, 0.4, 0.05)]
    regions = pd.concat([regions, island], ignore_index=True)
    accounts = _accounts({"r00": 1, "r01": 1, "r10": 1, "r11": 1})
    accounts = pd.concat(
        [accounts, pd.DataFrame([dict(account_id="aisl", lat=0.025, lon=0.35, workload=1.0)])]
    )
    made = plan(
        write_region_scenario(
            tmp_path,
            regions,
            accounts,
            _reps({"A": "r00", "B": "r11"}),
            balance=[{"metric": "workload", "tolerance": 0.2}],
        )
    )
    links = made.summary["contiguity"]["island_links"]
    assert [(link["from"], link["to"]) for link in links] == [("isl", "r01")]
    assert links[0]["km"] == pytest.approx(haversine_km(0.025, 0.2, 0.025, 0.3), rel=0.01)
    owners = _owners(made)
    assert owners["B"] == {"isl", "r01", "r11"} and owners["A"] == {"r00", "r10"}


def test_contiguity_that_makes_bands_unreachable_is_named(tmp_path):
    """A strip r00 r01 r02 with workload 1, 2, 1 and two equal reps at tolerance 0: each
    needs exactly 2. Whole regions can do it ({r00, r02} and {r01}), connected ones cannot
    (the connected splits give 3 and 1, or 4 and 0), so the elastic re-solve names a rep
    one workload short or over."""
    path = write_region_scenario(
        tmp_path,
        grid_regions(1, 3),
        _accounts({"r00": 1, "r01": 2, "r02": 1}),
        _reps({"A": "r00", "B": "r02"}),
        balance=[{"metric": "workload", "tolerance": 0.0}],
    )
    with pytest.raises(InfeasibleError) as caught:
        plan(path)
    text = str(caught.value)
    assert "contiguity makes the bands unreachable together" in text
    assert "1.0 more workload" in text or "1.0 less workload" in text
    assert {d["kind"] for d in caught.value.details} <= {"contiguity_short", "contiguity_over"}


def test_region_heavier_than_every_band_is_named(tmp_path):
    """Workload 10 in r00 and 1 in r01, r02: total 12, two equal reps at 10%: band
    [5.4, 6.6]. r00 alone carries 10 > 6.6 for both reps."""
    path = write_region_scenario(
        tmp_path,
        grid_regions(1, 3),
        _accounts({"r00": 10, "r01": 1, "r02": 1}),
        _reps({"A": "r00", "B": "r02"}),
        balance=[{"metric": "workload", "tolerance": 0.1}],
    )
    with pytest.raises(InfeasibleError) as caught:
        plan(path)
    text = str(caught.value)
    assert "region r00 carries 10.0 workload on its own" in text
    assert "at most 6.6" in text and "finer unit" in text and "a00" in text


def test_locked_regions_that_cannot_be_joined_are_named(tmp_path):
    """r00 and r02 locked to A, r01 between them locked to B: A's territory cannot be one
    piece."""
    regions = grid_regions(1, 3)
    regions["current_rep_id"] = ["A", "B", "A"]
    regions["locked"] = [True, True, True]
    path = write_region_scenario(
        tmp_path,
        regions,
        _accounts({"r00": 1, "r01": 1, "r02": 1}),
        _reps({"A": "r00", "B": "r01"}),
        balance=[{"metric": "workload", "tolerance": 1.0}],
    )
    with pytest.raises(InfeasibleError) as caught:
        plan(path)
    text = str(caught.value)
    assert "rep A: its locked regions fall in 2 parts" in text
    assert "region:r00" in text and "region:r02" in text
    assert "regions locked to B lie between them; unlock some of those or of A's" in text


def test_locks_that_cut_a_rep_apart_name_the_reps_holding_them(tmp_path):
    """3 x 3 grid: A locks r00 and r02, B the middle column r01, r11, r21 (a wall), C locks
    r20 (not in the way: with r01 open, r00-r01-r02 joins A's regions). Opening every other
    rep's locks joins them, opening all but B's does not, so the reason names B alone. A's
    parts are listed largest first: r02 with r12, r22 (3 regions), then r00 with r10 (r20 is
    C's)."""
    regions = grid_regions(3, 3)
    owner = {"r00": "A", "r02": "A", "r01": "B", "r11": "B", "r21": "B", "r20": "C"}
    regions["current_rep_id"] = [owner.get(r) for r in regions["region_id"]]
    regions["locked"] = [r in owner for r in regions["region_id"]]
    path = write_region_scenario(
        tmp_path,
        regions,
        _accounts({f"r{r}{c}": 1 for r in range(3) for c in range(3)}),
        _reps({"A": "r00", "B": "r01", "C": "r20"}),
        balance=[{"metric": "workload", "tolerance": 1.0}],
    )
    with pytest.raises(InfeasibleError) as caught:
        plan(path)
    text = str(caught.value)
    assert (
        "rep A: its locked regions fall in 2 parts of the map that no regions it may own "
        "join (region:r02; region:r00), so its territory cannot be connected: regions "
        "locked to B lie between them; unlock some of those or of A's"
    ) in text


def test_plan_folder_lists_every_region_once(tmp_path):
    out = tmp_path / "out"
    made = plan(_far_region_scenario(tmp_path / "in", contiguous=True))
    made.write(out, map_html=False)
    table = pd.read_csv(out / "regions.csv")
    assert list(table.columns) == [
        "region_id",
        "rep_id",
        "previous_rep_id",
        "accounts",
        "potential",
    ]
    assert sorted(table["region_id"]) == sorted(GRID_WORKLOAD) and table["region_id"].is_unique
    summary = json.loads((out / "summary.json").read_text())
    assert summary["unit"] == "region" and summary["contiguity"]["proven"] is True
    assignments = pd.read_csv(out / "assignments.csv")
    by_region = dict(zip(table["region_id"], table["rep_id"]))
    for account, rep in zip(assignments["account_id"], assignments["rep_id"]):
        assert by_region["r" + account[1:]] == rep


def test_plan_from_a_shapefile_reads_back_and_rebalances(tmp_path):
    """A regions Shapefile is a .shp with its .shx, .dbf and .prj beside it (here in UTM
    metres, EPSG:32631): the plan folder copies them all, so the folder reads back (show,
    compare, rebalance) with the same nine regions and owners as the far-region plan above
    (A = {r00, r01}), and a re-balance in which A leaves hands both to B."""
    from territory_planner import rebalance
    from territory_planner.plan_folder import Plan

    source = _far_region_scenario(tmp_path / "in", contiguous=True)
    grid_regions(3, 3).to_crs("EPSG:32631").to_file(tmp_path / "in" / "grid.shp")
    (tmp_path / "in" / "grid.csv").write_text("not part of the shapefile\n")
    text = source.read_text().replace("regions.geojson", "grid.shp")
    source.write_text(text)
    out = tmp_path / "out"
    plan(source).write(out, map_html=False)
    copied = sorted(p.name for p in (out / "inputs").iterdir() if p.stem == "regions")
    assert copied == ["regions.cpg", "regions.dbf", "regions.prj", "regions.shp", "regions.shx"]
    back = Plan.read(out)
    assert sorted(back.regions["region_id"]) == sorted(GRID_WORKLOAD)
    assert _owners(back)["A"] == {"r00", "r01"}
    moved = rebalance(out, leaves=["A"], time_limit=10)
    assert set(moved.extra_files["regions.csv"]["rep_id"]) == {"B"}


def test_workflows_without_region_mode_refuse_it(tmp_path):
    """locate and headcount say region mode is not supported yet: exit 2."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    path = _far_region_scenario(tmp_path / "in", contiguous=True)
    out = tmp_path / "plan"
    assert (
        CliRunner().invoke(main, ["plan", str(path), "--out", str(out), "--quiet"]).exit_code == 0
    )
    calls = {
        "locate": ["locate", str(path), "--count", "2", "--out", str(tmp_path / "l")],
        "headcount": ["headcount", str(path), "--max-load", "5", "--out", str(tmp_path / "h")],
    }
    for what, args in calls.items():
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (what, result.output)
        assert f"{what} (" in result.output and "does not support unit: region yet" in result.output
        assert not (tmp_path / args[-1]).exists()


def test_quotas_on_a_region_plan_keep_its_regions(tmp_path):
    """quota reads a region plan back (regions.csv included) and writes it again whole."""
    from click.testing import CliRunner

    from territory_planner.cli import main

    path = _far_region_scenario(tmp_path / "in", contiguous=True)
    out, quoted = tmp_path / "plan", tmp_path / "quoted"
    assert (
        CliRunner().invoke(main, ["plan", str(path), "--out", str(out), "--quiet"]).exit_code == 0
    )
    result = CliRunner().invoke(
        main, ["quota", str(out), "--target", "900", "--method", "potential", "--out", str(quoted)]
    )
    assert result.exit_code == 0, result.output
    before = pd.read_csv(out / "regions.csv")
    after = pd.read_csv(quoted / "regions.csv")
    pd.testing.assert_frame_equal(before, after)
    quotas = pd.read_csv(quoted / "quotas.csv").set_index("rep_id")["quota"]
    # potential 2 of 9 for A, 7 of 9 for B
    assert quotas["A"] == pytest.approx(200.0) and quotas["B"] == pytest.approx(700.0)
    assert "tp-rep-label" in (quoted / "map.html").read_text()


def test_queen_adjacency_lets_corners_connect(tmp_path):
    """2 x 2 grid locked as a chessboard: A owns r00 and r11, B owns r01 and r10. Under
    rook adjacency (a shared border) neither territory is one piece: refused, exit 3. Under
    queen adjacency the diagonal corners touch, and the locked plan is the plan."""
    regions = grid_regions(2, 2)
    regions["current_rep_id"] = ["A", "B", "B", "A"]
    regions["locked"] = [True, True, True, True]
    accounts = _accounts({"r00": 1, "r01": 1, "r10": 1, "r11": 1})
    reps = _reps({"A": "r00", "B": "r01"})
    balance = [{"metric": "workload", "tolerance": 0.0}]
    rook = write_region_scenario(tmp_path / "rook", regions, accounts, reps, balance=balance)
    with pytest.raises(InfeasibleError, match="rep A: its locked regions fall in 2 parts"):
        plan(rook)
    queen = write_region_scenario(
        tmp_path / "queen", regions, accounts, reps, balance=balance, adjacency="queen"
    )
    made = plan(queen)
    assert _owners(made) == {"A": {"r00", "r11"}, "B": {"r01", "r10"}}
    assert made.summary["contiguity"]["adjacency"] == "queen"


def test_no_connected_plan_in_time_says_what_to_change():
    """The exit-4 message when the time runs out in geography mode: with rounds that found
    plans of whole regions (each with a territory in pieces) it says the bands hold for
    whole regions and names the three ways out; with none, only the time limit."""
    from territory_planner.optimize.contiguity import no_connected_plan
    from territory_planner.optimize.settings import SolveSettings

    settings = SolveSettings(time_limit=30)
    found = [
        {"phase": "lp", "objective": 80.0},
        {"phase": "regions_milp", "round": 1, "objective": 95.0},
        {"phase": "regions_milp", "round": 2, "objective": 97.0},
        {"phase": "regions_milp", "round": 3, "objective": None},
    ]
    text = no_connected_plan(settings, 12, 80.0, found)
    assert text.startswith(
        "no plan of connected territories was found within the time limit of 30 s "
        "(12 contiguity cuts added; LP bound 80.0)"
    )
    assert "2 plan(s) of whole regions within the bands were found" in text
    assert "widen the balance tolerances" in text and "smaller regions" in text
    nothing = no_connected_plan(settings, 12, 80.0, found[:1] + found[3:])
    assert nothing.endswith("LP bound 80.0); raise --time-limit")
