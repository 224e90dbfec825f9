"""The ZIP-like benchmark regions (benchmarks/zip_instances.py): Voronoi cells of real ZIP
centroids clipped to real state outlines, checked on two small neighbouring states."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

STATES = ("DE", "MD")


@pytest.fixture(scope="module")
def cells():
    from zip_instances import zip_regions

    return zip_regions(STATES)


def test_one_cell_per_zip_inside_its_state_holding_its_centroid(cells):
    """Every deduplicated standard ZIP whose centroid lies in its state gets one cell, and
    that cell holds the centroid."""
    import geopandas as gpd
    from zip_instances import state_outlines, zip_centroids

    outlines = state_outlines(STATES).set_index("state").geometry
    expected = []
    for state in STATES:
        zips = zip_centroids(state)
        points = gpd.points_from_xy(zips["lon"], zips["lat"])
        expected += zips["postal_code"][shapely.within(points, outlines[state])].tolist()
    assert cells["region_id"].tolist() == sorted(expected)
    assert cells["region_id"].is_unique and len(cells) > 400
    zips = pd.concat([zip_centroids(s) for s in STATES]).set_index("postal_code")
    centroids = gpd.points_from_xy(
        zips.loc[cells["region_id"], "lon"], zips.loc[cells["region_id"], "lat"]
    )
    assert shapely.covers(cells.geometry.values, centroids).all()


def test_cells_tile_each_state_without_overlaps(cells):
    """Inside the outline (area outside < 1e-6 of the cell), no overlaps beyond slivers,
    and together the cells cover the state (areas within 0.1%)."""
    from zip_instances import EQUAL_AREA, state_outlines

    projected = cells.to_crs(EQUAL_AREA)
    outlines = state_outlines(STATES).to_crs(EQUAL_AREA).set_index("state").geometry
    assert projected.geometry.is_valid.all() and not projected.geometry.is_empty.any()
    for state, group in projected.groupby("state"):
        outline = outlines[state]
        outside = shapely.difference(group.geometry.values, outline)
        assert (shapely.area(outside) <= 1e-6 * group.area.to_numpy() + 1.0).all()
        total = group.area.sum()
        union = shapely.union_all(group.geometry.values).area
        assert abs(total - union) <= 1e-4 * union  # overlaps: slivers at most
        assert abs(union - outline.area) <= 1e-3 * outline.area


def test_seeded_instance_is_reproducible(tmp_path):
    """Same seed, same files; every account sits at a ZIP centroid of a cell."""
    from zip_instances import write_zip_instance

    first = write_zip_instance(tmp_path / "a", states=("DE",), n_reps=3, seed=4)
    second = write_zip_instance(tmp_path / "b", states=("DE",), n_reps=3, seed=4)
    for name in ("accounts.csv", "reps.csv", "regions.geojson"):
        assert (first.parent / name).read_bytes() == (second.parent / name).read_bytes()
    accounts = pd.read_csv(first.parent / "accounts.csv", dtype={"postal_code": str})
    reps = pd.read_csv(first.parent / "reps.csv")
    assert len(reps) == 3 and len(accounts) > 40
    assert (accounts["account_id"] == "Z" + accounts["postal_code"]).all()


def test_all_states_is_every_state_of_us48():
    """``--states all``: the 48 contiguous states of us48, sorted; a list is kept as given."""
    from zip_instances import resolve_states

    every = resolve_states("all")
    assert len(every) == 48 and list(every) == sorted(every)
    assert {"CA", "TX", "ME", "FL"} <= set(every) and "DC" not in every
    assert resolve_states(["ALL"]) == every
    assert resolve_states(["VA", "GA"]) == ("VA", "GA")
