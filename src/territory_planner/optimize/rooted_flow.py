"""A connected starting plan: the assignment model plus a single-commodity flow rooted at
each rep's home region (the compact route for contiguity, where a root is given).

For rep j with home region r_j and every arc (u, v) of the region graph between regions j may
own, a flow f[u, v, j] >= 0:

    x[r_j, j] = 1                                                   (home_rows)
    sum_v f[v, u, j] - sum_v f[u, v, j] >= x[u, j]     for u != r_j (flow_rows)
    sum_v f[v, u, j] <= (n - 1) x[u, j]

Each region of j's territory other than its home consumes one unit of flow, which can only
arrive through regions of the same territory, so every rooted territory is connected.
Holding each home in its rep's territory is a restriction, not a relaxation: the plan is a
valid start (connected, within every band) but the bound of this model proves nothing for
the real problem and is never reported.

At ZIP scale the flow over every candidate pair is too big to solve in time. It is used in
two smaller ways: built only over the pairs near a plan (``near_plan_pairs``: a region may
stay with its rep or go to the rep of a region within a ring or two of it, a stray piece
whole to a rep bordering it), which mends a plan's stray pieces with a model of a few pairs
per region; and added to the cut-round model only for the reps whose territory a round
breaks (``LazyFlows``).
"""

from __future__ import annotations

import numpy as np
import pulp
from scipy.sparse import csr_matrix, identity

from .model import AssignmentModel, PairSet, build_assignment_model, safe_name


def home_rows(model: AssignmentModel, problem, roots: dict[int, int]) -> None:
    """x[r_j, j] = 1 for every rep j given a root r_j."""
    index = {(int(u), int(j)): p for p, (u, j) in enumerate(zip(model.pairs.unit, model.pairs.rep))}
    for j, root in roots.items():
        row = pulp.LpConstraint(
            pulp.LpAffineExpression([(model.x[index[(root, j)]], 1.0)]),
            pulp.LpConstraintEQ,
            name=f"home[{safe_name(problem.rep_ids[j])}]",
            rhs=1.0,
        )
        model.lp.addConstraint(row)


def flow_rows(model: AssignmentModel, problem, neighbours, n_regions: int, roots) -> dict:
    """Flow conservation and capacity rows of the module docstring, per rooted rep; the flow
    variables by (u, v, j)."""
    index = {(int(u), int(j)): p for p, (u, j) in enumerate(zip(model.pairs.unit, model.pairs.rep))}
    made: dict[tuple[int, int, int], pulp.LpVariable] = {}
    for j, root in roots.items():
        mine = [u for u in range(n_regions) if (u, j) in index]

        def rooted_at(u: int, root: int = root) -> list | None:
            return None if u == root else []  # the root supplies the flow: no rows

        made.update(rep_flow_rows(model, problem, neighbours, n_regions, j, mine, rooted_at))
    return made


def rep_flow_rows(model: AssignmentModel, problem, neighbours, n_regions: int, j, mine, source):
    """Rep j's single-commodity flow over the arcs between its regions ``mine``, and per
    region u of them (``source(u)``: the terms its balance row adds, e.g. ``+ n y[u, j]``
    for a root that may be anywhere, or None for a fixed root, which gets no rows):

        sum_v f[v, u, j] - sum_v f[u, v, j] - x[u, j] + source(u) >= 0     (flow_balance)
        sum_v f[v, u, j] <= (n - 1) x[u, j]                               (flow_capacity)

    Returns the flow variables by (u, v, j)."""
    index = {(int(u), int(k)): p for p, (u, k) in enumerate(zip(model.pairs.unit, model.pairs.rep))}
    rep = safe_name(problem.rep_ids[j])
    inside = set(mine)
    flow = {
        (u, int(v)): model.lp.add_variable(f"f[{u},{int(v)},{rep}]", 0)
        for u in mine
        for v in neighbours[u]
        if int(v) in inside
    }
    into: dict[int, list] = {u: [] for u in mine}
    out: dict[int, list] = {u: [] for u in mine}
    for (u, v), var in flow.items():
        out[u].append(var)
        into[v].append(var)
    for u in mine:
        extra = source(u)
        if extra is None:
            continue
        x, unit = model.x[index[(u, j)]], safe_name(problem.unit_ids[u])
        terms = [(f, 1.0) for f in into[u]] + [(f, -1.0) for f in out[u]] + [(x, -1.0), *extra]
        model.lp.addConstraint(
            pulp.LpConstraint(
                pulp.LpAffineExpression(terms),
                pulp.LpConstraintGE,
                name=f"flow_balance[{unit},{rep}]",
                rhs=0.0,
            )
        )
        terms = [(f, 1.0) for f in into[u]] + [(x, -(n_regions - 1.0))]
        model.lp.addConstraint(
            pulp.LpConstraint(
                pulp.LpAffineExpression(terms),
                pulp.LpConstraintLE,
                name=f"flow_capacity[{unit},{rep}]",
                rhs=0.0,
            )
        )
    return {(u, v, j): var for (u, v), var in flow.items()}


def usable_roots(allowed: np.ndarray, homes, reps, taken=()) -> dict[int, int]:
    """{rep: its home region} for the reps of ``reps`` whose home is a region they may own
    and no earlier (or ``taken``) rep's root."""
    roots: dict[int, int] = {}
    used = set(taken)
    for j in reps:
        home = int(homes[j])
        if home >= 0 and allowed[home, j] and home not in used:
            roots[j] = home
            used.add(home)
    return roots


def rooted_model(problem, pairs, neighbours, n_regions: int, homes) -> AssignmentModel | None:
    """The assignment model with rooted flow rows; None when no rep has a usable home
    (outside every region, not allowed to own it, or shared with an earlier rep)."""
    allowed = np.zeros((problem.n_units, problem.n_reps), dtype=bool)
    allowed[pairs.unit, pairs.rep] = True
    roots = usable_roots(allowed, homes, range(len(homes)))
    if not roots:
        return None
    model = build_assignment_model(
        problem, pairs, np.arange(problem.n_units), relax=False, name="rooted_flow"
    )
    home_rows(model, problem, roots)
    flow_rows(model, problem, neighbours, n_regions, roots)
    return model


def near_plan_pairs(
    pairs: PairSet,
    graph: csr_matrix,
    plan: np.ndarray,
    n_regions: int,
    homes: np.ndarray,
    rings: int = 1,
    stray: list[np.ndarray] = (),
) -> PairSet:
    """The pairs (u, j) of ``pairs`` with j the plan's rep of u or of a region within
    ``rings`` steps of u, or of a region within ``rings`` steps of the ``stray`` piece
    holding u (pieces the plan must give away), or u the home (root) region of j; named
    accounts keep all their pairs."""
    n_reps = int(max(plan.max(initial=-1), pairs.rep.max(initial=-1))) + 1
    reach = (identity(n_regions, format="csr") + graph).astype(bool)
    near = reach
    for _ in range(rings - 1):
        near = (near @ reach).astype(bool)
    regions = np.arange(n_regions)
    owned = csr_matrix((np.ones(n_regions), (regions, plan[:n_regions])), shape=(n_regions, n_reps))
    near_reps = (near @ owned).toarray() > 0
    for piece in stray:
        # a stray piece may go whole to any rep bordering it, however long and thin it is
        border = np.unique(graph[piece].indices)
        near_reps[piece] |= near_reps[border].any(axis=0)
    for j, home in enumerate(homes):
        if 0 <= home < n_regions:
            near_reps[int(home), j] = True
    is_region = pairs.unit < n_regions
    keep = ~is_region
    keep[is_region] = near_reps[pairs.unit[is_region], pairs.rep[is_region]]
    return pairs.subset(keep)


def region_neighbours(graph: csr_matrix) -> list[np.ndarray]:
    """The neighbours of each region, read off the region graph."""
    return [graph.indices[graph.indptr[u] : graph.indptr[u + 1]] for u in range(graph.shape[0])]


class LazyFlows:
    """Rooted flow rows added to a cut-round model rep by rep (ZIP scale): a rep whose
    territory a round's plan breaks gets home_rows and flow_rows rooted at its home, so the
    next round's plan keeps it connected. Far fewer rows than separator cuts for the same
    territory, and only for the few reps that break; a restriction (homes held), so a round
    bound of the model proves nothing once a rep is rooted."""

    def __init__(self, model: AssignmentModel, problem, graph: csr_matrix, homes):
        self.model, self.problem, self.graph, self.homes = model, problem, graph, homes
        self.allowed = np.zeros((problem.n_units, problem.n_reps), dtype=bool)
        self.allowed[model.pairs.unit, model.pairs.rep] = True
        self.roots: dict[int, int] = {}
        self.flows: dict[tuple[int, int, int], pulp.LpVariable] = {}

    def add(self, reps) -> int:
        """Root the reps of ``reps`` not rooted yet that have a usable home; how many."""
        fresh = usable_roots(
            self.allowed,
            self.homes,
            [j for j in reps if j not in self.roots],
            self.roots.values(),
        )
        if fresh:
            n_regions = self.graph.shape[0]
            home_rows(self.model, self.problem, fresh)
            neighbours = region_neighbours(self.graph)
            self.flows.update(flow_rows(self.model, self.problem, neighbours, n_regions, fresh))
            self.roots.update(fresh)
        return len(fresh)

    def start(self, plan: np.ndarray) -> None:
        """Flows that carry ``plan`` (x set elsewhere): along a breadth-first tree of each
        rooted territory from its root, each arc carries the regions below it."""
        for var in self.flows.values():
            var.setInitialValue(0.0)
        for j, root in self.roots.items():
            members = set(np.flatnonzero(plan[: self.graph.shape[0]] == j).tolist())
            if root not in members:
                continue
            parent, order = {root: None}, [root]
            for u in order:
                for v in self.graph.indices[self.graph.indptr[u] : self.graph.indptr[u + 1]]:
                    v = int(v)
                    if v in members and v not in parent:
                        parent[v] = u
                        order.append(v)
            below = dict.fromkeys(order, 1)
            for v in reversed(order[1:]):
                below[parent[v]] += below[v]
                var = self.flows.get((parent[v], v, j))
                if var is not None:
                    var.setInitialValue(float(below[v]))
