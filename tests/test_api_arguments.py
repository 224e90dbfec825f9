"""The Python API refuses the arguments the CLI's options refuse, with the same InputError
(exit 2) naming the argument and the value, before anything is read or solved; and a
rebalance that runs out of time names the limit the user gave, not the share left of it.

The plans are tests/helpers.three_rep_plan (three reps, six accounts, C's two accounts
forced to move when C leaves)."""

from __future__ import annotations

import pandas as pd
import pytest

from territory_planner import InputError, evaluate, load_scenario, plan
from territory_planner.rebalance import rebalance
from tests.helpers import three_rep_plan

BAD_TIME_LIMITS = [
    (-1, "-1"),
    (0, "0"),
    (float("nan"), "nan"),
    (float("inf"), "inf"),
    ("60", "'60'"),
]


def time_limit_message(shown: str) -> str:
    return (
        "1 problem in the inputs:\n"
        f"  - time_limit: must be a number of seconds above 0, got {shown} "
        "(fix: e.g. 60, or None for the scenario's solver.time_limit)"
    )


@pytest.mark.parametrize(("value", "shown"), BAD_TIME_LIMITS)
def test_rebalance_refuses_a_time_limit_the_cli_refuses(tmp_path, value, shown):
    start = three_rep_plan(tmp_path)
    with pytest.raises(InputError) as raised:
        rebalance(start, leaves=["C"], time_limit=value)
    assert str(raised.value) == time_limit_message(shown)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(("value", "shown"), BAD_TIME_LIMITS)
def test_plan_and_evaluate_refuse_a_time_limit_the_cli_refuses(tmp_path, value, shown):
    three_rep_plan(tmp_path)
    scenario = load_scenario(tmp_path / "start" / "scenario.yaml")
    for solve in (plan, evaluate):
        with pytest.raises(InputError) as raised:
            solve(scenario, time_limit=value)
        assert str(raised.value) == time_limit_message(shown)


def test_rebalance_refuses_tradeoff_budgets_outside_zero_to_one(tmp_path):
    """A budget of 1.5 would be a moved share of 150%: every budget is named, all at once."""
    start = three_rep_plan(tmp_path)
    with pytest.raises(InputError) as raised:
        rebalance(start, leaves=["C"], tradeoff=[0.1, 1.5, -0.2])
    fix = " (fix: e.g. 0.15 for 15% of total potential)"
    assert str(raised.value) == (
        "2 problems in the inputs:\n"
        f"  - tradeoff: must be a share between 0 and 1, got 1.5 (a share of 150%){fix}\n"
        f"  - tradeoff: must be a share between 0 and 1, got -0.2 (a share of -20%){fix}"
    )


def test_rebalance_refuses_a_scenario_where_a_plan_is_expected(tmp_path):
    three_rep_plan(tmp_path)
    scenario = load_scenario(tmp_path / "start" / "scenario.yaml")
    with pytest.raises(InputError) as raised:
        rebalance(scenario, leaves=["C"])
    assert str(raised.value) == (
        "1 problem in the inputs:\n"
        "  - plan: rebalance needs a Plan or a plan folder path, got ScenarioData (fix: "
        "plan(scenario) for a Plan, or the folder 'territory-planner plan --out' wrote)"
    )


def test_rebalance_refuses_hires_given_as_a_dict(tmp_path):
    start = three_rep_plan(tmp_path)
    with pytest.raises(InputError) as raised:
        rebalance(start, hires={"rep_id": "D", "lat": 0.0, "lon": 1.0})
    assert str(raised.value) == (
        "1 problem in the inputs:\n"
        "  - hires: rebalance needs the hires as a DataFrame or a CSV/XLSX path, got dict "
        "(fix: one row per hire: pd.DataFrame([{'rep_id': 'R09', 'lat': 52.5, 'lon': 13.4}]))"
    )
    # the form the message suggests works: D replaces C, who leaves, and takes C's accounts
    hire = pd.DataFrame([{"rep_id": "D", "lat": 0.0, "lon": 2.0}])
    made = rebalance(start, hires=hire, leaves=["C"])
    assert set(made.extra_files["moves.csv"]["to_rep"]) == {"D"}
