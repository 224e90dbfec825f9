"""Region IDs whose leading zeros a spreadsheet dropped still find their region; an ID that
could be either of two regions is refused as before."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.data import load_scenario
from territory_planner.data.region_keys import matched_region_ids
from tests.helpers import cell_centre, grid_regions, write_region_scenario


def test_only_a_match_that_cannot_be_wrong_is_made():
    """'6001' and '6001.0' (a float cell) are 06001; '13' could be 013 or 0013, so it stays;
    '17' is itself a region; 'X9' is no number; blanks stay blank."""
    known = {"06001", "06003", "013", "0013", "17", "017X"}
    values = pd.Series(["6001", "6001.0", "06003", "13", "17", "X9", None], dtype=object)
    ids, matched = matched_region_ids(values, known)
    assert ids.tolist() == ["06001", "06001", "06003", "13", "17", "X9", None]
    assert matched == {"6001": "06001", "6001.0": "06001"}


def test_a_region_stored_as_a_number_matches_an_account_with_zeros():
    """The reverse direction: the regions file holds 6001 (a number), the account 06001."""
    ids, matched = matched_region_ids(pd.Series(["06001", "006001"]), {"6001"})
    assert ids.tolist() == ["6001", "6001"]
    assert matched == {"06001": "6001", "006001": "6001"}


def _fips_regions():
    """Two side-by-side cells with county FIPS codes that start with a zero."""
    regions = grid_regions(1, 2)
    centres = [cell_centre(r) for r in regions["region_id"]]
    regions["region_id"] = ["06001", "06003"]
    return regions, centres


def _reps():
    return pd.DataFrame(
        [dict(rep_id="A", lat=0.05, lon=0.05), dict(rep_id="B", lat=0.05, lon=0.15)]
    )


def test_an_export_without_leading_zeros_plans_by_region(tmp_path):
    """Accounts exported through a spreadsheet (region_id 6001, 6003) fall into 06001 and
    06003 instead of being refused as unknown regions, validate says so, and the plan's
    regions.csv counts them there."""
    regions, (west, east) = _fips_regions()
    accounts = pd.DataFrame(
        [
            dict(account_id="a1", region_id="6001", lat=west[0], lon=west[1]),
            dict(account_id="a2", region_id="6001", lat=west[0], lon=west[1]),
            dict(account_id="a3", region_id="6003", lat=east[0], lon=east[1]),
        ]
    ).assign(workload=10, potential=100)
    # each rep scoped to the region far from its home, so the scope must have been read
    reps = _reps().assign(region_id=["6003", "6001"])
    path = write_region_scenario(tmp_path / "in", regions, accounts, reps)
    data = load_scenario(path)
    assert data.accounts["region_id"].tolist() == ["06001", "06001", "06003"]
    assert data.reps["region_id"].tolist() == ["06003", "06001"]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "region_id: 3 accounts matched to the regions file with leading zeros restored, "
        "as a spreadsheet drops them (6001 -> 06001, 6003 -> 06003)" in result.output
    )
    assert "region_id: 2 reps matched to the regions file" in result.output
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "regions.csv", dtype={"region_id": str})
    assert dict(zip(table["region_id"], table["accounts"])) == {"06001": 2, "06003": 1}
    assert dict(zip(table["region_id"], table["rep_id"])) == {"06001": "B", "06003": "A"}
    assert json.loads((out / "summary.json").read_text())["unit"] == "region"


def test_an_id_that_could_be_two_regions_is_refused(tmp_path):
    """Regions 013 and 0013 both read as 13: the account's '13' is not guessed at."""
    regions = grid_regions(1, 2)
    regions["region_id"] = ["013", "0013"]
    accounts = pd.DataFrame(
        [dict(account_id="a1", region_id="13", lat=0.05, lon=0.05, workload=1, potential=1)]
    )
    path = write_region_scenario(tmp_path, regions, accounts, _reps())
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "row 2, column 'region_id': region_id is not a region of the regions file" in (
        result.output
    )
