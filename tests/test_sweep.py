"""Scenario sweeps on a real Dask LocalCluster (two worker processes).

The tiny instance (conftest): accounts A1..A4 on the equator at longitude 1, 2, 3 and 9,
workload 1 each, potential 100, 200, 300, 400 (total 1,000); reps R1 at longitude 0 and R2
at longitude 10; today R1 owns everything. One workload band (target 2 accounts each).
Travel is in degrees of the equator times DEG_KM.

* tolerance 0 (exactly 2 accounts each): R1 {A1, A2}, R2 {A3, A4}: 1 + 2 + 7 + 1 = 11
  degrees; A3 and A4 move: 700 of 1,000 potential (0.7).
* tolerance 0.5 (1 to 3 accounts each): R1 {A1, A2, A3}, R2 {A4}: 1 + 2 + 3 + 1 = 7
  degrees; A4 moves (0.4).
* tolerance 0.5 with max_moved_share 0.25: R1 must give away one account worth at most
  250: A2 (R1 {A1, A3, A4} 1 + 3 + 9, R2 {A2} 8: 21 degrees, 0.2) beats A1 (23 degrees).
* tolerance 0 with max_moved_share 0.25: two accounts must move, the cheapest two are A1 +
  A2 = 300 > 250: infeasible, the budget is 50 of potential too small.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from territory_planner import Sweep, compare, sweep
from territory_planner.cli import main
from territory_planner.sweep import local_cluster
from tests.browser import render, require_chromium
from tests.helpers import DEG_KM, line_accounts, line_reps, write_scenario

pytestmark = pytest.mark.slow  # a demo-size, fuzz, cluster or browser run

SRC = Path(__file__).resolve().parents[1] / "src"
GRID = {"balance.0.tolerance": [0.0, 0.5], "constraints.max_moved_share": [0.25, 1.0]}
RESULT_COLUMNS = ["name", "status", "travel_cost", "lower_bound", "gap", "moved_share"]


@pytest.fixture(scope="module")
def client():
    from distributed import Client

    with local_cluster(2, dashboard=False) as cluster, Client(cluster) as live:
        yield live


def sweep_folder(folder: Path, vary=None, variants=None, **extra) -> Path:
    """The tiny scenario (R1 owns everything today) and a sweep file beside it."""
    write_scenario(
        folder,
        line_accounts(current_rep_id="R1"),
        line_reps(),
        balance=[{"metric": "workload", "tolerance": 0.5}],
        solver={"time_limit": 20, "gap": 0.0},
    )
    spec = {"scenario": "scenario.yaml", "vary": GRID if vary is None else vary, **extra}
    if variants is not None:
        spec["variants"] = variants
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_one_impossible_variant_among_four(tmp_path, client):
    made = sweep(sweep_folder(tmp_path / "s"), client, out=tmp_path / "out")
    assert isinstance(made, Sweep)
    rows = made.rows.set_index("name")
    assert list(rows.index) == [
        "tol0.00-moved0.25",
        "tol0.00-moved1.00",
        "tol0.50-moved0.25",
        "tol0.50-moved1.00",
    ]
    impossible = rows.loc["tol0.00-moved0.25"]
    assert impossible["status"] == "infeasible" and impossible["exit_code"] == 3
    assert "max_moved_share" in impossible["message"] and "50.0" in impossible["message"]
    assert not (tmp_path / "out" / "plans" / "tol0.00-moved0.25").exists()
    expected = {  # (degrees of travel, moved share, tolerance)
        "tol0.00-moved1.00": (11, 0.7, 0.0),
        "tol0.50-moved0.25": (21, 0.2, 0.5),
        "tol0.50-moved1.00": (7, 0.4, 0.5),
    }
    for name, (degrees, moved, tolerance) in expected.items():
        row = rows.loc[name]
        assert row["status"] == "optimal" and row["exit_code"] == 0
        assert row["travel_cost"] == pytest.approx(degrees * DEG_KM, abs=1e-2)
        assert row["lower_bound"] == pytest.approx(degrees * DEG_KM, rel=1e-6)
        assert row["moved_share"] == pytest.approx(moved)
        assert row["workload_within_band"] and row["workload_max_deviation"] <= tolerance + 1e-9
        summary = json.loads((tmp_path / "out" / row["plan"] / "summary.json").read_text())
        assert summary["sweep"]["values"]["balance.0.tolerance"] == tolerance
        assert (tmp_path / "out" / row["plan"] / "map.html").is_file()
    # each worker process parsed the inputs at most once, not once per variant
    solved = made.solved
    assert solved["inputs_read"].sum() >= 1
    assert solved.groupby("worker")["inputs_read"].sum().max() == 1
    # the table on disk is the table returned
    on_disk = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert on_disk["name"].tolist() == list(rows.index)
    assert on_disk["status"].tolist() == rows["status"].tolist()
    # any two variant folders compare: only A3 changes owner between the two moved1 plans
    comparison = compare(
        tmp_path / "out" / "plans" / "tol0.00-moved1.00",
        tmp_path / "out" / "plans" / "tol0.50-moved1.00",
    )
    assert comparison.moves["account_id"].tolist() == ["A3"]


def test_page_chart_and_workbook(tmp_path, client):
    made = sweep(sweep_folder(tmp_path / "s"), client, out=tmp_path / "out", map_html=False)
    page = (tmp_path / "out" / "sweep.html").read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    # x = tolerance, one line per budget: 0.25 has one solved point, 1.0 has two
    assert page.count('class="series"') == 2
    assert page.count('class="point"') == 3
    assert 'href="plans/tol0.50-moved0.25/map.html"' in page
    # a real browser opens it with no network (hosts resolve to nothing) and no error
    require_chromium()
    shown = render(tmp_path / "out" / "sweep.html", tmp_path / "sweep.png", height=900)
    assert shown["js_errors"] == []
    assert shown["dom"].count('<polyline class="series"') == 2
    assert shown["dom"].count('<polyline class="bound"') == 2  # the proven lower bounds
    assert shown["dom"].count("<circle") == 3
    book = openpyxl.load_workbook(tmp_path / "out" / "sweep.xlsx")
    sheet = book["Sweep"]
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}5"
    header = [cell.value for cell in sheet[1]]
    travel = header.index("travel_cost") + 1
    moved = header.index("moved_share") + 1
    assert sheet.cell(4, 1).value == "tol0.50-moved0.25"
    assert sheet.cell(4, travel).value == pytest.approx(21 * DEG_KM, abs=1e-2)
    assert sheet.cell(4, travel).number_format == "#,##0"
    assert sheet.cell(4, moved).value == pytest.approx(0.2)
    assert sheet.cell(4, moved).number_format == "0.00%"
    assert sheet.cell(2, travel).value is None  # the infeasible variant has no travel
    assert made.rows["name"].tolist()[1] == sheet.cell(3, 1).value


def test_workbook_opens_in_libreoffice(tmp_path, client):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    sweep(sweep_folder(tmp_path / "s"), client, out=tmp_path / "out", map_html=False)
    profile = (tmp_path / "lo-profile").as_uri()
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "csv",
            "--outdir",
            str(tmp_path / "lo"),
            str(tmp_path / "out" / "sweep.xlsx"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    shown = pd.read_csv(tmp_path / "lo" / "sweep.csv").set_index("name")
    # LibreOffice reads the cells as numbers; its CSV export writes a share as a percentage
    row = shown.loc["tol0.50-moved0.25"]
    assert float(row["travel_cost"]) == pytest.approx(21 * DEG_KM, abs=1e-2)
    assert row["moved_share"].endswith("%") and float(row["moved_share"][:-1]) == 20
    assert shown.loc["tol0.00-moved0.25", "status"] == "infeasible"


def test_resume_reruns_only_the_missing_variant(tmp_path, client):
    spec = sweep_folder(tmp_path / "s")
    out = tmp_path / "out"
    first = sweep(spec, client, out=out, map_html=False)
    removed = "tol0.50-moved0.25"
    kept = [n for n in first.solved["name"] if n != removed]
    stamps = {n: (out / "plans" / n / "summary.json").stat().st_mtime_ns for n in kept}
    shutil.rmtree(out / "plans" / removed)
    # what a kill half-way leaves: a staging folder that was never renamed into place
    (out / "plans" / f".{removed}.x1y2.partial").mkdir()
    again = sweep(spec, client, out=out, resume=True, map_html=False)
    assert again.resumed == 2  # the two complete ones; the infeasible one is tried again
    for name in kept:
        assert (out / "plans" / name / "summary.json").stat().st_mtime_ns == stamps[name]
    assert (out / "plans" / removed / "summary.json").is_file()
    # an incomplete folder is solved again too
    (out / "plans" / kept[0] / "territories.csv").unlink()
    third = sweep(spec, client, out=out, resume=True, map_html=False)
    assert third.resumed == 2
    assert (out / "plans" / kept[0] / "territories.csv").is_file()
    assert (out / "plans" / kept[1] / "summary.json").stat().st_mtime_ns == stamps[kept[1]]
    columns = [*RESULT_COLUMNS, "exit_code", "message", "plan"]
    pd.testing.assert_frame_equal(first.rows[columns], again.rows[columns])
    same_run = again.rows.set_index("name").loc[kept, ["seconds", "worker"]]
    pd.testing.assert_frame_equal(
        same_run, first.rows.set_index("name").loc[kept, same_run.columns]
    )
    # a changed input file changes every variant's hash: nothing is skipped
    reps = pd.read_csv(tmp_path / "s" / "reps.csv")
    reps.loc[0, "name"] = "Rita Renamed"
    reps.to_csv(tmp_path / "s" / "reps.csv", index=False)
    changed = sweep(spec, client, out=out, resume=True, map_html=False)
    assert changed.resumed == 0
    pd.testing.assert_frame_equal(first.rows[RESULT_COLUMNS], changed.rows[RESULT_COLUMNS])


BAD_SWEEPS = {
    "unknown sweep key": ({"varry": GRID}, ["unknown sweep key 'varry'", "did you mean 'vary'"]),
    "key not in the scenario": (
        {"vary": {"constraints.max_moved_shar": [0.1]}},
        ["'constraints.max_moved_shar' does not exist", "did you mean 'max_moved_share'"],
    ),
    "list position not in the scenario": (
        {"vary": {"balance.3.tolerance": [0.1]}},
        ["'balance.3.tolerance' does not exist", "balance has 1 entries"],
    ),
    "below a value": (
        {"vary": {"solver.gap.x": [0.1]}},
        ["'solver.gap.x' does not exist", "solver.gap is a value"],
    ),
    "empty value list": (
        {"vary": {"balance.0.tolerance": []}},
        ["'balance.0.tolerance' has an empty list"],
    ),
    "no list": ({"vary": {"balance.0.tolerance": 0.1}}, ["'balance.0.tolerance' needs a list"]),
    "empty grid": ({"vary": {}}, ["the sweep has no variants"]),
    "variant key not in the scenario": (
        {"vary": {}, "variants": [{"name": "x", "rep": "reps.csv"}]},
        ["'rep' does not exist", "variants.0.rep"],
    ),
    "misspelt key inside a variant's section": (
        {"vary": {}, "variants": [{"name": "x", "constraints": {"max_distanse_km": 5}}]},
        [
            "'constraints.max_distanse_km' does not exist",
            "did you mean 'max_distance_km'",
            "variants.0.constraints.max_distanse_km",
        ],
    ),
    "two variants of one name": (
        {
            "vary": {},
            "variants": [{"name": "a", "reps": "reps.csv"}, {"name": "A", "unit": "account"}],
        },
        ["two variants are named 'A'"],
    ),
    "missing base scenario": (
        {"scenario": "nope.yaml", "vary": GRID},
        ["nope.yaml", "does not exist"],
    ),
}


@pytest.mark.parametrize("kind", list(BAD_SWEEPS))
def test_bad_sweep_file_is_exit_2_naming_the_key(tmp_path, kind):
    changes, expected = BAD_SWEEPS[kind]
    path = sweep_folder(tmp_path / "s")
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    if "varry" in changes:
        data.pop("vary")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = CliRunner().invoke(main, ["sweep", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.output
    assert not (tmp_path / "out").exists()


def test_workers_and_scheduler_together_is_exit_2(tmp_path):
    path = sweep_folder(tmp_path / "s")
    result = CliRunner().invoke(
        main,
        ["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "2", "--scheduler", "x"],
    )
    assert result.exit_code == 2 and "not both" in result.output


def test_cli_end_to_end(tmp_path):
    """The real command in its own process: a LocalCluster of two workers, a named variant
    with a third rep, a variant whose value the scenario refuses; then compare and a
    re-run into the same folder without --resume or --force."""
    folder = tmp_path / "s"
    path = sweep_folder(
        folder,
        vary={"balance.0.tolerance": [0.5, -1.0]},
        variants=[{"name": "third-rep", "reps": "reps3.csv"}],
    )
    three = pd.concat(
        [line_reps(), pd.DataFrame({"rep_id": ["R3"], "name": ["Ria"], "lat": [0.0], "lon": [5.0]})]
    )
    three.to_csv(folder / "reps3.csv", index=False)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "territory_planner.cli", "sweep", str(path), "--out", str(out)]
    done = subprocess.run(
        [*command, "--workers", "2", "--quiet"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "sweep of 3 variants (0 resumed)" in done.stdout
    rows = pd.read_csv(out / "sweep.csv").set_index("name")
    assert rows.loc["tol0.50", "status"] == "optimal"
    assert rows.loc["tol0.50", "travel_cost"] == pytest.approx(7 * DEG_KM, abs=1e-2)
    assert rows.loc["tol-1.00", "status"] == "bad_input"
    assert rows.loc["tol-1.00", "exit_code"] == 2 and rows.loc["tol-1.00", "seconds"] == 0
    assert "first balance rule" in rows.loc["tol-1.00", "message"]
    # third rep at longitude 5 (target 4/3, 0.67 to 2 accounts): R1 {A1, A2}, R3 {A3},
    # R2 {A4}: 1 + 2 + 2 + 1 = 6 degrees
    assert rows.loc["third-rep", "status"] == "optimal"
    assert rows.loc["third-rep", "travel_cost"] == pytest.approx(6 * DEG_KM, abs=1e-2)
    assert rows.loc["third-rep", "reps"].endswith("reps3.csv")
    assert rows.loc["third-rep", "balance.0.tolerance"] == 0.5  # the base scenario's value
    compared = CliRunner().invoke(
        main,
        [
            "compare",
            str(out / "plans" / "tol0.50"),
            str(out / "plans" / "third-rep"),
            "--out",
            str(tmp_path / "cmp"),
        ],
    )
    assert compared.exit_code == 0, compared.output
    assert "1 accounts change owner" in compared.output
    again = CliRunner().invoke(main, ["sweep", str(path), "--out", str(out)])
    assert again.exit_code == 2 and "--resume" in again.output


def test_cli_on_a_separate_scheduler_and_worker(tmp_path):
    """`--scheduler ADDRESS`: a `dask scheduler` and a `dask worker` process on 127.0.0.1;
    the sweep only knows the address. Both processes are stopped at the end."""
    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(SRC.parent)])}
    scheduler_file = tmp_path / "scheduler.json"
    started = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        address = None
        for _ in range(600):
            # the scheduler creates the file before it writes it: wait for whole JSON
            if scheduler_file.exists():
                try:
                    address = json.loads(scheduler_file.read_text())["address"]
                    break
                except (json.JSONDecodeError, KeyError):
                    pass
            if started[0].poll() is not None:
                break
            time.sleep(0.1)
        assert address, "the dask scheduler wrote no address within 60 s"
        started.append(
            subprocess.Popen(
                [
                    dask,
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--name",
                    "far-worker",
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        from distributed import Client

        with Client(address, timeout="60s") as probe:
            probe.wait_for_workers(1, timeout=120)
        path = sweep_folder(tmp_path / "s", vary={"balance.0.tolerance": [0.0, 0.5]})
        out = tmp_path / "out"
        result = CliRunner().invoke(
            main, ["sweep", str(path), "--out", str(out), "--scheduler", address, "--quiet"]
        )
        assert result.exit_code == 0, result.output
        rows = pd.read_csv(out / "sweep.csv").set_index("name")
        assert rows["worker"].tolist() == ["far-worker", "far-worker"]
        assert rows.loc["tol0.00", "travel_cost"] == pytest.approx(11 * DEG_KM, abs=1e-2)
        assert rows.loc["tol0.50", "travel_cost"] == pytest.approx(7 * DEG_KM, abs=1e-2)
        assert rows["inputs_read"].tolist() == [True, False]  # one worker, one read
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)


def test_variant_names_values_and_refused_values(tmp_path):
    """Names from values in the file's order; two keys with one leaf take the rule's metric;
    a named variant shows the base values of the varied keys; a value the scenario refuses
    spoils only its own variant. No cluster: this is the sweep file alone."""
    from territory_planner.sweep_spec import expand, load_sweep_spec

    sweep_folder(tmp_path / "s")
    scenario = yaml.safe_load((tmp_path / "s" / "scenario.yaml").read_text())
    scenario["balance"].append({"metric": "potential", "tolerance": 0.25})
    (tmp_path / "s" / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    spec = load_sweep_spec(
        {
            "scenario": "scenario.yaml",
            "vary": {"balance.0.tolerance": [0.05, 0.125], "balance.1.tolerance": [-1.0]},
            "variants": [{"name": "tight", "solver.gap": 0.01}],
        },
        base_dir=tmp_path / "s",
    )
    variants = expand(spec)
    assert [v.name for v in variants] == [
        "workload_tol0.05-potential_tol-1.00",
        "workload_tol0.125-potential_tol-1.00",
        "tight",
    ]
    assert all(v.problem is not None and v.settings is None for v in variants[:2])
    assert "second balance rule" in str(variants[0].problem)
    tight = variants[2]
    assert tight.values == {
        "balance.0.tolerance": 0.5,
        "balance.1.tolerance": 0.25,
        "solver.gap": 0.01,
    }
    assert tight.settings.solver.gap == 0.01 and tight.settings.balance[1].tolerance == 0.25


def test_a_variant_section_sets_only_the_keys_it_names(tmp_path):
    """``constraints: {max_distance_km: 5000}`` in a named variant sets that one key, as
    ``constraints.max_distance_km`` would; the base's max_moved_share 0.25 stays (it used to
    be dropped with the rest of the base's constraints section, silently). So the plan is the
    budgeted one of the module docstring: R1 {A1, A3, A4}, R2 {A2}, 21 degrees and 0.2 moved,
    not the unbudgeted 7 degrees. A free mapping (quota overrides) is still set whole. No
    cluster: the variant's settings are solved in this process."""
    from territory_planner import plan
    from territory_planner.sweep_spec import expand, load_sweep_spec

    sweep_folder(tmp_path / "s", vary={})
    path = tmp_path / "s" / "scenario.yaml"
    scenario = yaml.safe_load(path.read_text())
    scenario["constraints"] = {"max_moved_share": 0.25}
    scenario["quota"] = {"target": 100.0, "overrides": {"R1": 10.0}, "max_growth": 0.5}
    path.write_text(yaml.safe_dump(scenario))
    spec = load_sweep_spec(
        {
            "scenario": "scenario.yaml",
            "variants": [
                {"name": "far", "constraints": {"max_distance_km": 5000}},
                {"name": "r2", "quota": {"overrides": {"R2": 30.0}}},
            ],
        },
        base_dir=tmp_path / "s",
    )
    far, r2 = expand(spec)
    assert far.settings.constraints.max_moved_share == 0.25
    assert far.settings.constraints.max_distance_km == 5000
    assert far.values == {"constraints.max_distance_km": 5000}
    made = plan(far.settings)
    assert made.summary["travel_cost"] == pytest.approx(21 * DEG_KM, abs=1e-3)
    assert made.summary["disruption"]["moved_share"] == pytest.approx(0.2)
    assert made.quotas.set_index("rep_id")["quota"].to_dict() == pytest.approx(
        {"R1": 10.0, "R2": 90.0}
    )
    assert r2.values == {"quota.overrides": {"R2": 30.0}}
    assert r2.settings.quota.overrides == {"R2": 30.0}
    assert r2.settings.quota.target == 100.0 and r2.settings.quota.max_growth == 0.5
