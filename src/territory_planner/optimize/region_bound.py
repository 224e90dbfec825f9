"""The geography-mode LP bound lifted by reach cuts, and the pairs its reduced costs rule
out: no connected plan cheaper than the best one known uses them (region_solve's rounds
fix them at 0, so a round's bound holds for every plan cheaper than that one)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .contiguity import BandFloors, fractional_reach_cuts, reach_rows
from .model import AssignmentModel
from .solvers import run

LP_CUT_ROUNDS = 30  # LP re-solves with reach cuts before the MILP rounds, at most
LP_CUT_SHARE = 0.15  # of the time left, at most, for them


@dataclass
class PricedCosts:
    """An optimal LP's value and the reduced cost d of each of its pairs, by (unit, rep).

    With duals y of its rows, c x = y A x + d x >= y b + d x for every x within the rows
    (a connected plan: the rows hold the cuts, valid for it), and the LP value is
    y b + sum_{d_p < 0} d_p (those pairs at their upper bound 1). So a plan using pair p
    with d_p > 0 costs at least LP + d_p + sum_{d_q < 0} d_q (x_q - 1) >= LP + d_p."""

    bound: float
    reduced_cost: dict[tuple[int, int], float]

    @staticmethod
    def read(model: AssignmentModel, bound: float) -> PricedCosts:
        pairs = model.pairs
        return PricedCosts(
            bound,
            {
                (int(u), int(j)): float(var.dj or 0.0)
                for u, j, var in zip(pairs.unit, pairs.rep, model.x)
            },
        )


def fix_by_reduced_cost(model: AssignmentModel, priced: PricedCosts, ceiling: float) -> int:
    """x[p] = 0 for every pair p with LP + d_p > ``ceiling`` (PricedCosts: no plan using
    p costs ``ceiling`` or less), ``ceiling`` being a connected plan's cost, so the model's
    bound still holds for every plan cheaper than it. A margin of 1e-7 of the ceiling
    keeps the dual tolerance from fixing a pair a cheaper plan needs. Returns how many
    pairs are fixed."""
    margin = 1e-7 * max(1.0, abs(ceiling))
    fixed = 0
    for u, j, var in zip(model.pairs.unit, model.pairs.rep, model.x):
        cost = priced.reduced_cost.get((int(u), int(j)))
        if cost is not None and priced.bound + cost > ceiling + margin:
            var.upBound = 0
            fixed += 1
    return fixed


def lifted_relaxation(relaxation, problem, graph, n_regions, settings, clock, log):
    """The LP relaxation (every pair in) re-solved with the reach cuts its fractional
    solutions violate (contiguity.fractional_reach_cuts), until none is found, LP_CUT_ROUNDS
    or LP_CUT_SHARE of the time left. The cuts hold for every connected plan, so the LP value
    with them is a proven bound. Returns the relaxation with that bound, the cuts and the
    LP's reduced costs (PricedCosts) at that bound."""
    model = relaxation.model
    floors = BandFloors(problem, model.pairs, n_regions)
    deadline = clock.elapsed + LP_CUT_SHARE * clock.remaining
    pool: list = []
    seen: set = set()
    bound = relaxation.bound
    priced = PricedCosts.read(model, bound)
    for _ in range(LP_CUT_ROUNDS):
        fresh = [
            cut for cut in fractional_reach_cuts(graph, model, n_regions, floors) if cut not in seen
        ]
        if not fresh or clock.elapsed >= deadline:
            break
        seen.update(fresh)
        pool += fresh
        reach_rows(model, problem, fresh)
        outcome = run(model, settings, mip=False, time_limit=deadline - clock.elapsed)
        if outcome.status != "optimal":
            break
        if outcome.objective >= bound:
            bound, priced = outcome.objective, PricedCosts.read(model, outcome.objective)
    log({"phase": "lp_reach_cuts", "bound": bound, "cuts": len(pool), "seconds": clock.elapsed})
    return dataclasses.replace(relaxation, bound=bound), pool, priced
