"""The changes a re-balance applies to a plan's reps: hires read and validated like a reps
file, departures, capacity changes; every problem reported at once (rebalance.py uses them)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .data import REP_ALIASES, canonical_columns, frame_as_text, normalize_reps, read_table
from .errors import ProblemList
from .plan import Plan


def read_hires(hires: pd.DataFrame | str | Path, problems: ProblemList) -> pd.DataFrame | None:
    """New reps, read and validated like a reps file; a blank or missing status is ``new``."""
    if isinstance(hires, pd.DataFrame):
        name = "hires (in memory)"
        raw = frame_as_text(hires, name)
    else:
        name = str(hires)
        raw = read_table(hires, problems)
        if raw is None:
            return None
    frame = canonical_columns(raw, REP_ALIASES, name, problems)
    if "status" not in frame.columns:
        frame["status"] = "new"
    else:
        frame["status"] = frame["status"].where(
            frame["status"].astype(str).str.strip() != "", "new"
        )
    reps = normalize_reps(frame, name, problems)
    reps.attrs["file"] = name
    return reps


def changed_reps(
    plan: Plan, hires, leaves: Iterable[str], capacities: dict[str, float], problems: ProblemList
) -> pd.DataFrame:
    """The plan's reps with the hires added, the leavers marked ``leaving`` and the new
    capacities; unknown reps, clashing hires and bad capacities go to ``problems``."""
    reps = plan.reps.copy()
    known = set(reps["rep_id"])
    if hires is not None:
        new = read_hires(hires, problems)
        if new is not None:
            clash = sorted(set(new["rep_id"].dropna()) & known)
            for rep_id in clash:
                problems.add(
                    new.attrs.get("file", "hires"),
                    f"rep {rep_id} is already in the plan",
                    column="rep_id",
                    fix="give the hire a new rep_id",
                )
            reps = pd.concat([reps, new], ignore_index=True)
    known = set(reps["rep_id"])
    for rep_id in leaves:
        if rep_id not in known:
            problems.add(
                "--leave",
                f"rep {rep_id} is not in the plan",
                fix=f"use one of {', '.join(sorted(map(str, known))[:10])}",
            )
    reps.loc[reps["rep_id"].isin(list(leaves)), "status"] = "leaving"
    for rep_id, capacity in capacities.items():
        if rep_id not in known:
            problems.add(
                "--capacity",
                f"rep {rep_id} is not in the plan (or the hires)",
                fix="check the rep_id",
            )
            continue
        if not (isinstance(capacity, (int, float)) and math.isfinite(capacity) and capacity > 0):
            problems.add(
                "--capacity",
                f"capacity of {rep_id} must be a number above 0, got {capacity!r}",
                fix="e.g. --capacity R07=0.5",
            )
            continue
        reps.loc[reps["rep_id"] == rep_id, "capacity"] = float(capacity)
    return reps
