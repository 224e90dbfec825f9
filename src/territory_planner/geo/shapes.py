"""Territory shapes and outlines, and GeoJSON for the maps."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from .frames import (
    _POLYGONAL,
    WGS84,
    _id_text,
    _polygonal_part,
    _regions_wgs84,
)


def _clip_area(lon: np.ndarray, lat: np.ndarray, clip: gpd.GeoDataFrame | None) -> Any:
    """The area territory shapes are cut to: the regions' union, else the padded hull."""
    if clip is not None and len(clip):
        geoms = np.asarray(_regions_wgs84(clip).geometry.values, dtype=object)
        geoms = geoms[~shapely.is_missing(geoms)]
        # regions not read by read_regions may be invalid; union_all would throw on them
        return shapely.union_all(shapely.make_valid(geoms))
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([lon, lat])))
    return shapely.buffer(hull, 0.5, quad_segs=16)


def territory_shapes(
    lat: Any, lon: Any, rep_ids: Any, clip: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """Territory areas drawn from the accounts: Voronoi cells of the account points,
    dissolved by rep and cut to ``clip``.

    Returns a GeoDataFrame (``rep_id``, geometry; EPSG:4326) with one row per rep that owns
    at least one located account, sorted by rep_id; a rep whose cells all fall outside the
    clip area gets an empty geometry. Accounts with no rep (None/NaN) or no coordinates are
    ignored. The clip area is the union of ``clip`` (regions), or when ``clip`` is None the
    convex hull of the points buffered by 0.5 degrees.

    Several accounts at one identical location make one Voronoi site; its cell goes to the
    rep owning most accounts there, ties to the smallest rep_id (no workload is passed in,
    and a count is a stable, explainable rule).

    Four far-away frame points are added to the sites so the diagram is well defined for
    one point, two points or collinear points (GEOS cannot triangulate those alone); the
    frame's cells lie outside the clip area and are discarded. Sites are sorted before the
    diagram is built, so the output does not depend on input order.
    """
    lat = np.asarray(lat, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon, dtype=np.float64).reshape(-1)
    reps = np.asarray(rep_ids, dtype=object).reshape(-1)
    rep_text = np.array([_id_text(r) for r in reps], dtype=object)
    keep = (
        np.isfinite(lat)
        & np.isfinite(lon)
        & np.array([r is not None for r in rep_text], dtype=bool)
    )
    lat, lon, rep_text = lat[keep], lon[keep], rep_text[keep]
    if lat.size == 0:
        return gpd.GeoDataFrame(
            {"rep_id": pd.Series([], dtype=object)},
            geometry=gpd.GeoSeries([], crs=WGS84),
            crs=WGS84,
        )

    # One site per distinct location; owner = most accounts there, then smallest rep_id.
    frame = pd.DataFrame({"lon": lon, "lat": lat, "rep": rep_text.astype(str)})
    counts = frame.groupby(["lon", "lat", "rep"], sort=True).size().reset_index(name="n")
    counts = counts.sort_values(
        ["lon", "lat", "n", "rep"], ascending=[True, True, False, True], kind="stable"
    )
    sites = counts.drop_duplicates(["lon", "lat"], keep="first").reset_index(drop=True)
    site_xy = sites[["lon", "lat"]].to_numpy(dtype=np.float64)
    site_rep = sites["rep"].to_numpy(dtype=object)

    area = _clip_area(lon, lat, clip)
    minx = min(site_xy[:, 0].min(), area.bounds[0]) if not area.is_empty else site_xy[:, 0].min()
    miny = min(site_xy[:, 1].min(), area.bounds[1]) if not area.is_empty else site_xy[:, 1].min()
    maxx = max(site_xy[:, 0].max(), area.bounds[2]) if not area.is_empty else site_xy[:, 0].max()
    maxy = max(site_xy[:, 1].max(), area.bounds[3]) if not area.is_empty else site_xy[:, 1].max()
    cx, cy = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    span = max(maxx - minx, maxy - miny, 1.0)
    far = 10.0 * span  # bisectors with the frame lie ~5 spans out: beyond the clip area
    frame_xy = np.array(
        [[cx - far, cy - far], [cx + far, cy - far], [cx + far, cy + far], [cx - far, cy + far]]
    )
    all_xy = np.vstack([site_xy, frame_xy])
    envelope = shapely.box(cx - 2 * far, cy - 2 * far, cx + 2 * far, cy + 2 * far)
    diagram = shapely.voronoi_polygons(shapely.multipoints(all_xy), extend_to=envelope)
    cells = np.asarray(shapely.get_parts(diagram), dtype=object)

    # Match cells to their sites explicitly (cell order is not guaranteed across GEOS).
    site_points = shapely.points(site_xy)
    site_i, cell_i = shapely.STRtree(cells).query(site_points, predicate="within")
    order = np.lexsort((cell_i, site_i))
    site_i, cell_i = site_i[order], cell_i[order]
    first = np.r_[True, site_i[1:] != site_i[:-1]] if site_i.size else np.array([], bool)
    cell_of_site = np.full(len(site_xy), -1, dtype=np.int64)
    cell_of_site[site_i[first]] = cell_i[first]

    rows_rep: list[str] = []
    rows_geom: list[Any] = []
    for rep in sorted(set(rep_text.astype(str))):
        mine = cell_of_site[(site_rep == rep) & (cell_of_site >= 0)]
        if mine.size:
            shape = shapely.union_all(cells[mine])
            shape = shapely.intersection(shape, area)
            shape = _polygonal_part(shape) if shape.geom_type == "GeometryCollection" else shape
            if shape is None or shape.geom_type not in _POLYGONAL:
                shape = shapely.Polygon()
        else:
            shape = shapely.Polygon()
        rows_rep.append(rep)
        rows_geom.append(shape)
    return gpd.GeoDataFrame({"rep_id": rows_rep}, geometry=rows_geom, crs=WGS84)


def territory_adjacency(shapes: gpd.GeoDataFrame) -> dict[str, tuple[str, ...]]:
    """Which territories touch: ``{rep_id: sorted rep_ids whose shape touches it}``.

    ``shapes`` is the output of :func:`territory_shapes` (rep_id, geometry). Two territories
    are neighbours when their shapes share any point, a corner included: on a map a corner
    touch reads as "next to each other" just as a shared border does, so the colouring of
    the map must tell them apart too. Empty shapes touch nothing; every rep is a key.
    """
    ids = [str(r) for r in shapes["rep_id"]]
    geoms = np.asarray(shapes.geometry.values, dtype=object)
    neighbours: dict[str, set[str]] = {rid: set() for rid in ids}
    drawn = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if drawn.size:
        tree = shapely.STRtree(geoms[drawn])
        left, right = tree.query(geoms[drawn], predicate="intersects")
        for a, b in zip(drawn[left], drawn[right]):
            if ids[a] != ids[b]:
                neighbours[ids[a]].add(ids[b])
                neighbours[ids[b]].add(ids[a])
    return {rid: tuple(sorted(nb)) for rid, nb in sorted(neighbours.items())}


def group_outlines(shapes: gpd.GeoDataFrame, group_of: dict[str, str]) -> gpd.GeoDataFrame:
    """Territory shapes dissolved into the units of one hierarchy level.

    ``shapes`` is the output of :func:`territory_shapes`; ``group_of`` maps rep_id to its
    unit (a district, say). Returns (unit, reps, geometry) sorted by unit, one row per
    unit with at least one drawn territory; reps missing from ``group_of`` are left out.
    """
    units: dict[str, list[Any]] = {}
    members: dict[str, list[str]] = {}
    for rid, geom in zip(shapes["rep_id"], shapes.geometry.values):
        unit = group_of.get(str(rid))
        if unit is None or geom is None or geom.is_empty:
            continue
        units.setdefault(unit, []).append(geom)
        members.setdefault(unit, []).append(str(rid))
    names = sorted(units)
    return gpd.GeoDataFrame(
        {"unit": names, "reps": [", ".join(sorted(members[u])) for u in names]},
        geometry=[shapely.union_all(units[u]) for u in names],
        crs=WGS84,
    )


def region_outlines(regions: gpd.GeoDataFrame, simplify_deg: float = 0.0) -> gpd.GeoDataFrame:
    """Regions ready for drawing: region_id, name, polygon geometry in EPSG:4326.

    ``simplify_deg`` > 0 simplifies each outline (topology preserved) to that tolerance in
    degrees: county files carry metre-level detail that only bloats an HTML map.
    """
    reg = _regions_wgs84(regions)
    names = reg["name"].fillna("").astype(str) if "name" in reg.columns else [""] * len(reg)
    geoms = reg.geometry
    if simplify_deg and simplify_deg > 0:
        geoms = geoms.simplify(simplify_deg, preserve_topology=True)
    return gpd.GeoDataFrame(
        {"region_id": reg["region_id"].to_numpy(), "name": list(names)},
        geometry=list(geoms.values),
        crs=WGS84,
    )


def _json_value(value: Any) -> Any:
    """A property value as plain JSON (numpy scalars unwrapped, NaN -> null)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isinf(value) else value
    if isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def _listify(obj: Any) -> Any:
    if isinstance(obj, (tuple, list)):
        return [_listify(o) for o in obj]
    return obj


def to_geojson(gdf: gpd.GeoDataFrame) -> dict:
    """A GeoDataFrame as a plain GeoJSON FeatureCollection dict (EPSG:4326).

    Coordinates are rounded to 5 decimals (about 1 m), which keeps map files small and makes
    the output stable across platforms. Properties are the non-geometry columns as JSON
    values. Presentation code uses this so it never imports shapely.
    """
    if gdf.crs is not None and not gdf.crs.equals(WGS84):
        gdf = gdf.to_crs(WGS84)
    geom_col = gdf.geometry.name
    prop_cols = [c for c in gdf.columns if c != geom_col]
    features = []
    for row, geom in zip(gdf[prop_cols].itertuples(index=False, name=None), gdf.geometry.values):
        if geom is None or geom.is_empty:
            geometry = None
        else:
            rounded = shapely.transform(geom, lambda xy: np.round(xy, 5))
            geometry = _listify(dict(mapping(rounded)))
            geometry = {k: _listify(v) for k, v in geometry.items()}
        props = {str(c): _json_value(v) for c, v in zip(prop_cols, row)}
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def dissolved_territories(
    regions: gpd.GeoDataFrame, rep_of_region: dict[str, str]
) -> gpd.GeoDataFrame:
    """One shape per rep: the union of its regions (``rep_id``, geometry; EPSG:4326,
    sorted by rep_id). Slivers between neighbours close because each region grows by
    a hair before the union and the union shrinks back by the same amount."""
    reg = _regions_wgs84(regions)
    reps = reg["region_id"].astype(str).map(rep_of_region)
    out_rep, out_geom = [], []
    hair = 1e-6  # degrees, about 10 cm
    for rep in sorted(set(reps.dropna())):
        geoms = shapely.make_valid(np.asarray(reg.geometry.values[reps == rep], dtype=object))
        shape = shapely.buffer(shapely.union_all(shapely.buffer(geoms, hair)), -hair)
        out_rep.append(rep)
        out_geom.append(shape)
    return gpd.GeoDataFrame({"rep_id": out_rep}, geometry=out_geom, crs=WGS84)
