"""Tests of the territory map and the offline page builder (no browser needed)."""

from __future__ import annotations

import itertools
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from folium.plugins import DualMap
from shapely.geometry import box

from territory_planner import geo
from territory_planner.report import maps, offline
from territory_planner.report.colours import FAMILIES, FAMILY_OF, PALETTE, territory_colours
from territory_planner.report.compare_page import _number
from territory_planner.report.maps import save_map, territory_map
from territory_planner.report.panel import panel_html
from tests.helpers import (
    EVIL,
    EVIL_ESCAPED,
    HAND_SUMMARY,
    HAND_TERRITORIES,
    HAND_TOLERANCES,
    make_tiny_plan,
)


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
    # one territory polygon per rep, each in its adjacency colour
    plan = make_tiny_plan()
    adjacency = maps.plan_adjacency(plan["assignments"], plan["accounts"], plan["regions"])
    colours = territory_colours(["R1", "R2", "R3"], adjacency)
    for colour in colours.values():
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


def test_palette_families_are_distinct():
    assert len(PALETTE) == len(set(PALETTE)) == sum(len(f) for f in FAMILIES.values())
    lab = {c: _lab(c) for c in PALETTE}
    # shades of one family are told apart too (territories of one colour class share a
    # family but never touch)
    assert min(np.linalg.norm(lab[x] - lab[y]) for x, y in itertools.combinations(PALETTE, 2)) > 8
    # every shade of a family is far from every shade of every other family (CIE76
    # Delta-E in CIELAB; about 2.3 is "just noticeable", 25+ reads as another colour)
    closest = min(
        np.linalg.norm(lab[x] - lab[y])
        for a, b in itertools.combinations(FAMILIES.values(), 2)
        for x in a
        for y in b
    )
    assert closest > 25


def _lab(colour: str) -> np.ndarray:
    """sRGB hex -> CIELAB (D65)."""
    rgb = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = to_xyz @ rgb / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_touching_territories_get_different_families():
    """A wheel: hub H touches every rim rep, each rim rep touches its two rim neighbours
    (R0..R5 in a ring). Greedy largest-first colours H first (degree 6), then the ring in
    two alternating classes: 3 classes, so every edge joins two families."""
    rim = [f"R{i}" for i in range(6)]
    neighbours = {"H": rim}
    for i, rep in enumerate(rim):
        neighbours[rep] = ["H", rim[(i - 1) % 6], rim[(i + 1) % 6]]
    colours = territory_colours(["H", *rim], neighbours)
    for rep, others in neighbours.items():
        for other in others:
            assert FAMILY_OF[colours[rep]] != FAMILY_OF[colours[other]], (rep, other)
    assert colours == territory_colours(list(reversed(["H", *rim])), neighbours)  # stable
    # a rep touching nothing still gets a colour; an unknown neighbour is ignored
    assert set(territory_colours(["A"], {"A": ["ghost"]})) == {"A"}


def test_territory_adjacency_counts_borders_and_corners():
    """A = [0,1]x[0,1]; B = [1,2]x[0,1] shares A's east border; D = [-1,0]x[1,2] touches A
    only at the corner (0, 1); C = [3,4]x[0,1] touches nobody; E has no shape."""
    shapes = gpd.GeoDataFrame(
        {"rep_id": ["A", "B", "C", "D", "E"]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(3, 0, 4, 1), box(-1, 1, 0, 2), None],
        crs="EPSG:4326",
    )
    assert geo.territory_adjacency(shapes) == {
        "A": ("B", "D"),
        "B": ("A",),
        "C": (),
        "D": ("A",),
        "E": (),
    }
    outlines = geo.group_outlines(shapes, {"A": "North", "B": "North", "C": "South"})
    assert list(outlines["unit"]) == ["North", "South"]
    assert list(outlines["reps"]) == ["A, B", "C"]
    # A and B dissolved into one 2 x 1 rectangle
    assert [g.bounds for g in outlines.geometry] == [(0, 0, 2, 1), (3, 0, 4, 1)]
    assert outlines.geometry.iloc[0].geom_type == "Polygon"


def test_tiny_plan_territories_all_touch_and_differ():
    plan = make_tiny_plan()
    adjacency = maps.plan_adjacency(plan["assignments"], plan["accounts"], plan["regions"])
    assert adjacency == {"R1": ("R2", "R3"), "R2": ("R1", "R3"), "R3": ("R1", "R2")}
    colours = territory_colours(["R1", "R2", "R3"], adjacency)
    assert len({FAMILY_OF[c] for c in colours.values()}) == 3


def test_panel_shows_today_against_the_plan():
    """The hand-made plan (tests/helpers.py): travel today 1,600 vs plan 1,255; largest
    workload deviation 30% vs 10%; today breaks the workload band for R1 and R3 (its broken
    list), the plan for R1 (+10% > 5%); R1's today column (130 vs 100) reads +30.0%."""
    territory = {r["rep_id"]: r for r in HAND_TERRITORIES.to_dict("records")}
    reps = ["R1", "R2", "R3", "R4"]
    colours = dict.fromkeys(reps, "#111111")
    args = (territory, ["workload", "potential"], {}, HAND_TOLERANCES)
    page = panel_html("T", reps, colours, {}, *args, HAND_SUMMARY)
    assert "Today vs plan" in page
    assert "<td>1,600</td><td>1,255</td>" in page  # travel today, plan
    assert "<td>30.0%</td><td>10.0%</td>" in page  # largest workload deviation
    assert "reps outside the workload band (&plusmn;5.0%)</td><td>2</td><td>1</td>" in page
    assert "reps outside the potential band (&plusmn;10.0%)</td><td>0</td><td>1</td>" in page
    assert "accounts without an owner</td><td>1</td><td>0</td>" in page
    assert "gap to the proven lower bound</td><td>25.0%</td><td>4.4%</td>" in page
    assert '<td class="tp-bad">+30.0%</td>' in page  # R1 today
    assert '<td class="tp-bad">-26.0%</td>' in page  # R3 today: 37 vs 50
    assert '<td class="tp-ok">-4.0%</td>' in page  # R2, plan and today
    plain = panel_html("T", reps, colours, {}, *args, {"travel_cost": 1.0})
    assert "Today vs plan" not in plain
    hostile = {"balance": {EVIL: {"tolerance": 0.1}}, "today": {"balance": {EVIL: {}}}}
    page = panel_html("T", reps, colours, {}, territory, [], {}, {}, hostile, unowned=3)
    assert EVIL_ESCAPED in page and EVIL not in page  # a metric name from the scenario
    hostile["today"]["accounts_without_owner"] = 5
    page = panel_html("T", reps, colours, {}, territory, [], {}, {}, hostile, unowned=3)
    assert "accounts without an owner</td><td>5</td><td>3</td>" in page


def test_hierarchy_and_changed_owner_layers(tmp_path):
    plan = make_tiny_plan()
    reps = plan["reps"].assign(district=["D1", "D1", "D2"], area=["East"] * 3)
    m = territory_map(
        plan["assignments"],
        plan["territories"],
        plan["accounts"],
        reps,
        plan["regions"],
        hierarchy=["district", "area"],
        changed_accounts=["A0001", "A0002"],
        changed_regions=["E"],
    )
    page = offline.make_offline(m)
    assert '"district outlines"' in page and '"area outlines"' in page
    assert page.count("tp-level-0") == 2 and page.count("tp-level-1") == 1  # D1, D2; East
    assert '"Changed owner"' in page and '"Regions that changed owner"' in page
    assert "changed owner<br>" in page
    plain = offline.make_offline(
        territory_map(plan["assignments"], plan["territories"], plan["accounts"], reps)
    )
    assert "outlines" not in plain and "Changed owner" not in plain


def test_compare_numbers_read_cleanly():
    assert _number(-4.4e-05, percent=True) == "0.00%"
    assert _number(-4.4e-05, percent=True, signed=True) == "0.00%"
    assert _number(0.0123, percent=True, signed=True) == "+1.23%"
    assert _number(-0.0000001) == "0"
    assert _number(-0.0004, signed=True) == "0"
    assert _number(1234567.4) == "1,234,567"
    assert _number(2.5, signed=True) == "+2.500"


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
