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

from .frames import _POLYGONAL, WGS84, _id_text, _polygonal_part

# Column aliases of a regions file, matched case-insensitively, first match wins.
# the Census Bureau's TIGER/Line files name their key GEOID (counties: the 5-digit FIPS
# code) and a ZCTA file ZCTA5CE20 / ZCTA5CE10: such a file loads as it is downloaded
_REGION_ID_ALIASES = (
    "region_id",
    "id",
    "region",
    "code",
    "geoid",
    "geoid20",
    "geoid10",
    "zcta5ce20",
    "zcta5ce10",
    "zcta5",
    "fips",
)
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
    problems = ProblemList()
    table = _read_regions(Path(path), problems)
    problems.raise_if_any()
    return table


def read_regions_for_checks(path: str | Path, problems: ProblemList) -> gpd.GeoDataFrame | None:
    """read_regions for a reader that checks the other files against the map as well: every
    defect of the file is added to ``problems`` instead of raised, and the map is returned
    whenever its places can be trusted, so that one run lists the accounts outside every
    region, the overlaps and the account files' defects too. Features that share a
    region_id count as one region (their union) for those checks. None when the places
    themselves are in doubt (the file unreadable, a blank region_id, a polygon that
    cannot be used, an unknown CRS): checking accounts against part of a map would report
    accounts "in no region" that are not."""
    try:
        return _read_regions(Path(path), problems)
    except InputError as error:  # unreadable, or no region_id column at all
        problems.extend(error.problems)
        return None


def _read_regions(path: Path, problems: ProblemList) -> gpd.GeoDataFrame | None:
    """The canonical table with every defect added to ``problems`` (read_regions_for_checks
    says when it is None); raises InputError when the file or its region_id column is
    missing."""
    file = str(path)
    raw = _read_file(path)
    columns = _region_columns(raw, file, problems)
    id_col, parent_col, name_col = columns
    ids, parents, names = _column_values(raw, id_col, parent_col, name_col)
    _check_ids(ids, file, problems)
    fixed = _checked_geometries(raw, file, problems)
    if parent_col is not None:
        _check_own_parents(ids, parents, file, problems)
        _check_parent_cycles(ids, parents, file, problems)
    geo = gpd.GeoSeries(fixed, crs=raw.crs)
    unknown_crs = _check_unknown_crs(geo, file, problems)
    if unknown_crs or None in ids or any(g is None for g in fixed):
        return None
    table = _canonical_table(raw, ids, parents, names, columns, _in_wgs84(geo))
    return _one_row_per_region(table)


def _one_row_per_region(table: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The table with the features that share a region_id (a problem already reported)
    joined into one: the first feature's attributes, the union of their polygons."""
    duplicated = table["region_id"].duplicated(keep=False)
    if not duplicated.any():
        return table
    first = table.drop_duplicates("region_id", keep="first").set_index("region_id")
    unions = table[duplicated].groupby("region_id").geometry.agg(shapely.union_all)
    first.loc[unions.index, "geometry"] = gpd.GeoSeries(unions, crs=table.crs)
    return first.reset_index()


def _read_file(path: Path) -> gpd.GeoDataFrame:
    """The file's features as read by pyogrio; a missing or unreadable file is an error."""
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
        return gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types; all mean "cannot read"
        raise InputError(
            Problem(
                file=file,
                message=f"cannot read the regions file: {exc}",
                fix="save it as GeoJSON, GeoPackage or Shapefile",
            )
        ) from exc


def _region_columns(
    raw: gpd.GeoDataFrame, file: str, problems: ProblemList
) -> tuple[str, str | None, str | None]:
    """The file's region_id, parent_id and name columns; without a region_id nothing else
    can be checked, so that problem is raised at once."""
    properties = raw.columns.drop("geometry", errors="ignore")
    id_col = _find_column(properties, _REGION_ID_ALIASES)
    parent_col = _find_column(properties, _PARENT_ID_ALIASES)
    name_col = _find_column(properties, _NAME_ALIASES)
    if id_col is None:
        # a key is text or whole numbers, distinct on every row (areas and coordinates,
        # distinct too, are floats and left out)
        unique = [
            str(c)
            for c in properties
            if raw[c].dtype.kind in "iuOT" and raw[c].notna().all() and raw[c].astype(str).is_unique
        ]
        could = f"; columns with a distinct key on every row: {', '.join(unique)}" if unique else ""
        problems.add(
            file,
            "no region_id column",
            column="region_id",
            fix=f"add a region_id property (aliases: {', '.join(_REGION_ID_ALIASES[1:])}){could}",
        )
        problems.raise_if_any()
    return id_col, parent_col, name_col


def _column_values(
    raw: gpd.GeoDataFrame, id_col: str, parent_col: str | None, name_col: str | None
) -> tuple[list[str | None], list[str | None], list[str]]:
    """Region IDs and parent IDs as text (None for blanks) and names ("" for blanks)."""
    n = len(raw)
    ids = [_id_text(v) for v in raw[id_col]]
    parents = [_id_text(v) for v in raw[parent_col]] if parent_col is not None else [None] * n
    names = (
        ["" if _id_text(v) is None else str(v) for v in raw[name_col]]
        if name_col is not None
        else [""] * n
    )
    return ids, parents, names


def _check_ids(ids: list[str | None], file: str, problems: ProblemList) -> None:
    """Every feature has a region_id, and no two share one."""
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


def _checked_geometries(raw: gpd.GeoDataFrame, file: str, problems: ProblemList) -> list[Any]:
    """Each feature's polygon, repaired where invalid; None where it is unusable."""
    geoms = list(raw.geometry.values) if "geometry" in raw else [None] * len(raw)
    return [_checked_geometry(geom, i + 1, file, problems) for i, geom in enumerate(geoms)]


def _checked_geometry(geom: Any, row: int, file: str, problems: ProblemList) -> Any:
    """One feature's polygon: empty, non-polygonal and irreparable geometry are problems."""
    if geom is None or geom.is_empty:
        problems.add(
            file,
            "empty geometry",
            row=row,
            column="geometry",
            fix="draw the region's polygon or drop the feature",
        )
        return None
    if geom.geom_type not in _POLYGONAL:
        problems.add(
            file,
            f"geometry is a {geom.geom_type}, not a polygon",
            row=row,
            column="geometry",
            fix="regions must be Polygon or MultiPolygon",
        )
        return None
    if geom.is_valid:
        return geom
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
    return repaired


def _check_own_parents(
    ids: list[str | None], parents: list[str | None], file: str, problems: ProblemList
) -> None:
    """No region is its own parent."""
    for i, (rid, parent) in enumerate(zip(ids, parents)):
        if rid is not None and parent == rid:
            problems.add(
                file,
                f"region '{rid}' is its own parent",
                row=i + 1,
                column="parent_id",
                fix="clear the parent_id or correct it",
            )


def _check_parent_cycles(
    ids: list[str | None], parents: list[str | None], file: str, problems: ProblemList
) -> None:
    """No region is its own ancestor. A parent_id that is no region_id is a label (a census
    division above the states) and is allowed."""
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


def _check_unknown_crs(geo: gpd.GeoSeries, file: str, problems: ProblemList) -> bool:
    """A file with no CRS is taken as longitude/latitude only when its bounds fit them;
    True when it does not (a problem added)."""
    if geo.crs is None and not _fits_lonlat(np.asarray(geo.total_bounds, dtype=float)):
        bounds = ", ".join(f"{b:.6g}" for b in geo.total_bounds)
        problems.add(
            file,
            f"the file has no coordinate reference system and its "
            f"coordinates ({bounds}) are not longitude/latitude degrees",
            column="geometry",
            fix="save it with its CRS (e.g. the .prj of a Shapefile) or in EPSG:4326",
        )
        return True
    return False


def _in_wgs84(geo: gpd.GeoSeries) -> gpd.GeoSeries:
    """The geometry in EPSG:4326: reprojected from the file's CRS, or labelled so when the
    file had none (its bounds were checked to be longitude/latitude)."""
    if geo.crs is None:
        return geo.set_crs(WGS84, allow_override=True)
    if not geo.crs.equals(WGS84):
        return geo.to_crs(WGS84)
    return geo


def _canonical_table(
    raw: gpd.GeoDataFrame,
    ids: list[str | None],
    parents: list[str | None],
    names: list[str],
    columns: tuple[str, str | None, str | None],
    geo: gpd.GeoSeries,
) -> gpd.GeoDataFrame:
    """region_id, parent_id, name, the file's other columns and the geometry, by region_id."""
    data: dict[str, Any] = {"region_id": ids, "parent_id": parents, "name": names}
    consumed = {c for c in columns if c is not None} | {"geometry"}
    for col in raw.columns:
        if col not in consumed and col not in data:
            data[col] = raw[col].to_numpy()
    frame = pd.DataFrame(data)
    frame["parent_id"] = frame["parent_id"].astype(object)
    frame["parent_id"] = frame["parent_id"].where(frame["parent_id"].notna(), None)
    out = gpd.GeoDataFrame(frame, geometry=list(geo.values), crs=WGS84)
    out = out.sort_values("region_id", kind="stable").reset_index(drop=True)
    return out


def write_regions(regions: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write a canonical regions table as GeoJSON (``read_regions`` reads it back the same):
    a plan whose regions were changed in memory (a re-balance sets their owners) keeps them
    in its inputs/."""
    path = Path(path)
    regions.to_file(path, driver="GeoJSON")
    return path
