"""Helpers shared by test modules (import from here, never from another test module)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import yaml

CELL = 0.1  # degrees: side of a grid square, about 11.1 km near the equator


def grid_regions(rows: int, cols: int, *, missing: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """rows x cols squares of CELL degrees from (0, 0); region ``r{row}{col}``, row = lat."""
    ids, shapes = [], []
    for r in range(rows):
        for c in range(cols):
            rid = f"r{r}{c}"
            if rid in missing:
                continue
            ids.append(rid)
            shapes.append(shapely.box(c * CELL, r * CELL, (c + 1) * CELL, (r + 1) * CELL))
    return gpd.GeoDataFrame({"region_id": ids}, geometry=shapes, crs="EPSG:4326")


def cell_centre(rid: str) -> tuple[float, float]:
    """(lat, lon) of the centre of grid region ``r{row}{col}``."""
    return (int(rid[1]) + 0.5) * CELL, (int(rid[2]) + 0.5) * CELL


def write_region_scenario(
    folder: Path,
    regions: gpd.GeoDataFrame,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    **settings,
) -> Path:
    """regions.geojson, accounts.csv, reps.csv and a unit: region scenario.yaml in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    regions.to_file(folder / "regions.geojson", driver="GeoJSON")
    accounts.to_csv(folder / "accounts.csv", index=False)
    reps.to_csv(folder / "reps.csv", index=False)
    scenario = {
        "name": settings.pop("name", "grid"),
        "accounts": "accounts.csv",
        "reps": "reps.csv",
        "regions": "regions.geojson",
        "unit": "region",
        "solver": {"time_limit": 30, "gap": 0.0},
    }
    scenario.update(settings)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


def is_connected(members: set[str], neighbours: dict[str, set[str]]) -> bool:
    """Whether ``members`` is one piece of the graph ``neighbours`` (plain search)."""
    if not members:
        return True
    start = min(members)
    seen, stack = {start}, [start]
    while stack:
        for nb in neighbours[stack.pop()]:
            if nb in members and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return seen == members


def grid_neighbours(rows: int, cols: int) -> dict[str, set[str]]:
    """Rook neighbours of the grid, written out by rule (not by geometry)."""
    out = {}
    for r in range(rows):
        for c in range(cols):
            near = {(r + dr, c + dc) for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1))}
            out[f"r{r}{c}"] = {f"r{a}{b}" for a, b in near if 0 <= a < rows and 0 <= b < cols}
    return out
