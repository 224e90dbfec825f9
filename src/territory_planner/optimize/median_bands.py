"""A proven bound for choosing bases under balance bands: the Lagrangian relaxation of the
assign-once rows, each site's subproblem a fractional knapsack on the tightest band.

Dropping the bands (locate_search.sparse_median_bound) leaves a bound far below every banded
plan when the bands are tight: on the demo with 20 bases it proves 13.2M against plans of
21M. Keeping them costs one sort per site. For multipliers ``lam`` (free, one per unit) and
``nu_hi``, ``nu_lo`` (>= 0, one per relaxed band row of each site)

    L = sum_u lam[u] + (sum of the N smallest rho[s]),
    rho[s] = k[s] + min  sum_u r[s, u] x[u]
                   over  0 <= x[u] <= 1,  L[t, s] <= sum_u a[t, u] x[u] <= U[t, s],
    r[s, u] = c[u, s] - lam[u] + sum_{m != t} (nu_hi[m, s] - nu_lo[m, s]) a[m, u] / B[m, s],
    k[s]    = sum_{m != t} (nu_lo[m, s] L[m, s] - nu_hi[m, s] U[m, s]) / B[m, s],

where ``t`` is the metric with the narrowest band (kept exactly), the other metrics' band
rows are priced in, and ``B = U - L`` scales them. Every plan opens N sites, serves each
unit once and keeps every band, so its cost is at least L (weak duality): every value is a
proven lower bound, whatever the multipliers. The best over L(lam, nu) equals the LP bound
of the strong formulation with the relaxed rows priced (locate_model.py).

The inner minimum is a fractional knapsack with a two-sided capacity: units by increasing
``r / a[t]``, taken whole while the load stays within ``U`` and their ``r`` is negative,
then (when the load is still below ``L``) the cheapest others until it reaches ``L``. Only
the first LIST_UNITS of a site's order are sorted; a site whose fill needs more is solved
again over its whole row, so each rho is exact.

The multipliers follow projected subgradient steps of Polyak's size towards the best plan's
cost; every step evaluates every site, so every value it records is a bound. The cost table
is kept as float32 rounded towards -inf, so each rho is at most its exact value.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .settings import TINY
from .site_pairs import site_blocks

BLOCK_ENTRIES = 4_000_000  # site x unit entries handled at once (32 MB per float array)
DENSE_ENTRIES = 150_000_000  # largest site x unit cost table kept (float32: 600 MB)
NO_LOAD_FACTOR = 1e30  # orders a unit of no load by the sign of its reduced cost alone
STALL_STEPS = 10  # steps without a better value before the step size halves
STEP_START, STEP_END = 1.0, 1e-4  # Polyak's factor: its first value, and where steps stop


def banded_bound_applies(problem) -> bool:
    """A band with a finite side on some metric, and a cost table small enough to keep."""
    finite = np.isfinite(problem.upper) | (np.isfinite(problem.lower) & (problem.lower > 0))
    return bool(finite.any()) and problem.n_units * problem.n_reps <= DENSE_ENTRIES


@dataclass
class BandedBound:
    """The best proven value, the sites its subproblems opened, and the steps taken."""

    bound: float = -math.inf
    sites: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    steps: int = 0


class _Knapsacks:
    """The sites' subproblems of the module docstring, over a float32 cost table rounded
    down (so each rho is at most its exact value and the bound stays proven)."""

    def __init__(self, problem, count: int):
        self.count_units = problem.n_units
        self.cost = _cost_table(problem)  # (S, U) float32, inf where forbidden
        self.load = problem.unit_load.astype(float)  # (M, U)
        self.lower = problem.lower.astype(float)  # (M, S)
        self.upper = problem.upper.astype(float)
        width = np.where(np.isfinite(self.upper - self.lower), self.upper - self.lower, np.inf)
        share = np.where(np.isfinite(width), width / _scale(self), np.inf).min(axis=1)
        self.kept = int(np.argmin(share))  # the metric of the narrowest band (as a share)
        self.relaxed = [m for m in range(len(self.load)) if m != self.kept]
        # a relaxed row without a finite side gets no multiplier; its width scales nothing
        self.width = np.where(np.isfinite(width) & (width > TINY), width, 1.0)
        self.has_hi = np.isfinite(self.upper)
        self.has_lo = np.isfinite(self.lower) & (self.lower > 0)
        weight = self.load[self.kept]
        self.reachable_load = np.concatenate(  # (S,) the most load a site could take
            [np.isfinite(rows) @ weight for rows in _row_blocks(self.cost)]
        )
        # a territory holds about U / N units: the sorted head of a row is twice that
        self.list_units = min(self.count_units, max(64, 2 * self.count_units // max(count, 1)))
        with np.errstate(divide="ignore"):
            self.per_load = np.where(weight > 0, 1.0 / weight, NO_LOAD_FACTOR)

    def solve(self, sites: np.ndarray, lam: np.ndarray, nu_hi, nu_lo):
        """rho[s] for ``sites`` and each one's fractional x as (units, fractions) rows."""
        rho = np.empty(len(sites))
        units = np.zeros((len(sites), self.list_units), dtype=np.int64)
        fracs = np.zeros((len(sites), self.list_units))
        step = max(1, BLOCK_ENTRIES // max(self.count_units, 1))
        redo = []
        for a in range(0, len(sites), step):
            block = sites[a : a + step]
            b_rho, b_units, b_fracs, done = self._solve_block(
                block, lam, nu_hi, nu_lo, self.list_units
            )
            rho[a : a + step], units[a : a + step], fracs[a : a + step] = b_rho, b_units, b_fracs
            redo.extend((a + np.flatnonzero(~done)).tolist())
        for row in redo:
            # the fill went past the sorted head: the whole row, exactly
            site = sites[row : row + 1]
            b_rho, b_units, b_fracs, _ = self._solve_block(
                site, lam, nu_hi, nu_lo, self.count_units
            )
            rho[row] = b_rho[0]
            keep = np.argsort(-b_fracs[0], kind="stable")[: self.list_units]
            units[row], fracs[row] = b_units[0, keep], b_fracs[0, keep]
        return rho, units, fracs

    def _solve_block(self, block, lam, nu_hi, nu_lo, head: int):
        t = self.kept
        reduced = np.subtract(self.cost[block], lam[None, :], dtype=float)
        constant = np.zeros(len(block))
        for m in self.relaxed:
            hi, lo = nu_hi[m, block], nu_lo[m, block]
            if not (hi.any() or lo.any()):
                continue
            width = self.width[m, block]
            reduced += np.multiply.outer((hi - lo) / width, self.load[m])
            constant += np.where(lo > 0, lo * self.lower[m, block], 0.0) / width
            constant -= np.where(hi > 0, hi * self.upper[m, block], 0.0) / width
        # units by increasing reduced cost per unit of load; a unit of no load sorts first
        # when its reduced cost is negative and last otherwise (times a huge factor)
        ratio = reduced * self.per_load
        if head < self.count_units:
            part = np.argpartition(ratio, head - 1, axis=1)[:, :head]
        else:
            part = np.tile(np.arange(self.count_units), (len(block), 1))
        part_ratio = np.take_along_axis(ratio, part, axis=1)
        order = np.argsort(part_ratio, axis=1, kind="stable")
        units = np.take_along_axis(part, order, axis=1)
        last_ratio = np.take_along_axis(part_ratio, order[:, -1:], axis=1)[:, 0]
        r = np.take_along_axis(reduced, units, axis=1)
        finite_r = np.isfinite(r)
        w = np.where(finite_r, self.load[t][units], 0.0)
        before = np.cumsum(w, axis=1) - w
        upper, lower = self.upper[t, block], self.lower[t, block]
        cap = np.where(r < 0, upper[:, None], lower[:, None])
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(
                w > 0, np.clip((cap - before) / np.where(w > 0, w, 1.0), 0.0, 1.0), r < 0
            )
        frac = np.where(finite_r, frac, 0.0)
        rho = constant + (frac * np.where(finite_r, r, 0.0)).sum(axis=1)
        filled = before[:, -1] + w[:, -1]
        unreachable = self.reachable_load[block] < lower - TINY
        done = (
            (head >= self.count_units)
            | unreachable
            | (filled >= upper - TINY)
            | ((filled >= lower - TINY) & (last_ratio >= 0))
        )
        # a site that cannot reach its lower band from every unit it may serve: never open
        rho[unreachable] = np.inf
        return rho, units, frac, done


def _row_blocks(table: np.ndarray):
    step = max(1, BLOCK_ENTRIES // max(table.shape[1], 1))
    for a in range(0, table.shape[0], step):
        yield table[a : a + step]


def _scale(knapsacks: _Knapsacks) -> np.ndarray:
    """Each metric's total, so band widths compare as shares of the whole."""
    total = knapsacks.load.sum(axis=1)
    return np.where(total > TINY, total, 1.0)[:, None]


def _cost_table(problem) -> np.ndarray:
    """(S, U) costs as float32 rounded towards -inf (never above the exact cost)."""
    table = np.empty((problem.n_reps, problem.n_units), dtype=np.float32)
    for units, cost in site_blocks(problem):
        low = cost.astype(np.float32)
        low = np.where(low > cost, np.nextafter(low, np.float32(-np.inf)), low)
        table[:, units] = low.T
    return table


def banded_median_bound(
    problem,
    count: int,
    upper: float,
    deadline: float,
    start: np.ndarray | None = None,
) -> BandedBound:
    """Maximise L (module docstring) by subgradient steps until ``deadline``.

    ``upper`` is the best plan's cost (the target of Polyak's step); ``start`` that plan's
    site per unit, whose costs start the multipliers."""
    knap = _Knapsacks(problem, count)
    n_units = problem.n_units
    sites = np.arange(problem.n_reps)
    result = BandedBound()
    lam = _start_multipliers(knap, count, start)
    nu_hi = np.zeros((len(knap.load), problem.n_reps))
    nu_lo = np.zeros_like(nu_hi)
    theta, stale = STEP_START, 0
    while time.perf_counter() < deadline and theta > STEP_END:
        rho, units, fracs = knap.solve(sites, lam, nu_hi, nu_lo)
        pick = np.argsort(rho, kind="stable")[:count]
        value = float(lam.sum() + rho[pick].sum())
        result.steps += 1
        if not np.isfinite(value):
            break  # fewer than N sites can meet their bands: locate's checks say why
        if value > result.bound + TINY * max(1.0, abs(value)):
            result.bound, result.sites, stale = value, np.sort(pick), 0
        else:
            stale += 1
            if stale >= STALL_STEPS:
                theta, stale = theta / 2.0, 0
        if result.bound >= upper - TINY * max(1.0, abs(upper)):
            break
        served = np.zeros(n_units)
        np.add.at(served, units[pick].ravel(), fracs[pick].ravel())
        g_lam = 1.0 - served
        g_hi, g_lo = _band_subgradients(knap, pick, units[pick], fracs[pick], nu_hi, nu_lo)
        norm = float(g_lam @ g_lam + (g_hi**2).sum() + (g_lo**2).sum())
        if norm <= TINY:
            break  # the subproblems' solution is a plan: the bound is its cost
        size = theta * (upper - value) / norm
        lam = lam + size * g_lam
        nu_hi = np.maximum(0.0, nu_hi + size * g_hi)
        nu_lo = np.maximum(0.0, nu_lo + size * g_lo)
    return result


def _start_multipliers(knap: _Knapsacks, count: int, start: np.ndarray | None) -> np.ndarray:
    """Each unit's cost from the plan's site, else from its (S/N)-th cheapest site: about
    what serving it costs when N of the S sites are open."""
    cost = knap.cost
    if start is not None:
        value = cost[start, np.arange(knap.count_units)].astype(float)
        if np.isfinite(value).all():
            return value
    rank = min(cost.shape[0] - 1, max(1, cost.shape[0] // max(count, 1)))
    value = np.partition(cost, rank, axis=0)[rank].astype(float)
    return np.where(np.isfinite(value), value, 0.0)


def _band_subgradients(knap: _Knapsacks, chosen, units, fracs, nu_hi, nu_lo):
    """(a[m] x[s] - U[m, s]) / B and (L[m, s] - a[m] x[s]) / B at the chosen sites,
    projected so a multiplier at zero does not step below it."""
    g_hi, g_lo = np.zeros_like(nu_hi), np.zeros_like(nu_lo)
    for m in knap.relaxed:
        load = (knap.load[m][units] * fracs).sum(axis=1)
        width = knap.width[m, chosen]
        if knap.has_hi[m, chosen].any():
            hi = np.where(knap.has_hi[m, chosen], (load - knap.upper[m, chosen]) / width, 0.0)
            g_hi[m, chosen] = hi
        if knap.has_lo[m, chosen].any():
            lo = np.where(knap.has_lo[m, chosen], (knap.lower[m, chosen] - load) / width, 0.0)
            g_lo[m, chosen] = lo
    g_hi = np.where((nu_hi <= 0) & (g_hi < 0), 0.0, g_hi)
    g_lo = np.where((nu_lo <= 0) & (g_lo < 0), 0.0, g_lo)
    return g_hi, g_lo
