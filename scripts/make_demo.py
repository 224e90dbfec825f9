"""Generate the bundled national US demo scenario (scenarios/demo).

The demo is synthetic sales data placed on real, offline geography:

* regions: the 48 contiguous state polygons of the libpysal ``us_income`` example
  (``us48.shp``, US Census state boundaries), simplified and rounded;
* accounts: about 2,000 companies at real ZIP centroids from the ``zipcodes`` package,
  clustered around ~30 metro hubs plus a rural share, exported with Salesforce column
  names (``Id``, ``BillingPostalCode``, ``OwnerId``, ``ParentId``...) so loading it
  exercises the column aliases, ZIP+4 codes and offline geocoding of blank coordinates;
* reps: 24 active reps placed where the workload is (equal-workload parts, each snapped
  to a real downtown or office-park ZIP) and one ramping new hire at half capacity where
  the most overloaded reps are, with no accounts yet;
* current owners: last year's plan, roughly sensible but unbalanced, so the optimiser has
  real work to do.

Same seed, same bytes: every random draw comes from one seeded generator, every
collection is iterated in a sorted order and every number is formatted explicitly.

    python scripts/make_demo.py                  # seed 2027 into scenarios/demo
    python scripts/make_demo.py --seed 7 --out /tmp/demo7

Needs numpy, pandas, geopandas, shapely, zipcodes and libpysal (only for the state
polygons); the outputs are committed, so running the demo never needs libpysal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import zipcodes
from shapely.geometry import mapping

EARTH_RADIUS_KM = 6371.0088
N_ACCOUNTS = 2000
N_ACTIVE_REPS = 24
RURAL_SHARE = 0.16
HUB_RADIUS_KM = 80.0  # accounts of a metro lie within this distance of its downtown
HUB_DECAY_KM = 22.0  # ... with density falling off exponentially at this scale
RURAL_MIN_KM = 60.0  # a rural account is at least this far from every hub
MAX_OUTSIDE_KM = 25.0  # an account ZIP must lie within this distance of a state polygon
SIMPLIFY_DEG = 0.01
ZIP4_SHARE = 0.05
BLANK_COORDS_SHARE = 0.10
NEW_LOGO_SHARE = 0.08
N_LOCKED = 15
N_GROUPS = 30
# Feasibility margins checked before anything is written (see check_feasibility).
MAX_ACCOUNT_SHARE_OF_SMALLEST_TARGET = 0.40
MAX_LOCKED_SHARE_OF_TARGET = 0.60
# Last year's plan is balanced until no active rep is further than this from its target.
LAST_YEAR_MAX_DEVIATION = 0.40
QUOTA_UPLIFT = 1.10
BALANCE_METRICS = ("workload", "potential")


@dataclass(frozen=True)
class Hub:
    """A metro area: downtown ZIP and relative size."""

    name: str
    zip_code: str
    size: float  # metro population, millions (rounded; only the ratios matter)


HUBS: tuple[Hub, ...] = (
    Hub("New York", "10001", 19.8),
    Hub("Los Angeles", "90012", 13.0),
    Hub("Chicago", "60602", 9.4),
    Hub("Dallas", "75201", 7.6),
    Hub("Houston", "77002", 7.1),
    Hub("Washington", "20001", 6.3),
    Hub("Philadelphia", "19103", 6.2),
    Hub("Miami", "33131", 6.1),
    Hub("Atlanta", "30303", 6.1),
    Hub("Boston", "02108", 4.9),
    Hub("Phoenix", "85004", 4.8),
    Hub("San Francisco", "94105", 4.7),
    Hub("Detroit", "48226", 4.4),
    Hub("Seattle", "98101", 4.0),
    Hub("Minneapolis", "55401", 3.7),
    Hub("San Diego", "92101", 3.3),
    Hub("Tampa", "33602", 3.2),
    Hub("Denver", "80202", 3.0),
    Hub("St. Louis", "63101", 2.8),
    Hub("Charlotte", "28202", 2.7),
    Hub("Orlando", "32801", 2.7),
    Hub("San Antonio", "78205", 2.6),
    Hub("Portland", "97204", 2.5),
    Hub("Sacramento", "95814", 2.4),
    Hub("Pittsburgh", "15222", 2.4),
    Hub("Austin", "78701", 2.3),
    Hub("Las Vegas", "89101", 2.3),
    Hub("Kansas City", "64106", 2.2),
    Hub("Columbus", "43215", 2.1),
    Hub("Indianapolis", "46204", 2.1),
    Hub("Cleveland", "44113", 2.1),
    Hub("Nashville", "37203", 2.0),
    Hub("Salt Lake City", "84111", 1.3),
)

# Where a rep may be based besides the hub downtowns: suburban offices of the big metros
# and regional cities (all downtown/office-park ZIPs that exist in the zipcodes database).
EXTRA_OFFICES: tuple[str, ...] = (
    "07102",  # Newark NJ
    "11747",  # Melville NY
    "06901",  # Stamford CT
    "92618",  # Irvine CA
    "91101",  # Pasadena CA
    "60173",  # Schaumburg IL
    "76102",  # Fort Worth TX
    "77380",  # Spring TX
    "22102",  # McLean VA
    "21202",  # Baltimore MD
    "19406",  # King of Prussia PA
    "08540",  # Princeton NJ
    "33301",  # Fort Lauderdale FL
    "30092",  # Peachtree Corners GA
    "02451",  # Waltham MA
    "85251",  # Scottsdale AZ
    "95113",  # San Jose CA
    "98004",  # Bellevue WA
    "80112",  # Englewood CO
    "27601",  # Raleigh NC
    "73102",  # Oklahoma City OK
    "53202",  # Milwaukee WI
    "38103",  # Memphis TN
    "70112",  # New Orleans LA
    "45202",  # Cincinnati OH
    "87102",  # Albuquerque NM
    "68102",  # Omaha NE
    "83702",  # Boise ID
    "35203",  # Birmingham AL
    "40202",  # Louisville KY
    "32202",  # Jacksonville FL
    "14202",  # Buffalo NY
    "23219",  # Richmond VA
    "50309",  # Des Moines IA
    "29201",  # Columbia SC
    "12207",  # Albany NY
)

# --- word lists for names -------------------------------------------------------------
NAME_STEMS = (
    "Summit",
    "Pioneer",
    "Harbor",
    "Keystone",
    "Cascade",
    "Blue Ridge",
    "Redwood",
    "Granite",
    "Lakeshore",
    "Prairie",
    "Liberty",
    "Evergreen",
    "Ironwood",
    "Silver Creek",
    "Northstar",
    "Bayview",
    "Canyon",
    "Heritage",
    "Meridian",
    "Sterling",
    "Oakmont",
    "Riverbend",
    "Crestline",
    "Frontier",
    "Magnolia",
    "Atlas",
    "Beacon",
    "Coastal",
    "Great Plains",
    "Horizon",
    "Cedar Point",
    "Pinnacle",
    "Patriot",
    "Sunbelt",
    "Tri-County",
    "Allied",
    "Premier",
    "Continental",
    "Bluewater",
    "Stonebridge",
    "Willow Creek",
    "Red Rock",
    "Clearview",
    "Foxhall",
    "Copperline",
    "Highland",
    "Westgate",
    "Eastfield",
    "Lone Star",
    "Golden Gate",
    "Appalachian",
    "Tidewater",
    "Iron Range",
    "Big Sky",
    "Juniper",
    "Aspen",
    "Falcon",
    "Mesa",
    "Orchard",
    "Ridgeway",
    "Sandhill",
    "Trinity",
    "Vanguard",
    "Wildrose",
)
INDUSTRIES = (
    "Logistics",
    "Health",
    "Manufacturing",
    "Foods",
    "Energy",
    "Supply",
    "Medical",
    "Building Products",
    "Analytics",
    "Software",
    "Insurance",
    "Packaging",
    "Plastics",
    "Tool & Die",
    "Freight",
    "Dental Group",
    "Veterinary Clinics",
    "Hospitality",
    "Engineering",
    "Labs",
    "Components",
    "Distribution",
    "Pharma",
    "Textiles",
    "Auto Parts",
    "Construction",
    "Robotics",
    "Electric",
    "Water Systems",
    "Capital",
    "Controls",
    "Fabrication",
    "Home Care",
    "Orthopedics",
    "Printing",
    "Irrigation",
    "Metals",
    "Cold Storage",
    "Staffing",
    "Aerospace",
)
COMPANY_SUFFIXES = (
    "Inc.",
    "LLC",
    "Corp.",
    "Co.",
    "Group",
    "Partners",
    "Holdings",
    "Industries",
    "Services",
    ", Inc.",
    "",
    "",
)
FIRST_NAMES = (
    "James",
    "Maria",
    "Robert",
    "Linda",
    "Michael",
    "Priya",
    "David",
    "Jennifer",
    "Carlos",
    "Aisha",
    "Daniel",
    "Emily",
    "Kevin",
    "Sofia",
    "Brian",
    "Rachel",
    "Tyrone",
    "Megan",
    "Hiroshi",
    "Laura",
    "Marcus",
    "Grace",
    "Andre",
    "Olivia",
    "Samuel",
    "Hannah",
    "Luis",
    "Nicole",
    "Patrick",
    "Mei",
    "Jonathan",
    "Fatima",
    "Gregory",
    "Chloe",
    "Ethan",
    "Rosa",
)
LAST_NAMES = (
    "Anderson",
    "Baker",
    "Chen",
    "Dawson",
    "Esposito",
    "Fischer",
    "Garcia",
    "Hughes",
    "Iverson",
    "Jackson",
    "Kowalski",
    "Lopez",
    "Murphy",
    "Nguyen",
    "O'Connor",
    "Patel",
    "Quinn",
    "Reyes",
    "Sullivan",
    "Thompson",
    "Underwood",
    "Vasquez",
    "Walsh",
    "Young",
    "Zimmerman",
    "Brooks",
    "Carter",
    "D'Amico",
    "Ellis",
    "Foster",
    "Grant",
    "Holloway",
    "Kim",
    "Lindqvist",
    "Morales",
    "Okafor",
    "Price",
    "Rossi",
    "Schneider",
    "Tran",
)


# --- geometry helpers -------------------------------------------------------------------
def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km; broadcasts like numpy."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def load_states() -> gpd.GeoDataFrame:
    """The 48 contiguous states from libpysal's us_income example, as regions."""
    import libpysal.examples  # only the generator needs libpysal

    path = os.path.join(os.path.dirname(libpysal.examples.__file__), "us_income", "us48.shp")
    raw = gpd.read_file(path)
    if raw.crs is None:  # the shapefile ships without a .prj; it is lon/lat
        raw = raw.set_crs("EPSG:4326")
    states = gpd.GeoDataFrame(
        {
            "region_id": raw["STATE_ABBR"].astype(str).str.strip(),
            "name": raw["STATE_NAME"].astype(str).str.strip(),
            "parent_id": raw["SUB_REGION"].astype(str).str.strip(),
        },
        geometry=raw.geometry.values,
        crs="EPSG:4326",
    )
    states = states.sort_values("region_id", kind="stable").reset_index(drop=True)
    assert len(states) == 48 and states["region_id"].is_unique, "us48.shp changed shape"

    geoms = shapely.simplify(states.geometry.values, SIMPLIFY_DEG, preserve_topology=True)
    geoms = shapely.set_precision(geoms, 1e-4)  # round coordinates to 4 decimals
    geoms = np.array([_polygonal(shapely.make_valid(g)) for g in geoms], dtype=object)
    states = states.set_geometry(gpd.GeoSeries(geoms, crs="EPSG:4326"))
    bad = states.loc[~states.is_valid | states.is_empty, "region_id"].tolist()
    assert not bad, f"invalid or empty state geometry after simplifying: {bad}"
    return states


def _polygonal(geom):
    """Keep only the polygon parts of a geometry (make_valid may add stray lines)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    out = shapely.union_all(parts)
    return out if out.geom_type in ("Polygon", "MultiPolygon") else shapely.make_valid(out)


def _round_coords(obj):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(v), 4) for v in obj]
        return [_round_coords(v) for v in obj]
    return obj


def write_regions(states: gpd.GeoDataFrame, path: Path) -> None:
    """GeoJSON written by hand so the bytes depend on nothing but the data."""
    features = []
    for row in states.itertuples(index=False):
        geometry = mapping(row.geometry)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "region_id": row.region_id,
                    "name": row.name,
                    "parent_id": row.parent_id,
                },
                "geometry": {
                    "type": geometry["type"],
                    "coordinates": _round_coords(geometry["coordinates"]),
                },
            }
        )
    collection = {
        "type": "FeatureCollection",
        "name": "regions",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": features,
    }
    text = json.dumps(collection, separators=(",", ":"), ensure_ascii=False)
    # One feature per line keeps diffs of the committed file readable.
    text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"')
    path.write_text(text + "\n", encoding="utf-8")


# --- ZIP database ----------------------------------------------------------------------
def load_zips(states: gpd.GeoDataFrame) -> pd.DataFrame:
    """Active STANDARD ZIPs of the 48 states + DC that lie on (or near) a state polygon."""
    allowed = set(states["region_id"]) | {"DC"}
    rows = [
        (z["zip_code"], z["city"], z["state"], float(z["lat"]), float(z["long"]))
        for z in zipcodes.list_all()
        if z["zip_code_type"] == "STANDARD"
        and z["active"]
        and z["state"] in allowed
        and z["lat"] not in (None, "")
        and z["long"] not in (None, "")
    ]
    zips = pd.DataFrame(rows, columns=["zip", "city", "state", "lat", "lon"])
    zips = zips.sort_values("zip", kind="stable").drop_duplicates("zip").reset_index(drop=True)
    zips["lat"] = zips["lat"].round(4)
    zips["lon"] = zips["lon"].round(4)

    # Distance to the nearest state polygon in an equal-area projection (metres).
    albers = states.to_crs("EPSG:5070").geometry.values
    points = (
        gpd.GeoSeries(gpd.points_from_xy(zips["lon"], zips["lat"]), crs="EPSG:4326")
        .to_crs("EPSG:5070")
        .values
    )
    tree = shapely.STRtree(albers)
    idx, dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    outside_km = np.full(len(zips), np.inf)
    outside_km[idx[0]] = dist / 1000.0
    zips["outside_km"] = outside_km
    return zips[zips["outside_km"] <= MAX_OUTSIDE_KM].reset_index(drop=True)


def zip_row(zips: pd.DataFrame, code: str) -> pd.Series:
    hit = zips.index[zips["zip"] == code]
    assert len(hit) == 1, f"ZIP {code} is not an eligible STANDARD ZIP in the database"
    return zips.loc[hit[0]]


# --- accounts --------------------------------------------------------------------------
def place_accounts(rng: np.random.Generator, zips: pd.DataFrame) -> pd.DataFrame:
    """Pick ZIPs: metro accounts near hub downtowns, the rest rural."""
    hub_lat = np.array([zip_row(zips, h.zip_code)["lat"] for h in HUBS])
    hub_lon = np.array([zip_row(zips, h.zip_code)["lon"] for h in HUBS])
    dist = haversine_km(
        zips["lat"].values[:, None], zips["lon"].values[:, None], hub_lat[None, :], hub_lon[None, :]
    )  # zips x hubs

    n_rural = int(round(RURAL_SHARE * N_ACCOUNTS))
    # Business counts grow less than linearly with metro size; spread a little.
    size = np.array([h.size for h in HUBS]) ** 0.85
    per_hub = rng.multinomial(N_ACCOUNTS - n_rural, size / size.sum())

    picks: list[tuple[int, int]] = []  # (zip row, hub index or -1)
    for h, n in enumerate(per_hub):
        near = np.flatnonzero(dist[:, h] <= HUB_RADIUS_KM)
        weight = np.exp(-dist[near, h] / HUB_DECAY_KM)
        replace = n > len(near)
        chosen = rng.choice(near, size=n, replace=replace, p=weight / weight.sum())
        picks.extend((int(z), h) for z in chosen)
    rural = np.flatnonzero(dist.min(axis=1) >= RURAL_MIN_KM)
    picks.extend((int(z), -1) for z in rng.choice(rural, size=n_rural, replace=False))

    order = rng.permutation(len(picks))  # CRM export order: no geographic pattern
    zrow = np.array([picks[k][0] for k in order])
    hub = np.array([picks[k][1] for k in order])
    acc = zips.loc[zrow, ["zip", "city", "state", "lat", "lon"]].reset_index(drop=True)
    acc["hub"] = hub
    acc["account_id"] = [f"ACC-{k + 1:04d}" for k in range(len(acc))]
    return acc


def truncated_lognormal(rng, n, median, sigma, low, high) -> np.ndarray:
    """Lognormal draws, re-drawn until inside [low, high] (no piles at the bounds)."""
    out = median * np.exp(sigma * rng.standard_normal(n))
    bad = (out < low) | (out > high)
    while bad.any():
        out[bad] = median * np.exp(sigma * rng.standard_normal(int(bad.sum())))
        bad = (out < low) | (out > high)
    return out


def add_metrics(rng: np.random.Generator, acc: pd.DataFrame) -> None:
    n = len(acc)
    workload = truncated_lognormal(rng, n, median=55.0, sigma=0.65, low=20.0, high=400.0)
    acc["workload"] = np.round(workload, 1)

    # log(potential) correlates with log(workload) (rho ~ 0.75) plus its own noise.
    z_work = (np.log(workload) - np.log(workload).mean()) / np.log(workload).std()
    rho = 0.75
    potential = np.empty(n)
    todo = np.ones(n, dtype=bool)
    while todo.any():
        k = int(todo.sum())
        z = rho * z_work[todo] + math.sqrt(1 - rho**2) * rng.standard_normal(k)
        potential[todo] = 38_000.0 * np.exp(0.85 * z)
        todo = (potential < 4_000.0) | (potential > 450_000.0)
    acc["potential"] = np.round(potential).astype(np.int64)

    ratio = rng.uniform(0.3, 0.9, n)
    revenue = np.round(acc["potential"].values * ratio).astype(np.int64)
    new_logos = rng.choice(n, size=int(round(NEW_LOGO_SHARE * n)), replace=False)
    revenue[new_logos] = 0
    acc["revenue"] = revenue


def company_name(rng: np.random.Generator, city: str) -> str:
    def pick(words):
        return words[int(rng.integers(len(words)))]

    def suffixed(base):
        suffix = pick(COMPANY_SUFFIXES)
        if not suffix:
            return base
        return base + suffix if suffix.startswith(",") else f"{base} {suffix}"

    u = rng.random()
    if u < 0.60:
        return suffixed(f"{pick(NAME_STEMS)} {pick(INDUSTRIES)}")
    if u < 0.80:
        return suffixed(f"{city.title()} {pick(INDUSTRIES)}")
    if u < 0.97:
        return suffixed(f"{pick(LAST_NAMES)} {pick(INDUSTRIES)}")
    if u < 0.985:
        a, b = rng.choice(len(LAST_NAMES), size=2, replace=False)
        return suffixed(f"{LAST_NAMES[a]} & {LAST_NAMES[b]}")
    return f"{pick(LAST_NAMES)}'s {pick(INDUSTRIES)}"


def add_names(rng: np.random.Generator, acc: pd.DataFrame) -> None:
    used: set[str] = set()
    names = []
    for city in acc["city"]:
        name = company_name(rng, city)
        while name in used:
            name = company_name(rng, city)
        used.add(name)
        names.append(name)
    acc["name"] = names


def add_groups(rng: np.random.Generator, acc: pd.DataFrame) -> None:
    """~30 parent groups of 2-4 accounts in one metro; members share the parent's name."""
    acc["group_id"] = ""
    hubs_by_size = acc.loc[acc["hub"] >= 0, "hub"].value_counts().sort_index()
    weights = hubs_by_size.values / hubs_by_size.values.sum()
    used_names = set(acc["name"])
    for g in range(N_GROUPS):
        hub = int(hubs_by_size.index[rng.choice(len(hubs_by_size), p=weights)])
        free = np.flatnonzero((acc["hub"].values == hub) & (acc["group_id"].values == ""))
        size = int(rng.integers(2, 5))
        members = np.sort(rng.choice(free, size=size, replace=False))
        gid = f"GRP-{g + 1:02d}"
        acc.loc[members, "group_id"] = gid
        base = acc.at[members[0], "name"]
        for m in members[1:]:
            name = f"{base} - {acc.at[m, 'city'].title()}"
            k = 2
            while name in used_names:
                name = f"{base} - {acc.at[m, 'city'].title()} {k}"
                k += 1
            used_names.add(name)
            acc.at[m, "name"] = name


# --- reps ------------------------------------------------------------------------------
def _bisect(x: np.ndarray, y: np.ndarray, weight: np.ndarray, idx: np.ndarray, k: int):
    """Recursive coordinate bisection: k parts of about equal weight, compact in x/y."""
    if k == 1:
        return [idx]
    k_left = k // 2
    xs, ys = x[idx], y[idx]
    key = xs if np.ptp(xs) >= np.ptp(ys) else ys
    order = idx[np.lexsort((idx, key))]  # stable: ties broken by row number
    cum = np.cumsum(weight[order])
    cut = int(np.searchsorted(cum, cum[-1] * k_left / k)) + 1
    return _bisect(x, y, weight, order[:cut], k_left) + _bisect(
        x, y, weight, order[cut:], k - k_left
    )


def _medoid(lat, lon, weight, idx) -> tuple[float, float]:
    """The member location with the least weighted distance to the others."""
    d = haversine_km(lat[idx][:, None], lon[idx][:, None], lat[idx][None, :], lon[idx][None, :])
    best = idx[int(np.argmin(d @ weight[idx]))]
    return float(lat[best]), float(lon[best])


def place_reps(rng: np.random.Generator, zips: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """Reps where the work is: equal-workload parts, each snapped to a real office.

    Recursive bisection cuts the accounts into 24 compact parts of equal workload; each
    active rep takes the free office nearest to its part's medoid (heaviest part first).
    The new hire goes to the free office that would take the most workload off its
    neighbours, which is where a planner would open a seat.
    """
    offices = list(dict.fromkeys([h.zip_code for h in HUBS] + list(EXTRA_OFFICES)))
    office = pd.DataFrame([zip_row(zips, z) for z in offices]).reset_index(drop=True)

    lat, lon = acc["lat"].values, acc["lon"].values
    weight = acc["workload"].values
    # Equal-area-ish plane (km) for cutting; the mean latitude is fixed, so no projection.
    x = lon * 111.32 * math.cos(math.radians(38.0))
    y = lat * 110.57
    parts = _bisect(x, y, weight, np.arange(len(acc)), N_ACTIVE_REPS)
    parts.sort(key=lambda part: (-weight[part].sum(), int(part.min())))
    taken: list[int] = []
    for part in parts:
        m_lat, m_lon = _medoid(lat, lon, weight, part)
        d = haversine_km(m_lat, m_lon, office["lat"].values, office["lon"].values)
        d[taken] = np.inf
        taken.append(int(np.argmin(d)))

    d_acc = haversine_km(
        acc["lat"].values[:, None],
        acc["lon"].values[:, None],
        office["lat"].values[None, :],
        office["lon"].values[None, :],
    )
    nearest_active = d_acc[:, taken].min(axis=1)
    relief = np.array([weight[d_acc[:, o] < nearest_active].sum() for o in range(len(office))])
    relief[taken] = -1.0
    taken.append(int(np.argmax(relief)))

    people = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=len(taken), replace=False)
    rows = []
    for k, (o, person) in enumerate(zip(taken, people)):
        z = office.loc[o]
        first, last = FIRST_NAMES[person // len(LAST_NAMES)], LAST_NAMES[person % len(LAST_NAMES)]
        is_new = k == len(taken) - 1
        rows.append(
            {
                "rep_id": f"R{k + 1:02d}",
                "name": f"{first} {last}",
                "lat": z["lat"],
                "lon": z["lon"],
                "postal_code": z["zip"],
                "city": f"{z['city'].title()}, {z['state']}",
                "capacity": 0.5 if is_new else 1.0,
                "status": "new" if is_new else "active",
            }
        )
    return pd.DataFrame(rows)


# --- last year's plan ------------------------------------------------------------------
def targets(acc: pd.DataFrame, reps: pd.DataFrame, metric: str) -> np.ndarray:
    cap = reps["capacity"].values
    return cap / cap.sum() * acc[metric].sum()


def deviations(acc: pd.DataFrame, reps: pd.DataFrame, owner: np.ndarray, metric: str):
    load = np.bincount(owner, weights=acc[metric].values, minlength=len(reps))
    tgt = targets(acc, reps, metric)
    return (load - tgt) / tgt


def simulate_owners(rng: np.random.Generator, acc: pd.DataFrame, reps: pd.DataFrame) -> None:
    """Each account goes to one of its 3 nearest active reps, mostly the nearest.

    A planner balanced last year's plan a little (distance multipliers per rep, raised for
    overloaded reps) until no active rep was more than LAST_YEAR_MAX_DEVIATION off today's
    target. A fixed 12% of accounts sit with another of their three than the balancing
    suggests (history, relationships): the 2nd or 3rd nearest instead of the nearest, or
    the nearest instead of a neighbour. Groups follow their first member; the new hire
    owns nothing.
    """
    active = np.flatnonzero(reps["status"].values == "active")
    d = haversine_km(
        acc["lat"].values[:, None],
        acc["lon"].values[:, None],
        reps["lat"].values[None, active],
        reps["lon"].values[None, active],
    )
    cand = np.argsort(d, axis=1, kind="stable")[:, :3]  # indexes into `active`
    cand_d = np.take_along_axis(d, cand, axis=1)
    n = len(acc)
    stray = rng.random(n) < 0.12
    stray_pick = np.where(rng.random(n) < 0.7, 1, 2)
    parent = {}
    for i, gid in enumerate(acc["group_id"]):
        if gid and gid not in parent:
            parent[gid] = i
    followers = np.array([parent.get(gid, i) for i, gid in enumerate(acc["group_id"])])

    mult = np.ones(len(active))
    for _ in range(200):
        score = cand_d * mult[cand]
        pick = np.argmin(score, axis=1)
        pick = np.where(stray, np.where(pick == 0, stray_pick, 0), pick)
        owner = active[cand[np.arange(n), pick]]
        owner = owner[followers]
        devs = [deviations(acc, reps, owner, m)[active] for m in BALANCE_METRICS]
        if max(np.abs(dv).max() for dv in devs) <= LAST_YEAR_MAX_DEVIATION:
            break
        ratio = 1.0 + 0.5 * devs[0] + 0.5 * devs[1]
        mult *= np.clip(ratio, 0.5, 1.5) ** 0.15
    else:
        raise AssertionError("could not build a last-year plan within the deviation limit")
    acc["owner"] = owner
    acc["owner_km"] = d[np.arange(n), np.searchsorted(active, owner)]
    acc["nearest"] = active[cand[:, 0]]


def add_locks(rng: np.random.Generator, acc: pd.DataFrame) -> None:
    """~15 strategic accounts stay with their owner: large, close to the owner, no group."""
    acc["locked"] = False
    big = acc["potential"] >= acc["potential"].quantile(0.70)
    ok = (
        big
        & (acc["group_id"] == "")
        & (acc["revenue"] > 0)
        & (acc["owner"] == acc["nearest"])
        & (acc["owner_km"] <= 60.0)
    )
    candidates = np.flatnonzero(ok.values)
    rng.shuffle(candidates)
    taken_reps: set[int] = set()
    for i in candidates:
        r = int(acc.at[i, "owner"])
        if r in taken_reps:
            continue
        taken_reps.add(r)
        acc.at[i, "locked"] = True
        if len(taken_reps) == N_LOCKED:
            break
    assert acc["locked"].sum() == N_LOCKED, "not enough candidates for locked accounts"


# --- checks and output -----------------------------------------------------------------
def check_feasibility(acc: pd.DataFrame, reps: pd.DataFrame) -> dict:
    """The balance bands of the demo scenario must be reachable; fail loudly if not."""
    info = {}
    owner = acc["owner"].values
    for metric in BALANCE_METRICS:
        tgt = targets(acc, reps, metric)
        smallest = tgt.min()
        biggest = acc[metric].max()
        assert biggest <= MAX_ACCOUNT_SHARE_OF_SMALLEST_TARGET * smallest, (
            f"largest account {metric} {biggest:,.1f} exceeds "
            f"{MAX_ACCOUNT_SHARE_OF_SMALLEST_TARGET:.0%} of the smallest rep target "
            f"{smallest:,.1f}"
        )
        grouped = acc[acc["group_id"] != ""].groupby("group_id")[metric].sum()
        assert grouped.max() <= MAX_ACCOUNT_SHARE_OF_SMALLEST_TARGET * smallest, (
            f"largest group {metric} {grouped.max():,.1f} exceeds "
            f"{MAX_ACCOUNT_SHARE_OF_SMALLEST_TARGET:.0%} of the smallest rep target "
            f"{smallest:,.1f}"
        )
        locked = np.bincount(
            owner[acc["locked"].values],
            weights=acc.loc[acc["locked"], metric].values,
            minlength=len(reps),
        )
        worst = int(np.argmax(locked / tgt))
        assert locked[worst] <= MAX_LOCKED_SHARE_OF_TARGET * tgt[worst], (
            f"locked {metric} of {reps.at[worst, 'rep_id']} is {locked[worst]:,.1f}, over "
            f"{MAX_LOCKED_SHARE_OF_TARGET:.0%} of its target {tgt[worst]:,.1f}"
        )
        dev = deviations(acc, reps, owner, metric)[reps["status"].values == "active"]
        info[metric] = {
            "total": float(acc[metric].sum()),
            "smallest_target": float(smallest),
            "largest_account": float(biggest),
            "largest_group": float(grouped.max()),
            "max_locked_share": float(locked[worst] / tgt[worst]),
            "current_max_abs_deviation": float(np.abs(dev).max()),
            "current_mean_abs_deviation": float(np.abs(dev).mean()),
        }
    new = np.flatnonzero(reps["status"].values == "new")
    assert not np.isin(owner, new).any(), "the new hire must not own accounts yet"
    assert (reps.loc[owner[acc["locked"].values], "status"] == "active").all(), (
        "a locked account's owner must be an active rep"
    )
    for gid, members in acc[acc["group_id"] != ""].groupby("group_id"):
        assert members["owner"].nunique() == 1, f"group {gid} is split in last year's plan"
    return info


def quota_target(total_revenue: float) -> int:
    """About 10% over last year, rounded to two significant digits."""
    raw = QUOTA_UPLIFT * total_revenue
    step = 10 ** (int(math.floor(math.log10(raw))) - 1)
    target = int(round(raw / step) * step)
    growth = target / total_revenue
    # Quota LP: reps with revenue R get [R, 1.6 R]; the new hire needs room above 1.0.
    assert 1.05 <= growth <= 1.15, f"quota target {target:,} is {growth:.3f}x revenue"
    return target


def write_accounts(acc: pd.DataFrame, reps: pd.DataFrame, rng, path: Path) -> None:
    n = len(acc)
    zip4 = np.zeros(n, dtype=bool)
    zip4[rng.choice(n, size=int(round(ZIP4_SHARE * n)), replace=False)] = True
    plus4 = rng.integers(1, 10_000, size=n)
    blank = np.zeros(n, dtype=bool)
    blank[rng.choice(n, size=int(round(BLANK_COORDS_SHARE * n)), replace=False)] = True

    postal = [f"{z}-{p:04d}" if f else z for z, p, f in zip(acc["zip"], plus4, zip4)]
    lat = ["" if b else f"{v:.4f}".rstrip("0").rstrip(".") for v, b in zip(acc["lat"], blank)]
    lon = ["" if b else f"{v:.4f}".rstrip("0").rstrip(".") for v, b in zip(acc["lon"], blank)]
    out = pd.DataFrame(
        {
            "Id": acc["account_id"],
            "Name": acc["name"],
            "BillingPostalCode": postal,
            "BillingLatitude": lat,
            "BillingLongitude": lon,
            "workload": [f"{v:.1f}" for v in acc["workload"]],
            "potential": [str(int(v)) for v in acc["potential"]],
            "revenue": [str(int(v)) for v in acc["revenue"]],
            "OwnerId": reps["rep_id"].values[acc["owner"].values],
            "locked": np.where(acc["locked"].values, "true", "false"),
            "ParentId": acc["group_id"],
        },
        dtype=str,
    )
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def write_reps(reps: pd.DataFrame, path: Path) -> None:
    out = pd.DataFrame(
        {
            "Id": reps["rep_id"],
            "Name": reps["name"],
            "lat": [f"{v:.4f}".rstrip("0").rstrip(".") for v in reps["lat"]],
            "lon": [f"{v:.4f}".rstrip("0").rstrip(".") for v in reps["lon"]],
            "postal_code": reps["postal_code"],
            "capacity": [f"{v:.1f}" for v in reps["capacity"]],
            "status": reps["status"],
            "segment": "",
            "region_id": "",
        },
        dtype=str,
    )
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


SCENARIO_TEMPLATE = """\
# US national demo: the scenario `territory-planner demo` solves out of the box.
#
# About {n_accounts:,} synthetic B2B accounts at real US ZIP centroids, clustered around
# {n_hubs} metro areas plus a rural share, and {n_reps} reps based in real cities: {n_active}
# active reps and one ramping new hire ({new_id}, capacity 0.5, no accounts yet).
# OwnerId holds last year's plan, which is roughly sensible but unbalanced; the solver
# re-balances workload within 5% and potential within 10% of each rep's
# capacity-weighted share while minimising travel (workload x km to the rep's base).
# {n_locked} strategic accounts are locked to their owner and parent groups (ParentId)
# stay together. The accounts file uses Salesforce export column names on purpose.
# Regions are the 48 contiguous states (US Census boundaries via libpysal's us_income
# example) grouped by census sub-region.
#
# Generated by: python scripts/make_demo.py --seed {seed}   (do not edit by hand)
# Totals: workload {workload:,.1f} h/yr, potential ${potential:,}, revenue ${revenue:,}.
name: us-national-demo-2027
accounts: accounts.csv
reps: reps.csv
regions: regions.geojson
unit: account
balance:
  - {{metric: workload, tolerance: 0.05}}
  - {{metric: potential, tolerance: 0.10}}
objective: {{travel: 1.0, disruption: 0.0}}
constraints:
  keep_together: group_id
solver: {{name: highs, time_limit: 60, gap: 0.005, threads: 1, seed: 0}}
quota:
  target: {target}   # about {uplift_pct}% over last year's revenue
  method: blend
  alpha: 0.6
  min_growth: 0.0
  max_growth: 0.6
  ramp: {{new: 0.5}}
  seasonality: [0.22, 0.24, 0.25, 0.29]
"""


def build(seed: int, out: Path) -> dict:
    rng = np.random.default_rng(seed)
    states = load_states()
    zips = load_zips(states)
    acc = place_accounts(rng, zips)
    add_metrics(rng, acc)
    add_names(rng, acc)
    add_groups(rng, acc)
    reps = place_reps(rng, zips, acc)
    simulate_owners(rng, acc, reps)
    add_locks(rng, acc)
    info = check_feasibility(acc, reps)
    total_revenue = int(acc["revenue"].sum())
    target = quota_target(total_revenue)

    out.mkdir(parents=True, exist_ok=True)
    write_regions(states, out / "regions.geojson")
    write_accounts(acc, reps, rng, out / "accounts.csv")
    write_reps(reps, out / "reps.csv")
    new_id = reps.loc[reps["status"] == "new", "rep_id"].iloc[0]
    (out / "scenario.yaml").write_text(
        SCENARIO_TEMPLATE.format(
            n_accounts=len(acc),
            n_hubs=len(HUBS),
            n_reps=len(reps),
            n_active=int((reps["status"] == "active").sum()),
            new_id=new_id,
            n_locked=int(acc["locked"].sum()),
            seed=seed,
            workload=float(acc["workload"].sum()),
            potential=int(acc["potential"].sum()),
            revenue=total_revenue,
            target=target,
            uplift_pct=int(round((target / total_revenue - 1) * 100)),
        ),
        encoding="utf-8",
    )
    info.update(
        accounts=len(acc),
        reps=len(reps),
        revenue=total_revenue,
        quota_target=target,
        rep_cities=dict(zip(reps["rep_id"], reps["city"])),
        accounts_per_rep=acc["owner"].value_counts().sort_index().tolist(),
    )
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2027, help="random seed (default 2027)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("scenarios/demo"),
        help="output folder (default scenarios/demo)",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    info = build(args.seed, args.out)
    if not args.quiet:
        print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
