"""Districts of a geography-mode map: neighbouring territories grouped so that each group
can be solved as a map of its own (region_split.py solves and joins them).

How the districts are drawn (draw_districts). The LP relaxation over all allowed pairs
(priced, region_pairs.py) comes first; each unit goes to the rep holding most of it, its
*lead* rep. Two reps touch when a region led by one borders a region led by the other.
Districts are grown over that graph of reps, breadth first from a rep on its edge, until
they hold their share of the reps; a left-over fragment joins the district it touches
most. Each unit goes to its lead rep's district. A district's regions are then made one
piece: a piece cut off from its district's largest joins the district it borders most, so
that a territory connected inside its district is connected on the whole map. Border
regions then move between districts until each district's load lies inside its reps'
summed bands with a margin (balance_districts).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque

import numpy as np
from scipy.sparse import csr_matrix

from .band_repair import BandSearch
from .border_moves import PlanTables, _neighbours
from .contiguity import territory_pieces

#: a district holding fewer than this share of its reps' quota is a fragment and is merged
FRAGMENT = 0.5
#: how far in from their reps' summed bands the districts' loads are drawn (balance_districts)
MARGIN = 0.15
#: sweeps of the piece-joining pass before it gives up (each sweep only moves pieces)
PIECE_SWEEPS = 20


def lead_reps(model, n_units: int) -> np.ndarray:
    """Each unit's rep holding the largest share of it in the LP ``model`` (-1: none)."""
    values = model.values()
    pairs = model.pairs
    order = np.lexsort((-values, pairs.unit))
    units = pairs.unit[order]
    first = np.r_[True, units[1:] != units[:-1]] if len(units) else np.zeros(0, dtype=bool)
    lead = np.full(n_units, -1, dtype=int)
    lead[units[first]] = pairs.rep[order][first]
    return lead


def rep_graph(graph: csr_matrix, lead: np.ndarray, n_regions: int, n_reps: int) -> csr_matrix:
    """Reps j != k touch (weight: the borders between them) when a region led by j borders
    one led by k."""
    coo = graph.tocoo()
    j, k = lead[coo.row], lead[coo.col]
    keep = (j != k) & (j >= 0) & (k >= 0)
    ones = np.ones(int(keep.sum()))
    return csr_matrix((ones, (j[keep], k[keep])), shape=(n_reps, n_reps)).tocsr()


def _edge_node(reps: csr_matrix, free: np.ndarray) -> int:
    """A rep on the edge of the free reps: the last reached by a breadth-first walk from
    the first free rep (a pseudo-peripheral node), so districts grow inward, not from the
    middle of the map leaving scraps all round."""
    start = int(np.flatnonzero(free)[0])
    seen, order = {start}, deque([start])
    last = start
    while order:
        last = order.popleft()
        for k in _neighbours(reps, last):
            if free[k] and int(k) not in seen:
                seen.add(int(k))
                order.append(int(k))
    return last


def group_reps(reps: csr_matrix, size: int) -> np.ndarray:
    """The district of each rep: districts grown breadth first from an edge rep to their
    share of the reps (``size`` each, about); a fragment under FRAGMENT of its share
    joins the district it touches most (or the smallest when it touches none)."""
    n_reps = reps.shape[0]
    count = max(1, round(n_reps / size))
    shares = [n_reps // count + (1 if d < n_reps % count else 0) for d in range(count)]
    district = np.full(n_reps, -1, dtype=int)
    grown = 0
    while (district < 0).any():
        seed = _edge_node(reps, district < 0)
        share = shares[grown] if grown < count else 0
        district[seed] = grown
        members, order = 1, deque([seed])
        while order and members < share:
            rep = order.popleft()
            # the reps sharing most border with this one first: compact districts
            row = reps[rep]
            for k in row.indices[np.argsort(-row.data, kind="stable")]:
                if district[k] < 0 and members < share:
                    district[k] = grown
                    members += 1
                    order.append(int(k))
        grown += 1
    return _merge_fragments(reps, district, shares)


def _merge_fragments(reps: csr_matrix, district: np.ndarray, shares: list[int]) -> np.ndarray:
    """Districts under FRAGMENT of their share (or past the count) joined to the district
    they touch most; districts numbered 0.. again."""
    size = np.bincount(district)
    while True:
        small = [
            d
            for d in range(len(size))
            if size[d] and size[d] < FRAGMENT * (shares[d] if d < len(shares) else math.inf)
        ]
        if not small or (size > 0).sum() == 1:
            break
        d = min(small, key=lambda d: size[d])
        members = np.flatnonzero(district == d)
        touching = np.zeros(len(size))
        rows = reps[members].tocoo()
        np.add.at(touching, district[rows.col], rows.data)
        touching[d] = 0
        if touching.max() > 0:
            target = int(np.argmax(touching))
        else:
            sizes = np.where((size > 0) & (np.arange(len(size)) != d), size, np.iinfo(int).max)
            target = int(np.argmin(sizes))
        district[members] = target
        size = np.bincount(district, minlength=len(size))
    _, renumbered = np.unique(district, return_inverse=True)
    return renumbered


def join_pieces(graph: csr_matrix, unit_district: np.ndarray, n_regions: int) -> np.ndarray:
    """``unit_district`` with each district's regions one piece: a piece cut off from its
    district's largest joins the district it borders most. Returns the districts (a copy)."""
    district = unit_district.copy()
    for _ in range(PIECE_SWEEPS):
        moved = False
        for d in np.unique(district[:n_regions]):
            for piece in territory_pieces(graph, np.flatnonzero(district[:n_regions] == d))[1:]:
                outside = graph[piece].indices
                outside = outside[district[outside] != d]
                if len(outside):
                    district[piece] = np.bincount(district[outside]).argmax()
                    moved = True
        if not moved:
            break
    return district


def _within_margin(low, mid, high):
    """[low, high] drawn MARGIN of the way in towards mid (an infinite side stays so)."""
    with np.errstate(invalid="ignore"):
        lower = np.where(np.isfinite(low), low + MARGIN * (mid - low), low)
        upper = np.where(np.isfinite(high), high - MARGIN * (high - mid), high)
    return lower, upper


def balance_districts(problem, graph, n_regions, unit_district, rep_district, seconds: float):
    """``unit_district`` with border regions moved between districts until each district's
    load lies within its reps' bands summed, drawn MARGIN of the way in (band_repair's
    search, districts for reps: each stays one piece). The LP puts the reps of a dense
    area at their upper bands, so a district drawn from it is nearly full, and whole
    connected regions then rarely fit: on the national map the first district held 99.5%
    of its reps' summed upper workload band and found no connected plan in 240 s. The
    margin costs the bound, for load leaves the districts where the LP put it: the sum of
    the districts' LPs lay 5.65% above the whole map's LP at a margin of 0.6, 1.19% at 0.3,
    0.23% at 0.15 and 0.05% at 0 (national map); at 0.15 every district found a connected
    plan and the national plan came to 2.33%, at 0.6 to 5.33%. Returns the best split
    reached in ``seconds``."""
    count = rep_district.max() + 1
    one_hot = np.zeros((problem.n_reps, count))
    one_hot[np.arange(problem.n_reps), rep_district] = 1.0
    target = problem.target @ one_hot
    lower, upper = _within_margin(problem.lower @ one_hot, target, problem.upper @ one_hot)
    unit_load = problem.unit_load if problem.pair_load is None else problem.pair_load.mean(axis=2)
    allowed = np.ones((problem.n_units, problem.n_reps), dtype=bool)
    for units in problem.unit_blocks():
        allowed[units] = problem.allowed_block(units)
    cost = np.where(allowed @ one_hot > 0, 0.0, np.inf)
    load = np.repeat(unit_load[:, :, None], count, axis=2)
    tables = PlanTables.from_arrays(cost, load, lower, upper)
    search = BandSearch(tables, target, graph, n_regions, unit_district)
    search.run(time.perf_counter() + seconds)
    return search.plan


@dataclasses.dataclass
class District:
    """One district: its units and reps (positions in the whole problem)."""

    units: np.ndarray
    reps: np.ndarray


def draw_districts(
    problem, graph, n_regions: int, model, size: int, seconds: float = math.inf
) -> list[District]:
    """The districts of the map (module docstring) from the LP ``model``, their loads
    balanced in at most ``seconds`` (balance_districts)."""
    lead = lead_reps(model, problem.n_units)
    rep_district = group_reps(rep_graph(graph, lead, n_regions, problem.n_reps), size)
    unit_district = np.where(lead >= 0, rep_district[np.maximum(lead, 0)], 0)
    unit_district = join_pieces(graph, unit_district, n_regions)
    unit_district = balance_districts(
        problem, graph, n_regions, unit_district, rep_district, seconds
    )
    return [
        District(np.flatnonzero(unit_district == d), np.flatnonzero(rep_district == d))
        for d in range(rep_district.max() + 1)
    ]
