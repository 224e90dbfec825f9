"""Solving a geography-mode plan: LP bound, then MILP rounds with separator cuts until every
territory is one connected piece (the algebra is in contiguity.py).

The plan returned is always connected (checked on the region graph, not assumed), and its
bound is the better of the LP relaxation and the last MILP round's proven bound, both valid
for connected plans because the cuts are valid inequalities.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pulp

from ..errors import InfeasibleError, SolverError
from .contiguity import (
    MAX_CUT_ROUNDS,
    adjacency_matrix,
    connect_rows,
    region_precheck,
    separator_cuts,
    _plan_of,
)
from .model import AssignmentModel, build_assignment_model
from .solvers import SolveOutcome
from .strategy import (
    AssignmentResult,
    SolveSettings,
    all_allowed_pairs,
    objective_of,
    relative_gap,
    run,
)


class _Deadline:
    def __init__(self, settings: SolveSettings):
        self.start = settings.started if settings.started is not None else time.perf_counter()
        self.limit = settings.time_limit

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def remaining(self) -> float:
        return max(0.0, self.limit - self.elapsed)


def cut_rounds(
    model: AssignmentModel,
    problem,
    graph,
    n_regions: int,
    settings: SolveSettings,
    clock: _Deadline,
    *,
    contiguous: bool,
    log: Callable[[dict], None],
) -> tuple[SolveOutcome, np.ndarray | None, int]:
    """Solve, cut the pieces the plan has, solve again, until the plan is connected, the
    model is infeasible or time runs out. Returns (last outcome, connected plan or None,
    cuts added)."""
    seen: set = set()
    for round_number in range(1, MAX_CUT_ROUNDS + 1):
        outcome = run(model, settings, mip=True, time_limit=clock.remaining, gap=settings.gap)
        entry = {"phase": "regions_milp", "round": round_number, "status": outcome.status}
        entry.update(objective=outcome.objective, bound=outcome.bound, cuts=len(seen))
        entry["seconds"] = round(clock.elapsed, 3)
        if not outcome.has_solution:
            log(entry)
            return outcome, None, len(seen)
        unit_rep = _plan_of(model, problem.n_units)
        cuts, broken = (
            separator_cuts(graph, unit_rep, n_regions, problem.n_reps) if contiguous else ([], 0)
        )
        fresh = [cut for cut in cuts if cut not in seen]
        seen.update(fresh)
        entry["disconnected_territories"] = broken
        log(entry)
        if broken == 0:
            return outcome, unit_rep, len(seen)
        if not fresh or clock.remaining <= 0.05:
            break
        connect_rows(model, problem, fresh)
    return SolveOutcome("no_solution", None, None, 0.0), None, len(seen)


def _slack_objective(model: AssignmentModel, problem) -> None:
    """minimise sum of slack, each per unit of its own band's target (one percent of any
    band costs the same)."""
    terms = []
    for (kind, m, j), var in model.slack.items():
        scale = problem.max_moved_potential if kind == "over_budget" else problem.target[m, j]
        terms.append((var, 1.0 / max(abs(float(scale or 1.0)), 1e-9)))
    model.lp.setObjective(pulp.LpAffineExpression(terms))


def explain_disconnection(problem, pairs, graph, n_regions, settings, clock) -> None:
    """The bands are reachable by whole regions but not by connected territories: the same
    cut rounds on an elastic model name each band that connected plans cannot meet."""
    units = np.arange(problem.n_units)
    model = build_assignment_model(
        problem, pairs, units, relax=False, slack_penalty=1.0, name="elastic_regions"
    )
    _slack_objective(model, problem)
    roomy = _Deadline(settings)
    roomy.limit = roomy.elapsed + max(clock.remaining, 30.0)
    outcome, plan, _ = cut_rounds(
        model, problem, graph, n_regions, settings, roomy, contiguous=True, log=lambda e: None
    )
    reasons: list[str] = []
    details: list[dict] = []
    if plan is not None:
        for (kind, m, j), var in sorted(model.slack.items(), key=lambda kv: -(kv[1].varValue or 0)):
            amount = var.varValue or 0.0
            if kind == "over_budget" or amount <= 1e-6 * max(1.0, abs(problem.target[m, j])):
                continue
            direction = "more" if kind == "short" else "less"
            reasons.append(
                f"rep {problem.rep_ids[j]} would need {amount:,.1f} {direction} "
                f"{problem.metrics[m]} than any connected territory gives it to meet its band "
                f"[{problem.lower[m, j]:,.1f}, {problem.upper[m, j]:,.1f}] (contiguity makes "
                "the band unreachable; widen the tolerance or set constraints.contiguous: false)"
            )
            details.append(
                {"kind": f"contiguity_{kind}", "rep_id": problem.rep_ids[j], "slack": amount}
            )
    if not reasons:
        reasons.append(
            "no plan of connected territories meets every band (the solver proved it); "
            "widen the tolerances or set constraints.contiguous: false"
        )
    raise InfeasibleError(reasons, details)


def solve_regions(
    problem,
    neighbours: list[np.ndarray],
    n_regions: int,
    settings: SolveSettings,
    *,
    contiguous: bool = True,
    progress: Callable[[str], None] | None = None,
) -> AssignmentResult:
    """A connected plan with a proven bound and gap (module docstring)."""
    from .diagnose import explain_infeasibility, precheck

    say = progress or (lambda message: None)
    clock = _Deadline(settings)
    phases: list[dict] = []
    graph = adjacency_matrix(neighbours, n_regions)
    precheck(problem)
    if contiguous:
        region_precheck(problem, graph, n_regions)
    pairs = all_allowed_pairs(problem)
    units = np.arange(problem.n_units)
    relaxation = build_assignment_model(problem, pairs, units, relax=True, name="relaxation")
    lp = run(relaxation, settings, mip=False, time_limit=clock.remaining)
    phases.append({"phase": "lp", "status": lp.status, "objective": lp.objective})
    if lp.status == "infeasible":
        explain_infeasibility(problem, pairs, settings)
    if lp.status != "optimal":
        raise SolverError(
            f"the LP relaxation, which gives the proven bound, was not solved ({lp.status}) "
            f"within the time limit of {settings.time_limit:g} s; raise --time-limit"
        )
    say(f"LP bound {lp.objective:,.1f} ({len(pairs):,} pairs, {n_regions:,} regions)")
    model = build_assignment_model(problem, pairs, units, relax=False, name="regions")
    outcome, plan, cuts = cut_rounds(
        model, problem, graph, n_regions, settings, clock, contiguous=contiguous, log=phases.append
    )
    if outcome.status == "infeasible":
        if cuts == 0:
            explain_infeasibility(problem, pairs, settings, integer=True)
        explain_disconnection(problem, pairs, graph, n_regions, settings, clock)
    if plan is None:
        raise SolverError(
            f"no plan of connected territories was found within the time limit of "
            f"{settings.time_limit:g} s ({cuts} contiguity cuts added; LP bound "
            f"{lp.objective:,.1f}); raise --time-limit"
        )
    objective = objective_of(problem, plan)
    bound = max(lp.objective, outcome.bound if outcome.bound is not None else -math.inf)
    bound = min(bound, objective)
    gap = relative_gap(objective, bound)
    status = (
        "optimal" if gap <= 1e-6 else ("within_gap_target" if gap <= settings.gap else "time_limit")
    )
    say(f"connected plan: objective {objective:,.1f}, gap {gap:.3%}, {cuts} cuts")
    return AssignmentResult(
        unit_rep=plan,
        objective=objective,
        lower_bound=bound,
        gap=gap,
        status=status,
        seconds=clock.elapsed,
        phases=phases,
        candidate_pairs=len(pairs),
        total_pairs=len(pairs),
    )
