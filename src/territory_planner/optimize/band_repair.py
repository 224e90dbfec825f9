"""Mending a plan of whole regions by moves alone: its territories made connected, then its
bands made to hold again, one border region at a time (no MILP).

Why. At ZIP scale a round's plan may leave territories in pieces scattered enough that the
rooted flow near the plan (rooted_flow.py) finds nothing in its time: on a district of the
national map (4,165 ZIP cells, 41 reps) its two rings spent 95 s without a solution. Moves
take a second or two and nearly always end in a connected plan within the bands.

1. **Connected.** Each territory keeps its piece holding its home (else its largest); every
   other piece goes whole to the rep that borders it most (stray_pieces_given). Each
   territory is then one piece, but bands may break.
2. **Bands.** A move gives a region u on the border of territory j to a rep k holding a
   neighbour of u, keeping j one piece and at least one region. Its breach is

       breach = sum over m, r of (max(0, L[m, r] - load[m, r]) + max(0, load[m, r] - U[m, r]))
                / |target[m, r]|

   and its spread ``sum over m, r of ((load[m, r] - target[m, r]) / target[m, r])^2``. A move
   is taken when it lowers (breach, spread) lexicographically, the breach first: a rep
   short of its band takes from a neighbour at its lower bound when that evens the two out,
   and the neighbour then takes from its own, so shortfalls travel across the map. Each
   move strictly lowers the pair, so the search ends; it stops with the bands held (the
   plan returned) or with no move left (None).

The plan is a heuristic incumbent: it is connected, within every rule, and proves nothing.
"""

from __future__ import annotations

import time

import numpy as np

from .border_moves import PlanTables, _connected_without, _neighbours
from .contiguity import territory_pieces
from .model import PairSet

#: changes of breach or spread below this are rounding
TOLERANCE = 1e-12
#: how many steps from a breached rep the search looks for a move that makes room
RINGS = 3


def stray_pieces_given(graph, plan: np.ndarray, n_regions: int, homes, allowed) -> np.ndarray:
    """``plan`` with each territory one piece (step 1 of the module docstring): a stray
    piece goes to the rep bordering it most among those allowed every region of it. Pieces
    are given until none is left or none can be given."""
    plan = plan.copy()
    for _ in range(n_regions):
        given = False
        for j in np.unique(plan[:n_regions]):
            pieces = territory_pieces(graph, np.flatnonzero(plan[:n_regions] == j))
            if len(pieces) < 2:
                continue
            home = homes[j] if homes is not None and j < len(homes) else -1
            keep = next((i for i, piece in enumerate(pieces) if home in piece), 0)
            for i, piece in enumerate(pieces):
                if i == keep:
                    continue
                around = plan[graph[piece].indices]
                around = around[around != j]
                for k in np.argsort(-np.bincount(around, minlength=len(allowed[0])))[:4]:
                    if k != j and (around == k).any() and allowed[piece, k].all():
                        plan[piece] = k
                        given = True
                        break
        if not given:
            break
    return plan


class BandSearch:
    """Step 2 of the module docstring on one plan: loads kept in step with it."""

    def __init__(self, tables: PlanTables, target: np.ndarray, graph, n_regions: int, plan):
        self.tables, self.graph, self.n_regions = tables, graph, n_regions
        self.plan = plan.copy()
        self.loads = tables.rep_loads(self.plan)
        self.scale = np.maximum(np.abs(target), 1e-9)
        self.target = target

    def score(self, loads: np.ndarray, reps) -> tuple[float, float]:
        """(breach, spread) of ``reps`` at ``loads``."""
        t, reps = self.tables, list(reps)
        load, scale = loads[:, reps], self.scale[:, reps]
        short = np.maximum(0.0, t.lower[:, reps] - load)
        over = np.maximum(0.0, load - t.upper[:, reps])
        breach = float(((short + over) / scale).sum())
        spread = float((((load - self.target[:, reps]) / scale) ** 2).sum())
        return breach, spread

    def breached(self) -> np.ndarray:
        t = self.tables
        bad = (self.loads < t.lower - 1e-9 * np.maximum(1.0, np.abs(t.lower))) | (
            self.loads > t.upper + 1e-9 * np.maximum(1.0, np.abs(t.upper))
        )
        return np.flatnonzero(bad.any(axis=0))

    def moves_touching(self, j: int):
        """(u, k) moves out of j's territory and into it from the reps bordering it."""
        mine = np.flatnonzero(self.plan[: self.n_regions] == j)
        for u in mine:
            for k in {int(self.plan[c]) for c in _neighbours(self.graph, u)} - {j}:
                yield int(u), k
        border = {int(c) for u in mine for c in _neighbours(self.graph, u)}
        for u in border:
            if self.plan[u] != j:
                yield u, j

    def best_move(self, j: int):
        """The move touching rep j that lowers (breach, spread) most and keeps its giver one
        piece (checked in order of gain, cheapest in cost first among equals), or None."""
        t, lowering = self.tables, []
        for u, k in self.moves_touching(j):
            owner = int(self.plan[u])
            if not np.isfinite(t.cost[u, k]):
                continue
            before = self.score(self.loads, (owner, k))
            loads = self.loads.copy()
            loads[:, owner] -= t.load[:, u, owner]
            loads[:, k] += t.load[:, u, k]
            after = self.score(loads, (owner, k))
            key = (after[0] - before[0], after[1] - before[1], t.cost[u, k] - t.cost[u, owner])
            if key[0] < -TOLERANCE or (abs(key[0]) <= TOLERANCE and key[1] < -TOLERANCE):
                lowering.append((key, u, k, loads))
        lowering.sort(key=lambda move: move[0])
        for _, u, k, loads in lowering:
            owner = int(self.plan[u])
            if (self.plan[: self.n_regions] == owner).sum() <= 1:
                continue
            if _connected_without(self.graph, self.plan, self.n_regions, owner, [u]):
                return u, k, loads
        return None

    def bordering(self, reps) -> set[int]:
        """The reps holding a neighbour of a region of ``reps``."""
        mine = np.isin(self.plan[: self.n_regions], list(reps))
        return {int(k) for k in self.plan[self.graph[np.flatnonzero(mine)].indices]}

    def run(self, deadline: float, rings: int = RINGS) -> bool:
        """Moves until no band is breached (True) or no move helps or time is up (False).
        The moves touching a breached rep come first; when none lowers the score, those of
        the reps up to ``rings`` steps from them, which make room next to a full rep
        (diffusion: they lower the spread and leave the breach as it was)."""
        while time.perf_counter() < deadline:
            breached = self.breached()
            if not len(breached):
                return True
            reps = breached[np.argsort(-self.score_each(breached))].tolist()
            seen, found = set(reps), None
            for _ in range(rings + 1):
                found = next(filter(None, (self.best_move(int(j)) for j in reps)), None)
                if found is not None:
                    break
                reps = sorted(self.bordering(seen) - seen)
                seen.update(reps)
            if found is None:
                return False
            u, k, loads = found
            self.plan[u], self.loads = k, loads
        return False

    def score_each(self, reps: np.ndarray) -> np.ndarray:
        return np.array([self.score(self.loads, [j])[0] for j in reps])


def mend_by_moves(
    problem, pairs: PairSet, graph, n_regions: int, plan: np.ndarray, homes, seconds: float
) -> np.ndarray | None:
    """A connected plan within every band near ``plan`` (module docstring), or None. Named
    accounts (units past ``n_regions``) stay with their rep. Not used with a disruption
    budget (a move's budget is not tracked here)."""
    if problem.max_moved_potential is not None:
        return None
    deadline = time.perf_counter() + seconds
    tables = PlanTables(problem, pairs)
    allowed = np.isfinite(tables.cost)
    if not np.isfinite(tables.cost[np.arange(len(plan)), plan]).all():
        return None
    connected = stray_pieces_given(graph, plan, n_regions, homes, allowed)
    search = BandSearch(
        tables, np.asarray(problem.target, dtype=float), graph, n_regions, connected
    )
    if not search.run(deadline):
        return None
    for j in range(problem.n_reps):
        if len(territory_pieces(graph, np.flatnonzero(search.plan[:n_regions] == j))) > 1:
            return None
    return search.plan
