"""The plan folder a planner hands on: input names kept, CRM update file, rollups, today's
numbers beside the plan's, CSV numbers without float noise, a readable ``show``.

The hand-drawn case is tests/helpers.py's (worked out in tests/test_evaluate.py): the best
plan gives R1 accounts A1 and A2 (11 degrees of travel), so only A2 changes owner (R2 to
R1); today travels 17 degrees, workload 1 / 3 and potential 100 / 900 between R1 and R2.
"""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner import Plan, compare, plan, rebalance, requota
from territory_planner.cli import main
from territory_planner.plan import write_csv
from tests.helpers import DEG_KM, hand_scenario, hierarchy_reps, salesforce_accounts


def rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


@pytest.fixture
def hand_plan(tmp_path):
    made = plan(hand_scenario(tmp_path / "s"))
    return made, made.write(tmp_path / "plan", map_html=False)


# --------------------------------------------------------------------------- input names


def test_a_rebalance_of_a_salesforce_plan_speaks_the_crm_names(hand_plan, tmp_path):
    """R2 leaves the hand plan (R1: A1, A2; R2: A3, A4): every account goes to R1, whose band
    (workload 4 +/- 25%, potential 1000 +/- 50%) holds all four. So exactly A3 and A4 change
    owner, and the CRM update lists them under the export's own names."""
    _, out = hand_plan
    moved = rebalance(Plan.read(out), leaves=["R2"])
    folder = moved.write(tmp_path / "rebalanced", map_html=False)
    assert rows(folder / "owner_changes.csv") == [["Id", "OwnerId"], ["A3", "R1"], ["A4", "R1"]]
    header = rows(folder / "assignments.csv")[0]
    assert header[0] == "Id" and "BillingPostalCode" in header and "OwnerId" in header


def test_a_rebalanced_salesforce_plan_folder_is_read_back_and_compared(tmp_path):
    """The workflow of the README (plan, re-balance after a departure, compare the two
    folders) on a Salesforce export whose IDs are digits with leading zeros: the re-balanced
    folder (assignments.csv under the export's names, inputs/accounts.csv under the canonical
    ones) reads back with every ID as written, and the comparison lists exactly the two
    accounts of the leaving rep R2 that go to R1 (0003 and 0004; 0002 is R1's in the plan)."""
    accounts = salesforce_accounts()
    accounts["Id"] = ["0001", "0002", "0003", "0004"]
    made = plan(hand_scenario(tmp_path / "s", accounts=accounts))
    first = made.write(tmp_path / "plan", map_html=False)
    moved = rebalance(Plan.read(first), leaves=["R2"])
    second = moved.write(tmp_path / "rebalanced", map_html=False)
    assert rows(second / "assignments.csv")[0][0] == "Id"
    again = Plan.read(second)
    assert again.rep_of_account.to_dict() == {a: "R1" for a in ("0001", "0002", "0003", "0004")}
    assert {"lat", "BillingLatitude", "OwnerId"}.isdisjoint(again.assignments.columns)
    result = compare(first, second)
    assert result.moves["account_id"].tolist() == ["0003", "0004"]
    assert result.moves["rep_b"].tolist() == ["R1", "R1"]
    shown = CliRunner().invoke(main, ["show", str(second)])
    assert shown.exit_code == 0, shown.output
    # the folder agrees with itself: its inputs keep the export's names too, so they survive
    # a second re-balance (before, inputs/accounts.csv went canonical and the names were lost)
    for folder in (second, rebalance(again).write(tmp_path / "again", map_html=False)):
        header = rows(folder / "inputs" / "accounts.csv")[0]
        assert header[0] == "Id" and "OwnerId" in header and "account_id" not in header
        assert rows(folder / "owner_changes.csv")[0] == ["Id", "OwnerId"]


def test_a_salesforce_export_comes_back_under_its_own_names(hand_plan):
    made, out = hand_plan
    assert dict(zip(made.assignments["account_id"], made.assignments["rep_id"])) == {
        "A1": "R1",
        "A2": "R1",
        "A3": "R2",
        "A4": "R2",
    }
    assert rows(out / "owner_changes.csv") == [["Id", "OwnerId"], ["A2", "R1"]]
    table = rows(out / "assignments.csv")
    assert table[0] == [
        "Id",
        "rep_id",
        "rep_name",
        "previous_rep_id",
        "moved",
        "distance_km",
        "Name",
        "BillingLatitude",
        "BillingLongitude",
        "BillingPostalCode",
        "workload",
        "potential",
        "OwnerId",
        "locked",
        "ParentId",
        "revenue",
        "region_id",
    ]
    by_id = {row[0]: dict(zip(table[0], row)) for row in table[1:]}
    assert by_id["A1"]["BillingPostalCode"] == "02139"  # the leading zero survives
    assert by_id["A2"]["BillingPostalCode"] == ""
    assert (by_id["A2"]["rep_id"], by_id["A2"]["rep_name"], by_id["A2"]["OwnerId"]) == (
        "R1",
        "Rita",
        "R2",
    )
    assert (by_id["A2"]["previous_rep_id"], by_id["A2"]["moved"]) == ("R2", "True")
    assert by_id["A2"]["distance_km"] == "222.39"  # 2 x 111.19508 km to 3 decimals, trimmed
    # read back, the plan speaks canonical names again
    again = Plan.read(out)
    assert list(again.assignments.columns[:6]) == [
        "account_id",
        "rep_id",
        "previous_rep_id",
        "moved",
        "distance_km",
        "rep_name",
    ]
    assert again.assignments.set_index("account_id").loc["A2", "rep_id"] == "R1"


ANN_15, BOB_15 = "0055g00000AbCdE", "0055g00000XyZzY"  # both 18-character forms end 'AAV'


def test_owner_ids_of_the_other_salesforce_length_go_back_as_the_export_wrote_them(tmp_path):
    """A Data Loader export gives owners as 18-character IDs, the reps file (a users report)
    has the 15: the hand case's best plan moves only A2, from Bob to Ann. The CRM update
    and the owner column of assignments.csv give the 18-character IDs the export used
    (before: the reps' 15, which Excel's case-blind lookups cannot tell apart), and so does
    a re-balance in which Bob leaves (A3 and A4 go to Ann), read back from its folder."""
    accounts = salesforce_accounts()
    accounts["OwnerId"] = [ANN_15 + "AAV", BOB_15 + "AAV", BOB_15 + "AAV", BOB_15 + "AAV"]
    reps = hierarchy_reps().assign(Id=[ANN_15, BOB_15])
    made = plan(hand_scenario(tmp_path / "s", accounts=accounts, reps=reps))
    out = made.write(tmp_path / "plan", map_html=False)
    assert rows(out / "owner_changes.csv") == [["Id", "OwnerId"], ["A2", ANN_15 + "AAV"]]
    table = rows(out / "assignments.csv")
    a2 = dict(zip(table[0], table[2]))
    assert (a2["Id"], a2["rep_id"], a2["OwnerId"]) == ("A2", ANN_15, BOB_15 + "AAV")
    moved = rebalance(Plan.read(out), leaves=[BOB_15]).write(tmp_path / "moved", map_html=False)
    assert rows(moved / "owner_changes.csv") == [
        ["Id", "OwnerId"],
        ["A3", ANN_15 + "AAV"],
        ["A4", ANN_15 + "AAV"],
    ]
    again = Plan.read(moved)
    assert again.accounts["current_rep_id"].tolist() == [ANN_15, ANN_15, BOB_15, BOB_15]
    inputs = rows(moved / "inputs" / "accounts.csv")
    owner = inputs[0].index("OwnerId")
    assert [row[owner] for row in inputs[1:]] == [ANN_15 + "AAV"] * 2 + [BOB_15 + "AAV"] * 2


def test_a_rebalance_of_owners_given_by_name_updates_them_by_name(tmp_path):
    """A report export gives every owner by name ('Account Owner': Rita, Rob, Rob, Rob).
    The plan's CRM update gives A2's new owner by name; so does a re-balance in which Rob
    leaves (A3 and A4 go to Rita), and a second re-balance read from that folder (before:
    the re-balance wrote rep IDs, R1, under 'Account Owner', and its assignments.csv
    turned the owner column into IDs)."""
    accounts = salesforce_accounts().rename(columns={"OwnerId": "Account Owner"})
    accounts["Account Owner"] = ["Rita", "Rob", "Rob", "Rob"]
    out = plan(hand_scenario(tmp_path / "s", accounts=accounts)).write(
        tmp_path / "plan", map_html=False
    )
    assert rows(out / "owner_changes.csv") == [["Id", "Account Owner"], ["A2", "Rita"]]
    moved = rebalance(Plan.read(out), leaves=["R2"]).write(tmp_path / "moved", map_html=False)
    assert rows(moved / "owner_changes.csv") == [
        ["Id", "Account Owner"],
        ["A3", "Rita"],
        ["A4", "Rita"],
    ]
    table = rows(moved / "assignments.csv")
    owner = table[0].index("Account Owner")
    assert [row[owner] for row in table[1:]] == ["Rita", "Rita", "Rob", "Rob"]
    hired = pd.DataFrame({"rep_id": ["R3"], "name": ["Rhea"], "lat": [0.0], "lon": [3.0]})
    again = rebalance(Plan.read(moved), hires=hired).write(tmp_path / "again", map_html=False)
    changes = rows(again / "owner_changes.csv")
    assert changes[0] == ["Id", "Account Owner"] and len(changes) > 1
    assert {row[1] for row in changes[1:]} <= {"Rita", "Rhea"}


def test_an_xlsx_salesforce_export_through_the_cli(tmp_path):
    folder = tmp_path / "s"
    scenario = hand_scenario(folder)
    salesforce_accounts().to_excel(folder / "accounts.xlsx", index=False)
    text = scenario.read_text().replace("accounts.csv", "accounts.xlsx")
    scenario.write_text(text)
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert rows(out / "owner_changes.csv") == [["Id", "OwnerId"], ["A2", "R1"]]
    frame = pd.read_csv(out / "assignments.csv", dtype=str)
    assert frame.set_index("Id").loc["A1", "BillingPostalCode"] == "02139"


def test_an_input_column_named_like_a_plan_column_is_kept_beside_it(tmp_path):
    """The accounts carry their own ``rep_id`` (a legacy territory code): it is written as
    input_rep_id, the plan's rep_id keeps its name, and the workflows read the folder."""
    accounts = salesforce_accounts().assign(rep_id=["T1", "T2", "T3", "T4"])
    made = plan(hand_scenario(tmp_path / "s", accounts=accounts))
    out = made.write(tmp_path / "plan", map_html=False)
    frame = pd.read_csv(out / "assignments.csv", dtype=str).set_index("Id")
    assert frame["input_rep_id"].tolist() == ["T1", "T2", "T3", "T4"]
    assert frame["rep_id"].tolist() == ["R1", "R1", "R2", "R2"]
    again = Plan.read(out)
    assert again.assignments["rep_id"].tolist() == ["R1", "R1", "R2", "R2"]
    assert again.accounts["rep_id"].tolist() == ["T1", "T2", "T3", "T4"]
    # rebalance, quota and compare read plan folders: they still work on this one
    moved = rebalance(out, capacities={"R1": 0.9})
    assert set(moved.assignments["rep_id"]) <= {"R1", "R2"}
    quotas = requota(again, target=1000.0)
    assert quotas.quotas["quota"].sum() == pytest.approx(1000.0)
    assert len(compare(out, out).moves) == 0


# --------------------------------------------------------------------------- today


def test_territories_and_summary_carry_today_beside_the_plan(hand_plan):
    made, out = hand_plan
    territories = pd.read_csv(out / "territories.csv").set_index("rep_id")
    columns = list(territories.columns)
    assert columns.index("accounts_today") == columns.index("accounts") + 1
    for metric in ("workload", "potential"):
        assert columns.index(f"{metric}_load_today") == columns.index(f"{metric}_load") + 1
    assert territories["accounts_today"].to_dict() == {"R1": 1, "R2": 3}
    assert territories["workload_load_today"].to_dict() == {"R1": 1.0, "R2": 3.0}
    assert territories["potential_load_today"].to_dict() == {"R1": 100.0, "R2": 900.0}
    assert territories["potential_load"].to_dict() == {"R1": 300.0, "R2": 700.0}
    today = json.loads((out / "summary.json").read_text())["today"]
    assert today["travel_cost"] == pytest.approx(17 * DEG_KM, abs=2e-3)
    assert today["objective"] == pytest.approx(17 * DEG_KM, rel=1e-6)
    assert today["gap_to_bound"] == pytest.approx(6 / 17, abs=1e-8)
    assert today["accounts_without_owner"] == 0
    assert today["balance"]["workload"]["max_abs_deviation"] == 0.5
    assert [b["rep_id"] for b in today["balance"]["potential"]["broken"]] == ["R1", "R2"]


def test_today_is_blank_when_no_account_has_an_owner(tmp_path):
    accounts = salesforce_accounts().drop(columns=["OwnerId"]).assign(locked="false")
    made = plan(hand_scenario(tmp_path / "s", accounts=accounts))
    assert made.summary["today"] == {
        "travel_cost": None,
        "objective": None,
        "gap_to_bound": None,
        "accounts_without_owner": 4,
        "balance": {},
    }
    out = made.write(tmp_path / "plan", map_html=False)
    territories = rows(out / "territories.csv")
    header = territories[0]
    for row in territories[1:]:
        assert row[header.index("workload_load_today")] == ""
        assert row[header.index("accounts_today")] == ""
    # every account gets an owner where it had none: that is an owner change too
    assert rows(out / "owner_changes.csv") == [
        ["Id", "current_rep_id"],
        ["A1", "R1"],
        ["A2", "R1"],
        ["A3", "R2"],
        ["A4", "R2"],
    ]


def test_partly_owned_today_counts_travel_of_the_owned_but_no_objective(tmp_path):
    """A3 has no owner: today's travel is A1 (1) + A2 (8) + A4 (1) = 10 degrees."""
    accounts = salesforce_accounts()
    accounts.loc[2, "OwnerId"] = ""
    today = plan(hand_scenario(tmp_path / "s", accounts=accounts)).summary["today"]
    assert today["travel_cost"] == pytest.approx(10 * DEG_KM, abs=2e-3)
    assert today["objective"] is None and today["gap_to_bound"] is None
    assert today["accounts_without_owner"] == 1


def test_the_plan_command_prints_today_beside_the_plan(tmp_path):
    """Today's travel 1,890.3 against the plan's proven bound 1,223.1 (the plan is optimal):
    the gap, as for a plan, is (1,890.3 - 1,223.1) / 1,890.3 = 35.3%, and today costs
    1,890.3 / 1,223.1 - 1 = 54.5% more than the bound (before: 'costs 35.3% more')."""
    scenario = hand_scenario(tmp_path / "s")
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "today's owners: travel cost 1,890.3; the plan travels 35.3% less" in result.output
    assert "workload: largest deviation today 50.00%, 2 reps outside the band" in result.output
    assert "potential: largest deviation today 80.00%, 2 reps outside the band" in result.output
    assert (
        "today's gap to the proven lower bound: 35.3% (today costs 54.5% more than the bound)"
        in result.output
    )


def test_today_below_the_bound_is_said_in_cost_against_the_bound():
    """Today at 1.0 breaking the bands, the bound at 1.1: gap (1.0 - 1.1) / 1.0 = -10%, and
    today costs 0.1 / 1.1 = 9.1% less than the bound (before: '10.0% less'). A bound of 0
    (gap 100%) says the gap alone."""
    from territory_planner.report.summary_text import today_lines

    below = today_lines({"today": {"travel_cost": 1.0, "gap_to_bound": -0.1}})
    assert "    today costs 9.1% less than the proven bound (it breaks the bands)" in below
    zero = today_lines({"today": {"travel_cost": 1.0, "gap_to_bound": 1.0}})
    assert "    today's gap to the proven lower bound: 100.0%" in zero


# --------------------------------------------------------------------------- rollups


def test_rollup_sums_equal_the_sums_of_their_territories(tmp_path):
    """Twelve accounts, five reps in districts D1 (R1, R2), D2 (R3, R4) and none (R5),
    areas West (R1..R3) and East (R4, R5); quotas set, so quota rolls up too."""
    rng = np.random.default_rng(7)
    accounts = pd.DataFrame(
        {
            "Id": [f"A{i:02d}" for i in range(12)],
            "BillingLatitude": rng.uniform(0, 4, 12).round(4),
            "BillingLongitude": rng.uniform(0, 10, 12).round(4),
            "workload": rng.integers(1, 5, 12),
            "potential": rng.integers(100, 900, 12),
            "revenue": rng.integers(50, 500, 12),
        }
    )
    reps = pd.DataFrame(
        {
            "Id": ["R1", "R2", "R3", "R4", "R5"],
            "Name": ["a", "b", "c", "d", "e"],
            "lat": [0.0, 2.0, 4.0, 1.0, 3.0],
            "lon": [0.0, 2.0, 5.0, 8.0, 10.0],
            "district": ["D1", "D1", "D2", "D2", ""],
            "area": ["West", "West", "West", "East", "East"],
        }
    )
    scenario = hand_scenario(
        tmp_path / "s",
        accounts=accounts,
        reps=reps,
        balance=[{"metric": "workload", "tolerance": 0.6}],
        quota={"target": 5000.0},
    )
    made = plan(scenario)
    rollups = made.rollups()
    assert list(rollups.columns) == [
        "level",
        "unit",
        "reps",
        "accounts",
        "workload_load",
        "workload_target",
        "workload_deviation",
        "travel_cost",
        "quota",
    ]
    assert list(zip(rollups["level"], rollups["unit"])) == [
        ("district", "(none)"),
        ("district", "D1"),
        ("district", "D2"),
        ("area", "East"),
        ("area", "West"),
    ]
    territories = made.territories.set_index("rep_id")
    members = {
        "(none)": ["R5"],
        "D1": ["R1", "R2"],
        "D2": ["R3", "R4"],
        "East": ["R4", "R5"],
        "West": ["R1", "R2", "R3"],
    }
    for row in rollups.to_dict("records"):
        part = territories.loc[members[row["unit"]]]
        assert row["reps"] == len(part)
        for column in ("accounts", "workload_load", "workload_target", "travel_cost", "quota"):
            assert row[column] == pytest.approx(part[column].sum(), abs=1e-9), column
        load, target = part["workload_load"].sum(), part["workload_target"].sum()
        assert row["workload_deviation"] == pytest.approx((load - target) / target)
    for level in ("district", "area"):
        level_rows = rollups[rollups["level"] == level]
        assert level_rows["accounts"].sum() == 12
        assert level_rows["quota"].sum() == pytest.approx(5000.0)
    out = made.write(tmp_path / "plan", map_html=False)
    written = pd.read_csv(out / "rollups.csv")
    assert written["travel_cost"].to_numpy() == pytest.approx(
        rollups["travel_cost"].to_numpy(), abs=5e-4
    )


def test_a_hierarchy_level_the_reps_lack_is_named(tmp_path):
    from territory_planner.errors import InputError

    scenario = hand_scenario(tmp_path / "s", reps=hierarchy_reps().drop(columns=["area"]))
    with pytest.raises(InputError) as caught:
        plan(scenario)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (1, "area")
    assert "hierarchy level 'area' is not a column of the reps" in problem.message


# --------------------------------------------------------------------------- numbers


def test_csv_numbers_are_written_without_float_noise(tmp_path):
    frame = pd.DataFrame(
        {
            "workload_deviation": [-4.4e-05, -0.0, 1e-7, 0.1234567891],
            "distance_km": [1.23456789, 0.00001, -0.0, 12.0],
            "potential_load": [1234.5678, 1e-9, 4e-3, 2.0],
            "quota": [100.004, 99.999, -0.001, 7.5],
            "accounts": [1, 2, 3, 4],
            "moved": [True, False, True, False],
            "share": [np.nan, 0.5, 1 / 3, 2e-6],
            "fair_share": [1000 / 3, 449220.82971, 0.004, 2.0],
        }
    )
    write_csv(frame, tmp_path / "x.csv")
    # shares 6 decimals, km 3, money 2 (a quota's fair_share too, though it ends in _share);
    # counts and flags as they are; -0 is 0; NaN blank
    assert rows(tmp_path / "x.csv") == [
        list(frame.columns),
        ["-0.000044", "1.235", "1234.57", "100.0", "1", "True", "", "333.33"],
        ["0.0", "0.0", "0.0", "100.0", "2", "False", "0.5", "449220.83"],
        ["0.0", "0.0", "0.0", "0.0", "3", "True", "0.333333", "0.0"],
        ["0.123457", "12.0", "2.0", "7.5", "4", "False", "0.000002", "2.0"],
    ]


def test_no_plan_csv_holds_exponents_or_negative_zeros(hand_plan):
    _, out = hand_plan
    noise = re.compile(r"(^|,)(-?\d+(\.\d+)?[eE][+-]?\d+|-0(\.0+)?)(,|$)")
    for path in sorted(out.glob("*.csv")):
        for line in path.read_text().splitlines():
            assert not noise.search(line), f"{path.name}: {line}"


# --------------------------------------------------------------------------- show


def test_show_prints_a_readable_summary(hand_plan):
    _, out = hand_plan
    result = CliRunner().invoke(main, ["show", str(out)])
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("plan 'hand': proven optimal (gap 0.000%)\n")
    lines = text.splitlines()
    travel = next(line for line in lines if line.strip().startswith("travel cost"))
    assert travel.split()[-2:] == ["1,890.3", "1,223.1"]
    deviation = next(line for line in lines if "workload: largest deviation" in line)
    assert deviation.split()[-2:] == ["50.00%", "0.00%"]
    outside = next(line for line in lines if "potential: reps outside the band" in line)
    assert outside.split()[-2:] == ["2", "0"]
    assert "    R1 Rita: load 300.0 of target 500.0 (-40.00%); today 100.0 (-80.00%)" in lines
    assert f"    owner changes (CRM update): {out / 'owner_changes.csv'}" in lines
    assert f"    rollups: {out / 'rollups.csv'}" in lines
    assert "-0.00%" not in text and "{" not in text
    raw = CliRunner().invoke(main, ["show", str(out), "--json"])
    assert json.loads(raw.output) == json.loads((out / "summary.json").read_text())


def test_show_says_the_quotas_and_why_a_quota_is_off_its_share(tmp_path):
    """Quotas on the hand plan (R1: A1, A2, potential 300; R2: A3, A4, potential 700) with
    last year's revenue 0, 0, 300, 300 (R1 none, R2 600): target 1,000 by potential gives fair
    shares 300 and 700; min_growth 0.5 holds R2 at 600 x 1.5 = 900, so R1 (no history, no
    bound) gets the 100 left, -66.67% from its share (the proven minimum), R2 +28.57%.
    ``show`` used to print nothing about quotas."""
    accounts = salesforce_accounts()
    accounts["revenue"] = [0.0, 0.0, 300.0, 300.0]
    scenario = hand_scenario(
        tmp_path / "s",
        accounts=accounts,
        quota={"target": 1000, "method": "potential", "min_growth": 0.5},
    )
    out = plan(scenario).write(tmp_path / "plan", map_html=False)
    result = CliRunner().invoke(main, ["show", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "  quotas: target 1,000 (potential), largest deviation from fair share 66.67% "
        "(proven minimum 66.67%)"
    ) in lines
    assert (
        "    R2 (+28.57%): quota held at its accounts' revenue last year 600 x (1 + 0.5) = 900 by "
        "min_growth 0.5; fair share 700"
    ) in lines
    assert (  # one sentence says where the 200 R2's floor takes comes from
        "    growth bounds hold 1 rep off its fair share (R2 +28.57%); so that the quotas add "
        "up to the target, R1 takes the 200 this leaves short: -66.67% from its fair share"
    ) in lines


def test_show_on_a_compare_folder_prints_its_kpis(hand_plan, tmp_path):
    """R2 leaves the hand plan: A3 and A4 (potential 300 + 400) go to R1. ``show`` on the
    compare folder used to say assignments.csv etc. were 'missing from the plan folder' (exit
    2); it prints the KPIs as the compare command does (whole numbers without decimals)."""
    _, out = hand_plan
    second = rebalance(Plan.read(out), leaves=["R2"]).write(tmp_path / "r", map_html=False)
    done = CliRunner().invoke(
        main, ["compare", str(out), str(second), "--out", str(tmp_path / "c")]
    )
    assert done.exit_code == 0, done.output
    assert "  accounts moved from previous owners: 1 -> 2 (+1)" in done.output.splitlines()
    result = CliRunner().invoke(main, ["show", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"comparison in {tmp_path / 'c'} (B - A):"
    assert "  accounts moved from previous owners: 1 -> 2 (+1)" in lines
    assert "  accounts changing owner from A to B: 0 -> 2 (+2)" in lines
    assert "  potential changing owner from A to B: 0 -> 700 (+700)" in lines
    assert f"    page: {tmp_path / 'c' / 'compare.html'}" in lines


def test_show_leaves_out_names_a_reps_file_does_not_have():
    """A reps file without names reads back from territories.csv as NaN (a blank cell):
    the rep is then shown by its ID alone, not as 'R1 nan:' or 'R1 :'."""
    from territory_planner.report.summary_text import worst_reps

    territories = pd.DataFrame(
        {
            "rep_id": ["R1", "R2"],
            "name": [float("nan"), "Rob"],
            "workload_load": [300.0, 700.0],
            "workload_target": [500.0, 500.0],
            "workload_deviation": [-0.4, 0.4],
        }
    )
    assert worst_reps(territories, "workload") == [
        "    R1: load 300.0 of target 500.0 (-40.00%)",
        "    R2 Rob: load 700.0 of target 500.0 (+40.00%)",
    ]


def test_copies_of_in_memory_inputs_keep_every_digit(tmp_path):
    """A rebalanced plan's inputs/ are written from memory: potential 123.456789 must read
    back as itself (2 decimals are for reports, not for the data a plan is re-solved from)."""
    frame = pd.DataFrame({"potential": [123.456789, 1e-7, -0.0], "lat": [40.123456789, 0, 1]})
    write_csv(frame, tmp_path / "x.csv", exact=True)
    assert rows(tmp_path / "x.csv")[1:] == [
        ["123.456789", "40.123456789"],
        ["0.0000001", "0.0"],
        ["0.0", "1.0"],
    ]


# --------------------------------------------------------------------------- edited folders


def test_an_assignments_file_edited_into_another_plan_is_refused_with_its_rows(hand_plan):
    """The hand plan's assignments.csv (header row 1, A1..A4 on rows 2-5) with A2's row
    pasted again at the end (row 6) and a row for an account the inputs do not have (row 7):
    exit 2 naming both rows, where a re-balance crashed (pandas InvalidIndexError) and a
    comparison silently kept the first A2."""
    _, out = hand_plan
    table = rows(out / "assignments.csv")
    extra = [table[2], ["ZZ9", *table[2][1:]]]
    with open(out / "assignments.csv", "a", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(extra)
    result = CliRunner().invoke(main, ["rebalance", str(out), "--out", str(out.parent / "r")])
    assert result.exit_code == 2, result.output
    assert "row 6, column 'account_id': account A2 is listed twice (first on row 3)" in (
        result.output
    )
    assert "row 7, column 'account_id': account ZZ9 is not an account of the plan's inputs" in (
        result.output
    )
    assert not (out.parent / "r").exists()


def test_a_summary_that_is_not_an_object_is_named(hand_plan):
    """summary.json holding a list: exit 2 naming the file, not an AttributeError."""
    _, out = hand_plan
    (out / "summary.json").write_text("[1, 2]\n")
    result = CliRunner().invoke(main, ["show", str(out)])
    assert result.exit_code == 2, result.output
    assert "summary.json: is not a JSON object (it holds a list)" in result.output


def test_every_command_refuses_an_out_that_is_a_file_before_it_solves(hand_plan, tmp_path):
    """--out naming a file: 'exists and is not a folder' from each command at once (before,
    the CLI said 'already exists; pass --force', and --force then failed after the solve)."""
    _, out = hand_plan
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a planner's notes")
    scenario = str(out / "scenario.yaml")
    for command in (
        ["plan", scenario],
        ["evaluate", scenario],
        ["locate", scenario, "--count", "1"],
        ["rebalance", str(out)],
        ["quota", str(out)],
        ["compare", str(out), str(out)],
    ):
        result = CliRunner().invoke(main, [*command, "--out", str(blocker), "--force"])
        assert result.exit_code == 2, (command, result.output)
        assert "exists and is not a folder" in result.output, command
    assert blocker.read_text() == "a planner's notes"


def test_an_assignments_file_saved_by_a_decimal_comma_excel_reads_back(hand_plan):
    """The hand plan's assignments.csv as a German or French Excel saves it: semicolons
    between cells, decimal commas ('333,6' for 333.6). It reads back with the same owners
    and the same distances (before: 'cannot be read (Error tokenizing data ...)', exit 2)."""
    made, out = hand_plan
    path = out / "assignments.csv"
    original = pd.read_csv(path)
    table = rows(path)
    european = [
        ";".join(cell.replace(".", ",") if _is_decimal(cell) else cell for cell in row)
        for row in table
    ]
    path.write_text("\r\n".join(european) + "\r\n", encoding="utf-8-sig")
    again = Plan.read(out)
    assert again.rep_of_account.to_dict() == made.rep_of_account.to_dict()
    read = again.assignments.set_index("account_id")["distance_km"]
    assert read.to_dict() == pytest.approx(original.set_index("Id")["distance_km"].to_dict())
    assert any("," in line for line in european[1:])  # the decimals were rewritten


def _is_decimal(cell: str) -> bool:
    return bool(re.fullmatch(r"-?\d+\.\d+", cell))


def test_names_that_look_like_formulas_survive_a_rebalance(tmp_path):
    """A re-balanced plan's inputs/accounts.csv is written from memory and read back by the
    data readers, which undo no formula guard: the names come back as the export gave them
    (before: "'=HYPERLINK(...)" and "'+1 Corp", the guard's apostrophe read as part of the
    name), while assignments.csv, the file a planner opens, keeps its guard."""
    accounts = salesforce_accounts()
    accounts["Name"] = ['=HYPERLINK("http://x")', "+1 Corp", "@home", "Four"]
    out = plan(hand_scenario(tmp_path / "s", accounts=accounts)).write(
        tmp_path / "plan", map_html=False
    )
    moved = rebalance(Plan.read(out), leaves=["R2"]).write(tmp_path / "moved", map_html=False)
    again = Plan.read(moved)
    assert again.accounts["name"].tolist() == accounts["Name"].tolist()
    table = rows(moved / "assignments.csv")
    name = table[0].index("Name")
    assert [row[name] for row in table[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1 Corp",
        "'@home",
        "Four",
    ]
