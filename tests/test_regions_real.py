"""Real polygons end to end through the CLI: North Carolina's 100 counties (libpysal's
``sids2``, offline) with one account at each real ZIP centroid inside them, four reps."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from tests.helpers import is_connected

pytestmark = pytest.mark.slow  # a demo-size, fuzz, cluster or browser run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(scope="module")
def nc_plan(tmp_path_factory):
    from regions_instances import write_instance

    folder = tmp_path_factory.mktemp("nc")
    path = write_instance(folder / "in", n_reps=4, seed=3, time_limit=120, gap=0.0)
    out = folder / "out"
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return folder / "in", out


def test_every_county_once_and_every_territory_connected(nc_plan):
    """Connectivity is checked against libpysal's own rook contiguity of the county file,
    an oracle independent of the engine's snapped adjacency."""
    import geopandas as gpd
    from libpysal.weights import Rook

    source, out = nc_plan
    counties = gpd.read_file(source / "regions.geojson")
    table = pd.read_csv(out / "regions.csv", dtype={"region_id": str})
    assert sorted(table["region_id"]) == sorted(counties["region_id"]) and len(table) == 100
    rook = Rook.from_dataframe(counties, ids=counties["region_id"].tolist(), use_index=False)
    neighbours = {k: set(v) for k, v in rook.neighbors.items()}
    assert rook.islands == []
    for rep, group in table.groupby("rep_id"):
        assert is_connected(set(group["region_id"]), neighbours), rep
    summary = json.loads((out / "summary.json").read_text())
    assert summary["unit"] == "region" and summary["contiguity"]["proven"] is True
    assert summary["status"] == "optimal" and summary["gap"] <= 1e-6
    assert summary["contiguity"]["island_links"] == []
    accounts = pd.read_csv(source / "accounts.csv", dtype={"postal_code": str})
    assignments = pd.read_csv(out / "assignments.csv")
    assert len(assignments) == len(accounts)
    # every account's rep is its county's rep (placed by point-in-polygon, oracle: geopandas)
    points = gpd.GeoDataFrame(
        accounts, geometry=gpd.points_from_xy(accounts["lon"], accounts["lat"]), crs=4326
    )
    joined = gpd.sjoin(points, counties[["region_id", "geometry"]], predicate="within")
    joined = joined.drop_duplicates("account_id")
    county_rep = dict(zip(table["region_id"], table["rep_id"]))
    rep = dict(zip(assignments["account_id"], assignments["rep_id"]))
    for account, region in zip(joined["account_id"], joined["region_id"]):
        assert rep[account] == county_rep[region]
    for column in ("workload", "potential"):
        assert table[column].sum() == pytest.approx(accounts[column].sum())


def test_map_draws_each_territory_as_one_shape(nc_plan, tmp_path):
    from tests.browser import render, require_chromium

    require_chromium()
    _, out = nc_plan
    result = render(out / "map.html", tmp_path / "map.png")
    assert result["js_errors"] == []
    counts = next(iter(result["maps"].values()))
    assert counts["interactive_paths"] == 4  # one dissolved shape per rep, hoverable
    assert counts["paths"] >= 4 + 100  # plus the thin county outlines
    assert 'weight="3"' in result["dom"] or 'stroke-width="3"' in result["dom"]
    labels = re.findall(
        r'<div[^>]*class="[^"]*tp-rep-label[^"]*"[^>]*>(.*?)</div></div>', result["dom"]
    )
    assert len(labels) == 4 and all(re.search(r">R0[1-4]$", label) for label in labels), labels


def test_counties_demo_plans_with_its_named_accounts(tmp_path):
    """The bundled geography demo: 100 counties, six reps, three named accounts."""
    root = Path(__file__).resolve().parents[1]
    scenario = root / "scenarios" / "counties-demo" / "scenario.yaml"
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["named_accounts"] == 3 and summary["regions"] == 100
    assert summary["contiguity"]["proven"] is True and summary["gap"] <= 0.01
    accounts = pd.read_csv(scenario.parent / "accounts.csv")
    table = pd.read_csv(out / "regions.csv", dtype={"region_id": str})
    assert table["accounts"].sum() == len(accounts) - 3  # named accounts follow no county
