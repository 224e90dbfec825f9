"""The accounts file: normalised to canonical typed columns and placed in regions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ProblemList
from .cells import (
    _decided,
    _finish,
    _ids,
    _numbered,
    _report_rows,
    _require,
    _rows,
    _rows_in,
    case_only_note,
    decide_number_formats,
    parse_bool,
    parse_number,
    parse_text,
)
from .columns import (
    ACCOUNT_ALIASES,
    canonical_columns,
)
from .geocode import (
    _coordinates,
)

#: the accounts' numeric columns whose decimal marks are decided together
_ACCOUNT_NUMBERS = ("lat", "lon", "workload", "potential", "revenue")


def normalize_accounts(
    raw: pd.DataFrame, name: str, problems: ProblemList, metrics: list[str] | None = None
) -> pd.DataFrame:
    """Canonical accounts frame from text cells; problems collected, never raised here."""
    frame = canonical_columns(_numbered(raw), ACCOUNT_ALIASES, name, problems)
    _require(frame, "account_id", ACCOUNT_ALIASES, name, problems)
    extra_metrics = [m for m in metrics or [] if m not in ACCOUNT_ALIASES]
    decide_number_formats(frame, [*_ACCOUNT_NUMBERS, *extra_metrics], name, problems)
    defaults: list[str] = list(raw.attrs.get("notes", []))
    out = pd.DataFrame(index=frame.index)
    out["account_id"] = _ids(frame, "account_id", name, problems, "account_id")
    twins = case_only_note(out["account_id"], "account_id", "account")
    if twins:
        defaults.append(twins)
    out["name"] = parse_text(frame, "name", blank_is_none=False)
    lat, lon, geocoded, postal = _coordinates(frame, name, problems, "account")
    out["lat"], out["lon"], out["postal_code"] = lat, lon, postal.astype(object)
    for column, default in (("workload", 1.0), ("potential", 0.0), ("revenue", 0.0)):
        out[column] = parse_number(
            frame, column, name, problems, default=default, minimum=0.0, defaults=defaults
        )
    out["current_rep_id"] = parse_text(frame, "current_rep_id")
    out["locked"] = parse_bool(frame, "locked", name, problems)
    out["segment"] = parse_text(frame, "segment")
    out["group_id"] = parse_text(frame, "group_id")
    out["region_id"] = parse_text(frame, "region_id")
    locked_orphans = out["locked"] & out["current_rep_id"].isna()
    _report_rows(
        problems,
        name,
        _rows(locked_orphans),
        "locked",
        "account is locked but has no current_rep_id",
        fix="name its owner in current_rep_id or set locked to false",
    )
    known = set(out.columns) | {c for c in frame.columns if c in ACCOUNT_ALIASES}
    for metric in extra_metrics:
        if metric in frame.columns:
            out[metric] = parse_number(
                frame, metric, name, problems, default=0.0, minimum=0.0, defaults=defaults
            )
    for column in frame.columns:
        if column not in known and column not in out.columns:
            out[column] = frame[column]
    out.attrs["geocoded"] = geocoded
    out.attrs["source_names"] = frame.attrs.get("source_names", {})
    out.attrs["defaults"] = defaults
    out.attrs["decimal_marks"] = _decided(frame)
    return _finish(out, name)


def place_accounts_in_regions(accounts: pd.DataFrame, regions) -> pd.DataFrame:
    """Fill a blank region_id by point-in-polygon (the geo package does the geometry)."""
    if regions is None:
        return accounts
    from ..geo import locate_points

    missing = accounts["region_id"].isna() & accounts["lat"].notna() & accounts["lon"].notna()
    if missing.any():
        located = locate_points(
            accounts.loc[missing, "lat"].to_numpy(),
            accounts.loc[missing, "lon"].to_numpy(),
            regions,
        )
        accounts = accounts.copy()
        accounts.loc[missing, "region_id"] = pd.Series(
            located, index=accounts.index[missing], dtype=object
        )
    return accounts


def report_swapped_outside_regions(
    accounts: pd.DataFrame, regions, name: str, problems: ProblemList
) -> None:
    """Accounts outside every region whose lat/lon swapped would fall inside one.

    Within the US both orders are in range (lat 40, lon -75 vs lat -75, lon 40), so a
    swapped pair is only detectable against the regions: the geo package answers the geometry.
    """
    if regions is None or not len(accounts):
        return
    from ..geo import locate_points

    outside = (
        accounts["region_id"].isna()
        & accounts["lat"].notna()
        & accounts["lon"].notna()
        & (accounts["lon"].abs() <= 90)
    ).to_numpy()
    if not outside.any():
        return
    located = locate_points(
        accounts.loc[outside, "lon"].to_numpy(), accounts.loc[outside, "lat"].to_numpy(), regions
    )
    swapped = np.zeros(len(accounts), dtype=bool)
    swapped[np.flatnonzero(outside)[[r is not None for r in located]]] = True
    _report_rows(
        problems,
        name,
        _rows_in(accounts, swapped),
        "lat",
        "this point lies outside every region but falls inside one with lat and lon "
        "exchanged: lat and lon look swapped",
        fix="swap the lat and lon values",
    )
