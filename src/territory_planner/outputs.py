"""The tables of a plan folder as a planner receives them.

In memory a plan speaks canonical column names (docs/design.md section 2). On disk it speaks the
planner's: assignments.csv carries every column of the accounts file under the file's own
name (``Id``, ``BillingPostalCode``, ``OwnerId`` for a Salesforce export) beside the plan's
columns, owner_changes.csv is a CRM bulk update keyed the way the CRM exported it, and
numbers are rounded per column so no float noise (``-4.4e-05``, ``-0.0``) reaches a
spreadsheet. :func:`assignments_from_file` undoes the renaming when a folder is read back.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .data.columns import ACCOUNT_ALIASES, canonical_columns
from .data.owners import new_owners_as_written, owners_as_written
from .errors import ProblemList

#: the plan's own columns of assignments.csv, after the account ID, in this order
PLAN_COLUMNS = ("rep_id", "rep_name", "previous_rep_id", "moved", "distance_km")
#: canonical account columns assignments.csv carries even when the input had none of them
ALWAYS = ("name", "workload", "potential", "revenue", "region_id")
#: canonical account columns that live in the plan's accounts, not in its assignments
ACCOUNT_ONLY = ("lat", "lon", "postal_code", "current_rep_id", "locked", "segment", "group_id")
COLLISION_PREFIX = "input_"

_MONEY = {"potential", "revenue", "revenue_last_year", "quota", "fair_share", "moved_potential"}
_SEASON = re.compile(r"^(q[1-4]|m(0[1-9]|1[0-2]))$")
_SHARES = {"deviation", "growth", "quota_to_potential", "ramp", "capacity", "gap", "alpha"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def source_names(accounts: pd.DataFrame) -> dict[str, str]:
    """The accounts file's header, in order, each name with the column it became."""
    names = accounts.attrs.get("source_names") or {}
    return {original: column for original, column in names.items() if column in accounts}


def output_names(accounts: pd.DataFrame, extra: list[str]) -> dict[str, tuple[str, str]]:
    """assignments.csv's columns in order: written name -> (source, column), where source
    is ``plan`` (the assignments) or ``input`` (the accounts).

    The account ID comes first under the input's name, then the plan's columns, then every
    other input column under its own name, then ``ALWAYS`` and ``extra`` (passed-through
    columns) that the input did not name. An input column whose name a plan column already
    uses (an accounts file with its own ``rep_id``) is written as ``input_rep_id``; names
    are compared case-insensitively, as the readers compare them.
    """
    names = source_names(accounts)
    id_name = next((o for o, c in names.items() if c == "account_id"), "account_id")
    layout: dict[str, tuple[str, str]] = {id_name: ("plan", "account_id")}
    layout.update({column: ("plan", column) for column in PLAN_COLUMNS})
    taken = {name.lower() for name in layout}

    def free(name: str) -> str:
        while name.lower() in taken:
            name = COLLISION_PREFIX + name
        taken.add(name.lower())
        return name

    given = set()
    for original, column in names.items():
        if column != "account_id":
            layout[free(original)] = ("input", column)
            given.add(column)
    for column in (*ALWAYS, *extra):
        if column not in given and column not in PLAN_COLUMNS and column != "account_id":
            layout[free(column)] = ("plan", column)
            given.add(column)
    return layout


def assignments_table(assignments: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """assignments.csv as written (see :func:`output_names`), rows in the plan's order."""
    extra = [c for c in assignments.columns if c not in (*PLAN_COLUMNS, "account_id")]
    layout = output_names(accounts, extra)
    aligned = accounts.set_index("account_id").reindex(assignments["account_id"])
    columns = {}
    for written, (source, column) in layout.items():
        if source == "input" and column == "current_rep_id":
            # owners the file gave by name are written back as it wrote them
            columns[written] = owners_as_written(aligned[column], accounts).to_numpy()
        elif source == "input":
            columns[written] = aligned[column].to_numpy()
        elif column in assignments.columns:
            columns[written] = assignments[column].to_numpy()
    return pd.DataFrame(columns, index=assignments.index)


def assignments_from_file(frame: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """An assignments.csv read back, under the canonical names the plan uses in memory.

    Input columns that are account attributes (coordinates, owner, lock, segment, group)
    stay in the plan's accounts and are dropped here, as are input columns renamed for a
    collision: their values are the accounts', and the plan's column keeps the name.
    """
    extra = [c for c in frame.columns if c not in PLAN_COLUMNS]
    if next(iter(output_names(accounts, []))) not in frame.columns:
        accounts = _named_as_in(frame, accounts)
    rename, drop = {}, []
    for written, (source, column) in output_names(accounts, extra).items():
        if written not in frame.columns:
            continue
        collided = written != column and written.startswith(COLLISION_PREFIX)
        if source == "input" and (column in ACCOUNT_ONLY or collided):
            drop.append(written)
        else:
            rename[written] = column
    frame = frame.drop(columns=drop).rename(columns=rename)
    first = ["account_id", "rep_id", "previous_rep_id", "moved", "distance_km", "rep_name"]
    first = [c for c in first if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def _named_as_in(frame: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """``accounts`` whose source names are the input columns of ``frame`` as an accounts
    file's header reads (aliases: ``Id``, ``OwnerId``, ``BillingPostalCode``).

    For an assignments.csv whose account ID column is not under the name the plan's inputs
    give it: a re-balanced plan of a CRM export writes its assignments under the export's
    names while its inputs/accounts.csv (the accounts with today's owners changed, written
    from memory) carries the canonical ones."""
    header = [c for c in frame.columns if c not in PLAN_COLUMNS]
    read = canonical_columns(
        pd.DataFrame(columns=header), ACCOUNT_ALIASES, "assignments.csv", ProblemList()
    )
    out = accounts.copy(deep=False)
    out.attrs = {**accounts.attrs, "source_names": read.attrs["source_names"]}
    return out


#: the canonical text columns of assignments.csv, read as text (IDs keep leading zeros)
_TEXT = ("account_id", "rep_id", "rep_name", "previous_rep_id", "region_id", "name")


def assignment_dtypes(accounts: pd.DataFrame) -> dict[str, type]:
    """Columns of assignments.csv to read as text (IDs and names keep leading zeros): the
    text columns under the names the plan's accounts give them, and under the aliases a CRM
    export writes (a re-balanced plan's assignments.csv, see :func:`_named_as_in`)."""
    layout = output_names(accounts, [])
    dtypes = {written: str for written, (_, column) in layout.items() if column in _TEXT}
    for column in ("account_id", "name", "region_id", "current_rep_id", "group_id"):
        dtypes.update({alias: str for alias in ACCOUNT_ALIASES.get(column, ())})
    return dtypes


def owner_changes_table(assignments: pd.DataFrame, accounts: pd.DataFrame) -> pd.DataFrame:
    """owner_changes.csv: the accounts whose owner changes (including accounts with no owner
    today that get one), two columns named as the accounts file names its ID and owner
    columns (``Id,OwnerId`` for a Salesforce export), ready for a CRM bulk update; the new
    owner by name when the file gave every owner by name (``Account Owner``), as an
    18-character ID when it gave every owner so and the reps have 15 (data/owners.py)."""
    names = source_names(accounts)
    id_name = next((o for o, c in names.items() if c == "account_id"), "account_id")
    owner_name = next((o for o, c in names.items() if c == "current_rep_id"), "current_rep_id")
    previous = assignments["previous_rep_id"]
    changed = assignments["rep_id"].notna() & (
        previous.isna() | (previous != assignments["rep_id"])
    )
    rows = assignments[changed]
    # in the kind of value the file gave its owners: names, or the other Salesforce form
    names = rows["rep_name"] if "rep_name" in rows else pd.Series(None, index=rows.index)
    new_owner = new_owners_as_written(rows["rep_id"], names, accounts)
    return pd.DataFrame({id_name: rows["account_id"].to_numpy(), owner_name: new_owner.to_numpy()})


# --------------------------------------------------------------------------- numbers


def decimals_for(column: str) -> int:
    """Decimals a float column is written with: coordinates 6, kilometres and travel 3,
    money (potential, revenue, quotas and their season splits) 2, shares and deviations 6,
    metric loads and targets 3 (2 for money metrics), anything else 6."""
    name = str(column).lower()
    if name in ("lat", "lon") or name.endswith(("_lat", "_lon")):
        return 6
    if name.endswith("km") or name.startswith("travel"):
        return 3
    if name in _MONEY:  # before the suffixes: a fair_share is money, not a share
        return 2
    if name in _SHARES or name.endswith(("_deviation", "_share", "_gap")):
        return 6
    base = re.sub(r"_(load_today|load|target)$", "", name)
    if base in _MONEY or _SEASON.match(name):
        return 2
    if base != name:
        return 3
    return 6


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns rounded per :func:`decimals_for`, ``-0.0`` made ``0.0``; still numbers
    (a workbook writes them as real numbers)."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_float_dtype(series):
            values = np.round(series.to_numpy(dtype=float), decimals_for(column)) + 0.0
            out[column] = values
    return out


def plain_numbers(frame: pd.DataFrame, *, exact: bool = False) -> pd.DataFrame:
    """Float columns as positional text (never ``1e-05``): rounded (unless ``exact``: the
    shortest text that reads back as the same float, for copies of inputs), trailing zeros
    trimmed down to one (``3.0``, ``0.25``), ``-0.0`` as ``0.0``, NaN blank. Integer and
    boolean columns (counts, flags) are written as they are."""
    out = frame.copy() if exact else rounded(frame)
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_float_dtype(series):
            out[column] = [
                ""
                if not np.isfinite(value)
                else np.format_float_positional(value + 0.0, trim="0", unique=True)
                for value in series.to_numpy(dtype=float)
            ]
    return out


# --------------------------------------------------------------------------- safe output


def _runs_as_formula(value) -> bool:
    """Text a spreadsheet could run: starts with = + - @ tab or CR and is not a plain number.

    A passed-through column read as text (``-500``, ``+1.5e3``) is a real number that Excel
    shows as a number and never runs, so it is left alone; ``-1+cmd|...`` is not a number.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return False
    return _PLAIN_NUMBER.fullmatch(value) is None


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe.

    Only text columns are touched: real numbers (including negative ones) stay numbers.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        text = series.astype(object)
        mask = text.map(_runs_as_formula)
        if mask.any():
            out[column] = text.where(~mask, "'" + text.astype(str))
    renamed = {
        c: "'" + c for c in out.columns if isinstance(c, str) and c.startswith(_FORMULA_START)
    }
    return out.rename(columns=renamed)


def restore_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise_formulas` when a plan folder is read back."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype(object)
            mask = text.map(
                lambda v: (
                    isinstance(v, str)
                    and len(v) > 1
                    and v[0] == "'"
                    and v[1:].startswith(_FORMULA_START)
                )
            )
            if mask.any():
                out[column] = text.where(~mask, text.astype(str).str[1:])
    return out.rename(
        columns={
            c: c[1:]
            for c in out.columns
            if isinstance(c, str) and c.startswith("'") and c[1:].startswith(_FORMULA_START)
        }
    )


def write_csv(frame: pd.DataFrame, path: Path, *, exact: bool = False, guard: bool = True) -> None:
    """Deterministic, formula-safe CSV (UTF-8, ``\\n`` line ends, numbers without float
    noise: rounded per column, or, with ``exact``, every digit that makes the float).
    Without ``guard`` text is written as it is: for a copy of an input, which the data
    readers read back as any input (they undo no guard) and which holds what a copied input
    file would.

    A carriage return inside a text cell is written as a line feed: with ``\\n`` line ends
    the csv module does not quote a lone CR, and a reader would split the row there.
    """
    safe = neutralise_formulas(frame) if guard else frame.copy()
    for column in safe.columns:
        if not (
            pd.api.types.is_numeric_dtype(safe[column]) or pd.api.types.is_bool_dtype(safe[column])
        ):
            text = safe[column].astype(object)
            has_cr = text.map(lambda v: isinstance(v, str) and "\r" in v)
            if has_cr.any():
                safe[column] = text.where(
                    ~has_cr,
                    text.astype(str)
                    .str.replace("\r\n", "\n", regex=False)
                    .str.replace("\r", "\n", regex=False),
                )
    plain_numbers(safe, exact=exact).to_csv(path, index=False, lineterminator="\n")
