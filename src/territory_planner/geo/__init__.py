"""Geometry for the engine: distances, regions, point-in-polygon and territory shapes.

This package is the only code that touches shapely, geopandas or pyproj (docs/design.md section 6,
rule 1):
everything downstream receives plain numpy arrays and IDs, so the optimiser never sees a
geometry and the map code never needs to build one (:func:`to_geojson`).

Conventions:

* Coordinates are WGS84 degrees. Functions take ``lat`` before ``lon`` (as people say
  them); shapely points are built as ``(lon, lat)`` (x before y) inside this module only.
* Distances are great-circle kilometres on a sphere of radius :data:`EARTH_RADIUS_KM`
  (the IUGG mean radius), the one definition every module and test shares.
* Every function is deterministic: the same inputs give the same outputs, in the same
  order, so plans and maps are reproducible byte for byte.
"""

from __future__ import annotations

from .adjacency import (
    island_links,
    region_adjacency,
    region_ancestors,
    region_overlaps,
    snapped_adjacency,
)
from .distances import (
    EARTH_RADIUS_KM,
    distance_matrix_km,
    haversine_km,
    nearest_k,
)
from .frames import SNAP_M, WGS84
from .placing import distance_to_region_km, locate_points, nearest_regions
from .regions_file import read_regions, read_regions_for_checks, write_regions
from .shapes import (
    dissolved_territories,
    group_outlines,
    region_outlines,
    territory_adjacency,
    territory_shapes,
    to_geojson,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "haversine_km",
    "distance_matrix_km",
    "nearest_k",
    "read_regions",
    "read_regions_for_checks",
    "write_regions",
    "locate_points",
    "region_ancestors",
    "region_adjacency",
    "territory_shapes",
    "territory_adjacency",
    "group_outlines",
    "region_outlines",
    "to_geojson",
    "nearest_regions",
    "distance_to_region_km",
    "region_overlaps",
    "snapped_adjacency",
    "island_links",
    "dissolved_territories",
    "SNAP_M",
    "WGS84",
]
