"""How far a plan lies outside its bands and its disruption budget.

The rounding and window phases (rounding.py, windows.py) steer by this breach: each band's
excess as a share of its own target, the budget's as a share of the budget, summed; 0 when
the plan holds every band and the budget.
"""

from __future__ import annotations

import numpy as np

from .pairs import pairs_for
from .settings import TINY


def rep_loads(problem, plan: np.ndarray, units: np.ndarray | None = None) -> np.ndarray:
    """(M, J) load each rep carries from ``units`` (default: all) under ``plan``."""
    units = np.arange(problem.n_units) if units is None else units
    loads = np.zeros((problem.n_metrics, problem.n_reps))
    placed = pairs_for(problem, units, plan[units])
    for m in range(problem.n_metrics):
        np.add.at(loads[m], placed.rep, placed.load[m])
    return loads


def band_excess(problem, loads: np.ndarray) -> np.ndarray:
    """(M, J) how far each rep's load lies outside its band, as a share of its target."""
    outside = np.maximum(problem.lower - loads, 0.0) + np.maximum(loads - problem.upper, 0.0)
    return outside / np.maximum(np.abs(problem.target), TINY)


def budget_excess(problem, moved: float) -> float:
    """How far ``moved`` potential lies over the disruption budget, as a share of it (0
    within it or without a budget)."""
    budget = problem.max_moved_potential
    return 0.0 if budget is None else max(0.0, moved - budget) / max(budget, TINY)
