"""Comparing two plans: the instance of tests/test_rebalance.py (A, B, C own two accounts
each; total potential 60, 10 per account) against its re-balance after C leaves, where
exactly c1 and c2 change owner (one to A, one to B)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner import InputError, compare, rebalance
from territory_planner.cli import main
from territory_planner.geo import haversine_km
from tests.helpers import three_rep_plan

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture
def two_plans(tmp_path):
    start = three_rep_plan(tmp_path)
    return start, rebalance(start, leaves=["C"])


def test_moves_are_exactly_the_accounts_whose_owner_differs(two_plans):
    """c1 and c2 change owner (C -> A or B); the four others keep theirs."""
    start, after = two_plans
    result = compare(start, after)
    assert result.moves["account_id"].tolist() == ["c1", "c2"]
    assert result.moves["rep_a"].tolist() == ["C", "C"]
    assert sorted(result.moves["rep_b"]) == ["A", "B"]
    assert result.moves["potential"].tolist() == [10.0, 10.0]
    assert list(result.moves.columns) == [
        "account_id",
        "name",
        "rep_a",
        "rep_b",
        "potential",
        "workload",
    ]
    same = compare(start, start)
    assert same.moves.empty


def test_kpis_and_rep_changes(two_plans):
    """A: 2 accounts each, deviation 0 (targets 2). B: A and B hold 3 each (targets 3,
    deviation 0); C holds none. From A to B: 2 accounts, 20 potential change owner.
    Gains: A +1, B +1; losses: C -2."""
    start, after = two_plans
    result = compare(start, after)
    kpis = result.kpis.set_index("metric")
    assert kpis.loc["largest deviation: workload", ["a", "b"]].tolist() == pytest.approx([0.0, 0.0])
    assert kpis.loc["accounts changing owner from A to B", ["a", "b", "delta"]].tolist() == [
        0,
        2,
        2,
    ]
    assert kpis.loc["potential changing owner from A to B", "b"] == pytest.approx(20.0)
    travel = kpis.loc["travel cost (workload x km)"]
    assert travel["delta"] == pytest.approx(travel["b"] - travel["a"])
    assert travel["b"] > travel["a"]
    changes = result.rep_changes.set_index("rep_id")
    assert changes.loc[["A", "B", "C"], "gained"].tolist() == [1, 1, 0]
    assert changes.loc[["A", "B", "C"], "lost"].tolist() == [0, 0, 2]
    assert changes.loc[["A", "B", "C"], "accounts_b"].tolist() == [3, 3, 0]
    assert changes.loc[["A", "B", "C"], "workload_a"].tolist() == [2.0, 2.0, 2.0]
    assert changes.loc[["A", "B", "C"], "workload_b"].tolist() == [3.0, 3.0, 0.0]


def test_write_is_whole_and_escapes_names(two_plans, tmp_path):
    """The folder holds the page and the three tables; a hostile account name shows as text;
    an existing folder is replaced only with force."""
    start, after = two_plans
    after.accounts.loc[after.accounts["account_id"] == "c1", "name"] = EVIL
    result = compare(start, after)
    out = result.write(tmp_path / "cmp")
    assert sorted(p.name for p in out.iterdir()) == [
        "compare.html",
        "kpis.csv",
        "moves.csv",
        "plan.xlsx",
        "rep_changes.csv",
    ]
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert EVIL not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script src=" not in page  # everything inlined: the page needs no internet
    assert page.count(".sync(") == 2  # DualMap: each map follows the other
    assert page.count("folium-map") >= 2
    moves = pd.read_csv(out / "moves.csv")
    assert moves["account_id"].tolist() == ["c1", "c2"]
    with pytest.raises(InputError, match="already exists"):
        result.write(tmp_path / "cmp")
    result.write(tmp_path / "cmp", force=True)


def test_cli_compare(two_plans, tmp_path):
    start, after = two_plans
    start.write(tmp_path / "a", map_html=False)
    after.write(tmp_path / "b", map_html=False)
    runner = CliRunner()
    out = tmp_path / "cmp"
    result = runner.invoke(
        main, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 accounts change owner" in result.output
    assert "accounts changing owner from A to B: 0 -> 2 (+2)" in result.output
    kpis = pd.read_csv(out / "kpis.csv")
    assert list(kpis.columns) == ["metric", "a", "b", "delta"]
    missing = runner.invoke(
        main,
        ["compare", str(tmp_path / "a"), str(tmp_path / "nope"), "--out", str(tmp_path / "cmp2")],
    )
    assert missing.exit_code == 2
    assert "nope" in missing.output
    assert not (tmp_path / "cmp2").exists()


def test_a_folder_edited_by_hand_is_compared_as_it_now_stands(two_plans, tmp_path):
    """A planner re-assigns b1 (longitude 0.9) from B to A in assignments.csv and saves it
    from Excel (BOM, CRLF), leaving the other columns as they were written. The comparison
    judges the folder by its owners now: A holds 3 accounts against a target of 2 (+50%),
    travel grows by b1's distance to A (0.9 degrees) less its distance to B (0.1 degrees),
    and A's load is 3 in rep_changes; not the numbers the folder was written with."""
    start, _ = two_plans
    start.write(tmp_path / "a", map_html=False)
    edited = start.write(tmp_path / "b", map_html=False)
    table = pd.read_csv(edited / "assignments.csv", dtype=str, keep_default_na=False)
    table.loc[table["account_id"] == "b1", ["rep_id", "rep_name"]] = ["A", "Ada"]
    text = table.to_csv(index=False, lineterminator="\r\n")
    (edited / "assignments.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = compare(tmp_path / "a", edited)
    kpis = result.kpis.set_index("metric")
    assert kpis.loc["largest deviation: workload", ["a", "b"]].tolist() == pytest.approx([0.0, 0.5])
    farther = haversine_km(0.0, 0.9, 0.0, 0.0) - haversine_km(0.0, 0.9, 0.0, 1.0)
    travel = kpis.loc["travel cost (workload x km)"]
    assert travel["delta"] == pytest.approx(farther, abs=1e-3)
    assert result.moves["account_id"].tolist() == ["b1"]
    changes = result.rep_changes.set_index("rep_id")
    assert changes.loc[["A", "B", "C"], "workload_b"].tolist() == [3.0, 1.0, 2.0]
    # a folder as written compares with exactly the numbers it was written with
    same = compare(tmp_path / "a", tmp_path / "a").kpis.set_index("metric")
    assert same.loc["travel cost (workload x km)", "a"] == pytest.approx(
        start.summary["travel_cost"], abs=1e-3
    )


def test_force_never_replaces_a_compared_plan_folder(two_plans, tmp_path):
    """`compare A B --out A --force` (or --out the folder holding A) would replace plan A
    with the comparison: refused with exit 2, both plans left as they were."""
    start, after = two_plans
    start.write(tmp_path / "plans" / "a", map_html=False)
    after.write(tmp_path / "plans" / "b", map_html=False)
    before = sorted(p.name for p in (tmp_path / "plans" / "a").iterdir())
    for out in (tmp_path / "plans" / "a", tmp_path / "plans"):
        result = CliRunner().invoke(
            main,
            [
                "compare",
                str(tmp_path / "plans" / "a"),
                str(tmp_path / "plans" / "b"),
                "--out",
                str(out),
                "--force",
            ],
        )
        assert result.exit_code == 2, result.output
        assert "would delete that plan" in result.output
    assert sorted(p.name for p in (tmp_path / "plans" / "a").iterdir()) == before
    assert (tmp_path / "plans" / "b" / "assignments.csv").is_file()


def test_rep_changes_show_where_a_leaving_reps_quota_went(two_plans):
    """Target 600 by potential. In A each rep holds potential 20 of 60: quotas 200 each. In B,
    after C leaves, A and B hold 30 each: 300 each, C none. Quotas follow accounts, so C's
    200 goes half to A and half to B: changes +100, +100, -200 (adding up to 600 - 600 = 0)."""
    from territory_planner import requota

    start, after = two_plans
    result = compare(
        requota(start, target=600.0, method="potential"),
        requota(after, target=600.0, method="potential"),
    )
    changes = result.rep_changes.set_index("rep_id")
    assert changes.loc[["A", "B", "C"], "quota_a"].tolist() == [200.0, 200.0, 200.0]
    assert changes.loc[["A", "B"], "quota_b"].tolist() == [300.0, 300.0]
    assert pd.isna(changes.loc["C", "quota_b"])
    assert changes.loc[["A", "B", "C"], "quota_change"].tolist() == [100.0, 100.0, -200.0]
    assert "quota_a" not in compare(start, after).rep_changes.columns
