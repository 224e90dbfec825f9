"""ZIP-like geography-mode instances, offline and seeded: Voronoi cells of real ZIP centroids.

* regions: one cell per standard ZIP (``zipcodes``) of the chosen states whose centroid lies
  inside its state's real outline (libpysal's ``us48`` example, shipped with the package).
  Cells are the Voronoi diagram of that state's ZIP centroids (``shapely.voronoi_polygons``,
  computed in the equal-area CONUS Albers projection) clipped to the state outline, so each
  state is tiled by its ZIPs and neighbouring states meet along their real border;
  region_id = the ZIP code, state = its state;
* accounts and reps: as for the county instances (regions_instances.py): one synthetic
  account per ZIP centroid, workload log-normal, potential proportional to it with noise;
  reps at the ZIPs nearest a seeded weighted k-means of the accounts.

``states="all"`` (``--states all``) takes every state of ``us48``: the 48 contiguous states
(the file has no DC), about 30,000 standard ZIPs, the national instance.

Same seed, same instance. Used by benchmarks/zip_bench.py and tests/test_zip_instances.py.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from regions_instances import rep_homes, write_inputs, write_scenario, zip_accounts

#: five south-eastern states, about 3,200 standard ZIPs
ZIP_STATES = ("GA", "NC", "SC", "TN", "VA")
#: equal-area projection for the Voronoi diagram (CONUS Albers)
EQUAL_AREA = "EPSG:5070"


def read_us48() -> gpd.GeoDataFrame:
    """libpysal's ``us48`` example as shipped (one row per contiguous state, lon/lat)."""
    from libpysal import examples

    return gpd.read_file(examples.get_path("us48.shp"))


def resolve_states(states) -> tuple[str, ...]:
    """``states`` as a tuple of abbreviations; ``"all"`` (or ``("all",)``) is every state
    of ``us48``, sorted."""
    if isinstance(states, str):
        states = (states,)
    if tuple(s.lower() for s in states) == ("all",):
        return tuple(sorted(read_us48()["STATE_ABBR"]))
    return tuple(states)


def state_outlines(states: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The states' outlines from libpysal's ``us48`` (lon/lat; the file has no .prj)."""
    frame = read_us48()
    frame = frame[frame["STATE_ABBR"].isin(states)]
    missing = sorted(set(states) - set(frame["STATE_ABBR"]))
    if missing:
        raise ValueError(f"not in us48: {', '.join(missing)}")
    out = gpd.GeoDataFrame(
        {"state": frame["STATE_ABBR"].to_numpy()}, geometry=frame.geometry.values, crs="EPSG:4326"
    )
    return out.sort_values("state").reset_index(drop=True)


def zip_centroids(state: str) -> pd.DataFrame:
    """Standard ZIPs of ``state`` with a centroid: postal_code, lat, lon (sorted, one per
    location: a ZIP sharing another's exact centroid would get an empty cell)."""
    import zipcodes

    rows = sorted(
        (entry["zip_code"], float(entry["lat"]), float(entry["long"]))
        for entry in zipcodes.filter_by(state=state)
        if entry.get("zip_code_type") == "STANDARD" and entry.get("lat")
    )
    frame = pd.DataFrame(rows, columns=["postal_code", "lat", "lon"])
    return frame.drop_duplicates(["lat", "lon"]).reset_index(drop=True)


def voronoi_cells(points: np.ndarray, outline) -> np.ndarray:
    """The Voronoi cell of each point (in input order), clipped to ``outline``."""
    envelope = shapely.box(*shapely.buffer(outline, 1e5).bounds)
    diagram = shapely.voronoi_polygons(
        shapely.multipoints(points), extend_to=envelope, ordered=True
    )
    cells = np.asarray(shapely.get_parts(diagram))
    return shapely.make_valid(shapely.intersection(cells, outline))


def zip_regions(states: tuple[str, ...] = ZIP_STATES) -> gpd.GeoDataFrame:
    """ZIP-like cells of ``states`` (or ``"all"``): region_id (ZIP), state, polygons in
    EPSG:4326."""
    states = resolve_states(states)
    outlines = state_outlines(states).to_crs(EQUAL_AREA)
    parts = []
    for state, outline in zip(outlines["state"], outlines.geometry):
        zips = zip_centroids(state)
        points = gpd.GeoSeries(
            gpd.points_from_xy(zips["lon"], zips["lat"]), crs="EPSG:4326"
        ).to_crs(EQUAL_AREA)
        inside = points.within(outline).to_numpy()
        zips, xy = zips[inside], shapely.get_coordinates(points[inside].values)
        cells = voronoi_cells(xy, outline)
        parts.append(
            gpd.GeoDataFrame(
                {"region_id": zips["postal_code"].to_numpy(), "state": state},
                geometry=cells,
                crs=EQUAL_AREA,
            )
        )
    out = pd.concat(parts, ignore_index=True).sort_values("region_id").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=EQUAL_AREA).to_crs("EPSG:4326")


def write_zip_instance(
    folder: Path,
    *,
    states: tuple[str, ...] | str = ZIP_STATES,
    n_reps: int = 40,
    seed: int = 1,
    tolerances: tuple[float, float] = (0.05, 0.10),
    time_limit: float = 600.0,
    gap: float = 0.01,
) -> Path:
    """regions.geojson, accounts.csv, reps.csv and scenario.yaml (unit: region);
    ``states="all"`` is every state of ``us48`` (the scenario is then named ``zips-us48-...``)."""
    every = resolve_states(states) == resolve_states("all")
    states = resolve_states(states)
    regions = zip_regions(states)
    accounts = zip_accounts(regions, states, seed)
    reps = rep_homes(accounts, n_reps, seed)
    write_inputs(folder, regions, accounts, reps)
    label = "us48" if every else "-".join(states).lower()
    name = f"zips-{label}-{n_reps}reps-seed{seed}"
    return write_scenario(folder, name, tolerances, time_limit, gap)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument(
        "--states", nargs="+", default=list(ZIP_STATES), help="abbreviations, or 'all' (us48)"
    )
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--gap", type=float, default=0.01)
    args = parser.parse_args()
    print(
        write_zip_instance(
            args.folder,
            states=tuple(args.states),
            n_reps=args.reps,
            seed=args.seed,
            time_limit=args.time_limit,
            gap=args.gap,
        )
    )
