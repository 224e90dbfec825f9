"""Placing points in regions: point-in-polygon with snapping, and the nearest region."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .distances import haversine_km
from .frames import (
    WGS84,
    _metric_frame,
    _regions_wgs84,
)


def locate_points(
    lat: Any, lon: Any, regions: gpd.GeoDataFrame, max_snap_km: float = 25.0
) -> np.ndarray:
    """The region_id containing each point, as an object array (None where none does).

    Points on a shared border belong to the region with the smallest region_id, so the
    answer never depends on file order. A point outside every polygon but within
    ``max_snap_km`` of one is snapped to the nearest: ZIP-code centroids of coastal and
    border towns often fall just offshore or across a generalised boundary, and leaving
    them unplaced would drop real accounts from region rules.
    """
    lat = np.asarray(lat, dtype=np.float64).reshape(-1)
    lon = np.asarray(lon, dtype=np.float64).reshape(-1)
    out = np.full(lat.size, None, dtype=object)
    if lat.size == 0 or regions is None or len(regions) == 0:
        return out
    reg = _regions_wgs84(regions)
    reg = reg[reg.geometry.notna() & ~reg.geometry.is_empty].reset_index(drop=True)
    if len(reg) == 0:
        return out
    region_ids = reg["region_id"].to_numpy(dtype=object)
    geoms = reg.geometry.values
    tree = shapely.STRtree(np.asarray(geoms, dtype=object))

    valid = np.isfinite(lat) & np.isfinite(lon)
    idx_valid = np.flatnonzero(valid)
    points = shapely.points(lon[idx_valid], lat[idx_valid])

    # Inside (or on the border of) a polygon: keep the lowest tree index = smallest ID.
    pt_i, reg_i = tree.query(points, predicate="intersects")
    best = np.full(idx_valid.size, -1, dtype=np.int64)
    if pt_i.size:
        order = np.lexsort((reg_i, pt_i))
        pt_s, reg_s = pt_i[order], reg_i[order]
        first = np.r_[True, pt_s[1:] != pt_s[:-1]]
        best[pt_s[first]] = reg_s[first]

    # Outside all polygons: nearest polygon within max_snap_km, by true great-circle km.
    missing = np.flatnonzero(best < 0)
    if missing.size and max_snap_km > 0:
        m_lat, m_lon = lat[idx_valid[missing]], lon[idx_valid[missing]]
        dlat = max_snap_km / 110.0  # a degree of latitude is >= 110.57 km: generous box
        coslat = np.maximum(np.cos(np.radians(np.clip(np.abs(m_lat) + dlat, 0, 89.9))), 1e-3)
        dlon = np.minimum(dlat / coslat, 180.0)
        boxes = shapely.box(m_lon - dlon, m_lat - dlat, m_lon + dlon, m_lat + dlat)
        box_i, cand_i = tree.query(boxes, predicate="intersects")
        if box_i.size:
            lines = shapely.shortest_line(points[missing[box_i]], np.asarray(geoms)[cand_i])
            coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
            near_lon, near_lat = coords[:, 1, 0], coords[:, 1, 1]
            dist = haversine_km(m_lat[box_i], m_lon[box_i], near_lat, near_lon)
            ok = dist <= max_snap_km
            box_i, cand_i, dist = box_i[ok], cand_i[ok], dist[ok]
            if box_i.size:
                order = np.lexsort((cand_i, dist, box_i))
                b_s, c_s = box_i[order], cand_i[order]
                first = np.r_[True, b_s[1:] != b_s[:-1]]
                best[missing[b_s[first]]] = c_s[first]

    found = best >= 0
    out[idx_valid[found]] = region_ids[best[found]]
    return out


def nearest_regions(lat: Any, lon: Any, regions: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the nearest region's ID and the distance to its polygon in km
    (used to name where an account outside every region probably belongs)."""
    reg = _metric_frame(regions)
    lat = np.asarray(lat, dtype=float).reshape(-1)
    lon = np.asarray(lon, dtype=float).reshape(-1)
    points = gpd.GeoSeries(shapely.points(lon, lat), crs=WGS84).to_crs(reg.crs)
    tree = shapely.STRtree(np.asarray(reg.geometry.values, dtype=object))
    index, distance = tree.query_nearest(
        np.asarray(points.values, dtype=object), return_distance=True, all_matches=False
    )
    ids = np.full(lat.size, None, dtype=object)
    km = np.full(lat.size, np.nan)
    ids[index[0]] = reg["region_id"].to_numpy(dtype=object)[index[1]]
    km[index[0]] = distance / 1000.0
    return ids, km


def distance_to_region_km(
    lat: Any, lon: Any, region_ids: Any, regions: gpd.GeoDataFrame
) -> np.ndarray:
    """For each point, the distance in km to the polygon of the region named beside it (0
    inside it; NaN where the point or the region is missing). Used to tell whether a ZIP
    code written on an account agrees with where the account lies."""
    reg = _metric_frame(regions)
    lat = np.asarray(lat, dtype=float).reshape(-1)
    lon = np.asarray(lon, dtype=float).reshape(-1)
    position = {rid: k for k, rid in enumerate(reg["region_id"].tolist())}
    which = np.array([position.get(rid, -1) for rid in region_ids], dtype=np.int64)
    km = np.full(lat.size, np.nan)
    ok = (which >= 0) & np.isfinite(lat) & np.isfinite(lon)
    if ok.any():
        points = gpd.GeoSeries(shapely.points(lon[ok], lat[ok]), crs=WGS84).to_crs(reg.crs)
        shapes = np.asarray(reg.geometry.values, dtype=object)[which[ok]]
        km[ok] = shapely.distance(np.asarray(points.values, dtype=object), shapes) / 1000.0
    return km
