"""Helpers shared by test modules (import from here, never from another test module)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import yaml

#: one degree of a great circle with DESIGN's Earth radius 6371.0088 km
DEG_KM = 2 * 3.141592653589793 * 6371.0088 / 360  # 111.19508...


def salesforce_accounts() -> pd.DataFrame:
    """Four accounts on the equator at longitude 1, 2, 3 and 9, under Salesforce's column
    names; workload 1 each, potential 100/200/300/400. Today A1 is R1's (locked), A2, A3
    and A4 are R2's. A1's ZIP keeps its leading zero."""
    return pd.DataFrame(
        {
            "Id": ["A1", "A2", "A3", "A4"],
            "Name": ["One", "Two", "Three", "Four"],
            "BillingLatitude": [0.0, 0.0, 0.0, 0.0],
            "BillingLongitude": [1.0, 2.0, 3.0, 9.0],
            "BillingPostalCode": ["02139", "", "", "10001"],
            "workload": [1.0, 1.0, 1.0, 1.0],
            "potential": [100.0, 200.0, 300.0, 400.0],
            "OwnerId": ["R1", "R2", "R2", "R2"],
            "locked": ["true", "false", "false", "false"],
            "ParentId": ["", "", "", ""],
        }
    )


def hierarchy_reps() -> pd.DataFrame:
    """R1 at longitude 0 and R2 at longitude 10, in districts North and South of area East."""
    return pd.DataFrame(
        {
            "Id": ["R1", "R2"],
            "Name": ["Rita", "Rob"],
            "lat": [0.0, 0.0],
            "lon": [0.0, 10.0],
            "district": ["North", "South"],
            "area": ["East", "East"],
        }
    )


def hand_scenario(folder: Path, accounts=None, reps=None, **settings) -> Path:
    """The hand-drawn case: workload within 25% (every whole plan gives each rep exactly two
    accounts), potential within 50% (250..750), rolled up by district and area, solved to a
    proven optimum. Files are written as text so IDs and ZIPs stay as given."""
    folder.mkdir(parents=True, exist_ok=True)
    (salesforce_accounts() if accounts is None else accounts).to_csv(
        folder / "accounts.csv", index=False
    )
    (hierarchy_reps() if reps is None else reps).to_csv(folder / "reps.csv", index=False)
    scenario = {
        "name": "hand",
        "accounts": "accounts.csv",
        "reps": "reps.csv",
        "balance": [
            {"metric": "workload", "tolerance": 0.25},
            {"metric": "potential", "tolerance": 0.5},
        ],
        "hierarchy": ["district", "area"],
        "solver": {"time_limit": 30, "gap": 0.0},
    }
    scenario.update(settings)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


def write_assignment(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


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
