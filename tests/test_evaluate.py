"""evaluate: any assignment scored against the scenario's proven lower bound.

The hand-drawn case (tests/helpers.py): accounts on the equator at longitude 1, 2, 3, 9
(workload 1, potential 100, 200, 300, 400), R1 at longitude 0, R2 at 10, one degree =
DEG_KM km. Workload within 25% of the target 2 means every whole plan gives each rep exactly
two accounts; potential within 50% of 500 means 250..750. A1 is locked to R1.

* Best plan: R1 keeps A1 and takes one more. With A2: 1 + 2 (R1) + 7 + 1 (R2) = 11 degrees;
  with A3: 1 + 3 + 8 + 1 = 13; with A4: 1 + 9 + 8 + 7 = 25. So the optimum is 11 degrees
  (potential 300 / 700, inside 250..750), and with gap 0 the solver proves it: bound = 11.
* Today (A1 R1; A2, A3, A4 R2): travel 1 + 8 + 7 + 1 = 17 degrees; workload 1 / 3, so
  -50% / +50% against a 25% band, both reps broken; potential 100 / 900, -80% / +80%, both
  broken. Gap to the bound (17 - 11) / 17 = 6/17.
* A deliberately bad edit (A1, A4 R1; A2, A3 R2) holds every band (workload 2 / 2,
  potential 500 / 500) yet travels 1 + 9 + 8 + 7 = 25 degrees: gap (25 - 11) / 25 = 0.56.
* A cheap edit that breaks the bands (A1, A2, A3 R1; A4 R2): 1 + 2 + 3 + 1 = 7 degrees, less
  than the bound: gap (7 - 11) / 7 = -4/7, and workload R1 3 (+50%), R2 1 (-50%).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner import Plan, evaluate, plan
from territory_planner.cli import main
from territory_planner.errors import InputError
from tests.helpers import DEG_KM, hand_scenario, hierarchy_reps, write_assignment, write_scenario

BOUND = 11 * DEG_KM


def test_today_is_scored_against_the_proven_bound(tmp_path):
    made = evaluate(hand_scenario(tmp_path / "s"))
    summary = made.summary
    assert summary["status"] == "evaluated"
    assert summary["evaluated"]["assignment"] == "today's owners"
    assert summary["lower_bound"] == pytest.approx(BOUND, rel=1e-9)
    assert summary["solver"]["best_plan_status"] == "optimal"
    assert summary["objective"] == pytest.approx(17 * DEG_KM, rel=1e-6)
    assert summary["travel_cost"] == pytest.approx(17 * DEG_KM, abs=2e-3)
    assert summary["gap"] == pytest.approx(6 / 17, abs=1e-8)
    workload, potential = summary["balance"]["workload"], summary["balance"]["potential"]
    assert workload["max_abs_deviation"] == pytest.approx(0.5)
    assert potential["max_abs_deviation"] == pytest.approx(0.8)
    assert not workload["within_band"] and not potential["within_band"]
    assert [(b["rep_id"], b["load"], b["target"], b["deviation"]) for b in workload["broken"]] == [
        ("R1", 1.0, 2.0, -0.5),
        ("R2", 3.0, 2.0, 0.5),
    ]
    assert [(b["rep_id"], b["load"], b["deviation"]) for b in potential["broken"]] == [
        ("R1", 100.0, -0.8),
        ("R2", 900.0, 0.8),
    ]
    # scoring today's owners moves nothing and the today block says the same
    assert summary["disruption"]["moved_accounts"] == 0
    assert summary["today"]["gap_to_bound"] == pytest.approx(6 / 17, abs=1e-8)
    assert summary["today"]["balance"]["workload"]["broken"] == workload["broken"]


def test_a_bad_hand_edit_is_scored_and_written_as_a_plan_folder(tmp_path):
    scenario = hand_scenario(tmp_path / "s")
    edited = write_assignment(tmp_path / "edited.csv", "Id,OwnerId\nA1,R1\nA2,R2\nA3,R2\nA4,R1\n")
    made = evaluate(scenario, edited)
    summary = made.summary
    assert summary["objective"] == pytest.approx(25 * DEG_KM, rel=1e-6)
    assert summary["lower_bound"] == pytest.approx(BOUND, rel=1e-9)
    assert summary["gap"] == pytest.approx(14 / 25, abs=1e-8)
    assert all(summary["balance"][m]["within_band"] for m in ("workload", "potential"))
    assert summary["balance"]["workload"]["broken"] == []
    # today's numbers ride along: the edit against today
    assert summary["today"]["travel_cost"] == pytest.approx(17 * DEG_KM, abs=2e-3)
    assert summary["disruption"]["moved_accounts"] == 1  # A4: R2 -> R1
    assert summary["disruption"]["moved_share"] == pytest.approx(0.4)
    out = made.write(tmp_path / "scored", map_html=False)
    assert (out / "owner_changes.csv").read_text() == "Id,OwnerId\nA4,R1\n"
    again = Plan.read(out)
    assert again.summary["status"] == "evaluated"
    assert dict(zip(again.assignments["account_id"], again.assignments["rep_id"])) == {
        "A1": "R1",
        "A2": "R2",
        "A3": "R2",
        "A4": "R1",
    }


def test_a_crm_export_that_names_the_owners_is_read_by_name(tmp_path):
    """The bad edit above, exported from a CRM with the owners' names ('Account Owner':
    Rita = R1, Rob = R2, any case and spacing): the same score. Before, every row was
    refused as 'rep Rita is not in the scenario's reps'. A name two reps share is one
    problem naming both reps."""
    scenario = hand_scenario(tmp_path / "s")
    export = "Account ID,Account Owner\nA1,Rita\nA2,rob\nA3, Rob \nA4,RITA\n"
    made = evaluate(scenario, write_assignment(tmp_path / "names.csv", export))
    assert made.summary["objective"] == pytest.approx(25 * DEG_KM, rel=1e-6)
    assert made.summary["gap"] == pytest.approx(14 / 25, abs=1e-8)
    twins = hierarchy_reps().assign(Name=["Rita", "Rita"])
    shared = hand_scenario(tmp_path / "twins", reps=twins)
    with pytest.raises(InputError) as error:
        twins_export = "Account ID,Account Owner\nA1,Rita\nA2,R2\nA3,R2\nA4,R1\n"
        evaluate(shared, write_assignment(tmp_path / "twins.csv", twins_export))
    text = str(error.value)
    assert text.startswith("1 problem in the inputs")
    assert (
        "row 2, column 'Account Owner': the rep's name 'Rita' belongs to several reps (R1, R2)"
        in text
    )
    assert "has no rep" not in text and "is not in the scenario's reps" not in text


def test_an_edit_that_breaks_the_bands_can_cost_less_than_the_bound(tmp_path):
    scenario = hand_scenario(tmp_path / "s")
    cheap = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4"], "rep_id": ["R1"] * 3 + ["R2"]})
    summary = evaluate(scenario, cheap).summary
    assert summary["objective"] == pytest.approx(7 * DEG_KM, rel=1e-6)
    assert summary["gap"] == pytest.approx(-4 / 7, abs=1e-8)
    assert [(b["rep_id"], b["deviation"]) for b in summary["balance"]["workload"]["broken"]] == [
        ("R1", 0.5),
        ("R2", -0.5),
    ]


def test_a_plan_folder_edited_in_excel_is_read_by_its_rep_id_column(tmp_path):
    """assignments.csv holds both OwnerId (today's owner) and rep_id (the plan's): rep_id is
    the assignment. Planned: A1, A2 R1 (11 degrees); the planner moves A3 to R1 as well."""
    scenario = hand_scenario(tmp_path / "s")
    folder = evaluate(scenario).write(tmp_path / "today", map_html=False)
    frame = pd.read_csv(folder / "assignments.csv", dtype=str)
    assert {"Id", "OwnerId", "rep_id"} <= set(frame.columns)
    frame["rep_id"] = ["R1", "R1", "R1", "R2"]
    frame.to_csv(tmp_path / "edited.csv", index=False)
    summary = evaluate(scenario, tmp_path / "edited.csv").summary
    assert summary["objective"] == pytest.approx(7 * DEG_KM, rel=1e-6)


def test_every_defect_of_an_assignment_file_at_once_and_nothing_written(tmp_path):
    scenario = hand_scenario(tmp_path / "s")
    bad = write_assignment(
        tmp_path / "bad.csv",
        "Id,OwnerId\n"
        "A1,R2\n"  # row 2: A1 is locked to R1
        "A2,R9\n"  # row 3: unknown rep
        "A2,R1\n"  # row 4: listed twice
        "A7,R1\n"  # row 5: unknown account
        "A4,\n",  # row 6: no rep; and A3 has no row at all
    )
    with pytest.raises(InputError) as caught:
        evaluate(scenario, bad)
    found = {(p.row, p.column, p.message) for p in caught.value.problems}
    assert found == {
        (2, "OwnerId", "account A1 is locked to R1 but is given to R2"),
        (3, "OwnerId", "rep R9 is not in the scenario's reps"),
        (4, "Id", "account A2 is listed twice (first on row 3)"),
        (5, "Id", "account A7 is not in the scenario's accounts"),
        (6, "OwnerId", "account A4 has no rep"),
        (None, "Id", "account A3 of the scenario has no row"),
    }
    assert all(p.file == str(bad) for p in caught.value.problems)
    out = tmp_path / "never"
    result = CliRunner().invoke(
        main, ["evaluate", str(scenario), "--out", str(out), "--assignments", str(bad), "--quiet"]
    )
    assert result.exit_code == 2, result.output
    assert "6 problem(s)" in result.output and "row 5" in result.output
    assert not out.exists()


def test_a_file_without_an_account_or_rep_column_is_refused(tmp_path):
    scenario = hand_scenario(tmp_path / "s")
    bad = write_assignment(tmp_path / "bad.csv", "customer,seller\nA1,R1\n")
    with pytest.raises(InputError) as caught:
        evaluate(scenario, bad)
    assert sorted(p.message for p in caught.value.problems) == [
        "no account column",
        "no rep column",
    ]


def test_today_cannot_be_scored_when_an_account_has_no_owner(tmp_path):
    from tests.helpers import salesforce_accounts

    accounts = salesforce_accounts()
    accounts.loc[2, "OwnerId"] = ""
    with pytest.raises(InputError, match="account A3 has no owner today") as caught:
        evaluate(hand_scenario(tmp_path / "s", accounts=accounts))
    assert [(p.row, p.column) for p in caught.value.problems] == [(4, "OwnerId")]


def test_cli_evaluate_writes_a_plan_folder_and_says_the_gap(tmp_path):
    """Today 1,890.3 against the proven bound 1,223.1: gap (1,890.3 - 1,223.1) / 1,890.3 =
    35.29%, and today costs at most 1,890.3 / 1,223.1 - 1 = 54.55% more than the best plan
    (before: 'it costs 35.29% more', the gap read as a markup)."""
    scenario = hand_scenario(tmp_path / "s")
    out = tmp_path / "today"
    result = CliRunner().invoke(main, ["evaluate", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert (
        "gap 35.29% to the proven lower bound; it costs at most 54.55% more than the best "
        "plan could" in result.output
    )
    assert "workload: largest deviation 50.00% (tolerance 25%), 2 reps outside the band" in (
        result.output
    )
    for name in ("assignments.csv", "territories.csv", "rollups.csv", "owner_changes.csv"):
        assert (out / name).exists(), name
    assert (out / "owner_changes.csv").read_text() == "Id,OwnerId\n"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gap"] == pytest.approx(6 / 17, abs=1e-8)
    again = CliRunner().invoke(main, ["evaluate", str(scenario), "--out", str(out), "--quiet"])
    assert again.exit_code == 2 and "--force" in again.output


def test_rules_an_edit_breaks_are_reported_not_refused(tmp_path):
    """Keep A2 and A3 together (ParentId G) and limit distance to 5 degrees: the edit
    A2 -> R1, A3 -> R2 splits G, and A3 at longitude 3 is 7 degrees from R2, beyond 5.
    Those rules force A1, A2, A3 on R1 (workload 3, above 2.5): no plan holds the bands, so
    there is no bound to prove, and the summary says so instead of inventing one."""
    from tests.helpers import salesforce_accounts

    accounts = salesforce_accounts()
    accounts.loc[[1, 2], "ParentId"] = "G"
    scenario = hand_scenario(
        tmp_path / "s",
        accounts=accounts,
        constraints={"keep_together": "group_id", "max_distance_km": 5 * DEG_KM},
    )
    edit = pd.DataFrame({"Id": ["A1", "A2", "A3", "A4"], "OwnerId": ["R1", "R1", "R2", "R2"]})
    summary = evaluate(scenario, edit).summary
    assert summary["lower_bound"] is None and summary["gap"] is None
    assert summary["solver"]["bound"] == "none: the scenario is infeasible"
    broken = summary["evaluated"]["rules_broken"]
    assert broken["groups_split"] == {"count": 1, "first": ["G"]}
    assert broken["not_allowed_pairs"]["first"] == ["A3"]


def test_evaluated_territories_get_the_scenarios_quotas(tmp_path):
    """Quota by potential, target 1,000: today R1 holds 100 of 1,000 potential and R2 900,
    so their fair shares, and quotas, are 100 and 900; the districts roll the same up."""
    scenario = hand_scenario(tmp_path / "s", quota={"target": 1000.0, "method": "potential"})
    made = evaluate(scenario)
    quotas = made.quotas.set_index("rep_id")["quota"]
    assert quotas.to_dict() == pytest.approx({"R1": 100.0, "R2": 900.0})
    rollups = made.rollups().set_index(["level", "unit"])["quota"]
    assert rollups.to_dict() == pytest.approx(
        {("district", "North"): 100.0, ("district", "South"): 900.0, ("area", "East"): 1000.0}
    )


def test_geography_mode_scores_against_connected_whole_regions(tmp_path):
    """A 1 x 3 strip (r00, r01, r02 at lon 0.05, 0.15, 0.25 on lat 0.05), workload 1 per
    account, bands wide open: A lives at r00's centre, B at r02's; r00 holds two accounts
    (at its centre), r01 one at lon 0.16, r02 one at its centre. Whole connected regions:
    the best plan is A {r00}, B {r01, r02}, travel 0.09 degrees of longitude (r01's account to
    B), and evaluate's bound is that plan's, so it scores gap 0. An assignment that gives one
    of r00's accounts to B and r01 to A splits r00 and leaves B's territory in two pieces
    (r00 and r02, r01 between them is A's): both are named."""
    from tests.helpers import CELL, grid_regions, write_region_scenario

    accounts = pd.DataFrame(
        [
            dict(account_id="a0", lat=0.05, lon=0.05),
            dict(account_id="b0", lat=0.05, lon=0.05),
            dict(account_id="a1", lat=0.05, lon=0.16),
            dict(account_id="a2", lat=0.05, lon=0.25),
        ]
    ).assign(workload=1.0)
    reps = pd.DataFrame(
        [dict(rep_id="A", lat=0.05, lon=0.5 * CELL), dict(rep_id="B", lat=0.05, lon=2.5 * CELL)]
    )
    path = write_region_scenario(
        tmp_path,
        grid_regions(1, 3),
        accounts,
        reps,
        balance=[{"metric": "workload", "tolerance": 1.0}],
    )
    best = pd.DataFrame({"account_id": ["a0", "b0", "a1", "a2"], "rep_id": ["A", "A", "B", "B"]})
    scored = evaluate(path, best)
    assert scored.summary["lower_bound"] == pytest.approx(scored.summary["objective"], rel=1e-6)
    assert scored.summary["objective"] == pytest.approx(0.09 * DEG_KM, rel=0.01)
    broken = scored.summary["evaluated"]["rules_broken"]
    assert broken["regions_split"]["count"] == 0 and broken["territories_in_pieces"]["count"] == 0
    torn = pd.DataFrame({"account_id": ["a0", "b0", "a1", "a2"], "rep_id": ["A", "B", "A", "B"]})
    broken = evaluate(path, torn).summary["evaluated"]["rules_broken"]
    assert broken["regions_split"] == {"count": 1, "first": ["r00"]}
    assert broken["territories_in_pieces"] == {"count": 1, "first": ["B"]}


def test_travel_cost_is_summed_from_exact_distances(tmp_path):
    """One rep at (0, 0), one account of workload 1,000 at longitude 1: travel is 1,000 x
    DEG_KM = 111,195.08 km. Summed from distances rounded to metres it read 111,195.0,
    0.08 below the objective the optimiser proved; now the two agree."""
    from tests.helpers import write_scenario

    accounts = pd.DataFrame(
        {"account_id": ["A1"], "lat": [0.0], "lon": [1.0], "workload": [1000.0]}
    )
    reps = pd.DataFrame({"rep_id": ["R1"], "lat": [0.0], "lon": [0.0]})
    made = plan(write_scenario(tmp_path, accounts, reps))
    assert made.summary["travel_cost"] == pytest.approx(1000 * DEG_KM, abs=1e-3)
    assert made.summary["travel_cost"] == pytest.approx(made.summary["objective"], abs=1e-3)


def test_an_assignment_as_good_as_the_bound_has_gap_zero_not_below_it(tmp_path):
    """One account at longitude 1, one rep at 0 who owns it today: the only plan, travel
    1 degree = 111.19508023353... km, and the solver proves exactly that. The objective in
    summary.json is rounded to 6 decimals (111.19508, 2.1e-9 below), which used to give a
    gap of -2e-09 and the words "costs 0.00% less than the proven lower bound ... because it
    breaks some" of rules it does not break; the gap is 0 and the words say so."""
    scenario = write_scenario(
        tmp_path / "s",
        pd.DataFrame(
            {
                "account_id": ["A1"],
                "lat": [0.0],
                "lon": [1.0],
                "current_rep_id": ["R1"],
            }
        ),
        pd.DataFrame({"rep_id": ["R1"], "name": ["Rita"], "lat": [0.0], "lon": [0.0]}),
        solver={"time_limit": 10, "gap": 0.0},
    )
    made = evaluate(scenario)
    assert made.summary["objective"] == pytest.approx(DEG_KM, abs=1e-6)
    assert made.summary["lower_bound"] == pytest.approx(DEG_KM, rel=1e-12)
    assert made.summary["gap"] == 0.0
    result = CliRunner().invoke(main, ["show", str(made.write(tmp_path / "ev"))])
    assert result.exit_code == 0, result.output
    assert "gap 0.00% to the proven lower bound" in result.output
    assert "less than the proven lower bound" not in result.output
    planned = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(tmp_path / "p")])
    assert planned.exit_code == 0, planned.output
    assert json.loads((tmp_path / "p" / "summary.json").read_text())["today"]["gap_to_bound"] == 0.0
    assert "today's gap to the proven lower bound: 0.0%" in planned.output
    assert "it breaks the bands" not in planned.output
