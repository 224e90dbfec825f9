"""Quota allocation: split the company target across territories fairly, as a linear program.

Once territories are drawn, each rep's quota is set by optimisation, with a certificate: the
LP proves the smallest possible largest relative deviation from the fair shares.

The model
---------
For each rep j with a territory: P_j = potential of its accounts, R_j = last year's revenue
of its accounts (history follows the accounts, not the person), r_j = ramp multiplier.

- weight w_j = r_j * (alpha * P_j / sum P + (1 - alpha) * R_j / sum R)
  (potential: alpha = 1; history: alpha = 0)
- fair share s_j = T * w_j / sum w, where T is the target left after overrides (per region
  when targets are per region)
- variables q_j >= 0 with sum q_j = T (per region); growth bounds where R_j > 0; overrides
  fixed
- objective: first minimise the largest relative deviation max_j |q_j - s_j| / s_j; among
  the plans that reach it, minimise the sum of relative deviations. Two LPs.

Growth bounds: q_j >= R_j * (1 + min_growth) and q_j <= R_j * (1 + max_growth), each only
where R_j > 0 and the setting is given. When the bounds cannot add up to the target the
engine says so with the numbers (:class:`~territory_planner.errors.InfeasibleError`): the
interval [sum of lower bounds, sum of upper bounds] against the target, and which reps'
bounds bind.

Decisions the issue left open (documented here, tested in tests/test_quota.py):

* Reps with status ``leaving`` get no quota row. A leaving rep that still owns accounts is an
  input error: quotas follow accounts, so its territory would carry no quota.
* The sums ``sum P``, ``sum R`` and ``sum w`` run over the reps that share T: every
  non-leaving rep without an override (of the same region when targets are per region).
* A sum that is 0 makes its term 0 (``P_j / sum P`` with no potential anywhere is 0), so a
  blend falls back on the data that exists.
* A rep whose fair share is 0 (no accounts; or no potential under ``method: potential``; or
  no target left after overrides) has no relative deviation to measure. It leaves the LP and
  is held at its floor: 0, or R_j * (1 + min_growth) when that bound applies. A ramp of a
  zero weight is still zero. An override still holds for such a rep.
* An overridden rep keeps its override exactly; growth bounds do not apply to it, and its
  ``fair_share`` and ``deviation`` are NaN (nothing was shared to it).
* With targets per region each region is its own LP block with its own largest deviation
  z_r; LP 1 minimises sum_r z_r, which (the blocks share no row) minimises every z_r at once,
  so one region's hard bounds never loosen another region's fairness.

How the LPs are stated (each choice gives the same optimum as the model above):

* The relative deviation is linearised as d_j >= (q_j - s_j) / s_j, d_j >= (s_j - q_j) / s_j,
  z >= d_j. LP 1 minimises z; LP 2 fixes z <= z* (1 + 1e-9) + 1e-12 and minimises sum d_j.
  In LP 1, d_j is eliminated (d_j = z_r is always feasible there); in LP 2 the fixed z_r
  becomes the bound d_j <= cap_r.
* The variables are x_j = q_j / s_j (``quota_ratio[R07]``), so q_j = s_j * x_j. Stated in
  currency, the rows carry 1 / s_j and the duals fall below the solver's tolerance for
  quotas in the millions: HiGHS then reports a non-minimal z as optimal.
* A deviation row the growth bounds already imply is left out, and a large region's sum is
  stated through partial sums of 100 (see :func:`target_sum_rows`): 10,000 reps solve in
  about 1.5 s of CPU (benchmarks/quota_scale.py).
* Nothing is rounded: quotas are floats; the CSV writer formats them.
"""

from __future__ import annotations

import difflib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pulp

from .errors import InfeasibleError, InputError, Problem, ProblemList, SolverError
from .optimize.solvers import SolveOutcome, make_solver, translate_status
from .scenario import QuotaSettings, SolverSettings

__all__ = [
    "QUOTA_COLUMNS",
    "QuotaPlan",
    "allocate_quotas",
    "solve_quotas",
    "method_alpha",
    "growth_bounds",
    "fair_shares",
    "season_columns",
    "build_max_deviation_lp",
    "build_sum_deviation_lp",
]

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
]
"""Columns of quotas.csv, in order; season columns (q1..q4 or m01..m12) follow them."""

KNOWN_STATUSES = ("active", "new", "leaving")
# LP 2 keeps every z_r within this of LP 1's optimum (relative, absolute): loose enough for
# the solver's tolerances, tight enough that the max deviation reported is LP 1's.
CAP_RELATIVE = 1e-9
CAP_ABSOLUTE = 1e-12
# Bounds that miss the target by less than this share of it are treated as meeting it.
FEASIBILITY_TOLERANCE = 1e-9
MESSAGE_LIST_CAP = 10
# A quota this close (relative to its share) to a bound sits on it.
BINDING_TOLERANCE = 1e-7
# Quotas per partial-sum row when a region is large (see target_sum_rows).
SUM_CHUNK = 100


@dataclass
class QuotaPlan:
    """Quotas set by :func:`solve_quotas`: one row per rep (``frame``) and the certificate.

    ``lower_bound`` is the LP-proven minimum of the largest relative deviation: no plan that
    meets the target and the bounds can do better. ``max_relative_deviation`` is what this
    plan reaches (equal to it within solver tolerance). ``binding`` names the reps whose
    quota sits on a growth bound away from its fair share (``min_growth``: on its floor;
    ``max_growth``: on its cap); a zero-share rep held at a positive floor counts too.
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
        """The ``quota`` section of summary.json (plain JSON types)."""
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
        }
        if self.per_region is not None:
            data["per_region"] = {key: dict(value) for key, value in self.per_region.items()}
        return data


# --------------------------------------------------------------------------------------------
# The model's pieces, each a pure function of arrays
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The LP: one constraint family per function
# --------------------------------------------------------------------------------------------


def _affine(terms: list[tuple[Any, float]]) -> pulp.LpAffineExpression:
    """An affine expression built in one pass from (variable, coefficient) pairs.

    PuLP 4 spells it ``LpAffineExpression.from_list``; PuLP 3 takes the list directly.
    """
    from_list = getattr(pulp.LpAffineExpression, "from_list", None)
    return from_list(terms) if from_list is not None else pulp.LpAffineExpression(terms)


def target_sum_rows(
    problem: pulp.LpProblem,
    ratio: Sequence[Any],
    share: np.ndarray,
    block: np.ndarray,
    block_rhs: Sequence[float],
    block_labels: Sequence[str],
) -> None:
    """``target_sum[r]``: sum_{j in r} q_j = T'_r, i.e. sum_{j in r} (s_j / S_r) x_j = T'_r / S_r.

    T'_r is the target left for the LP (T_r less the floors of its zero-share reps, which
    sit outside the LP) and S_r = sum_{j in r} s_j; dividing by S_r keeps the row's dual of
    order 1 (see :func:`build_max_deviation_lp`).

    A region with more than SUM_CHUNK reps states the same sum in two levels, exactly:
    ``partial_sum_row[r|k]``: g_rk = sum_{j in chunk k of r} (s_j / S_r) x_j, and
    ``target_sum[r]``: sum_k g_rk = T'_r / S_r. One dense row over 10,000 quotas makes HiGHS's
    presolve take about a second (each reduction rewrites the long row); chunks of 100
    bring LP 1 under 0.1 s.
    """
    members: list[list[tuple[Any, float]]] = [[] for _ in block_labels]
    for variable, s, b in zip(ratio, share, block):
        members[b].append((variable, float(s)))
    for b, label in enumerate(block_labels):
        scale = math.fsum(s for _, s in members[b])
        terms = [(x, s / scale) for x, s in members[b]]
        rhs = float(block_rhs[b]) / scale
        if len(terms) <= SUM_CHUNK:
            problem.addConstraint(_affine(terms) == rhs, f"target_sum[{label}]")
            continue
        partial_sums = []
        for k, first in enumerate(range(0, len(terms), SUM_CHUNK)):
            g = problem.add_variable(f"partial_sum[{label}|{k}]")
            chunk = [(x, -c) for x, c in terms[first : first + SUM_CHUNK]]
            problem.addConstraint(
                _affine([(g, 1.0)] + chunk) == 0.0, f"partial_sum_row[{label}|{k}]"
            )
            partial_sums.append((g, 1.0))
        problem.addConstraint(_affine(partial_sums) == rhs, f"target_sum[{label}]")


def deviation_rows(
    problem: pulp.LpProblem,
    ratio: Sequence[Any],
    deviation: Sequence[Any],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    labels: Sequence[str],
) -> None:
    """The relative deviation d_j >= |q_j - s_j| / s_j = |x_j - 1|, linearised:

    ``deviation_above[j]``:  d_j >= (q_j - s_j) / s_j   <=>   x_j - d_j <= 1
    ``deviation_below[j]``:  d_j >= (s_j - q_j) / s_j   <=>  -x_j - d_j <= -1

    A row the growth bounds already imply is left out (d_j >= 0 covers it): ``above`` when
    U_j <= s_j (the quota cannot exceed its share), ``below`` when L_j >= s_j. In LP 1
    ``deviation`` is the region's z_r itself (see :func:`max_deviation_rows`).
    """
    for x, d, s, lo, up, label in zip(ratio, deviation, share, lower, upper, labels):
        if up > s:
            problem.addConstraint(
                _affine([(x, 1.0), (d, -1.0)]) <= 1.0, f"deviation_above[{label}]"
            )
        if lo < s:
            problem.addConstraint(
                _affine([(x, -1.0), (d, -1.0)]) <= -1.0, f"deviation_below[{label}]"
            )


def max_deviation_rows(
    problem: pulp.LpProblem,
    ratio: Sequence[Any],
    max_deviation: Sequence[Any],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    block: np.ndarray,
    labels: Sequence[str],
) -> None:
    """LP 1's rows: z_r >= d_j >= |q_j - s_j| / s_j for every rep j of region r.

    With d_j eliminated (in LP 1 any feasible plan stays feasible with d_j = z_r, so d_j adds
    nothing but size) these are the deviation rows with z_r in place of d_j:

    ``deviation_above[j]``:  x_j - z_r <= 1
    ``deviation_below[j]``: -x_j - z_r <= -1
    """
    deviation_rows(problem, ratio, [max_deviation[b] for b in block], share, lower, upper, labels)


def max_deviation_caps(optimum: np.ndarray) -> np.ndarray:
    """LP 2 fixes every z_r <= z*_r * (1 + 1e-9) + 1e-12, z*_r the optimum of LP 1.

    With z_r fixed at that cap, z_r >= d_j becomes the bound d_j <= cap_r on each deviation
    variable. LP 2 thus stays among the plans that reach LP 1's optimum (up to solver
    tolerance), so minimising the sum of deviations never trades away the largest one.
    """
    return np.maximum(np.asarray(optimum, dtype=float), 0.0) * (1.0 + CAP_RELATIVE) + CAP_ABSOLUTE


@dataclass
class QuotaLP:
    """A built LP and its variables, positionally aligned with the LP reps and regions."""

    problem: pulp.LpProblem
    share: np.ndarray
    ratio: list[Any]
    deviation: list[Any]
    max_deviation: list[Any]

    def quotas(self) -> np.ndarray:
        """q_j = s_j * x_j from the solved ratios."""
        return self.share * _values(self.ratio)


def quota_ratio_variables(
    problem: pulp.LpProblem,
    labels: Sequence[str],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
) -> list[Any]:
    """``quota_ratio[j]``: x_j = q_j / s_j, the quota as a multiple of its fair share.

    The growth bounds L_j <= q_j <= U_j become the variable bounds L_j / s_j <= x_j <= U_j / s_j
    (q_j >= 0 is L_j >= 0).
    """
    return [
        problem.add_variable(
            f"quota_ratio[{label}]",
            lowBound=float(lo / s),
            upBound=float(up / s) if math.isfinite(up) else None,
        )
        for label, s, lo, up in zip(labels, share, lower, upper)
    ]


def build_max_deviation_lp(
    labels: Sequence[str],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    block: np.ndarray,
    block_rhs: Sequence[float],
    block_labels: Sequence[str],
) -> QuotaLP:
    """LP 1: the smallest largest relative deviation, region by region.

    min  sum_r z_r
    s.t. target_sum[r]           sum_{j in r} q_j = T_r
         deviation_above/below   z_r >= |q_j - s_j| / s_j        (j in r)
         L_j <= q_j <= U_j,  z_r >= 0

    Regions share no row, so minimising sum_r z_r minimises every z_r: each z*_r is the
    proven minimum of region r's largest relative deviation.

    The LP is stated in x_j = q_j / s_j rather than in currency. In currency the deviation
    rows carry 1 / s_j (1e-9 for quotas in the billions) and the target row's dual is of that
    order, below the solver's dual tolerance (1e-7): HiGHS then called z = 1.0 optimal where
    0.88 was reachable. In ratios every deviation row is +-1 and the duals are of order 1.
    """
    problem = pulp.LpProblem("quota_max_deviation", pulp.LpMinimize)
    ratio = quota_ratio_variables(problem, labels, share, lower, upper)
    max_deviation = [
        problem.add_variable(f"max_deviation[{label}]", lowBound=0.0) for label in block_labels
    ]
    target_sum_rows(problem, ratio, share, block, block_rhs, block_labels)
    max_deviation_rows(problem, ratio, max_deviation, share, lower, upper, block, labels)
    problem.setObjective(_affine([(z, 1.0) for z in max_deviation]))
    return QuotaLP(problem, np.asarray(share, dtype=float), ratio, [], max_deviation)


def build_sum_deviation_lp(
    labels: Sequence[str],
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    block: np.ndarray,
    block_rhs: Sequence[float],
    block_labels: Sequence[str],
    caps: np.ndarray,
) -> QuotaLP:
    """LP 2: among the plans that reach LP 1's optimum, the smallest sum of deviations.

    min  sum_j d_j
    s.t. target_sum[r]           sum_{j in r} q_j = T_r
         deviation_above/below   d_j >= |q_j - s_j| / s_j
         L_j <= q_j <= U_j,  0 <= d_j <= cap_r = z*_r * (1 + 1e-9) + 1e-12   (j in r)

    Stated in x_j = q_j / s_j like LP 1.
    """
    problem = pulp.LpProblem("quota_sum_deviation", pulp.LpMinimize)
    ratio = quota_ratio_variables(problem, labels, share, lower, upper)
    # LP 1 proved z*_r >= L_j / s_j - 1 and >= 1 - U_j / s_j; a cap a hair below them (the
    # solver's tolerance) must not make LP 2 infeasible, so the cap never cuts under them.
    forced = np.maximum(lower / share - 1.0, 1.0 - upper / share)
    deviation = [
        problem.add_variable(f"deviation[{label}]", lowBound=0.0, upBound=float(max(caps[b], need)))
        for label, b, need in zip(labels, block, forced)
    ]
    target_sum_rows(problem, ratio, share, block, block_rhs, block_labels)
    deviation_rows(problem, ratio, deviation, share, lower, upper, labels)
    problem.setObjective(_affine([(d, 1.0) for d in deviation]))
    return QuotaLP(problem, np.asarray(share, dtype=float), ratio, deviation, [])


def _solve(problem: pulp.LpProblem, solver: pulp.LpSolver, stage: str) -> SolveOutcome:
    start = time.perf_counter()
    try:
        problem.solve(solver)
    except pulp.PulpSolverError as error:
        raise SolverError(f"the quota LP ({stage}) could not be solved: {error}") from error
    outcome = translate_status(problem, solver, time.perf_counter() - start, is_mip=False)
    if outcome.status != "optimal":
        raise SolverError(
            f"the quota LP ({stage}) ended '{outcome.status}' after {outcome.seconds:.2f} s "
            f"instead of optimal; its bounds were checked to reach the target, so this is "
            f"the solver's limit (raise solver.time_limit or try another solver)"
        )
    return outcome


def _values(variables: Sequence[Any]) -> np.ndarray:
    return np.array(
        [v.varValue if v.varValue is not None else np.nan for v in variables], dtype=float
    )


_ILLEGAL = "-+[] ->/"
_CLEAN = str.maketrans(_ILLEGAL, "_" * len(_ILLEGAL))


def _name_labels(ids: Sequence[str]) -> list[str]:
    """The IDs as LP name labels, unique after PuLP replaces ``-+[] ->/`` with ``_``.

    ``R-1`` and ``R_1`` would both become ``R_1``; the second gets a ``~2`` suffix.
    """
    used: set[str] = set()
    labels = []
    for raw in ids:
        label, n = str(raw), 1
        while label.translate(_CLEAN) in used:
            n += 1
            label = f"{raw}~{n}"
        used.add(label.translate(_CLEAN))
        labels.append(label)
    return labels


# --------------------------------------------------------------------------------------------
# Inputs: validation at the boundary, every problem at once
# --------------------------------------------------------------------------------------------


@dataclass
class _Pool:
    """The reps that share one target: the company, or one region."""

    key: str | None
    target: float
    overrides: float

    @property
    def left(self) -> float:
        return self.target - self.overrides

    @property
    def where(self) -> str:
        return "" if self.key is None else f" (region {self.key})"


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = str(value).strip()
    return text or None


def _fmt(x: float) -> str:
    """1200000 -> '1,200,000'; 12.5 -> '12.50'; inf -> 'no limit'."""
    if not math.isfinite(x):
        return "no limit"
    rounded = round(float(x), 2)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.2f}"


def _shown(value: Any) -> str:
    """A cell as the planner typed it: 0.0, nan, 'n/a' (never np.float64(0.0))."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return repr(float(value))
    return repr(value)


def _growth_text(growth: float) -> str:
    growth = float(growth)
    return f"(1 - {abs(growth)!r})" if growth < 0 else f"(1 + {growth!r})"


def _prepare(
    table: pd.DataFrame, settings: QuotaSettings, source: str
) -> tuple[pd.DataFrame, list[_Pool]]:
    """Validate the per-rep table against the settings; the working frame and its pools.

    The frame holds the non-leaving reps sorted by rep_id with: rep_id, name, region_id (key
    text or None), status, potential, revenue, ramp, override (NaN if none), pool (index
    into the pools, -1 for overridden reps and zero-weight reps outside any region).
    """
    problems = ProblemList()
    file_table = "quota table"
    missing = [c for c in ("rep_id", "potential", "revenue") if c not in table.columns]
    if missing:
        problems.add(
            file_table,
            f"missing column(s) {', '.join(missing)}",
            fix="one row per rep with rep_id, potential and revenue of its accounts",
        )
        problems.raise_if_any()

    table = table.reset_index(drop=True)
    reps = pd.DataFrame({"rep_id": table["rep_id"]})
    null_id = reps["rep_id"].isna().to_numpy()
    for position in np.flatnonzero(null_id):
        problems.add(file_table, "rep_id is empty", row=int(position) + 2, column="rep_id")
    reps["rep_id"] = [
        str(v).strip() if not missing_id else "" for v, missing_id in zip(table["rep_id"], null_id)
    ]
    duplicated = reps["rep_id"].duplicated(keep=False) & ~null_id
    for rep in sorted(set(reps.loc[duplicated, "rep_id"])):
        problems.add(file_table, f"rep_id '{rep}' appears more than once", column="rep_id")

    reps["name"] = table["name"].fillna("").astype(str) if "name" in table.columns else ""
    regions = table["region_id"] if "region_id" in table.columns else [None] * len(table)
    reps["region_id"] = pd.Series(
        [_text_or_none(v) for v in regions], index=table.index, dtype=object
    )
    statuses = (
        table["status"]
        if "status" in table.columns
        else pd.Series(["active"] * len(table), index=table.index)
    )
    reps["status"] = [(_text_or_none(v) or "active").lower() for v in statuses]
    for column in ("potential", "revenue"):
        values = pd.to_numeric(table[column], errors="coerce").astype(float)
        bad = ~(np.isfinite(values.to_numpy()) & (values.to_numpy() >= 0))
        for position in np.flatnonzero(bad):
            problems.add(
                file_table,
                f"{column} of rep {reps['rep_id'].iat[position]} must be "
                f"a number >= 0, got {_shown(table[column].iat[position])}",
                row=int(position) + 2,
                column=column,
            )
        reps[column] = values.fillna(0.0).clip(lower=0.0)
    accounts = (
        pd.to_numeric(table["accounts"], errors="coerce").fillna(0).to_numpy()
        if "accounts" in table.columns
        else None
    )

    leaving = (reps["status"] == "leaving").to_numpy()
    rep_ids = reps["rep_id"].tolist()
    by_id = {rep: i for i, rep in enumerate(rep_ids)}

    # Leaving reps end with no accounts; quotas follow accounts, so a leaving rep that still
    # owns some would take its territory's potential out of every share.
    owns = (
        (accounts > 0)
        if accounts is not None
        else ((reps["potential"].to_numpy() > 0) | (reps["revenue"].to_numpy() > 0))
    )
    for position in np.flatnonzero(leaving & owns):
        problems.add(
            file_table,
            f"rep {rep_ids[position]} is leaving but still owns accounts "
            f"(potential {_fmt(reps['potential'].iat[position])}, revenue "
            f"{_fmt(reps['revenue'].iat[position])}); its territory would carry no "
            f"quota",
            column="status",
            fix="reassign its accounts first (rebalance), or set its status to active",
        )

    # ramp: multipliers by status, or a reps column
    ramp = np.ones(len(reps))
    if isinstance(settings.ramp, dict):
        known = set(KNOWN_STATUSES) | set(reps["status"])
        for key in settings.ramp:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                problems.add(
                    source,
                    f"ramp names the status '{key}', which no rep has",
                    column="quota.ramp",
                    fix=(
                        f"did you mean '{close[0]}'?"
                        if close
                        else "statuses are " + ", ".join(KNOWN_STATUSES)
                    ),
                )
        ramp = np.array([float(settings.ramp.get(s, 1.0)) for s in reps["status"]])
    elif isinstance(settings.ramp, str):
        column = settings.ramp
        if column not in table.columns:
            close = difflib.get_close_matches(column, [str(c) for c in table.columns], n=1)
            problems.add(
                source,
                f"ramp names the reps column '{column}', which does not exist",
                column="quota.ramp",
                fix=(
                    f"did you mean '{close[0]}'?"
                    if close
                    else "add the column to the reps file or use {new: 0.5}"
                ),
            )
        else:
            values = pd.to_numeric(table[column], errors="coerce").astype(float).to_numpy()
            bad = ~(np.isfinite(values) & (values > 0)) & ~leaving
            for position in np.flatnonzero(bad):
                problems.add(
                    source,
                    f"ramp column '{column}' must be a positive number for "
                    f"every rep; rep {rep_ids[position]} has "
                    f"{_shown(table[column].iat[position])}",
                    column="quota.ramp",
                    fix="use 1 for a fully ramped rep",
                )
            ramp = np.where(bad, 1.0, values)
    reps["ramp"] = ramp

    # overrides
    override = np.full(len(reps), np.nan)
    for rep, value in (settings.overrides or {}).items():
        position = by_id.get(str(rep))
        if position is None:
            close = difflib.get_close_matches(str(rep), rep_ids, n=1)
            problems.add(
                source,
                f"override for rep '{rep}', which is not in the reps",
                column="quota.overrides",
                fix=f"did you mean '{close[0]}'?" if close else "check the rep_id",
            )
        elif leaving[position]:
            problems.add(
                source,
                f"override for rep '{rep}', who is leaving (no quota)",
                column="quota.overrides",
                fix="remove the override",
            )
        else:
            override[position] = float(value)
    reps["override"] = override
    has_override = ~np.isnan(override)

    # pools: the company, or one per region
    carries = (
        (reps["potential"].to_numpy() > 0) | (reps["revenue"].to_numpy() > 0) | has_override
    ) & ~leaving
    if settings.targets is None:
        pools = [_Pool(None, float(settings.target), float(np.nansum(override)))]
        pool = np.zeros(len(reps), dtype=int)
    else:
        staying_regions = {
            r for r, gone in zip(reps["region_id"], leaving) if r is not None and not gone
        }
        for key in settings.targets:
            if key not in staying_regions:
                close = difflib.get_close_matches(key, sorted(staying_regions), n=1)
                problems.add(
                    source,
                    f"targets has region '{key}', but no (non-leaving) rep has that region_id",
                    column="quota.targets",
                    fix=(
                        f"did you mean '{close[0]}'?"
                        if close
                        else "rep region_id values are: " + ", ".join(sorted(staying_regions)[:10])
                    ),
                )
        keys = sorted(settings.targets)
        index_of = {key: i for i, key in enumerate(keys)}
        pool = np.array(
            [index_of.get(r, -1) if r is not None else -1 for r in reps["region_id"]], dtype=int
        )
        for position in np.flatnonzero(carries & (pool < 0)):
            region = reps["region_id"].iat[position]
            if region is None:
                problems.add(
                    source,
                    f"rep {rep_ids[position]} has no region_id, but targets are per region",
                    column="quota.targets",
                    fix="give the rep a region_id in the reps file, or use 'target'",
                )
            else:
                problems.add(
                    source,
                    f"rep {rep_ids[position]} is in region '{region}', which "
                    f"has no entry in targets",
                    column="quota.targets",
                    fix=f"add a target for '{region}'",
                )
        pools = []
        for key in keys:
            in_region = (pool == index_of[key]) & has_override & ~leaving
            pools.append(_Pool(key, float(settings.targets[key]), float(override[in_region].sum())))
    for p in pools:
        if p.overrides > p.target * (1 + FEASIBILITY_TOLERANCE):
            problems.add(
                source,
                f"overrides add up to {_fmt(p.overrides)}, above the target "
                f"{_fmt(p.target)}{p.where}",
                column="quota.overrides",
                fix="lower the overrides or raise the target",
            )
    problems.raise_if_any()

    reps["pool"] = np.where(has_override, -1, pool)
    reps = reps.loc[~leaving].sort_values("rep_id", kind="stable").reset_index(drop=True)
    return reps, pools


# --------------------------------------------------------------------------------------------
# Infeasibility: the interval against the target, and who binds
# --------------------------------------------------------------------------------------------


def _check_bounds_reach_target(
    reps: pd.DataFrame,
    pools: list[_Pool],
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
    revenue = reps["revenue"].to_numpy()
    rep_ids = reps["rep_id"].to_numpy()
    held_upper = np.where(zero_share, lower, upper)
    for b, p in enumerate(pools):
        members = np.flatnonzero(pool == b)
        target = p.left
        low = float(lower[members].sum())
        high = float(held_upper[members].sum())
        tolerance = FEASIBILITY_TOLERANCE * max(abs(target), low, 1.0)
        if low > target + tolerance:
            side, limit = "min_growth", lower
        elif high < target - tolerance:
            side, limit = "max_growth", held_upper
        else:
            continue
        what = f"the target {_fmt(target)}{p.where}"
        if p.overrides > 0:
            what += f", which is {_fmt(p.target)} less overrides of {_fmt(p.overrides)}"
        base = {
            "region": p.key,
            "target": target,
            "lower": low,
            "upper": high if math.isfinite(high) else None,
        }
        order = members[np.lexsort((rep_ids[members], -limit[members]))]
        items = []
        for j in (j for j in order if limit[j] > 0):
            if side == "min_growth":
                bound = "min_growth"
                text = (
                    f"{rep_ids[j]} (quota >= {_fmt(lower[j])} from revenue "
                    f"{_fmt(revenue[j])} * {_growth_text(settings.min_growth or 0.0)})"
                )
            elif zero_share[j]:
                bound = "zero_share"
                text = f"{rep_ids[j]} (held at its floor {_fmt(lower[j])}: fair share 0)"
            else:
                bound = "max_growth"
                text = (
                    f"{rep_ids[j]} (quota <= {_fmt(upper[j])} from revenue "
                    f"{_fmt(revenue[j])} * {_growth_text(settings.max_growth or 0.0)})"
                )
            items.append(text)
            details.append(
                {
                    **base,
                    "rep_id": str(rep_ids[j]),
                    "bound": bound,
                    "limit": float(limit[j]),
                    "revenue": float(revenue[j]),
                }
            )
        if not items:
            details.append({**base, "rep_id": None, "bound": side, "limit": None, "revenue": None})
        shown = ", ".join(items[:MESSAGE_LIST_CAP]) or "none"
        if len(items) > MESSAGE_LIST_CAP:
            shown += f", and {len(items) - MESSAGE_LIST_CAP} more"
        interval = f"the growth bounds allow between {_fmt(low)} and {_fmt(high)}; binding: {shown}"
        if side == "max_growth" and weight_sum[b] <= 0:
            reasons.append(
                f"quotas cannot add up to {what}: no rep left to share it has a fair share "
                f"(method '{settings.method}' weighs {_weighs(settings)}, and that is 0 for "
                f"every rep here); {interval} (fix: check the accounts' potential and "
                f"revenue, use another method, or set overrides)"
            )
            continue
        fix = (
            "lower min_growth, raise the target or override a rep"
            if side == "min_growth"
            else "raise max_growth, lower the target or override a rep"
        )
        reasons.append(f"quotas cannot add up to {what}: {interval} (fix: {fix})")
    if reasons:
        raise InfeasibleError(reasons, details)


def _weighs(settings: QuotaSettings) -> str:
    alpha = method_alpha(settings)
    if alpha == 1.0:
        return "only potential"
    if alpha == 0.0:
        return "only last year's revenue"
    return "potential and last year's revenue"


# --------------------------------------------------------------------------------------------
# The public doors
# --------------------------------------------------------------------------------------------


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
) -> QuotaLP:
    tick = time.perf_counter()
    model = build_sum_deviation_lp(
        labels, share, lower, upper, block, block_rhs, block_labels, max_deviation_caps(best)
    )
    timings["build_lp2"] = time.perf_counter() - tick
    timings["solve_lp2"] = _solve(model.problem, solver, "LP 2: sum of relative deviations").seconds
    return model


def solve_quotas(
    table: pd.DataFrame, settings: QuotaSettings, solver: pulp.LpSolver, *, source: str = "scenario"
) -> QuotaPlan:
    """Set quotas for one row per rep (see the module docstring for the model).

    ``table`` columns: rep_id, name, region_id, status, potential, revenue (sums over the
    rep's accounts), plus the ramp column when ``settings.ramp`` names one, plus optionally
    ``accounts`` (count). ``source`` names the scenario in error messages.

    Raises InputError for bad references (every one at once), InfeasibleError when the growth
    bounds cannot add up to the target, SolverError when an LP does not end optimal.
    """
    start = time.perf_counter()
    timings: dict[str, float] = {}
    reps, pools = _prepare(table, settings, source)
    alpha = method_alpha(settings)
    potential = reps["potential"].to_numpy(dtype=float)
    revenue = reps["revenue"].to_numpy(dtype=float)
    ramp = reps["ramp"].to_numpy(dtype=float)
    override = reps["override"].to_numpy(dtype=float)
    pool = reps["pool"].to_numpy(dtype=int)
    pool_left = np.array([p.left for p in pools], dtype=float)

    weight, share = fair_shares(potential, revenue, ramp, pool, pool_left, alpha)
    lower, upper = growth_bounds(revenue, settings.min_growth, settings.max_growth)
    in_pool = pool >= 0
    in_lp = in_pool & (share > 0)
    zero_share = in_pool & ~in_lp
    weight_sum = np.bincount(pool[in_pool], weights=weight[in_pool], minlength=len(pools))
    _check_bounds_reach_target(reps, pools, lower, upper, zero_share, weight_sum, settings)
    timings["prepare"] = time.perf_counter() - start

    quota = np.where(~np.isnan(override), override, 0.0)
    quota = np.where(zero_share, lower, quota)
    lp_rows = np.flatnonzero(in_lp)
    z_optimum = np.zeros(len(pools))
    if len(lp_rows):
        blocks = sorted(set(pool[lp_rows].tolist()))
        block_of = {b: i for i, b in enumerate(blocks)}
        block = np.array([block_of[b] for b in pool[lp_rows]], dtype=int)
        held = np.bincount(pool[zero_share], weights=lower[zero_share], minlength=len(pools))
        block_rhs = [pool_left[b] - held[b] for b in blocks]
        block_labels = _name_labels(
            ["all" if pools[b].key is None else pools[b].key for b in blocks]
        )
        labels = _name_labels(reps["rep_id"].to_numpy()[lp_rows].tolist())

        lp_share, lp_lower, lp_upper = share[lp_rows], lower[lp_rows], upper[lp_rows]
        tick = time.perf_counter()
        first = build_max_deviation_lp(
            labels, lp_share, lp_lower, lp_upper, block, block_rhs, block_labels
        )
        timings["build_lp1"] = time.perf_counter() - tick
        timings["solve_lp1"] = _solve(
            first.problem, solver, "LP 1: largest relative deviation"
        ).seconds
        best = np.maximum(_values(first.max_deviation), 0.0)

        model = first
        if best.max() > CAP_ABSOLUTE:
            # Otherwise LP 1 already puts every quota on its fair share (|q_j - s_j| / s_j
            # <= z*_r <= 1e-12), which is LP 2's optimum too: nothing is left to trade.
            model = _second_stage(
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
        quota[lp_rows] = model.quotas()
        for b, value in zip(blocks, best):
            z_optimum[b] = value

    frame, binding = _frame(reps, quota, share, lower, upper, in_lp, zero_share, settings)
    relative = np.abs(frame["deviation"].to_numpy(dtype=float))
    relative = np.where(np.isnan(relative), 0.0, relative)
    per_region = None
    if settings.targets is not None:
        per_region = {}
        region = reps["region_id"].to_numpy(dtype=object)  # frame rows follow reps' order
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
    )


def _frame(
    reps: pd.DataFrame,
    quota: np.ndarray,
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    in_lp: np.ndarray,
    zero_share: np.ndarray,
    settings: QuotaSettings,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
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
        for column, part in zip(season_columns(len(settings.seasonality)), settings.seasonality):
            frame[column] = quota * float(part)
    # A bound binds when the quota sits on it away from the fair share (solver tolerance).
    rep_ids = frame["rep_id"].tolist()
    slack = BINDING_TOLERANCE * np.maximum(share, 1.0)
    off_share = in_lp & (np.abs(quota - share) > slack)
    floor_binds = (off_share & (lower > 0) & (quota <= lower + slack)) | (zero_share & (lower > 0))
    cap_binds = off_share & np.isfinite(upper) & (quota >= upper - slack)
    binding = {
        "min_growth": [rep_ids[j] for j in np.flatnonzero(floor_binds)],
        "max_growth": [rep_ids[j] for j in np.flatnonzero(cap_binds)],
    }
    return frame, binding


def _rep_table(plan: Any, settings: QuotaSettings) -> pd.DataFrame:
    """One row per rep of the plan: its accounts' potential and revenue summed."""
    problems = ProblemList()
    reps = plan.reps
    accounts = plan.accounts
    assignments = plan.assignments
    for name, frame, needed in (
        ("reps", reps, ("rep_id",)),
        ("accounts", accounts, ("account_id",)),
        ("assignments", assignments, ("account_id", "rep_id")),
    ):
        lacking = [c for c in needed if c not in frame.columns]
        if lacking:
            problems.add(name, f"missing column(s) {', '.join(lacking)}")
    problems.raise_if_any()

    for name, ids in (
        ("accounts", accounts["account_id"]),
        ("assignments", assignments["account_id"]),
    ):
        repeated = sorted(set(ids[ids.duplicated()].astype(str)))
        for account in repeated[:MESSAGE_LIST_CAP]:
            problems.add(
                name,
                f"account '{account}' appears more than once",
                column="account_id",
                fix="each account has one row and one rep",
            )
    problems.raise_if_any()

    values = pd.DataFrame({"account_id": accounts["account_id"].astype(str)})
    for column in ("potential", "revenue"):
        values[column] = (
            pd.to_numeric(accounts[column], errors="coerce").fillna(0.0)
            if column in accounts.columns
            else 0.0
        )
    owned = assignments.loc[assignments["rep_id"].notna(), ["account_id", "rep_id"]].copy()
    owned["account_id"] = owned["account_id"].astype(str)
    owned["rep_id"] = owned["rep_id"].astype(str)
    merged = owned.merge(values, on="account_id", how="left", indicator=True)
    unknown = merged.loc[merged["_merge"] == "left_only", "account_id"]
    for account in sorted(set(unknown))[:MESSAGE_LIST_CAP]:
        problems.add(
            "assignments", f"account '{account}' is not in the accounts", column="account_id"
        )
    rep_ids = reps["rep_id"].astype(str)
    strangers = sorted(set(merged["rep_id"]) - set(rep_ids))
    for rep in strangers[:MESSAGE_LIST_CAP]:
        problems.add("assignments", f"rep '{rep}' is not in the reps", column="rep_id")
    problems.raise_if_any()

    totals = merged.groupby("rep_id", sort=True).agg(
        potential=("potential", "sum"), revenue=("revenue", "sum"), accounts=("account_id", "size")
    )
    table = pd.DataFrame({"rep_id": rep_ids.to_numpy()})
    for column in ("name", "region_id", "status"):
        if column in reps.columns:
            table[column] = reps[column].to_numpy()
    if (
        isinstance(settings.ramp, str)
        and settings.ramp in reps.columns
        and settings.ramp not in ("rep_id", "potential", "revenue", "accounts")
    ):
        table[settings.ramp] = reps[settings.ramp].to_numpy()
    table = table.join(totals, on="rep_id")
    table[["potential", "revenue", "accounts"]] = table[
        ["potential", "revenue", "accounts"]
    ].fillna(0.0)
    return table


def allocate_quotas(
    plan: Any, settings: QuotaSettings | None = None, *, solver: pulp.LpSolver | None = None
) -> QuotaPlan:
    """Set every rep's quota for a plan (assignments, accounts, reps, scenario).

    ``settings`` defaults to ``plan.scenario.quota``; ``solver`` defaults to an LP solver
    made from ``plan.scenario.solver``. Potential and revenue of each rep's assigned accounts
    are summed (history follows the accounts), then :func:`solve_quotas` sets the quotas.
    """
    scenario = getattr(plan, "scenario", None)
    source = str(getattr(scenario, "source", None) or "scenario")
    if settings is None:
        settings = getattr(scenario, "quota", None)
        if settings is None:
            raise InputError(
                Problem(
                    file=source,
                    message="the scenario has no 'quota:' section",
                    column="quota",
                    fix="add e.g. quota: {target: 10000000, method: blend}",
                )
            )
    if solver is None:
        options = getattr(scenario, "solver", None) or SolverSettings()
        solver = make_solver(
            options.name,
            mip=False,
            time_limit=options.time_limit,
            threads=options.threads,
            seed=options.seed,
        )
    return solve_quotas(_rep_table(plan, settings), settings, solver, source=source)
