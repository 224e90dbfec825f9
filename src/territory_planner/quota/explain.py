"""Why quotas cannot add up to the target: the interval the bounds allow, and who binds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InfeasibleError
from ..scenario import QuotaSettings
from .inputs import FEASIBILITY_TOLERANCE, Pool
from .shares import method_alpha
from .wording import fmt, growth_text

MESSAGE_LIST_CAP = 10


def check_bounds_reach_target(
    reps: pd.DataFrame,
    pools: list[Pool],
    lower: np.ndarray,
    upper: np.ndarray,
    zero_share: np.ndarray,
    weight_sum: np.ndarray,
    settings: QuotaSettings,
) -> None:
    """Raise InfeasibleError when sum_j L_j > T or sum_j U_j < T in some pool.

    Quotas in [L_j, U_j] can add up to T exactly when T lies in [sum L_j, sum U_j], so this
    check is complete: past it the LPs are feasible. Zero-share reps sit at their floor, so
    they count with U_j = L_j. The message lists the binding reps, largest first: the lower
    bounds when sum L > T, the upper bounds when sum U < T.
    """
    reasons: list[str] = []
    details: list[dict[str, Any]] = []
    pool = reps["pool"].to_numpy()
    held_upper = np.where(zero_share, lower, upper)
    for b, p in enumerate(pools):
        members = np.flatnonzero(pool == b)
        low = float(lower[members].sum())
        high = float(held_upper[members].sum())
        tolerance = FEASIBILITY_TOLERANCE * max(abs(p.left), low, 1.0)
        if low > p.left + tolerance:
            side, limit = "min_growth", lower
        elif high < p.left - tolerance:
            side, limit = "max_growth", held_upper
        else:
            continue
        base = {
            "region": p.key,
            "target": p.left,
            "lower": low,
            "upper": high if math.isfinite(high) else None,
        }
        items = _binding_items(reps, members, side, limit, lower, upper, zero_share, settings)
        for _, detail in items:
            details.append({**base, **detail})
        if not items:
            details.append({**base, "rep_id": None, "bound": side, "limit": None, "revenue": None})
        no_weight = side == "max_growth" and weight_sum[b] <= 0
        reasons.append(
            _reason(p, side, low, high, [text for text, _ in items], no_weight, settings)
        )
    if reasons:
        raise InfeasibleError(reasons, details)


def _binding_items(
    reps: pd.DataFrame,
    members: np.ndarray,
    side: str,
    limit: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    zero_share: np.ndarray,
    settings: QuotaSettings,
) -> list[tuple[str, dict[str, Any]]]:
    """The reps of one pool whose bound on ``side`` is positive, largest first: a phrase and
    the detail record of each."""
    revenue = reps["revenue"].to_numpy()
    rep_ids = reps["rep_id"].to_numpy()
    order = members[np.lexsort((rep_ids[members], -limit[members]))]
    items = []
    for j in (j for j in order if limit[j] > 0):
        if side == "min_growth":
            bound = "min_growth"
            text = (
                f"{rep_ids[j]} (quota >= {fmt(lower[j])} from revenue "
                f"{fmt(revenue[j])} * {growth_text(settings.min_growth or 0.0)})"
            )
        elif zero_share[j]:
            bound = "zero_share"
            text = f"{rep_ids[j]} (held at its floor {fmt(lower[j])}: fair share 0)"
        else:
            bound = "max_growth"
            text = (
                f"{rep_ids[j]} (quota <= {fmt(upper[j])} from revenue "
                f"{fmt(revenue[j])} * {growth_text(settings.max_growth or 0.0)})"
            )
        detail = {
            "rep_id": str(rep_ids[j]),
            "bound": bound,
            "limit": float(limit[j]),
            "revenue": float(revenue[j]),
        }
        items.append((text, detail))
    return items


def _reason(
    p: Pool,
    side: str,
    low: float,
    high: float,
    items: list[str],
    no_weight: bool,
    settings: QuotaSettings,
) -> str:
    """One pool's sentence: the target, the interval the bounds allow, the binding reps."""
    what = f"the target {fmt(p.left)}{p.where}"
    if p.overrides > 0:
        what += f", which is {fmt(p.target)} less overrides of {fmt(p.overrides)}"
    listed = ", ".join(items[:MESSAGE_LIST_CAP]) or "none"
    if len(items) > MESSAGE_LIST_CAP:
        listed += f", and {len(items) - MESSAGE_LIST_CAP} more"
    interval = f"the growth bounds allow between {fmt(low)} and {fmt(high)}; binding: {listed}"
    if no_weight:
        return (
            f"quotas cannot add up to {what}: no rep left to share it has a fair share "
            f"(method '{settings.method}' weighs {_weighs(settings)}, and that is 0 for "
            f"every rep here); {interval} (fix: check the accounts' potential and "
            f"revenue, use another method, or set overrides)"
        )
    fix = (
        "lower min_growth, raise the target or override a rep"
        if side == "min_growth"
        else "raise max_growth, lower the target or override a rep"
    )
    return f"quotas cannot add up to {what}: {interval} (fix: {fix})"


def _weighs(settings: QuotaSettings) -> str:
    alpha = method_alpha(settings)
    if alpha == 1.0:
        return "only potential"
    if alpha == 0.0:
        return "only last year's revenue"
    return "potential and last year's revenue"
