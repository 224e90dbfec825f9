"""Shared fixtures: tiny hand-drawn instances written as real files in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

#: one degree of a great circle with DESIGN's Earth radius 6371.0088 km
DEG_KM = 2 * 3.141592653589793 * 6371.0088 / 360  # 111.19508...


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


@pytest.fixture
def tiny(tmp_path):
    """A function writing a tiny scenario into tmp_path/<name>."""

    def make(name="case", accounts=None, reps=None, **settings):
        return write_scenario(
            tmp_path / name,
            line_accounts() if accounts is None else accounts,
            line_reps() if reps is None else reps,
            **settings,
        )

    return make
