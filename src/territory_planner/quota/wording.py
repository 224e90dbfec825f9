"""How quota numbers read in messages: 1,200,000 rather than 1200000.0."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def fmt(x: float) -> str:
    """1200000 -> '1,200,000'; 12.5 -> '12.50'; inf -> 'no limit'."""
    if not math.isfinite(x):
        return "no limit"
    rounded = round(float(x), 2)
    if rounded == int(rounded):
        return f"{int(rounded):,}"
    return f"{rounded:,.2f}"


def shown(value: Any) -> str:
    """A cell as the planner typed it: 0.0, nan, 'n/a' (never np.float64(0.0))."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return repr(float(value))
    return repr(value)


def growth_text(growth: float) -> str:
    """The growth factor as written in a bound: (1 + 0.05), (1 - 0.1)."""
    growth = float(growth)
    return f"(1 - {abs(growth)!r})" if growth < 0 else f"(1 + {growth!r})"


def amount(x: float) -> str:
    """A quota-sized amount to whole units (2,911,838), small ones as :func:`fmt` does."""
    if math.isfinite(x) and abs(x) >= 100:
        return f"{x:,.0f}"
    return fmt(x)
