"""Quotas in cents that add up to the target exactly: largest-remainder rounding.

The LPs give quotas as floats: 10,000,000 over three equal reps is 3,333,333.333... each,
and rounding each to the cent on its own writes 3,333,333.33 three times, 9,999,999.99 in all.
A planner checks the sum of quotas.csv against the target to the cent, so the quotas are
rounded here, once, before anything writes them (quotas.csv, the workbook, the summary and
the territories' quota column all read the rounded quotas).

Largest remainder (Hamilton's method) in integer cents, within each group of reps that
shares one target (the company, or one region of ``targets``):

1. every rep starts at its quota's cents rounded down, kept within its own bounds in cents:
   the floor ``ceil(100 L_j)``, the cap ``floor(100 U_j)``, so that rounding never takes a
   quota below its min_growth floor or above its max_growth cap;
2. the cents still missing to ``round(100 T)`` go one each to the reps with the largest
   remainders (fraction of a cent lost in step 1) that are below their cap, ties to the
   first rep_id; cents too many are taken one each from the smallest remainders above
   their floor. Each rep thus moves by less than a cent from the LP's quota when the LP's
   quotas add up to the target (they do, to solver tolerance); a few cents of LP tolerance
   are spread the same way, one pass after another.

Reps whose quota is fixed (an override, a zero-share rep held at its floor) take no part in
step 2: an override is rounded to the cent on its own, a floor is rounded up.

A season split (q1..q4, m01..m12) is rounded the same way within each rep, so a rep's
quarters add up to its quota to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# A quota within this many cents of a whole cent is that cent (float noise from the LP).
CENT_NOISE = 1e-6


def to_cents(amount: float) -> int:
    """An amount of money in whole cents, to the nearest cent."""
    return int(round(float(amount) * 100.0))


def largest_remainder(
    exact: np.ndarray, total: int, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Integers within [lower, upper] that add up to ``total``, each within 1 of ``exact``
    where the bounds allow (Hamilton's largest-remainder method; see the module docstring).

    ``exact`` are the real values (cents), ``lower`` / ``upper`` integer bounds (upper may be
    a huge number for no cap). Ties go to the earlier position. When the bounds cannot reach
    ``total`` the closest reachable sum is returned.
    """
    exact = np.asarray(exact, dtype=float)
    lower = np.asarray(lower, dtype=np.int64)
    upper = np.asarray(upper, dtype=np.int64)
    base = np.floor(exact + CENT_NOISE).astype(np.int64)
    base = np.minimum(np.maximum(base, lower), upper)
    remainder = exact - base
    need = int(total - int(base.sum()))
    # stable sorts: equal remainders keep the rows' (rep_id) order
    up_order = np.argsort(-remainder, kind="stable")
    down_order = np.argsort(remainder, kind="stable")
    while need != 0:
        if need > 0:
            room = up_order[base[up_order] < upper[up_order]]
            step = 1
        else:
            room = down_order[base[down_order] > lower[down_order]]
            step = -1
        if not len(room):
            break
        chosen = room[: abs(need)]
        base[chosen] += step
        need -= step * len(chosen)
    return base


def round_quotas(
    quota: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    overridden: np.ndarray,
    held: np.ndarray,
    groups: Sequence[tuple[np.ndarray, float | None]],
) -> np.ndarray:
    """Quotas to the cent, every group adding up to its target exactly.

    ``groups`` are (positions, target) pairs: the reps sharing one target; a target of None
    (reps outside every target) rounds each quota to the nearest cent within its bounds.
    ``overridden`` quotas are the planner's numbers, rounded to the nearest cent whatever
    the growth bounds say; ``held`` quotas (zero-share reps at their floor) are rounded up,
    so the floor holds. Neither takes part in the largest-remainder step.
    """
    quota = np.asarray(quota, dtype=float)
    exact = quota * 100.0
    floor_cents = np.array([_ceil_cents(v) for v in lower], dtype=np.int64)
    cap_cents = np.array([_floor_cents(v) for v in upper], dtype=np.int64)
    cents = np.rint(exact).astype(np.int64)
    cents = np.minimum(np.maximum(cents, floor_cents), np.maximum(cap_cents, floor_cents))
    cents[overridden] = np.rint(exact[overridden]).astype(np.int64)
    fixed = np.asarray(overridden, dtype=bool) | np.asarray(held, dtype=bool)
    for positions, target in groups:
        positions = np.asarray(positions, dtype=int)
        free = positions[~fixed[positions]]
        if target is None or not len(free):
            continue
        left = to_cents(target) - int(cents[positions[fixed[positions]]].sum())
        lo = floor_cents[free]
        hi = np.maximum(cap_cents[free], lo)
        cents[free] = largest_remainder(exact[free], left, lo, hi)
    return cents / 100.0


def split_cents(quota: float, parts: Sequence[float]) -> list[float]:
    """A quota split into seasons (parts summing to 1), each to the cent, adding up to it."""
    total = to_cents(quota)
    exact = np.array([total * float(p) for p in parts], dtype=float)
    zeros = np.zeros(len(exact), dtype=np.int64)
    caps = np.full(len(exact), total, dtype=np.int64)
    return (largest_remainder(exact, total, zeros, caps) / 100.0).tolist()


def _ceil_cents(amount: float) -> int:
    if not math.isfinite(amount):
        return 0
    return int(math.ceil(float(amount) * 100.0 - CENT_NOISE))


def _floor_cents(amount: float) -> int:
    if not math.isfinite(amount):
        return np.iinfo(np.int64).max // 4
    return int(math.floor(float(amount) * 100.0 + CENT_NOISE))
