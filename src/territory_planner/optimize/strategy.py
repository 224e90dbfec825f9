"""How a plan is solved fast and honestly (DESIGN.md section 4).

1. **Candidates.** Each unit may go only to its ``k`` cheapest allowed reps plus its current
   owner. The rules (segment, region, distance, locks) are applied first, so a candidate set
   never contains a forbidden pair.
2. **LP relaxation with pricing.** Solve the relaxation over the candidates. Its duals price
   every pair left out: ``rc[u, j] = c[u, j] - pi_once[u] - sum_m a[m, u, j] (pi_min[m, j] +
   pi_max[m, j]) - p[u, j] pi_budget``. Pairs with negative reduced cost join and the LP is
   solved again, until none is left: the LP value is then the LP optimum over *all* pairs, a
   proven lower bound for the full problem. If the restricted LP is infeasible, ``k`` is
   widened by half (up to every allowed pair), so sparsity never loses a feasible plan.
3. **Fix and finish.** Units the LP assigns integrally (nearly all) are fixed; a small MILP
   assigns the fractional rest within the bands left over. If that MILP cannot close, the
   units of every rep the fractional units touch are released too, then everything.
4. **Polish.** While the gap to the bound exceeds the target and time remains, the MILP over
   all candidates is solved warm-started from the plan so far.

The bound reported is never an estimate: it is the priced LP optimum, or, when the polish MILP
proves more, ``min(MILP bound over the candidates, LP bound + smallest reduced cost left
out)``, which is valid because any plan that uses a left-out pair costs at least
``LP bound + its reduced cost`` (linear-programming duality).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pulp

from ..errors import SolverError
from .model import AssignmentModel, PairSet, build_assignment_model
from .solvers import LpBasis, SolveOutcome, make_solver, translate_status

INTEGRAL = 1.0 - 1e-6
TINY = 1e-9


@dataclass
class SolveSettings:
    solver: str = "highs"
    time_limit: float = 60.0
    gap: float = 0.005
    threads: int = 1
    seed: int = 0
    msg: bool = False
    candidates: int = 10          # k cheapest reps per unit before pricing
    full_model_pairs: int = 20000  # at or below this many pairs, skip sparsification
    started: float | None = None   # perf_counter() when the time limit began (default: now)

    @classmethod
    def from_scenario(cls, solver_settings, **overrides) -> SolveSettings:
        values = dict(solver=solver_settings.name, time_limit=solver_settings.time_limit,
                      gap=solver_settings.gap, threads=solver_settings.threads,
                      seed=solver_settings.seed, msg=solver_settings.msg)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class AssignmentResult:
    """A solved assignment: rep position per unit, with its proven bound."""

    unit_rep: np.ndarray
    objective: float
    lower_bound: float
    gap: float
    status: str
    seconds: float
    phases: list[dict] = field(default_factory=list)
    candidate_pairs: int = 0
    total_pairs: int = 0


def relative_gap(objective: float, bound: float) -> float:
    """DESIGN: gap = (objective - lower_bound) / max(|objective|, tiny), never negative."""
    return max(0.0, (objective - bound) / max(abs(objective), TINY))


class _Clock:
    """Seconds left of the time limit, counted from ``start`` (the caller's, when the caller
    spent part of the limit before the solve began, e.g. building the problem)."""

    def __init__(self, limit: float, start: float | None = None):
        self.start = time.perf_counter() if start is None else start
        self.limit = limit

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def remaining(self) -> float:
        return max(0.0, self.limit - self.elapsed)


# ------------------------------------------------------------------------- pair selection

def pairs_for(problem, units: np.ndarray, reps: np.ndarray) -> PairSet:
    """PairSet for explicit (unit, rep) positions, priced by the problem's oracles."""
    if len(units) == 0:
        return PairSet(units.astype(int), reps.astype(int), np.zeros(0),
                       np.zeros((problem.n_metrics, 0)), np.zeros(0))
    order = np.lexsort((reps, units))
    units, reps = units[order], reps[order]
    cost = np.empty(len(units))
    load = np.empty((problem.n_metrics, len(units)))
    moved = np.empty(len(units))
    block_units, inverse = np.unique(units, return_inverse=True)
    for start in range(0, len(block_units), 4096):
        chunk = block_units[start:start + 4096]
        rows = (inverse >= start) & (inverse < start + len(chunk))
        local = inverse[rows] - start
        c = problem.cost_block(chunk)
        cost[rows] = c[local, reps[rows]]
        ld = problem.load_block(chunk)
        load[:, rows] = ld[:, local, reps[rows]]
        mv = problem.moved_potential_block(chunk)
        moved[rows] = mv[local, reps[rows]]
    return PairSet(units.astype(int), reps.astype(int), cost, load, moved)


def candidate_pairs(problem, k: int, rep_side: float = 3.0) -> tuple[PairSet, int]:
    """Candidate pairs and the number of allowed pairs.

    Account side: each unit's k cheapest allowed reps plus its current owners. Rep side: each
    rep's ``rep_side`` x (its fair share of units) cheapest allowed units, so a rep in a thin
    area still sees enough accounts to fill its band and the restricted LP stays feasible.
    """
    unit_list, rep_list = [], []
    total_allowed = 0
    share = problem.target[0] / max(problem.target[0].sum(), TINY) if problem.n_metrics else \
        np.full(problem.n_reps, 1.0 / max(problem.n_reps, 1))
    per_rep = np.minimum(problem.n_units, np.ceil(rep_side * share * problem.n_units) + 10)
    per_rep = per_rep.astype(int)
    widest = int(per_rep.max()) if problem.n_reps else 0
    rep_best_cost: list[np.ndarray] = []
    rep_best_unit: list[np.ndarray] = []
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        total_allowed += int(allowed.sum())
        cost = np.where(allowed, problem.cost_block(units), np.inf)
        kk = min(k, problem.n_reps)
        if kk < problem.n_reps:
            nearest = np.argpartition(cost, kk - 1, axis=1)[:, :kk]
        else:
            nearest = np.tile(np.arange(problem.n_reps), (len(units), 1))
        chosen = np.zeros_like(allowed)
        np.put_along_axis(chosen, nearest, True, axis=1)
        for row, u in enumerate(units):
            owners = problem.current_rep[problem.unit_members[u]]
            chosen[row, owners[owners >= 0]] = True
        chosen &= allowed
        r, c = np.nonzero(chosen)
        unit_list.append(units[r])
        rep_list.append(c)
        if rep_side > 0 and widest:
            take = min(widest, len(units))
            top = np.argpartition(cost, take - 1, axis=0)[:take] if take < len(units) else \
                np.tile(np.arange(len(units))[:, None], (1, problem.n_reps))
            rep_best_cost.append(np.take_along_axis(cost, top, axis=0))
            rep_best_unit.append(units[top])
    if rep_best_cost:
        costs = np.vstack(rep_best_cost)
        owners = np.vstack(rep_best_unit)
        order = np.argsort(costs, axis=0, kind="stable")
        for j in range(problem.n_reps):
            best = order[: per_rep[j], j]
            best = best[np.isfinite(costs[best, j])]
            unit_list.append(owners[best, j])
            rep_list.append(np.full(len(best), j))
    units = np.concatenate(unit_list) if unit_list else np.zeros(0, dtype=int)
    reps = np.concatenate(rep_list) if rep_list else np.zeros(0, dtype=int)
    if len(units):
        unique = np.unique(units.astype(np.int64) * problem.n_reps + reps)
        units, reps = unique // problem.n_reps, unique % problem.n_reps
    return pairs_for(problem, units, reps), total_allowed


def all_allowed_pairs(problem) -> PairSet:
    unit_list, rep_list = [], []
    for units in problem.unit_blocks():
        r, c = np.nonzero(problem.allowed_block(units))
        unit_list.append(units[r])
        rep_list.append(c)
    return pairs_for(problem, np.concatenate(unit_list), np.concatenate(rep_list))


# ------------------------------------------------------------------------- solving

def run(model: AssignmentModel, settings: SolveSettings, *, mip: bool, time_limit: float,
        gap: float | None = None, gap_abs: float | None = None,
        warm_start: bool = False, start_basis=None) -> SolveOutcome:
    """Solve a built model with a fresh solver (the solver is an argument, built here).

    PuLP hands the model to HiGHS column by column before HiGHS's own clock starts; that
    hand-over (about 10 microseconds a variable) is taken off the limit so the phase ends
    when the caller's clock says it should.
    """
    handover = (2e-5 if warm_start else 1e-5) * model.lp.numVariables() + 0.05  # a start: a pass
    started = time.perf_counter()
    solver = make_solver(settings.solver, mip=mip, time_limit=max(time_limit - handover, 0.05),
                         gap=gap if mip else None, gap_abs=gap_abs if mip else None,
                         threads=settings.threads, seed=settings.seed,
                         msg=settings.msg, warm_start=warm_start, start_basis=start_basis)
    try:
        model.lp.solve(solver)
    except pulp.PulpSolverError as error:
        raise SolverError(f"the solver failed: {error}") from error
    outcome = translate_status(model.lp, solver, time.perf_counter() - started, is_mip=mip)
    remaining = time_limit - (time.perf_counter() - started)
    if outcome.status == "inconsistent" and warm_start and remaining > handover:
        return run(model, settings, mip=mip, time_limit=remaining, gap=gap, gap_abs=gap_abs)
    return outcome


def _duals(problem, model: AssignmentModel) -> tuple[np.ndarray, np.ndarray, float]:
    """(pi_once per unit, pi_min + pi_max per metric and rep, pi_budget) of a solved LP."""
    pi_once = np.zeros(problem.n_units)
    for u, row in model.assign_once.items():
        pi_once[u] = row.pi or 0.0
    pi_band = np.zeros((problem.n_metrics, problem.n_reps))
    for (m, j), row in model.band_min.items():
        pi_band[m, j] += row.pi or 0.0
    for (m, j), row in model.band_max.items():
        pi_band[m, j] += row.pi or 0.0
    pi_budget = (model.budget.pi or 0.0) if model.budget is not None else 0.0
    return pi_once, pi_band, pi_budget


def reduced_costs(problem, model: AssignmentModel, pairs: PairSet) -> np.ndarray:
    """rc[u, j] of arbitrary pairs from the LP duals of ``model`` (see module docstring)."""
    pi_once, pi_band, pi_budget = _duals(problem, model)
    rc = pairs.cost - pi_once[pairs.unit] - pairs.moved * pi_budget
    for m in range(problem.n_metrics):
        rc -= pairs.load[m] * pi_band[m, pairs.rep]
    return rc


def scan_left_out(problem, pairs: PairSet, pi_once: np.ndarray, pi_band: np.ndarray,
                  pi_budget: float, per_unit: int, threshold: float | None = None
                  ) -> tuple[PairSet | None, float, float, float]:
    """Price every allowed pair outside ``pairs`` with the duals of a solved LP.

    ``rc[u, j] = c[u, j] - pi_once[u] - sum_m a[m, u, j] pi_band[m, j] - p[u, j] pi_budget``.
    Picks the pairs with ``rc`` below ``threshold`` (default: negative beyond a tolerance
    relative to the block's costs), at most ``per_unit`` a unit, cheapest first. Returns the
    picked pairs (or None), the Lagrangian correction ``sum_u min(0, min_j rc[u, j])``, the
    smallest reduced cost over all left-out pairs and the smallest over those not picked.
    Shared by the plan strategy and the location model, whose duals differ but whose
    columns are priced the same way.
    """
    picked: list[PairSet] = []
    correction = 0.0
    smallest = smallest_unpicked = math.inf
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        inside = np.zeros_like(allowed)
        mask = (pairs.unit >= units[0]) & (pairs.unit <= units[-1])
        inside[pairs.unit[mask] - units[0], pairs.rep[mask]] = True
        outside = allowed & ~inside
        if not outside.any():
            continue
        cost = problem.cost_block(units)
        rc = cost - pi_once[units][:, None]
        loads = problem.load_block(units)
        for m in range(problem.n_metrics):
            rc = rc - loads[m] * pi_band[m][None, :]
        if pi_budget:
            rc = rc - problem.moved_potential_block(units) * pi_budget
        rc = np.where(outside, rc, np.inf)
        row_min = rc.min(axis=1)
        smallest = min(smallest, float(row_min.min()))
        correction += float(np.minimum(row_min, 0.0)[np.isfinite(row_min)].sum())
        limit = threshold if threshold is not None else \
            -1e-9 * max(1.0, float(np.abs(cost).max(initial=0.0)))
        below = rc < limit
        if below.any():
            take = min(per_unit, problem.n_reps)
            best = np.argsort(rc, axis=1, kind="stable")[:, :take]
            pick = np.zeros_like(below)
            np.put_along_axis(pick, best, True, axis=1)
            pick &= below
            r, c = np.nonzero(pick)
            picked.append(pairs_for(problem, units[r], c))
            rc = np.where(pick, np.inf, rc)
        smallest_unpicked = min(smallest_unpicked, float(rc.min()))
    new = PairSet.concat(picked) if picked else None
    return new, correction, smallest, smallest_unpicked


def _price_out(problem, model: AssignmentModel,
               per_unit: int) -> tuple[PairSet | None, float, float]:
    """The improving left-out pairs of the assignment LP, the Lagrangian correction and the
    smallest reduced cost left out (see scan_left_out)."""
    pi_once, pi_band, pi_budget = _duals(problem, model)
    new, correction, smallest, _ = scan_left_out(problem, model.pairs, pi_once, pi_band,
                                                 pi_budget, per_unit)
    return new, correction, smallest


def _assignment_from(model: AssignmentModel, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """(rep of each unit by largest x, that largest x) over the units in the model."""
    values = model.values()
    rep = np.full(n_units, -1, dtype=int)
    best = np.full(n_units, -1.0)
    pairs = model.pairs
    order = np.lexsort((-values, pairs.unit))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pairs.unit[order][1:] != pairs.unit[order][:-1]
    chosen = order[first]
    rep[pairs.unit[chosen]] = pairs.rep[chosen]
    best[pairs.unit[chosen]] = values[chosen]
    return rep, best


def _cost_scale(problem, pairs: PairSet) -> float:
    """Sum over units of their dearest candidate pair: no plan costs more than this."""
    if len(pairs) == 0:
        return 1.0
    dearest = np.zeros(problem.n_units)
    np.maximum.at(dearest, pairs.unit, np.abs(pairs.cost))
    return max(1.0, float(dearest.sum()))


def _relative_slack(problem, model: AssignmentModel) -> float:
    """Total slack of an elastic model, each term as a share of its own target."""
    total = 0.0
    for (kind, m, j), var in model.slack.items():
        scale = problem.max_moved_potential if kind == "over_budget" else problem.target[m, j]
        total += (var.varValue or 0.0) / max(abs(float(scale or 1.0)), 1e-9)
    return total


def _finish_by_components(problem, lp_model: AssignmentModel, rep: np.ndarray,
                          fractional: np.ndarray, settings: SolveSettings, clock: _Clock,
                          lp_bound: float, log) -> np.ndarray | None:
    """Fix-and-finish split into independent pieces.

    A fractional unit is shared by a few reps in the LP. Reps linked through shared units
    form a component; the units fixed to other reps cannot change any of its bands. So each
    component is a small MILP of its own: its fractional units, plus the boundary units of
    its reps whose cheapest alternative (by LP reduced cost) is another rep of the same
    component, over pairs between those units and those reps only. Pieces touch disjoint
    reps, so their answers combine into one plan that holds every band. None when a piece
    cannot close (the caller then falls back to the global release rounds).
    """
    pairs, values = lp_model.pairs, lp_model.values()
    parent = np.arange(problem.n_reps)

    def find(j: int) -> int:
        while parent[j] != j:
            parent[j] = parent[parent[j]]
            j = parent[j]
        return j

    is_fractional = np.zeros(problem.n_units, dtype=bool)
    is_fractional[fractional] = True
    support = is_fractional[pairs.unit] & (values > 1e-6)
    for _, positions in _unit_groups(pairs.unit[support], np.flatnonzero(support)):
        reps_of_unit = pairs.rep[positions]
        for j in reps_of_unit[1:]:
            parent[find(int(j))] = find(int(reps_of_unit[0]))
    component = _split_large(problem, np.array([find(j) for j in range(problem.n_reps)]))
    rc = reduced_costs(problem, lp_model, pairs)
    same = (component[pairs.rep] == component[rep[pairs.unit]]) & (pairs.rep != rep[pairs.unit])
    alternative = np.full(problem.n_units, np.inf)
    np.minimum.at(alternative, pairs.unit[same], rc[same])
    plan = rep.copy()
    # every piece a fractional unit touches: one that loses a unit's share must rebalance too
    roots = np.unique(component[pairs.rep[support]]) if support.any() else np.zeros(0, int)
    # the pieces may use half the time left; the global rounds keep the rest as a fallback
    budget = 0.5 * clock.remaining
    deadline = clock.elapsed + budget

    def solve_piece(in_piece: np.ndarray, per_rep: int, seconds: float) -> bool:
        """MILP over the reps with ``in_piece[j]``; True when it found a plan."""
        reps = np.flatnonzero(in_piece)
        own = fractional[in_piece[rep[fractional]]]
        members = np.flatnonzero(in_piece[rep] & ~is_fractional & np.isfinite(alternative))
        members = members[np.argsort(alternative[members], kind="stable")]
        free = np.union1d(own, members[: per_rep * len(reps)])
        keep = np.isin(pairs.unit, free) & in_piece[pairs.rep]
        fixed = np.setdiff1d(np.arange(problem.n_units), free)
        fixed = fixed[in_piece[plan[fixed]]]
        fixed_load = np.zeros((problem.n_metrics, problem.n_reps))
        if len(fixed):
            fixed_pairs = pairs_for(problem, fixed, plan[fixed])
            for m in range(problem.n_metrics):
                np.add.at(fixed_load[m], fixed_pairs.rep, fixed_pairs.load[m])
        model = build_assignment_model(problem, pairs.subset(keep), free, relax=False,
                                       fixed_load=fixed_load, reps=reps, name="piece")
        share = len(reps) / max(problem.n_reps, 1)  # its part of half the gap budget
        outcome = run(model, settings, mip=True, time_limit=seconds, gap=1e-4,
                      gap_abs=0.5 * settings.gap * abs(lp_bound) * share)
        log("finish", outcome, len(model.pairs), free_units=int(len(free)),
            scope=f"piece of {len(reps)} reps")
        if outcome.has_solution:
            sub_rep, _ = _assignment_from(model, problem.n_units)
            plan[free] = sub_rep[free]
        return outcome.has_solution

    failed = np.zeros(problem.n_reps, dtype=bool)
    for root in roots.tolist():
        in_piece = component == root
        left = deadline - clock.elapsed
        if left <= 0.2:
            return None
        share = in_piece.sum() / max(problem.n_reps, 1)
        if not solve_piece(in_piece, 15, min(left, max(min(10.0, budget / 4),
                                                      2.0 * share * budget))):
            failed |= in_piece
    if failed.any():
        # pieces that could not close are tried once more together, with more boundary
        left = deadline - clock.elapsed
        if left <= 0.2 or not solve_piece(failed, 60, left):
            return None
    return plan


def _split_large(problem, component: np.ndarray, most: int = 25) -> np.ndarray:
    """Cut components of more than ``most`` reps into compact groups of reps.

    On a large instance the fractional units can chain almost every rep into one component,
    whose MILP is as hard as the whole problem. Cutting it by geography (halving along the
    longer side of the reps' bounding box, recursively) keeps every piece small; a unit
    shared across a cut goes to the piece of its largest LP share, and the piece that loses
    the share rebalances with its own boundary units. Without coordinates nothing is cut.
    """
    if not problem.is_geographic:
        return component
    labels = component.copy()
    next_label = int(component.max()) + 1 if len(component) else 0
    stack = [np.flatnonzero(component == c) for c in np.unique(component)]
    while stack:
        reps = stack.pop()
        if len(reps) <= most:
            continue
        lat, lon = problem.rep_lat[reps], problem.rep_lon[reps]
        axis = lat if np.ptp(lat) >= np.ptp(lon) * np.cos(np.radians(lat.mean())) else lon
        order = reps[np.argsort(axis, kind="stable")]
        half = len(order) // 2
        labels[order[half:]] = next_label
        next_label += 1
        stack.extend([order[:half], order[half:]])
    return labels


def _unit_groups(units: np.ndarray, positions: np.ndarray):
    """(unit, its positions) for each unit present, positions grouped by unit."""
    order = np.argsort(units, kind="stable")
    units, positions = units[order], positions[order]
    cuts = np.flatnonzero(np.diff(units)) + 1
    for chunk in np.split(np.arange(len(units)), cuts):
        if len(chunk):
            yield int(units[chunk[0]]), positions[chunk]


def _release_rounds(problem, lp_model: AssignmentModel, rep: np.ndarray,
                    fractional: np.ndarray):
    """Growing sets of units to re-optimise after the LP: the fractional ones first, then
    those whose cheapest alternative rep (by LP reduced cost) is closest to free, i.e. the
    territory boundaries where a swap restores a band at the least cost."""
    yield "fractional units", fractional
    pairs = lp_model.pairs
    rc = reduced_costs(problem, lp_model, pairs)
    alternative = np.full(problem.n_units, np.inf)
    other = pairs.rep != rep[pairs.unit]
    np.minimum.at(alternative, pairs.unit[other], rc[other])
    alternative[fractional] = -np.inf
    order = np.argsort(alternative, kind="stable")
    for share in (0.05, 0.2):
        size = max(len(fractional) + 1, int(share * problem.n_units))
        if size >= problem.n_units:
            break
        yield f"fractional + {share:.0%} boundary units", np.sort(order[:size])
    yield "all units", np.arange(problem.n_units)


def _restricted_model(problem, pairs: PairSet, base: np.ndarray, free: np.ndarray,
                      name: str) -> AssignmentModel:
    """MILP over the ``free`` units; every other unit stays with its rep in ``base`` and its
    load and moved potential shift the bands and the budget."""
    fixed = np.setdiff1d(np.arange(problem.n_units), free)
    fixed_load = np.zeros((problem.n_metrics, problem.n_reps))
    fixed_moved = 0.0
    if len(fixed):
        fixed_pairs = pairs_for(problem, fixed, base[fixed])
        for m in range(problem.n_metrics):
            np.add.at(fixed_load[m], fixed_pairs.rep, fixed_pairs.load[m])
        fixed_moved = float(fixed_pairs.moved.sum())
    sub = pairs.subset(np.isin(pairs.unit, free))
    return build_assignment_model(problem, sub, free, relax=False, fixed_load=fixed_load,
                                  fixed_moved=fixed_moved, name=name)


def _set_start(model: AssignmentModel, unit_rep: np.ndarray) -> None:
    """Hand a plan to the solver as its starting point (x = 1 on the plan's pairs)."""
    values = (unit_rep[model.pairs.unit] == model.pairs.rep).astype(float)
    for var, value in zip(model.x, values.tolist()):
        var.setInitialValue(value)


def objective_of(problem, unit_rep: np.ndarray) -> float:
    """Objective of an integral assignment, recomputed from the oracles (minimisation)."""
    total = 0.0
    for units in problem.unit_blocks():
        cost = problem.cost_block(units)
        total += float(cost[np.arange(len(units)), unit_rep[units]].sum())
    return total


def solve_assignment(problem, settings: SolveSettings,
                     progress: Callable[[str], None] | None = None) -> AssignmentResult:
    """Solve a planning problem with the strategy of the module docstring."""
    say = progress or (lambda message: None)
    clock = _Clock(settings.time_limit, settings.started)
    phases: list[dict] = []
    all_units = np.arange(problem.n_units)

    def log(phase: str, outcome: SolveOutcome | None, size: int, **extra) -> None:
        entry = {"phase": phase, "seconds": round(clock.elapsed, 3), "pairs": size}
        if outcome is not None:
            entry.update(status=outcome.status, objective=outcome.objective,
                         bound=outcome.bound, solve_seconds=round(outcome.seconds, 3))
        entry.update(extra)
        phases.append(entry)

    from .diagnose import precheck

    precheck(problem)
    # 1. candidates (everything when the instance is small)
    k = settings.candidates
    pairs, total_allowed = candidate_pairs(problem, k if problem.n_units * problem.n_reps >
                                           settings.full_model_pairs else problem.n_reps)
    say(f"candidate pairs: {len(pairs):,} of {total_allowed:,} allowed")

    # 2. elastic LP relaxation, priced until no left-out pair improves it. The slack lets
    # load flow between distant clusters through pricing instead of widening every
    # account's candidates; it is a relaxation, so its value is a proven bound regardless.
    penalty = 10.0 * _cost_scale(problem, pairs)
    escalations = 0
    basis = None
    while True:
        model = build_assignment_model(problem, pairs, all_units, relax=True,
                                       slack_penalty=penalty, name="relaxation")
        outcome = run(model, settings, mip=False, time_limit=clock.remaining,
                      start_basis=basis)
        basis = LpBasis.capture(model.lp) if outcome.status == "optimal" else None
        slack = _relative_slack(problem, model)
        log("lp", outcome, len(pairs), slack=round(slack, 9))
        if outcome.status != "optimal":
            # an LP stopped early proves nothing: no bound, and so no honest plan
            raise SolverError(f"no feasible plan was found: the LP relaxation, which gives "
                              f"the proven bound, was not solved ({outcome.status}) within "
                              f"the time limit of {settings.time_limit:g} s; raise "
                              "--time-limit")
        if len(pairs) >= total_allowed:
            new, correction, smallest_left_out = None, 0.0, math.inf
        else:
            new, correction, smallest_left_out = _price_out(problem, model, per_unit=3)
        lp_bound = outcome.objective + correction
        # the Lagrangian bound is already valid; re-solving for a sliver is not worth it
        close_enough = -correction <= 0.05 * settings.gap * abs(outcome.objective)
        if new is not None and clock.remaining > 0 and (slack > 1e-7 or not close_enough):
            say(f"pricing: {len(new):,} pairs improve the LP"
                + (f" (bands short by {slack:.2%} in total)" if slack > 1e-7 else "")
                + "; re-solving")
            pairs = PairSet.concat([pairs, new])
            continue
        if slack > 1e-7:
            if escalations < 2 and clock.remaining > 0:
                # slack that survives pricing: either the penalty is too small for this
                # instance's costs, or the bands truly cannot hold; raise it and see
                escalations += 1
                penalty *= 1000.0
                continue
            from .diagnose import explain_infeasibility

            explain_infeasibility(problem, pairs, settings)
        break
    lp_model = model
    say(f"LP bound {lp_bound:,.1f} ({len(pairs):,} pairs)")

    # 3. fix and finish: re-optimise growing sets of units, the rest held at the best plan
    rep, best = _assignment_from(lp_model, problem.n_units)
    fractional = np.flatnonzero(best < INTEGRAL)
    incumbent = None
    incumbent_obj = math.inf
    full_round_done = False
    milp_bound = None
    if len(fractional) == 0:
        incumbent = rep
        incumbent_obj = objective_of(problem, rep)
    elif problem.max_moved_potential is None:
        # the budget row couples every unit; without it the finish splits into independent
        # pieces, one per group of reps the fractional units straddle
        local = _finish_by_components(problem, lp_model, rep, fractional, settings, clock,
                                      lp_bound, log)
        if local is not None:
            incumbent, incumbent_obj = local, objective_of(problem, local)
            say(f"fix-and-finish (rep components): objective {incumbent_obj:,.1f}, gap "
                f"{relative_gap(incumbent_obj, lp_bound):.3%}")
    done = incumbent is not None and relative_gap(incumbent_obj, lp_bound) <= settings.gap
    for label, free in (_release_rounds(problem, lp_model, rep, fractional)
                        if not done else ()):
        if clock.remaining <= 0.5:
            break
        base = rep if incumbent is None else incumbent
        model = _restricted_model(problem, pairs, base, free, name="finish")
        if incumbent is not None:
            _set_start(model, incumbent)
        # a partial round gets a third of the time left so the all-units round, which
        # starts from the best plan so far, always has the most; each may spend half the
        # gap budget (absolute, against the LP bound)
        share = 0.9 if len(free) == problem.n_units else 0.33
        outcome = run(model, settings, mip=True, time_limit=clock.remaining * share,
                      gap=1e-4, gap_abs=0.5 * settings.gap * abs(lp_bound),
                      warm_start=incumbent is not None)
        log("finish", outcome, len(model.pairs), free_units=int(len(free)), scope=label)
        full_round_done = len(free) == problem.n_units and outcome.has_solution
        if len(free) == problem.n_units and outcome.bound is not None:
            milp_bound = outcome.bound  # the all-units round is the full candidate MILP
        if outcome.has_solution:
            sub_rep, _ = _assignment_from(model, problem.n_units)
            candidate = base.copy()
            candidate[free] = sub_rep[free]
            candidate_obj = objective_of(problem, candidate)
            if candidate_obj < incumbent_obj - 1e-9:
                incumbent, incumbent_obj = candidate, candidate_obj
                say(f"fix-and-finish ({label}): objective {incumbent_obj:,.1f}, gap "
                    f"{relative_gap(incumbent_obj, lp_bound):.3%}")
        if incumbent is not None and relative_gap(incumbent_obj, lp_bound) <= settings.gap:
            break

    # 4. polish with the full candidate MILP, warm-started, while the gap is too wide and
    # the all-units finish (the same model) has not already had its turn; it needs at least
    # the hand-over time plus a second to be worth starting
    bound = lp_bound
    gap = relative_gap(incumbent_obj, bound) if incumbent is not None else math.inf
    worth_it = clock.remaining > 1.0 + 2e-5 * len(pairs)
    if gap > settings.gap and worth_it and (incumbent is None or not full_round_done):
        model = build_assignment_model(problem, pairs, all_units, relax=False, name="polish")
        if incumbent is not None:
            _set_start(model, incumbent)
        outcome = run(model, settings, mip=True, time_limit=clock.remaining,
                      gap=settings.gap, warm_start=incumbent is not None)
        log("polish", outcome, len(pairs))
        if outcome.status == "infeasible" and incumbent is None:
            # the LP is feasible but no whole-account plan is; over every allowed pair
            # that is proven, and the elastic MILP names the bands that cannot hold
            from .diagnose import explain_infeasibility

            if len(pairs) >= total_allowed:
                explain_infeasibility(problem, pairs, settings, integer=True)
            pairs = all_allowed_pairs(problem)
            model = build_assignment_model(problem, pairs, all_units, relax=False,
                                           name="polish_all_pairs")
            outcome = run(model, settings, mip=True, time_limit=clock.remaining,
                          gap=settings.gap)
            log("polish", outcome, len(pairs), scope="all allowed pairs")
            if outcome.status == "infeasible":
                explain_infeasibility(problem, pairs, settings, integer=True)
            smallest_left_out = math.inf
        if outcome.has_solution:
            polish_rep, _ = _assignment_from(model, problem.n_units)
            polish_obj = objective_of(problem, polish_rep)
            if polish_obj < incumbent_obj - 1e-9:
                incumbent, incumbent_obj = polish_rep, polish_obj
        if outcome.bound is not None:
            milp_bound = outcome.bound if milp_bound is None else max(milp_bound,
                                                                      outcome.bound)
    if milp_bound is not None:
        # valid globally: a plan using a left-out pair costs >= lp_bound + its rc
        bound = max(bound, min(milp_bound, lp_bound + max(smallest_left_out, 0.0)))
    if incumbent is None:
        raise SolverError(f"no feasible plan was found within the time limit of "
                          f"{settings.time_limit:g} s (the LP bound is {lp_bound:,.1f}); "
                          "raise --time-limit")
    bound = min(bound, incumbent_obj)
    gap = relative_gap(incumbent_obj, bound)
    status = "optimal" if gap <= 1e-6 else ("within_gap_target" if gap <= settings.gap
                                             else "time_limit")
    sense = problem.sense
    return AssignmentResult(unit_rep=incumbent, objective=sense * incumbent_obj,
                            lower_bound=sense * bound, gap=gap, status=status,
                            seconds=clock.elapsed, phases=phases, candidate_pairs=len(pairs),
                            total_pairs=total_allowed)
