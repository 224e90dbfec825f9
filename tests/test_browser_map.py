"""The offline map in a real browser: it draws, raises no JavaScript error, the hostile
names stay text, the panel leaves the map visible and neighbouring territories differ in
colour. Skipped when no Chromium is installed (apt-get install chromium)."""

from __future__ import annotations

import re

import folium
import numpy as np
import pandas as pd
import pytest
from branca.element import Element
from folium.plugins import DualMap

from territory_planner.report import make_offline, save_map, territory_map
from territory_planner.report.colours import FAMILY_OF
from territory_planner.report.maps import plan_adjacency
from tests.browser import png_stats, probe, render, require_chromium
from tests.helpers import EVIL_ESCAPED, make_tiny_plan

pytestmark = pytest.mark.slow  # a demo-size, fuzz, cluster or browser run

# Opens every tooltip once the map is built, so the DOM shows what a reader hovering sees
# (runs on load: it goes into the figure's script block before the map code renders).
_OPEN_TOOLTIPS = """
  window.addEventListener("load", function () {
    %s.eachLayer(function (layer) {
      if (layer.getTooltip && layer.getTooltip()) { layer.openTooltip(); }
    });
  });
"""


def test_helper_catches_errors_and_network_use(tmp_path):
    require_chromium()
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><head><script src='https://cdn.example.org/lib.js'></script>"
        "</head><body><p>hello</p><script>notDefinedAnywhere();</script>"
        "</body></html>"
    )
    result = render(page, tmp_path / "broken.png", width=400, height=300)
    errors = " | ".join(result["js_errors"])
    assert "notDefinedAnywhere" in errors
    assert "failed to load SCRIPT https://cdn.example.org/lib.js" in errors
    assert result["screenshot"].exists()


def test_territory_map_draws_offline_without_errors(tmp_path):
    require_chromium()
    plan = make_tiny_plan()
    m = territory_map(
        plan["assignments"],
        plan["territories"],
        plan["accounts"],
        plan["reps"],
        plan["regions"],
        title="Browser check",
    )
    m.get_root().script.add_child(Element(_OPEN_TOOLTIPS % m.get_name()))
    html_path = save_map(m, tmp_path / "map.html")

    result = render(html_path, tmp_path / "map.png")
    assert result["js_errors"] == []
    assert len(result["maps"]) == 1
    counts = next(iter(result["maps"].values()))
    # 3 territory polygons + 12 account circles are interactive; regions are not
    assert counts["interactive_paths"] == 3 + len(plan["accounts"])
    assert counts["markers"] == 3  # rep homes
    dom = result["dom"]
    territory_paths = re.findall(r'<path\b[^>]*fill-opacity="0.28"', dom)
    assert len(territory_paths) == 3
    assert 'class="tp-panel' in dom and "Bob Stone" in dom and "Browser check" in dom

    # Hostile names were rendered as text in the panel and the open tooltips ...
    assert EVIL_ESCAPED in dom
    assert dom.count("leaflet-tooltip") >= len(plan["accounts"])
    assert "${alert(2)} `tick` \\ back" in dom  # shown literally, not interpolated
    # ... and no element was created from them.
    assert not re.search(r"<img\b[^>]*\bsrc=\"x\"", dom)
    assert "<b>Lee" not in dom

    stats = png_stats(result["screenshot"])
    assert (stats["width"], stats["height"]) == (1200, 800)
    assert stats["colours"] > 100  # a blank or failed page has a handful


def test_dual_map_page_draws_offline(tmp_path):
    """The comparison page builds on DualMap (and Leaflet.Sync): it must work offline too."""
    require_chromium()
    dual = DualMap(location=[41.0, -74.0], zoom_start=7, tiles=None)
    for sub, colour in ((dual.m1, "#1f77b4"), (dual.m2, "#ff1493")):
        folium.Polygon(
            [[40.5, -75.0], [41.5, -75.0], [41.5, -73.0]], color=colour, fill=True
        ).add_to(sub)
        folium.CircleMarker([41.0, -74.5], radius=6, color=colour).add_to(sub)
    path = tmp_path / "dual.html"
    path.write_text(make_offline(dual), encoding="utf-8")

    result = render(path, tmp_path / "dual.png")
    assert result["js_errors"] == []
    assert len(result["maps"]) == 2
    assert all(c["interactive_paths"] == 2 for c in result["maps"].values())
    assert png_stats(result["screenshot"])["colours"] > 20


def test_clustered_map_draws_offline(tmp_path):
    """Above CLUSTER_THRESHOLD accounts the markers go into a MarkerCluster (which needs the
    map's maxZoom even with no tile layer)."""
    require_chromium()
    plan = make_tiny_plan(n_accounts=600)
    m = territory_map(plan["assignments"], plan["territories"], plan["accounts"], plan["reps"])
    html_path = save_map(m, tmp_path / "clustered.html")
    result = render(html_path, tmp_path / "clustered.png")
    assert result["js_errors"] == []
    counts = next(iter(result["maps"].values()))
    assert "marker-cluster" in result["dom"]
    assert counts["markers"] > 3  # rep homes plus cluster bubbles
    assert len(re.findall(r'<path\b[^>]*fill-opacity="0.28"', result["dom"])) == 3


# --------------------------------------------------------------------------- readable maps

_LAYOUT = """
function box(el) {
  var r = el.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width};
}
var mapDiv = document.querySelector(".folium-map");
var leaflet = window[mapDiv.id];
var panel = document.getElementById("tp-panel");
var table = panel.querySelector("table.tp-reps");
var before = {
  map: box(mapDiv), panel: box(panel), table: box(table),
  panel_client: panel.clientWidth, panel_scroll: panel.scrollWidth,
  leaflet: leaflet.getSize().x
};
panel.querySelector(".tp-toggle").click();
var after = {
  map: box(mapDiv), panel: box(panel), table_shown: table.offsetParent !== null,
  leaflet: leaflet.getSize().x
};
return {before: before, after: after, window: window.innerWidth};
"""


def _rich_tiny_plan() -> dict:
    """The tiny plan with the widest panel a plan gives: two metrics, today's loads, quotas
    and a summary with a today block."""
    plan = make_tiny_plan()
    t = plan["territories"]
    t["potential_load"] = [1_234_567.0, 2_345_678.0, 345_678.0]
    t["potential_target"] = [1_500_000.0, 1_500_000.0, 750_000.0]
    t["potential_deviation"] = t["potential_load"] / t["potential_target"] - 1
    t["workload_load_today"] = t["workload_target"] * [1.3, 0.9, 0.7]
    t["quota"] = [1_200_000.0, 1_300_000.0, 600_000.0]
    t["quota_to_potential"] = [0.61, 0.62, 0.55]
    plan["summary"] = {
        "travel_cost": 1254.75,
        "gap": 0.01,
        "balance": {
            "workload": {"max_abs_deviation": 0.1, "tolerance": 0.05},
            "potential": {"max_abs_deviation": 0.56, "tolerance": 0.10},
        },
        "today": {
            "travel_cost": 1600.0,
            "gap_to_bound": 0.25,
            "accounts_without_owner": 1,
            "balance": {"workload": {"max_abs_deviation": 0.3, "tolerance": 0.05, "broken": []}},
        },
    }
    return plan


def test_panel_leaves_the_map_visible_and_folds_away(tmp_path):
    """At 1200 x 800 the panel sits right of the map (no overlap), shows every column
    (nothing scrolls sideways) and leaves the map at least 40% of the width; folding it gives
    the map all but a narrow strip, and Leaflet is told its new size."""
    require_chromium()
    plan = _rich_tiny_plan()
    m = territory_map(
        plan["assignments"],
        plan["territories"],
        plan["accounts"],
        plan["reps"],
        plan["regions"],
        title="Panel check",
        tolerances={"workload": 0.05, "potential": 0.10},
        summary=plan["summary"],
    )
    html_path = save_map(m, tmp_path / "map.html")
    assert render(html_path, tmp_path / "map.png")["js_errors"] == []
    result = probe(html_path, _LAYOUT, width=1200, height=800)
    before, after = result["before"], result["after"]
    assert before["panel"]["left"] >= before["map"]["right"] - 0.5  # beside, not over
    assert before["map"]["width"] >= 0.4 * result["window"]
    assert before["leaflet"] == round(before["map"]["width"])
    assert before["panel_scroll"] <= before["panel_client"]  # no column cut off
    assert before["table"]["right"] <= before["panel"]["right"]
    assert not after["table_shown"]
    assert after["panel"]["width"] < 60
    assert after["map"]["width"] >= result["window"] - 60
    assert after["leaflet"] == round(after["map"]["width"])


def _grid_plan(side: int = 4, per_cell: int = 5, seed: int = 3) -> dict:
    """side x side reps, rep (row, col) owning the accounts inside the 1-degree cell
    [col, col+1] x [row, row+1] (its home at the centre): every rep's territory touches
    the cells left, right, above and below it."""
    rng = np.random.default_rng(seed)
    rows, reps = [], []
    for r in range(side):
        for c in range(side):
            rep = f"R{r}{c}"
            reps.append(
                {"rep_id": rep, "name": rep, "lat": r + 0.5, "lon": c + 0.5, "district": r // 2}
            )
            for k in range(per_cell):
                rows.append(
                    {
                        "account_id": f"{rep}-{k}",
                        "lat": r + rng.uniform(0.1, 0.9),
                        "lon": c + rng.uniform(0.1, 0.9),
                        "rep_id": rep,
                    }
                )
    accounts = pd.DataFrame(rows)
    assignments = accounts[["account_id", "rep_id"]].assign(distance_km=1.0)
    territories = pd.DataFrame({"rep_id": [r["rep_id"] for r in reps], "accounts": per_cell})
    return {
        "accounts": accounts.drop(columns=["rep_id"]),
        "assignments": assignments,
        "reps": pd.DataFrame(reps),
        "territories": territories,
    }


_FILLS = """
var out = {};
document.querySelectorAll("path.tp-territory").forEach(function (p) {
  var k = Array.from(p.classList).filter(function (c) { return /^tp-territory-\\d+$/.test(c); });
  out[k[0].split("-").pop()] = p.getAttribute("fill");
});
return {fills: out, districts: document.querySelectorAll("path.tp-level-0").length};
"""


def test_neighbouring_territories_differ_in_colour(tmp_path):
    """The drawn fill of every territory, read from the page: the reps of side-by-side and
    stacked grid cells (they share a border) never share a colour family. The district
    layer draws one outline per district."""
    require_chromium()
    grid = _grid_plan()
    m = territory_map(
        grid["assignments"],
        grid["territories"],
        grid["accounts"],
        grid["reps"],
        hierarchy=["district"],
    )
    html_path = save_map(m, tmp_path / "grid.html")
    drawn_page = probe(html_path, _FILLS)
    fills = drawn_page["fills"]
    assert drawn_page["districts"] == 2  # rows 0-1 and rows 2-3: one outline each
    reps = sorted(grid["reps"]["rep_id"])
    drawn = {reps[int(k)]: colour for k, colour in fills.items()}
    assert set(drawn) == set(reps)  # 16 polygons, each with its fill
    pairs = [(f"R{r}{c}", f"R{r}{c + 1}") for r in range(4) for c in range(3)]
    pairs += [(f"R{r}{c}", f"R{r + 1}{c}") for r in range(3) for c in range(4)]
    for a, b in pairs:
        assert FAMILY_OF[drawn[a]] != FAMILY_OF[drawn[b]], (a, b, drawn[a], drawn[b])
    # the page colours what geometry says touches (diagonal cells may touch at a corner)
    adjacency = plan_adjacency(grid["assignments"], grid["accounts"])
    assert all(b in adjacency[a] for a, b in pairs)
    for a, others in adjacency.items():
        assert all(FAMILY_OF[drawn[a]] != FAMILY_OF[drawn[b]] for b in others)
    assert len({FAMILY_OF[c] for c in drawn.values()}) >= 3
