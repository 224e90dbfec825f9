"""The smallest known-optimum instances of each family, through the engine's core.

Read from ../shared/benchmarks (never copied into the repository); skipped when absent.
Optima from the OR-Library / Osman-Christofides tables in that folder's README.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "benchmarks"
sys.path.insert(0, str(ROOT / "benchmarks"))

pytestmark = [
    pytest.mark.skipif(not DATA.exists(), reason="benchmark instances not present"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def ko():
    import known_optima

    return known_optima


def test_gap1_problem1_is_336_as_maximisation(ko):
    instance = ko.read_gap(DATA / "orlib-gap" / "gap1.txt")[0]
    assert instance.name == "gap1-1" and instance.maximise
    row, solution = ko.solve_gap(instance, time_limit=30)
    assert row["objective"] == pytest.approx(336)
    # for maximisation the proven bound is an upper bound, and it closes on 336
    assert row["bound"] == pytest.approx(336)
    assert row["gap"] == pytest.approx(0.0)
    assert len(solution) == 15 and {agent for _, agent in solution} <= set(range(1, 6))


def test_gapa1_is_1698_as_minimisation(ko):
    instance = ko.read_gap(DATA / "orlib-gap" / "gapa.txt")[0]
    assert not instance.maximise
    row, solution = ko.solve_gap(instance, time_limit=30)
    assert row["objective"] == pytest.approx(1698)
    assert row["status"] == "optimal"
    # the solution respects every agent's capacity
    used = [0.0] * 5
    for job, agent in solution:
        used[agent - 1] += instance.load[job - 1, agent - 1]
    assert all(u <= c + 1e-9 for u, c in zip(used, instance.capacity))


def test_pmed1_is_5819(ko):
    instance = ko.read_pmed(
        DATA / "orlib-pmed" / "pmed1.txt", ko.read_pmed_optima(DATA / "orlib-pmed")
    )
    assert instance.optimum == 5819 and instance.count == 5
    row, solution = ko.solve_median(instance, time_limit=60)
    assert row["objective"] == pytest.approx(5819)
    assert row["bound"] == pytest.approx(5819)
    assert len({median for _, median in solution}) == 5


def test_pmedcap01_is_713(ko):
    instance = ko.read_pmedcap(DATA / "pmedcap" / "pmedcap01.txt")
    assert (instance.count, instance.capacity, instance.optimum) == (5, 120, 713)
    row, solution = ko.solve_median(instance, time_limit=60)
    assert row["objective"] == pytest.approx(713)
    assert row["status"] == "optimal"
    load: dict[int, float] = {}
    for site, median in solution:
        load[median] = load.get(median, 0.0) + instance.demand[site - 1]
    assert len(load) <= 5 and max(load.values()) <= 120


def test_cli_writes_json_and_solution_files(ko, tmp_path):
    code = ko.main(
        [
            "--set",
            "gap1",
            "--instances",
            "gap1-2",
            "--json",
            str(tmp_path / "r.json"),
            "--solutions",
            str(tmp_path / "sol"),
        ]
    )
    assert code == 0
    import json

    rows = json.loads((tmp_path / "r.json").read_text())
    assert [r["instance"] for r in rows] == ["gap1-2"]
    assert rows[0]["objective"] == pytest.approx(327)
    assert set(rows[0]) >= {"instance", "objective", "optimum", "gap", "seconds", "status"}
    text = (tmp_path / "sol" / "gap1-2.csv").read_text().splitlines()
    assert text[0] == "item,assigned_to" and len(text) == 16
