"""Helpers shared by test modules (import from here, never from another test module):
hand-drawn scenarios, grid maps, hand-made plan folders, and LibreOffice headless."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml
from shapely.geometry import box

from territory_planner import load_scenario, plan
from territory_planner.errors import InputError, Problem
from territory_planner.plan import write_csv

#: one degree of a great circle with DESIGN's Earth radius 6371.0088 km
DEG_KM = 2 * 3.141592653589793 * 6371.0088 / 360  # 111.19508...


def salesforce_accounts() -> pd.DataFrame:
    """Four accounts on the equator at longitude 1, 2, 3 and 9, under Salesforce's column
    names; workload 1 each, potential 100/200/300/400. Today A1 is R1's (locked), A2, A3
    and A4 are R2's. A1's ZIP keeps its leading zero."""
    return pd.DataFrame(
        {
            "Id": ["A1", "A2", "A3", "A4"],
            "Name": ["One", "Two", "Three", "Four"],
            "BillingLatitude": [0.0, 0.0, 0.0, 0.0],
            "BillingLongitude": [1.0, 2.0, 3.0, 9.0],
            "BillingPostalCode": ["02139", "", "", "10001"],
            "workload": [1.0, 1.0, 1.0, 1.0],
            "potential": [100.0, 200.0, 300.0, 400.0],
            "OwnerId": ["R1", "R2", "R2", "R2"],
            "locked": ["true", "false", "false", "false"],
            "ParentId": ["", "", "", ""],
        }
    )


def hierarchy_reps() -> pd.DataFrame:
    """R1 at longitude 0 and R2 at longitude 10, in districts North and South of area East."""
    return pd.DataFrame(
        {
            "Id": ["R1", "R2"],
            "Name": ["Rita", "Rob"],
            "lat": [0.0, 0.0],
            "lon": [0.0, 10.0],
            "district": ["North", "South"],
            "area": ["East", "East"],
        }
    )


def hand_scenario(folder: Path, accounts=None, reps=None, **settings) -> Path:
    """The hand-drawn case: workload within 25% (every whole plan gives each rep exactly two
    accounts), potential within 50% (250..750), rolled up by district and area, solved to a
    proven optimum. Files are written as text so IDs and ZIPs stay as given."""
    folder.mkdir(parents=True, exist_ok=True)
    (salesforce_accounts() if accounts is None else accounts).to_csv(
        folder / "accounts.csv", index=False
    )
    (hierarchy_reps() if reps is None else reps).to_csv(folder / "reps.csv", index=False)
    scenario = {
        "name": "hand",
        "accounts": "accounts.csv",
        "reps": "reps.csv",
        "balance": [
            {"metric": "workload", "tolerance": 0.25},
            {"metric": "potential", "tolerance": 0.5},
        ],
        "hierarchy": ["district", "area"],
        "solver": {"time_limit": 30, "gap": 0.0},
    }
    scenario.update(settings)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


def write_assignment(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


CELL = 0.1  # degrees: side of a grid square, about 11.1 km near the equator


def grid_regions(rows: int, cols: int, *, missing: tuple[str, ...] = ()) -> gpd.GeoDataFrame:
    """rows x cols squares of CELL degrees from (0, 0); region ``r{row}{col}``, row = lat."""
    ids, shapes = [], []
    for r in range(rows):
        for c in range(cols):
            rid = f"r{r}{c}"
            if rid in missing:
                continue
            ids.append(rid)
            shapes.append(shapely.box(c * CELL, r * CELL, (c + 1) * CELL, (r + 1) * CELL))
    return gpd.GeoDataFrame({"region_id": ids}, geometry=shapes, crs="EPSG:4326")


def cell_centre(rid: str) -> tuple[float, float]:
    """(lat, lon) of the centre of grid region ``r{row}{col}``."""
    return (int(rid[1]) + 0.5) * CELL, (int(rid[2]) + 0.5) * CELL


def write_region_scenario(
    folder: Path,
    regions: gpd.GeoDataFrame,
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    **settings,
) -> Path:
    """regions.geojson, accounts.csv, reps.csv and a unit: region scenario.yaml in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    regions.to_file(folder / "regions.geojson", driver="GeoJSON")
    accounts.to_csv(folder / "accounts.csv", index=False)
    reps.to_csv(folder / "reps.csv", index=False)
    scenario = {
        "name": settings.pop("name", "grid"),
        "accounts": "accounts.csv",
        "reps": "reps.csv",
        "regions": "regions.geojson",
        "unit": "region",
        "solver": {"time_limit": 30, "gap": 0.0},
    }
    scenario.update(settings)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


def is_connected(members: set[str], neighbours: dict[str, set[str]]) -> bool:
    """Whether ``members`` is one piece of the graph ``neighbours`` (plain search)."""
    if not members:
        return True
    start = min(members)
    seen, stack = {start}, [start]
    while stack:
        for nb in neighbours[stack.pop()]:
            if nb in members and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return seen == members


def grid_neighbours(rows: int, cols: int) -> dict[str, set[str]]:
    """Rook neighbours of the grid, written out by rule (not by geometry)."""
    out = {}
    for r in range(rows):
        for c in range(cols):
            near = {(r + dr, c + dc) for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1))}
            out[f"r{r}{c}"] = {f"r{a}{b}" for a, b in near if 0 <= a < rows and 0 <= b < cols}
    return out


EVIL = "<img src=x onerror=alert(1)>"
EVIL_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
TEMPLATE_EVIL = "${alert(2)} `tick` \\ back"


def make_tiny_plan(n_accounts: int = 12, seed: int = 1) -> dict:
    """Three reps west / north-east / south-east of a 2 x 4 degree box, two regions.

    Account 0 and rep R1 carry HTML in their names; account 1 carries JS template syntax.
    R1 owns the accounts west of lon -74.5, R2 those north of lat 41, R3 the rest, so all
    three territories touch each other (they meet around (-74.5, 41)).
    """
    rng = np.random.default_rng(seed)
    lat = rng.uniform(40.0, 42.0, n_accounts)
    lon = rng.uniform(-76.0, -72.0, n_accounts)
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in range(n_accounts)],
            "name": [f"Account {i}" for i in range(n_accounts)],
            "lat": lat,
            "lon": lon,
            "workload": rng.uniform(1, 5, n_accounts).round(1),
            "potential": rng.uniform(10, 100, n_accounts).round(0),
            "revenue": 0.0,
            "current_rep_id": "R1",
            "locked": False,
            "segment": None,
            "group_id": None,
            "region_id": None,
        }
    )
    accounts.loc[0, "name"] = EVIL
    accounts.loc[1, "name"] = TEMPLATE_EVIL
    reps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "name": [f"Ann {EVIL}", "Bob Stone", "Cy Young"],
            "lat": [41.0, 41.5, 40.5],
            "lon": [-75.5, -73.0, -72.5],
            "capacity": [1.0, 1.0, 0.5],
            "segment": None,
            "region_id": None,
            "status": ["active", "active", "new"],
        }
    )
    rep_of = np.where(lon < -74.5, "R1", np.where(lat > 41.0, "R2", "R3"))
    assignments = pd.DataFrame(
        {
            "account_id": accounts["account_id"],
            "rep_id": rep_of,
            "previous_rep_id": "R1",
            "moved": rep_of != "R1",
            "distance_km": rng.uniform(1, 100, n_accounts).round(1),
        }
    )
    load = accounts.groupby(rep_of)["workload"].sum()
    territories = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "name": reps["name"]})
    territories["accounts"] = territories["rep_id"].map(pd.Series(rep_of).value_counts())
    territories["workload_load"] = territories["rep_id"].map(load).fillna(0.0)
    target = load.sum() * reps["capacity"] / reps["capacity"].sum()
    territories["workload_target"] = target.to_numpy()
    territories["workload_deviation"] = (
        territories["workload_load"] - territories["workload_target"]
    ) / territories["workload_target"]
    regions = gpd.GeoDataFrame(
        {"region_id": ["E", "W"], "parent_id": [None, None], "name": ["East", "West <b>"]},
        geometry=[box(-74.0, 39.5, -71.5, 42.5), box(-76.5, 39.5, -74.0, 42.5)],
        crs="EPSG:4326",
    )
    return {
        "assignments": assignments,
        "territories": territories,
        "accounts": accounts,
        "reps": reps,
        "regions": regions,
    }


# --------------------------------------------------------------------------- a plan folder

#: Bands of the hand-made folder: workload within 5%, potential within 10%.
HAND_TOLERANCES = {"workload": 0.05, "potential": 0.10}

#: The territories of the hand-made folder. Deviations are (load - target) / target:
#:   R1 workload 110/100 = +10%  (outside 5%)   potential 108/100 = +8%  (inside 10%)
#:   R2 workload  96/100 = -4%   (inside)        potential  88/100 = -12% (outside)
#:   R3 workload  52.5/50 = +5%  (on the edge: inside)  potential 54.99/50 = +9.98% (inside)
#:   R4 leaving: target 0, no deviation
#: today's workload loads 130 / 96 / 37 -> +30% (outside), -4%, -26% (outside).
HAND_TERRITORIES = pd.DataFrame(
    {
        "rep_id": ["R1", "R2", "R3", "R4"],
        "name": ["Ann", "Bob", "Cy", "Dee"],
        "accounts": [2, 1, 1, 0],
        "workload_load": [110.0, 96.0, 52.5, 0.0],
        "workload_target": [100.0, 100.0, 50.0, 0.0],
        "workload_deviation": [0.10, -0.04, 0.05, np.nan],
        "potential_load": [108.0, 88.0, 54.99, 0.0],
        "potential_target": [100.0, 100.0, 50.0, 0.0],
        "potential_deviation": [0.08, -0.12, 0.0998, np.nan],
        "workload_load_today": [130.0, 96.0, 37.0, 0.0],
        "travel_cost": [1234.5, 20.25, 0.0, 0.0],
        "capacity": [1.0, 1.0, 0.5, 1.0],
        "status": ["active", "active", "active", "leaving"],
    }
)
#: cells of the Territories sheet (column, rep) that must be highlighted
HAND_BROKEN = {
    ("workload_deviation", "R1"),
    ("potential_deviation", "R2"),
    ("workload_deviation_today", "R1"),
    ("workload_deviation_today", "R3"),
}
HAND_FORMULA = '=HYPERLINK("http://evil.example","click")'


def hand_plan_folder(folder: Path) -> Path:
    """A plan folder written by hand with the engine's own CSV writer: summary.json with a
    ``today`` block, territories, assignments (a formula-looking name, a postal code with a
    leading zero), quotas, regions and rollups."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(HAND_TERRITORIES, folder / "territories.csv")
    assignments = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "rep_id": ["R1", "R1", "R2", "R3"],
            "previous_rep_id": ["R1", "R2", "R2", "R4"],
            "moved": [False, True, False, True],
            "distance_km": [12.345, 0.5, 100.0, 2500.25],
            "name": [HAND_FORMULA, "@SUM(A1)", "Plain Co", "-2+3"],
            "workload": [60.0, 50.0, 96.0, 52.5],
            "potential": [1000.0, 2000.5, 88.0, 1234567.0],
            "BillingPostalCode": ["01234", "10001", "02139", "94105"],
            "region_id": ["01001", "01001", "01003", "06075"],
        }
    )
    write_csv(assignments, folder / "assignments.csv")
    write_csv(
        pd.DataFrame(
            {
                "rep_id": ["R1", "R2", "R3"],
                "name": ["Ann", "Bob", "Cy"],
                "quota": [1_200_000.0, 950_000.0, 400_000.0],
                "fair_share": [1_000_000.0, 1_000_000.0, 500_000.0],
                "deviation": [0.2, -0.05, -0.2],
            }
        ),
        folder / "quotas.csv",
    )
    write_csv(
        pd.DataFrame(
            {
                "region_id": ["01001", "01003", "06075"],
                "rep_id": ["R1", "R2", "R3"],
                "previous_rep_id": ["R2", "R2", "R4"],
                "accounts": [2, 1, 1],
                "workload_load": [110.0, 96.0, 52.5],
            }
        ),
        folder / "regions.csv",
    )
    #: districts North = R1 + R2 (load 206 vs target 200: +3%), South = R3 (+5%);
    #: area All = 258.5 / 250 = +3.4%; potential North 196 / 200 = -2%
    write_csv(
        pd.DataFrame(
            {
                "level": ["district", "district", "area"],
                "unit": ["North", "South", "All"],
                "reps": [2, 1, 3],
                "accounts": [3, 1, 4],
                "workload_load": [206.0, 52.5, 258.5],
                "workload_target": [200.0, 50.0, 250.0],
                "workload_deviation": [0.03, 0.05, 0.034],
                "potential_load": [196.0, 54.99, 250.99],
                "potential_target": [200.0, 50.0, 250.0],
                "potential_deviation": [-0.02, 0.0998, 0.00396],
                "travel_cost": [1254.75, 0.0, 1254.75],
            }
        ),
        folder / "rollups.csv",
    )
    (folder / "summary.json").write_text(json.dumps(HAND_SUMMARY, indent=2), encoding="utf-8")
    return folder


#: summary.json of the hand-made folder: the plan's numbers and today's (a ``today`` block)
HAND_SUMMARY = {
    "scenario": "hand-made",
    "status": "optimal",
    "objective": 1254.75,
    "lower_bound": 1200.0,
    "gap": 0.043626,
    "travel_cost": 1254.75,
    "disruption": {"moved_accounts": 2, "moved_potential": 1236567.5, "moved_share": 0.99},
    "balance": {
        "workload": {"max_abs_deviation": 0.10, "tolerance": 0.05, "within_band": False},
        "potential": {"max_abs_deviation": 0.12, "tolerance": 0.10, "within_band": False},
    },
    "today": {
        "travel_cost": 1600.0,
        "objective": 1600.0,
        "gap_to_bound": 0.25,
        "accounts_without_owner": 1,
        "balance": {
            "workload": {
                "max_abs_deviation": 0.30,
                "tolerance": 0.05,
                "within_band": False,
                "broken": [
                    {"rep_id": "R1", "load": 130.0, "target": 100.0, "deviation": 0.30},
                    {"rep_id": "R3", "load": 37.0, "target": 50.0, "deviation": -0.26},
                ],
            },
            "potential": {
                "max_abs_deviation": 0.04,
                "tolerance": 0.10,
                "within_band": True,
                "broken": [],
            },
        },
    },
    "solver": {"name": "highs", "seconds": 0.25},
    "inputs": {"accounts": 4, "reps": 4},
    "version": "test",
}


# --------------------------------------------------------------------------- LibreOffice


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_soffice() -> str:
    """The LibreOffice path, or skip the calling test saying why."""
    import pytest

    path = find_soffice()
    if path is None:
        pytest.skip(
            "LibreOffice is not installed (apt-get install --no-install-recommends "
            "libreoffice-calc): the workbook cannot be opened in a second spreadsheet"
        )
    return path


def soffice_convert(source: Path, out_dir: Path, target: str) -> subprocess.CompletedProcess:
    """``soffice --headless --convert-to TARGET`` with a private profile in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = (out_dir / "lo-profile").resolve().as_uri()
    return subprocess.run(
        [
            require_soffice(),
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(out_dir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def write_inputs(
    folder: Path,
    accounts: str | bytes,
    reps: str | bytes,
    extra: str = "",
    accounts_name: str = "accounts.csv",
    reps_name: str = "reps.csv",
) -> Path:
    """Write accounts, reps (bytes untouched) and a scenario naming them; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in ((accounts_name, accounts), (reps_name, reps)):
        (folder / name).write_bytes(
            content.encode("utf-8") if isinstance(content, str) else content
        )
    path = folder / "scenario.yaml"
    path.write_text(
        f"name: t\naccounts: {accounts_name}\nreps: {reps_name}\n{extra}", encoding="utf-8"
    )
    return path


def input_problems(path: Path) -> list[Problem]:
    """The problems load_scenario raises for ``path`` (it must raise)."""
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return caught.value.problems


def write_scenario(folder: Path, accounts: pd.DataFrame, reps: pd.DataFrame, **settings) -> Path:
    """Write accounts.csv, reps.csv and scenario.yaml into folder; return the scenario path."""
    folder.mkdir(parents=True, exist_ok=True)
    accounts.to_csv(folder / "accounts.csv", index=False)
    reps.to_csv(folder / "reps.csv", index=False)
    scenario = {
        "name": settings.pop("name", "tiny"),
        "accounts": "accounts.csv",
        "reps": "reps.csv",
    }
    scenario.update(settings)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return path


def line_accounts(**columns) -> pd.DataFrame:
    """Four accounts on the equator at longitude 1, 2, 3 and 9 (workload 1 each)."""
    frame = pd.DataFrame(
        {
            "account_id": ["A1", "A2", "A3", "A4"],
            "name": ["One", "Two", "Three", "Four"],
            "lat": [0.0, 0.0, 0.0, 0.0],
            "lon": [1.0, 2.0, 3.0, 9.0],
            "workload": [1.0, 1.0, 1.0, 1.0],
            "potential": [100.0, 200.0, 300.0, 400.0],
        }
    )
    for key, value in columns.items():
        frame[key] = value
    return frame


def line_reps(**columns) -> pd.DataFrame:
    """Two reps on the equator: R1 at longitude 0, R2 at longitude 10."""
    frame = pd.DataFrame(
        {"rep_id": ["R1", "R2"], "name": ["Rita", "Rob"], "lat": [0.0, 0.0], "lon": [0.0, 10.0]}
    )
    for key, value in columns.items():
        frame[key] = value
    return frame


EXACT = {"solver": {"gap": 0.0, "time_limit": 30}}


def three_rep_plan(tmp_path, tolerance=0.0, potential=None, **settings):
    accounts = pd.DataFrame(
        {
            "account_id": ["a1", "a2", "b1", "b2", "c1", "c2"],
            "name": ["Ann", "Abe", "Bea", "Bob", "Cy", "Cal"],
            "lat": [0.0] * 6,
            "lon": [-0.1, 0.1, 0.9, 1.1, 1.85, 2.1],
            "workload": [1.0] * 6,
            "potential": potential or [10.0] * 6,
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": ["A", "B", "C"],
            "name": ["Ada", "Ben", "Cleo"],
            "lat": [0.0] * 3,
            "lon": [0.0, 1.0, 2.0],
        }
    )
    path = write_scenario(
        tmp_path / "start",
        accounts,
        reps,
        balance=[{"metric": "workload", "tolerance": tolerance}],
        **{**EXACT, **settings},
    )
    made = plan(load_scenario(path))
    assert owners(made) == {"a1": "A", "a2": "A", "b1": "B", "b2": "B", "c1": "C", "c2": "C"}
    return made


def owners(made) -> dict[str, str]:
    return dict(zip(made.assignments["account_id"], made.assignments["rep_id"]))


def banded_problem(
    accounts: pd.DataFrame, reps: pd.DataFrame, *, workload: float, potential: float
):
    """The planning problem of ``accounts`` and ``reps`` balanced on workload and potential
    with these tolerances (travel objective, every other setting the default)."""
    from territory_planner import build_problem, load_data
    from territory_planner.scenario import parse_scenario

    scenario = parse_scenario(
        {
            "accounts": "a",
            "reps": "r",
            "balance": [
                {"metric": "workload", "tolerance": workload},
                {"metric": "potential", "tolerance": potential},
            ],
        }
    )
    return build_problem(load_data(scenario, accounts=accounts, reps=reps))


def scattered_problem(n_accounts: int = 200, n_reps: int = 8, seed: int = 7):
    """``n_accounts`` accounts and ``n_reps`` reps scattered at random over the central US,
    bands 10% workload / 20% potential. The default (200 x 8, seed 7) is small enough for an
    exact MILP over all 1,600 pairs and large enough that 2 candidates per account leave
    pricing work to do."""
    rng = np.random.default_rng(seed)
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:03d}" for i in range(n_accounts)],
            "lat": rng.uniform(30, 45, n_accounts),
            "lon": rng.uniform(-110, -80, n_accounts),
            "workload": rng.integers(1, 10, n_accounts).astype(float),
            "potential": rng.integers(1, 100, n_accounts).astype(float),
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{j:0{len(str(n_reps - 1))}d}" for j in range(n_reps)],
            "lat": rng.uniform(30, 45, n_reps),
            "lon": rng.uniform(-110, -80, n_reps),
        }
    )
    return banded_problem(accounts, reps, workload=0.1, potential=0.2)


def sigint_as_at_a_terminal() -> None:
    """In the child before it starts: SIGINT's default action, as a run from a terminal has
    it. A test run started in the background (``cmd &`` in a script, ``nohup``) passes
    SIGINT on ignored, and an ignored SIGINT is rightly left ignored (test_interrupt.py)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
