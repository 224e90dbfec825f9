"""The map of a geography-mode plan: each territory is the dissolved shape of its regions.

Territories are filled in their rep's colour with a thick outline and the rep's label at a
point inside the shape; the regions are drawn on top as thin outlines, so a reader sees both
the alignment and the units it is made of. Named accounts (assigned on their own) are marked
in their rep's colour, since they are exactly the accounts that do not follow the map.
Works offline like the account-mode map (no tiles unless asked for).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import folium
import numpy as np
import pandas as pd
from branca.element import Element

from territory_planner import geo
from territory_planner.report.colours import UNASSIGNED_COLOUR, territory_colours
from territory_planner.report.layers import REGION_COLOUR, add_changed_regions
from territory_planner.report.maps import OFFLINE_BACKGROUND
from territory_planner.report.text import esc as _esc
from territory_planner.report.text import num as _num

_LABEL = (
    '<div style="font: 600 12px sans-serif; color: #1a1a1a; white-space: nowrap; '
    'text-shadow: 0 0 3px #fff, 0 0 3px #fff; transform: translate(-50%, -50%);">{text}</div>'
)


def _territory_tooltip(rep_id: str, name: str, record: dict, metrics: list[str]) -> str:
    lines = [f"<b>{_esc(name or rep_id)}</b> ({_esc(rep_id)})"]
    lines.append(f"regions: {_num(record.get('regions'))}")
    lines += [f"{_esc(m)}: {_num(record.get(m))}" for m in metrics]
    return "<br>".join(lines)


def region_territory_map(
    regions_table: pd.DataFrame,
    regions: Any,
    reps: pd.DataFrame,
    assignments: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    title: str = "",
    tiles: str | None = None,
    colours: dict[str, str] | None = None,
    changed_regions: Iterable[str] | None = None,
) -> folium.Map:
    """Map of a region plan from its regions.csv table (region_id, rep_id, loads), the
    regions GeoDataFrame, the reps, and the assignments (for the named accounts).

    ``colours`` ({rep_id: colour}) replaces the adjacency colouring (a comparison colours
    both plans at once); ``changed_regions`` are outlined thick and dashed as having
    changed owner (the comparison page)."""
    rep_of_region = dict(zip(regions_table["region_id"].astype(str), regions_table["rep_id"]))
    metrics = [
        c
        for c in regions_table.columns
        if c not in ("region_id", "rep_id", "previous_rep_id", "accounts")
    ]
    by_rep = regions_table.groupby("rep_id")
    summary = {rid: {"regions": len(g), **{m: g[m].sum() for m in metrics}} for rid, g in by_rep}
    names = dict(
        zip(reps["rep_id"], reps["name"].fillna("") if "name" in reps else [""] * len(reps))
    )

    m = folium.Map(tiles=None, control_scale=True, maxZoom=18)
    if title:
        m.get_root().title = _esc(title)
    if tiles:
        folium.TileLayer(tiles, name=str(tiles)).add_to(m)
    else:
        m.get_root().header.add_child(
            Element(f"<style>#{m.get_name()} {{ background: {OFFLINE_BACKGROUND}; }}</style>")
        )
    shapes = geo.dissolved_territories(regions, rep_of_region)
    # territories that touch get different colour families, as on the account map
    if colours is None:
        colours = territory_colours(
            sorted(set(reps["rep_id"]) | set(rep_of_region.values())),
            geo.territory_adjacency(shapes),
        )
    group = folium.FeatureGroup(name="Territories")
    labels = folium.FeatureGroup(name="Rep labels")
    for feature in geo.to_geojson(shapes)["features"]:
        rid = feature["properties"]["rep_id"]
        colour = colours.get(rid, UNASSIGNED_COLOUR)
        folium.GeoJson(
            feature,
            style_function=lambda _f, c=colour: {
                "color": "#1a1a1a",
                "weight": 3.0,
                "opacity": 0.95,
                "fillColor": c,
                "fillOpacity": 0.45,
            },
            tooltip=folium.Tooltip(
                _territory_tooltip(rid, names.get(rid, ""), summary.get(rid, {}), metrics)
            ),
        ).add_to(group)
    for rid, point in zip(shapes["rep_id"], shapes.geometry.representative_point()):
        folium.Marker(
            [point.y, point.x],
            icon=folium.DivIcon(
                html=_LABEL.format(text=_esc(names.get(rid) or rid)), class_name="tp-rep-label"
            ),
        ).add_to(labels)
    group.add_to(m)
    outlines = geo.region_outlines(regions)
    folium.GeoJson(
        geo.to_geojson(outlines[["region_id", "geometry"]]),
        name="Regions",
        interactive=False,
        style_function=lambda _f: {"color": REGION_COLOUR, "weight": 0.6, "fill": False},
    ).add_to(m)
    add_changed_regions(m, outlines, changed_regions)
    labels.add_to(m)
    _named_accounts(m, assignments, accounts, colours)
    folium.LayerControl(collapsed=False).add_to(m)
    west, south, east, north = (float(v) for v in shapes.total_bounds)
    m.fit_bounds([[south, west], [north, east]], padding=(20, 20))
    return m


def _named_accounts(m, assignments, accounts, colours) -> None:
    """Circles for named accounts in their own rep's colour (they ignore the map)."""
    if "named" not in accounts.columns:
        return
    named = accounts[accounts["named"].astype(bool)]
    if not len(named):
        return
    rep = assignments.set_index("account_id")["rep_id"]
    layer = folium.FeatureGroup(name="Named accounts")
    for rec in named.to_dict("records"):
        if not (np.isfinite(rec["lat"]) and np.isfinite(rec["lon"])):
            continue
        rid = rep.get(rec["account_id"])
        folium.CircleMarker(
            [rec["lat"], rec["lon"]],
            radius=6,
            color="#1a1a1a",
            weight=1.5,
            fill=True,
            fill_color=colours.get(rid, UNASSIGNED_COLOUR),
            fill_opacity=1.0,
            tooltip=f"<b>{_esc(rec['account_id'])}</b> (named) rep: {_esc(rid)}",
        ).add_to(layer)
    layer.add_to(m)
