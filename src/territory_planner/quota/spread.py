"""Between LP 1 and LP 2: what the growth bounds leave over, spread evenly.

LP 1 proves the smallest largest deviation z*_r, but says nothing about the reps below it.
LP 2 alone (min sum_j d_j under d_j <= z*_r) is an L1 objective, and L1 puts a whole
shortfall on as few reps as it can: with R01 held at +20% by its floor and R02, R03 sharing
what is left, every split of the shortfall between R02 and R03 costs the same or favours the
larger share, so LP 2 gave R02 -15% and R03 0% where a planner expects -10% each. The fair
plan is the lexicographic min-max one: the largest deviation as small as possible, then the
next largest, and so on; this module finds its levels, and LP 2 then only picks, among the
plans at those levels, the one with the smallest total.

The algebra (quota ratios x_j = q_j / s_j, bounds l_j = L_j / s_j <= x_j <= u_j = U_j / s_j):

* a rep's **own** deviation f_j = max(l_j - 1, 1 - u_j, 0) is what its bounds force on it
  whatever the others do, at its bound nearest its share, b_j = min(max(1, l_j), u_j);
* each region has one row coupling its reps (sum_j s_j x_j = T'_r) and boxes, so in the
  lexicographic min-max plan every rep is at x_j = median(l_j, 1 + lambda_r, u_j) for one
  common level lambda_r (a rep strictly inside its box off 1 + lambda_r could trade with one
  at it and lower the larger of the two): the reps whose own deviation f_j exceeds
  |lambda_r| sit on their bound b_j, all others share the common level or sit on a bound
  nearer their share;
* for a threshold c, LP(c) pins every rep with f_j >= c at b_j and minimises the largest
  deviation t_r of the others (:func:`spread_rows`). c is right when it is the smallest
  threshold with t*_r(c) <= c: pinning a rep further off than the level costs nothing,
  pinning one nearer raises the level above c. :func:`common_levels` predicts lambda_r from
  the median formula (a monotone sum, bisected); LP(c) at the predicted threshold certifies
  it (c- < t*_r <= c, c- the largest own deviation left unpinned) and, where it does not,
  the threshold is bisected over the reps' own deviations with one LP(c) per step.

LP 2 then caps d_j <= f_j for pinned reps (they stay on b_j) and d_j <= t*_r for the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp

from ..errors import SolverError
from .rows import (
    CAP_ABSOLUTE,
    CAP_RELATIVE,
    QuotaLP,
    affine,
    deviation_rows,
    quota_ratio_variables,
    solve_stage,
    solved_values,
    target_sum_rows,
)

# A certificate's comparisons allow this much solver tolerance (relative, absolute).
LEVEL_TOLERANCE = 1e-7
LEVEL_ABSOLUTE = 1e-9


@dataclass
class Spread:
    """The lexicographic levels: reps pinned on their own bound, each region's common level."""

    pinned: np.ndarray  # bool per LP rep
    forced: np.ndarray  # f_j per LP rep
    level: np.ndarray  # t*_r per region block
    lps: int  # LP(c) solves it took

    def caps(self, block: np.ndarray) -> np.ndarray:
        """LP 2's caps on d_j: f_j for a pinned rep, the region's level for the others."""
        cap = np.where(self.pinned, self.forced, self.level[block])
        return np.maximum(cap, 0.0) * (1.0 + CAP_RELATIVE) + CAP_ABSOLUTE


def own_deviation(
    share: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """f_j = max(l_j - 1, 1 - u_j, 0) and the quota on the bound nearest the share, s_j b_j."""
    nearest = np.minimum(np.maximum(share, lower), upper)
    return np.abs(nearest / share - 1.0), nearest


def common_levels(
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    block: np.ndarray,
    block_rhs: Sequence[float],
) -> np.ndarray:
    """lambda_r with sum_{j in r} s_j median(l_j, 1 + lambda_r, u_j) = T'_r, by bisection.

    The sum is non-decreasing in lambda_r, so 200 halvings pin it to float precision. Only a
    prediction: LP(c) certifies it (see the module docstring).
    """
    low_ratio, up_ratio = lower / share, upper / share
    levels = np.zeros(len(block_rhs))
    for b, rhs in enumerate(block_rhs):
        members = block == b
        s, lo, up = share[members], low_ratio[members], up_ratio[members]

        def total(lam: float, s=s, lo=lo, up=up) -> float:
            return float(np.sum(s * np.minimum(np.maximum(lo, 1.0 + lam), up)))

        low, high = float(lo.min()) - 2.0, 1.0
        while total(high) < rhs and high < 1e12:
            high *= 2.0
        for _ in range(200):
            middle = (low + high) / 2.0
            low, high = (middle, high) if total(middle) < rhs else (low, middle)
        levels[b] = (low + high) / 2.0
    return levels


def spread_rows(
    problem: pulp.LpProblem,
    ratio: Sequence[Any],
    level: Sequence[Any],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    block: np.ndarray,
    pinned: np.ndarray,
    labels: Sequence[str],
) -> None:
    """LP(c)'s rows: t_r >= |q_j - s_j| / s_j for the reps of region r that are not pinned.

    ``deviation_above[j]``:  x_j - t_r <= 1      (j not pinned)
    ``deviation_below[j]``: -x_j - t_r <= -1     (j not pinned)

    A pinned rep (f_j >= c) has no row: its variable bounds are b_j <= x_j <= b_j (set by
    :func:`build_spread_lp`), so its deviation is its own f_j and does not count in t_r.
    """
    keep = np.flatnonzero(~pinned)
    deviation_rows(
        problem,
        [ratio[j] for j in keep],
        [level[block[j]] for j in keep],
        share[keep],
        lower[keep],
        upper[keep],
        [labels[j] for j in keep],
    )


def build_spread_lp(
    labels: Sequence[str],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    block: np.ndarray,
    block_rhs: Sequence[float],
    block_labels: Sequence[str],
    pinned: np.ndarray,
) -> QuotaLP:
    """LP(c): the smallest largest deviation of the reps not pinned on their own bound.

    min  sum_r t_r
    s.t. target_sum[r]           sum_{j in r} q_j = T'_r
         deviation_above/below   t_r >= |q_j - s_j| / s_j        (j in r, not pinned)
         q_j = s_j b_j (pinned),  L_j <= q_j <= U_j (others),  t_r >= 0
    """
    _, nearest = own_deviation(share, lower, upper)
    fixed_lower = np.where(pinned, nearest, lower)
    fixed_upper = np.where(pinned, nearest, upper)
    problem = pulp.LpProblem("quota_spread_level", pulp.LpMinimize)
    ratio = quota_ratio_variables(problem, labels, share, fixed_lower, fixed_upper)
    level = [problem.add_variable(f"spread_level[{label}]", lowBound=0.0) for label in block_labels]
    target_sum_rows(problem, ratio, share, block, block_rhs, block_labels)
    spread_rows(problem, ratio, level, share, lower, upper, block, pinned, labels)
    problem.setObjective(affine([(t, 1.0) for t in level]))
    return QuotaLP(problem, np.asarray(share, dtype=float), ratio, [], level)


def spread_levels(
    labels: Sequence[str],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    block: np.ndarray,
    block_rhs: Sequence[float],
    block_labels: Sequence[str],
    best: np.ndarray,
    solver: pulp.LpSolver,
) -> Spread:
    """The pinned reps and each region's common level (see the module docstring).

    ``best`` is LP 1's z*_r: with no threshold at all (c = +inf) LP(c) is LP 1, so a region
    whose certificate fails and whose bisection finds nothing better keeps z*_r, as before.
    """
    forced, _ = own_deviation(share, lower, upper)
    lam = np.abs(common_levels(share, lower, upper, block, block_rhs))
    pinned = forced >= lam[block] * (1.0 - LEVEL_TOLERANCE) + LEVEL_ABSOLUTE
    pinned &= forced > 0
    args = (labels, share, lower, upper, block, block_rhs, block_labels)
    level = _solve_level(*args, pinned, solver)
    lps = 1
    if level is None:
        level = np.full(len(block_rhs), np.nan)
    for b in range(len(block_rhs)):
        members = block == b
        if _certified(forced[members], pinned[members], level[b]):
            continue
        sub = np.flatnonzero(members)
        sub_pinned, sub_level, steps = _bisect_region(
            [labels[j] for j in sub],
            share[sub],
            lower[sub],
            upper[sub],
            block_rhs[b],
            block_labels[b],
            forced[sub],
            float(best[b]),
            solver,
        )
        pinned[sub] = sub_pinned
        level[b] = sub_level
        lps += steps
    return Spread(pinned=pinned, forced=forced, level=level, lps=lps)


def _certified(forced: np.ndarray, pinned: np.ndarray, level: float) -> bool:
    """c- < t*_r <= c: the threshold c = min pinned f_j is the smallest that passes."""
    if not math.isfinite(level):
        return False
    c = float(forced[pinned].min(initial=math.inf))
    below = float(forced[~pinned].max(initial=0.0))
    slack = LEVEL_TOLERANCE * max(level, 1.0) + LEVEL_ABSOLUTE
    if level > c + slack:
        return False
    return below == 0.0 or level > below + slack


def _solve_level(
    labels, share, lower, upper, block, block_rhs, block_labels, pinned, solver
) -> np.ndarray | None:
    """t*_r of LP(c) for every region, or None when pinning leaves no plan that adds up."""
    model = build_spread_lp(labels, share, lower, upper, block, block_rhs, block_labels, pinned)
    try:
        solve_stage(model.problem, solver, "spread level")
    except SolverError:
        return None
    return np.maximum(solved_values(model.max_deviation), 0.0)


def _bisect_region(
    labels, share, lower, upper, rhs, block_label, forced, best, solver
) -> tuple[np.ndarray, float, int]:
    """The smallest threshold c among the region's own deviations with t*(c) <= c."""
    candidates = np.unique(forced[forced > 0])
    block = np.zeros(len(share), dtype=int)
    args = (labels, share, lower, upper, block, [rhs], [block_label])
    # pass(+inf) holds (LP 1); find the first candidate index that passes
    low, high = 0, len(candidates)
    found_level, steps = best, 0
    while low < high:
        middle = (low + high) // 2
        c = float(candidates[middle])
        level = _solve_level(*args, forced >= c, solver)
        steps += 1
        if level is not None and level[0] <= c + LEVEL_TOLERANCE * max(c, 1.0) + LEVEL_ABSOLUTE:
            high, found_level = middle, float(level[0])
        else:
            low = middle + 1
    if high == len(candidates):
        return np.zeros(len(share), dtype=bool), best, steps
    return forced >= candidates[high], found_level, steps
