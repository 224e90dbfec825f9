"""Bad inputs in geography mode: every problem at once, exit 2, nothing written."""

from __future__ import annotations

import pandas as pd
import shapely
from click.testing import CliRunner

from territory_planner.cli import main
from tests.helpers import CELL, cell_centre, grid_regions, write_region_scenario


def _reps() -> pd.DataFrame:
    return pd.DataFrame(
        [dict(rep_id="A", lat=0.05, lon=0.05), dict(rep_id="B", lat=0.15, lon=0.15)]
    )


def _validate_one_account(tmp_path, regions):
    """``validate`` of a scenario with one account at (0.05, 0.05) and these regions."""
    accounts = pd.DataFrame([dict(account_id="a1", lat=0.05, lon=0.05)])
    path = write_region_scenario(tmp_path, regions, accounts, _reps())
    return CliRunner().invoke(main, ["validate", str(path)])


def test_region_file_problems_are_listed_together(tmp_path):
    """Overlap beyond a sliver, an unknown owner, a lock without owner, an account outside
    every region (nearest region named) and a bad ``named`` value, in one run."""
    regions = grid_regions(2, 2)
    # r11 grows west over half of r10: far more than a sliver
    regions.loc[regions["region_id"] == "r11", "geometry"] = shapely.box(
        0.5 * CELL, CELL, 2 * CELL, 2 * CELL
    )
    regions["current_rep_id"] = [None, "ZED", None, None]
    regions["locked"] = [False, False, True, False]
    rows = [
        dict(account_id=f"a{r[1:]}", lat=cell_centre(r)[0], lon=cell_centre(r)[1])
        for r in ("r00", "r01")
    ]
    rows.append(dict(account_id="far", lat=0.05, lon=0.9))  # 0.7 degree east of r01
    accounts = pd.DataFrame(rows)
    accounts["named"] = ["true", "maybe", "false"]
    path = write_region_scenario(tmp_path / "in", regions, accounts, _reps())
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    text = result.output
    assert "regions r10 and r11 overlap by 50.0% of the smaller one" in text
    assert "region r01: current_rep_id 'ZED' is not a rep" in text
    assert "region r10 is locked but has no current_rep_id" in text
    assert "row 4, column 'region_id': the account lies in no region" in text
    assert "nearest: region r01, 7" in text  # about 77.8 km
    assert "row 3, column 'named': named is not true/false" in text
    assert not out.exists()


def test_flags_that_are_not_true_false_show_the_value_and_both_answers(tmp_path):
    """A ``named`` cell 'maybe' (accounts row 3) and a region's ``locked`` 'sometimes' are
    reported with the value read and the fix 'use true or false', as account mode does for
    its own flags (the fix used to read 'true' alone, as if 'maybe' should become true)."""
    regions = grid_regions(1, 2)
    regions["current_rep_id"] = ["A", None]
    regions["locked"] = ["sometimes", "false"]
    accounts = pd.DataFrame(
        [dict(account_id=f"a{k}", lat=0.05, lon=0.05 + k * CELL) for k in range(2)]
    )
    accounts["named"] = ["false", "maybe"]
    path = write_region_scenario(tmp_path, regions, accounts, _reps())
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    accounts_csv, regions_file = tmp_path / "accounts.csv", tmp_path / "regions.geojson"
    assert (
        f"- {accounts_csv}, row 3, column 'named': named is not true/false ('maybe') "
        "(fix: use true or false)" in lines
    )
    assert (
        f"- {regions_file}, column 'locked': region r00: locked is not true/false "
        "('sometimes') (fix: use true or false)" in lines
    )


def test_broken_region_file_problems_are_listed_together(tmp_path):
    """Duplicate IDs and an empty geometry are read errors of the regions file itself."""
    regions = grid_regions(1, 3)
    regions.loc[2, "region_id"] = "r00"
    regions.loc[1, "geometry"] = shapely.Polygon()
    result = _validate_one_account(tmp_path, regions)
    assert result.exit_code == 2
    assert "duplicate region_id 'r00'" in result.output
    assert "empty geometry" in result.output


def test_a_duplicate_region_id_does_not_hide_the_other_problems(tmp_path):
    """A 1 x 3 strip whose third cell repeats r00's ID, r01 grown over half of r00, an
    account 0.7 degree east of the strip and a ``named`` cell 'maybe': four problems, one
    run. The duplicate's two features count as one region (their union) for the checks, so
    an account in the repeated cell is in a region, not reported as outside every one.
    Before, the duplicate alone was reported and the rest waited for the next run."""
    regions = grid_regions(1, 3)
    regions.loc[2, "region_id"] = "r00"
    regions.loc[1, "geometry"] = shapely.box(0.5 * CELL, 0, 2 * CELL, CELL)
    accounts = pd.DataFrame(
        [
            dict(account_id="in_r00", lat=0.05, lon=0.05),
            dict(account_id="in_repeat", lat=0.05, lon=2.5 * CELL),
            dict(account_id="far", lat=0.05, lon=0.05 + 10 * CELL),
        ]
    )
    accounts["named"] = ["false", "false", "maybe"]
    path = write_region_scenario(tmp_path, regions, accounts, _reps())
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    text = result.output
    assert "4 problem(s)" in text
    assert "row 3, column 'region_id': duplicate region_id 'r00' (first at feature 1)" in text
    # r01 now spans 0.5..2 cells (1.5 cells), half a cell of it over r00: 0.5 / 1.5
    assert "regions r00 and r01 overlap by 33.3% of the smaller one" in text
    # 'far' lies 7.5 cells (83.5 km) east of the repeated cell, which counts as r00
    assert "row 4, column 'region_id': the account lies in no region" in text
    assert "(nearest: region r00, 8" in text
    assert "row 4, column 'named': named is not true/false ('maybe')" in text


def test_a_map_that_cannot_be_trusted_still_reports_the_account_problems(tmp_path):
    """An empty geometry leaves part of the map unknown: no account is judged against it
    (the account in the empty cell would be "in no region"), but the ``named`` cell is
    still reported with the map's problem, in one run."""
    regions = grid_regions(1, 2)
    regions.loc[1, "geometry"] = shapely.Polygon()
    accounts = pd.DataFrame(
        [dict(account_id="a0", lat=0.05, lon=0.05), dict(account_id="a1", lat=0.05, lon=0.15)]
    )
    accounts["named"] = ["maybe", "false"]
    path = write_region_scenario(tmp_path, regions, accounts, _reps())
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    text = result.output
    assert "2 problem(s)" in text
    assert "row 2, column 'geometry': empty geometry" in text
    assert "row 2, column 'named': named is not true/false ('maybe')" in text


def test_region_mode_needs_a_regions_file(tmp_path):
    accounts = pd.DataFrame([dict(account_id="a1", lat=0.05, lon=0.05)])
    path = write_region_scenario(tmp_path, grid_regions(1, 1), accounts, _reps())
    text = path.read_text().replace("regions: regions.geojson\n", "")
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "unit: region needs a regions file" in result.output


def test_unknown_unit_and_adjacency_are_refused(tmp_path):
    accounts = pd.DataFrame([dict(account_id="a1", lat=0.05, lon=0.05)])
    path = write_region_scenario(
        tmp_path, grid_regions(1, 1), accounts, _reps(), adjacency="bishop"
    )
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert "adjacency" in result.output and "rook" in result.output


def test_a_census_tiger_county_file_loads_by_its_geoid(tmp_path):
    """TIGER/Line county files key their rows by GEOID (the 5-digit FIPS code), beside
    STATEFP, COUNTYFP and NAME: the file loads as downloaded and regions.csv speaks GEOIDs."""
    regions = grid_regions(1, 2)
    regions = regions.assign(
        STATEFP="37", COUNTYFP=["001", "003"], GEOID=["37001", "37003"], NAME=["Ala", "Bee"]
    ).drop(columns="region_id")
    accounts = pd.DataFrame(
        [dict(account_id=f"a{k}", lat=0.05, lon=0.05 + 0.1 * k) for k in range(2)]
    )
    path = write_region_scenario(tmp_path / "in", regions, accounts, _reps())
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "regions.csv", dtype=str)
    assert sorted(table["region_id"]) == ["37001", "37003"]


def test_a_file_without_a_key_is_told_which_columns_could_be_one(tmp_path):
    """No region_id nor alias: the fix names the columns holding a distinct text or whole
    number on every row (AreaKey here), not the float columns (AREA) that are distinct too."""
    regions = grid_regions(1, 2)
    regions = regions.assign(AreaKey=[13001, 13003], AREA=[1.5, 2.5], STATE="GA").drop(
        columns="region_id"
    )
    result = _validate_one_account(tmp_path, regions)
    assert result.exit_code == 2
    assert "no region_id column" in result.output
    assert "columns with a distinct key on every row: AreaKey)" in result.output


def test_validate_describes_the_map_before_any_solve(tmp_path):
    """A 2 x 2 grid named after its cells, r10 with no account, one named account, and an
    island 0.1 degree east of r01 (about 11 km of water at the equator: 0.1 x 111.2 km):
    validate counts the empty region and the named account, says which adjacency and that
    contiguity is on, and lists the island's link with both names and its length."""
    regions = grid_regions(2, 2)
    island = regions.iloc[[0]].copy()
    island["region_id"] = "isl"
    island["geometry"] = [shapely.box(0.3, 0.0, 0.4, 0.05)]
    regions = pd.concat([regions, island], ignore_index=True)
    regions["name"] = ["South-west", "South-east", "North-west", "North-east", "Skerry"]
    rows = [
        dict(account_id=f"a{r}", lat=cell_centre(r)[0], lon=cell_centre(r)[1])
        for r in ("r00", "r01", "r11")
    ]
    rows.append(dict(account_id="aisl", lat=0.025, lon=0.35))
    rows.append(dict(account_id="big", lat=0.05, lon=0.05))
    accounts = pd.DataFrame(rows).assign(named=["false"] * 4 + ["true"])
    path = write_region_scenario(tmp_path, regions, accounts, _reps())
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "regions: 5 (1 with no accounts, 1 named accounts assigned on their own, 0 locked "
        "to their rep); rook "
        "adjacency, contiguity: each territory one connected piece" in result.output
    )
    assert "island links (no neighbour on the map; joined to the nearest region): 1" in (
        result.output
    )
    assert "    - Skerry (isl) -> South-east (r01) (11.1 km)" in result.output


def test_locked_regions_over_a_band_are_called_regions(tmp_path):
    """A 1 x 3 strip, one account of workload 1 in each cell; r00 and r01 locked to A. Two
    reps share 3 workload: target 1.5, band 10% -> at most 1.65. A's locks alone carry 2.
    validate counts the two locked regions; plan exits 3 saying "locked regions", not
    "locked accounts" (no account is locked)."""
    regions = grid_regions(1, 3)
    regions["current_rep_id"] = ["A", "A", None]
    regions["locked"] = ["true", "true", "false"]
    accounts = pd.DataFrame(
        [dict(account_id=f"a{c}", lat=0.05, lon=0.05 + c * CELL, workload=1.0) for c in range(3)]
    )
    balance = [{"metric": "workload", "tolerance": 0.1}]
    path = write_region_scenario(tmp_path, regions, accounts, _reps(), balance=balance)
    checked = CliRunner().invoke(main, ["validate", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "2 locked to their rep" in checked.output
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 3, result.output
    assert "rep A: locked regions and accounts alone carry 2.0 workload" in result.output
    assert not out.exists()
