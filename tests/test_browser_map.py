"""The offline map in a real browser: it draws, raises no JavaScript error, and the hostile
names stay text. Skipped when no Chromium is installed (apt-get install chromium)."""

from __future__ import annotations

import re

import folium
from branca.element import Element
from folium.plugins import DualMap

from territory_planner.report import make_offline, save_map, territory_map
from tests.browser import png_stats, render, require_chromium
from tests.test_maps import EVIL_ESCAPED, make_tiny_plan

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
