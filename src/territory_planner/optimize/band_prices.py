"""Band prices before the first LP: the Lagrangian dual of the bands, smoothed and climbed
over the candidate pairs, priced out over every allowed pair.

Why. At 100,000 accounts x 500 reps the first restricted LP over the nearest reps' pairs
was far from holding its bands (short by 101-1,466% in total on four of seven benchmark
families): pricing then brought in 75,000-295,000 pairs over several LP solves of 40-150 s
each, and five families had no plan within 5 minutes. The pairs the bands need are the
ones that are cheap *at the bands' prices*, and those prices are found here in seconds,
without an LP.

The Lagrangian of the bands and the disruption budget. For prices ``nu[m, j], mu[m, j] >= 0``
of the lower and upper band of metric m for rep j and ``beta >= 0`` of the budget,
``y = nu - mu`` and the reduced cost of a pair

    rc[u, j] = c[u, j] - sum_m a[m, u, j] y[m, j] + beta p[u, j]

the dual function

    L(nu, mu, beta) = sum_u min_j rc[u, j]
                      + sum_{m, j} (nu[m, j] L[m, j] - mu[m, j] U[m, j]) - beta B

is a lower bound on every plan (and on the LP) for any prices: each plan's cost is at least
its Lagrangian, and each unit's term at least its cheapest reduced cost. Its maximum is the
LP optimum.

How. L is piecewise linear; each unit's ``min`` is replaced by the soft minimum
``m_u - tau_u log sum_j exp(-(rc[u, j] - m_u) / tau_u)`` (smooth and concave; its gradient
is the loads under each unit's softmax weights), which L-BFGS-B climbs over the candidate
pairs, at falling temperatures. Then every allowed pair is priced (pricing.scan_left_out
with each unit's cheapest candidate reduced cost, plus a margin, as its dual): the pairs
cheaper than the unit's candidates join, and the climb goes on with them, until none is
left or the time share is spent. The exact L at the prices over *all* pairs is a proven
bound (reported; the LP's bound, at least as high, supersedes it).

The joined pairs are the ones the LP needs: on the 100,000 x 500 nationwide instance the
first LP over them needed no slack (1,466% before) and the whole CLI run, reading and
writing included, ended with a plan at 0.033% in 264 s where it had none at 300 s
(benchmarks/README.md, "Band prices before the first LP").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from .model import PairSet
from .pairs import candidate_pairs, union_pairs
from .pricing import Duals, scan_left_out
from .settings import TINY, Clock

#: the soft minimum's temperatures, as shares of each unit's cheapest cost: the first
#: smooths enough to move far from zero prices, the last is close to the true minimum
TEMPERATURES = (0.02, 0.004, 0.001)
#: the highest scaled price: where the candidates cannot hold a band, the dual over them
#: is unbounded and its price would climb without end (any price within the cap still
#: gives a valid bound; pricing then brings in the pairs that hold the band)
PRICE_CAP = 1000.0
#: L-BFGS-B steps at each temperature
STEPS_PER_TEMPERATURE = 40
#: rounds of pricing out every allowed pair and climbing again with what joined
PRICING_ROUNDS = 5
#: left-out pairs joining per unit and round
JOINING_PER_UNIT = 3
#: each unit's cheapest reps the climb starts with, beside the candidates
WIDE = 12
#: the LP's candidates gain each unit's pairs (at most NEAR_TIES) whose reduced cost at
#: the prices is within this many coldest temperatures of its cheapest: near-ties are where
#: the LP splits units
NEAR_TIE_TEMPERATURES, NEAR_TIES = 3.0, 3


@dataclass
class BandPrices:
    """Prices of the bands and budget, the pairs pricing joined, and the proven bound."""

    band: np.ndarray  # (M, J) y = nu - mu
    budget: float  # beta
    joined: PairSet | None  # pairs cheap at these prices (near-ties), None: all candidates
    bound: float  # L at these prices over every allowed pair (minimisation sense)
    evaluations: int
    rounds: list[tuple[float, int]]  # each round's bound and the pairs that joined


class _Stop(Exception):
    """The time share ran out inside the climb."""


class _SmoothedDual:
    """The soft-minimum Lagrangian over a set of pairs, in scaled prices ``z``:
    ``nu = z[:MJ] * s``, ``mu = z[MJ:2MJ] * s``, ``beta = z[-1] * s_beta`` (scaled so one
    unit of ``z`` moves a typical unit's reduced cost by about its cost)."""

    def __init__(self, problem, pairs: PairSet, clock: Clock):
        self.problem, self.clock = problem, clock
        self.evaluations = 0
        self.set_pairs(pairs)
        m, j = problem.n_metrics, problem.n_reps
        self.has_lower = np.isfinite(problem.lower)
        self.has_upper = np.isfinite(problem.upper)
        self.lower = np.where(self.has_lower, problem.lower, 0.0)
        self.upper = np.where(self.has_upper, problem.upper, 0.0)
        cheapest = np.abs(self.cheapest)
        typical = max(float(np.mean(cheapest)), TINY)
        self.typical = float(np.median(cheapest[cheapest > 0])) if (cheapest > 0).any() else 1.0
        self.scale = typical * (problem.n_units / j) / np.maximum(np.abs(problem.target), TINY)
        self.budget = problem.max_moved_potential
        moved = pairs.moved[pairs.moved > 0]
        self.budget_scale = typical / float(moved.mean()) if len(moved) else 1.0
        self.n_prices = m * j
        self.bounds = (
            [(0.0, PRICE_CAP if ok else 0.0) for ok in self.has_lower.ravel()]
            + [(0.0, PRICE_CAP if ok else 0.0) for ok in self.has_upper.ravel()]
            + [(0.0, PRICE_CAP if self.budget is not None else 0.0)]
        )

    def set_pairs(self, pairs: PairSet) -> None:
        self.pairs = pairs
        starts = np.flatnonzero(np.r_[True, pairs.unit[1:] != pairs.unit[:-1]])
        self.starts = starts
        if len(starts) != self.problem.n_units:
            raise ValueError("band prices need a candidate pair for every unit")
        self.segment = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(pairs)]))
        self.cheapest = np.minimum.reduceat(pairs.cost, starts)

    def near_ties(self, y: np.ndarray, beta: float) -> PairSet:
        """Each unit's pairs (at most NEAR_TIES) whose reduced cost at these prices is within
        NEAR_TIE_TEMPERATURES (coldest) temperatures of its cheapest: where the LP's
        optimum places or splits the unit."""
        rc = self.reduced_costs(y, beta)
        least = np.minimum.reduceat(rc, self.starts)[self.segment]
        base = np.maximum(np.abs(self.cheapest), self.typical)[self.segment]
        near = rc <= least + NEAR_TIE_TEMPERATURES * TEMPERATURES[-1] * base
        # the cheapest first within each unit, then the first NEAR_TIES of each
        order = np.lexsort((rc, self.pairs.unit))
        near_sorted = near[order]
        rank = np.arange(len(order)) - np.repeat(self.starts, np.diff(np.r_[self.starts, len(rc)]))
        keep = order[near_sorted & (rank < NEAR_TIES)]
        return self.pairs.subset(np.sort(keep))

    def prices(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        shape = self.problem.lower.shape
        nu = z[: self.n_prices].reshape(shape) * self.scale
        mu = z[self.n_prices : 2 * self.n_prices].reshape(shape) * self.scale
        return nu, mu, float(z[-1]) * self.budget_scale

    def reduced_costs(self, y: np.ndarray, beta: float) -> np.ndarray:
        pairs = self.pairs
        rc = pairs.cost + beta * pairs.moved
        for m in range(self.problem.n_metrics):
            rc = rc - pairs.load[m] * y[m, pairs.rep]
        return rc

    def constant(self, nu: np.ndarray, mu: np.ndarray, beta: float) -> float:
        """The prices' own terms: ``sum (nu L - mu U) - beta B``."""
        value = float((nu * self.lower).sum() - (mu * self.upper).sum())
        return value - (beta * self.budget if self.budget is not None else 0.0)

    def negative(self, z: np.ndarray, temperature: np.ndarray):
        """``-L_tau`` and its gradient in ``z``, for a minimiser."""
        if self.clock.remaining <= 0:
            raise _Stop
        self.evaluations += 1
        problem, pairs = self.problem, self.pairs
        nu, mu, beta = self.prices(z)
        rc = self.reduced_costs(nu - mu, beta)
        least = np.minimum.reduceat(rc, self.starts)
        tau = temperature[self.segment]
        weight = np.exp(-(rc - least[self.segment]) / tau)
        total = np.add.reduceat(weight, self.starts)
        value = float((least - temperature * np.log(total)).sum()) + self.constant(nu, mu, beta)
        weight /= total[self.segment]
        loads = np.stack(
            [
                np.bincount(pairs.rep, weights=pairs.load[m] * weight, minlength=problem.n_reps)
                for m in range(problem.n_metrics)
            ]
        )
        grad_nu = (self.lower - loads) * self.has_lower * self.scale
        grad_mu = (loads - self.upper) * self.has_upper * self.scale
        moved = float((pairs.moved * weight).sum())
        grad_beta = (moved - self.budget) * self.budget_scale if self.budget is not None else 0.0
        gradient = np.concatenate([grad_nu.ravel(), grad_mu.ravel(), [grad_beta]])
        return -value, -gradient

    def reach(self, point: np.ndarray) -> None:
        """L-BFGS-B's callback: the last step's point, kept in case the clock stops it."""
        self.reached = point

    def climb(self, z: np.ndarray, temperatures: tuple[float, ...]) -> np.ndarray:
        """L-BFGS-B at each temperature in turn, from ``z``; the last point reached."""
        base = np.maximum(np.abs(self.cheapest), self.typical)
        for share in temperatures:
            self.reached = z
            try:
                z = minimize(
                    self.negative,
                    z,
                    args=(share * base,),
                    jac=True,
                    method="L-BFGS-B",
                    bounds=self.bounds,
                    callback=self.reach,
                    options={"maxiter": STEPS_PER_TEMPERATURE},
                ).x
            except _Stop:
                return self.reached
        return z


def band_prices(problem, pairs: PairSet, clock: Clock) -> BandPrices:
    """Prices of the bands (and budget) near the LP's duals, found within ``clock``, with
    the pairs that are cheap at them and the proven Lagrangian bound there.

    The climb runs over ``pairs`` and each unit's WIDE cheapest reps: over the candidates
    alone the bands often cannot hold, their dual is unbounded, and prices driven to the
    cap would bring in pairs that are cheap only there."""
    wide, _ = candidate_pairs(problem, WIDE, rep_side=0.0)
    dual = _SmoothedDual(problem, union_pairs(problem, pairs, wide), clock)
    z = np.zeros(2 * dual.n_prices + 1)
    bound = -np.inf
    rounds: list[tuple[float, int]] = []
    for round_ in range(PRICING_ROUNDS):
        # later rounds start near the prices: the coldest temperature alone refines them
        z = dual.climb(z, TEMPERATURES if round_ == 0 else TEMPERATURES[-1:])
        nu, mu, beta = dual.prices(z)
        least = np.minimum.reduceat(dual.reduced_costs(nu - mu, beta), dual.starts)
        # each unit's left-out pairs are priced against its cheapest pair in the climb;
        # those cheaper still join it
        once = np.zeros(problem.n_units)
        once[dual.pairs.unit[dual.starts]] = least
        new, correction, _, _ = scan_left_out(
            problem, dual.pairs, Duals(once=once, band=nu - mu, budget=-beta), JOINING_PER_UNIT
        )
        # L over every pair: each unit's cheapest pair in the climb, less how much cheaper
        # its cheapest left-out pair is (the correction)
        here = float(least.sum()) + correction + dual.constant(nu, mu, beta)
        bound = max(bound, here)
        rounds.append((here, 0 if new is None else len(new)))
        if new is None or clock.remaining <= 0:
            break
        dual.set_pairs(union_pairs(problem, dual.pairs, new))
    near = dual.near_ties(nu - mu, beta)
    fresh = union_pairs(problem, pairs, near)
    joined = None if len(fresh) == len(pairs) else near
    return BandPrices(nu - mu, beta, joined, bound, dual.evaluations, rounds)
