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
   move; the whole map mended it in 5 s).
3. **Chains.** When no single move anywhere lowers the pair (a corner of full reps among
   full reps: each could take a region only by giving one), an ejection chain: from the
   most breached rep along a shortest path of touching territories to a rep with room
   (ROOM of its target from its bound), each rep gives the next a border region, the
   first the lightest that carries the breach, each later one about as heavy as the one
   it took, so the reps on the way stay within their bands. A chain is kept when it
   lowers (breach, spread), else undone and the next path tried. On a national district
   drawn with no margin (seven reps over their upper band in a corner) chains took the
   breach from 0.026 to 0 where single moves stopped.
Each move and chain strictly lowers the pair, so the search ends; it stops with the bands
held (the plan returned) or with nothing left to try (None).

**The zone.** The moves look at cost only to break ties, so a spread that counts every
deviation from the target also evens out reps well within their bands, at a price: on the
sparsest district of the national map (the one 9.4% above its LP) the moves raised the
connected plan from 2.347 M to 2.901 M (border moves then 2.757 M). The first search counts
only the load beyond ZONE of the way from the target to a band (2.745 M, then 2.679 M: 2.8%
less, with the stray pieces peeled; given whole they left a breach of 0.0006 that no zoned
move lowered). The search with z = 0 runs first, as it mends most plans; the zoned searches
run in the time left, and the cheapest plan found is kept. (Zoned first was tried: on
another national district a zoned search, stuck at a breach of 0.024, ran out the whole
budget, nothing was left for the full spread, and the district found no plan.)

The moves are over every allowed pair, not only the model's candidates, when the dense
tables hold them anyway (up to ALL_PAIRS_AT_MOST pairs): a candidate list walls a short rep
in. On that district the border regions of its neighbours were no candidates of it, and
the one neighbour whose regions were could give none without breaking in two. A plan so
mended may use pairs outside the model; the rounds then grow their model by its pairs
(region_solve.rebuilt_for_start) so that it is their start.

The plan is a heuristic incumbent: it is connected, within every rule, and proves nothing.
"""

from __future__ import annotations

import itertools
import time
from collections import deque

import numpy as np

from .border_moves import PlanTables, _connected_without, _neighbours
from .contiguity import territory_pieces
from .model import PairSet
from .pairs import all_allowed_pairs

#: changes of breach or spread below this are rounding
TOLERANCE = 1e-12
#: paths tried per breached rep by an ejection chain, and regions tried per link
CHAIN_PATHS, CHAIN_TRIES = 12, 40
#: how far from its bound (a share of its target) a rep at a chain's end must be
ROOM = 0.005
#: the share of the way from target to band within which the first search leaves a load be
#: (module docstring, "The zone"); 0.8 was the cheapest of 0.5, 0.8, 0.9 and 0.95 on the
#: national district it was measured on
ZONE = 0.8
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
        self,
        tables: PlanTables,
        target: np.ndarray,
        graph,
        n_regions: int,
        plan,
        homes=None,
        zone: float = 0.0,
    ):
        self.tables, self.graph, self.n_regions = tables, graph, n_regions
        # the spread counts the load outside [target - zone (target - L),
        # target + zone (U - target)]; an open band (infinite bound) leaves its side at the
        # target, and zone 0 must not meet inf * 0
        self.zone_lower, self.zone_upper = target.copy(), target.copy()
        if zone > 0:
            self.zone_lower = target - zone * (target - tables.lower)
            self.zone_upper = target + zone * (tables.upper - target)
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
        outside = np.maximum(0.0, loads - self.zone_upper[:, reps]) + np.maximum(
            0.0, self.zone_lower[:, reps] - loads
        )
        spread = ((outside / scale) ** 2).sum(axis=0)
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
        it was). When no move at all helps, an ejection chain (chain)."""
        while time.perf_counter() < deadline:
            breached = self.breached()
            if not len(breached):
                return True
            reps, found = set(breached.tolist()), None
            while found is None:
                found = self.best_move(reps)
                wider = reps | self.bordering(reps)
                if found is None and len(wider) == len(reps):
                    break
                reps = wider
            if found is None:
                if self.chain(breached, deadline):
                    continue
                return False
            self.move(*found)
        return False

    def score(self) -> tuple[float, float]:
        """(breach, spread) of the whole plan (module docstring)."""
        breach, spread = self.columns(self.loads, np.arange(self.loads.shape[1]))
        return float(breach.sum()), float(spread.sum())

    def rep_paths(self, start: int):
        """Shortest paths over the graph of touching territories from ``start``, in
        breadth-first order: each a list of reps beginning with ``start``."""
        plan = self.plan[: self.n_regions]
        a, b = plan[self.edges[0]], plan[self.edges[1]]
        touching: dict[int, set[int]] = {}
        for j, k in set(zip(a[a != b].tolist(), b[a != b].tolist())):
            touching.setdefault(j, set()).add(k)
        parent, order = {start: None}, deque([start])
        while order:
            j = order.popleft()
            path, step = [], j
            while step is not None:
                path.append(step)
                step = parent[step]
            yield path[::-1]
            for k in sorted(touching.get(j, ())):
                if k not in parent:
                    parent[k] = j
                    order.append(k)

    def chain(self, breached, deadline: float) -> bool:
        """An ejection chain when no single move helps (module docstring, step 3): from a
        breached rep along a shortest path of touching territories to one with room, each
        rep on the way passes on a border region about as heavy as the one it took (so
        the reps at their bounds in between stay within them). Taken when it lowers
        (breach, spread); else undone and the next path tried. Whether one was taken."""
        t = self.tables
        before = self.score()
        for b in sorted(
            breached.tolist(), key=lambda j: -self.columns(self.loads[:, [j]], [j])[0][0]
        ):
            over = bool((self.loads[:, b] > t.upper[:, b]).any())
            roomy = (path for path in self.rep_paths(b) if self.has_room(path[-1], over))
            for path in itertools.islice(roomy, CHAIN_PATHS):
                if time.perf_counter() > deadline:
                    return False
                route = path if over else path[::-1]
                gap = self.loads[:, b] - t.upper[:, b] if over else t.lower[:, b] - self.loads[:, b]
                undo = self.push_along(route, np.maximum(gap, 0.0) / self.scale[:, b])
                if undo is not None and self.score() < before:
                    return True
                for u, owner in reversed(undo or []):
                    self.move(u, owner)
        return False

    def has_room(self, j: int, over: bool) -> bool:
        """Rep j could take a region (``over``) or give one and stay within its bands: at
        least ROOM of its target from the bound in every metric."""
        t = self.tables
        if over:
            room = (t.upper[:, j] - self.loads[:, j]) / self.scale[:, j]
        else:
            room = (self.loads[:, j] - t.lower[:, j]) / self.scale[:, j]
        return bool((room >= ROOM).all())

    def push_along(self, route: list[int], want: np.ndarray):
        """Each rep of ``route`` but the last gives the next a region on their border,
        kept one piece and its home kept: the first the lightest region carrying ``want``
        (the breach, as shares of the breached rep's target; the heaviest when none
        does), each later one the region nearest in load to the one it took. The moves
        made as (region, old owner), or None (undone) when a rep on the way has no region
        to give."""
        t, plan, done = self.tables, self.plan, []
        taken = None
        for giver, taker in zip(route[:-1], route[1:]):
            mine = np.flatnonzero(plan[: self.n_regions] == giver)
            border = [
                int(u)
                for u in mine
                if u != self.homes[giver]
                and np.isfinite(t.cost[u, taker])
                and (plan[_neighbours(self.graph, u)] == taker).any()
            ]
            if len(mine) < 2 or not border:
                break
            loads = t.load[:, border, giver] / self.scale[:, [giver]]
            if taken is None:
                enough = (loads >= want[:, None]).all(axis=0)
                ranked = np.lexsort((np.where(enough, 1, -1) * loads.sum(axis=0), ~enough))
            else:
                # giving less than it took would push this rep past its bound: costlier
                short = np.maximum(taken[:, None] - loads, 0.0)
                ranked = np.argsort(
                    (4.0 * short + np.maximum(loads - taken[:, None], 0.0)).sum(axis=0)
                )
            choice = next(
                (
                    border[i]
                    for i in ranked[:CHAIN_TRIES]
                    if _connected_without(self.graph, plan, self.n_regions, giver, [border[i]])
                ),
                None,
            )
            if choice is None:
                break
            taken = t.load[:, choice, giver] / self.scale[:, giver]
            done.append((choice, giver))
            self.move(choice, taker)
        else:
            return done
        for u, owner in reversed(done):
            self.move(u, owner)
        return None

    def move(self, u: int, k: int) -> None:
        """Region u to rep k, loads kept in step."""
        t, owner = self.tables, int(self.plan[u])
        self.loads[:, owner] -= t.load[:, u, owner]
        self.loads[:, k] += t.load[:, u, k]
        self.plan[u] = k


def mend_by_moves(
    problem, pairs: PairSet, graph, n_regions: int, plan: np.ndarray, homes, seconds: float
) -> np.ndarray | None:
    """A connected plan within every band near ``plan`` (module docstring), or None. Named
    accounts (units past ``n_regions``) stay with their rep. Not used with a disruption
    budget (a move's budget is not tracked here). ``pairs``: the model's; every allowed
    pair joins them when there are at most ALL_PAIRS_AT_MOST (module docstring). Tries, in
    order: the full spread with whole stray pieces (with peeled ones only when that fails),
    then the zoned spread with peeled pieces and with whole ones; the cheapest plan found
    within ``seconds`` wins."""
    if problem.max_moved_potential is not None:
        return None
    deadline = time.perf_counter() + seconds
    if problem.n_units * problem.n_reps <= ALL_PAIRS_AT_MOST:
        pairs = all_allowed_pairs(problem)
    tables = PlanTables(problem, pairs)
    if not np.isfinite(tables.cost[np.arange(len(plan)), plan]).all():
        return None
    target = np.asarray(problem.target, dtype=float)
    found = []
    for zone, peel in ((0.0, False), (0.0, True), (ZONE, True), (ZONE, False)):
        if (zone == 0.0 and peel and found) or time.perf_counter() >= deadline:
            continue
        connected = stray_pieces_given(tables, target, graph, plan, n_regions, homes, peel)
        search = BandSearch(tables, target, graph, n_regions, connected, homes, zone)
        if search.run(deadline) and all(
            len(territory_pieces(graph, np.flatnonzero(search.plan[:n_regions] == j))) <= 1
            for j in range(problem.n_reps)
        ):
            found.append(search.plan)
    return min(found, key=lambda p: tables.cost[np.arange(len(p)), p].sum(), default=None)
