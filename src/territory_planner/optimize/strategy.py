"""How a plan is solved fast and honestly (DESIGN.md section 4).

1. **Candidates.** Each unit may go only to its ``k`` cheapest allowed reps plus its current
   owner, and each rep sees its nearest units up to three times its fair share. The rules
   (segment, region, distance, locks) are applied first, so a candidate set never contains a
   forbidden pair. Where a metro holds more work than its reps' bands allow, load must
   travel far; an aggregate LP over cells (units summed by their cheapest rep) says where,
   and the units that travel there most cheaply join as candidates (``flow_pairs``).
2. **LP relaxation with pricing.** Solve the relaxation over the candidates. Its duals price
   every pair left out: ``rc[u, j] = c[u, j] - pi_once[u] - sum_m a[m, u, j] (pi_min[m, j] +
   pi_max[m, j]) - p[u, j] pi_budget``. Pairs with negative reduced cost join and the LP is
   solved again from the previous basis, until none is left: the LP value is then the LP
   optimum over *all* pairs, a proven lower bound for the full problem. The bands are
   elastic (priced slack), so a restricted LP is never infeasible and sparsity never loses
   a feasible plan: pricing brings in whatever pairs the bands need.
3. **Fix and finish.** Units the LP assigns integrally (nearly all) are fixed; a small MILP
   assigns the fractional rest within the bands left over. When that cannot close, the
   fractional units are placed breaking the bands as little as possible, and the LP is
   solved again with the broken bands narrowed, so that its split accounts land where
   rounding has room (``_narrowed_rounds``); *windows* of reps then mend what is left and
   improve the plan: a rep and the few reps it competes with for accounts, all their units
   free among them, one small MILP each (``_improve_by_windows``; windows of three reps,
   then of six once those find nothing more). Then, time permitting,
   growing sets of boundary units are re-optimised together.
4. **Polish.** While the gap to the bound exceeds the target and time remains, the MILP over
   all candidates is solved warm-started from the plan so far.

The bound reported is never an estimate: it is the priced LP optimum, or, when the polish MILP
proves more, ``min(MILP bound over the candidates, LP bound + smallest reduced cost left
out)``, which is valid because any plan that uses a left-out pair costs at least
``LP bound + its reduced cost`` (linear-programming duality).
"""

from __future__ import annotations

import dataclasses
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
MEND_SCALE = 1e6  # a breach of a whole target, in the mending MILP's objective
MARGIN_GROWTH = 3.0  # how far a band is narrowed, in breaches of its last rounding
TINY = 1e-9


@dataclass
class SolveSettings:
    solver: str = "highs"
    time_limit: float = 60.0
    gap: float = 0.005
    threads: int = 1
    seed: int = 0
    msg: bool = False
    candidates: int = 5  # k cheapest reps per unit before pricing
    full_model_pairs: int = 20000  # at or below this many pairs, skip sparsification
    started: float | None = None  # perf_counter() when the time limit began (default: now)

    @classmethod
    def from_scenario(cls, solver_settings, **overrides) -> SolveSettings:
        values = dict(
            solver=solver_settings.name,
            time_limit=solver_settings.time_limit,
            gap=solver_settings.gap,
            threads=solver_settings.threads,
            seed=solver_settings.seed,
            msg=solver_settings.msg,
        )
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
        return PairSet(
            units.astype(int),
            reps.astype(int),
            np.zeros(0),
            np.zeros((problem.n_metrics, 0)),
            np.zeros(0),
        )
    order = np.lexsort((reps, units))
    units, reps = units[order], reps[order]
    cost = np.empty(len(units))
    load = np.empty((problem.n_metrics, len(units)))
    moved = np.empty(len(units))
    block_units, inverse = np.unique(units, return_inverse=True)
    for start in range(0, len(block_units), 4096):
        chunk = block_units[start : start + 4096]
        rows = (inverse >= start) & (inverse < start + len(chunk))
        local = inverse[rows] - start
        c = problem.cost_block(chunk)
        cost[rows] = c[local, reps[rows]]
        ld = problem.load_block(chunk)
        load[:, rows] = ld[:, local, reps[rows]]
        mv = problem.moved_potential_block(chunk)
        moved[rows] = mv[local, reps[rows]]
    return PairSet(units.astype(int), reps.astype(int), cost, load, moved)


def candidate_pairs(
    problem, k: int, rep_side: float = 3.0, cells: CellSums | None = None
) -> tuple[PairSet, int]:
    """Candidate pairs and the number of allowed pairs.

    Account side: each unit's k cheapest allowed reps plus its current owners. Rep side: each
    rep's ``rep_side`` x (its fair share of units) cheapest allowed units, so a rep in a thin
    area still sees enough accounts to fill its band and the restricted LP stays feasible.
    ``cells``, when given, is filled in the same sweep (see flow_pairs).
    """
    unit_list, rep_list = [], []
    total_allowed = 0
    share = (
        problem.target[0] / max(problem.target[0].sum(), TINY)
        if problem.n_metrics
        else np.full(problem.n_reps, 1.0 / max(problem.n_reps, 1))
    )
    per_rep = np.minimum(problem.n_units, np.ceil(rep_side * share * problem.n_units) + 10)
    per_rep = per_rep.astype(int)
    widest = int(per_rep.max()) if problem.n_reps else 0
    rep_best_cost: list[np.ndarray] = []
    rep_best_unit: list[np.ndarray] = []
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        total_allowed += int(allowed.sum())
        cost = np.where(allowed, problem.cost_block(units), np.inf)
        if cells is not None:
            cells.add(problem, units, allowed, cost)
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
            top = (
                np.argpartition(cost, take - 1, axis=0)[:take]
                if take < len(units)
                else np.tile(np.arange(len(units))[:, None], (1, problem.n_reps))
            )
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


class CellSums:
    """Units grouped by their cheapest allowed rep (a "cell" per rep), with each cell's
    cost, load and allowed count towards every rep summed over its units. Units with one
    allowed rep (locks) are not in a cell: their load is fixed on that rep."""

    def __init__(self, problem):
        reps, metrics = problem.n_reps, problem.n_metrics
        self.home = np.full(problem.n_units, -1)
        self.size = np.zeros(reps, dtype=np.int64)
        self.cost = np.zeros((reps, reps))
        self.load = np.zeros((metrics, reps, reps))
        self.allowed_count = np.zeros((reps, reps), dtype=np.int64)
        self.fixed_load = np.zeros((metrics, reps))

    def add(self, problem, units: np.ndarray, allowed: np.ndarray, cost: np.ndarray) -> None:
        """Fold one block of units in (``cost`` is +inf where a pair is not allowed)."""
        count = allowed.sum(axis=1)
        loads = problem.load_block(units)
        forced = np.flatnonzero(count == 1)
        if len(forced):
            only = allowed[forced].argmax(axis=1)
            for m in range(problem.n_metrics):
                np.add.at(self.fixed_load[m], only, loads[m][forced, only])
        rows = np.flatnonzero(count > 1)
        if not len(rows):
            return
        home = cost[rows].argmin(axis=1)
        order = np.argsort(home, kind="stable")
        rows, home = rows[order], home[order]
        self.home[units[rows]] = home
        starts = np.flatnonzero(np.r_[True, home[1:] != home[:-1]])
        keys = home[starts]
        self.size[keys] += np.diff(np.r_[starts, len(rows)])
        self.cost[keys] += np.add.reduceat(np.where(allowed[rows], cost[rows], 0.0), starts, axis=0)
        self.allowed_count[keys] += np.add.reduceat(allowed[rows].astype(np.int64), starts, axis=0)
        for m in range(problem.n_metrics):
            self.load[m][keys] += np.add.reduceat(np.asarray(loads[m][rows]), starts, axis=0)


def flow_pairs(
    problem, cells: CellSums, settings: SolveSettings, time_limit: float
) -> PairSet | None:
    """Pairs along which the bands make load travel far, from an aggregate LP.

    The k cheapest reps of each unit cannot carry load out of a metro that has more work
    than its reps' bands allow, nor into a rep far from everything; pricing would find those
    pairs only a few per unit and round. Instead the same formulation is solved once over
    cells (units summed by their cheapest rep, so a few hundred rows): ``y[c, j]`` is the
    share of cell c's units that goes to rep j. For every ``y[c, j] > 0`` away from home,
    the ``2 y[c, j] |c| + 5`` units of c for which j costs least over their home rep become
    candidates. A heuristic for the candidate set only: the bound still comes from pricing.
    """
    occupied = np.flatnonzero(cells.size)
    if len(occupied) < 2:
        return None
    ok = cells.allowed_count[occupied] == cells.size[occupied][:, None]
    row, rep = np.nonzero(ok)
    cell = occupied[row]
    aggregate = PairSet(
        cell, rep, cells.cost[cell, rep], cells.load[:, cell, rep], np.zeros(len(cell))
    )
    # the same problem with cells in place of units, as build_assignment_model reads it
    # (no disruption budget: the flow LP only points at where load must travel)
    view = dataclasses.replace(
        problem,
        max_moved_potential=None,
        unit_ids=np.array([f"cell_{j}" for j in range(problem.n_reps)]),
    )
    dearest = np.zeros(problem.n_reps)
    np.maximum.at(dearest, cell, np.abs(aggregate.cost))
    model = build_assignment_model(
        view,
        aggregate,
        occupied,
        relax=True,
        fixed_load=cells.fixed_load,
        slack_penalty=10.0 * max(1.0, float(dearest.sum())),
        name="flow",
    )
    outcome = run(model, settings, mip=False, time_limit=time_limit)
    if outcome.status != "optimal":
        return None
    share = model.values()
    away = (share > 1e-6) & (aggregate.rep != aggregate.unit)
    if not away.any():
        return None
    members = dict(_unit_groups(cells.home[cells.home >= 0], np.flatnonzero(cells.home >= 0)))
    unit_list, rep_list = [], []
    for c, positions in _unit_groups(aggregate.unit[away], np.flatnonzero(away)):
        units = members[c]
        cost = problem.cost_block(units)
        for p in positions.tolist():
            j = int(aggregate.rep[p])
            take = min(len(units), int(math.ceil(2.0 * share[p] * len(units))) + 5)
            extra = cost[:, j] - cost[:, c]
            best = (
                np.argpartition(extra, take - 1)[:take]
                if take < len(units)
                else np.arange(len(units))
            )
            unit_list.append(units[best])
            rep_list.append(np.full(len(best), j))
    return pairs_for(problem, np.concatenate(unit_list), np.concatenate(rep_list))


def _union(problem, pairs: PairSet, extra: PairSet) -> PairSet:
    """``pairs`` plus the pairs of ``extra`` it does not hold yet."""
    key = pairs.unit.astype(np.int64) * problem.n_reps + pairs.rep
    extra_key = extra.unit.astype(np.int64) * problem.n_reps + extra.rep
    _, first = np.unique(extra_key, return_index=True)
    fresh = np.zeros(len(extra), dtype=bool)
    fresh[first] = True
    fresh &= ~np.isin(extra_key, key)
    return PairSet.concat([pairs, extra.subset(fresh)]) if fresh.any() else pairs


def all_allowed_pairs(problem) -> PairSet:
    unit_list, rep_list = [], []
    for units in problem.unit_blocks():
        r, c = np.nonzero(problem.allowed_block(units))
        unit_list.append(units[r])
        rep_list.append(c)
    return pairs_for(problem, np.concatenate(unit_list), np.concatenate(rep_list))


# ------------------------------------------------------------------------- solving


def run(
    model: AssignmentModel,
    settings: SolveSettings,
    *,
    mip: bool,
    time_limit: float,
    gap: float | None = None,
    gap_abs: float | None = None,
    warm_start: bool = False,
    start_basis=None,
) -> SolveOutcome:
    """Solve a built model with a fresh solver (the solver is an argument, built here).

    PuLP hands the model to HiGHS column by column before HiGHS's own clock starts; that
    hand-over (about 10 microseconds a variable) is taken off the limit so the phase ends
    when the caller's clock says it should.
    """
    handover = (2e-5 if warm_start else 1e-5) * model.lp.numVariables() + 0.05  # a start: a pass
    started = time.perf_counter()
    solver = make_solver(
        settings.solver,
        mip=mip,
        time_limit=max(time_limit - handover, 0.05),
        gap=gap if mip else None,
        gap_abs=gap_abs if mip else None,
        threads=settings.threads,
        seed=settings.seed,
        msg=settings.msg,
        warm_start=warm_start,
        start_basis=start_basis,
    )
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


def scan_left_out(
    problem,
    pairs: PairSet,
    pi_once: np.ndarray,
    pi_band: np.ndarray,
    pi_budget: float,
    per_unit: int,
    threshold: float | None = None,
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
        limit = (
            threshold
            if threshold is not None
            else -1e-9 * max(1.0, float(np.abs(cost).max(initial=0.0)))
        )
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


def _price_out(
    problem, model: AssignmentModel, per_unit: int
) -> tuple[PairSet | None, float, float]:
    """The improving left-out pairs of the assignment LP, the Lagrangian correction and the
    smallest reduced cost left out (see scan_left_out)."""
    pi_once, pi_band, pi_budget = _duals(problem, model)
    new, correction, smallest, _ = scan_left_out(
        problem, model.pairs, pi_once, pi_band, pi_budget, per_unit
    )
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


def _neighbour_reps(problem, pairs: PairSet, size: int) -> np.ndarray:
    """(J, size): each rep first, then the reps that share the most candidate units with it
    (the reps it competes with for accounts; no geometry needed)."""
    n = problem.n_reps
    size = min(size, n)
    together = np.zeros(n * n, dtype=np.int64)
    # pairs are sorted by unit: pairs d positions apart with the same unit share it
    for d in range(1, 64):
        same = pairs.unit[d:] == pairs.unit[:-d]
        if not same.any():
            break
        first, second = pairs.rep[:-d][same], pairs.rep[d:][same]
        together += np.bincount(first * n + second, minlength=n * n)
        together += np.bincount(second * n + first, minlength=n * n)
    together = together.reshape(n, n).astype(float)
    np.fill_diagonal(together, np.inf)
    return np.argsort(-together, axis=1, kind="stable")[:, :size]


def _rep_loads(problem, plan: np.ndarray, units: np.ndarray | None = None) -> np.ndarray:
    """(M, J) load each rep carries from ``units`` (default: all) under ``plan``."""
    units = np.arange(problem.n_units) if units is None else units
    loads = np.zeros((problem.n_metrics, problem.n_reps))
    placed = pairs_for(problem, units, plan[units])
    for m in range(problem.n_metrics):
        np.add.at(loads[m], placed.rep, placed.load[m])
    return loads


def _band_excess(problem, loads: np.ndarray) -> np.ndarray:
    """(M, J) how far each rep's load lies outside its band, as a share of its target."""
    outside = np.maximum(problem.lower - loads, 0.0) + np.maximum(loads - problem.upper, 0.0)
    return outside / np.maximum(np.abs(problem.target), 1e-9)


def _budget_excess(problem, moved: float) -> float:
    """How far ``moved`` potential lies over the disruption budget, as a share of it (0
    within it or without a budget)."""
    budget = problem.max_moved_potential
    return 0.0 if budget is None else max(0.0, moved - budget) / max(budget, 1e-9)


def _improve_by_windows(
    problem,
    pairs: PairSet,
    plan: np.ndarray,
    objective: float,
    settings: SolveSettings,
    clock: _Clock,
    done: Callable[[float, float], bool],
    log,
    first: np.ndarray,
    size: int = 3,
    seconds: float = 1.0,
    gap: float = 1e-3,
) -> tuple[np.ndarray, float, float]:
    """Re-optimise the plan a few reps at a time until ``done`` says so or time runs out.

    A window is a rep and the ``size - 1`` reps it competes with most; every unit of those
    reps is free to move among them (over the candidate pairs) and only their bands are
    rows, so each window is a small MILP started from the plan, which it can only improve.
    A plan that breaks bands (the LP's rounding) is mended first, in a window twice as
    wide (four times, if that cannot) whose MILP minimises the breach, cost only breaking
    ties: it ends at the first plan that holds the bands, far sooner than one that weighs
    both; the cost window follows. Windows
    around the ``first`` reps (broken bands, fractional units) go first, then the rest, in
    passes; a window nothing has touched since it last found nothing is not solved again.
    ``done(objective, excess)`` ends it; returns the plan, its objective and its excess:
    how far it lies outside the bands and the moved-potential budget, each as a share of
    its own target (0 when the plan holds them all).
    """
    plan = plan.copy()
    widest = _neighbour_reps(problem, pairs, 4 * size)
    loads = _rep_loads(problem, plan)
    in_window = np.zeros(problem.n_reps, dtype=bool)
    free_mask = np.zeros(problem.n_units, dtype=bool)
    budget = problem.max_moved_potential
    moved_total = problem.moved_potential_of(plan) if budget is not None else 0.0

    def over_budget() -> float:
        return _budget_excess(problem, moved_total)

    excess = _band_excess(problem, loads)
    changes = np.zeros(problem.n_reps, dtype=np.int64)  # how often each rep's units changed
    tried: dict[tuple[int, int], int] = {}  # window -> changes it saw when it found nothing

    def solve_window(j: int, mend: bool, width: int = size) -> bool:
        """One window MILP around rep j: ``mend`` minimises the breach (it stops at the first
        plan that holds every band: within 2 of the bound, as the cost weighs at most 1),
        otherwise the cost with every band of the window held. True when the plan changed."""
        nonlocal objective, loads, excess, moved_total
        window = widest[j, :width]
        seen = int(changes[window].sum())
        if tried.get((j, width)) == seen:
            return False  # nothing in the window moved since it last found nothing
        in_window[:] = False
        in_window[window] = True
        free = np.flatnonzero(in_window[plan])
        free_mask[:] = False
        free_mask[free] = True
        sub = pairs.subset(in_window[pairs.rep] & free_mask[pairs.unit])
        current = pairs_for(problem, free, plan[free])
        if mend:
            # breach first; cost only breaks ties (all of it weighs a millionth of a target);
            # scaled by MEND_SCALE so no coefficient is small enough for HiGHS to drop
            weight = 1.0 / _cost_scale(problem, sub)
            before = MEND_SCALE * (float(excess[:, window].sum()) + over_budget()) + weight * float(
                current.cost.sum()
            )
            sub = PairSet(sub.unit, sub.rep, weight * sub.cost, sub.load, sub.moved)
        else:
            before = float(current.cost.sum())
        model = build_assignment_model(
            problem,
            sub,
            free,
            relax=False,
            fixed_moved=moved_total - float(current.moved.sum()),
            reps=window,
            slack_penalty=MEND_SCALE if mend else None,
            name="window",
        )
        _set_start(model, plan)
        _set_slack_start(model, problem, loads, moved_total)
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=min(clock.remaining, 3 * seconds if mend else seconds),
            gap=gap,
            gap_abs=2.0 if mend else None,
            warm_start=True,
        )
        improved = outcome.has_solution and outcome.objective < before - 1e-9 * max(
            1.0, abs(before)
        )
        sub_rep = _assignment_from(model, problem.n_units)[0] if improved else plan
        changed = free[sub_rep[free] != plan[free]]
        if len(changed) == 0:
            tried[(j, width)] = seen
            return False
        objective -= float(pairs_for(problem, changed, plan[changed]).cost.sum())
        loads -= _rep_loads(problem, plan, changed)
        changes[plan[changed]] += 1
        plan[changed] = sub_rep[changed]
        changes[plan[changed]] += 1
        loads += _rep_loads(problem, plan, changed)
        objective += float(pairs_for(problem, changed, plan[changed]).cost.sum())
        excess = _band_excess(problem, loads)
        if budget is not None:
            moved_total = problem.moved_potential_of(plan)
        log(
            "window",
            outcome,
            len(sub),
            free_units=int(len(free)),
            scope=f"{'mend' if mend else 'improve'} around rep {j}",
        )
        return True

    rest = np.setdiff1d(np.arange(problem.n_reps), first)
    order = np.concatenate([first, rest]).astype(int)
    improved_in_pass = True
    while (
        improved_in_pass
        and clock.remaining > 0.5
        and not done(objective, excess.sum() + over_budget())
    ):
        improved_in_pass = False
        for j in order.tolist():
            if clock.remaining <= 0.5 or done(objective, excess.sum() + over_budget()):
                break
            for width in (2 * size, 4 * size):
                # a breach a few reps cannot absorb may need reps further out
                if excess[:, widest[j, :size]].sum() + over_budget() <= 1e-9:
                    break
                improved_in_pass |= solve_window(j, mend=True, width=width)
            if excess[:, widest[j, :size]].sum() + over_budget() <= 1e-9:
                improved_in_pass |= solve_window(j, mend=False)
    return plan, objective, float(excess.sum()) + over_budget()


def _local_penalty(problem, pairs: PairSet, free: np.ndarray) -> float:
    """Slack price for an elastic MILP over the ``free`` units: a thousand times the most
    their placement can cost, so no saving outweighs a breach of a thousandth of a target,
    yet small enough to keep the objective's range sane for the solver."""
    mask = np.zeros(problem.n_units, dtype=bool)
    mask[free] = True
    return 1000.0 * _cost_scale(problem, pairs.subset(mask[pairs.unit]))


def _elastic_round(
    problem,
    pairs: PairSet,
    base: np.ndarray,
    free: np.ndarray,
    settings: SolveSettings,
    clock: _Clock,
    log,
    label: str,
    time_limit: float,
) -> np.ndarray:
    """``base`` with the ``free`` units placed so that the bands break as little as possible
    (then at the least cost): an elastic MILP over those units, the rest held."""
    model = _restricted_model(
        problem,
        pairs,
        base,
        free,
        name="finish",
        slack_penalty=_local_penalty(problem, pairs, free),
    )
    outcome = run(model, settings, mip=True, time_limit=min(time_limit, clock.remaining), gap=1e-4)
    log("finish", outcome, len(model.pairs), free_units=int(len(free)), scope=label)
    plan = base.copy()
    if outcome.has_solution:
        plan[free] = _assignment_from(model, problem.n_units)[0][free]
    return plan


def _narrowed_rounds(
    problem,
    pairs: PairSet,
    lp_model: AssignmentModel,
    basis,
    settings: SolveSettings,
    clock: _Clock,
    log,
    rounds: int = 5,
    share: float = 0.25,
) -> tuple[np.ndarray, float]:
    """Round the LP where its rounding has room: the least broken plan found, and its breach
    (as in _improve_by_windows: 0 when it is a whole plan).

    Placing the LP's fractional units (the rest where the LP put them, _elastic_round)
    breaks a band wherever a split account must go whole to one side of it. The LP is then
    solved again (from its basis, rows changed in place) with those bands narrowed,

        L[m, j] + mu[m, j] <= sum_u a[m, u, j] x[u, j] <= U[m, j] - mu[m, j]
        sum_{u,j} p[u, j] x[u, j] <= B - mu_budget,

    each margin ``mu`` growing by MARGIN_GROWTH times the breach the last rounding left
    there (at most 45% of the band), so the reps that broke keep room for whole accounts;
    the new fractional units are rounded in turn. The narrowed LP is only a guide (its value
    is no bound; the rows get their true sides back at the end). At most ``rounds`` rounds,
    in a ``share`` of the time left.
    """
    deadline = _Clock(clock.elapsed + share * clock.remaining, clock.start)
    width = problem.upper - problem.lower
    margin = np.zeros((problem.n_metrics, problem.n_reps))
    budget = problem.max_moved_potential
    budget_margin = 0.0
    best_plan, best_breach = None, math.inf
    for attempt in range(rounds):
        rep, share_placed = _assignment_from(lp_model, problem.n_units)
        fractional = np.flatnonzero(share_placed < INTEGRAL)
        plan = _elastic_round(
            problem,
            pairs,
            rep,
            fractional,
            settings,
            clock,
            log,
            label="fractional units, elastic bands"
            + (f", bands narrowed ({attempt})" if attempt else ""),
            time_limit=0.02 * clock.remaining,
        )
        excess = _band_excess(problem, _rep_loads(problem, plan))
        over = _budget_excess(problem, 0.0 if budget is None else problem.moved_potential_of(plan))
        breach = float(excess.sum()) + over
        if breach < best_breach - 1e-12:
            best_plan, best_breach = plan, breach
        if breach <= 1e-9 or attempt == rounds - 1 or deadline.remaining <= 0.5:
            break
        outside = excess * np.maximum(np.abs(problem.target), 1e-9)  # back to the metric's units
        margin = np.minimum(margin + MARGIN_GROWTH * outside, 0.45 * width)
        budget_margin = min(
            budget_margin + MARGIN_GROWTH * over * (budget or 0.0), 0.45 * (budget or 0.0)
        )
        _narrow_rows(problem, lp_model, margin, budget_margin)
        outcome = run(
            lp_model, settings, mip=False, time_limit=deadline.remaining, start_basis=basis
        )
        log("lp", outcome, len(lp_model.pairs), scope=f"bands narrowed ({attempt + 1})")
        if outcome.status != "optimal":
            break
        basis = LpBasis.capture(lp_model.lp)
    _narrow_rows(problem, lp_model, np.zeros_like(margin), 0.0)
    return best_plan, best_breach


def _narrow_rows(problem, model: AssignmentModel, margin: np.ndarray, budget_margin: float) -> None:
    """Set the band rows of a full model (no fixed units) to ``L + margin .. U - margin``
    and its budget row to ``B - budget_margin``, in place."""
    for (m, j), row in model.band_min.items():
        row.changeRHS(float(problem.lower[m, j] + margin[m, j]))
    for (m, j), row in model.band_max.items():
        row.changeRHS(float(problem.upper[m, j] - margin[m, j]))
    if model.budget is not None:
        model.budget.changeRHS(float(problem.max_moved_potential - budget_margin))


def _unit_groups(units: np.ndarray, positions: np.ndarray):
    """(unit, its positions) for each unit present, positions grouped by unit."""
    order = np.argsort(units, kind="stable")
    units, positions = units[order], positions[order]
    cuts = np.flatnonzero(np.diff(units)) + 1
    for chunk in np.split(np.arange(len(units)), cuts):
        if len(chunk):
            yield int(units[chunk[0]]), positions[chunk]


def _alternative_cost(
    problem, lp_model: AssignmentModel, rep: np.ndarray, fractional: np.ndarray
) -> np.ndarray:
    """How cheaply each unit could change rep: -inf for the fractional ones, else the LP
    reduced cost of its cheapest alternative rep; the smallest are the territory
    boundaries, where a swap restores a band at the least cost."""
    pairs = lp_model.pairs
    rc = reduced_costs(problem, lp_model, pairs)
    alternative = np.full(problem.n_units, np.inf)
    other = pairs.rep != rep[pairs.unit]
    np.minimum.at(alternative, pairs.unit[other], rc[other])
    alternative[fractional] = -np.inf
    return alternative


def _release_rounds(problem, lp_model: AssignmentModel, rep: np.ndarray, fractional: np.ndarray):
    """Growing sets of units to re-optimise after the LP: the fractional ones first, then
    the fractional ones with the 5% and 20% of units cheapest to move
    (_alternative_cost), then all."""
    yield "fractional units", fractional
    order = np.argsort(_alternative_cost(problem, lp_model, rep, fractional), kind="stable")
    for share in (0.05, 0.2):
        size = max(len(fractional) + 1, int(share * problem.n_units))
        if size >= problem.n_units:
            break
        yield f"fractional + {share:.0%} boundary units", np.sort(order[:size])
    yield "all units", np.arange(problem.n_units)


def _restricted_model(
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


def _set_start(model: AssignmentModel, unit_rep: np.ndarray) -> None:
    """Hand a plan to the solver as its starting point (x = 1 on the plan's pairs)."""
    values = (unit_rep[model.pairs.unit] == model.pairs.rep).astype(float)
    for var, value in zip(model.x, values.tolist()):
        var.setInitialValue(value)


def _set_slack_start(model: AssignmentModel, problem, loads: np.ndarray, moved: float) -> None:
    """Start an elastic model's slack where the plan handed in by _set_start leaves it
    (``loads``: each rep's load under that plan, every unit of the model's reps free), so
    the start is a feasible solution and the solver begins with an incumbent."""
    for (kind, m, j), var in model.slack.items():
        if kind == "short":
            value = problem.lower[m, j] - loads[m, j]
        elif kind == "over":
            value = loads[m, j] - problem.upper[m, j]
        else:
            value = moved - (problem.max_moved_potential or 0.0)
        var.setInitialValue(max(0.0, float(value)))


def objective_of(problem, unit_rep: np.ndarray) -> float:
    """Objective of an integral assignment, recomputed from the oracles (minimisation)."""
    total = 0.0
    for units in problem.unit_blocks():
        cost = problem.cost_block(units)
        total += float(cost[np.arange(len(units)), unit_rep[units]].sum())
    return total


def solve_assignment(
    problem, settings: SolveSettings, progress: Callable[[str], None] | None = None
) -> AssignmentResult:
    """Solve a planning problem with the strategy of the module docstring."""
    say = progress or (lambda message: None)
    clock = _Clock(settings.time_limit, settings.started)
    phases: list[dict] = []
    all_units = np.arange(problem.n_units)

    def log(phase: str, outcome: SolveOutcome | None, size: int, **extra) -> None:
        entry = {"phase": phase, "seconds": round(clock.elapsed, 3), "pairs": size}
        if outcome is not None:
            entry.update(
                status=outcome.status,
                objective=outcome.objective,
                bound=outcome.bound,
                solve_seconds=round(outcome.seconds, 3),
            )
        entry.update(extra)
        phases.append(entry)

    from .diagnose import precheck

    precheck(problem)
    # 1. candidates (everything when the instance is small)
    sparse = problem.n_units * problem.n_reps > settings.full_model_pairs
    cells = CellSums(problem) if sparse else None
    pairs, total_allowed = candidate_pairs(
        problem, settings.candidates if sparse else problem.n_reps, cells=cells
    )
    if cells is not None and len(pairs) < total_allowed:
        travel = flow_pairs(problem, cells, settings, time_limit=0.1 * clock.remaining)
        if travel is not None:
            pairs = _union(problem, pairs, travel)
        log("flow", None, len(pairs), added=0 if travel is None else len(travel))
    say(f"candidate pairs: {len(pairs):,} of {total_allowed:,} allowed")

    # 2. elastic LP relaxation, priced until no left-out pair improves it. The slack lets
    # load flow between distant clusters through pricing instead of widening every
    # account's candidates; it is a relaxation, so its value is a proven bound regardless.
    penalty = 10.0 * _cost_scale(problem, pairs)
    escalations = 0
    basis = None
    while True:
        model = build_assignment_model(
            problem, pairs, all_units, relax=True, slack_penalty=penalty, name="relaxation"
        )
        outcome = run(model, settings, mip=False, time_limit=clock.remaining, start_basis=basis)
        basis = LpBasis.capture(model.lp) if outcome.status == "optimal" else None
        slack = _relative_slack(problem, model)
        log("lp", outcome, len(pairs), slack=round(slack, 9))
        if outcome.status != "optimal":
            # an LP stopped early proves nothing: no bound, and so no honest plan
            raise SolverError(
                f"no feasible plan was found: the LP relaxation, which gives "
                f"the proven bound, was not solved ({outcome.status}) within "
                f"the time limit of {settings.time_limit:g} s; raise "
                "--time-limit"
            )
        if len(pairs) >= total_allowed:
            new, correction, smallest_left_out = None, 0.0, math.inf
        else:
            new, correction, smallest_left_out = _price_out(problem, model, per_unit=3)
        lp_bound = outcome.objective + correction
        # the Lagrangian bound is already valid; re-solving for a sliver is not worth it
        close_enough = -correction <= 0.05 * settings.gap * abs(outcome.objective)
        if new is not None and clock.remaining > 0 and (slack > 1e-7 or not close_enough):
            say(
                f"pricing: {len(new):,} pairs improve the LP"
                + (f" (bands short by {slack:.2%} in total)" if slack > 1e-7 else "")
                + "; re-solving"
            )
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

    def finish_round(label: str, free: np.ndarray, base: np.ndarray | None = None) -> None:
        """MILP over the ``free`` units, the others held at ``base`` (default: the best
        plan so far, or the least broken rounding of the LP)."""
        nonlocal incumbent, incumbent_obj, full_round_done, milp_bound
        if base is None:
            base = fallback if incumbent is None else incumbent
        model = _restricted_model(problem, pairs, base, free, name="finish")
        if incumbent is not None:
            _set_start(model, incumbent)
        # a partial round gets a third of the time left so the all-units round, which
        # starts from the best plan so far, always has the most; each may spend half the
        # gap budget (absolute, against the LP bound)
        share = 0.9 if len(free) == problem.n_units else 0.33
        # the all-units round is the full candidate MILP and no polish follows it, so it may
        # not stop at a looser relative gap than the one asked for (0: proven optimal)
        relative = min(1e-4, settings.gap) if len(free) == problem.n_units else 1e-4
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=clock.remaining * share,
            gap=relative,
            gap_abs=0.5 * settings.gap * abs(lp_bound),
            warm_start=incumbent is not None,
        )
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
                say(
                    f"fix-and-finish ({label}): objective {incumbent_obj:,.1f}, gap "
                    f"{relative_gap(incumbent_obj, lp_bound):.3%}"
                )

    def closed() -> bool:
        return incumbent is not None and relative_gap(incumbent_obj, lp_bound) <= settings.gap

    fallback = rep  # the plan a round starts from while there is no whole plan yet

    if len(fractional) == 0:
        incumbent = rep
        incumbent_obj = objective_of(problem, rep)
    rounds = _release_rounds(problem, lp_model, rep, fractional) if not closed() else iter(())
    # the fractional units alone, every other unit where the LP put it: one small MILP that
    # usually closes the gap at once
    for label, free in rounds:
        if clock.remaining > 0.5:
            finish_round(label, free)
        break

    def good_enough(objective: float, excess: float) -> bool:
        return excess <= 1e-9 and relative_gap(objective, lp_bound) <= settings.gap

    def by_windows(start: np.ndarray, first: np.ndarray, window_clock: _Clock) -> None:
        """Windows of reps from ``start``; a whole plan they reach may become the best."""
        nonlocal incumbent, incumbent_obj, fallback
        windowed, windowed_obj, excess = _improve_by_windows(
            problem,
            pairs,
            start,
            objective_of(problem, start),
            settings,
            window_clock,
            done=good_enough,
            log=log,
            first=first,
        )
        if excess <= 1e-9 and not good_enough(windowed_obj, excess) and clock.remaining > 1.0:
            # a whole plan where no 3-rep window finds a saving: windows twice as wide
            # reach moves that need more reps at once, for all the time left
            windowed, windowed_obj, excess = _improve_by_windows(
                problem,
                pairs,
                windowed,
                windowed_obj,
                settings,
                clock,
                done=good_enough,
                log=log,
                first=first,
                size=6,
            )
        if excess > 1e-9:
            fallback = windowed  # the least broken plan: where the boundary rounds start
        elif windowed_obj < incumbent_obj - 1e-9:
            incumbent, incumbent_obj = windowed, windowed_obj
            say(
                f"fix-and-finish (windows of reps): objective {incumbent_obj:,.1f}, gap "
                f"{relative_gap(incumbent_obj, lp_bound):.3%}"
            )

    if sparse and not closed() and len(fractional) and clock.remaining > 1.0:
        # a few reps at a time from the best plan so far, or (when the fractional units
        # alone cannot hold the bands) from the LP's rounding, repairing its broken bands
        start = rep if incumbent is None else incumbent
        if incumbent is None:
            start, breach = _narrowed_rounds(problem, pairs, lp_model, basis, settings, clock, log)
            if breach <= 1e-9:
                incumbent, incumbent_obj = start, objective_of(problem, start)
                say(
                    f"fix-and-finish (rounding with narrowed bands): objective "
                    f"{incumbent_obj:,.1f}, gap {relative_gap(incumbent_obj, lp_bound):.3%}"
                )
        broken = np.flatnonzero(
            _band_excess(problem, _rep_loads(problem, start)).sum(axis=0) > 1e-9
        )
        touched = np.unique(pairs.rep[np.isin(pairs.unit, fractional)])
        # without a whole plan yet, the windows leave a share of the time to the boundary
        # rounds, which start from the windows' plan and may mend what they could not
        by_windows(
            start,
            np.concatenate([broken, np.setdiff1d(touched, broken)]),
            clock
            if incumbent is not None
            else _Clock(clock.elapsed + 0.7 * clock.remaining, clock.start),
        )
    for label, free in rounds:
        if closed() or clock.remaining <= 0.5:
            break
        mended = incumbent is None
        finish_round(label, free)
        if sparse and mended and incumbent is not None and not closed() and clock.remaining > 1.0:
            # the round's first whole plan mended the bands over many units at once, at
            # a cost; windows win that back faster than the larger rounds would
            changed = np.flatnonzero(incumbent != fallback)
            by_windows(incumbent, np.unique(incumbent[changed]), clock)

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
        outcome = run(
            model,
            settings,
            mip=True,
            time_limit=clock.remaining,
            gap=settings.gap,
            warm_start=incumbent is not None,
        )
        log("polish", outcome, len(pairs))
        if outcome.status == "infeasible" and incumbent is None:
            # the LP is feasible but no whole-account plan is; over every allowed pair
            # that is proven, and the elastic MILP names the bands that cannot hold
            from .diagnose import explain_infeasibility

            if len(pairs) >= total_allowed:
                explain_infeasibility(problem, pairs, settings, integer=True)
            pairs = all_allowed_pairs(problem)
            model = build_assignment_model(
                problem, pairs, all_units, relax=False, name="polish_all_pairs"
            )
            outcome = run(model, settings, mip=True, time_limit=clock.remaining, gap=settings.gap)
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
            milp_bound = outcome.bound if milp_bound is None else max(milp_bound, outcome.bound)
    if milp_bound is not None:
        # valid globally: a plan using a left-out pair costs >= lp_bound + its rc
        bound = max(bound, min(milp_bound, lp_bound + max(smallest_left_out, 0.0)))
    if incumbent is None:
        raise SolverError(
            f"no feasible plan was found within the time limit of "
            f"{settings.time_limit:g} s (the LP bound is {lp_bound:,.1f}); "
            "raise --time-limit"
        )
    bound = min(bound, incumbent_obj)
    gap = relative_gap(incumbent_obj, bound)
    status = (
        "optimal" if gap <= 1e-6 else ("within_gap_target" if gap <= settings.gap else "time_limit")
    )
    sense = problem.sense
    return AssignmentResult(
        unit_rep=incumbent,
        objective=sense * incumbent_obj,
        lower_bound=sense * bound,
        gap=gap,
        status=status,
        seconds=clock.elapsed,
        phases=phases,
        candidate_pairs=len(pairs),
        total_pairs=total_allowed,
    )
