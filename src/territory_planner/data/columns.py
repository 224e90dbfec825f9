"""Canonical columns of the accounts and reps files and the aliases CRM exports use.

Column names are matched case-insensitively against the canonical names and their aliases
(docs/design.md section 2).
"""

from __future__ import annotations

import pandas as pd

from ..errors import ProblemList

#: canonical column -> accepted aliases (compared case-insensitively)
ACCOUNT_ALIASES: dict[str, tuple[str, ...]] = {
    "account_id": ("Id", "AccountId"),
    "name": ("Name", "AccountName"),
    "lat": ("BillingLatitude", "latitude"),
    "lon": ("BillingLongitude", "longitude"),
    "postal_code": ("BillingPostalCode", "zip"),
    "workload": (),
    "potential": (),
    "revenue": (),
    "current_rep_id": ("OwnerId",),
    "locked": (),
    "segment": (),
    "group_id": ("ParentId",),
    "region_id": (),
}


REP_ALIASES: dict[str, tuple[str, ...]] = {
    "rep_id": ("Id", "UserId", "OwnerId"),
    "name": ("Name",),
    "lat": ("latitude",),
    "lon": ("longitude",),
    "postal_code": (),
    "capacity": ("fte",),
    "segment": (),
    "region_id": (),
    "status": (),
}


REP_STATUSES = ("active", "new", "leaving")


def canonical_columns(
    raw: pd.DataFrame, aliases: dict[str, tuple[str, ...]], name: str, problems: ProblemList
) -> pd.DataFrame:
    """Rename alias columns to canonical names; unknown columns pass through unchanged."""
    lookup: dict[str, str] = {}
    for canonical, names in aliases.items():
        lookup[canonical.lower()] = canonical
        for alias in names:
            lookup.setdefault(alias.lower(), canonical)
    rename: dict[str, str] = {}
    taken: dict[str, str] = {}
    losers: list[str] = []
    # the canonical name itself wins over an alias, whatever the column order
    ordered = sorted(raw.columns, key=lambda c: lookup.get(c.lower()) != c.lower())
    for column in ordered:
        canonical = lookup.get(column.lower())
        if canonical is None:
            continue
        if canonical in taken:
            problems.add(
                name,
                f"columns '{taken[canonical]}' and '{column}' both mean '{canonical}'",
                row=1,
                column=column,
                fix=f"keep only one of them as '{canonical}'",
            )
            losers.append(column)
            continue
        taken[canonical] = column
        rename[column] = canonical
    out = raw.drop(columns=losers).rename(columns=rename)
    # a column that lost the contest is reported above and left out, so no name is doubled
    # the input's own header, in its order, with the column each name became: outputs
    # are written back under the names the CRM export used
    out.attrs["source_names"] = {c: rename.get(c, c) for c in raw.columns if c not in losers}
    return out
