"""The balance trade-off model: the best balance reachable within a disruption budget.

    minimise    z
    subject to  sum_j x[u, j] = 1                                for all u  (assign_once_rows)
                |sum_u a[m, u, j] x[u, j] - T[m, j]| <= z T[m, j]  for all m, j with T > 0
                                                                (balance_deviation_rows)
                sum_{u,j} p[u, j] x[u, j] <= B                              (disruption_budget_row)

z is the largest relative deviation of any rep from its target on any balance metric; the
re-balancing trade-off curve solves it for a few budgets B (docs/design.md).
"""

from __future__ import annotations

import numpy as np
import pulp

from .model import (
    AssignmentModel,
    PairSet,
    assign_once_rows,
    assignment_variables,
    disruption_budget_row,
    safe_name,
)


def balance_deviation_rows(model: AssignmentModel, problem, z: pulp.LpVariable) -> None:
    """For every balance metric m and rep j with target T[m, j] > 0:
    ``sum_u a[m, u, j] x[u, j] - T[m, j] z <= T[m, j]``   (deviation_above[m, j])
    ``sum_u a[m, u, j] x[u, j] + T[m, j] z >= T[m, j]``   (deviation_below[m, j])
    i.e. ``|load - T| <= z T``: z is at least every rep's relative deviation on every metric."""
    pairs = model.pairs
    for m, metric in enumerate(problem.metrics):
        for j, rep_id in enumerate(problem.rep_ids):
            target = float(problem.target[m, j])
            if target <= 0:
                continue
            positions = np.flatnonzero(pairs.rep == j).tolist()
            terms = [
                (model.x[p], float(pairs.load[m, p])) for p in positions if pairs.load[m, p] != 0.0
            ]
            tag = f"[{safe_name(metric)},{safe_name(rep_id)}]"
            above = pulp.LpAffineExpression(terms + [(z, -target)])
            model.lp.addConstraint(
                pulp.LpConstraint(
                    above, pulp.LpConstraintLE, name=f"deviation_above{tag}", rhs=target
                )
            )
            below = pulp.LpAffineExpression(terms + [(z, target)])
            model.lp.addConstraint(
                pulp.LpConstraint(
                    below, pulp.LpConstraintGE, name=f"deviation_below{tag}", rhs=target
                )
            )


def build_tradeoff_model(
    problem, pairs: PairSet, budget: float | None
) -> tuple[AssignmentModel, pulp.LpVariable]:
    """minimise z subject to assign_once, balance_deviation_rows and the disruption budget."""
    lp = pulp.LpProblem("balance_tradeoff", pulp.LpMinimize)
    model = AssignmentModel(lp=lp, pairs=pairs, x=assignment_variables(lp, problem, pairs, False))
    z = lp.add_variable("largest_deviation", 0)
    lp.setObjective(pulp.LpAffineExpression([(z, 1.0)]))
    assign_once_rows(model, problem, np.arange(problem.n_units))
    balance_deviation_rows(model, problem, z)
    disruption_budget_row(model, budget)
    return model, z


def largest_deviation(problem, pairs: PairSet, chosen: np.ndarray) -> float:
    """max over metrics m and reps j with T[m, j] > 0 of |load[m, j] - T[m, j]| / T[m, j],
    the loads of the ``chosen`` pairs (a mask over ``pairs``): the z of that plan."""
    load = np.zeros((problem.n_metrics, problem.n_reps))
    for m in range(problem.n_metrics):
        np.add.at(load[m], pairs.rep[chosen], pairs.load[m, chosen])
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = np.where(
            problem.target > 0, np.abs(load - problem.target) / problem.target, 0.0
        )
    return float(deviation.max(initial=0.0))
