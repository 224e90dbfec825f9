"""Border moves: a connected plan made cheaper one region (or one swapped pair) at a time.

A *move* gives region u of territory j to a rep k owning a neighbour of u; a *swap* gives
u (of j) to k and, at once, region v (of k) to j. Either is taken when it lowers the
objective and the plan after it still

* meets every band:      L[m, r] <= sum_u a[m, u, r] x[u, r] <= U[m, r]   for the reps moved,
* keeps the budget:      sum_u moved[u, r(u)] <= B                       (when there is one),
* has connected territories: T_j - {u} (+ {v}) and T_k + {u} (- {v}) are each one piece
  of the region graph (u borders T_k, so T_k + {u} stays connected whenever T_k was).

The objective is separable (sum_u c[u, r(u)]), so a move's gain is c[u, j] - c[u, k] and a
swap's the sum of two such terms. The plan returned is connected, within every rule and
never dearer than the plan given: a heuristic incumbent for the cut rounds, whose bound it
does not touch. Named accounts (units past ``n_regions``) move alone, with no contiguity.
"""

from __future__ import annotations

import time

import numpy as np

from .contiguity import territory_pieces
from .model import PairSet
from .pairs import pairs_for, union_pairs

#: gains below this share of the objective are rounding, not improvement
GAIN_TOLERANCE = 1e-9


class PlanTables:
    """Dense (unit, rep) tables of a PairSet: cost (inf where the pair is not allowed), load
    per metric and moved potential, with the bands and budget they are checked against."""

    def __init__(self, problem, pairs: PairSet):
        shape = (problem.n_units, problem.n_reps)
        self.cost = np.full(shape, np.inf)
        self.cost[pairs.unit, pairs.rep] = pairs.cost
        self.load = np.zeros((problem.n_metrics, *shape))
        self.load[:, pairs.unit, pairs.rep] = pairs.load
        self.moved = np.zeros(shape)
        self.moved[pairs.unit, pairs.rep] = pairs.moved
        self.lower = np.asarray(problem.lower, dtype=float)
        self.upper = np.asarray(problem.upper, dtype=float)
        budget = problem.max_moved_potential
        self.budget = np.inf if budget is None else float(budget)

    @classmethod
    def from_arrays(cls, cost, load, lower, upper) -> PlanTables:
        """Tables given whole (no moved potential, no budget): region_split's districts,
        which stand in for reps when the map is split."""
        tables = cls.__new__(cls)
        tables.cost, tables.load, tables.lower, tables.upper = cost, load, lower, upper
        tables.moved, tables.budget = np.zeros(cost.shape), np.inf
        return tables

    def rep_loads(self, plan: np.ndarray) -> np.ndarray:
        """(M, J) the load each rep carries under ``plan``."""
        loads = np.zeros(self.lower.shape)
        units = np.arange(len(plan))
        for m in range(loads.shape[0]):
            np.add.at(loads[m], plan, self.load[m, units, plan])
        return loads

    def moved_of(self, plan: np.ndarray) -> float:
        return float(self.moved[np.arange(len(plan)), plan].sum())

    def within_bands(self, loads: np.ndarray, reps) -> bool:
        """The bands of ``reps`` hold for ``loads``, up to the band rows' rounding."""
        reps = list(reps)
        slack = 1e-9 * np.maximum(1.0, np.abs(self.upper[:, reps]))
        return bool(
            (loads[:, reps] >= self.lower[:, reps] - slack).all()
            and (loads[:, reps] <= self.upper[:, reps] + slack).all()
        )


def _connected_without(graph, plan, n_regions: int, rep: int, leaving, joining=()) -> bool:
    """rep's territory with ``leaving`` taken out and ``joining`` put in is one piece (or
    empty)."""
    mine = plan[:n_regions] == rep
    mine[list(leaving)] = False
    mine[list(joining)] = True
    return len(territory_pieces(graph, np.flatnonzero(mine))) <= 1


def _neighbours(graph, u: int) -> np.ndarray:
    return graph.indices[graph.indptr[u] : graph.indptr[u + 1]]


class BorderMoves:
    """The search over moves and swaps (module docstring) on one plan, kept in step with its
    loads and moved potential."""

    def __init__(self, tables: PlanTables, graph, n_regions: int, plan: np.ndarray):
        self.tables, self.graph, self.n_regions = tables, graph, n_regions
        self.plan = plan.copy()
        self.loads = tables.rep_loads(self.plan)
        self.moved = tables.moved_of(self.plan)

    def _shifted(self, changes: list[tuple[int, int]]):
        """Loads and moved potential after ``changes`` [(unit, new rep)], or None when a
        band or the budget would fail."""
        t, loads, moved = self.tables, self.loads.copy(), self.moved
        for u, k in changes:
            j = self.plan[u]
            loads[:, j] -= t.load[:, u, j]
            loads[:, k] += t.load[:, u, k]
            moved += t.moved[u, k] - t.moved[u, j]
        reps = {int(self.plan[u]) for u, _ in changes} | {k for _, k in changes}
        if moved > t.budget + 1e-9 * max(1.0, t.budget) or not t.within_bands(loads, reps):
            return None
        return loads, moved

    def _apply(self, changes, shifted) -> None:
        self.loads, self.moved = shifted
        for u, k in changes:
            self.plan[u] = k

    def gain(self, u: int, k: int) -> float:
        return float(self.tables.cost[u, self.plan[u]] - self.tables.cost[u, k])

    def try_move(self, u: int, k: int, least: float) -> bool:
        """Region (or named account) u to rep k, if it gains more than ``least`` within
        every rule and contiguity."""
        if not np.isfinite(self.tables.cost[u, k]) or self.gain(u, k) <= least:
            return False
        shifted = self._shifted([(u, k)])
        if shifted is None:
            return False
        j = int(self.plan[u])
        if u < self.n_regions and not _connected_without(
            self.graph, self.plan, self.n_regions, j, [u]
        ):
            return False
        self._apply([(u, k)], shifted)
        return True

    def try_swap(self, u: int, v: int, least: float) -> bool:
        """Region u (of j) to k and region v (of k) to j at once, if that gains more than
        ``least`` within every rule and contiguity (u borders T_k - {v}, v borders
        T_j - {u})."""
        j, k = int(self.plan[u]), int(self.plan[v])
        cost = self.tables.cost
        if j == k or not (np.isfinite(cost[u, k]) and np.isfinite(cost[v, j])):
            return False
        if self.gain(u, k) + self.gain(v, j) <= least:
            return False
        shifted = self._shifted([(u, k), (v, j)])
        if shifted is None:
            return False
        g, plan, n = self.graph, self.plan, self.n_regions
        if not (
            _connected_without(g, plan, n, j, [u], [v])
            and _connected_without(g, plan, n, k, [v], [u])
        ):
            return False
        self._apply([(u, k), (v, j)], shifted)
        return True

    def bordering_reps(self, u: int) -> list[int]:
        """The reps other than u's owner holding a neighbour of region u."""
        owners = {int(self.plan[c]) for c in _neighbours(self.graph, u)}
        return sorted(owners - {int(self.plan[u])})

    def sweep(self, least: float, deadline: float) -> bool:
        """One pass of moves, then swaps, over every unit in order; True if any was taken."""
        taken = False
        n_units = len(self.plan)
        for u in range(n_units):
            if time.perf_counter() > deadline:
                return taken
            reps = self.bordering_reps(u) if u < self.n_regions else range(len(self.loads[0]))
            # the best gain first: the first rule-abiding move is the one kept
            for k in sorted(reps, key=lambda k: -self.gain(u, k)):
                if k != self.plan[u] and self.try_move(u, k, least):
                    taken = True
                    break
        for u in range(self.n_regions):
            if time.perf_counter() > deadline:
                return taken
            for k in self.bordering_reps(u):
                # v: a region of k that borders u's territory once u has gone to k
                j = int(self.plan[u])
                for v in np.flatnonzero(self.plan[: self.n_regions] == k).tolist():
                    if any(self.plan[c] == j and c != u for c in _neighbours(self.graph, v)):
                        if self.try_swap(u, v, least):
                            taken = True
                            break
                if self.plan[u] != j:
                    break
        return taken


def improve_by_moves(
    problem, pairs: PairSet, graph, n_regions: int, plan: np.ndarray, seconds: float
) -> np.ndarray:
    """``plan`` (connected, within every rule) after border moves and swaps over ``pairs``
    until a sweep finds none or ``seconds`` pass (module docstring); never dearer than
    ``plan``. When some of the plan's own pairs are not among ``pairs`` they join them: a
    plan mended over pairs the model lacks (band_repair.py) is priced, and improved, all
    the same."""
    deadline = time.perf_counter() + seconds
    units = np.arange(len(plan))
    tables = PlanTables(problem, pairs)
    if not np.isfinite(tables.cost[units, plan]).all():
        own = pairs_for(problem, units, plan)
        tables = PlanTables(problem, union_pairs(problem, pairs, own))
    start_cost = float(tables.cost[units, plan].sum())
    search = BorderMoves(tables, graph, n_regions, plan)
    least = GAIN_TOLERANCE * max(1.0, abs(start_cost))
    while time.perf_counter() < deadline and search.sweep(least, deadline):
        pass
    return search.plan
