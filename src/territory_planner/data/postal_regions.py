"""Accounts placed in the region of their ZIP code when the regions are ZIP codes.

Why. A planner aligning ZIP codes has a regions file keyed by ZIP (ZCTA polygons, or a
vendor's ZIP boundaries) and a CRM export whose accounts carry a postal code. The postal
code is what the CRM's own territory rules go by, so it is the account's region. A point
(the account's lat/lon, or its ZIP's centroid when it has none) can fall in the next ZIP's
polygon: ZIP centroids of odd shapes lie outside them, and ZIP boundaries are drawn more
coarsely than addresses. Point-in-polygon alone then gives the account to the wrong ZIP,
and with it to the wrong territory.

When. Only for an account whose region_id is blank and whose postal code (normalised as
for geocoding, leading zeros restored up to region_keys' rule) is the ID of a region of the
file, and only when the file is judged keyed by postal code: among such accounts that have
a location, at least AGREEING_SHARE lie within POSTAL_REACH_KM of their code's region. A
county file keyed by FIPS codes shares five-digit IDs with ZIP codes (37001 is Alamance
County, North Carolina, and a ZIP code in Tennessee); such coincidences lie far from the
region and fail the test, so they change nothing. An account whose code's region lies
farther than POSTAL_REACH_KM (a mistyped ZIP) keeps point-in-polygon. Every choice made is
listed among the defaults ``validate`` prints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .geocode import normalize_postal_code
from .region_keys import matched_region_ids

#: a postal code's region this far from the account, or nearer, agrees with its location
POSTAL_REACH_KM = 30.0
#: the share of located accounts that must agree before the file counts as ZIP-keyed
AGREEING_SHARE = 0.5
#: how many accounts a ``validate`` line quotes as examples
EXAMPLES = 3


def regions_of_postal_codes(codes: pd.Series, regions) -> pd.Series:
    """The region_id each postal code names (None where it names none), leading zeros
    restored on either side as region_keys does."""
    known = set(regions["region_id"])
    text = pd.Series(
        [normalize_postal_code(c) for c in codes.tolist()], index=codes.index, dtype=object
    )
    matched, _ = matched_region_ids(text, known)
    return matched.where(matched.isin(known), None)


def place_by_postal_code(accounts: pd.DataFrame, regions) -> pd.DataFrame:
    """``accounts`` with a blank region_id filled from the postal code where the regions
    are keyed by it (module docstring); the choice noted among the defaults applied."""
    if regions is None or "postal_code" not in accounts.columns or not len(accounts):
        return accounts
    from ..geo import distance_to_region_km, locate_points

    blank = accounts["region_id"].isna().to_numpy()
    coded = regions_of_postal_codes(accounts["postal_code"], regions).to_numpy(dtype=object)
    candidate = blank & pd.notna(coded)
    if not candidate.any():
        return accounts
    lat = accounts["lat"].to_numpy(dtype=float)
    lon = accounts["lon"].to_numpy(dtype=float)
    located = candidate & np.isfinite(lat) & np.isfinite(lon)
    inside = np.full(len(accounts), None, dtype=object)
    inside[located] = locate_points(lat[located], lon[located], regions)
    differs = located & (inside != coded)
    km = np.zeros(len(accounts))
    if differs.any():
        km[differs] = distance_to_region_km(lat[differs], lon[differs], coded[differs], regions)
    near = located & (km <= POSTAL_REACH_KM)  # NaN (no polygon) is not near
    if not located.any() or near.sum() < AGREEING_SHARE * located.sum():
        return accounts  # not a ZIP-keyed file: coincidences of IDs change nothing
    take = candidate & (near | ~located)
    accounts = accounts.copy()
    accounts.loc[take, "region_id"] = pd.Series(
        coded[take], index=accounts.index[take], dtype=object
    )
    note = _note(accounts, take, differs & near, located & ~near, coded, inside)
    accounts.attrs["defaults"] = [*accounts.attrs.get("defaults", []), note]
    return accounts


def _note(accounts, take, moved, far, coded, inside) -> str:
    """The ``validate`` line: how many accounts follow their ZIP code, and where that
    differs from point-in-polygon, with examples."""
    ids = accounts["account_id"].astype(str).to_numpy()

    def examples(mask, describe) -> str:
        rows = np.flatnonzero(mask)
        shown = "; ".join(describe(r) for r in rows[:EXAMPLES])
        more = f"; and {len(rows) - EXAMPLES:,} more" if len(rows) > EXAMPLES else ""
        return f" (e.g. {shown}{more})"

    text = (
        f"region_id: {_count(take, 'account', 'accounts')} placed in the region of their postal "
        f"code (the regions file is keyed by it)"
    )
    if moved.any():
        text += (
            f"; {_count(moved, 'of them lies', 'of them lie')} in another region by lat/lon"
            + examples(moved, lambda r: f"{ids[r]}: ZIP {coded[r]}, lat/lon in {inside[r]}")
        )
    if far.any():
        text += (
            f"; {_count(far, 'account', 'accounts')} whose postal code's region is over "
            f"{POSTAL_REACH_KM:g} km away {'was' if far.sum() == 1 else 'were'} placed by "
            "lat/lon instead"
            + examples(far, lambda r: f"{ids[r]}: ZIP {coded[r]}, lat/lon in {inside[r]}")
        )
    return text


def _count(mask: np.ndarray, one: str, many: str) -> str:
    n = int(mask.sum())
    return f"{n:,} {one if n == 1 else many}"
