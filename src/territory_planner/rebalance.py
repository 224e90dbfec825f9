"""Re-balance a plan after hiring changes, with as few account moves as possible.

A rep leaves, two are hired, one goes part-time: the team needs balanced territories again
and a list of exactly what moves. :func:`rebalance` takes a solved :class:`Plan` (its owners
become the current owners), applies the changes and solves again:

* **Leaving reps** get status ``leaving``: they own nothing afterwards, so their accounts must
  move (build_problem drops them from the eligible reps).
* **Hires** are read and validated exactly like a reps file (aliases, defaults, row numbers in
  every error); their status defaults to ``new``.
* **Capacities** replace the listed reps' capacity (a part-time rep: 0.5).

Objective (lexicographic unless the scenario weights say otherwise):

1. *Disruption first.* Minimise ``D(x) = sum of potential that changes owner + eps * (number
   of accounts that change owner)`` subject to the balance bands, the rules and the budget
   ``--max-moved-share``. The small per-account ``eps`` (``MOVE_PENALTY`` x total potential /
   number of accounts, so moving *every* account costs 0.01% of total potential extra) makes
   an account with zero potential still count, so nothing moves without a reason. The solve
   proves a lower bound ``LB`` on ``D``; because ``eps * accounts moved <= eps * N``, every
   feasible plan moves at least ``LB - eps * N`` potential, and at least the potential the
   departures force: the larger of the two is the bound reported in summary.json's
   ``disruption`` section (``bound``, with ``gap`` = (moved - bound) / moved).
2. *Travel second.* Minimise travel subject to the same rules and ``D(x) <= D* (1 + 1e-6) +
   eps / 2`` (the budget row counts ``potential + eps`` per moved account), where ``D*`` is
   what step 1 achieved. The ``eps / 2`` slack admits no extra move.

When the scenario sets a positive ``objective.disruption`` weight the planner has chosen an
exchange rate between travel and disruption: step 2 then minimises ``travel_weight * travel +
disruption_weight * D`` under the user's budget only, and step 1 still runs to report the
proven bound on disruption.

``moves.csv`` explains each move with one rule: ``leaving rep`` when the previous owner leaves;
otherwise ``balance`` when the previous or the new owner was outside its band on any balance
metric *before* the move (the old territories measured against the new targets, so a hire or
a capacity change counts); otherwise ``travel``.

The optional trade-off curve (:func:`tradeoff_curve`, in tradeoff_curve.py) solves, for a few
disruption budgets, the best balance reachable.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .data import ScenarioData, load_data
from .data.owners import new_owners_as_written
from .errors import InfeasibleError, InputError, ProblemList, SolverError
from .evaluate import assignment_frame, territory_frame
from .optimize.results import AssignmentResult, relative_gap
from .optimize.settings import TINY, Clock, SolveSettings
from .optimize.strategy import solve_assignment
from .plan import Plan, apply_quotas, evaluate_assignment, plan_summary, write_reserve
from .problem import PlanningProblem, build_problem
from .rebalance_inputs import (
    changed_reps,
    check_arguments,
    leaving_ids,
    named_by_source,
    read_hires,
)
from .tradeoff_curve import TRADEOFF_BUDGETS, forced_moved_potential, tradeoff_curve

#: eps per moved account, as a share of total potential spread over all accounts
MOVE_PENALTY = 1e-4
#: relative slack on the disruption optimum when travel is minimised second
DISRUPTION_SLACK = 1e-6
#: MIP gap for the disruption step: eps is tiny, so a loose gap would let stray moves through
DISRUPTION_GAP = 1e-5
#: step 1's share of the time left (module docstring): moved potential comes first
LEAST_DISRUPTION_SHARE = 0.5

__all__ = [
    "rebalance",
    "tradeoff_curve",
    "forced_moved_potential",
    "read_hires",
    "MOVE_PENALTY",
    "TRADEOFF_BUDGETS",
]


# --------------------------------------------------------------------------- the problem


@dataclass
class DisruptionProblem(PlanningProblem):
    """A PlanningProblem whose disruption also counts ``move_penalty`` per moved account.

    ``budget_counts_moves`` puts the penalty into the budget row too (step 2 of the module
    docstring), so the cap on step 1's optimum also caps the number of moves.
    """

    move_penalty: float = 0.0
    budget_counts_moves: bool = False

    @property
    def most_moves(self) -> int:
        """The most moves ``moved_count_block`` can count over a plan (all the accounts)."""
        return len(self.account_ids)

    def as_plain(self) -> PlanningProblem:
        """The same problem without the move penalty (real potential everywhere)."""
        return PlanningProblem(**{f.name: getattr(self, f.name) for f in fields(PlanningProblem)})

    def moved_count_block(self, units: np.ndarray) -> np.ndarray:
        """Accounts of unit u that change owner if u goes to rep j, (len(units), J)."""
        out = np.zeros((len(units), self.n_reps))
        for row, u in enumerate(units):
            members = self.unit_members[u]
            out[row, :] = len(members)
            owners = self.current_rep[members]
            np.add.at(out[row], owners[owners >= 0], -1.0)
        return out

    def moved_potential_block(self, units: np.ndarray) -> np.ndarray:
        moved = super().moved_potential_block(units)
        if self.budget_counts_moves and self.move_penalty:
            moved = moved + self.move_penalty * self.moved_count_block(units)
        return moved

    def cost_block(self, units: np.ndarray) -> np.ndarray:
        # with budget_counts_moves the penalty is already inside moved_potential_block
        cost = super().cost_block(units)
        if self.disruption_weight and self.move_penalty and not self.budget_counts_moves:
            cost = cost + self.disruption_weight * self.move_penalty * self.moved_count_block(units)
        return cost


def move_penalty_for(base: PlanningProblem, moves: int) -> float:
    """eps: ``MOVE_PENALTY`` x total potential / the most moves (1 when there is none)."""
    total = float(base.account_potential.sum())
    return MOVE_PENALTY * (total / max(moves, 1) if total > 0 else 1.0)


def _disruption_problem(base: PlanningProblem) -> DisruptionProblem:
    values = {f.name: getattr(base, f.name) for f in fields(PlanningProblem)}
    return DisruptionProblem(**values, move_penalty=move_penalty_for(base, len(base.account_ids)))


# --------------------------------------------------------------------------- inputs


def rebalanced_data(
    plan: Plan,
    hires=None,
    leaves: Iterable[str] | str = (),
    capacities: dict[str, float] | None = None,
    max_moved_share: float | None = None,
) -> ScenarioData:
    """The plan's data with today's owners := the plan's reps, and the changes applied."""
    problems = ProblemList()
    leaves = leaving_ids(leaves)
    reps = changed_reps(plan, hires, leaves, dict(capacities or {}), problems)
    if max_moved_share is not None and not 0.0 <= max_moved_share <= 1.0:
        problems.add("--max-moved-share", f"must be between 0 and 1, got {max_moved_share}")
    problems.raise_if_any()
    accounts = plan.accounts.copy()
    owner = accounts["account_id"].map(plan.rep_of_account).astype(object)
    # in the form the CRM export gave its owners (names, 18-character IDs): read again below,
    # so the new plan's owner_changes.csv still speaks the CRM's language
    names = owner.map(plan.reps.set_index("rep_id")["name"])
    accounts["current_rep_id"] = new_owners_as_written(owner, names, plan.accounts)
    accounts = accounts.where(accounts.notna(), None)
    # the CRM export's own column names, so the new plan's files speak the CRM's language
    crm_names = plan.accounts.attrs.get("source_names")
    accounts.attrs = {}
    # a lock keeps an account with its owner; when that owner leaves the lock cannot hold,
    # and the departure is the planner's decision, so the lock gives way (and is reported)
    accounts.loc[unlocked_by_departure(plan, leaves), "locked"] = False
    settings = plan.scenario
    constraints = settings.constraints
    if max_moved_share is not None:
        constraints = constraints.model_copy(update={"max_moved_share": max_moved_share})
    name = settings.name if settings.name.endswith("-rebalanced") else f"{settings.name}-rebalanced"
    settings = settings.model_copy(update={"name": name, "constraints": constraints})
    regions = plan.regions
    files = {"regions": plan.files["regions"]} if "regions" in plan.files else {}
    if settings.unit == "region":
        from .region_rebalance import regions_owned_by_plan

        # today's owner of a region := its rep in the plan; the changed regions file is
        # written into the new plan's inputs/ (no file of its own to copy)
        regions, files = regions_owned_by_plan(plan), {}
    try:
        data = load_data(settings, accounts=accounts, reps=reps, regions=regions)
    except InputError as error:
        # the reps were checked as one frame in memory: name each row's own file and row
        raise named_by_source(error, reps, "reps (in memory)") from None
    if crm_names:
        data.accounts.attrs["source_names"] = crm_names
    return ScenarioData(
        settings=settings, accounts=data.accounts, reps=data.reps, regions=data.regions, files=files
    )


def unlocked_by_departure(plan: Plan, leaves: Iterable[str]) -> pd.Series:
    """Accounts locked to a rep who leaves (boolean, aligned with ``plan.accounts``)."""
    owner = plan.accounts["account_id"].map(plan.rep_of_account)
    return plan.accounts["locked"].astype(bool) & owner.isin([str(r) for r in leaves])


# --------------------------------------------------------------------------- the solve


@dataclass
class _Steps:
    result: AssignmentResult
    disruption: dict
    phases: list[dict]


#: a solve of the engine: (problem, settings, progress=) -> AssignmentResult
Solve = Callable[..., AssignmentResult]


def solve_lexicographic(
    problem: DisruptionProblem,
    settings: SolveSettings,
    weighted: bool,
    say: Callable[[str], None],
    solve: Solve = solve_assignment,
) -> _Steps:
    """Steps 1 and 2 of the module docstring, each a call of ``solve`` (the account
    strategy, or geography mode's connected-territory solve). Step 1 gets half of the time
    left of ``settings``' limit (LEAST_DISRUPTION_SHARE, counted from ``settings.started``),
    step 2 the rest; each
    step's clock starts when the step does, so whatever a step does before its solver (a
    connected start) counts against its share."""
    clock = Clock.for_settings(settings)
    n_moves = problem.most_moves
    eps = problem.move_penalty
    travel_weight = problem.travel_weight or 1.0
    # step 1: least disruption (potential + eps per move) within the bands and the budget
    first = replace(problem, travel_weight=0.0, disruption_weight=1.0)
    first_settings = replace(
        settings,
        time_limit=clock.remaining * LEAST_DISRUPTION_SHARE,
        started=time.perf_counter(),
        gap=min(settings.gap, DISRUPTION_GAP),
    )
    say("step 1: least disruption")
    least = solve(first, first_settings, progress=say)
    # every plan moves the forced potential, and at least LB - eps * N (module docstring)
    real_bound = max(
        forced_moved_potential(problem.as_plain()), least.lower_bound - eps * n_moves, 0.0
    )
    say(f"least disruption {least.objective:,.1f} (proven bound {least.lower_bound:,.1f})")
    # step 2: travel, with disruption held at step 1's value (or the scenario's weights)
    remaining = max(1.0, clock.remaining)
    if weighted:
        second = replace(problem, travel_weight=problem.travel_weight)
    else:
        cap = least.objective * (1.0 + DISRUPTION_SLACK) + 0.5 * eps
        second = replace(
            problem,
            travel_weight=travel_weight,
            disruption_weight=0.0,
            budget_counts_moves=True,
            max_moved_potential=cap,
        )
    say(
        "step 2: travel"
        + (" and disruption (scenario weights)" if weighted else " at that disruption")
    )
    try:
        second_settings = replace(settings, time_limit=remaining, started=time.perf_counter())
        result = solve(second, second_settings, progress=say)
        budget = problem.max_moved_potential
        if (
            budget is not None
            and PlanningProblem.moved_potential_of(problem, result.unit_rep) > budget + 1e-6
        ):
            raise ValueError("step 2 exceeded the budget")
    except (ValueError, InfeasibleError, SolverError) as error:
        # step 1's plan meets every rule, so a failed or over-budget step 2 falls back to it
        say(f"step 2 gave no better plan ({error}); keeping step 1's plan")
        result = least
    disruption = {
        "mode": "weighted" if weighted else "lexicographic",
        "move_penalty": eps,
        "least_disruption_objective": least.objective,
        "least_disruption_lower_bound": least.lower_bound,
        "bound": real_bound,
        "step1_status": least.status,
    }
    phases = [
        {
            "step": "least disruption",
            **{k: v for k, v in vars(least).items() if k not in ("unit_rep", "phases")},
        },
        {
            "step": "travel",
            **{k: v for k, v in vars(result).items() if k not in ("unit_rep", "phases")},
        },
    ]
    return _Steps(result=result, disruption=disruption, phases=phases)


def move_reasons(
    moves: pd.DataFrame, data: ScenarioData, metrics: list[str], tolerances: dict[str, float]
) -> pd.Series:
    """The rule of the module docstring: leaving rep / balance / travel."""
    if moves.empty:
        return pd.Series([], dtype=object)
    before = assignment_frame(
        data.accounts, data.reps, data.accounts.set_index("account_id")["current_rep_id"]
    )
    old = territory_frame(before, data.accounts, data.reps, metrics).set_index("rep_id")
    out_of_band = pd.Series(False, index=old.index)
    for metric in metrics:
        deviation = old[f"{metric}_deviation"].astype(float).abs()
        out_of_band |= deviation.fillna(0.0) > tolerances[metric] + TINY
    leaving = set(data.reps.loc[data.reps["status"] == "leaving", "rep_id"])
    reasons = []
    for from_rep, to_rep in zip(moves["from_rep"], moves["to_rep"]):
        if from_rep in leaving:
            reasons.append("leaving rep")
        elif out_of_band.get(from_rep, False) or out_of_band.get(to_rep, False):
            reasons.append("balance")
        else:
            reasons.append("travel")
    return pd.Series(reasons, index=moves.index, dtype=object)


def moves_frame(assignments: pd.DataFrame, data: ScenarioData) -> pd.DataFrame:
    """moves.csv: account_id, name, from_rep, to_rep, potential, workload, reason."""
    moved = assignments[assignments["moved"].astype(bool)]
    moves = pd.DataFrame(
        {
            "account_id": moved["account_id"].to_numpy(),
            "name": moved["name"].to_numpy(),
            "from_rep": moved["previous_rep_id"].to_numpy(),
            "to_rep": moved["rep_id"].to_numpy(),
            "potential": moved["potential"].to_numpy(float),
            "workload": moved["workload"].to_numpy(float),
        }
    )
    metrics = [rule.metric for rule in data.settings.balance]
    tolerances = {rule.metric: rule.tolerance for rule in data.settings.balance}
    moves["reason"] = move_reasons(moves, data, metrics, tolerances).to_numpy()
    return moves


def rebalance(
    plan: Plan | str | Path,
    hires: pd.DataFrame | str | Path | None = None,
    leaves: Iterable[str] | str = (),
    capacities: dict[str, float] | None = None,
    *,
    max_moved_share: float | None = None,
    time_limit: float | None = None,
    tradeoff: bool | list[float] | None = None,
    progress: Callable[[str], None] | None = None,
    started: float | None = None,
    will_write: bool = False,
) -> Plan:
    """Re-balance ``plan`` after hires, departures and capacity changes.

    Returns a new Plan whose ``extra_files`` hold ``moves.csv`` (and ``tradeoff.csv`` when
    ``tradeoff`` is True or a list of budget shares). Raises InputError for unknown reps or
    bad hires (nothing solved), InfeasibleError when the changes cannot be balanced within
    the budget (e.g. the departures alone move more potential than ``max_moved_share``).

    The time limit holds end to end, as for plan(): it counts from ``started`` (a
    ``perf_counter()``; default: this call, so reading ``plan`` counts), ``will_write``
    keeps back plan.write_reserve for writing the folder, and the trade-off curve, when
    asked for, gets the second half of what is left instead of a limit of its own.
    """
    say = progress or (lambda message: None)
    started = time.perf_counter() if started is None else started
    check_arguments(plan, hires, time_limit, tradeoff)
    if not isinstance(plan, Plan):
        plan = Plan.read(plan)
    geography_mode = plan.scenario.unit == "region"
    if geography_mode and tradeoff:
        from .regions import refuse_region_mode

        refuse_region_mode(plan.scenario, "rebalance --tradeoff (its curve ignores contiguity)")
    leaves = leaving_ids(leaves)
    data = rebalanced_data(plan, hires, leaves, capacities, max_moved_share)
    settings = data.settings
    if geography_mode:
        from .region_rebalance import region_rebalance

        setup = region_rebalance(data)
        problem, solve = setup.problem, setup.solve
    else:
        setup, solve = None, solve_assignment
        problem = _disruption_problem(build_problem(data))
    base = problem.as_plain()
    limit = settings.solver.time_limit if time_limit is None else float(time_limit)
    reserve = write_reserve(data, limit) if will_write else 0.0
    solve_settings = SolveSettings.from_scenario(
        settings.solver, time_limit=limit - reserve, started=started
    )
    clock = Clock.for_settings(solve_settings)
    steps_settings = solve_settings
    if tradeoff:  # the curve's solves share the limit: the steps get half of what is left
        steps_settings = replace(solve_settings, time_limit=clock.share(0.5).limit)
    weighted = float(settings.objective.disruption) > 0
    before_solve = time.perf_counter() - started
    try:
        steps = solve_lexicographic(problem, steps_settings, weighted, say, solve)
    except SolverError as error:
        raise out_of_time(error, limit, before_solve, reserve, time_limit is not None) from None
    result = steps.result

    assignments, territories, numbers = evaluate_assignment(data, base, result.unit_rep)
    numbers["disruption"].update(_disruption_numbers(base, steps, numbers, settings))
    extra = {"rebalance": _rebalance_facts(plan, data, leaves, capacities)}
    if setup is not None:
        extra.update(setup.summary_fields())
    summary = plan_summary(
        data,
        result,
        numbers,
        solver={
            "seconds": round(time.perf_counter() - started, 3),
            "time_limit": limit,
            "gap_target": solve_settings.gap,
            "steps": steps.phases,
        },
        extra=extra,
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
    made.extra_files["moves.csv"] = moves_frame(assignments, data)
    if setup is not None:
        made.extra_files.update(setup.tables(result.unit_rep, data))
        summary["disruption"]["moved_regions"] = len(made.extra_files["region_moves.csv"])
    if settings.quota is not None:
        apply_quotas(made, settings.quota)
    if tradeoff:
        budgets = list(TRADEOFF_BUDGETS) if tradeoff is True else [float(b) for b in tradeoff]
        curve_settings = replace(solve_settings, time_limit=clock.remaining, started=None)
        curve = tradeoff_curve(base, budgets, curve_settings, progress=say, start=result.unit_rep)
        made.extra_files["tradeoff.csv"] = curve
        summary["tradeoff"] = curve.to_dict("records")
    summary["total_seconds"] = round(time.perf_counter() - started, 3)
    return made


def out_of_time(
    error: SolverError, limit: float, before_solve: float, reserve: float, given: bool = True
) -> SolverError:
    """The solver's SolverError in the user's terms: the solver states the share of the
    limit its step had (0 s when reading the plan used the limit up), the user gave
    ``limit`` (``given``: as ``time_limit``, else the scenario's); say that, and where it went."""
    left = max(limit - reserve - before_solve, 0.0)
    where = (
        f"reading the plan and building the problem took {before_solve:.1f} s of it"
        + (f", writing the plan folder keeps back {reserve:.1f} s" if reserve else "")
        + f", leaving the solver {left:.1f} s"
    )
    stated = (
        f"the time limit of {limit:g} s you gave ({where})"
        if given
        else f"the scenario's time limit of {limit:g} s ({where})"
    )
    text, count = re.subn(r"the time limit of\s+\S+ s", lambda _: stated, str(error), count=1)
    if not count:
        text = f"{error} (time limit {limit:g} s: {where})"
    return SolverError(text)


def _disruption_numbers(base: PlanningProblem, steps: _Steps, numbers: dict, settings) -> dict:
    """summary.json's disruption facts beyond the KPIs: the proven bound and its gap, what
    the departures force, the budget."""
    total_potential = float(base.account_potential.sum())
    forced = forced_moved_potential(base)
    moved = numbers["disruption"]["moved_potential"]
    return {
        **steps.disruption,
        "gap": relative_gap(moved, steps.disruption["bound"]) if moved else 0.0,
        "forced_potential": round(forced, 6),
        "forced_share": round(forced / total_potential, 6) if total_potential else 0.0,
        "budget_potential": base.max_moved_potential,
        "max_moved_share": settings.constraints.max_moved_share,
    }


def _rebalance_facts(plan: Plan, data: ScenarioData, leaves: list[str], capacities) -> dict:
    """summary.json's ``rebalance`` block: what changed and what gave way (a rep the plan
    had as leaving who is back is hired too)."""
    staying = plan.reps.loc[plan.reps["status"] != "leaving", "rep_id"]
    return {
        "from_plan": plan.scenario.name,
        "leaving": leaves,
        "unlocked": sorted(
            plan.accounts.loc[unlocked_by_departure(plan, leaves), "account_id"].astype(str)
        ),
        "hired": sorted(set(data.reps["rep_id"]) - set(staying)),
        "capacities": dict(capacities or {}),
    }
