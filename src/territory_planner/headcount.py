"""Where reps should be based, and how many are needed.

``locate(scenario, count)`` chooses ``count`` home bases among candidate sites (the accounts'
locations, today's reps' home bases, or a CSV of sites) and assigns every account to one, with
the scenario's balance bands re-based on equal shares (``target = total / count``), its
distance limit and the travel objective: the capacitated p-median of optimize/locate.py. The
plan's reps are the chosen bases, ``B01``, ``B02``, ... (``bases.csv`` says which site each
one is). A locate plan starts from a blank sheet, so current owners and locks are ignored.

``headcount(scenario)`` finds the smallest number of bases for which such a plan exists.
It starts at a proven lower bound, ``ceil(total workload / max load per rep)`` (1 without a
load limit), and tries N = lower bound, lower bound + 1, ... Each N that fails is *proven*
infeasible by the solver (the LP relaxation over all pairs, or the MILP over all pairs, has
no solution); the first N that succeeds is therefore the minimum, and its plan is returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .arguments import refuse_bad_time_limit
from .data import ScenarioData, load_data, load_scenario, read_table
from .errors import InfeasibleError, InputError, Problem, ProblemList, SolverError
from .evaluate import assignment_frame, kpis, territory_frame
from .headcount_limits import islands, spread_units
from .headcount_reasons import (
    island_reason,
    load_lower_bound,
    no_count_reasons,
    out_of_time,
    refuse_unreachable,
    spread_text,
)
from .optimize.locate import solve_locate_problem, with_open_bands
from .optimize.strategy import SolveSettings
from .plan import Plan, solve_time_left
from .problem import build_problem
from .scenario import Scenario

# ----------------------------------------------------------------------------- sites


def candidate_sites(data: ScenarioData, candidates: str) -> pd.DataFrame:
    """Candidate home bases as ``site_id, lat, lon``: ``accounts``, ``reps`` or a CSV path
    (relative to the scenario file) with those three columns."""
    if candidates == "accounts":
        frame = data.accounts[["account_id", "lat", "lon"]].rename(
            columns={"account_id": "site_id"}
        )
    elif candidates == "reps":
        frame = data.reps[["rep_id", "lat", "lon"]].rename(columns={"rep_id": "site_id"})
    else:
        path = Path(candidates)
        if not path.is_absolute() and data.settings.source is not None:
            path = Path(data.settings.source).parent / path
        problems = ProblemList()
        raw = read_table(path, problems)
        problems.raise_if_any()
        raw.columns = [str(c).strip().lower() for c in raw.columns]
        for column in ("site_id", "lat", "lon"):
            if column not in raw.columns:
                problems.add(
                    str(path),
                    f"column '{column}' is missing",
                    row=1,
                    column=column,
                    fix="candidate sites need site_id, lat and lon",
                )
        problems.raise_if_any()
        frame = pd.DataFrame({"site_id": raw["site_id"].astype(str).str.strip()})
        for column, low, high in (("lat", -90, 90), ("lon", -180, 180)):
            values = pd.to_numeric(raw[column], errors="coerce")
            bad = values.isna() | (values < low) | (values > high)
            for row in np.flatnonzero(bad.to_numpy()):
                problems.add(
                    str(path),
                    f"{column} '{raw[column].iloc[row]}' is not a number in [{low}, {high}]",
                    row=int(row) + 2,
                    column=column,
                )
            frame[column] = values
        duplicated = frame["site_id"].duplicated()
        for row in np.flatnonzero(duplicated.to_numpy()):
            problems.add(
                str(path),
                f"site_id '{frame['site_id'].iloc[row]}' is listed twice",
                row=int(row) + 2,
                column="site_id",
            )
        problems.raise_if_any()
    return frame.sort_values("site_id", kind="stable").reset_index(drop=True)


def _sites_as_reps(sites: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": sites["site_id"].astype(str),
            "name": sites["site_id"],
            "lat": sites["lat"].astype(float),
            "lon": sites["lon"].astype(float),
            "postal_code": None,
            "capacity": 1.0,
            "segment": None,
            "region_id": None,
            "status": "active",
        }
    )


def _blank_sheet(accounts: pd.DataFrame) -> pd.DataFrame:
    """Accounts with no owner and no lock: a locate plan starts from scratch."""
    out = accounts.copy()
    out["current_rep_id"] = None
    out["locked"] = False
    return out


def locate_problem(
    data: ScenarioData,
    sites: pd.DataFrame,
    count: int,
    *,
    max_distance_km: float | None = None,
    max_load: float | None = None,
):
    """The optimiser's problem: units = accounts (or groups), "reps" = candidate sites, bands
    re-based on ``count`` equal shares, plus ``workload <= max_load`` at every open base."""
    site_data = ScenarioData(
        settings=data.settings,
        accounts=_blank_sheet(data.accounts),
        reps=_sites_as_reps(sites),
        regions=data.regions,
    )
    problem = build_problem(site_data)
    problem = replace(
        problem,
        max_moved_potential=None,
        disruption_weight=0.0,
        max_distance_km=max_distance_km if max_distance_km is not None else problem.max_distance_km,
    )
    problem = with_open_bands(problem, count)
    if max_load is not None:
        problem = _with_load_limit(problem, site_data, float(max_load))
    return problem


def _with_load_limit(problem, data: ScenarioData, max_load: float):
    """Cap every open base's workload at ``max_load`` (a band's upper side, or a new row)."""
    if "workload" in problem.metrics:
        m = problem.metrics.index("workload")
        upper = problem.upper.copy()
        upper[m] = np.minimum(upper[m], max_load)
        return replace(problem, upper=upper)
    accounts = data.accounts.sort_values("account_id", kind="stable")
    load = np.zeros(problem.n_units)
    np.add.at(load, problem.account_unit, accounts["workload"].to_numpy(dtype=float))
    n = problem.n_reps
    return replace(
        problem,
        metrics=[*problem.metrics, "workload"],
        unit_load=np.vstack([problem.unit_load, load]),
        target=np.vstack([problem.target, np.full(n, max_load)]),
        lower=np.vstack([problem.lower, np.full(n, -np.inf)]),
        upper=np.vstack([problem.upper, np.full(n, max_load)]),
        tolerance=np.append(problem.tolerance, 0.0),
    )


# ----------------------------------------------------------------------------- locate


def _data_of(scenario) -> ScenarioData:
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    if isinstance(scenario, Scenario):
        return load_data(scenario)
    return scenario


def _solve_settings(
    data: ScenarioData, time_limit, gap, solver, started: float | None, will_write: bool
) -> SolveSettings:
    """The solve's settings; its limit is what is left of the user's (plan.solve_time_left)."""
    left = solve_time_left(data, time_limit, started, will_write)
    return SolveSettings.from_scenario(
        data.settings.solver, time_limit=left, gap=gap, solver=solver
    )


def locate(
    scenario,
    count: int | None = None,
    *,
    candidates: str | None = None,
    max_distance_km: float | None = None,
    max_load: float | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    solver: str | None = None,
    progress: Callable[[str], None] | None = None,
    started: float | None = None,
    will_write: bool = False,
) -> Plan:
    """Choose ``count`` home bases and assign every account to one (see module docstring).

    ``count`` and ``candidates`` default to the scenario's ``locate:`` section (candidates
    default to ``accounts``). Returns a Plan whose reps are the bases and whose
    ``extra_files['bases.csv']`` lists them. ``started`` and ``will_write``: the limit holds
    end to end, as for plan() (plan.solve_time_left).
    """
    refuse_bad_time_limit(time_limit)  # before reading: as the CLI does
    data = _data_of(scenario)
    from .regions import refuse_region_mode

    refuse_region_mode(data.settings, "locate (choosing home bases for region territories)")
    section = data.settings.locate
    count = count if count is not None else (section.count if section else None)
    if count is None:
        raise InputError(
            Problem(
                file=str(data.settings.source or "scenario"),
                message="the number of bases is not given",
                column="locate.count",
                fix="add 'locate: {count: N}' or pass --count N",
            )
        )
    candidates = candidates or (section.candidates if section else "accounts")
    sites = candidate_sites(data, candidates)
    began = time.perf_counter()
    problem = locate_problem(data, sites, count, max_distance_km=max_distance_km, max_load=max_load)
    settings = _solve_settings(data, time_limit, gap, solver, started, will_write)
    result = solve_locate_problem(problem, count, settings, progress)
    return _locate_plan(data, sites, problem, result, candidates, began)


def _locate_plan(
    data: ScenarioData, sites: pd.DataFrame, problem, result, candidates: str, started: float
) -> Plan:
    opened = result.open_sites
    base_ids = [f"B{i + 1:0{max(2, len(str(len(opened))))}d}" for i in range(len(opened))]
    base_of_site = dict(zip(opened.tolist(), base_ids))
    reps = pd.DataFrame(
        {
            "rep_id": base_ids,
            "name": [f"base at {problem.rep_ids[s]}" for s in opened],
            "lat": problem.rep_lat[opened],
            "lon": problem.rep_lon[opened],
            "postal_code": None,
            "capacity": 1.0,
            "segment": None,
            "region_id": None,
            "status": "active",
        }
    )
    unit_base = np.array([base_of_site[s] for s in result.unit_rep.tolist()], dtype=object)
    rep_of_account = pd.Series(unit_base[problem.account_unit], index=problem.account_ids)
    accounts = _blank_sheet(data.accounts)
    assignments = assignment_frame(accounts, reps, rep_of_account)
    metrics = [rule.metric for rule in data.settings.balance]
    territories = territory_frame(assignments, accounts, reps, metrics)
    numbers = kpis(assignments, territories, accounts, data.settings.balance)
    bases = pd.DataFrame(
        {
            "rep_id": base_ids,
            "site_id": [str(problem.rep_ids[s]) for s in opened],
            "lat": reps["lat"],
            "lon": reps["lon"],
        }
    )
    bases = bases.merge(territories[["rep_id", "accounts"]], on="rep_id", how="left")
    summary = {
        "scenario": data.settings.name,
        "status": result.status,
        "objective": result.objective,
        "lower_bound": result.lower_bound,
        "gap": result.gap,
        **numbers,
        "solver": {
            "name": data.settings.solver.name,
            "seconds": round(result.seconds, 3),
            "candidate_pairs": result.candidate_pairs,
            "allowed_pairs": result.total_pairs,
            "phases": result.phases,
        },
        "inputs": {"accounts": int(len(accounts)), "candidate_sites": int(len(sites))},
        "locate": {
            "count": int(len(opened)),
            "candidates": candidates,
            "bases": bases["site_id"].tolist(),
        },
        "version": __version__,
        "total_seconds": round(time.perf_counter() - started, 3),
    }
    files = {k: v for k, v in data.files.items() if k == "regions"}
    # The bases are new reps with none of the reps file's columns: the scenario's hierarchy
    # levels (district, area) name no unit for them, so the located plan has no roll-ups.
    settings = data.settings.model_copy(update={"hierarchy": []})
    return Plan(
        scenario=settings,
        accounts=accounts,
        reps=reps,
        regions=data.regions,
        assignments=assignments,
        territories=territories,
        summary=summary,
        files=files,
        extra_files={"bases.csv": bases},
    )


# ----------------------------------------------------------------------------- headcount


@dataclass
class Headcount:
    """The smallest base count with a feasible plan, that plan, and the proof trail."""

    count: int
    plan: Plan
    lower_bound: int
    checked: list[dict] = field(default_factory=list)


def headcount(
    scenario,
    *,
    max_distance_km: float | None = None,
    max_load: float | None = None,
    candidates: str | None = None,
    max_count: int | None = None,
    time_limit: float | None = None,
    gap: float | None = None,
    solver: str | None = None,
    progress: Callable[[str], None] | None = None,
    started: float | None = None,
    will_write: bool = False,
) -> Headcount:
    """Smallest N for which bands, distance limit and ``max_load`` can all be met.

    Refused without a limit (a distance limit, given or from the scenario, or ``max_load``):
    one base always meets bands re-based on one share. Every N below the answer is under
    the arithmetic lower bound ``ceil(total workload / max_load)``, ruled out by the
    reach and island arguments (headcount_limits.py) or proven infeasible by the solver.
    The time limit covers the whole search; ``started`` and ``will_write``: it holds end to
    end, as for plan() (plan.solve_time_left).
    """
    refuse_bad_time_limit(time_limit)  # before reading: as the CLI does
    data = _data_of(scenario)
    from .regions import refuse_region_mode

    refuse_region_mode(data.settings, "headcount (the fewest reps for region territories)")
    say = progress or (lambda message: None)
    distance = max_distance_km or data.settings.constraints.max_distance_km
    if distance is None and max_load is None:
        raise InputError(
            Problem(
                file=str(data.settings.source or "scenario"),
                message="a headcount question needs a limit: without one, 1 base always "
                "meets bands re-based on one share",
                column="max_distance / max_load",
                fix="pass --max-distance KM and/or --max-load WORKLOAD (or set "
                "constraints.max_distance_km in the scenario)",
            )
        )
    if max_load is not None and max_load <= 0:
        raise InputError(
            Problem(file="headcount", message="max_load must be positive", column="max_load")
        )
    section = data.settings.locate
    candidates = candidates or (section.candidates if section else "accounts")
    sites = candidate_sites(data, candidates)
    settings = _solve_settings(data, time_limit, gap, solver, started, will_write)
    asked = data.settings.solver.time_limit if time_limit is None else time_limit  # for messages
    clock_start = time.perf_counter()
    first = locate_problem(data, sites, 1, max_distance_km=distance, max_load=max_load)
    refuse_unreachable(first, distance)
    lower = load_lower_bound(data, first, max_load)
    spread = spread_units(first)
    checked: list[dict] = []
    if len(spread) > lower:
        reason = spread_text(first, spread, distance)
        checked += [
            {"count": n, "status": "infeasible (spread)", "seconds": 0.0, "reason": reason}
            for n in range(lower, len(spread))
        ]
        lower = len(spread)
    largest = min(len(sites), max_count or len(sites))
    labels, n_islands = islands(first)
    for count in range(lower, largest + 1):
        remaining = settings.time_limit - (time.perf_counter() - clock_start)
        if remaining <= 0:
            raise SolverError(out_of_time(asked, lower, count, checked))
        started = time.perf_counter()
        problem = locate_problem(data, sites, count, max_distance_km=distance, max_load=max_load)
        reason = island_reason(problem, labels, n_islands, count)
        if reason is not None:
            checked.append(
                {"count": count, "status": "infeasible (islands)", "seconds": 0.0, "reason": reason}
            )
            continue
        try:
            result = solve_locate_problem(
                problem, count, replace(settings, time_limit=remaining), progress
            )
        except InfeasibleError as error:
            checked.append(
                {
                    "count": count,
                    "status": "infeasible (proven)",
                    "seconds": round(time.perf_counter() - started, 3),
                    "reason": "; ".join(error.reasons),
                }
            )
            say(f"headcount: {count} bases cannot work (proven infeasible)")
            continue
        except SolverError:
            raise SolverError(out_of_time(asked, lower, count, checked)) from None
        checked.append(
            {
                "count": count,
                "status": result.status,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
        made = _locate_plan(data, sites, problem, result, candidates, started)
        made.summary["headcount"] = {
            "count": count,
            "lower_bound": lower,
            "max_distance_km": problem.max_distance_km,
            "max_load": max_load,
            "checked": checked,
        }
        return Headcount(count=count, plan=made, lower_bound=lower, checked=checked)
    smallest = min([step["count"] for step in checked] + [lower])
    raise InfeasibleError(
        no_count_reasons(first, labels, n_islands, smallest, largest, checked), details=checked
    )
