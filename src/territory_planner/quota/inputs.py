"""The quota table checked against the settings at the boundary, every problem at once.

The checks every table of the project shares (a blank or repeated rep_id, a number that is
not a number >= 0) are data.py's, applied to the table as text cells; what is checked here
is what only quotas know: leaving reps, ramp, overrides and targets per region.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data import REP_STATUSES, frame_as_text, parse_number, unique_ids
from ..errors import ProblemList
from ..scenario import QuotaSettings
from .wording import fmt, shown

TABLE = "quota table"
# Bounds that miss the target by less than this share of it are treated as meeting it.
FEASIBILITY_TOLERANCE = 1e-9


@dataclass
class Pool:
    """The reps that share one target: the company, or one region."""

    key: str | None
    target: float
    overrides: float

    @property
    def left(self) -> float:
        return self.target - self.overrides

    @property
    def where(self) -> str:
        return "" if self.key is None else f" (region {self.key})"


def text_or_none(value: Any) -> str | None:
    """A cell as stripped text; None for a blank, NaN or missing cell."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = str(value).strip()
    return text or None


def prepare(
    table: pd.DataFrame, settings: QuotaSettings, source: str
) -> tuple[pd.DataFrame, list[Pool]]:
    """Validate the per-rep table against the settings; the working frame and its pools.

    The frame holds the non-leaving reps sorted by rep_id with: rep_id, name, region_id (key
    text or None), status, potential, revenue, ramp, override (NaN if none), pool (index
    into the pools, -1 for overridden reps and zero-weight reps outside any region).
    """
    _require_columns(table)
    table = table.reset_index(drop=True)
    problems = ProblemList()
    reps = _rep_rows(table, problems)
    leaving = (reps["status"] == "leaving").to_numpy()
    _check_leaving_reps_own_nothing(reps, table, leaving, problems)
    reps["ramp"] = ramp_multipliers(table, reps, settings, leaving, source, problems)
    reps["override"] = _overrides(reps["rep_id"].tolist(), settings, leaving, source, problems)
    pool, pools = _pools(reps, settings, leaving, source, problems)
    _check_overrides_fit(pools, source, problems)
    problems.raise_if_any()

    reps["pool"] = np.where(reps["override"].notna().to_numpy(), -1, pool)
    reps = reps.loc[~leaving].sort_values("rep_id", kind="stable").reset_index(drop=True)
    return reps, pools


def _require_columns(table: pd.DataFrame) -> None:
    missing = [c for c in ("rep_id", "potential", "revenue") if c not in table.columns]
    if missing:
        problems = ProblemList()
        problems.add(
            TABLE,
            f"missing column(s) {', '.join(missing)}",
            fix="one row per rep with rep_id, potential and revenue of its accounts",
        )
        problems.raise_if_any()


def _rep_rows(table: pd.DataFrame, problems: ProblemList) -> pd.DataFrame:
    """rep_id, name, region_id, status, potential and revenue of every row of the table."""
    # the same text cells a reps file gives, so parse_number applies the file's checks
    present = [c for c in ("rep_id", "potential", "revenue") if c in table.columns]
    cells = frame_as_text(table[present], TABLE)
    reps = pd.DataFrame({"rep_id": unique_ids(cells, "rep_id", TABLE, problems, "rep_id")})
    reps = reps.reset_index(drop=True)
    reps["name"] = table["name"].fillna("").astype(str) if "name" in table.columns else ""
    regions = table["region_id"] if "region_id" in table.columns else [None] * len(table)
    reps["region_id"] = pd.Series(
        [text_or_none(v) for v in regions], index=table.index, dtype=object
    )
    statuses = table["status"] if "status" in table.columns else ["active"] * len(table)
    reps["status"] = [(text_or_none(v) or "active").lower() for v in statuses]
    for column in ("potential", "revenue"):
        values = parse_number(cells, column, TABLE, problems, default=0.0, minimum=0.0)
        reps[column] = values.fillna(0.0).clip(lower=0.0).to_numpy()
    return reps


def _check_leaving_reps_own_nothing(
    reps: pd.DataFrame, table: pd.DataFrame, leaving: np.ndarray, problems: ProblemList
) -> None:
    """Leaving reps end with no accounts; quotas follow accounts, so a leaving rep that still
    owns some would take its territory's potential out of every share."""
    potential = reps["potential"].to_numpy()
    revenue = reps["revenue"].to_numpy()
    if "accounts" in table.columns:
        owns = pd.to_numeric(table["accounts"], errors="coerce").fillna(0).to_numpy() > 0
    else:
        owns = (potential > 0) | (revenue > 0)
    for position in np.flatnonzero(leaving & owns):
        problems.add(
            TABLE,
            f"rep {reps['rep_id'].iat[position]} is leaving but still owns accounts "
            f"(potential {fmt(potential[position])}, revenue {fmt(revenue[position])}); "
            f"its territory would carry no quota",
            column="status",
            fix="reassign its accounts first (rebalance), or set its status to active",
        )


def ramp_multipliers(
    table: pd.DataFrame,
    reps: pd.DataFrame,
    settings: QuotaSettings,
    leaving: np.ndarray,
    source: str,
    problems: ProblemList,
) -> np.ndarray:
    """r_j for every row: by status (``{new: 0.5}``), from a reps column, or 1.

    ``reps`` holds the rows' rep_id and status (lower case), ``table`` the ramp column.
    """
    if isinstance(settings.ramp, dict):
        return _ramp_by_status(list(reps["status"]), settings.ramp, source, problems)
    if isinstance(settings.ramp, str):
        rep_ids = reps["rep_id"].tolist()
        return _ramp_from_column(table, rep_ids, settings.ramp, leaving, source, problems)
    return np.ones(len(table))


def _ramp_by_status(
    statuses: list[str], ramp: dict[str, float], source: str, problems: ProblemList
) -> np.ndarray:
    known = set(REP_STATUSES) | set(statuses)
    for key in ramp:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            problems.add(
                source,
                f"ramp names the status '{key}', which no rep has",
                column="quota.ramp",
                fix=(
                    f"did you mean '{close[0]}'?"
                    if close
                    else "statuses are " + ", ".join(REP_STATUSES)
                ),
            )
    return np.array([float(ramp.get(s, 1.0)) for s in statuses])


def _ramp_from_column(
    table: pd.DataFrame,
    rep_ids: list[Any],
    column: str,
    leaving: np.ndarray,
    source: str,
    problems: ProblemList,
) -> np.ndarray:
    if column not in table.columns:
        close = difflib.get_close_matches(column, [str(c) for c in table.columns], n=1)
        problems.add(
            source,
            f"ramp names the reps column '{column}', which does not exist",
            column="quota.ramp",
            fix=(
                f"did you mean '{close[0]}'?"
                if close
                else "add the column to the reps file or use {new: 0.5}"
            ),
        )
        return np.ones(len(table))
    values = pd.to_numeric(table[column], errors="coerce").astype(float).to_numpy()
    bad = ~(np.isfinite(values) & (values > 0)) & ~leaving
    for position in np.flatnonzero(bad):
        problems.add(
            source,
            f"ramp column '{column}' must be a positive number for every rep; rep "
            f"{rep_ids[position]} has {shown(table[column].iat[position])}",
            column="quota.ramp",
            fix="use 1 for a fully ramped rep",
        )
    return np.where(bad, 1.0, values)


def _overrides(
    rep_ids: list[str],
    settings: QuotaSettings,
    leaving: np.ndarray,
    source: str,
    problems: ProblemList,
) -> np.ndarray:
    """The override of every row (NaN where none); overrides naming no staying rep reported."""
    by_id = {rep: i for i, rep in enumerate(rep_ids)}
    override = np.full(len(rep_ids), np.nan)
    for rep, value in (settings.overrides or {}).items():
        position = by_id.get(str(rep))
        if position is None:
            close = difflib.get_close_matches(str(rep), rep_ids, n=1)
            problems.add(
                source,
                f"override for rep '{rep}', which is not in the reps",
                column="quota.overrides",
                fix=f"did you mean '{close[0]}'?" if close else "check the rep_id",
            )
        elif leaving[position]:
            problems.add(
                source,
                f"override for rep '{rep}', who is leaving (no quota)",
                column="quota.overrides",
                fix="remove the override",
            )
        else:
            override[position] = float(value)
    return override


def _pools(
    reps: pd.DataFrame,
    settings: QuotaSettings,
    leaving: np.ndarray,
    source: str,
    problems: ProblemList,
) -> tuple[np.ndarray, list[Pool]]:
    """The pool of every row and the pools: the company, or one per region of ``targets``."""
    override = reps["override"].to_numpy(dtype=float)
    if settings.targets is None:
        pools = [Pool(None, float(settings.target), float(np.nansum(override)))]
        return np.zeros(len(reps), dtype=int), pools
    _check_target_regions(reps, settings.targets, leaving, source, problems)
    keys = sorted(settings.targets)
    index_of = {key: i for i, key in enumerate(keys)}
    pool = np.array(
        [index_of.get(r, -1) if r is not None else -1 for r in reps["region_id"]], dtype=int
    )
    has_override = ~np.isnan(override)
    carries = (
        (reps["potential"].to_numpy() > 0) | (reps["revenue"].to_numpy() > 0) | has_override
    ) & ~leaving
    _check_reps_have_targets(reps, pool, carries, source, problems)
    pools = []
    for key in keys:
        in_region = (pool == index_of[key]) & has_override & ~leaving
        pools.append(Pool(key, float(settings.targets[key]), float(override[in_region].sum())))
    return pool, pools


def _check_target_regions(
    reps: pd.DataFrame,
    targets: dict[str, float],
    leaving: np.ndarray,
    source: str,
    problems: ProblemList,
) -> None:
    """Every region of ``targets`` is the region_id of some staying rep."""
    staying_regions = {
        r for r, gone in zip(reps["region_id"], leaving) if r is not None and not gone
    }
    for key in targets:
        if key not in staying_regions:
            close = difflib.get_close_matches(key, sorted(staying_regions), n=1)
            problems.add(
                source,
                f"targets has region '{key}', but no (non-leaving) rep has that region_id",
                column="quota.targets",
                fix=(
                    f"did you mean '{close[0]}'?"
                    if close
                    else "rep region_id values are: " + ", ".join(sorted(staying_regions)[:10])
                ),
            )


def _check_reps_have_targets(
    reps: pd.DataFrame, pool: np.ndarray, carries: np.ndarray, source: str, problems: ProblemList
) -> None:
    """Every staying rep that carries potential, revenue or an override has a region target."""
    rep_ids = reps["rep_id"].tolist()
    for position in np.flatnonzero(carries & (pool < 0)):
        region = reps["region_id"].iat[position]
        if region is None:
            problems.add(
                source,
                f"rep {rep_ids[position]} has no region_id, but targets are per region",
                column="quota.targets",
                fix="give the rep a region_id in the reps file, or use 'target'",
            )
        else:
            problems.add(
                source,
                f"rep {rep_ids[position]} is in region '{region}', which has no entry in targets",
                column="quota.targets",
                fix=f"add a target for '{region}'",
            )


def _check_overrides_fit(pools: list[Pool], source: str, problems: ProblemList) -> None:
    for p in pools:
        if p.overrides > p.target * (1 + FEASIBILITY_TOLERANCE):
            problems.add(
                source,
                f"overrides add up to {fmt(p.overrides)}, above the target "
                f"{fmt(p.target)}{p.where}",
                column="quota.overrides",
                fix="lower the overrides or raise the target",
            )
