"""What a solve hands back, judged by one rule (docs/design.md, definitions).

The plan strategy, the location model and the re-balancing steps all return an
``AssignmentResult``: the rep (or site) position of every unit, its objective, the proven
lower bound, the gap between them and the status that gap earns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .settings import TINY, Clock
from .solvers import SolveOutcome

#: a gap at or below this is reported as proven optimal
OPTIMAL_GAP = 1e-6


@dataclass
class AssignmentResult:
    """A solved assignment: rep (or site) position per unit, with its proven bound."""

    unit_rep: np.ndarray
    objective: float
    lower_bound: float
    gap: float
    status: str
    seconds: float
    phases: list[dict] = field(default_factory=list)
    candidate_pairs: int = 0
    total_pairs: int = 0


def relative_gap(objective: float, bound: float) -> float:
    """gap = (objective - lower_bound) / max(|objective|, tiny), never negative."""
    return max(0.0, (objective - bound) / max(abs(objective), TINY))


def plan_status(gap: float, target: float) -> str:
    """``optimal`` when the gap is closed, ``within_gap_target`` when it is at most the
    target asked for, else ``time_limit`` (the limit stopped the search first)."""
    if gap <= OPTIMAL_GAP:
        return "optimal"
    return "within_gap_target" if gap <= target else "time_limit"


def objective_of(problem, unit_rep: np.ndarray) -> float:
    """Objective of an integral assignment, recomputed from the oracles (minimisation)."""
    total = 0.0
    for units in problem.unit_blocks():
        cost = problem.cost_block(units)
        total += float(cost[np.arange(len(units)), unit_rep[units]].sum())
    return total


class PhaseLog:
    """The phases of a solve as summary.json lists them, each stamped with the clock."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.entries: list[dict] = []

    def __call__(self, phase: str, outcome: SolveOutcome | None, size: int, **extra) -> None:
        entry = {"phase": phase, "seconds": round(self.clock.elapsed, 3), "pairs": size}
        if outcome is not None:
            entry.update(
                status=outcome.status,
                objective=outcome.objective,
                bound=outcome.bound,
                solve_seconds=round(outcome.seconds, 3),
            )
            if outcome.limit is not None:
                entry["limit"] = round(outcome.limit, 3)
            if outcome.killed:
                entry["killed"] = True
        entry.update(extra)
        self.entries.append(entry)
