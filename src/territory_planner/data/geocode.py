"""Account coordinates: lat/lon cells, or the centroid of the postal code when they are blank."""

from __future__ import annotations

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


def normalize_postal_code(value: str | None) -> str | None:
    """US ZIP as five digits: ZIP+4 -> first five, leading zeros restored (Excel drops them)."""
    if value is None or value != value:  # a blank cell arrives as NaN from pandas' str dtype
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.endswith(".0") and text[:-2].isdigit():  # a ZIP that went through a float
        text = text[:-2]
    head = text.split("-")[0].strip()
    if head.isdigit() and len(head) <= 5:
        return head.zfill(5)
    if head.isdigit() and len(head) == 9:
        return head[:5]
    return text


@lru_cache(maxsize=1)
def _zip_centroids() -> dict[str, tuple[float, float]]:
    """Offline ZIP -> (lat, lon) from the zipcodes package, loaded once."""
    import zipcodes

    table: dict[str, tuple[float, float]] = {}
    for entry in zipcodes.list_all():
        try:
            table[entry["zip_code"]] = (float(entry["lat"]), float(entry["long"]))
        except (KeyError, TypeError, ValueError):
            continue
    return table


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
    for column, missing, present in (("lat", lat, lon), ("lon", lon, lat)):
        _report_rows(
            problems,
            name,
            _rows(missing.isna() & present.notna()),
            column,
            f"{column} is blank but {'lon' if column == 'lat' else 'lat'} is given",
            fix="give both, or neither and a postal_code",
        )
    postal = _postal_codes(parse_text(frame, "postal_code"))
    need = lat.isna() & lon.isna()
    geocoded = 0
    if need.any():
        no_code = need & postal.isna()
        _report_rows(
            problems,
            name,
            _rows(no_code),
            "lat",
            f"{what} has neither lat/lon nor a postal_code",
            fix="add coordinates or a US ZIP code",
        )
        to_code = need & postal.notna()
        if to_code.any():
            g_lat, g_lon = geocode_postal_codes(postal[to_code])
            unknown = g_lat.isna()
            unknown_rows = to_code.copy()
            unknown_rows[to_code] = unknown.to_numpy()
            _report_rows(
                problems,
                name,
                _rows(unknown_rows),
                "postal_code",
                "unknown postal code (not a US ZIP in the offline database)",
                fix="correct the ZIP or give lat/lon",
                values=postal[unknown_rows].astype(str).tolist(),
            )
            lat = lat.copy()
            lon = lon.copy()
            lat[to_code] = g_lat
            lon[to_code] = g_lon
            geocoded = int((~unknown).sum())
    return lat, lon, geocoded, postal
