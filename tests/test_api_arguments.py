"""The Python API refuses the arguments the CLI's options refuse, with the same InputError
(exit 2) naming the argument and the value, before anything is read or solved; and a
rebalance that runs out of time names the limit the user gave, not the share left of it.

The plans are tests/helpers.three_rep_plan (three reps, six accounts, C's two accounts
forced to move when C leaves)."""

from __future__ import annotations

import importlib
import re
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner import InputError, Plan, SolverError, evaluate, load_scenario, plan
from territory_planner.cli import main
from territory_planner.rebalance import rebalance
from tests.helpers import three_rep_plan

# the module (the package's attribute of that name is the function)
rebalance_module = importlib.import_module("territory_planner.rebalance")

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


def no_plan_in_time(problem, settings, progress=None):
    """The account strategy's own words when it finds no plan (optimize/strategy.py): it
    states the limit of the step it was given."""
    raise SolverError(
        f"no feasible plan was found within the time limit of {settings.time_limit:g} s "
        "(the LP bound is 20.0); raise --time-limit"
    )


def test_out_of_time_names_the_limit_given_and_what_reading_took(tmp_path, monkeypatch):
    """Reading took 5 s of a 1 s limit: the step got 0 s, and the message used to say 'the
    time limit of 0 s'; it names the 1 s given and where it went."""
    start = three_rep_plan(tmp_path)
    monkeypatch.setattr(rebalance_module, "solve_assignment", no_plan_in_time)
    with pytest.raises(SolverError) as raised:
        rebalance(start, leaves=["C"], time_limit=1, started=time.perf_counter() - 5.0)
    assert re.fullmatch(
        re.escape("no feasible plan was found within the time limit of 1 s you gave (reading ")
        + r"the plan and building the problem took 5\.\d s of it, leaving the solver 0\.0 s\) "
        + re.escape("(the LP bound is 20.0); raise --time-limit"),
        str(raised.value),
    ), str(raised.value)


def test_out_of_time_without_a_time_limit_names_the_scenarios(tmp_path, monkeypatch):
    """No time_limit given: the limit is the scenario's solver.time_limit (30 s here)."""
    start = three_rep_plan(tmp_path)
    monkeypatch.setattr(rebalance_module, "solve_assignment", no_plan_in_time)
    with pytest.raises(SolverError) as raised:
        rebalance(start, leaves=["C"], started=time.perf_counter() - 40.0)
    assert re.fullmatch(
        re.escape("no feasible plan was found within the scenario's time limit of 30 s (reading ")
        + r"the plan and building the problem took 40\.\d s of it, leaving the solver 0\.0 s\) "
        + re.escape("(the LP bound is 20.0); raise --time-limit"),
        str(raised.value),
    ), str(raised.value)


def test_cli_out_of_time_names_the_time_limit_option(tmp_path, monkeypatch):
    """`rebalance --time-limit 1` where reading the plan takes 1.2 s: exit 4, and the message
    says 1 s, not the 0 s the solver's step was left with."""
    three_rep_plan(tmp_path).write(tmp_path / "plan")
    read = Plan.read

    def slow_read(folder):
        time.sleep(1.2)
        return read(folder)

    monkeypatch.setattr(Plan, "read", staticmethod(slow_read))
    monkeypatch.setattr(rebalance_module, "solve_assignment", no_plan_in_time)
    args = ["rebalance", str(tmp_path / "plan"), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, [*args, "--leave", "C", "--time-limit", "1", "--quiet"])
    assert result.exit_code == 4, result.output
    assert "time limit of 0 s" not in result.output
    assert re.search(
        re.escape("error: the solver found no feasible plan: no feasible plan was found within ")
        + re.escape("the time limit of 1 s you gave (reading the plan and building the problem ")
        + r"took 1\.\d s of it, writing the plan folder keeps back 0\.2 s, leaving the solver "
        + re.escape("0.0 s) (the LP bound is 20.0); raise --time-limit"),
        result.output,
    ), result.output
    assert not (tmp_path / "out").exists()
