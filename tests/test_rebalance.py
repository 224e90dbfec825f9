"""Re-balancing after a departure, a hire or a capacity change, on hand-drawn instances.

Geometry (all on the equator, workload 1 and potential 10 per account unless said):

    reps        A at lon 0     B at lon 1     C at lon 2
    accounts    a1 -0.1, a2 0.1   b1 0.9, b2 1.1   c1 1.85, c2 2.1

The starting plan (workload balanced exactly, 2 accounts per rep) gives each rep its two
nearest accounts: A {a1, a2}, B {b1, b2}, C {c1, c2}. Total potential 60.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner import InfeasibleError, InputError, load_scenario, plan
from territory_planner.cli import main
from territory_planner.rebalance import rebalance, tradeoff_curve
from tests.helpers import EXACT, owners, three_rep_plan, write_scenario


def test_leaving_rep_accounts_all_move_and_nothing_else(tmp_path):
    """C leaves: A and B must carry exactly 3 workload each. Moving c1 and c2 (20 potential)
    is forced; any other plan moves more (a b-account too: 30). So exactly c1, c2 move, one
    to A and one to B. Travel decides which: c1 (1.85) to A and c2 (2.1) to B costs
    1.85 + 1.1 = 2.95 degrees, the other way 2.1 + 0.85 = 2.95 as well, so only the split is
    fixed. The reported bound on moved potential is the forced 20."""
    start = three_rep_plan(tmp_path)
    made = rebalance(start, leaves=["C"])
    after = owners(made)
    moves = made.extra_files["moves.csv"]
    assert sorted(moves["account_id"]) == ["c1", "c2"]
    assert set(moves["reason"]) == {"leaving rep"}
    assert sorted(moves["to_rep"]) == ["A", "B"]
    assert {k: after[k] for k in ("a1", "a2", "b1", "b2")} == {
        "a1": "A",
        "a2": "A",
        "b1": "B",
        "b2": "B",
    }
    disruption = made.summary["disruption"]
    assert disruption["moved_potential"] == pytest.approx(20.0)
    assert disruption["bound"] == pytest.approx(20.0)
    assert disruption["gap"] == pytest.approx(0.0, abs=1e-9)
    assert disruption["forced_share"] == pytest.approx(20 / 60, rel=1e-6)
    assert made.summary["balance"]["workload"]["max_abs_deviation"] == pytest.approx(0.0)
    assert list(moves.columns) == [
        "account_id",
        "name",
        "from_rep",
        "to_rep",
        "potential",
        "workload",
        "reason",
    ]


def test_locks_on_a_leaving_reps_accounts_give_way_and_are_reported(tmp_path):
    """c1 is locked to C, and C leaves: the lock cannot hold, so it is released (listed in
    summary.json) and c1 moves like C's other account; a lock on another rep's account (a1)
    still holds."""
    accounts = pd.DataFrame(
        {
            "account_id": ["a1", "a2", "b1", "b2", "c1", "c2"],
            "lat": [0.0] * 6,
            "lon": [-0.1, 0.1, 0.9, 1.1, 1.85, 2.1],
            "workload": [1.0] * 6,
            "potential": [10.0] * 6,
            "current_rep_id": ["A", "A", "B", "B", "C", "C"],
            "locked": [True, False, False, False, True, False],
        }
    )
    reps = pd.DataFrame({"rep_id": ["A", "B", "C"], "lat": [0.0] * 3, "lon": [0.0, 1.0, 2.0]})
    path = write_scenario(
        tmp_path / "locks",
        accounts,
        reps,
        balance=[{"metric": "workload", "tolerance": 0.0}],
        **EXACT,
    )
    made = rebalance(plan(load_scenario(path)), leaves=["C"])
    assert made.summary["rebalance"]["unlocked"] == ["c1"]
    assert owners(made)["c1"] in ("A", "B") and owners(made)["a1"] == "A"
    assert sorted(made.extra_files["moves.csv"]["account_id"]) == ["c1", "c2"]


def test_zero_potential_accounts_do_not_move_without_reason(tmp_path):
    """Every account has potential 0 and the band is wide (50%): nobody leaves, so the
    least disruption is 0 and the move penalty keeps every account with its owner, although
    moving b2 (1.1) to C (2) would not change potential moved. Travel is already minimal
    anyway; the point is the penalty: 0 moves."""
    start = three_rep_plan(tmp_path, tolerance=0.0, potential=[0.0] * 6)
    made = rebalance(start, capacities={"A": 1.0})
    assert made.extra_files["moves.csv"].empty
    assert made.summary["disruption"]["moved_accounts"] == 0


def test_hire_takes_the_cheapest_account_for_balance(tmp_path):
    """Hire D at lon 1.5 with tolerance 0.34 on workload: targets are 6/4 = 1.5, bands
    [0.99, 2.01], so D needs one account and nobody may keep 3. Least disruption: one move
    (10 potential). Travel second: moving c1 costs 0.35 - 0.15 = 0.20 degrees more, b2 0.4 -
    0.1 = 0.30, b1 0.6 - 0.1 = 0.5, c2 0.6 - 0.1 = 0.5, a-accounts more. So c1 moves to D, and
    the reason is 'balance' (D was below its band before: 0 load)."""
    start = three_rep_plan(tmp_path, tolerance=0.34)
    hires = pd.DataFrame({"rep_id": ["D"], "name": ["Dee"], "lat": [0.0], "lon": [1.5]})
    made = rebalance(start, hires=hires)
    moves = made.extra_files["moves.csv"]
    assert moves[["account_id", "from_rep", "to_rep", "reason"]].values.tolist() == [
        ["c1", "C", "D", "balance"]
    ]
    reps = made.reps.set_index("rep_id")
    assert reps.loc["D", "status"] == "new"
    assert made.summary["disruption"]["moved_potential"] == pytest.approx(10.0)
    assert made.summary["disruption"]["bound"] == pytest.approx(10.0, rel=1e-3)


def test_budget_below_forced_moves_is_infeasible(tmp_path):
    """C leaves: 20 of 60 potential (33%) must move, so a 20% budget cannot hold."""
    start = three_rep_plan(tmp_path)
    with pytest.raises(InfeasibleError, match=r"max_moved_share allows 12\.0 .*20\.0 \(33\.3%\)"):
        rebalance(start, leaves=["C"], max_moved_share=0.2)


def test_budget_is_respected_when_it_can_be(tmp_path):
    """Hire D as above but with a 40% budget: one move (10 = 16.7%) fits."""
    start = three_rep_plan(tmp_path, tolerance=0.34)
    hires = pd.DataFrame({"rep_id": ["D"], "lat": [0.0], "lon": [1.5]})
    made = rebalance(start, hires=hires, max_moved_share=0.4)
    assert made.summary["disruption"]["moved_share"] <= 0.4
    assert made.summary["disruption"]["max_moved_share"] == 0.4


def test_bad_changes_are_listed_together(tmp_path):
    """An unknown leaving rep, an unknown capacity rep, a clashing hire: all reported."""
    start = three_rep_plan(tmp_path)
    hires = pd.DataFrame({"rep_id": ["A"], "lat": [0.0], "lon": [5.0]})
    with pytest.raises(InputError) as caught:
        rebalance(start, hires=hires, leaves=["Z"], capacities={"Q": 0.5})
    text = str(caught.value)
    assert "rep A is already in the plan" in text
    assert "rep Z is not in the plan" in text
    assert "rep Q is not in the plan" in text


def test_tradeoff_curve_is_monotone(tmp_path):
    """Hire D at lon 1.5, no bands; targets 1.5 each. Budget 0: loads (2, 2, 2, 0), largest
    deviation |0 - 1.5| / 1.5 = 100%. Budget 10% (6 of 60 potential) still moves nothing
    (an account carries 10 = 16.7%). From 16.7% one account goes to D: loads (2, 2, 1, 1),
    largest deviation 0.5 / 1.5 = 33.3%, and no plan does better (whole accounts)."""
    start = three_rep_plan(tmp_path, tolerance=0.34)
    hires = pd.DataFrame({"rep_id": ["D"], "lat": [0.0], "lon": [1.5]})
    made = rebalance(start, hires=hires, tradeoff=[0.0, 0.1, 0.2, 0.5, 1.0])
    curve = made.extra_files["tradeoff.csv"]
    assert curve["moved_share_budget"].tolist() == [0.0, 0.1, 0.2, 0.5, 1.0]
    assert curve["max_deviation"].tolist() == pytest.approx(
        [1.0, 1.0, 1 / 3, 1 / 3, 1 / 3], rel=1e-6
    )
    deviations = curve["max_deviation"].tolist()
    assert all(later <= earlier + 1e-12 for earlier, later in zip(deviations, deviations[1:]))
    assert (curve["moved_share"] <= curve["moved_share_budget"] + 1e-9).all()
    assert curve["bound"].tolist() == pytest.approx([1.0, 1.0, 1 / 3, 1 / 3, 1 / 3], rel=1e-4)


def test_tradeoff_marks_budgets_below_the_forced_share(tmp_path):
    """C leaves: 33.3% is forced, so 0% and 10% are infeasible; the forced share is a point
    (3 + 3 accounts: deviation 0) and so is 50%."""
    start = three_rep_plan(tmp_path)
    from territory_planner.optimize.strategy import SolveSettings
    from territory_planner.problem import build_problem
    from territory_planner.rebalance import rebalanced_data

    problem = build_problem(rebalanced_data(start, leaves=["C"]))
    curve = tradeoff_curve(problem, [0.0, 0.1, 0.5], SolveSettings(time_limit=10))
    assert curve["moved_share_budget"].tolist() == pytest.approx([0.0, 0.1, 1 / 3, 0.5])
    assert curve["status"].iloc[0].startswith("infeasible")
    assert curve["status"].iloc[1].startswith("infeasible")
    assert curve["max_deviation"].iloc[2:].tolist() == pytest.approx([0.0, 0.0], abs=1e-9)


def test_cli_rebalance_writes_plan_folder_with_moves(tmp_path):
    """The CLI: C leaves; the folder holds a full plan plus moves.csv and tradeoff.csv, and a
    too-small budget exits 3 with the reason and writes nothing."""
    start = three_rep_plan(tmp_path)
    start.write(tmp_path / "plan", map_html=False)
    runner = CliRunner()
    out = tmp_path / "rebalanced"
    result = runner.invoke(
        main,
        [
            "rebalance",
            str(tmp_path / "plan"),
            "--out",
            str(out),
            "--leave",
            "C",
            "--tradeoff",
            "--quiet",
            "--no-map",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in (
        "assignments.csv",
        "territories.csv",
        "summary.json",
        "moves.csv",
        "tradeoff.csv",
        "scenario.yaml",
    ):
        assert (out / name).exists(), name
    moves = pd.read_csv(out / "moves.csv")
    assert sorted(moves["account_id"]) == ["c1", "c2"]
    assert "moved 2 accounts" in result.output
    assert "bound" in result.output
    again = runner.invoke(
        main,
        [
            "rebalance",
            str(tmp_path / "plan"),
            "--out",
            str(tmp_path / "tight"),
            "--leave",
            "C",
            "--max-moved-share",
            "0.2",
            "--quiet",
            "--no-map",
        ],
    )
    assert again.exit_code == 3
    assert "max_moved_share allows" in again.output
    assert not (tmp_path / "tight").exists()
    bad = runner.invoke(
        main,
        [
            "rebalance",
            str(tmp_path / "plan"),
            "--out",
            str(tmp_path / "bad"),
            "--capacity",
            "A=half",
            "--quiet",
        ],
    )
    assert bad.exit_code == 2
    assert "A=half" in bad.output


def test_a_rep_who_left_can_be_hired_again(tmp_path):
    """C leaves (tolerance 34%: targets 3, loads 2..4): c1 and c2 must move, and both go to
    B (1.85 - 1 = 0.85 and 1.1 degrees, against 1.85 and 2.1 to A), B carrying 4. The plan
    keeps C as leaving. Hired again at lon 2, C's target is 2 and the band 1.32..2.68, so
    every rep holds exactly 2: B gives two accounts to C (20 potential, the least), and
    the nearest to C are c1 (0.15) and c2 (0.1). Before, the hire was refused as 'already
    in the plan', and nothing else could bring C back."""
    left = rebalance(three_rep_plan(tmp_path, tolerance=0.34), leaves=["C"])
    assert owners(left) == {"a1": "A", "a2": "A", "b1": "B", "b2": "B", "c1": "B", "c2": "B"}
    assert left.reps.set_index("rep_id").loc["C", "status"] == "leaving"
    hire = pd.DataFrame({"rep_id": ["C"], "name": ["Cleo"], "lat": [0.0], "lon": [2.0]})
    back = rebalance(left, hires=hire)
    moves = back.extra_files["moves.csv"]
    assert moves[["account_id", "from_rep", "to_rep", "reason"]].values.tolist() == [
        ["c1", "B", "C", "balance"],
        ["c2", "B", "C", "balance"],
    ]
    assert back.reps["rep_id"].tolist() == ["A", "B", "C"]
    assert back.reps.set_index("rep_id").loc["C", "status"] == "new"
    assert back.summary["rebalance"]["hired"] == ["C"]
    # a rep still active is no hire: refused with the hire's row
    with pytest.raises(InputError) as caught:
        rebalance(three_rep_plan(tmp_path / "again", tolerance=0.34), hires=hire)
    assert [str(p) for p in caught.value.problems] == [
        "hires (in memory), row 2, column 'rep_id': rep C is already in the plan (fix: give "
        "the hire a new rep_id (a rep can be hired again only once the plan has it as leaving))"
    ]


def test_problems_of_the_changed_reps_name_the_hires_file_and_row(tmp_path):
    """The hires join the plan's reps and the whole team is checked again; a problem found
    there (a region no account has) named 'reps (in memory), row 5' (D's place after A, B,
    C) and not the hires file's row 3. Every rep leaving names --leave."""
    start = three_rep_plan(tmp_path, tolerance=0.34)
    hires = tmp_path / "hires.csv"
    hires.write_text("rep_id,lat,lon,region_id\nD,0,1.5,\nE,0,1.6,North\n")
    with pytest.raises(InputError) as caught:
        rebalance(start, hires=hires)
    assert [str(p) for p in caught.value.problems] == [
        f"{hires}, row 3, column 'region_id': region_id does not exist among the accounts' "
        "region_id values (got 'North') (fix: use a region_id (or a parent_id) of the regions)"
    ]
    with pytest.raises(InputError) as caught:
        rebalance(start, leaves=["A", "B", "C"])
    assert [str(p) for p in caught.value.problems] == [
        "--leave: every rep is leaving: nobody is left to own the accounts (fix: keep at least "
        "one rep active or new)"
    ]


def test_leaves_given_as_one_string_is_one_rep(tmp_path):
    """rebalance(plan, leaves='C') is C leaving, as ['C']; a string was iterated, so 'AB'
    made A and B leave without a word. A rep ID in the wrong case names the rep."""
    start = three_rep_plan(tmp_path)
    made = rebalance(start, leaves="C")
    assert made.summary["rebalance"]["leaving"] == ["C"]
    assert sorted(made.extra_files["moves.csv"]["account_id"]) == ["c1", "c2"]
    with pytest.raises(InputError) as caught:
        rebalance(start, leaves="AB", capacities={"b": 0.5})
    assert [str(p) for p in caught.value.problems] == [
        "--leave: rep AB is not in the plan (fix: use one of A, B, C)",
        "--capacity: rep b is not in the plan (or the hires) (fix: did you mean 'B'? rep IDs "
        "are case-sensitive)",
    ]
