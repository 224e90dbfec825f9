"""Scenario sweeps on Dask: every variant of a sweep file solved as one Dask task.

``sweep("sweep.yaml", out="out/sweep")`` starts a ``distributed.LocalCluster`` (or uses the
client it is given, or connects to a scheduler address), submits one task per variant and
gathers one row per variant into ``sweep.csv``, ``sweep.xlsx`` and ``sweep.html``.

* A task reads its inputs through a per-process cache keyed by each file's path and content
  hash (plus the few settings reading depends on), so a worker parses the files once, not
  once per variant. The client hashes the files before submitting; a worker that finds
  different bytes under a path refuses the variant instead of solving other data.
* A task writes its plan folder ``DIR/plans/NAME/`` whole or not at all (plan.py's atomic
  writer) and records in ``summary.json`` a ``sweep`` block: the variant's name and values
  and the hash of its resolved scenario and input files. Every row of the table is rebuilt
  from that block, so ``resume`` (which skips a variant whose folder is complete and whose
  hash is unchanged) ends with the table an uninterrupted run writes.
* A variant that is infeasible, has bad input or fails gets a row with its status, the exit
  code ``plan`` would have given and the message; the other variants go on.

See docs/sweeps.md for running a large sweep on a cluster.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .arguments import refuse_bad_time_limit
from .errors import InputError, Problem
from .plan import Plan, write_csv
from .sweep_spec import SweepSpec, Variant, expand, load_sweep_spec
from .sweep_task import (
    VariantTask,
    completed_row,
    failure_row,
    file_hash,
    input_files,
    scenario_hash,
    solve_variant,
    table,
)

__all__ = ["Sweep", "sweep", "local_cluster", "run_tasks", "finished_variants"]


# --------------------------------------------------------------------------- the sweep


@dataclass
class Sweep:
    """A finished sweep: one row per variant, and where its outputs are."""

    spec: SweepSpec
    out: Path
    rows: pd.DataFrame
    vary_keys: list[str]
    dashboard: str | None = None
    resumed: int = 0

    @property
    def solved(self) -> pd.DataFrame:
        return self.rows[self.rows["exit_code"] == 0]

    def plan(self, name: str) -> Plan:
        """The plan folder of one variant, read back."""
        return Plan.read(self.out / "plans" / name)

    def write_tables(self) -> None:
        """sweep.csv, sweep.xlsx and sweep.html, each written whole (temporary file, rename)."""
        from .report.sweep_page import sweep_html, write_sweep_book

        _replace(self.out / "sweep.csv", lambda path: write_csv(self.rows, path))
        _replace(self.out / "sweep.xlsx", lambda path: write_sweep_book(self, path))
        page = sweep_html(self)
        _replace(self.out / "sweep.html", lambda path: path.write_text(page, encoding="utf-8"))


def _replace(target: Path, write: Callable[[Path], None]) -> None:
    partial = target.with_name(f".{target.name}.partial")
    try:
        write(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # it holds something (a finished variant): kept for --resume
        pass


def finished_variants(out: Path) -> list[str]:
    """The variants whose plan folder is in ``out/plans`` (complete or not), by name."""
    plans = out / "plans"
    if not plans.is_dir():
        return []
    return sorted(p.name for p in plans.iterdir() if p.is_dir() and not p.name.startswith("."))


def _check_out(out: Path, resume: bool, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(Problem(file=str(out), message="exists and is not a folder"))
    if out.exists() and any(out.iterdir()) and not (resume or force):
        raise InputError(
            Problem(
                file=str(out),
                message="the sweep folder already exists",
                fix="pass --resume to finish it, --force to solve every variant again, "
                "or choose another --out",
            )
        )


def prepare(
    variants: list[Variant], out: Path, time_limit: float | None, map_html: bool
) -> tuple[list[VariantTask], dict[str, dict]]:
    """A task per variant that can run; a row already for those that cannot (bad values,
    missing files), named by the problem."""
    tasks, rows = [], {}
    hashes_of: dict[str, str] = {}
    for variant in variants:
        if variant.problem is not None:
            rows[variant.name] = failure_row(
                variant.name, variant.values, "bad_input", str(variant.problem), None, ""
            )
            continue
        settings = variant.settings
        if time_limit is not None:
            solver = settings.solver.model_copy(update={"time_limit": float(time_limit)})
            settings = settings.model_copy(update={"solver": solver})
        try:
            hashes = {k: hashes_of.get(p) or file_hash(p) for k, p in input_files(settings).items()}
        except OSError as error:
            message = f"{error.filename}: cannot be read ({error.strerror or error})"
            rows[variant.name] = failure_row(
                variant.name, variant.values, "bad_input", message, None, ""
            )
            continue
        hashes_of.update({input_files(settings)[k]: h for k, h in hashes.items()})
        tasks.append(
            VariantTask(
                name=variant.name,
                values=variant.values,
                settings=settings,
                hashes=hashes,
                plan_dir=str(out / "plans" / variant.name),
                scenario_hash=scenario_hash(settings, hashes),
                map_html=map_html,
            )
        )
    return tasks, rows


def sweep(
    path_or_spec: str | Path | dict | SweepSpec,
    client=None,
    *,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    time_limit: float | None = None,
    resume: bool = False,
    force: bool = False,
    map_html: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Sweep:
    """Run every variant of a sweep file on Dask and write the sweep folder.

    ``path_or_spec``: the sweep file, its data as a mapping (paths relative to the current
    folder) or a :class:`SweepSpec` from :func:`load_sweep_spec`.
    ``client``: a ``distributed.Client`` to use; else ``scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``) is connected to; else a LocalCluster of ``workers`` processes
    (default: one per core, at most one per variant) runs for the sweep's duration.
    ``out`` defaults to a folder named after the sweep file, beside it.
    InputError (exit 2) for a bad sweep file or an unusable ``out``; nothing else stops it.
    """
    refuse_bad_time_limit(time_limit)  # before reading: as the CLI does
    say = progress or (lambda message: None)
    spec = path_or_spec if isinstance(path_or_spec, SweepSpec) else load_sweep_spec(path_or_spec)
    variants = expand(spec)
    if out is None:
        stem = Path(spec.file).stem
        out = spec.base_dir / f"{stem}-out"
    out = Path(out).resolve()
    _check_out(out, resume, force)
    tasks, rows = prepare(variants, out, time_limit, map_html)
    resumed = 0
    if resume:
        waiting = []
        for task in tasks:
            row = completed_row(Path(task.plan_dir), task.scenario_hash, task.map_html)
            if row is None:
                waiting.append(task)
            else:
                rows[task.name], resumed = row, resumed + 1
        tasks = waiting
        say(f"resume: {resumed} of {len(variants)} variants already complete")
    created = not out.exists()
    (out / "plans").mkdir(parents=True, exist_ok=True)
    dashboard = None
    try:
        if tasks:
            with DaskSession(client, scheduler, workers, len(tasks)) as (live, dashboard):
                if dashboard:
                    say(f"Dask dashboard: {dashboard}")
                already = (
                    len(variants) - len(tasks),
                    sum(r["exit_code"] != 0 for r in rows.values()),
                )
                rows.update(run_tasks(live, tasks, already, len(variants), say))
    except BaseException:
        # stopped (Ctrl-C, the cluster gone) before any variant was written: the folders
        # this call made are removed, so a run that wrote nothing leaves nothing behind
        if created:
            _remove_empty(out / "plans")
            _remove_empty(out)
        raise
    made = Sweep(
        spec=spec,
        out=out,
        rows=table([rows[v.name] for v in variants], list(spec.vary)),
        vary_keys=list(spec.vary),
        dashboard=dashboard,
        resumed=resumed,
    )
    made.write_tables()
    return made


def local_cluster(workers: int, dashboard: bool = True):
    """A LocalCluster on 127.0.0.1 of ``workers`` processes with one thread each (HiGHS runs
    single-threaded, so one variant per core); its dashboard on a free port if asked for
    and bokeh is installed."""
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0" if dashboard and _has_dashboard() else None,
        silence_logs=40,
    )


class DaskSession:
    """The client a sweep runs on: the caller's (left open), one connected to a scheduler
    address, or one on a LocalCluster of its own (both closed at the end)."""

    def __init__(self, client, scheduler: str | None, workers: int | None, tasks: int):
        self.given, self.scheduler = client, scheduler
        self.workers = workers or max(1, min(os.cpu_count() or 1, tasks))
        self.owned: list = []

    def __enter__(self):
        if self.given is not None:
            return self.given, dashboard_link(self.given)
        from distributed import Client

        if self.scheduler is not None:
            try:
                client = Client(self.scheduler, timeout="30s")
            except (OSError, ValueError) as error:  # TimeoutError is an OSError
                raise InputError(
                    Problem(
                        file="--scheduler",
                        message=f"no Dask scheduler answers at {self.scheduler} ({error})",
                        fix="start one (dask scheduler) or check the address, e.g. "
                        "tcp://10.0.0.5:8786",
                    )
                ) from error
        else:
            self.owned.append(local_cluster(self.workers))
            client = Client(self.owned[0])
        self.owned.insert(0, client)
        return client, dashboard_link(client)

    def __exit__(self, *_exc):
        for thing in self.owned:
            thing.close()


def _has_dashboard() -> bool:
    """Dask serves its dashboard only with bokeh installed (without it /status is a page
    asking to install bokeh), so the address is printed only when bokeh is there."""
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


def dashboard_link(client) -> str | None:
    if not _has_dashboard():
        return None
    try:
        return client.dashboard_link
    except (AttributeError, KeyError):
        return None


def run_tasks(
    client, tasks: list[VariantTask], already: tuple[int, int], total: int, say
) -> dict[str, dict]:
    """Submit one task per variant; gather the rows as they finish, saying how far it got
    (``already``: the variants done and failed before any task ran)."""
    from distributed import as_completed

    futures = {
        client.submit(
            solve_variant, task, key=f"variant-{task.name}-{task.scenario_hash[:12]}", pure=False
        ): task
        for task in tasks
    }
    rows: dict[str, dict] = {}
    done, failed = already
    started = time.perf_counter()
    for future in as_completed(futures):
        task = futures[future]
        try:
            row = future.result()
        except Exception as error:  # a worker died (KilledWorker) or the cluster went away
            row = failure_row(
                task.name, task.values, "failed", f"{type(error).__name__}: {error}", started, ""
            )
        rows[task.name] = row
        done += 1
        failed += row["exit_code"] != 0
        running = _running(client, futures)
        say(
            f"{task.name}: {row['status']} ({row['seconds'] or 0:.1f} s"
            f"{', worker ' + row['worker'] if row['worker'] else ''}); {done}/{total} done, "
            f"{running} running, {failed} failed"
        )
    return rows


def _running(client, futures) -> int:
    """Variants being solved now: those the scheduler has handed to a worker, at most one
    per worker thread (a worker also holds the tasks queued behind the running one)."""
    keys = {future.key for future in futures if not future.done()}
    try:
        processing = client.processing()
        threads = sum(client.nthreads().values())
    except Exception:  # an old or busy scheduler: the count is only for the progress line
        return 0
    held = sum(1 for queued in processing.values() for key in queued if key in keys)
    return min(held, threads)
