"""`territory-planner quota PLAN_DIR --out DIR` and `requota`: quotas set on an existing plan.

The tiny plan (see test_plan_tiny): exact workload balance gives R1 = {A1, A2} and
R2 = {A3, A4}. Potential 100, 200, 300, 400 and revenue 50, 100, 300, 400, so
R1 has P = 300, R = 150 and R2 has P = 700, R = 700.
With target 1,000 and method potential the fair shares are 300 and 700, and with no
binding bound the quotas equal them.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner import Plan, load_scenario, plan, requota
from territory_planner.cli import main
from territory_planner.scenario import QuotaSettings
from tests.helpers import line_accounts, line_reps

EXACT = {
    "balance": [{"metric": "workload", "tolerance": 0.0}],
    "solver": {"gap": 0.0, "time_limit": 30},
}


@pytest.fixture
def plan_dir(tiny, tmp_path):
    accounts = line_accounts(revenue=[50.0, 100.0, 300.0, 400.0])
    made = plan(load_scenario(tiny(accounts=accounts, **EXACT)))
    return made.write(tmp_path / "plan", map_html=False)


def test_quota_command_writes_a_new_folder_and_leaves_the_plan(plan_dir, tmp_path):
    out = tmp_path / "with-quotas"
    result = CliRunner().invoke(
        main,
        ["quota", str(plan_dir), "--out", str(out), "--target", "1000", "--method", "potential"],
    )
    assert result.exit_code == 0, result.output
    quotas = pd.read_csv(out / "quotas.csv").set_index("rep_id")
    assert quotas.loc["R1", "quota"] == pytest.approx(300.0)
    assert quotas.loc["R2", "quota"] == pytest.approx(700.0)
    assert quotas.loc["R2", "quota_to_potential"] == pytest.approx(1.0)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["quota"]["target"] == 1000.0 and summary["quota"]["method"] == "potential"
    assert not (plan_dir / "quotas.csv").exists()  # the original is left as it was
    territories = pd.read_csv(out / "territories.csv").set_index("rep_id")
    assert territories.loc["R1", "quota"] == pytest.approx(300.0)
    assert "quota" in (out / "scenario.yaml").read_text()


def test_requota_growth_bound_binds(plan_dir):
    """Potential method, target 1,000, max_growth 0.5: R1's fair share 300 exceeds its cap
    150 x 1.5 = 225, so R1 = 225 and R2 = 775 (its fair share 700 + the 75 R1 cannot take,
    under its cap 700 x 1.5 = 1,050); the largest relative deviation is 75 / 300 = 25%,
    which the first LP proves is the least possible."""
    made = requota(Plan.read(plan_dir), target=1000.0, method="potential", max_growth=0.5)
    quotas = made.quotas.set_index("rep_id")
    assert quotas.loc["R1", "quota"] == pytest.approx(225.0)
    assert quotas.loc["R2", "quota"] == pytest.approx(775.0)
    assert made.summary["quota"]["max_relative_deviation"] == pytest.approx(0.25)
    assert made.summary["quota"]["lower_bound"] == pytest.approx(0.25)


def test_quota_without_target_or_section_is_exit_2(plan_dir, tmp_path):
    result = CliRunner().invoke(main, ["quota", str(plan_dir), "--out", str(tmp_path / "q")])
    assert result.exit_code == 2
    assert "no quota section" in result.output and "--target" in result.output


def test_quota_bounds_that_cannot_add_up_is_exit_3(plan_dir, tmp_path):
    """Revenue totals 850; with max_growth 0 the quotas can add up to at most 850."""
    out = tmp_path / "q"
    result = CliRunner().invoke(
        main, ["quota", str(plan_dir), "--out", str(out), "--target", "1000", "--max-growth", "0"]
    )
    assert result.exit_code == 3, result.output
    assert "the target 1,000" in result.output and "between 0 and 850" in result.output
    assert not out.exists()


def test_quota_command_names_the_rule_behind_each_large_deviation(plan_dir, tmp_path):
    """Potential method, target 900, min_growth 0: fair shares 900 x 300/1000 = 270 and
    900 x 700/1000 = 630. R2's floor is last year's revenue 700 (700 x (1 + 0)), above its
    share, so R2 = 700 (+70/630 = +11.11%) and R1 takes the rest, 200 (-70/270 = -25.93%),
    still above its own floor 150: min_growth binds R2 only."""
    out = tmp_path / "q"
    args = ["quota", str(plan_dir), "--out", str(out), "--target", "900"]
    result = CliRunner().invoke(main, args + ["--method", "potential", "--min-growth", "0"])
    assert result.exit_code == 0, result.output
    quotas = pd.read_csv(out / "quotas.csv", keep_default_na=False).set_index("rep_id")
    assert quotas["quota"].tolist() == pytest.approx([200.0, 700.0])
    assert quotas["binding"].tolist() == ["", "min_growth"]
    largest = json.loads((out / "summary.json").read_text())["quota"]["largest_deviations"]
    assert [(r["rep_id"], r["binding"], r["limit"]) for r in largest] == [
        ("R1", "", None),
        ("R2", "min_growth", pytest.approx(700.0)),
    ]
    assert (
        "    R2 (+11.11%): quota held at its accounts' revenue last year 700 by min_growth 0; "
        "fair share 630\n" in result.output
    )
    assert (  # one line says where what R2's floor takes goes
        "    growth bounds hold 1 rep off its fair share (R2 +11.11%); so that the quotas add "
        "up to the target, R1 takes the 70 this leaves short: -25.93% from its fair share\n"
        in result.output
    )


def test_requota_names_max_growth_in_the_binding_column(plan_dir):
    """As in test_requota_growth_bound_binds: R1 = 225, capped by max_growth 0.5."""
    made = requota(Plan.read(plan_dir), target=1000.0, method="potential", max_growth=0.5)
    assert made.quotas.set_index("rep_id")["binding"].to_dict() == {"R1": "max_growth", "R2": ""}
    first = made.summary["quota"]["largest_deviations"][0]
    assert first["explanation"] == (
        "R1 (-25.00%): quota capped at its accounts' revenue last year 150 x (1 + 0.5) = 225 by "
        "max_growth 0.5; fair share 300"
    )


def test_a_half_time_hire_with_ramp_half_is_noted_in_validate_and_the_plan(tiny, tmp_path):
    """R2 is a new hire at capacity 0.5 and the quota ramps new reps by 0.5: its territory
    is sized at half a full one and its share of the quota halved again, 0.5 x 0.5 = 0.25."""
    reps = line_reps(status=["active", "new"], capacity=[1.0, 0.5])
    scenario = tiny(
        reps=reps,
        balance=[{"metric": "workload", "tolerance": 0.5}],
        solver={"gap": 0.0, "time_limit": 30},
        quota={"target": 1000, "method": "potential", "ramp": {"new": 0.5}},
    )
    note = (
        "R2: capacity 0.5 x ramp 0.5 = 0.25 (a quarter) of a full rep's fair share: capacity "
        "sizes the territory (balance targets follow capacity) and ramp then scales the "
        "quota's share of it"
    )
    checked = CliRunner().invoke(main, ["validate", str(scenario)])
    assert checked.exit_code == 0, checked.output
    assert f"  quota note: {note}\n" in checked.output
    out = tmp_path / "plan-out"
    planned = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert planned.exit_code == 0, planned.output
    assert f"    note: {note}\n" in planned.output
    assert json.loads((out / "summary.json").read_text())["quota"]["ramp_notes"] == [note]


def test_quota_references_and_hierarchy_are_named_at_once_before_any_solve(tiny):
    """A hierarchy level the reps lack, a ramp column they lack and an override for a rep
    that does not exist: validate used to say 'is valid', and plan named the hierarchy alone,
    then after a second run (and the whole solve) the two quota problems. All three are named
    by validate and by plan at once, before the solver starts (no progress line about it)."""
    scenario = tiny(
        reps=line_reps(district=["North", "South"]),
        hierarchy=["district", "area"],
        quota={"target": 1000, "ramp": "ramp_factor", "overrides": {"R9": 100}},
        **EXACT,
    )
    expected = [
        "hierarchy level 'area' is not a column of the reps",
        "ramp names the reps column 'ramp_factor', which does not exist",
        "override for rep 'R9', which is not in the reps",
    ]
    checked = CliRunner().invoke(main, ["validate", str(scenario)])
    assert checked.exit_code == 2, checked.output
    assert "3 problem(s)" in checked.output and "is valid" not in checked.output
    planned = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(scenario.parent / "p")])
    assert planned.exit_code == 2, planned.output
    for output in (checked.output, planned.output):
        assert [text in output for text in expected] == [True, True, True]
    assert "LP bound" not in planned.output and "candidate pairs" not in planned.output
    assert not (scenario.parent / "p").exists()


def test_floors_above_a_company_target_are_said_before_the_territories_are_solved(
    tiny, monkeypatch
):
    """Revenue 50 + 100 + 300 + 400 = 850 and min_growth 0: whoever owns which account, the
    quotas add up to at least 850, so a target of 800 cannot be met. Exit 3 with the numbers,
    and the territory solve is never started (it is made to fail if it is)."""
    import importlib

    plan_module = importlib.import_module("territory_planner.plan")

    def never(*args, **kwargs):
        raise AssertionError("the territories were solved")

    monkeypatch.setattr(plan_module, "solve_assignment", never)
    accounts = line_accounts(revenue=[50.0, 100.0, 300.0, 400.0])
    quota = {"target": 800, "method": "potential", "min_growth": 0.0}
    path = tiny(accounts=accounts, quota=quota, **EXACT)
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(path.parent / "p")])
    assert result.exit_code == 3, result.output
    assert "the accounts' revenue is 850" in result.output
    assert "add up to at least 850 whoever owns which account" in result.output
    assert not (path.parent / "p").exists()


def test_a_target_written_as_money_is_read_as_the_number_columns_read_money(plan_dir, tmp_path):
    """`--target '$1,000'` and `target: "USD 1,000.00"` are 1,000 (the plan's shares 300 and
    700 under method potential); `1,000` alone reads as 1000 or as 1 with a decimal comma and
    is refused, naming both readings (never a silent factor of 1,000)."""
    out = tmp_path / "money"
    result = CliRunner().invoke(
        main,
        ["quota", str(plan_dir), "--out", str(out), "--target", "$1,000.00"]
        + ["--method", "potential"],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out / "quotas.csv")["quota"].tolist() == [300.0, 700.0]
    ambiguous = CliRunner().invoke(
        main, ["quota", str(plan_dir), "--out", str(tmp_path / "x"), "--target", "1,000"]
    )
    assert ambiguous.exit_code == 2
    assert "reads as 1000 with a thousands comma and as 1 with a decimal comma" in (
        ambiguous.output
    )
    settings = {"target": "USD 1,000.00", "method": "potential", "overrides": {"R1": "$250"}}
    made = requota(Plan.read(plan_dir), settings=QuotaSettings.model_validate(settings))
    assert made.quotas["quota"].tolist() == [250.0, 750.0]
