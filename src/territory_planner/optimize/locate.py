"""Where reps should be based: a capacitated p-median with balance bands.

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

Strategy, as in strategy.py: x exists only for candidate pairs (each unit's k cheapest
sites, and with bands each site's cheapest units so an open site can fill its band). The LP
is priced over *all* pairs with the duals of the assign-once and band rows (a left-out pair
enters with its link row, whose dual is 0): ``rc[u, s] = c[u, s] - pi_once[u] - sum_m a[m, u]
(pi_min[m, s] + pi_max[m, s])``. When no pair has a negative reduced cost the LP value is the
LP optimum over all pairs (a proven lower bound). The MILP over the candidates then gives a
plan; every plan using a left-out pair costs at least ``LP + its reduced cost``, so pairs with
``rc < incumbent - LP`` are added and the MILP re-solved until none is left out: the bound
reported is ``min(MILP bound over the candidates, LP + smallest reduced cost left out)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pulp

from ..errors import InfeasibleError, InputError, SolverError
from ..problem import PlanningProblem
from .model import (
    AssignmentModel,
    PairSet,
    _groups,
    assign_once_rows,
    assignment_variables,
    objective_row,
    safe_name,
)
from .strategy import SolveSettings, pairs_for, relative_gap, run

TINY = 1e-9


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


@dataclass
class LocateResult:
    """Chosen sites and the unit assignment, with the proven bound (minimisation)."""

    unit_site: np.ndarray     # (U,) site position serving each unit
    open_sites: np.ndarray    # sorted site positions opened
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    phases: list[dict] = field(default_factory=list)
    candidate_pairs: int = 0
    total_pairs: int = 0


# ----------------------------------------------------------------------------- rows

def site_variables(lp: pulp.LpProblem, problem, relax: bool) -> list[pulp.LpVariable]:
    """``open[s]`` in {0, 1} (or [0, 1]) for every candidate site s."""
    category = pulp.LpContinuous if relax else pulp.LpBinary
    return [lp.add_variable(f"open[{safe_name(s)}]", 0, 1, category) for s in problem.rep_ids]


def open_count_row(model: LocateModel, count: int) -> None:
    """sum_s y[s] = N: exactly N bases are opened."""
    expression = pulp.LpAffineExpression([(v, 1.0) for v in model.y])
    model.lp.addConstraint(pulp.LpConstraint(expression, pulp.LpConstraintEQ,
                                             name="open_count", rhs=float(count)))


def serve_only_open_rows(model: LocateModel, problem) -> None:
    """x[u, s] - y[s] <= 0 for every candidate pair: only an open site serves a unit."""
    unit_names = [safe_name(u) for u in problem.unit_ids]
    site_names = [safe_name(s) for s in problem.rep_ids]
    pairs = model.base.pairs
    for p, (u, s) in enumerate(zip(pairs.unit.tolist(), pairs.rep.tolist())):
        expression = pulp.LpAffineExpression([(model.base.x[p], 1.0), (model.y[s], -1.0)])
        model.lp.addConstraint(pulp.LpConstraint(
            expression, pulp.LpConstraintLE, name=f"serve_only_open[{unit_names[u]},"
            f"{site_names[s]}]", rhs=0.0))


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
                row = pulp.LpConstraint(pulp.LpAffineExpression(terms + [(model.y[s], -lower)]),
                                        pulp.LpConstraintGE, name=tag % "min", rhs=0.0)
                model.lp.addConstraint(row)
                model.band_min[(m, s)] = row
            if np.isfinite(upper):
                row = pulp.LpConstraint(pulp.LpAffineExpression(terms + [(model.y[s], -upper)]),
                                        pulp.LpConstraintLE, name=tag % "max", rhs=0.0)
                model.lp.addConstraint(row)
                model.band_max[(m, s)] = row


def build_locate_model(problem, pairs: PairSet, count: int, *, relax: bool,
                       name: str = "locate") -> LocateModel:
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

def median_problem(cost: np.ndarray, *, loads: np.ndarray | None = None,
                   lower: np.ndarray | None = None, upper: np.ndarray | None = None,
                   metrics: list[str] | None = None, unit_ids=None,
                   site_ids=None) -> PlanningProblem:
    """A (capacitated) p-median on an explicit cost matrix, in the engine's terms.

    ``cost[u, s]`` serves unit u from site s; ``loads[m, u]`` is unit u's load on metric m;
    ``lower[m]`` / ``upper[m]`` the band of every open site (None: no band).
    """
    cost = np.asarray(cost, dtype=float)
    n_units, n_sites = cost.shape
    loads = np.zeros((1, n_units)) if loads is None else np.atleast_2d(
        np.asarray(loads, dtype=float))
    n_metrics = loads.shape[0]
    lower = np.full(n_metrics, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    upper = np.full(n_metrics, np.inf) if upper is None else np.asarray(upper, dtype=float)
    if loads.shape[1] != n_units or lower.shape != (n_metrics,) or upper.shape != (n_metrics,):
        raise InputError(f"shapes disagree: cost {cost.shape}, loads {loads.shape}, "
                         f"lower {lower.shape}, upper {upper.shape}")
    unit_ids = np.array(unit_ids if unit_ids is not None else
                        [str(u + 1) for u in range(n_units)], dtype=object)
    site_ids = np.array(site_ids if site_ids is not None else
                        [str(s + 1) for s in range(n_sites)], dtype=object)
    finite_upper = np.where(np.isfinite(upper), upper, 0.0)
    return PlanningProblem(
        unit_ids=unit_ids, unit_members=[np.array([u]) for u in range(n_units)],
        account_ids=unit_ids, account_unit=np.arange(n_units), rep_ids=site_ids,
        metrics=metrics or [f"load{m + 1}" for m in range(n_metrics)], unit_load=loads,
        target=np.repeat(finite_upper[:, None], n_sites, axis=1),
        lower=np.repeat(lower[:, None], n_sites, axis=1),
        upper=np.repeat(upper[:, None], n_sites, axis=1),
        tolerance=np.zeros(n_metrics), allowed=None,
        locked_rep=np.full(n_units, -1, dtype=int), current_rep=np.full(n_units, -1, dtype=int),
        account_workload=np.ones(n_units), account_potential=np.zeros(n_units),
        travel_weight=0.0, cost_matrix=cost)


# ----------------------------------------------------------------------------- strategy

def _has_bands(problem) -> bool:
    return bool(np.isfinite(problem.upper).any() or (np.isfinite(problem.lower)
                                                    & (problem.lower > 0)).any())


def locate_candidates(problem, count: int, k: int) -> tuple[PairSet, int]:
    """Each unit's k cheapest allowed sites; with bands also each site's cheapest
    ``2 x (units per base) + 10`` units, so an opened site can always fill its band."""
    units_per_site = 0
    if _has_bands(problem):
        units_per_site = min(problem.n_units, int(2 * problem.n_units / max(count, 1)) + 10)
    unit_list, site_list, best_cost, best_unit = [], [], [], []
    total = 0
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        total += int(allowed.sum())
        cost = np.where(allowed, problem.cost_block(units), np.inf)
        kk = min(k, problem.n_reps)
        nearest = np.argpartition(cost, kk - 1, axis=1)[:, :kk] if kk < problem.n_reps else \
            np.tile(np.arange(problem.n_reps), (len(units), 1))
        chosen = np.zeros_like(allowed)
        np.put_along_axis(chosen, nearest, True, axis=1)
        chosen &= allowed
        r, c = np.nonzero(chosen)
        unit_list.append(units[r])
        site_list.append(c)
        if units_per_site:
            take = min(units_per_site, len(units))
            top = np.argpartition(cost, take - 1, axis=0)[:take] if take < len(units) else \
                np.tile(np.arange(len(units))[:, None], (1, problem.n_reps))
            best_cost.append(np.take_along_axis(cost, top, axis=0))
            best_unit.append(units[top])
    if units_per_site:
        costs, owners = np.vstack(best_cost), np.vstack(best_unit)
        order = np.argsort(costs, axis=0, kind="stable")[:units_per_site]
        for s in range(problem.n_reps):
            keep = order[:, s][np.isfinite(costs[order[:, s], s])]
            unit_list.append(owners[keep, s])
            site_list.append(np.full(len(keep), s))
    units = np.concatenate(unit_list)
    sites = np.concatenate(site_list)
    unique = np.unique(units.astype(np.int64) * problem.n_reps + sites)
    return pairs_for(problem, unique // problem.n_reps, unique % problem.n_reps), total


def _duals(problem, model: LocateModel) -> tuple[np.ndarray, np.ndarray]:
    pi_once = np.zeros(problem.n_units)
    for u, row in model.base.assign_once.items():
        pi_once[u] = row.pi or 0.0
    pi_band = np.zeros((problem.n_metrics, problem.n_reps))
    for (m, s), row in model.band_min.items():
        pi_band[m, s] += (row.pi or 0.0) * model.band_scale[(m, s)]
    for (m, s), row in model.band_max.items():
        pi_band[m, s] += (row.pi or 0.0) * model.band_scale[(m, s)]
    return pi_once, pi_band


def left_out_reduced_costs(problem, model: LocateModel, threshold: float, per_unit: int
                           ) -> tuple[PairSet | None, float, float]:
    """Scan every allowed pair outside the model. Returns the pairs with reduced cost below
    ``threshold`` (up to ``per_unit`` per unit, cheapest first), the Lagrangian correction
    ``sum_u min(0, min_s rc[u, s])`` and the smallest reduced cost still left out after
    those pairs join."""
    pi_once, pi_band = _duals(problem, model)
    pairs = model.base.pairs
    chosen: list[PairSet] = []
    correction, smallest = 0.0, math.inf
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        inside = np.zeros_like(allowed)
        mask = (pairs.unit >= units[0]) & (pairs.unit <= units[-1])
        inside[pairs.unit[mask] - units[0], pairs.rep[mask]] = True
        outside = allowed & ~inside
        if not outside.any():
            continue
        rc = problem.cost_block(units) - pi_once[units][:, None]
        loads = problem.load_block(units)
        for m in range(problem.n_metrics):
            rc = rc - loads[m] * pi_band[m][None, :]
        rc = np.where(outside, rc, np.inf)
        row_min = rc.min(axis=1)
        correction += float(np.minimum(row_min, 0.0)[np.isfinite(row_min)].sum())
        below = rc < threshold
        if below.any():
            take = min(per_unit, problem.n_reps)
            best = np.argsort(rc, axis=1, kind="stable")[:, :take]
            pick = np.zeros_like(below)
            np.put_along_axis(pick, best, True, axis=1)
            pick &= below
            r, c = np.nonzero(pick)
            chosen.append(pairs_for(problem, units[r], c))
            rc = np.where(pick, np.inf, rc)
        smallest = min(smallest, float(rc.min()))
    new = PairSet.concat(chosen) if chosen else None
    return new, correction, smallest


def _read_plan(model: LocateModel, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    values = model.base.values()
    pairs = model.base.pairs
    unit_site = np.full(n_units, -1, dtype=int)
    order = np.lexsort((-values, pairs.unit))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pairs.unit[order][1:] != pairs.unit[order][:-1]
    unit_site[pairs.unit[order[first]]] = pairs.rep[order[first]]
    return unit_site, np.unique(unit_site)


def _set_start(model: LocateModel, unit_site: np.ndarray) -> None:
    pairs = model.base.pairs
    for var, value in zip(model.base.x, (unit_site[pairs.unit] == pairs.rep).tolist()):
        var.setInitialValue(float(value))
    opened = set(np.unique(unit_site).tolist())
    for s, var in enumerate(model.y):
        var.setInitialValue(1.0 if s in opened else 0.0)


def plan_cost(problem, unit_site: np.ndarray) -> float:
    total = 0.0
    for units in problem.unit_blocks():
        total += float(problem.cost_block(units)[np.arange(len(units)), unit_site[units]].sum())
    return total


def solve_locate_problem(problem, count: int, settings: SolveSettings,
                         progress: Callable[[str], None] | None = None) -> LocateResult:
    """Choose ``count`` sites among ``problem.rep_ids`` and serve every unit from one."""
    say = progress or (lambda message: None)
    started = time.perf_counter()
    remaining = lambda: max(0.0, settings.time_limit - (time.perf_counter() - started))  # noqa
    phases: list[dict] = []
    if not 1 <= count <= problem.n_reps:
        raise InputError(f"the number of bases must be between 1 and the {problem.n_reps} "
                         f"candidate sites; got {count}")
    small = problem.n_units * problem.n_reps <= settings.full_model_pairs
    # a unit must see a few of the N bases: about S/N sites lie around each one
    k = problem.n_reps if small else min(problem.n_reps, max(
        settings.candidates, 2, int(math.ceil(2.0 * problem.n_reps / count))))
    pairs, total = locate_candidates(problem, count, k)
    say(f"locate: {len(pairs):,} candidate pairs of {total:,}")

    # 1. LP over the candidates, widened while infeasible, priced until nothing improves it
    while True:
        model = build_locate_model(problem, pairs, count, relax=True, name="locate_lp")
        outcome = run(model, settings, mip=False, time_limit=remaining())
        phases.append({"phase": "lp", "pairs": len(pairs), "status": outcome.status,
                       "objective": outcome.objective,
                       "seconds": round(time.perf_counter() - started, 3)})
        if outcome.status == "infeasible" and len(pairs) < total:
            k = min(problem.n_reps, int(math.ceil(k * 1.5)) + 1)
            pairs, _ = locate_candidates(problem, count, k)
            continue
        if outcome.status == "infeasible":
            raise InfeasibleError([f"no choice of {count} bases serves every account within "
                                   "the bands and rules (the LP relaxation is infeasible)"])
        if not outcome.has_solution:
            raise SolverError(f"the LP relaxation stopped without a solution "
                              f"({outcome.status}); raise the time limit")
        new, correction, smallest = left_out_reduced_costs(problem, model, -TINY, per_unit=5)
        lp_bound = outcome.objective + correction
        if new is None or remaining() <= 0:
            break
        pairs = PairSet.concat([pairs, new])
    say(f"locate: LP bound {lp_bound:,.2f} over {len(pairs):,} pairs")
    lp_model, lp_pairs = model, len(pairs)

    # 2. a first plan: open the N sites the LP opens most, assign with the plan strategy
    incumbent, incumbent_cost, milp_bound = None, math.inf, -math.inf
    opened = _sites_from_lp(lp_model, count)
    first = _assign_to_sites(problem, opened, settings, 0.4 * remaining())
    if first is not None:
        incumbent, incumbent_cost = first, plan_cost(problem, first)
        phases.append({"phase": "sites from LP", "objective": incumbent_cost,
                       "seconds": round(time.perf_counter() - started, 3)})
        say(f"locate: first plan {incumbent_cost:,.2f}, gap "
            f"{relative_gap(incumbent_cost, lp_bound):.3%}")

    # 3. MILP over the candidates; add the pairs that could still beat the plan; repeat
    while incumbent is None or relative_gap(incumbent_cost, lp_bound) > settings.gap:
        if incumbent is not None and remaining() < 1.0:
            break
        model = build_locate_model(problem, pairs, count, relax=False, name="locate")
        if incumbent is not None:
            _set_start(model, incumbent)
        outcome = run(model, settings, mip=True, time_limit=remaining(),
                      gap=settings.gap, warm_start=incumbent is not None)
        phases.append({"phase": "mip", "pairs": len(pairs), "status": outcome.status,
                       "objective": outcome.objective, "bound": outcome.bound,
                       "seconds": round(time.perf_counter() - started, 3)})
        if outcome.status == "infeasible" and len(pairs) < total:
            pairs, _ = locate_candidates(problem, count, min(problem.n_reps, 2 * k + 1))
            k = 2 * k + 1
            continue
        if outcome.status == "infeasible":
            raise InfeasibleError([f"no choice of {count} bases serves every account within "
                                   "the bands and rules (proven by the solver)"])
        if outcome.has_solution:
            plan, _ = _read_plan(model, problem.n_units)
            cost = plan_cost(problem, plan)
            if cost < incumbent_cost - TINY:
                incumbent, incumbent_cost = plan, cost
        if incumbent is None:
            raise SolverError(f"no feasible set of {count} bases was found within "
                              f"{settings.time_limit:g} s; raise the time limit")
        milp_bound = outcome.bound if outcome.bound is not None else lp_bound
        # pairs whose reduced cost leaves room below the incumbent could still improve it
        room = incumbent_cost - lp_bound
        if len(pairs) != lp_pairs:
            lp_model, lp_pairs = lp_model_for_pricing(problem, pairs, count, settings,
                                                      remaining), len(pairs)
        new, _, smallest = left_out_reduced_costs(problem, lp_model, room,
                                                  per_unit=problem.n_reps) \
            if len(pairs) < total else (None, 0.0, math.inf)
        if new is None or remaining() <= 0:
            break
        say(f"locate: {len(new):,} left-out pairs could beat {incumbent_cost:,.2f}; adding")
        pairs = PairSet.concat([pairs, new])
    bound = min(max(milp_bound, lp_bound), lp_bound + max(smallest, 0.0), incumbent_cost)
    if len(pairs) >= total:
        bound = min(max(milp_bound, lp_bound), incumbent_cost)
    gap = relative_gap(incumbent_cost, bound)
    status = "optimal" if gap <= 1e-6 else ("within_gap_target" if gap <= settings.gap
                                             else "time_limit")
    return LocateResult(unit_site=incumbent, open_sites=np.unique(incumbent),
                        objective=problem.sense * incumbent_cost, bound=problem.sense * bound,
                        gap=gap, status=status, seconds=time.perf_counter() - started,
                        phases=phases, candidate_pairs=len(pairs), total_pairs=total)


def _sites_from_lp(model: LocateModel, count: int) -> np.ndarray:
    """The ``count`` sites with the largest LP opening (ties: the first by ID)."""
    values = np.array([v.varValue or 0.0 for v in model.y])
    return np.sort(np.argsort(-values, kind="stable")[:count])


def _assign_to_sites(problem, sites: np.ndarray, settings: SolveSettings,
                     time_limit: float) -> np.ndarray | None:
    """Assign every unit to one of the given open sites with the plan strategy
    (strategy.solve_assignment); None when those sites cannot meet the bands."""
    from .strategy import solve_assignment

    def columns(array):
        return None if array is None else array[..., sites]

    sub = replace(problem, rep_ids=problem.rep_ids[sites], target=problem.target[:, sites],
                  lower=problem.lower[:, sites], upper=problem.upper[:, sites],
                  allowed=columns(problem.allowed), cost_matrix=columns(problem.cost_matrix),
                  pair_load=columns(problem.pair_load),
                  rep_lat=columns(problem.rep_lat), rep_lon=columns(problem.rep_lon))
    try:
        result = solve_assignment(sub, replace(settings, time_limit=max(time_limit, 1.0)))
    except (InfeasibleError, SolverError):
        return None
    return sites[result.unit_rep]


def lp_model_for_pricing(problem, pairs, count, settings, remaining) -> LocateModel:
    """The LP over the current pairs, solved, for its duals (pricing after pairs joined)."""
    model = build_locate_model(problem, pairs, count, relax=True, name="locate_lp")
    run(model, settings, mip=False, time_limit=remaining())
    return model


def solve_locate(cost: np.ndarray, count: int, *, loads: np.ndarray | None = None,
                 lower: np.ndarray | None = None, upper: np.ndarray | None = None,
                 settings: SolveSettings | None = None,
                 progress: Callable[[str], None] | None = None) -> LocateResult:
    """(Capacitated) p-median on a cost matrix: open ``count`` sites, serve every unit.

    ``cost[u, s]``: serving unit u from site s; ``loads[m, u]``; every open site's load on
    metric m within ``[lower[m], upper[m]]``. Example (4 units on a line, sites = units)::

        solve_locate(abs(x[:, None] - x[None, :]), 2)
    """
    problem = median_problem(cost, loads=loads, lower=lower, upper=upper)
    return solve_locate_problem(problem, count, settings or SolveSettings(), progress)


def with_open_bands(problem: PlanningProblem, count: int) -> PlanningProblem:
    """Bands of a territory scenario re-based for ``count`` open bases of equal capacity:
    target[m] = total[m] / count, band = target * (1 -/+ tolerance[m])."""
    totals = problem.unit_load.sum(axis=1)
    target = np.repeat((totals / count)[:, None], problem.n_reps, axis=1)
    tol = problem.tolerance[:, None]
    return replace(problem, target=target, lower=target * (1 - tol), upper=target * (1 + tol))
