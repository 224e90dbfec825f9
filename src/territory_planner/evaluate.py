"""KPIs of any plan (balance, travel, disruption), independent of how it was made.

A plan is just ``account_id -> rep_id``. Everything here is recomputed from the inputs with
the definitions of docs/design.md section 3, so a plan made by hand, by another tool or by
the optimiser is judged by the same numbers, and a plan read back from disk shows the
numbers it was written with.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .geo import haversine_km

BAND_SLACK = 1e-6  # solver tolerance: a load this close to its band's edge holds it


def targets(accounts: pd.DataFrame, reps: pd.DataFrame, metric: str) -> pd.Series:
    """docs/design.md section 3: target_j = capacity_j / sum(capacity of non-leaving reps) * sum_i
    m_i.
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
    """assignments: account_id, rep_id, previous_rep_id, moved, distance_km, rep_name, +
    columns (outputs.py writes them under the input's own names)."""
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
            "distance_km": km,  # exact, as the optimiser prices it: rounded when written
            "rep_name": rep.map(reps.set_index("rep_id")["name"]),
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
    # today's owners, when the accounts name any; the columns stay blank otherwise
    owned = accounts[accounts["current_rep_id"].notna()]
    today = owned.groupby("current_rep_id", sort=True) if len(owned) else None
    out = pd.DataFrame({"rep_id": reps["rep_id"], "name": reps["name"]})
    counts = grouped.size()
    out["accounts"] = out["rep_id"].map(counts).fillna(0).astype(int)
    out["accounts_today"] = _today_column(out["rep_id"], today, None)
    for metric in metrics:
        load = out["rep_id"].map(grouped[metric].sum()).fillna(0.0).astype(float)
        target = out["rep_id"].map(targets(accounts, reps, metric)).astype(float)
        deviation = np.where(target > 0, (load - target) / target.where(target > 0, 1.0), np.nan)
        out[f"{metric}_load"] = load.round(6)
        out[f"{metric}_load_today"] = _today_column(out["rep_id"], today, metric)
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


def _today_column(rep_ids: pd.Series, today, metric: str | None) -> pd.Series:
    """Per rep: accounts (``metric`` None) or load of ``metric`` under today's owners;
    blank for every rep when no account has an owner today."""
    if today is None:
        return pd.Series(np.nan, index=rep_ids.index, dtype=float)
    if metric is None:
        return rep_ids.map(today.size()).fillna(0).astype(int)
    return rep_ids.map(today[metric].sum()).fillna(0.0).astype(float).round(6)


def broken_bands(territories: pd.DataFrame, metric: str, tolerance: float) -> list[dict]:
    """The non-leaving reps whose ``metric`` load is outside
    ``|load - target| <= tolerance * target``, worst first."""
    active = territories[territories["status"] != "leaving"]
    load = active[f"{metric}_load"].astype(float)
    target = active[f"{metric}_target"].astype(float)
    deviation = (load - target) / target.where(target > 0)
    broken = active.assign(_load=load, _deviation=deviation)[
        deviation.abs() > tolerance + BAND_SLACK
    ]
    broken = broken.assign(_worst=-broken["_deviation"].abs()).sort_values(
        ["_worst", "rep_id"], kind="stable"
    )
    return [
        {
            "rep_id": str(row.rep_id),
            "load": round(float(row._load), 6),
            "target": round(float(row[f"{metric}_target"]), 6),
            "deviation": round(float(row._deviation), 6),
        }
        for _, row in broken.iterrows()
    ]


def assignment_objective(
    accounts: pd.DataFrame, reps: pd.DataFrame, rep_of_account: pd.Series, weights
) -> float:
    """The optimiser's objective of any assignment (docs/design.md section 3):
    ``travel * sum_i workload_i * km(i, rep_i) + disruption * potential that changes owner``,
    where an account changes owner unless its rep is its current owner and that owner is
    not leaving (a leaving owner's accounts must move in every plan, so the optimiser
    charges them in every plan too). Unrounded distances, as the optimiser prices them."""
    rep = accounts["account_id"].map(rep_of_account)
    home = reps.set_index("rep_id")
    km = haversine_km(
        accounts["lat"].to_numpy(float),
        accounts["lon"].to_numpy(float),
        rep.map(home["lat"]).to_numpy(float),
        rep.map(home["lon"]).to_numpy(float),
    )
    travel = float(np.sum(accounts["workload"].to_numpy(float) * km))
    staying = set(home.index[home["status"] != "leaving"])
    owner = accounts["current_rep_id"]
    kept = owner.notna() & (owner == rep) & owner.isin(staying)
    moved = float(accounts.loc[~kept, "potential"].astype(float).sum())
    return float(weights.travel) * travel + float(weights.disruption) * moved


# half a unit of the 6 decimals an assignment's objective is rounded to before scoring
OBJECTIVE_ROUNDING = 5e-7


def score_gap(objective: float | None, lower_bound: float | None) -> float | None:
    """The gap of docs/design.md section 3, ``(objective - lower_bound) / max(|objective|, tiny)``
    of any assignment.

    Not clipped at zero: an assignment that breaks the bands may cost less than the bound
    proven for the plans that hold them, and a negative gap says exactly that.

    The objectives scored here are summary.json's, rounded to 6 decimals, while the bound
    is the solver's: a difference within half a unit of the sixth decimal (OBJECTIVE_ROUNDING)
    is no difference, so an assignment exactly as good as the bound has gap 0, not a hair
    below it (which would read "costs 0.00% less than the bound, because it breaks some
    rules")."""
    if objective is None or lower_bound is None:
        return None
    if not (math.isfinite(objective) and math.isfinite(lower_bound)):
        return None
    if abs(objective - lower_bound) <= OBJECTIVE_ROUNDING * (1.0 + 1e-9):
        return 0.0
    return round((objective - lower_bound) / max(abs(objective), 1e-9), 9)


def today_kpis(data, lower_bound: float | None) -> dict:
    """summary.json's ``today`` block: today's owners (``current_rep_id``) scored the way
    the plan is, against the plan's proven ``lower_bound``.

    Travel counts the accounts that have an owner; objective and gap need every account
    owned (a partial assignment is not comparable with a bound on whole plans)."""
    accounts, reps, settings = data.accounts, data.reps, data.settings
    without = int(accounts["current_rep_id"].isna().sum())
    if without == len(accounts):
        return {
            "travel_cost": None,
            "objective": None,
            "gap_to_bound": None,
            "accounts_without_owner": without,
            "balance": {},
        }
    owner = accounts.set_index("account_id")["current_rep_id"]
    metrics = [rule.metric for rule in settings.balance]
    assignments = assignment_frame(accounts, reps, owner)
    territories = territory_frame(assignments, accounts, reps, metrics)
    numbers = kpis(assignments, territories, accounts, settings.balance)
    objective = None
    if without == 0:
        objective = round(assignment_objective(accounts, reps, owner, settings.objective), 6)
    return {
        "travel_cost": numbers["travel_cost"],
        "objective": objective,
        "gap_to_bound": score_gap(objective, lower_bound),
        "accounts_without_owner": without,
        "balance": numbers["balance"],
    }


def rollup_frame(
    territories: pd.DataFrame, reps: pd.DataFrame, hierarchy: list[str], metrics: list[str]
) -> pd.DataFrame:
    """rollups.csv: per hierarchy level and unit (a value of that reps column), the sums of
    its territories: reps (not leaving), accounts, each metric's load and target, travel
    cost and quota when set; deviation = (load - target) / target of the unit. Reps with a
    blank value at a level roll up into the unit ``(none)``."""
    columns = ["level", "unit", "reps", "accounts"]
    for metric in metrics:
        columns += [f"{metric}_load", f"{metric}_target", f"{metric}_deviation"]
    columns.append("travel_cost")
    has_quota = "quota" in territories.columns
    if has_quota:
        columns.append("quota")
    rows = []
    for level in hierarchy:
        unit_of_rep = reps.set_index("rep_id")[level].astype(object)
        blank = unit_of_rep.isna() | unit_of_rep.astype(str).str.strip().eq("")
        unit_of_rep = unit_of_rep.where(~blank, "(none)").astype(str)
        frame = territories.assign(unit=territories["rep_id"].map(unit_of_rep).fillna("(none)"))
        for unit, group in frame.groupby("unit", sort=True):
            row = {
                "level": level,
                "unit": unit,
                "reps": int((group["status"] != "leaving").sum()),
                "accounts": int(group["accounts"].sum()),
            }
            for metric in metrics:
                load = float(group[f"{metric}_load"].sum())
                target = float(group[f"{metric}_target"].sum())
                row[f"{metric}_load"] = load
                row[f"{metric}_target"] = target
                row[f"{metric}_deviation"] = (load - target) / target if target > 0 else np.nan
            row["travel_cost"] = float(group["travel_cost"].sum())
            if has_quota:
                row["quota"] = float(group["quota"].sum())
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)


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
            "within_band": bool(worst <= tolerance + BAND_SLACK),
            "broken": broken_bands(territories, metric, tolerance),
        }
    return out


def finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
