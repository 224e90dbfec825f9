"""What a planner relies on: nothing lost, nothing altered, nothing injected, same answer twice.

* an interrupted write (a writer failing midway, Ctrl-C or SIGKILL during a solve) leaves no
  partial folder and the previous plan byte for byte as it was;
* input files are never modified; an existing plan folder is replaced only with --force;
* a time limit is honoured within 10% (+ start-up slack) and the plan found so far comes back
  with its proven gap; no plan at all within the limit is exit code 4 with the reason;
* the same inputs give byte-identical assignments.csv, territories.csv and quotas.csv;
* CSV outputs neutralise spreadsheet formulas without touching real numbers;
* scenario YAML never constructs Python objects.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from territory_planner import load_scenario, plan
from territory_planner.cli import main
from territory_planner.errors import InputError, SolverError
from territory_planner.plan import Plan, write_csv
from tests.helpers import sigint_as_at_a_terminal

# the module that defines Plan, whose write_csv Plan.write calls (imported by name: the
# package exports the function `plan`, which hides the module of the same name)
plan_module = importlib.import_module("territory_planner.plan_folder")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from synthetic import scenario_dict, write_instance  # noqa: E402

TINY_ACCOUNTS = (
    "account_id,name,lat,lon,workload,potential,revenue,note\n"
    "A1,Alpha,40.0,-75.0,1,100,90,-500\n"
    "A2,Beta,40.5,-74.5,2,200,150,+1.5e3\n"
    "A3,Gamma,40.2,-74.9,1,300,280,ok\n"
    "A4,Delta,40.4,-74.6,2,400,390,\n"
)
TINY_REPS = "rep_id,name,lat,lon\nR1,Rita,40.2,-75.1\nR2,Rob,40.4,-74.6\n"


def tiny_scenario(
    folder: Path, accounts: str = TINY_ACCOUNTS, reps: str = TINY_REPS, **settings
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "accounts.csv").write_text(accounts, encoding="utf-8")
    (folder / "reps.csv").write_text(reps, encoding="utf-8")
    data = {
        "name": "tiny",
        "accounts": "accounts.csv",
        "reps": "reps.csv",
        "balance": [{"metric": "workload", "tolerance": 0.5}],
        "solver": {"time_limit": 20, "gap": 0.0},
        **settings,
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under folder, by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def siblings(folder: Path) -> set[str]:
    return {p.name for p in folder.parent.iterdir()}


# --------------------------------------------------------------------------- nothing lost


@pytest.fixture
def written(tmp_path):
    """A solved tiny plan and an existing plan folder 'out' written from it."""
    made = plan(load_scenario(tiny_scenario(tmp_path / "scenario")))
    out = made.write(tmp_path / "plans" / "out", map_html=False)
    return made, out


@pytest.mark.parametrize("target", ["save_map", "write_csv"])
def test_a_writer_failing_midway_leaves_the_old_plan_and_no_partial_folder(
    written, monkeypatch, target
):
    """The map writer (or the CSV writer, on its second file) raises after writing some bytes:
    the existing plan is byte-identical and no staging folder is left beside it."""
    made, out = written
    before, around = digest(out), siblings(out)

    if target == "save_map":
        import territory_planner.report.maps as maps

        def broken(_map, path):
            Path(path).write_text("<html>half a map")
            raise OSError("disk full")

        monkeypatch.setattr(maps, "save_map", broken)
        with pytest.raises(OSError, match="disk full"):
            made.write(out, force=True, map_html=True)
    else:
        calls = []

        def broken(frame, path):
            calls.append(path)
            if len(calls) == 2:
                Path(path).write_text("account_id,rep_id\nA1,")
                raise OSError("disk full")
            write_csv(frame, path)

        monkeypatch.setattr(plan_module, "write_csv", broken)
        with pytest.raises(OSError, match="disk full"):
            made.write(out, force=True, map_html=False)
        assert len(calls) == 2
    assert digest(out) == before
    assert siblings(out) == around


def test_a_failed_first_write_creates_no_folder(written, monkeypatch, tmp_path):
    made, _ = written
    monkeypatch.setattr(
        plan_module, "write_csv", lambda frame, path: (_ for _ in ()).throw(OSError("disk full"))
    )
    target = tmp_path / "plans" / "fresh"
    around = siblings(target.parent / "out")
    with pytest.raises(OSError):
        made.write(target, map_html=False)
    assert not target.exists()
    assert siblings(target.parent / "out") == around


KILLED_WRITER = r"""
import os, signal, sys
from pathlib import Path
from territory_planner.folders import write_folder_atomically

def fill(folder):
    (folder / "assignments.csv").write_text("account_id,rep_id\nA1,R1\n")
    os.kill(os.getpid(), signal.SIGKILL)  # no clean-up can run: a kill -9, an OOM kill

write_folder_atomically(Path(sys.argv[1]), fill)
"""


def test_a_half_written_folder_of_a_killed_run_is_removed_by_the_next_write(written):
    """A write killed outright leaves its staging folder beside the plan (nothing can run
    after SIGKILL); the next write of that plan removes it, so half-written folders do not
    pile up. The staging folder of another output whose name starts alike is left alone."""
    made, out = written
    before = siblings(out)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(out)],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL
    left = siblings(out) - before  # its staging folder and its lock file (harmless)
    staging = {name for name in left if name.endswith(".partial")}
    assert len(staging) == 1 and left - staging == {f".{out.name}.lock"}, left
    other = out.parent / f".{out.name}.v2.k3j9x0aa.partial"  # the output 'out.v2' being written
    other.mkdir()
    made.write(out, force=True, map_html=False)
    assert siblings(out) == before | {other.name}
    assert Plan.read(out).rep_of_account.to_dict() == made.rep_of_account.to_dict()


def test_an_out_path_that_is_a_file_is_refused_as_such_with_or_without_force(written):
    """--out naming a file: 'exists and is not a folder' at once, not 'already exists, pass
    --force' (which would only lead to the same refusal)."""
    made, out = written
    blocker = out.parent / "notes.txt"
    blocker.write_text("a planner's notes")
    for force in (False, True):
        with pytest.raises(InputError, match="exists and is not a folder"):
            made.write(blocker, force=force, map_html=False)
    assert blocker.read_text() == "a planner's notes"


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """1,000 accounts, 20 reps: big enough that a solve with a tiny gap target takes its
    whole time limit on 2 cores (the LP alone takes about a second)."""
    folder = tmp_path_factory.mktemp("medium")
    write_instance(folder, 1000, 20)
    return folder


def with_solver(folder: Path, name: str, **solver) -> Path:
    data = scenario_dict(name)
    data["solver"].update(solver)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGINT, 130)])
def test_a_run_killed_during_the_solve_leaves_the_old_plan(medium, tmp_path, sig, code):
    """`plan --force` over an existing plan, killed once the LP bound is printed: the old
    plan is untouched and nothing new appears beside it (SIGKILL: no clean-up runs at all,
    so this holds only because nothing is written before the solve ends)."""
    scenario = with_solver(medium, f"kill{int(sig)}", time_limit=8, gap=1e-9)
    out = tmp_path / "out"
    out.mkdir()
    (out / "assignments.csv").write_text("account_id,rep_id\nA0000001,R0001\n")
    (out / "summary.json").write_text('{"status": "optimal"}\n')
    before, around = digest(out), siblings(out)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "territory_planner.cli",
            "plan",
            str(scenario),
            "--out",
            str(out),
            "--force",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
        preexec_fn=sigint_as_at_a_terminal,
    )
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "LP bound" in line:
            break
    assert any("LP bound" in line for line in seen), "".join(seen)
    process.send_signal(sig)
    rest = process.stderr.read()
    assert process.wait(timeout=60) == code
    if sig == signal.SIGINT:
        assert "interrupted: nothing was written" in rest
    assert digest(out) == before
    assert siblings(out) == around


def test_existing_folder_is_replaced_only_with_force(tmp_path):
    scenario = tiny_scenario(tmp_path / "s")
    out = tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert first.exit_code == 0, first.output
    before = digest(out)
    (out / "keep-me.txt").write_text("planner's note")
    again = runner.invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert again.exit_code == 2
    assert "already exists" in again.output and "--force" in again.output
    assert (out / "keep-me.txt").exists()
    forced = runner.invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet", "--force"])
    assert forced.exit_code == 0, forced.output
    assert not (out / "keep-me.txt").exists()
    assert digest(out).keys() == before.keys()


def test_force_never_replaces_the_folder_holding_the_inputs(tmp_path):
    """`--out` pointing at the scenario's own folder (or above it) with --force would delete
    the inputs: refused with exit 2, the folder untouched. A plan folder may be rewritten in
    place, because its inputs/ are copied into the new folder first."""
    scenario = tiny_scenario(tmp_path / "data")
    before = digest(scenario.parent)
    for out in (scenario.parent, tmp_path):
        result = CliRunner().invoke(
            main, ["plan", str(scenario), "--out", str(out), "--quiet", "--force"]
        )
        assert result.exit_code == 2, result.output
        assert "the output folder holds an input" in result.output
    assert digest(scenario.parent) == before
    out = plan(scenario).write(tmp_path / "plan", map_html=False)
    again = Plan.read(out)
    again.write(out, force=True, map_html=False)
    assert Plan.read(out).assignments.equals(again.assignments)


def test_an_unusable_out_path_is_named_not_a_traceback(tmp_path):
    """--out under a regular file: exit 2 naming the path; nothing written."""
    scenario = tiny_scenario(tmp_path / "s")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(
        main, ["plan", str(scenario), "--out", str(blocker / "plan"), "--quiet"]
    )
    assert result.exit_code == 2, result.output
    assert f"{blocker}" in result.output and "cannot be used" in result.output
    assert blocker.read_text() == "not a folder"


def test_inputs_are_never_modified(tmp_path):
    scenario = tiny_scenario(tmp_path / "s", quota={"target": 1000.0})
    folder = scenario.parent
    before = digest(folder)
    made = plan(scenario)
    out = made.write(tmp_path / "out", map_html=False)
    Plan.read(out)
    result = CliRunner().invoke(main, ["validate", str(scenario)])
    assert result.exit_code == 0, result.output
    assert digest(folder) == before


# --------------------------------------------------------------------------- time limit


def test_time_limit_is_honoured_and_the_best_plan_returned_with_its_gap(medium):
    """Limit 3 s with a gap target of 1e-9 that cannot be proven in time: the solve ends
    within 3 s + 10% + 0.5 s (start-up slack), status time_limit, and the gap is the proven
    one: (objective - lower_bound) / objective, with lower_bound <= objective.

    The limit covers the solve; building the problem arrays before it (build_seconds in the
    summary) is not counted, like reading the files."""
    data = load_scenario(with_solver(medium, "limit3", time_limit=3, gap=1e-9))
    started = time.perf_counter()
    made = plan(data)
    elapsed = time.perf_counter() - started
    summary = made.summary
    assert summary["solver"]["seconds"] <= 3 * 1.10 + 0.5, summary["solver"]
    assert elapsed - summary["solver"]["build_seconds"] <= 3 * 1.10 + 0.5, elapsed
    assert summary["status"] in ("time_limit", "within_gap_target", "optimal")
    assert summary["lower_bound"] <= summary["objective"] + 1e-6
    assert summary["gap"] == pytest.approx(
        (summary["objective"] - summary["lower_bound"]) / summary["objective"], abs=1e-9
    )
    assert len(made.assignments) == 1000


def test_no_plan_within_the_limit_is_exit_code_4_with_the_reason(medium, tmp_path):
    """0.01 s cannot even finish the LP relaxation of 1,000 x 20: SolverError, exit 4."""
    scenario = with_solver(medium, "hopeless", time_limit=0.01)
    with pytest.raises(SolverError, match="no feasible plan|without a solution"):
        plan(scenario)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["plan", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code == 4, result.output
    assert "error: the solver found no feasible plan" in result.output
    assert not out.exists()


# --------------------------------------------------------------------------- determinism


def test_same_inputs_give_byte_identical_outputs(tmp_path):
    scenario = tiny_scenario(tmp_path / "s", quota={"target": 1000.0})
    runs = [plan(scenario).write(tmp_path / f"run{k}", map_html=False) for k in (1, 2)]
    for name in ("assignments.csv", "territories.csv", "quotas.csv"):
        first, second = ((run / name).read_bytes() for run in runs)
        assert first == second, name
        assert len(first) > 40


# --------------------------------------------------------------------------- nothing injected

HOSTILE_ACCOUNTS = (
    "account_id,name,lat,lon,workload,note\n"
    '=A1,"=HYPERLINK(""http://x"",""y"")",40.0,-75.0,1,-500\n'
    "A2,+cmd|' /C calc'!A0,40.5,-74.5,2,-1+1\n"
    "A3,@SUM(A1:A9),40.2,-74.9,1,12.5\n"
    "-A4,-2+3,40.4,-74.6,2,-2.5e3\n"
    "A5,<img src=x onerror=alert(1)>,40.3,-74.7,1,\n"
)


def csv_cells(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_csv_outputs_neutralise_formulas_but_not_numbers(tmp_path):
    reps = "rep_id,name,lat,lon\nR1,=cmd,40.2,-75.1\nR2,Rob,40.4,-74.6\n"
    made = plan(tiny_scenario(tmp_path / "s", accounts=HOSTILE_ACCOUNTS, reps=reps))
    out = made.write(tmp_path / "out", map_html=False)
    rows = {row["account_id"]: row for row in csv_cells(out / "assignments.csv")}
    assert set(rows) == {"'=A1", "A2", "A3", "'-A4", "A5"}
    assert rows["'=A1"]["name"] == '\'=HYPERLINK("http://x","y")'
    assert rows["A2"]["name"] == "'+cmd|' /C calc'!A0"
    assert rows["A3"]["name"] == "'@SUM(A1:A9)"
    assert rows["'-A4"]["name"] == "'-2+3"
    assert rows["A5"]["name"] == "<img src=x onerror=alert(1)>"  # HTML is the map's job
    # real numbers, negative ones included, stay numbers; '-1+1' is a formula, not a number
    assert [rows[a]["note"] for a in ("'=A1", "A2", "A3", "'-A4")] == [
        "-500",
        "'-1+1",
        "12.5",
        "-2.5e3",
    ]
    assert all(not row["distance_km"].startswith("'") for row in rows.values())
    assert float(rows["A3"]["distance_km"]) >= 0
    territories = {row["rep_id"]: row for row in csv_cells(out / "territories.csv")}
    assert territories["R1"]["name"] == "'=cmd"
    # and the plan folder reads back to the original text
    again = Plan.read(out)
    assert set(again.assignments["account_id"]) == {"=A1", "A2", "A3", "-A4", "A5"}


def test_tab_and_carriage_return_starts_are_neutralised(tmp_path):
    """The readers strip cells, so a leading tab or CR reaches outputs only from in-memory
    data (the Python API): write_csv still neutralises it, writes a CR inside a cell as a
    line feed (quoted, so the row stays whole), and leaves numbers untouched."""
    frame = pd.DataFrame({"id": ["\tT", "\rR", "-7", "ok"], "value": [-1.5, -2.0, 3.0, 0.0]})
    write_csv(frame, tmp_path / "x.csv")
    cells = csv_cells(tmp_path / "x.csv")
    assert [row["id"] for row in cells] == ["'\tT", "'\nR", "-7", "ok"]
    assert [row["value"] for row in cells] == ["-1.5", "-2.0", "3.0", "0.0"]


def test_python_tags_in_scenario_yaml_are_refused(tmp_path):
    """safe loading: no object is constructed, so the command never runs."""
    marker = tmp_path / "PWNED"
    tiny_scenario(tmp_path)
    for payload in (
        f"!!python/object/apply:os.system ['touch {marker}']\n",
        f"name: !!python/object/apply:os.system ['touch {marker}']\n"
        "accounts: accounts.csv\nreps: reps.csv\n",
        "name: !!python/name:os.system\naccounts: accounts.csv\nreps: reps.csv\n",
    ):
        path = tmp_path / "evil.yaml"
        path.write_text(payload)
        with pytest.raises(InputError, match="could not determine a constructor") as caught:
            load_scenario(path)
        assert caught.value.problems[0].file == str(path)
        assert caught.value.problems[0].row == 1
        result = CliRunner().invoke(main, ["validate", str(path)])
        assert result.exit_code == 2
    assert not marker.exists()
