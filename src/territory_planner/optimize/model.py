"""The assignment model in PuLP, one constraint family per function.

Notation (docs/design.md, the optimiser): units u (accounts or keep-together groups),
eligible reps j, balance metrics m. ``x[u, j]`` in {0, 1} (or [0, 1] in the relaxation)
exists only for the pairs handed in (the candidate set); every other pair is implicitly 0.

    minimise    sum_{u,j} c[u, j] x[u, j]                                  (objective_row)
    subject to  sum_j x[u, j] = 1                              for all u    (assign_once_rows)
                L[m, j] <= sum_u a[m, u, j] x[u, j] <= U[m, j] for all m, j (balance_band_rows)
                sum_{u,j} p[u, j] x[u, j] <= B                              (disruption_budget_row)

``c`` = weighted travel + disruption, ``a`` = loads, ``p`` = potential that changes owner,
``B`` = max_moved_share * total potential. ``fixed_load`` / ``fixed_moved`` shift the bands
and the budget by units already fixed outside the model (fix-and-finish).

Rows are built in bulk: each row's ``LpAffineExpression`` comes from one list of
``(variable, coefficient)`` pairs sliced from sorted arrays, never from repeated ``+=``.

Every model built over a PairSet is read back by ``read_assignment`` and started from a
plan by ``set_start``; an elastic row's slack is measured by ``slack_scale``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pulp

from .settings import TINY

_UNSAFE = re.compile(r"[^A-Za-z0-9_.:]")


def safe_name(text: str) -> str:
    """A solver-safe name that still reads as the domain ID (``ACC-17`` -> ``ACC_17``)."""
    return _UNSAFE.sub("_", str(text))


@dataclass
class PairSet:
    """The candidate pairs a model is built over, as parallel arrays (sorted by unit, rep)."""

    unit: np.ndarray  # (P,) unit positions
    rep: np.ndarray  # (P,) rep positions
    cost: np.ndarray  # (P,) objective coefficients (minimisation sense)
    load: np.ndarray  # (M, P)
    moved: np.ndarray  # (P,) potential that changes owner if chosen

    def __len__(self) -> int:
        return len(self.unit)

    def subset(self, mask: np.ndarray) -> PairSet:
        return PairSet(
            self.unit[mask], self.rep[mask], self.cost[mask], self.load[:, mask], self.moved[mask]
        )

    def then(self, more: PairSet) -> PairSet:
        """These pairs followed by ``more``, in that order (not sorted): the order of a
        model's variables after extend_assignment_model."""
        return PairSet(
            np.concatenate([self.unit, more.unit]),
            np.concatenate([self.rep, more.rep]),
            np.concatenate([self.cost, more.cost]),
            np.concatenate([self.load, more.load], axis=1),
            np.concatenate([self.moved, more.moved]),
        )

    @staticmethod
    def concat(parts: list[PairSet]) -> PairSet:
        return PairSet(
            np.concatenate([p.unit for p in parts]),
            np.concatenate([p.rep for p in parts]),
            np.concatenate([p.cost for p in parts]),
            np.concatenate([p.load for p in parts], axis=1),
            np.concatenate([p.moved for p in parts]),
        ).sorted()

    def sorted(self) -> PairSet:
        order = np.lexsort((self.rep, self.unit))
        return PairSet(
            self.unit[order],
            self.rep[order],
            self.cost[order],
            self.load[:, order],
            self.moved[order],
        )


@dataclass
class AssignmentModel:
    """A built PuLP model plus what is needed to read it back."""

    lp: pulp.LpProblem
    pairs: PairSet
    x: list[pulp.LpVariable]
    assign_once: dict[int, pulp.LpConstraint] = field(default_factory=dict)
    band_min: dict[tuple[int, int], pulp.LpConstraint] = field(default_factory=dict)
    band_max: dict[tuple[int, int], pulp.LpConstraint] = field(default_factory=dict)
    budget: pulp.LpConstraint | None = None
    slack: dict[tuple[str, int, int], pulp.LpVariable] = field(default_factory=dict)
    #: variables extend_assignment_model added to rows already in the model: PuLP counts
    #: them (numVariables) only once it next reads every row, so solvers.model_columns
    #: allows for them
    grown: int = 0

    def values(self) -> np.ndarray:
        return np.array([v.varValue if v.varValue is not None else 0.0 for v in self.x])

    def columns(self) -> list[pulp.LpVariable]:
        """Every variable of the model (the pairs', then the slacks'), in the order the
        solver gets them: the model knows them, so PuLP need not collect them from every
        row again (``LpProblem.variables`` re-reads every row at each call)."""
        return self.x + list(self.slack.values())


def read_assignment(model: AssignmentModel, n_units: int) -> tuple[np.ndarray, np.ndarray]:
    """(rep of each unit by largest x, that largest x) over the units in the model; -1 for
    a unit the model does not hold. Ties go to the pair that comes first."""
    values = model.values()
    rep = np.full(n_units, -1, dtype=int)
    best = np.full(n_units, -1.0)
    pairs = model.pairs
    order = np.lexsort((-values, pairs.unit))
    first = np.ones(len(order), dtype=bool)
    first[1:] = pairs.unit[order][1:] != pairs.unit[order][:-1]
    chosen = order[first]
    rep[pairs.unit[chosen]] = pairs.rep[chosen]
    best[pairs.unit[chosen]] = values[chosen]
    return rep, best


def set_start(model: AssignmentModel, unit_rep: np.ndarray) -> None:
    """Hand a plan to the solver as its starting point (x = 1 on the plan's pairs)."""
    values = (unit_rep[model.pairs.unit] == model.pairs.rep).astype(float)
    for var, value in zip(model.x, values.tolist()):
        var.setInitialValue(value)


def slack_scale(problem, kind: str, m: int, j: int) -> float:
    """What one unit of an elastic row's slack is measured against: the band's target (the
    budget itself for ``over_budget``), so one percent of any band weighs the same."""
    scale = problem.max_moved_potential if kind == "over_budget" else problem.target[m, j]
    return max(abs(float(scale or 1.0)), TINY)


def _groups(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Positions of equal keys, in key order (keys need not be sorted)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    cuts = np.flatnonzero(np.diff(sorted_keys)) + 1
    return [
        (int(sorted_keys[chunk[0]]), order_chunk)
        for chunk, order_chunk in zip(np.split(np.arange(len(keys)), cuts), np.split(order, cuts))
        if len(chunk)
    ]


def assignment_variables(
    lp: pulp.LpProblem, problem, pairs: PairSet, relax: bool
) -> list[pulp.LpVariable]:
    """``x[unit, rep]`` for each candidate pair, binary (or continuous in [0, 1]).

    Created through ``LpProblem.add_variable``: PuLP 3.3 deprecates free-standing
    ``LpVariable(...)`` and PuLP 4 attaches variables to their model this way.
    """
    category = pulp.LpContinuous if relax else pulp.LpBinary
    unit_names = [safe_name(u) for u in problem.unit_ids]
    rep_names = [safe_name(r) for r in problem.rep_ids]
    add = lp.add_variable
    return [
        add(f"x[{unit_names[u]},{rep_names[j]}]", 0, 1, category)
        for u, j in zip(pairs.unit.tolist(), pairs.rep.tolist())
    ]


def objective_row(model: AssignmentModel) -> None:
    """minimise sum_{u,j} c[u, j] x[u, j]  (weighted travel + disruption)."""
    model.lp.setObjective(pulp.LpAffineExpression(zip(model.x, model.pairs.cost.tolist())))


def assign_once_rows(model: AssignmentModel, problem, units: np.ndarray) -> None:
    """sum_j x[u, j] = 1 for every unit u in the model: each account gets exactly one rep."""
    present = {}
    for u, positions in _groups(model.pairs.unit):
        present[u] = positions
    for u in units.tolist():
        positions = present.get(u, np.array([], dtype=int))
        expression = pulp.LpAffineExpression([(model.x[p], 1.0) for p in positions.tolist()])
        row = pulp.LpConstraint(
            expression,
            pulp.LpConstraintEQ,
            name=f"assign_once[{safe_name(problem.unit_ids[u])}]",
            rhs=1.0,
        )
        model.lp.addConstraint(row)
        model.assign_once[u] = row


def balance_band_rows(
    model: AssignmentModel,
    problem,
    fixed_load: np.ndarray | None = None,
    elastic: bool = False,
    reps: np.ndarray | None = None,
) -> None:
    """L[m, j] - F[m, j] <= sum_u a[m, u, j] x[u, j] <= U[m, j] - F[m, j] for all m, j.

    F is the load of units fixed outside the model; ``reps`` limits the rows to those reps
    (a sub-model whose pairs touch only them leaves every other band as it was). With
    ``elastic`` each side gets a
    non-negative slack (``short[m, j]`` below the band, ``over[m, j]`` above it) so the
    model is always feasible; diagnose.py prices the slack to explain infeasibility.
    Infinite sides (the generalised assignment problem has no lower band) are skipped.
    """
    by_rep = dict(_groups(model.pairs.rep))
    rows_for = range(problem.n_reps) if reps is None else [int(j) for j in reps]
    for m, metric in enumerate(problem.metrics):
        loads = model.pairs.load[m]
        for j in rows_for:
            rep_id = problem.rep_ids[j]
            positions = by_rep.get(j, np.array([], dtype=int)).tolist()
            offset = 0.0 if fixed_load is None else float(fixed_load[m, j])
            terms = [(model.x[p], float(loads[p])) for p in positions if loads[p] != 0.0]
            tag = f"{safe_name(metric)}_band_%s[{safe_name(rep_id)}]"
            lower = float(problem.lower[m, j]) - offset
            upper = float(problem.upper[m, j]) - offset
            if np.isfinite(lower) and lower > 0 or (np.isfinite(lower) and elastic):
                slack_terms = []
                if elastic:
                    short = model.lp.add_variable(
                        f"short[{safe_name(metric)},{safe_name(rep_id)}]", 0
                    )
                    model.slack[("short", m, j)] = short
                    slack_terms = [(short, 1.0)]
                row = pulp.LpConstraint(
                    pulp.LpAffineExpression(terms + slack_terms),
                    pulp.LpConstraintGE,
                    name=tag % "min",
                    rhs=lower,
                )
                model.lp.addConstraint(row)
                model.band_min[(m, j)] = row
            if np.isfinite(upper):
                slack_terms = []
                if elastic:
                    over = model.lp.add_variable(
                        f"over[{safe_name(metric)},{safe_name(rep_id)}]", 0
                    )
                    model.slack[("over", m, j)] = over
                    slack_terms = [(over, -1.0)]
                row = pulp.LpConstraint(
                    pulp.LpAffineExpression(terms + slack_terms),
                    pulp.LpConstraintLE,
                    name=tag % "max",
                    rhs=upper,
                )
                model.lp.addConstraint(row)
                model.band_max[(m, j)] = row


def disruption_budget_row(
    model: AssignmentModel, budget: float | None, fixed_moved: float = 0.0, elastic: bool = False
) -> None:
    """sum_{u,j} p[u, j] x[u, j] <= B - (potential already moved by fixed units)."""
    if budget is None:
        return
    terms = [(v, float(p)) for v, p in zip(model.x, model.pairs.moved.tolist()) if p != 0.0]
    if elastic:
        over = model.lp.add_variable("over[moved_potential]", 0)
        model.slack[("over_budget", 0, 0)] = over
        terms.append((over, -1.0))
    row = pulp.LpConstraint(
        pulp.LpAffineExpression(terms),
        pulp.LpConstraintLE,
        name="disruption_budget",
        rhs=float(budget) - fixed_moved,
    )
    model.lp.addConstraint(row)
    model.budget = row


def slack_penalty_terms(model: AssignmentModel, problem, penalty: float) -> None:
    """minimise ... + P * sum_{m,j} (short[m, j] + over[m, j]) / T[m, j]
                   + P * over_budget / B

    Each unit of slack is priced per unit of its own target, so one percent of any band
    costs the same. With slack allowed the model is a relaxation of the real one (every real
    plan is feasible with zero slack at the same cost), so its optimum is a valid lower
    bound whatever ``penalty`` is; a large penalty makes the slack vanish whenever the real
    model is feasible.
    """
    terms = [
        (var, penalty / slack_scale(problem, kind, m, j))
        for (kind, m, j), var in model.slack.items()
    ]
    model.lp.setObjective(model.lp.objective + pulp.LpAffineExpression(terms))


def build_assignment_model(
    problem,
    pairs: PairSet,
    units: np.ndarray,
    *,
    relax: bool,
    fixed_load: np.ndarray | None = None,
    fixed_moved: float = 0.0,
    slack_penalty: float | None = None,
    reps: np.ndarray | None = None,
    name: str = "territory_plan",
) -> AssignmentModel:
    """The formulation in the module docstring, over ``pairs`` for ``units``; with
    ``slack_penalty`` the bands and the budget are elastic (see slack_penalty_terms)."""
    lp = pulp.LpProblem(safe_name(name), pulp.LpMinimize)
    model = AssignmentModel(lp=lp, pairs=pairs, x=assignment_variables(lp, problem, pairs, relax))
    elastic = slack_penalty is not None
    objective_row(model)
    assign_once_rows(model, problem, units)
    balance_band_rows(model, problem, fixed_load, elastic=elastic, reps=reps)
    disruption_budget_row(model, problem.max_moved_potential, fixed_moved, elastic=elastic)
    if elastic:
        slack_penalty_terms(model, problem, slack_penalty)
    return model


def extend_assignment_model(model: AssignmentModel, problem, new: PairSet, relax: bool) -> None:
    """The same model over its pairs and ``new`` (pairs not in it, of units in it): each new
    ``x[u, j]`` joins the rows it belongs to, as if the model had been built over both,

        objective  + c[u, j] x[u, j]
        assign_once[u]:  + x[u, j]
        band rows of (m, j):  + a[m, u, j] x[u, j]
        disruption budget:  + p[u, j] x[u, j]

    in place, each term after the row's existing ones, so a solver that handed the model
    over before adds only the new columns (solvers.WarmStartHiGHS, ``resume``) and the
    simplex goes on from its basis. Column generation (pricing) grows the LP this way
    instead of building it anew each round. ``model.pairs`` and ``model.x`` stay aligned:
    the new pairs come after the old, in the order given.
    """
    added = assignment_variables(model.lp, problem, new, relax)
    objective = model.lp.objective
    for var, cost in zip(added, new.cost.tolist()):
        objective[var] = cost
    for var, u in zip(added, new.unit.tolist()):
        model.assign_once[u].expr[var] = 1.0
    for m in range(problem.n_metrics):
        loads = new.load[m].tolist()
        for var, j, load in zip(added, new.rep.tolist(), loads):
            if load == 0.0:
                continue
            for rows in (model.band_min, model.band_max):
                row = rows.get((m, j))
                if row is not None:
                    row.expr[var] = load
    if model.budget is not None:
        for var, moved in zip(added, new.moved.tolist()):
            if moved != 0.0:
                model.budget.expr[var] = moved
    model.x = model.x + added
    model.pairs = model.pairs.then(new)
    model.grown += len(added)
