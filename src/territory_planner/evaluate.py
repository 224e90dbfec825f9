"""KPIs of any plan (balance, travel, disruption), independent of how it was made.

A plan is just ``account_id -> rep_id``. Everything here is recomputed from the inputs with
the DESIGN definitions, so a plan made by hand, by another tool or by the optimiser is judged
by the same numbers, and a plan read back from disk shows the numbers it was written with.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .geo import haversine_km


def targets(accounts: pd.DataFrame, reps: pd.DataFrame, metric: str) -> pd.Series:
    """DESIGN: target_j = capacity_j / sum(capacity of non-leaving reps) * sum_i m_i.
    Leaving reps get 0."""
    active = reps["status"] != "leaving"
    capacity = reps["capacity"].where(active, 0.0).astype(float)
    total_capacity = float(capacity.sum())
    total = float(accounts[metric].astype(float).sum())
    share = capacity / total_capacity if total_capacity > 0 else capacity * 0.0
    return pd.Series((share * total).to_numpy(), index=reps["rep_id"].to_numpy())


def assignment_frame(
    accounts: pd.DataFrame, reps: pd.DataFrame, rep_of_account: pd.Series
) -> pd.DataFrame:
    """assignments.csv: account_id, rep_id, previous_rep_id, moved, distance_km, + columns."""
    frame = accounts.sort_values("account_id", kind="stable").reset_index(drop=True)
    rep = frame["account_id"].map(rep_of_account)
    rep_lat = reps.set_index("rep_id")["lat"]
    rep_lon = reps.set_index("rep_id")["lon"]
    km = haversine_km(
        frame["lat"].to_numpy(float),
        frame["lon"].to_numpy(float),
        rep.map(rep_lat).to_numpy(float),
        rep.map(rep_lon).to_numpy(float),
    )
    previous = frame["current_rep_id"]
    out = pd.DataFrame(
        {
            "account_id": frame["account_id"],
            "rep_id": rep,
            "previous_rep_id": previous,
            "moved": (previous.isna() | (previous != rep)) & previous.notna(),
            "distance_km": np.round(km, 3),
            "name": frame["name"],
            "workload": frame["workload"],
            "potential": frame["potential"],
            "revenue": frame["revenue"],
            "region_id": frame["region_id"],
        }
    )
    canonical = {
        "account_id",
        "name",
        "lat",
        "lon",
        "postal_code",
        "workload",
        "potential",
        "revenue",
        "current_rep_id",
        "locked",
        "segment",
        "group_id",
        "region_id",
    }
    for column in frame.columns:
        if column not in canonical and column not in out.columns:
            out[column] = frame[column]
    return out


def territory_frame(
    assignments: pd.DataFrame, accounts: pd.DataFrame, reps: pd.DataFrame, metrics: list[str]
) -> pd.DataFrame:
    """territories.csv: rep_id, name, accounts, then per metric load, target, deviation."""
    reps = reps.sort_values("rep_id", kind="stable").reset_index(drop=True)
    joined = assignments[["account_id", "rep_id", "distance_km"]].merge(
        accounts.drop(columns=[c for c in ("rep_id",) if c in accounts.columns]),
        on="account_id",
        how="left",
    )
    grouped = joined.groupby("rep_id", sort=True)
    out = pd.DataFrame({"rep_id": reps["rep_id"], "name": reps["name"]})
    counts = grouped.size()
    out["accounts"] = out["rep_id"].map(counts).fillna(0).astype(int)
    for metric in metrics:
        load = out["rep_id"].map(grouped[metric].sum()).fillna(0.0).astype(float)
        target = out["rep_id"].map(targets(accounts, reps, metric)).astype(float)
        deviation = np.where(target > 0, (load - target) / target.where(target > 0, 1.0), np.nan)
        out[f"{metric}_load"] = load.round(6)
        out[f"{metric}_target"] = target.round(6)
        out[f"{metric}_deviation"] = np.round(deviation, 6)
    travel = (
        (joined["workload"].astype(float) * joined["distance_km"].astype(float))
        .groupby(joined["rep_id"])
        .sum()
    )
    out["travel_cost"] = out["rep_id"].map(travel).fillna(0.0).astype(float).round(3)
    out["capacity"] = reps["capacity"].to_numpy()
    out["status"] = reps["status"].to_numpy()
    return out


def kpis(
    assignments: pd.DataFrame, territories: pd.DataFrame, accounts: pd.DataFrame, balance: list
) -> dict:
    """The summary numbers: travel cost, disruption, balance per metric."""
    travel = float(
        (assignments["workload"].astype(float) * assignments["distance_km"].astype(float)).sum()
    )
    moved = assignments["moved"].astype(bool)
    total_potential = float(accounts["potential"].astype(float).sum())
    moved_potential = float(assignments.loc[moved, "potential"].astype(float).sum())
    out = {
        "travel_cost": round(travel, 3),
        "disruption": {
            "moved_accounts": int(moved.sum()),
            "moved_potential": round(moved_potential, 6),
            "moved_share": round(moved_potential / total_potential, 6) if total_potential else 0.0,
        },
        "balance": {},
    }
    active = territories["status"] != "leaving"
    for rule in balance:
        metric, tolerance = rule.metric, rule.tolerance
        deviation = territories.loc[active, f"{metric}_deviation"].astype(float)
        worst = float(np.nanmax(np.abs(deviation))) if deviation.notna().any() else 0.0
        out["balance"][metric] = {
            "max_abs_deviation": round(worst, 6),
            "tolerance": tolerance,
            "within_band": bool(worst <= tolerance + 1e-6),
        }
    return out


def finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
