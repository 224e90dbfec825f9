"""A good set of bases fast: greedy opening, interchange, then banded allocation and
relocation (location-allocation), all on sparse or pooled costs.

1. Site pool: every reachable site when there are at most POOL_SIZE, otherwise the
   POOL_SIZE sites a greedy over the sparse nearest-site lists opens first (spread over the
   units, each where many units are near).
2. Greedy: open, N times, the pool site that lowers the uncapacitated travel most; then
   interchange (Teitz-Bart swaps, locate.improve_by_swaps), vectorised over the pool.
3. Allocation: the banded assignment to those N bases (the strong model with the sites
   fixed): its LP relaxation, then a small MILP over the units it splits and the boundary
   units, the rest fixed where the LP put them.
4. Relocation: move each territory's base to the pool site that serves that territory most
   cheaply (its 1-median); the old assignment stays feasible for the bands, so re-allocating
   from it never costs more. Repeat while it gains.
"""

from __future__ import annotations

import time

import numpy as np

from .median_lagrange import improve_by_swaps
from .site_pairs import NearestSites, cost_to_sites, priced_pairs
from .strong_model import build_strong_model, plan_from, solve_strong

POOL_SIZE = 1000  # sites the dense greedy and swaps work on (U x POOL_SIZE costs)
BOUNDARY_SHARE = 0.05  # units with the smallest regret the allocation MILP may move
ALLOCATION_CHOICES = 8  # cheapest bases per unit in the allocation's first LP


def sparse_greedy(near: NearestSites, count: int) -> np.ndarray:
    """Open ``count`` sites one by one, each the one saving most over the units' current
    reach, with savings counted on the nearest-site lists only (a unit's reach starts just
    beyond its list's last cost, so far units pull sites towards them)."""
    finite = np.isfinite(near.cost)
    last = np.where(finite, near.cost, -np.inf).max(axis=1)
    reach = 2.0 * np.maximum(last, 0.0) + 1.0
    units = np.repeat(np.arange(len(near.site)), near.site.shape[1])
    sites = near.site.ravel()
    costs = np.where(finite, near.cost, np.inf).ravel()
    ok = np.isfinite(costs)
    units, sites, costs = units[ok], sites[ok], costs[ok]
    n_sites = len(near.reachable)
    chosen: list[int] = []
    opened = np.zeros(n_sites, dtype=bool)
    for _ in range(min(count, int(near.reachable.sum()))):
        gain = np.bincount(sites, np.maximum(reach[units] - costs, 0.0), minlength=n_sites)
        gain[opened | ~near.reachable] = -1.0
        pick = int(np.argmax(gain))
        chosen.append(pick)
        opened[pick] = True
        hit = sites == pick
        np.minimum.at(reach, units[hit], costs[hit])
    return np.array(sorted(chosen), dtype=int)


def site_pool(near: NearestSites, count: int, size: int = POOL_SIZE) -> np.ndarray:
    """The candidate sites the dense phases work on (module docstring, step 1)."""
    reachable = np.flatnonzero(near.reachable)
    if len(reachable) <= max(size, count):
        return reachable
    return sparse_greedy(near, max(size, count))


def priced_high(cost: np.ndarray) -> np.ndarray:
    """Forbidden (inf) pairs priced above any plan that avoids them."""
    finite = np.isfinite(cost)
    top = float(np.abs(cost[finite]).max()) if finite.any() else 1.0
    return np.where(finite, cost, 2.0 * top * cost.shape[0] + 1.0)


def greedy_and_swaps(pool_cost: np.ndarray, count: int, deadline: float) -> np.ndarray:
    """Positions in the pool of ``count`` sites: greedy additions, then interchange."""
    n_units, n_pool = pool_cost.shape
    reach = np.full(n_units, float(pool_cost.max()) * 2.0 + 1.0)
    chosen = np.zeros(n_pool, dtype=bool)
    for _ in range(count):
        gain = np.maximum(reach[:, None] - pool_cost, 0.0).sum(axis=0)
        gain[chosen] = -1.0
        pick = int(np.argmax(gain))
        chosen[pick] = True
        reach = np.minimum(reach, pool_cost[:, pick])
    return improve_by_swaps(pool_cost, np.flatnonzero(chosen), np.arange(n_pool), deadline)


def bisection_sites(
    problem, count: int, pool: np.ndarray, pool_cost: np.ndarray
) -> np.ndarray | None:
    """Bases for balanced territories: cut the map in two along its wider side where the
    workload splits in proportion to the bases on each side, recursively, down to one base
    per region; each region's base is the pool site serving it most cheaply. None without
    geography. Bands ask for equal loads, which a greedy for travel alone ignores."""
    if not problem.is_geographic:
        return None
    first = np.array([members[0] for members in problem.unit_members])
    lat, lon = problem.account_lat[first], problem.account_lon[first]
    x = lon * np.cos(np.radians(lat))
    weight = np.maximum(problem.unit_load.sum(axis=0) if problem.n_metrics else 0.0, 0.0)
    weight = weight / max(weight.sum(), 1e-12) + 1.0 / problem.n_units
    regions, stack = [], [(np.arange(problem.n_units), count)]
    while stack:
        units, bases = stack.pop()
        if bases == 1 or len(units) <= 1:
            regions.append(units)
            continue
        axis = x[units] if np.ptp(x[units]) >= np.ptp(lat[units]) else lat[units]
        order = units[np.argsort(axis, kind="stable")]
        left = bases // 2
        share = np.cumsum(weight[order]) / weight[order].sum()
        cut = int(np.clip(np.searchsorted(share, left / bases), 1, len(order) - 1))
        stack += [(order[:cut], left), (order[cut:], bases - left)]
    chosen: list[int] = []
    for units in regions:
        serving = pool_cost[units].sum(axis=0)
        serving[chosen] = np.inf
        chosen.append(int(np.argmin(serving)))
    return pool[np.array(sorted(chosen), dtype=int)]


def _has_band_rows(problem) -> bool:
    return bool(
        np.isfinite(problem.upper).any() or (np.isfinite(problem.lower) & (problem.lower > 0)).any()
    )


def allocate(
    problem,
    sites: np.ndarray,
    settings,
    time_limit: float,
    start: np.ndarray | None = None,
) -> np.ndarray | None:
    """A banded assignment of every unit to one of ``sites`` (unit -> site position), or
    None when none was found within ``time_limit``.

    The LP relaxation over each unit's ALLOCATION_CHOICES cheapest bases first (all of them
    when that is infeasible); a unit it assigns whole keeps its
    base unless it is among the BOUNDARY_SHARE of units with the smallest regret (second
    cheapest base minus cheapest), and the MILP then places the fractional and boundary
    units with the others fixed. ``start`` (a feasible plan on these sites) is returned
    when nothing cheaper is found.
    """
    sites = np.sort(np.asarray(sites))
    cost = cost_to_sites(problem, sites)
    if not np.isfinite(cost).any(axis=1).all():
        return None
    if not _has_band_rows(problem):
        return sites[np.argmin(cost, axis=1)]
    deadline = time.perf_counter() + time_limit
    for choices in sorted({min(ALLOCATION_CHOICES, len(sites)), len(sites)}):
        # each unit's cheapest few bases first (a smaller LP); all of them if that fails
        top = np.argsort(cost, axis=1, kind="stable")[:, :choices]
        units = np.repeat(np.arange(problem.n_units), choices)
        columns = top.ravel()
        ok = np.isfinite(cost[units, columns])
        pairs = priced_pairs(problem, units[ok], sites[columns[ok]])
        model = build_strong_model(problem, pairs, len(sites), fixed_sites=sites)
        left = deadline - time.perf_counter()
        relaxed = solve_strong(model, settings, mip=False, time_limit=0.6 * left)
        if relaxed.has_solution:
            break
    if not relaxed.has_solution:
        return start
    x = relaxed.values[: model.n_x]
    rounded = plan_from(model, relaxed.values, problem.n_units)
    whole = np.zeros(problem.n_units, dtype=bool)
    whole[pairs.unit[x >= 1 - 1e-6]] = True
    ordered = np.sort(cost, axis=1)
    regret = ordered[:, 1] - ordered[:, 0] if len(sites) > 1 else np.full(len(cost), np.inf)
    boundary = np.argsort(regret, kind="stable")[: int(BOUNDARY_SHARE * problem.n_units)]
    best = start
    for widen in (False, True):
        free = ~whole
        if widen:
            free[boundary] = True
        keep = free[pairs.unit] | (pairs.rep == rounded[pairs.unit])
        plan = _round(problem, pairs.subset(keep), sites, settings, deadline)
        if plan is not None and (
            best is None or _travel(cost, sites, plan) < _travel(cost, sites, best)
        ):
            best = plan
        if plan is not None or time.perf_counter() >= deadline:
            break
    return best


def _round(problem, pairs, sites, settings, deadline) -> np.ndarray | None:
    """The MILP over the pairs left free by the LP (the others fixed), or None."""
    model = build_strong_model(problem, pairs, len(sites), fixed_sites=sites)
    outcome = solve_strong(
        model,
        settings,
        mip=True,
        time_limit=max(0.05, deadline - time.perf_counter()),
        gap=settings.gap / 4,
    )
    return plan_from(model, outcome.values, problem.n_units) if outcome.has_solution else None


def _travel(cost: np.ndarray, sites: np.ndarray, plan: np.ndarray) -> float:
    return float(cost[np.arange(len(plan)), np.searchsorted(sites, plan)].sum())


def relocate(
    problem, unit_site: np.ndarray, pool: np.ndarray, pool_cost: np.ndarray
) -> np.ndarray | None:
    """The plan with each territory's base moved to its cheapest pool site (the 1-median of
    its units among the pool), or None when no move lowers the travel. A site already used
    by another territory is not taken twice; a site whose band the territory would break
    (bands that differ between sites) is skipped."""
    sites, territory = np.unique(unit_site, return_inverse=True)
    indicator = np.zeros((len(sites), problem.n_units))
    indicator[territory, np.arange(problem.n_units)] = 1.0
    serving = indicator @ pool_cost  # (N, pool)
    current_cost = cost_to_sites(problem, sites)
    current = (indicator * current_cost.T).sum(axis=1)
    loads = indicator @ problem.unit_load.T  # (N, M)
    taken = set(sites.tolist())
    moved = unit_site.copy()
    changed = False
    for t in np.argsort(serving.min(axis=1) - current).tolist():
        for q in np.argsort(serving[t], kind="stable")[:5].tolist():
            site = int(pool[q])
            if serving[t, q] >= current[t] - 1e-9 * max(1.0, abs(current[t])):
                break
            if site in taken or not _fits(problem, loads[t], site):
                continue
            taken.discard(int(sites[t]))
            taken.add(site)
            moved[territory == t] = site
            changed = True
            break
    return moved if changed else None


def _fits(problem, load: np.ndarray, site: int) -> bool:
    with np.errstate(invalid="ignore"):
        return bool(
            (load >= problem.lower[:, site] - 1e-9).all()
            and (load <= problem.upper[:, site] + 1e-9).all()
        )
