"""Presentation: interactive maps and offline HTML pages. A leaf: the core never imports it."""

from territory_planner.report.maps import save_map, territory_map
from territory_planner.report.offline import OfflineAssetError, make_offline

__all__ = ["territory_map", "save_map", "make_offline", "OfflineAssetError"]
