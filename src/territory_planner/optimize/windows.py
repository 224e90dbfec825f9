"""Windows of reps: a plan mended and improved a few reps at a time.

A window is a rep and the few reps it competes with most for accounts (``neighbour_reps``);
every unit of those reps is free to move among them (over the candidate pairs) and only their
bands are rows, so each window is a small MILP started from the plan, which it can only
improve (docs/design.md, the optimiser's phases). A plan that breaks bands (the LP's
rounding) is mended first, in a window twice as wide (four times, if that cannot) whose MILP
minimises the breach, cost only breaking ties: it ends at the first plan that holds the
bands, far sooner than one that weighs both; the cost window follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .breach import band_excess, budget_excess, rep_loads
from .model import AssignmentModel, PairSet, build_assignment_model, read_assignment, set_start
from .pairs import cost_scale, pairs_for
from .settings import TINY, Clock, SolveSettings
from .solvers import SolveOutcome, can_run_together, run, run_together

#: a breach of a whole target, in the mending MILP's objective
MEND_SCALE = 1e6
#: a window does not start with this few seconds left
LAST_SECONDS = 0.5
#: the widths of the mending windows, in multiples of the improving window's
MEND_WIDTHS = (2, 4)
#: a mending window gets this many times an improving window's seconds
MEND_SECONDS = 3
#: improving windows that wait for a partner sharing no rep (Windows.queue_improving)
WAITING = 3


@dataclass
class Window:
    """One window's MILP, built from the plan: around ``rep``, ``width`` reps wide, its
    free units, the objective the plan has in it (what the MILP must beat) and the changes
    of its reps when it was built (Windows.tried)."""

    rep: int
    width: int
    mend: bool
    seen: int
    free: np.ndarray
    model: AssignmentModel
    before: float


class Windows:
    """A plan under repair by windows of reps, with the numbers the windows steer by.

    ``plan``, ``objective``, ``loads`` (each rep's load), ``excess`` (each band's breach as a
    share of its target) and ``moved_total`` (potential that changes owner) are kept in step
    as windows change the plan. A window nothing has touched since it last found nothing is
    not solved again (``changes`` counts how often each rep's units changed).
    """

    def __init__(
        self,
        problem,
        pairs: PairSet,
        plan: np.ndarray,
        objective: float,
        settings: SolveSettings,
        clock: Clock,
        log,
        size: int = 3,
        seconds: float = 1.0,
        gap: float = 1e-3,
    ):
        self.problem, self.pairs, self.settings = problem, pairs, settings
        self.clock, self.log = clock, log
        self.size, self.seconds, self.gap = size, seconds, gap
        self.plan = plan.copy()
        self.objective = objective
        self.widest = neighbour_reps(problem, pairs, max(MEND_WIDTHS) * size)
        self.loads = rep_loads(problem, self.plan)
        self.in_window = np.zeros(problem.n_reps, dtype=bool)
        self.free_mask = np.zeros(problem.n_units, dtype=bool)
        budget = problem.max_moved_potential
        self.moved_total = problem.moved_potential_of(self.plan) if budget is not None else 0.0
        self.excess = band_excess(problem, self.loads)
        self.changes = np.zeros(problem.n_reps, dtype=np.int64)
        self.tried: dict[tuple[int, int], int] = {}  # window -> changes when it found nothing

    def over_budget(self) -> float:
        return budget_excess(self.problem, self.moved_total)

    def breach(self) -> float:
        """How far the plan lies outside the bands and the budget (0: it holds them all)."""
        return float(self.excess.sum()) + self.over_budget()

    def breach_around(self, j: int) -> float:
        """The breach of the bands of rep j's improving window, plus the budget's."""
        return self.excess[:, self.widest[j, : self.size]].sum() + self.over_budget()

    def sweep(self, first: np.ndarray, done: Callable[[float, float], bool]) -> None:
        """Windows around the ``first`` reps (broken bands, fractional units) go first, then
        the rest, in passes, until a pass changes nothing, ``done(objective, breach)`` says
        so or time runs out."""
        problem, clock = self.problem, self.clock
        rest = np.setdiff1d(np.arange(problem.n_reps), first)
        order = np.concatenate([first, rest]).astype(int)
        improved_in_pass, waiting = True, []

        def stop() -> bool:
            return clock.remaining <= LAST_SECONDS or done(
                self.objective, self.excess.sum() + self.over_budget()
            )

        if self.breach() > TINY:
            self.mend_first(order, stop)
        while improved_in_pass and not stop():
            improved_in_pass = False
            for j in order.tolist():
                if stop():
                    break
                improved_in_pass |= self.mend(j)
                if self.breach_around(j) > TINY:
                    continue
                if self.side_by_side:
                    improved_in_pass |= self.queue_improving(waiting, j)
                else:
                    improved_in_pass |= self.solve(j, mend=False)
            while waiting and not stop():
                improved_in_pass |= self.queue_improving(waiting, None)
            waiting.clear()

    def mend_first(self, order: np.ndarray, stop: Callable[[], bool]) -> None:
        """Mending windows only, around every rep whose bands break, in passes until the plan
        holds them all or a pass mends nothing: improving windows on a plan that breaks
        bands elsewhere spend the time a whole plan needs (clustered 100,000 x 500: mending
        and improving in turn, the sweep mended 38 reps in 115 s and ran out of time with
        three still broken; mending first, 37 mending windows made it whole in 46 s)."""
        mended = True
        while mended and self.breach() > TINY and not stop():
            mended = False
            for j in order.tolist():
                if stop():
                    return
                mended |= self.mend(j)

    def mend(self, j: int) -> bool:
        """Mending windows around rep j while its bands break, each MEND_WIDTHS wider than
        the last (a breach a few reps cannot absorb may need reps further out). True when
        the plan changed."""
        changed = False
        for width in MEND_WIDTHS:
            if self.breach_around(j) <= TINY:
                break
            changed |= self.solve(j, mend=True, width=width * self.size)
        return changed

    def queue_improving(self, waiting: list[int], j: int | None) -> bool:
        """Rep j's improving window is solved with the oldest waiting one that shares no
        rep with it, side by side; else it waits (the oldest is solved alone once more than
        WAITING wait). ``j`` None: the oldest waiting one is paired or else solved alone
        (so draining the queue always shortens it). True when the plan changed."""
        draining = j is None
        if draining:
            j = waiting.pop(0)
        reps = self.widest[j, : self.size]
        for k, other in enumerate(waiting):
            if not np.isin(self.widest[other, : self.size], reps).any():
                del waiting[k]
                return self.solve_both(other, j)
        if draining:
            # put back, it would meet the same overlapping ones again: the sweep spun on
            # such a queue until the time ran out (the demo lost 40 of its 60 s)
            return self.solve(j, mend=False)
        waiting.append(j)
        if len(waiting) > WAITING:
            return self.solve(waiting.pop(0), mend=False)
        return False

    @property
    def side_by_side(self) -> bool:
        """Whether improving windows that share no rep are solved two at a time (one core
        each): where solves can be boxed, and without a disruption budget (the one row
        that two windows would share: together they could overspend it)."""
        return (
            self.problem.max_moved_potential is None
            and self.problem.n_reps >= 2 * self.size
            and can_run_together(self.settings)
        )

    def solve(self, j: int, mend: bool, width: int | None = None) -> bool:
        """One window MILP around rep j: ``mend`` minimises the breach (it stops at the first
        plan that holds every band: within 2 of the bound, as the cost weighs at most 1),
        otherwise the cost with every band of the window held. True when the plan changed."""
        window = self._window(j, mend, width)
        if window is None:
            return False
        outcome = run(window.model, self.settings, mip=True, **self._options(mend))
        return self._apply(window, outcome)

    def solve_both(self, first: int, second: int) -> bool:
        """The improving windows around reps ``first`` and ``second`` side by side when they
        share no rep (so no unit and no band: each plan change is what it would be alone),
        else one after the other. True when the plan changed."""
        if self.breach_around(first) > TINY:  # a mend since it waited broke its bands
            return self.solve(second, mend=False)
        shared = np.intersect1d(self.widest[first, : self.size], self.widest[second, : self.size])
        if len(shared):
            changed = self.solve(first, mend=False)
            return self.solve(second, mend=False) or changed
        built = (self._window(first, False), self._window(second, False))
        windows = [w for w in built if w is not None]
        if not windows:
            return False
        outcomes = run_together([w.model for w in windows], self.settings, **self._options(False))
        changed = False
        for window, outcome in zip(windows, outcomes):
            changed |= self._apply(window, outcome)
        return changed

    def _options(self, mend: bool) -> dict:
        seconds = MEND_SECONDS * self.seconds if mend else self.seconds
        return {
            "time_limit": min(self.clock.remaining, seconds),
            "gap": self.gap,
            "gap_abs": 2.0 if mend else None,
            "warm_start": True,
        }

    def _window(self, j: int, mend: bool, width: int | None = None) -> Window | None:
        """The window MILP around rep j, or None when nothing in it moved since it last
        found nothing."""
        width = self.size if width is None else width
        reps = self.widest[j, :width]
        seen = int(self.changes[reps].sum())
        if self.tried.get((j, width)) == seen:
            return None
        free, model, before = self._window_model(reps, mend)
        return Window(j, width, mend, seen, free, model, before)

    def _apply(self, window: Window, outcome: SolveOutcome) -> bool:
        """Take the window's plan where it beats the plan; True when the plan changed."""
        before, free, model = window.before, window.free, window.model
        improved = outcome.has_solution and outcome.objective < before - TINY * max(
            1.0, abs(before)
        )
        sub_rep = read_assignment(model, self.problem.n_units)[0] if improved else self.plan
        changed = free[sub_rep[free] != self.plan[free]]
        if len(changed) == 0:
            self.tried[(window.rep, window.width)] = window.seen
            return False
        self._move(changed, sub_rep)
        self._log(outcome, model, free, window.mend, window.rep)
        return True

    def _window_model(
        self, window: np.ndarray, mend: bool
    ) -> tuple[np.ndarray, AssignmentModel, float]:
        """The free units of ``window``, its MILP started from the plan, and the objective
        the plan has in it (what the MILP must beat)."""
        problem, pairs, plan = self.problem, self.pairs, self.plan
        self.in_window[:] = False
        self.in_window[window] = True
        free = np.flatnonzero(self.in_window[plan])
        self.free_mask[:] = False
        self.free_mask[free] = True
        sub = pairs.subset(self.in_window[pairs.rep] & self.free_mask[pairs.unit])
        current = pairs_for(problem, free, plan[free])
        if mend:
            # breach first; cost only breaks ties (all of it weighs a millionth of a target);
            # scaled by MEND_SCALE so no coefficient is small enough for HiGHS to drop
            weight = 1.0 / cost_scale(problem, sub)
            before = MEND_SCALE * (
                float(self.excess[:, window].sum()) + self.over_budget()
            ) + weight * float(current.cost.sum())
            sub = PairSet(sub.unit, sub.rep, weight * sub.cost, sub.load, sub.moved)
        else:
            before = float(current.cost.sum())
        model = build_assignment_model(
            problem,
            sub,
            free,
            relax=False,
            fixed_moved=self.moved_total - float(current.moved.sum()),
            reps=window,
            slack_penalty=MEND_SCALE if mend else None,
            name="window",
        )
        set_start(model, plan)
        set_slack_start(model, problem, self.loads, self.moved_total)
        return free, model, before

    def _move(self, changed: np.ndarray, sub_rep: np.ndarray) -> None:
        """Move the ``changed`` units to their rep in ``sub_rep``, keeping the numbers."""
        problem, plan = self.problem, self.plan
        self.objective -= float(pairs_for(problem, changed, plan[changed]).cost.sum())
        self.loads -= rep_loads(problem, plan, changed)
        self.changes[plan[changed]] += 1
        plan[changed] = sub_rep[changed]
        self.changes[plan[changed]] += 1
        self.loads += rep_loads(problem, plan, changed)
        self.objective += float(pairs_for(problem, changed, plan[changed]).cost.sum())
        self.excess = band_excess(problem, self.loads)
        if problem.max_moved_potential is not None:
            self.moved_total = problem.moved_potential_of(plan)

    def _log(self, outcome: SolveOutcome, model, free: np.ndarray, mend: bool, j: int) -> None:
        self.log(
            "window",
            outcome,
            len(model.pairs),
            free_units=int(len(free)),
            scope=f"{'mend' if mend else 'improve'} around rep {j}",
        )


def improve_by_windows(
    problem,
    pairs: PairSet,
    plan: np.ndarray,
    objective: float,
    settings: SolveSettings,
    clock: Clock,
    done: Callable[[float, float], bool],
    log,
    first: np.ndarray,
    size: int = 3,
    seconds: float = 1.0,
    gap: float = 1e-3,
) -> tuple[np.ndarray, float, float]:
    """Re-optimise the plan a few reps at a time (Windows.sweep) until ``done(objective,
    breach)`` says so or time runs out; returns the plan, its objective and its breach: how
    far it lies outside the bands and the moved-potential budget, each as a share of its
    own target (0 when the plan holds them all)."""
    windows = Windows(problem, pairs, plan, objective, settings, clock, log, size, seconds, gap)
    windows.sweep(first, done)
    return windows.plan, windows.objective, windows.breach()


def neighbour_reps(problem, pairs: PairSet, size: int) -> np.ndarray:
    """(J, size): each rep first, then the reps that share the most candidate units with it
    (the reps it competes with for accounts; no geometry needed)."""
    n = problem.n_reps
    size = min(size, n)
    together = np.zeros(n * n, dtype=np.int64)
    # pairs are sorted by unit: pairs d positions apart with the same unit share it
    for d in range(1, 64):
        same = pairs.unit[d:] == pairs.unit[:-d]
        if not same.any():
            break
        first, second = pairs.rep[:-d][same], pairs.rep[d:][same]
        together += np.bincount(first * n + second, minlength=n * n)
        together += np.bincount(second * n + first, minlength=n * n)
    together = together.reshape(n, n).astype(float)
    np.fill_diagonal(together, np.inf)
    return np.argsort(-together, axis=1, kind="stable")[:, :size]


def set_slack_start(model: AssignmentModel, problem, loads: np.ndarray, moved: float) -> None:
    """Start an elastic model's slack where the plan handed in by set_start leaves it
    (``loads``: each rep's load under that plan, every unit of the model's reps free), so
    the start is a feasible solution and the solver begins with an incumbent."""
    for (kind, m, j), var in model.slack.items():
        if kind == "short":
            value = problem.lower[m, j] - loads[m, j]
        elif kind == "over":
            value = loads[m, j] - problem.upper[m, j]
        else:
            value = moved - (problem.max_moved_potential or 0.0)
        var.setInitialValue(max(0.0, float(value)))
