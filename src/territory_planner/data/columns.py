"""Canonical columns of the accounts and reps files and the aliases CRM exports use.

Column names are matched against the canonical names and their aliases by their letters
and digits alone, case-insensitively (header_key): an API-name export (``BillingPostalCode``),
a report export that writes labels (``Billing Zip/Postal Code``, ``Account ID``) and a
hand-made sheet (``postal code``) all load without renaming (docs/design.md section 2).
"""

from __future__ import annotations

import re

import pandas as pd

from ..errors import ProblemList

#: canonical column -> accepted aliases (compared case-insensitively)
ACCOUNT_ALIASES: dict[str, tuple[str, ...]] = {
    # Salesforce API names (Data Loader), then the labels of report exports (Salesforce,
    # HubSpot, Dynamics); spaces, case and punctuation do not matter (header_key)
    # Zoho writes "Record Id", "Billing Code" (its billing ZIP); Pipedrive prefixes the
    # organisation's fields with "Organization - "
    "account_id": (
        "Id",
        "AccountId",
        "Record ID",
        "Company ID",
        "(Do Not Modify) Account",
        "Organization - ID",
    ),
    "name": ("Name", "AccountName", "Company name", "Company", "Organization - Name"),
    "lat": ("BillingLatitude", "latitude", "Lat", "Address 1: Latitude"),
    "lon": ("BillingLongitude", "longitude", "Lng", "Long", "Address 1: Longitude"),
    "postal_code": (
        "BillingPostalCode",
        "zip",
        "Billing Zip/Postal Code",
        "Zip/Postal Code",
        "ZIP Code",
        "Zipcode",
        "Postcode",
        "Address 1: ZIP/Postal Code",
        "Billing Code",
        "Billing Zip",
        "Organization - Address - ZIP/Postal code",
    ),
    "workload": (),
    "potential": (),
    "revenue": (),
    # an owner given by name ("Account Owner", "Company owner") is matched to the reps'
    # names (owners.py); a file with an owner ID column as well keeps the name as it is
    "current_rep_id": (
        "OwnerId",
        "Account Owner ID",
        "Company owner ID",
        *("Account Owner", "Company owner", "Owner", "Organization - Owner"),
    ),
    "locked": (),
    "segment": (),
    "group_id": ("ParentId", "Parent Account ID", "Parent Company ID"),
    "region_id": (),
}


REP_ALIASES: dict[str, tuple[str, ...]] = {
    "rep_id": ("Id", "UserId", "OwnerId", "(Do Not Modify) User"),
    "name": ("Name", "Full Name"),
    "lat": ("latitude", "Lat"),
    "lon": ("longitude", "Lng", "Long"),
    "postal_code": ("zip", "Zip/Postal Code", "ZIP Code", "Zipcode", "Postcode"),
    "capacity": ("fte",),
    "segment": (),
    "region_id": (),
    "status": (),
}


#: aliases that give way to any other name of their column: a report export with both the
#: owner's name and the owner's ID reads the ID, and the name passes through as it is
YIELDING_ALIASES = frozenset({"accountowner", "companyowner", "owner", "organizationowner"})


def header_key(name: str) -> str:
    """A column name reduced to its lower-case letters and digits: 'Account ID', 'account_id'
    and 'AccountId' are one key, so is 'Billing Zip/Postal Code' and 'BillingZipPostalCode'."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


REP_STATUSES = ("active", "new", "leaving")


#: a unit written after a column's name: 'Workload (hrs)', 'Potential [USD]'
_UNIT_SUFFIX = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]\s*$")


def canonical_columns(
    raw: pd.DataFrame, aliases: dict[str, tuple[str, ...]], name: str, problems: ProblemList
) -> pd.DataFrame:
    """Rename alias columns to canonical names; unknown columns pass through unchanged."""
    lookup: dict[str, str] = {}
    for canonical, names in aliases.items():
        lookup[header_key(canonical)] = canonical
        for alias in names:
            lookup.setdefault(header_key(alias), canonical)
    rename: dict[str, str] = {}
    taken: dict[str, str] = {}
    losers: list[str] = []

    # the canonical name itself wins over an alias, whatever the column order, and an alias
    # that yields (YIELDING_ALIASES) comes last
    def rank(column) -> tuple[bool, bool]:
        key = header_key(column)
        return key in YIELDING_ALIASES, lookup.get(key) != str(column).lower()

    ordered = sorted(raw.columns, key=rank)
    for column in ordered:
        canonical = lookup.get(header_key(column))
        if canonical is None:
            continue
        if canonical in taken and header_key(column) in YIELDING_ALIASES:
            continue  # passed through under its own name
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
    # a header with its unit ('Workload (hrs)', 'Potential [USD]') means its column when no
    # other column does: unmatched, its workload would silently default to 1 for every
    # account and the plan balance nothing
    for column in ordered:
        if column in rename or column in losers or header_key(column) in lookup:
            continue
        canonical = lookup.get(header_key(_UNIT_SUFFIX.sub("", str(column))))
        if canonical is not None and canonical not in taken:
            taken[canonical] = column
            rename[column] = canonical
    out = raw.drop(columns=losers).rename(columns=rename)
    # a column that lost the contest is reported above and left out, so no name is doubled
    # the input's own header, in its order, with the column each name became: outputs
    # are written back under the names the CRM export used
    out.attrs["source_names"] = {c: rename.get(c, c) for c in raw.columns if c not in losers}
    return out
