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
    """'R25 (+75.07%): quota held at its accounts' revenue last year 1,302,900 by min_growth
    0; fair share 744,223', or why a quota with no bound of its own is off its share.

    The revenue is the territory's (history follows the accounts, not the person), so a
    new hire who sold nothing last year is held at what its accounts brought under their
    previous owners; "last year's revenue" alone read as the hire's own."""
    head = f"{record['rep_id']} ({record['deviation']:+.2%})"
    share = amount(record["fair_share"])
    if record["binding"] in ("min_growth", "max_growth"):
        setting = record["setting"]
        held = amount(record["revenue_last_year"])
        if setting != 0:
            held += f" x {growth_text(setting)} = {amount(record['limit'])}"
        verb = "held at" if record["binding"] == "min_growth" else "capped at"
        return (
            f"{head}: quota {verb} its accounts' revenue last year {held} by {record['binding']} "
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


def spread_notes(
    frame: pd.DataFrame,
    pools: list[Any],
    pool: np.ndarray,
    in_lp: np.ndarray,
    pinned: np.ndarray,
    levels: np.ndarray,
) -> list[dict[str, Any]]:
    """What the spread step did, region by region (see :mod:`.spread`), with a sentence.

    Each record: region (None for a company target), level (the common deviation, signed:
    negative when the other reps take a shortfall), held (reps on a growth bound of their
    own, off their share: the ``binding`` column), spread_over (the other reps at the common
    level), amount (what the reps not held take together in currency: the sum of their
    quota less fair share) and explanation. Only pools where something had to be spread (a
    level above solver noise) have a record. ``pinned`` (the spread step's reps held further
    off than the level) are among the held reps.
    """
    deviation = frame["deviation"].to_numpy(dtype=float)
    difference = frame["quota"].to_numpy(dtype=float) - frame["fair_share"].to_numpy(dtype=float)
    rep_ids = frame["rep_id"].to_numpy()
    on_bound = frame["binding"].isin(["min_growth", "max_growth"]).to_numpy() | pinned
    notes = []
    for b, p in enumerate(pools):
        level = float(levels[b])
        if not np.isfinite(level) or level <= BINDING_TOLERANCE:
            continue
        members = (pool == b) & in_lp
        held = np.flatnonzero(members & on_bound)
        rest = members & ~on_bound
        at_level = np.flatnonzero(rest & (np.abs(deviation) >= level - 1e-6 * max(level, 1.0)))
        if not len(at_level):
            continue
        amount = float(difference[rest].sum())
        signed = float(np.sign(amount) * level)
        record = {
            "region": p.key,
            "level": signed,
            "held": rep_ids[held].tolist(),
            "spread_over": rep_ids[at_level].tolist(),
            "amount": amount,
        }
        record["explanation"] = _spread_sentence(record, deviation[held], rep_ids[held])
        notes.append(record)
    return notes


def _spread_sentence(record: dict[str, Any], held_deviation: np.ndarray, held_ids) -> str:
    """'growth bounds hold 1 rep off its fair share (R01 +20.00%); so that the quotas add up
    to the target, the other 2 reps share the 600,000 this leaves short evenly: each -10.00%
    from its fair share (R02, R03)'; with one rep left: '..., R02 takes the 600,000 this
    leaves short: -15.00% from its fair share'."""
    order = np.argsort(-np.abs(held_deviation), kind="stable")
    named = ", ".join(f"{held_ids[k]} {held_deviation[k]:+.2%}" for k in order[:LARGEST_DEVIATIONS])
    if len(order) > LARGEST_DEVIATIONS:
        named += f", and {len(order) - LARGEST_DEVIATIONS} more"
    count = len(held_ids)
    where = "the target" if record["region"] is None else f"region {record['region']}'s target"
    over = record["spread_over"]
    total = amount(abs(record["amount"]))
    short = "short" if record["amount"] < 0 else "over"
    head = f"so that the quotas add up to {where}"
    if count:
        held = "reps off their" if count != 1 else "rep off its"
        head = f"growth bounds hold {count} {held} fair share ({named}); {head}"
    level = f"{record['level']:+.2%} from its fair share"
    if len(over) == 1:
        left = "this leaves" if count else "left"
        return f"{head}, {over[0]} takes the {total} {left} {short}: {level}"
    listed = ", ".join(over[:LARGEST_DEVIATIONS])
    if len(over) > LARGEST_DEVIATIONS:
        listed += f", and {len(over) - LARGEST_DEVIATIONS} more"
    who = f"the other {len(over)} reps" if count else f"{len(over)} reps"
    this = "this leaves" if count else "left"
    return f"{head}, {who} share the {total} {this} {short} evenly: each {level} ({listed})"


def reason_lines(quota: dict[str, Any]) -> list[str]:
    """The quota block's reasons in words, as ``plan``, ``quota`` and ``show`` print them:
    each spread sentence, then the largest deviations less the reps a spread sentence
    already names at its common level (one line says it for all of them)."""
    spread = quota.get("spread", [])
    told = {rep for note in spread for rep in note.get("spread_over", [])}
    lines = [note["explanation"] for note in spread]
    lines += [
        record["explanation"]
        for record in quota.get("largest_deviations", [])
        if record["rep_id"] not in told
    ]
    return lines
