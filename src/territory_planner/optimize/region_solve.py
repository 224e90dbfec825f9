"""Solving a geography-mode plan: LP bound, then MILP rounds with separator cuts until every
territory is one connected piece (the algebra is in contiguity.py).

The plan returned is always connected (checked on the region graph, not assumed), and its
bound is the better of the LP relaxation and the last MILP round's proven bound, both valid
for connected plans because the cuts are valid inequalities.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import SolverError
from .contiguity import (
    MAX_CUT_ROUNDS,
    BandFloors,
    Cut,
    _plan_of,
    adjacency_matrix,
    broken_reps,
    connect_rows,
    no_connected_plan,
    piece_reach_cuts,
    reach_rows,
    region_precheck,
    separator_cuts,
)
from .model import AssignmentModel, PairSet, build_assignment_model
from .pair_windows import pairs_polished
from .pairs import all_allowed_pairs, pairs_for, union_pairs
from .region_bound import PricedCosts, fix_by_reduced_cost, lifted_relaxation
from .region_mend import (
    LOOSE_GAP,
    cheaper_by_moves,
    connected_start,
    mend_round,
    piece_roots,
)
from .region_pairs import priced_relaxation
from .region_split import split_solve, splits
from .results import AssignmentResult, objective_of, relative_gap
from .rooted_flow import LazyFlows
from .settings import Clock, SolveSettings
from .solvers import run


@dataclass
class Rounds:
    """What the cut rounds reached: the best connected plan (or None), the best proven
    bound over all rounds (each is valid: cuts never remove a connected plan), the cuts
    added, and whether a round proved the model infeasible."""

    plan: np.ndarray | None
    bound: float
    cuts: int
    infeasible: bool = False


def cut_rows(model: AssignmentModel, problem, cuts: list) -> None:
    """Each cut as its rows: separator cuts by connect_rows, reach cuts by reach_rows."""
    connect_rows(model, problem, [cut for cut in cuts if isinstance(cut, Cut)])
    reach_rows(model, problem, [cut for cut in cuts if not isinstance(cut, Cut)])


def start_from(model: AssignmentModel, unit_rep: np.ndarray) -> bool:
    """A connected plan as the solver's start (it satisfies every cut), unless it uses a
    pair the model shut (a mend may leave a border window; PuLP refuses a start above a
    bound): then it stays the incumbent only. Returns whether it was handed over."""
    values = (unit_rep[model.pairs.unit] == model.pairs.rep).astype(float)
    if any(value and var.upBound == 0 for var, value in zip(model.x, values.tolist())):
        return False
    for var, value in zip(model.x, values.tolist()):
        var.setInitialValue(value)
    return True


def prepare_round(model, best, best_objective: float, lazy, priced) -> tuple[int, bool]:
    """Before a round: the best connected plan as its start (and its flows, ``lazy``), the
    pairs no cheaper plan uses fixed at 0 (``priced``); (how many are fixed, started)."""
    if best is None:
        return 0, False
    started = start_from(model, best)
    if lazy is not None and started:
        lazy.start(best)
    fixed = fix_by_reduced_cost(model, priced, best_objective) if priced is not None else 0
    return fixed, started


def cut_rounds(
    model: AssignmentModel,
    problem,
    graph,
    n_regions: int,
    settings: SolveSettings,
    clock: Clock,
    *,
    contiguous: bool,
    log: Callable[[dict], None],
    start: np.ndarray | None = None,
    homes: np.ndarray | None = None,
    proven: Callable[[float], float] = lambda bound: bound,
    pool: tuple = (),
    priced: PricedCosts | None = None,
) -> Rounds:
    """Solve, cut the pieces the plan has, solve again. Rounds first stop at LOOSE_GAP (a
    connected plan sooner); once one is found (or ``start``, a connected plan, is given)
    they go on at the gap asked for, started from the best connected plan, until a round's
    plan is connected and within that gap of ``proven(their bound)``, a bound for every
    plan (at ZIP scale: PricedRelaxation.combined_bound). With ``homes`` (ZIP scale) each rep whose
    territory a round breaks gets flow rows rooted at its home (rooted_flow.LazyFlows)
    instead of separator cuts, and a disconnected plan is first mended by the rooted flow
    over the pairs near it (rooted_repair); the rounds' bound then counts only up to the
    first rooted rep. ``pool``: cuts already found (valid for every connected plan), rows
    of the model from the first round. ``priced``: an LP's reduced costs; each round the
    pairs no plan cheaper than the best connected one can use are fixed at 0
    (fix_by_reduced_cost), so a round's bound holds for plans cheaper than it, and the
    bound returned is capped at its cost. Every connected plan (the start, a round's, a
    mended one) is first made cheaper by border moves (cheaper_by_moves): a better
    incumbent fixes more pairs and prunes more of the next round's tree."""
    seen: set = set(pool)
    cut_rows(model, problem, list(pool))
    moving = (model, problem, graph, n_regions)
    bound = -math.inf
    best = start if start is None or not contiguous else cheaper_by_moves(*moving, start, clock)
    best_objective = math.inf if best is None else objective_of(problem, best)
    gap = max(settings.gap, LOOSE_GAP) if contiguous and start is None else settings.gap
    lazy = LazyFlows(model, problem, graph, homes) if contiguous and homes is not None else None
    # reach cuts hold only where every band is hard: an elastic model's slack may leave one
    floors = BandFloors(problem, model.pairs, n_regions) if not model.slack else None

    def cap(bound: float) -> float:
        # with pairs fixed a round's bound holds only for plans cheaper than the best one
        return min(bound, best_objective) if priced is not None else bound

    for round_number in range(1, MAX_CUT_ROUNDS + 1):
        if best is not None and not takes_start(model, problem.n_reps, lazy, best):
            model, seen, lazy, floors = rebuilt_for_start(
                model, problem, graph, n_regions, best, seen, lazy
            )
            moving = (model, problem, graph, n_regions)
            log({"phase": "regions_model_rebuilt", "pairs": len(model.pairs)})
        fixed, started = prepare_round(model, best, best_objective, lazy, priced)
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=clock.remaining,
            gap=gap,
            warm_start=started,
        )
        entry = {"phase": "regions_milp", "round": round_number, "status": outcome.status}
        entry.update(objective=outcome.objective, bound=outcome.bound, cuts=len(seen), gap=gap)
        entry["fixed_pairs"] = fixed
        entry["seconds"] = round(clock.elapsed, 3)
        if outcome.bound is not None and (lazy is None or not lazy.roots):
            bound = max(bound, outcome.bound)  # rooted rows restrict: their bound is no bound
        if not outcome.has_solution:
            log(entry)
            infeasible = outcome.status == "infeasible" and (lazy is None or not lazy.roots)
            if fixed and infeasible:
                # only the fixed pairs were in the way: no connected plan is cheaper than best
                return Rounds(best, best_objective, len(seen))
            return Rounds(best, cap(bound), len(seen), infeasible=infeasible)
        unit_rep = _plan_of(model, problem.n_units)
        fresh, broken, rooted = (
            round_rows(graph, unit_rep, n_regions, problem.n_reps, lazy, seen, floors)
            if contiguous
            else ([], 0, 0)
        )
        entry["rooted_reps"] = len(lazy.roots) if lazy else 0
        entry["disconnected_territories"] = broken
        log(entry)
        if broken == 0:
            unit_rep = cheaper_by_moves(*moving, unit_rep, clock) if contiguous else unit_rep
            objective = objective_of(problem, unit_rep)
            if objective < best_objective:
                best, best_objective = unit_rep, objective
            if gap <= settings.gap or relative_gap(best_objective, proven(bound)) <= settings.gap:
                break
            gap = settings.gap
        elif not fresh and not rooted:
            break
        else:
            cut_rows(model, problem, fresh)
            # a mend by moves within the gap asked for of the bound ends the hunt at once
            enough = proven(bound) / (1.0 - settings.gap) if settings.gap < 1 else math.inf
            repaired = mend_round(
                model,
                problem,
                graph,
                n_regions,
                unit_rep,
                homes,
                settings,
                clock,
                seen,
                best,
                enough,
            )
            log({"phase": "regions_mend", "found": repaired is not None, "seconds": clock.elapsed})
            if repaired is not None and objective_of(problem, repaired) < best_objective:
                best, best_objective = repaired, objective_of(problem, repaired)
                log({"phase": "regions_repair", "objective": best_objective, "cuts": len(seen)})
                if relative_gap(best_objective, proven(bound)) <= settings.gap:
                    break
                gap = settings.gap
        if clock.remaining <= 0.05:
            break
    return Rounds(best, cap(bound), len(seen))


def takes_start(model: AssignmentModel, n_reps: int, lazy, plan: np.ndarray) -> bool:
    """``plan`` is a start the rounds' model accepts: each of its (unit, rep) pairs is a
    pair of the model, and each rooted rep holds its root."""
    keys = model.pairs.unit.astype(np.int64) * n_reps + model.pairs.rep
    if not np.isin(np.arange(len(plan), dtype=np.int64) * n_reps + plan, keys).all():
        return False
    return lazy is None or all(plan[root] == j for j, root in lazy.roots.items())


def rebuilt_for_start(model, problem, graph, n_regions: int, plan, seen: set, lazy):
    """The rounds' model built again so that ``plan``, a connected plan mended by moves
    (band_repair.py), is a start it accepts; without it the next round starts from nothing
    (on national districts it then ran 48-247 s without a solution). Two things may bar
    the plan: pairs the candidates lack (the moves may use any allowed pair), and a rooted
    rep whose home the round's plan, drawn before the rep was rooted, gave to another rep.
    So the model is built over its pairs and the plan's, and each rooted rep is rooted
    again in its territory of the plan (piece_roots: its home when it holds it). Kept: the
    separator cuts (they hold for every connected plan, whatever its pairs). Dropped: the
    reach cuts, which count loads over the old pairs only and may not hold over the new;
    later rounds find them again. The model's bound holds for plans over the grown pairs
    (while no rep is rooted), and PricedRelaxation.combined_bound prices the pairs still
    left out as before. Returns the model, the cuts it holds, its LazyFlows (or None) and
    its BandFloors (or None)."""
    pairs = union_pairs(problem, model.pairs, pairs_for(problem, np.arange(len(plan)), plan))
    rebuilt = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=False, name="regions"
    )
    kept = {cut for cut in seen if isinstance(cut, Cut)}
    cut_rows(rebuilt, problem, list(kept))
    rooted = None
    if lazy is not None:
        roots, _ = piece_roots(graph, plan, n_regions, lazy.homes)
        rooted = LazyFlows(rebuilt, problem, graph, roots)
        rooted.add(list(lazy.roots))
    floors = BandFloors(problem, rebuilt.pairs, n_regions) if not rebuilt.slack else None
    return rebuilt, kept, rooted, floors


def round_rows(graph, plan, n_regions: int, n_reps: int, lazy, seen: set, floors=None):
    """What a round's plan adds: the reps it breaks rooted (``lazy``, ZIP scale), separator
    cuts and (with ``floors``) reach cuts not ``seen`` yet for the other broken territories
    (now seen). Returns the fresh cuts, the number of broken territories and of reps newly
    rooted."""
    rooted = lazy.add(broken_reps(graph, plan, n_regions, n_reps)) if lazy else 0
    skip = frozenset(lazy.roots) if lazy else frozenset()
    cuts, broken = separator_cuts(graph, plan, n_regions, n_reps, skip)
    if floors is not None:
        reach = [
            cut for cut in piece_reach_cuts(graph, plan, n_regions, floors) if cut.rep not in skip
        ]
        reached = {cut.rep for cut in reach}
        cuts = [cut for cut in cuts if plan[cut.a] not in reached] + reach
    fresh = [cut for cut in cuts if cut not in seen]
    seen.update(fresh)
    return fresh, broken, rooted


def widened_for_closing(rounds: Rounds, relaxation, problem, settings):
    """The relaxation with more candidates when the left-out pairs, not the rounds, hold the
    bound below the gap asked for: every left-out pair that a plan within that gap could use
    (rc < (1 - gap) * objective - LP, PricedRelaxation.pairs_that_could_beat). Rounds over
    them prove a bound for every plan that the pairs still left out cannot undercut. None
    when the bound is not the left-out pairs' doing, or when more pairs than the candidates
    would join (a weak LP at ZIP scale would turn the rounds into the model over all pairs).
    """
    objective = objective_of(problem, rounds.plan)
    if relative_gap(objective, relaxation.combined_bound(rounds.bound)) <= settings.gap:
        return None
    if relaxation.left_out_floor() >= min(rounds.bound, objective):
        return None
    new, rest = relaxation.pairs_that_could_beat(problem, (1.0 - settings.gap) * objective)
    if new is None or len(new) > len(relaxation.pairs):
        return None
    pairs = PairSet.concat([relaxation.pairs, new])
    return dataclasses.replace(relaxation, pairs=pairs, smallest_left_out=rest)


def rounds_over(
    pairs,
    problem,
    graph,
    n_regions,
    settings,
    clock,
    contiguous,
    phases,
    start=None,
    homes=None,
    proven=lambda bound: bound,
    pool=(),
    priced=None,
):
    """The cut rounds on the assignment MILP over ``pairs``, ``pool`` cuts in from the
    start, pairs fixed by ``priced`` reduced costs."""
    model = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=False, name="regions"
    )
    return cut_rounds(
        model,
        problem,
        graph,
        n_regions,
        settings,
        clock,
        contiguous=contiguous,
        log=phases.append,
        start=start,
        homes=homes,
        proven=proven,
        pool=pool,
        priced=priced,
    )


def solve_regions(
    problem,
    neighbours: list[np.ndarray],
    n_regions: int,
    settings: SolveSettings,
    *,
    contiguous: bool = True,
    homes: np.ndarray | None = None,
    progress: Callable[[str], None] | None = None,
    start: np.ndarray | None = None,
    seed=None,
    polish: bool = True,
) -> AssignmentResult:
    """A connected plan with a proven bound and gap (module docstring).

    ``start``: a connected plan within every rule of ``problem``, known to the caller (a
    re-balance's step 2 starts from step 1's plan); the rounds start from it instead of the
    rooted flow. ``seed``: a problem over the same units and rules whose objective the rooted
    flow solves instead of ``problem``'s (a re-balance seeds its disruption step from the
    travel objective, whose flow model HiGHS solves at once where the ties of moved
    potential stall it); its plan meets every rule of ``problem``, so it is a valid start.
    ``polish``: pair windows (pair_windows.py) when the plan ends short of the gap; off for
    the districts of a split map, whose joined plan gets them over the whole map instead
    (a district that spent its share on them would take it from the districts after it)."""
    from .diagnose import explain_infeasibility, precheck
    from .region_infeasible import explain_no_plan

    say = progress or (lambda message: None)
    clock = Clock.for_settings(settings)
    phases: list[dict] = []
    graph = adjacency_matrix(neighbours, n_regions)
    precheck(problem)
    if contiguous:
        region_precheck(problem, graph, n_regions)
    relaxation = priced_relaxation(problem, settings, clock, phases.append)
    pairs = relaxation.pairs
    if relaxation.status == "infeasible":
        explain_infeasibility(problem, all_allowed_pairs(problem), settings)
    if relaxation.status != "optimal":
        raise SolverError(
            f"the LP relaxation, which gives the proven bound, was not solved "
            f"({relaxation.status}) within the time limit of {settings.time_limit:g} s; "
            "raise --time-limit"
        )
    say(
        f"LP bound {relaxation.bound:,.1f} ({len(pairs):,} of {relaxation.total_allowed:,} "
        f"pairs, {n_regions:,} regions)"
    )
    if splits(problem, settings, start):
        plan = split_solve(
            problem,
            graph,
            n_regions,
            homes,
            settings,
            clock,
            relaxation,
            contiguous=contiguous,
            solve=solve_regions,
            phases=phases,
            say=say,
        )
        plan = pairs_polished(
            problem,
            graph,
            n_regions,
            plan,
            relaxation.bound,
            homes,
            settings,
            clock,
            phases,
            contiguous,
        )
        result = connected_result(problem, plan, relaxation.bound, 0, settings, clock, phases, say)
        return dataclasses.replace(result, total_pairs=relaxation.total_allowed)
    pool: list = []
    priced = None
    if contiguous and not relaxation.restricted:
        relaxation, pool, priced = lifted_relaxation(
            relaxation, problem, graph, n_regions, settings, clock, phases.append
        )
        say(f"LP bound with {len(pool):,} reach cuts {relaxation.bound:,.1f}")
    # ZIP scale: the flow over every candidate is too big; it mends round plans instead
    mend_homes = homes if contiguous and relaxation.restricted else None
    if start is None and contiguous and not relaxation.restricted:
        start = connected_start(
            problem, pairs, graph, neighbours, n_regions, homes, seed, settings, clock, phases, say
        )

    def rounds_on(pairs, start=None, mend_homes=None):
        # the relaxation is read when called: the fallback below replaces it
        return rounds_over(
            pairs,
            problem,
            graph,
            n_regions,
            settings,
            clock,
            contiguous,
            phases,
            start,
            mend_homes,
            relaxation.combined_bound,
            pool,
            priced,
        )

    rounds = rounds_on(pairs, start, mend_homes)
    if rounds.infeasible and rounds.plan is None and relaxation.restricted:
        # the candidates, not the bands, may be what no connected plan fits: all pairs
        pairs = all_allowed_pairs(problem)
        relaxation = dataclasses.replace(relaxation, pairs=pairs)
        rounds = rounds_on(pairs)
    if rounds.infeasible and rounds.plan is None:
        explain_no_plan(problem, pairs, graph, n_regions, settings, clock, contiguous)
    proven_before = -math.inf  # a bound proven over candidates that were later widened
    widened = (
        None if rounds.plan is None else widened_for_closing(rounds, relaxation, problem, settings)
    )
    if widened is not None:
        proven_before = relaxation.combined_bound(rounds.bound)
        relaxation, pairs = widened, widened.pairs
        say(f"pricing: {len(pairs):,} candidate pairs after the plan, rounds again")
        again = rounds_on(pairs, rounds.plan, mend_homes)
        if again.plan is not None and objective_of(problem, again.plan) < objective_of(
            problem, rounds.plan
        ):
            rounds = dataclasses.replace(again, cuts=rounds.cuts + again.cuts)
        else:
            rounds = dataclasses.replace(rounds, bound=again.bound, cuts=rounds.cuts + again.cuts)
    plan = rounds.plan
    if plan is None:
        raise SolverError(no_connected_plan(settings, rounds.cuts, relaxation.bound, phases))
    bound = max(relaxation.combined_bound(rounds.bound), proven_before)
    polished = contiguous and polish
    plan = pairs_polished(
        problem, graph, n_regions, plan, bound, homes, settings, clock, phases, polished
    )
    result = connected_result(problem, plan, bound, rounds.cuts, settings, clock, phases, say)
    return dataclasses.replace(
        result, candidate_pairs=len(pairs), total_pairs=relaxation.total_allowed
    )


def connected_result(problem, plan, bound, cuts, settings, clock, phases, say) -> AssignmentResult:
    """The result of a connected ``plan`` with the proven ``bound`` (capped at its cost)."""
    objective = objective_of(problem, plan)
    bound = min(bound, objective)
    gap = relative_gap(objective, bound)
    status = (
        "optimal" if gap <= 1e-6 else ("within_gap_target" if gap <= settings.gap else "time_limit")
    )
    say(f"connected plan: objective {objective:,.1f}, gap {gap:.3%}, {cuts} cuts")
    return AssignmentResult(
        unit_rep=plan,
        objective=objective,
        lower_bound=bound,
        gap=gap,
        status=status,
        seconds=clock.elapsed,
        phases=phases,
    )
