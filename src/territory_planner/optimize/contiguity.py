"""Connected territories in geography mode: separator cuts between MILP solves.

Units are regions (plus named accounts, which take no part in contiguity). Territory
``T_j = {region u : x[u, j] = 1}`` is connected when the adjacency graph restricted to
``T_j`` is. HiGHS has no lazy-constraint callbacks, so connectivity is enforced in rounds
(docs/geography-mode.md):

1. the LP relaxation of the assignment model (no contiguity) gives a proven lower bound;
2. the MILP is solved; each territory of its plan is split into its connected *pieces*;
3. for two pieces ``S`` and ``P`` of territory j, ``C`` = a minimal vertex separator between
   ``S`` and a region ``b`` of ``P`` (``N(S)`` cut down to the regions that also touch the
   part of the map holding ``b`` once ``N(S)`` is removed). Every path from a region of
   ``S`` to ``b`` meets ``C``, so for every region ``a`` of ``S`` and *every* rep k,

       x[a, k] + x[b, k] - 1 <= sum_{c in C} x[c, k]                 (connect_rows)

   holds in every connected plan (a connected territory holding a and b holds a path
   between them, and the path crosses C) and fails for the plan just found (C lies outside
   ``T_j``, since it borders ``S`` and ``S`` is a whole piece);
4. the cuts join the model and the MILP is solved again, until every territory is one
   piece. The cuts are valid inequalities, so the MILP's bound in any round is a proven
   bound for connected plans; the last round's plan is connected, so bound and gap hold.

Before solving, ``region_precheck`` names what contiguity makes impossible on its face:
a region heavier than every band it may join, locked regions of one rep that no allowed
path joins, a rep whose band no connected piece of its allowed map can fill. When the
cut MILP is proven infeasible, an elastic copy (priced slack on every band) runs the same
rounds and names the bands that connected territories cannot meet.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np
import pulp
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import InfeasibleError
from .model import AssignmentModel, safe_name

MAX_CUT_ROUNDS = 500


@dataclass(frozen=True)
class Cut:
    """x[a, k] + x[b, k] - 1 <= sum_{c in separator} x[c, k], for every rep k."""

    a: int
    b: int
    separator: tuple[int, ...]


def adjacency_matrix(neighbours: list[np.ndarray], n_regions: int) -> csr_matrix:
    """The region graph as a symmetric sparse matrix over region units 0..n_regions-1."""
    rows = np.concatenate([np.full(len(nb), u) for u, nb in enumerate(neighbours[:n_regions])])
    cols = np.concatenate([nb for nb in neighbours[:n_regions]]) if n_regions else rows
    data = np.ones(len(rows), dtype=np.int8)
    graph = csr_matrix((data, (rows.astype(int), cols.astype(int))), shape=(n_regions,) * 2)
    return ((graph + graph.T) > 0).astype(np.int8).tocsr()


def territory_pieces(graph: csr_matrix, regions_of_rep: np.ndarray) -> list[np.ndarray]:
    """Connected pieces of one territory (region positions), largest first."""
    if len(regions_of_rep) == 0:
        return []
    count, label = connected_components(graph[regions_of_rep][:, regions_of_rep], directed=False)
    pieces = [regions_of_rep[label == k] for k in range(count)]
    return sorted(pieces, key=lambda piece: (-len(piece), int(piece.min())))


def minimal_separator(graph: csr_matrix, piece: np.ndarray, target: int) -> tuple[int, ...]:
    """Regions of N(piece) that also border the part of the map holding ``target`` once
    N(piece) is removed: a minimal separator between the piece and ``target``."""
    return piece_separators(graph, piece, [target])[0]


def piece_separators(graph: csr_matrix, piece: np.ndarray, targets) -> list[tuple[int, ...]]:
    """minimal_separator of ``piece`` and each of ``targets``, from one labelling of the
    parts of G - N(piece). A search from each target over the whole map cost 25 s of a
    60 s re-balance on 824 ZIP regions (5,198 searches in Python); the parts are one
    scipy pass per piece, and each target only looks its part up."""
    n = graph.shape[0]
    inside = np.zeros(n, dtype=bool)
    inside[piece] = True
    near = np.zeros(n, dtype=bool)
    for u in np.asarray(piece).tolist():
        near[graph.indices[graph.indptr[u] : graph.indptr[u + 1]]] = True
    near &= ~inside
    keep = np.flatnonzero(~near)
    _, part_of_kept = connected_components(graph[keep][:, keep], directed=False)
    part = np.full(n, -1)
    part[keep] = part_of_kept
    boundary = np.flatnonzero(near)
    # the parts each boundary region borders
    bordered = [
        set(part[graph.indices[graph.indptr[c] : graph.indptr[c + 1]]].tolist()) for c in boundary
    ]
    out = []
    for target in targets:
        mine = int(part[int(target)])
        out.append(tuple(int(c) for c, parts in zip(boundary, bordered) if mine in parts))
    return out


def separator_cuts(
    graph: csr_matrix, unit_rep: np.ndarray, n_regions: int, n_reps: int, skip=frozenset()
):
    """Cuts the plan ``unit_rep`` violates, and the number of disconnected territories
    (the territories of the reps in ``skip`` counted, not cut: flow rows connect them)."""
    cuts: list[Cut] = []
    broken = 0
    region_rep = unit_rep[:n_regions]
    for j in range(n_reps):
        pieces = territory_pieces(graph, np.flatnonzero(region_rep == j))
        if len(pieces) < 2:
            continue
        broken += 1
        if j in skip:
            continue
        for s, piece in enumerate(pieces):
            others = pieces[:s] + pieces[s + 1 :]
            # one separator serves every region of the other piece: the piece is
            # connected and misses N(piece), so it lies in one part of G - N(piece)
            separators = piece_separators(graph, piece, [int(o.min()) for o in others])
            for other, separator in zip(others, separators):
                cuts.extend(Cut(int(a), int(b), separator) for a in piece for b in other)
    return cuts, broken


def broken_reps(graph: csr_matrix, unit_rep: np.ndarray, n_regions: int, n_reps: int):
    """The reps whose territory in ``unit_rep`` is in more than one piece."""
    region_rep = unit_rep[:n_regions]
    return [
        j
        for j in range(n_reps)
        if len(territory_pieces(graph, np.flatnonzero(region_rep == j))) > 1
    ]


def connect_rows(model: AssignmentModel, problem, cuts: list[Cut]) -> None:
    """x[a, k] + x[b, k] - 1 <= sum_{c in C} x[c, k] for each cut and each rep k that may own
    both a and b (a missing pair is a zero: the row then says a and b are not both k's)."""
    index = {(int(u), int(j)): p for p, (u, j) in enumerate(zip(model.pairs.unit, model.pairs.rep))}
    for cut in cuts:
        for k in range(problem.n_reps):
            pa, pb = index.get((cut.a, k)), index.get((cut.b, k))
            if pa is None or pb is None:
                continue
            terms = [(model.x[pa], 1.0), (model.x[pb], 1.0)]
            terms += [(model.x[index[(c, k)]], -1.0) for c in cut.separator if (c, k) in index]
            a, b = safe_name(problem.unit_ids[cut.a]), safe_name(problem.unit_ids[cut.b])
            rep = safe_name(problem.rep_ids[k])
            name = f"connect[{a},{b},{rep}]_{model.lp.numConstraints()}"
            row = pulp.LpConstraint(
                pulp.LpAffineExpression(terms), pulp.LpConstraintLE, name=name, rhs=1.0
            )
            model.lp.addConstraint(row)


def _plan_of(model: AssignmentModel, n_units: int) -> np.ndarray:
    values = model.values()
    unit_rep = np.full(n_units, -1, dtype=int)
    chosen = values > 0.5
    unit_rep[model.pairs.unit[chosen]] = model.pairs.rep[chosen]
    return unit_rep


# --------------------------------------------------------------------------- prechecks


def _fmt(value: float) -> str:
    return f"{value:,.1f}"


def _heavy_regions(problem, allowed: np.ndarray, n_regions: int) -> list[str]:
    """Regions whose own load exceeds the upper band of every rep who may own them."""
    reasons = []
    for u in range(n_regions):
        reps = np.flatnonzero(allowed[u])
        for m, metric in enumerate(problem.metrics):
            load = problem.unit_load[m, u]
            if len(reps) and load > problem.upper[m, reps].max() + 1e-9:
                members = problem.unit_members[u]
                biggest = members[np.argsort(-problem.account_potential[members])][:3]
                names = ", ".join(str(problem.account_ids[i]) for i in biggest)
                reasons.append(
                    f"region {str(problem.unit_ids[u]).removeprefix('region:')} carries "
                    f"{_fmt(load)} {metric} on its own, above the upper band of every rep "
                    f"who may own it (at most {_fmt(problem.upper[m, reps].max())}); plan "
                    f"with a finer unit (ZIP codes instead of counties) or mark its "
                    f"biggest accounts named ({names})"
                )
    return reasons


def _blocking_reps(problem, graph, mine: np.ndarray, locked: set, j: int, n_regions: int):
    """The other reps whose locked regions cut rep ``j``'s locked regions apart: opening the
    regions locked to every other rep joins them, and opening all but rep k's does not (when
    no single rep's locks are needed, all reps with locks in the joining piece). Empty when
    opening every lock still leaves them apart (segment, region or distance rules do)."""
    lock_of = problem.locked_rep[:n_regions]
    others = np.flatnonzero((lock_of >= 0) & (lock_of != j))

    def joined(opened: np.ndarray) -> np.ndarray | None:
        pieces = territory_pieces(graph, np.union1d(mine, opened))
        holding = [p for p in pieces if locked & set(p.tolist())]
        return holding[0] if len(holding) == 1 else None

    piece = joined(others) if others.size else None
    if piece is None:
        return []
    reps = sorted({int(lock_of[u]) for u in piece if lock_of[u] >= 0 and lock_of[u] != j})
    needed = [k for k in reps if joined(others[lock_of[others] != k]) is None]
    return [str(problem.rep_ids[k]) for k in (needed or reps)]


def _unconnectable(problem, graph, allowed: np.ndarray, n_regions: int) -> list[str]:
    """Per rep: locked regions no allowed path joins, or a band no connected piece of the
    regions it may own (plus its allowed named accounts) can fill."""
    reasons = []
    named_load = problem.unit_load[:, n_regions:] @ allowed[n_regions:].astype(float)
    for j, rep_id in enumerate(problem.rep_ids):
        mine = np.flatnonzero(allowed[:n_regions, j])
        pieces = territory_pieces(graph, mine)
        locked = set(np.flatnonzero(problem.locked_rep[:n_regions] == j).tolist())
        holding = [p for p in pieces if locked & set(p.tolist())]
        if len(holding) > 1:
            names = [
                sorted(str(problem.unit_ids[u]) for u in locked & set(p.tolist())) for p in holding
            ]
            blockers = _blocking_reps(problem, graph, mine, locked, j, n_regions)
            fix = (
                f"regions locked to {', '.join(blockers)} lie between them; unlock some of "
                f"those or of {rep_id}'s"
                if blockers
                else "unlock some or lift the rep's region rule"
            )
            reasons.append(
                f"rep {rep_id}: its locked regions fall in {len(holding)} parts of the map that "
                f"no regions it may own join ({'; '.join(', '.join(n) for n in names)}), so "
                f"its territory cannot be connected: {fix}"
            )
            continue
        for m, metric in enumerate(problem.metrics):
            best = max((problem.unit_load[m, p].sum() for p in pieces), default=0.0)
            if pieces and best + named_load[m, j] < problem.lower[m, j] - 1e-9:
                reasons.append(
                    f"rep {rep_id}: the largest connected part of the map it may own carries "
                    f"{_fmt(best + named_load[m, j])} {metric}, below its band's lower end "
                    f"{_fmt(problem.lower[m, j])}"
                )
    return reasons


def region_precheck(problem, graph: csr_matrix, n_regions: int) -> None:
    """Raise InfeasibleError with every face-value impossibility contiguity adds."""
    allowed = problem.allowed_block(np.arange(problem.n_units))
    reasons = _heavy_regions(problem, allowed, n_regions)
    reasons += _unconnectable(problem, graph, allowed, n_regions)
    if reasons:
        raise InfeasibleError(reasons)


def _bridge(graph, plan, j, piece, target: set[int], empty, allowed) -> list[int] | None:
    """Shortest path of empty regions rep j may own from ``piece`` to ``target``."""
    start = set(piece.tolist())
    parent: dict[int, int | None] = {u: None for u in start}
    queue = deque(start)
    while queue:
        u = queue.popleft()
        for c in graph.indices[graph.indptr[u] : graph.indptr[u + 1]]:
            c = int(c)
            if c in parent:
                continue
            if c in target:
                path, step = [], u
                while step is not None and step not in start:
                    path.append(step)
                    step = parent[step]
                return path
            if empty[c] and allowed[c, j]:
                parent[c] = u
                queue.append(c)
    return None


def settle_empty_regions(problem, graph, plan: np.ndarray, n_regions: int) -> np.ndarray | None:
    """Re-give regions with no accounts so every territory is one piece, if that alone can
    do it. Such a region carries no load and no cost, so a plan of the MILP is as good with
    any owner for it; the MILP picks one at random, which breaks territories for nothing.
    Stray pieces of a territory are joined to its largest piece along empty regions; pieces
    made only of empty regions go to a neighbouring territory. Returns the connected plan
    (same objective, same bands) or None."""
    empty = np.array([len(problem.unit_members[u]) == 0 for u in range(n_regions)])
    if not empty.any():
        return None
    allowed = problem.allowed_block(np.arange(n_regions))
    plan = plan.copy()
    for _ in range(4):
        for j in range(problem.n_reps):
            pieces = territory_pieces(graph, np.flatnonzero(plan[:n_regions] == j))
            for piece in pieces[1:]:
                if empty[piece].all():
                    continue
                path = _bridge(graph, plan, j, piece, set(pieces[0].tolist()), empty, allowed)
                if path:
                    plan[path] = j
        for j in range(problem.n_reps):
            for piece in territory_pieces(graph, np.flatnonzero(plan[:n_regions] == j))[1:]:
                if not empty[piece].all():
                    continue
                near = {
                    int(c)
                    for u in piece
                    for c in graph.indices[graph.indptr[u] : graph.indptr[u + 1]]
                }
                owners = sorted(
                    {int(plan[c]) for c in near if plan[c] != j and allowed[piece, plan[c]].all()}
                )
                if owners:
                    plan[piece] = owners[0]
        if separator_cuts(graph, plan, n_regions, problem.n_reps)[1] == 0:
            return plan
    return None


def no_connected_plan(settings, cuts: int, bound: float, phases) -> str:
    """Why no plan came back, and what to change: when rounds found plans of whole regions
    that each broke a territory, the bands hold for whole regions and contiguity is what
    the time ran out on, so tighter bands need more time, wider tolerances or finer
    regions; otherwise the time went before any whole-region plan."""
    whole = sum(
        1
        for entry in phases
        if entry.get("phase") == "regions_milp" and entry.get("objective") is not None
    )
    said = (
        f"no plan of connected territories was found within the time limit of "
        f"{settings.time_limit:g} s ({cuts} contiguity cuts added; LP bound {bound:,.1f})"
    )
    if whole:
        return (
            f"{said}; {whole} plan(s) of whole regions within the bands were found, each with "
            "a territory in pieces: raise --time-limit, widen the balance tolerances (whole "
            "regions meet tight bands in few connected ways) or plan with smaller regions"
        )
    return f"{said}; raise --time-limit"


# --------------------------------------------------------------------------- reach cuts


@dataclass(frozen=True)
class ReachCut:
    """x[a, rep] <= sum_{c in boundary} x[c, rep] for one rep (reach_rows)."""

    a: int
    rep: int
    boundary: tuple[int, ...]


class BandFloors:
    """What each rep's lower bands demand of a region set, for reach cuts.

    A set S of regions is *too light* for rep k when for some metric m

        sum_{u in S} max(a[m, u, k], 0) + sum_{named u k may own} max(a[m, u, k], 0) < L[m, k]

    Then no territory of k within S (plus any named accounts) meets k's band, so a
    connected territory of k holding a region of S also holds a region outside S, and the
    path to it leaves S through N(S) = the regions outside S bordering it. Loads count only
    for the pairs of the model: a region k may not own is never in k's territory."""

    def __init__(self, problem, pairs, n_regions: int):
        n_metrics, n_reps = len(problem.metrics), problem.n_reps
        region = pairs.unit < n_regions
        self.region_load = np.zeros((n_metrics, n_regions, n_reps))
        positive = np.maximum(pairs.load, 0.0)
        self.region_load[:, pairs.unit[region], pairs.rep[region]] = positive[:, region]
        self.named_load = np.zeros((n_metrics, n_reps))
        for m in range(n_metrics):
            np.add.at(self.named_load[m], pairs.rep[~region], positive[m, ~region])
        lower = np.asarray(problem.lower, dtype=float)
        self.floor = np.where(np.isfinite(lower), lower, -np.inf)
        # a set is too light only by a margin beyond rounding in the band rows
        self.floor = self.floor - 1e-7 * np.maximum(1.0, np.abs(self.floor))

    def too_light(self, regions, k: int) -> bool:
        """S = ``regions`` carries less than some lower band of rep k (class docstring)."""
        at = np.asarray(regions, dtype=np.intp)
        load = self.region_load[:, at, k].sum(axis=1) + self.named_load[:, k]
        return bool((load < self.floor[:, k]).any())


def region_boundary(graph: csr_matrix, regions) -> tuple[int, ...]:
    """N(S): the regions outside S that border a region of S."""
    inside = set(int(u) for u in regions)
    return tuple(
        sorted(
            {
                int(c)
                for u in inside
                for c in graph.indices[graph.indptr[u] : graph.indptr[u + 1]]
                if int(c) not in inside
            }
        )
    )


def piece_reach_cuts(graph: csr_matrix, unit_rep: np.ndarray, n_regions: int, floors):
    """Reach cuts the plan ``unit_rep`` violates: for each piece S of a territory j that is
    too light for j (BandFloors), x[a, j] <= sum_{c in N(S)} x[c, j] for every a in S. The
    plan has x[a, j] = 1 and, S being a whole piece, no region of N(S) in j's territory."""
    cuts: list[ReachCut] = []
    region_rep = unit_rep[:n_regions]
    for j in np.unique(region_rep[region_rep >= 0]).tolist():
        pieces = territory_pieces(graph, np.flatnonzero(region_rep == j))
        if len(pieces) < 2:
            continue
        for piece in pieces:
            if floors.too_light(piece, j):
                boundary = region_boundary(graph, piece)
                cuts.extend(ReachCut(int(a), int(j), boundary) for a in piece)
    return cuts


def fractional_reach_cuts(graph, model: AssignmentModel, n_regions: int, floors, least=1e-3):
    """Reach cuts a fractional solution of the relaxation violates by more than ``least``.

    For each rep k and region a with x*[a, k] > least, S grows from {a} by the boundary
    region of largest x*[., k] while S stays too light for k (BandFloors); the first S with
    x*[a, k] - sum_{c in N(S)} x*[c, k] > least gives the cut (a greedy search, not exact:
    every cut it returns is valid, it may miss some)."""
    values = model.values()
    value = np.zeros((n_regions, int(model.pairs.rep.max(initial=-1)) + 1))
    region = model.pairs.unit < n_regions
    value[model.pairs.unit[region], model.pairs.rep[region]] = values[region]
    cuts: list[ReachCut] = []
    for k in range(value.shape[1]):
        for a in np.flatnonzero(value[:, k] > least).tolist():
            cut = _grow_light_set(graph, value[:, k], a, k, floors, least)
            if cut is not None:
                cuts.append(cut)
    return cuts


def _grow_light_set(graph, weight: np.ndarray, a: int, k: int, floors, least: float):
    """The greedy search of fractional_reach_cuts from region ``a`` for rep ``k``.

    S and N(S) are kept as S grows, and the heaviest boundary region comes off a heap
    (largest weight, then smallest index, as ``max`` by (weight, -index) picks it):
    rebuilding N(S) from S at every step made the search quadratic in |S|, 19 s of a 60 s
    re-balance on 824 ZIP regions, where a light set grows to a hundred regions."""
    members = np.empty(graph.shape[0], dtype=np.intp)
    members[0], size = a, 1
    inside, boundary, heap = {a}, set(), []

    def border(u: int) -> None:
        for c in graph.indices[graph.indptr[u] : graph.indptr[u + 1]].tolist():
            if c not in inside and c not in boundary:
                boundary.add(c)
                heapq.heappush(heap, (-weight[c], c))

    border(a)
    while floors.too_light(members[:size], k):
        ordered = sorted(boundary)
        if weight[a] - weight[ordered].sum() > least:
            return ReachCut(a, k, tuple(ordered))
        while heap and heap[0][1] not in boundary:
            heapq.heappop(heap)  # joined S since it was pushed
        if not heap or weight[heap[0][1]] <= 0.0:
            return None  # growing through regions k holds none of cannot lower the sum
        heaviest = heapq.heappop(heap)[1]
        boundary.discard(heaviest)
        inside.add(heaviest)
        members[size], size = heaviest, size + 1
        border(heaviest)
    return None


def reach_rows(model: AssignmentModel, problem, cuts: list[ReachCut]) -> None:
    """x[a, k] - sum_{c in N(S)} x[c, k] <= 0 for each reach cut (ReachCut, BandFloors: a
    connected territory of k holding a leaves the too-light set S through N(S)); a region of
    N(S) k may not own is a zero."""
    index = {(int(u), int(j)): p for p, (u, j) in enumerate(zip(model.pairs.unit, model.pairs.rep))}
    for cut in cuts:
        pa = index.get((cut.a, cut.rep))
        if pa is None:
            continue
        terms = [(model.x[pa], 1.0)]
        terms += [
            (model.x[index[(c, cut.rep)]], -1.0) for c in cut.boundary if (c, cut.rep) in index
        ]
        a, rep = safe_name(problem.unit_ids[cut.a]), safe_name(problem.rep_ids[cut.rep])
        name = f"reach[{a},{rep}]_{model.lp.numConstraints()}"
        row = pulp.LpConstraint(
            pulp.LpAffineExpression(terms), pulp.LpConstraintLE, name=name, rhs=0.0
        )
        model.lp.addConstraint(row)
