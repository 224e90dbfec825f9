"""Checks of the Python API's arguments: the same the CLI's options make (click refuses
``--time-limit -1`` or ``--max-moved-share 1.5`` before anything runs), so a script that
passes them gets the same InputError (exit 2) instead of a silently odd solve.

Each check adds to a :class:`ProblemList` under the argument's own name, so a caller
reports every bad argument at once.
"""

from __future__ import annotations

import math
from numbers import Real

from .errors import ProblemList


def _number(value) -> float | None:
    """``value`` as a float when it is a real number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)


def check_time_limit(value, problems: ProblemList, argument: str = "time_limit") -> None:
    """None (the scenario's limit) or a finite number of seconds above 0."""
    if value is None:
        return
    number = _number(value)
    if number is None or not math.isfinite(number) or number <= 0:
        problems.add(
            argument,
            f"must be a number of seconds above 0, got {value!r}",
            fix="e.g. 60, or None for the scenario's solver.time_limit",
        )


def check_share(value, problems: ProblemList, argument: str) -> None:
    """A share between 0 and 1 (0.15 = 15%)."""
    number = _number(value)
    if number is None or not 0.0 <= number <= 1.0:
        shown = (
            f" (a share of {number:.0%})" if number is not None and math.isfinite(number) else ""
        )
        problems.add(
            argument,
            f"must be a share between 0 and 1, got {value!r}{shown}",
            fix="e.g. 0.15 for 15% of total potential",
        )


def refuse_bad_time_limit(value, argument: str = "time_limit") -> None:
    """InputError when ``value`` is not None or a positive number of seconds."""
    problems = ProblemList()
    check_time_limit(value, problems, argument)
    problems.raise_if_any()
