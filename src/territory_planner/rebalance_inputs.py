"""The changes a re-balance applies to a plan's reps: hires read and validated like a reps
file, departures, capacity changes; every problem reported at once (rebalance.py uses them)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from .arguments import check_share, check_time_limit
from .data import REP_ALIASES, canonical_columns, frame_as_text, normalize_reps, read_table
from .data.owners import case_twin
from .errors import InputError, ProblemList
from .plan import Plan


def read_hires(hires: pd.DataFrame | str | Path, problems: ProblemList) -> pd.DataFrame | None:
    """New reps, read and validated like a reps file; a blank or missing status is ``new``."""
    if isinstance(hires, pd.DataFrame):
        name = "hires (in memory)"
        raw = frame_as_text(hires, name)
    else:
        name = str(hires)
        raw = read_table(hires, problems)
        if raw is None:
            return None
    frame = canonical_columns(raw, REP_ALIASES, name, problems)
    if "status" not in frame.columns:
        frame["status"] = "new"
    else:
        frame["status"] = frame["status"].where(
            frame["status"].astype(str).str.strip() != "", "new"
        )
    reps = normalize_reps(frame, name, problems)
    reps.attrs["file"] = name
    return reps


def changed_reps(
    plan: Plan, hires, leaves: Iterable[str], capacities: dict[str, float], problems: ProblemList
) -> pd.DataFrame:
    """The plan's reps with the hires added, the leavers marked ``leaving`` and the new
    capacities; unknown reps, clashing hires and bad capacities go to ``problems``.

    A hire whose rep_id is a rep the plan has as ``leaving`` is a re-hire: the hire's row
    replaces that rep's (a rep who left in an earlier re-balance stays in the plan, with
    nothing, and could otherwise never come back under the ID the CRM still has).
    ``attrs["sources"]`` names each row's origin, file and row, for :func:`named_by_source`.
    """
    reps = plan.reps.copy()
    plan_file = str(plan.files.get("reps", "the plan's reps"))
    sources = [(plan_file, row) for row in range(2, len(reps) + 2)]
    if hires is not None:
        new = read_hires(hires, problems)
        if new is not None:
            hire_file = new.attrs.get("file", "hires")
            hire_rows = new.attrs.get("rows")
            hire_rows = (
                list(hire_rows.values)
                if hire_rows is not None and len(hire_rows) == len(new)
                else list(range(2, len(new) + 2))
            )
            leaving = set(reps.loc[reps["status"] == "leaving", "rep_id"])
            for rep_id in sorted(set(new["rep_id"].dropna()) & set(reps["rep_id"])):
                if rep_id in leaving:
                    continue
                problems.add(
                    hire_file,
                    f"rep {rep_id} is already in the plan",
                    row=hire_rows[list(new["rep_id"]).index(rep_id)],
                    column="rep_id",
                    fix="give the hire a new rep_id (a rep can be hired again only once the "
                    "plan has it as leaving)",
                )
            rehired = reps["rep_id"].isin(set(new["rep_id"]) & leaving).to_numpy()
            sources = [s for s, gone in zip(sources, rehired) if not gone]
            reps = pd.concat([reps[~rehired], new], ignore_index=True)
            sources += [(hire_file, int(row)) for row in hire_rows]
    known = set(reps["rep_id"])
    for rep_id in leaves:
        if rep_id not in known:
            problems.add(
                "--leave",
                f"rep {rep_id} is not in the plan",
                fix=_unknown_rep_fix(rep_id, known, f"use one of {_some(known)}"),
            )
    reps.loc[reps["rep_id"].isin(list(leaves)), "status"] = "leaving"
    for rep_id, capacity in capacities.items():
        if rep_id not in known:
            problems.add(
                "--capacity",
                f"rep {rep_id} is not in the plan (or the hires)",
                fix=_unknown_rep_fix(rep_id, known, "check the rep_id"),
            )
            continue
        if not (isinstance(capacity, (int, float)) and math.isfinite(capacity) and capacity > 0):
            problems.add(
                "--capacity",
                f"capacity of {rep_id} must be a number above 0, got {capacity!r}",
                fix="e.g. --capacity R07=0.5",
            )
            continue
        reps.loc[reps["rep_id"] == rep_id, "capacity"] = float(capacity)
    reps.attrs["sources"] = sources
    return reps


def _some(rep_ids: set) -> str:
    return ", ".join(sorted(map(str, rep_ids))[:10])


def _unknown_rep_fix(rep_id: str, known: set, otherwise: str) -> str:
    """'did you mean R07?' for an ID that is a rep's but for its case (IDs are
    case-sensitive, so it is not read as that rep), else ``otherwise``."""
    twin = case_twin(rep_id, known)
    return f"did you mean '{twin}'? rep IDs are case-sensitive" if twin else otherwise


def named_by_source(error: InputError, reps: pd.DataFrame, reps_file: str) -> InputError:
    """``error`` (the checks of the re-balanced reps, one frame read from memory as
    ``reps_file``) with each problem of a row named by the file and row it came from (a
    hire: its file and row), and the check that someone stays named after ``--leave``."""
    sources = reps.attrs.get("sources")
    if not sources:
        return error
    named = []
    for problem in error.problems:
        if problem.file == reps_file and problem.row is not None and problem.row >= 2:
            file, row = sources[problem.row - 2]
            problem = replace(problem, file=file, row=row)
        elif problem.file == reps_file and problem.column == "status":
            problem = replace(problem, file="--leave", column=None)
        named.append(problem)
    return InputError(named)


def leaving_ids(leaves: Iterable[str] | str) -> list[str]:
    """The leaving reps' IDs; a single ID given as a string is that rep (iterated, 'R07'
    would be three reps R, 0 and 7, and 'AB' two reps who exist)."""
    return [leaves] if isinstance(leaves, str) else [str(r) for r in leaves]


def check_arguments(plan, hires, time_limit, tradeoff) -> None:
    """Refuse what the CLI's options cannot express (InputError, every problem at once):
    a plan that is neither a Plan nor a folder path, hires that are neither a table nor a
    path, a time limit that is not a positive number, trade-off budgets outside 0..1."""
    problems = ProblemList()
    if not isinstance(plan, (Plan, str, Path)):
        problems.add(
            "plan",
            f"rebalance needs a Plan or a plan folder path, got {type(plan).__name__}",
            fix="plan(scenario) for a Plan, or the folder 'territory-planner plan --out' wrote",
        )
    if hires is not None and not isinstance(hires, (pd.DataFrame, str, Path)):
        problems.add(
            "hires",
            "rebalance needs the hires as a DataFrame or a CSV/XLSX path, "
            f"got {type(hires).__name__}",
            fix="one row per hire: pd.DataFrame([{'rep_id': 'R09', 'lat': 52.5, 'lon': 13.4}])",
        )
    check_time_limit(time_limit, problems)
    if tradeoff is not None and not isinstance(tradeoff, bool):
        if isinstance(tradeoff, (str, bytes)) or not isinstance(tradeoff, Iterable):
            problems.add(
                "tradeoff",
                f"must be True or a list of budget shares, got {type(tradeoff).__name__}",
                fix="e.g. [0.05, 0.1, 0.2]",
            )
        else:
            for budget in tradeoff:
                check_share(budget, problems, "tradeoff")
    problems.raise_if_any()
