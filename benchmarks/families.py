"""Seeded benchmark families: data shaped unlike one generator.

    python benchmarks/families.py --family nationwide --accounts 10000 --reps 50 --out /tmp/f2

Every family writes accounts.csv, reps.csv and scenario.yaml. The families:

1. ``clustered``: accounts around metro centres (benchmarks/synthetic.py), bands 5% / 10%.
2. ``nationwide``: accounts at real ZIP centroids of the contiguous states (the ``zipcodes``
   package), reps at metro downtowns in proportion to the metro's accounts, so many rural
   accounts lie far from any rep.
3. ``uniform``: accounts spread uniformly over Texas (its real outline, libpysal's ``us48``),
   reps at uniformly drawn sites.
4. ``rules``: clustered accounts with heavy rules: 10% locked, three segments (reps too), and
   reps restricted to one of four sales regions (longitude bands holding a quarter of the
   reps each; an account's region is its band).
5. ``tight``: clustered, bands of 2% on workload and 5% on potential.
6. ``giant``: clustered, and the top 1% of accounts hold 20% of the workload.
7. ``continuity``: clustered, today's owners far from balanced (a balanced plan of compact
   territories, then 16% of the reps hand 40% of their workload to a neighbour: a third
   of the reps 40% off their target), disruption weighted and at most 10% of potential may
   move; moving the handed accounts back fits the budget, so a plan exists.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import make_instance, scenario_dict  # noqa: E402

#: metro downtowns (lat, lon) used as rep sites for the nationwide family
METROS = [
    (40.7128, -74.0060),
    (34.0522, -118.2437),
    (41.8781, -87.6298),
    (29.7604, -95.3698),
    (33.4484, -112.0740),
    (39.9526, -75.1652),
    (29.4241, -98.4936),
    (32.7157, -117.1611),
    (32.7767, -96.7970),
    (37.3382, -121.8863),
    (30.2672, -97.7431),
    (30.3322, -81.6557),
    (37.7749, -122.4194),
    (39.9612, -82.9988),
    (35.2271, -80.8431),
    (39.7684, -86.1581),
    (47.6062, -122.3321),
    (39.7392, -104.9903),
    (38.9072, -77.0369),
    (42.3601, -71.0589),
    (36.1627, -86.7816),
    (35.1495, -90.0490),
    (45.5152, -122.6784),
    (36.1699, -115.1398),
    (42.3314, -83.0458),
    (39.2904, -76.6122),
    (43.0389, -87.9065),
    (35.0844, -106.6504),
    (32.2226, -110.9747),
    (36.7378, -119.7871),
    (38.5816, -121.4944),
    (39.0997, -94.5786),
    (33.7490, -84.3880),
    (25.7617, -80.1918),
    (44.9778, -93.2650),
    (41.4993, -81.6944),
    (27.9506, -82.4572),
    (40.4406, -79.9959),
    (38.6270, -90.1994),
    (39.1031, -84.5120),
    (40.7608, -111.8910),
    (35.4676, -97.5164),
    (36.1540, -95.9928),
    (29.9511, -90.0715),
    (43.0481, -76.1474),
    (42.8864, -78.8784),
    (35.7796, -78.6382),
    (37.5407, -77.4360),
    (41.2565, -95.9345),
    (38.2527, -85.7585),
    (46.8772, -96.7898),
    (43.6150, -116.2023),
    (46.5891, -112.0391),
    (32.2988, -90.1848),
    (34.7465, -92.2896),
    (44.0805, -103.2310),
]


def _rng(seed: int, family: str) -> np.random.Generator:
    return np.random.default_rng([seed, sum(map(ord, family))])


def _zip_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    import zipcodes

    rows = [z for z in zipcodes.list_all() if z["lat"] and z["long"]]
    lat = np.array([float(z["lat"]) for z in rows])
    lon = np.array([float(z["long"]) for z in rows])
    keep = (lat > 24.5) & (lat < 49.5) & (lon > -125.0) & (lon < -66.5)  # contiguous states
    lat, lon = lat[keep], lon[keep]
    pick = rng.choice(len(lat), size=n, replace=True)
    # several accounts per ZIP sit a little apart, as addresses in one ZIP do
    return (
        np.round(lat[pick] + rng.normal(0, 0.01, n), 5),
        np.round(lon[pick] + rng.normal(0, 0.01, n), 5),
    )


def _nearest(lat, lon, rep_lat, rep_lon, k: int = 1) -> np.ndarray:
    out = np.empty((len(lat), k), dtype=int)
    for start in range(0, len(lat), 4096):
        sl = slice(start, start + 4096)
        d = (lat[sl, None] - rep_lat[None]) ** 2 + ((lon[sl, None] - rep_lon[None]) * 0.8) ** 2
        out[sl] = np.argsort(d, axis=1)[:, :k]
    return out


def _rep_frame(rep_lat, rep_lon) -> pd.DataFrame:
    n = len(rep_lat)
    return pd.DataFrame(
        {
            "rep_id": [f"R{j + 1:04d}" for j in range(n)],
            "name": [f"Rep {j + 1}" for j in range(n)],
            "lat": np.round(rep_lat, 5),
            "lon": np.round(rep_lon, 5),
            "capacity": 1.0,
            "status": "active",
        }
    )


def _relocate(accounts: pd.DataFrame, lat, lon, reps: pd.DataFrame, rng) -> pd.DataFrame:
    """Accounts of the base instance moved to new sites; today's owner among the nearest."""
    accounts = accounts.copy()
    accounts["lat"], accounts["lon"] = lat, lon
    near = _nearest(lat, lon, reps["lat"].to_numpy(), reps["lon"].to_numpy(), k=3)
    pick = rng.choice(3, size=len(lat), p=[0.8, 0.15, 0.05])
    accounts["current_rep_id"] = reps["rep_id"].to_numpy()[near[np.arange(len(lat)), pick]]
    return accounts


def nationwide(n_accounts: int, n_reps: int, seed: int):
    rng = _rng(seed, "nationwide")
    accounts, _ = make_instance(n_accounts, n_reps, seed)
    lat, lon = _zip_points(rng, n_accounts)
    metros = np.array(METROS)
    share = np.bincount(_nearest(lat, lon, metros[:, 0], metros[:, 1])[:, 0], minlength=len(metros))
    # reps per metro in proportion to the accounts nearest it, at least one where any are
    seats = np.maximum((share > 0).astype(int), np.floor(share / share.sum() * n_reps).astype(int))
    while seats.sum() > n_reps:
        seats[np.argmax(seats)] -= 1
    while seats.sum() < n_reps:
        seats[np.argmax(share / np.maximum(seats, 1))] += 1
    site = np.repeat(np.arange(len(metros)), seats)
    rep_lat = metros[site, 0] + rng.normal(0, 0.04, n_reps)
    rep_lon = metros[site, 1] + rng.normal(0, 0.04, n_reps)
    reps = _rep_frame(rep_lat, rep_lon)
    return _relocate(accounts, lat, lon, reps, rng), reps, {}


def uniform(n_accounts: int, n_reps: int, seed: int):
    import geopandas as gpd
    import libpysal
    from shapely import contains_xy

    rng = _rng(seed, "uniform")
    states = gpd.read_file(libpysal.examples.get_path("us48.shp"))
    texas = states.loc[states["STATE_NAME"] == "Texas"].geometry.union_all()
    west, south, east, north = texas.bounds

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        lat, lon = np.empty(0), np.empty(0)
        while len(lat) < n:
            x = rng.uniform(west, east, 2 * n)
            y = rng.uniform(south, north, 2 * n)
            inside = contains_xy(texas, x, y)
            lat, lon = np.concatenate([lat, y[inside]]), np.concatenate([lon, x[inside]])
        return np.round(lat[:n], 5), np.round(lon[:n], 5)

    accounts, _ = make_instance(n_accounts, n_reps, seed)
    lat, lon = draw(n_accounts)
    reps = _rep_frame(*draw(n_reps))
    return _relocate(accounts, lat, lon, reps, rng), reps, {}


def rules(n_accounts: int, n_reps: int, seed: int):
    rng = _rng(seed, "rules")
    accounts, reps = make_instance(n_accounts, n_reps, seed)
    names = np.array(["west", "central", "east", "atlantic"])
    segments = np.array(["enterprise", "mid-market", "smb"])
    # four sales regions, west to east: a quarter of the reps each, and each region's
    # accounts hold the same share of the workload as its reps of the headcount (a sales
    # organisation sizes its teams to their load; otherwise no band could hold)
    groups = np.array_split(np.argsort(reps["lon"].to_numpy(), kind="stable"), 4)
    rep_region = np.empty(n_reps, dtype=object)
    rep_segment = np.empty(n_reps, dtype=object)
    for k, members in enumerate(groups):
        rep_region[members] = names[k]
        rep_segment[members] = segments[np.arange(len(members)) % 3]
    reps["region_id"], reps["segment"] = rep_region, rep_segment
    account_region = _split_by_workload(
        accounts["lon"].to_numpy(), accounts["workload"].to_numpy(), [len(g) for g in groups]
    )
    accounts["region_id"] = names[account_region]
    account_segment = np.empty(n_accounts, dtype=object)
    for k, members in enumerate(groups):
        inside = np.flatnonzero(account_region == k)
        seats = [int((rep_segment[members] == s).sum()) for s in segments]
        shuffled = rng.permutation(inside)
        share = _split_by_workload(
            np.arange(len(shuffled)), accounts["workload"].to_numpy()[shuffled], seats
        )
        account_segment[shuffled] = segments[share]
    accounts["segment"] = account_segment
    # 10% of the accounts are locked to their nearest rep of their own region and segment
    locked = rng.random(n_accounts) < 0.10
    owners = accounts["current_rep_id"].to_numpy().copy()
    for (region, segment), rows in (
        accounts[locked].groupby(["region_id", "segment"]).groups.items()
    ):
        cell = np.flatnonzero((rep_region == region) & (rep_segment == segment))
        rows = accounts.index.get_indexer(rows)
        near = _nearest(
            accounts["lat"].to_numpy()[rows],
            accounts["lon"].to_numpy()[rows],
            reps["lat"].to_numpy()[cell],
            reps["lon"].to_numpy()[cell],
        )[:, 0]
        owners[rows] = reps["rep_id"].to_numpy()[cell[near]]
    accounts["current_rep_id"], accounts["locked"] = owners, locked
    return accounts, reps, {}


def _split_by_workload(order_key: np.ndarray, workload: np.ndarray, seats: list[int]):
    """Cut items sorted by ``order_key`` into ``len(seats)`` parts whose workload shares
    are the seat shares; return each item's part."""
    order = np.argsort(order_key, kind="stable")
    share = np.cumsum(workload[order]) / workload.sum()
    edges = np.cumsum(seats)[:-1] / sum(seats)
    part = np.empty(len(order_key), dtype=int)
    part[order] = np.searchsorted(edges, share - 1e-12)
    return part


def tight(n_accounts: int, n_reps: int, seed: int):
    accounts, reps = make_instance(n_accounts, n_reps, seed)
    balance = [
        {"metric": "workload", "tolerance": 0.02},
        {"metric": "potential", "tolerance": 0.05},
    ]
    return accounts, reps, {"balance": balance}


def giant(n_accounts: int, n_reps: int, seed: int):
    rng = _rng(seed, "giant")
    accounts, reps = make_instance(n_accounts, n_reps, seed)
    workload = accounts["workload"].to_numpy().copy()
    top = rng.choice(n_accounts, size=max(1, n_accounts // 100), replace=False)
    rest = np.setdiff1d(np.arange(n_accounts), top)
    # scale the top 1% so that they hold 20% of all workload
    workload[top] *= 0.25 * workload[rest].sum() / workload[top].sum()
    accounts["workload"] = np.round(workload, 1)
    return accounts, reps, {}


def _bisect(x, y, key, idx, parts: int, out: list) -> None:
    """Cut ``idx`` into ``parts`` compact pieces of equal ``key`` by recursive bisection
    along the longer side (the way a sales organisation carves territories)."""
    if parts == 1:
        out.append(idx)
        return
    first = parts // 2
    axis = x if np.ptp(x[idx]) >= np.ptp(y[idx]) else y
    idx = idx[np.argsort(axis[idx], kind="stable")]
    cum = np.cumsum(key[idx])
    cut = int(np.searchsorted(cum, cum[-1] * first / parts))
    _bisect(x, y, key, idx[:cut], first, out)
    _bisect(x, y, key, idx[cut:], parts - first, out)


def _even_out(piece, loads, targets, widths, centre, rounds: int = 400) -> None:
    """Swap single accounts between neighbouring pieces until every piece lies within
    EVEN_SHARE of each band's half-width (in place): the best swap of the worst piece
    with one of its three nearest pieces, while it helps."""
    for _ in range(rounds):
        off = np.abs(np.array([loads[:, i].sum(axis=1) for i in piece]) / targets - 1) / widths
        worst = int(np.argmax(off.max(axis=1)))
        if off[worst].max() <= EVEN_SHARE:
            return
        a = piece[worst]
        dist = np.hypot(*(centre - centre[worst]).T)
        best = (off[worst].max(), None)
        for other in np.argsort(dist)[1:4].tolist():
            b = piece[other]
            la, lb = loads[:, a].sum(axis=1), loads[:, b].sum(axis=1)
            delta = loads[:, b][:, None, :] - loads[:, a][:, :, None]  # (metrics, |a|, |b|)
            new_a = np.abs((la[:, None, None] + delta) / targets[:, None, None] - 1)
            new_b = np.abs((lb[:, None, None] - delta) / targets[:, None, None] - 1)
            worse = np.maximum(new_a, new_b) / widths[:, None, None]
            score = worse.max(axis=0)
            i, k = np.unravel_index(int(np.argmin(score)), score.shape)
            if score[i, k] < best[0] - 1e-12:
                best = (score[i, k], (other, i, k))
        if best[1] is None:
            return
        other, i, k = best[1]
        a_item, b_item = piece[worst][i], piece[other][k]
        piece[worst][i], piece[other][k] = b_item, a_item


#: the balanced plan the continuity owners start from lies within this share of each band
EVEN_SHARE = 0.6
#: continuity: the share of the reps that hand UNBALANCED_MOVE of their workload to a
#: neighbour: the owners are that far from balanced (at 50 reps 8 give and 8 take, 40%
#: off), and moving it back is what the budget must allow
UNBALANCED_GIVERS, UNBALANCED_MOVE = 0.16, 0.4


def _balanced_owners(accounts, reps, tolerances) -> np.ndarray:
    """Each account's rep in a balanced plan: compact pieces of equal workload and
    potential (_bisect, _even_out), each given to the rep nearest its centre by a
    min-cost matching."""
    from scipy.optimize import linear_sum_assignment

    lat, lon = accounts["lat"].to_numpy(), accounts["lon"].to_numpy() * 0.8
    loads = np.vstack([accounts["workload"].to_numpy(), accounts["potential"].to_numpy()])
    n_reps = len(reps)
    key = loads[0] / loads[0].sum() + 0.3 * loads[1] / loads[1].sum()
    piece: list = []
    _bisect(lat, lon, key, np.arange(len(accounts)), n_reps, piece)
    centre = np.array([[lat[i].mean(), lon[i].mean()] for i in piece])
    targets = loads.sum(axis=1) / n_reps
    _even_out(piece, loads, targets, np.asarray(tolerances), centre)
    centre = np.array([[lat[i].mean(), lon[i].mean()] for i in piece])
    rep_xy = np.column_stack([reps["lat"].to_numpy(), reps["lon"].to_numpy() * 0.8])
    cost = np.hypot(*(centre[:, None, :] - rep_xy[None, :, :]).transpose(2, 0, 1))
    rows, cols = linear_sum_assignment(cost)
    owner = np.empty(len(accounts), dtype=int)
    for row, col in zip(rows.tolist(), cols.tolist()):
        owner[piece[row]] = col
    return owner


def continuity(n_accounts: int, n_reps: int, seed: int):
    """Today's owners: a balanced plan (_balanced_owners) knocked far out of balance, each
    of a few reps handing UNBALANCED_MOVE of its workload (the accounts nearest the taker)
    to its nearest neighbour; disruption weighted and at most 10% of potential may move.
    Moving the handed accounts back is within the budget, so the family is feasible; the
    precheck's least moved share (diagnose.least_moved_for_bands) is printed by main."""
    rng = _rng(seed, "continuity")
    accounts, reps = make_instance(n_accounts, n_reps, seed)
    owner = _balanced_owners(accounts, reps, tolerances=[0.05, 0.10])
    lat, lon = accounts["lat"].to_numpy(), accounts["lon"].to_numpy() * 0.8
    rep_xy = np.column_stack([reps["lat"].to_numpy(), reps["lon"].to_numpy() * 0.8])
    workload = accounts["workload"].to_numpy()
    free = np.ones(n_reps, dtype=bool)
    pairs = round(UNBALANCED_GIVERS * n_reps)
    for giver in rng.permutation(n_reps).tolist():
        if pairs == 0:
            break
        if not free[giver]:
            continue
        dist = np.hypot(*(rep_xy - rep_xy[giver]).T)
        dist[~free] = np.inf
        dist[giver] = np.inf
        taker = int(np.argmin(dist))
        if not np.isfinite(dist[taker]):
            break
        free[[giver, taker]] = False
        pairs -= 1
        mine = np.flatnonzero(owner == giver)
        near = mine[
            np.argsort(np.hypot(lat[mine] - rep_xy[taker, 0], lon[mine] - rep_xy[taker, 1]))
        ]
        handed = near[np.cumsum(workload[near]) <= UNBALANCED_MOVE * workload[mine].sum()]
        owner[handed] = taker
    accounts["current_rep_id"] = reps["rep_id"].to_numpy()[owner]
    accounts["locked"] = False
    extra = {
        "objective": {"travel": 1.0, "disruption": 1.0},
        "constraints": {"max_moved_share": 0.10},
    }
    return accounts, reps, extra


def clustered(n_accounts: int, n_reps: int, seed: int):
    accounts, reps = make_instance(n_accounts, n_reps, seed)
    return accounts, reps, {}


FAMILIES = {
    "clustered": clustered,
    "nationwide": nationwide,
    "uniform": uniform,
    "rules": rules,
    "tight": tight,
    "giant": giant,
    "continuity": continuity,
}


def write_family(
    out: Path, family: str, n_accounts: int, n_reps: int, seed: int = 0, time_limit=60.0
) -> Path:
    """Write one family's instance into ``out``; return its scenario path."""
    accounts, reps, extra = FAMILIES[family](n_accounts, n_reps, seed)
    out.mkdir(parents=True, exist_ok=True)
    accounts.to_csv(out / "accounts.csv", index=False)
    reps.to_csv(out / "reps.csv", index=False)
    scenario = scenario_dict(f"{family}-{n_accounts}x{n_reps}", time_limit=time_limit)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(scenario.get(key), dict):
            scenario[key] = {**scenario[key], **value}
        else:
            scenario[key] = value
    path = out / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--family", choices=list(FAMILIES), required=True)
    parser.add_argument("--accounts", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write_family(args.out, args.family, args.accounts, args.reps, args.seed))
