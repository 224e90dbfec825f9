"""Hand-drawn instances whose optimum is worked out in each docstring.

Geometry shared by all: accounts A1..A4 on the equator at longitude 1, 2, 3 and 9, each with
workload 1; rep R1 at longitude 0, R2 at longitude 10. Along the equator a degree is
DEG_KM = 111.19508 km, so account-to-rep distances in degrees are

            A1  A2  A3  A4
    R1       1   2   3   9
    R2       9   8   7   1

and the travel cost (workload x km) of a plan is DEG_KM times the sum of its degrees.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from territory_planner import InfeasibleError, Plan, load_scenario, plan
from tests.helpers import DEG_KM, line_accounts, line_reps

WORKLOAD_EXACT = [{"metric": "workload", "tolerance": 0.0}]
EXACT = {"solver": {"gap": 0.0, "time_limit": 30}}


def owners(made: Plan) -> dict[str, str]:
    return dict(zip(made.assignments["account_id"], made.assignments["rep_id"]))


def test_nearest_rep_without_balance(tiny):
    """No balance rule: each account goes to its nearest rep.
    A1, A2, A3 -> R1 (1 + 2 + 3 degrees), A4 -> R2 (1 degree): 7 degrees."""
    made = plan(load_scenario(tiny(**EXACT)))
    assert owners(made) == {"A1": "R1", "A2": "R1", "A3": "R1", "A4": "R2"}
    assert made.summary["travel_cost"] == pytest.approx(7 * DEG_KM, rel=1e-6)
    assert made.summary["objective"] == pytest.approx(7 * DEG_KM, rel=1e-6)
    assert made.summary["gap"] == pytest.approx(0.0, abs=1e-9)


def test_exact_workload_balance_moves_the_cheapest_account(tiny):
    """Tolerance 0: each rep carries exactly 2 workload. R2 takes A4 (1 degree) and one more;
    moving A3 costs 7 - 3 = 4 extra degrees, A2 costs 6, A1 costs 8, so A3 moves:
    1 + 2 + 7 + 1 = 11 degrees. The LP relaxation is integral here, so the bound is tight."""
    made = plan(load_scenario(tiny(balance=WORKLOAD_EXACT, **EXACT)))
    assert owners(made) == {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"}
    assert made.summary["objective"] == pytest.approx(11 * DEG_KM, rel=1e-6)
    assert made.summary["lower_bound"] == pytest.approx(11 * DEG_KM, rel=1e-6)
    assert made.summary["balance"]["workload"]["max_abs_deviation"] == pytest.approx(0.0)
    territories = made.territories.set_index("rep_id")
    assert territories.loc["R1", "workload_load"] == 2.0
    assert territories.loc["R2", "workload_target"] == 2.0


def test_locked_account_stays_with_its_owner(tiny):
    """A2 is locked to R2. With exact balance R2 holds A2 and A4; R1 holds A1 and A3:
    1 + 8 + 3 + 1 = 13 degrees."""
    accounts = line_accounts(current_rep_id=["", "R2", "", ""], locked=[False, True, False, False])
    made = plan(load_scenario(tiny(accounts=accounts, balance=WORKLOAD_EXACT, **EXACT)))
    assert owners(made) == {"A1": "R1", "A2": "R2", "A3": "R1", "A4": "R2"}
    assert made.summary["objective"] == pytest.approx(13 * DEG_KM, rel=1e-6)


def test_keep_together_group_shares_one_rep(tiny):
    """A2 and A4 form a group. Group -> R2 costs 8 + 1, then A1, A3 -> R1 cost 1 + 3: 13.
    Group -> R1 costs 2 + 9, then A1, A3 -> R2 cost 9 + 7: 27. So 13 degrees."""
    accounts = line_accounts(group_id=["", "G", "", "G"])
    made = plan(
        load_scenario(
            tiny(
                accounts=accounts,
                balance=WORKLOAD_EXACT,
                constraints={"keep_together": "group_id"},
                **EXACT,
            )
        )
    )
    assert owners(made)["A2"] == owners(made)["A4"] == "R2"
    assert made.summary["objective"] == pytest.approx(13 * DEG_KM, rel=1e-6)


def test_half_capacity_hire_gets_half_a_territory(tiny):
    """R2 is a ramping hire with capacity 0.5: targets are 4 x 1/1.5 = 2.667 for R1 and
    1.333 for R2. With 25% tolerance R2's band is [1.0, 1.667]: exactly one account, A4;
    R1's band [2.0, 3.333] takes A1..A3. Travel 1 + 2 + 3 + 1 = 7 degrees."""
    reps = line_reps(capacity=[1.0, 0.5], status=["active", "new"])
    made = plan(
        load_scenario(tiny(reps=reps, balance=[{"metric": "workload", "tolerance": 0.25}], **EXACT))
    )
    territories = made.territories.set_index("rep_id")
    assert territories.loc["R2", "workload_target"] == pytest.approx(4 / 3, rel=1e-6)
    assert territories.loc["R2", "accounts"] == 1
    assert made.summary["objective"] == pytest.approx(7 * DEG_KM, rel=1e-6)


def test_leaving_rep_ends_with_no_accounts(tiny):
    """R2 is leaving and a new rep R3 sits at longitude 12: R3 is 11, 10, 9 and 3 degrees
    from A1..A4. Exact balance (2 each between R1 and R3): R3 takes A4 (3) and A3 (9),
    R1 takes A1, A2 (1 + 2): 15 degrees. Every account of R2 moves."""
    accounts = line_accounts(current_rep_id=["R1", "R1", "R2", "R2"])
    reps = pd.DataFrame(
        {
            "rep_id": ["R1", "R2", "R3"],
            "name": ["Rita", "Rob", "Ria"],
            "lat": [0.0, 0.0, 0.0],
            "lon": [0.0, 10.0, 12.0],
            "status": ["active", "leaving", "new"],
        }
    )
    made = plan(load_scenario(tiny(accounts=accounts, reps=reps, balance=WORKLOAD_EXACT, **EXACT)))
    assert "R2" not in set(made.assignments["rep_id"])
    assert owners(made) == {"A1": "R1", "A2": "R1", "A3": "R3", "A4": "R3"}
    assert made.summary["objective"] == pytest.approx(15 * DEG_KM, rel=1e-6)
    assert made.summary["disruption"]["moved_accounts"] == 2
    assert made.territories.set_index("rep_id").loc["R2", "accounts"] == 0


def test_disruption_weight_keeps_todays_owner(tiny):
    """Today R1 owns everything. No balance; disruption weight 1 per unit of potential.
    Moving A4 (potential 400) to R2 saves 8 degrees = 889.6 km but costs 400: it moves.
    With weight 10 it would cost 4000 > 889.6: nothing moves."""
    accounts = line_accounts(current_rep_id=["R1"] * 4)
    moved = plan(
        load_scenario(
            tiny(
                name="w1", accounts=accounts, objective={"travel": 1.0, "disruption": 1.0}, **EXACT
            )
        )
    )
    assert owners(moved)["A4"] == "R2"
    assert moved.summary["objective"] == pytest.approx(7 * DEG_KM + 400, rel=1e-6)
    stays = plan(
        load_scenario(
            tiny(
                name="w10",
                accounts=accounts,
                objective={"travel": 1.0, "disruption": 10.0},
                **EXACT,
            )
        )
    )
    assert set(owners(stays).values()) == {"R1"}
    assert stays.summary["disruption"]["moved_accounts"] == 0


def test_moved_share_budget_is_respected(tiny):
    """Today R1 owns everything (potential 1000). Exact balance forces two accounts to R2;
    the cheapest pair by travel is A3 + A4 (potential 700 = 70%). With max_moved_share 0.5
    only 500 may move: A4 (400) with A1 (100) is the only affordable pair, costing
    2 + 3 (R1) + 9 + 1 (R2) = 15 degrees."""
    accounts = line_accounts(current_rep_id=["R1"] * 4)
    made = plan(
        load_scenario(
            tiny(
                accounts=accounts,
                balance=WORKLOAD_EXACT,
                constraints={"max_moved_share": 0.5},
                **EXACT,
            )
        )
    )
    assert owners(made) == {"A1": "R2", "A2": "R1", "A3": "R1", "A4": "R2"}
    assert made.summary["disruption"]["moved_share"] == pytest.approx(0.5)
    assert made.summary["objective"] == pytest.approx(15 * DEG_KM, rel=1e-6)


def test_locked_accounts_over_the_band_are_named(tiny):
    """A1, A2, A3 locked to R1 carry 3 workload; exact balance allows R1 only 2."""
    accounts = line_accounts(
        current_rep_id=["R1", "R1", "R1", ""], locked=[True, True, True, False]
    )
    with pytest.raises(
        InfeasibleError,
        match=r"rep R1: locked accounts alone carry 3\.0 "
        r"workload, above the band \[2\.0, 2\.0\]",
    ):
        plan(load_scenario(tiny(accounts=accounts, balance=WORKLOAD_EXACT, **EXACT)))


def test_band_unreachable_within_max_distance(tiny):
    """Within 500 km (4.5 degrees) R2 may own only A4, 1 workload, but needs exactly 2."""
    with pytest.raises(InfeasibleError, match=r"rep R2 can reach at most 1\.0 workload"):
        plan(
            load_scenario(
                tiny(balance=WORKLOAD_EXACT, constraints={"max_distance_km": 500}, **EXACT)
            )
        )


def test_segment_without_a_rep_is_named(tiny):
    """A3 is an 'enterprise' account; both reps serve only 'smb'."""
    accounts = line_accounts(segment=["smb", "smb", "enterprise", "smb"])
    reps = line_reps(segment=["smb", "smb"])
    with pytest.raises(
        InfeasibleError,
        match=r"account A3 can go to no rep: its segment is 'enterprise' and R1, R2 serve "
        r"another segment$",
    ):
        plan(load_scenario(tiny(accounts=accounts, reps=reps, **EXACT)))


def test_an_account_no_rep_may_own_is_told_the_rules_that_actually_shut_it_out(tiny):
    """R1 (longitude 0) serves only 'smb'; R2 (longitude 10) has no segment but owns only
    region E; A1 is in region E, the others in W. A3 has no segment: R1 refuses it for its segment,
    R2 for its region; max_distance_km 5000 keeps out no one. A4 is 'smb' at longitude 9:
    R2 refuses it for its region, and R1, the rep of its segment, is 9 x 111.195 = 1,001 km
    away, beyond a max_distance_km of 500. The reasons used to be the first rule the account
    had ('no allowed rep is within max_distance_km = 5000' for A3, 'no rep serves its
    segment ['smb']' for A4): neither was what kept the reps out."""
    accounts = line_accounts(segment=["smb", "smb", None, "smb"], region_id=["E", "W", "W", "W"])
    reps = line_reps(segment=["smb", None], region_id=[None, "E"])
    with pytest.raises(InfeasibleError) as blank:
        plan(
            load_scenario(
                tiny("far", accounts=accounts, reps=reps, constraints={"max_distance_km": 5000})
            )
        )
    assert (
        "account A3 can go to no rep: its segment is blank and R1 serves another segment; "
        "R2 owns only another region (its region is 'W')"
    ) in blank.value.reasons
    with pytest.raises(InfeasibleError) as near:
        plan(
            load_scenario(
                tiny("near", accounts=accounts, reps=reps, constraints={"max_distance_km": 500})
            )
        )
    assert (
        "account A4 can go to no rep: R2 owns only another region (its region is 'W'); "
        "R1 is 1,001 km away, beyond max_distance_km = 500"
    ) in near.value.reasons


def test_a_segment_differing_only_in_case_is_pointed_out(tiny):
    """A3 is 'SMB' while both reps serve 'smb': the reason says the two differ only in case."""
    accounts = line_accounts(segment=["smb", "smb", "SMB", "smb"])
    reps = line_reps(segment=["smb", "smb"])
    with pytest.raises(InfeasibleError) as caught:
        plan(load_scenario(tiny(accounts=accounts, reps=reps, **EXACT)))
    assert (
        "account A3 can go to no rep: its segment is 'SMB' and R1, R2 serve another segment "
        "('SMB' differs from the reps' 'smb' only in case)"
    ) in caught.value.reasons


def test_elastic_explanation_names_band_and_amount(tiny):
    """Potential must be within 0% of 500 each, workload within 0% of 2 each. Pairs with
    potential 500: {A1, A4} and {A2, A3}; both are also 2 workload, so it IS feasible:
    A1 + A4 to R2 would cost 9 + 1, A2 + A3 to R1 2 + 3 -> 15, the other way 1 + 9 + 8 + 7
    = 25; so 15 degrees. Then make potential 100, 200, 300, 500 (total 1100, 550 each): no
    subset sums to 550, the bands pass every precheck, and only the elastic LP can tell."""
    both = [{"metric": "workload", "tolerance": 0.0}, {"metric": "potential", "tolerance": 0.0}]
    made = plan(load_scenario(tiny(name="ok", balance=both, **EXACT)))
    assert made.summary["objective"] == pytest.approx(15 * DEG_KM, rel=1e-6)
    accounts = line_accounts(potential=[100.0, 200.0, 300.0, 500.0])
    with pytest.raises(InfeasibleError) as caught:
        plan(load_scenario(tiny(name="bad", accounts=accounts, balance=both, **EXACT)))
    # the best whole-account split is 600 / 500 (or 500 / 600): 50 off each target of 550
    text = str(caught.value)
    assert "rep R1 would need 50.0 less potential" in text
    assert "rep R2 would need 50.0 more potential" in text
    assert "(accounts are indivisible)" in text


def test_plan_folder_round_trip(tiny, tmp_path):
    """write() produces the DESIGN plan folder; read() gives back the same plan."""
    made = plan(load_scenario(tiny(balance=WORKLOAD_EXACT, **EXACT)))
    out = made.write(tmp_path / "plan", map_html=False)
    for name in (
        "assignments.csv",
        "territories.csv",
        "summary.json",
        "scenario.yaml",
        "inputs/accounts.csv",
        "inputs/reps.csv",
    ):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    for key in (
        "status",
        "objective",
        "lower_bound",
        "gap",
        "travel_cost",
        "disruption",
        "balance",
        "solver",
        "inputs",
        "scenario",
    ):
        assert key in summary
    again = Plan.read(out)
    assert owners(again) == owners(made)
    assert list(again.assignments.columns[:5]) == [
        "account_id",
        "rep_id",
        "previous_rep_id",
        "moved",
        "distance_km",
    ]


def test_salesforce_xlsx_export_loads_unchanged(tmp_path):
    """Salesforce column names in an XLSX file, one account without coordinates whose
    ZIP+4 lost its leading zero in Excel (2108-1234 -> 02108, Boston: 42.3576, -71.0684)."""
    import yaml

    folder = tmp_path / "sf"
    folder.mkdir()
    accounts = pd.DataFrame(
        {
            "Id": ["001A", "001B"],
            "Name": ["Acme", "Globex"],
            "BillingLatitude": [40.7, None],
            "BillingLongitude": [-74.0, None],
            "BillingPostalCode": ["10001", "2108-1234"],
            "OwnerId": ["005X", "005X"],
            "workload": [3.0, 5.0],
        }
    )
    accounts.to_excel(folder / "accounts.xlsx", index=False)
    pd.DataFrame(
        {"Id": ["005X"], "Name": ["Pat"], "latitude": [41.0], "longitude": [-73.0]}
    ).to_excel(folder / "reps.xlsx", index=False)
    (folder / "scenario.yaml").write_text(
        yaml.safe_dump({"accounts": "accounts.xlsx", "reps": "reps.xlsx", **EXACT})
    )
    data = load_scenario(folder / "scenario.yaml")
    boston = data.accounts.set_index("account_id").loc["001B"]
    assert (boston["postal_code"], boston["lat"], boston["lon"]) == ("02108", 42.3576, -71.0684)
    made = plan(data)
    assert owners(made) == {"001A": "005X", "001B": "005X"}
    assert made.summary["disruption"]["moved_accounts"] == 0
