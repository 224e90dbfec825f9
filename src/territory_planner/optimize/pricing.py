"""Pricing: what the duals of a solved LP say about the pairs it left out.

The relaxation is solved over the candidate pairs only. Its duals price every pair left out
(docs/design.md, the optimiser's phases):

    rc[u, j] = c[u, j] - pi_once[u] - sum_m a[m, u, j] (pi_min[m, j] + pi_max[m, j])
               - p[u, j] pi_budget

Pairs with negative reduced cost join and the LP is solved again, until none is left; then
the LP value is the LP optimum over *all* pairs, a proven lower bound. Before that, the LP
value plus the Lagrangian correction ``sum_u min(0, min_j rc[u, j])`` is already one. The
location model prices its columns the same way with its own duals (``read_duals``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pulp

from .model import AssignmentModel, PairSet, slack_scale
from .settings import TINY


@dataclass
class Duals:
    """The row prices of a solved LP, in the order reduced costs need them."""

    once: np.ndarray  # (U,) pi_once of each unit's assign-once row
    band: np.ndarray  # (M, J) pi_min + pi_max of each band
    budget: float = 0.0  # pi of the disruption budget row


def read_duals(
    problem,
    assign_once: Mapping[int, pulp.LpConstraint],
    band_min: Mapping[tuple[int, int], pulp.LpConstraint],
    band_max: Mapping[tuple[int, int], pulp.LpConstraint],
    budget: pulp.LpConstraint | None = None,
    band_scale: Mapping[tuple[int, int], float] | None = None,
) -> Duals:
    """The duals of the rows of a solved LP; ``band_scale`` multiplies a band's dual where
    its row was written in another unit than the load (the location model's ``y``-scaled
    bands)."""
    once = np.zeros(problem.n_units)
    for u, row in assign_once.items():
        once[u] = row.pi or 0.0
    band = np.zeros((problem.n_metrics, problem.n_reps))
    for rows in (band_min, band_max):
        for (m, j), row in rows.items():
            if band_scale is None:
                band[m, j] += row.pi or 0.0
            else:
                band[m, j] += (row.pi or 0.0) * band_scale[(m, j)]
    pi_budget = (budget.pi or 0.0) if budget is not None else 0.0
    return Duals(once, band, pi_budget)


def assignment_duals(problem, model: AssignmentModel) -> Duals:
    """The duals of a solved assignment LP (see read_duals)."""
    return read_duals(problem, model.assign_once, model.band_min, model.band_max, model.budget)


def reduced_costs(problem, model: AssignmentModel, pairs: PairSet) -> np.ndarray:
    """rc[u, j] of arbitrary pairs from the LP duals of ``model`` (see module docstring)."""
    duals = assignment_duals(problem, model)
    rc = pairs.cost - duals.once[pairs.unit] - pairs.moved * duals.budget
    for m in range(problem.n_metrics):
        rc -= pairs.load[m] * duals.band[m, pairs.rep]
    return rc


def scan_left_out(
    problem,
    pairs: PairSet,
    duals: Duals,
    per_unit: int,
    threshold: float | None = None,
) -> tuple[PairSet | None, float, float, float]:
    """Price every allowed pair outside ``pairs`` with the ``duals`` of a solved LP.

    ``rc[u, j] = c[u, j] - pi_once[u] - sum_m a[m, u, j] pi_band[m, j] - p[u, j] pi_budget``.
    Picks the pairs with ``rc`` below ``threshold`` (default: negative beyond a tolerance
    relative to the block's costs), at most ``per_unit`` a unit, cheapest first. Returns the
    picked pairs (or None), the Lagrangian correction ``sum_u min(0, min_j rc[u, j])``, the
    smallest reduced cost over all left-out pairs and the smallest over those not picked.
    Shared by the plan strategy and the location model, whose duals differ but whose
    columns are priced the same way.
    """
    picked: list[PairSet] = []
    correction = 0.0
    smallest = smallest_unpicked = math.inf
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        inside = np.zeros_like(allowed)
        mask = (pairs.unit >= units[0]) & (pairs.unit <= units[-1])
        inside[pairs.unit[mask] - units[0], pairs.rep[mask]] = True
        outside = allowed & ~inside
        if not outside.any():
            continue
        cost = problem.cost_block(units)
        rc = cost - duals.once[units][:, None]
        loads = problem.load_block(units)
        for m in range(problem.n_metrics):
            rc = rc - loads[m] * duals.band[m][None, :]
        moved = problem.moved_potential_block(units) if duals.budget else None
        if moved is not None:
            rc = rc - moved * duals.budget
        rc = np.where(outside, rc, np.inf)
        row_min = rc.min(axis=1)
        smallest = min(smallest, float(row_min.min()))
        correction += float(np.minimum(row_min, 0.0)[np.isfinite(row_min)].sum())
        limit = (
            threshold
            if threshold is not None
            else -TINY * max(1.0, float(np.abs(cost).max(initial=0.0)))
        )
        below = rc < limit
        if below.any():
            take = min(per_unit, problem.n_reps)
            # the take cheapest of each unit that has an improving pair: a partition of
            # those rows, not a sort of the block (a sort was a third of the scan)
            rows = np.flatnonzero(below.any(axis=1))
            best = np.argpartition(rc[rows], take - 1, axis=1)[:, :take]
            pick = np.zeros_like(below)
            pick[rows[:, None], best] = True
            pick &= below
            r, c = np.nonzero(pick)  # by unit, then rep: a PairSet's order
            if moved is None:
                moved = problem.moved_potential_block(units)
            # from the block's own costs and loads: pricing them again (pairs_for) computed
            # every distance of the block a second time
            picked.append(PairSet(units[r], c, cost[r, c], np.asarray(loads)[:, r, c], moved[r, c]))
            rc = np.where(pick, np.inf, rc)
        smallest_unpicked = min(smallest_unpicked, float(rc.min()))
    new = PairSet.concat(picked) if picked else None
    return new, correction, smallest, smallest_unpicked


def price_out(
    problem, model: AssignmentModel, per_unit: int
) -> tuple[PairSet | None, float, float]:
    """The improving left-out pairs of the assignment LP, the Lagrangian correction and the
    smallest reduced cost left out (see scan_left_out)."""
    new, correction, smallest, _ = scan_left_out(
        problem, model.pairs, assignment_duals(problem, model), per_unit
    )
    return new, correction, smallest


def relative_slack(problem, model: AssignmentModel) -> float:
    """Total slack of an elastic model, each term as a share of its own target."""
    total = 0.0
    for (kind, m, j), var in model.slack.items():
        total += (var.varValue or 0.0) / slack_scale(problem, kind, m, j)
    return total
