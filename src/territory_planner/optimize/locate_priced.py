"""The location model over candidate pairs, priced until the bound is proven.

x exists only for candidate pairs (each unit's k cheapest sites, and with bands each site's
cheapest units so an open site can fill its band). The LP is priced over *all* pairs with
the duals of the assign-once and band rows (a left-out pair enters with its link row, whose
dual is 0): ``rc[u, s] = c[u, s] - pi_once[u] - sum_m a[m, u] (pi_min[m, s] + pi_max[m,
s])``. When no pair has a negative reduced cost the LP value is the LP optimum over all pairs
(a proven lower bound). The MILP over the candidates then gives a plan; every plan using a
left-out pair costs at least ``LP + its reduced cost``, so pairs with ``rc < incumbent - LP``
are added and the MILP re-solved until none is left out: the bound reported is ``min(MILP
bound over the candidates, LP + smallest reduced cost left out)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..errors import InfeasibleError, SolverError
from .locate_model import LocateModel, LocateResult, build_locate_model, has_bands, set_locate_start
from .model import PairSet, read_assignment
from .pairs import pairs_for
from .pricing import read_duals, scan_left_out
from .results import objective_of, plan_status, relative_gap
from .settings import TINY, Clock, SolveSettings
from .site_pairs import with_sites
from .solvers import run
from .strategy import solve_assignment


def locate_candidates(problem, count: int, k: int) -> tuple[PairSet, int]:
    """Each unit's k cheapest allowed sites; with bands also each site's cheapest
    ``2 x (units per base) + 10`` units, so an opened site can always fill its band."""
    units_per_site = 0
    if has_bands(problem):
        units_per_site = min(problem.n_units, int(2 * problem.n_units / max(count, 1)) + 10)
    unit_list, site_list, best_cost, best_unit = [], [], [], []
    total = 0
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        total += int(allowed.sum())
        cost = np.where(allowed, problem.cost_block(units), np.inf)
        kk = min(k, problem.n_reps)
        nearest = (
            np.argpartition(cost, kk - 1, axis=1)[:, :kk]
            if kk < problem.n_reps
            else np.tile(np.arange(problem.n_reps), (len(units), 1))
        )
        chosen = np.zeros_like(allowed)
        np.put_along_axis(chosen, nearest, True, axis=1)
        chosen &= allowed
        r, c = np.nonzero(chosen)
        unit_list.append(units[r])
        site_list.append(c)
        if units_per_site:
            take = min(units_per_site, len(units))
            top = (
                np.argpartition(cost, take - 1, axis=0)[:take]
                if take < len(units)
                else np.tile(np.arange(len(units))[:, None], (1, problem.n_reps))
            )
            best_cost.append(np.take_along_axis(cost, top, axis=0))
            best_unit.append(units[top])
    if units_per_site:
        costs, owners = np.vstack(best_cost), np.vstack(best_unit)
        order = np.argsort(costs, axis=0, kind="stable")[:units_per_site]
        for s in range(problem.n_reps):
            keep = order[:, s][np.isfinite(costs[order[:, s], s])]
            unit_list.append(owners[keep, s])
            site_list.append(np.full(len(keep), s))
    units = np.concatenate(unit_list)
    sites = np.concatenate(site_list)
    unique = np.unique(units.astype(np.int64) * problem.n_reps + sites)
    return pairs_for(problem, unique // problem.n_reps, unique % problem.n_reps), total


def left_out_reduced_costs(
    problem, model: LocateModel, threshold: float, per_unit: int
) -> tuple[PairSet | None, float, float]:
    """Scan every allowed pair outside the model. Returns the pairs with reduced cost below
    ``threshold`` (up to ``per_unit`` per unit, cheapest first), the Lagrangian correction
    ``sum_u min(0, min_s rc[u, s])`` and the smallest reduced cost still left out after
    those pairs join (pricing.scan_left_out, with this model's duals: its bands are
    written in ``y``-scaled units, and it has no budget row)."""
    duals = read_duals(
        problem,
        model.base.assign_once,
        model.band_min,
        model.band_max,
        band_scale=model.band_scale,
    )
    new, correction, _, smallest = scan_left_out(
        problem, model.base.pairs, duals, per_unit, threshold=threshold
    )
    return new, correction, smallest


def _sites_from_lp(model: LocateModel, count: int) -> np.ndarray:
    """The ``count`` sites with the largest LP opening (ties: the first by ID)."""
    values = np.array([v.varValue or 0.0 for v in model.y])
    return np.sort(np.argsort(-values, kind="stable")[:count])


def _assign_to_sites(
    problem, sites: np.ndarray, settings: SolveSettings, time_limit: float
) -> np.ndarray | None:
    """Assign every unit to one of the given open sites with the plan strategy
    (strategy.solve_assignment); None when those sites cannot meet the bands."""

    sub = with_sites(problem, sites)
    try:
        result = solve_assignment(sub, replace(settings, time_limit=max(time_limit, 1.0)))
    except (InfeasibleError, SolverError):
        return None
    return sites[result.unit_rep]


def lp_model_for_pricing(problem, pairs, count, settings, time_limit: float) -> LocateModel:
    """The LP over the current pairs, solved, for its duals (pricing after pairs joined)."""
    model = build_locate_model(problem, pairs, count, relax=True, name="locate_lp")
    run(model, settings, mip=False, time_limit=time_limit)
    return model


def first_candidate_count(problem, count: int, settings: SolveSettings) -> int:
    """Sites per unit in the first candidate set: all of them for a small problem; otherwise
    enough that a unit sees a few of the N bases (about S/N sites lie around each one)."""
    if problem.n_units * problem.n_reps <= settings.full_model_pairs:
        return problem.n_reps
    return min(
        problem.n_reps,
        max(settings.candidates, 2, int(math.ceil(2.0 * problem.n_reps / count))),
    )


class _PricedSearch:
    """One run of solve_priced_locate: the candidate pairs, the LP bound and the model
    that priced it, the incumbent and the MILP bound, and the phases run."""

    def __init__(self, problem, count: int, settings: SolveSettings, say, clock: Clock):
        self.problem, self.count, self.settings, self.say = problem, count, settings, say
        self.clock = clock
        self.phases: list[dict] = []
        self.k = first_candidate_count(problem, count, settings)
        self.pairs, self.total = locate_candidates(problem, count, self.k)
        say(f"locate: {len(self.pairs):,} candidate pairs of {self.total:,}")
        self.lp_bound = -math.inf
        self.smallest = math.inf  # smallest reduced cost still left out
        self.lp_model: LocateModel | None = None
        self.lp_pairs = 0
        self.incumbent: np.ndarray | None = None
        self.incumbent_cost = math.inf
        self.milp_bound = -math.inf

    def _phase(self, **facts) -> None:
        self.phases.append({**facts, "seconds": round(self.clock.elapsed, 3)})

    def _widen(self, k: int) -> None:
        self.pairs, _ = locate_candidates(self.problem, self.count, k)

    def price_lp(self) -> None:
        """Step 1: the LP over the candidates, widened while infeasible, priced until no
        left-out pair improves it."""
        problem, count, clock = self.problem, self.count, self.clock
        while True:
            model = build_locate_model(problem, self.pairs, count, relax=True, name="locate_lp")
            outcome = run(model, self.settings, mip=False, time_limit=clock.remaining)
            self._phase(
                phase="lp",
                pairs=len(self.pairs),
                status=outcome.status,
                objective=outcome.objective,
            )
            if outcome.status == "infeasible" and len(self.pairs) < self.total:
                self.k = min(problem.n_reps, int(math.ceil(self.k * 1.5)) + 1)
                self._widen(self.k)
                continue
            _refuse_lp_outcome(outcome, count)
            new, correction, self.smallest = left_out_reduced_costs(
                problem, model, -TINY, per_unit=5
            )
            self.lp_bound = outcome.objective + correction
            if new is None or clock.remaining <= 0:
                break
            self.pairs = PairSet.concat([self.pairs, new])
        self.say(f"locate: LP bound {self.lp_bound:,.2f} over {len(self.pairs):,} pairs")
        self.lp_model, self.lp_pairs = model, len(self.pairs)

    def first_plan(self) -> None:
        """Step 2: open the N sites the LP opens most, assign with the plan strategy."""
        opened = _sites_from_lp(self.lp_model, self.count)
        first = _assign_to_sites(self.problem, opened, self.settings, 0.4 * self.clock.remaining)
        if first is None:
            return
        self.incumbent, self.incumbent_cost = first, objective_of(self.problem, first)
        self._phase(phase="sites from LP", objective=self.incumbent_cost)
        self.say(
            f"locate: first plan {self.incumbent_cost:,.2f}, gap "
            f"{relative_gap(self.incumbent_cost, self.lp_bound):.3%}"
        )

    def improve_by_milp(self) -> None:
        """Step 3: the MILP over the candidates; add the pairs that could still beat the
        plan; repeat while the gap is open."""
        while (
            self.incumbent is None
            or relative_gap(self.incumbent_cost, self.lp_bound) > self.settings.gap
        ):
            if self.incumbent is not None and self.clock.remaining < 1.0:
                break
            if not self._milp_round():
                break

    def _milp_round(self) -> bool:
        """One MILP over the current pairs; whether another round should follow."""
        problem, count, settings = self.problem, self.count, self.settings
        model = build_locate_model(problem, self.pairs, count, relax=False, name="locate")
        if self.incumbent is not None:
            set_locate_start(model, self.incumbent)
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=self.clock.remaining,
            gap=settings.gap,
            warm_start=self.incumbent is not None,
        )
        self._phase(
            phase="mip",
            pairs=len(self.pairs),
            status=outcome.status,
            objective=outcome.objective,
            bound=outcome.bound,
        )
        if outcome.status == "infeasible" and len(self.pairs) < self.total:
            self._widen(min(problem.n_reps, 2 * self.k + 1))
            self.k = 2 * self.k + 1
            return True
        if outcome.status == "infeasible":
            raise InfeasibleError(
                [
                    f"no choice of {count} bases serves every account within "
                    "the bands and rules (proven by the solver)"
                ]
            )
        if outcome.has_solution:
            plan, _ = read_assignment(model.base, problem.n_units)
            cost = objective_of(problem, plan)
            if cost < self.incumbent_cost - TINY:
                self.incumbent, self.incumbent_cost = plan, cost
        if self.incumbent is None:
            raise SolverError(
                f"no feasible set of {count} bases was found within "
                f"{settings.time_limit:g} s; raise the time limit"
            )
        self.milp_bound = outcome.bound if outcome.bound is not None else self.lp_bound
        return self._add_pairs_that_could_improve()

    def _add_pairs_that_could_improve(self) -> bool:
        """Pairs whose reduced cost leaves room below the incumbent could still improve it:
        add them (whether any were added with time left)."""
        room = self.incumbent_cost - self.lp_bound
        if len(self.pairs) != self.lp_pairs:
            self.lp_model, self.lp_pairs = (
                lp_model_for_pricing(
                    self.problem, self.pairs, self.count, self.settings, self.clock.remaining
                ),
                len(self.pairs),
            )
        new, _, self.smallest = (
            left_out_reduced_costs(self.problem, self.lp_model, room, per_unit=self.problem.n_reps)
            if len(self.pairs) < self.total
            else (None, 0.0, math.inf)
        )
        if new is None or self.clock.remaining <= 0:
            return False
        self.say(
            f"locate: {len(new):,} left-out pairs could beat {self.incumbent_cost:,.2f}; adding"
        )
        self.pairs = PairSet.concat([self.pairs, new])
        return True

    def result(self) -> LocateResult:
        """The incumbent with ``min(MILP bound, LP + smallest reduced cost left out)``."""
        best_bound = max(self.milp_bound, self.lp_bound)
        bound = min(best_bound, self.lp_bound + max(self.smallest, 0.0), self.incumbent_cost)
        if len(self.pairs) >= self.total:
            bound = min(best_bound, self.incumbent_cost)
        gap = relative_gap(self.incumbent_cost, bound)
        return LocateResult(
            unit_rep=self.incumbent,
            objective=self.problem.sense * self.incumbent_cost,
            lower_bound=self.problem.sense * bound,
            gap=gap,
            status=plan_status(gap, self.settings.gap),
            seconds=self.clock.elapsed,
            phases=self.phases,
            candidate_pairs=len(self.pairs),
            total_pairs=self.total,
        )


def _refuse_lp_outcome(outcome, count: int) -> None:
    """An infeasible LP over all pairs proves no choice works; an LP without a solution
    leaves nothing to price."""
    if outcome.status == "infeasible":
        raise InfeasibleError(
            [
                f"no choice of {count} bases serves every account within "
                "the bands and rules (the LP relaxation is infeasible)"
            ]
        )
    if not outcome.has_solution:
        raise SolverError(
            f"the LP relaxation stopped without a solution ({outcome.status}); raise the time limit"
        )


def solve_priced_locate(
    problem, count: int, settings: SolveSettings, say: Callable[[str], None], clock: Clock
) -> LocateResult:
    """The priced LP, a first plan from its sites, then MILPs over the candidates with the
    pairs that could still beat the plan (module docstring), within ``clock``."""
    search = _PricedSearch(problem, count, settings, say, clock)
    search.price_lp()
    search.first_plan()
    search.improve_by_milp()
    return search.result()
