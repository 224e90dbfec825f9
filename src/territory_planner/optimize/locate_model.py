"""The location model: a capacitated p-median with balance bands, as rows.

Units u (accounts, or sites of a benchmark graph) and candidate sites s. The
PlanningProblem's "reps" are the candidate sites; its bands ``L[m, s] .. U[m, s]`` are the
band a site must meet *if it is opened*. Binary ``y[s]`` opens site s; ``x[u, s]`` serves u
from s. The strong formulation (every link row written, not aggregated):

    minimise    sum_{u,s} c[u, s] x[u, s]                               (objective_row)
    subject to  sum_s x[u, s] = 1                          for all u     (assign_once_rows)
                sum_s y[s] = N                                           (open_count_row)
                x[u, s] <= y[s]                            for all u, s  (serve_only_open_rows)
                L[m, s] y[s] <= sum_u a[m, u] x[u, s] <= U[m, s] y[s]    (open_band_rows)

The link rows ``x <= y`` make the LP relaxation tight (the aggregated ``sum_u x[u, s] <=
|U| y[s]`` is far weaker), which is what lets the LP bound prove optimality.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pulp

from ..errors import InputError
from ..problem import PlanningProblem
from .model import (
    AssignmentModel,
    PairSet,
    _groups,
    assign_once_rows,
    assignment_variables,
    objective_row,
    safe_name,
    set_start,
)
from .results import AssignmentResult


@dataclass
class LocateModel:
    """An assignment model plus the site variables and rows that link them."""

    base: AssignmentModel
    y: list[pulp.LpVariable]
    band_min: dict[tuple[int, int], pulp.LpConstraint] = field(default_factory=dict)
    band_max: dict[tuple[int, int], pulp.LpConstraint] = field(default_factory=dict)
    band_scale: dict[tuple[int, int], float] = field(default_factory=dict)

    @property
    def lp(self) -> pulp.LpProblem:
        return self.base.lp


class LocateResult(AssignmentResult):
    """Chosen sites and the unit assignment, with the proven bound: ``unit_rep`` holds the
    site position serving each unit (the problem's "reps" are the candidate sites)."""

    @property
    def open_sites(self) -> np.ndarray:
        """Sorted site positions opened."""
        return np.unique(self.unit_rep)


# ----------------------------------------------------------------------------- rows


def site_variables(lp: pulp.LpProblem, problem, relax: bool) -> list[pulp.LpVariable]:
    """``open[s]`` in {0, 1} (or [0, 1]) for every candidate site s."""
    category = pulp.LpContinuous if relax else pulp.LpBinary
    return [lp.add_variable(f"open[{safe_name(s)}]", 0, 1, category) for s in problem.rep_ids]


def open_count_row(model: LocateModel, count: int) -> None:
    """sum_s y[s] = N: exactly N bases are opened."""
    expression = pulp.LpAffineExpression([(v, 1.0) for v in model.y])
    model.lp.addConstraint(
        pulp.LpConstraint(expression, pulp.LpConstraintEQ, name="open_count", rhs=float(count))
    )


def serve_only_open_rows(model: LocateModel, problem) -> None:
    """x[u, s] - y[s] <= 0 for every candidate pair: only an open site serves a unit."""
    unit_names = [safe_name(u) for u in problem.unit_ids]
    site_names = [safe_name(s) for s in problem.rep_ids]
    pairs = model.base.pairs
    for p, (u, s) in enumerate(zip(pairs.unit.tolist(), pairs.rep.tolist())):
        expression = pulp.LpAffineExpression([(model.base.x[p], 1.0), (model.y[s], -1.0)])
        model.lp.addConstraint(
            pulp.LpConstraint(
                expression,
                pulp.LpConstraintLE,
                name=f"serve_only_open[{unit_names[u]},{site_names[s]}]",
                rhs=0.0,
            )
        )


def open_band_rows(model: LocateModel, problem) -> None:
    """L[m, s] y[s] <= sum_u a[m, u, s] x[u, s] <= U[m, s] y[s] for every metric m, site s.

    A closed site carries nothing; an open one carries a load within its band. Infinite
    sides (the uncapacitated p-median) are skipped. Each row is divided by its band's size
    (``band_scale``) so the coefficients are near 1: loads in dollars next to 0/1 link rows
    otherwise slow the simplex down tenfold.
    """
    by_site = dict(_groups(model.base.pairs.rep))
    for m, metric in enumerate(problem.metrics):
        loads = model.base.pairs.load[m]
        for s, site_id in enumerate(problem.rep_ids):
            positions = by_site.get(s, np.array([], dtype=int)).tolist()
            terms = [(model.base.x[p], float(loads[p])) for p in positions if loads[p] != 0.0]
            tag = f"{safe_name(metric)}_band_%s[{safe_name(site_id)}]"
            lower, upper = float(problem.lower[m, s]), float(problem.upper[m, s])
            size = max(abs(x) for x in (lower, upper, 1.0) if np.isfinite(x))
            scale = 1.0 / size
            terms = [(v, a * scale) for v, a in terms]
            lower, upper = lower * scale, upper * scale
            model.band_scale[(m, s)] = scale
            if np.isfinite(lower) and lower > 0:
                row = pulp.LpConstraint(
                    pulp.LpAffineExpression(terms + [(model.y[s], -lower)]),
                    pulp.LpConstraintGE,
                    name=tag % "min",
                    rhs=0.0,
                )
                model.lp.addConstraint(row)
                model.band_min[(m, s)] = row
            if np.isfinite(upper):
                row = pulp.LpConstraint(
                    pulp.LpAffineExpression(terms + [(model.y[s], -upper)]),
                    pulp.LpConstraintLE,
                    name=tag % "max",
                    rhs=0.0,
                )
                model.lp.addConstraint(row)
                model.band_max[(m, s)] = row


def build_locate_model(
    problem, pairs: PairSet, count: int, *, relax: bool, name: str = "locate"
) -> LocateModel:
    """The formulation in the module docstring, over the candidate ``pairs``."""
    lp = pulp.LpProblem(safe_name(name), pulp.LpMinimize)
    base = AssignmentModel(lp=lp, pairs=pairs, x=assignment_variables(lp, problem, pairs, relax))
    model = LocateModel(base=base, y=site_variables(lp, problem, relax))
    objective_row(base)
    assign_once_rows(base, problem, np.arange(problem.n_units))
    open_count_row(model, count)
    serve_only_open_rows(model, problem)
    open_band_rows(model, problem)
    return model


# ----------------------------------------------------------------------------- problems


def median_problem(
    cost: np.ndarray,
    *,
    loads: np.ndarray | None = None,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    metrics: list[str] | None = None,
    unit_ids=None,
    site_ids=None,
) -> PlanningProblem:
    """A (capacitated) p-median on an explicit cost matrix, in the engine's terms.

    ``cost[u, s]`` serves unit u from site s; ``loads[m, u]`` is unit u's load on metric m;
    ``lower[m]`` / ``upper[m]`` the band of every open site (None: no band).
    """
    cost = np.asarray(cost, dtype=float)
    n_units, n_sites = cost.shape
    loads = (
        np.zeros((1, n_units)) if loads is None else np.atleast_2d(np.asarray(loads, dtype=float))
    )
    n_metrics = loads.shape[0]
    lower = np.full(n_metrics, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    upper = np.full(n_metrics, np.inf) if upper is None else np.asarray(upper, dtype=float)
    if loads.shape[1] != n_units or lower.shape != (n_metrics,) or upper.shape != (n_metrics,):
        raise InputError(
            f"shapes disagree: cost {cost.shape}, loads {loads.shape}, "
            f"lower {lower.shape}, upper {upper.shape}"
        )
    unit_ids = np.array(
        unit_ids if unit_ids is not None else [str(u + 1) for u in range(n_units)], dtype=object
    )
    site_ids = np.array(
        site_ids if site_ids is not None else [str(s + 1) for s in range(n_sites)], dtype=object
    )
    finite_upper = np.where(np.isfinite(upper), upper, 0.0)
    return PlanningProblem(
        unit_ids=unit_ids,
        unit_members=[np.array([u]) for u in range(n_units)],
        account_ids=unit_ids,
        account_unit=np.arange(n_units),
        rep_ids=site_ids,
        metrics=metrics or [f"load{m + 1}" for m in range(n_metrics)],
        unit_load=loads,
        target=np.repeat(finite_upper[:, None], n_sites, axis=1),
        lower=np.repeat(lower[:, None], n_sites, axis=1),
        upper=np.repeat(upper[:, None], n_sites, axis=1),
        tolerance=np.zeros(n_metrics),
        allowed=None,
        locked_rep=np.full(n_units, -1, dtype=int),
        current_rep=np.full(n_units, -1, dtype=int),
        account_workload=np.ones(n_units),
        account_potential=np.zeros(n_units),
        travel_weight=0.0,
        cost_matrix=cost,
    )


def has_bands(problem) -> bool:
    """Whether some open site must meet a band (a finite maximum or a positive minimum)."""
    return bool(
        np.isfinite(problem.upper).any() or (np.isfinite(problem.lower) & (problem.lower > 0)).any()
    )


def fix_site_rows(model: LocateModel, closed: np.ndarray, opened: np.ndarray) -> None:
    """y[s] = 0 for s proven closed, y[s] = 1 for s proven open (as variable bounds)."""
    for s in np.flatnonzero(closed).tolist():
        model.y[s].upBound = 0
    for s in np.flatnonzero(opened).tolist():
        model.y[s].lowBound = 1


def set_locate_start(model: LocateModel, unit_site: np.ndarray) -> None:
    """The plan as the solver's start: x on its pairs, y on the sites it opens."""
    set_start(model.base, unit_site)
    opened = set(np.unique(unit_site).tolist())
    for s, var in enumerate(model.y):
        var.setInitialValue(1.0 if s in opened else 0.0)
