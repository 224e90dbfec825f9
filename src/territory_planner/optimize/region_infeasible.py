"""Why no connected plan exists when whole regions can meet every band: the cut rounds of
region_solve.py on an elastic model, whose slack names each band that connected
territories cannot reach (exit 3 with numbers, never a solver message)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pulp

from ..errors import InfeasibleError
from .model import AssignmentModel, build_assignment_model
from .region_solve import cut_rounds
from .settings import Clock
from .solvers import run


def slack_objective(model: AssignmentModel, problem) -> None:
    """minimise sum of slack, each per unit of its own band's target (one percent of any
    band costs the same)."""
    terms = []
    for (kind, m, j), var in model.slack.items():
        scale = problem.max_moved_potential if kind == "over_budget" else problem.target[m, j]
        terms.append((var, 1.0 / max(abs(float(scale or 1.0)), 1e-9)))
    model.lp.setObjective(pulp.LpAffineExpression(terms))


def _budget_reason(problem, amount: float, reasons: list[str], details: list[dict]) -> None:
    """The disruption budget that connected territories need more of (a re-balance)."""
    budget = float(problem.max_moved_potential or 0.0)
    if amount <= 1e-6 * max(1.0, budget):
        return
    reasons.append(
        f"the connected plan closest to every rule moves {budget + amount:,.1f} of "
        f"potential, {amount:,.1f} more than the budget (max_moved_share) allows "
        f"({budget:,.1f}); raise max_moved_share, widen the tolerances or set "
        "constraints.contiguous: false"
    )
    details.append({"kind": "contiguity_over_budget", "budget": budget, "slack": amount})


def explain_no_plan(problem, pairs, graph, n_regions, settings, clock, contiguous=True) -> None:
    """Once no plan is proven to exist: the reasons, exit 3. Whole regions that cannot meet
    the bands (or the budget) even in pieces are said as such (diagnose's integer
    explanation); otherwise contiguity is what stands in the way (explain_disconnection)."""
    from .diagnose import explain_infeasibility

    units = np.arange(problem.n_units)
    plain = build_assignment_model(problem, pairs, units, relax=False, name="whole_regions")
    whole = run(plain, settings, mip=True, time_limit=max(clock.remaining, 30.0), gap=1.0)
    if not contiguous or whole.status == "infeasible":
        explain_infeasibility(problem, pairs, settings, integer=True)
    explain_disconnection(problem, pairs, graph, n_regions, settings, clock)


def explain_disconnection(problem, pairs, graph, n_regions, settings, clock) -> None:
    """The bands are reachable by whole regions but not by connected territories: the same
    cut rounds on an elastic model name each band that connected plans cannot meet."""
    units = np.arange(problem.n_units)
    model = build_assignment_model(
        problem, pairs, units, relax=False, slack_penalty=1.0, name="elastic_regions"
    )
    slack_objective(model, problem)
    roomy = Clock(max(clock.remaining, 30.0))  # the explanation may outlast the limit
    exact = dataclasses.replace(settings, gap=0.0)
    plan = cut_rounds(
        model, problem, graph, n_regions, exact, roomy, contiguous=True, log=lambda e: None
    ).plan
    reasons, details = slack_reasons(problem, model) if plan is not None else ([], [])
    if not reasons:
        reasons.append(
            "no plan of connected territories meets every band (the solver proved it); "
            "widen the tolerances or set constraints.contiguous: false"
        )
    raise InfeasibleError(reasons, details)


def slack_reasons(problem, model: AssignmentModel) -> tuple[list[str], list[dict]]:
    """Each band (and a re-balance's budget) the elastic ``model``'s solution breaks, with
    its amount, largest first: what connected territories cannot reach."""
    reasons: list[str] = []
    details: list[dict] = []
    # a re-balance's budget takes part: the band may be reachable only by moving more
    within, raise_budget = "", ""
    if problem.max_moved_potential is not None:
        within = f" within the moved-potential budget of {problem.max_moved_potential:,.1f}"
        raise_budget = " raise max_moved_share,"
    for (kind, m, j), var in sorted(model.slack.items(), key=lambda kv: -(kv[1].varValue or 0)):
        amount = var.varValue or 0.0
        if kind == "over_budget":
            _budget_reason(problem, amount, reasons, details)
            continue
        if amount <= 1e-6 * max(1.0, abs(problem.target[m, j])):
            continue
        direction = "more" if kind == "short" else "less"
        reasons.append(
            f"rep {problem.rep_ids[j]} would need {amount:,.1f} {direction} "
            f"{problem.metrics[m]} to meet its band [{problem.lower[m, j]:,.1f}, "
            f"{problem.upper[m, j]:,.1f}] in the connected plan{within} that breaks the "
            f"bands least (contiguity makes the bands unreachable together;{raise_budget} "
            "widen the tolerance or set constraints.contiguous: false)"
        )
        details.append(
            {"kind": f"contiguity_{kind}", "rep_id": problem.rep_ids[j], "slack": amount}
        )
    return reasons, details
