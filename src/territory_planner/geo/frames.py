"""Shared pieces of the geometry package: the CRS, ID cells, polygon parts and frames.

Every submodule builds on these so that all of them read IDs, repair polygons and order
regions the same way (by region_id, the deterministic tie-break).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

WGS84 = "EPSG:4326"


_POLYGONAL = ("Polygon", "MultiPolygon")


def _id_text(value: Any) -> str | None:
    """An ID cell as text: None for blanks, integral floats without '.0' (6001.0 -> '6001')."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # array-like cells: not a missing scalar
        pass
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.integer):
        return str(int(value))
    text = str(value).strip()
    return text or None


def _polygonal_part(geom: Any) -> Any:
    """The polygon / multipolygon part of a geometry (make_valid may return a collection)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL]
        if polys:
            merged = shapely.union_all(polys)
            return merged if not merged.is_empty else None
    return None


def _regions_wgs84(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Regions in EPSG:4326 and sorted by region_id (the deterministic tie-break order)."""
    if regions.crs is not None and not regions.crs.equals(WGS84):
        regions = regions.to_crs(WGS84)
    ids = regions["region_id"].astype(str)
    return (
        regions.assign(region_id=ids).sort_values("region_id", kind="stable").reset_index(drop=True)
    )


SNAP_M = 100.0
"""Borders closer than this (metres) count as shared: county and ZIP files carry slivers
and hairline gaps between neighbours that must not cut a state into pieces."""


def _metric_frame(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Regions in a Lambert equal-area projection centred on them: metres and square
    metres with small distortion over a state or a country, and no download needed."""
    reg = _regions_wgs84(regions)
    west, south, east, north = reg.total_bounds
    crs = (
        f"+proj=laea +lat_0={(south + north) / 2:.6f} +lon_0={(west + east) / 2:.6f} "
        "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
    )
    reg = reg.set_geometry(shapely.make_valid(np.asarray(reg.geometry.values, dtype=object)))
    return reg.to_crs(crs)
