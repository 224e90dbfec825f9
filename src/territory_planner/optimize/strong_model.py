"""The strong locate formulation (optimize/locate_model.py, module docstring) over candidate
pairs as one PuLP model, and the Lagrangian bound its duals prove over every pair.

Unlike locate_model.py, which writes a row for every candidate site, this model has a
``y`` column only for the sites its pairs reach, and it keeps each family's rows in a fixed
order, so that the duals read back as arrays (``row_duals``) line up with the pairs and
sites that the bound of ``lagrangian_bound`` prices. The rows are written in bulk, one
``LpAffineExpression`` per row from sorted arrays, and go to the solver in one hand-over
(solvers.WarmStartHiGHS); a MIP solve is time-boxed like every other (timebox.py).

Columns: ``x[p]`` for every candidate pair p = (u, s), then ``y[q]`` for every site q that
has a pair, then (elastic only) one slack per band row. Rows, in order:

    sum_s x[u, s] = 1                                  for all u     (assign_once_rows)
    sum_q y[q] = N                                                   (open_count_row)
    x[u, s] - y[s] <= 0                                for all pairs (serve_only_open_rows)
    sigma (sum_u a[m, u] x[u, s] - L[m, s] y[s]) >= 0  for m, s      (band_rows, min)
    sigma (sum_u a[m, u] x[u, s] - U[m, s] y[s]) <= 0  for m, s      (band_rows, max)

``sigma = 1 / max(|L|, |U|, 1)`` keeps the band coefficients near 1 (docs/design.md, solver
numerics). With ``fixed_sites`` the y columns, the count and link rows are left out and the
band rows have the band itself on the right-hand side: the banded assignment to known bases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pulp

from .model import PairSet, safe_name
from .solvers import run


@dataclass
class StrongModel:
    """One formulation in PuLP, with the arrays that say which site and band each of its
    columns and rows belongs to."""

    pairs: PairSet
    sites: np.ndarray  # (Q,) site positions with a y column (empty when sites are fixed)
    served_sites: np.ndarray  # (Q,) the sites of the pairs, or the fixed sites
    site_of_pair: np.ndarray  # (P,) position of each pair's site in ``served_sites``
    count: int
    band_site: np.ndarray  # (R,) site position of each band row
    band_metric: np.ndarray  # (R,) metric of each band row
    band_side: np.ndarray  # (R,) +1 band min (>=), -1 band max (<=)
    band_scale: np.ndarray  # (R,) sigma
    band_rhs: np.ndarray  # (R,) L or U of the row (scaled away when y is a column)
    fixed: bool
    lp: pulp.LpProblem
    x: list = field(default_factory=list)
    y: list = field(default_factory=list)
    slack: list = field(default_factory=list)
    rows: list = field(default_factory=list)  # every row, in the order of the docstring

    @property
    def n_x(self) -> int:
        return len(self.pairs)

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def columns(self) -> list:
        """The variables in column order (solvers.model_columns)."""
        return [*self.x, *self.y, *self.slack]


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


def _add_row(model: StrongModel, terms, sense: int, rhs: float, name: str) -> None:
    row = pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, name=name, rhs=rhs)
    model.lp.addConstraint(row)
    model.rows.append(row)


def assign_once_rows(model: StrongModel, problem) -> None:
    """sum_s x[u, s] = 1 for every unit u (a unit without pairs gets an empty row, which
    makes the model infeasible, as it should)."""
    starts = np.searchsorted(model.pairs.unit, np.arange(problem.n_units + 1))
    for u, unit_id in enumerate(problem.unit_ids):
        terms = [(v, 1.0) for v in model.x[starts[u] : starts[u + 1]]]
        _add_row(model, terms, pulp.LpConstraintEQ, 1.0, f"assign_once[{safe_name(unit_id)}]")


def open_count_row(model: StrongModel) -> None:
    """sum_q y[q] = N: exactly N of the sites the pairs reach are opened."""
    terms = [(v, 1.0) for v in model.y]
    _add_row(model, terms, pulp.LpConstraintEQ, float(model.count), "open_count")


def serve_only_open_rows(model: StrongModel) -> None:
    """x[u, s] - y[s] <= 0 for every candidate pair: only an open site serves a unit (the
    link rows that make the LP relaxation tight, locate_model.py)."""
    for p, (variable, q) in enumerate(zip(model.x, model.site_of_pair.tolist())):
        _add_row(
            model,
            [(variable, 1.0), (model.y[q], -1.0)],
            pulp.LpConstraintLE,
            0.0,
            f"serve_only_open[{p}]",
        )


def band_rows(model: StrongModel, problem, elastic: float | None) -> None:
    """sigma (sum_u a[m, u] x[u, s] - L[m, s] y[s]) >= 0 and the same with U and <= for every
    finite band side of every site; with fixed sites ``sigma sum_u a x >= sigma L`` (and
    <= sigma U). ``elastic``: each row gets a slack column (+1 on a min row, -1 on a max row)
    of that cost, so the model is feasible however few pairs a site has; the duals still
    price the exact rows (lagrangian_bound never uses the slacks)."""
    pairs = model.pairs
    order = np.argsort(model.site_of_pair, kind="stable")
    positions = np.searchsorted(model.served_sites, model.band_site)
    starts = np.searchsorted(model.site_of_pair[order], np.arange(len(model.served_sites) + 1))
    metric_names = [safe_name(m) for m in problem.metrics]
    for r, (q, m, side, scale, bound) in enumerate(
        zip(
            positions.tolist(),
            model.band_metric.tolist(),
            model.band_side.tolist(),
            model.band_scale.tolist(),
            model.band_rhs.tolist(),
        )
    ):
        members = order[starts[q] : starts[q + 1]]
        loads = (pairs.load[m, members] * scale).tolist()
        terms = [(model.x[p], a) for p, a in zip(members.tolist(), loads) if a != 0.0]
        rhs = bound * scale
        if not model.fixed:
            terms.append((model.y[q], -rhs))
            rhs = 0.0
        if elastic is not None:
            slack = model.lp.add_variable(f"band_slack[{r}]", 0)
            model.slack.append(slack)
            terms.append((slack, float(side)))
        sense = pulp.LpConstraintGE if side > 0 else pulp.LpConstraintLE
        site_id = safe_name(problem.rep_ids[int(model.band_site[r])])
        kind = "min" if side > 0 else "max"
        _add_row(model, terms, sense, rhs, f"{metric_names[m]}_band_{kind}[{site_id}]")


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
    fixed = fixed_sites is not None
    site_list = np.unique(pairs.rep) if not fixed else np.asarray(fixed_sites)
    b_site, b_metric, b_side, b_scale, b_bound = _band_rows(problem, site_list)
    lp = pulp.LpProblem("locate_strong", pulp.LpMinimize)
    unit_names = [safe_name(u) for u in problem.unit_ids]
    site_names = [safe_name(s) for s in problem.rep_ids]
    add = lp.add_variable
    x = [
        add(f"x[{unit_names[u]},{site_names[s]}]", 0, 1)
        for u, s in zip(pairs.unit.tolist(), pairs.rep.tolist())
    ]
    y = [] if fixed else [add(f"open[{site_names[s]}]", 0, 1) for s in site_list.tolist()]
    model = StrongModel(
        pairs=pairs,
        sites=site_list if not fixed else np.zeros(0, dtype=int),
        served_sites=site_list,
        site_of_pair=np.searchsorted(site_list, pairs.rep),
        count=count,
        band_site=b_site,
        band_metric=b_metric,
        band_side=b_side,
        band_scale=b_scale,
        band_rhs=b_bound,
        fixed=fixed,
        lp=lp,
        x=x,
        y=y,
    )
    assign_once_rows(model, problem)
    if not fixed:
        open_count_row(model)
        serve_only_open_rows(model)
    band_rows(model, problem, elastic)
    costs = [*zip(x, pairs.cost.tolist()), *((v, float(elastic)) for v in model.slack)]
    lp.setObjective(pulp.LpAffineExpression(costs))
    return model


@dataclass
class StrongOutcome:
    """What one solve left: the engine's status (solvers.SolveOutcome), primal values in
    column order, row duals in row order (LP only), objective and proven MIP bound."""

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
    """Solve the model (LP relaxation, or MILP with binary x and y) within ``time_limit``
    seconds with the solver of ``settings``; ``start`` is a full column vector that warm-
    starts the MILP."""
    # LpInteger, not LpBinary: PuLP turns "Binary" into "Integer" only when a variable is
    # created, and the bounds are 0 and 1 already
    category = pulp.LpInteger if mip else pulp.LpContinuous
    for variable in (*model.x, *model.y):
        variable.cat = category
    columns = model.columns()
    if mip and start is not None:
        for variable, value in zip(columns, np.asarray(start, dtype=float).tolist()):
            variable.setInitialValue(value)
    outcome = run(
        model,
        settings,
        mip=mip,
        time_limit=max(time_limit, 0.05),
        gap=(settings.gap if gap is None else gap) if mip else None,
        warm_start=mip and start is not None,
    )
    solved = outcome.status in ("optimal", "feasible")
    values = (
        np.array([v.varValue if v.varValue is not None else 0.0 for v in columns])
        if solved
        else None
    )
    duals = (
        np.array([row.pi if row.pi is not None else 0.0 for row in model.rows])
        if solved and not mip
        else None
    )
    bound = outcome.bound if mip and outcome.bound is not None else -math.inf
    return StrongOutcome(
        status=outcome.status,
        values=values,
        row_dual=duals,
        objective=float(outcome.objective) if solved else math.inf,
        mip_bound=bound if np.isfinite(bound) else -math.inf,
        seconds=outcome.seconds,
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
