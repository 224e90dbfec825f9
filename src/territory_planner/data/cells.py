"""Cell parsers: text cells become typed values, each defect reported by spreadsheet row.

Frames being validated are indexed by the row number a spreadsheet shows (header = row 1),
so every problem names the row a planner sees; numbers are read with the decimal mark
number_format.py decides per column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ProblemList
from ..number_format import (
    BLANK,
    DASHES,
    INVALID,
    POINT,
    Decision,
    cell_kinds,
    convert,
    currency_codes,
    decide_marks,
    example_number,
    mark_words,
    not_a_number,
    prepared,
    written_as_accounting_negative,
)
from ..tables import RowNumbers, SharedValue, _as_cells, _stripped

_TRUE = {"true", "t", "yes", "y", "1", "x"}


_FALSE = {"false", "f", "no", "n", "0", ""}


_MAX_ROWS_PER_DEFECT = 25  # beyond this a defect is summarised, so a bad column stays readable


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
    codes = currency_codes(text)
    if len(codes) > 1:
        problems.add(
            name,
            f"the {column} cells are in several currencies ({', '.join(codes)})",
            column=column,
            fix=f"convert every {column} to one currency before planning",
        )
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
    dash = bad_text & pd.Series(cells).isin(DASHES).to_numpy() if bad_text.any() else bad_text
    if default == 0.0 and dash.any():
        # zero in Excel's accounting format, no value (so the default 0) in a report: a dash
        # is 0 either way; where the readings differ it is refused (_report_not_numbers)
        values[dash] = 0.0
        bad_text &= ~dash
        if defaults is not None:
            defaults.append(
                f"{column} 0 for {_count(int(dash.sum()), unit)} whose {column} is a dash "
                "('-': zero in Excel's accounting format, and no value, 0 by default)"
            )
    _report_not_numbers(
        problems,
        name,
        column,
        frame.index,
        (text, cells, bad_text),
        decision,
        default,
        zero_allowed=not strictly_positive and (minimum is None or minimum <= 0),
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
        accounting = np.zeros(len(low), dtype=bool)
        for p in np.flatnonzero(low):
            accounting[p] = written_as_accounting_negative(text[p])
        for rows_of, message in (
            (low & ~accounting, what),
            (
                accounting,
                f"{what}, but accounting notation's parentheses (or trailing minus) make "
                "this negative",
            ),
        ):
            _report_rows(
                problems,
                name,
                _rows(pd.Series(rows_of, index=frame.index)),
                column,
                message,
                values=[text[p] for p in np.flatnonzero(rows_of)[:_MAX_ROWS_PER_DEFECT]],
            )
    if default is not None:
        values = np.where(blank, default, values)
        if defaults is not None and blank.any():
            defaults.append(
                f"{column} {default:g} for {_count(int(blank.sum()), unit)} whose {column} is blank"
            )
    return pd.Series(values, index=frame.index, dtype=float)


def _report_not_numbers(
    problems: ProblemList,
    name: str,
    column: str,
    index: pd.Index,
    column_cells: tuple[list[str], list[str], np.ndarray],
    decision: Decision,
    default: float | None,
    *,
    zero_allowed: bool,
) -> None:
    """The cells that read as no number (``column_cells``: as written, ``prepared``, and
    which), grouped by what they are (an Excel error value, an abbreviation, a percentage,
    a dash, anything else), each group in its own words."""
    text, cells, bad = column_cells
    if not bad.any():
        return
    plain_fix = (
        f"write digits with {mark_words(decision.mark or POINT)}, "
        f"e.g. {example_number(decision.mark)}"
    )
    if default is None:
        dash = (
            "is a dash, which reads as 0 in Excel's accounting format and as no value elsewhere",
            "write the number, or leave the cell blank",
        )
    else:
        dash = (
            "is a dash, which reads as 0 in Excel's accounting format and as no value "
            f"elsewhere (then {column} {default:g}, the default)",
            f"write {'0' if zero_allowed else 'the number'}, or leave the cell blank for "
            f"the default {default:g}",
        )
    reasons: dict[str, tuple[str, str | None]] = {}
    groups: dict[tuple[str, str | None], list[int]] = {}
    for p in np.flatnonzero(bad).tolist():
        cell = cells[p]
        if cell not in reasons:
            reasons[cell] = dash if cell in DASHES else not_a_number(cell, column)
        groups.setdefault(reasons[cell], []).append(p)
    for (message, fix), positions in groups.items():
        _report_rows(
            problems,
            name,
            [int(index[p]) for p in positions],
            column,
            message,
            fix=fix or plain_fix,
            values=[text[p] for p in positions[:_MAX_ROWS_PER_DEFECT]],
        )


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


def case_only_note(ids: pd.Series, column: str, what: str) -> str | None:
    """A note when IDs of a file differ only in case (A1 and a1), else None.

    They are read as two (Salesforce IDs are case-sensitive: 15-character IDs of two records
    may differ only in case), but from a CRM whose IDs ignore case (Dynamics GUIDs) they are
    one record listed twice, which the duplicate check cannot see: validate names the first
    pairs so the planner can tell. ``ids`` is indexed by spreadsheet row."""
    cells = ids[ids.ne("") & ids.notna()].astype(str)
    folded = cells.str.casefold()
    if len(set(folded)) == len(set(cells)):  # the usual case, told by two hash passes
        return None
    # spellings per folded ID: an ID repeated exactly is the duplicate check's, not this
    twins = cells.groupby(folded).transform("nunique") > 1
    if not twins.any():
        return None
    groups = cells[twins].groupby(folded[twins], sort=False)
    shown = [
        " and ".join(f"{value} (row {row})" for row, value in group.items())
        for _, group in list(groups)[:3]
    ]
    more = f" and {groups.ngroups - 3:,} more" if groups.ngroups > 3 else ""
    return (
        f"{column}: {_count(int(twins.sum()), what)} differ from another only in case "
        f"({'; '.join(shown)}{more}): read as different {what}s, as Salesforce IDs are "
        "case-sensitive; if your CRM's IDs ignore case (Dynamics GUIDs), IDs that differ "
        f"only in case are one {what} listed more than once"
    )


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


# the quota table's rep_id is checked by the same rule as the reps file's, written once
unique_ids = _ids
