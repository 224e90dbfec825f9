"""Seeded synthetic territory instances: clustered accounts, skewed workloads, owners, locks.

    python benchmarks/synthetic.py --accounts 10000 --reps 50 --out /tmp/syn10k

writes accounts.csv, reps.csv and scenario.yaml (two balance metrics at 5% and 10%).
Accounts cluster around metro centres over the contiguous US; workload and potential are
lognormal (a few big accounts, many small); today's owner is one of the 3 nearest reps (an
unbalanced "last year"); 0.5% of accounts are locked to their owner.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml


def make_instance(
    n_accounts: int, n_reps: int, seed: int = 0, locked_share: float = 0.005
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_centres = max(5, n_reps // 2)
    centres = np.column_stack(
        [rng.uniform(29.0, 47.0, n_centres), rng.uniform(-122.0, -72.0, n_centres)]
    )
    weights = rng.pareto(1.2, n_centres) + 1.0
    weights /= weights.sum()
    which = rng.choice(n_centres, size=n_accounts, p=weights)
    spread = rng.uniform(0.3, 1.5, n_centres)[which]
    lat = np.clip(centres[which, 0] + rng.normal(0, 1, n_accounts) * spread, 25.0, 49.0)
    lon = np.clip(centres[which, 1] + rng.normal(0, 1.3, n_accounts) * spread, -124.0, -67.0)
    workload = np.round(np.clip(rng.lognormal(3.5, 0.7, n_accounts), 2.0, None), 1)
    potential = np.round(workload * rng.lognormal(7.0, 0.5, n_accounts), 0)
    # reps sit where the accounts are (capacity-proportional sampling of account sites)
    rep_sites = rng.choice(n_accounts, size=n_reps, replace=False, p=workload / workload.sum())
    rep_lat = lat[rep_sites] + rng.normal(0, 0.05, n_reps)
    rep_lon = lon[rep_sites] + rng.normal(0, 0.05, n_reps)
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{j + 1:04d}" for j in range(n_reps)],
            "name": [f"Rep {j + 1}" for j in range(n_reps)],
            "lat": np.round(rep_lat, 5),
            "lon": np.round(rep_lon, 5),
            "capacity": 1.0,
            "status": "active",
        }
    )
    # today's owner: one of the three nearest reps (mostly the nearest)
    d = np.empty((n_accounts, 3), dtype=int)
    for start in range(0, n_accounts, 4096):
        sl = slice(start, start + 4096)
        dist = (lat[sl, None] - rep_lat[None]) ** 2 + ((lon[sl, None] - rep_lon[None]) * 0.8) ** 2
        d[sl] = np.argsort(dist, axis=1)[:, :3]
    pick = rng.choice(3, size=n_accounts, p=[0.8, 0.15, 0.05])
    owner = d[np.arange(n_accounts), pick]
    locked = rng.random(n_accounts) < locked_share
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i + 1:07d}" for i in range(n_accounts)],
            "name": [f"Account {i + 1}" for i in range(n_accounts)],
            "lat": np.round(lat, 5),
            "lon": np.round(lon, 5),
            "workload": workload,
            "potential": potential,
            "revenue": np.round(potential * rng.uniform(0.3, 0.9, n_accounts), 0),
            "current_rep_id": reps["rep_id"].to_numpy()[owner],
            "locked": locked,
        }
    )
    return accounts, reps


def scenario_dict(name: str, time_limit: float = 60.0, gap: float = 0.005) -> dict:
    return {
        "name": name,
        "accounts": "accounts.csv",
        "reps": "reps.csv",
        "balance": [
            {"metric": "workload", "tolerance": 0.05},
            {"metric": "potential", "tolerance": 0.10},
        ],
        "objective": {"travel": 1.0, "disruption": 0.0},
        "solver": {"name": "highs", "time_limit": time_limit, "gap": gap},
    }


def write_instance(out: Path, n_accounts: int, n_reps: int, seed: int = 0) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    accounts, reps = make_instance(n_accounts, n_reps, seed)
    accounts.to_csv(out / "accounts.csv", index=False)
    reps.to_csv(out / "reps.csv", index=False)
    path = out / "scenario.yaml"
    path.write_text(
        yaml.safe_dump(scenario_dict(f"synthetic-{n_accounts}x{n_reps}"), sort_keys=False)
    )
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write_instance(args.out, args.accounts, args.reps, args.seed))
