"""Geography mode at national scale: the map split into districts of neighbouring
territories, each district solved on its own (solve_regions), the plans joined.

Why. At 29,260 ZIP cells x 300 reps the cut rounds over the whole map never reached a
connected plan in 30 minutes: the first MILP round alone (no contiguity yet) took 857 s at
HiGHS's root and left 63 territories in pieces too scattered to mend near the plan. The
same machinery solves a map of about 3,000 regions and 40 reps in one to two minutes. So a
map with many reps is cut into districts of about ``district_reps`` reps each, and each
district is solved as such a map.

How the districts are drawn: districts.py.

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
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy.sparse import csr_matrix

from ..errors import InfeasibleError, SolverError
from .border_moves import improve_by_moves
from .contiguity import separator_cuts
from .districts import District, draw_districts
from .model import PairSet
from .rooted_flow import region_neighbours
from .settings import Clock, SolveSettings
from .solvers import can_run_together

#: of the time left after the LP, what the join's border moves may use at most
JOIN_SHARE = 0.03
#: districts solved side by side (two cores), and the share of the time kept back from the
#: side-by-side pass for districts that fail there and are solved again merged
LANES, MEND_SHARE = 2, 0.1
#: the share of the time left that balancing the districts' loads may take
BALANCE_SHARE = 0.03


def splits(problem, settings: SolveSettings, start) -> bool:
    """Whether the map is split: at least two districts' worth of reps, no disruption
    budget (it couples every rep) and no connected start from the caller."""
    return (
        settings.district_reps > 0
        and problem.n_reps >= 2 * settings.district_reps
        and problem.max_moved_potential is None
        and start is None
    )


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
    neighbours = region_neighbours(graph[regions][:, regions].tocsr())
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
            polish=False,
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
    return improve_by_moves(problem, pairs, graph, n_regions, plan, clock.remaining)
