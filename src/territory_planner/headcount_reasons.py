"""Why a headcount fails, in words: the proofs of headcount_limits.py and the counts the
solver ruled out, told with the accounts and numbers behind them.

Each refusal here is proven (a unit no base may reach, a unit heavier than the max load on
its own, islands whose load fits no whole number of bases); ``out_of_time`` is the one
message that proves nothing and says so.
"""

from __future__ import annotations

import math

import numpy as np

from .data import ScenarioData
from .errors import InfeasibleError
from .headcount_limits import bases_needed, unreachable_units


def refuse_unreachable(problem, distance: float | None) -> None:
    """No count serves a unit that no candidate site may serve: name them with numbers."""
    stranded, nearest = unreachable_units(problem)
    if not len(stranded):
        return
    limit = f"{distance:,.0f} km" if distance is not None else "the rules"
    lines = [
        f"{len(stranded)} account(s) cannot be reached from any candidate base within "
        f"{limit}, so no number of bases works:"
    ]
    for u, km in list(zip(stranded.tolist(), nearest.tolist()))[:20]:
        ids = ", ".join(str(problem.account_ids[a]) for a in problem.unit_members[u])
        lines.append(f"{ids}: nearest candidate base {km:,.1f} km away")
    if len(stranded) > 20:
        lines.append(f"... and {len(stranded) - 20} more")
    raise InfeasibleError(lines)


def spread_text(problem, spread: np.ndarray, distance: float | None) -> str:
    ids = [str(problem.account_ids[problem.unit_members[u][0]]) for u in spread.tolist()]
    shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
    limit = f"within {distance:,.0f} km of" if distance is not None else "allowed for"
    return (
        f"no candidate base is {limit} two of the {len(ids)} accounts {shown}, so at least "
        f"{len(ids)} bases are needed"
    )


def load_lower_bound(data: ScenarioData, problem, max_load: float | None) -> int:
    """ceil(total workload / max_load); and no count works when one unit alone is over it."""
    if max_load is None:
        return 1
    workload = np.zeros(problem.n_units)
    np.add.at(workload, problem.account_unit, problem.account_workload)
    heavy = np.flatnonzero(workload > max_load + 1e-9)
    if len(heavy):
        lines = [
            f"{len(heavy)} account(s) (or groups kept together) carry more workload than "
            f"the max load {max_load:,.1f} on their own, so no number of bases works:"
        ]
        for u in heavy[:20].tolist():
            ids = ", ".join(str(problem.account_ids[a]) for a in problem.unit_members[u])
            lines.append(f"{ids}: workload {workload[u]:,.1f}")
        raise InfeasibleError(lines)
    return max(1, math.ceil(float(workload.sum()) / float(max_load) - 1e-9))


def _island_loads(problem, labels: np.ndarray, n_islands: int) -> np.ndarray:
    loads = np.zeros((n_islands, problem.n_metrics))
    for m in range(problem.n_metrics):
        loads[:, m] = np.bincount(labels, problem.unit_load[m], minlength=n_islands)
    return loads


def island_reason(problem, labels, n_islands: int, count: int) -> str | None:
    """Why ``count`` bases cannot serve the islands (headcount_limits.py), or None."""
    if n_islands <= 1 or not problem.n_metrics:
        return None
    loads = _island_loads(problem, labels, n_islands)
    lower, upper = problem.lower[:, 0], problem.upper[:, 0]
    ranges = [bases_needed(load, lower, upper) for load in loads]
    for i, (fewest, most) in enumerate(ranges):
        if fewest > most:
            return _island_text(problem, labels, i, loads[i], lower, upper, count)
    fewest_total = sum(r[0] for r in ranges)
    most_total = sum(r[1] for r in ranges)
    if fewest_total > count:
        return (
            f"the {n_islands} islands of accounts that cannot share a base need at least "
            f"{fewest_total} bases between them, more than {count}"
        )
    if most_total < count:
        return (
            f"the {n_islands} islands of accounts that cannot share a base can hold at most "
            f"{most_total} bases between them (each base needs its band's minimum), fewer "
            f"than {count}"
        )
    return None


def _island_text(problem, labels, island: int, load, lower, upper, count: int) -> str:
    members = np.flatnonzero(labels == island)
    ids = [str(problem.account_ids[a]) for u in members for a in problem.unit_members[u]]
    shown = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
    parts = []
    for m, metric in enumerate(problem.metrics):
        parts.append(f"{metric} {load[m]:,.1f} (a base carries {lower[m]:,.1f} to {upper[m]:,.1f})")
    return (
        f"with {count} bases, the {len(ids)} account(s) {shown} share no candidate base with "
        f"the rest and their load fits no whole number of bases: " + "; ".join(parts)
    )


def no_count_reasons(problem, labels, n_islands, lower, largest, checked) -> list[str]:
    reasons = [f"no number of bases from {lower} to {largest} meets the bands and limits"]
    by_reason: dict[str, list[int]] = {}
    for step in checked:
        by_reason.setdefault(step.get("reason", step["status"]), []).append(step["count"])
    for reason, counts in list(by_reason.items())[:5]:
        span = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"
        reasons.append(f"{span} bases: {reason}")
    return reasons


def out_of_time(limit: float, lower: int, count: int, checked: list[dict]) -> str:
    proven = f"counts {lower} to {count - 1} were proven impossible; " if count > lower else ""
    return (
        f"{count} bases could not be decided within the time limit of {limit:g} s (no plan "
        f"was found and none was proven impossible); {proven}raise --time-limit"
    )
