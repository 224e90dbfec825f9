"""The interactive territory map (folium): territories coloured so that neighbours never
share a colour family, accounts, rep homes, region outlines, hierarchy outlines, and a panel
of loads against targets (today versus the plan when the summary scores today's owners).

A presentation leaf: nothing in the core imports this module. Geometry comes from
:mod:`territory_planner.geo` (territory shapes, their adjacency, outlines, GeoJSON), so no
shapely here. Colours come from :mod:`territory_planner.report.colours`, the layers from
:mod:`territory_planner.report.layers`, the panel from :mod:`territory_planner.report.panel`.

Safety: every string that comes from the data (names, IDs, region names, metric names) is
HTML-escaped by :func:`territory_planner.report.text.esc` before it reaches a tooltip or the
panel; account rows are passed to the page as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
from branca.element import Element

from territory_planner import geo
from territory_planner.report.colours import PALETTE, UNASSIGNED_COLOUR, territory_colours
from territory_planner.report.layers import (
    TERRITORY_CLASS,
    AccountLayer,
    account_rows,
    add_changed,
    add_hierarchy,
    add_regions,
    add_rep_homes,
    add_territories,
)
from territory_planner.report.offline import write_offline_html
from territory_planner.report.panel import SidePanel, panel_html
from territory_planner.report.text import esc, js, num, pct

__all__ = [
    "territory_map",
    "save_map",
    "plan_adjacency",
    "PALETTE",
    "CLUSTER_THRESHOLD",
    "TERRITORY_CLASS",
]

OFFLINE_BACKGROUND = "#f4f3ef"

CLUSTER_THRESHOLD = 500
"""Above this many located accounts, account markers are grouped in a MarkerCluster."""

_MAX_REGION_VERTICES = 100_000  # above this, outlines are simplified for the HTML file
_REGION_SIMPLIFY_DEG = 0.005  # ~500 m: invisible at the zooms a territory map is read at

# the names the rest of the module (and its tests) use for the shared text helpers
_esc, _num, _pct, _js = esc, num, pct, js


# --------------------------------------------------------------------------- helpers


def _text_ids(values: Any) -> list[str | None]:
    """IDs as text (None for blanks), matching how every reader stores them."""
    out: list[str | None] = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            out.append(None)
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            text = str(v).strip()
            out.append(text or None)
    return out


def _balance_metrics(territories: pd.DataFrame) -> list[str]:
    """Metrics with the three columns {m}_load, {m}_target, {m}_deviation, in column order."""
    cols = set(territories.columns)
    metrics = []
    for col in territories.columns:
        if str(col).endswith("_load"):
            m = str(col)[: -len("_load")]
            if f"{m}_target" in cols and f"{m}_deviation" in cols:
                metrics.append(m)
    return metrics


# --------------------------------------------------------------------------- tables


def _table_by_rep(frame: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    if frame is None or len(frame) == 0 or "rep_id" not in frame.columns:
        return {}
    ids = _text_ids(frame["rep_id"])
    records = frame.to_dict("records")
    return {rid: rec for rid, rec in zip(ids, records) if rid is not None}


def _tidy_accounts(accounts: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Accounts with their plan columns: text IDs, numbers, one row per account."""
    acc = accounts.copy()
    acc["account_id"] = _text_ids(acc["account_id"])
    asg = assignments.copy()
    asg["account_id"] = _text_ids(asg["account_id"])
    asg["rep_id"] = _text_ids(asg["rep_id"]) if "rep_id" in asg.columns else None
    keep = [
        c
        for c in ("account_id", "rep_id", "distance_km", "moved", "previous_rep_id")
        if c in asg.columns
    ]
    acc = acc.drop(columns=[c for c in keep if c != "account_id" and c in acc.columns])
    acc = acc.merge(asg[keep].drop_duplicates("account_id"), on="account_id", how="left")
    for col in ("lat", "lon", "workload", "potential", "distance_km"):
        acc[col] = pd.to_numeric(acc[col], errors="coerce") if col in acc.columns else np.nan
    if "name" not in acc.columns:
        acc["name"] = ""
    return acc.sort_values("account_id", kind="stable").reset_index(drop=True)


def _tidy_reps(reps: pd.DataFrame) -> pd.DataFrame:
    rp = reps.copy()
    rp["rep_id"] = _text_ids(rp["rep_id"])
    rp = rp[rp["rep_id"].notna()].sort_values("rep_id", kind="stable").reset_index(drop=True)
    for col in ("lat", "lon", "capacity"):
        rp[col] = pd.to_numeric(rp[col], errors="coerce") if col in rp.columns else np.nan
    return rp


def _rep_names(territory: dict[str, dict[str, Any]], rp: pd.DataFrame) -> dict[str, str]:
    names: dict[str, str] = {}
    for rid, rec in territory.items():
        if rec.get("name") not in (None, "") and not pd.isna(rec.get("name")):
            names[rid] = str(rec["name"])
    if "name" in rp.columns:
        for rid, name in zip(rp["rep_id"], rp["name"]):
            if isinstance(name, str) and name.strip():
                names[rid] = name
    return names


def _bounds(acc: pd.DataFrame, rp: pd.DataFrame, regions: Any) -> list[list[float]]:
    lats = np.concatenate([acc["lat"].to_numpy(float), rp["lat"].to_numpy(float)])
    lons = np.concatenate([acc["lon"].to_numpy(float), rp["lon"].to_numpy(float)])
    ok = np.isfinite(lats) & np.isfinite(lons)
    if ok.any():
        return [
            [float(lats[ok].min()), float(lons[ok].min())],
            [float(lats[ok].max()), float(lons[ok].max())],
        ]
    if regions is not None and len(regions):
        minx, miny, maxx, maxy = (float(v) for v in regions.to_crs("EPSG:4326").total_bounds)
        return [[miny, minx], [maxy, maxx]]
    return [[-60.0, -170.0], [75.0, 170.0]]


def _outlines(regions: Any):
    """Region outlines for drawing (simplified when a county file would bloat the page)."""
    if regions is None or not len(regions):
        return None
    outlines = geo.region_outlines(regions)
    if int(outlines.geometry.count_coordinates().sum()) > _MAX_REGION_VERTICES:
        outlines = geo.region_outlines(regions, simplify_deg=_REGION_SIMPLIFY_DEG)
    return outlines


def _shapes(acc: pd.DataFrame, outlines: Any):
    located = acc[np.isfinite(acc["lat"]) & np.isfinite(acc["lon"])]
    return geo.territory_shapes(
        located["lat"].to_numpy(float),
        located["lon"].to_numpy(float),
        located["rep_id"].to_numpy(object),
        clip=outlines,
    )


def plan_adjacency(
    assignments: pd.DataFrame, accounts: pd.DataFrame, regions: Any = None
) -> dict[str, tuple[str, ...]]:
    """Which reps' territories touch on the map of this plan (the shapes the map draws)."""
    acc = _tidy_accounts(accounts, assignments)
    return geo.territory_adjacency(_shapes(acc, _outlines(regions)))


# --------------------------------------------------------------------------- the map


def territory_map(
    assignments: pd.DataFrame,
    territories: pd.DataFrame,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    regions: Any = None,
    *,
    title: str = "",
    tiles: str | None = None,
    quotas: pd.DataFrame | None = None,
    tolerances: dict[str, float] | None = None,
    summary: dict[str, Any] | None = None,
    hierarchy: Iterable[str] | None = None,
    colours: dict[str, str] | None = None,
    changed_accounts: Iterable[str] | None = None,
    changed_regions: Iterable[str] | None = None,
    panel: bool = True,
) -> folium.Map:
    """The interactive map of a plan.

    ``assignments`` (account_id, rep_id, distance_km, ...), ``territories`` (rep_id, name,
    accounts, ``{metric}_load/_target/_deviation``, optional ``{metric}_load_today`` and
    quota columns), canonical ``accounts`` and ``reps`` tables, and optionally the regions
    GeoDataFrame of :func:`territory_planner.geo.read_regions`.

    ``tiles=None`` draws no tile layer: the page then needs no internet at all and the
    region outlines are the base map. A folium tiles name ("OpenStreetMap", "CartoDB
    positron") adds that layer for readers online. ``quotas`` (rep_id, quota,
    quota_to_potential) adds quota columns when ``territories`` lacks them;
    ``tolerances`` ({metric: fraction}) colours each deviation against its own band
    instead of the default 5% / 10% thresholds; ``summary`` (summary.json) adds the
    today-versus-plan table when it has a ``today`` block; ``hierarchy`` (reps columns)
    adds a layer of unit outlines per level.

    ``colours`` ({rep_id: colour}) replaces the adjacency colouring (a comparison colours
    both plans at once); ``changed_accounts`` / ``changed_regions`` are ringed / outlined
    as having changed owner; ``panel=False`` leaves the side panel out (a page with two
    maps lays itself out).
    """
    acc = _tidy_accounts(accounts, assignments)
    rp = _tidy_reps(reps)
    territory = _table_by_rep(territories)
    quota = {
        rid: rec
        for rid, rec in territory.items()
        if "quota" in rec and rec.get("quota") is not None
    }
    for rid, rec in _table_by_rep(quotas).items():
        quota.setdefault(rid, rec)
    metrics = _balance_metrics(territories) if territories is not None else []
    rep_ids = sorted(
        set(rp["rep_id"]) | {r for r in acc["rep_id"] if r is not None} | set(territory)
    )
    names = _rep_names(territory, rp)

    # maxZoom on the map itself: with no tile layer nothing else sets it, and
    # Leaflet.markercluster refuses to start without one.
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, maxZoom=18)
    if title:
        m.get_root().title = esc(title)
    if tiles:
        folium.TileLayer(tiles, name=str(tiles), control=True).add_to(m)
    else:
        m.get_root().header.add_child(
            Element(f"<style>#{m.get_name()} {{ background: {OFFLINE_BACKGROUND}; }}</style>")
        )

    outlines = _outlines(regions)
    if outlines is not None:
        add_regions(m, outlines, tiles)
    shapes = _shapes(acc, outlines)
    if colours is None:
        colours = territory_colours(rep_ids, geo.territory_adjacency(shapes))
    colours = {rid: colours.get(rid, UNASSIGNED_COLOUR) for rid in rep_ids}
    add_territories(m, shapes, colours, names, territory, metrics)
    if hierarchy:
        add_hierarchy(m, shapes, rp, hierarchy)

    located = acc[np.isfinite(acc["lat"]) & np.isfinite(acc["lon"])]
    rows = account_rows(located, colours, names)
    AccountLayer(rows, cluster=len(rows) > CLUSTER_THRESHOLD).add_to(m)
    add_changed(m, located, rows, changed_accounts, outlines, changed_regions)
    add_rep_homes(m, rp, colours, names, territory, metrics, quota)

    if panel:
        panel_reps = [rid for rid in rep_ids if rid in territory or rid in set(rp["rep_id"])]
        unowned = int(acc["rep_id"].isna().sum())
        content = panel_html(
            title,
            panel_reps,
            colours,
            names,
            territory,
            metrics,
            quota,
            tolerances,
            summary,
            unowned,
        )
        SidePanel(content).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.fit_bounds(_bounds(acc, rp, regions), padding=(20, 20))
    return m


def save_map(m: folium.Map | Any, path: str | Path) -> Path:
    """Write ``m`` as one standalone HTML file that works with no internet (tiles aside)."""
    return write_offline_html(m, path)
