"""A plan folder's summary in words, for a terminal: what ``show`` and ``plan`` print.

Numbers read cleanly: thousands separators, percentages that never show ``-0.00%``, and
the status and gap said in a sentence instead of a field name.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..number_format import tolerance_percent
from ..quota.binding import reason_lines

WORST_REPS = 3
FOLDER_FILES = (
    ("assignments", "assignments.csv"),
    ("owner changes (CRM update)", "owner_changes.csv"),
    ("territories", "territories.csv"),
    ("rollups", "rollups.csv"),
    ("quotas", "quotas.csv"),
    ("moves", "moves.csv"),
    ("regions", "regions.csv"),
    ("region moves", "region_moves.csv"),
    ("disruption trade-off", "tradeoff.csv"),
    ("bases", "bases.csv"),
    ("workbook", "plan.xlsx"),
    ("map", "map.html"),
    ("summary", "summary.json"),
)


def percent(fraction, digits: int = 2, sign: bool = False) -> str:
    """``0.1234`` -> ``12.34%``; a value that rounds to zero is ``0.00%``, never ``-0.00%``."""
    if fraction is None or (isinstance(fraction, float) and not math.isfinite(fraction)):
        return "n/a"
    value = round(float(fraction) * 100, digits) + 0.0
    return f"{value:{'+' if sign and value else ''}.{digits}f}%"


def number(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{round(float(value), digits) + 0.0:,.{digits}f}"


def status_sentence(summary: dict) -> str:
    """The status and gap in words."""
    status, gap = summary.get("status"), summary.get("gap")
    if status == "evaluated":
        what = summary.get("evaluated", {}).get("assignment", "an assignment")
        if summary.get("lower_bound") is None:
            reason = summary.get("solver", {}).get("bound", "no proven bound")
            return f"evaluated {what} (not optimised); {reason}"
        if gap is not None and gap < 0:
            return (
                f"evaluated {what} (not optimised): it costs {percent(-gap / (1 - gap))} less "
                "than the proven lower bound for plans that hold the scenario's rules, because "
                "it breaks some (its bands, or whole connected regions in geography mode)"
            )
        if gap is not None and gap < 1:
            return (
                f"evaluated {what} (not optimised): gap {percent(gap)} to the proven lower "
                f"bound; it costs at most {percent(gap / (1 - gap))} more than the best plan "
                "could"
            )
        return f"evaluated {what} (not optimised): gap {percent(gap)} to the proven lower bound"
    if status == "optimal":
        return f"proven optimal (gap {percent(gap, 3)})"
    if status == "within_gap_target":
        return f"within the gap target: at most {percent(gap, 3)} above the best possible plan"
    if status == "time_limit":
        return (
            f"stopped at the time limit: at most {percent(gap, 3)} above the best possible "
            "plan (proven)"
        )
    return f"{status} (gap {percent(gap, 3)})"


def kpi_rows(summary: dict) -> list[tuple[str, str, str]]:
    """(KPI, today, plan) rows: travel, objective, per metric the largest deviation and
    the reps outside their band, moves, accounts without an owner today."""
    today = summary.get("today") or {}
    rows = [
        (
            "travel cost (workload x km)",
            number(today.get("travel_cost")),
            number(summary.get("travel_cost")),
        ),
        ("objective", number(today.get("objective")), number(summary.get("objective"))),
    ]
    for metric, plan_numbers in summary.get("balance", {}).items():
        now = (today.get("balance") or {}).get(metric, {})
        tolerance = plan_numbers.get("tolerance")
        tolerance = "n/a" if tolerance is None else tolerance_percent(tolerance)
        rows.append(
            (
                f"{metric}: largest deviation (band {tolerance})",
                percent(now.get("max_abs_deviation")) if now else "n/a",
                percent(plan_numbers.get("max_abs_deviation")),
            )
        )
        rows.append(
            (
                f"{metric}: reps outside the band",
                str(len(now.get("broken", []))) if now else "n/a",
                str(len(plan_numbers.get("broken", []))) if "broken" in plan_numbers else "n/a",
            )
        )
    moved = summary.get("disruption", {})
    rows.append(
        (
            "accounts that change owner",
            "0",
            f"{moved.get('moved_accounts', 0):,} "
            f"({percent(moved.get('moved_share'), 1)} of potential)",
        )
    )
    if today:
        rows.append(
            ("accounts without an owner", f"{today.get('accounts_without_owner', 0):,}", "0")
        )
    return rows


def kpi_table(summary: dict) -> list[str]:
    heading = "assignment" if summary.get("status") == "evaluated" else "plan"
    rows = [("", "today", heading), *kpi_rows(summary)]
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    return [f"  {a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}".rstrip() for a, b, c in rows]


def worst_reps(territories: pd.DataFrame, metric: str, count: int = WORST_REPS) -> list[str]:
    """The ``count`` reps furthest from their ``metric`` target (non-leaving), worst first."""
    column = f"{metric}_deviation"
    if territories is None or column not in territories.columns:
        return []
    frame = territories
    if "status" in frame.columns:
        frame = frame[frame["status"] != "leaving"]
    frame = frame.assign(_worst=-frame[column].astype(float).abs()).sort_values(
        ["_worst", "rep_id"], kind="stable"
    )
    lines = []
    for row in frame.head(count).to_dict("records"):
        name = row.get("name")
        label = (
            row["rep_id"]
            if name is None or pd.isna(name) or name == ""
            else f"{row['rep_id']} {name}"
        )
        line = (
            f"    {label}: load {number(row[f'{metric}_load'])} "
            f"of target {number(row[f'{metric}_target'])} ({percent(row[column], sign=True)})"
        )
        today = row.get(f"{metric}_load_today")
        target = float(row[f"{metric}_target"])
        if today is not None and not pd.isna(today) and target > 0:
            line += (
                f"; today {number(today)} ({percent((float(today) - target) / target, sign=True)})"
            )
        lines.append(line)
    return lines


def summary_text(summary: dict, territories: pd.DataFrame | None, folder: Path | None) -> str:
    """The readable summary ``show`` prints."""
    lines = [f"plan '{summary.get('scenario')}': {status_sentence(summary)}"]
    lower = summary.get("lower_bound")
    lines.append(
        f"  objective {number(summary.get('objective'))}, proven lower bound {number(lower)}"
    )
    lines.append("")
    lines.extend(kpi_table(summary))
    for metric in summary.get("balance", {}):
        worst = worst_reps(territories, metric)
        if worst:
            lines.append("")
            lines.append(f"  furthest from their {metric} target:")
            lines.extend(worst)
    broken = summary.get("evaluated", {}).get("rules_broken", {})
    named = {
        "not_allowed_pairs": "accounts with a rep the rules do not allow",
        "groups_split": "keep-together groups split between reps",
        "regions_split": "regions whose accounts are split between reps",
        "territories_in_pieces": "territories in more than one piece",
        "with_leaving_reps": "accounts left with a leaving rep",
    }
    rule_lines = [
        f"    {text}: {broken[key]['count']:,}"
        for key, text in named.items()
        if broken.get(key, {}).get("count")
    ]
    if broken.get("moved_potential_over_budget"):
        rule_lines.append(
            "    potential moved beyond the budget: "
            + number(broken["moved_potential_over_budget"])
        )
    if rule_lines:
        lines.extend(["", "  rules broken:", *rule_lines])
    lines.extend(workflow_lines(summary))
    lines.extend(quota_lines(summary.get("quota")))
    if folder is not None:
        lines.extend(["", f"  files in {folder}:"])
        for label, name in FOLDER_FILES:
            if (folder / name).exists():
                lines.append(f"    {label}: {folder / name}")
    return "\n".join(lines)


def workflow_lines(summary: dict) -> list[str]:
    """What made the folder when it was not a plain plan: the re-balance's departures and
    hires, the bases a locate chose."""
    lines = []
    change = summary.get("rebalance")
    if change:
        parts = [f"re-balanced from '{change.get('from_plan')}'"]
        for key, text in (("leaving", "leaving"), ("hired", "hired"), ("unlocked", "unlocked")):
            if change.get(key):
                parts.append(f"{text}: {', '.join(map(str, change[key]))}")
        if change.get("capacities"):
            parts.append(
                "capacity: "
                + ", ".join(
                    f"{rep}={number(value, 2)}" for rep, value in change["capacities"].items()
                )
            )
        lines.extend(["", "  " + "; ".join(parts)])
    located = summary.get("locate")
    if located:
        sites = (summary.get("inputs") or {}).get("candidate_sites")
        among = f" among {sites:,} candidate sites" if sites else ""
        lines.extend(
            [
                "",
                f"  bases: {located.get('count')} chosen{among} "
                f"({located.get('candidates')}): {', '.join(map(str, located.get('bases', [])))}",
            ]
        )
    return lines


def quota_lines(quota: dict | None) -> list[str]:
    """The quota block of summary.json in words: the target, the method, the largest
    deviation from a fair share with its proven minimum, what the growth bounds left over and
    how it was spread, the reps farthest from their share with the rule that holds each, and
    the ramp notes (as ``plan`` and ``quota`` print them)."""
    if not quota:
        return []
    method = str(quota.get("method"))
    if method == "blend" and quota.get("alpha") is not None:
        method += f", alpha {number(quota['alpha'], 2)}"
    lines = [
        "",
        f"  quotas: target {number(quota.get('target'), 0)} ({method}), largest deviation "
        f"from fair share {percent(quota.get('max_relative_deviation'))} (proven minimum "
        f"{percent(quota.get('lower_bound'))})",
    ]
    lines.extend(f"    {line}" for line in reason_lines(quota))
    lines.extend(f"    note: {note}" for note in quota.get("ramp_notes", []))
    return lines


def compare_lines(kpis: pd.DataFrame) -> list[str]:
    """kpis.csv in words, as ``compare`` prints it: shares as percentages, a row whose
    numbers are all whole (accounts, regions changing owner) without decimals, the rest with
    one; each ``A -> B (B - A)``."""
    lines = []
    for row in kpis.to_dict("records"):
        metric = str(row["metric"])
        values = (row["a"], row["b"], row["delta"])
        if metric.startswith(("largest deviation", "quota fairness")):
            shown = (percent(values[0]), percent(values[1]), percent(values[2], sign=True))
        else:
            whole = all(_is_whole(v) for v in values)
            digits = 0 if whole else 1
            shown = (
                number(values[0], digits),
                number(values[1], digits),
                "n/a" if pd.isna(values[2]) else f"{float(values[2]):+,.{digits}f}",
            )
        lines.append(f"  {metric}: {shown[0]} -> {shown[1]} ({shown[2]})")
    return lines


def _is_whole(value) -> bool:
    try:
        return float(value).is_integer()
    except (TypeError, ValueError):
        return False


COMPARE_FILES = (
    ("page", "compare.html"),
    ("KPIs", "kpis.csv"),
    ("accounts that change owner", "moves.csv"),
    ("regions that change owner", "region_moves.csv"),
    ("each rep's gains and losses", "rep_changes.csv"),
    ("workbook", "plan.xlsx"),
)


def compare_text(folder: Path) -> str:
    """What ``show`` prints for a folder written by ``compare``: its KPIs and its files."""
    kpis = pd.read_csv(folder / "kpis.csv")
    lines = [f"comparison in {folder} (B - A):", *compare_lines(kpis), "", f"  files in {folder}:"]
    lines.extend(
        f"    {label}: {folder / name}" for label, name in COMPARE_FILES if (folder / name).exists()
    )
    return "\n".join(lines)


def _today_against_bound(gap: float) -> str:
    """Today's gap to the plan's proven bound, and what it means in cost.

    The gap is the plan's definition, ``g = (today - bound) / today``, so the bound is ``g``
    below today's cost; today costs ``g / (1 - g)`` more than the bound. The two agree for
    small gaps only (0.4% and 0.40%; 82.3% and 465%), so both are said."""
    if gap < 0:
        # today below the bound of the plans that hold the bands: it breaks them
        return (
            f"    today costs {percent(-gap / (1 - gap), 1)} less than the proven bound "
            "(it breaks the bands)"
        )
    line = f"    today's gap to the proven lower bound: {percent(gap, 1)}"
    if gap < 1:
        line += f" (today costs {percent(gap / (1 - gap), 1)} more than the bound)"
    return line


def today_lines(summary: dict) -> list[str]:
    """The plan command's lines about today's owners, beside the plan's own numbers."""
    today = summary.get("today") or {}
    if today.get("travel_cost") is None:
        return ["  today: no account has an owner, nothing to compare"]
    lines = []
    travel, planned = today["travel_cost"], summary.get("travel_cost")
    saving = ""
    if planned is not None and travel:
        saving = f"; the plan travels {percent((travel - planned) / travel, 1)} less"
    lines.append(f"  today's owners: travel cost {number(travel)}{saving}")
    for metric, numbers in (today.get("balance") or {}).items():
        broken = len(numbers.get("broken", []))
        lines.append(
            f"    {metric}: largest deviation today {percent(numbers['max_abs_deviation'])}, "
            f"{broken} rep{'s' if broken != 1 else ''} outside the band"
        )
    if today.get("gap_to_bound") is not None:
        lines.append(_today_against_bound(float(today["gap_to_bound"])))
    if today.get("accounts_without_owner"):
        lines.append(f"    accounts without an owner today: {today['accounts_without_owner']:,}")
    return lines
