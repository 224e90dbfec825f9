"""Accounts follow their ZIP code into a ZIP-keyed regions file, also where their lat/lon
falls across the border; a county file whose FIPS codes happen to equal ZIP codes far away
is left to point-in-polygon."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.data import load_scenario
from tests.helpers import CELL, cell_centre, grid_regions, write_region_scenario


def _zip_map():
    """Three cells in a row, 11.1 km wide, keyed by Boston-area ZIP codes."""
    regions = grid_regions(1, 3)
    centres = [cell_centre(r) for r in regions["region_id"]]
    regions["region_id"] = ["02134", "02135", "02136"]
    return regions, centres


def _reps():
    return pd.DataFrame(
        [
            dict(rep_id="A", lat=0.5 * CELL, lon=0.5 * CELL),
            dict(rep_id="B", lat=0.5 * CELL, lon=2.5 * CELL),
        ]
    )


def test_an_account_follows_its_zip_code_across_the_border(tmp_path):
    """a3 carries ZIP 02136 but its lat/lon lies in 02135, 1.1 km from 02136: it is placed
    in 02136, as the CRM's own rules would. a2's ZIP lost its leading zero (2135). a4's ZIP
    is no region of the file, so point-in-polygon places it. validate names the account
    that lat/lon alone would have placed elsewhere, and the plan counts it in 02136."""
    regions, (west, middle, east) = _zip_map()
    near_east_border = (middle[0], 1.9 * CELL)  # in 02135, 0.1 cell from 02136
    accounts = pd.DataFrame(
        [
            dict(account_id="a1", postal_code="02134", lat=west[0], lon=west[1]),
            dict(account_id="a2", postal_code="2135", lat=middle[0], lon=middle[1]),
            dict(
                account_id="a3",
                postal_code="02136-4410",
                lat=near_east_border[0],
                lon=near_east_border[1],
            ),
            dict(account_id="a4", postal_code="99999", lat=east[0], lon=east[1]),
        ]
    ).assign(workload=10, potential=100)
    path = write_region_scenario(tmp_path / "in", regions, accounts, _reps())
    data = load_scenario(path)
    assert data.accounts["region_id"].tolist() == ["02134", "02135", "02136", "02136"]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "region_id: 3 accounts placed in the region of their postal code (the regions file "
        "is keyed by it); 1 of them lies in another region by lat/lon (e.g. a3: ZIP 02136, "
        "lat/lon in 02135)" in result.output
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "regions.csv", dtype={"region_id": str})
    assert dict(zip(table["region_id"], table["accounts"])) == {
        "02134": 1,
        "02135": 1,
        "02136": 2,
    }


def test_a_mistyped_zip_far_from_its_region_keeps_point_in_polygon(tmp_path):
    """Five cells keyed by ZIP; three accounts agree with their ZIP, a fourth lies in the
    last cell but carries the first cell's ZIP, 44 km away (over the 30 km reach): its
    lat/lon decides, and validate says so."""
    regions = grid_regions(1, 5)
    centres = [cell_centre(r) for r in regions["region_id"]]
    zips = ["27510", "27514", "27516", "27517", "27519"]
    regions["region_id"] = zips
    rows = [
        dict(account_id=f"a{k}", postal_code=zips[k], lat=centres[k][0], lon=centres[k][1])
        for k in range(3)
    ]
    rows.append(dict(account_id="typo", postal_code="27510", lat=centres[4][0], lon=centres[4][1]))
    accounts = pd.DataFrame(rows).assign(workload=10, potential=100)
    path = write_region_scenario(tmp_path, regions, accounts, _reps())
    data = load_scenario(path)
    assert data.accounts["region_id"].tolist() == ["27510", "27514", "27516", "27519"]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "1 account whose postal code's region is over 30 km away was placed by lat/lon "
        "instead (e.g. typo: ZIP 27510, lat/lon in 27519)" in result.output
    )


def test_fips_codes_that_equal_distant_zip_codes_change_nothing(tmp_path):
    """A county file keyed by FIPS (37001, 37003, ...) and accounts whose ZIP codes are
    the same five digits (Tennessee ZIPs 37001...): every account lies over 30 km from the
    county its ZIP names, so the file is not taken as ZIP-keyed and each account goes where
    its lat/lon lies, with no note."""
    regions = grid_regions(1, 5)
    centres = [cell_centre(r) for r in regions["region_id"]]
    fips = ["37001", "37003", "37005", "37007", "37009"]
    regions["region_id"] = fips
    accounts = pd.DataFrame(
        [
            dict(account_id="t1", postal_code="37001", lat=centres[4][0], lon=centres[4][1]),
            dict(account_id="t2", postal_code="37009", lat=centres[0][0], lon=centres[0][1]),
            dict(account_id="t3", postal_code="37003", lat=centres[4][0], lon=centres[4][1]),
        ]
    ).assign(workload=10, potential=100)
    path = write_region_scenario(tmp_path, regions, accounts, _reps())
    data = load_scenario(path)
    assert data.accounts["region_id"].tolist() == ["37009", "37001", "37009"]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "region of their postal code" not in result.output
