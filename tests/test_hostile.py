"""Hostile and heavy inputs: refused clearly and cheaply, or read with the right row numbers.

The alias bomb and the concurrent writers run as real processes (the bomb under a memory
limit, so a regression fails the test instead of the machine); timeouts here only stop a
hung child, they are not measurements.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from territory_planner import load_scenario
from territory_planner.data import read_table
from territory_planner.errors import InputError, ProblemList
from territory_planner.scenario import MAX_SCENARIO_BYTES

from .helpers import input_problems, write_inputs

SRC = str(Path(__file__).resolve().parents[1] / "src")
REPS = "rep_id,lat,lon\nR1,40.2,-75.1\nR2,40.4,-74.6\n"
ACCOUNTS = "account_id,lat,lon,workload\nA1,40.0,-75.0,1\nA2,40.5,-74.5,2\n"


def run_cli(*args: str, cwd: Path, memory_bytes: int | None = None, timeout: float = 120):
    def limit() -> None:
        if memory_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run(
        [sys.executable, "-m", "territory_planner.cli", *args],
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=SRC),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
    )


# --------------------------------------------------------------------------- YAML


def billion_laughs(levels: int = 9) -> str:
    """Nine levels of nine aliases: 9**9 = 387 million strings once expanded."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        items = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{items}]")
    lines += [f"name: *a{levels - 1}", "accounts: accounts.csv", "reps: reps.csv"]
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_without_expanding_it(tmp_path):
    """Under a 2 GB address-space limit the CLI exits 2 naming the bomb (before the fix it
    expanded the aliases into pydantic and its message, and never finished)."""
    write_inputs(tmp_path, ACCOUNTS, REPS)
    (tmp_path / "bomb.yaml").write_text(billion_laughs())
    result = run_cli("validate", "bomb.yaml", cwd=tmp_path, memory_bytes=2 << 30)
    assert result.returncode == 2, result.stderr[-2000:]
    # line 6 (a5) is the first to exceed: 9**6 = 531,441 strings; a4 holds 9**5 = 59,049
    assert "bomb.yaml, row 6: is refused: its aliases expand to more than 200,000 values" in (
        result.stderr
    )


def test_an_alias_that_contains_itself_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("name: &x [1, *x]\naccounts: a.csv\nreps: r.csv\n")
    with pytest.raises(InputError, match="an alias refers to a value that contains it"):
        load_scenario(path)


def test_ordinary_aliases_still_work(tmp_path):
    """A planner may reuse a value with an anchor and an alias."""
    extra = "solver: {time_limit: &limit 300}\nconstraints: {max_distance_km: *limit}\n"
    data = load_scenario(write_inputs(tmp_path, ACCOUNTS, REPS, extra))
    assert data.settings.constraints.max_distance_km == 300.0


def test_an_oversized_scenario_file_is_refused_before_it_is_read(tmp_path):
    path = write_inputs(tmp_path, ACCOUNTS, REPS)
    with path.open("a") as handle:
        handle.write("# " + "x" * (MAX_SCENARIO_BYTES + 10) + "\n")
    found = input_problems(path)
    assert len(found) == 1
    assert "a scenario file is at most 8 MB" in found[0].message


# --------------------------------------------------------------------------- XLSX


def test_an_xlsx_that_would_unpack_to_an_absurd_size_is_refused(tmp_path):
    """A valid workbook whose sheet XML carries 64 MB of padding compressed ~1000:1: the
    zip directory is checked before openpyxl opens it (which would parse it all)."""
    plain = tmp_path / "plain.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["account_id", "lat", "lon"])
    sheet.append(["A1", 40.0, -75.0])
    book.save(plain)
    bomb = tmp_path / "accounts.xlsx"
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (64 << 20), 1)
            target.writestr(member.filename, data)
    assert bomb.stat().st_size < 1 << 20
    problems = ProblemList()
    assert read_table(bomb, problems) is None
    assert len(problems.problems) == 1
    message = problems.problems[0].message
    assert message.startswith("part 'xl/worksheets/sheet1.xml' would unpack ")
    assert "refused as a zip bomb" in message


def test_an_xlsx_declaring_gigabytes_is_refused_by_its_directory(tmp_path):
    """The zip directory says the sheet unpacks to 3 GB: refused on that alone."""
    path = tmp_path / "accounts.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<worksheet/>")
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")  # the member's central directory entry
    data[central + 24 : central + 28] = (3 * 10**9).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    problems = ProblemList()
    assert read_table(path, problems) is None
    assert [p.message for p in problems.problems] == [
        "would unpack to 3.0 GB (the limit is 1.1 GB): refused before opening it"
    ]


def test_an_ordinary_xlsx_still_reads(tmp_path):
    path = tmp_path / "accounts.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["account_id", "lat", "lon"])
    book.active.append(["A1", 40.0, -75.0])
    book.save(path)
    frame = read_table(path, ProblemList())
    assert frame["account_id"].tolist() == ["A1"]


# --------------------------------------------------------------------------- concurrent --out

WRITER = r"""
import sys, time
from pathlib import Path
from territory_planner.errors import InputError
from territory_planner.plan import check_output_folder, write_folder_atomically

out, tag, ready, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])

def fill(folder):
    for k in range(20):
        (folder / f"part{k}.txt").write_text(tag)
    ready.write_text("in")
    while not go.exists():
        time.sleep(0.02)

try:
    check_output_folder(out, force=False)
    write_folder_atomically(out, fill)
except InputError as error:
    print(error.problems[0].message, file=sys.stderr)
    sys.exit(error.exit_code)
"""


@pytest.mark.slow
def test_two_processes_writing_one_folder_one_wins_whole(tmp_path):
    """The first writer is held inside its write; the second, started then, is refused at
    once (before the fix it wrote too and silently replaced the first one's folder)."""
    out = tmp_path / "plan"
    env = dict(os.environ, PYTHONPATH=SRC)
    go = tmp_path / "go"
    first = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(out), "first", str(tmp_path / "r1"), str(go)],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "r1").exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        second = subprocess.run(
            [sys.executable, "-c", WRITER, str(out), "second", str(tmp_path / "r2"), str(go)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        go.write_text("go")
        first.wait(timeout=60)
    assert first.returncode == 0
    assert second.returncode == 2
    assert "another run is writing this output folder right now" in second.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"part{k}.txt" for k in range(20))
    assert {p.read_text() for p in out.iterdir()} == {"first"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_two_plan_commands_on_one_out_folder(tiny, tmp_path):
    """Two real `plan` runs at once on the same --out: exactly one writes its plan, the
    other exits 2 saying why, and the folder is one whole plan."""
    scenario = tiny()
    out = tmp_path / "plan"
    env = dict(os.environ, PYTHONPATH=SRC)
    command = [sys.executable, "-m", "territory_planner.cli", "plan", str(scenario)]
    runs = [
        subprocess.Popen(
            [*command, "--out", str(out), "--quiet"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    codes = sorted(run.returncode for run in runs)
    assert codes == [0, 2], outputs
    loser = outputs[[run.returncode for run in runs].index(2)][1]
    assert any(
        reason in loser
        for reason in (
            "another run is writing this output folder right now",
            "the output folder already exists",
            "was written by another run while this one was working",
        )
    ), loser
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] in ("optimal", "feasible")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --------------------------------------------------------------------------- row numbers


def test_a_defect_deep_in_a_large_file_is_reported_on_its_spreadsheet_row(tmp_path):
    """20,000 records with a blank line (record 101) and a quoted two-line name (record
    201, one spreadsheet row): the bad workload on record 19,000 is row 19,000, as the
    1,000,000-row benchmark's row 900,000 (benchmarks/read_scale.py)."""
    lines = ["account_id,name,lat,lon,workload"]
    for record in range(2, 20_001):
        if record == 101:
            lines.append("")
            continue
        name = '"two\nlines"' if record == 201 else f"N{record}"
        workload = "12 hours" if record == 19_000 else "1"
        lines.append(f"A{record},{name},40.{record % 1000:03d},-75.0,{workload}")
    path = write_inputs(tmp_path, "\n".join(lines) + "\n", REPS)
    found = input_problems(path)
    assert [(p.row, p.column, p.message) for p in found] == [
        (19_000, "workload", "is not a number (got '12 hours')")
    ]
