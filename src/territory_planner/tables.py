"""Data files as text cells: CSV (any of four delimiters, UTF-8 or UTF-16) and XLSX.

The first step of reading (data.py does the rest): bytes -> a DataFrame of stripped text
cells indexed by the row number a spreadsheet shows (header = row 1), with the file's name,
row numbers and decimal-mark hint in ``attrs``. Problems are collected, never raised.
Column-wise throughout, so a million-row export costs a few vectorised passes.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ProblemList
from .number_format import POINT
from .report_framing import footer_note, report_footer_start, table_header_row, title_note


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


class SharedValue:
    """A value kept in ``DataFrame.attrs`` that pandas copies as itself (see RowNumbers):
    large per-column caches ride along with a frame without being deep-copied on every
    column access. Equal only to itself."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __deepcopy__(self, memo) -> SharedValue:
        return self

    def __eq__(self, other) -> bool:
        return other is self

    __hash__ = object.__hash__


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
    delimiter = sniff_delimiter(_first_filled_line(text))
    csv.field_size_limit(1 << 24)  # a long free-text cell is not an error; 16 MB still is
    collecting = gc.isenabled()
    # a million rows are a million lists: with the cyclic collector on, every few thousand
    # allocations rescans all of them and reading slows down several times over
    gc.disable()
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        del text
        frame = _frame_from_records(rows, name, problems)
        del rows
    except csv.Error as error:
        problems.add(
            name,
            f"is not valid CSV ({error})",
            fix="check quoting: a value with a delimiter or quote needs double quotes",
        )
        return None
    finally:
        if collecting:
            gc.enable()
    if frame is None:
        problems.add(name, "the file is empty", fix="export it again with a header row")
        return None
    frame.attrs["decimal_hint"] = _DELIMITER_HINTS.get(delimiter)
    return frame


#: the decimal mark a delimiter implies: a semicolon file is a decimal-comma export (the
#: comma is taken), a comma file a decimal-point one; tab and | say nothing
_DELIMITER_HINTS = {
    ";": (",", "the file is semicolon-separated"),
    ",": (".", "the file is comma-separated"),
}


#: a workbook's number cells reach us as Python writes floats, with a decimal point
_WORKBOOK_HINT = (POINT, "the workbook stores numbers, written with a decimal point")


def _first_filled_line(text: str) -> str:
    """The first line holding anything but whitespace (the header), without splitting all."""
    found = re.search(r"^[^\r\n]*\S[^\r\n]*", text, flags=re.MULTILINE)
    return found.group(0) if found else ""


def _frame_from_records(rows: list[list[str]], name: str, problems: ProblemList):
    """Parsed CSV records -> text cells indexed by record number (header = row 1).

    Only the records whose width differs from the header's are looked at one by one (a
    blank line, a stray trailing cell, a damaged row); the rest go column-wise, so a
    million-row file costs a few vectorised passes. None when no record holds anything.
    """
    first = next((i for i, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    if first is None:
        return None
    footer = report_footer_start(rows)
    notes = [] if footer is None else [footer_note(name, rows, footer)]
    if footer is not None:
        rows = rows[:footer]
    header_at = table_header_row(rows, first)
    if header_at != first:
        notes.append(title_note(name, rows, first, header_at))
        first = header_at
    header = [h.strip() for h in rows[first]]
    width = len(header)
    body = rows[first + 1 :]
    numbers = np.arange(first + 2, len(rows) + 1, dtype=np.int64)
    widths = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    keep = np.ones(len(body), dtype=bool)
    for k in np.flatnonzero(widths != width).tolist():
        row = body[k]
        if not any(cell.strip() for cell in row):
            keep[k] = False
            body[k] = [""] * width  # zip(*body) stops at the shortest record
            continue
        if len(row) > width and not any(cell.strip() for cell in row[width:]):
            body[k] = row[:width]
            continue
        problems.add(
            name,
            f"has {len(row)} cells where the header has {width}",
            row=int(numbers[k]),
            fix="check for an unquoted delimiter inside a value",
        )
        body[k] = (row + [""] * width)[:width]
    columns = [_stripped(_object_array(column, len(body))) for column in zip(*body)]
    if not body:
        columns = [np.empty(0, dtype=object) for _ in range(width)]
    del body
    blank = np.ones(len(keep), dtype=bool)
    for column in columns:
        blank &= column == ""
    keep &= ~blank
    frame = pd.DataFrame(
        {position: column[keep] for position, column in enumerate(columns)},
        index=pd.Index(numbers[keep]),
        columns=range(width),
        dtype=object,
    )
    frame = _with_header(frame, header, name, problems, stripped=True)
    frame.attrs["notes"] = notes
    return frame


def _object_array(values, count: int) -> np.ndarray:
    array = np.empty(count, dtype=object)
    array[:] = values
    return array


_WHITESPACE = [chr(code) for code in range(0x3001) if chr(code).isspace()]
_EDGE_SPACE = re.compile(r"\x00\s|\s\x00")


def _stripped(values: np.ndarray) -> np.ndarray:
    """Cells without surrounding whitespace; a column that has none is returned as it is.

    Most columns have no such cell, and one joined string searched by the regex engine
    tells in a pass what stripping a million cells one by one would.
    """
    if len(values) == 0:
        return values
    joined = "\x00".join(values.tolist())
    if not any(space in joined for space in _WHITESPACE):
        return values
    if joined and (joined[0].isspace() or joined[-1].isspace() or _EDGE_SPACE.search(joined)):
        return _object_array([value.strip() for value in values.tolist()], len(values))
    return values


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


def sniff_delimiter(header_line: str) -> str:
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
    if not _workbook_size_is_sane(path, name, problems):
        return None
    try:
        with pd.ExcelFile(path) as book:
            sheet, sheet_note = _data_sheet(book, name)
            frame = pd.read_excel(
                book, sheet_name=sheet, dtype=str, keep_default_na=False, header=None
            )
    except Exception as error:  # openpyxl/zipfile raise many types for damaged files
        problems.add(
            name,
            f"cannot be read as a spreadsheet ({type(error).__name__}: {error})",
            fix="open it in Excel and save it again as .xlsx, or export CSV UTF-8",
        )
        return None
    frame = frame.fillna("").astype(str)
    frame.index = range(1, len(frame) + 1)
    # the report's framing (title block, footer) is looked for on the rows as Excel shows
    # them, blank ones included, as in a CSV (report_framing.py)
    rows = frame.to_numpy(dtype=object).tolist()
    notes = [] if sheet_note is None else [sheet_note]
    footer = report_footer_start(rows)
    if footer is not None:
        notes.append(footer_note(name, rows, footer))
        frame, rows = frame.iloc[:footer], rows[:footer]
    filled = frame.apply(lambda row: row.str.strip().ne("").any(), axis=1)
    frame = frame[filled] if len(frame) else frame
    if frame.empty:
        problems.add(name, "the file is empty", fix="export it again with a header row")
        return None
    first = int(frame.index[0]) - 1
    header_at = table_header_row(rows, first)
    if header_at != first:
        notes.append(title_note(name, rows, first, header_at))
        frame = frame.loc[header_at + 1 :]
    header = [str(c).strip() for c in frame.iloc[0].tolist()]
    body = frame.iloc[1:]
    while header and not header[-1] and not body.iloc[:, len(header) - 1].str.strip().ne("").any():
        header.pop()  # Excel keeps the width of a once-formatted column
        body = body.iloc[:, : len(header)]
    body = body.copy()
    body.columns = range(len(header))
    frame = _with_header(body, header, name, problems)
    frame.attrs["decimal_hint"] = _WORKBOOK_HINT
    frame.attrs["notes"] = notes
    return frame


def _data_sheet(book: pd.ExcelFile, name: str) -> tuple[int | str, str | None]:
    """The sheet to read, the first visible one, and a note naming it when the workbook
    has others. A hidden sheet is no table a planner sees: CRM exports keep their lookup
    lists in one (Dynamics' 'hiddenSheet'), and reading it instead gave 'required column
    account_id is missing' for a workbook whose only visible sheet was right."""
    sheets = getattr(book.book, "worksheets", None)  # openpyxl; other engines: the first
    if not sheets or len(sheets) == 1:
        return 0, None
    visible = [sheet.title for sheet in sheets if sheet.sheet_state == "visible"]
    if not visible:
        return 0, None
    others = [sheet.title for sheet in sheets if sheet.title != visible[0]]
    hidden = set(sheet.title for sheet in sheets) - set(visible)
    described = "; ".join(
        f"'{title}'" + (" (hidden)" if title in hidden else "") for title in others[:5]
    ) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    return visible[0], (
        f"{Path(name).name}: read the sheet '{visible[0]}', the first visible one; also in "
        f"the workbook: {described}"
    )


def _as_cells(values: pd.Series) -> np.ndarray:
    """A column as an object array of str (a missing value is an empty cell)."""
    array = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(array, skipna=False) in ("string", "empty"):
        return array
    return _object_array(
        ["" if value is None or value != value else str(value) for value in array.tolist()],
        len(array),
    )


#: an .xlsx is a zip of XML; its members' declared sizes bound what unpacking produces
#: (zipfile stops at the declared size), so they are checked before openpyxl opens it.
#: A million-row sheet unpacks to well under 1 GB and compresses about 10:1.
MAX_WORKBOOK_UNPACKED_BYTES = 1 << 30
MAX_WORKBOOK_RATIO = 200
_RATIO_CHECKED_FROM_BYTES = 1 << 24


def _workbook_size_is_sane(path: Path, name: str, problems: ProblemList) -> bool:
    """False (with a problem) for a workbook that would unpack to an absurd size."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return True  # not a zip at all: the spreadsheet reader names the damage
    total = sum(member.file_size for member in members)
    if total > MAX_WORKBOOK_UNPACKED_BYTES:
        problems.add(
            name,
            f"would unpack to {total / 1e9:,.1f} GB (the limit is "
            f"{MAX_WORKBOOK_UNPACKED_BYTES / 1e9:,.1f} GB): refused before opening it",
            fix="export the sheet as CSV UTF-8, or check where the file came from",
        )
        return False
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= _RATIO_CHECKED_FROM_BYTES and ratio > MAX_WORKBOOK_RATIO:
            problems.add(
                name,
                f"part '{member.filename}' would unpack {ratio:,.0f} times its packed size "
                f"({member.file_size / 1e6:,.0f} MB from {member.compress_size / 1e3:,.0f} kB;"
                f" real sheets stay under {MAX_WORKBOOK_RATIO}): refused as a zip bomb",
                fix="export the sheet as CSV UTF-8, or check where the file came from",
            )
            return False
    return True


def _with_header(
    body: pd.DataFrame, header: list[str], name: str, problems: ProblemList, stripped: bool = False
) -> pd.DataFrame:
    """Name the columns (duplicates and unnamed columns with values reported) and make
    every cell stripped text, unless the caller has (``stripped``)."""
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
    if stripped:
        body.attrs["file"] = name
        body.attrs["rows"] = RowNumbers(body.index)
        return body
    body = pd.DataFrame(
        {column: _stripped(_as_cells(body[column])) for column in body.columns},
        index=body.index,
        columns=body.columns,
        dtype=object,
    )
    body.attrs["file"] = name
    body.attrs["rows"] = RowNumbers(body.index)
    return body


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
    frame = _with_header(text, list(text.columns), name, ProblemList())
    frame.attrs["decimal_hint"] = (POINT, "numbers given in memory are written with a point")
    return frame
