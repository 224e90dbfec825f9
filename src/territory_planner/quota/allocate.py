"""Quotas for one row per rep: the two LPs solved, the quotas table and its certificate."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from ..scenario import QuotaSettings
from .binding import binding_rules, largest_deviations, spread_notes
from .cents import round_quotas, split_cents
from .explain import check_bounds_reach_target
from .inputs import Pool, prepare
from .rows import (
    CAP_ABSOLUTE,
    QuotaLP,
    build_max_deviation_lp,
    build_sum_deviation_lp,
    name_labels,
    solve_stage,
    solved_values,
)
from .shares import fair_shares, growth_bounds, method_alpha, season_columns
from .spread import Spread, spread_levels

QUOTA_COLUMNS = [
    "rep_id",
    "name",
    "region_id",
    "quota",
    "fair_share",
    "deviation",
    "potential",
    "revenue_last_year",
    "growth",
    "quota_to_potential",
    "ramp",
    "binding",
]
"""Columns of quotas.csv, in order; season columns (q1..q4 or m01..m12) follow them.

``binding`` names the rule that holds the rep's quota (min_growth, max_growth, override),
empty when none does (see :func:`~territory_planner.quota.binding.binding_rules`).
"""


@dataclass
class QuotaPlan:
    """Quotas set by :func:`solve_quotas`: one row per rep (``frame``) and the certificate.

    ``lower_bound`` is the LP-proven minimum of the largest relative deviation: no plan that
    meets the target and the bounds can do better. ``max_relative_deviation`` is what this
    plan reaches (equal to it within solver tolerance). ``binding`` names the reps whose
    quota sits on a growth bound away from its fair share (``min_growth``: on its floor;
    ``max_growth``: on its cap); a zero-share rep held at a positive floor counts too.
    ``ramp_notes`` says where capacity and ramp scale a fair share twice (set by
    :func:`~territory_planner.quota.allocate_quotas`, which knows the reps' capacity).
    ``timings`` has the seconds of each step (prepare, build_lp1, solve_lp1, build_lp2,
    solve_lp2, total).
    """

    frame: pd.DataFrame
    settings: QuotaSettings
    target: float
    max_relative_deviation: float
    sum_relative_deviation: float
    lower_bound: float
    status: str = "optimal"
    seconds: float = 0.0
    per_region: dict[str, dict[str, Any]] | None = None
    binding: dict[str, list[str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    ramp_notes: list[str] = field(default_factory=list)
    spread: list[dict[str, Any]] = field(default_factory=list)

    @property
    def method(self) -> str:
        return self.settings.method

    @property
    def alpha(self) -> float:
        return method_alpha(self.settings)

    def to_frame(self) -> pd.DataFrame:
        """The quotas table (a copy): ``QUOTA_COLUMNS`` plus season columns, sorted by rep."""
        return self.frame.copy()

    def summary(self) -> dict[str, Any]:
        """The ``quota`` section of summary.json (plain JSON types).

        ``largest_deviations`` lists the reps farthest from their fair share with the rule
        that binds each (see :func:`~territory_planner.quota.binding.largest_deviations`);
        ``ramp_notes`` the reps whose share capacity and ramp both scale; ``spread`` what
        the growth bounds left over in each region and how it was spread (see
        :func:`~territory_planner.quota.binding.spread_notes`).
        """
        data: dict[str, Any] = {
            "target": float(self.target),
            "method": self.method,
            "alpha": float(self.alpha),
            "max_relative_deviation": float(self.max_relative_deviation),
            "sum_relative_deviation": float(self.sum_relative_deviation),
            "status": self.status,
            "seconds": float(self.seconds),
            "lower_bound": float(self.lower_bound),
            "reps": int(len(self.frame)),
            "overrides": float(sum((self.settings.overrides or {}).values())),
            "binding_min_growth": len(self.binding.get("min_growth", [])),
            "binding_max_growth": len(self.binding.get("max_growth", [])),
            "largest_deviations": largest_deviations(self.frame, self.settings),
            "ramp_notes": list(self.ramp_notes),
            "spread": [dict(item) for item in self.spread],
        }
        if self.per_region is not None:
            data["per_region"] = {key: dict(value) for key, value in self.per_region.items()}
        return data


def solve_quotas(
    table: pd.DataFrame, settings: QuotaSettings, solver: pulp.LpSolver, *, source: str = "scenario"
) -> QuotaPlan:
    """Set quotas for one row per rep (see the package docstring for the model).

    ``table`` columns: rep_id, name, region_id, status, potential, revenue (sums over the
    rep's accounts), plus the ramp column when ``settings.ramp`` names one, plus optionally
    ``accounts`` (count). ``source`` names the scenario in error messages.

    Raises InputError for bad references (every one at once), InfeasibleError when the growth
    bounds cannot add up to the target, SolverError when an LP does not end optimal.
    """
    start = time.perf_counter()
    timings: dict[str, float] = {}
    reps, pools = prepare(table, settings, source)
    override = reps["override"].to_numpy(dtype=float)
    pool = reps["pool"].to_numpy(dtype=int)
    pool_left = np.array([p.left for p in pools], dtype=float)

    weight, share = fair_shares(
        reps["potential"].to_numpy(dtype=float),
        reps["revenue"].to_numpy(dtype=float),
        reps["ramp"].to_numpy(dtype=float),
        pool,
        pool_left,
        method_alpha(settings),
    )
    lower, upper = growth_bounds(
        reps["revenue"].to_numpy(dtype=float), settings.min_growth, settings.max_growth
    )
    in_pool = pool >= 0
    in_lp = in_pool & (share > 0)
    zero_share = in_pool & ~in_lp
    weight_sum = np.bincount(pool[in_pool], weights=weight[in_pool], minlength=len(pools))
    check_bounds_reach_target(reps, pools, lower, upper, zero_share, weight_sum, settings)
    timings["prepare"] = time.perf_counter() - start

    quota = np.where(~np.isnan(override), override, 0.0)
    quota = np.where(zero_share, lower, quota)
    z_optimum, pinned, levels = _solve_lps(
        reps, pools, share, lower, upper, in_lp, zero_share, quota, solver, timings
    )
    rules = binding_rules(quota, share, lower, upper, in_lp, zero_share, ~np.isnan(override))
    written = round_quotas(
        quota, lower, upper, ~np.isnan(override), zero_share, _target_groups(reps, pools, settings)
    )
    frame, binding = _frame(reps, written, share, rules, settings)
    spread = spread_notes(frame, pools, pool, in_lp, pinned, levels)
    relative = np.abs(frame["deviation"].to_numpy(dtype=float))
    relative = np.where(np.isnan(relative), 0.0, relative)
    per_region = None
    if settings.targets is not None:
        per_region = _per_region(reps, pools, in_lp, relative, z_optimum)
    seconds = time.perf_counter() - start
    timings["total"] = seconds
    total_target = (
        float(settings.target)
        if settings.targets is None
        else float(sum(settings.targets.values()))
    )
    return QuotaPlan(
        frame=frame,
        settings=settings,
        target=total_target,
        max_relative_deviation=float(relative[in_lp].max(initial=0.0)),
        sum_relative_deviation=float(relative[in_lp].sum()),
        lower_bound=float(z_optimum.max(initial=0.0)),
        status="optimal",
        seconds=seconds,
        per_region=per_region,
        binding=binding,
        timings=timings,
        spread=spread,
    )


def _solve_lps(
    reps: pd.DataFrame,
    pools: list[Pool],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    in_lp: np.ndarray,
    zero_share: np.ndarray,
    quota: np.ndarray,
    solver: pulp.LpSolver,
    timings: dict[str, float],
) -> np.ndarray:
    """Solve LP 1 and LP 2 over the reps with a fair share; their quotas go into ``quota``.

    Returns z*_r, the proven minimum of the largest relative deviation, for every pool (0
    for a pool without LP reps); the reps pinned on their own growth bound by the spread
    step (bool per rep); and each pool's spread level t*_r (NaN where LP 1 put every quota on
    its share and no spread step ran).
    """
    pool = reps["pool"].to_numpy(dtype=int)
    pool_left = np.array([p.left for p in pools], dtype=float)
    lp_rows = np.flatnonzero(in_lp)
    z_optimum = np.zeros(len(pools))
    pinned = np.zeros(len(reps), dtype=bool)
    levels = np.full(len(pools), np.nan)
    if not len(lp_rows):
        return z_optimum, pinned, levels
    blocks = sorted(set(pool[lp_rows].tolist()))
    block_of = {b: i for i, b in enumerate(blocks)}
    block = np.array([block_of[b] for b in pool[lp_rows]], dtype=int)
    held = np.bincount(pool[zero_share], weights=lower[zero_share], minlength=len(pools))
    block_rhs = [pool_left[b] - held[b] for b in blocks]
    block_labels = name_labels(["all" if pools[b].key is None else pools[b].key for b in blocks])
    labels = name_labels(reps["rep_id"].to_numpy()[lp_rows].tolist())

    lp_share, lp_lower, lp_upper = share[lp_rows], lower[lp_rows], upper[lp_rows]
    tick = time.perf_counter()
    first = build_max_deviation_lp(
        labels, lp_share, lp_lower, lp_upper, block, block_rhs, block_labels
    )
    timings["build_lp1"] = time.perf_counter() - tick
    timings["solve_lp1"] = solve_stage(
        first.problem, solver, "LP 1: largest relative deviation"
    ).seconds
    best = np.maximum(solved_values(first.max_deviation), 0.0)

    model = first
    if best.max() > CAP_ABSOLUTE:
        # Otherwise LP 1 already puts every quota on its fair share (|q_j - s_j| / s_j
        # <= z*_r <= 1e-12), which is LP 2's optimum too: nothing is left to trade.
        model, spread = _second_stage(
            labels,
            lp_share,
            lp_lower,
            lp_upper,
            block,
            block_rhs,
            block_labels,
            best,
            solver,
            timings,
        )
        pinned[lp_rows] = spread.pinned
        for b, value in zip(blocks, spread.level):
            levels[b] = value
    quota[lp_rows] = model.quotas()
    for b, value in zip(blocks, best):
        z_optimum[b] = value
    return z_optimum, pinned, levels


def _second_stage(
    labels: Sequence[str],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    block: np.ndarray,
    block_rhs: Sequence[float],
    block_labels: Sequence[str],
    best: np.ndarray,
    solver: pulp.LpSolver,
    timings: dict[str, float],
) -> tuple[QuotaLP, Spread]:
    """The spread step (:mod:`.spread`) and LP 2 under its caps."""
    tick = time.perf_counter()
    spread = spread_levels(
        labels, share, lower, upper, block, block_rhs, block_labels, best, solver
    )
    timings["spread"] = time.perf_counter() - tick
    tick = time.perf_counter()
    model = build_sum_deviation_lp(
        labels, share, lower, upper, block, block_rhs, block_labels, spread.caps(block)
    )
    timings["build_lp2"] = time.perf_counter() - tick
    timings["solve_lp2"] = solve_stage(
        model.problem, solver, "LP 2: sum of relative deviations"
    ).seconds
    return model, spread


def _per_region(
    reps: pd.DataFrame,
    pools: list[Pool],
    in_lp: np.ndarray,
    relative: np.ndarray,
    z_optimum: np.ndarray,
) -> dict[str, dict[str, Any]]:
    """The ``per_region`` block of the summary: each region's target and certificate."""
    pool = reps["pool"].to_numpy(dtype=int)
    region = reps["region_id"].to_numpy(dtype=object)  # frame rows follow reps' order
    per_region = {}
    for b, p in enumerate(pools):
        with_share = (pool == b) & in_lp
        per_region[p.key] = {
            "target": p.target,
            "overrides": p.overrides,
            "target_left": p.left,
            "max_relative_deviation": float(relative[with_share].max(initial=0.0)),
            "sum_relative_deviation": float(relative[with_share].sum()),
            "lower_bound": float(z_optimum[b]),
            "reps": int((region == p.key).sum()),
        }
    return per_region


def _target_groups(
    reps: pd.DataFrame, pools: list[Pool], settings: QuotaSettings
) -> list[tuple[np.ndarray, float | None]]:
    """The reps that must add up to one target, with it: every rep for a company target,
    each region's reps (overrides included) for targets per region; reps of no region of
    ``targets`` (they carry nothing) as a group without a target."""
    if settings.targets is None:
        return [(np.arange(len(reps)), float(settings.target))]
    region = reps["region_id"].to_numpy(dtype=object)
    groups: list[tuple[np.ndarray, float | None]] = []
    for p in pools:
        groups.append((np.flatnonzero(region == p.key), p.target))
    outside = np.flatnonzero(~np.isin(region, [p.key for p in pools]))
    if len(outside):
        groups.append((outside, None))
    return groups


def _frame(
    reps: pd.DataFrame,
    quota: np.ndarray,
    share: np.ndarray,
    rules: np.ndarray,
    settings: QuotaSettings,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The quotas table in ``QUOTA_COLUMNS`` order and the reps on each growth bound.

    ``quota`` are the quotas as written (to the cent, :mod:`.cents`); ``rules`` the rule
    binding each, judged on the LP's own quotas (a cent of rounding is no bound moving).
    """
    potential = reps["potential"].to_numpy(dtype=float)
    revenue = reps["revenue"].to_numpy(dtype=float)
    overridden = ~np.isnan(reps["override"].to_numpy(dtype=float))
    fair = np.where(overridden, np.nan, share)

    def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
        ok = np.nan_to_num(denominator) > 0
        return np.divide(numerator, denominator, out=np.full_like(numerator, np.nan), where=ok)

    frame = pd.DataFrame(
        {
            "rep_id": reps["rep_id"].astype(str),
            "name": reps["name"].astype(str),
            "region_id": reps["region_id"].astype(object),
            "quota": quota,
            "fair_share": fair,
            "deviation": ratio(quota - np.nan_to_num(fair), fair),
            "potential": potential,
            "revenue_last_year": revenue,
            "growth": ratio(quota, revenue) - 1.0,
            "quota_to_potential": ratio(quota, potential),
            "ramp": reps["ramp"].to_numpy(dtype=float),
        }
    )
    if settings.seasonality is not None:
        seasons = np.array([split_cents(q, settings.seasonality) for q in quota]).reshape(
            len(quota), len(settings.seasonality)
        )
        for k, column in enumerate(season_columns(len(settings.seasonality))):
            frame[column] = seasons[:, k]
    frame.insert(frame.columns.get_loc("ramp") + 1, "binding", rules)
    rep_ids = frame["rep_id"].to_numpy()
    binding = {rule: rep_ids[rules == rule].tolist() for rule in ("min_growth", "max_growth")}
    return frame, binding
