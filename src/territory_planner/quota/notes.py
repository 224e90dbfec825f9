"""Notes on reps whose fair share is scaled twice: by capacity and by ramp.

Capacity sizes a rep's territory (the balance targets are capacity-weighted; the README's
Quotas section), and the quota weight w_j = r_j * (share of the territory's potential and
revenue) then scales that territory's share by the ramp r_j. A new hire at capacity 0.5
with ramp 0.5 therefore gets 0.5 x 0.5 = 0.25 of a full rep's fair share.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ProblemList
from ..scenario import QuotaSettings
from .explain import MESSAGE_LIST_CAP
from .inputs import ramp_multipliers

FRACTION_WORDS = {0.25: "a quarter", 0.5: "half", 0.75: "three quarters"}


def ramp_notes(reps: pd.DataFrame, settings: QuotaSettings | None) -> list[str]:
    """One note per (capacity, ramp) pair of the staying reps whose ramp is not 1.

    ``reps`` has rep_id, status and (optionally) capacity, plus the ramp column when
    ``settings.ramp`` names one. Ramp problems are not reported here: setting the quotas
    reports them.
    """
    if settings is None or settings.ramp is None or not len(reps):
        return []
    rows = pd.DataFrame(
        {
            "rep_id": reps["rep_id"].astype(str).to_numpy(),
            "status": reps["status"].fillna("active").astype(str).str.lower().to_numpy()
            if "status" in reps.columns
            else "active",
        }
    )
    leaving = (rows["status"] == "leaving").to_numpy()
    ramp = ramp_multipliers(reps, rows, settings, leaving, "scenario", ProblemList())
    capacity = (
        pd.to_numeric(reps["capacity"], errors="coerce").fillna(1.0).to_numpy(dtype=float)
        if "capacity" in reps.columns
        else np.ones(len(reps))
    )
    groups: dict[tuple[float, float], list[str]] = {}
    for rep, c, r, gone in zip(rows["rep_id"], capacity, ramp, leaving):
        if not gone and r != 1.0:
            groups.setdefault((float(c), float(r)), []).append(rep)
    return [_note(c, r, sorted(ids)) for (c, r), ids in sorted(groups.items())]


def _note(capacity: float, ramp: float, rep_ids: list[str]) -> str:
    named = ", ".join(rep_ids[:MESSAGE_LIST_CAP])
    if len(rep_ids) > MESSAGE_LIST_CAP:
        named += f" and {len(rep_ids) - MESSAGE_LIST_CAP} more"
    product = capacity * ramp
    words = FRACTION_WORDS.get(round(product, 12))
    share = f"{product:g}" + (f" ({words})" if words else "")
    return (
        f"{named}: capacity {capacity:g} x ramp {ramp:g} = {share} of a full rep's fair "
        f"share: capacity sizes the territory (balance targets follow capacity) and ramp "
        f"then scales the quota's share of it"
    )
