"""Quotas for a plan: each rep's accounts summed into one row, then :func:`solve_quotas`."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pulp

from ..data import frame_as_text, unique_ids
from ..errors import InputError, Problem, ProblemList
from ..optimize.solvers import make_solver
from ..scenario import QuotaSettings, SolverSettings
from .allocate import QuotaPlan, solve_quotas
from .explain import MESSAGE_LIST_CAP
from .inputs import FEASIBILITY_TOLERANCE, prepare
from .notes import ramp_notes
from .wording import fmt, growth_text


def rep_table(plan: Any, settings: QuotaSettings) -> pd.DataFrame:
    """One row per rep of the plan: its accounts' potential and revenue summed."""
    problems = ProblemList()
    reps = plan.reps
    accounts = plan.accounts
    assignments = plan.assignments
    for name, frame, needed in (
        ("reps", reps, ("rep_id",)),
        ("accounts", accounts, ("account_id",)),
        ("assignments", assignments, ("account_id", "rep_id")),
    ):
        lacking = [c for c in needed if c not in frame.columns]
        if lacking:
            problems.add(name, f"missing column(s) {', '.join(lacking)}")
    problems.raise_if_any()

    # each account has one row and one rep
    for name, frame in (("accounts", accounts), ("assignments", assignments)):
        unique_ids(
            frame_as_text(frame[["account_id"]], name), "account_id", name, problems, "account_id"
        )
    problems.raise_if_any()

    merged = _owned_accounts(accounts, assignments)
    unknown = merged.loc[merged["_merge"] == "left_only", "account_id"]
    for account in sorted(set(unknown))[:MESSAGE_LIST_CAP]:
        problems.add(
            "assignments", f"account '{account}' is not in the accounts", column="account_id"
        )
    rep_ids = reps["rep_id"].astype(str)
    strangers = sorted(set(merged["rep_id"]) - set(rep_ids))
    for rep in strangers[:MESSAGE_LIST_CAP]:
        problems.add("assignments", f"rep '{rep}' is not in the reps", column="rep_id")
    problems.raise_if_any()

    totals = merged.groupby("rep_id", sort=True).agg(
        potential=("potential", "sum"), revenue=("revenue", "sum"), accounts=("account_id", "size")
    )
    table = _rep_columns(reps, rep_ids.to_numpy(), settings).join(totals, on="rep_id")
    table[["potential", "revenue", "accounts"]] = table[
        ["potential", "revenue", "accounts"]
    ].fillna(0.0)
    return table


def _rep_columns(reps: pd.DataFrame, rep_ids, settings: QuotaSettings) -> pd.DataFrame:
    """The reps' columns the quota rules read: rep_id, name, region_id, status and the ramp
    column when the scenario names one (not one of the totals the plan adds)."""
    table = pd.DataFrame({"rep_id": rep_ids})
    for column in ("name", "region_id", "status"):
        if column in reps.columns:
            table[column] = reps[column].to_numpy()
    if (
        isinstance(settings.ramp, str)
        and settings.ramp in reps.columns
        and settings.ramp not in ("rep_id", "potential", "revenue", "accounts")
    ):
        table[settings.ramp] = reps[settings.ramp].to_numpy()
    return table


def reference_problems(reps: pd.DataFrame, settings: QuotaSettings, source: str) -> list:
    """The quota section's references to the reps, checked before any plan is solved: the
    ramp column exists and holds positive numbers, every override names a staying rep, every
    region of ``targets`` is some rep's region_id, overrides fit their target. None of these
    depends on which accounts a rep gets, so a solve is not spent before they are named.

    The checks are :func:`~territory_planner.quota.inputs.prepare`'s own, run on the reps
    with no accounts yet; the problems (``Problem``) are returned, not raised."""
    table = _rep_columns(reps, reps["rep_id"].astype(str).to_numpy(), settings)
    table["potential"] = 0.0
    table["revenue"] = 0.0
    table["accounts"] = 0
    try:
        prepare(table, settings, source)
    except InputError as error:
        return list(error.problems)
    return []


def _owned_accounts(accounts: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The assigned accounts with their rep, potential and revenue (``_merge`` marks the
    assignments whose account is not in the accounts)."""
    values = pd.DataFrame({"account_id": accounts["account_id"].astype(str)})
    for column in ("potential", "revenue"):
        values[column] = (
            pd.to_numeric(accounts[column], errors="coerce").fillna(0.0)
            if column in accounts.columns
            else 0.0
        )
    owned = assignments.loc[assignments["rep_id"].notna(), ["account_id", "rep_id"]].copy()
    owned["account_id"] = owned["account_id"].astype(str)
    owned["rep_id"] = owned["rep_id"].astype(str)
    return owned.merge(values, on="account_id", how="left", indicator=True)


def allocate_quotas(
    plan: Any, settings: QuotaSettings | None = None, *, solver: pulp.LpSolver | None = None
) -> QuotaPlan:
    """Set every rep's quota for a plan (assignments, accounts, reps, scenario).

    ``settings`` defaults to ``plan.scenario.quota``; ``solver`` defaults to an LP solver
    made from ``plan.scenario.solver``. Potential and revenue of each rep's assigned accounts
    are summed (history follows the accounts), then :func:`solve_quotas` sets the quotas;
    the plan's reps (their capacity) give the plan's ``ramp_notes``.
    """
    scenario = getattr(plan, "scenario", None)
    source = str(getattr(scenario, "source", None) or "scenario")
    if settings is None:
        settings = getattr(scenario, "quota", None)
        if settings is None:
            raise InputError(
                Problem(
                    file=source,
                    message="the scenario has no 'quota:' section",
                    column="quota",
                    fix="add e.g. quota: {target: 10000000, method: blend}",
                )
            )
    if solver is None:
        options = getattr(scenario, "solver", None) or SolverSettings()
        solver = make_solver(
            options.name,
            mip=False,
            time_limit=options.time_limit,
            threads=options.threads,
            seed=options.seed,
        )
    quota_plan = solve_quotas(rep_table(plan, settings), settings, solver, source=source)
    quota_plan.ramp_notes = ramp_notes(plan.reps, settings)
    return quota_plan


def floors_above_target(accounts: pd.DataFrame, reps: pd.DataFrame, settings: QuotaSettings):
    """The reason (a sentence) when growth floors alone exceed a company target, or None.

    Each rep's floor is L_j = R_j (1 + min_growth), R_j its territory's revenue last year
    (quota/shares.growth_bounds). Every account goes to some staying rep, so
    sum_j L_j = (1 + min_growth) * (total revenue of the accounts), whoever owns which
    account: when that exceeds the target, no plan's quotas can add up to it, and it is
    said before the territories are solved. Only for a company target without overrides:
    an override takes its rep's revenue out of the sum, and which revenue that is depends
    on the plan (then quota/explain.py says it after the solve, with the binding reps)."""
    if settings.target is None or settings.overrides or settings.min_growth is None:
        return None
    staying = reps["status"].astype(str).ne("leaving") if "status" in reps.columns else None
    if staying is not None and not staying.any():
        return None
    revenue = float(accounts["revenue"].astype(float).clip(lower=0.0).sum())
    floors = revenue * (1.0 + settings.min_growth)
    if floors <= settings.target * (1.0 + FEASIBILITY_TOLERANCE) + FEASIBILITY_TOLERANCE:
        return None
    return (
        f"quotas cannot add up to the target {fmt(settings.target)}: every rep's quota is at "
        f"least its territory's revenue last year * {growth_text(settings.min_growth)}, and "
        f"the accounts' revenue is {fmt(revenue)}, so the quotas add up to at least "
        f"{fmt(floors)} whoever owns which account (fix: lower min_growth, raise the target "
        "or override a rep)"
    )
