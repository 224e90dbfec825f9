"""Geography-mode instances on real polygons, offline and seeded.

* regions: county polygons that libpysal ships with its examples: North Carolina's 100
  counties (``sids2``), Virginia's 136 counties and independent cities (``virginia``) and
  Georgia's 159 counties (``georgia``, UTM metres);
  region_id = the county FIPS code;
* accounts: one synthetic account per real ZIP centroid (``zipcodes``) of those states
  that falls inside a county, workload log-normal, potential proportional to workload
  with noise, placed by point-in-polygon (the engine does it: no region_id is written);
* reps: homes at the ZIP centroids nearest to the centres of a seeded weighted k-means of
  the accounts, so every rep lives where the work is.

Same seed, same instance. Used by benchmarks/regions_bench.py, by the real-polygon tests and
by scripts/make_counties_demo.py.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml

# state: (libpysal example, file, name column, FIPS column, CRS of a file that has none)
STATES = {
    "NC": ("sids2", "sids2.shp", "NAME", "FIPS", "EPSG:4326"),
    "VA": ("virginia", "virginia.shp", "NAME", "FIPS", "EPSG:4326"),
    # Georgia's 159 counties ship in UTM zone 16N metres without a .prj
    "GA": ("georgia", "G_utm.shp", "AreaKey", "AreaKey", "EPSG:26916"),
}


def county_regions(states: tuple[str, ...] = ("NC",)) -> gpd.GeoDataFrame:
    """Counties of the given states: region_id (FIPS), name, state, polygons in EPSG:4326."""
    from libpysal import examples

    parts = []
    for state in states:
        folder, file, name, fips, crs = STATES[state]
        frame = gpd.read_file(examples.get_path(file))
        if frame.crs is None:  # sids2 and georgia ship without a .prj
            frame = frame.set_crs(crs)
        frame = frame.to_crs("EPSG:4326")
        parts.append(
            gpd.GeoDataFrame(
                {
                    "region_id": frame[fips].astype(str).str.zfill(5),
                    "name": frame[name].astype(str),
                    "state": state,
                },
                geometry=frame.geometry.values,
                crs="EPSG:4326",
            )
        )
    out = pd.concat(parts, ignore_index=True)
    # independent cities of Virginia share FIPS-like keys with nothing else; keep one each
    out = out.drop_duplicates("region_id").sort_values("region_id").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def zip_accounts(regions: gpd.GeoDataFrame, states: tuple[str, ...], seed: int) -> pd.DataFrame:
    """One account per standard ZIP of ``states`` whose centroid lies in a region."""
    import zipcodes

    from territory_planner.geo import locate_points

    rows = []
    for state in states:
        for entry in zipcodes.filter_by(state=state):
            if entry.get("zip_code_type") != "STANDARD" or not entry.get("lat"):
                continue
            rows.append((entry["zip_code"], float(entry["lat"]), float(entry["long"])))
    rows.sort()
    frame = pd.DataFrame(rows, columns=["postal_code", "lat", "lon"])
    inside = locate_points(frame["lat"], frame["lon"], regions, max_snap_km=0.0)
    frame = frame[[r is not None for r in inside]].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    workload = np.round(rng.lognormal(mean=2.5, sigma=0.6, size=len(frame)), 1)
    potential = np.round(workload * 1000 * rng.uniform(0.6, 1.4, size=len(frame)), 0)
    frame.insert(0, "account_id", [f"Z{z}" for z in frame["postal_code"]])
    frame["workload"] = workload
    frame["potential"] = potential
    return frame


def rep_homes(accounts: pd.DataFrame, n_reps: int, seed: int) -> pd.DataFrame:
    """Reps at the accounts nearest to a weighted k-means of the accounts (plane on
    degrees scaled by the cosine of the mean latitude, good enough to spread homes)."""
    rng = np.random.default_rng(seed)
    scale = np.cos(np.radians(accounts["lat"].mean()))
    points = np.column_stack([accounts["lat"], accounts["lon"] * scale])
    weight = accounts["workload"].to_numpy()
    centres = points[rng.choice(len(points), n_reps, replace=False, p=weight / weight.sum())]
    for _ in range(50):
        label = ((points[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        for k in range(n_reps):
            if (label == k).any():
                w = weight[label == k]
                centres[k] = (points[label == k] * w[:, None]).sum(axis=0) / w.sum()
    nearest = [int(((points - c) ** 2).sum(axis=1).argmin()) for c in centres]
    homes = accounts.iloc[sorted(set(nearest))]
    return pd.DataFrame(
        {
            "rep_id": [f"R{k + 1:02d}" for k in range(len(homes))],
            "lat": homes["lat"].to_numpy(),
            "lon": homes["lon"].to_numpy(),
            "postal_code": homes["postal_code"].to_numpy(),
        }
    )


def write_instance(
    folder: Path,
    *,
    states: tuple[str, ...] = ("NC",),
    n_reps: int = 10,
    seed: int = 1,
    tolerances: tuple[float, float] = (0.10, 0.15),
    time_limit: float = 20.0,
    gap: float = 0.0,
    name: str | None = None,
) -> Path:
    """regions.geojson, accounts.csv, reps.csv and scenario.yaml (unit: region)."""
    regions = county_regions(states)
    accounts = zip_accounts(regions, states, seed)
    reps = rep_homes(accounts, n_reps, seed)
    write_inputs(folder, regions, accounts, reps)
    return write_scenario(
        folder,
        name or f"counties-{'-'.join(states).lower()}-{n_reps}reps-seed{seed}",
        tolerances,
        time_limit,
        gap,
    )


def write_inputs(folder: Path, regions, accounts, reps) -> None:
    """regions.geojson, accounts.csv and reps.csv in ``folder`` (made if missing)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    regions.to_file(folder / "regions.geojson", driver="GeoJSON")
    accounts.to_csv(folder / "accounts.csv", index=False)
    reps.to_csv(folder / "reps.csv", index=False)


def write_scenario(
    folder: Path, name: str, tolerances: tuple[float, float], time_limit: float, gap: float
) -> Path:
    """scenario.yaml next to regions.geojson, accounts.csv and reps.csv: unit region,
    contiguous, workload and potential bands, travel objective."""
    scenario = {
        "name": name,
        "accounts": "accounts.csv",
        "reps": "reps.csv",
        "regions": "regions.geojson",
        "unit": "region",
        "balance": [
            {"metric": "workload", "tolerance": tolerances[0]},
            {"metric": "potential", "tolerance": tolerances[1]},
        ],
        "objective": {"travel": 1.0, "disruption": 0.0},
        "constraints": {"contiguous": True},
        "solver": {"name": "highs", "time_limit": time_limit, "gap": gap},
    }
    path = Path(folder) / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path
