"""How regions relate: ancestors by parent_id, adjacency, overlaps and island links."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from territory_planner.errors import ProblemList

from .frames import (
    SNAP_M,
    _id_text,
    _metric_frame,
    _regions_wgs84,
)


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
