"""How a plan is solved fast and honestly: the phases (docs/design.md, the optimiser's phases).

1. **Candidates** (pairs.py). Each unit may go only to its ``k`` cheapest allowed reps plus
   its current owner, and each rep sees its nearest units up to three times its fair share;
   an aggregate LP over cells adds the pairs along which the bands make load travel far.
2. **LP relaxation with pricing** (pricing.py). Solve the relaxation over the candidates;
   its duals price every pair left out, pairs with negative reduced cost join and the LP is
   solved again from the previous basis, until none is left: the LP value is then the LP
   optimum over *all* pairs, a proven lower bound for the full problem. The bands are
   elastic (priced slack), so a restricted LP is never infeasible and sparsity never loses
   a feasible plan: pricing brings in whatever pairs the bands need.
3. **Fix and finish** (rounding.py, windows.py). Units the LP assigns integrally (nearly
   all) are fixed; a small MILP assigns the fractional rest within the bands left over.
   When that cannot close, the fractional units are placed breaking the bands as little as
   possible, and the LP is solved again with the broken bands narrowed, so that its split
   accounts land where rounding has room; *windows* of reps then mend what is left and
   improve the plan (windows of three reps, then of six once those find nothing more).
   Then, time permitting, growing sets of boundary units are re-optimised together.
4. **Polish.** While the gap to the bound exceeds the target and time remains, the MILP over
   all candidates is solved warm-started from the plan so far.

The bound reported is never an estimate: it is the priced LP optimum, or, when the polish MILP
proves more, ``min(MILP bound over the candidates, LP bound + smallest reduced cost left
out)``, which is valid because any plan that uses a left-out pair costs at least
``LP bound + its reduced cost`` (linear-programming duality).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..errors import SolverError
from .band_prices import band_prices
from .breach import band_excess, rep_loads
from .crash_basis import CheapestPairBasis
from .diagnose import explain_infeasibility, precheck
from .model import (
    PairSet,
    build_assignment_model,
    extend_assignment_model,
    read_assignment,
    set_start,
)
from .pairs import (
    CellSums,
    all_allowed_pairs,
    candidate_pairs,
    cost_scale,
    flow_pairs,
    union_pairs,
)
from .pricing import price_out, relative_slack
from .results import AssignmentResult, PhaseLog, objective_of, plan_status, relative_gap
from .rounding import INTEGRAL, narrowed_rounds, release_rounds, restricted_model
from .settings import TINY, Clock, SolveSettings
from .solvers import LpBasis, run
from .time_budget import TimeBudget
from .windows import improve_by_windows

__all__ = [
    "AssignmentResult",
    "all_allowed_pairs",
    "Incumbent",
    "SolveSettings",
    "TimeBudget",
    "objective_of",
    "relative_gap",
    "run",
    "solve_assignment",
]

#: the relaxation's slack price, in multiples of the dearest plan over the candidates
RELAXATION_SLACK_PRICE = 10.0
#: how much the slack price grows when slack survives pricing, and how often at most
SLACK_PRICE_GROWTH, SLACK_PRICE_RAISES = 1000.0, 2
#: the relaxation's total slack (as shares of targets) that counts as none
NO_SLACK = 1e-7
#: left-out pairs priced into the relaxation per unit and round
PRICED_PER_UNIT = 3
#: from this many units the first LP starts from every unit on its cheapest rep
#: (crash_basis.py) instead of HiGHS's slack basis and presolve. At 100,000 x 500 that took
#: the first LP from 89.5 s to 32.5 s; at 10,000 x 50 it saves about a second, and the
#: other vertex it lands on rounded worse on the continuity family (11.8-19.9 s against
#: 7.5-10.2 s, three runs each), so smaller LPs keep the cold start
CRASH_MIN_UNITS = 50_000
#: from this many units the candidates are completed by the pairs cheap at the bands'
#: prices (band_prices.py) before the first LP: at 100,000 x 500 nationwide the first LP
#: over the nearest reps' pairs was short of its bands by 1,466% and no plan came within
#: 300 s; with them it needed no slack and the plan was at 0.033% in 264 s. At 10,000 x
#: 50 the first LP costs about 10 s and the prices 4-10 s: not worth it there
PRICES_MIN_UNITS = 50_000
#: a Lagrangian correction within this share of the gap target is not worth a re-solve
CLOSE_ENOUGH_SHARE = 0.05
#: the relative gap a partial finish round stops at (the all-units round: the target's,
#: when tighter); each round may also stop at half the gap target, absolute
ROUND_GAP, ROUND_GAP_ABS_SHARE = 1e-4, 0.5


class Incumbent:
    """The best whole plan so far (``plan``, None until one is found), its objective, and
    the ``fallback`` plan that rounds start from while there is none: the LP's rounding, or
    the least broken plan the windows reached."""

    def __init__(self, fallback: np.ndarray):
        self.plan: np.ndarray | None = None
        self.objective = math.inf
        self.fallback = fallback

    @property
    def found(self) -> bool:
        return self.plan is not None

    def base(self) -> np.ndarray:
        """The plan a round holds its other units at."""
        return self.fallback if self.plan is None else self.plan

    def offer(self, plan: np.ndarray, objective: float) -> bool:
        """Keep ``plan`` when it is cheaper than the best so far; True when kept."""
        if objective < self.objective - TINY:
            self.plan, self.objective = plan, objective
            return True
        return False

    def gap(self, bound: float) -> float:
        return relative_gap(self.objective, bound) if self.found else math.inf


def solve_assignment(
    problem, settings: SolveSettings, progress: Callable[[str], None] | None = None
) -> AssignmentResult:
    """Solve a planning problem with the phases of the module docstring."""
    solve = _Solve(problem, settings, progress)
    precheck(problem)
    solve.choose_candidates()
    solve.price_relaxation()
    solve.fix_and_finish()
    solve.polish()
    return solve.result()


class _Solve:
    """One solve's state between its phases: the candidates, the LP and its bound, the best
    plan so far and the bound the MILPs proved."""

    def __init__(self, problem, settings: SolveSettings, progress):
        self.problem, self.settings = problem, settings
        self.say = progress or (lambda message: None)
        self.clock = Clock.for_settings(settings)
        self.time = TimeBudget(self.clock)
        self.log = PhaseLog(self.clock)
        self.sparse = problem.n_units * problem.n_reps > settings.full_model_pairs
        self.pairs: PairSet | None = None
        self.total_allowed = 0
        self.lp_model = None
        self.basis = None
        self.lp_bound = -math.inf
        self.smallest_left_out = math.inf
        self.incumbent: Incumbent | None = None
        self.milp_bound: float | None = None
        self.full_round_done = False

    # 1. candidates (everything when the instance is small) ------------------------------

    def choose_candidates(self) -> None:
        problem, settings = self.problem, self.settings
        cells = CellSums(problem) if self.sparse else None
        k = settings.candidates if self.sparse else problem.n_reps
        pairs, self.total_allowed = candidate_pairs(problem, k, cells=cells)
        if cells is not None and len(pairs) < self.total_allowed:
            travel = flow_pairs(problem, cells, settings, time_limit=self.time.flow())
            if travel is not None:
                pairs = union_pairs(problem, pairs, travel)
            self.log("flow", None, len(pairs), added=0 if travel is None else len(travel))
        if problem.n_units >= PRICES_MIN_UNITS and len(pairs) < self.total_allowed:
            prices = band_prices(problem, pairs, self.clock.share(self.time.PRICES))
            if prices.joined is not None:
                pairs = union_pairs(problem, pairs, prices.joined)
            self.log(
                "band prices",
                None,
                len(pairs),
                added=0 if prices.joined is None else len(prices.joined),
                bound=prices.bound,
                evaluations=prices.evaluations,
            )
        self.pairs = pairs
        self.say(f"candidate pairs: {len(pairs):,} of {self.total_allowed:,} allowed")

    # 2. elastic LP relaxation, priced until no left-out pair improves it ----------------

    def price_relaxation(self) -> None:
        """The slack lets load flow between distant clusters through pricing instead of
        widening every account's candidates; it is a relaxation, so its value is a proven
        bound regardless."""
        problem, settings, clock = self.problem, self.settings, self.clock
        all_units = np.arange(problem.n_units)
        penalty = RELAXATION_SLACK_PRICE * cost_scale(problem, self.pairs)
        raises = 0
        model, new = None, None
        while True:
            if model is None:
                building = clock.elapsed
                model = build_assignment_model(
                    problem,
                    self.pairs,
                    all_units,
                    relax=True,
                    slack_penalty=penalty,
                    name="relaxation",
                )
                self.time.observe_build(clock.elapsed - building, len(self.pairs))
                start = self.basis  # the slack price was raised: from the last basis
                if start is None and problem.n_units >= CRASH_MIN_UNITS:
                    start = CheapestPairBasis(model)
            else:
                # the priced pairs join the LP solved last; HiGHS goes on from its basis
                extend_assignment_model(model, problem, new, relax=True)
                start = None
            outcome = run(
                model,
                settings,
                mip=False,
                time_limit=clock.remaining,
                start_basis=start,
                resume=True,
            )
            slack = relative_slack(problem, model)
            self.log("lp", outcome, len(self.pairs), slack=round(slack, 9))
            if outcome.status != "optimal":
                # an LP stopped early proves nothing: no bound, and so no honest plan
                raise SolverError(
                    f"no feasible plan was found: the LP relaxation, which gives "
                    f"the proven bound, was not solved ({outcome.status}) within "
                    f"the time limit of {settings.time_limit:g} s; raise "
                    "--time-limit"
                )
            if len(self.pairs) >= self.total_allowed:
                new, correction, self.smallest_left_out = None, 0.0, math.inf
            else:
                new, correction, self.smallest_left_out = price_out(
                    problem, model, per_unit=PRICED_PER_UNIT
                )
            self.lp_bound = outcome.objective + correction
            # the Lagrangian bound is already valid; re-solving for a sliver is not worth it
            close_enough = -correction <= CLOSE_ENOUGH_SHARE * settings.gap * abs(outcome.objective)
            if new is not None and clock.remaining > 0 and (slack > NO_SLACK or not close_enough):
                self.say(
                    f"pricing: {len(new):,} pairs improve the LP"
                    + (f" (bands short by {slack:.2%} in total)" if slack > NO_SLACK else "")
                    + "; re-solving"
                )
                self.pairs = PairSet.concat([self.pairs, new])
                continue
            if slack > NO_SLACK:
                if raises < SLACK_PRICE_RAISES and clock.remaining > 0:
                    # slack that survives pricing: either the penalty is too small for this
                    # instance's costs, or the bands truly cannot hold; raise it and see
                    raises += 1
                    penalty *= SLACK_PRICE_GROWTH
                    # built anew with the higher price, from this basis (by name)
                    self.basis, model = LpBasis.capture(model), None
                    continue
                explain_infeasibility(problem, all_allowed_pairs(problem), settings)
            break
        self.basis = LpBasis.capture(model)  # for a solver that cannot resume the LP
        self.lp_model = model
        self.say(f"LP bound {self.lp_bound:,.1f} ({len(self.pairs):,} pairs)")

    # 3. fix and finish: re-optimise growing sets of units, the rest held at the best plan

    def fix_and_finish(self) -> None:
        problem = self.problem
        rep, best = read_assignment(self.lp_model, problem.n_units)
        fractional = np.flatnonzero(best < INTEGRAL)
        self.incumbent = Incumbent(fallback=rep)
        if len(fractional) == 0:
            self.incumbent.offer(rep, objective_of(problem, rep))
        rounds = (
            release_rounds(problem, self.lp_model, rep, fractional)
            if not self.closed()
            else iter(())
        )
        # the fractional units alone, every other unit where the LP put it: one small MILP
        # that usually closes the gap at once
        for label, free in rounds:
            if self.time.round_worth_it(self.round_pairs(free)):
                self.finish_round(label, free)
            break
        if self.sparse and not self.closed() and len(fractional) and self.time.windows_worth_it():
            self.windows_from_lp(rep, fractional)
        for label, free in rounds:
            if self.closed() or not self.time.round_worth_it(self.round_pairs(free)):
                break
            mended = not self.incumbent.found
            self.finish_round(label, free)
            if (
                self.sparse
                and mended
                and self.incumbent.found
                and not self.closed()
                and self.time.windows_worth_it()
            ):
                # the round's first whole plan mended the bands over many units at once, at
                # a cost; windows win that back faster than the larger rounds would
                plan = self.incumbent.plan
                changed = np.flatnonzero(plan != self.incumbent.fallback)
                self.by_windows(plan, np.unique(plan[changed]), self.clock)

    def round_pairs(self, free: np.ndarray) -> int:
        return int(np.isin(self.pairs.unit, free).sum())

    def closed(self) -> bool:
        return self.incumbent.found and self.incumbent.gap(self.lp_bound) <= self.settings.gap

    def good_enough(self, objective: float, excess: float) -> bool:
        return excess <= TINY and relative_gap(objective, self.lp_bound) <= self.settings.gap

    def report(self, label: str) -> None:
        self.say(
            f"fix-and-finish ({label}): objective {self.incumbent.objective:,.1f}, gap "
            f"{relative_gap(self.incumbent.objective, self.lp_bound):.3%}"
        )

    def finish_round(self, label: str, free: np.ndarray) -> None:
        """MILP over the ``free`` units, the others held at the best plan so far (or the
        least broken rounding of the LP)."""
        problem, settings, incumbent = self.problem, self.settings, self.incumbent
        base = incumbent.base()
        building = self.clock.elapsed
        model = restricted_model(problem, self.pairs, base, free, name="finish")
        if incumbent.found:
            set_start(model, incumbent.plan)
        self.time.observe_build(self.clock.elapsed - building, len(model.pairs))
        all_units = len(free) == problem.n_units
        # the all-units round is the full candidate MILP and no polish follows it, so it may
        # not stop at a looser relative gap than the one asked for (0: proven optimal)
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=self.time.finish_round(all_units),
            gap=min(ROUND_GAP, settings.gap) if all_units else ROUND_GAP,
            gap_abs=ROUND_GAP_ABS_SHARE * settings.gap * abs(self.lp_bound),
            warm_start=incumbent.found,
        )
        self.log("finish", outcome, len(model.pairs), free_units=int(len(free)), scope=label)
        self.full_round_done = all_units and outcome.has_solution
        if all_units and outcome.bound is not None:
            self.milp_bound = outcome.bound  # the all-units round is the full candidate MILP
        if outcome.has_solution:
            sub_rep, _ = read_assignment(model, problem.n_units)
            candidate = base.copy()
            candidate[free] = sub_rep[free]
            if incumbent.offer(candidate, objective_of(problem, candidate)):
                self.report(label)

    def windows_from_lp(self, rep: np.ndarray, fractional: np.ndarray) -> None:
        """A few reps at a time from the best plan so far, or (when the fractional units
        alone cannot hold the bands) from the LP's rounding, repairing its broken bands."""
        problem, incumbent = self.problem, self.incumbent
        start = rep if not incumbent.found else incumbent.plan
        if not incumbent.found:
            start, breach = narrowed_rounds(
                problem, self.pairs, self.lp_model, self.basis, self.settings, self.clock, self.log
            )
            if breach <= TINY:
                incumbent.offer(start, objective_of(problem, start))
                self.report("rounding with narrowed bands")
        broken = np.flatnonzero(band_excess(problem, rep_loads(problem, start)).sum(axis=0) > TINY)
        touched = np.unique(self.pairs.rep[np.isin(self.pairs.unit, fractional)])
        first = np.concatenate([broken, np.setdiff1d(touched, broken)])
        self.by_windows(start, first, self.time.windows(incumbent.found))

    def by_windows(self, start: np.ndarray, first: np.ndarray, window_clock: Clock) -> None:
        """Windows of reps from ``start``; a whole plan they reach may become the best."""
        problem, pairs, settings = self.problem, self.pairs, self.settings
        windowed, windowed_obj, excess = improve_by_windows(
            problem,
            pairs,
            start,
            objective_of(problem, start),
            settings,
            window_clock,
            done=self.good_enough,
            log=self.log,
            first=first,
        )
        if (
            excess <= TINY
            and not self.good_enough(windowed_obj, excess)
            and self.time.windows_worth_it()
        ):
            # a whole plan where no 3-rep window finds a saving: windows twice as wide
            # reach moves that need more reps at once, for all the time left
            windowed, windowed_obj, excess = improve_by_windows(
                problem,
                pairs,
                windowed,
                windowed_obj,
                settings,
                self.clock,
                done=self.good_enough,
                log=self.log,
                first=first,
                size=6,
            )
        if excess > TINY:
            self.incumbent.fallback = windowed  # the least broken plan: the rounds start there
        elif self.incumbent.offer(windowed, windowed_obj):
            self.report("windows of reps")

    # 4. polish with the full candidate MILP, warm-started --------------------------------

    def polish(self) -> None:
        """While the gap is too wide and the all-units finish (the same model) has not
        already had its turn; it needs at least the hand-over time plus a second."""
        problem, settings, incumbent = self.problem, self.settings, self.incumbent
        if not (
            incumbent.gap(self.lp_bound) > settings.gap
            and self.time.polish_worth_it(len(self.pairs))
            and (not incumbent.found or not self.full_round_done)
        ):
            return
        all_units = np.arange(problem.n_units)
        model = build_assignment_model(problem, self.pairs, all_units, relax=False, name="polish")
        if incumbent.found:
            set_start(model, incumbent.plan)
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=self.clock.remaining,
            gap=settings.gap,
            warm_start=incumbent.found,
        )
        self.log("polish", outcome, len(self.pairs))
        if outcome.status == "infeasible" and not incumbent.found:
            model, outcome = self.polish_all_pairs()
        if outcome.has_solution:
            polish_rep, _ = read_assignment(model, problem.n_units)
            incumbent.offer(polish_rep, objective_of(problem, polish_rep))
        if outcome.bound is not None:
            self.milp_bound = (
                outcome.bound if self.milp_bound is None else max(self.milp_bound, outcome.bound)
            )

    def polish_all_pairs(self):
        """The LP is feasible but no whole-account plan over the candidates is: over every
        allowed pair that is proven, and the elastic MILP names the bands that cannot hold."""
        problem, settings = self.problem, self.settings
        if len(self.pairs) >= self.total_allowed:
            explain_infeasibility(problem, self.pairs, settings, integer=True)
        self.pairs = all_allowed_pairs(problem)
        model = build_assignment_model(
            problem, self.pairs, np.arange(problem.n_units), relax=False, name="polish_all_pairs"
        )
        outcome = run(model, settings, mip=True, time_limit=self.clock.remaining, gap=settings.gap)
        self.log("polish", outcome, len(self.pairs), scope="all allowed pairs")
        if outcome.status == "infeasible":
            explain_infeasibility(problem, self.pairs, settings, integer=True)
        self.smallest_left_out = math.inf
        return model, outcome

    # the result -------------------------------------------------------------------------

    def result(self) -> AssignmentResult:
        problem, incumbent, lp_bound = self.problem, self.incumbent, self.lp_bound
        bound = lp_bound
        if self.milp_bound is not None:
            # valid globally: a plan using a left-out pair costs >= lp_bound + its rc
            bound = max(bound, min(self.milp_bound, lp_bound + max(self.smallest_left_out, 0.0)))
        if not incumbent.found:
            raise SolverError(
                f"no feasible plan was found within the time limit of "
                f"{self.settings.time_limit:g} s (the LP bound is {lp_bound:,.1f}); "
                "raise --time-limit"
            )
        bound = min(bound, incumbent.objective)
        gap = relative_gap(incumbent.objective, bound)
        sense = problem.sense
        return AssignmentResult(
            unit_rep=incumbent.plan,
            objective=sense * incumbent.objective,
            lower_bound=sense * bound,
            gap=gap,
            status=plan_status(gap, self.settings.gap),
            seconds=self.clock.elapsed,
            phases=self.log.entries,
            candidate_pairs=len(self.pairs),
            total_pairs=self.total_allowed,
        )
