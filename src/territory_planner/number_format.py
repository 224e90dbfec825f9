"""Number cells written in any common locale, read with one decimal mark per column.

Spreadsheet exports write numbers as their locale does: ``1,234,567.89`` in the US and UK,
``1.234.567,89`` in most of Europe, ``1 234 567,89`` (space or non-breaking space) in France
and Scandinavia, ``1'234'567.89`` in Switzerland. A cell alone can be ambiguous: ``48.718`` is
forty-eight point seven one eight with a decimal point, forty-eight thousand with a dot
between thousands. Reading each cell by itself would silently scale some values by 1,000, so
the decimal mark is decided once per column from all its cells (docs/design.md, data
contracts):

1. each cell's *shape* (digits folded to ``9``, zero kept as ``0`` because a thousands group
   never starts with one) says whether it reads with a decimal point, a decimal comma, both
   (ambiguous), neither, or the same either way (``1250``, ``1e5``);
2. a column whose own cells show a mark uses it; cells showing both marks are a contradiction
   and an error;
3. a column with only ambiguous cells follows every other indication: the other numeric
   columns of the file and the file's delimiter (a semicolon file is a decimal-comma export, a
   comma file a decimal-point one); when those disagree or are absent it is an error naming
   the cells, never a guess.

Accountants' negatives, '(1,234)' and SAP's '1234-', become '-1,234' before shaping
(:func:`prepared`), so a negative potential is refused as negative, not as text; cells
that are no number but something a spreadsheet writes (an Excel error value, '1.2K', '12%',
a dash) are named as such (:func:`not_a_number`, DASHES) so the planner knows what to fix.

Cells are classified by their distinct shapes (a million coordinates have a few hundred), so
reading stays vectorised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

POINT, COMMA = ".", ","
_MARK_WORDS = {POINT: "a decimal point", COMMA: "a decimal comma"}
#: written instead of a number to mean "no value"; read as blank
_BLANK_WORDS = {"", "nan", "na", "n/a", "null", "none"}
_INFINITE_WORDS = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
#: currency signs dropped, the non-breaking spaces and the minus sign (U+2212) of
#: typeset exports normalised, before a cell is shaped or converted
_PRETRANSLATE = str.maketrans(
    {"$": None, "\u20ac": None, "\u00a3": None, "\u00a0": " ", "\u202f": " ", "\u2212": "-"}
)
_PRE_CHARS = "$\u20ac\u00a3\u00a0\u202f\u2212"
_SHAPE = str.maketrans("123456789", "999999999")
#: a whole part: plain digits, or groups of three after a first group not starting with 0
#: ("SEP" is the mark that separates thousands; a space or an apostrophe always may)
_GROUPS = r"(?:[09]+|9[09]{0,2}(?:SEP[09]{3})+|9[09]{0,2}(?: [09]{3})+|9[09]{0,2}(?:'[09]{3})+)"
_EXPONENT = r"(?:[eE][-+]?[09]+)?"


def _number_pattern(decimal: str, group: str) -> re.Pattern:
    whole = _GROUPS.replace("SEP", re.escape(group))
    mark = re.escape(decimal)
    return re.compile(
        rf"[-+]?(?:{whole}(?:{mark}[09]*)?|{mark}[09]+){_EXPONENT}",
    )


_VALID = {POINT: _number_pattern(POINT, COMMA), COMMA: _number_pattern(COMMA, POINT)}

# kinds of cell, by shape
BLANK, PLAIN, READS_POINT, READS_COMMA, EITHER, INVALID = range(6)


@lru_cache(maxsize=65536)
def shape_kind(shape: str) -> int:
    """What a cell of this shape says about the decimal mark (one of the kinds above)."""
    lowered = shape.lower()
    if lowered in _BLANK_WORDS:
        return BLANK
    if lowered in _INFINITE_WORDS:
        return PLAIN
    point = _VALID[POINT].fullmatch(shape) is not None
    comma = _VALID[COMMA].fullmatch(shape) is not None
    if point and comma:
        return EITHER if ("." in shape or "," in shape) else PLAIN
    if point:
        return READS_POINT
    if comma:
        return READS_COMMA
    return INVALID


#: an ISO 4217 currency code before or after the number, as multi-currency CRM exports
#: write money ("USD 1,250.00", "1.250,00 EUR")
_CURRENCY_CODE = re.compile(r"^\s*([A-Z]{3})\s?(?=[-+.,\d])|(?<=[.,\d])\s?([A-Z]{3})\s*$")
_ANY_CODE = re.compile(r"[A-Z]{3}")


#: a negative number as accountants write it: in parentheses ('(1,234)', '($1,234.00)')
#: or with a trailing minus (SAP's '1234-'); read as the negative number it is
_ACCOUNTING_NEGATIVE = re.compile(r"\(\s*([\d.,' ]*\d[\d.,' ]*)\s*\)|([\d.,' ]*\d[\d.,']*)-")


def prepared(cells: list[str]) -> list[str]:
    """Cells with currency signs and currency codes dropped, typeset spaces and minus
    normalised, and accounting negatives written with a leading minus."""
    joined = "\x00".join(cells)
    if _ANY_CODE.search(joined):
        cells = [_CURRENCY_CODE.sub("", cell) for cell in cells]
    if any(char in joined for char in _PRE_CHARS):
        # a sign written apart from its number ('1.234,56 \u20ac', '$ 3,000', the padded
        # accounting format) leaves a space at the end its removal opens: stripped
        cells = [cell.translate(_PRETRANSLATE).strip() for cell in cells]
    if "(" in joined or "-\x00" in joined or joined.endswith("-"):
        cells = [_as_leading_minus(cell) for cell in cells]
    return cells


def _as_leading_minus(cell: str) -> str:
    found = _ACCOUNTING_NEGATIVE.fullmatch(cell)
    if found is None:
        return cell
    return "-" + (found.group(1) or found.group(2)).strip()


def written_as_accounting_negative(cell: str) -> bool:
    """Whether a cell as written (not ``prepared``) is an accounting negative."""
    return prepared([cell])[0].startswith("-") and ("(" in cell or cell.endswith("-"))


#: a dash alone: Excel's accounting format writes a zero so ('$ -'), and reports write it
#: for "no value"; only where both readings give the same number is it read
DASHES = frozenset({"-", "--", "\u2013", "\u2014", "\u2012", "\u2015"})
_EXCEL_ERROR = re.compile(
    r"#(?:N/A|DIV/0!|VALUE!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!|FIELD!|GETTING_DATA)",
    re.IGNORECASE,
)
_ABBREVIATED = re.compile(r"[-+]?\d[\d.,' ]*\s?(?:k|m|mm|mn|b|bn)", re.IGNORECASE)
_PERCENT = re.compile(r"[-+]?[\d.,' ]*\d[\d.,' ]*\s?%")


def without_percent(cells: list[str]) -> tuple[list[str], np.ndarray]:
    """Cells written as percentages ('50%', '12,5 %') without their sign, and which they
    were: for a column that is a share (a rep's capacity, 50% of a full territory), where
    the caller divides those by 100."""
    if "%" not in "\x00".join(cells):
        return cells, np.zeros(len(cells), dtype=bool)
    percent = np.array([_PERCENT.fullmatch(cell) is not None for cell in cells], dtype=bool)
    return [c.rstrip().rstrip("%").rstrip() if p else c for c, p in zip(cells, percent)], percent


def not_a_number(cell: str, column: str) -> tuple[str, str | None]:
    """Why a cell (``prepared``) that reads as no number is refused, and the fix: the
    common ways a spreadsheet or CRM writes something that is not a plain number get their
    own words, the rest 'is not a number'."""
    if _EXCEL_ERROR.fullmatch(cell):
        return (
            "is an Excel error value (a formula that failed), not a number",
            "correct the formula in the sheet it was exported from, or enter the value",
        )
    if _ABBREVIATED.fullmatch(cell):
        return (
            "is abbreviated with a K/M/B suffix: the full number is needed (the suffix "
            "rounds it, and M means a thousand in some ledgers)",
            "write the whole number, e.g. 1200 for 1.2K",
        )
    if _PERCENT.fullmatch(cell):
        return (
            f"is a percentage, but {column} is an amount",
            "write the amount itself, or 0.12 for 12% if a share is really meant",
        )
    return "is not a number", None


def currency_codes(cells: list[str]) -> list[str]:
    """The distinct currency codes the cells are written with, sorted (money in one column
    must be in one currency: its sums would mean nothing otherwise)."""
    joined = "\x00".join(cells)
    if not _ANY_CODE.search(joined):
        return []
    found = set()
    for cell in cells:
        match = _CURRENCY_CODE.search(cell)
        if match:
            found.add(match.group(1) or match.group(2))
    return sorted(found)


def cell_kinds(cells: list[str]) -> np.ndarray:
    """The kind of every cell (``cells`` already :func:`prepared`), as an int8 array."""
    if not cells:
        return np.zeros(0, dtype=np.int8)
    # one translate over the joined column instead of one call per cell (NUL never occurs
    # in a shape that matters: a cell holding it is invalid either way)
    shapes = "\x00".join(cells).translate(_SHAPE).split("\x00")
    if len(shapes) != len(cells):
        shapes = [cell.translate(_SHAPE) for cell in cells]
    codes, distinct = pd.factorize(np.asarray(shapes, dtype=object))
    kinds = np.array([shape_kind(shape) for shape in distinct], dtype=np.int8)
    return kinds[codes]


@dataclass(frozen=True)
class Evidence:
    """What one column's cells say: row positions of each kind that matters."""

    column: str
    point: np.ndarray
    comma: np.ndarray
    either: np.ndarray

    @classmethod
    def of(cls, column: str, kinds: np.ndarray) -> Evidence:
        return cls(
            column,
            np.flatnonzero(kinds == READS_POINT),
            np.flatnonzero(kinds == READS_COMMA),
            np.flatnonzero(kinds == EITHER),
        )

    @property
    def own_mark(self) -> str | None:
        """The mark this column's cells show by themselves (None: none, or both)."""
        if len(self.point) and not len(self.comma):
            return POINT
        if len(self.comma) and not len(self.point):
            return COMMA
        return None

    @property
    def contradicts(self) -> bool:
        return bool(len(self.point) and len(self.comma))


@dataclass(frozen=True)
class Decision:
    """The decimal mark of one column and why, for the reader and for ``validate``."""

    mark: str | None  # None: no cell of the column needs a mark
    reason: str
    error: str | None = None  # set when the column cannot be read consistently
    rows: tuple[int, ...] = ()  # spreadsheet rows the error is about


def _examples(cells: list[str], rows: np.ndarray, positions: np.ndarray, count: int = 3) -> str:
    picked = positions[:count]
    text = ", ".join(f"'{cells[p]}' (row {int(rows[p])})" for p in picked)
    more = len(positions) - len(picked)
    return text + (f" and {more} more" if more > 0 else "")


def decide_marks(
    columns: dict[str, list[str]],
    rows: np.ndarray,
    hint: tuple[str, str] | None,
    kinds: dict[str, np.ndarray] | None = None,
) -> dict[str, Decision]:
    """The decimal mark of each numeric column of one file (see the module docstring).

    ``columns`` maps a column name to its :func:`prepared` cells, ``rows`` gives their
    spreadsheet row numbers, ``hint`` is the mark the file's format suggests and why
    (``(",", "the file is semicolon-separated")``) or None; ``kinds`` the columns'
    :func:`cell_kinds` when the caller has them already.
    """
    kinds = kinds or {name: cell_kinds(cells) for name, cells in columns.items()}
    evidence = {name: Evidence.of(name, kinds[name]) for name in columns}
    decisions: dict[str, Decision] = {}
    for name, found in evidence.items():
        cells = columns[name]
        if found.contradicts:
            decisions[name] = Decision(
                mark=POINT if len(found.point) >= len(found.comma) else COMMA,
                reason="",
                error=(
                    "mixes decimal marks: "
                    + _examples(cells, rows, found.point)
                    + " can only be read with a decimal point, but "
                    + _examples(cells, rows, found.comma)
                    + " only with a decimal comma"
                ),
                rows=tuple(int(rows[p]) for p in np.sort(np.r_[found.point, found.comma])[:3]),
            )
        elif found.own_mark is not None:
            sample = found.point if found.own_mark == POINT else found.comma
            decisions[name] = Decision(
                mark=found.own_mark,
                reason=f"{_MARK_WORDS[found.own_mark]}, as in '{cells[sample[0]]}' "
                f"(row {int(rows[sample[0]])})",
            )
    for name, found in evidence.items():
        if name in decisions:
            continue
        if not len(found.either):
            decisions[name] = Decision(mark=None, reason="whole numbers only")
            continue
        votes = {
            other: decision.mark
            for other, decision in decisions.items()
            if decision.error is None and decision.mark is not None and other != name
        }
        indications = [
            f"column '{other}' uses {_MARK_WORDS[mark]}" for other, mark in votes.items()
        ]
        marks = set(votes.values())
        if hint is not None:
            marks.add(hint[0])
            indications.append(f"{hint[1]} ({_MARK_WORDS[hint[0]]})")
        decisions[name] = _follow(name, columns[name], rows, found, marks, indications)
    return decisions


def _follow(
    name: str,
    cells: list[str],
    rows: np.ndarray,
    found: Evidence,
    marks: set[str],
    indications: list[str],
) -> Decision:
    """The decision for a column whose cells are all ambiguous: the file's indications."""
    first = cells[found.either[0]]
    if len(marks) == 1:
        mark = marks.pop()
        return Decision(mark=mark, reason=f"{_MARK_WORDS[mark]}: " + "; ".join(indications))
    readings = _readings(first)
    why = (
        "the file's indications disagree: " + "; ".join(indications)
        if indications
        else "no other cell or column of the file settles it"
    )
    return Decision(
        mark=None,
        reason="",
        error=f"cannot tell the decimal mark: {_examples(cells, rows, found.either)} "
        f"read as {readings[POINT]} with a decimal point or as {readings[COMMA]} with a "
        f"decimal comma, and {why}",
        rows=tuple(int(rows[p]) for p in found.either[:3]),
    )


def _readings(cell: str) -> dict[str, str]:
    """An ambiguous cell's value under each mark, written without separators."""
    return {mark: f"{float(to_float_text(cell, mark)):.12g}" for mark in (POINT, COMMA)}


def to_float_text(cell: str, mark: str) -> str:
    """A cell valid under ``mark`` as text ``float()`` reads (group separators dropped)."""
    if mark == POINT:
        return cell.replace(",", "").replace(" ", "").replace("'", "")
    return cell.replace(".", "").replace(" ", "").replace("'", "").replace(",", ".")


def convert(cells: list[str], kinds: np.ndarray, mark: str | None, *, each_own: bool = False):
    """Float value of every cell readable under ``mark``; NaN elsewhere (blank, invalid).

    ``mark`` None reads only the cells that need no mark. With ``each_own`` (a column whose
    marks contradict each other, already an error) a cell that shows a mark is read by it,
    so the error is not followed by spurious ones.
    """
    values = np.full(len(cells), np.nan)
    array = np.asarray(cells, dtype=object)
    readable = kinds == PLAIN
    if mark is not None:
        readable |= kinds == EITHER
        readable |= kinds == (READS_POINT if mark == POINT else READS_COMMA)
    if each_own:
        for own, kind in ((POINT, READS_POINT), (COMMA, READS_COMMA)):
            positions = np.flatnonzero(kinds == kind)
            values[positions] = _floats(array[positions], own)
    positions = np.flatnonzero(readable)
    values[positions] = _floats(array[positions], mark or POINT)
    return values


def _floats(cells: np.ndarray, mark: str) -> np.ndarray:
    """Cells valid under ``mark`` as floats: separators dropped on the joined column."""
    if not len(cells):
        return np.zeros(0)
    joined = "\x00".join(cells.tolist())
    if mark == POINT and not any(separator in joined for separator in ", '"):
        return cells.astype(float)  # already what float() reads, cell by cell in C
    texts = to_float_text(joined, mark).split("\x00")
    if len(texts) != len(cells):  # a NUL inside a cell: one by one
        texts = [to_float_text(cell, mark) for cell in cells.tolist()]
    return np.array(texts, dtype=float)


def tolerance_percent(fraction: float) -> str:
    """A tolerance as a percent with every digit it has: 0.125 -> '12.5%', 0.05 -> '5%'.

    ``:.0%`` wrote a 2.5% band as '2%' and a 12.5% one as '12%', so a plan 12.19% off its
    target read as outside a band it holds."""
    return f"{float(fraction) * 100:.6g}%"


def mark_words(mark: str | None) -> str:
    return _MARK_WORDS.get(mark, "no decimals")


def example_number(mark: str | None) -> str:
    return "1250,5" if mark == COMMA else "1250.5"


__all__ = [
    "POINT",
    "COMMA",
    "Decision",
    "cell_kinds",
    "convert",
    "decide_marks",
    "prepared",
    "currency_codes",
    "DASHES",
    "not_a_number",
    "without_percent",
    "written_as_accounting_negative",
    "shape_kind",
    "tolerance_percent",
]


def money_amount(text: str) -> float:
    """One amount of money written as a planner types it: ``$67,000,000``, ``USD 67,000,000.00``,
    ``67.000.000,00 EUR``, ``67000000``, ``6.7e7``.

    The same reading as a number column's cells (currency signs and codes dropped, thousands
    groups by their shape), decided on the one value: a value that reads two ways
    (``67,000``: sixty-seven thousand, or 67 with a decimal comma) is refused rather than
    read with a silent factor of 1,000. Raises ValueError saying how to write it.
    """
    cell = prepared([str(text).strip()])[0]
    kind = shape_kind(cell.translate(_SHAPE))
    if kind == PLAIN:
        return float(to_float_text(cell, POINT))
    if kind == READS_POINT:
        return float(to_float_text(cell, POINT))
    if kind == READS_COMMA:
        return float(to_float_text(cell, COMMA))
    if kind == EITHER:
        readings = _readings(cell)
        raise ValueError(
            f"'{text}' reads as {readings[POINT]} with a thousands comma and as "
            f"{readings[COMMA]} with a decimal comma; write it without the ambiguity, e.g. "
            f"{readings[POINT]} or {readings[POINT]}.00"
        )
    raise ValueError(
        f"'{text}' is not an amount; write e.g. 67000000, 67,000,000.00 or $67,000,000"
    )
