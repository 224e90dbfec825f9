"""Mending a plan of whole regions by moves alone: its territories made connected, then its
bands made to hold again, one border region at a time (no MILP).

Why. At ZIP scale a round's plan may leave territories in pieces scattered enough that the
rooted flow near the plan (rooted_flow.py) finds nothing in its time: on a district of the
national map (4,165 ZIP cells, 41 reps) its two rings spent 95 s without a solution. Moves
took 1-3 s there and mend every first plan of that map's eight districts (seven with moves
over the candidates only and three rings out; the eighth needs the two widenings below).
When they fail, the MILP mends run as before.

1. **Connected.** Each territory keeps its piece holding its home (else its largest); every
   other piece goes whole to the rep that borders it most, or (the second try, when the
   first ends with a band breached) is peeled from the outside in, each region to the least
   loaded rep bordering it (stray_pieces_given). Each territory is then one piece, but
   bands may break.
2. **Bands.** A move gives a region u on the border of territory j to a rep k holding a
   neighbour of u, keeping j one piece and at least one region. Its breach is

       breach = sum over m, r of (max(0, L[m, r] - load[m, r]) + max(0, load[m, r] - U[m, r]))
                / |target[m, r]|

   and its spread ``sum over m, r of ((load[m, r] - target[m, r]) / target[m, r])^2``. A move
   is taken when it lowers (breach, spread) lexicographically, the breach first (a rep's
   home region never moves); the moves touching a breached rep are looked at first, then
   those one territory further away, and so on over the whole map: a neighbour at its
   bound passes a region on to a less loaded one of its own, which makes room next to the
   breached rep. The room may have to come
   from far: on a national district four reps short of their band sat among a dozen at
   theirs, and the load to spare lay five or more territories away (three rings found no
   move; the whole map mended it in 5 s). Each move strictly lowers the pair, so the search
   ends; it stops with the bands held (the plan returned) or with no move left (None).

The moves are over every allowed pair, not only the model's candidates, when the dense
tables hold them anyway (up to ALL_PAIRS_AT_MOST pairs): a candidate list walls a short rep
in. On that district the border regions of its neighbours were no candidates of it, and
the one neighbour whose regions were could give none without breaking in two. A plan so
mended may use pairs outside the model; the rounds then grow their model by its pairs
(region_solve.grown_for_plan) so that it is their start.

The plan is a heuristic incumbent: it is connected, within every rule, and proves nothing.
"""

from __future__ import annotations

import time

import numpy as np

from .border_moves import PlanTables, _connected_without, _neighbours
from .contiguity import territory_pieces
from .model import PairSet
from .pairs import all_allowed_pairs

#: changes of breach or spread below this are rounding
TOLERANCE = 1e-12
#: the most (unit, rep) pairs the moves price all of (dense tables of 5 numbers a pair)
ALL_PAIRS_AT_MOST = 4_000_000


def stray_pieces_given(
    tables, target, graph, plan: np.ndarray, n_regions: int, homes, peel: bool
) -> np.ndarray:
    """``plan`` with each territory one piece (step 1 of the module docstring): a stray
    piece goes whole to the rep bordering it most (_give_whole) or, with ``peel``, is peeled
    from the outside in (_peel). Pieces are given until none is left or none can be."""
    plan = plan.copy()
    loads = tables.rep_loads(plan)
    scale = np.maximum(np.abs(target), 1e-9)
    allowed = np.isfinite(tables.cost)
    for _ in range(n_regions):
        given = False
        for j in np.unique(plan[:n_regions]):
            pieces = territory_pieces(graph, np.flatnonzero(plan[:n_regions] == j))
            if len(pieces) < 2:
                continue
            home = homes[j] if homes is not None and j < len(homes) else -1
            keep = next((i for i, piece in enumerate(pieces) if home in piece), 0)
            for piece in (piece for i, piece in enumerate(pieces) if i != keep):
                if peel:
                    given |= _peel(
                        tables, graph, plan, loads, scale, allowed, set(piece.tolist()), j
                    )
                else:
                    given |= _give_whole(tables, graph, plan, loads, allowed, piece, j)
        if not given:
            break
    return plan


def _give_whole(tables, graph, plan, loads, allowed, piece: np.ndarray, j: int) -> bool:
    """``piece`` (of rep j) whole to the rep bordering it most among those allowed every
    region of it; ``plan`` and ``loads`` change in place. Whether it was given."""
    around = plan[graph[piece].indices]
    around = around[around != j]
    for k in np.argsort(-np.bincount(around, minlength=loads.shape[1]))[:4]:
        if (around == k).any() and allowed[piece, k].all():
            loads[:, j] -= tables.load[:, piece, j].sum(axis=1)
            loads[:, k] += tables.load[:, piece, k].sum(axis=1)
            plan[piece] = k
            return True
    return False


def _peel(tables, graph, plan, loads, scale, allowed, piece: set, j: int) -> bool:
    """Give the regions of ``piece`` (of rep j) away from its border inwards: each region
    bordering another territory goes to the least loaded such rep (load over target, the
    fullest metric) allowed to own it, so a large stray piece is shared among its
    neighbours instead of overfilling one; ``plan`` and ``loads`` change in place. Whether
    any was given."""
    given = False
    while piece:
        ring = []
        for u in piece:
            owners = {int(plan[c]) for c in _neighbours(graph, u) if c not in piece} - {j}
            owners = [k for k in owners if allowed[u, k]]
            if owners:
                ring.append((u, min(owners, key=lambda k: (loads[:, k] / scale[:, k]).max())))
        if not ring:
            return given
        for u, k in ring:
            loads[:, j] -= tables.load[:, u, j]
            loads[:, k] += tables.load[:, u, k]
            plan[u] = k
            piece.discard(u)
            given = True
    return given


class BandSearch:
    """Step 2 of the module docstring on one plan: loads kept in step with it."""

    def __init__(
        self, tables: PlanTables, target: np.ndarray, graph, n_regions: int, plan, homes=None
    ):
        self.tables, self.graph, self.n_regions = tables, graph, n_regions
        # a rep's home region stays with it: the rounds root reps at their homes
        # (rooted_flow.LazyFlows), and a plan that moved one would be no start for them
        self.homes = np.full(tables.lower.shape[1], -1)
        if homes is not None:
            self.homes[: len(homes)] = np.asarray(homes)[: len(self.homes)]
        self.plan = plan.copy()
        self.loads = tables.rep_loads(self.plan)
        self.scale = np.maximum(np.abs(target), 1e-9)
        self.target = target
        edges = graph.tocoo()
        self.edges = (edges.row.astype(int), edges.col.astype(int))

    def columns(self, loads: np.ndarray, reps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(breach, spread) of each rep of ``reps`` when carrying the columns ``loads``
        (M, len(reps))."""
        t, scale = self.tables, self.scale[:, reps]
        short = np.maximum(0.0, t.lower[:, reps] - loads)
        over = np.maximum(0.0, loads - t.upper[:, reps])
        breach = ((short + over) / scale).sum(axis=0)
        spread = (((loads - self.target[:, reps]) / scale) ** 2).sum(axis=0)
        return breach, spread

    def breached(self) -> np.ndarray:
        t = self.tables
        bad = (self.loads < t.lower - 1e-9 * np.maximum(1.0, np.abs(t.lower))) | (
            self.loads > t.upper + 1e-9 * np.maximum(1.0, np.abs(t.upper))
        )
        return np.flatnonzero(bad.any(axis=0))

    def moves_touching(self, reps) -> tuple[np.ndarray, np.ndarray]:
        """(u, k): every region u bordering a territory k other than its own, where u's
        owner or k is one of ``reps``."""
        plan = self.plan[: self.n_regions]
        chosen = np.zeros(self.loads.shape[1], dtype=bool)
        chosen[list(reps)] = True
        u, k = self.edges[0], plan[self.edges[1]]
        keep = (plan[u] != k) & (chosen[plan[u]] | chosen[k])
        key = np.unique(u[keep].astype(np.int64) * len(chosen) + k[keep])
        return (key // len(chosen)).astype(int), (key % len(chosen)).astype(int)

    def best_move(self, reps):
        """The move touching ``reps`` that lowers (breach, spread) most and keeps its giver
        one piece of at least two regions (checked in order: breach, spread, then cost), or
        None."""
        t = self.tables
        u, k = self.moves_touching(reps)
        ok = np.isfinite(t.cost[u, k]) & (self.homes[self.plan[u]] != u)
        u, k = u[ok], k[ok]
        if not len(u):
            return None
        owner = self.plan[u]
        give, take = t.load[:, u, owner], t.load[:, u, k]
        old_owner = self.columns(self.loads[:, owner], owner)
        old_k = self.columns(self.loads[:, k], k)
        new_owner = self.columns(self.loads[:, owner] - give, owner)
        new_k = self.columns(self.loads[:, k] + take, k)
        d_breach = new_owner[0] + new_k[0] - old_owner[0] - old_k[0]
        d_spread = new_owner[1] + new_k[1] - old_owner[1] - old_k[1]
        flat = np.abs(d_breach) <= TOLERANCE
        lowers = np.flatnonzero((d_breach < -TOLERANCE) | (flat & (d_spread < -TOLERANCE)))
        d_cost = t.cost[u, k] - t.cost[u, owner]
        order = lowers[np.lexsort((d_cost[lowers], d_spread[lowers], d_breach[lowers]))]
        sizes = np.bincount(self.plan[: self.n_regions], minlength=self.loads.shape[1])
        for i in order:
            if sizes[owner[i]] <= 1:
                continue
            if _connected_without(self.graph, self.plan, self.n_regions, int(owner[i]), [u[i]]):
                return int(u[i]), int(k[i])
        return None

    def bordering(self, reps) -> set[int]:
        """The reps holding a neighbour of a region of ``reps``."""
        mine = np.isin(self.plan[: self.n_regions], list(reps))
        return {int(k) for k in self.plan[self.graph[np.flatnonzero(mine)].indices]}

    def run(self, deadline: float) -> bool:
        """Moves until no band is breached (True) or no move helps or time is up (False).
        The moves touching a breached rep come first; when none lowers the score, those of
        the reps one step further out, ring after ring until the map is covered: they make
        room next to a full rep (diffusion: they lower the spread and leave the breach as
        it was)."""
        t = self.tables
        while time.perf_counter() < deadline:
            breached = self.breached()
            if not len(breached):
                return True
            reps, found = set(breached.tolist()), None
            while found is None:
                found = self.best_move(reps)
                wider = reps | self.bordering(reps)
                if found is None and len(wider) == len(reps):
                    return False
                reps = wider
            u, k = found
            owner = int(self.plan[u])
            self.loads[:, owner] -= t.load[:, u, owner]
            self.loads[:, k] += t.load[:, u, k]
            self.plan[u] = k
        return False


def mend_by_moves(
    problem, pairs: PairSet, graph, n_regions: int, plan: np.ndarray, homes, seconds: float
) -> np.ndarray | None:
    """A connected plan within every band near ``plan`` (module docstring), or None. Named
    accounts (units past ``n_regions``) stay with their rep. Not used with a disruption
    budget (a move's budget is not tracked here). ``pairs``: the model's; every allowed
    pair joins them when there are at most ALL_PAIRS_AT_MOST (module docstring)."""
    if problem.max_moved_potential is not None:
        return None
    deadline = time.perf_counter() + seconds
    if problem.n_units * problem.n_reps <= ALL_PAIRS_AT_MOST:
        pairs = all_allowed_pairs(problem)
    tables = PlanTables(problem, pairs)
    if not np.isfinite(tables.cost[np.arange(len(plan)), plan]).all():
        return None
    target = np.asarray(problem.target, dtype=float)
    for peel in (False, True):
        connected = stray_pieces_given(tables, target, graph, plan, n_regions, homes, peel)
        search = BandSearch(tables, target, graph, n_regions, connected, homes)
        if search.run(deadline) and all(
            len(territory_pieces(graph, np.flatnonzero(search.plan[:n_regions] == j))) <= 1
            for j in range(problem.n_reps)
        ):
            return search.plan
    return None
