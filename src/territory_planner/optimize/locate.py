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

Without bands (the plain p-median) and up to DENSE_PAIRS pairs, solve_median_by_lagrange
runs instead: the Lagrangian dual of the assign-once rows (as strong as the LP, far cheaper
to maximise than the degenerate LP is to solve), reduced-cost fixing of sites and pairs
against the incumbent, a site branch-and-bound bounded by the same dual for few bases, and
the strong formulation over the surviving pairs for many.
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
    read_assignment,
    safe_name,
    set_start,
)
from .pairs import pairs_for
from .pricing import read_duals, scan_left_out
from .results import AssignmentResult, objective_of, plan_status, relative_gap
from .settings import TINY, Clock, SolveSettings
from .site_pairs import with_sites
from .solvers import make_solver, run, solver_name, translate_status
from .strategy import solve_assignment


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


# ----------------------------------------------------------------------------- no bands

DENSE_PAIRS = 5_000_000  # up to this many pairs the p-median without bands is held dense
BRANCH_MAX_COUNT = 20  # up to this many bases, branch and bound before the MILP
MEDIAN_MIP_OPTIONS = {"mip_heuristic_effort": 0.0, "mip_allow_restart": False, "presolve": "off"}


def dense_costs(problem) -> np.ndarray:
    """``c[u, s]`` for every pair as one (U, S) array; ``inf`` where the rules forbid it."""
    return np.vstack(
        [
            np.where(problem.allowed_block(units), problem.cost_block(units), np.inf)
            for units in problem.unit_blocks()
        ]
    )


def improve_by_swaps(
    cost: np.ndarray, sites: np.ndarray, allowed_sites: np.ndarray, deadline: float
) -> np.ndarray:
    """Interchange local search: while some swap (close r, open s) lowers the total cost,
    make the best one.

    With ``d1[u]`` / ``d2[u]`` the costs of u's nearest and second-nearest open sites and
    ``r(u)`` the nearest, the plan after the swap costs
    ``sum_u min(d1[u], c[u, s]) + sum_{u: r(u) = r} (min(d2[u], c[u, s]) - min(d1[u], c[u, s]))``
    for every (r, s) at once: one (U, S) pass and one (N, U) x (U, S) product a round.
    ``cost`` must be finite (forbidden pairs priced high by the caller).
    """
    sites = np.sort(np.asarray(sites)).copy()
    rows = np.arange(cost.shape[0])
    high = float(cost.max()) * 2.0 + 1.0
    while time.perf_counter() < deadline:
        candidates = allowed_sites[~np.isin(allowed_sites, sites)]
        if not len(candidates):
            break
        sub = cost[:, sites]
        nearest = sub.argmin(axis=1)
        d1 = sub[rows, nearest]
        if len(sites) > 1:
            d2 = np.partition(sub, 1, axis=1)[:, 1]
        else:
            d2 = np.full(len(rows), high)
        current = float(d1.sum())
        to_new = cost[:, candidates]
        kept = np.minimum(d1[:, None], to_new)
        served_by = np.zeros((len(sites), len(rows)))
        served_by[nearest, rows] = 1.0
        total = kept.sum(axis=0)[None, :] + served_by @ (np.minimum(d2[:, None], to_new) - kept)
        r, c = np.unravel_index(int(np.argmin(total)), total.shape)
        if total[r, c] >= current - 1e-9 * max(1.0, abs(current)):
            break
        sites[r] = candidates[c]
        sites.sort()
    return sites


def serving_cost(cost: np.ndarray, sites: np.ndarray) -> tuple[float, np.ndarray]:
    """Total cost with every unit served by its cheapest open site, and those sites."""
    sub = cost[:, sites]
    nearest = sub.argmin(axis=1)
    return float(sub[np.arange(len(sub)), nearest].sum()), sites[nearest]


@dataclass
class MedianBound:
    """What the Lagrangian dual proved: its value, the multipliers that reach it, and the
    sites every plan costing less than the incumbent must close or open."""

    value: float
    multipliers: np.ndarray
    closed: np.ndarray  # (S,) bool
    opened: np.ndarray  # (S,) bool
    iterations: int


class _MedianDual:
    """The Lagrangian relaxation of the assign-once rows of the p-median:

        L(lambda) = sum_u lambda[u] + min { sum_s rho[s] y[s] : sum_s y[s] = N, y binary,
                                            y[s] = 0 (s closed), y[s] = 1 (s opened) }
        rho[s]    = sum_u min(0, c[u, s] - lambda[u])

    For every lambda, L(lambda) <= the cost of every plan (each unit served once is one
    feasible choice of x inside the min), so each value is a proven lower bound. The inner
    min opens the N - |opened| free sites of smallest rho. Forcing a choice gives a bound on
    every plan that makes it (w: the dearest free site taken, v: the cheapest free one left):

        open a free site s not taken:  L + rho[s] - rho[w]
        close a free site s taken:     L + rho[v] - rho[s]
        serve u from s (x[u, s] = 1):  L + max(0, c[u, s] - lambda[u]) + (rho[s] - rho[w]
                                        when s is not taken)

    When such a bound reaches the cutoff, no plan cheaper than the incumbent makes that choice.
    """

    def __init__(self, cost: np.ndarray, count: int, integral: bool):
        self.cost = cost
        self.count = count
        self.integral = integral  # every cost an integer: see _cutoff
        self.cutoff = math.inf
        self._live: np.ndarray | None = None
        self._columns = cost
        self.closed = np.zeros(cost.shape[1], dtype=bool)
        self.opened = np.zeros(cost.shape[1], dtype=bool)

    def evaluate(self, lam: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """(L(lambda), rho over all sites (inf when closed), the sites taken)."""
        rho = np.full(self.cost.shape[1], np.inf)
        live = np.flatnonzero(~self.closed)
        if self._live is None or not np.array_equal(self._live, live):
            # the columns of the sites still open to choice, copied once per change
            self._live, self._columns = live, np.ascontiguousarray(self.cost[:, live])
        rho[live] = np.minimum(self._columns - lam[:, None], 0.0).sum(axis=0)
        free = np.flatnonzero(~self.closed & ~self.opened)
        slots = self.count - int(self.opened.sum())
        taken = free[np.argsort(rho[free], kind="stable")[:slots]]
        chosen = np.concatenate([np.flatnonzero(self.opened), taken])
        return float(lam.sum() + rho[chosen].sum()), rho, chosen

    def fix_sites(self, value: float, rho: np.ndarray, chosen: np.ndarray) -> None:
        """Close (open) the free sites whose forced opening (closing) reaches the cutoff."""
        free = ~self.closed & ~self.opened
        taken = np.zeros_like(free)
        taken[chosen] = True
        taken &= free
        left = free & ~taken
        worst_taken = rho[taken].max() if taken.any() else np.inf
        best_left = rho[left].min() if left.any() else np.inf
        with np.errstate(invalid="ignore"):  # rho is inf on closed sites
            self.closed |= left & (value + rho - worst_taken >= self.cutoff)
            self.opened |= taken & (value + best_left - rho >= self.cutoff)
        if int(self.opened.sum()) == self.count:
            self.closed |= ~self.opened

    def kept_pairs(
        self, value: float, lam: np.ndarray, rho: np.ndarray, chosen: np.ndarray
    ) -> np.ndarray:
        """(U, S) bool: the pairs a plan cheaper than the cutoff may still use."""
        taken = np.zeros(self.cost.shape[1], dtype=bool)
        taken[chosen] = True
        free_taken = taken & ~self.opened
        worst_taken = rho[free_taken].max() if free_taken.any() else 0.0
        site_extra = np.where(taken, 0.0, rho - worst_taken)
        bound = value + np.maximum(self.cost - lam[:, None], 0.0) + site_extra[None, :]
        return (bound < self.cutoff) & ~self.closed[None, :] & np.isfinite(self.cost)


def lagrangian_median_bound(
    dual: _MedianDual,
    lam: np.ndarray,
    upper: float,
    deadline: float,
    target_gap: float,
    on_sites: Callable[[np.ndarray], float],
) -> MedianBound:
    """Subgradient ascent on L(lambda) (see _MedianDual), fixing sites on the way.

    Step ``theta (upper - L) / |g|^2`` along ``g[u] = 1 - #(taken s with c[u, s] <
    lambda[u])``, theta halved after 20 rounds without a better bound. Every 10 rounds the
    sites taken are handed to ``on_sites`` (a primal heuristic) which returns the incumbent
    cost, so ``upper`` and the cutoff tighten as plans improve.
    """
    best_value, best_lam = -math.inf, lam.copy()
    theta, stale, iterations = 2.0, 0, 0
    while time.perf_counter() < deadline and theta > 1e-4 and iterations < 5000:
        iterations += 1
        value, rho, chosen = dual.evaluate(lam)
        if value > best_value + 1e-9 * max(1.0, abs(value)):
            best_value, best_lam, stale = value, lam.copy(), 0
        else:
            stale += 1
            if stale >= 20:
                theta, stale = theta / 2.0, 0
        if iterations % 10 == 1:
            upper = min(upper, on_sites(chosen))
            dual.cutoff = min(dual.cutoff, _cutoff(dual, upper))
            dual.fix_sites(value, rho, chosen)
        if best_value >= dual.cutoff or relative_gap(upper, best_value) <= target_gap:
            break
        served = (dual.cost[:, chosen] < lam[:, None]).sum(axis=1)
        step_dir = 1.0 - served
        norm = float(step_dir @ step_dir)
        if norm == 0.0:
            break  # the inner plan serves every unit once: L is the optimum
        lam = lam + theta * (upper - value) / norm * step_dir
    value, rho, chosen = dual.evaluate(best_lam)
    dual.fix_sites(value, rho, chosen)
    return MedianBound(
        value=value,
        multipliers=best_lam,
        closed=dual.closed.copy(),
        opened=dual.opened.copy(),
        iterations=iterations,
    )


def _ascend(
    dual: _MedianDual,
    lam: np.ndarray,
    upper: float,
    steps: int,
    deadline: float,
    theta: float = 1.0,
) -> tuple[float, np.ndarray, np.ndarray, bool]:
    """A few subgradient steps from ``lam`` at one node (sites fixed as the node says).
    Returns (best L, its lambda, its sites taken, whether the inner plan serves every unit
    exactly once, in which case L is the node's optimum)."""
    best_value, best_lam, best_chosen, stale = -math.inf, lam, None, 0
    for step in range(steps):
        value, rho, chosen = dual.evaluate(lam)
        if value > best_value + 1e-9 * max(1.0, abs(value)):
            best_value, best_lam, best_chosen, stale = value, lam, chosen, 0
        else:
            stale += 1
            if stale >= 5:
                theta, stale = theta / 2.0, 0
        if step % 5 == 0 or value >= dual.cutoff:
            dual.fix_sites(value, rho, chosen)
        if best_value >= dual.cutoff or time.perf_counter() > deadline:
            break
        served = (dual.cost[:, chosen] < lam[:, None]).sum(axis=1)
        direction = 1.0 - served
        norm = float(direction @ direction)
        if norm == 0.0:
            return value, lam, chosen, True
        lam = lam + theta * max(upper - value, 1e-6 * abs(upper)) / norm * direction
    return best_value, best_lam, best_chosen, False


def median_branch_and_bound(
    dual: _MedianDual,
    root: MedianBound,
    upper: float,
    deadline: float,
    on_sites: Callable[[np.ndarray], float],
) -> tuple[float, bool, int]:
    """Depth-first branch and bound on the sites, bounded by the Lagrangian dual.

    A node fixes some sites open and some closed; its bound is L(lambda) with those fixes
    (warm-started from its parent's lambda), and it also fixes every further site whose
    forced choice reaches the cutoff (_MedianDual.fix_sites). A node whose bound reaches the
    cutoff holds no plan cheaper than the incumbent and is dropped; otherwise it branches on
    the free site its inner plan takes with the smallest rho: "open it" first, then "close
    it". The two children cover the node, so when the stack empties no plan cheaper than the
    incumbent exists. Returns (the proven bound, whether the search finished, nodes).
    """
    stack = [(root.closed.copy(), root.opened.copy(), root.multipliers, root.value)]
    nodes = 0
    while stack:
        if time.perf_counter() > deadline:
            return min(b for *_, b in stack), False, nodes
        closed, opened, lam, _ = stack.pop()
        nodes += 1
        dual.closed, dual.opened = closed, opened
        if int(opened.sum()) > dual.count or int((~closed).sum()) < dual.count:
            continue
        value, lam, chosen, exact = _ascend(dual, lam, upper, 30, deadline)
        if chosen is not None:
            upper = min(upper, on_sites(chosen))
            dual.cutoff = min(dual.cutoff, _cutoff(dual, upper))
        if value >= dual.cutoff or exact or chosen is None:
            continue
        free_taken = [s for s in chosen.tolist() if not dual.opened[s]]
        if not free_taken:
            continue
        rho = dual.evaluate(lam)[1]
        site = min(free_taken, key=lambda s: rho[s])
        closed_child = dual.closed.copy()
        closed_child[site] = True
        opened_child = dual.opened.copy()
        opened_child[site] = True
        stack.append((closed_child, dual.opened.copy(), lam, value))
        stack.append((dual.closed.copy(), opened_child, lam, value))
    return math.inf, True, nodes


def _cutoff(dual: _MedianDual, upper: float) -> float:
    """The value a bound must reach to rule a choice out: with integer costs every plan
    cheaper than ``upper`` costs at most ``upper - 1``, so reaching ``upper - 1`` (plus a
    rounding margin) is enough; otherwise ``upper`` itself."""
    if dual.integral:
        return upper - 1.0 + 1e-6
    return upper - 1e-9 * max(1.0, abs(upper))


def fix_site_rows(model: LocateModel, closed: np.ndarray, opened: np.ndarray) -> None:
    """y[s] = 0 for s proven closed, y[s] = 1 for s proven open (as variable bounds)."""
    for s in np.flatnonzero(closed).tolist():
        model.y[s].upBound = 0
    for s in np.flatnonzero(opened).tolist():
        model.y[s].lowBound = 1


def run_with_cutoff(model: LocateModel, settings: SolveSettings, time_limit: float, cutoff: float):
    """Solve the reduced MILP looking only for plans cheaper than ``cutoff`` (the incumbent).

    With HiGHS the cutoff is handed over as ``objective_bound`` so branch-and-bound prunes
    every node that cannot beat the incumbent from the start, and the primal heuristics,
    which can only rediscover plans we already have, are turned down. "infeasible" then
    means: no plan cheaper than the cutoff.
    """
    if solver_name(settings.solver) != "HiGHS":
        return run(model, settings, mip=True, time_limit=time_limit, gap=settings.gap)
    started = time.perf_counter()
    solver = make_solver(
        settings.solver,
        mip=True,
        time_limit=max(time_limit, 0.05),
        gap=settings.gap,
        threads=settings.threads,
        seed=settings.seed,
        msg=settings.msg,
    )
    solver.optionsDict.update(MEDIAN_MIP_OPTIONS)
    solver.optionsDict["objective_bound"] = float(cutoff)
    try:
        model.lp.solve(solver)
    except pulp.PulpSolverError as error:
        raise SolverError(f"the solver failed: {error}") from error
    return translate_status(model.lp, solver, time.perf_counter() - started, is_mip=True)


def solve_median_by_lagrange(
    problem, count: int, settings: SolveSettings, say: Callable[[str], None]
) -> LocateResult | None:
    """The p-median without bands, proven optimal through its Lagrangian dual (None when no
    plan within the rules was found and none was proven impossible).

    1. A first plan: open the ``count`` sites that serve the most units cheaply (greedy by
       the LP-like saving), then interchange local search (improve_by_swaps).
    2. The Lagrangian dual of the assign-once rows (_MedianDual), maximised by subgradient
       steps; each iterate's best N sites seed the local search again. Its value is a proven
       lower bound, equal at best to the LP bound of the strong formulation.
    3. Reduction: sites and pairs whose forced use lifts the bound to the incumbent's cost
       are removed; no plan cheaper than the incumbent uses them.
    4. The strong formulation (build_locate_model) over what is left, solved by the MILP
       solver. If it is infeasible, no cheaper plan exists and the incumbent is optimal;
       otherwise its optimum is the optimum. The bound reported is
       ``max(Lagrangian bound, min(incumbent, MILP bound))`` (rounded up to an integer when
       every cost is an integer).
    """
    clock = Clock(settings.time_limit)
    phases: list[dict] = []
    cost = dense_costs(problem)
    if not np.isfinite(cost).any(axis=1).all():
        unit = problem.unit_ids[int(np.flatnonzero(~np.isfinite(cost).any(axis=1))[0])]
        raise InfeasibleError([f"unit {unit} may not be served from any candidate site"])
    finite = np.isfinite(cost)
    # a forbidden pair priced so that any plan using one costs more than any plan without
    high = 2.0 * float(np.abs(cost[finite]).max()) * cost.shape[0] + 1.0
    priced = np.where(finite, cost, high)
    integral = bool(np.all(priced == np.round(priced)))
    allowed_sites = np.flatnonzero(finite.any(axis=0))
    if len(allowed_sites) < count:
        raise InfeasibleError(
            [
                f"only {len(allowed_sites)} candidate sites may serve any "
                f"unit; {count} bases were asked for"
            ]
        )
    total_pairs = int(finite.sum())

    # 1. first plan: greedy additions, then swaps
    sites = np.zeros(0, dtype=int)
    reach = np.full(cost.shape[0], high * 2)
    for _ in range(count):
        gain = np.maximum(reach[:, None] - priced[:, allowed_sites], 0.0).sum(axis=0)
        gain[np.isin(allowed_sites, sites)] = -1.0
        pick = allowed_sites[int(np.argmax(gain))]
        sites = np.append(sites, pick)
        reach = np.minimum(reach, priced[:, pick])
    budget = clock.deadline
    sites = improve_by_swaps(priced, sites, allowed_sites, budget(0.2))
    upper, unit_site = serving_cost(priced, sites)
    best = {"upper": upper, "unit_site": unit_site, "seen": set()}
    phases.append(
        {
            "phase": "greedy + swaps",
            "objective": upper,
            "seconds": round(clock.elapsed, 3),
        }
    )
    say(f"locate: first plan {upper:,.2f}")

    def on_sites(chosen: np.ndarray) -> float:
        key = tuple(np.sort(chosen).tolist())
        if key in best["seen"]:
            return best["upper"]
        best["seen"].add(key)
        value, _ = serving_cost(priced, np.sort(chosen))
        if value < best["upper"] + 0.02 * abs(best["upper"]):  # worth polishing
            improved = improve_by_swaps(priced, np.sort(chosen), allowed_sites, clock.deadline(0.1))
            value, served = serving_cost(priced, improved)
            if value < best["upper"] - TINY:
                best["upper"], best["unit_site"] = value, served
        return best["upper"]

    # 2. Lagrangian dual
    dual = _MedianDual(priced, count, integral)
    dual.cutoff = _cutoff(dual, upper)
    sub = np.sort(priced, axis=1)
    start = sub[:, 1] if sub.shape[1] > 1 else sub[:, 0]
    bound = lagrangian_median_bound(dual, start.copy(), upper, budget(0.5), settings.gap, on_sites)
    upper, unit_site = best["upper"], best["unit_site"]
    dual.cutoff = _cutoff(dual, upper)
    lower = math.ceil(bound.value - 1e-6) if integral else bound.value
    # plans the reduction removes cost at least this much
    removed_floor = upper if integral else dual.cutoff
    phases.append(
        {
            "phase": "lagrangian",
            "objective": upper,
            "bound": bound.value,
            "iterations": bound.iterations,
            "closed": int(bound.closed.sum()),
            "opened": int(bound.opened.sum()),
            "seconds": round(clock.elapsed, 3),
        }
    )
    say(
        f"locate: Lagrangian bound {bound.value:,.2f} after {bound.iterations} steps, plan "
        f"{upper:,.2f}; {int(bound.closed.sum())} sites closed, {int(bound.opened.sum())} "
        "open by reduced cost"
    )

    # 3. branch and bound on the sites with the Lagrangian bound: few bases leave a wide LP
    # gap that the tree closes in few nodes; many bases leave a tiny gap the MILP closes
    if (
        count <= BRANCH_MAX_COUNT
        and relative_gap(upper, lower) > settings.gap
        and clock.remaining > 0.5
    ):
        tree_bound, finished, nodes = median_branch_and_bound(
            dual, bound, upper, budget(0.95), on_sites
        )
        upper, unit_site = best["upper"], best["unit_site"]
        removed_floor = upper if integral else _cutoff(dual, upper)
        reached = min(tree_bound, removed_floor)
        lower = max(lower, math.ceil(reached - 1e-6) if integral else reached)
        phases.append(
            {
                "phase": "branch and bound",
                "objective": upper,
                "bound": lower,
                "nodes": nodes,
                "finished": finished,
                "seconds": round(clock.elapsed, 3),
            }
        )
        say(f"locate: branch and bound, {nodes} nodes: plan {upper:,.2f}, bound {lower:,.2f}")
        dual.closed, dual.opened = bound.closed.copy(), bound.opened.copy()
        dual.cutoff = _cutoff(dual, upper)

    # 4. reduced strong formulation (not after an unfinished tree: its LP is the tree's bound)
    kept_count = 0
    tree_ran = any(phase["phase"] == "branch and bound" for phase in phases)
    if relative_gap(upper, lower) > settings.gap and clock.remaining > 0.5 and not tree_ran:
        value, rho, chosen = dual.evaluate(bound.multipliers)
        kept = dual.kept_pairs(value, bound.multipliers, rho, chosen)
        kept_count = int(kept.sum())
        if not kept.any(axis=1).all():
            lower = removed_floor  # some unit has no pair left: no cheaper plan exists
        else:
            units, site_of = np.nonzero(kept)
            pairs = pairs_for(problem, units, site_of)
            model = build_locate_model(problem, pairs, count, relax=False, name="locate")
            fix_site_rows(model, bound.closed, bound.opened)
            outcome = run_with_cutoff(model, settings, clock.remaining, cutoff=upper)
            phases.append(
                {
                    "phase": "reduced mip",
                    "pairs": len(pairs),
                    "status": outcome.status,
                    "objective": outcome.objective,
                    "bound": outcome.bound,
                    "seconds": round(clock.elapsed, 3),
                }
            )
            if outcome.status == "infeasible":
                lower = removed_floor
            elif outcome.has_solution:
                plan, _ = read_assignment(model.base, problem.n_units)
                plan_value = float(priced[np.arange(len(plan)), plan].sum())
                if plan_value < upper - TINY:
                    upper, unit_site = plan_value, plan
            if outcome.bound is not None and outcome.status != "infeasible":
                milp = min(outcome.bound, removed_floor)
                lower = max(lower, math.ceil(milp - 1e-6) if integral else milp)
    lower = min(lower, upper)
    gap = relative_gap(upper, lower)
    if not finite[np.arange(len(unit_site)), unit_site].all():
        # the plan needs a forbidden pair, priced above any allowed plan's total
        if gap <= 1e-6:
            raise InfeasibleError(
                [
                    f"no choice of {count} bases serves every account within "
                    "the rules (proven: the cheapest choice needs a forbidden "
                    "pair)"
                ]
            )
        return None
    status = plan_status(gap, settings.gap)
    say(f"locate: {upper:,.2f}, bound {lower:,.2f}, gap {gap:.3%}")
    return LocateResult(
        unit_rep=unit_site,
        objective=problem.sense * upper,
        lower_bound=problem.sense * lower,
        gap=gap,
        status=status,
        seconds=clock.elapsed,
        phases=phases,
        candidate_pairs=kept_count,
        total_pairs=total_pairs,
    )


# ----------------------------------------------------------------------------- strategy


def _has_bands(problem) -> bool:
    return bool(
        np.isfinite(problem.upper).any() or (np.isfinite(problem.lower) & (problem.lower > 0)).any()
    )


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
        nearest = (
            np.argpartition(cost, kk - 1, axis=1)[:, :kk]
            if kk < problem.n_reps
            else np.tile(np.arange(problem.n_reps), (len(units), 1))
        )
        chosen = np.zeros_like(allowed)
        np.put_along_axis(chosen, nearest, True, axis=1)
        chosen &= allowed
        r, c = np.nonzero(chosen)
        unit_list.append(units[r])
        site_list.append(c)
        if units_per_site:
            take = min(units_per_site, len(units))
            top = (
                np.argpartition(cost, take - 1, axis=0)[:take]
                if take < len(units)
                else np.tile(np.arange(len(units))[:, None], (1, problem.n_reps))
            )
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


def left_out_reduced_costs(
    problem, model: LocateModel, threshold: float, per_unit: int
) -> tuple[PairSet | None, float, float]:
    """Scan every allowed pair outside the model. Returns the pairs with reduced cost below
    ``threshold`` (up to ``per_unit`` per unit, cheapest first), the Lagrangian correction
    ``sum_u min(0, min_s rc[u, s])`` and the smallest reduced cost still left out after
    those pairs join (pricing.scan_left_out, with this model's duals: its bands are
    written in ``y``-scaled units, and it has no budget row)."""
    duals = read_duals(
        problem,
        model.base.assign_once,
        model.band_min,
        model.band_max,
        band_scale=model.band_scale,
    )
    new, correction, _, smallest = scan_left_out(
        problem, model.base.pairs, duals, per_unit, threshold=threshold
    )
    return new, correction, smallest


def _set_start(model: LocateModel, unit_site: np.ndarray) -> None:
    """The plan as the solver's start: x on its pairs, y on the sites it opens."""
    set_start(model.base, unit_site)
    opened = set(np.unique(unit_site).tolist())
    for s, var in enumerate(model.y):
        var.setInitialValue(1.0 if s in opened else 0.0)


def solve_locate_problem(
    problem, count: int, settings: SolveSettings, progress: Callable[[str], None] | None = None
) -> LocateResult:
    """Choose ``count`` sites among ``problem.rep_ids`` and serve every unit from one."""
    say = progress or (lambda message: None)
    clock = Clock(settings.time_limit)
    phases: list[dict] = []
    if not 1 <= count <= problem.n_reps:
        raise InputError(
            f"the number of bases must be between 1 and the {problem.n_reps} "
            f"candidate sites; got {count}"
        )
    if not _has_bands(problem) and problem.n_units * problem.n_reps <= DENSE_PAIRS:
        result = solve_median_by_lagrange(problem, count, settings, say)
        if result is not None:
            return result
        say("locate: no plan within the rules found yet; continuing with the priced LP")
        settings = replace(settings, time_limit=clock.remaining)
        clock = Clock(settings.time_limit)
    if sparse_search_applies(problem, settings):
        from .locate_search import solve_sparse_locate

        return solve_sparse_locate(problem, count, settings, say)
    small = problem.n_units * problem.n_reps <= settings.full_model_pairs
    # a unit must see a few of the N bases: about S/N sites lie around each one
    k = (
        problem.n_reps
        if small
        else min(
            problem.n_reps,
            max(settings.candidates, 2, int(math.ceil(2.0 * problem.n_reps / count))),
        )
    )
    pairs, total = locate_candidates(problem, count, k)
    say(f"locate: {len(pairs):,} candidate pairs of {total:,}")

    # 1. LP over the candidates, widened while infeasible, priced until nothing improves it
    while True:
        model = build_locate_model(problem, pairs, count, relax=True, name="locate_lp")
        outcome = run(model, settings, mip=False, time_limit=clock.remaining)
        phases.append(
            {
                "phase": "lp",
                "pairs": len(pairs),
                "status": outcome.status,
                "objective": outcome.objective,
                "seconds": round(clock.elapsed, 3),
            }
        )
        if outcome.status == "infeasible" and len(pairs) < total:
            k = min(problem.n_reps, int(math.ceil(k * 1.5)) + 1)
            pairs, _ = locate_candidates(problem, count, k)
            continue
        if outcome.status == "infeasible":
            raise InfeasibleError(
                [
                    f"no choice of {count} bases serves every account within "
                    "the bands and rules (the LP relaxation is infeasible)"
                ]
            )
        if not outcome.has_solution:
            raise SolverError(
                f"the LP relaxation stopped without a solution "
                f"({outcome.status}); raise the time limit"
            )
        new, correction, smallest = left_out_reduced_costs(problem, model, -TINY, per_unit=5)
        lp_bound = outcome.objective + correction
        if new is None or clock.remaining <= 0:
            break
        pairs = PairSet.concat([pairs, new])
    say(f"locate: LP bound {lp_bound:,.2f} over {len(pairs):,} pairs")
    lp_model, lp_pairs = model, len(pairs)

    # 2. a first plan: open the N sites the LP opens most, assign with the plan strategy
    incumbent, incumbent_cost, milp_bound = None, math.inf, -math.inf
    opened = _sites_from_lp(lp_model, count)
    first = _assign_to_sites(problem, opened, settings, 0.4 * clock.remaining)
    if first is not None:
        incumbent, incumbent_cost = first, objective_of(problem, first)
        phases.append(
            {
                "phase": "sites from LP",
                "objective": incumbent_cost,
                "seconds": round(clock.elapsed, 3),
            }
        )
        say(
            f"locate: first plan {incumbent_cost:,.2f}, gap "
            f"{relative_gap(incumbent_cost, lp_bound):.3%}"
        )

    # 3. MILP over the candidates; add the pairs that could still beat the plan; repeat
    while incumbent is None or relative_gap(incumbent_cost, lp_bound) > settings.gap:
        if incumbent is not None and clock.remaining < 1.0:
            break
        model = build_locate_model(problem, pairs, count, relax=False, name="locate")
        if incumbent is not None:
            _set_start(model, incumbent)
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=clock.remaining,
            gap=settings.gap,
            warm_start=incumbent is not None,
        )
        phases.append(
            {
                "phase": "mip",
                "pairs": len(pairs),
                "status": outcome.status,
                "objective": outcome.objective,
                "bound": outcome.bound,
                "seconds": round(clock.elapsed, 3),
            }
        )
        if outcome.status == "infeasible" and len(pairs) < total:
            pairs, _ = locate_candidates(problem, count, min(problem.n_reps, 2 * k + 1))
            k = 2 * k + 1
            continue
        if outcome.status == "infeasible":
            raise InfeasibleError(
                [
                    f"no choice of {count} bases serves every account within "
                    "the bands and rules (proven by the solver)"
                ]
            )
        if outcome.has_solution:
            plan, _ = read_assignment(model.base, problem.n_units)
            cost = objective_of(problem, plan)
            if cost < incumbent_cost - TINY:
                incumbent, incumbent_cost = plan, cost
        if incumbent is None:
            raise SolverError(
                f"no feasible set of {count} bases was found within "
                f"{settings.time_limit:g} s; raise the time limit"
            )
        milp_bound = outcome.bound if outcome.bound is not None else lp_bound
        # pairs whose reduced cost leaves room below the incumbent could still improve it
        room = incumbent_cost - lp_bound
        if len(pairs) != lp_pairs:
            lp_model, lp_pairs = (
                lp_model_for_pricing(problem, pairs, count, settings, clock.remaining),
                len(pairs),
            )
        new, _, smallest = (
            left_out_reduced_costs(problem, lp_model, room, per_unit=problem.n_reps)
            if len(pairs) < total
            else (None, 0.0, math.inf)
        )
        if new is None or clock.remaining <= 0:
            break
        say(f"locate: {len(new):,} left-out pairs could beat {incumbent_cost:,.2f}; adding")
        pairs = PairSet.concat([pairs, new])
    bound = min(max(milp_bound, lp_bound), lp_bound + max(smallest, 0.0), incumbent_cost)
    if len(pairs) >= total:
        bound = min(max(milp_bound, lp_bound), incumbent_cost)
    gap = relative_gap(incumbent_cost, bound)
    status = plan_status(gap, settings.gap)
    return LocateResult(
        unit_rep=incumbent,
        objective=problem.sense * incumbent_cost,
        lower_bound=problem.sense * bound,
        gap=gap,
        status=status,
        seconds=clock.elapsed,
        phases=phases,
        candidate_pairs=len(pairs),
        total_pairs=total,
    )


SEARCH_MIN_PAIRS = 50_000  # from this many pairs on, the constructive search runs


def sparse_search_applies(problem, settings: SolveSettings) -> bool:
    """Instances of SEARCH_MIN_PAIRS pairs or more with HiGHS and rep-independent loads go
    to the constructive search with the Lagrangian bound (optimize/locate_search.py): the
    PuLP model below needs memory and time that grow with every pair. Smaller ones, and
    other solvers, keep the priced PuLP path, which proves them optimal."""
    return (
        solver_name(settings.solver) == "HiGHS"
        and problem.pair_load is None
        and problem.n_units * problem.n_reps >= SEARCH_MIN_PAIRS
    )


def _sites_from_lp(model: LocateModel, count: int) -> np.ndarray:
    """The ``count`` sites with the largest LP opening (ties: the first by ID)."""
    values = np.array([v.varValue or 0.0 for v in model.y])
    return np.sort(np.argsort(-values, kind="stable")[:count])


def _assign_to_sites(
    problem, sites: np.ndarray, settings: SolveSettings, time_limit: float
) -> np.ndarray | None:
    """Assign every unit to one of the given open sites with the plan strategy
    (strategy.solve_assignment); None when those sites cannot meet the bands."""

    sub = with_sites(problem, sites)
    try:
        result = solve_assignment(sub, replace(settings, time_limit=max(time_limit, 1.0)))
    except (InfeasibleError, SolverError):
        return None
    return sites[result.unit_rep]


def lp_model_for_pricing(problem, pairs, count, settings, time_limit: float) -> LocateModel:
    """The LP over the current pairs, solved, for its duals (pricing after pairs joined)."""
    model = build_locate_model(problem, pairs, count, relax=True, name="locate_lp")
    run(model, settings, mip=False, time_limit=time_limit)
    return model


def solve_locate(
    cost: np.ndarray,
    count: int,
    *,
    loads: np.ndarray | None = None,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    settings: SolveSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> LocateResult:
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
