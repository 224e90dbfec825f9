"""Which rule holds each quota where it is, and the sentence that says so.

A growth bound binds a rep when the solved quota sits on it (within solver tolerance) away
from the fair share: the LP would have moved the quota towards the share but for that bound.
A rep whose quota is off its share with no bound of its own on it is there because the
quotas must add up to the target while other reps sit on their bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..scenario import QuotaSettings
from .wording import amount, growth_text

# A quota this close (relative to its share) to a bound sits on it.
BINDING_TOLERANCE = 1e-7
# How many reps the summary names, largest relative deviation first.
LARGEST_DEVIATIONS = 5


def binding_rules(
    quota: np.ndarray,
    share: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    in_lp: np.ndarray,
    zero_share: np.ndarray,
    overridden: np.ndarray,
) -> np.ndarray:
    """The rule that binds each rep: ``min_growth``, ``max_growth``, ``override`` or ''.

    ``min_growth`` when q_j <= L_j (L_j > 0) with q_j off s_j, or when a zero-share rep is
    held at a positive floor; ``max_growth`` when q_j >= U_j with q_j off s_j; ``override``
    when the quota was fixed by the scenario. Off-share and on-bound mean farther than
    BINDING_TOLERANCE * max(s_j, 1) and within it.
    """
    slack = BINDING_TOLERANCE * np.maximum(share, 1.0)
    off_share = in_lp & (np.abs(quota - share) > slack)
    floor_binds = (off_share & (lower > 0) & (quota <= lower + slack)) | (zero_share & (lower > 0))
    cap_binds = off_share & np.isfinite(upper) & (quota >= upper - slack)
    rules = np.full(len(quota), "", dtype=object)
    rules[cap_binds] = "max_growth"
    rules[floor_binds] = "min_growth"
    rules[overridden] = "override"
    return rules


def largest_deviations(
    frame: pd.DataFrame, settings: QuotaSettings, count: int = LARGEST_DEVIATIONS
) -> list[dict[str, Any]]:
    """The ``count`` reps farthest from their fair share, largest |deviation| first.

    Each record: rep_id, region_id, quota, fair_share, deviation, revenue_last_year, binding (as in
    quotas.csv), setting (the growth setting of a binding bound, else None), limit (that
    bound's value R_j * (1 + setting), else None) and explanation (one sentence). Reps on
    their share and reps without one (overridden, zero share) are left out.
    """
    deviation = frame["deviation"].to_numpy(dtype=float)
    off = np.flatnonzero(np.isfinite(deviation) & (np.abs(deviation) > BINDING_TOLERANCE))
    order = sorted(off, key=lambda j: (-abs(deviation[j]), frame["rep_id"].iat[j]))
    return [_record(frame.iloc[j], settings) for j in order[:count]]


def _record(row: pd.Series, settings: QuotaSettings) -> dict[str, Any]:
    rule = str(row["binding"])
    setting = {"min_growth": settings.min_growth, "max_growth": settings.max_growth}.get(rule)
    revenue = float(row["revenue_last_year"])
    limit = None if setting is None else revenue * (1.0 + setting)
    record = {
        "rep_id": str(row["rep_id"]),
        "region_id": None if pd.isna(row["region_id"]) else str(row["region_id"]),
        "quota": float(row["quota"]),
        "fair_share": float(row["fair_share"]),
        "deviation": float(row["deviation"]),
        "revenue_last_year": revenue,
        "binding": rule,
        "setting": None if setting is None else float(setting),
        "limit": limit,
    }
    record["explanation"] = explanation(record, per_region=settings.targets is not None)
    return record


def explanation(record: dict[str, Any], per_region: bool = False) -> str:
    """'R25 (+75.07%): quota held at last year's revenue 1,302,900 by min_growth 0; fair
    share 744,223', or why a quota with no bound of its own is off its share."""
    head = f"{record['rep_id']} ({record['deviation']:+.2%})"
    share = amount(record["fair_share"])
    if record["binding"] in ("min_growth", "max_growth"):
        setting = record["setting"]
        held = amount(record["revenue_last_year"])
        if setting != 0:
            held += f" x {growth_text(setting)} = {amount(record['limit'])}"
        verb = "held at" if record["binding"] == "min_growth" else "capped at"
        return (
            f"{head}: quota {verb} last year's revenue {held} by {record['binding']} "
            f"{setting:g}; fair share {share}"
        )
    side = "below" if record["quota"] < record["fair_share"] else "above"
    target = "the target"
    if record["region_id"] is not None and per_region:
        target = f"region {record['region_id']}'s target"
    return (
        f"{head}: no bound of its own binds; {amount(record['quota'])} is {side} its fair share "
        f"{share} so that the quotas add up to {target}"
    )
