"""Whether connected territories can meet every band at all, decided on a small map: the
assignment model with a single-commodity flow whose root each rep chooses.

For rep j, root indicators y[u, j] in {0, 1} and flows f[u, v, j] >= 0 on the arcs between
regions j may own (the region graph with its island links):

    y[u, j] <= x[u, j]                    sum_u y[u, j] <= 1              (root_rows)
    sum_v f[v, u, j] - sum_v f[u, v, j] >= x[u, j] - n y[u, j]            (free_root_flow_rows)
    sum_v f[v, u, j] <= (n - 1) x[u, j]

A connected territory meets these rows (its root sends one unit down a spanning tree to each
other region). A territory in pieces cannot: flow enters only regions of the territory, so
no flow crosses between its pieces, and a piece without the root would need net inflow of at
least its size. A rep with no root owns no region (every region of it would need net
inflow); its band may still be met by named accounts, so a rep is held to own a region
(sum_u y[u, j] = 1) only where the bands force it. The model's plans are therefore exactly
the connected ones within the bands, without fixing a home: unlike the rooted start
(rooted_flow.py), which holds each rep's home region and so proves nothing when it finds no
plan.

It has no objective: the first plan ends the search and is a connected start for the cut
rounds; "infeasible" proves that no connected plan meets every band (exit 3, the bands then
named by region_infeasible's elastic rounds). On 32 Mexican states with 10 reps and bands of
10% / 15%, the cut rounds ran out of 30 s without deciding either way.
"""

from __future__ import annotations

import numpy as np
import pulp

from .contiguity import _plan_of, broken_reps
from .model import AssignmentModel, build_assignment_model, safe_name
from .rooted_flow import rep_flow_rows
from .settings import Clock, SolveSettings
from .solvers import run

#: the maps this runs on: regions x reps at most this. 32 Mexican states x 10 reps (320)
#: are decided in 17-45 s; on Virginia's 136 counties x 12 reps (1,632) it found nothing in
#: its 9 s, which the cut rounds then lacked (gap 5.02% against 4.90% at 20 s)
FREE_ROOT_MAX_PAIRS = 500
#: its share of the time left: a plan ends it at once; a proof of infeasibility takes longer
#: (Mexico: 17-45 s), and the cut rounds after it seldom find what it did not
FREE_ROOT_SHARE = 0.5


def root_rows(model: AssignmentModel, problem, n_regions: int) -> dict:
    """y[u, j] <= x[u, j] and sum_u y[u, j] <= 1 (module docstring) for every pair of a
    region and a rep that may own it; the root variables by (u, j)."""
    roots: dict[tuple[int, int], pulp.LpVariable] = {}
    by_rep: dict[int, list] = {}
    for p, (u, j) in enumerate(zip(model.pairs.unit.tolist(), model.pairs.rep.tolist())):
        if u >= n_regions:
            continue  # a named account: no root, no flow
        rep, unit = safe_name(problem.rep_ids[j]), safe_name(problem.unit_ids[u])
        y = model.lp.add_variable(f"root[{unit},{rep}]", 0, 1, cat="Binary")
        roots[(u, j)] = y
        by_rep.setdefault(j, []).append(y)
        row = pulp.LpAffineExpression([(y, 1.0), (model.x[p], -1.0)])
        model.lp.addConstraint(
            pulp.LpConstraint(row, pulp.LpConstraintLE, name=f"root_owned[{unit},{rep}]", rhs=0)
        )
    named = problem.n_units > n_regions
    for j, ys in by_rep.items():
        row = pulp.LpAffineExpression([(y, 1.0) for y in ys])
        name = f"one_root[{safe_name(problem.rep_ids[j])}]"
        # a rep with a band to fill and no named account to fill it with owns a region
        sense = pulp.LpConstraintEQ if owns_a_region(problem, j, named) else pulp.LpConstraintLE
        model.lp.addConstraint(pulp.LpConstraint(row, sense, name=name, rhs=1))
    return roots


def owns_a_region(problem, j: int, named: bool) -> bool:
    """Rep j owns at least one region in every plan within the bands: the map has no named
    account, and some band of j's has a positive floor."""
    return not named and bool((problem.lower[:, j] > 0).any())


def free_root_flow_rows(model: AssignmentModel, problem, neighbours, n_regions: int, roots):
    """The flow balance and capacity rows of the module docstring for every rep, over the
    arcs between regions it may own (rooted_flow.rep_flow_rows, each region's balance row
    with + n y[u, j]: any of them may be the root)."""
    index = {(int(u), int(j)) for u, j in zip(model.pairs.unit, model.pairs.rep)}
    for j in range(problem.n_reps):
        mine = [u for u in range(n_regions) if (u, j) in index]

        def may_be_root(u: int, j: int = j) -> list:
            return [(roots[(u, j)], float(n_regions))]

        rep_flow_rows(model, problem, neighbours, n_regions, j, mine, may_be_root)


def symmetry_rows(model: AssignmentModel, problem, n_regions: int, roots: dict) -> int:
    """Reps that are interchangeable for feasibility (the same bands, the same regions
    allowed with the same loads; no named account, no budget row, and every rep owning a
    region, so each has exactly one root) take their roots in increasing region order:

        sum_u u y[u, j] >= sum_u u y[u, k] + 1     for consecutive reps k < j of a class

    Any connected plan within the bands, its territories handed to the class's reps in that
    order, meets these rows, so they remove no answer to "is there one?"; they cut the
    copies of each plan the tree would otherwise search (10! of them with ten such reps).
    Returns the number of rows added."""
    if problem.max_moved_potential is not None:
        return 0
    named = problem.n_units > n_regions
    if not all(owns_a_region(problem, j, named) for j in range(problem.n_reps)):
        return 0  # a rep that may own no region has no root to order by
    by_rep: dict[int, list] = {}
    for p, (u, j) in enumerate(zip(model.pairs.unit.tolist(), model.pairs.rep.tolist())):
        by_rep.setdefault(j, []).append((u, tuple(np.round(model.pairs.load[:, p], 9))))
    classes: dict[tuple, list[int]] = {}
    for j in range(problem.n_reps):
        key = (
            tuple(np.round(problem.lower[:, j], 9)),
            tuple(np.round(problem.upper[:, j], 9)),
            tuple(sorted(by_rep.get(j, []))),
        )
        classes.setdefault(key, []).append(j)
    added = 0
    for reps in classes.values():
        for k, j in zip(reps, reps[1:]):
            terms = [(roots[(u, j)], float(u)) for u in range(n_regions) if (u, j) in roots]
            terms += [(roots[(u, k)], -float(u)) for u in range(n_regions) if (u, k) in roots]
            name = f"root_order[{safe_name(problem.rep_ids[k])},{safe_name(problem.rep_ids[j])}]"
            row = pulp.LpAffineExpression(terms)
            model.lp.addConstraint(pulp.LpConstraint(row, pulp.LpConstraintGE, name=name, rhs=1))
            added += 1
    return added


def decides(problem, n_regions: int) -> bool:
    """The map is small enough for the free-root flow model (FREE_ROOT_MAX_PAIRS)."""
    return n_regions * problem.n_reps <= FREE_ROOT_MAX_PAIRS


def connected_within_bands(
    problem, pairs, graph, neighbours, n_regions: int, settings: SolveSettings, clock: Clock
) -> np.ndarray | None:
    """A connected plan within every band, found by the free-root flow model in the time
    of ``clock`` (feasibility only: no objective, so the first plan ends the search);
    raises InfeasibleError when the model has none, which proves that no connected plan
    meets every band; None when the time ran out first."""
    model = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=False, name="roots"
    )
    model.lp.setObjective(pulp.LpAffineExpression())
    roots = root_rows(model, problem, n_regions)
    free_root_flow_rows(model, problem, neighbours, n_regions, roots)
    symmetry_rows(model, problem, n_regions, roots)
    outcome = run(model, settings, mip=True, time_limit=clock.remaining, gap=1.0)
    if outcome.status == "infeasible":
        # proven: the reasons, as when the cut rounds prove it (exit 3)
        from .region_infeasible import explain_no_plan

        explain_no_plan(problem, pairs, graph, n_regions, settings, clock)
    if not outcome.has_solution:
        return None
    plan = _plan_of(model, problem.n_units)
    if len(broken_reps(graph, plan, n_regions, problem.n_reps)):
        return None  # cannot happen by the rows above; a start must be connected, so check
    return plan
