"""Plain arrays and ID indexes the optimiser needs; no pandas beyond this module.

The optimiser works on *units* and *reps*. A unit is one account, or a keep-together group
of accounts that must share a rep (docs/design.md section 7: group equalities). Treating a group as
one unit
replaces ``x[a, j] = x[b, j]`` rows by a single column per rep, which is both exact and
smaller, and it makes pricing (see optimize/strategy.py) work on whole groups.

For each unit ``u`` and eligible rep ``j`` the problem can price the pair:
``cost[u, j] = travel_weight * sum_{i in u} workload_i * km(i, j)
             + disruption_weight * sum_{i in u} potential_i * [current_i != j]``
and its load on every balance metric ``m``: ``load[m, u, j] = sum_{i in u} a[m, i]`` (the
same for every rep in territory planning; rep-specific when a per-pair workload is given, as
in the generalised assignment problem).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError, Problem

CHUNK = 4096  # units per block when pricing pairs: bounds memory at 100,000 x 500


@dataclass
class PlanningProblem:
    """Everything the optimiser needs, as arrays indexed by position, plus the ID indexes.

    Units and reps are sorted by ID, so the same inputs always build the same model.
    """

    unit_ids: np.ndarray  # (U,) str: account_id, or "group:<id>" for groups
    unit_members: list[np.ndarray]  # account positions of each unit
    account_ids: np.ndarray  # (A,) str
    account_unit: np.ndarray  # (A,) int: the unit of each account
    rep_ids: np.ndarray  # (J,) str: eligible (non-leaving) reps
    metrics: list[str]
    unit_load: np.ndarray  # (M, U) load of each unit when it is rep-independent
    target: np.ndarray  # (M, J)
    lower: np.ndarray  # (M, J) band lower bounds (-inf allowed)
    upper: np.ndarray  # (M, J) band upper bounds (+inf allowed)
    tolerance: np.ndarray  # (M,)
    allowed: np.ndarray | None  # (U, J) bool, or None = every pair allowed
    locked_rep: np.ndarray  # (U,) int rep position a unit is locked to, -1 if free
    current_rep: np.ndarray  # (A,) int rep position of today's owner, -1 if none/leaving
    account_workload: np.ndarray  # (A,)
    account_potential: np.ndarray  # (A,)
    travel_weight: float = 1.0
    disruption_weight: float = 0.0
    max_moved_potential: float | None = None
    account_lat: np.ndarray | None = None
    account_lon: np.ndarray | None = None
    rep_lat: np.ndarray | None = None
    rep_lon: np.ndarray | None = None
    max_distance_km: float | None = None
    cost_matrix: np.ndarray | None = None  # (U, J) explicit costs (generalised assignment)
    pair_load: np.ndarray | None = None  # (M, U, J) explicit rep-specific loads
    sense: int = 1  # 1 minimise, -1 maximise (benchmarks only)
    notes: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ sizes and indexes
    @property
    def n_units(self) -> int:
        return len(self.unit_ids)

    @property
    def n_reps(self) -> int:
        return len(self.rep_ids)

    @property
    def n_metrics(self) -> int:
        return len(self.metrics)

    @property
    def is_geographic(self) -> bool:
        return self.account_lat is not None and self.rep_lat is not None

    # ------------------------------------------------------------------ pair oracles
    def distance_block(self, units: np.ndarray) -> np.ndarray:
        """Workload-weighted km summed over each unit's members, (len(units), J)."""
        from .geo import distance_matrix_km

        out = np.zeros((len(units), self.n_reps))
        singles = np.array([len(self.unit_members[u]) == 1 for u in units], dtype=bool)
        if singles.any():
            accounts = np.array([self.unit_members[u][0] for u in units[singles]], dtype=int)
            km = distance_matrix_km(
                self.account_lat[accounts], self.account_lon[accounts], self.rep_lat, self.rep_lon
            )
            out[singles] = km * self.account_workload[accounts][:, None]
        for row in np.flatnonzero(~singles):
            members = self.unit_members[units[row]]
            km = distance_matrix_km(
                self.account_lat[members], self.account_lon[members], self.rep_lat, self.rep_lon
            )
            out[row] = (km * self.account_workload[members][:, None]).sum(axis=0)
        return out

    def moved_potential_block(self, units: np.ndarray) -> np.ndarray:
        """Potential that changes owner if unit u goes to rep j, (len(units), J)."""
        out = np.zeros((len(units), self.n_reps))
        single = np.array([len(self.unit_members[u]) == 1 for u in units], dtype=bool)
        if single.any():
            # most units are one account: vectorised, as pricing scans every pair of them
            rows = np.flatnonzero(single)
            accounts = np.array([self.unit_members[u][0] for u in units[rows]], dtype=int)
            out[rows] = self.account_potential[accounts][:, None]
            owned = self.current_rep[accounts] >= 0
            out[rows[owned], self.current_rep[accounts[owned]]] = 0.0
        for row in np.flatnonzero(~single):
            u = units[row]
            members = self.unit_members[u]
            total = self.account_potential[members].sum()
            out[row, :] = total
            for account in members:
                owner = self.current_rep[account]
                if owner >= 0:
                    out[row, owner] -= self.account_potential[account]
        return out

    def cost_block(self, units: np.ndarray) -> np.ndarray:
        """Objective coefficient of every (unit, rep) pair in the block (minimisation sense)."""
        if self.cost_matrix is not None:
            return self.sense * self.cost_matrix[units]
        cost = np.zeros((len(units), self.n_reps))
        if self.travel_weight and self.is_geographic:
            cost += self.travel_weight * self.distance_block(units)
        if self.disruption_weight:
            cost += self.disruption_weight * self.moved_potential_block(units)
        return cost

    def load_block(self, units: np.ndarray) -> np.ndarray:
        """(M, len(units), J) loads; broadcast from unit_load when rep-independent."""
        if self.pair_load is not None:
            return self.pair_load[:, units, :]
        return np.broadcast_to(
            self.unit_load[:, units, None], (self.n_metrics, len(units), self.n_reps)
        )

    def allowed_block(self, units: np.ndarray) -> np.ndarray:
        """Which pairs the rules allow: segment, region, max distance and locks."""
        if self.allowed is not None:
            ok = self.allowed[units].copy()
        else:
            ok = np.ones((len(units), self.n_reps), dtype=bool)
        if self.max_distance_km is not None and self.is_geographic:
            from .geo import distance_matrix_km

            for row, u in enumerate(units):
                members = self.unit_members[u]
                km = distance_matrix_km(
                    self.account_lat[members], self.account_lon[members], self.rep_lat, self.rep_lon
                )
                ok[row] &= (km <= self.max_distance_km + 1e-9).all(axis=0)
        locked = self.locked_rep[units]
        for row in np.flatnonzero(locked >= 0):
            keep = ok[row, locked[row]]
            ok[row] = False
            ok[row, locked[row]] = keep
        return ok

    def unit_blocks(self):
        """Unit index blocks of CHUNK, for memory-bounded sweeps over all pairs."""
        for start in range(0, self.n_units, CHUNK):
            yield np.arange(start, min(start + CHUNK, self.n_units))

    def moved_potential_of(self, unit_rep: np.ndarray) -> float:
        """Potential that changes hands in an assignment (unit -> rep position)."""
        rep_of_account = unit_rep[self.account_unit]
        moved = rep_of_account != self.current_rep
        return float(self.account_potential[moved].sum())


# ---------------------------------------------------------------------- from scenario data


def _rep_region_allowed(
    account_regions: pd.Series, rep_regions: pd.Series, ancestors: dict[str, tuple[str, ...]] | None
) -> np.ndarray:
    """(A, J) bool: a rep with a region owns only accounts in that region (or a child)."""
    acc = account_regions.astype(object).where(account_regions.notna(), None)
    ok = np.ones((len(acc), len(rep_regions)), dtype=bool)
    present = {r for r in acc if r is not None}
    for j, region in enumerate(rep_regions):
        if region is None or (isinstance(region, float) and np.isnan(region)):
            continue
        inside = {r for r in present if region in (ancestors.get(r, (r,)) if ancestors else (r,))}
        ok[:, j] = acc.isin(inside).to_numpy()
    return ok


def _segment_allowed(account_segments: pd.Series, rep_segments: pd.Series) -> np.ndarray:
    """(A, J) bool: a rep with a segment owns only accounts of that segment."""
    acc = account_segments.astype(object).where(account_segments.notna(), None).to_numpy()
    ok = np.ones((len(acc), len(rep_segments)), dtype=bool)
    for j, segment in enumerate(rep_segments):
        if segment is None or (isinstance(segment, float) and np.isnan(segment)):
            continue
        ok[:, j] = acc == segment
    return ok


def build_problem(data, *, max_moved_share: float | None = None) -> PlanningProblem:
    """Turn validated scenario data (data.ScenarioData) into the optimiser's arrays."""
    settings = data.settings
    accounts = data.accounts.sort_values("account_id", kind="stable").reset_index(drop=True)
    reps_all = data.reps.sort_values("rep_id", kind="stable").reset_index(drop=True)
    reps = reps_all[reps_all["status"] != "leaving"].reset_index(drop=True)
    metrics = [rule.metric for rule in settings.balance]
    tolerance = np.array([rule.tolerance for rule in settings.balance], dtype=float)

    rep_position = {rep_id: j for j, rep_id in enumerate(reps["rep_id"])}
    current = np.array(
        [rep_position.get(r, -1) if r is not None else -1 for r in accounts["current_rep_id"]],
        dtype=int,
    )

    unit_ids, unit_members, unit_of_account = _units(accounts, settings.constraints.keep_together)
    unit_load, target, lower, upper = _balance_bounds(
        accounts, reps, metrics, tolerance, unit_of_account, len(unit_ids)
    )
    allowed = _allowed_pairs(accounts, reps, data.regions, unit_of_account, len(unit_ids))
    locked_rep, leaving_locks = _locked_reps(
        accounts, current, unit_ids, unit_members, unit_of_account
    )
    potential = accounts["potential"].to_numpy(dtype=float)
    moved_cap = _moved_potential_cap(settings, max_moved_share, potential)

    return PlanningProblem(
        unit_ids=np.array(unit_ids, dtype=object),
        unit_members=unit_members,
        account_ids=accounts["account_id"].to_numpy(dtype=object),
        account_unit=unit_of_account,
        rep_ids=reps["rep_id"].to_numpy(dtype=object),
        metrics=metrics,
        unit_load=unit_load,
        target=target,
        lower=lower,
        upper=upper,
        tolerance=tolerance,
        allowed=allowed,
        locked_rep=locked_rep,
        current_rep=current,
        account_workload=accounts["workload"].to_numpy(dtype=float),
        account_potential=potential,
        travel_weight=float(settings.objective.travel),
        disruption_weight=float(settings.objective.disruption),
        max_moved_potential=moved_cap,
        account_lat=accounts["lat"].to_numpy(dtype=float),
        account_lon=accounts["lon"].to_numpy(dtype=float),
        rep_lat=reps["lat"].to_numpy(dtype=float),
        rep_lon=reps["lon"].to_numpy(dtype=float),
        max_distance_km=settings.constraints.max_distance_km,
        notes={
            "leaving_locks": leaving_locks,
            "leaving_reps": reps_all.loc[reps_all["status"] == "leaving", "rep_id"].tolist(),
            "segments": accounts["segment"].tolist(),
            # keyed by ID (sub-problems slice positions): what diagnose.py names when an
            # account can go to no rep
            "rep_segments": dict(zip(reps["rep_id"], reps["segment"])),
            "account_regions": dict(zip(accounts["account_id"], accounts["region_id"])),
            "account_names": accounts["name"].tolist(),
        },
    )


def _keep_together_groups(accounts: pd.DataFrame, group_column: str | None) -> pd.Series:
    """Each account's keep-together group (None where blank or when no column is set)."""
    if group_column:
        groups = accounts[group_column].astype(object)
        return groups.where(groups.notna() & groups.astype(str).str.strip().ne(""), None)
    return pd.Series([None] * len(accounts), dtype=object)


def _units(
    accounts: pd.DataFrame, group_column: str | None
) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """Units, sorted by ID: keep-together groups become one unit each ("group:<name>"); the
    rest (a group of one included) are single accounts under their account_id.

    Returns the unit IDs, each unit's account positions and each account's unit.
    """
    groups = _keep_together_groups(accounts, group_column)
    group_members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        if g is not None:
            group_members.setdefault(str(g), []).append(i)
    singleton_groups = {g for g, m in group_members.items() if len(m) == 1}
    order: list[tuple[str, list[int]]] = []
    for i, account_id in enumerate(accounts["account_id"]):
        g = groups.iloc[i]
        if g is None or str(g) in singleton_groups:
            order.append((str(account_id), [i]))
    for g, members in group_members.items():
        if g not in singleton_groups:
            order.append((f"group:{g}", members))
    order.sort(key=lambda item: item[0])
    unit_of_account = np.empty(len(accounts), dtype=int)
    unit_ids: list[str] = []
    unit_members: list[np.ndarray] = []
    for u, (uid, members) in enumerate(order):
        unit_ids.append(uid)
        unit_members.append(np.array(members, dtype=int))
        unit_of_account[members] = u
    return unit_ids, unit_members, unit_of_account


def _balance_bounds(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    metrics: list[str],
    tolerance: np.ndarray,
    unit_of_account: np.ndarray,
    n_units: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each unit's load per metric, and each rep's target and band: the metric's total
    shared by capacity, widened by the rule's tolerance either side."""
    values = (
        np.vstack([accounts[m].to_numpy(dtype=float) for m in metrics])
        if metrics
        else np.zeros((0, len(accounts)))
    )
    unit_load = np.zeros((len(metrics), n_units))
    for m in range(len(metrics)):
        np.add.at(unit_load[m], unit_of_account, values[m])

    capacity = reps["capacity"].to_numpy(dtype=float)
    share = capacity / capacity.sum() if len(capacity) else capacity
    totals = values.sum(axis=1) if metrics else np.zeros(0)
    target = totals[:, None] * share[None, :]
    lower = target * (1.0 - tolerance[:, None])
    upper = target * (1.0 + tolerance[:, None])
    return unit_load, target, lower, upper


def _allowed_pairs(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    regions,
    unit_of_account: np.ndarray,
    n_units: int,
) -> np.ndarray | None:
    """The (unit, rep) pairs the segment and region rules allow, None when all are: worked
    out on accounts first, then a unit is allowed to a rep only if all its accounts are."""
    ancestors = None
    if regions is not None:
        from .geo import region_ancestors

        ancestors = region_ancestors(regions)
    acc_allowed = _segment_allowed(accounts["segment"], reps["segment"])
    if reps["region_id"].notna().any():
        acc_allowed &= _rep_region_allowed(accounts["region_id"], reps["region_id"], ancestors)
    unit_allowed = np.ones((n_units, len(reps)), dtype=bool)
    np.logical_and.at(unit_allowed, unit_of_account, acc_allowed)
    return None if unit_allowed.all() else unit_allowed


def _locked_reps(
    accounts: pd.DataFrame,
    current: np.ndarray,
    unit_ids: list[str],
    unit_members: list[np.ndarray],
    unit_of_account: np.ndarray,
) -> tuple[np.ndarray, list[str]]:
    """Each unit's locked rep position (-1 where not locked) and the locked accounts whose
    owner is leaving; a keep-together group locked to different reps is an InputError."""
    locked_rep = np.full(len(unit_ids), -1, dtype=int)
    conflicts: list[Problem] = []
    leaving_locks: list[str] = []
    is_locked = accounts["locked"].to_numpy(dtype=bool)
    owner_ids = accounts["current_rep_id"].to_numpy(dtype=object)
    account_id_values = accounts["account_id"].to_numpy(dtype=object)
    for u in np.unique(unit_of_account[is_locked]):
        members = unit_members[u][is_locked[unit_members[u]]]
        owners = {int(current[i]) for i in members}
        raw_owners = {owner_ids[i] for i in members}
        if -1 in owners:
            leaving_locks.extend(str(account_id_values[i]) for i in members if current[i] < 0)
        if len(raw_owners) > 1:
            conflicts.append(
                Problem(
                    file="accounts",
                    column="locked",
                    message=f"keep-together group {unit_ids[u]} has accounts "
                    f"locked to different reps: {sorted(raw_owners)}",
                    fix="lock them to one rep or unlock some",
                )
            )
        locked_rep[u] = max(owners)
    if conflicts:
        raise InputError(conflicts)
    return locked_rep, leaving_locks


def _moved_potential_cap(
    settings, max_moved_share: float | None, potential: np.ndarray
) -> float | None:
    """The most potential that may change hands: the share asked for (the argument, else
    the scenario's max_moved_share) of the total; None when neither sets one."""
    share_limit = (
        max_moved_share if max_moved_share is not None else settings.constraints.max_moved_share
    )
    if share_limit is None:
        return None
    return float(share_limit) * float(potential.sum())


def assignment_problem(
    cost: np.ndarray,
    loads: np.ndarray,
    capacity: np.ndarray,
    *,
    maximise: bool = False,
    unit_ids=None,
    rep_ids=None,
) -> PlanningProblem:
    """A generalised assignment problem in the engine's terms (Python API for GAP data).

    ``cost[u, j]`` is the cost of giving unit u to rep j, ``loads[u, j]`` the effort it takes
    that rep, ``capacity[j]`` the rep's limit: ``sum_u loads[u, j] x[u, j] <= capacity[j]``.
    Serving an account can cost one rep more effort than another (travel time, language);
    this is the door for that. ``maximise`` flips the objective (OR-Library gap1..12).
    """
    cost = np.asarray(cost, dtype=float)
    loads = np.asarray(loads, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    n_units, n_reps = cost.shape
    if loads.shape != cost.shape or capacity.shape != (n_reps,):
        raise InputError(
            f"shapes disagree: cost {cost.shape}, loads {loads.shape}, capacity {capacity.shape}"
        )
    unit_ids = np.array(
        unit_ids if unit_ids is not None else [str(u + 1) for u in range(n_units)], dtype=object
    )
    rep_ids = np.array(
        rep_ids if rep_ids is not None else [str(j + 1) for j in range(n_reps)], dtype=object
    )
    return PlanningProblem(
        unit_ids=unit_ids,
        unit_members=[np.array([u]) for u in range(n_units)],
        account_ids=unit_ids,
        account_unit=np.arange(n_units),
        rep_ids=rep_ids,
        metrics=["workload"],
        unit_load=np.zeros((1, n_units)),
        target=capacity[None, :].copy(),
        lower=np.full((1, n_reps), -np.inf),
        upper=capacity[None, :].copy(),
        tolerance=np.zeros(1),
        allowed=None,
        locked_rep=np.full(n_units, -1, dtype=int),
        current_rep=np.full(n_units, -1, dtype=int),
        account_workload=np.ones(n_units),
        account_potential=np.zeros(n_units),
        travel_weight=0.0,
        cost_matrix=cost,
        pair_load=loads[None],
        sense=-1 if maximise else 1,
    )
