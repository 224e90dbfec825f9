"""Choosing bases within any time limit: a constructive plan first, then a proven bound.

1. Sparse candidates: one sweep over all pairs keeps each unit's cheapest allowed sites
   (optimize/site_pairs.py); the search uses the first LIST_SIZE of them.
2. Construct (optimize/construct.py), within CONSTRUCT_SHARE of the limit: from a bisection
   seed (regions of equal workload) and a greedy + interchange seed, the banded allocation
   to those bases and relocation while it gains. This is the plan a user gets even from a
   limit of a few seconds.
3. Bound, in the time left:
   - instances of at most FULL_MODEL_PAIRS allowed pairs: the LP relaxation of the strong
     formulation over all of them (optimize/strong_model.py) and its Lagrangian value, then
     the strong MILP warm-started from the incumbent; an infeasible LP or MILP over all
     pairs is a proof that no plan exists;
   - larger ones: the Lagrangian dual of the p-median without bands over the nearest-site
     lists (sparse_median_bound; dropping the bands only lowers the optimum), then, where
     bands bind, the Lagrangian dual that keeps the tightest band in each site's knapsack
     and prices the others (median_bands.py), much closer to the plans where bands are
     tight (the demo with 20 bases: 13.2M without bands, 17.1M with them).
   - no plan constructed: the elastic LP over the candidate pairs, priced, seeds one more
     allocation, and the MILP over the candidates gets the time left.

Every bound reported is proven (at worst the sum of each unit's cheapest allowed pair);
never an estimate.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from ..errors import InfeasibleError, SolverError
from .construct import (
    allocate,
    bisection_sites,
    greedy_and_swaps,
    priced_high,
    relocate,
    site_pool,
)
from .locate_model import LocateResult
from .median_bands import banded_bound_applies, banded_median_bound
from .model import PairSet
from .results import relative_gap
from .settings import Clock, SolveSettings
from .site_pairs import NearestSites, cost_to_sites, nearest_sites, priced_pairs, site_blocks
from .strong_model import (
    build_strong_model,
    dual_prices,
    lagrangian_bound,
    plan_from,
    solve_strong,
    start_vector,
)

LIST_SIZE = 24  # nearest allowed sites kept per unit
LP_SITES = 8  # of which the first LP offers each unit this many
PRICED_PER_UNIT = 4  # improving pairs a pricing round adds per unit
CONSTRUCT_SHARE = 0.8  # of the time limit for the plan; the rest proves the bound
BOUND_LIST_MAX = 1500  # most sites per unit in the lists of the no-band bound
FULL_MODEL_PAIRS = 50_000  # up to this many allowed pairs the model holds them all, exact
NO_BAND_SHARE = 0.1  # of the bound's time for the bound without bands, before the banded one
SWEEP_SECONDS = 2.0  # kept for a pricing sweep over all pairs after an LP


class _Search:
    """The incumbent, the best proven bound and the phase log of one locate solve."""

    def __init__(self, problem, count: int, settings: SolveSettings, say):
        self.problem, self.count, self.settings, self.say = problem, count, settings, say
        self.clock = Clock.for_settings(settings)
        self.plan: np.ndarray | None = None
        self.cost = math.inf
        self.bound = -math.inf
        self.left_out_floor = -math.inf  # no plan using a left-out pair costs less
        self.pool = self.pool_cost = None
        self.phases: list[dict] = []

    def until(self, share: float) -> float:
        """Seconds for a phase: ``share`` of the time left."""
        return max(0.0, share * self.clock.remaining)

    def offer(self, plan: np.ndarray | None, phase: str) -> bool:
        if plan is None:
            return False
        cost = plan_travel(self.problem, plan)
        better = cost < self.cost - 1e-9 * max(1.0, abs(cost))
        if better:
            self.plan, self.cost = plan, cost
        self.log(phase, objective=cost, kept=better)
        return better

    def log(self, phase: str, **extra) -> None:
        self.phases.append({"phase": phase, "seconds": round(self.clock.elapsed, 3), **extra})

    @property
    def gap(self) -> float:
        if self.plan is None or not np.isfinite(self.bound):
            return math.inf
        return relative_gap(self.cost, self.bound)


def plan_travel(problem, unit_site: np.ndarray) -> float:
    """The objective of a plan, priced over its own pairs only."""
    return float(priced_pairs(problem, np.arange(problem.n_units), unit_site).cost.sum())


def _check_reachable(problem, near: NearestSites, count: int) -> None:
    stranded = np.flatnonzero(~np.isfinite(near.cost[:, 0]))
    if len(stranded):
        names = ", ".join(str(problem.unit_ids[u]) for u in stranded[:10])
        more = f" and {len(stranded) - 10} more" if len(stranded) > 10 else ""
        raise InfeasibleError(
            [f"{len(stranded)} account(s) may not be served from any candidate site: {names}{more}"]
        )
    if int(near.reachable.sum()) < count:
        raise InfeasibleError(
            [
                f"only {int(near.reachable.sum())} candidate sites may serve any account; "
                f"{count} bases were asked for"
            ]
        )


def construct(search: _Search, near: NearestSites) -> None:
    """Phase 2 of the module docstring, from two seeds: greedy + interchange for travel,
    and the recursive bisection into regions of equal workload (construct.py)."""
    problem, count = search.problem, search.count
    pool = site_pool(near, count)
    pool_cost = priced_high(cost_to_sites(problem, pool))
    search.pool, search.pool_cost = pool, pool_cost
    seeds = [("bisection", lambda: bisection_sites(problem, count, pool, pool_cost))]
    seeds.append(
        (
            "greedy + swaps",
            lambda: pool[
                greedy_and_swaps(pool_cost, count, time.perf_counter() + search.until(0.1))
            ],
        )
    )
    for n, (name, make) in enumerate(seeds):
        if search.clock.remaining < 2.0:
            break
        sites = make()
        if sites is None:
            continue
        before = search.cost
        plan = allocate(problem, sites, search.settings, search.until(0.35))
        search.offer(plan, name)
        improve_by_relocation(search, plan, share=0.5 if n == 0 else 0.6)
        search.say(
            f"locate: plan from {name}: {search.cost:,.2f}"
            if search.cost < before
            else f"locate: the {name} bases gave no better plan"
        )


def improve_by_relocation(search: _Search, plan: np.ndarray | None, share: float) -> None:
    """Relocation and re-allocation (construct.py, step 4) from ``plan`` while they gain
    and the time lasts; every plan on the way is offered as the incumbent."""
    deadline = time.perf_counter() + search.until(share)
    cost = plan_travel(search.problem, plan) if plan is not None else math.inf
    while plan is not None and time.perf_counter() < deadline:
        moved = relocate(search.problem, plan, search.pool, search.pool_cost)
        if moved is None:
            return
        left = deadline - time.perf_counter()
        plan = allocate(search.problem, np.unique(moved), search.settings, left, start=moved)
        new_cost = plan_travel(search.problem, plan) if plan is not None else math.inf
        if new_cost >= cost - 1e-9 * max(1.0, abs(cost)):
            return
        cost = new_cost
        search.offer(plan, "relocation")


def sparse_median_bound(near: NearestSites, count: int, upper: float, deadline: float) -> float:
    """A proven bound from the p-median without bands (dropping rows only lowers the
    optimum): the Lagrangian dual of its assign-once rows over the nearest-site lists,

        L(lambda) = sum_u lambda[u] + (sum of the N smallest rho[s]),
        rho[s]    = sum_{u: s in list(u)} min(0, c[u, s] - lambda[u]),

    maximised by subgradient steps. Keeping ``lambda[u]`` at most the last cost of a full
    list makes every pair outside the lists contribute min(0, c - lambda) = 0, so the sparse
    sum is the exact L(lambda) and each value is a lower bound on every plan."""
    finite = np.isfinite(near.cost)
    full = finite.all(axis=1)
    cap = np.where(full, near.cost[:, -1], np.inf)
    keep = finite.ravel()
    units = np.repeat(np.arange(len(near.site), dtype=np.int32), near.site.shape[1])[keep]
    sites, costs = near.site.ravel()[keep].astype(np.int32), near.cost.ravel()[keep]
    n_sites = len(near.reachable)
    second = near.cost[:, min(1, near.cost.shape[1] - 1)]
    lam = np.minimum(np.where(np.isfinite(second), second, near.cost[:, 0]), cap)
    best, theta, stale = -math.inf, 2.0, 0
    while time.perf_counter() < deadline and theta > 1e-3:
        below = np.minimum(costs - lam[units], 0.0)
        rho = np.bincount(sites, below, minlength=n_sites)
        rho[~near.reachable] = np.inf
        chosen = np.argsort(rho, kind="stable")[:count]
        value = float(lam.sum() + rho[chosen].sum())
        if value > best + 1e-9 * max(1.0, abs(value)):
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 15:
                theta, stale = theta / 2.0, 0
        is_open = np.zeros(n_sites, dtype=bool)
        is_open[chosen] = True
        served = np.bincount(units, is_open[sites] & (below < 0), minlength=len(lam))
        direction = 1.0 - served
        norm = float(direction @ direction)
        if norm == 0.0 or best >= upper:
            break
        lam = np.minimum(lam + theta * (upper - value) / norm * direction, cap)
    return best


def _initial_pairs(search: _Search, near: NearestSites) -> PairSet:
    units, sites = near.pairs(LP_SITES)
    if search.plan is not None:
        units = np.concatenate([units, np.arange(search.problem.n_units)])
        sites = np.concatenate([sites, search.plan])
    return priced_pairs(search.problem, units, sites)


def bound_by_pricing(search: _Search, near: NearestSites) -> PairSet:
    """Phase 3: LP, price, add, repeat; returns the candidate pairs it ended with."""
    problem, settings = search.problem, search.settings
    whole = near.allowed_pairs <= FULL_MODEL_PAIRS
    pairs = _all_pairs(problem) if whole else _initial_pairs(search, near)
    elastic = None if whole else _penalty(search, pairs)
    seeded = False
    while search.clock.remaining > SWEEP_SECONDS + 1.0:
        model = build_strong_model(problem, pairs, search.count, elastic=elastic)
        lp_seconds = min(search.until(0.6), search.clock.remaining - SWEEP_SECONDS)
        outcome = solve_strong(model, settings, mip=False, time_limit=lp_seconds)
        search.log("lp", pairs=len(pairs), status=outcome.status)
        if outcome.status == "infeasible" and whole:
            raise InfeasibleError(
                [
                    f"no choice of {search.count} bases serves every account within the "
                    "bands and rules (the LP relaxation over all pairs is infeasible)"
                ]
            )
        if outcome.row_dual is None:
            break
        prices = dual_prices(problem, model, outcome.row_dual)
        priced = lagrangian_bound(problem, model, prices, site_blocks(problem), PRICED_PER_UNIT)
        search.bound = max(search.bound, priced.bound)
        search.left_out_floor = (
            math.inf if len(pairs) >= near.allowed_pairs else priced.left_out_floor
        )
        search.log("pricing", bound=priced.bound, added=len(priced.new_units))
        search.say(f"locate: proven bound {search.bound:,.2f} over {len(pairs):,} pairs")
        if not seeded and outcome.values is not None and search.clock.remaining > 5.0:
            seeded = True
            sites = _sites_from_lp(model, outcome.values, search.count)
            plan = allocate(problem, sites, settings, search.until(0.2))
            search.offer(plan, "allocation to the LP's sites")
            improve_by_relocation(search, plan, share=0.3)
        if len(priced.new_units) == 0 or search.gap <= settings.gap / 2:
            break
        new = priced_pairs(problem, priced.new_units, priced.new_sites)
        pairs = _merge(pairs, new)
    return pairs


def _penalty(search: _Search, pairs: PairSet) -> float:
    """Cost of missing a whole band at one site in the elastic LP: ten times an average
    territory's travel, so slack only stays where the pairs cannot fill the band."""
    scale = search.cost if np.isfinite(search.cost) else float(pairs.cost.sum()) / 4
    return 10.0 * scale / search.count


def _merge(pairs: PairSet, extra: PairSet) -> PairSet:
    joined = PairSet.concat([pairs, extra])
    n = int(max(joined.rep.max(), 0)) + 1
    _, first = np.unique(joined.unit.astype(np.int64) * n + joined.rep, return_index=True)
    return joined.subset(np.sort(first))


def _all_pairs(problem) -> PairSet:
    units, sites = [], []
    for block_units, cost in site_blocks(problem):
        r, c = np.nonzero(np.isfinite(cost))
        units.append(block_units[r])
        sites.append(c)
    return priced_pairs(problem, np.concatenate(units), np.concatenate(sites))


def _sites_from_lp(model, values: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` sites the LP opens most (ties: the site serving more LP flow)."""
    y = values[model.n_x : model.n_x + len(model.sites)]
    flow = np.bincount(model.site_of_pair, values[: model.n_x], minlength=len(model.sites))
    order = np.lexsort((-flow, -y))
    return np.sort(model.sites[order[:count]])


def close_by_mip(search: _Search, pairs: PairSet) -> None:
    """Phase 4 of the module docstring."""
    problem = search.problem
    if search.clock.remaining < 3.0 or search.gap <= search.settings.gap:
        return
    if search.plan is not None:
        pairs = _merge(pairs, priced_pairs(problem, np.arange(problem.n_units), search.plan))
    model = build_strong_model(problem, pairs, search.count)
    start = start_vector(model, search.plan) if search.plan is not None else None
    outcome = solve_strong(
        model, search.settings, mip=True, time_limit=search.clock.remaining - 1.5, start=start
    )
    search.log("mip", pairs=len(pairs), status=outcome.status, bound=outcome.mip_bound)
    if outcome.has_solution:
        search.offer(plan_from(model, outcome.values, problem.n_units), "mip plan")
    if (
        outcome.status == "infeasible"
        and search.plan is None
        and len(pairs) >= search.allowed_pairs
    ):
        raise InfeasibleError(
            [
                f"no choice of {search.count} bases serves every account within the bands "
                "and rules (proven by the solver over all pairs)"
            ]
        )
    floor = math.inf if len(pairs) >= search.allowed_pairs else search.left_out_floor
    if outcome.status == "infeasible" and search.plan is not None:
        mip_bound = search.cost  # no plan within the candidates at all: only left-out ones
    else:
        mip_bound = outcome.mip_bound
    search.bound = max(search.bound, min(mip_bound, floor, search.cost))


def bound_by_lagrange(search: _Search, wide: NearestSites) -> None:
    """Phase 3 past FULL_MODEL_PAIRS: the Lagrangian bound without bands over the lists (a
    few seconds), then, where the bands bind and the cost table fits, the banded Lagrangian
    bound (median_bands.py) for the rest of the limit. Both are proven; the larger stands."""
    problem, count = search.problem, search.count
    banded = banded_bound_applies(problem)
    deadline = time.perf_counter() + max(0.0, search.clock.remaining - 0.5)
    first = time.perf_counter() + (NO_BAND_SHARE if banded else 1.0) * (
        deadline - time.perf_counter()
    )
    value = sparse_median_bound(wide, count, search.cost, first)
    search.bound = max(search.bound, value)
    search.log("lagrangian bound (no bands)", bound=value)
    if banded and time.perf_counter() < deadline:
        found = banded_median_bound(problem, count, search.cost, deadline)
        search.bound = max(search.bound, found.bound)
        search.log("lagrangian bound (bands)", bound=found.bound, steps=found.steps)


def bound_list_size(problem, count: int) -> int:
    """A unit's multiplier may rise to the cost of its nearest base: with N bases among S
    sites that is about S / N sites out, so the bound's lists reach three times that."""
    return min(BOUND_LIST_MAX, max(LIST_SIZE, 3 * problem.n_reps // count))


def solve_sparse_locate(
    problem, count: int, settings: SolveSettings, say: Callable[[str], None]
) -> LocateResult:
    """Choose ``count`` sites among ``problem.rep_ids`` (module docstring)."""
    search = _Search(problem, count, settings, say)
    # one sweep over all pairs: lists long enough for the bound, their heads for the search
    wide = nearest_sites(problem, bound_list_size(problem, count))
    near = wide.head(LIST_SIZE)
    _check_reachable(problem, near, count)
    search.allowed_pairs = near.allowed_pairs
    search.log("nearest sites", pairs=int(near.site.size), allowed=near.allowed_pairs)
    # every plan serves each unit from an allowed site: a bound proven before any LP
    search.bound = float(near.cost[:, 0].sum())
    # the plan gets CONSTRUCT_SHARE of the limit, so that a bound is always proven after it
    full_limit = search.clock.limit
    search.clock.limit = CONSTRUCT_SHARE * full_limit
    construct(search, near)
    search.clock.limit = full_limit
    pair_count = int(near.site.size)
    if near.allowed_pairs <= FULL_MODEL_PAIRS:
        pairs = bound_by_pricing(search, near)
        close_by_mip(search, pairs)
        pair_count = len(pairs)
    elif search.plan is not None:
        bound_by_lagrange(search, wide)
    else:
        # no plan from the construction: the LP's sites and the MILP over the candidate
        # pairs may still find one in the time left
        pairs = bound_by_pricing(search, near)
        close_by_mip(search, pairs)
        pair_count = len(pairs)
    if search.plan is None:
        raise SolverError(
            f"no set of {count} bases meeting the bands was found within "
            f"{settings.time_limit:g} s; raise the time limit"
        )
    bound = min(search.bound, search.cost)
    gap = search.gap
    status = (
        "optimal" if gap <= 1e-6 else "within_gap_target" if gap <= settings.gap else "time_limit"
    )
    say(
        f"locate: {search.cost:,.2f}, "
        + (
            f"bound {bound:,.2f}, gap {gap:.3%}"
            if np.isfinite(bound)
            else "no bound proven in time"
        )
    )
    return LocateResult(
        unit_rep=search.plan,
        objective=problem.sense * search.cost,
        lower_bound=problem.sense * bound,
        gap=gap,
        status=status,
        seconds=search.clock.elapsed,
        phases=search.phases,
        candidate_pairs=pair_count,
        total_pairs=near.allowed_pairs,
    )
