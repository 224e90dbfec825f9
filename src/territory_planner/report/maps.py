"""The interactive territory map (folium): one colour per territory, accounts, rep homes,
region outlines and a panel of loads against targets.

A presentation leaf: nothing in the core imports this module. Geometry comes from
:mod:`territory_planner.geo` (territory shapes, outlines, GeoJSON), so no shapely here.

Safety: every string that comes from the data (names, IDs, region names, metric names) is
HTML-escaped by :func:`_esc` before it reaches a tooltip or the panel. folium's Tooltip puts
its text unescaped into a JavaScript template literal, so :func:`_esc` also neutralises the
backtick, ``$`` and backslash; a CRM name like ``<img src=x onerror=alert(1)>`` or
``${alert(1)}`` shows as text and never runs. Account rows are passed to the page as JSON.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import MarkerCluster
from folium.template import Template

from territory_planner import geo
from territory_planner.report.offline import write_offline_html

__all__ = ["territory_map", "save_map", "PALETTE", "CLUSTER_THRESHOLD"]

# 36 categorical colours, no greys (grey means "region outline" / "unassigned") and none
# too pale to read as a translucent fill. Picked from Kelly's, ColorBrewer's and Tableau's
# palettes by greedy farthest-point selection in CIELAB, so the first colours are the most
# different (min pairwise Delta-E over all 36: 18). Territories take them in rep_id order,
# so a rep keeps its colour across scenarios with the same rep list; past 36 they repeat.
PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#f3c300",
    "#ff1493",
    "#008856",
    "#882d17",
    "#f7b6d2",
    "#7fbf00",
    "#984ea3",
    "#c2b280",
    "#ff7f0e",
    "#17becf",
    "#e31a1c",
    "#f99379",
    "#a6761d",
    "#b3446c",
    "#b5cf6b",
    "#393b79",
    "#654522",
    "#556b2f",
    "#4daf4a",
    "#fdbf6f",
    "#f781bf",
    "#6b6ecf",
    "#9c9ede",
    "#66c2a5",
    "#be0032",
    "#bcbd22",
    "#8b008b",
    "#bc80bd",
    "#cd5c5c",
    "#e25822",
    "#7b4173",
    "#c71585",
    "#843c39",
    "#b15928",
    "#f6a600",
)
UNASSIGNED_COLOUR = "#7f7f7f"
REGION_COLOUR = "#8a8a8a"
OFFLINE_BACKGROUND = "#f4f3ef"

CLUSTER_THRESHOLD = 500
"""Above this many located accounts, account markers are grouped in a MarkerCluster."""

_MAX_REGION_VERTICES = 100_000  # above this, outlines are simplified for the HTML file
_REGION_SIMPLIFY_DEG = 0.005  # ~500 m: invisible at the zooms a territory map is read at


# --------------------------------------------------------------------------- helpers


def _esc(value: Any) -> str:
    """Text from the data made safe for HTML and for folium's JS template literals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def _num(value: Any) -> str:
    """A number for people: thousands separators; decimals only where they carry meaning
    (none from 1,000 up, one from 100, two below)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    if math.isnan(v) or math.isinf(v):
        return "&ndash;"
    if (v.is_integer() and abs(v) < 1e15) or abs(v) >= 1000:
        return f"{round(v):,}"
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:,.2f}"


def _pct(fraction: Any) -> str:
    try:
        v = float(fraction)
    except (TypeError, ValueError):
        return "&ndash;"
    return "&ndash;" if math.isnan(v) else f"{v * 100:+.1f}%"


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


def _js(value: Any) -> str:
    """JSON for inline <script>: '</' cannot close the element; non-ASCII kept readable."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("</", "<\\/")
        .replace("<!--", "<\\!--")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


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


def _deviation_class(dev: Any, tolerance: float | None) -> str:
    try:
        d = abs(float(dev))
    except (TypeError, ValueError):
        return "tp-na"
    if math.isnan(d):
        return "tp-na"
    if tolerance is not None:
        return "tp-ok" if d <= tolerance + 1e-9 else "tp-bad"
    if d <= 0.05 + 1e-9:
        return "tp-ok"
    return "tp-warn" if d <= 0.10 + 1e-9 else "tp-bad"


def _colours(rep_ids: list[str]) -> dict[str, str]:
    return {rid: PALETTE[i % len(PALETTE)] for i, rid in enumerate(sorted(rep_ids))}


_REP_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="26" height="26" viewBox="0 0 24 24">'
    '<path d="M12 2.5 1.5 11.5h3v10h6v-6h3v6h6v-10h3z" fill="{colour}" stroke="#1a1a1a"'
    ' stroke-width="1.4" stroke-linejoin="round"/></svg>'
)


# --------------------------------------------------------------------------- elements


class _AccountLayer(JSCSSMixin, Layer):
    """Account circle markers from one JSON array, optionally inside a MarkerCluster.

    One compact array (lat, lon, colour, tooltip HTML pre-escaped by :func:`_esc`) instead
    of one folium object per account keeps a 50,000-account page small and fast to open.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = {% if this.cluster -%}
                L.markerClusterGroup({"chunkedLoading": true, "maxClusterRadius": 50});
            {%- else -%}
                L.featureGroup();
            {%- endif %}
            (function (layer) {
                var rows = {{ this.rows_js }};
                for (var i = 0; i < rows.length; i++) {
                    var r = rows[i];
                    L.circleMarker([r[0], r[1]], {
                        radius: 4, weight: 1, color: "#202020", opacity: 0.7,
                        fillColor: r[2], fillOpacity: 0.9
                    }).bindTooltip(r[3], {sticky: true}).addTo(layer);
                }
            })({{ this.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], cluster: bool, name: str = "Accounts"):
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "AccountLayer"
        self.cluster = cluster
        self.rows_js = _js(rows)
        # Borrow MarkerCluster's resources so offline inlining knows them.
        self.default_js = list(MarkerCluster.default_js) if cluster else []
        self.default_css = list(MarkerCluster.default_css) if cluster else []


class _Panel(MacroElement):
    """A Leaflet control holding the loads-vs-targets table (pre-escaped HTML).

    A control rather than a page-level div, so it sits inside its own map and works the
    same when two maps share a page (DualMap comparisons).
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>
            .tp-panel { background: rgba(255,255,255,0.95); padding: 6px 8px;
                font: 12px/1.35 "Helvetica Neue", Arial, Helvetica, sans-serif;
                border-radius: 5px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
                max-height: 45vh; max-width: 55vw; overflow: auto; }
            .tp-panel summary { font-weight: 600; font-size: 13px; cursor: pointer;
                margin-bottom: 3px; }
            .tp-panel table { border-collapse: collapse; }
            .tp-panel th, .tp-panel td { padding: 1px 6px; text-align: right;
                white-space: nowrap; }
            .tp-panel th { border-bottom: 1px solid #bbb; font-weight: 600; }
            .tp-panel td.tp-rep, .tp-panel th.tp-rep { text-align: left; }
            .tp-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px;
                border: 1px solid #333; vertical-align: middle; }
            .tp-ok { color: #1a7f37; } .tp-warn { color: #b26b00; }
            .tp-bad { color: #c62828; font-weight: 600; } .tp-na { color: #777; }
            .tp-note { color: #555; margin-top: 3px; }
            .tp-rep-icon { background: none; border: none; }
            </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            (function (map) {
                var panel = L.control({position: "bottomright"});
                panel.onAdd = function () {
                    var div = L.DomUtil.create("div", "tp-panel");
                    div.innerHTML = {{ this.html_js }};
                    L.DomEvent.disableClickPropagation(div);
                    L.DomEvent.disableScrollPropagation(div);
                    return div;
                };
                panel.addTo(map);
            })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, panel_html: str):
        super().__init__()
        self._name = "TerritoryPanel"
        self.html_js = _js(panel_html)


# --------------------------------------------------------------------------- the map


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
            f"{_esc(m)}: {_num(rec.get(f'{m}_load'))} / "
            f"{_num(rec.get(f'{m}_target'))} ({_pct(rec.get(f'{m}_deviation'))})"
        )
    return lines


def _panel_html(
    title: str,
    rep_ids: list[str],
    colours: dict[str, str],
    names: dict[str, str],
    territory: dict[str, dict[str, Any]],
    metrics: list[str],
    quota: dict[str, dict[str, Any]],
    tolerances: dict[str, float] | None,
) -> str:
    head = ['<th class="tp-rep">Rep</th>', "<th>Accounts</th>"]
    for m in metrics:
        tol = (tolerances or {}).get(m)
        tol_txt = f" &plusmn;{tol * 100:.0f}%" if tol is not None else ""
        head.append(f"<th>{_esc(m)} load / target{tol_txt}</th><th>dev.</th>")
    has_quota = bool(quota)
    if has_quota:
        head.append("<th>Quota</th><th>Quota / potential</th>")
    rows = []
    for rid in rep_ids:
        rec = territory.get(rid, {})
        label = names.get(rid) or rid
        cells = [
            f'<td class="tp-rep"><span class="tp-swatch" style="background:'
            f'{colours[rid]}"></span>{_esc(label)}</td>',
            f"<td>{_num(rec.get('accounts', 0))}</td>",
        ]
        for m in metrics:
            dev = rec.get(f"{m}_deviation")
            cls = _deviation_class(dev, (tolerances or {}).get(m))
            cells.append(
                f"<td>{_num(rec.get(f'{m}_load'))} / {_num(rec.get(f'{m}_target'))}"
                f'</td><td class="{cls}">{_pct(dev)}</td>'
            )
        if has_quota:
            q = quota.get(rid, {})
            cells.append(
                f"<td>{_num(q.get('quota'))}</td><td>{_num(q.get('quota_to_potential'))}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    summary = _esc(title) if title else "Loads against targets"
    note = (
        '<div class="tp-note">dev. = (load &minus; target) / target'
        + ("" if tolerances else "; green &le; 5%, amber &le; 10%")
        + "</div>"
    )
    # <details>: the reader can fold the table away to see the map under it.
    return (
        f"<details open><summary>{summary}</summary>"
        "<table><thead><tr>"
        + "".join(head)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + note
        + "</details>"
    )


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
) -> folium.Map:
    """The interactive map of a plan.

    ``assignments`` (account_id, rep_id, distance_km, ...), ``territories`` (rep_id, name,
    accounts, ``{metric}_load/_target/_deviation``, optional quota columns), canonical
    ``accounts`` and ``reps`` tables, and optionally the regions GeoDataFrame of
    :func:`territory_planner.geo.read_regions`.

    ``tiles=None`` draws no tile layer: the page then needs no internet at all and the
    region outlines are the base map. A folium tiles name ("OpenStreetMap", "CartoDB
    positron") adds that layer for readers online. ``quotas`` (rep_id, quota,
    quota_to_potential) adds quota columns when ``territories`` lacks them;
    ``tolerances`` ({metric: fraction}) colours each deviation against its own band
    instead of the default 5% / 10% thresholds.
    """
    # ---- tidy inputs: text IDs, numbers, one row per account
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
    acc = acc.sort_values("account_id", kind="stable").reset_index(drop=True)

    rp = reps.copy()
    rp["rep_id"] = _text_ids(rp["rep_id"])
    rp = rp[rp["rep_id"].notna()].sort_values("rep_id", kind="stable").reset_index(drop=True)
    for col in ("lat", "lon", "capacity"):
        rp[col] = pd.to_numeric(rp[col], errors="coerce") if col in rp.columns else np.nan

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
    colours = _colours(rep_ids)
    names: dict[str, str] = {}
    for rid, rec in territory.items():
        if rec.get("name") not in (None, "") and not pd.isna(rec.get("name")):
            names[rid] = str(rec["name"])
    if "name" in rp.columns:
        for rid, name in zip(rp["rep_id"], rp["name"]):
            if isinstance(name, str) and name.strip():
                names[rid] = name

    # ---- the map, fitted to the data
    # maxZoom on the map itself: with no tile layer nothing else sets it, and
    # Leaflet.markercluster refuses to start without one.
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, maxZoom=18)
    if title:
        m.get_root().title = _esc(title)
    if tiles:
        folium.TileLayer(tiles, name=str(tiles), control=True).add_to(m)
    else:
        m.get_root().header.add_child(
            Element(f"<style>#{m.get_name()} {{ background: {OFFLINE_BACKGROUND}; }}</style>")
        )

    lats = np.concatenate([acc["lat"].to_numpy(float), rp["lat"].to_numpy(float)])
    lons = np.concatenate([acc["lon"].to_numpy(float), rp["lon"].to_numpy(float)])
    ok = np.isfinite(lats) & np.isfinite(lons)
    if ok.any():
        bounds = [
            [float(lats[ok].min()), float(lons[ok].min())],
            [float(lats[ok].max()), float(lons[ok].max())],
        ]
    elif regions is not None and len(regions):
        minx, miny, maxx, maxy = (float(v) for v in regions.to_crs("EPSG:4326").total_bounds)
        bounds = [[miny, minx], [maxy, maxx]]
    else:
        bounds = [[-60.0, -170.0], [75.0, 170.0]]

    # ---- regions: thin grey outlines, the base map when there are no tiles
    outlines = None
    if regions is not None and len(regions):
        outlines = geo.region_outlines(regions)
        vertices = int(outlines.geometry.count_coordinates().sum())
        if vertices > _MAX_REGION_VERTICES:
            outlines = geo.region_outlines(regions, simplify_deg=_REGION_SIMPLIFY_DEG)
        region_json = geo.to_geojson(outlines[["region_id", "geometry"]])
        folium.GeoJson(
            region_json,
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

    # ---- territories: Voronoi areas of each rep's accounts, cut to the regions
    located = acc[np.isfinite(acc["lat"]) & np.isfinite(acc["lon"])]
    shapes = geo.territory_shapes(
        located["lat"].to_numpy(float),
        located["lon"].to_numpy(float),
        located["rep_id"].to_numpy(object),
        clip=outlines,
    )
    territory_group = folium.FeatureGroup(name="Territories", overlay=True, control=True)
    shape_json = geo.to_geojson(shapes)
    for feature in shape_json["features"]:
        rid = feature["properties"]["rep_id"]
        if feature["geometry"] is None:
            continue
        colour = colours.get(rid, UNASSIGNED_COLOUR)
        rec = territory.get(rid, {})
        tip = "<br>".join(
            [
                f"<b>{_esc(names.get(rid) or rid)}</b> ({_esc(rid)})",
                f"accounts: {_num(rec.get('accounts', np.nan))}",
            ]
            + _load_lines(rec, metrics)
        )
        folium.GeoJson(
            feature,
            name=None,
            control=False,
            style_function=lambda _f, c=colour: {
                "color": c,
                "weight": 1.5,
                "opacity": 0.9,
                "fillColor": c,
                "fillOpacity": 0.28,
            },
            tooltip=folium.Tooltip(tip, sticky=True),
        ).add_to(territory_group)
    territory_group.add_to(m)

    # ---- accounts: small circles in the territory colour
    rows = []
    for rec in located.to_dict("records"):
        rid = rec.get("rep_id")
        rep_label = (
            f"{_esc(names.get(rid) or rid)} ({_esc(rid)})" if rid is not None else "unassigned"
        )
        lines = [
            f"<b>{_esc(rec.get('name')) or _esc(rec['account_id'])}</b>"
            f" ({_esc(rec['account_id'])})",
            f"rep: {rep_label}",
            f"workload: {_num(rec.get('workload'))}",
            f"potential: {_num(rec.get('potential'))}",
            f"distance: {_num(rec.get('distance_km'))} km",
        ]
        moved = rec.get("moved")
        prev = rec.get("previous_rep_id")
        if isinstance(moved, (bool, np.bool_)) and moved and prev is not None and not pd.isna(prev):
            lines.append(f"moved from: {_esc(names.get(str(prev)) or prev)}")
        rows.append(
            [
                round(float(rec["lat"]), 6),
                round(float(rec["lon"]), 6),
                colours.get(rid, UNASSIGNED_COLOUR) if rid else UNASSIGNED_COLOUR,
                "<br>".join(lines),
            ]
        )
    _AccountLayer(rows, cluster=len(rows) > CLUSTER_THRESHOLD).add_to(m)

    # ---- rep home bases
    rep_group = folium.FeatureGroup(name="Reps", overlay=True, control=True)
    for rec in rp.to_dict("records"):
        if not (np.isfinite(rec["lat"]) and np.isfinite(rec["lon"])):
            continue
        rid = rec["rep_id"]
        trec = territory.get(rid, {})
        lines = [
            f"<b>{_esc(names.get(rid) or rid)}</b> ({_esc(rid)})",
            f"capacity: {_num(rec.get('capacity'))}",
            f"status: {_esc(rec.get('status')) or 'active'}",
            f"accounts: {_num(trec.get('accounts', np.nan))}",
        ]
        lines += _load_lines(trec, metrics)
        if rid in quota:
            lines.append(f"quota: {_num(quota[rid].get('quota'))}")
        folium.Marker(
            [float(rec["lat"]), float(rec["lon"])],
            icon=folium.DivIcon(
                html=_REP_ICON.format(colour=colours[rid]),
                icon_size=(26, 26),
                icon_anchor=(13, 13),
                class_name="tp-rep-icon",
            ),
            tooltip=folium.Tooltip("<br>".join(lines), sticky=True),
        ).add_to(rep_group)
    rep_group.add_to(m)

    # ---- panel, layer control, view
    panel_reps = [rid for rid in rep_ids if rid in territory or rid in set(rp["rep_id"])]
    _Panel(
        _panel_html(title, panel_reps, colours, names, territory, metrics, quota, tolerances)
    ).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.fit_bounds(bounds, padding=(20, 20))
    return m


def save_map(m: folium.Map | Any, path: str | Path) -> Path:
    """Write ``m`` as one standalone HTML file that works with no internet (tiles aside)."""
    return write_offline_html(m, path)
