"""A sweep stopped by Ctrl-C says what it leaves behind.

No cluster is started: the Dask session is replaced by one that hands out no client, and
the tasks are "run" by a stand-in that writes what the workers had finished (a variant's
plan folder, or nothing) and then raises KeyboardInterrupt, as Ctrl-C does in the client.
The sweep file is the tiny one of tests/test_sweep.py (four grid variants).
"""

from __future__ import annotations

import contextlib
import importlib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from territory_planner import sweep
from territory_planner.cli import main
from tests.helpers import line_accounts, line_reps, write_scenario

# the module (the package exports the function `sweep`, which hides the module's name)
sweep_module = importlib.import_module("territory_planner.sweep")


@pytest.fixture
def sweep_file(tmp_path):
    folder = tmp_path / "s"
    write_scenario(
        folder,
        line_accounts(current_rep_id="R1"),
        line_reps(),
        balance=[{"metric": "workload", "tolerance": 0.5}],
    )
    path = folder / "sweep.yaml"
    grid = {"balance.0.tolerance": [0.0, 0.5], "constraints.max_moved_share": [0.25, 1.0]}
    path.write_text(yaml.safe_dump({"scenario": "scenario.yaml", "vary": grid}))
    return path


def interrupted_after(monkeypatch, finished: list[str]) -> None:
    """Tasks that stop with Ctrl-C once the variants ``finished`` have their folders."""

    @contextlib.contextmanager
    def no_cluster(*_args):
        yield None, None

    def run_tasks(_client, tasks, *_args):
        for task in tasks:
            if task.name in finished:
                Path(task.plan_dir).mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep_module, "DaskSession", no_cluster)
    monkeypatch.setattr(sweep_module, "run_tasks", run_tasks)


def test_stopped_before_any_variant_leaves_no_folder(sweep_file, tmp_path, monkeypatch):
    """Nothing finished: the folder the sweep made is removed, so `nothing was written`
    holds and the same command can be run again without --resume or --force."""
    interrupted_after(monkeypatch, [])
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        sweep(sweep_file, out=out)
    assert not out.exists()
    result = CliRunner().invoke(main, ["sweep", str(sweep_file), "--out", str(out), "--quiet"])
    assert result.exit_code == 130
    assert "interrupted: nothing was written" in result.output
    assert not out.exists()


def test_stopped_midway_says_the_folder_is_kept_for_resume(sweep_file, tmp_path, monkeypatch):
    """One variant finished: the folder stays (its plan is worth keeping) and the message
    says so and how to finish, instead of claiming nothing was written."""
    interrupted_after(monkeypatch, ["tol0.50-moved1.00"])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["sweep", str(sweep_file), "--out", str(out), "--quiet"])
    assert result.exit_code == 130
    assert "nothing was written" not in result.output
    assert f"{out} is kept with the 1 variant plan folder(s)" in result.output
    assert "--resume" in result.output
    assert (out / "plans" / "tol0.50-moved1.00").is_dir()
    assert not (out / "sweep.csv").exists()
