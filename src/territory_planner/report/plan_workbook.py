"""plan.xlsx: a plan folder's tables as one formatted workbook.

Built from the folder's own files (summary.json and the CSVs), so one function serves every
folder the engine writes: a plan, an evaluation, a re-balance and a comparison. Each part
is read only when present:

* Summary: the headline numbers, today's owners beside the plan when summary.json has a
  ``today`` block (a comparison folder: its kpis.csv, A / B / B - A);
* Territories (territories.csv), Assignments (assignments.csv), Moves (moves.csv, else the
  assignments whose rep changed), Quotas, Regions, Region moves (regions that changed
  hands: a geography-mode re-balance or comparison), Rollups, Trade-off, Rep changes.

Deviations outside their band (the scenario's tolerance, from summary.json) are filled red
in Territories, Rollups and Summary; every rep ID column gets the rep's name beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.data import ACCOUNT_ALIASES, canonical_columns
from territory_planner.errors import ProblemList
from territory_planner.report.workbook import (
    COUNT,
    DECIMAL,
    NUMBER,
    PERCENT,
    Sheet,
    band_rule,
    read_table,
    write_workbook,
)

__all__ = ["plan_sheets", "write_plan_workbook", "WORKBOOK_NAME", "REP_NAME_COLUMNS"]

WORKBOOK_NAME = "plan.xlsx"

#: rep ID columns and the name column put beside each
REP_NAME_COLUMNS = {
    "rep_id": "rep_name",
    "previous_rep_id": "previous_rep_name",
    "current_rep_id": "current_rep_name",
    "from_rep": "from_rep_name",
    "to_rep": "to_rep_name",
    "rep_a": "rep_a_name",
    "rep_b": "rep_b_name",
}
_MOVE_COLUMNS = (
    "account_id",
    "name",
    "previous_rep_id",
    "rep_id",
    "workload",
    "potential",
    "revenue",
    "distance_km",
    "region_id",
)


# --------------------------------------------------------------------------- helpers


def _table(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / name
    return read_table(path) if path.is_file() else None


def _summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _rep_names(*tables: pd.DataFrame | None) -> dict[str, str]:
    names: dict[str, str] = {}
    for table in tables:
        if table is None or "rep_id" not in table.columns or "name" not in table.columns:
            continue
        for rep, name in zip(table["rep_id"], table["name"]):
            if rep is not None and isinstance(name, str) and name and str(rep) not in names:
                names[str(rep)] = name
    return names


def with_rep_names(frame: pd.DataFrame, names: dict[str, str], keep_rep_id: bool = False):
    """``frame`` with a name column right after each rep ID column that lacks one
    (``keep_rep_id``: a rep-level table whose ``name`` already is the rep's)."""
    out = frame.copy()
    for column, name_column in REP_NAME_COLUMNS.items():
        if column not in out.columns or name_column in out.columns:
            continue
        if keep_rep_id and column == "rep_id":
            continue
        position = list(out.columns).index(column) + 1
        text = out[column].map(lambda v: None if v is None or pd.isna(v) else str(v))
        out.insert(position, name_column, text.map(lambda v: names.get(v) if v else None))
    return out


def _tolerances(summary: dict[str, Any]) -> dict[str, float]:
    out = {}
    for metric, numbers in (summary.get("balance") or {}).items():
        if isinstance(numbers, dict) and numbers.get("tolerance") is not None:
            out[str(metric)] = float(numbers["tolerance"])
    return out


def _with_today_deviation(territories: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Today's deviation beside each planned one, where territories carry today's load."""
    out = territories.copy()
    for m in metrics:
        load, target, column = f"{m}_load_today", f"{m}_target", f"{m}_deviation_today"
        if load in out.columns and target in out.columns and column not in out.columns:
            t = pd.to_numeric(out[target], errors="coerce")
            dev = (pd.to_numeric(out[load], errors="coerce") - t) / t.where(t > 0)
            after = [c for c in (load, f"{m}_deviation") if c in out.columns]
            position = max(list(out.columns).index(c) for c in after) + 1
            out.insert(position, column, dev.round(6))
    return out


def _outside(territories: pd.DataFrame | None, metric: str, tolerance: float) -> int | None:
    column = f"{metric}_deviation"
    if territories is None or column not in territories.columns:
        return None
    active = territories
    if "status" in territories.columns:
        active = territories[territories["status"].astype(str) != "leaving"]
    dev = pd.to_numeric(active[column], errors="coerce").abs()
    return int((dev > tolerance + 1e-6).sum())


# --------------------------------------------------------------------------- Summary


class _Rows:
    """Rows of a key/value Summary: (item, plan, today), a number format per row, and the
    cells to highlight."""

    def __init__(self, with_today: bool):
        self.with_today = with_today
        self.rows: list[dict[str, Any]] = []
        self.formats: list[str | None] = []
        self.flags: set[tuple[int, str]] = set()

    def add(self, item, plan=None, today=None, fmt=None, band: float | None = None) -> None:
        row = {"item": item, "plan": plan}
        if self.with_today:
            row["today"] = today
        for column in ("plan", "today"):
            value = row.get(column)
            if band is not None and isinstance(value, (int, float)) and value > band + 1e-6:
                self.flags.add((len(self.rows), column))
            if value is False:  # "within band: False"
                self.flags.add((len(self.rows), column))
        self.rows.append(row)
        self.formats.append(fmt)

    def sheet(self) -> Sheet:
        columns = ["item", "plan", "today"] if self.with_today else ["item", "plan"]
        frame = pd.DataFrame(self.rows, columns=columns).astype(object)
        frame = frame.where(frame.notna(), None)
        flags = self.flags
        return Sheet(
            "Summary",
            frame,
            text=frozenset({"item"}),
            row_formats=self.formats,
            highlight=lambda i, c, _v: (i, c) in flags,
        )


def _broken_text(broken: list) -> str:
    """``R1 +30.0%, R3 -26.0%``: who breaks the band today and by how much."""
    parts = []
    for entry in broken:
        if not isinstance(entry, dict):
            continue
        deviation = entry.get("deviation")
        shown = f" {float(deviation) * 100:+.1f}%" if isinstance(deviation, (int, float)) else ""
        parts.append(f"{entry.get('rep_id')}{shown}")
    return ", ".join(parts)


def _balance_rows(rows: _Rows, summary, today, territories) -> None:
    plan_balance = summary.get("balance") or {}
    today_balance = today.get("balance") or {}
    for metric in dict.fromkeys([*plan_balance, *today_balance]):
        p, t = plan_balance.get(metric) or {}, today_balance.get(metric) or {}
        tol = p.get("tolerance", t.get("tolerance"))
        rows.add(f"{metric}: tolerance (band)", tol, t.get("tolerance"), PERCENT)
        band = float(tol) if tol is not None else None
        rows.add(
            f"{metric}: largest deviation",
            p.get("max_abs_deviation"),
            t.get("max_abs_deviation"),
            PERCENT,
            band,
        )
        rows.add(f"{metric}: within band", p.get("within_band"), t.get("within_band"))
        if band is not None:
            broken = t.get("broken")
            rows.add(
                f"{metric}: reps outside the band",
                _outside(territories, metric, band),
                len(broken) if isinstance(broken, list) else None,
                COUNT,
            )
            if isinstance(broken, list) and broken:
                rows.add(f"{metric}: today's reps outside the band", None, _broken_text(broken))


def _summary_sheet(summary: dict, territories, assignments) -> Sheet:
    today = summary.get("today") if isinstance(summary.get("today"), dict) else {}
    rows = _Rows(with_today=bool(today))
    rows.add("scenario", summary.get("scenario"))
    rows.add("status", summary.get("status"))
    rows.add("objective", summary.get("objective"), today.get("objective"), DECIMAL)
    rows.add("proven lower bound", summary.get("lower_bound"), None, DECIMAL)
    rows.add("gap to the proven bound", summary.get("gap"), today.get("gap_to_bound"), PERCENT)
    rows.add("travel cost (workload x km)", summary.get("travel_cost"), today.get("travel_cost"))
    rows.formats[-1] = NUMBER
    _balance_rows(rows, summary, today, territories)
    if "accounts_without_owner" in today or assignments is not None:
        plan_orphans = None
        if assignments is not None and "rep_id" in assignments.columns:
            plan_orphans = int(assignments["rep_id"].isna().sum())
        rows.add(
            "accounts without an owner", plan_orphans, today.get("accounts_without_owner"), COUNT
        )
    disruption = summary.get("disruption") or {}
    if disruption:
        rows.add("accounts moved from previous owners", disruption.get("moved_accounts"), fmt=COUNT)
        rows.add("potential moved", disruption.get("moved_potential"), fmt=NUMBER)
        rows.add("share of potential moved", disruption.get("moved_share"), fmt=PERCENT)
    quota = summary.get("quota") or {}
    if quota:
        rows.add("quota: company target", quota.get("target"), fmt=NUMBER)
        rows.add("quota: method", quota.get("method"))
        rows.add(
            "quota: largest deviation from fair share",
            quota.get("max_relative_deviation"),
            fmt=PERCENT,
        )
        rows.add(
            "quota: proven minimum of the largest deviation", quota.get("lower_bound"), fmt=PERCENT
        )
        for note in quota.get("spread", []):
            rows.add("quota: spread", note.get("explanation"))
    rebalance = summary.get("rebalance") or {}
    for key in ("from_plan", "leaving", "hired"):
        if key in rebalance:
            value = rebalance[key]
            text = ", ".join(map(str, value)) if isinstance(value, list) else value
            rows.add(f"rebalance: {key.replace('_', ' ')}", text)
    solver = summary.get("solver") or {}
    rows.add("solver", solver.get("name"))
    rows.add("solver seconds", solver.get("seconds"), fmt=DECIMAL)
    inputs = summary.get("inputs") or {}
    rows.add("accounts", inputs.get("accounts"), fmt=COUNT)
    rows.add("reps", inputs.get("reps"), fmt=COUNT)
    rows.add("version", summary.get("version"))
    return rows.sheet()


def _comparison_summary(kpis: pd.DataFrame) -> Sheet:
    formats = []
    for metric in kpis["metric"].astype(str):
        if metric.startswith(("largest deviation", "quota fairness")) or "share" in metric:
            formats.append(PERCENT)
        elif metric.startswith("accounts"):
            formats.append(COUNT)
        else:
            formats.append(NUMBER)
    frame = kpis.rename(columns={"metric": "KPI", "a": "A", "b": "B", "delta": "B - A"})
    numeric = [c for c in ("A", "B", "B - A") if c in frame.columns]
    return Sheet(
        "Summary",
        frame,
        formats={c: None for c in numeric},
        text=frozenset({"KPI"}),
        row_formats=formats,
    )


# --------------------------------------------------------------------------- the folder


def _moves(folder: Path, assignments: pd.DataFrame | None) -> pd.DataFrame | None:
    moves = _table(folder, "moves.csv")
    if moves is not None or assignments is None or "moved" not in assignments.columns:
        return moves
    moved = assignments[assignments["moved"].map(lambda v: v is True or v == "True")]
    # assignments.csv writes the account columns under the accounts file's own names (Id,
    # Name for a Salesforce export; outputs.py): they are picked by what they mean, as the
    # readers match them, and keep the names the planner knows
    header = pd.DataFrame(columns=list(assignments.columns))
    meaning = canonical_columns(header, ACCOUNT_ALIASES, "assignments.csv", ProblemList())
    written = {column: name for name, column in meaning.attrs["source_names"].items()}
    picked = [written[c] for c in _MOVE_COLUMNS if c in written]
    return moved[picked].reset_index(drop=True)


def plan_sheets(folder: str | Path) -> list[Sheet]:
    """The sheets of the workbook of ``folder`` (a plan, evaluation, re-balance or
    comparison folder), in order, from the files present."""
    folder = Path(folder)
    summary = _summary(folder)
    territories = _table(folder, "territories.csv")
    assignments = _table(folder, "assignments.csv")
    quotas = _table(folder, "quotas.csv")
    rep_changes = _table(folder, "rep_changes.csv")
    names = _rep_names(territories, quotas, rep_changes)
    tolerances = _tolerances(summary)
    bands = {f"{m}_deviation": t for m, t in tolerances.items()}
    bands.update({f"{m}_deviation_today": t for m, t in tolerances.items()})

    sheets: list[Sheet] = []
    kpis = _table(folder, "kpis.csv")
    if summary:
        sheets.append(_summary_sheet(summary, territories, assignments))
    elif kpis is not None and "metric" in kpis.columns:
        sheets.append(_comparison_summary(kpis))
    if territories is not None:
        frame = _with_today_deviation(territories, list(tolerances))
        sheets.append(Sheet("Territories", frame, highlight=band_rule(bands)))
    if rep_changes is not None:
        sheets.append(Sheet("Rep changes", rep_changes))
    if assignments is not None:
        sheets.append(Sheet("Assignments", with_rep_names(assignments, names)))
    moves = _moves(folder, assignments)
    if moves is not None:
        sheets.append(Sheet("Moves", with_rep_names(moves, names)))
    if quotas is not None:
        sheets.append(Sheet("Quotas", with_rep_names(quotas, names, keep_rep_id=True)))
    for file, title in (
        ("regions.csv", "Regions"),
        ("region_moves.csv", "Region moves"),
        ("rollups.csv", "Rollups"),
    ):
        table = _table(folder, file)
        if table is not None:
            sheets.append(Sheet(title, with_rep_names(table, names), highlight=band_rule(bands)))
    tradeoff = _table(folder, "tradeoff.csv")
    if tradeoff is not None:
        sheets.append(Sheet("Trade-off", tradeoff))
    return sheets


def write_plan_workbook(folder: str | Path, path: str | Path | None = None) -> Path:
    """Write ``folder``'s workbook (default ``folder/plan.xlsx``); returns its path."""
    folder = Path(folder)
    title = _summary(folder).get("scenario")
    return write_workbook(
        path or folder / WORKBOOK_NAME, plan_sheets(folder), title=str(title) if title else None
    )
