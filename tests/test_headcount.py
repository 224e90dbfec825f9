"""Base placement and the smallest headcount on the four-account line of conftest.

Accounts on the equator at longitude 1, 2, 3 and 9, workload 1 each; one degree is
DEG_KM = 111.195 km. Candidate bases are the accounts' own sites.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.errors import InfeasibleError, InputError
from territory_planner.headcount import headcount, locate
from tests.helpers import DEG_KM, line_accounts, line_reps

SOLVER = {"solver": {"gap": 0.0, "time_limit": 30}}


def test_locate_two_bases_with_exact_workload_balance(tiny):
    """Tolerance 0: each base carries exactly 2 accounts. {1,2}+{3,9} costs 1 + 6 = 7 degrees
    (a base on one account of each pair); {1,3}+{2,9} costs 2 + 7 = 9; {1,9}+{2,3} 8 + 1 = 9.
    Optimum 7 * DEG_KM."""
    scenario = tiny(balance=[{"metric": "workload", "tolerance": 0.0}], **SOLVER)
    made = locate(scenario, 2)
    assert made.summary["objective"] == pytest.approx(7 * DEG_KM, rel=1e-6)
    assert made.summary["lower_bound"] == pytest.approx(7 * DEG_KM, rel=1e-6)
    assert made.summary["status"] == "optimal"
    rep = made.rep_of_account
    assert rep["A1"] == rep["A2"] and rep["A3"] == rep["A4"] and rep["A1"] != rep["A3"]
    assert list(made.reps["rep_id"]) == ["B01", "B02"]
    assert len(made.extra_files["bases.csv"]) == 2


def test_locate_without_bands_is_the_plain_p_median(tiny):
    """No balance rule: a base at 2 serves 1, 2, 3 (1 + 0 + 1 degrees), one at 9 serves 9."""
    made = locate(tiny(**SOLVER), 2)
    assert made.summary["objective"] == pytest.approx(2 * DEG_KM, rel=1e-6)
    assert sorted(made.extra_files["bases.csv"]["site_id"]) == ["A2", "A4"]


def test_locate_count_from_the_scenario_or_an_error(tiny):
    made = locate(tiny(name="with", locate={"count": 1}, **SOLVER))
    assert made.summary["locate"]["count"] == 1
    with pytest.raises(InputError, match="number of bases is not given"):
        locate(tiny(name="without", **SOLVER))


def test_locate_candidates_from_a_csv(tiny, tmp_path):
    """Only two candidate sites, at longitude 0 and 10: the bases are both, and the split
    {1,2,3}->0, {9}->10 costs 1 + 2 + 3 + 1 = 7 degrees."""
    scenario = tiny(**SOLVER)
    pd.DataFrame({"site_id": ["W", "E"], "lat": [0.0, 0.0], "lon": [0.0, 10.0]}).to_csv(
        scenario.parent / "sites.csv", index=False
    )
    made = locate(scenario, 2, candidates="sites.csv")
    assert made.summary["objective"] == pytest.approx(7 * DEG_KM, rel=1e-6)
    bad = scenario.parent / "bad.csv"
    pd.DataFrame({"site_id": ["W"], "lat": ["north"]}).to_csv(bad, index=False)
    with pytest.raises(InputError, match="column 'lon' is missing"):
        locate(scenario, 1, candidates=str(bad))


def test_headcount_with_a_distance_limit(tiny):
    """150 km (1.35 degrees): no site is within 150 km of both A4 (longitude 9) and A1
    (longitude 1), so one base cannot work (by arithmetic, no solver); two bases (at 2 and
    at 9) reach everyone. Answer 2."""
    found = headcount(tiny(**SOLVER), max_distance_km=150.0)
    assert found.count == 2
    assert found.lower_bound == 2
    assert [step["count"] for step in found.checked] == [1, 2]
    assert found.checked[0]["status"] == "infeasible (spread)"
    assert "two of the 2 accounts A4, A1, so at least 2 bases" in found.checked[0]["reason"]
    assert found.plan.summary["headcount"]["count"] == 2
    assert found.plan.assignments["distance_km"].max() <= 150.0


def test_headcount_with_a_load_limit_starts_at_its_lower_bound(tiny):
    """At most 1.5 workload each: ceil(4 / 1.5) = 3 bases at least (arithmetic). Accounts
    are whole, so a base holds one account (two would be 2 > 1.5): 3 bases are proven
    infeasible by the solver and the answer is 4."""
    found = headcount(tiny(**SOLVER), max_load=1.5)
    assert found.lower_bound == 3 and found.count == 4
    assert [(s["count"], s["status"]) for s in found.checked][0] == (3, "infeasible (proven)")
    loads = found.plan.assignments.groupby("rep_id")["workload"].sum()
    assert loads.max() <= 1.5


def test_cli_locate_and_headcount_write_plan_folders(tiny, tmp_path):
    scenario = tiny(**SOLVER)
    out = tmp_path / "bases"
    result = CliRunner().invoke(
        main, ["locate", str(scenario), "--count", "2", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "bases.csv").exists() and (out / "assignments.csv").exists()
    assert json.loads((out / "summary.json").read_text())["locate"]["count"] == 2
    result = CliRunner().invoke(
        main,
        [
            "headcount",
            str(scenario),
            "--max-distance",
            "150",
            "--out",
            str(tmp_path / "hc"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "smallest headcount: 2" in result.output
    assert "1 reps: infeasible (spread)" in result.output


def test_headcount_without_a_limit_is_refused(tiny):
    """No --max-distance, no --max-load, no distance limit in the scenario: one base always
    meets bands re-based on one share, so the question is refused naming the options."""
    scenario = tiny(**SOLVER)
    with pytest.raises(InputError, match="needs a limit") as caught:
        headcount(scenario)
    assert "--max-distance" in str(caught.value) and "--max-load" in str(caught.value)
    result = CliRunner().invoke(main, ["headcount", str(scenario), "--out", "x", "--quiet"])
    assert result.exit_code == 2
    assert "--max-distance KM" in result.output


def test_headcount_names_accounts_no_base_can_reach(tiny):
    """Candidate bases only at longitude 0 and 1. A3 (longitude 3) is 2 degrees = 222.4 km
    and A4 (longitude 9) 8 degrees = 889.6 km from the nearer one, both beyond 150 km: no
    count works, and both are named with their distances."""
    scenario = tiny(**SOLVER)
    pd.DataFrame({"site_id": ["W", "N"], "lat": [0.0, 0.0], "lon": [0.0, 1.0]}).to_csv(
        scenario.parent / "sites.csv", index=False
    )
    with pytest.raises(InfeasibleError) as caught:
        headcount(scenario, max_distance_km=150.0, candidates="sites.csv")
    text = "\n".join(caught.value.reasons)
    assert "2 account(s) cannot be reached from any candidate base within 150 km" in text
    assert f"A3: nearest candidate base {2 * DEG_KM:,.1f} km away" in text
    assert f"A4: nearest candidate base {8 * DEG_KM:,.1f} km away" in text


def test_headcount_names_the_island_whose_load_fits_no_number_of_bases(tiny):
    """Within 150 km, A1..A3 can share bases but A4 (6 degrees on) shares none with them.
    Workload 1, 1, 1, 2 with tolerance 0: every base carries exactly 5 / N, so the island
    {A4} (one account of 2) needs 2 = n * 5 / N and {A1, A2, A3} needs 3 = m * 5 / N, both
    whole: N a multiple of 5, but there are only 4 candidate sites. N = 1 is ruled out
    first (no site within 150 km of both A4 and A1); with N = 2 a base carries exactly 2.5,
    which the island of A1..A3 (3.0) fits no whole number of times; with N = 4, 1.25."""
    accounts = line_accounts(workload=[1.0, 1.0, 1.0, 2.0])
    scenario = tiny(accounts=accounts, balance=[{"metric": "workload", "tolerance": 0.0}], **SOLVER)
    with pytest.raises(InfeasibleError) as caught:
        headcount(scenario, max_distance_km=150.0)
    assert "no number of bases from 1 to 4" in caught.value.reasons[0]
    reasons = {step["count"]: step["reason"] for step in caught.value.details}
    assert sorted(reasons) == [1, 2, 3, 4]
    assert "at least 2 bases are needed" in reasons[1]
    assert "the 3 account(s) A1, A2, A3 share no candidate base with the rest" in reasons[2]
    assert "workload 3.0 (a base carries 2.5 to 2.5)" in reasons[2]
    assert "workload 3.0 (a base carries 1.2 to 1.2)" in reasons[4]
    statuses = [step["status"] for step in caught.value.details]
    assert statuses == ["infeasible (spread)"] + ["infeasible (islands)"] * 3


def test_headcount_names_an_account_heavier_than_the_max_load(tiny):
    """A4 carries workload 2 > max load 1.5: no number of bases can take it."""
    scenario = tiny(accounts=line_accounts(workload=[1.0, 1.0, 1.0, 2.0]), **SOLVER)
    with pytest.raises(InfeasibleError) as caught:
        headcount(scenario, max_load=1.5)
    text = "\n".join(caught.value.reasons)
    assert "more workload than the max load 1.5" in text and "A4: workload 2.0" in text


def test_locate_and_headcount_with_a_hierarchy_write_their_folders(tiny, tmp_path):
    """The bases are new reps without the reps file's district column, so a scenario with
    ``hierarchy: [district]`` gives a located plan without roll-ups (it used to stop with a
    KeyError 'district' traceback after the solve, writing nothing). The plan itself is the
    one of the first test: a base on one account of each pair, 7 degrees."""
    scenario = tiny(
        reps=line_reps(district=["North", "South"]),
        hierarchy=["district"],
        balance=[{"metric": "workload", "tolerance": 0.0}],
        **SOLVER,
    )
    out = tmp_path / "bases"
    result = CliRunner().invoke(
        main, ["locate", str(scenario), "--count", "2", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective"] == pytest.approx(7 * DEG_KM, rel=1e-6)
    assert not (out / "rollups.csv").exists()
    assert "hierarchy: []" in (out / "scenario.yaml").read_text()
    result = CliRunner().invoke(
        main,
        ["headcount", str(scenario), "--max-distance", "150", "--out", str(tmp_path / "hc")],
    )
    assert result.exit_code == 0, result.output
    # within 150 km (1.35 degrees) 9 is alone and 1, 2, 3 need two bases, and with exact
    # balance every base holds the same number of accounts: four bases of one account
    assert "smallest headcount: 4" in result.output
    assert not (tmp_path / "hc" / "rollups.csv").exists()
