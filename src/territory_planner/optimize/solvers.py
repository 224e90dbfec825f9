"""Solvers are arguments: build one from settings, and translate its status in one place.

HiGHS through highspy (``pulp.HiGHS``) is the default. Any other PuLP solver name may be
passed (``PULP_CBC_CMD``, ``HiGHS_CMD``, ``GLPK_CMD`` ...). Only PuLP's public API is used so
PuLP 3 (Python 3.11, CBC deprecated) and PuLP 4 (CBC removed) both work.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from dataclasses import dataclass
from itertools import islice

import numpy as np
import pulp

from ..errors import SolverError
from .interrupt import interruptible
from .settings import TINY, SolveSettings
from .timebox import box_seconds, can_box, start_boxed

#: reading a solution back into PuLP's variables and rows, per column
READ_BACK_SECONDS_PER_COLUMN = 1e-6

_ALIASES = {
    "highs": "HiGHS",
    "highspy": "HiGHS",
    "cbc": "PULP_CBC_CMD",
    "highs_cmd": "HiGHS_CMD",
    "glpk": "GLPK_CMD",
}


class WarmStartHiGHS(pulp.HiGHS):
    """``pulp.HiGHS`` with a warm start and a bulk hand-over of the model.

    PuLP's HiGHS interface has no warm start, yet a MIP start is what lets a finish or
    polish phase begin from the best plan so far instead of from scratch. And it hands the
    model over one ``addCol``/``addRow`` call at a time, sorting the variables by name
    several times a solve: at a million variables that costs more than the LP itself. Here
    the same PuLP model goes over in one ``addCols`` and one ``addRows`` call. Only
    PuLP's public solver hooks are overridden (``buildSolverModel``, ``callSolver``,
    ``findSolutionValues``, ``actualSolve``) and constraints are read through
    ``LpProblem.constraints()``, the PuLP 4 API that PuLP 3.3 already has.
    """

    def __init__(
        self,
        *args,
        warm_start: bool = False,
        start_basis: LpBasis | None = None,
        ends_at: float | None = None,
        columns: list | None = None,
        resume: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.given_columns = columns  # the model's own list of its variables, if it has one
        self.resume = resume
        self.warm_start = warm_start
        self.start_basis = start_basis
        self.ends_at = ends_at  # perf_counter() when the caller's limit runs out
        self.killed = False
        self.deferred = False  # run_together: a boxed MIP solve is started, not waited for
        self.pending = None  # that solve while it runs (timebox.BoxedSolve)
        self._columns: list = []
        self._rows: list = []

    def buildSolverModel(self, lp):  # noqa: N802 - PuLP's name
        import highspy

        inf = highspy.kHighsInf
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        columns = self.given_columns if self.given_columns is not None else lp.variables()
        self._columns = columns
        count = len(columns)
        objective = lp.objective if lp.objective is not None else {}
        cost = np.fromiter((sign * objective.get(v, 0.0) for v in columns), float, count)
        lower = np.fromiter(
            (-inf if v.lowBound is None else v.lowBound for v in columns), float, count
        )
        upper = np.fromiter(
            (inf if v.upBound is None else v.upBound for v in columns), float, count
        )
        for position, variable in enumerate(columns):
            variable.index = position
        model = lp.solverModel
        empty_int = np.zeros(0, dtype=np.int32)
        model.addCols(count, cost, lower, upper, 0, empty_int, empty_int, np.zeros(0))
        if self.mip:
            integer = np.array(
                [i for i, v in enumerate(columns) if v.cat == pulp.LpInteger], dtype=np.int32
            )
            if len(integer):
                kinds = np.full(len(integer), int(highspy.HighsVarType.kInteger), np.uint8)
                model.changeColsIntegrality(len(integer), integer, kinds)
        rows = lp.constraints()
        self._rows = rows
        _add_rows(model, rows, 0)
        lp.handover = Handover(columns, rows, self.mip)

    def resumeSolverModel(self, lp) -> None:  # noqa: N802 - named like PuLP's hooks
        """Hand over only what changed since the last solve of this LP (``lp.handover``):
        the columns added since (their entries are the rows' terms after the ones handed
        over: extend_assignment_model appends them there), the rows added since, and every
        cost, bound and side as they are now. HiGHS keeps its basis, so the simplex goes on
        from the last optimum. Rows must only have grown: a term of an old column added to
        an old row is handed over too, but a coefficient changed in place is not seen."""
        import highspy

        inf = highspy.kHighsInf
        kept, record = lp.solverModel, lp.handover
        self.createAndConfigureSolver(lp)  # this solve's options, on a fresh instance
        kept.passOptions(lp.solverModel.getOptions())
        lp.solverModel = model = kept
        columns = self.given_columns if self.given_columns is not None else lp.variables()
        handed = record.column_ids
        old = len(record.columns)
        fresh = [v for v in columns if id(v) not in handed]
        for position, variable in enumerate(fresh, start=old):
            variable.index = position
        everything = record.columns + fresh
        fresh_ids = {id(v) for v in fresh}
        rows = lp.constraints()
        old_rows = len(record.rows)
        if any(a is not b for a, b in zip(rows, record.rows)) or len(rows) < old_rows:
            raise SolverError("internal: a resumed LP lost or reordered rows it had")
        entries: list[tuple[int, int, float]] = []
        for position, (row, handed_terms) in enumerate(zip(rows, record.terms)):
            if len(row) == handed_terms:
                continue
            for variable, coefficient in islice(row.items(), handed_terms, None):
                if id(variable) in fresh_ids:
                    entries.append((variable.index, position, coefficient))
                else:
                    model.changeCoeff(position, variable.index, coefficient)
        sign = -1.0 if lp.sense == pulp.LpMaximize else 1.0
        objective = lp.objective if lp.objective is not None else {}
        cost = np.fromiter((sign * objective.get(v, 0.0) for v in everything), float)
        lower = np.fromiter((-inf if v.lowBound is None else v.lowBound for v in everything), float)
        upper = np.fromiter((inf if v.upBound is None else v.upBound for v in everything), float)
        positions = np.arange(old, dtype=np.int32)
        model.changeColsCost(old, positions, cost[:old])
        model.changeColsBounds(old, positions, lower[:old], upper[:old])
        entries.sort()
        by_column = np.array([e[0] for e in entries], dtype=np.int64) - old
        starts = np.searchsorted(by_column, np.arange(len(fresh))).astype(np.int32)
        model.addCols(
            len(fresh),
            cost[old:],
            lower[old:],
            upper[old:],
            len(entries),
            starts,
            np.array([e[1] for e in entries], dtype=np.int32),
            np.array([e[2] for e in entries], dtype=float),
        )
        row_lower, row_upper = _row_sides(rows[:old_rows])
        model.changeRowsBounds(old_rows, np.arange(old_rows, dtype=np.int32), row_lower, row_upper)
        _add_rows(model, rows[old_rows:], old_rows)
        for position, row in enumerate(rows):
            row.index = position
        self._columns, self._rows = everything, rows
        lp.handover = Handover(everything, rows, self.mip)
        self.start_basis = None  # HiGHS's own basis is the better start

    def callSolver(self, lp):  # noqa: N802 - PuLP's name
        if self.start_basis is not None and not self.mip:
            lp.solverModel.setBasis(self.start_basis.for_model(self._columns, self._rows))
        if self.warm_start and any(v.varValue is not None for v in self._columns):
            import highspy

            solution = highspy.HighsSolution()
            solution.col_value = [
                float(v.varValue) if v.varValue is not None else 0.0 for v in self._columns
            ]
            solution.value_valid = True
            lp.solverModel.setSolution(solution)
            # after a MIP start HiGHS may report a better incumbent yet hand back the start
            # from getSolution; kept improving solutions let findSolutionValues read it
            lp.solverModel.setOptionValue("mip_improving_solution_save", True)
        if self.ends_at is None:
            with interruptible(lp.solverModel):
                super().callSolver(lp)
            return
        # HiGHS gets what is left of the caller's limit once the model is built (the
        # hand-over may have taken more or less than run() allowed for), less the reading back
        read_back = READ_BACK_SECONDS_PER_COLUMN * len(self._columns) + 0.02
        left = max(self.ends_at - time.perf_counter() - read_back, 0.05)
        # HiGHS holds its limit against the instance's clock, which a resumed LP's earlier
        # runs have advanced: without them it stops at once (at 100,000 x 500, narrowed
        # re-solves stopped after 0 iterations as 'time limit')
        lp.solverModel.setOptionValue("time_limit", left + lp.solverModel.getRunTime())
        if not (self.mip and can_box()):
            with interruptible(lp.solverModel):
                super().callSolver(lp)  # the simplex checks its clock; an LP keeps its basis
            return
        self.pending = start_boxed(lp.solverModel, box_seconds(left), saved=self.warm_start)
        if not self.deferred:
            self.collect(lp)

    def collect(self, lp) -> None:
        """The boxed solve's answer (it waits until its box runs out), read as a model."""
        boxed = self.pending.result()
        self.pending = None
        self.killed = boxed.killed
        lp.solverModel = boxed

    def findSolutionValues(self, lp):  # noqa: N802 - PuLP's name
        import highspy

        model = lp.solverModel
        status = model.getModelStatus()
        solution = model.getSolution()
        statuses = highspy.HighsModelStatus
        has_primal = bool(getattr(solution, "value_valid", True)) and math.isfinite(
            model.getInfo().objective_function_value
        )
        if status == statuses.kOptimal:
            result = (pulp.LpStatusOptimal, pulp.LpSolutionOptimal)
        elif status in (statuses.kInfeasible, statuses.kUnboundedOrInfeasible):
            result = (pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible)
        elif status == statuses.kUnbounded:
            result = (pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded)
        elif (
            status
            in (
                statuses.kTimeLimit,
                statuses.kIterationLimit,
                statuses.kInterrupt,
                statuses.kObjectiveBound,
                statuses.kObjectiveTarget,
                statuses.kSolutionLimit,
            )
            and has_primal
        ):
            result = (pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible)
        else:
            return (pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound)
        col_value = np.asarray(solution.col_value, dtype=float)
        saved = model.getSavedMipSolutions() if self.mip and self.warm_start else []
        if saved:
            best = min(saved, key=lambda found: found.objective)
            reported = model.getInfo().objective_function_value
            if abs(best.objective - reported) <= TINY * max(1.0, abs(reported)):
                col_value = np.asarray(best.col_value, dtype=float)
        col_dual = np.asarray(solution.col_dual, dtype=float)
        for variable, value, dual in zip(self._columns, col_value.tolist(), col_dual.tolist()):
            variable.varValue = value
            variable.dj = dual
        row_value = np.asarray(solution.row_value, dtype=float)
        row_dual = np.asarray(solution.row_dual, dtype=float)
        for row, value, dual in zip(self._rows, row_value.tolist(), row_dual.tolist()):
            # PuLP keeps the constant on the left-hand side; flip slack for <= rows
            row.slack = row.constant + value
            if row.sense == pulp.LpConstraintLE:
                row.slack = -row.slack
            row.pi = dual
        return result

    def can_resume(self, lp) -> bool:
        """Whether this LP's last solve left its HiGHS instance to go on from: asked for
        (``resume``), an LP both times, and solved in this process (a boxed MIP hands back
        a copy's answer, not a model)."""
        import highspy

        record = getattr(lp, "handover", None)
        return (
            self.resume
            and not self.mip
            and record is not None
            and not record.mip
            and isinstance(getattr(lp, "solverModel", None), highspy.Highs)
        )

    def begin(self, lp) -> None:
        """Hand the model over and start the solve; with ``deferred`` a boxed MIP solve
        is left running in its copy (``end`` collects it), anything else runs to its end."""
        if self.can_resume(lp):
            self.resumeSolverModel(lp)
        else:
            self.createAndConfigureSolver(lp)
            self.buildSolverModel(lp)
        self.callSolver(lp)

    def end(self, lp):
        """Read the answer back into the PuLP model (the boxed solve's, once it comes)."""
        if self.pending is not None:
            self.collect(lp)
        status, solution_status = self.findSolutionValues(lp)
        for variable in self._columns:
            variable.modified = False
        for row in self._rows:
            row.modifier = False
        lp.assignStatus(status, solution_status)
        return status

    def actualSolve(self, lp):  # noqa: N802 - PuLP's name
        self.begin(lp)
        return self.end(lp)


class Handover:
    """What a solve handed to HiGHS, in HiGHS's order: the columns, the rows and how many
    terms each row had then (what resumeSolverModel compares against)."""

    def __init__(self, columns: list, rows: list, mip: bool):
        self.columns = columns
        self.rows = rows
        self.terms = [len(row) for row in rows]
        self.mip = mip
        self.column_ids = {id(v) for v in columns}


def _row_sides(rows: list) -> tuple[np.ndarray, np.ndarray]:
    """Each row's lower and upper side as HiGHS takes them (infinite where open)."""
    import highspy

    inf = highspy.kHighsInf
    lower = np.fromiter(((-inf if (lb := r.getLb()) is None else lb) for r in rows), float)
    upper = np.fromiter(((inf if (ub := r.getUb()) is None else ub) for r in rows), float)
    return lower, upper


def _add_rows(model, rows: list, first: int) -> None:
    """Hand ``rows`` to HiGHS in one call, the first becoming row ``first``; their
    columns must have their ``index`` already."""
    starts = np.empty(len(rows), dtype=np.int32)
    indices: list[int] = []
    values: list[float] = []
    for position, row in enumerate(rows):
        row.index = first + position
        starts[position] = len(indices)
        for variable, coefficient in row.items():
            if coefficient != 0:
                indices.append(variable.index)
                values.append(coefficient)
    lower, upper = _row_sides(rows)
    model.addRows(
        len(rows),
        lower,
        upper,
        len(indices),
        starts,
        np.asarray(indices, dtype=np.int32),
        np.asarray(values, dtype=float),
    )


def model_columns(model) -> list | None:
    """The variables of a built model as it lists them itself (``columns()``), when that
    list is whole (a model extended with variables of its own is not): None otherwise, and
    PuLP collects them from the rows."""
    if not hasattr(model, "columns"):
        return None
    columns = model.columns()
    counted = model.lp.numVariables() + getattr(model, "grown", 0)
    return columns if len(columns) == counted else None


class LpBasis:
    """An LP basis by variable and row *name*, to restart the simplex after pricing.

    Column generation re-solves the LP with a few more columns. PuLP rebuilds the model each
    time, so HiGHS would start from scratch; handing it the previous basis (old columns and
    rows keep their status, new columns start non-basic at zero, which keeps the basis
    square and primal feasible) lets it continue where it stopped.
    """

    def __init__(self, columns: dict[str, object], rows: dict[str, object]):
        self.columns = columns
        self.rows = rows

    @classmethod
    def capture(cls, model) -> LpBasis | None:
        """The optimal basis of a solved LP (None when the solver kept none); ``model``
        holds its PuLP problem as ``lp`` and may list its variables (``columns``) in the
        order the solver got them."""
        lp = getattr(model, "lp", model)
        solver_model = getattr(lp, "solverModel", None)
        if solver_model is None or not hasattr(solver_model, "getBasis"):
            return None
        basis = solver_model.getBasis()
        if not basis.valid:
            return None
        handed = getattr(lp, "handover", None)
        if handed is not None:  # the order HiGHS has them in (a resumed LP appends columns)
            variables, constraints = handed.columns, handed.rows
        else:
            variables, constraints = model_columns(model) or lp.variables(), lp.constraints()
        columns = {v.name: status for v, status in zip(variables, basis.col_status)}
        rows = {r.name: status for r, status in zip(constraints, basis.row_status)}
        return cls(columns, rows)

    def for_model(self, columns: list, rows: list):
        import highspy

        at_lower = highspy.HighsBasisStatus.kLower
        basic = highspy.HighsBasisStatus.kBasic
        basis = highspy.HighsBasis()
        basis.col_status = [self.columns.get(v.name, at_lower) for v in columns]
        basis.row_status = [self.rows.get(r.name, basic) for r in rows]
        basis.valid = True
        basis.alien = True  # let HiGHS check and repair it rather than trust it blindly
        return basis


_BANNER_SILENCED = False


def _silence_highs_banner() -> None:
    """HiGHS prints its copyright banner on stdout when the first ``Highs()`` of a process is
    made, before any option can turn output off; that would mix into CLI output and piped
    CSV. Make that first instance once with file descriptor 1 pointed at /dev/null."""
    global _BANNER_SILENCED
    if _BANNER_SILENCED:
        return
    _BANNER_SILENCED = True
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solver_name(name: str) -> str:
    """Canonical PuLP solver class name for a user-facing name (case-insensitive)."""
    return _ALIASES.get(name.lower(), name)


def make_solver(
    name: str = "highs",
    *,
    mip: bool = True,
    time_limit: float | None = None,
    gap: float | None = None,
    gap_abs: float | None = None,
    threads: int | None = 1,
    seed: int = 0,
    msg: bool = False,
    warm_start: bool = False,
    start_basis: LpBasis | None = None,
    ends_at: float | None = None,
    columns: list | None = None,
    resume: bool = False,
) -> pulp.LpSolver:
    """A configured PuLP solver. Raises SolverError naming the available ones if missing.
    ``ends_at`` (a ``perf_counter()``): HiGHS is held to it, a MIP by a hard time box
    (timebox.py); ``columns``: the model's variables, when it lists them itself;
    ``resume``: an LP solved before by HiGHS gets only what changed since, and its simplex
    goes on from its basis (WarmStartHiGHS.resumeSolverModel)."""
    canonical = solver_name(name)
    if canonical == "HiGHS":
        if not msg:
            _silence_highs_banner()
        solver = WarmStartHiGHS(
            mip=mip,
            msg=msg,
            timeLimit=time_limit,
            gapRel=gap,
            gapAbs=gap_abs,
            threads=threads,
            random_seed=int(seed),
            warm_start=warm_start,
            start_basis=start_basis,
            ends_at=ends_at,
            columns=columns,
            resume=resume,
        )
        if not solver.available():  # pragma: no cover - highspy is a dependency
            raise SolverError("HiGHS (highspy) is not installed: pip install highspy")
        return solver
    try:
        solver = pulp.getSolver(
            canonical,
            mip=mip,
            msg=msg,
            timeLimit=time_limit,
            **({"gapRel": gap} if gap is not None else {}),
        )
    except (pulp.PulpSolverError, KeyError, TypeError) as error:
        available = ", ".join(pulp.listSolvers(onlyAvailable=True))
        raise SolverError(
            f"solver '{name}' is unknown or cannot be configured ({error}); "
            f"available here: {available}"
        ) from error
    if not solver.available():
        available = ", ".join(pulp.listSolvers(onlyAvailable=True))
        raise SolverError(
            f"solver '{name}' is not available on this machine; available here: {available}"
        )
    return solver


@dataclass(frozen=True)
class SolveOutcome:
    """What one solver call produced, in the engine's terms.

    status: ``optimal`` (proven within the solver's gap), ``feasible`` (a plan, not proven),
    ``infeasible``, ``unbounded``, ``no_solution`` (stopped without a plan),
    ``inconsistent`` (the solution read back does not give the solver's own objective).
    bound: the best bound the solver proved for this model (minimisation sense), or None when
    the solver does not report one. limit: the seconds the call was allotted; killed: the
    time box stopped a solve that ran past them (timebox.py).
    """

    status: str
    objective: float | None
    bound: float | None
    seconds: float
    limit: float | None = None
    killed: bool = False

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


def translate_status(
    problem: pulp.LpProblem, solver: pulp.LpSolver, seconds: float, is_mip: bool
) -> SolveOutcome:
    """The single place where solver status becomes engine status.

    PuLP reports a HiGHS time-limit stop that found a plan as status 1 with
    ``sol_status == LpSolutionIntegerFeasible``; we call that ``feasible`` and take HiGHS's
    own dual bound (``mip_dual_bound``) as the proven bound. For an LP stopped optimally the
    objective is itself the proven bound.
    """
    status = problem.status
    sol_status = problem.sol_status
    objective = pulp.value(problem.objective) if problem.objective is not None else 0.0
    if objective is None:
        objective = 0.0
    sign = -1.0 if problem.sense == pulp.LpMaximize else 1.0
    bound: float | None = None
    model = getattr(problem, "solverModel", None)
    if status == pulp.LpStatusInfeasible:
        return SolveOutcome("infeasible", None, None, seconds)
    if status == pulp.LpStatusUnbounded:
        return SolveOutcome("unbounded", None, None, seconds)
    if status != pulp.LpStatusOptimal or sol_status in (
        pulp.LpSolutionNoSolutionFound,
        pulp.LpSolutionInfeasible,
    ):
        return SolveOutcome("no_solution", None, None, seconds)
    proven = sol_status == pulp.LpSolutionOptimal
    if model is not None and hasattr(model, "getInfo"):
        # the values read back must reproduce HiGHS's own objective; seen to fail after a MIP
        # start (HiGHS reported an "optimal" value below the LP bound while handing back the
        # start): such an answer is not trusted, and the caller may solve again without it
        reported = sign * float(model.getInfo().objective_function_value)
        if abs(reported - objective) > 1e-6 * max(1.0, abs(objective)):
            return SolveOutcome("inconsistent", None, None, seconds)
    if model is not None and hasattr(model, "getInfo"):
        info = model.getInfo()
        if is_mip:
            dual = getattr(info, "mip_dual_bound", None)
            if dual is not None and math.isfinite(dual):
                # PuLP hands HiGHS ``sign * objective`` to minimise, so HiGHS's dual bound
                # is in that sense; multiplying by ``sign`` brings it back to the model's.
                bound = sign * float(dual)
        elif proven:
            bound = objective
    elif proven and not is_mip:
        bound = objective
    # A solver that says "optimal" for a MIP without exposing its bound proved optimality
    # only within its own gap tolerance; we still do not invent a bound from it.
    return SolveOutcome("optimal" if proven else "feasible", float(objective), bound, seconds)


def _handover_seconds(model, warm_start: bool) -> float:
    """What handing ``model`` to the solver takes before its own clock starts (about 10
    microseconds a variable, twice that with a start to pass)."""
    return (2e-5 if warm_start else 1e-5) * model.lp.numVariables() + 0.05


def _solver_for(
    model,
    settings: SolveSettings,
    mip: bool,
    time_limit: float,
    started: float,
    gap=None,
    gap_abs=None,
    warm_start=False,
    start_basis=None,
    resume=False,
):
    """The solver of one run() call, its limit less the hand-over (run's docstring)."""
    return make_solver(
        settings.solver,
        mip=mip,
        time_limit=max(time_limit - _handover_seconds(model, warm_start), 0.05),
        gap=gap if mip else None,
        gap_abs=gap_abs if mip else None,
        threads=settings.threads,
        seed=settings.seed,
        msg=settings.msg,
        warm_start=warm_start,
        start_basis=start_basis,
        ends_at=started + time_limit,
        columns=model_columns(model),
        resume=resume,
    )


def _outcome(model, solver, started: float, time_limit: float, mip: bool) -> SolveOutcome:
    outcome = translate_status(model.lp, solver, time.perf_counter() - started, is_mip=mip)
    return dataclasses.replace(
        outcome, limit=time_limit, killed=bool(getattr(solver, "killed", False))
    )


def run(
    model,
    settings: SolveSettings,
    *,
    mip: bool,
    time_limit: float,
    gap: float | None = None,
    gap_abs: float | None = None,
    warm_start: bool = False,
    start_basis=None,
    resume: bool = False,
) -> SolveOutcome:
    """Solve a built model (anything holding its PuLP problem as ``lp``) with a fresh
    solver (the solver is an argument, built here).

    PuLP hands the model to HiGHS before HiGHS's own clock starts; that hand-over (about
    10 microseconds a variable) is taken off the limit so the phase ends when the caller's
    clock says it should (HiGHS itself is then given what is truly left, and a MIP is held
    to it by a hard time box, timebox.py: HiGHS does not check its clock everywhere).
    With ``resume`` an LP that grew since its last solve (extend_assignment_model, new
    rows, new sides or bounds) is handed over only in what changed (make_solver).
    """
    started = time.perf_counter()
    solver = _solver_for(
        model, settings, mip, time_limit, started, gap, gap_abs, warm_start, start_basis, resume
    )
    try:
        model.lp.solve(solver)
    except pulp.PulpSolverError as error:
        raise SolverError(f"the solver failed: {error}") from error
    outcome = _outcome(model, solver, started, time_limit, mip)
    remaining = time_limit - (time.perf_counter() - started)
    if (
        outcome.status == "inconsistent"
        and warm_start
        and remaining > _handover_seconds(model, warm_start)
    ):
        return run(model, settings, mip=mip, time_limit=remaining, gap=gap, gap_abs=gap_abs)
    return outcome


def can_run_together(settings: SolveSettings) -> bool:
    """Whether MIP solves can run side by side: HiGHS in boxed copies (timebox.py)."""
    return solver_name(settings.solver) == "HiGHS" and can_box()


def run_together(models: list, settings: SolveSettings, **options) -> list[SolveOutcome]:
    """MIP solves of models that share nothing, side by side, one boxed copy each (with two
    cores, two windows take the time of one); each as run() would solve it, with the same
    ``options`` (time_limit, gap, gap_abs, warm_start). One after another where solves
    cannot be boxed (can_run_together)."""
    if len(models) < 2 or not can_run_together(settings):
        return [run(model, settings, mip=True, **options) for model in models]
    time_limit = options.pop("time_limit")
    started = time.perf_counter()
    solvers = []
    try:
        for model in models:
            solver = _solver_for(model, settings, True, time_limit, started, **options)
            solver.deferred = True
            solver.begin(model.lp)
            solvers.append(solver)
        outcomes = []
        for model, solver in zip(models, solvers):
            solver.end(model.lp)
            outcomes.append(_outcome(model, solver, started, time_limit, True))
    except pulp.PulpSolverError as error:
        raise SolverError(f"the solver failed: {error}") from error
    finally:
        for solver in solvers:
            if solver.pending is not None:  # an error above: no copy is left running
                solver.pending.cancel()
    return outcomes
