"""The bundled demo end to end, as a new user runs it: `territory-planner demo --out DIR`."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import demo_scenario_path, main

pytestmark = pytest.mark.slow  # a demo-size, fuzz, cluster or browser run


@pytest.fixture(scope="module")
def demo_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "plan"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return out, result.output


def test_demo_scenario_ships_with_the_package():
    path = demo_scenario_path()
    assert path.name == "scenario.yaml" and path.exists()
    assert (path.parent / "accounts.csv").exists() and (path.parent / "regions.geojson").exists()


def test_demo_writes_a_balanced_plan_with_a_proven_gap(demo_plan):
    out, output = demo_plan
    assert f"written: {out}" in output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"] == {"accounts": 2000, "reps": 25}
    assert summary["lower_bound"] <= summary["objective"]
    assert summary["gap"] == pytest.approx(
        (summary["objective"] - summary["lower_bound"]) / summary["objective"]
    )
    assert summary["gap"] < 0.02
    for metric, tolerance in (("workload", 0.05), ("potential", 0.10)):
        assert summary["balance"][metric]["tolerance"] == tolerance
        assert summary["balance"][metric]["max_abs_deviation"] <= tolerance + 1e-6
    # the demo's accounts are a Salesforce export: assignments.csv keeps its ID column name
    assignments = pd.read_csv(out / "assignments.csv", dtype={"Id": str})
    assert len(assignments) == 2000 and assignments["Id"].is_unique
    territories = pd.read_csv(out / "territories.csv")
    hire = territories.set_index("rep_id").loc["R25"]
    # the ramping hire (capacity 0.5) carries half a territory
    full = territories.set_index("rep_id").loc["R01"]
    assert hire["workload_target"] == pytest.approx(full["workload_target"] / 2)


def test_demo_sets_quotas_that_add_up(demo_plan):
    out, _ = demo_plan
    quotas = pd.read_csv(out / "quotas.csv")
    summary = json.loads((out / "summary.json").read_text())
    assert quotas["quota"].sum() == pytest.approx(summary["quota"]["target"], rel=1e-6)
    assert {"q1", "q2", "q3", "q4"} <= set(quotas.columns)


def test_demo_map_is_self_contained_and_names_every_rep(demo_plan):
    out, _ = demo_plan
    html = (out / "map.html").read_text(encoding="utf-8")
    reps = pd.read_csv(out / "inputs" / "reps.csv")
    for name in reps["Name"]:
        assert name in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
