"""One sweep over every account-rep pair: the distance block and each rep's cheapest units.

Every all-pairs sweep (candidates, pricing scans, the Lagrangian correction) computes a
block of distances, 4,096 accounts x all reps, and candidates also keep each rep's cheapest
units. Side by side in one run, on blocks of the given shape:

* distances: ``geo.distance_matrix_km`` (the haversine's a from unit vectors, the haversine
  itself within 1.3 km) against the plain haversine broadcast over the block;
* each rep's cheapest units: ``pairs.NearestUnits`` (cut back every eight blocks) against
  keeping every block's cheapest until the end (the memory that takes is reported, not
  allocated, at sizes where it would not fit).

    python benchmarks/pair_sweep.py --accounts 1000000 --reps 2000 --blocks 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from territory_planner.geo import distance_matrix_km, haversine_km
from territory_planner.optimize.pairs import NearestUnits
from territory_planner.problem import CHUNK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--blocks", type=int, default=5, help="blocks timed (then scaled)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    rep_lat, rep_lon = rng.uniform(25, 49, args.reps), rng.uniform(-124, -67, args.reps)
    blocks = -(-args.accounts // CHUNK)
    widest = int(np.ceil(3 * args.accounts / args.reps)) + 10
    plain = fast = 0.0
    worst = 0.0
    nearest = NearestUnits(widest)
    for block in range(args.blocks):
        lat, lon = rng.uniform(25, 49, CHUNK), rng.uniform(-124, -67, CHUNK)
        started = time.perf_counter()
        slow = haversine_km(lat[:, None], lon[:, None], rep_lat[None, :], rep_lon[None, :])
        plain += time.perf_counter() - started
        started = time.perf_counter()
        km = distance_matrix_km(lat, lon, rep_lat, rep_lon)
        fast += time.perf_counter() - started
        worst = max(worst, float(np.abs(km - slow).max()))
        nearest.add(np.arange(block * CHUNK, (block + 1) * CHUNK), km)
    scale = blocks / args.blocks
    kept_all_gb = blocks * min(widest, CHUNK) * args.reps * 16 / 1e9
    table_mb = (nearest.MERGE_BLOCKS + 1) * widest * args.reps * 16 / 1e6
    print(f"{args.accounts:,} accounts x {args.reps:,} reps: {blocks} blocks of {CHUNK}")
    print(
        f"distances, one sweep: haversine {plain * scale:,.0f} s, unit vectors "
        f"{fast * scale:,.0f} s ({plain / fast:.2f}x), largest difference {worst:.1e} km"
    )
    print(
        f"each rep's {widest:,} cheapest units: every block's kept to the end "
        f"{kept_all_gb:,.1f} GB; NearestUnits at most {table_mb:,.0f} MB"
    )


if __name__ == "__main__":
    main()
