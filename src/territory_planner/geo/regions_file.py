"""Reading a regions file (GeoJSON, GeoPackage or Shapefile) into a canonical table.

Each check of the file is a short function adding its problems to one ProblemList, so
every defect of the file is reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territory_planner.errors import InputError, Problem, ProblemList

from .frames import (
    _POLYGONAL,
    WGS84,
    _id_text,
    _polygonal_part,
)

# Column aliases of a regions file, matched case-insensitively, first match wins.
_REGION_ID_ALIASES = ("region_id", "id", "region", "code")


_PARENT_ID_ALIASES = ("parent_id", "parent")


_NAME_ALIASES = ("name",)


def _find_column(columns: Iterable[str], aliases: tuple[str, ...]) -> str | None:
    """The first column whose lower-cased name is one of ``aliases`` (in alias order)."""
    by_lower: dict[str, str] = {}
    for col in columns:
        by_lower.setdefault(str(col).strip().lower(), col)
    for alias in aliases:
        if alias in by_lower:
            return by_lower[alias]
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
