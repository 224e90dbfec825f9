"""The plain comparison: one PuLP + HiGHS MILP over all pairs with single-commodity-flow
contiguity (Shirabe 2009), the textbook way to ask for connected territories.

For every rep j and region u: x[u, j] binary (u in j's territory), w[u, j] binary (u is the
root of j's territory), and for every arc (u, v) of the region graph a flow f[u, v, j] >= 0.

    minimise    sum c[u, j] x[u, j]
    subject to  sum_j x[u, j] = 1                                      every region
                L[m, j] <= sum_u a[m, u] x[u, j] <= U[m, j]             every band
                sum_u w[u, j] = 1,  w[u, j] <= x[u, j]                  one root each
                sum_v f[v, u, j] - sum_v f[u, v, j] >= x[u, j] - n w[u, j]
                sum_v f[v, u, j] <= (n - 1) x[u, j]

Each non-root region of a territory consumes one unit of flow, which can reach it only
through regions of the same territory, so every territory is connected. The instance (costs,
loads, bands, adjacency) is the engine's own RegionProblem, so both solve the same thing.
"""

from __future__ import annotations

import time

import numpy as np
import pulp


def solve_flow_milp(geography, time_limit: float, gap: float = 0.0) -> dict:
    """Build and solve the flow MILP; return objective, bound, gap, seconds, status."""
    problem = geography.problem
    n = geography.n_regions
    if problem.n_units != n:
        raise ValueError("the flow baseline handles regions only (no named accounts)")
    started = time.perf_counter()
    units = np.arange(n)
    cost = problem.cost_block(units)
    allowed = problem.allowed_block(units)
    arcs = [(u, int(v)) for u in range(n) for v in geography.neighbours[u]]
    lp = pulp.LpProblem("flow_contiguity", pulp.LpMinimize)
    reps = range(problem.n_reps)
    x = {
        (u, j): pulp.LpVariable(f"x_{u}_{j}", cat=pulp.LpBinary)
        for u in range(n)
        for j in reps
        if allowed[u, j]
    }
    w = {key: pulp.LpVariable(f"w_{key[0]}_{key[1]}", cat=pulp.LpBinary) for key in x}
    f = {
        (u, v, j): pulp.LpVariable(f"f_{u}_{v}_{j}", lowBound=0)
        for u, v in arcs
        for j in reps
        if (u, j) in x and (v, j) in x
    }
    lp += pulp.lpSum(cost[u, j] * var for (u, j), var in x.items())
    for u in range(n):
        lp += pulp.lpSum(x[u, j] for j in reps if (u, j) in x) == 1
    for j in reps:
        mine = [u for u in range(n) if (u, j) in x]
        for m in range(problem.n_metrics):
            load = pulp.lpSum(problem.unit_load[m, u] * x[u, j] for u in mine)
            lp += load >= problem.lower[m, j]
            lp += load <= problem.upper[m, j]
        lp += pulp.lpSum(w[u, j] for u in mine) == 1
        for u in mine:
            lp += w[u, j] <= x[u, j]
            inflow = pulp.lpSum(f[v, u, j] for v in geography.neighbours[u] if (v, u, j) in f)
            outflow = pulp.lpSum(f[u, v, j] for v in geography.neighbours[u] if (u, v, j) in f)
            lp += inflow - outflow >= x[u, j] - n * w[u, j]
            lp += inflow <= (n - 1) * x[u, j]
    built = time.perf_counter() - started
    solver = pulp.HiGHS(msg=False, timeLimit=time_limit, gapRel=gap, threads=1)
    lp.solve(solver)
    seconds = time.perf_counter() - started
    info = lp.solverModel.getInfo()
    has_plan = lp.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    objective = pulp.value(lp.objective) if has_plan else None
    bound = float(info.mip_dual_bound)
    return {
        "status": "optimal"
        if lp.sol_status == pulp.LpSolutionOptimal
        else ("feasible" if has_plan else "no plan"),
        "objective": objective,
        "bound": bound,
        "gap": None if objective is None else max(0.0, (objective - bound) / abs(objective)),
        "seconds": round(seconds, 2),
        "build_seconds": round(built, 2),
    }
