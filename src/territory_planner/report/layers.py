"""The layers of a territory map (folium): region outlines, territories, hierarchy
outlines, accounts (with rings for those that changed owner) and rep homes.

Each ``add_*`` function draws one layer onto a folium Map from tables already tidied by
:mod:`territory_planner.report.maps`, with geometry from :mod:`territory_planner.geo`.
Every string from the data goes through :func:`territory_planner.report.text.esc`.
"""

from __future__ import annotations

from collections.abc import Iterable
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
from territory_planner.report.colours import UNASSIGNED_COLOUR
from territory_planner.report.text import esc, js, num, pct

__all__ = [
    "AccountLayer",
    "TERRITORY_CLASS",
    "add_regions",
    "add_territories",
    "add_hierarchy",
    "account_rows",
    "add_changed",
    "add_rep_homes",
]

TERRITORY_CLASS = "tp-territory"
"""CSS class of every territory polygon; the n-th territory (rep_id order) also carries
``tp-territory-n``, so a reader (or a test) can find a rep's polygon in the page."""

REGION_COLOUR = "#8a8a8a"
CHANGED_COLOUR = "#111111"  # the ring around an account (or region) that changed owner
HIERARCHY_STYLES = (  # one outline style per hierarchy level, innermost level first
    {"color": "#222222", "weight": 3.0, "dashArray": None},
    {"color": "#000000", "weight": 4.5, "dashArray": "10 6"},
    {"color": "#444444", "weight": 6.0, "dashArray": "2 6"},
)

_CLUSTER_CSS = """<style>
.marker-cluster.tp-cluster { background: rgba(40, 40, 40, 0.22); }
.marker-cluster.tp-cluster div { background: rgba(40, 40, 40, 0.72); color: #fff;
  width: 26px; height: 26px; margin-left: 5px; margin-top: 5px; border-radius: 13px;
  font: 11px/26px "Helvetica Neue", Arial, Helvetica, sans-serif; text-align: center; }
.marker-cluster.tp-cluster span { line-height: 26px; }
</style>"""

_REP_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="26" height="26" viewBox="0 0 24 24">'
    '<path d="M12 2.5 1.5 11.5h3v10h6v-6h3v6h6v-10h3z" fill="{colour}" stroke="#1a1a1a"'
    ' stroke-width="1.4" stroke-linejoin="round"/></svg>'
)


# --------------------------------------------------------------------------- elements


class AccountLayer(JSCSSMixin, Layer):
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


# --------------------------------------------------------------------------- tooltips


def _load_lines(rec: dict[str, Any], metrics: list[str]) -> list[str]:
    lines = []
    for m in metrics:
        lines.append(
            f"{esc(m)}: {num(rec.get(f'{m}_load'))} / "
            f"{num(rec.get(f'{m}_target'))} ({pct(rec.get(f'{m}_deviation'))})"
        )
    return lines


# --------------------------------------------------------------------------- layers


def add_regions(m: folium.Map, outlines: Any, tiles: str | None) -> None:
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


def add_territories(m, shapes, colours, names, territory, metrics) -> None:
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


def add_hierarchy(m, shapes, rp: pd.DataFrame, hierarchy: Iterable[str]) -> None:
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


def account_rows(located: pd.DataFrame, colours, names) -> list[list[Any]]:
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


def add_changed(m, located, rows, changed_accounts, outlines, changed_regions) -> None:
    """The accounts (rings) and regions (thick outlines) that changed owner."""
    add_changed_accounts(m, located, rows, changed_accounts)
    add_changed_regions(m, outlines, changed_regions)


def add_changed_accounts(m, located, rows, changed_accounts) -> None:
    """Rings around the accounts that changed owner (``rows`` as account_rows makes them)."""
    wanted = {str(a) for a in changed_accounts or ()}
    if wanted:
        rings = [
            [r[0], r[1], r[2], "changed owner<br>" + r[3]]
            for r, aid in zip(rows, located["account_id"])
            if aid in wanted
        ]
        style = {"radius": 8, "weight": 3, "color": CHANGED_COLOUR, "opacity": 1.0}
        style.update({"fillOpacity": 0.0, "className": "tp-changed"})
        AccountLayer(rings, cluster=False, name="Changed owner", style=style).add_to(m)


def add_changed_regions(m, outlines, changed_regions) -> None:
    """Thick dashed outlines of the regions that changed owner."""
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


def add_rep_homes(m, rp, colours, names, territory, metrics, quota) -> None:
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
