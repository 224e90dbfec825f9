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
- objective: first minimise the largest relative deviation max_j |q_j - s_j| / s_j (LP 1);
  then the next largest, and so on (the lexicographic min-max: what the bounds leave over
  is spread evenly over the reps they do not hold, :mod:`.spread`); among the plans at
  those levels, minimise the sum of relative deviations (LP 2).
- the quotas are then rounded to the cent so that they add up to the target exactly
  (largest remainder, :mod:`.cents`).

Growth bounds: q_j >= R_j * (1 + min_growth) and q_j <= R_j * (1 + max_growth), each only
where R_j > 0 and the setting is given. When the bounds cannot add up to the target the
engine says so with the numbers (:class:`~territory_planner.errors.InfeasibleError`): the
interval [sum of lower bounds, sum of upper bounds] against the target, and which reps'
bounds bind.

Decisions (documented here, tested in tests/test_quota.py):

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
  z >= d_j. LP 1 minimises z. The spread step finds each rep's level (its own deviation
  f_j when a bound of its own holds it further off than the rest, else its region's common
  level t*_r <= z*_r). LP 2 caps d_j at that level (1 + 1e-9) + 1e-12 and minimises sum d_j.
  In LP 1, d_j is eliminated (d_j = z_r is always feasible there).
  LP 2 under the z* cap alone was an L1 objective: it put a whole shortfall on the rep with
  the largest share (a unit there costs the least relative deviation), e.g. -15% for one rep
  and 0% for another where -10% each was possible.
* The variables are x_j = q_j / s_j (``quota_ratio[R07]``), so q_j = s_j * x_j. Stated in
  currency, the rows carry 1 / s_j and the duals fall below the solver's tolerance for
  quotas in the millions: HiGHS then reports a non-minimal z as optimal.
* A deviation row the growth bounds already imply is left out, and a large region's sum is
  stated through partial sums of 100 (see :func:`.rows.target_sum_rows`): 10,000 reps solve in
  about 1.5 s of CPU (benchmarks/quota_scale.py).
* The LPs' quotas are floats; :func:`.cents.round_quotas` rounds them to the cent (largest
  remainder within each target's reps, floors up, caps down) before the table is made, so
  everything written adds up to the target to the cent. ``binding`` is judged on the LPs'
  quotas, ``deviation`` and the certificate's ``max_relative_deviation`` on the rounded ones
  (a cent above ``lower_bound`` at most).

Where each part lives
---------------------
``shares`` (weights, fair shares, growth bounds), ``rows`` (the two LPs, one constraint
family per function), ``spread`` (the lexicographic levels between them), ``cents``
(largest-remainder rounding), ``inputs`` (the quota table checked against the settings),
``explain`` (why bounds cannot add up to the target), ``binding`` (which rule holds each
quota, and why a quota is far from its share), ``notes`` (capacity and ramp scaling a share
twice), ``allocate`` (:func:`solve_quotas`
and :class:`QuotaPlan`), ``from_plan`` (:func:`allocate_quotas`: a plan's accounts summed
per rep).
"""

from .allocate import QUOTA_COLUMNS, QuotaPlan, solve_quotas
from .binding import BINDING_TOLERANCE, binding_rules, largest_deviations, spread_notes
from .cents import largest_remainder, round_quotas, split_cents
from .from_plan import allocate_quotas, rep_table
from .notes import ramp_notes
from .rows import (
    CAP_ABSOLUTE,
    CAP_RELATIVE,
    SUM_CHUNK,
    QuotaLP,
    build_max_deviation_lp,
    build_sum_deviation_lp,
    deviation_rows,
    max_deviation_caps,
    max_deviation_rows,
    quota_ratio_variables,
    target_sum_rows,
)
from .shares import fair_shares, growth_bounds, method_alpha, season_columns
from .spread import Spread, build_spread_lp, common_levels, spread_levels, spread_rows

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
    "BINDING_TOLERANCE",
    "CAP_ABSOLUTE",
    "CAP_RELATIVE",
    "SUM_CHUNK",
    "QuotaLP",
    "deviation_rows",
    "max_deviation_caps",
    "max_deviation_rows",
    "quota_ratio_variables",
    "rep_table",
    "binding_rules",
    "largest_deviations",
    "ramp_notes",
    "target_sum_rows",
    "largest_remainder",
    "round_quotas",
    "split_cents",
    "Spread",
    "build_spread_lp",
    "common_levels",
    "spread_levels",
    "spread_rows",
    "spread_notes",
]
