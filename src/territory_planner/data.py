"""Read accounts, reps and regions; apply aliases and defaults; validate everything at once.

CRM exports load unchanged: column names are matched case-insensitively against the
canonical names and their aliases (DESIGN.md section 2). Every defect found in every file is
collected and raised together as one :class:`InputError`, each naming the file, the row as a
spreadsheet shows it (header = row 1) and the column, with a fix. Input files are only read.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, Problem, ProblemList
from .scenario import Scenario, load_scenario_settings

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
        }


class RowNumbers:
    """Spreadsheet row numbers of a frame's rows, kept in ``DataFrame.attrs``.

    pandas deep-copies ``attrs`` on every column access and compares them with ``==`` when
    concatenating; a plain list of 100,000 ints made each column access cost milliseconds
    and a numpy array breaks the comparison. This immutable wrapper copies as itself and
    compares by value.
    """

    __slots__ = ("values",)

    def __init__(self, values) -> None:
        self.values = np.asarray(values, dtype=np.int64)
        self.values.setflags(write=False)

    def __deepcopy__(self, memo) -> RowNumbers:
        return self

    def __eq__(self, other) -> bool:
        return isinstance(other, RowNumbers) and np.array_equal(self.values, other.values)

    def __hash__(self) -> int:
        return hash(self.values.tobytes())

    def __len__(self) -> int:
        return len(self.values)

    def __iter__(self):
        return iter(self.values.tolist())


# --------------------------------------------------------------------------- raw tables


def read_table(path: str | Path, problems: ProblemList) -> pd.DataFrame | None:
    """Read a CSV or XLSX file as text cells (so ZIPs keep leading zeros); None on failure.

    Text encoding: UTF-8, with or without a byte-order mark; UTF-16 only when it starts with
    its byte-order mark (Excel's "Unicode Text"), because only then is it unambiguous. Any
    other encoding (Excel's Windows-1252 "CSV (Comma delimited)") is refused with the byte
    and line where decoding failed: guessing a code page would silently garble names.

    The delimiter is sniffed among , ; tab and | from the header line (the most frequent
    one outside quotes; a comma on ties) because European spreadsheet exports use
    semicolons; a semicolon file may then write decimals with a comma (``40,71``), which
    :func:`parse_number` accepts. Duplicate header names are reported, never silently
    renamed. Trailing empty cells beyond the header (a stray formatted cell in Excel) are
    ignored; any other row of the wrong width is reported.
    """
    path = Path(path)
    name = str(path)
    if not path.exists():
        problems.add(name, "the file does not exist", fix="check the path in the scenario")
        return None
    if path.is_dir():
        problems.add(
            name, "is a folder, not a data file", fix="name the .csv or .xlsx file inside it"
        )
        return None
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return _read_spreadsheet(path, problems)
    try:
        raw = path.read_bytes()
    except OSError as error:
        problems.add(
            name,
            f"cannot be read ({error.strerror or error})",
            fix="check that the file is readable and not locked by another program",
        )
        return None
    text = _decode(raw, name, problems)
    if text is None:
        return None
    if not text.strip():
        problems.add(name, "the file is empty", fix="export it again with a header row")
        return None
    lines = text.splitlines()
    delimiter = _sniff_delimiter(next((line for line in lines if line.strip()), ""))
    csv.field_size_limit(1 << 24)  # a long free-text cell is not an error; 16 MB still is
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        problems.add(
            name,
            f"is not valid CSV ({error})",
            fix="check quoting: a value with a delimiter or quote needs double quotes",
        )
        return None
    numbered = [
        (number, row)
        for number, row in enumerate(rows, start=1)
        if any(cell.strip() for cell in row)
    ]
    if not numbered:
        problems.add(name, "the file is empty", fix="export it again with a header row")
        return None
    header = [h.strip() for h in numbered[0][1]]
    width = len(header)
    body_rows = []
    for number, row in numbered[1:]:
        if len(row) > width and not any(cell.strip() for cell in row[width:]):
            row = row[:width]
        if len(row) != width:
            problems.add(
                name,
                f"has {len(row)} cells where the header has {width}",
                row=number,
                fix="check for an unquoted delimiter inside a value",
            )
            row = (row + [""] * width)[:width]
        body_rows.append(row)
    body = pd.DataFrame(body_rows, columns=range(width), dtype=object)
    body.index = [number for number, _ in numbered[1:]]
    frame = _with_header(body, header, name, problems)
    frame.attrs["decimal_comma"] = delimiter == ";"
    return frame


def _decode(raw: bytes, name: str, problems: ProblemList) -> str | None:
    """Bytes -> text by the rules of :func:`read_table`; a problem and None when refused."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as error:
            problems.add(
                name,
                f"starts as UTF-16 but is damaged ({error.reason})",
                fix="save as 'CSV UTF-8 (comma delimited)'",
            )
            return None
    if b"\x00" in raw[:4096]:
        problems.add(
            name,
            "looks binary (it holds NUL bytes), not CSV text",
            fix="save as 'CSV UTF-8 (comma delimited)'",
        )
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        bad = raw[error.start]
        hint = ""
        try:
            hint = f", which in Windows-1252 would be '{bytes([bad]).decode('cp1252')}'"
        except UnicodeDecodeError:
            pass
        problems.add(
            name,
            f"is not UTF-8 text: byte 0x{bad:02x} on line {line}{hint}; "
            "the file was probably saved in a Windows or Mac code page",
            row=line,
            fix="save as 'CSV UTF-8 (comma delimited)' in Excel, or convert "
            "with: iconv -f WINDOWS-1252 -t UTF-8",
        )
        return None


def _sniff_delimiter(header_line: str) -> str:
    """The most frequent of , ; tab | outside double quotes in the header (comma on ties)."""
    outside = re.sub(r'"[^"]*"', "", header_line)
    counts = {d: outside.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts.values())
    if best == 0 or counts[","] == best:
        return ","
    return max(counts, key=counts.get)


def _read_spreadsheet(path: Path, problems: ProblemList) -> pd.DataFrame | None:
    """The first sheet of an Excel workbook as text cells, rows numbered as Excel shows them."""
    name = str(path)
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, header=None)
    except Exception as error:  # openpyxl/zipfile raise many types for damaged files
        problems.add(
            name,
            f"cannot be read as a spreadsheet ({type(error).__name__}: {error})",
            fix="open it in Excel and save it again as .xlsx, or export CSV UTF-8",
        )
        return None
    frame = frame.fillna("").astype(str)
    frame.index = range(1, len(frame) + 1)
    filled = frame.apply(lambda row: row.str.strip().ne("").any(), axis=1)
    frame = frame[filled] if len(frame) else frame
    if frame.empty:
        problems.add(name, "the file is empty", fix="export it again with a header row")
        return None
    header = [str(c).strip() for c in frame.iloc[0].tolist()]
    body = frame.iloc[1:]
    while header and not header[-1] and not body.iloc[:, len(header) - 1].str.strip().ne("").any():
        header.pop()  # Excel keeps the width of a once-formatted column
        body = body.iloc[:, : len(header)]
    body = body.copy()
    body.columns = range(len(header))
    return _with_header(body, header, name, problems)


def _with_header(
    body: pd.DataFrame, header: list[str], name: str, problems: ProblemList
) -> pd.DataFrame:
    seen: dict[str, int] = {}
    for position, column in enumerate(header):
        key = column.lower()
        if not column:
            if body.shape[0] and body.iloc[:, position].astype(str).str.strip().ne("").any():
                problems.add(
                    name,
                    f"column {position + 1} has no header but holds values",
                    row=1,
                    fix="give it a name",
                )
        elif key in seen:
            problems.add(
                name,
                f"column '{column}' appears twice (columns {seen[key] + 1} and {position + 1})",
                row=1,
                column=column,
                fix="delete or rename one of them",
            )
        else:
            seen[key] = position
    body = body.copy()
    body.columns = [h if h else f"unnamed_{i + 1}" for i, h in enumerate(header)]
    body = body.loc[:, ~pd.Index(body.columns).str.lower().duplicated()]
    body = body.fillna("").astype(str).apply(lambda s: s.str.strip())
    body.attrs["file"] = name
    body.attrs["rows"] = RowNumbers(body.index)
    return body


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


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` indexed by spreadsheet row numbers (kept from the reader when it set them)."""
    rows = frame.attrs.get("rows")
    if rows is None or len(rows) != len(frame):
        rows = range(2, len(frame) + 2)
    out = frame.copy()
    out.index = pd.Index([int(r) for r in rows])
    return out


def _rows_in(frame: pd.DataFrame, mask: pd.Series | np.ndarray) -> list[int]:
    """Spreadsheet rows of ``frame`` (a validated frame, plain index) where ``mask`` holds."""
    rows = frame.attrs.get("rows")
    if rows is None or len(rows) != len(frame):
        rows = range(2, len(frame) + 2)
    return _rows(pd.Series(np.asarray(mask, dtype=bool), index=pd.Index(list(rows))))


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


def parse_number(
    frame: pd.DataFrame,
    column: str,
    name: str,
    problems: ProblemList,
    *,
    default: float | None,
    minimum: float | None = None,
    strictly_positive: bool = False,
) -> pd.Series:
    """Text cells -> floats; blanks take ``default``; text, inf and out-of-range reported."""
    if column not in frame.columns:
        return pd.Series(
            np.full(len(frame), np.nan if default is None else default),
            index=frame.index,
            dtype=float,
        )
    text = frame[column].astype(str).str.strip()
    cleaned = _number_text(
        text.str.replace("$", "", regex=False).str.replace(" ", "", regex=False),
        decimal_comma=bool(frame.attrs.get("decimal_comma")),
    )
    blank = text.eq("") | text.str.lower().isin(["nan", "na", "n/a", "null", "none"])
    values = pd.Series(
        pd.to_numeric(cleaned.where(~blank), errors="coerce"), index=frame.index
    ).astype(float)
    bad_text = values.isna() & ~blank
    _report_rows(
        problems,
        name,
        _rows(bad_text),
        column,
        "is not a number",
        fix="use digits with a dot for decimals, e.g. 1250.5",
        values=text[bad_text].tolist(),
    )
    infinite = pd.Series(np.isinf(values.to_numpy()), index=frame.index)
    _report_rows(
        problems,
        name,
        _rows(infinite),
        column,
        "is infinite",
        fix="enter a finite number",
        values=text[infinite].tolist(),
    )
    values = values.mask(infinite)
    if minimum is not None:
        if strictly_positive:
            low = values.notna() & (values <= minimum)
            what = f"must be greater than {minimum:g}"
        else:
            low = values.notna() & (values < minimum)
            what = f"must be at least {minimum:g}"
        _report_rows(problems, name, _rows(low), column, what, values=text[low].tolist())
    if default is not None:
        values = values.where(~blank, default)
    return values


_THOUSANDS = r"^[-+]?\d{1,3}(,\d{3})+(\.\d*)?$"  # 1,250 or 1,250,000.50
_DECIMAL_COMMA = r"^[-+]?\d*,\d+$"  # 40,7128 (one comma, no dot)


def _number_text(text: pd.Series, *, decimal_comma: bool) -> pd.Series:
    """Number-like text in a form ``pd.to_numeric`` reads; anything doubtful left to fail.

    A comma is a thousands separator only in strict groups of three (``1,250,000.5``). In a
    semicolon-delimited file (a European export) a single comma with no dot is the decimal
    mark (``40,7128``); elsewhere such a value is ambiguous and is reported, not guessed.
    """
    thousands = text.str.match(_THOUSANDS)
    out = text.where(~thousands, text.str.replace(",", "", regex=False))
    if decimal_comma:
        decimal = ~thousands & text.str.match(_DECIMAL_COMMA)
        out = out.where(~decimal, text.str.replace(",", ".", regex=False))
    return out


def parse_bool(frame: pd.DataFrame, column: str, name: str, problems: ProblemList) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(False, index=frame.index, dtype=bool)
    text = frame[column].astype(str).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    _report_rows(
        problems,
        name,
        _rows(bad),
        column,
        "is not true/false",
        fix="use true or false",
        values=frame[column][bad].tolist(),
    )
    return text.isin(_TRUE)


def parse_text(frame: pd.DataFrame, column: str, *, blank_is_none: bool = True) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(
            [None if blank_is_none else ""] * len(frame), index=frame.index, dtype=object
        )
    text = frame[column].astype(str).str.strip()
    if blank_is_none:
        return text.where(text.ne(""), None).astype(object)
    return text.astype(object)


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
    postal = parse_text(frame, "postal_code").map(normalize_postal_code)
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
    ids = frame[column].astype(str).str.strip()
    blank = ids.eq("")
    _report_rows(
        problems,
        name,
        _rows(blank),
        column,
        f"{what} is blank",
        fix=f"every row needs a unique {column}",
    )
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
    out = pd.DataFrame(index=frame.index)
    out["account_id"] = _ids(frame, "account_id", name, problems, "account_id")
    out["name"] = parse_text(frame, "name", blank_is_none=False)
    lat, lon, geocoded, postal = _coordinates(frame, name, problems, "account")
    out["lat"], out["lon"], out["postal_code"] = lat, lon, postal.astype(object)
    out["workload"] = parse_number(frame, "workload", name, problems, default=1.0, minimum=0.0)
    out["potential"] = parse_number(frame, "potential", name, problems, default=0.0, minimum=0.0)
    out["revenue"] = parse_number(frame, "revenue", name, problems, default=0.0, minimum=0.0)
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
    for metric in metrics or []:
        if metric in out.columns and metric not in ("workload", "potential", "revenue"):
            problems.add(
                name,
                f"balance metric '{metric}' is not a numeric column "
                "(it is one of the account's identifying or location columns)",
                row=1,
                column=metric,
                fix="balance workload, potential, revenue or a numeric column you add",
            )
            continue
        if metric in out.columns:
            continue
        if metric in frame.columns:
            out[metric] = parse_number(frame, metric, name, problems, default=0.0, minimum=0.0)
        else:
            problems.add(
                name,
                f"balance metric '{metric}' is not a column of the accounts",
                row=1,
                column=metric,
                fix=f"add the column or remove '{metric}' from 'balance'",
            )
    for column in frame.columns:
        if column not in known and column not in out.columns:
            out[column] = frame[column]
    out.attrs["geocoded"] = geocoded
    out.attrs["source_names"] = frame.attrs.get("source_names", {})
    return _finish(out, name)


def normalize_reps(raw: pd.DataFrame, name: str, problems: ProblemList) -> pd.DataFrame:
    """Canonical reps frame from text cells; problems collected, never raised here."""
    frame = canonical_columns(_numbered(raw), REP_ALIASES, name, problems)
    _require(frame, "rep_id", REP_ALIASES, name, problems)
    out = pd.DataFrame(index=frame.index)
    out["rep_id"] = _ids(frame, "rep_id", name, problems, "rep_id")
    out["name"] = parse_text(frame, "name", blank_is_none=False)
    lat, lon, _, postal = _coordinates(frame, name, problems, "rep")
    out["lat"], out["lon"], out["postal_code"] = lat, lon, postal.astype(object)
    out["capacity"] = parse_number(
        frame, "capacity", name, problems, default=1.0, minimum=0.0, strictly_positive=True
    )
    out["segment"] = parse_text(frame, "segment")
    out["region_id"] = parse_text(frame, "region_id")
    status = parse_text(frame, "status").fillna("active").astype(str).str.lower()
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


def frame_as_text(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """An in-memory frame as text cells, so it meets the same checks as a file."""

    def cell(value) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            if math.isnan(value):
                return ""
            return repr(value)
        if isinstance(value, (bool, np.bool_)):
            return "true" if value else "false"
        return str(value)

    text = frame.copy()
    text.columns = [str(c) for c in text.columns]
    text = text.astype(object).map(cell)
    text.index = range(2, len(text) + 2)  # row numbers as if the frame were a CSV file
    return _with_header(text, list(text.columns), name, ProblemList())


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
