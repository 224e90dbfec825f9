"""compare.html in a real browser: no JavaScript error, both synchronised maps draw their
territories, the screenshot is not blank. Skipped when no Chromium is installed."""

from __future__ import annotations

from territory_planner import compare, rebalance
from tests.browser import png_stats, render, require_chromium
from tests.test_rebalance import three_rep_plan


def test_compare_page_draws_both_maps_offline(tmp_path):
    """Plan A has 3 territories (A, B, C), plan B 2 (C left): each map container holds
    interactive territory paths, and the page raised no error with the network cut off."""
    require_chromium()
    start = three_rep_plan(tmp_path)
    after = rebalance(start, leaves=["C"])
    out = compare(start, after).write(tmp_path / "cmp")
    result = render(out / "compare.html", tmp_path / "compare.png", width=1200, height=900)
    assert result["js_errors"] == []
    maps = list(result["maps"].values())
    assert len(maps) == 2
    assert all(m["interactive_paths"] >= 2 for m in maps), result["maps"]
    stats = png_stats(result["screenshot"])
    assert stats["width"] == 1200
    assert stats["colours"] > 50  # a blank or single-colour page has a handful
    assert "Accounts that change owner (2)" in result["dom"]
