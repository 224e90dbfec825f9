"""The p-median without bands, proven optimal through its Lagrangian dual.

A first plan by greedy additions and interchange swaps, the Lagrangian dual of the
assign-once rows (median_dual.py) with reduced-cost fixing of sites and pairs against the
incumbent, a site branch and bound bounded by the same dual for few bases, and the strong
formulation (locate_model.py) over the surviving pairs for many.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import pulp

from ..errors import InfeasibleError, SolverError
from .locate_model import LocateModel, LocateResult, build_locate_model, fix_site_rows
from .median_dual import (
    MedianBound,
    _cutoff,
    _MedianDual,
    lagrangian_median_bound,
    median_branch_and_bound,
)
from .model import read_assignment
from .pairs import pairs_for
from .results import plan_status, relative_gap
from .settings import TINY, Clock, SolveSettings
from .solvers import make_solver, run, solver_name, translate_status

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


def _priced_costs(problem, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(allowed pairs as a (U, S) mask, costs with every forbidden pair priced so that any
    plan using one costs more than any plan without, the sites that may serve some unit,
    that price). Raises InfeasibleError when a unit has no site or too few sites serve."""
    cost = dense_costs(problem)
    if not np.isfinite(cost).any(axis=1).all():
        unit = problem.unit_ids[int(np.flatnonzero(~np.isfinite(cost).any(axis=1))[0])]
        raise InfeasibleError([f"unit {unit} may not be served from any candidate site"])
    finite = np.isfinite(cost)
    high = 2.0 * float(np.abs(cost[finite]).max()) * cost.shape[0] + 1.0
    priced = np.where(finite, cost, high)
    allowed_sites = np.flatnonzero(finite.any(axis=0))
    if len(allowed_sites) < count:
        raise InfeasibleError(
            [
                f"only {len(allowed_sites)} candidate sites may serve any "
                f"unit; {count} bases were asked for"
            ]
        )
    return finite, priced, allowed_sites, high


def _greedy_sites(priced: np.ndarray, allowed_sites: np.ndarray, count: int, high: float):
    """Open ``count`` sites one at a time, each the one that saves the most over those open."""
    sites = np.zeros(0, dtype=int)
    reach = np.full(priced.shape[0], high * 2)
    for _ in range(count):
        gain = np.maximum(reach[:, None] - priced[:, allowed_sites], 0.0).sum(axis=0)
        gain[np.isin(allowed_sites, sites)] = -1.0
        pick = allowed_sites[int(np.argmax(gain))]
        sites = np.append(sites, pick)
        reach = np.minimum(reach, priced[:, pick])
    return sites


class _MedianSearch:
    """One run of solve_median_by_lagrange: the priced costs, the best plan so far
    (``upper``, ``unit_site``), the bound proven so far (``lower``), the dual and its
    multipliers, and the phases run."""

    def __init__(self, problem, count: int, settings: SolveSettings, say: Callable[[str], None]):
        self.problem, self.count, self.settings, self.say = problem, count, settings, say
        self.clock = Clock(settings.time_limit)
        self.phases: list[dict] = []
        self.finite, self.priced, self.allowed_sites, self.high = _priced_costs(problem, count)
        self.integral = bool(np.all(self.priced == np.round(self.priced)))
        self.seen: set[tuple[int, ...]] = set()
        self.upper, self.unit_site = math.inf, np.zeros(0, dtype=int)
        self.lower: float = -math.inf
        self.removed_floor = math.inf  # plans the reduction removes cost at least this much
        self.dual: _MedianDual | None = None
        self.bound: MedianBound | None = None

    def _rounded_up(self, value: float) -> float:
        """A bound on integer costs is the next integer up (less a rounding margin)."""
        return math.ceil(value - 1e-6) if self.integral else value

    def _phase(self, **facts) -> None:
        self.phases.append({**facts, "seconds": round(self.clock.elapsed, 3)})

    def gap_open(self) -> bool:
        """Whether the gap is above the target with time left for another phase."""
        return relative_gap(self.upper, self.lower) > self.settings.gap and (
            self.clock.remaining > 0.5
        )

    def first_plan(self) -> None:
        """Step 1: greedy additions, then interchange swaps."""
        sites = _greedy_sites(self.priced, self.allowed_sites, self.count, self.high)
        sites = improve_by_swaps(self.priced, sites, self.allowed_sites, self.clock.deadline(0.2))
        self.upper, self.unit_site = serving_cost(self.priced, sites)
        self._phase(phase="greedy + swaps", objective=self.upper)
        self.say(f"locate: first plan {self.upper:,.2f}")

    def on_sites(self, chosen: np.ndarray) -> float:
        """The primal heuristic of the dual: polish promising site sets by swaps; returns
        the incumbent's cost."""
        key = tuple(np.sort(chosen).tolist())
        if key in self.seen:
            return self.upper
        self.seen.add(key)
        value, _ = serving_cost(self.priced, np.sort(chosen))
        if value < self.upper + 0.02 * abs(self.upper):  # worth polishing
            improved = improve_by_swaps(
                self.priced, np.sort(chosen), self.allowed_sites, self.clock.deadline(0.1)
            )
            value, served = serving_cost(self.priced, improved)
            if value < self.upper - TINY:
                self.upper, self.unit_site = value, served
        return self.upper

    def dual_bound(self) -> None:
        """Step 2: the Lagrangian dual, started from each unit's second-cheapest cost."""
        dual = _MedianDual(self.priced, self.count, self.integral)
        dual.cutoff = _cutoff(dual, self.upper)
        sub = np.sort(self.priced, axis=1)
        start = sub[:, 1] if sub.shape[1] > 1 else sub[:, 0]
        bound = lagrangian_median_bound(
            dual,
            start.copy(),
            self.upper,
            self.clock.deadline(0.5),
            self.settings.gap,
            self.on_sites,
        )
        dual.cutoff = _cutoff(dual, self.upper)
        self.dual, self.bound = dual, bound
        self.lower = self._rounded_up(bound.value)
        self.removed_floor = self.upper if self.integral else dual.cutoff
        closed, opened = int(bound.closed.sum()), int(bound.opened.sum())
        self._phase(
            phase="lagrangian",
            objective=self.upper,
            bound=bound.value,
            iterations=bound.iterations,
            closed=closed,
            opened=opened,
        )
        self.say(
            f"locate: Lagrangian bound {bound.value:,.2f} after {bound.iterations} steps, plan "
            f"{self.upper:,.2f}; {closed} sites closed, {opened} open by reduced cost"
        )

    def branch_and_bound(self) -> None:
        """Step 3: the site tree bounded by the dual; its fixes are undone afterwards."""
        dual, bound = self.dual, self.bound
        tree_bound, finished, nodes = median_branch_and_bound(
            dual, bound, self.upper, self.clock.deadline(0.95), self.on_sites
        )
        self.removed_floor = self.upper if self.integral else _cutoff(dual, self.upper)
        reached = min(tree_bound, self.removed_floor)
        self.lower = max(self.lower, self._rounded_up(reached))
        self._phase(
            phase="branch and bound",
            objective=self.upper,
            bound=self.lower,
            nodes=nodes,
            finished=finished,
        )
        self.say(
            f"locate: branch and bound, {nodes} nodes: plan {self.upper:,.2f}, "
            f"bound {self.lower:,.2f}"
        )
        dual.closed, dual.opened = bound.closed.copy(), bound.opened.copy()
        dual.cutoff = _cutoff(dual, self.upper)

    def reduced_mip(self) -> int:
        """Step 4: the strong formulation over the pairs the reduction keeps, looking only
        for plans cheaper than the incumbent. Returns the number of pairs kept."""
        dual, bound = self.dual, self.bound
        value, rho, chosen = dual.evaluate(bound.multipliers)
        kept = dual.kept_pairs(value, bound.multipliers, rho, chosen)
        if not kept.any(axis=1).all():
            self.lower = self.removed_floor  # some unit has no pair left: no cheaper plan
            return int(kept.sum())
        units, site_of = np.nonzero(kept)
        pairs = pairs_for(self.problem, units, site_of)
        model = build_locate_model(self.problem, pairs, self.count, relax=False, name="locate")
        fix_site_rows(model, bound.closed, bound.opened)
        outcome = run_with_cutoff(model, self.settings, self.clock.remaining, cutoff=self.upper)
        self._phase(
            phase="reduced mip",
            pairs=len(pairs),
            status=outcome.status,
            objective=outcome.objective,
            bound=outcome.bound,
        )
        if outcome.status == "infeasible":
            self.lower = self.removed_floor
        elif outcome.has_solution:
            plan, _ = read_assignment(model.base, self.problem.n_units)
            plan_value = float(self.priced[np.arange(len(plan)), plan].sum())
            if plan_value < self.upper - TINY:
                self.upper, self.unit_site = plan_value, plan
        if outcome.bound is not None and outcome.status != "infeasible":
            milp = min(outcome.bound, self.removed_floor)
            self.lower = max(self.lower, self._rounded_up(milp))
        return int(kept.sum())

    def result(self, kept_count: int) -> LocateResult | None:
        """The best plan with its bound; None when it needs a forbidden pair unproven."""
        lower = min(self.lower, self.upper)
        gap = relative_gap(self.upper, lower)
        if not self.finite[np.arange(len(self.unit_site)), self.unit_site].all():
            # the plan needs a forbidden pair, priced above any allowed plan's total
            if gap <= 1e-6:
                raise InfeasibleError(
                    [
                        f"no choice of {self.count} bases serves every account within "
                        "the rules (proven: the cheapest choice needs a forbidden "
                        "pair)"
                    ]
                )
            return None
        status = plan_status(gap, self.settings.gap)
        self.say(f"locate: {self.upper:,.2f}, bound {lower:,.2f}, gap {gap:.3%}")
        return LocateResult(
            unit_rep=self.unit_site,
            objective=self.problem.sense * self.upper,
            lower_bound=self.problem.sense * lower,
            gap=gap,
            status=status,
            seconds=self.clock.elapsed,
            phases=self.phases,
            candidate_pairs=kept_count,
            total_pairs=int(self.finite.sum()),
        )


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

    Few bases leave a wide LP gap that a site branch and bound on the Lagrangian bound closes
    in few nodes; many bases leave a tiny gap the MILP closes. After an unfinished tree the
    reduced MILP is not run: its LP is the tree's bound.
    """
    search = _MedianSearch(problem, count, settings, say)
    search.first_plan()
    search.dual_bound()
    tree_ran = False
    if count <= BRANCH_MAX_COUNT and search.gap_open():
        search.branch_and_bound()
        tree_ran = True
    kept_count = 0
    if search.gap_open() and not tree_ran:
        kept_count = search.reduced_mip()
    return search.result(kept_count)
