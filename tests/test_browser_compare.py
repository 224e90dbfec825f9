"""compare.html in a real browser: no JavaScript error, both synchronised maps draw their
territories, the accounts that changed owner are ringed on both maps, a rep has one colour
on both sides, and the KPIs read cleanly. Skipped when no Chromium is installed."""

from __future__ import annotations

import pytest

from territory_planner import compare, load_scenario, plan, rebalance
from territory_planner.report.colours import FAMILY_OF
from tests.browser import png_stats, probe, render, require_chromium

pytestmark = pytest.mark.slow  # a demo-size, fuzz, cluster or browser run

_MAPS = """
var out = [];
document.querySelectorAll(".folium-map").forEach(function (m) {
  var fills = {};
  m.querySelectorAll("path.tp-territory").forEach(function (p) {
    var k = Array.from(p.classList).filter(function (c) { return /^tp-territory-\\d+$/.test(c); });
    fills[k[0].split("-").pop()] = p.getAttribute("fill");
  });
  var rings = [];
  m.querySelectorAll("path.tp-changed").forEach(function (p) {
    var b = p.getBoundingClientRect();
    rings.push([Math.round(b.left + b.width / 2), Math.round(b.top + b.height / 2)]);
  });
  out.push({fills: fills, rings: rings, box: m.getBoundingClientRect().toJSON()});
});
return out;
"""


def test_compare_page_draws_both_maps_offline(tiny, tmp_path):
    """conftest's line (accounts at lon 1, 2, 3, 9; R1 at 0, R2 at 10) planned with a 0%
    band: R1 {A1, A2}, R2 {A3, A4}. Then R2 leaves and A3, A4 move to R1. Each map container
    holds interactive territory paths, the page raised no error with the network cut off,
    and the two moved accounts are ringed on each map, inside that map's box."""
    require_chromium()
    start = plan(load_scenario(tiny(balance=[{"metric": "workload", "tolerance": 0.0}])))
    after = rebalance(start, leaves=["R2"])
    out = compare(start, after).write(tmp_path / "cmp")
    result = render(out / "compare.html", tmp_path / "compare.png", width=1200, height=900)
    assert result["js_errors"] == []
    maps = list(result["maps"].values())
    assert len(maps) == 2
    assert all(m["interactive_paths"] >= 1 + 4 for m in maps), result["maps"]  # + 4 accounts
    stats = png_stats(result["screenshot"])
    assert stats["width"] == 1200
    assert stats["colours"] > 50  # a blank or single-colour page has a handful
    assert "Accounts that change owner (2)" in result["dom"]
    assert "-0.00%" not in result["dom"] and "&minus;0.00%" not in result["dom"]

    drawn = probe(out / "compare.html", _MAPS, width=1200, height=900)
    assert len(drawn) == 2
    for side in drawn:
        assert len(side["rings"]) == 2
        box = side["box"]
        for x, y in side["rings"]:
            assert box["left"] <= x <= box["right"] and box["top"] <= y <= box["bottom"]
    # R1's territory is R1's colour on both sides; in plan A R1 and R2 touch: two families
    a_side, b_side = drawn[0]["fills"], drawn[1]["fills"]
    assert set(a_side) == {"0", "1"} and set(b_side) == {"0"}
    assert a_side["0"] == b_side["0"]
    assert FAMILY_OF[a_side["0"]] != FAMILY_OF[a_side["1"]]
