"""Solvers are arguments: build one from settings, and translate its status in one place.

HiGHS through highspy (``pulp.HiGHS``) is the default. Any other PuLP solver name may be
passed (``PULP_CBC_CMD``, ``HiGHS_CMD``, ``GLPK_CMD`` ...). Only PuLP's public API is used so
PuLP 3 (Python 3.11, CBC deprecated) and PuLP 4 (CBC removed) both work.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

import pulp

from ..errors import SolverError

_ALIASES = {"highs": "HiGHS", "highspy": "HiGHS", "cbc": "PULP_CBC_CMD",
            "highs_cmd": "HiGHS_CMD", "glpk": "GLPK_CMD"}


class WarmStartHiGHS(pulp.HiGHS):
    """``pulp.HiGHS`` that hands the variables' current values to HiGHS as a start.

    PuLP's HiGHS interface has no warm start, yet a MIP start is what lets the polish phase
    begin from the fix-and-finish plan instead of from scratch. We only extend the public
    ``callSolver`` hook; the model build and status mapping stay PuLP's own.
    """

    def __init__(self, *args, warm_start: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.warm_start = warm_start

    def callSolver(self, lp):  # noqa: N802 - PuLP's name
        if self.warm_start:
            import highspy

            variables = lp.variables()
            values = [v.varValue if v.varValue is not None else 0.0 for v in variables]
            if any(v.varValue is not None for v in variables):
                solution = highspy.HighsSolution()
                solution.col_value = [float(x) for x in values]
                solution.value_valid = True
                lp.solverModel.setSolution(solution)
        super().callSolver(lp)


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


def make_solver(name: str = "highs", *, mip: bool = True, time_limit: float | None = None,
                gap: float | None = None, gap_abs: float | None = None,
                threads: int | None = 1, seed: int = 0, msg: bool = False,
                warm_start: bool = False) -> pulp.LpSolver:
    """A configured PuLP solver. Raises SolverError naming the available ones if missing."""
    canonical = solver_name(name)
    if canonical == "HiGHS":
        if not msg:
            _silence_highs_banner()
        solver = WarmStartHiGHS(mip=mip, msg=msg, timeLimit=time_limit, gapRel=gap,
                                gapAbs=gap_abs, threads=threads, random_seed=int(seed),
                                warm_start=warm_start)
        if not solver.available():  # pragma: no cover - highspy is a dependency
            raise SolverError("HiGHS (highspy) is not installed: pip install highspy")
        return solver
    try:
        solver = pulp.getSolver(canonical, mip=mip, msg=msg, timeLimit=time_limit,
                                **({"gapRel": gap} if gap is not None else {}))
    except (pulp.PulpSolverError, KeyError, TypeError) as error:
        available = ", ".join(pulp.listSolvers(onlyAvailable=True))
        raise SolverError(f"solver '{name}' is unknown or cannot be configured ({error}); "
                          f"available here: {available}") from error
    if not solver.available():
        available = ", ".join(pulp.listSolvers(onlyAvailable=True))
        raise SolverError(f"solver '{name}' is not available on this machine; "
                          f"available here: {available}")
    return solver


@dataclass(frozen=True)
class SolveOutcome:
    """What one solver call produced, in the engine's terms.

    status: ``optimal`` (proven within the solver's gap), ``feasible`` (a plan, not proven),
    ``infeasible``, ``unbounded``, ``no_solution`` (stopped without a plan).
    bound: the best bound the solver proved for this model (minimisation sense), or None when
    the solver does not report one.
    """

    status: str
    objective: float | None
    bound: float | None
    seconds: float

    @property
    def has_solution(self) -> bool:
        return self.status in ("optimal", "feasible")


def translate_status(problem: pulp.LpProblem, solver: pulp.LpSolver, seconds: float,
                     is_mip: bool) -> SolveOutcome:
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
    if status != pulp.LpStatusOptimal or sol_status in (pulp.LpSolutionNoSolutionFound,
                                                          pulp.LpSolutionInfeasible):
        return SolveOutcome("no_solution", None, None, seconds)
    proven = sol_status == pulp.LpSolutionOptimal
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
