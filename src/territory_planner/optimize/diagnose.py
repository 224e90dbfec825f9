"""Why a scenario is impossible, in the planner's words and with the numbers.

Two steps. ``precheck`` catches the obvious causes before any solve: an account no rep may
own (segment, region, distance, a lock on a leaving rep), locked accounts that already push a
rep above its band, a rep that cannot reach its band from the accounts it may own, and a
disruption budget smaller than the moves the departures force, or than the moves the bands
force when today's territories are far from them. When the solver still proves
infeasibility, ``explain_infeasibility`` re-solves the LP with a penalised slack on every band
and on the budget (an elastic model, always feasible) and names each band that needed slack,
by how much. Both raise :class:`InfeasibleError`.
"""

from __future__ import annotations

import numpy as np
import pulp

from ..errors import InfeasibleError
from ..number_format import tolerance_percent
from .model import (
    AssignmentModel,
    PairSet,
    assign_once_rows,
    assignment_variables,
    balance_band_rows,
    disruption_budget_row,
    slack_scale,
)
from .settings import TINY, SolveSettings
from .solvers import run


def _fmt(value: float) -> str:
    """One decimal, none from a million up, and significant digits below 0.05 (a breach of
    0.025 under tolerance 0 must not read as 'would need 0.0 more')."""
    if value != 0 and abs(value) < 0.05:
        return f"{value:.2g}"
    return f"{value:,.1f}" if abs(value) < 1e6 else f"{value:,.0f}"


def _band_text(problem, m: int, j: int) -> str:
    return (
        f"[{_fmt(problem.lower[m, j])}, {_fmt(problem.upper[m, j])}] "
        f"(target {_fmt(problem.target[m, j])} +/- {tolerance_percent(problem.tolerance[m])})"
    )


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def _some_ids(ids: list[str], shown: int = 5) -> str:
    text = ", ".join(ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def _why_no_rep(problem, u: int) -> str:
    """The rules that leave a unit with no allowed rep, as a phrase: each rep is counted
    under the first rule it fails (segment, then region, then max distance), so the phrase
    names what actually shuts every rep out, not the first rule the unit has."""
    members = problem.unit_members[u]
    if problem.locked_rep[u] >= 0:
        return f"it is locked to {problem.rep_ids[problem.locked_rep[u]]}, who may not own it"
    rep_ids = [str(r) for r in problem.rep_ids]
    segments = problem.notes.get("segments")
    rep_segments = problem.notes.get("rep_segments") or {}
    segment_ok = np.ones(problem.n_reps, dtype=bool)
    own_segments: set = set()
    if segments is not None and rep_segments:
        own_segments = {segments[i] for i in members}
        for j, rep_id in enumerate(problem.rep_ids):
            wanted = rep_segments.get(rep_id)
            segment_ok[j] = _blank(wanted) or all(s == wanted for s in own_segments)
    rules_ok = problem.allowed[u] if problem.allowed is not None else np.ones_like(segment_ok)
    region_out = segment_ok & ~rules_ok
    near = np.ones(problem.n_reps, dtype=bool)
    nearest = None
    if problem.max_distance_km is not None and problem.is_geographic:
        from ..geo import distance_matrix_km

        km = distance_matrix_km(
            problem.account_lat[members],
            problem.account_lon[members],
            problem.rep_lat,
            problem.rep_lon,
        ).max(axis=0)
        near = km <= problem.max_distance_km + 1e-9
        if rules_ok.any():
            j = int(np.argmin(np.where(rules_ok, km, np.inf)))
            nearest = (rep_ids[j], float(km[j]))
    parts: list[str] = []
    other_segment = [rep_ids[j] for j in np.flatnonzero(~segment_ok)]
    if other_segment:
        labels = sorted("blank" if _blank(s) else repr(str(s)) for s in own_segments)
        whose = "its segment is" if len(labels) == 1 else "its accounts' segments are"
        text = (
            f"{whose} {' and '.join(labels)} and {_some_ids(other_segment)} "
            f"serve{'s' if len(other_segment) == 1 else ''} another segment"
        )
        # 'smb' beside a rep's 'SMB' is the likeliest typo of all: say so
        served = {str(v) for v in rep_segments.values() if not _blank(v)}
        for own in sorted(str(s) for s in own_segments if not _blank(s)):
            alike = sorted(v for v in served if v != own and v.casefold() == own.casefold())
            if alike:
                text += f" ('{own}' differs from the reps' '{alike[0]}' only in case)"
        parts.append(text)
    outside = [rep_ids[j] for j in np.flatnonzero(region_out)]
    if outside:
        regions = problem.notes.get("account_regions") or {}
        own = {regions.get(problem.account_ids[i]) for i in members}
        labels = sorted("blank" if _blank(r) else repr(str(r)) for r in own)
        whose = "its region is" if len(labels) == 1 else "its accounts' regions are"
        parts.append(
            f"{_some_ids(outside)} own{'s' if len(outside) == 1 else ''} only another "
            f"region ({whose} {' and '.join(labels)})"
        )
    far = [rep_ids[j] for j in np.flatnonzero(rules_ok & ~near)]
    if far and nearest is not None:
        limit = f"max_distance_km = {problem.max_distance_km:g}"
        parts.append(
            f"{far[0]} is {nearest[1]:,.0f} km away, beyond {limit}"
            if len(far) == 1
            else f"{_some_ids(far)} are beyond {limit} (the nearest, {nearest[0]}, is "
            f"{nearest[1]:,.0f} km away)"
        )
    if not parts:
        return "the segment and region rules leave no rep for it"
    return "; ".join(parts)


def _band_reasons(
    problem,
    locked_load: np.ndarray,
    reachable: np.ndarray,
    reasons: list[str],
    details: list[dict],
) -> None:
    """Add every band that locked accounts alone push a rep above, and every band a rep
    cannot reach from the accounts it may own."""
    locked = problem.notes.get("locked_units", "locked accounts")
    for m, metric in enumerate(problem.metrics):
        for j, rep_id in enumerate(problem.rep_ids):
            if locked_load[m, j] > problem.upper[m, j] + TINY:
                reasons.append(
                    f"rep {rep_id}: {locked} alone carry {_fmt(locked_load[m, j])} "
                    f"{metric}, above the band {_band_text(problem, m, j)}; unlock some or "
                    f"raise the tolerance"
                )
                details.append(
                    {
                        "kind": "locked_over_band",
                        "rep_id": rep_id,
                        "metric": metric,
                        "locked": float(locked_load[m, j]),
                        "upper": float(problem.upper[m, j]),
                    }
                )
            if reachable[m, j] < problem.lower[m, j] - TINY:
                reasons.append(
                    f"rep {rep_id} can reach at most {_fmt(reachable[m, j])} {metric} from the "
                    f"accounts it may own (segment, region, max distance), but its band is "
                    f"{_band_text(problem, m, j)}"
                )
                details.append(
                    {
                        "kind": "band_unreachable",
                        "rep_id": rep_id,
                        "metric": metric,
                        "reachable": float(reachable[m, j]),
                        "lower": float(problem.lower[m, j]),
                    }
                )


def precheck(problem) -> None:
    """Raise InfeasibleError naming every obvious impossibility found (all at once)."""
    reasons: list[str] = []
    details: list[dict] = []
    ids = problem.account_ids
    reachable = np.zeros((problem.n_metrics, problem.n_reps))
    locked_load = np.zeros((problem.n_metrics, problem.n_reps))
    orphans: list[str] = []
    for leaving_lock in problem.notes.get("leaving_locks", []):
        reasons.append(f"account {leaving_lock} is locked to a rep who is leaving or unknown")
        details.append({"kind": "locked_to_leaving", "account_id": leaving_lock})
    forced_moved = 0.0
    oversized: list[tuple[int, int, float, float]] = []
    for units in problem.unit_blocks():
        allowed = problem.allowed_block(units)
        loads = problem.load_block(units)
        reachable += np.einsum("mur,ur->mr", loads, allowed)
        oversized += _oversized_accounts(problem, units, loads, allowed)
        for row, u in enumerate(units.tolist()):
            if not allowed[row].any():
                orphans.append(u)
            j = problem.locked_rep[u]
            if j >= 0 and allowed[row, j]:
                locked_load[:, j] += loads[:, row, j]
        if problem.max_moved_potential is not None:
            # the least potential each unit must move: 0 when its owner may keep it
            moved = np.where(allowed, problem.moved_potential_block(units), np.inf)
            least = moved.min(axis=1)
            forced_moved += float(least[np.isfinite(least)].sum())
    for u in orphans[:20]:
        names = ", ".join(str(ids[i]) for i in problem.unit_members[u])
        reasons.append(f"account {names} can go to no rep: {_why_no_rep(problem, u)}")
        details.append({"kind": "no_rep", "accounts": names})
    if len(orphans) > 20:
        reasons.append(f"... and {len(orphans) - 20} more accounts that can go to no rep")
    for u, m, load, most in oversized[:20]:
        account = str(problem.unit_ids[u])
        metric = problem.metrics[m]
        reasons.append(
            f"account {account} alone carries {_fmt(load)} {metric}, above the upper band of "
            f"every rep who may own it (at most {_fmt(most)}); raise the {metric} tolerance, "
            f"split the account, or leave {metric} out of the balance"
        )
        details.append(
            {"kind": "account_over_band", "account_id": account, "metric": metric, "load": load}
        )
    if len(oversized) > 20:
        reasons.append(f"... and {len(oversized) - 20} more accounts above every band")
    _band_reasons(problem, locked_load, reachable, reasons, details)
    if problem.max_moved_potential is not None and forced_moved > problem.max_moved_potential:
        total = float(problem.account_potential.sum()) or 1.0
        reasons.append(
            f"max_moved_share allows {_fmt(problem.max_moved_potential)} of potential "
            f"({problem.max_moved_potential / total:.1%}) to change owner, but accounts of "
            f"leaving reps or owners they may no longer have already move "
            f"{_fmt(forced_moved)} ({forced_moved / total:.1%})"
        )
        details.append(
            {
                "kind": "budget_below_forced_moves",
                "forced": forced_moved,
                "budget": float(problem.max_moved_potential),
            }
        )
    _budget_below_band_moves(problem, reasons, details)
    if reasons:
        raise InfeasibleError(reasons, details)


def _oversized_accounts(problem, units, loads, allowed) -> list[tuple[int, int, float, float]]:
    """(unit, metric, load, largest upper band) of each single account of ``units`` whose
    load on a metric is above the upper band of every rep that may own it: no plan holds
    it, so the band messages of the reps it strains would only hide the cause. Units of
    several accounts (a region, a keep-together group) are left to their own checks."""
    found = []
    upper = np.where(allowed[None, :, :], problem.upper[:, None, :], -np.inf)  # (M, U, J)
    most = upper.max(axis=2)  # (M, U)
    over = loads.min(axis=2, initial=np.inf, where=allowed[None]) > most + TINY
    for m, row in zip(*np.nonzero(over & allowed.any(axis=1)[None, :])):
        u = int(units[row])
        members = problem.unit_members[u]
        if len(members) == 1 and str(problem.unit_ids[u]) == str(problem.account_ids[members[0]]):
            found.append((u, int(m), float(loads[m, row][allowed[row]].min()), float(most[m, row])))
    return found


def _owner_of_units(problem) -> np.ndarray:
    """Today's rep of each unit when all its accounts share one, else -1."""
    low = np.full(problem.n_units, problem.n_reps, dtype=int)
    high = np.full(problem.n_units, -1, dtype=int)
    np.minimum.at(low, problem.account_unit, problem.current_rep)
    np.maximum.at(high, problem.account_unit, problem.current_rep)
    return np.where(low == high, high, -1)


def least_moved_for_bands(problem) -> tuple[float, int]:
    """The least potential any plan within the bands moves, and the metric that forces it.

    With ``o_u`` today's common owner of unit u (-1: mixed or none) and
    ``cur[m, j] = sum_{u: o_u = j} load[m, u]``, a plan in the bands takes into rep j at
    least ``lower[m, j] - cur[m, j]`` and out of it at least ``cur[m, j] - upper[m, j]``.
    Inflow comes from units with no owner (load ``F_m``) or from moved units; outflow only
    from moved units. So moved units carry at least
    ``L_m = max(sum_j (lower - cur)^+ - F_m, sum_j (cur - upper)^+)`` of metric m, and a
    moved unit moves all its potential: the fractional knapsack (cheapest potential per
    load first) over the units that may move is a lower bound on the moved potential."""
    if problem.pair_load is not None:
        return 0.0, -1
    owner = _owner_of_units(problem)
    owned = owner >= 0
    unit_potential = np.zeros(problem.n_units)
    np.add.at(unit_potential, problem.account_unit, problem.account_potential)
    movable = owned & (problem.locked_rep != owner)
    best, forcing = 0.0, -1
    for m in range(problem.n_metrics):
        load = problem.unit_load[m]
        cur = np.bincount(owner[owned], weights=load[owned], minlength=problem.n_reps)
        short = np.clip(problem.lower[m] - cur, 0.0, None).sum()
        over = np.clip(cur - problem.upper[m], 0.0, None).sum()
        needed = max(short - load[~owned].sum(), over)
        supply = movable & (load > 0)
        if needed <= TINY or not supply.any():
            continue
        ratio = unit_potential[supply] / load[supply]
        order = np.argsort(ratio, kind="stable")
        taken = np.cumsum(load[supply][order])
        whole = int(np.searchsorted(taken, needed))
        if whole >= len(order):
            continue  # the bands cannot hold at all: the band checks name that
        before = taken[whole - 1] if whole else 0.0
        least = (
            unit_potential[supply][order][:whole].sum() + (needed - before) * ratio[order[whole]]
        )
        if least > best:
            best, forcing = float(least), m
    return best, forcing


def _budget_below_band_moves(problem, reasons: list[str], details: list[dict]) -> None:
    """Add the budget when the bands alone force more potential to move than it allows."""
    budget = problem.max_moved_potential
    if budget is None:
        return
    least, m = least_moved_for_bands(problem)
    if least <= budget * (1.0 + 1e-9) + TINY:
        return
    total = float(problem.account_potential.sum()) or 1.0
    reasons.append(
        f"max_moved_share allows {_fmt(budget)} of potential ({budget / total:.1%}) to change "
        f"owner, but today's territories are so far from the {problem.metrics[m]} bands that "
        f"any plan within them moves at least {_fmt(least)} ({least / total:.1%}); raise "
        f"max_moved_share or the tolerance"
    )
    details.append(
        {
            "kind": "budget_below_band_moves",
            "metric": problem.metrics[m],
            "least_moved": least,
            "budget": float(budget),
        }
    )


def explain_infeasibility(
    problem,
    pairs: PairSet,
    settings: SolveSettings,
    integer: bool = False,
    time_limit: float | None = None,
) -> None:
    """Elastic model over ``pairs``: slack on every band and on the budget, each weighted by
    1/target so a percent of one rep's band costs the same as a percent of another's; raise
    with the bands that needed slack. Hand it every allowed pair (pairs.all_allowed_pairs)
    for slack that no plan within the rules avoids; over fewer pairs it explains why plans
    over those pairs cannot hold. With ``integer`` the assignments stay binary: the LP
    relaxation can be feasible while no whole-account plan is (accounts are indivisible),
    and then only the MILP can explain. The solve gets ``time_limit`` seconds (default: the
    user's time limit, ``settings.time_limit``)."""
    lp = pulp.LpProblem("elastic", pulp.LpMinimize)
    variables = assignment_variables(lp, problem, pairs, relax=not integer)
    model = AssignmentModel(lp=lp, pairs=pairs, x=variables)
    assign_once_rows(model, problem, np.arange(problem.n_units))
    balance_band_rows(model, problem, elastic=True)
    disruption_budget_row(model, problem.max_moved_potential, elastic=True)
    weights = [
        (var, 1.0 / slack_scale(problem, kind, m, j)) for (kind, m, j), var in model.slack.items()
    ]
    lp.setObjective(pulp.LpAffineExpression(weights))
    limit = settings.time_limit if time_limit is None else time_limit
    outcome = run(model, settings, mip=integer, time_limit=limit)
    reasons: list[str] = []
    details: list[dict] = []
    if outcome.has_solution:
        for (kind, m, j), var in sorted(
            model.slack.items(), key=lambda item: -(item[1].varValue or 0.0)
        ):
            amount = var.varValue or 0.0
            if amount <= 1e-6 * max(
                1.0, abs(problem.target[m, j]) if kind != "over_budget" else 1.0
            ):
                continue
            if kind == "over_budget":
                reasons.append(
                    f"the disruption budget (max_moved_share) is {_fmt(amount)} of "
                    f"potential too small for balanced territories"
                )
                details.append({"kind": "budget", "slack": amount})
                continue
            metric, rep_id = problem.metrics[m], problem.rep_ids[j]
            direction = "more" if kind == "short" else "less"
            whole = " (accounts are indivisible)" if integer else ""
            # one plan's breaches (the least in total), not each band's least on its own:
            # a rep's band alone may be reachable at another band's expense
            reasons.append(
                f"rep {rep_id} would need {_fmt(amount)} {direction} {metric} to meet its "
                f"band {_band_text(problem, m, j)} in the plan that breaks the bands least"
                f"{whole}"
            )
            details.append({"kind": kind, "rep_id": rep_id, "metric": metric, "slack": amount})
    if not outcome.has_solution:
        reasons.append(
            f"the solver proved the rules cannot all hold; finding the bands that cannot "
            f"({outcome.status}) did not finish within {limit:g} s: raise --time-limit "
            "to see them"
        )
    elif not reasons:
        reasons.append(
            "the solver proved the rules cannot all hold, but no single band "
            "explains it (check segments, regions, locks and max distance together)"
        )
    raise InfeasibleError(reasons, details)
