"""Making a plan: read -> build -> optimise -> evaluate (-> quotas).

This module is also the one address of the plan API: the Plan object (plan_folder.py), its
quotas (plan_quotas.py) and the formula-safe CSV and whole-or-nothing folder writers
(outputs.py, folders.py) are importable from here as well.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .arguments import refuse_bad_time_limit
from .data import ScenarioData, load_data, load_scenario
from .errors import InfeasibleError, ProblemList
from .evaluate import assignment_frame, kpis, territory_frame, today_kpis
from .folders import check_output_folder, write_folder_atomically
from .optimize.region_solve import solve_regions
from .optimize.strategy import SolveSettings, solve_assignment
from .outputs import neutralise_formulas, restore_formulas, write_csv
from .plan_folder import PLAN_FILES, Plan
from .plan_quotas import apply_quotas, requota
from .problem import build_problem
from .regions import build_region_problem, region_summary, regions_table
from .scenario import Scenario

__all__ = [
    "PLAN_FILES",
    "Plan",
    "apply_quotas",
    "check_hierarchy",
    "check_output_folder",
    "evaluate_assignment",
    "neutralise_formulas",
    "plan",
    "plan_from_problem_data",
    "plan_summary",
    "requota",
    "restore_formulas",
    "scenario_data",
    "solve_geography",
    "write_csv",
    "write_folder_atomically",
]


def scenario_data(scenario: ScenarioData | Scenario | str | Path) -> ScenarioData:
    """A scenario file, validated settings or prepared data, as prepared data."""
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    if isinstance(scenario, Scenario):
        return load_data(scenario)
    return scenario


#: writing a plan folder (workbook, map, CSVs) takes about this long, per account and once
#: (its imports): 8-12 s at 10,000 accounts as measured; the solve leaves that much
#: of the limit
WRITE_SECONDS_PER_ACCOUNT, WRITE_SECONDS_ONCE = 1e-3, 2.0
#: the most of the time limit kept back for writing: the solve has the rest
WRITE_SHARE_LIMIT = 0.2


def write_reserve(data: ScenarioData, time_limit: float) -> float:
    """Seconds of the time limit kept back for writing the plan folder (an allowance from
    the number of accounts, at most WRITE_SHARE_LIMIT of the limit)."""
    need = WRITE_SECONDS_ONCE + WRITE_SECONDS_PER_ACCOUNT * len(data.accounts)
    return min(need, WRITE_SHARE_LIMIT * time_limit)


def solve_time_left(
    data: ScenarioData, time_limit: float | None, started: float | None, will_write: bool
) -> float:
    """Seconds a solve may take when the user's limit (``time_limit``, else the scenario's)
    holds end to end: less what was spent since ``started`` (a ``perf_counter()``; None:
    nothing yet) and, when the caller writes a plan folder next, the write_reserve. For the
    commands whose solvers start their clock when called (locate, headcount, evaluate)."""
    limit = data.settings.solver.time_limit if time_limit is None else float(time_limit)
    spent = 0.0 if started is None else time.perf_counter() - started
    reserve = write_reserve(data, limit) if will_write else 0.0
    return max(limit - reserve - spent, 0.0)


def plan(
    scenario: ScenarioData | Scenario | str | Path,
    *,
    time_limit: float | None = None,
    gap: float | None = None,
    solver: str | None = None,
    progress: Callable[[str], None] | None = None,
    started: float | None = None,
    will_write: bool = False,
) -> Plan:
    """Solve a scenario into a Plan: read -> build -> optimise -> evaluate (-> quotas).

    ``started`` (a ``perf_counter()``): when the user's time limit began, so reading counts
    against it (default: once the data is read); ``will_write``: the caller writes the plan
    folder next, so the solve ends early enough for that to fit in the limit too."""
    refuse_bad_time_limit(time_limit)  # before reading: as the CLI does
    data = scenario_data(scenario)
    settings = data.settings
    overrides = {
        k: v
        for k, v in {"time_limit": time_limit, "gap": gap, "name": solver}.items()
        if v is not None
    }
    if overrides:
        settings = settings.model_copy(
            update={"solver": settings.solver.model_copy(update=overrides)}
        )
        data = ScenarioData(
            settings=settings,
            accounts=data.accounts,
            reps=data.reps,
            regions=data.regions,
            files=data.files,
        )
    solve_settings = None
    if started is not None or will_write:
        limit = settings.solver.time_limit
        reserve = write_reserve(data, limit) if will_write else 0.0
        solve_settings = SolveSettings.from_scenario(
            settings.solver, time_limit=limit - reserve, started=started
        )
    return plan_from_problem_data(data, progress=progress, solve_settings=solve_settings)


def evaluate_assignment(
    data: ScenarioData, problem, unit_rep: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(assignments, territories, KPIs) of a solved assignment (rep position per unit)."""
    rep_of_unit = problem.rep_ids[unit_rep]
    rep_of_account = pd.Series(rep_of_unit[problem.account_unit], index=problem.account_ids)
    assignments = assignment_frame(data.accounts, data.reps, rep_of_account)
    metrics = [rule.metric for rule in data.settings.balance]
    territories = territory_frame(assignments, data.accounts, data.reps, metrics)
    numbers = kpis(assignments, territories, data.accounts, data.settings.balance)
    return assignments, territories, numbers


def plan_summary(
    data: ScenarioData, result, numbers: dict, solver: dict, extra: dict | None = None
) -> dict:
    """summary.json of a solved plan: status, objective, proven bound and gap, the KPIs
    (``numbers``), the solver's facts (``solver``, after its name), the inputs' sizes, then
    ``extra`` (what a rebalance adds); ``total_seconds`` is set when the plan is complete."""
    settings = data.settings
    return {
        "scenario": settings.name,
        "status": result.status,
        "objective": result.objective,
        "lower_bound": result.lower_bound,
        "gap": result.gap,
        **numbers,
        "today": today_kpis(data, result.lower_bound),
        "solver": {"name": settings.solver.name, **solver},
        "inputs": {"accounts": int(len(data.accounts)), "reps": int(len(data.reps))},
        "objective_weights": settings.objective.model_dump(),
        **(extra or {}),
        "version": __version__,
        "total_seconds": None,
    }


def solve_geography(geography, problem, settings: SolveSettings, progress=None, **starts):
    """Geography mode's connected solve of ``problem`` over the map of ``geography`` (a
    RegionProblem): its own problem, or one with other objective terms over the same units
    (a re-balance's disruption steps); ``starts`` are solve_regions' ``start`` / ``seed``."""
    return solve_regions(
        problem,
        geography.neighbours,
        geography.n_regions,
        settings,
        contiguous=geography.contiguous,
        homes=geography.home_region,
        progress=progress,
        **starts,
    )


def check_hierarchy(data: ScenarioData) -> None:
    """The scenario's references to the reps that no solve changes, all named at once
    (InputError) before any solve: every ``hierarchy`` level names a column of the reps, and
    the ``quota:`` section's ramp column, overrides and per-region targets match the reps
    (quota/from_plan.py reference_problems). ``validate`` runs the same check. Then
    InfeasibleError when the growth floors alone exceed a company quota target
    (quota/from_plan.floors_above_target), which no plan can change."""
    problems = ProblemList()
    for level in data.settings.hierarchy:
        if level not in data.reps.columns:
            problems.add(
                str(data.files.get("reps", "reps")),
                f"hierarchy level '{level}' is not a column of the reps",
                row=1,
                column=level,
                fix="add the column to the reps file or remove it from 'hierarchy'",
            )
    if data.settings.quota is not None:
        from .quota.from_plan import reference_problems

        source = str(data.settings.source or "scenario")
        problems.extend(reference_problems(data.reps, data.settings.quota, source))
    problems.raise_if_any()
    if data.settings.quota is not None:
        from .quota.from_plan import floors_above_target

        # the growth floors' sum does not depend on the plan: said before it is solved
        reason = floors_above_target(data.accounts, data.reps, data.settings.quota)
        if reason is not None:
            raise InfeasibleError(reason, [{"kind": "quota_floors_above_target"}])


def plan_from_problem_data(
    data: ScenarioData,
    *,
    progress=None,
    problem=None,
    solve_settings: SolveSettings | None = None,
    extra_summary: dict | None = None,
) -> Plan:
    """Solve prepared data (optionally a prepared problem) and assemble the Plan."""
    started = time.perf_counter()
    settings = data.settings
    check_hierarchy(data)
    built = time.perf_counter()
    geography = None
    if problem is None and settings.unit == "region":
        geography = build_region_problem(data)
        problem = geography.problem
    problem = problem if problem is not None else build_problem(data)
    build_seconds = time.perf_counter() - built
    solve_settings = solve_settings or SolveSettings.from_scenario(settings.solver)
    if solve_settings.started is None:
        # the time limit covers building the problem too: the user waits for both
        solve_settings = dataclasses.replace(solve_settings, started=started)
    if geography is not None:
        result = solve_geography(geography, problem, solve_settings, progress=progress)
        extra_summary = {**(extra_summary or {}), **region_summary(geography, geography.contiguous)}
    else:
        result = solve_assignment(problem, solve_settings, progress=progress)
    assignments, territories, numbers = evaluate_assignment(data, problem, result.unit_rep)
    summary = plan_summary(
        data,
        result,
        numbers,
        solver={
            "seconds": round(result.seconds, 3),
            "build_seconds": round(build_seconds, 3),
            "time_limit": settings.solver.time_limit,
            "gap_target": settings.solver.gap,
            "candidate_pairs": result.candidate_pairs,
            "allowed_pairs": result.total_pairs,
            "phases": result.phases,
        },
        extra=extra_summary,
    )
    made = Plan(
        scenario=settings,
        accounts=data.accounts,
        reps=data.reps,
        regions=data.regions,
        assignments=assignments,
        territories=territories,
        summary=summary,
        files=dict(data.files),
    )
    if geography is not None:
        made.extra_files["regions.csv"] = regions_table(geography, result.unit_rep)
    if settings.quota is not None:
        apply_quotas(made, settings.quota)
    summary["total_seconds"] = round(time.perf_counter() - started, 3)
    return made
