"""The CLI through click's CliRunner on real files in tmp_path: outputs and exit codes."""

from __future__ import annotations

import json

from click.testing import CliRunner

from territory_planner.cli import main
from tests.helpers import line_accounts

EXACT = {
    "balance": [{"metric": "workload", "tolerance": 0.0}],
    "solver": {"gap": 0.0, "time_limit": 30},
}


def test_plan_writes_the_plan_folder_and_prints_the_numbers(tiny, tmp_path):
    scenario = tiny(**EXACT)
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "gap 0.000%" in result.output
    for name in (
        "assignments.csv",
        "territories.csv",
        "summary.json",
        "map.html",
        "scenario.yaml",
        "inputs/accounts.csv",
        "inputs/reps.csv",
    ):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["inputs"] == {"accounts": 4, "reps": 2}


def test_existing_folder_needs_force(tiny, tmp_path):
    scenario = tiny(**EXACT)
    out = tmp_path / "plan"
    out.mkdir()
    (out / "keep.txt").write_text("previous plan")
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert (out / "keep.txt").read_text() == "previous plan"
    forced = CliRunner().invoke(
        main, ["plan", str(scenario), "--out", str(out), "--quiet", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert not (out / "keep.txt").exists() and (out / "summary.json").exists()


def test_bad_input_exits_2_lists_every_problem_and_writes_nothing(tiny, tmp_path):
    accounts = line_accounts(workload=["1", "lots", "-3", "1"])
    accounts.loc[3, "account_id"] = "A1"
    scenario = tiny(accounts=accounts, **EXACT)
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    assert "row 3, column 'workload': is not a number (got 'lots')" in result.output
    assert "row 4, column 'workload': must be at least 0" in result.output
    assert "row 5, column 'account_id': duplicate account_id 'A1'" in result.output
    assert not out.exists()


def test_infeasible_exits_3_with_the_reason(tiny, tmp_path):
    accounts = line_accounts(
        current_rep_id=["R1", "R1", "R1", ""], locked=[True, True, True, False]
    )
    scenario = tiny(accounts=accounts, **EXACT)
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 3
    assert "locked accounts alone carry 3.0 workload" in result.output
    assert not out.exists()


def test_validate_prints_what_was_read(tiny):
    result = CliRunner().invoke(main, ["validate", str(tiny(**EXACT))])
    assert result.exit_code == 0, result.output
    assert "accounts: 4" in result.output and "reps: 2" in result.output
    assert "total workload: 4.0" in result.output


def test_unknown_solver_exits_4(tiny, tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "plan",
            str(tiny(**EXACT)),
            "--out",
            str(tmp_path / "p"),
            "--solver",
            "NoSuchSolver",
            "--quiet",
        ],
    )
    assert result.exit_code == 4
    assert "NoSuchSolver" in result.output


def test_a_reader_that_goes_away_ends_the_command_quietly(tiny, tmp_path):
    """``plan ... | head -0``: the reader closes stdout before the summary is printed. The
    plan folder, written before the summary, stays; the command ends with SIGPIPE's status
    141 and says nothing on stderr, not "problem in the inputs ... nothing was written"
    (exit 2) as it did."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src"
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "territory_planner.cli", "plan", str(tiny()), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(src)},
        text=True,
    )
    process.stdout.close()  # the reader is gone before the first line is written
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141, stderr
    assert "error" not in stderr and "Traceback" not in stderr, stderr
    assert (out / "assignments.csv").exists() and (out / "summary.json").exists()


def test_a_run_with_its_standard_streams_closed_writes_its_plan(tiny, tmp_path):
    """Launched with stdin, stdout and stderr closed (`plan ... <&- >&- 2>&-`, as some job
    runners start a command), the plan is solved and written and the exit is 0. It ended
    with exit 1 or 120 and nothing written: Python left sys.stdout None, which the solver
    hand-over flushes, and a library opened during import took the closed descriptors,
    which progress lines then wrote into until they were closed under them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    def close_standard_streams():
        for fd in (0, 1, 2):
            os.close(fd)

    src = Path(__file__).resolve().parents[1] / "src"
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "territory_planner.cli", "plan", str(tiny()), "--out", str(out)],
        preexec_fn=close_standard_streams,  # noqa: PLW1509 (no threads in this test)
        env={**os.environ, "PYTHONPATH": str(src)},
        timeout=120,
    )
    assert done.returncode == 0
    assert (out / "assignments.csv").exists() and (out / "summary.json").exists()


def test_a_fractional_tolerance_is_printed_with_its_digits(tiny, tmp_path):
    """Workload within 50% and potential within 12.5% (band 437.5..562.5 around 500): every
    line that states a tolerance says 12.5%, where ':.0%' used to print 12% (and 2.5% as
    2%), so a plan 12.2% off its target read as outside a band it holds. With A1..A3 locked
    to R1 and workload within 12.5% (band 1.75..2.25) the infeasible reason says +/- 12.5%."""
    balance = [
        {"metric": "workload", "tolerance": 0.5},
        {"metric": "potential", "tolerance": 0.125},
    ]
    scenario = tiny(balance=balance, solver={"gap": 0.0, "time_limit": 30})
    validated = CliRunner().invoke(main, ["validate", str(scenario)])
    assert "total potential: 1,000.0, range 100..400 (balanced within 12.5%)" in (validated.output)
    out = tmp_path / "plan"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "potential: largest deviation 0.00% (tolerance 12.5%)" in result.output
    assert "workload: largest deviation 0.00% (tolerance 50%)" in result.output
    shown = CliRunner().invoke(main, ["show", str(out)])
    assert "potential: largest deviation (band 12.5%)" in shown.output

    accounts = line_accounts(
        current_rep_id=["R1", "R1", "R1", ""], locked=[True, True, True, False]
    )
    locked = tiny("locked", accounts=accounts, balance=[{"metric": "workload", "tolerance": 0.125}])
    refused = CliRunner().invoke(
        main, ["plan", str(locked), "--out", str(tmp_path / "no"), "--quiet"]
    )
    assert refused.exit_code == 3
    assert "above the band [1.8, 2.2] (target 2.0 +/- 12.5%)" in refused.output
