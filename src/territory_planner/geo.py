"""Geometry for the engine: distances, regions, point-in-polygon and territory shapes.

This is the only module that touches shapely, geopandas or pyproj (DESIGN.md section 5.1):
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

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from territory_planner.errors import InputError, Problem, ProblemList

__all__ = [
    "EARTH_RADIUS_KM",
    "haversine_km",
    "distance_matrix_km",
    "nearest_k",
    "read_regions",
    "locate_points",
    "region_ancestors",
    "region_adjacency",
    "territory_shapes",
    "territory_adjacency",
    "group_outlines",
    "region_outlines",
    "to_geojson",
]

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the radius of every distance in the engine."""

WGS84 = "EPSG:4326"

# Column aliases of a regions file, matched case-insensitively, first match wins.
_REGION_ID_ALIASES = ("region_id", "id", "region", "code")
_PARENT_ID_ALIASES = ("parent_id", "parent")
_NAME_ALIASES = ("name",)

_POLYGONAL = ("Polygon", "MultiPolygon")


# --------------------------------------------------------------------------- distances


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in km between points given in degrees.

    Arguments broadcast like numpy arrays, so one call serves a pair of points, a point
    against many, or two aligned arrays. The haversine form is used (rather than the
    spherical law of cosines) because it stays accurate for the short distances that
    dominate territory work (accounts a few km apart).
    """
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2.0) ** 2
    # Rounding can push `a` a hair above 1 for antipodal points; arcsin would return NaN.
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def distance_matrix_km(lat_a: Any, lon_a: Any, lat_b: Any, lon_b: Any) -> np.ndarray:
    """All pairwise distances (km): row i, column j is the distance from a[i] to b[j].

    Returns a float64 array of shape ``(len(a), len(b))``. Memory grows with the product;
    for large account sets use :func:`nearest_k`, which works in chunks.
    """
    lat_a = np.asarray(lat_a, dtype=np.float64).reshape(-1)
    lon_a = np.asarray(lon_a, dtype=np.float64).reshape(-1)
    lat_b = np.asarray(lat_b, dtype=np.float64).reshape(-1)
    lon_b = np.asarray(lon_b, dtype=np.float64).reshape(-1)
    return haversine_km(lat_a[:, None], lon_a[:, None], lat_b[None, :], lon_b[None, :])


def nearest_k(
    lat_a: Any, lon_a: Any, lat_b: Any, lon_b: Any, k: int, chunk: int = 2048
) -> tuple[np.ndarray, np.ndarray]:
    """For each point of ``a``, its ``k`` nearest points of ``b`` and their distances.

    Returns ``(indices, distances)``, both of shape ``(len(a), min(k, len(b)))``: int64
    indices into ``b`` sorted by distance, ties broken by the lower index (a stable sort),
    so the candidate lists the optimiser is sparsified with never depend on chance.

    Rows of ``a`` are processed ``chunk`` at a time (and fewer when ``b`` is large) so the
    working set stays near 16 MB: 100,000 accounts x 500 reps never materialises the
    full 400 MB matrix.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    lat_a = np.asarray(lat_a, dtype=np.float64).reshape(-1)
    lon_a = np.asarray(lon_a, dtype=np.float64).reshape(-1)
    lat_b = np.asarray(lat_b, dtype=np.float64).reshape(-1)
    lon_b = np.asarray(lon_b, dtype=np.float64).reshape(-1)
    n_a, n_b = lat_a.size, lat_b.size
    kk = min(k, n_b)
    indices = np.empty((n_a, kk), dtype=np.int64)
    distances = np.empty((n_a, kk), dtype=np.float64)
    if n_a == 0 or kk == 0:
        return indices, distances
    # Keep each block near two million cells whatever the shape of the problem.
    rows = max(1, min(int(chunk), 2_000_000 // max(n_b, 1)))
    for start in range(0, n_a, rows):
        stop = min(start + rows, n_a)
        block = distance_matrix_km(lat_a[start:stop], lon_a[start:stop], lat_b, lon_b)
        order = _k_smallest(block, kk)
        indices[start:stop] = order
        distances[start:stop] = np.take_along_axis(block, order, axis=1)
    return indices, distances


def _k_smallest(block: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k smallest values of each row, by (value, index).

    A partial partition does the heavy lifting; rows where values tie at the cut (or are
    NaN) could have lost a lower index to the partition, so those few rows are re-done
    with a full stable sort: the result is exactly that of a stable argsort, faster.
    """
    n_cols = block.shape[1]
    if k >= n_cols:
        return np.argsort(block, axis=1, kind="stable")
    part = np.argpartition(block, k - 1, axis=1)[:, :k]
    part_d = np.take_along_axis(block, part, axis=1)
    cut = part_d.max(axis=1)
    ambiguous = ~np.isfinite(cut) | ((block <= cut[:, None]).sum(axis=1) > k)
    order = np.take_along_axis(part, np.lexsort((part, part_d), axis=-1), axis=1)
    if ambiguous.any():
        order[ambiguous] = np.argsort(block[ambiguous], axis=1, kind="stable")[:, :k]
    return order


# --------------------------------------------------------------------------- regions


def _find_column(columns: Iterable[str], aliases: tuple[str, ...]) -> str | None:
    """The first column whose lower-cased name is one of ``aliases`` (in alias order)."""
    by_lower: dict[str, str] = {}
    for col in columns:
        by_lower.setdefault(str(col).strip().lower(), col)
    for alias in aliases:
        if alias in by_lower:
            return by_lower[alias]
    return None


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


def _fits_lonlat(bounds: np.ndarray) -> bool:
    minx, miny, maxx, maxy = bounds
    if not np.all(np.isfinite(bounds)):
        return True  # nothing to judge by: no usable geometry, other errors will say so
    return -180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0


def _parent_cycles(parent_of: dict[str, str]) -> list[list[str]]:
    """Each cycle of a parent mapping once, as a list starting at its smallest ID."""
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(parent_of):
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in done and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = parent_of.get(node)
        if node is not None and node in on_path:
            loop = path[path.index(node) :]
            first = loop.index(min(loop))
            cycles.append(loop[first:] + loop[:first])
        done.update(path)
    return cycles


def read_regions(path: str | Path) -> gpd.GeoDataFrame:
    """Read a regions file (GeoJSON, GeoPackage or Shapefile) into a canonical table.

    Returns a GeoDataFrame with ``region_id`` (str), ``parent_id`` (str or None), ``name``
    (str, "" when absent), any extra columns, and polygon geometry in EPSG:4326, sorted by
    ``region_id``. Aliases (case-insensitive): region_id <- region_id / id / region / code;
    parent_id <- parent_id / parent. A parent_id need not be a region of the file: it may
    be a label for a group with no polygon of its own (states whose parent is the census
    division "Pacific"); a region that is its own parent or ancestor is an error.

    Every defect is reported at once as an :class:`InputError` whose problems name the file,
    the feature (``row`` is the 1-based feature number, the first feature is row 1) and the
    column, because a planner fixing a county file wants the whole list, not one error per
    run. Invalid polygons (self-intersections, bow-ties: common in exported boundaries) are
    repaired with ``make_valid``; only ones with nothing polygonal left are errors.

    CRS: a projected file is reprojected to longitude/latitude; a file with no CRS is taken
    as longitude/latitude when its bounds fit those ranges, and refused otherwise (guessing
    a projection would silently put every account in the wrong region).
    """
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise InputError(
            Problem(
                file=file,
                message="regions file not found",
                fix="check the path in the scenario (relative to it)",
            )
        )
    try:
        raw = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        raise InputError(
            Problem(
                file=file,
                message=f"cannot read the regions file: {exc}",
                fix="save it as GeoJSON, GeoPackage or Shapefile",
            )
        ) from exc

    problems = ProblemList()
    id_col = _find_column(raw.columns.drop("geometry", errors="ignore"), _REGION_ID_ALIASES)
    parent_col = _find_column(raw.columns.drop("geometry", errors="ignore"), _PARENT_ID_ALIASES)
    name_col = _find_column(raw.columns.drop("geometry", errors="ignore"), _NAME_ALIASES)
    if id_col is None:
        problems.add(
            file,
            "no region_id column",
            column="region_id",
            fix="add a region_id property (aliases: id, region, code)",
        )
        problems.raise_if_any()

    n = len(raw)
    ids = [_id_text(v) for v in raw[id_col]]
    parents = [_id_text(v) for v in raw[parent_col]] if parent_col is not None else [None] * n
    names = (
        ["" if _id_text(v) is None else str(v) for v in raw[name_col]]
        if name_col is not None
        else [""] * n
    )

    # IDs: blank and duplicate.
    first_row: dict[str, int] = {}
    for i, rid in enumerate(ids):
        row = i + 1
        if rid is None:
            problems.add(
                file,
                "region_id is blank",
                row=row,
                column="region_id",
                fix="give every feature an ID",
            )
        elif rid in first_row:
            problems.add(
                file,
                f"duplicate region_id '{rid}' (first at feature {first_row[rid]})",
                row=row,
                column="region_id",
                fix="merge the features or give them distinct IDs",
            )
        else:
            first_row[rid] = row

    # Geometry: empty, non-polygonal, invalid beyond repair.
    geoms = list(raw.geometry.values) if "geometry" in raw else [None] * n
    fixed: list[Any] = []
    for i, geom in enumerate(geoms):
        row = i + 1
        if geom is None or geom.is_empty:
            problems.add(
                file,
                "empty geometry",
                row=row,
                column="geometry",
                fix="draw the region's polygon or drop the feature",
            )
            fixed.append(None)
            continue
        if geom.geom_type not in _POLYGONAL:
            problems.add(
                file,
                f"geometry is a {geom.geom_type}, not a polygon",
                row=row,
                column="geometry",
                fix="regions must be Polygon or MultiPolygon",
            )
            fixed.append(None)
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            repaired = _polygonal_part(shapely.make_valid(geom))
            if repaired is None:
                problems.add(
                    file,
                    f"invalid geometry that cannot be repaired ({reason})",
                    row=row,
                    column="geometry",
                    fix="redraw the polygon",
                )
                fixed.append(None)
                continue
            geom = repaired
        fixed.append(geom)

    # Parents: a parent_id that is no region_id is a label (a census division above the
    # states) and is allowed; a region that is its own ancestor is not.
    if parent_col is not None:
        for i, (rid, parent) in enumerate(zip(ids, parents)):
            if rid is not None and parent == rid:
                problems.add(
                    file,
                    f"region '{rid}' is its own parent",
                    row=i + 1,
                    column="parent_id",
                    fix="clear the parent_id or correct it",
                )
        parent_of: dict[str, str] = {}
        row_of: dict[str, int] = {}
        for i, (rid, parent) in enumerate(zip(ids, parents)):
            if rid is not None and parent is not None and parent != rid and rid not in parent_of:
                parent_of[rid] = parent
                row_of[rid] = i + 1
        for loop in _parent_cycles(parent_of):
            problems.add(
                file,
                "parent_id forms a cycle: " + " -> ".join(loop + [loop[0]]),
                row=row_of[loop[0]],
                column="parent_id",
                fix="break the loop at one region",
            )

    # CRS.
    crs = raw.crs
    geo = gpd.GeoSeries(fixed, crs=crs)
    if crs is None:
        if not _fits_lonlat(np.asarray(geo.total_bounds, dtype=float)):
            bounds = ", ".join(f"{b:.6g}" for b in geo.total_bounds)
            problems.add(
                file,
                f"the file has no coordinate reference system and its "
                f"coordinates ({bounds}) are not longitude/latitude degrees",
                column="geometry",
                fix="save it with its CRS (e.g. the .prj of a Shapefile) or in EPSG:4326",
            )
        crs_ok = False
    else:
        crs_ok = True

    problems.raise_if_any()

    if crs_ok and not geo.crs.equals(WGS84):
        geo = geo.to_crs(WGS84)
    elif not crs_ok:
        geo = geo.set_crs(WGS84, allow_override=True)

    data: dict[str, Any] = {"region_id": ids, "parent_id": parents, "name": names}
    consumed = {c for c in (id_col, parent_col, name_col) if c is not None} | {"geometry"}
    for col in raw.columns:
        if col not in consumed and col not in data:
            data[col] = raw[col].to_numpy()
    frame = pd.DataFrame(data)
    frame["parent_id"] = frame["parent_id"].astype(object)
    frame["parent_id"] = frame["parent_id"].where(frame["parent_id"].notna(), None)
    out = gpd.GeoDataFrame(frame, geometry=list(geo.values), crs=WGS84)
    out = out.sort_values("region_id", kind="stable").reset_index(drop=True)
    return out


def _regions_wgs84(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Regions in EPSG:4326 and sorted by region_id (the deterministic tie-break order)."""
    if regions.crs is not None and not regions.crs.equals(WGS84):
        regions = regions.to_crs(WGS84)
    ids = regions["region_id"].astype(str)
    return (
        regions.assign(region_id=ids).sort_values("region_id", kind="stable").reset_index(drop=True)
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


def region_ancestors(regions: gpd.GeoDataFrame | pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """For each region_id: itself, its parent, the parent's parent, ... up to the root.

    A parent_id that is not itself a region_id (a label such as "Pacific" above a set of
    states) still counts as an ancestor and ends the chain, so reps can be scoped to a
    label without the label needing a polygon. A cycle in parent_id is an InputError naming
    the loop, since no region inside it would ever reach a root.
    """
    if "parent_id" in regions.columns:
        pairs = zip(regions["region_id"], regions["parent_id"])
    else:
        pairs = ((rid, None) for rid in regions["region_id"])
    parent_of: dict[str, str | None] = {}
    for rid, parent in pairs:
        key = _id_text(rid)
        if key is None or key in parent_of:
            continue
        parent_of[key] = _id_text(parent)

    result: dict[str, tuple[str, ...]] = {}
    problems = ProblemList()
    reported: set[frozenset[str]] = set()
    for rid in sorted(parent_of):
        chain = [rid]
        seen = {rid}
        current = parent_of.get(rid)
        cycle = False
        while current is not None:
            if current in seen:
                loop = chain[chain.index(current) :] + [current]
                key = frozenset(loop)
                if key not in reported:
                    reported.add(key)
                    problems.add(
                        "regions",
                        "parent_id forms a cycle: " + " -> ".join(loop),
                        column="parent_id",
                        fix="break the loop at one region",
                    )
                cycle = True
                break
            chain.append(current)
            seen.add(current)
            current = parent_of.get(current)
        if not cycle:
            result[rid] = tuple(chain)
    problems.raise_if_any()
    return result


def region_adjacency(regions: gpd.GeoDataFrame, queen: bool = False) -> dict[str, tuple[str, ...]]:
    """Neighbours of each region: ``{region_id: sorted neighbour ids}`` (every region is a
    key; an island maps to ``()``).

    Rook adjacency by default: two regions are neighbours when they share a border of
    positive length (or overlap), so territories built from them are connected through
    borders, not through a single corner point. ``queen=True`` also counts corner touches.
    Borders must coincide (as in census / cartographic boundary files); regions separated
    by a sliver gap are not neighbours.
    """
    reg = _regions_wgs84(regions)
    ids = reg["region_id"].to_numpy(dtype=object)
    geoms = np.asarray(reg.geometry.values, dtype=object)
    present = ~shapely.is_missing(geoms)
    geoms = np.where(present, shapely.make_valid(np.where(present, geoms, shapely.Point())), None)
    neighbours: dict[str, set[str]] = {str(rid): set() for rid in ids}
    usable = np.flatnonzero(present & ~shapely.is_empty(np.where(present, geoms, None)))
    if usable.size:
        tree = shapely.STRtree(geoms[usable])
        left, right = tree.query(geoms[usable], predicate="intersects")
        pair = left < right
        left, right = usable[left[pair]], usable[right[pair]]
        if not queen and left.size:
            shared = shapely.length(shapely.intersection(geoms[left], geoms[right])) > 0
            left, right = left[shared], right[shared]
        for a, b in zip(ids[left], ids[right]):
            if a != b:
                neighbours[str(a)].add(str(b))
                neighbours[str(b)].add(str(a))
    return {rid: tuple(sorted(nb)) for rid, nb in sorted(neighbours.items())}


# --------------------------------------------------------------------------- shapes


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


# --------------------------------------------------------------------------- GeoJSON


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


# --------------------------------------------------------------------------- geography mode

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


def region_overlaps(regions: gpd.GeoDataFrame, share: float = 0.01) -> list[tuple[str, str, float]]:
    """Pairs of regions whose polygons overlap by more than ``share`` of the smaller one's
    area, as ``(region_id, region_id, overlap share)`` sorted by ID: beyond a sliver an
    account inside both would belong to two regions."""
    reg = _metric_frame(regions)
    geoms = np.asarray(reg.geometry.values, dtype=object)
    ids = reg["region_id"].to_numpy(dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not left.size:
        return []
    overlap = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    ratio = overlap / np.maximum(smaller, 1e-9)
    bad = np.flatnonzero(ratio > share)
    return [(str(ids[left[k]]), str(ids[right[k]]), float(ratio[k])) for k in bad]


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


def snapped_adjacency(
    regions: gpd.GeoDataFrame, *, queen: bool = False, snap_m: float = SNAP_M
) -> dict[str, tuple[str, ...]]:
    """Neighbours of each region, tolerant of slivers and gaps narrower than ``snap_m``.

    Each polygon grows by ``snap_m / 2`` (metres, equal-area projection), so two regions
    whose borders run within ``snap_m`` of each other overlap in a strip about ``snap_m``
    wide; the strip's area over ``snap_m`` estimates the shared border's length. Rook
    adjacency needs that length above ``2 * snap_m``: two regions meeting at a corner overlap
    only in a blob about ``snap_m`` across, whose estimated length stays below it. Queen
    adjacency takes any overlap of the grown polygons.
    """
    reg = _metric_frame(regions)
    ids = reg["region_id"].astype(str).to_numpy(dtype=object)
    grown = shapely.buffer(np.asarray(reg.geometry.values, dtype=object), snap_m / 2.0)
    tree = shapely.STRtree(grown)
    left, right = tree.query(grown, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not queen and left.size:
        strip = shapely.area(shapely.intersection(grown[left], grown[right]))
        shared = strip / snap_m > 2.0 * snap_m
        left, right = left[shared], right[shared]
    neighbours: dict[str, set[str]] = {str(rid): set() for rid in ids}
    for a, b in zip(ids[left], ids[right]):
        neighbours[a].add(b)
        neighbours[b].add(a)
    return {rid: tuple(sorted(nb)) for rid, nb in sorted(neighbours.items())}


def island_links(
    regions: gpd.GeoDataFrame, neighbours: dict[str, tuple[str, ...]]
) -> list[dict[str, Any]]:
    """Links that join every part of the map with no neighbour to the rest.

    Parts are the connected components of ``neighbours``. While there is more than one,
    the smallest (fewest regions; ties by smallest region_id) is joined to the nearest
    region of any other part by its closest pair of polygons, so an island links to the
    mainland region facing it. Returns ``[{"from", "to", "km"}]`` in the order added.
    """
    reg = _metric_frame(regions)
    ids = reg["region_id"].astype(str).tolist()
    position = {rid: k for k, rid in enumerate(ids)}
    geoms = np.asarray(reg.geometry.values, dtype=object)
    part = {rid: None for rid in ids}
    parts: list[set[str]] = []
    for rid in ids:
        if part[rid] is not None:
            continue
        stack, members = [rid], {rid}
        part[rid] = len(parts)
        while stack:
            for nb in neighbours.get(stack.pop(), ()):
                if part[nb] is None:
                    part[nb] = len(parts)
                    members.add(nb)
                    stack.append(nb)
        parts.append(members)
    links: list[dict[str, Any]] = []
    while len(parts) > 1:
        parts.sort(key=lambda members: (len(members), min(members)))
        small, rest = parts[0], set().union(*parts[1:])
        mine = np.array(sorted(position[r] for r in small))
        others = np.array(sorted(position[r] for r in rest))
        gaps = shapely.distance(geoms[mine][:, None], geoms[others][None, :])
        a, b = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
        near = ids[others[b]]
        links.append({"from": ids[mine[a]], "to": near, "km": round(float(gaps[a, b]) / 1000, 3)})
        joined = next(k for k in range(1, len(parts)) if near in parts[k])
        parts[joined] |= small
        parts.pop(0)
    return links


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
