"""Score any assignment against the scenario's proven bound, without optimising it.

"How bad are today's territories, and how much better could they be?" The assignment is
today's owners (``current_rep_id``) or a file of ``account_id,rep_id`` pairs (or the
accounts file's own names, ``Id,OwnerId``), such as a plan a planner edited in Excel. It is
judged by the same numbers as a solved plan (evaluate.py), and the scenario is solved within
its time limit for the one thing an assignment cannot give itself: a lower bound the solver
proved. The gap of the assignment to that bound (docs/design.md section 3: ``(objective - bound) /
|objective|``) says how much more it costs than any plan holding the bands could.

A file is refused (every problem at once, nothing written) when it names an unknown account
or rep, misses an account or lists one twice, or moves a locked account. Broken bands and
rules are the point of scoring and are reported, never refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .arguments import refuse_bad_time_limit
from .data import ACCOUNT_ALIASES, REP_ALIASES, ScenarioData, header_key, read_table
from .data.owners import rep_ids_of
from .errors import InfeasibleError, ProblemList, SolverError
from .evaluate import assignment_frame, assignment_objective, kpis, score_gap, territory_frame
from .optimize.contiguity import adjacency_matrix, territory_pieces
from .optimize.strategy import SolveSettings, solve_assignment
from .outputs import source_names
from .plan import (
    Plan,
    apply_quotas,
    check_hierarchy,
    plan_summary,
    scenario_data,
    solve_geography,
    solve_time_left,
)
from .problem import build_problem
from .regions import REGION_PREFIX, build_region_problem
from .scenario import Scenario

TODAY = "today's owners"
LISTED_PER_DEFECT = 25  # accounts named per kind of defect before the rest are counted


@dataclass
class Score:
    """What summary.json says of an evaluated assignment (plan_summary's ``result``)."""

    objective: float
    lower_bound: float | None
    gap: float | None
    status: str = "evaluated"


def evaluate(
    scenario: ScenarioData | Scenario | str | Path,
    assignments: str | Path | pd.DataFrame | None = None,
    *,
    time_limit: float | None = None,
    progress: Callable[[str], None] | None = None,
    started: float | None = None,
    will_write: bool = False,
) -> Plan:
    """Score an assignment (default: today's owners) as a Plan with status ``evaluated``.

    ``assignments`` is a CSV/XLSX path or a DataFrame with an account and a rep column (see
    :func:`read_assignment`). The summary carries the assignment's objective, the scenario's
    proven lower bound (None, with the reason, when the scenario is infeasible or the solver
    proves nothing in time) and the gap between them. ``started`` and ``will_write``: the
    limit holds end to end, as for plan() (plan.solve_time_left).
    """
    refuse_bad_time_limit(time_limit)  # before reading: as the CLI does
    data = scenario_data(scenario)
    check_hierarchy(data)
    say = progress or (lambda message: None)
    if assignments is None:
        rep_of_account, label = today_owners(data), TODAY
    else:
        rep_of_account = read_assignment(assignments, data)
        label = str(assignments) if not isinstance(assignments, pd.DataFrame) else "in memory"
    began = time.perf_counter()
    # geography mode: the bound of connected territories of whole regions, and its rules
    geography = build_region_problem(data) if data.settings.unit == "region" else None
    problem = geography.problem if geography is not None else build_problem(data)
    left = solve_time_left(data, time_limit, started, will_write)
    settings = SolveSettings.from_scenario(data.settings.solver, time_limit=left)
    say(f"solving the scenario for its proven lower bound ({settings.time_limit:.1f} s at most)")
    bound, solver = proven_bound(problem, settings, geography)
    metrics = [rule.metric for rule in data.settings.balance]
    frame = assignment_frame(data.accounts, data.reps, rep_of_account)
    territories = territory_frame(frame, data.accounts, data.reps, metrics)
    numbers = kpis(frame, territories, data.accounts, data.settings.balance)
    objective = round(
        assignment_objective(data.accounts, data.reps, rep_of_account, data.settings.objective), 6
    )
    score = Score(objective=objective, lower_bound=bound, gap=score_gap(objective, bound))
    summary = plan_summary(
        data,
        score,
        numbers,
        solver={"seconds": round(time.perf_counter() - began, 3), **solver},
        extra={
            "evaluated": {
                "assignment": label,
                "rules_broken": rules_broken(problem, data, rep_of_account, geography),
            }
        },
    )
    made = Plan(
        scenario=data.settings,
        accounts=data.accounts,
        reps=data.reps,
        regions=data.regions,
        assignments=frame,
        territories=territories,
        summary=summary,
        files=dict(data.files),
    )
    if data.settings.quota is not None:
        apply_quotas(made, data.settings.quota)  # the evaluated territories get quotas too
    summary["total_seconds"] = round(time.perf_counter() - began, 3)
    return made


def proven_bound(problem, settings: SolveSettings, geography=None) -> tuple[float | None, dict]:
    """The scenario's proven lower bound (the engine's solve within the time limit: the
    priced LP relaxation, raised by the MILP when it proves more; in geography mode, with
    ``geography``, the connected solve's bound over whole regions) and the solver's facts.

    No bound exists when no plan can hold the rules (the reasons are returned) or when the
    solver proves nothing in time; it is then None, never an estimate.
    """
    facts = {"time_limit": settings.time_limit, "gap_target": settings.gap}
    try:
        if geography is not None:
            result = solve_geography(geography, problem, settings)
        else:
            result = solve_assignment(problem, settings)
    except InfeasibleError as error:
        return None, {
            **facts,
            "bound": "none: the scenario is infeasible",
            "reasons": error.reasons,
        }
    except SolverError as error:
        return None, {**facts, "bound": f"none: {error}"}
    return float(result.lower_bound), {
        **facts,
        "bound": "proven by the solver",
        "best_plan_objective": result.objective,
        "best_plan_gap": round(result.gap, 9),
        "best_plan_status": result.status,
    }


def today_owners(data: ScenarioData) -> pd.Series:
    """``account_id -> current_rep_id``; InputError naming every account without one."""
    accounts = data.accounts
    blank = accounts["current_rep_id"].isna()
    if blank.any():
        owner = _input_name(accounts, "current_rep_id")
        problems = ProblemList()
        rows = _account_rows(accounts)
        for count, position in enumerate(np.flatnonzero(blank.to_numpy())):
            if count == LISTED_PER_DEFECT:
                problems.add(
                    str(data.files.get("accounts", "accounts")),
                    f"{int(blank.sum()) - count} more accounts without an owner",
                    column=owner,
                )
                break
            problems.add(
                str(data.files.get("accounts", "accounts")),
                f"account {accounts['account_id'].iloc[position]} has no owner today, "
                "so today's territories cannot be scored",
                row=int(rows[position]),
                column=owner,
                fix="fill in the owner, or score a file of account,rep pairs with --assignments",
            )
        problems.raise_if_any()
    return accounts.set_index("account_id")["current_rep_id"]


def _account_rows(accounts: pd.DataFrame) -> np.ndarray:
    rows = accounts.attrs.get("rows")
    if rows is None or len(rows) != len(accounts):
        return np.arange(2, len(accounts) + 2)
    return np.asarray(list(rows))


def _input_name(accounts: pd.DataFrame, column: str) -> str:
    """The accounts file's own name for a canonical column (``OwnerId``)."""
    return next((o for o, c in source_names(accounts).items() if c == column), column)


# --------------------------------------------------------------------------- the file


def _find_column(frame: pd.DataFrame, names: list[str]) -> str | None:
    """The first of ``names`` that is a column of ``frame``, compared as the accounts file's
    headers are (header_key: letters and digits, any case)."""
    keyed = {header_key(c): c for c in frame.columns}
    return next((keyed[header_key(n)] for n in names if header_key(n) in keyed), None)


def assignment_columns(
    frame: pd.DataFrame, accounts: pd.DataFrame
) -> tuple[str | None, str | None]:
    """(account column, rep column) of an assignment file.

    Account: ``account_id``, else the accounts file's own ID name, else an alias. Rep:
    ``rep_id`` (a plan folder's assignments.csv, whose owner column still holds today's
    owners), else the accounts file's own owner name (``OwnerId``), else an alias.
    """
    account = _find_column(
        frame, ["account_id", _input_name(accounts, "account_id"), *ACCOUNT_ALIASES["account_id"]]
    )
    rep = _find_column(
        frame,
        [
            "rep_id",
            _input_name(accounts, "current_rep_id"),
            "current_rep_id",
            *ACCOUNT_ALIASES["current_rep_id"],
        ],
    )
    return account, rep


def read_assignment(source: str | Path | pd.DataFrame, data: ScenarioData) -> pd.Series:
    """``account_id -> rep_id`` from a file or frame; InputError listing every problem:
    a missing column, a blank, unknown or repeated account, a blank or unknown rep, a locked
    account given to another rep, and every account of the scenario the file leaves out."""
    problems = ProblemList()
    if isinstance(source, pd.DataFrame):
        name = "assignments (in memory)"
        frame = source.astype(object).where(source.notna(), "").astype(str)
        frame.index = range(2, len(frame) + 2)
    else:
        name = str(source)
        frame = read_table(source, problems)
        problems.raise_if_any()
    account_column, rep_column = assignment_columns(frame, data.accounts)
    accepted = {
        "account": ", ".join(["account_id", *ACCOUNT_ALIASES["account_id"]]),
        "rep": ", ".join(["rep_id", *REP_ALIASES["rep_id"]]),
    }
    for kind, column in (("account", account_column), ("rep", rep_column)):
        if column is None:
            problems.add(
                name,
                f"no {kind} column",
                row=1,
                fix=f"name it one of: {accepted[kind]} (or the accounts file's own name)",
            )
    problems.raise_if_any()
    accounts = frame[account_column].astype(str).str.strip()
    # a CRM export names the owner (or its other Salesforce ID form): read it as the rep
    reps, shared = rep_ids_of(frame[rep_column].astype(str).str.strip(), data.reps)
    for row, value, holders in zip(reps.index, frame[rep_column], shared):
        if holders:
            problems.add(
                name,
                f"the rep's name '{value}' belongs to several reps ({holders})",
                row=int(row),
                column=rep_column,
                fix="give the rep_id instead of the name",
            )
    clear = shared.eq("")  # a shared name is reported once, above
    _check_rows(accounts[clear], reps[clear], data, name, account_column, rep_column, problems)
    listed = set(accounts[accounts.ne("")])
    missing = [a for a in data.accounts["account_id"] if a not in listed]
    for count, account in enumerate(missing):
        if count == LISTED_PER_DEFECT:
            problems.add(
                name, f"{len(missing) - count} more accounts have no row", column=account_column
            )
            break
        problems.add(
            name,
            f"account {account} of the scenario has no row",
            column=account_column,
            fix="give every account a rep",
        )
    problems.raise_if_any()
    return pd.Series(reps.to_numpy(), index=accounts.to_numpy())


def _check_rows(
    accounts: pd.Series,
    reps: pd.Series,
    data: ScenarioData,
    name: str,
    account_column: str,
    rep_column: str,
    problems: ProblemList,
) -> None:
    """One problem per bad row (the index holds the spreadsheet's row numbers)."""
    known_accounts = data.accounts.set_index("account_id")
    known_reps = set(data.reps["rep_id"])
    first_row: dict[str, int] = {}
    for row, account, rep in zip(accounts.index, accounts, reps):
        row = int(row)
        if not account:
            problems.add(name, "the account is blank", row=row, column=account_column)
            continue
        if account in first_row:
            problems.add(
                name,
                f"account {account} is listed twice (first on row {first_row[account]})",
                row=row,
                column=account_column,
                fix="give each account one rep",
            )
            continue
        first_row[account] = row
        if account not in known_accounts.index:
            problems.add(
                name,
                f"account {account} is not in the scenario's accounts",
                row=row,
                column=account_column,
            )
            continue
        if not rep:
            problems.add(name, f"account {account} has no rep", row=row, column=rep_column)
        elif rep not in known_reps:
            problems.add(
                name,
                f"rep {rep} is not in the scenario's reps",
                row=row,
                column=rep_column,
                fix="use a rep_id of the reps file",
            )
        elif (
            known_accounts.at[account, "locked"]
            and rep != known_accounts.at[account, "current_rep_id"]
        ):
            problems.add(
                name,
                f"account {account} is locked to {known_accounts.at[account, 'current_rep_id']} "
                f"but is given to {rep}",
                row=row,
                column=rep_column,
                fix="keep a locked account with its owner, or unlock it in the accounts file",
            )


# --------------------------------------------------------------------------- rules


def rules_broken(problem, data: ScenarioData, rep_of_account: pd.Series, geography=None) -> dict:
    """The scenario's rules an assignment breaks, beside its bands (which kpis reports):
    accounts with a rep the rules do not allow (segment, region, max distance), keep-together
    groups split between reps, accounts left with a leaving rep, and the potential moved
    beyond the disruption budget. Each lists the first accounts (or groups) concerned. In
    geography mode (``geography``, whose problem ``problem`` is) the units are regions:
    regions whose accounts are split between reps, and territories in pieces
    (territories_in_pieces)."""
    rep_position = {rep: j for j, rep in enumerate(problem.rep_ids)}
    account_rep = np.array(
        [rep_position.get(rep_of_account.get(a), -1) for a in problem.account_ids], dtype=int
    )
    leaving = problem.account_ids[account_rep < 0]
    not_allowed: list[str] = []
    split: list[str] = []
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        for row, unit in enumerate(units.tolist()):
            members = problem.unit_members[unit]
            reps = account_rep[members]
            if len(set(reps.tolist())) > 1:
                split.append(str(problem.unit_ids[unit]).removeprefix("group:"))
            for account, j in zip(members.tolist(), reps.tolist()):
                if j >= 0 and not allowed[row, j]:
                    not_allowed.append(str(problem.account_ids[account]))
    moved = float(
        data.accounts.loc[
            data.accounts["current_rep_id"].ne(data.accounts["account_id"].map(rep_of_account)),
            "potential",
        ].sum()
    )
    budget = problem.max_moved_potential
    broken = {
        "not_allowed_pairs": _listed(not_allowed),
        "groups_split": _listed(split),
        "with_leaving_reps": _listed([str(a) for a in leaving]),
        "moved_potential_over_budget": (
            round(max(0.0, moved - budget), 6) if budget is not None else None
        ),
    }
    if geography is not None:
        broken["regions_split"] = _listed([r.removeprefix(REGION_PREFIX) for r in split])
        broken["groups_split"] = _listed([])
        if geography.contiguous:
            pieces = territories_in_pieces(geography, account_rep)
            broken["territories_in_pieces"] = _listed(pieces)
    return broken


def territories_in_pieces(geography, account_rep: np.ndarray) -> list[str]:
    """The reps whose regions (every region where they hold an account that follows it) lie
    in more than one piece of the map even when the regions without accounts, which an
    assignment of accounts leaves to no one, may join them: such a territory is in pieces
    whoever gets the empty regions."""
    problem, n = geography.problem, geography.n_regions
    graph = adjacency_matrix(geography.neighbours, n)
    held = [set() for _ in range(problem.n_reps)]
    for u in range(n):
        for j in set(account_rep[problem.unit_members[u]].tolist()) - {-1}:
            held[j].add(u)
    empty = {u for u in range(n) if len(problem.unit_members[u]) == 0}
    broken = []
    for j, regions in enumerate(held):
        if not regions:
            continue
        pieces = territory_pieces(graph, np.array(sorted(regions | empty), dtype=int))
        if sum(1 for piece in pieces if regions & set(piece.tolist())) > 1:
            broken.append(str(problem.rep_ids[j]))
    return broken


def _listed(items: list[str]) -> dict:
    return {"count": len(items), "first": items[:LISTED_PER_DEFECT]}
