"""Account coordinates: lat/lon cells, or the centroid of the postal code when they are blank."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import ProblemList
from .cells import (
    _report_rows,
    _rows,
    parse_number,
    parse_text,
)

#: ZIP+4 as an address block writes it, with a space
_SPACED_ZIP4 = re.compile(r"\d{1,5}\s+\d{4}")


def normalize_postal_code(value: str | None) -> str | None:
    """US ZIP as five digits: ZIP+4 -> first five, leading zeros restored (Excel drops them).

    ZIP+4 comes as '02134-1234', '02134 1234' (address blocks) or '021341234', and as
    '21341234' once a spreadsheet took the nine digits for a number and dropped the zero:
    eight digits are no other US form, so they are that ZIP+4."""
    if value is None or value != value:  # a blank cell arrives as NaN from pandas' str dtype
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.endswith(".0") and text[:-2].isdigit():  # a ZIP that went through a float
        text = text[:-2]
    head = text.split("-")[0].strip()
    if "-" not in text and _SPACED_ZIP4.fullmatch(text):
        head = text.split()[0]
    if head.isdigit() and len(head) <= 5:
        return head.zfill(5)
    if head.isdigit() and len(head) in (8, 9):
        return head.zfill(9)[:5]
    return text


#: country columns of CRM exports (compared by header_key), the billing address first
COUNTRY_COLUMNS = (
    "billingcountry",
    "country",
    "countryregion",
    "address1countryregion",
    "organizationaddresscountry",
    "mailingcountry",
    "shippingcountry",
)
#: country cells that mean the US (its ZIP codes, territories included, are in zipcodes)
US_NAMES = frozenset(
    {"us", "usa", "u.s.", "u.s.a.", "united states", "united states of america", "america"}
    | {"puerto rico", "pr", "guam", "gu", "virgin islands", "vi", "u.s. virgin islands"}
)


def _country(frame: pd.DataFrame) -> pd.Series:
    """The country cell of each row (blank when the file has no country column)."""
    from .columns import header_key

    by_key = {header_key(column): column for column in frame.columns}
    column = next((by_key[key] for key in COUNTRY_COLUMNS if key in by_key), None)
    if column is None:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].fillna("").astype(str).str.strip()


def _outside_the_us(frame: pd.DataFrame) -> pd.Series:
    """Rows whose country column names a country other than the US (blank is the US)."""
    country = _country(frame)
    return (country != "") & ~country.str.lower().isin(US_NAMES)


@lru_cache(maxsize=1)
def _zip_table() -> tuple[dict[str, tuple[float, float]], frozenset[str]]:
    """Offline ZIP -> (lat, lon) from the zipcodes package, loaded once, and the ZIPs it
    lists with no location.

    The package writes 0, 0 (a point in the Gulf of Guinea) for the ZIPs it cannot place:
    the military APO/FPO/DPO codes (09xxx, 340xx, 962xx-966xx) and a few dozen unique and
    PO-box ZIPs. No US ZIP lies at 0, 0, so those are ZIPs without a location, never a
    place 8,000 km from every rep."""
    import zipcodes

    table: dict[str, tuple[float, float]] = {}
    unplaced: set[str] = set()
    for entry in zipcodes.list_all():
        try:
            lat, lon = float(entry["lat"]), float(entry["long"])
        except (KeyError, TypeError, ValueError):
            continue
        if lat == 0.0 and lon == 0.0:
            unplaced.add(entry["zip_code"])
            continue
        table[entry["zip_code"]] = (lat, lon)
    return table, frozenset(unplaced)


def _zip_centroids() -> dict[str, tuple[float, float]]:
    """Offline ZIP -> (lat, lon) of every ZIP the zipcodes package can place."""
    return _zip_table()[0]


def _postal_codes(text: pd.Series) -> pd.Series:
    """normalize_postal_code of every cell, computed once per distinct value."""
    distinct = {value: normalize_postal_code(value) for value in set(text.tolist())}
    return pd.Series([distinct[v] for v in text.tolist()], index=text.index, dtype=object)


def geocode_postal_codes(codes: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(lat, lon) for US ZIP codes, offline; NaN where the code is unknown."""
    table = _zip_centroids()
    pairs = [table.get(c, (np.nan, np.nan)) if c else (np.nan, np.nan) for c in codes]
    lat = pd.Series([p[0] for p in pairs], index=codes.index, dtype=float)
    lon = pd.Series([p[1] for p in pairs], index=codes.index, dtype=float)
    return lat, lon


def _coordinates(
    frame: pd.DataFrame, name: str, problems: ProblemList, what: str
) -> tuple[pd.Series, pd.Series, int, pd.Series]:
    """lat/lon from the columns, else from the postal code; swapped pairs named as such."""
    lat = parse_number(frame, "lat", name, problems, default=None)
    lon = parse_number(frame, "lon", name, problems, default=None)
    has_both = lat.notna() & lon.notna()
    swapped = has_both & (lat.abs() > 90) & (lat.abs() <= 180) & (lon.abs() <= 90)
    _report_rows(
        problems,
        name,
        _rows(swapped),
        "lat",
        "latitude is outside -90..90 but fits as a longitude: lat and lon look swapped",
        fix="swap the lat and lon values",
    )
    bad_lat = has_both & ~swapped & (lat.abs() > 90)
    bad_lon = has_both & ~swapped & (lon.abs() > 180)
    _report_rows(
        problems,
        name,
        _rows(bad_lat),
        "lat",
        "latitude must be within -90..90",
        values=lat[bad_lat].astype(str).tolist(),
    )
    _report_rows(
        problems,
        name,
        _rows(bad_lon),
        "lon",
        "longitude must be within -180..180",
        values=lon[bad_lon].astype(str).tolist(),
    )
    written = {c: parse_text(frame, c).notna() for c in ("lat", "lon")}
    for column, missing, present in (("lat", lat, lon), ("lon", lon, lat)):
        # a cell holding text ('abc') is reported above as not a number, not as blank
        blank = ~written[column]
        _report_rows(
            problems,
            name,
            _rows(missing.isna() & blank & present.notna()),
            column,
            f"{column} is blank but {'lon' if column == 'lat' else 'lat'} is given",
            fix="give both, or neither and a postal_code",
        )
    postal = _postal_codes(parse_text(frame, "postal_code"))
    need = lat.isna() & lon.isna()
    geocoded = 0
    if need.any():
        # a row whose coordinates are written but unreadable was told so above
        no_code = need & postal.isna() & ~(written["lat"] | written["lon"])
        _report_rows(
            problems,
            name,
            _rows(no_code),
            "lat",
            f"{what} has neither lat/lon nor a postal_code",
            fix="add coordinates or a US ZIP code",
        )
        to_code = need & postal.notna()
        abroad = to_code & _outside_the_us(frame)
        if abroad.any():
            # a German PLZ 10115 is also a New York ZIP: never place it there silently
            _report_rows(
                problems,
                name,
                _rows(abroad),
                "postal_code",
                f"{what} is outside the US by its country column, and postal codes are "
                "located offline only as US ZIP codes",
                fix="give its lat/lon",
                values=[
                    f"{code}, {country}"
                    for code, country in zip(postal[abroad], _country(frame)[abroad])
                ],
            )
            to_code = to_code & ~abroad
        if to_code.any():
            g_lat, g_lon = geocode_postal_codes(postal[to_code])
            missing = to_code.copy()
            missing[to_code] = g_lat.isna().to_numpy()
            unplaced = missing & postal.isin(_zip_table()[1])
            unknown_rows = missing & ~unplaced
            _report_rows(
                problems,
                name,
                _rows(unknown_rows),
                "postal_code",
                "unknown postal code (not a US ZIP in the offline database)",
                fix="correct the ZIP or give lat/lon",
                values=postal[unknown_rows].astype(str).tolist(),
            )
            _report_rows(
                problems,
                name,
                _rows(unplaced),
                "postal_code",
                "postal code is a US ZIP with no location in the offline database (a "
                "military APO/FPO/DPO ZIP, or a unique or PO-box ZIP without coordinates)",
                fix="give its lat/lon, or the ZIP of the place the account is served",
                values=postal[unplaced].astype(str).tolist(),
            )
            unknown = g_lat.isna()
            lat = lat.copy()
            lon = lon.copy()
            lat[to_code] = g_lat
            lon[to_code] = g_lon
            geocoded = int((~unknown).sum())
    return lat, lon, geocoded, postal
