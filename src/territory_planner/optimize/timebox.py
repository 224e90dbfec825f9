"""A hard time box around one HiGHS MIP solve.

HiGHS stops a MIP at ``time_limit`` only where it checks the clock, and its root node has
steps that never do: the analytic centre (an interior point solve capped at 200 iterations,
not in seconds) and *central rounding* (``HighsPrimalHeuristics::linesearchRounding``: up
to a hundred points on the line from the LP optimum to the analytic centre, and for each
one every integer column fixed and propagated in turn, through the conflict pool). On the
window MILPs of the giant family that step alone ran 1-3 s past a 0.85 s limit on an idle
machine and 31 s past it on a loaded one; HiGHS 1.16 has no option that skips it. So the
engine keeps its own limit: a MIP solve runs in a forked copy of the process (the model is
already built; the fork shares its memory copy-on-write and costs a few milliseconds), the
parent waits for the answer until the deadline and kills the copy if it has not come.
A killed solve reports no solution: the caller keeps the plan it had (a window changes
nothing, a round offers nothing).

Off Linux (no ``os.fork``, or macOS, where forking a threaded process is unsafe) the solve
runs in the process, as HiGHS alone bounds it.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import sys
import time
from dataclasses import dataclass, field

import numpy as np

#: a solve may run this long past its limit before it is killed: HiGHS's own stop and the
#: hand-back of its answer take a moment, a heuristic that ignores the clock takes seconds
GRACE_SECONDS, GRACE_SHARE = 0.2, 0.02

#: reading the answer waits at most this long per poll, so the deadline is kept
_POLL_SECONDS = 0.05


def box_seconds(time_limit: float) -> float:
    """How long a solve given ``time_limit`` seconds may take before it is killed."""
    return time_limit + GRACE_SECONDS + GRACE_SHARE * time_limit


def can_box() -> bool:
    """Linux only: macOS forbids forking a process whose system frameworks run threads."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


@dataclass
class _Solution:
    col_value: list = field(default_factory=list)
    col_dual: list = field(default_factory=list)
    row_value: list = field(default_factory=list)
    row_dual: list = field(default_factory=list)
    value_valid: bool = False


@dataclass
class _Info:
    objective_function_value: float = float("inf")
    mip_dual_bound: float = float("-inf")
    mip_node_count: int = 0


@dataclass
class _Saved:
    objective: float
    col_value: list


class BoxedResult:
    """What a boxed solve handed back, read as a ``highspy.Highs`` is read after ``run``
    (the calls solvers.WarmStartHiGHS and translate_status make), so the rest of the
    engine cannot tell the two apart; ``killed`` when the box ran out first (no answer is
    then a time-limit stop without a solution)."""

    def __init__(self, answer: dict | None, seconds: float, killed: bool):
        import highspy

        self.killed = killed
        self.seconds = seconds
        answer = answer or {"status": int(highspy.HighsModelStatus.kTimeLimit)}
        self._status = highspy.HighsModelStatus(answer["status"])
        self._solution = _Solution(**answer.get("solution", {}))
        self._info = _Info(**answer.get("info", {}))
        self._saved = [_Saved(*found) for found in answer.get("saved", [])]

    def getModelStatus(self):  # noqa: N802 - highspy's name
        return self._status

    def getSolution(self):  # noqa: N802
        return self._solution

    def getInfo(self):  # noqa: N802
        return self._info

    def getSavedMipSolutions(self):  # noqa: N802
        return self._saved

    def getRunTime(self) -> float:  # noqa: N802
        return self.seconds


def _answer(highs, saved: bool) -> dict:
    """Everything the parent reads of a finished solve, as plain picklable values."""
    solution, info = highs.getSolution(), highs.getInfo()
    return {
        "status": int(highs.getModelStatus()),
        "solution": {
            "col_value": np.asarray(solution.col_value, dtype=float),
            "col_dual": np.asarray(solution.col_dual, dtype=float),
            "row_value": np.asarray(solution.row_value, dtype=float),
            "row_dual": np.asarray(solution.row_dual, dtype=float),
            "value_valid": bool(getattr(solution, "value_valid", True)),
        },
        "info": {
            "objective_function_value": float(info.objective_function_value),
            "mip_dual_bound": float(getattr(info, "mip_dual_bound", float("-inf"))),
            "mip_node_count": int(getattr(info, "mip_node_count", 0)),
        },
        "saved": [
            (float(found.objective), np.asarray(found.col_value, dtype=float))
            for found in (highs.getSavedMipSolutions() if saved else [])
        ],
    }


def run_boxed(highs, seconds: float, saved: bool = False) -> BoxedResult:
    """Run the built ``highs`` in a forked copy of the process; its answer if it comes
    within ``seconds``, else the copy is killed and the result says ``killed``."""
    return start_boxed(highs, seconds, saved).result()


class BoxedSolve:
    """A boxed solve under way in its forked copy; ``result`` waits for its answer until
    its deadline (kills the copy then). Several can run at once, one core each: they
    share nothing but the pages of the model they were forked with."""

    def __init__(self, pid: int, read_end: int, started: float, deadline: float):
        self.pid, self.read_end = pid, read_end
        self.started, self.deadline = started, deadline

    def result(self) -> BoxedResult:
        chunks: list[bytes] = []
        complete = False
        try:
            while (left := self.deadline - time.perf_counter()) > 0:
                ready, _, _ = select.select([self.read_end], [], [], min(left, _POLL_SECONDS))
                if not ready:
                    continue
                chunk = os.read(self.read_end, 1 << 20)
                if not chunk:
                    complete = True
                    break
                chunks.append(chunk)
        finally:
            os.close(self.read_end)
            if not complete:
                os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
        answer = None
        if complete and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and chunks:
            answer = pickle.loads(b"".join(chunks))
        seconds = time.perf_counter() - self.started
        return BoxedResult(answer, seconds, killed=not complete)

    def cancel(self) -> None:
        """Stop the copy without reading it (the caller gave up on it)."""
        os.close(self.read_end)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


def start_boxed(highs, seconds: float, saved: bool = False) -> BoxedSolve:
    """Start the built ``highs`` in a forked copy of the process, to be read by
    ``BoxedSolve.result`` within ``seconds`` of now."""
    started = time.perf_counter()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the copy: solve, hand the answer over, leave without cleaning up
        code = 1
        try:
            os.close(read_end)
            import highspy

            # the parent's solver threads do not exist here: start HiGHS's scheduler anew
            highspy.Highs.resetGlobalScheduler(False)
            highs.run()
            payload = pickle.dumps(_answer(highs, saved), protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(payload)
            while view:
                view = view[os.write(write_end, view) :]
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    return BoxedSolve(pid, read_end, started, started + seconds)
