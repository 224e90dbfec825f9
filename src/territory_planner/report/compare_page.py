"""compare.html: two plans side by side.

Top: the two territory maps in folium's DualMap, so pan and zoom stay synchronised (Leaflet.Sync,
inlined by report/offline.py like every other script, so the page works with no internet).
Each side is the plan's own territory map from report/maps.py, moved onto its half of the
DualMap, without its side panel (the tables below carry the loads). Both maps share one
colouring (a rep has the same colour on both sides, touching territories differ on each)
and ring the accounts (outline the regions) that change owner. Below: the KPI table
(A, B, B - A), each rep's gains and losses, and the accounts that changed owner.

Every string that comes from the data (IDs, names, scenario names, metric names) goes through
``html.escape`` before it reaches the page.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd
from branca.element import Element
from folium.plugins import DualMap

from territory_planner.report.colours import territory_colours
from territory_planner.report.maps import plan_adjacency
from territory_planner.report.offline import make_offline
from territory_planner.report.text import clean_number

__all__ = ["compare_html", "MAX_MOVE_ROWS"]

MAX_MOVE_ROWS = 2000  # beyond this the page lists the first rows; moves.csv has them all
MAP_TOP_PX = 64
MAP_HEIGHT_PX = 620


def _esc(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _number(value: Any, percent: bool = False, signed: bool = False) -> str:
    """A KPI for people: a value that rounds to zero reads ``0`` / ``0.00%``, never with a
    sign (``-0.00%``) or float noise (``-4.4e-05``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if math.isnan(number):
        return "&ndash;"
    if percent:
        shown = clean_number(number * 100, 2)
        sign = "+" if signed and shown > 0 else ""
        return f"{sign}{shown:.2f}%"
    decimals = 0 if abs(number) >= 1000 or clean_number(number, 3).is_integer() else 3
    shown = clean_number(number, decimals)
    sign = "+" if signed and shown > 0 else ""
    return f"{sign}{shown:,.{decimals}f}"


def _changed_units(comparison) -> tuple[list[str], list[str]]:
    """(accounts, regions) that change owner between the plans: for two geography-mode
    plans the regions that changed hands (comparison.region_moves); otherwise, when one plan
    assigns whole regions, the regions of the moved accounts."""
    accounts = [str(a) for a in comparison.moves["account_id"]]
    region_moves = getattr(comparison, "region_moves", None)
    if region_moves is not None:
        return accounts, sorted(str(r) for r in region_moves["region_id"])
    regions: set[str] = set()
    for made in (comparison.plan_a, comparison.plan_b):
        if getattr(made.scenario, "unit", "account") != "region":
            continue
        table = made.assignments
        if "region_id" in table.columns:
            moved = table[table["account_id"].astype(str).isin(set(accounts))]
            regions |= {str(r) for r in moved["region_id"].dropna()}
    return accounts, sorted(regions)


def _shared_colours(comparison) -> dict[str, str]:
    """One colour per rep for both maps: the union of both plans' adjacencies coloured
    once, so a rep looks the same on both sides and touching territories differ on each."""
    neighbours: dict[str, set[str]] = {}
    reps: set[str] = set()
    for made in (comparison.plan_a, comparison.plan_b):
        adjacency = plan_adjacency(made.assignments, made.accounts, made.regions)
        for rep, others in adjacency.items():
            neighbours.setdefault(rep, set()).update(others)
        reps |= {str(r) for r in made.reps["rep_id"]} | set(adjacency)
    return territory_colours(reps, neighbours)


def _move_children(source, target) -> None:
    """Re-parent every layer, control and panel of a finished folium Map onto ``target``."""
    for key, child in list(source._children.items()):
        target.add_child(child, name=key)
    source._children.clear()


def _kpi_rows(kpis: pd.DataFrame) -> str:
    rows = []
    for record in kpis.to_dict("records"):
        metric = str(record["metric"])
        percent = metric.startswith(("largest deviation", "quota fairness"))
        rows.append(
            f"<tr><td class='tp-l'>{_esc(metric)}</td>"
            f"<td>{_number(record['a'], percent)}</td>"
            f"<td>{_number(record['b'], percent)}</td>"
            f"<td>{_number(record['delta'], percent, signed=True)}</td></tr>"
        )
    return (
        "<table><thead><tr><th class='tp-l'>KPI</th><th>A</th><th>B</th>"
        "<th>B &minus; A</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _lost(count: Any) -> str:
    return "&minus;" + _number(count) if count else "0"


def _rep_rows(changes: pd.DataFrame) -> str:
    load_columns = [
        c
        for c in changes.columns
        if c.endswith(("_a", "_b")) and c not in ("accounts_a", "accounts_b")
    ]
    head = (
        "<tr><th class='tp-l'>rep</th><th class='tp-l'>name</th><th>accounts A</th>"
        "<th>accounts B</th><th>gained</th><th>lost</th>"
        + "".join(f"<th>{_esc(c[:-2])} {_esc(c[-1].upper())}</th>" for c in load_columns)
        + "</tr>"
    )
    rows = []
    for record in changes.to_dict("records"):
        cells = [
            f"<td class='tp-l'>{_esc(record['rep_id'])}</td>",
            f"<td class='tp-l'>{_esc(record['name'])}</td>",
            f"<td>{_number(record['accounts_a'])}</td>",
            f"<td>{_number(record['accounts_b'])}</td>",
            f"<td class='tp-gain'>{_number(record['gained'], signed=True)}</td>",
            f"<td class='tp-loss'>{_lost(record['lost'])}</td>",
        ]
        cells += [f"<td>{_number(record[c])}</td>" for c in load_columns]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table><thead>" + head + "</thead><tbody>" + "".join(rows) + "</tbody></table>"


def _cut_note(shown: int, total: int, what: str, file: str) -> str:
    """The note under a table that shows only its first rows (empty when it shows all)."""
    if total <= shown:
        return ""
    return f"<p class='tp-note'>first {shown:,} of {total:,} {what}; {file} lists them all</p>"


def _move_rows(moves: pd.DataFrame) -> str:
    shown = moves.head(MAX_MOVE_ROWS)
    rows = [
        f"<tr><td class='tp-l'>{_esc(r['account_id'])}</td>"
        f"<td class='tp-l'>{_esc(r['name'])}</td>"
        f"<td class='tp-l'>{_esc(r['rep_a'])}</td><td class='tp-l'>{_esc(r['rep_b'])}</td>"
        f"<td>{_number(r['potential'])}</td><td>{_number(r['workload'])}</td></tr>"
        for r in shown.to_dict("records")
    ]
    note = _cut_note(len(shown), len(moves), "accounts", "moves.csv")
    if not len(moves):
        return "<p>No account changes owner.</p>"
    return (
        "<table><thead><tr><th class='tp-l'>account</th><th class='tp-l'>name</th>"
        "<th class='tp-l'>rep in A</th><th class='tp-l'>rep in B</th><th>potential</th>"
        "<th>workload</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + note
    )


def _region_move_rows(region_moves: pd.DataFrame) -> str:
    """Regions that changed hands: region, rep in A, rep in B, accounts and loads."""
    if not len(region_moves):
        return "<p>No region changes owner.</p>"
    loads = [c for c in region_moves.columns if c not in ("region_id", "rep_a", "rep_b")]
    shown = region_moves.head(MAX_MOVE_ROWS)
    head = (
        "<tr><th class='tp-l'>region</th><th class='tp-l'>rep in A</th>"
        "<th class='tp-l'>rep in B</th>" + "".join(f"<th>{_esc(c)}</th>" for c in loads) + "</tr>"
    )
    rows = [
        f"<tr><td class='tp-l'>{_esc(r['region_id'])}</td>"
        f"<td class='tp-l'>{_esc(r['rep_a'])}</td><td class='tp-l'>{_esc(r['rep_b'])}</td>"
        + "".join(f"<td>{_number(r[c])}</td>" for c in loads)
        + "</tr>"
        for r in shown.to_dict("records")
    ]
    note = _cut_note(len(shown), len(region_moves), "regions", "region_moves.csv")
    return "<table><thead>" + head + "</thead><tbody>" + "".join(rows) + "</tbody></table>" + note


def compare_html(comparison, tiles: str | None = None) -> str:
    """The standalone compare.html of a :class:`territory_planner.compare.Comparison`."""
    # fractional zoom: a half-width map of a country otherwise snaps to half its size
    dual = DualMap(tiles=None, control_scale=True, maxZoom=18, zoom_snap=0.25)
    colours = _shared_colours(comparison)
    accounts, regions = _changed_units(comparison)
    for side, made in ((dual.m1, comparison.plan_a), (dual.m2, comparison.plan_b)):
        drawn = made.map(
            tiles=tiles,
            colours=colours,
            changed_accounts=accounts,
            changed_regions=regions,
            panel=False,
        )
        _move_children(drawn, side)
    figure = dual.get_root()
    label_a, label_b = _esc(comparison.label_a), _esc(comparison.label_b)
    figure.title = f"Compare {label_a} and {label_b}"
    m1, m2 = dual.m1.get_name(), dual.m2.get_name()
    figure.header.add_child(
        Element(f"""<style>
html, body {{ height: auto !important; overflow: auto !important; margin: 0;
  font: 13px/1.4 "Helvetica Neue", Arial, Helvetica, sans-serif; }}
#{m1}, #{m2} {{ top: {MAP_TOP_PX}px !important; height: {MAP_HEIGHT_PX}px !important;
  background: #eef2f5; }}
#{m1} {{ border-right: 2px solid #444; box-sizing: border-box; }}
.tp-compare-head {{ position: absolute; top: 0; left: 0; right: 0; height: {MAP_TOP_PX}px;
  display: flex; align-items: center; padding: 0 12px; box-sizing: border-box;
  border-bottom: 1px solid #ccc; }}
.tp-compare-head h1 {{ font-size: 16px; margin: 0; flex: 1; }}
.tp-side {{ width: 50%; font-weight: 600; }}
.tp-compare-body {{ position: absolute; top: {MAP_TOP_PX + MAP_HEIGHT_PX + 12}px; left: 0;
  right: 0; padding: 0 16px 24px; }}
.tp-compare-body h2 {{ font-size: 15px; margin: 18px 0 6px; }}
.tp-compare-body table {{ border-collapse: collapse; }}
.tp-compare-body th, .tp-compare-body td {{ padding: 2px 8px; text-align: right;
  border-bottom: 1px solid #e3e3e3; white-space: nowrap; }}
.tp-compare-body th {{ border-bottom: 1px solid #999; }}
.tp-compare-body .tp-l {{ text-align: left; }}
.tp-gain {{ color: #1a7f37; }} .tp-loss {{ color: #c62828; }} .tp-note {{ color: #555; }}
</style>""")
    )
    moved = comparison.moves
    region_moves = getattr(comparison, "region_moves", None)
    regions_part = ""
    if region_moves is not None:
        regions_part = (
            f"<h2>Regions that change owner ({len(region_moves):,})</h2>\n  "
            + _region_move_rows(region_moves)
        )
    body = f"""
<div class="tp-compare-head">
  <div class="tp-side">A: {label_a}</div><div class="tp-side">B: {label_b}</div>
</div>
<div class="tp-compare-body">
  <h2>KPIs</h2>
  {_kpi_rows(comparison.kpis)}
  <h2>Gains and losses per rep</h2>
  {_rep_rows(comparison.rep_changes)}
  {regions_part}
  <h2>Accounts that change owner ({len(moved):,})</h2>
  {_move_rows(moved)}
</div>"""
    figure.html.add_child(Element(body))
    return make_offline(dual)
