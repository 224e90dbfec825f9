"""The capacitated p-median: a Lagrangian dual whose sites solve 0-1 knapsacks, the plans
its sites give, and the pairs and sites it rules out before the MILP.

For one capacity metric (``a[u] >= 0``, every open site s carrying at most ``Q[s]``, no
lower band) relax the assign-once rows with free multipliers ``lam``:

    L(lam) = sum_u lam[u] + (sum of the N smallest rho[s]),
    rho[s] = min sum_u (c[u, s] - lam[u]) x[u]  over binary x with  sum_u a[u] x[u] <= Q[s].

Every plan opens N sites, serves each unit once and keeps each capacity, so its cost is at
least L(lam) for every ``lam`` (weak duality): each value is a proven bound. The 0-1
knapsack is solved exactly by dynamic programming over the capacity, so the best L is the
bound of the set-partitioning LP, at least the strong formulation's LP bound (pmedcap20:
973.6, the subgradient steps reach about 972.5, against 961.2; the optimum is 1,005).
Loads are put on an integer grid by rounding them down and each capacity down to the grid
(``sum floor(a / g) x <= sum a x / g <= Q / g``): a relaxation, so the bound stays proven
for fractional loads too; integral loads with a small capacity are kept exact.

The same dual rules choices out against the incumbent (reduced-cost fixing, as in
median_dual.py). With ``w`` the dearest site taken and ``v`` the cheapest left, a plan that

    opens a site s not taken      costs at least  L + rho[s] - rho[w],
    closes a site s taken         costs at least  L + rho[v] - rho[s],
    serves u from s               costs at least  L - rho[s or w] + c[u, s] - lam[u]
                                                    + F[s](Q[s] - a[u]),

where ``F[s](q)`` is the knapsack's value over capacity q (every unit allowed, so at most
the value without u). A choice whose bound reaches the cutoff is in no plan cheaper than the
incumbent; the MILP of the strong formulation is then built over what is left.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from .construct import relocate
from .locate_model import LocateResult, build_locate_model, fix_site_rows, set_locate_start
from .median_dual import fix_sites_by_rho, inner_choice
from .median_lagrange import dense_costs, improve_by_swaps
from .model import read_assignment
from .pairs import pairs_for
from .results import plan_status, relative_gap
from .settings import TINY, Clock, SolveSettings
from .site_pairs import priced_pairs
from .solvers import run
from .strong_model import build_strong_model, plan_from, solve_strong

GRID_STEPS = 1000  # most capacity steps of the knapsack table (loads rounded down to it)
TABLE_ENTRIES = 20_000_000  # most site x unit x step entries one evaluation may touch
DUAL_SHARE = 0.2  # of the time limit for the dual and its plans; the MILP gets the rest
ALLOCATION_SECONDS = 0.5  # longest allocation of units to one set of sites
ALLOCATION_GAP = 0.002  # a heuristic's plan: the proof is the MILP's, not the allocation's
STALL_STEPS = 20  # steps without a better bound before the step size halves
PLAN_EVERY = 10  # every this many steps the inner problem's sites are allocated as a plan
STEP_END = 1e-3  # Polyak's factor at which the ascent stops


def capacity_metric(problem) -> int | None:
    """The one metric with a finite maximum, when the bands are a capacity and nothing else:
    no positive minimum, loads >= 0 and the same for every site, every other metric
    unbounded. None otherwise (those problems keep the priced LP path)."""
    if problem.pair_load is not None or problem.n_metrics == 0:
        return None
    if (np.isfinite(problem.lower) & (problem.lower > 0)).any():
        return None
    capped = [m for m in range(problem.n_metrics) if np.isfinite(problem.upper[m]).any()]
    if len(capped) != 1:
        return None
    metric = capped[0]
    if (problem.unit_load[metric] < 0).any() or not np.isfinite(problem.upper[metric]).all():
        return None
    return metric


def capacity_knapsack_applies(problem) -> bool:
    """A capacity as above and a knapsack table small enough to evaluate many times."""
    if capacity_metric(problem) is None:
        return False
    return problem.n_units * problem.n_reps * 10 <= TABLE_ENTRIES


class CapacityKnapsacks:
    """Every site's 0-1 knapsack of the module docstring on an integer load grid."""

    def __init__(self, cost: np.ndarray, load: np.ndarray, capacity: np.ndarray):
        self.cost_by_site = np.ascontiguousarray(cost.T, dtype=float)  # (S, U), inf: forbidden
        n_sites, n_units = self.cost_by_site.shape
        steps = int(min(GRID_STEPS, max(10, TABLE_ENTRIES // max(n_sites * n_units, 1))))
        top = float(np.max(capacity)) if len(capacity) else 0.0
        exact = np.all(load == np.round(load)) and np.all(capacity == np.floor(capacity))
        # the grid: one load unit when loads are integers and the capacity fits the table
        grid = 1.0 if exact and top <= steps else max(top / steps, TINY)
        self.weight = np.floor(load / grid + 1e-9).astype(int)  # rounded down: a relaxation
        self.capacity = np.floor(capacity / grid + 1e-9).astype(int)  # (S,)
        self.width = int(self.capacity.max()) + 1 if len(capacity) else 1

    def values(self, lam: np.ndarray, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rho[s] for ``sites``, the table F[s](q) for every capacity q)."""
        reduced = self.cost_by_site[sites] - lam[None, :]
        table = np.zeros((len(sites), self.width))
        # a unit of non-negative reduced cost never lowers a minimum: skip it
        for u in np.flatnonzero((reduced < 0).any(axis=0)).tolist():
            w = self.weight[u]
            shifted = table[:, : self.width - w] + reduced[:, u : u + 1]
            np.minimum(table[:, w:], shifted, out=table[:, w:])
        rho = table[np.arange(len(sites)), self.capacity[sites]]
        return rho, table

    def members(self, lam: np.ndarray, sites: np.ndarray) -> np.ndarray:
        """(len(sites), U) bool: the units each site's knapsack takes (for the steps)."""
        reduced = self.cost_by_site[sites] - lam[None, :]
        useful = np.flatnonzero((reduced < 0).any(axis=0))
        table = np.zeros((len(sites), self.width))
        took = np.zeros((len(useful), len(sites), self.width), dtype=bool)
        for k, u in enumerate(useful.tolist()):
            w = self.weight[u]
            shifted = np.full_like(table, np.inf)
            shifted[:, w:] = table[:, : self.width - w] + reduced[:, u : u + 1]
            took[k] = shifted < table
            np.minimum(table, shifted, out=table)
        chosen = np.zeros((len(sites), reduced.shape[1]), dtype=bool)
        left = self.capacity[sites].copy()
        rows = np.arange(len(sites))
        for k in range(len(useful) - 1, -1, -1):
            take = took[k, rows, left]
            chosen[take, useful[k]] = True
            left -= np.where(take, self.weight[useful[k]], 0)
        return chosen


def cutoff_value(upper: float, integral: bool) -> float:
    """What a bound must reach to rule a choice out: with integer costs every cheaper plan
    costs at most ``upper - 1``."""
    return upper - 1.0 + 1e-6 if integral else upper - 1e-9 * max(1.0, abs(upper))


def kept_pairs(knapsacks, lam, value, rho, table, chosen, closed, opened, cutoff):
    """(U, S) bool: the pairs whose forced use keeps the bound below the cutoff,
    ``L - rho[s or w] + c[u, s] - lam[u] + F[s](Q[s] - a[u])`` (module docstring)."""
    n_sites, n_units = knapsacks.cost_by_site.shape
    taken = np.zeros(n_sites, dtype=bool)
    taken[chosen] = True
    free_taken = taken & ~opened
    worst_taken = rho[free_taken].max() if free_taken.any() else np.inf
    replaced = np.where(taken, rho, worst_taken)  # (S,) what serving from s gives up
    room = knapsacks.capacity[:, None] - knapsacks.weight[None, :]  # (S, U)
    rest = np.where(room >= 0, np.take_along_axis(table, np.maximum(room, 0), axis=1), np.inf)
    reduced = knapsacks.cost_by_site - lam[None, :]
    with np.errstate(invalid="ignore"):
        forced = value - replaced[:, None] + reduced + rest
    keep = (forced < cutoff) & ~closed[:, None] & np.isfinite(knapsacks.cost_by_site)
    return keep.T


def allocate_exactly(problem, cost, sites, settings, seconds) -> np.ndarray | None:
    """Every unit to one of ``sites`` within the capacities: the MILP over every allowed
    pair to them (the strong model with the sites fixed; small at the sizes this path
    takes), or None when it finds no plan within ``seconds``. The LP-rounding allocation
    of construct.py fails where capacities are tight: it fixes the units the LP keeps whole,
    and the split ones may then fit nowhere."""
    units, columns = np.nonzero(np.isfinite(cost[:, sites]))
    pairs = priced_pairs(problem, units, sites[columns])
    model = build_strong_model(problem, pairs, len(sites), fixed_sites=np.sort(sites))
    outcome = solve_strong(
        model, settings, mip=True, time_limit=seconds, gap=max(settings.gap, ALLOCATION_GAP)
    )
    return plan_from(model, outcome.values, problem.n_units) if outcome.has_solution else None


class _CapacitatedSearch:
    """One run of solve_capacitated_median: the incumbent, the proven bound, the dual's
    multipliers and fixes, and the phases run."""

    def __init__(self, problem, count: int, settings: SolveSettings, say):
        self.problem, self.count, self.settings, self.say = problem, count, settings, say
        self.clock = Clock.for_settings(settings)
        self.cost = dense_costs(problem)
        self.integral = bool(np.all(self.cost[np.isfinite(self.cost)] % 1 == 0))
        metric = capacity_metric(problem)
        self.knapsacks = CapacityKnapsacks(
            self.cost, problem.unit_load[metric], problem.upper[metric]
        )
        self.allowed_sites = np.flatnonzero(np.isfinite(self.cost).any(axis=0))
        self.upper, self.plan = math.inf, None
        self.lower = -math.inf
        self.closed = np.zeros(problem.n_reps, dtype=bool)
        self.opened = np.zeros(problem.n_reps, dtype=bool)
        self.lam = None
        self.seen: set[tuple[int, ...]] = set()
        self.allocations = 0
        self.phases: list[dict] = []

    def _phase(self, **facts) -> None:
        self.phases.append({**facts, "seconds": round(self.clock.elapsed, 3)})

    def _rounded_up(self, value: float) -> float:
        return math.ceil(value - 1e-6) if self.integral else value

    @property
    def cutoff(self) -> float:
        return cutoff_value(self.upper, self.integral)

    def offer_sites(
        self, sites: np.ndarray, deadline: float, longest: float = ALLOCATION_SECONDS
    ) -> None:
        """Allocate the units to ``sites`` within the capacities, then move each base to
        its territory's 1-median while that gains; keep the best plan."""
        key = tuple(np.sort(sites).tolist())
        if key in self.seen or time.perf_counter() >= deadline:
            return
        self.seen.add(key)
        # each unit at its cheapest of these sites, capacity ignored: no allocation to them
        # costs less, so when that reaches the incumbent the MILP below is not worth running
        if self.cost[:, np.sort(sites)].min(axis=1).sum() >= self.upper - TINY:
            return
        self.allocations += 1
        seconds = min(longest, deadline - time.perf_counter())
        plan = allocate_exactly(self.problem, self.cost, np.sort(sites), self.settings, seconds)
        pool = self.allowed_sites
        pool_cost = np.where(np.isfinite(self.cost[:, pool]), self.cost[:, pool], 1e30)
        while plan is not None:
            value = float(self.cost[np.arange(len(plan)), plan].sum())
            if value < self.upper - TINY:
                self.upper, self.plan = value, plan
            moved = relocate(self.problem, plan, pool, pool_cost)
            moved_key = None if moved is None else tuple(np.unique(moved).tolist())
            if moved_key is None or moved_key in self.seen or time.perf_counter() >= deadline:
                break
            self.seen.add(moved_key)
            self.allocations += 1
            seconds = min(longest, deadline - time.perf_counter())
            plan = allocate_exactly(
                self.problem, self.cost, np.unique(moved), self.settings, seconds
            )
            if plan is not None and float(self.cost[np.arange(len(plan)), plan].sum()) >= value:
                break

    def spread_sites(self, lam: np.ndarray, rho: np.ndarray) -> np.ndarray:
        """N sites for a plan from the knapsacks: by increasing rho, each taken when at most
        half of the units its knapsack holds are held by a site taken before. Many sites tie
        on rho (their knapsacks hold nearly the same units); the plain N smallest then pile
        onto one neighbourhood and leave the rest of the map unserved."""
        order = np.argsort(rho, kind="stable")
        order = order[np.isfinite(rho[order])][: 3 * self.count]
        holds = self.knapsacks.members(lam, order)
        covered = np.zeros(self.problem.n_units, dtype=bool)
        taken: list[int] = []
        for row, site in enumerate(order.tolist()):
            units = holds[row]
            if units.any() and covered[units].mean() > 0.5:
                continue
            taken.append(site)
            covered |= units
            if len(taken) == self.count:
                break
        for site in order.tolist():  # too few: fill up by rho
            if len(taken) == self.count:
                break
            if site not in taken:
                taken.append(site)
        return np.array(taken, dtype=int)

    def first_plan(self) -> None:
        """Greedy + interchange for travel alone, then allocated within the capacities."""
        priced = np.where(np.isfinite(self.cost), self.cost, 1e30)
        reach = np.full(len(priced), 2e30)
        sites: list[int] = []
        for _ in range(self.count):
            gain = np.maximum(reach[:, None] - priced[:, self.allowed_sites], 0.0).sum(axis=0)
            gain[np.isin(self.allowed_sites, sites)] = -1.0
            pick = int(self.allowed_sites[int(np.argmax(gain))])
            sites.append(pick)
            reach = np.minimum(reach, priced[:, pick])
        swapped = improve_by_swaps(
            priced, np.array(sites), self.allowed_sites, self.clock.deadline(0.05)
        )
        # the first plan may take longer than the dual's: without one the dual has no target
        deadline = self.clock.deadline(0.1)
        self.offer_sites(swapped, deadline, longest=deadline - time.perf_counter())
        self._phase(phase="greedy + swaps + allocation", objective=self.upper)
        self.say(f"locate: first plan {self.upper:,.2f}")

    def dual(self) -> None:
        """Subgradient ascent on L (Polyak steps towards the incumbent), every PLAN_EVERY-th
        iterate's sites allocated as a plan, sites fixed on the way."""
        knapsacks, count = self.knapsacks, self.count
        finite = np.where(np.isfinite(self.cost), self.cost, np.nan)
        lam = np.nan_to_num(np.nanmin(finite, axis=1))
        second = np.sort(np.where(np.isfinite(self.cost), self.cost, np.inf), axis=1)
        if second.shape[1] > 1:
            lam = np.where(np.isfinite(second[:, 1]), second[:, 1], lam)
        deadline = self.clock.deadline(DUAL_SHARE)
        best, best_lam, theta, stale, steps = -math.inf, lam.copy(), 2.0, 0, 0
        live = np.flatnonzero(np.isfinite(self.cost).any(axis=0))
        while time.perf_counter() < deadline and theta > STEP_END:
            steps += 1
            rho = np.full(self.problem.n_reps, np.inf)
            rho[live] = knapsacks.values(lam, live)[0]
            chosen = inner_choice(rho, self.closed, self.opened, count)
            value = float(lam.sum() + rho[chosen].sum())
            if value > best + 1e-9 * max(1.0, abs(value)):
                best, best_lam, stale = value, lam.copy(), 0
            else:
                stale += 1
                if stale >= STALL_STEPS:
                    theta, stale = theta / 2.0, 0
            if steps % PLAN_EVERY == 1:
                self.offer_sites(self.spread_sites(lam, rho), deadline)
            if np.isfinite(self.upper):
                fix_sites_by_rho(value, rho, chosen, self.closed, self.opened, self.cutoff, count)
            if np.isfinite(self.upper) and (
                best >= self.cutoff or relative_gap(self.upper, best) <= self.settings.gap
            ):
                break
            served = knapsacks.members(lam, chosen).sum(axis=0)
            direction = 1.0 - served
            norm = float(direction @ direction)
            if norm == 0.0:
                break  # the knapsacks serve every unit once: L is that plan's cost
            target = self.upper if np.isfinite(self.upper) else abs(value) * 1.1 + 1.0
            lam = lam + theta * max(target - value, 1e-6 * abs(target)) / norm * direction
        self.lam, self.lower = best_lam, max(self.lower, self._rounded_up(best))
        self._phase(
            phase="knapsack lagrangian",
            bound=best,
            objective=self.upper,
            steps=steps,
            allocations=self.allocations,
        )
        self.say(
            f"locate: knapsack Lagrangian bound {best:,.2f} after {steps} steps, plan "
            f"{self.upper:,.2f}"
        )

    def reduced_mip(self) -> int:
        """The strong formulation over the pairs the dual keeps (plus the incumbent's),
        warm-started from the incumbent. Returns the number of pairs in it."""
        knapsacks, lam = self.knapsacks, self.lam
        live = np.flatnonzero(~self.closed)
        rho = np.full(self.problem.n_reps, np.inf)
        table = np.zeros((self.problem.n_reps, knapsacks.width))
        rho[live], table[live] = knapsacks.values(lam, live)
        chosen = inner_choice(rho, self.closed, self.opened, self.count)
        value = float(lam.sum() + rho[chosen].sum())
        cutoff = self.cutoff
        fix_sites_by_rho(value, rho, chosen, self.closed, self.opened, cutoff, self.count)
        keep = kept_pairs(
            knapsacks, lam, value, rho, table, chosen, self.closed, self.opened, cutoff
        )
        # every plan left out costs at least the cutoff: the incumbent with integer costs
        floor = self.upper if self.integral else cutoff
        keep[np.arange(self.problem.n_units), self.plan] = True
        units, sites = np.nonzero(keep)
        pairs = pairs_for(self.problem, units, sites)
        model = build_locate_model(self.problem, pairs, self.count, relax=False, name="locate")
        used = np.zeros(self.problem.n_reps, dtype=bool)
        used[self.plan] = True
        # the fixes that agree with the incumbent, so that it stays a valid start
        fix_site_rows(model, self.closed & ~used, self.opened & used)
        set_locate_start(model, self.plan)
        outcome = run(
            model,
            self.settings,
            mip=True,
            time_limit=self.clock.remaining,
            gap=self.settings.gap,
            warm_start=True,
        )
        self._phase(
            phase="reduced mip",
            pairs=len(pairs),
            closed=int(self.closed.sum()),
            opened=int(self.opened.sum()),
            status=outcome.status,
            objective=outcome.objective,
            bound=outcome.bound,
        )
        self.say(
            f"locate: reduced MILP over {len(pairs):,} pairs, {int(self.closed.sum())} sites "
            f"closed, {int(self.opened.sum())} open: {outcome.status}"
        )
        if outcome.has_solution:
            plan, _ = read_assignment(model.base, self.problem.n_units)
            plan_value = float(self.cost[np.arange(len(plan)), plan].sum())
            if plan_value < self.upper - TINY:
                self.upper, self.plan = plan_value, plan
        if outcome.status == "infeasible":
            self.lower = max(self.lower, floor)
        elif outcome.bound is not None:
            self.lower = max(self.lower, self._rounded_up(min(outcome.bound, floor)))
        return len(pairs)

    def result(self, pair_count: int) -> LocateResult:
        lower = min(self.lower, self.upper)
        gap = relative_gap(self.upper, lower)
        self.say(f"locate: {self.upper:,.2f}, bound {lower:,.2f}, gap {gap:.3%}")
        return LocateResult(
            unit_rep=self.plan,
            objective=self.problem.sense * self.upper,
            lower_bound=self.problem.sense * lower,
            gap=gap,
            status=plan_status(gap, self.settings.gap),
            seconds=self.clock.elapsed,
            phases=self.phases,
            candidate_pairs=pair_count,
            total_pairs=int(np.isfinite(self.cost).sum()),
        )


def solve_capacitated_median(
    problem, count: int, settings: SolveSettings, say: Callable[[str], None]
) -> LocateResult | None:
    """The capacitated p-median (capacity_metric), proven through the knapsack dual:

    1. a first plan: greedy + interchange sites, the units allocated within capacity;
    2. the knapsack Lagrangian (module docstring) by subgradient steps within DUAL_SHARE of
       the limit, every PLAN_EVERY-th iterate's sites allocated as a plan (and relocated
       while that gains);
    3. reduced-cost fixing of sites and pairs against the incumbent;
    4. the strong formulation's MILP over the pairs left, warm-started. The bound reported is
       ``max(knapsack bound, min(MILP bound, the incumbent))``: every plan the fixing left
       out costs at least the incumbent (with integer costs; the cutoff otherwise).

    None when the first sites admit no plan within the capacities (the caller's LP path
    takes over: its LP's sites and MILP may find one, or prove that none exists).
    """
    search = _CapacitatedSearch(problem, count, settings, say)
    search.first_plan()
    if search.plan is None:
        return None  # the LP path's sites and MILP may still find one, or prove none exists
    search.dual()
    pair_count = 0
    if relative_gap(search.upper, search.lower) > settings.gap and search.clock.remaining > 0.5:
        pair_count = search.reduced_mip()
    return search.result(pair_count)
