"""Which (unit, rep) pairs a model is built over (docs/design.md, the optimiser's phases).

Each unit may go only to its ``k`` cheapest allowed reps plus its current owner, and each rep
sees its nearest units up to three times its fair share (``candidate_pairs``). The rules
(segment, region, distance, locks) are applied first, so a candidate set never contains a
forbidden pair. Where a metro holds more work than its reps' bands allow, load must travel
far; an aggregate LP over cells (units summed by their cheapest rep, ``CellSums``) says where,
and the units that travel there most cheaply join as candidates (``flow_pairs``). Pricing
(pricing.py) later brings in whatever else the LP needs.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .model import PairSet, build_assignment_model
from .settings import TINY, SolveSettings
from .solvers import run

#: how many fair shares of units each rep sees as candidates
REP_SIDE_SHARES = 3.0
#: the flow LP's slack price, in multiples of the dearest plan over the cells
FLOW_SLACK_PRICE = 10.0


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
        # sorted by unit, so each chunk's pairs are one slice (a mask over every pair for
        # every chunk was quadratic: 25 chunks x 2.4 million pairs at 100,000 x 500)
        first, end = np.searchsorted(inverse, [start, start + len(chunk)])
        rows = slice(first, end)
        local = inverse[rows] - start
        c = problem.cost_block(chunk)
        cost[rows] = c[local, reps[rows]]
        ld = problem.load_block(chunk)
        load[:, rows] = ld[:, local, reps[rows]]
        mv = problem.moved_potential_block(chunk)
        moved[rows] = mv[local, reps[rows]]
    return PairSet(units.astype(int), reps.astype(int), cost, load, moved)


def candidate_pairs(
    problem, k: int, rep_side: float = REP_SIDE_SHARES, cells: CellSums | None = None
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
    nearest_units = NearestUnits(widest)
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
            nearest_units.add(units, cost)
    table = nearest_units.table()
    if table is not None:
        costs, owners = table
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


class NearestUnits:
    """The ``widest`` cheapest units of every rep over a sweep of unit blocks. Each block's
    cheapest ``widest`` per rep are kept, and cut back to the cheapest ``widest`` over all
    blocks so far once MERGE_BLOCKS blocks' worth are held, so memory stays
    O(widest x reps) whatever the number of units (keeping every block's cheapest to the
    end took 11.8 GB and a sort of 740 million costs at 1,000,000 x 2,000)."""

    MERGE_BLOCKS = 8

    def __init__(self, widest: int):
        self.widest = widest
        self._costs: list[np.ndarray] = []  # (rows, reps) each
        self._units: list[np.ndarray] = []
        self._rows = 0

    def add(self, units: np.ndarray, cost: np.ndarray) -> None:
        """The cheapest ``widest`` of the block ``units`` (cost rows) for every rep."""
        take = min(self.widest, len(units))
        top = (
            np.argpartition(cost, take - 1, axis=0)[:take]
            if take < len(units)
            else np.tile(np.arange(len(units))[:, None], (1, cost.shape[1]))
        )
        self._costs.append(np.take_along_axis(cost, top, axis=0))
        self._units.append(units[top])
        self._rows += take
        if self._rows >= self.MERGE_BLOCKS * self.widest:
            self.table()

    def table(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(costs, units), each (rows, reps): every rep's ``widest`` cheapest units so far
        (in no order), None before any block."""
        if not self._costs:
            return None
        cost, unit = np.vstack(self._costs), np.vstack(self._units)
        if len(cost) > self.widest:
            keep = np.argpartition(cost, self.widest - 1, axis=0)[: self.widest]
            cost = np.take_along_axis(cost, keep, axis=0)
            unit = np.take_along_axis(unit, keep, axis=0)
        self._costs, self._units, self._rows = [cost], [unit], len(cost)
        return cost, unit


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
        slack_penalty=FLOW_SLACK_PRICE * max(1.0, float(dearest.sum())),
        name="flow",
    )
    outcome = run(model, settings, mip=False, time_limit=time_limit)
    if outcome.status != "optimal":
        return None
    share = model.values()
    away = (share > 1e-6) & (aggregate.rep != aggregate.unit)
    if not away.any():
        return None
    members = dict(unit_groups(cells.home[cells.home >= 0], np.flatnonzero(cells.home >= 0)))
    unit_list, rep_list = [], []
    for c, positions in unit_groups(aggregate.unit[away], np.flatnonzero(away)):
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


def union_pairs(problem, pairs: PairSet, extra: PairSet) -> PairSet:
    """``pairs`` plus the pairs of ``extra`` it does not hold yet."""
    key = pairs.unit.astype(np.int64) * problem.n_reps + pairs.rep
    extra_key = extra.unit.astype(np.int64) * problem.n_reps + extra.rep
    _, first = np.unique(extra_key, return_index=True)
    fresh = np.zeros(len(extra), dtype=bool)
    fresh[first] = True
    fresh &= ~np.isin(extra_key, key)
    return PairSet.concat([pairs, extra.subset(fresh)]) if fresh.any() else pairs


def all_allowed_pairs(problem) -> PairSet:
    """Every pair the rules allow (the full model: small instances, the diagnosis)."""
    unit_list, rep_list = [], []
    for units in problem.unit_blocks():
        r, c = np.nonzero(problem.allowed_block(units))
        unit_list.append(units[r])
        rep_list.append(c)
    return pairs_for(problem, np.concatenate(unit_list), np.concatenate(rep_list))


def unit_groups(units: np.ndarray, positions: np.ndarray):
    """(unit, its positions) for each unit present, positions grouped by unit."""
    order = np.argsort(units, kind="stable")
    units, positions = units[order], positions[order]
    cuts = np.flatnonzero(np.diff(units)) + 1
    for chunk in np.split(np.arange(len(units)), cuts):
        if len(chunk):
            yield int(units[chunk[0]]), positions[chunk]


def cost_scale(problem, pairs: PairSet) -> float:
    """Sum over units of their dearest candidate pair: no plan costs more than this."""
    if len(pairs) == 0:
        return 1.0
    dearest = np.zeros(problem.n_units)
    np.maximum.at(dearest, pairs.unit, np.abs(pairs.cost))
    return max(1.0, float(dearest.sum()))
