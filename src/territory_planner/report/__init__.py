"""Presentation: interactive maps, offline HTML pages and workbooks. A leaf: the core never
imports it."""

from territory_planner.report.maps import save_map, territory_map
from territory_planner.report.offline import OfflineAssetError, make_offline
from territory_planner.report.plan_workbook import write_plan_workbook
from territory_planner.report.workbook import Sheet, write_workbook

__all__ = [
    "territory_map",
    "save_map",
    "make_offline",
    "OfflineAssetError",
    "write_plan_workbook",
    "write_workbook",
    "Sheet",
]
