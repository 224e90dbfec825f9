"""The strong locate formulation (optimize/locate_model.py, module docstring) as sparse arrays
handed to HiGHS whole, and the Lagrangian bound its duals prove over every pair.

PuLP makes one Python object per row; the ``x[u, s] <= y[s]`` link rows of thousands of
candidate sites then cost gigabytes and most of the time limit before the solver starts.
Here the matrix is assembled with numpy (one column per candidate pair and per site) and
passed in one call.

Columns: ``x[p]`` for every candidate pair p = (u, s), then ``y[q]`` for every site q that
has a pair. Rows, in order:

    sum_s x[u, s] = 1                                  for all u     (assign once)
    sum_q y[q] = N                                                   (open count)
    x[u, s] - y[s] <= 0                                for all pairs (serve only open)
    sigma (sum_u a[m, u] x[u, s] - L[m, s] y[s]) >= 0  for m, s      (band min)
    sigma (sum_u a[m, u] x[u, s] - U[m, s] y[s]) <= 0  for m, s      (band max)

``sigma = 1 / band size`` keeps the band coefficients near 1 (docs/design.md, solver
numerics). With ``fixed_sites`` the y columns, the count and link rows are left out and the
band rows have the band itself on the right-hand side: the banded assignment to known bases.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from .model import PairSet
from .solvers import _silence_highs_banner

FEASIBLE = {"Optimal", "Time limit reached", "Interrupt", "Iteration limit reached"}


@dataclass
class StrongModel:
    """The arrays of one formulation, and where each family of rows starts."""

    pairs: PairSet
    sites: np.ndarray  # (Q,) site positions with a y column (empty when sites are fixed)
    site_of_pair: np.ndarray  # (P,) position of each pair's site in ``sites``
    count: int
    band_site: np.ndarray  # (R,) site position of each band row
    band_metric: np.ndarray  # (R,) metric of each band row
    band_side: np.ndarray  # (R,) +1 band min (>=), -1 band max (<=)
    band_scale: np.ndarray  # (R,) sigma
    band_rhs: np.ndarray  # (R,) L or U of the row (scaled away when y is a column)
    fixed: bool
    lp: highspy.HighsLp

    @property
    def n_x(self) -> int:
        return len(self.pairs)


def _band_rows(problem, sites: np.ndarray):
    """(site, metric, side, scale, bound) of every finite band side at ``sites``."""
    rows = []
    for m in range(problem.n_metrics):
        lower, upper = problem.lower[m, sites], problem.upper[m, sites]
        for q, s in enumerate(sites.tolist()):
            finite = [abs(v) for v in (lower[q], upper[q], 1.0) if np.isfinite(v)]
            scale = 1.0 / max(finite)
            if np.isfinite(lower[q]) and lower[q] > 0:
                rows.append((s, m, 1, scale, float(lower[q])))
            if np.isfinite(upper[q]):
                rows.append((s, m, -1, scale, float(upper[q])))
    if not rows:
        return (np.zeros(0, dtype=int),) * 3 + (np.zeros(0),) * 2
    site, metric, side, scale, bound = map(np.array, zip(*rows))
    return site.astype(int), metric.astype(int), side.astype(int), scale, bound


def _highs_lp(matrix, cost, upper, row_lower, row_upper) -> highspy.HighsLp:
    """A HiGHS LP (columns from 0 to ``upper``) around a CSC matrix."""
    lp = highspy.HighsLp()
    lp.num_row_, lp.num_col_ = matrix.shape
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(matrix.shape[1])
    lp.col_upper_ = upper
    lp.row_lower_ = row_lower.astype(float)
    lp.row_upper_ = row_upper.astype(float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    return lp


def build_strong_model(
    problem,
    pairs: PairSet,
    count: int,
    *,
    fixed_sites: np.ndarray | None = None,
    elastic: float | None = None,
) -> StrongModel:
    """The formulation of the module docstring over ``pairs`` (sorted by unit, site).

    With ``elastic`` every band row gets a slack column of that cost per unit of (scaled)
    violation: a relaxation, feasible however few pairs a site has, whose duals still
    price the exact rows (the bound of lagrangian_bound never uses the slacks)."""
    n_units, n_pairs = problem.n_units, len(pairs)
    fixed = fixed_sites is not None
    sites = np.unique(pairs.rep) if not fixed else np.asarray(fixed_sites)
    site_of_pair = np.searchsorted(sites, pairs.rep)
    n_y = 0 if fixed else len(sites)
    b_site, b_metric, b_side, b_scale, b_bound = _band_rows(problem, sites)
    b_pos = np.searchsorted(sites, b_site)
    rows, cols, vals = [pairs.unit], [np.arange(n_pairs)], [np.ones(n_pairs)]
    row_lo, row_hi = [np.ones(n_units)], [np.ones(n_units)]
    next_row = n_units
    if not fixed:
        rows += [np.full(n_y, next_row), next_row + 1 + np.arange(n_pairs)]
        cols += [n_pairs + np.arange(n_y), np.arange(n_pairs)]
        vals += [np.ones(n_y), np.ones(n_pairs)]
        rows.append(next_row + 1 + np.arange(n_pairs))
        cols.append(n_pairs + site_of_pair)
        vals.append(-np.ones(n_pairs))
        row_lo += [np.array([count]), np.full(n_pairs, -np.inf)]
        row_hi += [np.array([count]), np.zeros(n_pairs)]
        next_row += 1 + n_pairs
    # band rows: the pairs of each row's site carry their unit's load on the row's metric
    pair_order = np.argsort(site_of_pair, kind="stable")
    starts = np.searchsorted(site_of_pair[pair_order], np.arange(len(sites) + 1))
    for r in range(len(b_site)):
        members = pair_order[starts[b_pos[r]] : starts[b_pos[r] + 1]]
        load = pairs.load[b_metric[r], members] * b_scale[r]
        keep = load != 0.0
        rows.append(np.full(int(keep.sum()), next_row + r))
        cols.append(members[keep])
        vals.append(load[keep])
        rhs = b_bound[r] * b_scale[r]
        if not fixed:
            rows.append(np.array([next_row + r]))
            cols.append(np.array([n_pairs + b_pos[r]]))
            vals.append(np.array([-rhs]))
            rhs = 0.0
        row_lo.append(np.array([rhs if b_side[r] > 0 else -np.inf]))
        row_hi.append(np.array([rhs if b_side[r] < 0 else np.inf]))
    n_rows = next_row + len(b_site)
    n_slack = len(b_site) if elastic is not None else 0
    if n_slack:
        rows.append(next_row + np.arange(n_slack))
        cols.append(n_pairs + n_y + np.arange(n_slack))
        vals.append(b_side.astype(float))
    n_cols = n_pairs + n_y + n_slack
    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_cols),
    )
    lp = _highs_lp(
        matrix,
        np.concatenate([pairs.cost, np.zeros(n_y), np.full(n_slack, elastic or 0.0)]),
        np.concatenate([np.ones(n_pairs + n_y), np.full(n_slack, np.inf)]),
        np.concatenate(row_lo),
        np.concatenate(row_hi),
    )
    return StrongModel(
        pairs=pairs,
        sites=sites if not fixed else np.zeros(0, dtype=int),
        site_of_pair=site_of_pair,
        count=count,
        band_site=b_site,
        band_metric=b_metric,
        band_side=b_side,
        band_scale=b_scale,
        band_rhs=b_bound,
        fixed=fixed,
        lp=lp,
    )


@dataclass
class StrongOutcome:
    """What one HiGHS run left: status text, primal values, duals, MIP dual bound."""

    status: str
    values: np.ndarray | None
    row_dual: np.ndarray | None
    objective: float
    mip_bound: float
    seconds: float

    @property
    def has_solution(self) -> bool:
        return self.values is not None


def solve_strong(
    model: StrongModel,
    settings,
    *,
    mip: bool,
    time_limit: float,
    start: np.ndarray | None = None,
    gap: float | None = None,
) -> StrongOutcome:
    """Run HiGHS on the model (LP relaxation, or MILP with binary columns) within
    ``time_limit`` seconds; ``start`` is a full column vector to warm-start the MILP."""
    started = time.perf_counter()
    if not settings.msg:
        _silence_highs_banner()
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", bool(settings.msg))
    highs.setOptionValue("time_limit", float(max(time_limit, 0.05)))
    highs.setOptionValue("threads", int(settings.threads or 1))
    highs.setOptionValue("random_seed", int(settings.seed))
    if mip:
        model.lp.integrality_ = [highspy.HighsVarType.kInteger] * model.lp.num_col_
        highs.setOptionValue("mip_rel_gap", float(settings.gap if gap is None else gap))
    else:
        model.lp.integrality_ = []
    highs.passModel(model.lp)
    if mip and start is not None:
        solution = highspy.HighsSolution()
        solution.col_value = list(map(float, start))
        solution.value_valid = True
        highs.setSolution(solution)
    highs.run()
    status = highs.modelStatusToString(highs.getModelStatus())
    solution, info = highs.getSolution(), highs.getInfo()
    values = np.array(solution.col_value) if solution.value_valid else None
    if values is not None and status not in FEASIBLE:
        values = None
    duals = np.array(solution.row_dual) if (solution.dual_valid and not mip) else None
    mip_bound = float(info.mip_dual_bound) if mip else -math.inf
    objective = float(info.objective_function_value) if values is not None else math.inf
    return StrongOutcome(
        status=status,
        values=values,
        row_dual=duals,
        objective=objective,
        mip_bound=mip_bound if np.isfinite(mip_bound) else -math.inf,
        seconds=time.perf_counter() - started,
    )


def start_vector(model: StrongModel, unit_site: np.ndarray) -> np.ndarray:
    """Column values of a plan (unit -> site position); every plan pair must be a column."""
    x = (unit_site[model.pairs.unit] == model.pairs.rep).astype(float)
    if model.fixed:
        return x
    y = np.isin(model.sites, unit_site).astype(float)
    return np.concatenate([x, y])


def plan_from(model: StrongModel, values: np.ndarray, n_units: int) -> np.ndarray:
    """The site of each unit: its pair of largest value."""
    x = values[: model.n_x]
    order = np.lexsort((-x, model.pairs.unit))
    first = np.ones(len(order), dtype=bool)
    first[1:] = model.pairs.unit[order][1:] != model.pairs.unit[order][:-1]
    unit_site = np.full(n_units, -1, dtype=int)
    unit_site[model.pairs.unit[order[first]]] = model.pairs.rep[order[first]]
    return unit_site


# ----------------------------------------------------------------------------- the bound


@dataclass
class DualPrices:
    """Sign-corrected duals of a solved relaxation, in the terms of the unscaled rows."""

    once: np.ndarray  # (U,) assign-once rows
    link: np.ndarray  # (P,) serve-only-open rows (<= 0)
    band: np.ndarray  # (M, S) sum of sigma * dual over the band rows of each metric, site
    site: np.ndarray  # (S,) reduced cost of y[s] leaving out the count row (0 without y)
    count: int


def dual_prices(problem, model: StrongModel, row_dual: np.ndarray) -> DualPrices:
    """Duals clipped to the sign their row's sense allows (>= rows: >= 0, <= rows: <= 0),
    so that the bound below is valid for them whatever the solver's tolerances left."""
    n_units, n_pairs = problem.n_units, model.n_x
    once = row_dual[:n_units].copy()
    link = np.minimum(row_dual[n_units + 1 : n_units + 1 + n_pairs], 0.0)
    band_dual = row_dual[n_units + 1 + n_pairs :]
    band_dual = np.where(
        model.band_side > 0, np.maximum(band_dual, 0.0), np.minimum(band_dual, 0.0)
    )
    band = np.zeros((problem.n_metrics, problem.n_reps))
    np.add.at(band, (model.band_metric, model.band_site), model.band_scale * band_dual)
    site = np.zeros(problem.n_reps)
    np.add.at(site, model.pairs.rep, link)
    np.add.at(site, model.band_site, model.band_scale * model.band_rhs * band_dual)
    return DualPrices(once=once, link=link, band=band, site=site, count=model.count)


@dataclass
class Pricing:
    """The Lagrangian bound over every allowed pair, and the pairs that would improve it."""

    bound: float
    new_units: np.ndarray
    new_sites: np.ndarray
    left_out_floor: float  # every plan using a left-out pair costs at least this


def lagrangian_bound(problem, model: StrongModel, prices: DualPrices, blocks, per_unit: int):
    """L(pi) = sum_u pi_once[u] + sum_u min_s rc[u, s] + (sum of the N smallest rc_y[s]),

    with ``rc[u, s] = c[u, s] - pi_once[u] - pi_link[u, s] - sum_m a[m, u] pi_band[m, s]``
    over every allowed pair (pi_link = 0 outside the model) and ``rc_y`` the y columns'
    reduced costs without the count row. It is the Lagrangian relaxation of every row but
    assign-once and open-count, which stay in the inner problem; for sign-correct duals
    L(pi) is at most the cost of every plan, whether or not the LP was solved to the end.
    A plan using the left-out pair (u, s) costs at least ``L + rc[u, s] - min_s rc[u, s]``.

    ``blocks`` yields (units, cost) with ``cost`` inf where a pair is forbidden.
    """
    pairs = model.pairs
    in_rc = pairs.cost - prices.once[pairs.unit] - prices.link
    in_rc -= (problem.unit_load[:, pairs.unit] * prices.band[:, pairs.rep]).sum(axis=0)
    best = np.full(problem.n_units, np.inf)
    np.minimum.at(best, pairs.unit, in_rc)
    left_min = np.full(problem.n_units, np.inf)
    new_units, new_sites = [], []
    for units, cost in blocks:
        rc = cost - prices.once[units][:, None] - problem.unit_load[:, units].T @ prices.band
        inside = (pairs.unit >= units[0]) & (pairs.unit <= units[-1])
        rc[pairs.unit[inside] - units[0], pairs.rep[inside]] = np.inf
        left_min[units] = rc.min(axis=1)
        take = min(per_unit, rc.shape[1])
        top = np.argpartition(rc, take - 1, axis=1)[:, :take]
        values = np.take_along_axis(rc, top, axis=1)
        scale = np.maximum(1.0, np.abs(prices.once[units]))[:, None]
        rows, cols = np.nonzero(values < -1e-9 * scale)
        new_units.append(units[rows])
        new_sites.append(top[rows, cols])
    unit_min = np.minimum(best, left_min)
    site_part = np.sort(prices.site)[: prices.count].sum()
    bound = float(prices.once.sum() + unit_min.sum() + site_part)
    floor = float(np.min(left_min - unit_min)) if np.isfinite(left_min).any() else math.inf
    return Pricing(
        bound=bound if np.isfinite(bound) else -math.inf,
        new_units=np.concatenate(new_units).astype(int),
        new_sites=np.concatenate(new_sites).astype(int),
        left_out_floor=bound + floor if np.isfinite(floor) else math.inf,
    )
