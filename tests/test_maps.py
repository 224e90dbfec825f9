"""Tests of the territory map and the offline page builder (no browser needed)."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from folium.plugins import DualMap
from shapely.geometry import box

from territory_planner.report import maps, offline
from territory_planner.report.maps import PALETTE, save_map, territory_map

EVIL = "<img src=x onerror=alert(1)>"
EVIL_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
TEMPLATE_EVIL = "${alert(2)} `tick` \\ back"


def make_tiny_plan(n_accounts: int = 12, seed: int = 1) -> dict:
    """Three reps west / north-east / south-east of a 2 x 4 degree box, two regions.

    Account 0 and rep R1 carry HTML in their names; account 1 carries JS template syntax.
    """
    rng = np.random.default_rng(seed)
    lat = rng.uniform(40.0, 42.0, n_accounts)
    lon = rng.uniform(-76.0, -72.0, n_accounts)
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in range(n_accounts)],
            "name": [f"Account {i}" for i in range(n_accounts)],
            "lat": lat,
            "lon": lon,
            "workload": rng.uniform(1, 5, n_accounts).round(1),
            "potential": rng.uniform(10, 100, n_accounts).round(0),
            "revenue": 0.0,
            "current_rep_id": "R1",
            "locked": False,
            "segment": None,
            "group_id": None,
            "region_id": None,
        }
    )
    accounts.loc[0, "name"] = EVIL
    accounts.loc[1, "name"] = TEMPLATE_EVIL
    reps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "name": [f"Ann {EVIL}", "Bob Stone", "Cy Young"],
            "lat": [41.0, 41.5, 40.5],
            "lon": [-75.5, -73.0, -72.5],
            "capacity": [1.0, 1.0, 0.5],
            "segment": None,
            "region_id": None,
            "status": ["active", "active", "new"],
        }
    )
    rep_of = np.where(lon < -74.5, "R1", np.where(lat > 41.0, "R2", "R3"))
    assignments = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "rep_id": rep_of,
            "previous_rep_id": "R1",
            "moved": rep_of != "R1",
            "distance_km": rng.uniform(1, 100, n_accounts).round(1),
        }
    )
    load = accounts.groupby(rep_of)["workload"].sum()
    territories = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "name": reps["name"]})
    territories["accounts"] = territories["rep_id"].map(pd.Series(rep_of).value_counts())
    territories["workload_load"] = territories["rep_id"].map(load).fillna(0.0)
    target = load.sum() * reps["capacity"] / reps["capacity"].sum()
    territories["workload_target"] = target.to_numpy()
    territories["workload_deviation"] = (
        territories["workload_load"] - territories["workload_target"]
    ) / territories["workload_target"]
    regions = gpd.GeoDataFrame(
        {"region_id": ["E", "W"], "parent_id": [None, None], "name": ["East", "West <b>"]},
        geometry=[box(-74.0, 39.5, -71.5, 42.5), box(-76.5, 39.5, -74.0, 42.5)],
        crs="EPSG:4326",
    )
    return {
        "assignments": assignments,
        "territories": territories,
        "accounts": accounts,
        "reps": reps,
        "regions": regions,
    }


def _page(tmp_path, name="map.html", **kwargs) -> str:
    plan = make_tiny_plan(kwargs.pop("n_accounts", 12))
    m = territory_map(
        plan["assignments"],
        plan["territories"],
        plan["accounts"],
        plan["reps"],
        kwargs.pop("regions", plan["regions"]),
        **kwargs,
    )
    path = tmp_path / name
    assert save_map(m, path) == path
    return path.read_text(encoding="utf-8")


def test_map_shows_every_rep_and_escapes_names(tmp_path):
    page = _page(tmp_path, title="Plan <2027>")
    for name in ("Bob Stone", "Cy Young", f"Ann {EVIL_ESCAPED}"):
        assert name in page
    assert EVIL_ESCAPED in page
    assert "<img src=x onerror" not in page
    # JS template-literal syntax from the data is neutralised too
    assert "${alert(2)}" not in page and "&#36;{alert(2)}" in page
    assert "`tick`" not in page
    assert "<title>Plan &lt;2027&gt;</title>" in page


def test_page_is_offline(tmp_path):
    page = _page(tmp_path)
    assert "https://cdn" not in page
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link[^>]*\bhref=", page)
    assert "L.map(" in page and "Leaflet 1.9" in page  # the library is inline
    # tiles=None: no tile layer, no tile URL
    assert "L.tileLayer(" not in page and "{z}" not in page
    assert "sourceMappingURL" not in page
    offline.check_offline(page)


def test_tiles_are_the_only_remote_reference(tmp_path):
    page = _page(tmp_path, tiles="OpenStreetMap")
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    assert "https://cdn" not in page
    offline.check_offline(page)


def test_map_layers_panel_and_fit(tmp_path):
    page = _page(
        tmp_path,
        quotas=pd.DataFrame(
            {
                "rep_id": ["R1", "R2", "R3"],
                "quota": [1000.0, 1200.0, 500.0],
                "quota_to_potential": [0.5, 0.6, 0.4],
            }
        ),
        tolerances={"workload": 0.05},
    )
    for layer in ("Regions", "Territories", "Accounts", "Reps"):
        assert f'"{layer}"' in page
    assert "tp-panel" in page and "1,200" in page and "&plusmn;5%" in page
    assert "fitBounds" in page
    assert page.count("L.markerClusterGroup") == 0  # 12 accounts: no clustering
    # one territory polygon per rep, each in its palette colour
    for colour in PALETTE[:3]:
        assert f'"fillColor": "{colour}"' in page or f'"fillColor":"{colour}"' in page


def test_many_accounts_are_clustered(tmp_path):
    page = _page(tmp_path, n_accounts=maps.CLUSTER_THRESHOLD + 10)
    assert "L.markerClusterGroup(" in page
    assert "MarkerClusterGroup" in page  # the plugin itself is inline
    offline.check_offline(page)


def test_same_inputs_give_the_same_page(tmp_path):
    assert _page(tmp_path, "a.html") == _page(tmp_path, "b.html")


def test_map_without_regions_or_territories(tmp_path):
    plan = make_tiny_plan()
    m = territory_map(
        plan["assignments"], plan["territories"].iloc[0:0], plan["accounts"], plan["reps"], None
    )
    page = offline.make_offline(m)
    assert "Bob Stone" in page and "Regions" not in page


def test_palette_is_large_distinct_and_assigned_in_rep_order():
    assert len(PALETTE) >= 30 and len(set(PALETTE)) == len(PALETTE)
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in PALETTE], dtype=float)
    gaps = np.sqrt(((rgb[:, None, :] - rgb[None, :, :]) ** 2).sum(-1))
    assert gaps[~np.eye(len(PALETTE), dtype=bool)].min() > 25
    assert maps._colours(["b", "a", "c"]) == {"a": PALETTE[0], "b": PALETTE[1], "c": PALETTE[2]}


def test_escaping_helper():
    assert maps._esc("<a href='x'>&`${x}`\\</a>") == (
        "&lt;a href=&#x27;x&#x27;&gt;&amp;&#96;&#36;{x}&#96;&#92;&lt;/a&gt;"
    )
    assert maps._esc(None) == "" and maps._esc(float("nan")) == ""


def test_make_offline_is_generic_and_strict():
    dual = DualMap(tiles=None)
    folium.Marker([0, 0]).add_to(dual.m1)
    folium.Marker([1, 1], icon=folium.Icon(color="red", angle=30)).add_to(dual.m2)
    page = offline.make_offline(dual)
    assert "L.Map.Sync" in page or ".sync(" in page
    assert ".fa-rotate-30{" in page and "data:image/png;base64," in page
    offline.check_offline(page)
    plain = offline.make_offline(folium.Map(tiles=None))
    assert "AwesomeMarkers" not in plain  # unused plugin dropped
    assert len(plain) < 300_000

    from folium.plugins import Draw

    unknown = folium.Map(tiles=None)
    Draw().add_to(unknown)
    with pytest.raises(offline.OfflineAssetError, match="leaflet.draw"):
        offline.make_offline(unknown)
    with pytest.raises(offline.OfflineAssetError):
        offline.check_offline('<script src="https://cdn.example.org/x.js"></script>')
