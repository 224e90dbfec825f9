"""The model's pieces, each a pure function of arrays: weights, fair shares, growth bounds."""

from __future__ import annotations

import numpy as np

from ..scenario import QuotaSettings


def method_alpha(settings: QuotaSettings) -> float:
    """alpha = 1 for ``potential``, 0 for ``history``, ``settings.alpha`` for ``blend``."""
    if settings.method == "potential":
        return 1.0
    if settings.method == "history":
        return 0.0
    return float(settings.alpha)


def growth_bounds(
    revenue: np.ndarray, min_growth: float | None, max_growth: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-rep bounds on the quota from last year's revenue of the territory.

    L_j = R_j * (1 + min_growth)  where R_j > 0 and min_growth is given, else 0
    U_j = R_j * (1 + max_growth)  where R_j > 0 and max_growth is given, else +inf

    A territory without history is unbounded: there is no past to grow from.
    """
    revenue = np.asarray(revenue, dtype=float)
    has_history = revenue > 0
    lower = np.zeros_like(revenue)
    upper = np.full_like(revenue, np.inf)
    if min_growth is not None:
        lower = np.where(has_history, revenue * (1.0 + min_growth), 0.0)
    if max_growth is not None:
        upper = np.where(has_history, revenue * (1.0 + max_growth), np.inf)
    return lower, upper


def fair_shares(
    potential: np.ndarray,
    revenue: np.ndarray,
    ramp: np.ndarray,
    pool: np.ndarray,
    pool_target: np.ndarray,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and fair shares, pool by pool (a pool is the set of reps sharing one T).

    w_j = r_j * (alpha * P_j / sum P + (1 - alpha) * R_j / sum R)
    s_j = T * w_j / sum w

    Sums run over j's pool; ``pool[j] = -1`` marks a rep outside every pool (an override)
    whose weight and share are 0. A sum that is 0 makes its term 0.
    """
    potential = np.asarray(potential, dtype=float)
    revenue = np.asarray(revenue, dtype=float)
    ramp = np.asarray(ramp, dtype=float)
    pool = np.asarray(pool, dtype=int)
    pool_target = np.asarray(pool_target, dtype=float)
    member = pool >= 0
    index = np.where(member, pool, 0)
    pools = len(pool_target)

    def pool_sum(values: np.ndarray) -> np.ndarray:
        return np.bincount(pool[member], weights=values[member], minlength=pools)[index]

    def share_of(values: np.ndarray) -> np.ndarray:
        total = pool_sum(values)
        return np.divide(values, total, out=np.zeros_like(values), where=total > 0)

    weight = ramp * (alpha * share_of(potential) + (1.0 - alpha) * share_of(revenue))
    weight = np.where(member, weight, 0.0)
    total_weight = pool_sum(weight)
    share = np.divide(
        pool_target[index] * weight, total_weight, out=np.zeros_like(weight), where=total_weight > 0
    )
    return weight, np.where(member, share, 0.0)


def season_columns(count: int) -> list[str]:
    """Season column names: q1..q4 for quarters, m01..m12 for months."""
    if count == 4:
        return [f"q{i}" for i in range(1, 5)]
    if count == 12:
        return [f"m{i:02d}" for i in range(1, 13)]
    raise ValueError(f"seasonality needs 4 or 12 periods, got {count}")
