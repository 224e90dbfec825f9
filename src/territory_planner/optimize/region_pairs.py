"""Which (region, rep) pairs the geography-mode models are built over, and the LP bound
priced over all of them (ZIP scale: thousands of regions, tens of reps).

At or below ``settings.full_model_pairs`` allowed pairs every pair enters (county scale).
Above it the models are built over the account engine's candidates (pairs.candidate_pairs:
each unit's ``k`` cheapest allowed reps plus its current owner, each rep its cheapest units
up to three fair shares), and the LP relaxation is *priced* (pricing.price_out): its duals
give every left-out pair the reduced cost

    rc[u, j] = c[u, j] - pi_once[u] - sum_m a[m, u, j] pi_band[m, j]

pairs with ``rc < 0`` join and the LP is solved again, until none is left. Its value is then
the LP optimum over *all* allowed pairs, a proven lower bound. The bands are elastic while
pricing (slack priced far above any plan), so a restricted LP is never infeasible; slack that
survives pricing means the bands cannot be met.

The MILP rounds over the candidates prove a bound ``B`` for plans that use only candidate
pairs. A plan using a left-out pair costs at least ``LP + smallest rc left out`` (duality:
``c x = LP + rc x`` for any x of the relaxation's rows), so ``min(B, LP + smallest rc)`` is
a bound for every plan (``combined_bound``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .model import AssignmentModel, PairSet, build_assignment_model, extend_assignment_model
from .pairs import all_allowed_pairs, candidate_pairs, cost_scale
from .pricing import assignment_duals, price_out, relative_slack, scan_left_out
from .settings import Clock, SolveSettings
from .solvers import run

#: the relaxation's slack price, in multiples of the dearest plan over the candidates
SLACK_PRICE = 10.0
#: how much the slack price grows when slack survives pricing, and how often at most
SLACK_PRICE_GROWTH, SLACK_PRICE_RAISES = 1000.0, 2
#: total slack (as shares of targets) that counts as none
NO_SLACK = 1e-7
#: left-out pairs priced in per unit and round
PRICED_PER_UNIT = 3


@dataclass
class PricedRelaxation:
    """The LP relaxation over ``pairs`` whose value ``bound`` holds for all allowed pairs.

    ``status`` is the LP's ("optimal", or why not; "infeasible" when slack survives
    pricing), ``smallest_left_out`` the smallest reduced cost of a pair not in ``pairs``
    (+inf when every allowed pair is in), ``model`` the last LP solved."""

    pairs: PairSet
    total_allowed: int
    status: str
    bound: float
    smallest_left_out: float
    model: AssignmentModel | None = None

    @property
    def restricted(self) -> bool:
        return len(self.pairs) < self.total_allowed

    def combined_bound(self, milp_bound: float) -> float:
        """A bound for every plan from a MILP bound over the candidates (module docstring);
        the LP bound when the MILP proves less."""
        if not self.restricted:
            return max(self.bound, milp_bound)
        return max(self.bound, min(milp_bound, self.bound + max(self.smallest_left_out, 0.0)))

    def left_out_floor(self) -> float:
        """No plan using a left-out pair costs less than this (module docstring)."""
        if not self.restricted:
            return math.inf
        return self.bound + max(self.smallest_left_out, 0.0)

    def pairs_that_could_beat(self, problem, target: float) -> tuple[PairSet | None, float]:
        """The left-out pairs with ``rc < target - LP``: the only ones a plan costing less
        than ``target`` can use (a plan using pair p costs at least ``LP + rc[p]``, every
        other reduced cost being >= 0 at the priced optimum). Returns them (None when there
        are none) and the smallest reduced cost of the pairs still left out after them."""
        if not self.restricted or self.model is None:
            return None, math.inf
        duals = assignment_duals(problem, self.model)
        new, _, _, rest = scan_left_out(
            problem, self.pairs, duals, problem.n_reps, threshold=target - self.bound
        )
        return new, rest


def full_relaxation(problem, pairs: PairSet, settings: SolveSettings, clock: Clock, log):
    """The LP relaxation over every allowed pair (county scale)."""
    units = np.arange(problem.n_units)
    model = build_assignment_model(problem, pairs, units, relax=True, name="relaxation")
    outcome = run(model, settings, mip=False, time_limit=clock.remaining)
    log({"phase": "lp", "status": outcome.status, "objective": outcome.objective})
    bound = outcome.objective if outcome.status == "optimal" else -math.inf
    return PricedRelaxation(pairs, len(pairs), outcome.status, bound, math.inf, model)


def priced_relaxation(
    problem, settings: SolveSettings, clock: Clock, log: Callable[[dict], None]
) -> PricedRelaxation:
    """All pairs when they are few; else the candidates, priced until no left-out pair has
    a negative reduced cost (module docstring)."""
    pairs = all_allowed_pairs(problem)
    if len(pairs) <= settings.full_model_pairs:
        return full_relaxation(problem, pairs, settings, clock, log)
    total_allowed = len(pairs)
    pairs, _ = candidate_pairs(problem, settings.candidates)
    units = np.arange(problem.n_units)
    penalty = SLACK_PRICE * cost_scale(problem, pairs)
    basis, raises, model, new = None, 0, None, None
    while True:
        if model is None:
            model = build_assignment_model(
                problem, pairs, units, relax=True, slack_penalty=penalty, name="relaxation"
            )
        else:  # the priced pairs join the LP solved last; HiGHS goes on from its basis
            extend_assignment_model(model, problem, new, relax=True)
        outcome = run(
            model,
            settings,
            mip=False,
            time_limit=clock.remaining,
            start_basis=basis,
            resume=True,
        )
        if outcome.status != "optimal":
            return PricedRelaxation(pairs, total_allowed, outcome.status, -math.inf, 0.0)
        new, correction, smallest = price_out(problem, model, per_unit=PRICED_PER_UNIT)
        slack = relative_slack(problem, model)
        entry = {"phase": "lp", "status": outcome.status, "objective": outcome.objective}
        log(entry | {"pairs": len(pairs), "slack": round(slack, 9), "correction": correction})
        if new is not None and clock.remaining > 0:
            pairs = PairSet.concat([pairs, new])
        elif slack > NO_SLACK and raises < SLACK_PRICE_RAISES and clock.remaining > 0:
            # slack that survives pricing: the price is too low, or the bands cannot hold
            raises, penalty, basis = raises + 1, penalty * SLACK_PRICE_GROWTH, None
            model = None  # built anew with the higher price
        else:
            break
    if slack > NO_SLACK:
        return PricedRelaxation(pairs, total_allowed, "infeasible", -math.inf, 0.0, model)
    bound = outcome.objective + correction
    return PricedRelaxation(pairs, total_allowed, "optimal", bound, smallest, model)
