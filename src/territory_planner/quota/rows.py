"""The quota LPs: one constraint family per function, stated in quota ratios x_j = q_j / s_j.

LP 1 (:func:`build_max_deviation_lp`) proves the smallest largest relative deviation;
between them :mod:`.spread` finds the lexicographic levels (what the bounds leave over,
spread evenly); LP 2 (:func:`build_sum_deviation_lp`) keeps them and minimises the sum of
deviations.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pulp

from ..errors import SolverError
from ..optimize.solvers import SolveOutcome, translate_status

# LP 2 keeps every z_r within this of LP 1's optimum (relative, absolute): loose enough for
# the solver's tolerances, tight enough that the max deviation reported is LP 1's.
CAP_RELATIVE = 1e-9
CAP_ABSOLUTE = 1e-12
# Quotas per partial-sum row when a region is large (see target_sum_rows).
SUM_CHUNK = 100


def affine(terms: list[tuple[Any, float]]) -> pulp.LpAffineExpression:
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
            problem.addConstraint(affine(terms) == rhs, f"target_sum[{label}]")
            continue
        partial_sums = []
        for k, first in enumerate(range(0, len(terms), SUM_CHUNK)):
            g = problem.add_variable(f"partial_sum[{label}|{k}]")
            chunk = [(x, -c) for x, c in terms[first : first + SUM_CHUNK]]
            problem.addConstraint(
                affine([(g, 1.0)] + chunk) == 0.0, f"partial_sum_row[{label}|{k}]"
            )
            partial_sums.append((g, 1.0))
        problem.addConstraint(affine(partial_sums) == rhs, f"target_sum[{label}]")


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
            problem.addConstraint(affine([(x, 1.0), (d, -1.0)]) <= 1.0, f"deviation_above[{label}]")
        if lo < s:
            problem.addConstraint(
                affine([(x, -1.0), (d, -1.0)]) <= -1.0, f"deviation_below[{label}]"
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
        return self.share * solved_values(self.ratio)


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
    problem.setObjective(affine([(z, 1.0) for z in max_deviation]))
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
    """LP 2: among the plans at the lexicographic levels, the smallest sum of deviations.

    min  sum_j d_j
    s.t. target_sum[r]           sum_{j in r} q_j = T_r
         deviation_above/below   d_j >= |q_j - s_j| / s_j
         L_j <= q_j <= U_j,  0 <= d_j <= cap_j

    ``caps`` has one cap per rep: f_j (its own deviation) for a rep pinned on its bound, the
    region's spread level t*_r for the others (see :mod:`.spread`), or z*_r for every rep of
    region r (:func:`max_deviation_caps`, indexed by block) for the plain min-max. Each cap
    carries (1 + 1e-9) and 1e-12 of solver tolerance. Stated in x_j = q_j / s_j like LP 1.
    """
    problem = pulp.LpProblem("quota_sum_deviation", pulp.LpMinimize)
    ratio = quota_ratio_variables(problem, labels, share, lower, upper)
    # LP 1 proved z*_r >= L_j / s_j - 1 and >= 1 - U_j / s_j; a cap a hair below them (the
    # solver's tolerance) must not make LP 2 infeasible, so the cap never cuts under them.
    forced = np.maximum(lower / share - 1.0, 1.0 - upper / share)
    deviation = [
        problem.add_variable(f"deviation[{label}]", lowBound=0.0, upBound=float(max(cap, need)))
        for label, cap, need in zip(labels, caps, forced)
    ]
    target_sum_rows(problem, ratio, share, block, block_rhs, block_labels)
    deviation_rows(problem, ratio, deviation, share, lower, upper, labels)
    problem.setObjective(affine([(d, 1.0) for d in deviation]))
    return QuotaLP(problem, np.asarray(share, dtype=float), ratio, deviation, [])


def solve_stage(problem: pulp.LpProblem, solver: pulp.LpSolver, stage: str) -> SolveOutcome:
    """Solve one quota LP; anything but optimal is a SolverError naming the stage."""
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


def solved_values(variables: Sequence[Any]) -> np.ndarray:
    """The solved values of ``variables`` (NaN where the solver left none)."""
    return np.array(
        [v.varValue if v.varValue is not None else np.nan for v in variables], dtype=float
    )


_ILLEGAL = "-+[] ->/"
_CLEAN = str.maketrans(_ILLEGAL, "_" * len(_ILLEGAL))


def name_labels(ids: Sequence[str]) -> list[str]:
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
