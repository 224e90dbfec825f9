"""Read accounts, reps and regions; apply aliases and defaults; validate everything at once.

CRM exports load unchanged: column names are matched case-insensitively against the
canonical names and their aliases (DESIGN.md section 2). Every defect found in every file is
collected and raised together as one :class:`InputError`, each naming the file, the row as a
spreadsheet shows it (header = row 1) and the column, with a fix. Input files are only read.

Files become text cells in tables.py; numbers are read with the decimal mark number_format.py
decides per column; here the cells become typed, validated accounts and reps.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, Problem, ProblemList
from .number_format import (
    BLANK,
    INVALID,
    POINT,
    Decision,
    cell_kinds,
    convert,
    decide_marks,
    example_number,
    mark_words,
    prepared,
)
from .scenario import Scenario, load_scenario_settings, ordinal
from .tables import RowNumbers, SharedValue, _as_cells, _stripped, frame_as_text, read_table

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
#: the accounts' numeric columns whose decimal marks are decided together
_ACCOUNT_NUMBERS = ("lat", "lon", "workload", "potential", "revenue")
_TRUE = {"true", "t", "yes", "y", "1", "x"}
_FALSE = {"false", "f", "no", "n", "0", ""}
_MAX_ROWS_PER_DEFECT = 25  # beyond this a defect is summarised, so a bad column stays readable


@dataclass
class ScenarioData:
    """A validated scenario with its data: what ``plan()`` needs, nothing else.

    accounts / reps are canonical DataFrames (canonical columns first, unknown extra columns
    passed through); regions is a GeoDataFrame (or None) owned by geo.py.
    """

    settings: Scenario
    accounts: pd.DataFrame
    reps: pd.DataFrame
    regions: object | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.settings.name

    def summary(self) -> dict:
        """What was read, for ``validate`` and for the plan's summary.json."""
        reps = self.reps
        return {
            "scenario": self.settings.name,
            "accounts": int(len(self.accounts)),
            "reps": int(len(reps)),
            "reps_by_status": {s: int((reps["status"] == s).sum()) for s in REP_STATUSES},
            "regions": 0 if self.regions is None else int(len(self.regions)),
            "geocoded_from_postal_code": int(self.accounts.attrs.get("geocoded", 0)),
            "locked_accounts": int(self.accounts["locked"].sum()),
            "totals": {
                m.metric: float(self.accounts[m.metric].sum()) for m in self.settings.balance
            },
            "metrics": {
                column: _spread(self.accounts[column]) for column in self._reported_metrics()
            },
            "capacity": _spread(reps["capacity"]),
            "defaults": [
                *self.accounts.attrs.get("defaults", []),
                *reps.attrs.get("defaults", []),
            ],
            "decimal_marks": {
                str(self.files.get(what, what)): frame.attrs.get("decimal_marks", {})
                for what, frame in (("accounts", self.accounts), ("reps", reps))
                if frame.attrs.get("decimal_marks")
            },
        }

    def _reported_metrics(self) -> list[str]:
        """The balance metrics, then the account figures every plan reports."""
        balanced = [rule.metric for rule in self.settings.balance]
        rest = [m for m in ("workload", "potential", "revenue") if m not in balanced]
        return [*balanced, *rest]


def _spread(values: pd.Series) -> dict[str, float]:
    """Total and range of a numeric column, so the scale is visible at a glance."""
    if not len(values):
        return {"total": 0.0, "min": 0.0, "max": 0.0}
    return {
        "total": float(values.sum()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


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


# --------------------------------------------------------------------------- cell parsers


def _rows(mask: np.ndarray | pd.Series) -> list[int]:
    """Spreadsheet row numbers where ``mask`` holds.

    Frames being validated are indexed by the row number a spreadsheet shows (header = 1),
    so a Series mask carries its rows even when blank lines or multi-line cells make row and
    position differ; a bare array falls back to position + 2.
    """
    if isinstance(mask, pd.Series):
        return [int(i) for i in mask.index[np.asarray(mask, dtype=bool)]]
    return [int(i) + 2 for i in np.flatnonzero(np.asarray(mask))]


def _row_index(frame: pd.DataFrame) -> pd.Index:
    """Spreadsheet row numbers of ``frame`` (kept from the reader when it set them)."""
    rows = frame.attrs.get("rows")
    if rows is None or len(rows) != len(frame):
        return pd.RangeIndex(2, len(frame) + 2)
    if isinstance(rows, RowNumbers):
        return pd.Index(rows.values)
    return pd.Index([int(r) for r in rows])


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` indexed by spreadsheet row numbers (kept from the reader when it set them)."""
    out = frame.copy()
    out.index = _row_index(frame)
    return out


def _rows_in(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> list[int]:
    """Spreadsheet rows of ``frame`` (a validated frame, plain index) where ``mask`` holds."""
    return _rows(pd.Series(np.asarray(mask, dtype=bool), index=_row_index(frame)))


def _finish(out: pd.DataFrame, name: str) -> pd.DataFrame:
    """A validated frame: row numbers kept in ``attrs['rows']``, a plain 0..n-1 index."""
    out.attrs["rows"] = RowNumbers(out.index)
    out.attrs["file"] = name
    return out.reset_index(drop=True)


def _report_rows(
    problems: ProblemList,
    name: str,
    rows: list[int],
    column: str,
    message: str,
    fix: str | None = None,
    values: list[str] | None = None,
) -> None:
    """One problem per row, summarised after a cap so one bad column stays readable."""
    for k, row in enumerate(rows[:_MAX_ROWS_PER_DEFECT]):
        text = message if values is None else f"{message} (got '{values[k]}')"
        problems.add(name, text, row=row, column=column, fix=fix)
    if len(rows) > _MAX_ROWS_PER_DEFECT:
        problems.add(
            name,
            f"{message}: {len(rows) - _MAX_ROWS_PER_DEFECT} more rows like the "
            f"above (rows {rows[_MAX_ROWS_PER_DEFECT]}..{rows[-1]})",
            column=column,
            fix=fix,
        )


def decide_number_formats(
    frame: pd.DataFrame, columns: list[str], name: str, problems: ProblemList
) -> dict[str, Decision]:
    """Decide the decimal mark of each numeric column of a file, together, from all cells.

    The decisions are kept in ``frame.attrs['decimal_marks']`` for :func:`parse_number`;
    a column that cannot be read consistently is reported once here (see number_format.py).
    """
    present = [column for column in columns if column in frame.columns]
    cells = {column: prepared(frame[column].tolist()) for column in present}
    kinds = {column: cell_kinds(cells[column]) for column in present}
    decisions = decide_marks(cells, frame.index.to_numpy(), frame.attrs.get("decimal_hint"), kinds)
    for column, decision in decisions.items():
        if decision.error is not None:
            problems.add(
                name,
                decision.error,
                row=decision.rows[0] if len(decision.rows) == 1 else None,
                column=column,
                fix="write every number of the file in one style: without thousands "
                "separators, or with the decimals shown (48.718,00 or 48,718.00)",
            )
    frame.attrs["decimal_marks"] = decisions
    frame.attrs["number_cells"] = SharedValue(
        {column: (cells[column], kinds[column]) for column in present}
    )
    return decisions


def parse_number(
    frame: pd.DataFrame,
    column: str,
    name: str,
    problems: ProblemList,
    *,
    default: float | None,
    minimum: float | None = None,
    strictly_positive: bool = False,
    defaults: list[str] | None = None,
    unit: str = "account",
) -> pd.Series:
    """Text cells -> floats; blanks take ``default``; text, inf and out-of-range reported.

    When ``defaults`` is given, each default applied (a missing column, blank cells) is
    described there in words for ``validate``.

    The decimal mark is the one :func:`decide_number_formats` chose for the column (decided
    from this column and the file's format when it was not asked).
    """
    if column not in frame.columns:
        if defaults is not None and default is not None:
            defaults.append(
                f"{column} {default:g} for every {unit}: {_short(name)} has no {column} column"
            )
        return pd.Series(
            np.full(len(frame), np.nan if default is None else default),
            index=frame.index,
            dtype=float,
        )
    text = frame[column].tolist()
    cached = frame.attrs.get("number_cells")
    cells, kinds = (None, None) if cached is None else cached.value.get(column, (None, None))
    if cells is None or len(cells) != len(text):
        cells = prepared(text)
        kinds = cell_kinds(cells)
    decision = frame.attrs.get("decimal_marks", {}).get(column)
    if decision is None:
        decision = decide_marks(
            {column: cells}, frame.index.to_numpy(), frame.attrs.get("decimal_hint")
        )[column]
        if decision.error is not None:
            problems.add(name, decision.error, column=column)
    contradicted = decision.error is not None
    values = convert(cells, kinds, decision.mark, each_own=contradicted)
    blank = kinds == BLANK
    bad_text = np.isnan(values) & ~blank
    if contradicted:  # the column's error names these cells already
        bad_text &= kinds == INVALID
    _report_rows(
        problems,
        name,
        _rows(pd.Series(bad_text, index=frame.index)),
        column,
        "is not a number",
        fix=f"write digits with {mark_words(decision.mark or POINT)}, "
        f"e.g. {example_number(decision.mark)}",
        values=[text[p] for p in np.flatnonzero(bad_text)[:_MAX_ROWS_PER_DEFECT]],
    )
    infinite = np.isinf(values)
    _report_rows(
        problems,
        name,
        _rows(pd.Series(infinite, index=frame.index)),
        column,
        "is infinite",
        fix="enter a finite number",
        values=[text[p] for p in np.flatnonzero(infinite)[:_MAX_ROWS_PER_DEFECT]],
    )
    values = np.where(infinite, np.nan, values)
    if minimum is not None:
        with np.errstate(invalid="ignore"):
            low = values <= minimum if strictly_positive else values < minimum
        what = f"must be {'greater than' if strictly_positive else 'at least'} {minimum:g}"
        _report_rows(
            problems,
            name,
            _rows(pd.Series(low, index=frame.index)),
            column,
            what,
            values=[text[p] for p in np.flatnonzero(low)[:_MAX_ROWS_PER_DEFECT]],
        )
    if default is not None:
        values = np.where(blank, default, values)
        if defaults is not None and blank.any():
            defaults.append(
                f"{column} {default:g} for {_count(int(blank.sum()), unit)} whose {column} is blank"
            )
    return pd.Series(values, index=frame.index, dtype=float)


def _decided(frame: pd.DataFrame) -> dict[str, str]:
    """How each numeric column's decimal mark was decided, in words (for ``validate``)."""
    return {
        column: decision.reason
        for column, decision in frame.attrs.get("decimal_marks", {}).items()
        if decision.error is None and decision.mark is not None
    }


def _count(number: int, unit: str) -> str:
    return f"{number:,} {unit}{'' if number == 1 else 's'}"


def _short(name: str) -> str:
    """A file's name without its folder, for sentences (problems keep the full path)."""
    return Path(name).name if name.endswith((".csv", ".xlsx", ".xlsm", ".xls", ".txt")) else name


def parse_bool(frame: pd.DataFrame, column: str, name: str, problems: ProblemList) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(False, index=frame.index, dtype=bool)
    cells = frame[column].tolist()
    lowered = {value: value.strip().lower() for value in set(cells)}
    bad = pd.Series([lowered[c] not in _TRUE | _FALSE for c in cells], index=frame.index)
    _report_rows(
        problems,
        name,
        _rows(bad),
        column,
        "is not true/false",
        fix="use true or false",
        values=frame[column][bad].tolist(),
    )
    truth = {value: low in _TRUE for value, low in lowered.items()}
    return pd.Series([truth[c] for c in cells], index=frame.index, dtype=bool)


def parse_text(frame: pd.DataFrame, column: str, *, blank_is_none: bool = True) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(
            [None if blank_is_none else ""] * len(frame), index=frame.index, dtype=object
        )
    cells = _stripped(_as_cells(frame[column]))
    if blank_is_none:
        cells = np.where(cells == "", None, cells)
    return pd.Series(cells, index=frame.index, dtype=object)


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


def _ids(
    frame: pd.DataFrame, column: str, name: str, problems: ProblemList, what: str
) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    ids = parse_text(frame, column, blank_is_none=False)
    blank = ids.eq("")
    _report_rows(
        problems,
        name,
        _rows(blank),
        column,
        f"{what} is blank",
        fix=f"every row needs a unique {column}",
    )
    cells = ids.tolist()
    if len(set(cells)) == len(cells):  # the usual case, told by one hash pass
        return ids
    duplicated = ids.duplicated(keep=False) & ~blank
    if duplicated.any():
        first_row: dict[str, int] = {}
        for row, value in zip(ids.index, ids):
            first_row.setdefault(value, int(row))
        dup_rows = _rows(duplicated & ids.duplicated(keep="first"))
        values = ids[duplicated & ids.duplicated(keep="first")].tolist()
        for k, (row, value) in enumerate(zip(dup_rows, values)):
            if k >= _MAX_ROWS_PER_DEFECT:
                problems.add(
                    name, f"{len(dup_rows) - k} more duplicate {column} values", column=column
                )
                break
            problems.add(
                name,
                f"duplicate {column} '{value}' (first seen on row {first_row[value]})",
                row=row,
                column=column,
                fix="IDs must be unique",
            )
    return ids.astype(object)


def _require(
    frame: pd.DataFrame,
    column: str,
    aliases: dict[str, tuple[str, ...]],
    name: str,
    problems: ProblemList,
) -> bool:
    if column in frame.columns:
        return True
    accepted = ", ".join([column, *aliases.get(column, ())])
    problems.add(
        name,
        f"required column '{column}' is missing",
        row=1,
        column=column,
        fix=f"add a column named one of: {accepted}",
    )
    return False


# --------------------------------------------------------------------------- accounts / reps


def normalize_accounts(
    raw: pd.DataFrame, name: str, problems: ProblemList, metrics: list[str] | None = None
) -> pd.DataFrame:
    """Canonical accounts frame from text cells; problems collected, never raised here."""
    frame = canonical_columns(_numbered(raw), ACCOUNT_ALIASES, name, problems)
    _require(frame, "account_id", ACCOUNT_ALIASES, name, problems)
    extra_metrics = [m for m in metrics or [] if m not in ACCOUNT_ALIASES]
    decide_number_formats(frame, [*_ACCOUNT_NUMBERS, *extra_metrics], name, problems)
    defaults: list[str] = []
    out = pd.DataFrame(index=frame.index)
    out["account_id"] = _ids(frame, "account_id", name, problems, "account_id")
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


def normalize_reps(raw: pd.DataFrame, name: str, problems: ProblemList) -> pd.DataFrame:
    """Canonical reps frame from text cells; problems collected, never raised here."""
    frame = canonical_columns(_numbered(raw), REP_ALIASES, name, problems)
    _require(frame, "rep_id", REP_ALIASES, name, problems)
    decide_number_formats(frame, ["lat", "lon", "capacity"], name, problems)
    defaults: list[str] = []
    out = pd.DataFrame(index=frame.index)
    out["rep_id"] = _ids(frame, "rep_id", name, problems, "rep_id")
    out["name"] = parse_text(frame, "name", blank_is_none=False)
    lat, lon, _, postal = _coordinates(frame, name, problems, "rep")
    out["lat"], out["lon"], out["postal_code"] = lat, lon, postal.astype(object)
    out["capacity"] = parse_number(
        frame,
        "capacity",
        name,
        problems,
        default=1.0,
        minimum=0.0,
        strictly_positive=True,
        defaults=defaults,
        unit="rep",
    )
    out["segment"] = parse_text(frame, "segment")
    out["region_id"] = parse_text(frame, "region_id")
    status = parse_text(frame, "status")
    if "status" not in frame.columns:
        defaults.append(f"status active for every rep: {_short(name)} has no status column")
    elif status.isna().any():
        defaults.append(
            f"status active for {_count(int(status.isna().sum()), 'rep')} whose status is blank"
        )
    status = status.fillna("active").astype(str).str.lower()
    bad = ~status.isin(REP_STATUSES)
    _report_rows(
        problems,
        name,
        _rows(bad),
        "status",
        "unknown status",
        fix="use active, new or leaving",
        values=status[bad].tolist(),
    )
    out["status"] = status.where(~bad, "active").astype(object)
    for column in frame.columns:
        if column not in out.columns and column not in REP_ALIASES:
            out[column] = frame[column]
    out.attrs["defaults"] = defaults
    out.attrs["decimal_marks"] = _decided(frame)
    return _finish(out, name)


def cross_check(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    regions,
    settings: Scenario,
    account_file: str,
    rep_file: str,
    problems: ProblemList,
) -> None:
    """References between files: owners, regions, metrics; and that someone can work."""
    rep_ids = set(reps["rep_id"])
    unknown_owner = accounts["current_rep_id"].notna() & ~accounts["current_rep_id"].isin(rep_ids)
    _report_rows(
        problems,
        account_file,
        _rows_in(accounts, unknown_owner),
        "current_rep_id",
        "current_rep_id is not a rep in the reps file",
        fix="correct the ID or blank it",
        values=accounts["current_rep_id"][unknown_owner].astype(str).tolist(),
    )
    region_ids: set[str] = set()
    if regions is not None:
        from .geo import region_ancestors

        for ancestors in region_ancestors(regions).values():
            region_ids.update(ancestors)
    else:
        region_ids.update(accounts["region_id"].dropna())
    bad_region = reps["region_id"].notna() & ~reps["region_id"].isin(region_ids)
    _report_rows(
        problems,
        rep_file,
        _rows_in(reps, bad_region),
        "region_id",
        "region_id does not exist"
        + (
            " in the regions file"
            if regions is not None
            else " among the accounts' region_id values"
        ),
        values=reps["region_id"][bad_region].astype(str).tolist(),
        fix="use a region_id (or a parent_id) of the regions",
    )
    if regions is not None:
        known = set(regions["region_id"])
        bad_acc_region = accounts["region_id"].notna() & ~accounts["region_id"].isin(known)
        _report_rows(
            problems,
            account_file,
            _rows_in(accounts, bad_acc_region),
            "region_id",
            "region_id is not a region of the regions file",
            values=accounts["region_id"][bad_acc_region].astype(str).tolist(),
            fix="correct it or leave it blank to place the account by its location",
        )
    if len(reps) and not (reps["status"] != "leaving").any():
        problems.add(
            rep_file,
            "every rep is leaving: nobody is left to own the accounts",
            column="status",
            fix="keep at least one rep active or new",
        )
    if settings.constraints.keep_together and settings.constraints.keep_together not in (
        accounts.columns
    ):
        problems.add(
            account_file,
            f"keep_together names column "
            f"'{settings.constraints.keep_together}', which the accounts do not have",
            row=1,
            column=settings.constraints.keep_together,
            fix="add the column or change constraints.keep_together",
        )


def check_balance_metrics(
    settings: Scenario, accounts: pd.DataFrame, account_file: str, problems: ProblemList
) -> None:
    """Each balance rule names a numeric column of the accounts.

    The rule is the scenario's, so a wrong metric is reported against the scenario file,
    with the closest column the accounts do have.
    """
    scenario_file = str(settings.source) if settings.source is not None else "scenario"
    numeric = ["workload", "potential", "revenue"]
    passed = [c for c in accounts.columns if c not in ACCOUNT_ALIASES and c not in numeric]
    for position, rule in enumerate(settings.balance):
        metric = rule.metric
        which = f"the {ordinal(position)} balance rule"
        if metric in ACCOUNT_ALIASES and metric not in numeric:
            problems.add(
                scenario_file,
                f"{which} balances '{metric}', which is not a numeric column "
                "(it is one of the account's identifying or location columns)",
                fix="balance workload, potential, revenue or a numeric column you add",
            )
        elif metric not in accounts.columns:
            close = difflib.get_close_matches(metric, [*numeric, *passed], n=1)
            problems.add(
                scenario_file,
                f"{which} balances '{metric}', which is not a column of {account_file}",
                fix=f"did you mean '{close[0]}'?"
                if close
                else f"add the column to the accounts or remove '{metric}' from 'balance'",
            )


def place_accounts_in_regions(accounts: pd.DataFrame, regions) -> pd.DataFrame:
    """Fill a blank region_id by point-in-polygon (geo.py does the geometry)."""
    if regions is None:
        return accounts
    from .geo import locate_points

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
    swapped pair is only detectable against the regions: geo.py answers the geometry.
    """
    if regions is None or not len(accounts):
        return
    from .geo import locate_points

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


def load_data(
    settings: Scenario,
    accounts: pd.DataFrame | None = None,
    reps: pd.DataFrame | None = None,
    regions=None,
) -> ScenarioData:
    """Read (or take in memory), normalise and validate all inputs of a scenario.

    Raises one InputError with every problem of every file. DataFrames given in memory go
    through exactly the same validation as files (they are converted to text cells first).
    """
    problems = ProblemList()
    metrics = [rule.metric for rule in settings.balance]
    account_file = str(settings.accounts) if accounts is None else "accounts (in memory)"
    rep_file = str(settings.reps) if reps is None else "reps (in memory)"
    raw_accounts = (
        read_table(settings.accounts, problems)
        if accounts is None
        else frame_as_text(accounts, account_file)
    )
    raw_reps = (
        read_table(settings.reps, problems) if reps is None else frame_as_text(reps, rep_file)
    )
    regions_unreadable = False
    if regions is None and settings.regions is not None:
        from .geo import read_regions

        try:
            regions = read_regions(settings.regions)
        except InputError as error:
            problems.extend(error.problems)
            regions, regions_unreadable = None, True
    # Every file is checked even when another one failed, so one run lists every defect.
    acc = rep = None
    if raw_accounts is not None:
        acc = normalize_accounts(raw_accounts, account_file, problems, metrics)
        if len(acc) == 0:
            problems.add(
                account_file, "has a header but no accounts", row=2, fix="export the rows too"
            )
    if raw_reps is not None:
        rep = normalize_reps(raw_reps, rep_file, problems)
        if len(rep) == 0:
            problems.add(rep_file, "has a header but no reps", row=2, fix="export the rows too")
    if acc is None or rep is None or regions_unreadable:
        problems.raise_if_any()
    check_balance_metrics(settings, acc, account_file, problems)
    if len(acc) and len(rep):
        cross_check(acc, rep, regions, settings, account_file, rep_file, problems)
    acc = place_accounts_in_regions(acc, regions)
    report_swapped_outside_regions(acc, regions, account_file, problems)
    if settings.unit == "region":
        from .regions import check_region_mode

        acc = check_region_mode(acc, rep, regions, settings, account_file, problems)
    problems.raise_if_any()
    files = {"accounts": Path(settings.accounts), "reps": Path(settings.reps)}
    if settings.regions is not None:
        files["regions"] = Path(settings.regions)
    return ScenarioData(settings=settings, accounts=acc, reps=rep, regions=regions, files=files)


def load_scenario(path: str | Path) -> ScenarioData:
    """Read a scenario file and all its data, validated. The Python API's front door."""
    settings = load_scenario_settings(path)
    return load_data(settings)


__all__ = [
    "ScenarioData",
    "load_scenario",
    "load_data",
    "read_table",
    "frame_as_text",
    "normalize_accounts",
    "normalize_reps",
    "normalize_postal_code",
    "geocode_postal_codes",
    "Problem",
]


# the quota table's rep_id is checked by the same rule as the reps file's, written once
unique_ids = _ids
