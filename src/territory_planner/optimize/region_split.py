"""Geography mode at national scale: the map split into districts of neighbouring
territories, each district solved on its own (solve_regions), the plans joined.

Why. At 29,260 ZIP cells x 300 reps the cut rounds over the whole map never reached a
connected plan in 30 minutes: the first MILP round alone (no contiguity yet) took 857 s at
HiGHS's root and left 63 territories in pieces too scattered to mend near the plan. The
same machinery solves a map of about 3,000 regions and 40 reps in one to two minutes. So a
map with many reps is cut into districts of about ``district_reps`` reps each, and each
district is solved as such a map.

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

What it proves. The plan joined is connected (each territory lies in one district and is
connected there, which is checked again on the whole map), meets every rule (each rule is
per rep, and each rep is in exactly one district; a disruption budget, which couples all
reps, is never split: split_solve is not used with one) and its bound is the LP
relaxation's over all pairs, a bound for every plan, split or not. The districts' own
bounds hold only for plans that keep the split and are not used. Each district asks for
half the gap, since the split itself costs a little against the LP bound.

A district that its rules or the time cannot solve is merged with the district it borders
most and solved again in the time left; the joined plan is made cheaper by border moves
across the districts' borders (border_moves.py).
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.sparse import csr_matrix

from ..errors import InfeasibleError, SolverError
from .band_repair import BandSearch
from .border_moves import improve_by_moves
from .contiguity import separator_cuts, territory_pieces
from .model import PairSet
from .pairs import pairs_for, union_pairs
from .settings import Clock, SolveSettings
from .solvers import can_run_together

#: of the time left after the LP, what the join's border moves may use at most
JOIN_SHARE = 0.03
#: districts solved side by side (two cores), and the share of the time kept back from the
#: side-by-side pass for districts that fail there and are solved again merged
LANES, MEND_SHARE = 2, 0.1
#: a district holding fewer than this share of its reps' quota is a fragment and is merged
FRAGMENT = 0.5
#: how far in from their reps' summed bands the districts' loads are drawn (balance_districts)
#: and the share of the time left that it may take
MARGIN, BALANCE_SHARE = 0.6, 0.03
#: sweeps of the piece-joining pass before it gives up (each sweep only moves pieces)
PIECE_SWEEPS = 20


def splits(problem, settings: SolveSettings, start) -> bool:
    """Whether the map is split: at least two districts' worth of reps, no disruption
    budget (it couples every rep) and no connected start from the caller."""
    return (
        settings.district_reps > 0
        and problem.n_reps >= 2 * settings.district_reps
        and problem.max_moved_potential is None
        and start is None
    )


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


def _neighbours(graph: csr_matrix, node: int) -> np.ndarray:
    return graph.indices[graph.indptr[node] : graph.indptr[node + 1]]


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


@dataclasses.dataclass
class DistrictTables:
    """What band_repair.BandSearch reads, for districts in place of reps: each unit's load
    (the same whoever owns it), the districts' bands with a margin, costs 0 where some rep
    of the district may own the unit and inf where none may."""

    cost: np.ndarray  # (U, D)
    load: np.ndarray  # (M, U, D)
    lower: np.ndarray  # (M, D)
    upper: np.ndarray  # (M, D)

    def rep_loads(self, plan: np.ndarray) -> np.ndarray:
        loads = np.zeros(self.lower.shape)
        for m in range(loads.shape[0]):
            np.add.at(loads[m], plan, self.load[m, np.arange(len(plan)), plan])
        return loads


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
    of its reps' summed upper workload band and found no connected plan in 240 s. Returns
    the best split reached in ``seconds``."""
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
    search = BandSearch(
        DistrictTables(cost, load, lower, upper), target, graph, n_regions, unit_district
    )
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


def district_problem(problem, units: np.ndarray, reps: np.ndarray):
    """The planning problem of ``units`` and ``reps`` alone: the same costs, loads, bands
    and rules, positions renumbered (accounts whose owner today is outside are owned by no
    rep of the district, so moving them costs the same as in the whole problem)."""
    members = [problem.unit_members[u] for u in units]
    accounts = np.concatenate(members).astype(int) if members else np.zeros(0, dtype=int)
    sizes = np.array([len(m) for m in members], dtype=int)
    ends = np.cumsum(sizes)
    unit_members = [np.arange(end - n, end) for end, n in zip(ends, sizes)]
    rep_position = np.full(problem.n_reps, -1, dtype=int)
    rep_position[reps] = np.arange(len(reps))

    def positions(array):
        return np.where(array >= 0, rep_position[np.maximum(array, 0)], -1)

    def some(array, *index):
        return None if array is None else array[np.ix_(*index) if len(index) > 1 else index[0]]

    notes = dict(problem.notes)
    if notes.get("segments") is not None:
        notes["segments"] = [notes["segments"][a] for a in accounts]
    return dataclasses.replace(
        problem,
        unit_ids=problem.unit_ids[units],
        unit_members=unit_members,
        account_ids=problem.account_ids[accounts],
        account_unit=np.repeat(np.arange(len(units)), sizes),
        rep_ids=problem.rep_ids[reps],
        unit_load=problem.unit_load[:, units],
        target=problem.target[:, reps],
        lower=problem.lower[:, reps],
        upper=problem.upper[:, reps],
        allowed=some(problem.allowed, units, reps),
        locked_rep=positions(problem.locked_rep[units]),
        current_rep=positions(problem.current_rep[accounts]),
        account_workload=problem.account_workload[accounts],
        account_potential=problem.account_potential[accounts],
        account_lat=some(problem.account_lat, accounts),
        account_lon=some(problem.account_lon, accounts),
        rep_lat=some(problem.rep_lat, reps),
        rep_lon=some(problem.rep_lon, reps),
        cost_matrix=some(problem.cost_matrix, units, reps),
        pair_load=None if problem.pair_load is None else problem.pair_load[:, units][:, :, reps],
        notes=notes,
    )


def district_map(graph: csr_matrix, district: District, n_regions: int, homes):
    """The region graph of a district's regions (renumbered), its region count, and the
    home of each of its reps as a district unit (-1 when it lies in another district)."""
    units = district.units
    regions = units[units < n_regions]
    local = np.full(n_regions, -1, dtype=int)
    local[regions] = np.arange(len(regions))
    sub = graph[regions][:, regions].tocsr()
    neighbours = [sub.indices[sub.indptr[u] : sub.indptr[u + 1]] for u in range(len(regions))]
    neighbours += [np.zeros(0, dtype=int)] * (len(units) - len(regions))
    if homes is None:
        return neighbours, len(regions), None
    own = homes[district.reps]
    return neighbours, len(regions), np.where(own >= 0, local[np.maximum(own, 0)], -1)


def merged_with_neighbour(districts: list[District], d: int, graph, n_regions: int):
    """``districts`` with district ``d`` merged into the district it borders most, the
    index of the merged district in the new list and the index of the one ``d`` joined in
    the old; None when ``d`` borders no other district."""
    owner = np.full(n_regions, -1, dtype=int)
    for index, district in enumerate(districts):
        owner[district.units[district.units < n_regions]] = index
    regions = districts[d].units[districts[d].units < n_regions]
    outside = owner[graph[regions].indices]
    outside = outside[(outside != d) & (outside >= 0)]
    if not len(outside):
        return None
    target = int(np.bincount(outside).argmax())
    merged = District(
        np.sort(np.concatenate([districts[target].units, districts[d].units])),
        np.sort(np.concatenate([districts[target].reps, districts[d].reps])),
    )
    rest = [other for index, other in enumerate(districts) if index not in (d, target)]
    position = min(d, target)
    return rest[:position] + [merged] + rest[position:], position, target


@dataclasses.dataclass
class DistrictTask:
    """What one district's solve needs, built in the parent: its problem and map, its
    settings (gap halved, no further split) and its planned seconds."""

    problem: object
    neighbours: list
    n_regions: int
    homes: np.ndarray | None
    settings: SolveSettings
    contiguous: bool
    planned: float


def district_task(problem, graph, n_regions, homes, district, settings, contiguous, planned):
    sub = district_problem(problem, district.units, district.reps)
    neighbours, sub_regions, sub_homes = district_map(graph, district, n_regions, homes)
    sub_settings = dataclasses.replace(settings, gap=settings.gap / 2, district_reps=0)
    return DistrictTask(sub, neighbours, sub_regions, sub_homes, sub_settings, contiguous, planned)


def solve_district(solve: Callable, task: DistrictTask, deadline: float) -> dict:
    """One district by ``solve`` in its planned seconds, never past ``deadline`` (a
    ``perf_counter()``, the same clock in a forked lane): its plan (district rep positions),
    cost, gap and seconds, or why it failed (an infeasible district is no proof about the
    whole map, so it is a failure here, not an answer)."""
    limit = max(0.0, min(task.planned, deadline - time.perf_counter()))
    settings = dataclasses.replace(task.settings, time_limit=limit, started=None)
    try:
        result = solve(
            task.problem,
            task.neighbours,
            task.n_regions,
            settings,
            contiguous=task.contiguous,
            homes=task.homes,
        )
    except (InfeasibleError, SolverError) as error:
        return {"failed": str(error).splitlines()[0][:300]}
    return {
        "plan": result.unit_rep,
        "objective": result.objective,
        "gap": result.gap,
        "seconds": result.seconds,
    }


def side_by_side(solve: Callable, tasks: list[DistrictTask], deadline: float) -> list[dict]:
    """The districts' solves on LANES forked processes, largest first (each lane runs the
    districts it is handed one after another; HiGHS solves inside are boxed as ever)."""
    order = sorted(range(len(tasks)), key=lambda d: -tasks[d].n_regions)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=LANES, mp_context=context) as lanes:
        futures = {d: lanes.submit(solve_district, solve, tasks[d], deadline) for d in order}
        return [futures[d].result() for d in range(len(tasks))]


def split_solve(
    problem,
    graph: csr_matrix,
    n_regions: int,
    homes,
    settings: SolveSettings,
    clock: Clock,
    relaxation,
    *,
    contiguous: bool,
    solve: Callable,
    phases: list,
    say: Callable[[str], None],
) -> np.ndarray:
    """The joined plan of the districts (module docstring), each solved by ``solve``
    (solve_regions). With two lanes (Linux, HiGHS) the districts are first solved side by
    side, each planned for its units' share of one lane's time, leaving MEND_SHARE for
    districts that fail; then, one after another, each district not solved yet gets its
    units' share of the time left, and a failed one is first merged with the district it
    borders most (which, if solved, is solved again merged). Raises SolverError when a
    failed district borders none or no time is left."""
    districts = draw_districts(
        problem,
        graph,
        n_regions,
        relaxation.model,
        settings.district_reps,
        BALANCE_SHARE * clock.remaining,
    )
    sizes = ", ".join(f"{len(d.units):,}/{len(d.reps)}" for d in districts)
    say(f"map split into {len(districts)} districts (units/reps: {sizes})")
    phases.append({"phase": "regions_split", "districts": len(districts), "seconds": clock.elapsed})
    deadline = clock.deadline(1.0 - JOIN_SHARE)
    outcomes: list[dict | None] = [None] * len(districts)

    def task(district, planned):
        return district_task(
            problem, graph, n_regions, homes, district, settings, contiguous, planned
        )

    def record(d: int, outcome: dict) -> None:
        district = districts[d]
        entry = {"phase": "regions_district", "district": d, "units": len(district.units)}
        entry["reps"] = len(district.reps)
        if "failed" in outcome:
            phases.append(entry | {"failed": outcome["failed"]})
            say(f"district {d + 1} found no plan ({outcome['failed']})")
        else:
            entry.update(objective=outcome["objective"], gap=outcome["gap"])
            phases.append(entry | {"seconds": round(clock.elapsed, 3)})
            say(
                f"district {d + 1}/{len(districts)}: {len(district.units):,} units, "
                f"{len(district.reps)} reps, gap {outcome['gap']:.3%} in "
                f"{outcome['seconds']:.1f} s"
            )
        outcomes[d] = outcome

    if len(districts) > 1 and can_run_together(settings):
        lane_end = clock.deadline(1.0 - JOIN_SHARE - MEND_SHARE)
        lane_units = sum(len(d.units) for d in districts) / LANES
        seconds = lane_end - time.perf_counter()
        tasks = [task(d, seconds * len(d.units) / lane_units) for d in districts]
        for d, outcome in enumerate(side_by_side(solve, tasks, lane_end)):
            record(d, outcome)
    while any(outcome is None or "failed" in outcome for outcome in outcomes):
        d = next(i for i, outcome in enumerate(outcomes) if outcome is None or "failed" in outcome)
        if outcomes[d] is not None:  # failed: merged with its neighbour, solved again
            merged = merged_with_neighbour(districts, d, graph, n_regions)
            if merged is None or time.perf_counter() >= deadline:
                raise SolverError(
                    f"district {d + 1} of the split map ({len(districts[d].units):,} units, "
                    f"{len(districts[d].reps)} reps) found no plan: {outcomes[d]['failed']}"
                )
            districts, position, target = merged
            kept = [o for i, o in enumerate(outcomes) if i not in (d, target)]
            outcomes = kept[:position] + [None] + kept[position:]
            continue
        left = sum(len(other.units) for other, o in zip(districts, outcomes) if o is None)
        planned = (deadline - time.perf_counter()) * len(districts[d].units) / left
        record(d, solve_district(solve, task(districts[d], planned), deadline))
    plan = np.full(problem.n_units, -1, dtype=int)
    for district, outcome in zip(districts, outcomes):
        plan[district.units] = district.reps[outcome["plan"]]
    return join_plans(problem, graph, n_regions, plan, relaxation.pairs, clock, contiguous)


def join_plans(problem, graph, n_regions, plan, pairs: PairSet, clock: Clock, contiguous: bool):
    """The districts' plans as one, checked connected on the whole map, then made cheaper by
    border moves across district borders over the LP's pairs and the plan's own."""
    if contiguous and separator_cuts(graph, plan, n_regions, problem.n_reps)[1]:
        raise SolverError("the districts' plans joined are not connected (a defect: report it)")
    if not contiguous:
        return plan
    units = np.arange(problem.n_units)
    own = pairs_for(problem, units, plan)
    return improve_by_moves(
        problem, union_pairs(problem, own, pairs), graph, n_regions, plan, clock.remaining
    )
