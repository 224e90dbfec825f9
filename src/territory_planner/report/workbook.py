"""Formatted Excel workbooks (XlsxWriter): one sheet per table, readable as handed on.

:func:`write_workbook` takes a list of :class:`Sheet` specs and writes an .xlsx file that
opens in Excel and LibreOffice: numbers as real numbers with a number format per column
(thousands separators, percentages for deviations and shares, one decimal for kilometres),
a bold frozen header row, an autofilter over the table, column widths that fit the content,
and the cells a :class:`Sheet`'s ``highlight`` rule picks filled in red.

:func:`read_table` reads a CSV written by the engine back into typed columns (numbers,
booleans, text) without turning IDs or postal codes into numbers, so any folder's tables
can be turned into sheets (see :mod:`territory_planner.report.plan_workbook`).

Spreadsheet injection: no cell is ever written as a formula (XlsxWriter's string-to-formula
conversion is off and text goes through ``write_string``); text that a spreadsheet would
run (starting with = + - @) also carries Excel's quote prefix, the marker a user's own
``'=...`` entry gets, so it stays text if the cell is edited and re-entered.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from territory_planner.plan import restore_formulas

__all__ = [
    "Sheet",
    "write_workbook",
    "read_table",
    "column_format",
    "band_rule",
    "COUNT",
    "NUMBER",
    "DECIMAL",
    "ONE_DECIMAL",
    "KM",
    "PERCENT",
    "SIGNED_PERCENT",
    "HIGHLIGHT_FILL",
]

COUNT = "#,##0"
NUMBER = "#,##0"
DECIMAL = "#,##0.00"
ONE_DECIMAL = "#,##0.0"
BOOLEAN = '"TRUE";"TRUE";"FALSE"'
KM = "#,##0.0"
PERCENT = "0.0%"
SIGNED_PERCENT = "+0.0%;-0.0%;0.0%"
HIGHLIGHT_FILL = "#FFC7CE"  # Excel's own "bad" cell style: light red fill, dark red text
HIGHLIGHT_FONT = "#9C0006"
HEADER_FILL = "#DDEBF7"
FIXED_CREATED = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)

MIN_WIDTH, MAX_WIDTH = 6.0, 60.0
PRINT_FIT_WIDTH = 200.0  # total column width (characters) still readable on one landscape page
_WIDTH_SAMPLE = 2000  # rows measured for column widths: enough to see the long values
_FORMULA_START = ("=", "+", "-", "@")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
#: names of text columns by their last word, however the words are joined: 'rep_id', and the
#: labels CRM report exports write ('Record ID', 'Company owner ID', 'Organization - ID')
_TEXT_NAME = re.compile(
    r"(^|[^0-9a-z])(id|ids|code|zip|postal|phone|name|status|segment|unit|level|metric|reason"
    r"|rule|owner)$"
    r"|postal|zip|^(from|to)_rep$|^rep_[ab]$"
)
#: a double holds 15 significant digits: a longer run of digits (an 18-digit HubSpot record
#: ID) as a number would come back as another number
_TOO_LONG_FOR_A_NUMBER = re.compile(r"^[+-]?\d{16,}$")

HighlightRule = Callable[[int, str, Any], bool]


@dataclass
class Sheet:
    """One sheet: a table and how to show it.

    ``formats``: Excel number format per column (others are inferred by
    :func:`column_format`); ``text``: columns written as text whatever they hold;
    ``row_formats``: a number format per row for a key/value sheet (used where a column has
    no format of its own); ``highlight(row position, column, value)``: True fills the cell
    red; ``widths``: column widths that override the fitted ones.
    """

    name: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    text: frozenset[str] = frozenset()
    row_formats: Sequence[str | None] | None = None
    highlight: HighlightRule | None = None
    widths: dict[str, float] = field(default_factory=dict)


def band_rule(bands: dict[str, float]) -> HighlightRule:
    """Highlight a cell of a column in ``bands`` whose absolute value is outside the band:
    ``|value| > tolerance`` (with the 1e-6 slack the KPIs use for "within band")."""

    def outside(_row: int, column: str, value: Any) -> bool:
        tolerance = bands.get(column)
        if tolerance is None or not _is_number(value):
            return False
        return abs(float(value)) > float(tolerance) + 1e-6

    return outside


# --------------------------------------------------------------------------- reading


def _typed(series: pd.Series, name: str) -> pd.Series:
    """A text column from a CSV as numbers or booleans where every value is one."""
    text = series.astype(object).where(series.astype(str).str.len() > 0, None)
    values = text.dropna().astype(str)
    if values.empty or _TEXT_NAME.search(str(name).lower()) or str(name).endswith("Id"):
        return text
    if values.isin(["True", "False"]).all():
        return text.map({"True": True, "False": False, None: None})
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any() or values.str.match(_LEADING_ZERO).any():
        return text
    if values.str.match(_TOO_LONG_FOR_A_NUMBER).any():
        return text
    out = pd.to_numeric(text, errors="coerce")
    whole = np.isfinite(numbers).all() and (numbers == np.round(numbers)).all()
    if whole and not values.str.contains(r"[.eE]").any():
        return out.astype("Int64")
    return out.astype(float)


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV written by the engine, typed for a sheet: IDs, codes and names stay text
    (leading zeros kept), numbers become numbers, ``True``/``False`` booleans; the
    formula guard of the CSV writer is undone (the workbook has its own)."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    raw = restore_formulas(raw)
    return pd.DataFrame({c: _typed(raw[c], c) for c in raw.columns}, columns=raw.columns)


# --------------------------------------------------------------------------- formats


def _is_number(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)) or value is None or value is pd.NA:
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return math.isfinite(float(value))
    return False


def column_format(name: str, series: pd.Series) -> str | None:
    """The number format a column's name and values call for (None for text)."""
    if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
        return None  # before any conversion: coercing a text column cell by cell is slow
    numeric = pd.to_numeric(series, errors="coerce")
    low = str(name).lower()
    if "deviation" in low or low.endswith(("growth", "delta_share")):
        return SIGNED_PERCENT
    share = low.endswith("share") and not low.startswith("fair")  # fair_share is money
    if share or low.endswith(("gap", "tolerance", "gap_to_bound")):
        return PERCENT
    if low.endswith("_km") or low == "km":
        return KM
    finite = numeric[np.isfinite(numeric)]
    if len(finite) and (finite == np.round(finite)).all():
        return COUNT
    # thousands and up read without decimals (money, travel): the cell keeps them all
    if len(finite) and float(np.median(np.abs(finite))) >= 1000:
        return NUMBER
    if len(finite) and (np.abs(finite * 10 - np.round(finite * 10)) < 1e-6).all():
        return ONE_DECIMAL
    return DECIMAL


def _display(value: Any, num_format: str | None) -> str:
    """Roughly what a cell shows, to size its column."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if _is_number(value):
        v = float(value)
        if num_format in (PERCENT, SIGNED_PERCENT):
            return f"{v * 100:+,.1f}%"
        if num_format in (KM, ONE_DECIMAL):
            return f"{v:,.1f}"
        if num_format == DECIMAL:
            return f"{v:,.2f}"
        return f"{v:,.0f}" if num_format == COUNT else f"{v:,.6g}"
    return str(value)


def _widths(sheet: Sheet, formats: list[str | None]) -> list[float]:
    head = sheet.frame.head(_WIDTH_SAMPLE)
    rows = sheet.row_formats or []
    widths = []
    for k, column in enumerate(sheet.frame.columns):
        if column in sheet.widths:
            widths.append(float(sheet.widths[column]))
            continue
        longest = len(str(column)) + 3  # room for the autofilter's button
        for i, value in enumerate(head[column].tolist()):
            fmt = formats[k] or (rows[i] if i < len(rows) else None)
            text = _display(value, fmt)
            longest = max(longest, max((len(line) for line in text.split("\n")), default=0))
        widths.append(min(MAX_WIDTH, max(MIN_WIDTH, longest * 1.1 + 2)))
    return widths


# --------------------------------------------------------------------------- writing


class _Formats:
    """XlsxWriter formats, made once per combination and reused (a workbook allows ~64k)."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.cache: dict[tuple, Any] = {}

    def get(self, num_format: str | None, bad: bool = False, quoted: bool = False):
        key = (num_format, bad, quoted)
        if key not in self.cache:
            spec: dict[str, Any] = {}
            if num_format:
                spec["num_format"] = num_format
            if bad:
                spec.update(bg_color=HIGHLIGHT_FILL, font_color=HIGHLIGHT_FONT, pattern=1)
            if quoted:
                spec["quote_prefix"] = True
            self.cache[key] = self.book.add_format(spec) if spec else None
        return self.cache[key]


def _write_cell(ws, formats: _Formats, row: int, col: int, value: Any, fmt, bad: bool) -> None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        if bad:
            ws.write_blank(row, col, None, formats.get(fmt, bad))
        return
    if isinstance(value, (bool, np.bool_)):
        # an explicit boolean format: LibreOffice otherwise shows some booleans as 0 / 1
        ws.write_boolean(row, col, bool(value), formats.get(BOOLEAN, bad))
    elif _is_number(value):
        ws.write_number(row, col, float(value), formats.get(fmt, bad))
    elif isinstance(value, (float, np.floating)):  # inf: no number Excel can hold
        ws.write_string(row, col, "inf" if value > 0 else "-inf", formats.get(None, bad))
    else:
        text = str(value)
        quoted = text.startswith(_FORMULA_START)
        ws.write_string(row, col, text, formats.get(None, bad, quoted))


def _cells(series: pd.Series) -> list[Any]:
    """A column's values as plain Python objects, blanks (NaN, NA, None) as None."""
    values = series.astype(object).tolist()
    missing = series.isna().to_numpy()
    return [None if gone else v for v, gone in zip(values, missing)]


def _write_column(ws, formats: _Formats, sheet: Sheet, k: int, series: pd.Series, fmt) -> None:
    """One column, top to bottom. A plain numeric column with no highlight rule and no row
    formats takes the short path (one format, numbers only): most cells of a big plan."""
    name = str(series.name)
    values = _cells(series)
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if numeric and sheet.highlight is None and not sheet.row_formats:
        number_format = formats.get(fmt)
        for i, value in enumerate(values):
            if value is not None and math.isfinite(value):
                ws.write_number(i + 1, k, value, number_format)
            elif value is not None:  # inf: no number Excel can hold
                ws.write_string(i + 1, k, "inf" if value > 0 else "-inf")
        return
    rows = sheet.row_formats or []
    rule = sheet.highlight
    is_text = series.name in sheet.text
    if rule is None and (is_text or not rows):
        _write_plain_column(ws, formats, k, values, fmt)
        return
    for i, value in enumerate(values):
        row_fmt = rows[i] if i < len(rows) and not is_text else None
        bad = bool(rule(i, name, value)) if rule is not None else False
        _write_cell(ws, formats, i + 1, k, value, fmt or row_fmt, bad)


def _write_plain_column(ws, formats: _Formats, k: int, values: list[Any], fmt) -> None:
    """A column no rule highlights and no row format touches (text, IDs, flags: most cells
    of a big plan besides the numbers): _write_cell's choices with bad=False, the formats
    looked up once instead of per cell (a 100,000-account plan writes 1.5 million cells)."""
    text_format, quoted_format = formats.get(None), formats.get(None, False, True)
    number_format, boolean_format = formats.get(fmt), formats.get(BOOLEAN)
    for i, value in enumerate(values, start=1):
        if value is None:
            continue
        if type(value) is str:
            quoted = value.startswith(_FORMULA_START)
            ws.write_string(i, k, value, quoted_format if quoted else text_format)
        elif isinstance(value, (bool, np.bool_)):
            ws.write_boolean(i, k, bool(value), boolean_format)
        elif _is_number(value):
            ws.write_number(i, k, float(value), number_format)
        elif isinstance(value, (float, np.floating)):
            if not math.isnan(value):  # inf: no number Excel can hold
                ws.write_string(i, k, "inf" if value > 0 else "-inf", text_format)
        else:
            text = str(value)
            quoted = text.startswith(_FORMULA_START)
            ws.write_string(i, k, text, quoted_format if quoted else text_format)


def _write_sheet(book: xlsxwriter.Workbook, formats: _Formats, sheet: Sheet) -> None:
    ws = book.add_worksheet(sheet.name)
    frame = sheet.frame
    columns = [str(c) for c in frame.columns]
    col_formats = [
        None if c in sheet.text else sheet.formats.get(c, column_format(c, frame[c]))
        for c in frame.columns
    ]
    header_spec = {"bold": True, "bg_color": HEADER_FILL, "bottom": 1, "pattern": 1}
    header = book.add_format(header_spec)
    quoted_header = book.add_format({**header_spec, "quote_prefix": True})
    for k, name in enumerate(columns):
        ws.write_string(0, k, name, quoted_header if name.startswith(_FORMULA_START) else header)
    for k, column in enumerate(frame.columns):
        _write_column(ws, formats, sheet, k, frame[column], col_formats[k])
    widths = _widths(sheet, col_formats)
    for k, width in enumerate(widths):
        ws.set_column(k, k, width)
    ws.freeze_panes(1, 0)
    # printed or saved as PDF: landscape, the header on every page, and one page wide
    # where that keeps the type readable
    ws.set_landscape()
    ws.repeat_rows(0)
    if sum(widths) <= PRINT_FIT_WIDTH:
        ws.fit_to_pages(1, 0)
    if columns:
        ws.autofilter(0, 0, max(len(frame), 1), len(columns) - 1)


def write_workbook(path: str | Path, sheets: Sequence[Sheet], title: str | None = None) -> Path:
    """Write ``sheets`` (in order) as one .xlsx workbook at ``path``; returns the path.
    ``title`` goes into the document properties."""
    path = Path(path)
    book = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    # a fixed creation date: the same inputs give the same file byte for byte
    book.set_properties({"created": FIXED_CREATED, **({"title": title} if title else {})})
    formats = _Formats(book)
    for sheet in sheets:
        _write_sheet(book, formats, sheet)
    book.close()
    return path
