"""Rounding the LP: from its (nearly integral) optimum to whole-account plans.

Units the LP assigns integrally (nearly all) keep their rep; small MILPs place the rest
(docs/design.md, the optimiser's phases):

* ``restricted_model``: a MILP over a set of free units, every other unit held where a base
  plan puts it (its load and moved potential shift the bands and the budget);
* ``release_rounds``: the growing sets of free units to try, the fractional units first,
  then the territory boundaries (the units cheapest to move, by reduced cost), then all;
* ``narrowed_rounds``: when the fractional units alone cannot hold the bands, the split
  giants pinned (the LP solved again until it splits none), then ``boundary_round`` (the
  fractional units with the territory boundaries, bands hard), then the LP re-solved with
  the broken bands narrowed, so its split accounts land where rounding has room
  (``elastic_round`` places them breaking the bands as little as possible).
"""

from __future__ import annotations

import math

import numpy as np

from .breach import band_excess, budget_excess, rep_loads
from .model import AssignmentModel, PairSet, build_assignment_model, read_assignment
from .pairs import cost_scale, pairs_for
from .pricing import reduced_costs
from .results import objective_of
from .settings import TINY, Clock, SolveSettings
from .solvers import LpBasis, run

#: an LP value at or above this counts as integral
INTEGRAL = 1.0 - 1e-6
#: how far a band is narrowed, in breaches of its last rounding
MARGIN_GROWTH = 3.0
#: the most a band (and the budget) is narrowed, as a share of its width
MARGIN_LIMIT = 0.45
#: the share of the time left the narrowed rounds may spend
NARROWED_SHARE = 0.25
#: the share of the time left one elastic rounding may spend
ELASTIC_ROUND_SHARE = 0.06
#: the relative gap a rounding MILP stops at
ROUND_GAP = 1e-4
#: a phase does not start with this few seconds left
LAST_SECONDS = 0.5
#: the elastic rounding's slack price, in multiples of the most the free units can cost
LOCAL_SLACK_PRICE = 1000.0
#: the shares of all units released with the fractional ones, after the fractional alone
BOUNDARY_SHARES = (0.05, 0.2)
#: a unit whose load on some metric is at least this share of a typical band's width, and
#: GIANT_TIMES_TYPICAL times the typical unit's, is a giant: one of them alone can decide
#: whether a band holds, and the many small units can make room for it
GIANT_BAND_SHARE, GIANT_TIMES_TYPICAL = 0.2, 10.0
#: at most this many times the LP is solved again with its split giants pinned: pinning
#: some moves others (giant 10,000 x 50 seed 2: 262, then 23, then 20 pairs closed)
PIN_ROUNDS = 10
#: the share of all units the boundary round frees besides the fractional ones; 5% made
#: the round a MILP HiGHS could not finish in its time on 10,000 x 50, 2% it solves in
#: seconds
ROUNDING_BOUNDARY_SHARE = 0.02
#: the share of the time left the boundary round may spend. It stops at its gap well within
#: it when it can; at 0.15, giant 10,000 x 50 seed 2 on a slow pass (the round needs about
#: 6 s there) was cut at 5.9 s with a plan 0.616% off, which the windows took 35 s to bring
#: to 0.555%, not within the asked 0.5% (the same run otherwise ends at 0.404% in 24 s)
BOUNDARY_ROUND_SHARE = 0.3
#: the boundary round stops within this share of the asked gap (in the rounding's cost):
#: windows and the later rounds close the rest, so proving the round's own optimum is waste
BOUNDARY_GAP_SHARE = 0.5


def restricted_model(
    problem,
    pairs: PairSet,
    base: np.ndarray,
    free: np.ndarray,
    name: str,
    slack_penalty: float | None = None,
) -> AssignmentModel:
    """MILP over the ``free`` units; every other unit stays with its rep in ``base`` and its
    load and moved potential shift the bands and the budget (elastic with a penalty)."""
    fixed = np.setdiff1d(np.arange(problem.n_units), free)
    fixed_load = np.zeros((problem.n_metrics, problem.n_reps))
    fixed_moved = 0.0
    if len(fixed):
        fixed_pairs = pairs_for(problem, fixed, base[fixed])
        for m in range(problem.n_metrics):
            np.add.at(fixed_load[m], fixed_pairs.rep, fixed_pairs.load[m])
        fixed_moved = float(fixed_pairs.moved.sum())
    sub = pairs.subset(np.isin(pairs.unit, free))
    return build_assignment_model(
        problem,
        sub,
        free,
        relax=False,
        fixed_load=fixed_load,
        fixed_moved=fixed_moved,
        slack_penalty=slack_penalty,
        name=name,
    )


def release_rounds(problem, lp_model: AssignmentModel, rep: np.ndarray, fractional: np.ndarray):
    """Growing sets of units to re-optimise after the LP: the fractional ones first, then
    the fractional ones with the shares BOUNDARY_SHARES of units cheapest to move
    (alternative_cost), then all."""
    yield "fractional units", fractional
    order = np.argsort(alternative_cost(problem, lp_model, rep, fractional), kind="stable")
    for share in BOUNDARY_SHARES:
        size = max(len(fractional) + 1, int(share * problem.n_units))
        if size >= problem.n_units:
            break
        yield f"fractional + {share:.0%} boundary units", np.sort(order[:size])
    yield "all units", np.arange(problem.n_units)


def alternative_cost(
    problem, lp_model: AssignmentModel, rep: np.ndarray, fractional: np.ndarray
) -> np.ndarray:
    """How cheaply each unit could change rep: -inf for the fractional ones, else the LP
    reduced cost of its cheapest alternative rep less that of its own pair,

        min_{j != r(u)} rc[u, j] - rc[u, r(u)],

    the smallest are the territory boundaries, where a swap restores a band at the least
    cost. The difference, not rc[u, j] alone: a pair at its upper bound 1 may carry a
    negative reduced cost, and then the unit's assign-once dual (which both share) is
    not its cost of staying (five accounts on a line, tests/test_finish.py: the far ones
    came first, at 0)."""
    pairs = lp_model.pairs
    rc = reduced_costs(problem, lp_model, pairs)
    own = pairs.rep == rep[pairs.unit]
    staying = np.zeros(problem.n_units)
    staying[pairs.unit[own]] = rc[own]
    alternative = np.full(problem.n_units, np.inf)
    np.minimum.at(alternative, pairs.unit[~own], rc[~own] - staying[pairs.unit[~own]])
    alternative[fractional] = -np.inf
    return alternative


def local_penalty(problem, pairs: PairSet, free: np.ndarray) -> float:
    """Slack price for an elastic MILP over the ``free`` units: LOCAL_SLACK_PRICE times the most
    their placement can cost, so no saving outweighs a breach of a thousandth of a target,
    yet small enough to keep the objective's range sane for the solver."""
    mask = np.zeros(problem.n_units, dtype=bool)
    mask[free] = True
    return LOCAL_SLACK_PRICE * cost_scale(problem, pairs.subset(mask[pairs.unit]))


def elastic_round(
    problem,
    pairs: PairSet,
    base: np.ndarray,
    free: np.ndarray,
    settings: SolveSettings,
    clock: Clock,
    log,
    label: str,
    time_limit: float,
) -> np.ndarray:
    """``base`` with the ``free`` units placed so that the bands break as little as possible
    (then at the least cost): an elastic MILP over those units, the rest held."""
    model = restricted_model(
        problem,
        pairs,
        base,
        free,
        name="finish",
        slack_penalty=local_penalty(problem, pairs, free),
    )
    outcome = run(
        model, settings, mip=True, time_limit=min(time_limit, clock.remaining), gap=ROUND_GAP
    )
    log("finish", outcome, len(model.pairs), free_units=int(len(free)), scope=label)
    plan = base.copy()
    if outcome.has_solution:
        plan[free] = read_assignment(model, problem.n_units)[0][free]
    return plan


def narrowed_rounds(
    problem,
    pairs: PairSet,
    lp_model: AssignmentModel,
    basis,
    settings: SolveSettings,
    clock: Clock,
    log,
    rounds: int = 5,
    share: float = NARROWED_SHARE,
) -> tuple[np.ndarray, float]:
    """Round the LP where its rounding has room: the least broken plan found, and its breach
    (as in windows.py: 0 when it is a whole plan).

    First the split giants are pinned to the rep of their larger share, the LP solved again
    until it splits none (resolve_with_giants_pinned): a giant rounded last moves its band
    by most of its width, small units rounded around a pinned giant barely move theirs.
    Then boundary_round: the fractional units with the territory boundaries, bands hard;
    a whole plan there is the answer. Else the narrowed rounds (_narrowing). The LP's rows
    and bounds are given back whatever happens.
    """
    deadline = clock.share(share)
    pinned, basis = resolve_with_giants_pinned(problem, lp_model, basis, settings, deadline, log)
    try:
        plan = boundary_round(problem, pairs, lp_model, settings, clock, log)
        if plan is not None:
            return plan, 0.0
        return _narrowing(problem, pairs, lp_model, basis, settings, clock, deadline, log, rounds)
    finally:
        narrow_rows(
            problem, lp_model, np.zeros((problem.n_metrics, problem.n_reps)), budget_margin=0.0
        )
        for variable, upper in pinned:
            variable.upBound = upper


def boundary_round(
    problem,
    pairs: PairSet,
    lp_model: AssignmentModel,
    settings: SolveSettings,
    clock: Clock,
    log,
) -> np.ndarray | None:
    """A whole plan near the LP's rounding, or None: a MILP with the bands hard over the
    LP's fractional units and the ROUNDING_BOUNDARY_SHARE of all units cheapest to move
    (alternative_cost), every other unit where the LP put it.

    Placing the fractional units alone breaks a band wherever a split account must go
    whole to one side; a few boundary units free to swap make the room, at the least cost
    the reduced costs foresee. A giant the LP does not split is held: freeing it lets the
    MILP move a band by most of its width, which is what pinning avoided. The round stops
    at BOUNDARY_GAP_SHARE of the asked gap, in BOUNDARY_ROUND_SHARE of the time left.
    """
    rep, placed = read_assignment(lp_model, problem.n_units)
    fractional = np.flatnonzero(placed < INTEGRAL)
    if len(fractional) == 0 or clock.remaining <= LAST_SECONDS:
        return None
    cheapness = alternative_cost(problem, lp_model, rep, fractional)
    giants = giant_units(problem)
    cheapness[np.setdiff1d(giants, fractional)] = np.inf
    movable = int((cheapness < np.inf).sum())  # the fractional ones are -inf
    size = min(movable, len(fractional) + int(ROUNDING_BOUNDARY_SHARE * problem.n_units))
    if size == len(fractional):
        return None  # the fractional units alone were tried before
    free = np.sort(np.argsort(cheapness, kind="stable")[:size])
    model = restricted_model(problem, pairs, rep, free, name="finish")
    outcome = run(
        model,
        settings,
        mip=True,
        time_limit=BOUNDARY_ROUND_SHARE * clock.remaining,
        gap=ROUND_GAP,
        gap_abs=BOUNDARY_GAP_SHARE * settings.gap * abs(objective_of(problem, rep)),
    )
    scope = f"fractional + {ROUNDING_BOUNDARY_SHARE:.0%} boundary units, bands hard"
    log("finish", outcome, len(model.pairs), free_units=int(len(free)), scope=scope)
    if not outcome.has_solution:
        return None
    plan = rep.copy()
    plan[free] = read_assignment(model, problem.n_units)[0][free]
    return plan


def _narrowing(
    problem,
    pairs: PairSet,
    lp_model: AssignmentModel,
    basis,
    settings: SolveSettings,
    clock: Clock,
    deadline: Clock,
    log,
    rounds: int,
) -> tuple[np.ndarray, float]:
    """The narrowed rounds: the least broken plan found and its breach.

    Placing the LP's fractional units (the rest where the LP put them, elastic_round)
    breaks a band wherever a split account must go whole to one side of it. The LP is then
    solved again (from its basis, rows changed in place) with those bands narrowed,

        L[m, j] + mu[m, j] <= sum_u a[m, u, j] x[u, j] <= U[m, j] - mu[m, j]
        sum_{u,j} p[u, j] x[u, j] <= B - mu_budget,

    each margin ``mu`` growing by MARGIN_GROWTH times the breach the last rounding left
    there (at most MARGIN_LIMIT of the band), so the reps that broke keep room for whole
    accounts; the new fractional units are rounded in turn. The narrowed LP is only a guide
    (its value is no bound; the caller gives the rows their true sides back). At most
    ``rounds`` rounds, until ``deadline``, none after one that did not lower the breach.
    """
    width = problem.upper - problem.lower
    margin = np.zeros((problem.n_metrics, problem.n_reps))
    budget = problem.max_moved_potential
    budget_margin = 0.0
    best_plan, best_breach = None, math.inf
    for attempt in range(rounds):
        rep, share_placed = read_assignment(lp_model, problem.n_units)
        fractional = np.flatnonzero(share_placed < INTEGRAL)
        plan = elastic_round(
            problem,
            pairs,
            rep,
            fractional,
            settings,
            clock,
            log,
            label="fractional units, elastic bands"
            + (f", bands narrowed ({attempt})" if attempt else ""),
            time_limit=ELASTIC_ROUND_SHARE * clock.remaining,
        )
        excess = band_excess(problem, rep_loads(problem, plan))
        over = budget_excess(problem, 0.0 if budget is None else problem.moved_potential_of(plan))
        breach = float(excess.sum()) + over
        worse = breach >= best_breach - 1e-12
        if not worse:
            best_plan, best_breach = plan, breach
        # a round that did not lower the breach is not followed by one that does: the
        # margins grow where the same split accounts land again (clustered 10,000 x 50:
        # rounds 2-4 each 1.3 s, the breach the same or worse), and around pinned giants
        # narrowing pushes small units away from the bands the giants need; windows mend
        # what is left faster
        if breach <= TINY or worse or attempt == rounds - 1:
            break
        if deadline.remaining <= LAST_SECONDS:
            break
        outside = excess * np.maximum(np.abs(problem.target), TINY)  # back to the metric's units
        margin = np.minimum(margin + MARGIN_GROWTH * outside, MARGIN_LIMIT * width)
        budget_margin = min(
            budget_margin + MARGIN_GROWTH * over * (budget or 0.0), MARGIN_LIMIT * (budget or 0.0)
        )
        narrow_rows(problem, lp_model, margin, budget_margin)
        outcome = run(
            lp_model,
            settings,
            mip=False,
            time_limit=deadline.remaining,
            start_basis=basis,
            resume=True,
        )
        log("lp", outcome, len(lp_model.pairs), scope=f"bands narrowed ({attempt + 1})")
        if outcome.status != "optimal":
            break
        basis = LpBasis.capture(lp_model)
    return best_plan, best_breach


def resolve_with_giants_pinned(problem, lp_model, basis, settings, clock: Clock, log):
    """Pin the LP's split giants (pin_giants) and solve it again from ``basis`` within
    ``clock``, again while the re-solved LP splits other giants (at most PIN_ROUNDS times);
    (the pinned variables with their old upper bounds, the basis to go on from)."""
    pinned = []
    for _ in range(PIN_ROUNDS):
        more = pin_giants(problem, lp_model)
        if not more or clock.remaining <= LAST_SECONDS:
            break
        pinned += more
        outcome = run(
            lp_model,
            settings,
            mip=False,
            time_limit=clock.remaining,
            start_basis=basis,
            resume=True,
        )
        scope = f"split giants pinned ({len(more)} pairs closed)"
        log("lp", outcome, len(lp_model.pairs), scope=scope)
        if outcome.status != "optimal":
            break
        basis = LpBasis.capture(lp_model)
    return pinned, basis


def giant_units(problem) -> np.ndarray:
    """Units whose load on some metric is at least GIANT_BAND_SHARE of the median band width
    of that metric and GIANT_TIMES_TYPICAL times the median unit's: rounding such a split
    unit moves a band by most of its width, and small units are there to even it out."""
    if problem.pair_load is not None:
        return np.zeros(0, dtype=int)
    width = problem.upper - problem.lower
    giant = np.zeros(problem.n_units, dtype=bool)
    for m in range(problem.n_metrics):
        finite = width[m][np.isfinite(width[m])]
        if len(finite):
            load = problem.unit_load[m]
            typical = GIANT_TIMES_TYPICAL * float(np.median(load))
            giant |= (load >= GIANT_BAND_SHARE * float(np.median(finite))) & (load >= typical)
    return np.flatnonzero(giant)


def pin_giants(problem, lp_model: AssignmentModel) -> list[tuple[object, float | None]]:
    """Give every giant the LP splits to the rep holding its largest share: the other
    pairs of the giant get upper bound 0, so the LP re-solved around them moves the small
    units, which round easily, to make room. Returns (variable, its old upper bound) to undo.
    The pinned LP is only a guide for rounding; its value is no bound."""
    giants = giant_units(problem)
    if len(giants) == 0:
        return []
    rep, share = read_assignment(lp_model, problem.n_units)
    split = giants[share[giants] < INTEGRAL]
    if len(split) == 0:
        return []
    pairs = lp_model.pairs
    off = np.isin(pairs.unit, split) & (pairs.rep != rep[pairs.unit])
    pinned = []
    for index in np.flatnonzero(off).tolist():
        variable = lp_model.x[index]
        pinned.append((variable, variable.upBound))
        variable.upBound = 0.0
    return pinned


def narrow_rows(problem, model: AssignmentModel, margin: np.ndarray, budget_margin: float) -> None:
    """Set the band rows of a full model (no fixed units) to ``L + margin .. U - margin``
    and its budget row to ``B - budget_margin``, in place."""
    for (m, j), row in model.band_min.items():
        row.changeRHS(float(problem.lower[m, j] + margin[m, j]))
    for (m, j), row in model.band_max.items():
        row.changeRHS(float(problem.upper[m, j] - margin[m, j]))
    if model.budget is not None:
        model.budget.changeRHS(float(problem.max_moved_potential - budget_margin))
