"""Geography mode: regions as the unit of assignment (docs/geography-mode.md).

Two steps, one per layer. ``check_region_mode`` validates what only region mode needs
(the regions file's owners and locks, overlaps, every account inside a region, the
``named`` column) and is called by data.load_data so ``validate`` sees every problem.
``build_region_problem`` turns the validated data into the optimiser's arrays: one unit per
region of the file (its non-named accounts; an empty region is a unit with no members and no
load that must still be assigned), one unit per named account, and the neighbours of each
region unit for the contiguity rows (geo.py does every piece of geometry).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, Problem, ProblemList
from .problem import PlanningProblem, build_problem

REGION_PREFIX = "region:"
_TRUE = {"true", "t", "yes", "y", "1", "x"}
_FALSE = {"false", "f", "no", "n", "0", "", "none", "nan"}


def _flags(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(flag, unreadable) of a true/false column given as text, numbers or booleans."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip().str.lower()
    return text.isin(_TRUE).to_numpy(), (~text.isin(_TRUE | _FALSE)).to_numpy()


def _text(values: pd.Series) -> np.ndarray:
    out = values.astype(object).where(values.notna(), None).to_numpy(dtype=object)
    return np.array([None if v is None or str(v).strip() == "" else str(v).strip() for v in out])


def _check_region_owners(regions, rep_ids: set[str], file: str, problems: ProblemList) -> None:
    """current_rep_id on a region names a rep of the reps file; locked needs an owner."""
    owners = _text(regions["current_rep_id"]) if "current_rep_id" in regions.columns else None
    locked, bad_lock = _flags(regions["locked"]) if "locked" in regions.columns else (None, None)
    for k, rid in enumerate(regions["region_id"]):
        owner = owners[k] if owners is not None else None
        if owner is not None and owner not in rep_ids:
            problems.add(
                file,
                f"region {rid}: current_rep_id '{owner}' is not a rep in the reps file",
                column="current_rep_id",
                fix="correct the ID or blank it",
            )
        if bad_lock is not None and bad_lock[k]:
            problems.add(
                file,
                f"region {rid}: locked is not true/false ('{regions['locked'].iloc[k]}')",
                column="locked",
                fix="use true or false",
            )
        elif locked is not None and locked[k] and owner is None:
            problems.add(
                file,
                f"region {rid} is locked but has no current_rep_id",
                column="locked",
                fix="name its owner in current_rep_id or set locked to false",
            )


def _check_accounts_placed(accounts, regions, account_file: str, problems: ProblemList) -> None:
    """Every account lies in a region: name the rows outside, with the nearest region."""
    from .data import _rows_in
    from .geo import nearest_regions

    outside = accounts["region_id"].isna().to_numpy()
    located = outside & accounts["lat"].notna().to_numpy() & accounts["lon"].notna().to_numpy()
    rows = _rows_in(accounts, located)
    if located.any():
        near, km = nearest_regions(
            accounts.loc[located, "lat"].to_numpy(),
            accounts.loc[located, "lon"].to_numpy(),
            regions,
        )
        for row, region, dist in zip(rows, near, km):
            problems.add(
                account_file,
                f"the account lies in no region of the regions file (nearest: region "
                f"{region}, {dist:,.1f} km away)",
                row=row,
                column="region_id",
                fix=f"set region_id to {region} or correct lat/lon",
            )
    for row in _rows_in(accounts, outside & ~located):
        problems.add(
            account_file,
            "the account has neither a location nor a region_id, so it follows no region",
            row=row,
            column="region_id",
            fix="give its lat/lon, postal_code or region_id",
        )


def named_flags(accounts: pd.DataFrame, account_file: str, problems: ProblemList) -> pd.Series:
    """The accounts' ``named`` column as booleans (blank: False); a cell that is not
    true/false is a problem naming its row and the value read."""
    from .data import _rows_in

    raw = accounts["named"] if "named" in accounts.columns else pd.Series("", index=accounts.index)
    named, unreadable = _flags(raw)
    for row, value in zip(_rows_in(accounts, unreadable), raw[unreadable]):
        problems.add(
            account_file,
            f"named is not true/false ('{value}')",
            row=row,
            column="named",
            fix="use true or false",
        )
    return named


def check_region_mode(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    regions,
    settings,
    account_file: str,
    problems: ProblemList,
) -> pd.DataFrame:
    """Region-mode checks, every problem collected; returns accounts with ``named`` (bool)."""
    region_file = str(settings.regions) if settings.regions is not None else "scenario"
    accounts = accounts.copy()
    accounts["named"] = named_flags(accounts, account_file, problems)
    if regions is None:
        problems.add(
            region_file,
            "unit: region needs a regions file (GeoJSON, GeoPackage or Shapefile)",
            column="regions",
            fix="add 'regions: path/to/regions.geojson' to the scenario",
        )
        return accounts
    if settings.constraints.keep_together:
        problems.add(
            region_file,
            "constraints.keep_together is not supported in region mode yet: accounts "
            "follow their region (mark an account named to assign it on its own)",
            column="keep_together",
            fix="remove keep_together or plan with unit: account",
        )
    from .geo import region_overlaps

    for a, b, share in region_overlaps(regions):
        problems.add(
            region_file,
            f"regions {a} and {b} overlap by {share:.1%} of the smaller one (more than a sliver)",
            column="geometry",
            fix="correct the polygons so each place lies in one region",
        )
    _check_region_owners(regions, set(reps["rep_id"]), region_file, problems)
    _check_accounts_placed(accounts, regions, account_file, problems)
    return accounts


# --------------------------------------------------------------------------- the problem


@dataclass
class RegionProblem:
    """The optimiser's problem in region mode plus what the plan folder needs back.

    Units ``0 .. n_regions - 1`` are the regions in region_id order, the rest the named
    accounts; ``neighbours[u]`` holds the region units next to region unit u (island links
    included), empty for a named account.
    """

    problem: PlanningProblem
    region_ids: list[str]
    neighbours: list[np.ndarray]
    links: list[dict]
    previous_rep: list[str | None]  # today's owner of each region
    home_region: np.ndarray  # (J,) region unit of each rep's home base, -1 outside them all
    adjacency: str
    contiguous: bool

    @property
    def n_regions(self) -> int:
        return len(self.region_ids)


def _previous_owners(accounts, regions, region_ids: list[str]) -> list[str | None]:
    """The region's current_rep_id, else the rep owning most of its accounts' potential
    today (ties: most accounts, then the smallest rep_id)."""
    given = (
        dict(zip(regions["region_id"].astype(str), _text(regions["current_rep_id"])))
        if "current_rep_id" in regions.columns
        else {}
    )
    owned = accounts[accounts["current_rep_id"].notna()]
    totals = owned.groupby(["region_id", "current_rep_id"]).agg(
        potential=("potential", "sum"), accounts=("account_id", "size")
    )
    best: dict[str, str] = {}
    for (region, rep), _ in sorted(
        totals.iterrows(), key=lambda item: (-item[1]["potential"], -item[1]["accounts"], item[0])
    ):
        best.setdefault(str(region), str(rep))
    return [given.get(r) or best.get(r) for r in region_ids]


def _region_locks(base, accounts, regions, region_ids, members, named) -> np.ndarray:
    """Rep position each region is locked to (-1: free); the region file's lock, or a locked
    account following it. Two different locks in one region are an input error."""
    rep_position = {r: j for j, r in enumerate(base.rep_ids)}
    locks = np.full(len(region_ids), -1, dtype=int)
    file_locks: dict[str, str] = {}
    if "locked" in regions.columns and "current_rep_id" in regions.columns:
        flags, _ = _flags(regions["locked"])
        owners = _text(regions["current_rep_id"])
        file_locks = {str(r): o for r, o, f in zip(regions["region_id"], owners, flags) if f}
    problems = ProblemList()
    locked_accounts = accounts["locked"].to_numpy(dtype=bool) & ~named
    owners = accounts["current_rep_id"].to_numpy(dtype=object)
    for k, rid in enumerate(region_ids):
        wanted = {file_locks[rid]} if rid in file_locks else set()
        wanted |= {owners[i] for i in members[k] if locked_accounts[i]}
        if len(wanted) > 1:
            problems.add(
                "regions",
                f"region {rid} is locked to different reps: {sorted(wanted)} (the region "
                "file or its accounts' locks)",
                column="locked",
                fix="lock the region and its accounts to one rep, or name the account",
            )
        elif wanted:
            locks[k] = rep_position.get(wanted.pop(), -2)
    problems.raise_if_any()
    return locks


def _unit_neighbours(regions, region_ids, adjacency: str) -> tuple[list[np.ndarray], list[dict]]:
    from .geo import island_links, snapped_adjacency

    near = snapped_adjacency(regions, queen=adjacency == "queen")
    links = island_links(regions, near)
    position = {r: k for k, r in enumerate(region_ids)}
    sets = {r: set(near.get(r, ())) for r in region_ids}
    for link in links:
        sets[link["from"]].add(link["to"])
        sets[link["to"]].add(link["from"])
    return [np.array(sorted(position[n] for n in sets[r]), dtype=int) for r in region_ids], links


def region_overview(data) -> dict:
    """What geography mode will plan over, for ``validate``: the number of regions and of
    those with no account, the named accounts, the adjacency, whether contiguity is asked
    for, and the island links (parts of the map with no neighbour, joined to their nearest
    region: a planner should see them before the first solve, not only in summary.json)."""
    settings = data.settings
    region_ids = sorted(data.regions["region_id"].astype(str))
    named = data.accounts["named"].to_numpy(dtype=bool)
    followed = set(data.accounts.loc[~named, "region_id"].dropna().astype(str))
    _, links = _unit_neighbours(data.regions, region_ids, settings.adjacency)
    names = dict(zip(data.regions["region_id"].astype(str), data.regions["name"].astype(str)))
    for link in links:
        link.update({f"{end}_name": names.get(link[end], "") for end in ("from", "to")})
    regions = data.regions
    locked = 0
    if "locked" in regions.columns and "current_rep_id" in regions.columns:
        locked = int(_flags(regions["locked"])[0].sum())
    return {
        "regions": len(region_ids),
        "empty_regions": sum(r not in followed for r in region_ids),
        "locked_regions": locked,
        "named_accounts": int(named.sum()),
        "adjacency": settings.adjacency,
        "contiguous": settings.constraints.contiguous is not False,
        "island_links": links,
    }


def build_region_problem(data) -> RegionProblem:
    """Units = regions (+ named accounts) over the account-level problem's arrays.

    Loads of a region are the sums over its non-named accounts, its travel to rep j is
    ``sum_i workload_i * km(i, j)`` over the same accounts (the travel definition of docs/design.md
    section 3,
    exact, not a centroid estimate), and a pair is allowed when it is for every account of
    the region and the rep's region_id (if any) is the region or one of its parents.
    """
    from .geo import region_ancestors

    settings = data.settings
    plain = settings.model_copy(
        update={"constraints": settings.constraints.model_copy(update={"keep_together": None})}
    )
    accounts = data.accounts.sort_values("account_id", kind="stable").reset_index(drop=True)
    base = build_problem(dataclasses.replace(data, settings=plain, accounts=accounts))
    regions = data.regions
    region_ids = sorted(regions["region_id"].astype(str))
    named = accounts["named"].to_numpy(dtype=bool) if "named" in accounts.columns else None
    named = np.zeros(len(accounts), dtype=bool) if named is None else named
    region_of = accounts["region_id"].astype(object).to_numpy()
    position = {r: k for k, r in enumerate(region_ids)}
    members = [[] for _ in region_ids]
    for i in np.flatnonzero(~named):
        members[position[str(region_of[i])]].append(i)
    members = [np.array(m, dtype=int) for m in members] + [
        np.array([i]) for i in np.flatnonzero(named)
    ]
    n_units = len(members)
    account_unit = np.empty(len(accounts), dtype=int)
    for u, m in enumerate(members):
        account_unit[m] = u

    account_allowed = base.allowed if base.allowed is not None else None
    allowed = np.ones((n_units, base.n_reps), dtype=bool)
    if account_allowed is not None:
        np.logical_and.at(allowed, account_unit, account_allowed)
    reps = data.reps.sort_values("rep_id", kind="stable")
    rep_regions = reps.loc[reps["status"] != "leaving", "region_id"].to_numpy(dtype=object)
    ancestors = region_ancestors(regions)
    for j, scope in enumerate(rep_regions):
        if scope is not None and not (isinstance(scope, float) and np.isnan(scope)):
            for k, rid in enumerate(region_ids):
                allowed[k, j] &= scope in ancestors.get(rid, (rid,))

    locked = np.full(n_units, -1, dtype=int)
    locked[: len(region_ids)] = _region_locks(base, accounts, regions, region_ids, members, named)
    leaving_locks = [region_ids[k] for k in np.flatnonzero(locked[: len(region_ids)] == -2)]
    locked[locked == -2] = -1
    named_units = np.flatnonzero(named)
    locked[len(region_ids) :] = base.locked_rep[named_units]

    unit_load = np.zeros((base.n_metrics, n_units))
    for m in range(base.n_metrics):
        np.add.at(unit_load[m], account_unit, base.unit_load[m])
    unit_ids = [REGION_PREFIX + r for r in region_ids] + [
        str(a) for a in base.account_ids[named_units]
    ]
    neighbours, links = _unit_neighbours(regions, region_ids, settings.adjacency)
    neighbours += [np.array([], dtype=int) for _ in named_units]
    notes = dict(base.notes)
    notes["locked_units"] = "locked regions and accounts"  # the precheck's words for locks
    notes["leaving_locks"] = list(notes.get("leaving_locks", [])) + [
        f"{REGION_PREFIX}{r}" for r in leaving_locks
    ]
    problem = dataclasses.replace(
        base,
        unit_ids=np.array(unit_ids, dtype=object),
        unit_members=members,
        account_unit=account_unit,
        unit_load=unit_load,
        allowed=None if allowed.all() else allowed,
        locked_rep=locked,
        notes=notes,
    )
    contiguous = settings.constraints.contiguous is not False
    from .geo import locate_points

    homes = locate_points(base.rep_lat, base.rep_lon, regions, max_snap_km=0.0)
    home_region = np.array([position.get(h, -1) if h is not None else -1 for h in homes])
    return RegionProblem(
        problem=problem,
        region_ids=region_ids,
        neighbours=neighbours,
        links=links,
        previous_rep=_previous_owners(accounts, regions, region_ids),
        home_region=home_region,
        adjacency=settings.adjacency,
        contiguous=contiguous,
    )


def regions_table(geography: RegionProblem, unit_rep: np.ndarray) -> pd.DataFrame:
    """regions.csv: every region once with its rep, today's owner, its accounts (those that
    follow it, named accounts excluded) and its load on each balance metric."""
    problem = geography.problem
    n = geography.n_regions
    frame = pd.DataFrame(
        {
            "region_id": geography.region_ids,
            "rep_id": problem.rep_ids[unit_rep[:n]],
            "previous_rep_id": geography.previous_rep,
            "accounts": [len(problem.unit_members[u]) for u in range(n)],
        }
    )
    for m, metric in enumerate(problem.metrics):
        frame[metric] = problem.unit_load[m, :n]
    return frame


def region_summary(geography: RegionProblem, proven: bool) -> dict:
    """summary.json fields of a region-mode plan."""
    return {
        "unit": "region",
        "regions": geography.n_regions,
        "named_accounts": int(geography.problem.n_units - geography.n_regions),
        "contiguity": {
            "required": geography.contiguous,
            "proven": bool(proven),
            "adjacency": geography.adjacency,
            "island_links": list(geography.links),
        },
    }


def refuse_region_mode(settings, what: str) -> None:
    """Workflows that do not handle region mode yet say so (exit 2) instead of planning
    accounts one by one behind the planner's back."""
    if getattr(settings, "unit", "account") == "region":
        raise InputError(
            Problem(
                file=str(getattr(settings, "source", None) or "scenario"),
                column="unit",
                message=f"{what} does not support unit: region yet",
                fix="plan the scenario with 'territory-planner plan', or use unit: account",
            )
        )
