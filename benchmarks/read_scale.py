"""Reading benchmark: a large accounts CSV read and validated, wall time and peak memory.

    flock /work/bench.lock python benchmarks/read_scale.py --rows 1000000
    flock /work/bench.lock python benchmarks/read_scale.py --rows 1000000 --baseline 0ddbca5

A seeded accounts file (ids, names, coordinates around five US metros, workload, potential,
revenue, owners, segments) and a reps file are written to a temporary folder, then each
measurement runs in a fresh Python process so its peak RSS is its own:

  * valid:  ``load_data`` on the clean file (what ``validate`` does before printing);
  * defect: the same file with one bad workload cell on spreadsheet row 900,000 (scaled
            to the row count), which must be reported with that row number;
  * cli:    ``territory-planner validate`` on the clean file, end to end.

``--baseline COMMIT`` extracts that commit's ``src/`` with ``git archive`` and times its
``load_data`` on the same files, side by side. Printed per run: seconds, peak RSS (MB) and
rows per second. Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
METROS = [(40.71, -74.01), (41.88, -87.63), (34.05, -118.24), (29.76, -95.37), (33.45, -112.07)]
CHILD = r"""
import json, os, sys, time
from click.testing import CliRunner
from territory_planner.cli import main
from territory_planner.data import load_scenario
from territory_planner.errors import InputError
mode, scenario = sys.argv[1], sys.argv[2]
started = time.perf_counter()  # after the imports: the figure is reading and validating
if mode == "cli":
    result = CliRunner().invoke(main, ["validate", scenario])
    outcome = {"exit": result.exit_code, "text": result.output[-400:]}
else:
    try:
        data = load_scenario(scenario)
        outcome = {"exit": 0, "text": f"{len(data.accounts)} accounts"}
    except InputError as error:
        outcome = {"exit": 2, "text": "; ".join(str(p) for p in error.problems[:3])}
outcome["seconds"] = time.perf_counter() - started
print(json.dumps(outcome))
"""


def write_files(folder: Path, rows: int, seed: int) -> Path:
    """accounts.csv (``rows`` accounts), reps.csv (200 reps) and scenario.yaml in folder."""
    rng = np.random.default_rng(seed)
    metro = rng.integers(0, len(METROS), rows)
    centres = np.array(METROS)[metro]
    reps = 200
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:07d}" for i in range(rows)],
            "name": [f"Account {i}" for i in range(rows)],
            "lat": np.round(centres[:, 0] + rng.normal(0, 0.4, rows), 5),
            "lon": np.round(centres[:, 1] + rng.normal(0, 0.4, rows), 5),
            "workload": np.round(rng.lognormal(1.0, 0.6, rows), 2),
            "potential": np.round(rng.lognormal(10.0, 1.0, rows), 2),
            "revenue": np.round(rng.lognormal(9.0, 1.2, rows), 2),
            "current_rep_id": [f"R{i:03d}" for i in rng.integers(0, reps, rows)],
            "segment": rng.choice(["", "smb", "mid"], rows),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    accounts.to_csv(folder / "accounts.csv", index=False)
    pd.DataFrame(
        {
            "rep_id": [f"R{i:03d}" for i in range(reps)],
            "lat": [METROS[i % 5][0] for i in range(reps)],
            "lon": [METROS[i % 5][1] for i in range(reps)],
        }
    ).to_csv(folder / "reps.csv", index=False)
    (folder / "scenario.yaml").write_text(
        "name: read-scale\naccounts: accounts.csv\nreps: reps.csv\nbalance:\n"
        "  - {metric: workload, tolerance: 0.05}\n  - {metric: potential, tolerance: 0.1}\n"
    )
    return folder / "scenario.yaml"


def with_defect(clean: Path, folder: Path, row: int) -> Path:
    """A copy of the clean scenario whose accounts have workload '12 hours' on ``row``
    (spreadsheet numbering, header = row 1; the generated file has one line per row)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("reps.csv", "scenario.yaml"):
        shutil.copy(clean.parent / name, folder / name)
    lines = (clean.parent / "accounts.csv").read_bytes().split(b"\n")
    cells = lines[row - 1].split(b",")
    cells[4] = b"12 hours"  # the workload column
    lines[row - 1] = b",".join(cells)
    (folder / "accounts.csv").write_bytes(b"\n".join(lines))
    return folder / "scenario.yaml"


def measure(mode: str, scenario: Path, src: Path) -> dict:
    """Run one measurement in a fresh process; its own wall time and peak RSS."""
    env = dict(os.environ, PYTHONPATH=str(src))
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(scenario)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    try:
        outcome = json.loads(output.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        outcome = {"exit": child.returncode, "text": output[-400:], "seconds": float("nan")}
    outcome["wall_seconds"] = wall  # with the interpreter start and imports
    outcome["peak_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes
    return outcome


def baseline_source(commit: str, folder: Path) -> Path:
    """``src/`` of ``commit``, extracted with git archive into folder."""
    archive = folder / "baseline.tar"
    with archive.open("wb") as handle:
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", commit, "src"], stdout=handle, check=True
        )
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "baseline", filter="data")
    return folder / "baseline" / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", help="a commit whose load_data is timed side by side")
    parser.add_argument("--modes", default="valid,defect,cli")
    args = parser.parse_args()
    defect_row = min(900_000, args.rows + 1)
    with tempfile.TemporaryDirectory(prefix="read_scale.") as tmp:
        tmp_path = Path(tmp)
        started = time.perf_counter()
        clean = write_files(tmp_path / "clean", args.rows, args.seed)
        broken = with_defect(clean, tmp_path / "defect", defect_row)
        size_mb = (tmp_path / "clean" / "accounts.csv").stat().st_size / 1e6
        print(
            f"{args.rows:,} accounts, {size_mb:,.0f} MB CSV, written in "
            f"{time.perf_counter() - started:.1f} s; defect on row {defect_row:,}"
        )
        sources = [("branch", ROOT / "src")]
        if args.baseline:
            sources.append((args.baseline, baseline_source(args.baseline, tmp_path)))
        header = f"{'code':>10} {'mode':>7} {'exit':>4} {'seconds':>8} {'wall':>7} "
        print(header + f"{'peak MB':>8} {'rows/s':>10}  outcome")
        for label, src in sources:
            for mode in args.modes.split(","):
                scenario = broken if mode == "defect" else clean
                numbers = measure(mode, scenario, src)
                rate = args.rows / numbers["seconds"] if numbers["seconds"] > 0 else float("nan")
                text = numbers["text"].replace("\n", " | ")[:150]
                print(
                    f"{label:>10} {mode:>7} {numbers['exit']:>4} {numbers['seconds']:8.2f} "
                    f"{numbers['wall_seconds']:7.2f} {numbers['peak_mb']:8.0f} "
                    f"{rate:10,.0f}  {text}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
