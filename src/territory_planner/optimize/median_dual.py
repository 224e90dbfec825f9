"""The Lagrangian dual of the p-median without bands, and the site tree it bounds.

Relaxing the assign-once rows of the strong formulation (locate_model.py) leaves a problem
solved by sorting: open the N sites of smallest reduced price. Its value is a proven lower
bound for every multiplier, as strong at best as the LP bound and far cheaper to maximise
than the degenerate LP is to solve. The same dual fixes sites and pairs against the
incumbent (reduced-cost fixing) and bounds the nodes of a depth-first branch and bound on
the sites.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .results import relative_gap


def inner_choice(rho: np.ndarray, closed: np.ndarray, opened: np.ndarray, count: int):
    """The sites the inner problem opens: every one fixed open, then the cheapest free."""
    free = np.flatnonzero(~closed & ~opened)
    taken = free[np.argsort(rho[free], kind="stable")[: count - int(opened.sum())]]
    return np.concatenate([np.flatnonzero(opened), taken]).astype(int)


def fix_sites_by_rho(value, rho, chosen, closed, opened, cutoff, count: int) -> None:
    """Close (open) in place every free site whose forced opening (closing) lifts L to the
    cutoff: ``L + rho[s] - rho[w]`` and ``L + rho[v] - rho[s]`` (module docstring)."""
    free = ~closed & ~opened
    taken = np.zeros_like(free)
    taken[chosen] = True
    taken &= free
    left = free & ~taken
    worst_taken = rho[taken].max() if taken.any() else np.inf
    best_left = rho[left].min() if left.any() else np.inf
    with np.errstate(invalid="ignore"):  # rho is inf on closed sites
        closed |= left & (value + rho - worst_taken >= cutoff)
        opened |= taken & (value + best_left - rho >= cutoff)
    if int(opened.sum()) == count:
        closed |= ~opened  # every base is fixed open: no other site can open


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
        chosen = inner_choice(rho, self.closed, self.opened, self.count)
        return float(lam.sum() + rho[chosen].sum()), rho, chosen

    def fix_sites(self, value: float, rho: np.ndarray, chosen: np.ndarray) -> None:
        """Close (open) the free sites whose forced opening (closing) reaches the cutoff."""
        fix_sites_by_rho(value, rho, chosen, self.closed, self.opened, self.cutoff, self.count)

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
