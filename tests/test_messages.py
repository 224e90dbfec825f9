"""Messages point at the file to fix, in words, once; validate says which defaults it applied."""

from __future__ import annotations

from click.testing import CliRunner

from territory_planner.cli import main

from .helpers import input_problems, write_inputs

ACCOUNTS = "account_id,lat,lon,workload,potential\nA1,40.0,-75.0,1,100\nA2,40.5,-74.5,2,300\n"
REPS = "rep_id,lat,lon\nR1,40.2,-75.1\nR2,40.4,-74.6\n"


def test_a_misspelt_balance_metric_is_the_scenarios_fault_with_a_suggestion(tmp_path):
    extra = (
        "balance:\n  - {metric: workload, tolerance: 0.5}\n"
        "  - {metric: potentail, tolerance: 0.5}\n"
    )
    found = input_problems(write_inputs(tmp_path, ACCOUNTS, REPS, extra))
    assert len(found) == 1, found
    problem = found[0]
    assert problem.file.endswith("scenario.yaml")
    assert problem.message.startswith(
        "the second balance rule balances 'potentail', which is not a column of "
    )
    assert problem.message.endswith("accounts.csv")
    assert problem.fix == "did you mean 'potential'?"


def test_a_misspelt_key_is_one_problem_in_words(tmp_path):
    """pydantic reports 'tolerence' as extra AND 'tolerance' as missing: one mistake."""
    extra = (
        "balance:\n  - {metric: workload, tolerance: 0.5}\n"
        "  - {metric: potential, tolerence: 0.5}\n"
    )
    path = write_inputs(tmp_path, ACCOUNTS, REPS, extra)
    found = input_problems(path)
    assert [(p.message, p.fix, p.column) for p in found] == [
        (
            "unknown key 'tolerence' in the second balance rule",
            "did you mean 'tolerance'?",
            None,
        )
    ]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert len(lines) == 1, result.output
    assert "required" not in result.output.lower()
    assert "balance.1" not in result.output


def test_a_bad_value_is_placed_in_words(tmp_path):
    extra = (
        "balance:\n  - {metric: workload, tolerance: 0.5}\n"
        "  - {metric: potential, tolerance: -1}\n"
        "solver: {time_limt: 5}\n"
    )
    found = input_problems(write_inputs(tmp_path, ACCOUNTS, REPS, extra))
    messages = sorted(str(p) for p in found)
    assert len(messages) == 2, messages
    assert messages[0].endswith(
        "scenario.yaml: 'tolerance' in the second balance rule should be greater than or "
        "equal to 0 (got -1)"
    )
    assert messages[1].endswith(
        "scenario.yaml: unknown key 'time_limt' in the solver section "
        "(fix: did you mean 'time_limit'?)"
    )


def test_validate_lists_the_defaults_it_applied(tmp_path):
    accounts = "account_id,lat,lon,potential\nA1,40.0,-75.0,100\nA2,40.5,-74.5,\n"
    reps = "rep_id,lat,lon,status\nR1,40.2,-75.1,active\nR2,40.4,-74.6,\n"
    path = write_inputs(tmp_path, accounts, reps)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    defaults = result.output.split("defaults applied:\n", 1)[1].splitlines()
    assert defaults == [
        "    - workload 1 for every account: accounts.csv has no workload column",
        "    - potential 0 for 1 account whose potential is blank",
        "    - revenue 0 for every account: accounts.csv has no revenue column",
        "    - capacity 1 for every rep: reps.csv has no capacity column",
        "    - status active for 1 rep whose status is blank",
    ]


def test_a_coordinate_that_is_text_is_not_also_called_blank(tmp_path):
    """lat 'abc' beside a real lon is one mistake: 'is not a number', never also 'lat is
    blank but lon is given' (it is not blank); a truly blank lat still gets that message."""
    accounts = "account_id,lat,lon,workload\nA1,abc,-75.0,1\nA2,,-74.5,2\nA3,40.1,-74.9,1\n"
    found = input_problems(write_inputs(tmp_path, accounts, REPS, ""))
    messages = sorted((p.row, p.column, p.message) for p in found)
    assert messages == [
        (2, "lat", "is not a number (got 'abc')"),
        (3, "lat", "lat is blank but lon is given"),
    ], found


def test_coordinates_in_degrees_minutes_are_one_problem_each_not_a_missing_location(tmp_path):
    """lat '35°47'N' and lon '78°38'W' (degrees and minutes, as a map site shows them): each
    'is not a number', and the row is not also told it has 'neither lat/lon nor a
    postal_code' (it has both, unreadable)."""
    accounts = "account_id,lat,lon,workload\nA1,35°47'N,78°38'W,1\nA2,40.1,-74.9,1\n"
    found = input_problems(write_inputs(tmp_path, accounts, REPS, ""))
    messages = sorted((p.row, p.column, p.message) for p in found)
    assert messages == [
        (2, "lat", "is not a number (got '35°47'N')"),
        (2, "lon", "is not a number (got '78°38'W')"),
    ], found
