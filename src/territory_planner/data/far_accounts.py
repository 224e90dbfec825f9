"""Accounts far from every rep: what a latitude/longitude typo or swap looks like.

A swap that stays within range (lat -78.64, lon 35.78 for Raleigh) is valid input, and the
plan simply carries a 14,858 km account. ``validate`` lists such accounts so a planner can
look before solving; a remote account that is really there (Alaska for a lower-48 team)
is listed too, which is why this is a note, not an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..geo import nearest_k
from .cells import _rows_in

#: an account is far when its nearest rep is farther than this many kilometres ...
FAR_KM = 1000.0
#: ... and than this many times the median account's distance to its nearest rep (the
#: median: a few far accounts cannot move it, as they would a high percentile)
FAR_FACTOR = 10.0
#: above this many account x rep distances the check is skipped (validate stays quick)
MOST_PAIRS = 50_000_000


def far_accounts(accounts: pd.DataFrame, reps: pd.DataFrame, most: int = 5) -> dict:
    """{"count", "first": [(row, account_id, km), ...]}: the accounts whose nearest rep
    (leaving reps aside) is farther than FAR_KM and FAR_FACTOR times the median account's,
    farthest first; rows as the file numbers them.
    Empty when there are no reps or the check would be too large (MOST_PAIRS)."""
    staying = reps[reps["status"] != "leaving"] if "status" in reps.columns else reps
    if len(staying) == 0 or len(accounts) * len(staying) > MOST_PAIRS:
        return {"count": 0, "first": []}
    _, km = nearest_k(accounts["lat"], accounts["lon"], staying["lat"], staying["lon"], 1)
    nearest = km[:, 0]
    limit = max(FAR_KM, FAR_FACTOR * float(np.median(nearest)))
    far = np.flatnonzero(nearest > limit)
    far = far[np.argsort(-nearest[far], kind="stable")]
    rows = _rows_in(accounts, np.isin(np.arange(len(accounts)), far[:most]))
    row_of = dict(zip(np.sort(far[:most]).tolist(), rows))  # _rows_in lists rows in order
    rows = [row_of[i] for i in far[:most].tolist()]
    ids = accounts["account_id"].to_numpy()[far][:most]
    return {
        "count": int(len(far)),
        "first": [(row, str(a), float(nearest[i])) for row, a, i in zip(rows, ids, far[:most])],
    }
