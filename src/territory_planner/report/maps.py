"""The interactive territory map (folium): territories coloured so that neighbours never
share a colour family, accounts, rep homes, region outlines, hierarchy outlines, and a panel
of loads against targets (today versus the plan when the summary scores today's owners).

A presentation leaf: nothing in the core imports this module. Geometry comes from
:mod:`territory_planner.geo` (territory shapes, their adjacency, outlines, GeoJSON), so no
shapely here. Colours come from :mod:`territory_planner.report.colours`, the panel from
:mod:`territory_planner.report.panel`.

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
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import MarkerCluster
from folium.template import Template

from territory_planner import geo
from territory_planner.report.colours import PALETTE, UNASSIGNED_COLOUR, territory_colours
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

TERRITORY_CLASS = "tp-territory"
"""CSS class of every territory polygon; the n-th territory (rep_id order) also carries
``tp-territory-n``, so a reader (or a test) can find a rep's polygon in the page."""

REGION_COLOUR = "#8a8a8a"
OFFLINE_BACKGROUND = "#f4f3ef"
CHANGED_COLOUR = "#111111"  # the ring around an account (or region) that changed owner
HIERARCHY_STYLES = (  # one outline style per hierarchy level, innermost level first
    {"color": "#222222", "weight": 3.0, "dashArray": None},
    {"color": "#000000", "weight": 4.5, "dashArray": "10 6"},
    {"color": "#444444", "weight": 6.0, "dashArray": "2 6"},
)

CLUSTER_THRESHOLD = 500
"""Above this many located accounts, account markers are grouped in a MarkerCluster."""

_CLUSTER_CSS = """<style>
.marker-cluster.tp-cluster { background: rgba(40, 40, 40, 0.22); }
.marker-cluster.tp-cluster div { background: rgba(40, 40, 40, 0.72); color: #fff;
  width: 26px; height: 26px; margin-left: 5px; margin-top: 5px; border-radius: 13px;
  font: 11px/26px "Helvetica Neue", Arial, Helvetica, sans-serif; text-align: center; }
.marker-cluster.tp-cluster span { line-height: 26px; }
</style>"""
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


_REP_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="26" height="26" viewBox="0 0 24 24">'
    '<path d="M12 2.5 1.5 11.5h3v10h6v-6h3v6h6v-10h3z" fill="{colour}" stroke="#1a1a1a"'
    ' stroke-width="1.4" stroke-linejoin="round"/></svg>'
)


# --------------------------------------------------------------------------- elements


_REP_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="26" height="26" viewBox="0 0 24 24">'
    '<path d="M12 2.5 1.5 11.5h3v10h6v-6h3v6h6v-10h3z" fill="{colour}" stroke="#1a1a1a"'
    ' stroke-width="1.4" stroke-linejoin="round"/></svg>'
)


# --------------------------------------------------------------------------- elements


class _AccountLayer(JSCSSMixin, Layer):
    """Account circle markers from one JSON array, optionally inside a MarkerCluster.

    One compact array (lat, lon, colour, tooltip HTML pre-escaped by :func:`esc`) instead
    of one folium object per account keeps a 50,000-account page small and fast to open.
    ``style`` overrides the circle options (the ring layer of changed accounts uses it).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = {% if this.cluster -%}
                L.markerClusterGroup({"chunkedLoading": true, "maxClusterRadius": 50,
                    // neutral bubbles: the default green / yellow / orange ones read as
                    // territory colours
                    "iconCreateFunction": function (cluster) {
                        return L.divIcon({
                            html: "<div><span>" + cluster.getChildCount() + "</span></div>",
                            className: "marker-cluster tp-cluster",
                            iconSize: L.point(36, 36)
                        });
                    }});
            {%- else -%}
                L.featureGroup();
            {%- endif %}
            (function (layer) {
                var rows = {{ this.rows_js }};
                var style = {{ this.style_js }};
                for (var i = 0; i < rows.length; i++) {
                    var r = rows[i];
                    var options = Object.assign({
                        radius: 4, weight: 1, color: "#202020", opacity: 0.7,
                        fillColor: r[2], fillOpacity: 0.9
                    }, style);
                    L.circleMarker([r[0], r[1]], options)
                        .bindTooltip(r[3], {sticky: true}).addTo(layer);
                }
            })({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self,
        rows: list[list[Any]],
        cluster: bool,
        name: str = "Accounts",
        style: dict[str, Any] | None = None,
    ):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "AccountLayer"
        self.cluster = cluster
        self.rows_js = js(rows)
        self.style_js = js(style or {})
        # Borrow MarkerCluster's resources so offline inlining knows them.
        self.default_js = list(MarkerCluster.default_js) if cluster else []
        self.default_css = list(MarkerCluster.default_css) if cluster else []

    def render(self, **kwargs):
        if self.cluster:
            self.get_root().header.add_child(Element(_CLUSTER_CSS), name="tp_cluster_css")
        super().render(**kwargs)


# --------------------------------------------------------------------------- tables


def _table_by_rep(frame: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    if frame is None or len(frame) == 0 or "rep_id" not in frame.columns:
        return {}
    ids = _text_ids(frame["rep_id"])
    records = frame.to_dict("records")
    return {rid: rec for rid, rec in zip(ids, records) if rid is not None}


def _load_lines(rec: dict[str, Any], metrics: list[str]) -> list[str]:
    lines = []
    for m in metrics:
        lines.append(
            f"{esc(m)}: {num(rec.get(f'{m}_load'))} / "
            f"{num(rec.get(f'{m}_target'))} ({pct(rec.get(f'{m}_deviation'))})"
        )
    return lines


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


# --------------------------------------------------------------------------- layers


def _add_regions(m: folium.Map, outlines: Any, tiles: str | None) -> None:
    """Thin grey outlines: the base map when there are no tiles."""
    folium.GeoJson(
        geo.to_geojson(outlines[["region_id", "geometry"]]),
        name="Regions",
        overlay=True,
        control=True,
        interactive=False,
        style_function=lambda _f: {
            "color": REGION_COLOUR,
            "weight": 0.8,
            "opacity": 0.9,
            "fill": not tiles,
            "fillColor": "#ffffff",
            "fillOpacity": 0.6,
        },
    ).add_to(m)


def _add_territories(m, shapes, colours, names, territory, metrics) -> None:
    """Voronoi areas of each rep's accounts, one polygon per rep, classed by rep order."""
    group = folium.FeatureGroup(name="Territories", overlay=True, control=True)
    position = {rid: i for i, rid in enumerate(sorted(colours))}
    for feature in geo.to_geojson(shapes)["features"]:
        rid = feature["properties"]["rep_id"]
        if feature["geometry"] is None:
            continue
        colour = colours.get(rid, UNASSIGNED_COLOUR)
        rec = territory.get(rid, {})
        tip = "<br>".join(
            [
                f"<b>{esc(names.get(rid) or rid)}</b> ({esc(rid)})",
                f"accounts: {num(rec.get('accounts', np.nan))}",
            ]
            + _load_lines(rec, metrics)
        )
        css = f"{TERRITORY_CLASS} {TERRITORY_CLASS}-{position.get(rid, len(position))}"
        folium.GeoJson(
            feature,
            name=None,
            control=False,
            style_function=lambda _f, c=colour, k=css: {
                "color": c,
                "weight": 1.5,
                "opacity": 0.9,
                "fillColor": c,
                "fillOpacity": 0.28,
                "className": k,
            },
            tooltip=folium.Tooltip(tip, sticky=True),
        ).add_to(group)
    group.add_to(m)


def _add_hierarchy(m, shapes, rp: pd.DataFrame, hierarchy: Iterable[str]) -> None:
    """One layer per hierarchy level: the outline of each unit's territories together."""
    for depth, level in enumerate(hierarchy):
        if level not in rp.columns:
            continue
        group_of = {
            rid: str(unit)
            for rid, unit in zip(rp["rep_id"], rp[level])
            if unit is not None and not pd.isna(unit) and str(unit).strip()
        }
        outlines = geo.group_outlines(shapes, group_of)
        if not len(outlines):
            continue
        style = HIERARCHY_STYLES[min(depth, len(HIERARCHY_STYLES) - 1)]
        # the innermost level is shown; wider levels wait in the layer control (all at
        # once bury the territories under lines)
        layer = folium.FeatureGroup(
            name=f"{esc(level)} outlines", overlay=True, control=True, show=depth == 0
        )
        for feature in geo.to_geojson(outlines)["features"]:
            props = feature["properties"]
            folium.GeoJson(
                feature,
                name=None,
                control=False,
                style_function=lambda _f, s=style, d=depth: {
                    **s,
                    "opacity": 0.95,
                    "fill": False,
                    "className": f"tp-level tp-level-{d}",
                },
                tooltip=folium.Tooltip(
                    f"<b>{esc(level)} {esc(props['unit'])}</b><br>reps: {esc(props['reps'])}",
                    sticky=True,
                ),
            ).add_to(layer)
        layer.add_to(m)


def _account_rows(located: pd.DataFrame, colours, names) -> list[list[Any]]:
    rows = []
    for rec in located.to_dict("records"):
        rid = rec.get("rep_id")
        rep_label = (
            f"{esc(names.get(rid) or rid)} ({esc(rid)})" if rid is not None else "unassigned"
        )
        lines = [
            f"<b>{esc(rec.get('name')) or esc(rec['account_id'])}</b> ({esc(rec['account_id'])})",
            f"rep: {rep_label}",
            f"workload: {num(rec.get('workload'))}",
            f"potential: {num(rec.get('potential'))}",
            f"distance: {num(rec.get('distance_km'))} km",
        ]
        moved = rec.get("moved")
        prev = rec.get("previous_rep_id")
        if isinstance(moved, (bool, np.bool_)) and moved and prev is not None and not pd.isna(prev):
            lines.append(f"moved from: {esc(names.get(str(prev)) or prev)}")
        rows.append(
            [
                round(float(rec["lat"]), 6),
                round(float(rec["lon"]), 6),
                colours.get(rid, UNASSIGNED_COLOUR) if rid else UNASSIGNED_COLOUR,
                "<br>".join(lines),
            ]
        )
    return rows


def _add_changed(m, located, rows, changed_accounts, outlines, changed_regions) -> None:
    """The accounts (rings) and regions (thick outlines) that changed owner."""
    wanted = {str(a) for a in changed_accounts or ()}
    if wanted:
        rings = [
            [r[0], r[1], r[2], "changed owner<br>" + r[3]]
            for r, aid in zip(rows, located["account_id"])
            if aid in wanted
        ]
        style = {"radius": 8, "weight": 3, "color": CHANGED_COLOUR, "opacity": 1.0}
        style.update({"fillOpacity": 0.0, "className": "tp-changed"})
        _AccountLayer(rings, cluster=False, name="Changed owner", style=style).add_to(m)
    regions = {str(r) for r in changed_regions or ()}
    if regions and outlines is not None:
        chosen = outlines[outlines["region_id"].astype(str).isin(regions)]
        if len(chosen):
            folium.GeoJson(
                geo.to_geojson(chosen[["region_id", "geometry"]]),
                name="Regions that changed owner",
                overlay=True,
                control=True,
                interactive=False,
                style_function=lambda _f: {
                    "color": CHANGED_COLOUR,
                    "weight": 3.5,
                    "dashArray": "6 4",
                    "fill": False,
                    "className": "tp-changed-region",
                },
            ).add_to(m)


def _add_rep_homes(m, rp, colours, names, territory, metrics, quota) -> None:
    group = folium.FeatureGroup(name="Reps", overlay=True, control=True)
    for rec in rp.to_dict("records"):
        if not (np.isfinite(rec["lat"]) and np.isfinite(rec["lon"])):
            continue
        rid = rec["rep_id"]
        trec = territory.get(rid, {})
        lines = [
            f"<b>{esc(names.get(rid) or rid)}</b> ({esc(rid)})",
            f"capacity: {num(rec.get('capacity'))}",
            f"status: {esc(rec.get('status')) or 'active'}",
            f"accounts: {num(trec.get('accounts', np.nan))}",
        ]
        lines += _load_lines(trec, metrics)
        if rid in quota:
            lines.append(f"quota: {num(quota[rid].get('quota'))}")
        folium.Marker(
            [float(rec["lat"]), float(rec["lon"])],
            icon=folium.DivIcon(
                html=_REP_ICON.format(colour=colours[rid]),
                icon_size=(26, 26),
                icon_anchor=(13, 13),
                class_name="tp-rep-icon",
            ),
            tooltip=folium.Tooltip("<br>".join(lines), sticky=True),
        ).add_to(group)
    group.add_to(m)


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
        _add_regions(m, outlines, tiles)
    shapes = _shapes(acc, outlines)
    if colours is None:
        colours = territory_colours(rep_ids, geo.territory_adjacency(shapes))
    colours = {rid: colours.get(rid, UNASSIGNED_COLOUR) for rid in rep_ids}
    _add_territories(m, shapes, colours, names, territory, metrics)
    if hierarchy:
        _add_hierarchy(m, shapes, rp, hierarchy)

    located = acc[np.isfinite(acc["lat"]) & np.isfinite(acc["lon"])]
    rows = _account_rows(located, colours, names)
    _AccountLayer(rows, cluster=len(rows) > CLUSTER_THRESHOLD).add_to(m)
    _add_changed(m, located, rows, changed_accounts, outlines, changed_regions)
    _add_rep_homes(m, rp, colours, names, territory, metrics, quota)

    if panel:
        panel_reps = [rid for rid in rep_ids if rid in territory or rid in set(rp["rep_id"])]
        content = panel_html(
            title, panel_reps, colours, names, territory, metrics, quota, tolerances, summary
        )
        SidePanel(content).add_to(m)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    m.fit_bounds(_bounds(acc, rp, regions), padding=(20, 20))
    return m


def save_map(m: folium.Map | Any, path: str | Path) -> Path:
    """Write ``m`` as one standalone HTML file that works with no internet (tiles aside)."""
    return write_offline_html(m, path)
