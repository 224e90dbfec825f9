"""What every solve of the optimiser shares: its settings, its clock and its tolerances.

The plan strategy, the location model and the re-balancing steps read the same
``SolveSettings`` and count the time limit on the same ``Clock`` (docs/design.md, the
optimiser's phases).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

#: the one absolute tolerance of the optimiser: what is below it counts as zero (a breach, a
#: saving, a slack, a denominator that would otherwise be zero)
TINY = 1e-9


@dataclass
class SolveSettings:
    solver: str = "highs"
    time_limit: float = 60.0
    gap: float = 0.005
    threads: int = 1
    seed: int = 0
    msg: bool = False
    candidates: int = 5  # k cheapest reps per unit before pricing
    full_model_pairs: int = 20000  # at or below this many pairs, skip sparsification
    district_reps: int = 40  # geography mode splits maps of twice as many reps (region_split)
    started: float | None = None  # perf_counter() when the time limit began (default: now)

    @classmethod
    def from_scenario(cls, solver_settings, **overrides) -> SolveSettings:
        values = dict(
            solver=solver_settings.name,
            time_limit=solver_settings.time_limit,
            gap=solver_settings.gap,
            threads=solver_settings.threads,
            seed=solver_settings.seed,
            msg=solver_settings.msg,
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class Clock:
    """Seconds left of the time limit, counted from ``start`` (the caller's, when the caller
    spent part of the limit before the solve began, e.g. building the problem)."""

    def __init__(self, limit: float, start: float | None = None):
        self.start = time.perf_counter() if start is None else start
        self.limit = limit

    @classmethod
    def for_settings(cls, settings: SolveSettings) -> Clock:
        """The clock of a solve: ``settings.time_limit`` from ``settings.started`` (or now)."""
        return cls(settings.time_limit, settings.started)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    @property
    def remaining(self) -> float:
        return max(0.0, self.limit - self.elapsed)

    def share(self, fraction: float) -> Clock:
        """A clock on the same start that runs out once ``fraction`` of the time left now is
        spent (a phase that must leave the rest to the phases after it)."""
        return Clock(self.elapsed + fraction * self.remaining, self.start)

    def deadline(self, fraction: float) -> float:
        """The ``perf_counter()`` at which ``fraction`` of the time left now is spent."""
        return time.perf_counter() + fraction * self.remaining
