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

import hashlib
import json
import os
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .data import ScenarioData, load_data
from .errors import InfeasibleError, InputError, Problem, SolverError
from .plan import PLAN_FILES, Plan, plan_from_problem_data, write_csv
from .scenario import Scenario
from .sweep_spec import PATH_KEYS, SweepSpec, Variant, expand, load_sweep_spec

__all__ = ["Sweep", "sweep", "solve_variant", "VariantTask"]

FAILURE_EXIT_CODES = {"bad_input": 2, "infeasible": 3, "no_plan": 4, "failed": 1}
SWEEP_FILES = ("sweep.csv", "sweep.xlsx", "sweep.html")


# --------------------------------------------------------------------------- input hashes


def file_hash(path: str | Path) -> str:
    """SHA-256 of a file's bytes (what 'unchanged' means for an input)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def input_files(settings: Scenario) -> dict[str, str]:
    """The data files a scenario reads, by key (accounts, reps, regions)."""
    return {k: str(getattr(settings, k)) for k in PATH_KEYS if getattr(settings, k) is not None}


def scenario_hash(settings: Scenario, hashes: dict[str, str]) -> str:
    """The identity of a variant: its resolved scenario, its input files' bytes, the engine."""
    identity = {"scenario": settings.to_yaml_dict(), "inputs": hashes, "version": __version__}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------- worker side

_CACHE_SIZE = 2  # input sets a worker keeps parsed (a sweep rarely has more than two)
_cache: OrderedDict[tuple, ScenarioData] = OrderedDict()
_cache_lock = threading.Lock()


def _reading_key(settings: Scenario, hashes: dict[str, str]) -> tuple:
    """What reading the inputs depends on: the files' paths and bytes, the balance metrics
    (which columns must be numbers) and the keep-together column (which must exist)."""
    files = tuple(sorted((k, p, hashes[k]) for k, p in input_files(settings).items()))
    metrics = tuple(rule.metric for rule in settings.balance)
    return files, metrics, settings.constraints.keep_together


def cached_data(settings: Scenario, hashes: dict[str, str]) -> tuple[ScenarioData, bool]:
    """The variant's data, parsed at most once per worker process; (data, parsed now)."""
    key = _reading_key(settings, hashes)
    with _cache_lock:
        found = _cache.get(key)
        parsed_now = found is None
        if parsed_now:
            for name, path in input_files(settings).items():
                _check_unchanged(path, hashes[name])
            found = load_data(settings)
            _cache[key] = found
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        _cache.move_to_end(key)
    # copies: a variant must never see another variant's changes to the frames
    data = ScenarioData(
        settings=settings,
        accounts=found.accounts.copy(),
        reps=found.reps.copy(),
        regions=None if found.regions is None else found.regions.copy(),
        files=dict(found.files),
    )
    return data, parsed_now


def _check_unchanged(path: str, expected: str) -> None:
    """The worker sees the bytes the client hashed, or the variant is refused (bad input)."""
    try:
        found = file_hash(path)
    except OSError as error:
        raise InputError(
            Problem(
                file=path,
                message=f"cannot be read on worker {_worker_name()} ({error.strerror or error})",
                fix="workers read the inputs by path: put them on a file system every "
                "worker mounts at the same path",
            )
        ) from error
    if found != expected:
        raise InputError(
            Problem(
                file=path,
                message="changed since the sweep started (its bytes differ)",
                fix="leave the inputs alone while a sweep runs, then --resume",
            )
        )


@dataclass(frozen=True)
class VariantTask:
    """What one Dask task needs: the variant, its settings, where to write its plan."""

    name: str
    values: dict
    settings: Scenario
    hashes: dict
    plan_dir: str
    scenario_hash: str
    map_html: bool = True


def _worker_name() -> str:
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return "local"
    return str(worker.name)


def solve_variant(task: VariantTask) -> dict:
    """Solve one variant and write its plan folder; its row, whatever happened.

    Runs on a Dask worker. Domain errors become a row with the status and exit code
    ``plan`` would have given; anything else (a bug, a full disk) becomes ``failed``.
    """
    started = time.perf_counter()
    worker = _worker_name()
    try:
        data, parsed_now = cached_data(task.settings, task.hashes)
        made = plan_from_problem_data(data)
        made.summary["sweep"] = {
            "name": task.name,
            "values": task.values,
            "scenario_hash": task.scenario_hash,
            "worker": worker,
            "inputs_read": parsed_now,
        }
        made.write(task.plan_dir, force=True, map_html=task.map_html)
        return row_from_summary(made.summary, Path(task.plan_dir).name)
    except (InputError, InfeasibleError, SolverError) as error:
        status, message = failure_of(error)
        return failure_row(task.name, task.values, status, message, started, worker)
    except Exception as error:  # the sweep goes on; the row says what broke
        message = f"{type(error).__name__}: {error} ({traceback.format_exc(limit=-1).strip()})"
        return failure_row(task.name, task.values, "failed", message, started, worker)


# --------------------------------------------------------------------------- rows


def failure_of(error: Exception) -> tuple[str, str]:
    """(status, message) of a domain error, in one line per problem or reason."""
    if isinstance(error, InputError):
        return "bad_input", "; ".join(str(problem) for problem in error.problems)
    if isinstance(error, InfeasibleError):
        return "infeasible", "; ".join(error.reasons)
    return "no_plan", str(error)


def table(rows: list[dict], vary_keys: list[str]) -> pd.DataFrame:
    """The rows in a fixed column order: name, the varied values, the results, the run."""
    frame = pd.DataFrame(rows)
    first = ["name", *vary_keys, "status", "travel_cost", "objective", "lower_bound", "gap"]
    last = ["moved_share", "quota_fairness", "seconds", "worker", "inputs_read"]
    last += ["exit_code", "message", "plan"]
    middle = [c for c in frame.columns if c not in first and c not in last]
    return frame[[c for c in first + middle + last if c in frame.columns]]


def row_from_summary(summary: dict, folder: str) -> dict:
    """A variant's row, from its plan's summary.json alone (so a resumed sweep rebuilds it)."""
    block = summary["sweep"]
    row: dict[str, Any] = {"name": block["name"], **block["values"]}
    row.update(
        status=summary["status"],
        exit_code=0,
        message="",
        travel_cost=summary["travel_cost"],
        objective=summary["objective"],
        lower_bound=summary["lower_bound"],
        gap=summary["gap"],
    )
    for metric, numbers in summary["balance"].items():
        row[f"{metric}_max_deviation"] = numbers["max_abs_deviation"]
        row[f"{metric}_within_band"] = numbers["within_band"]
    row["moved_share"] = summary["disruption"]["moved_share"]
    if "quota" in summary:
        row["quota_fairness"] = summary["quota"]["max_relative_deviation"]
    row.update(
        seconds=summary["total_seconds"],
        worker=block["worker"],
        inputs_read=block["inputs_read"],
        plan=f"plans/{folder}",
    )
    return row


def failure_row(
    name: str, values: dict, status: str, message: str, started: float, worker: str
) -> dict:
    return {
        "name": name,
        **values,
        "status": status,
        "exit_code": FAILURE_EXIT_CODES[status],
        "message": message,
        "seconds": round(time.perf_counter() - started, 3),
        "worker": worker,
        "plan": "",
    }


def completed_row(plan_dir: Path, wanted_hash: str) -> dict | None:
    """The row of a complete plan folder made from the same scenario and inputs, else None."""
    if not all((plan_dir / name).is_file() for name in PLAN_FILES):
        return None
    try:
        summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    block = summary.get("sweep") if isinstance(summary, dict) else None
    if not isinstance(block, dict) or block.get("scenario_hash") != wanted_hash:
        return None
    return row_from_summary(summary, plan_dir.name)


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
                variant.name, variant.values, "bad_input", str(variant.problem), 0.0, ""
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
                variant.name, variant.values, "bad_input", message, 0.0, ""
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
    path_or_spec: str | Path | dict,
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

    ``client``: a ``distributed.Client`` to use; else ``scheduler`` (an address such as
    ``tcp://10.0.0.5:8786``) is connected to; else a LocalCluster of ``workers`` processes
    (default: one per core, at most one per variant) runs for the sweep's duration.
    ``out`` defaults to a folder named after the sweep file, beside it.
    InputError (exit 2) for a bad sweep file or an unusable ``out``; nothing else stops it.
    """
    say = progress or (lambda message: None)
    spec = load_sweep_spec(path_or_spec)
    variants = expand(spec)
    if out is None:
        stem = Path(spec.file).stem if not isinstance(path_or_spec, dict) else "sweep"
        out = spec.base_dir / f"{stem}-out"
    out = Path(out).resolve()
    _check_out(out, resume, force)
    tasks, rows = prepare(variants, out, time_limit, map_html)
    resumed = 0
    if resume:
        waiting = []
        for task in tasks:
            row = completed_row(Path(task.plan_dir), task.scenario_hash)
            if row is None:
                waiting.append(task)
            else:
                rows[task.name], resumed = row, resumed + 1
        tasks = waiting
        say(f"resume: {resumed} of {len(variants)} variants already complete")
    (out / "plans").mkdir(parents=True, exist_ok=True)
    dashboard = None
    if tasks:
        with _dask_client(client, scheduler, workers, len(tasks)) as (live, dashboard):
            if dashboard:
                say(f"Dask dashboard: {dashboard}")
            rows.update(run_tasks(live, tasks, len(variants) - len(tasks), len(variants), say))
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


class _dask_client:
    """The client a sweep runs on: the caller's (left open), one connected to a scheduler
    address, or a LocalCluster of its own (closed at the end)."""

    def __init__(self, client, scheduler: str | None, workers: int | None, tasks: int):
        self.given, self.scheduler = client, scheduler
        self.workers = workers or max(1, min(os.cpu_count() or 1, tasks))
        self.owned: list = []

    def __enter__(self):
        if self.given is not None:
            return self.given, dashboard_link(self.given)
        from distributed import Client, LocalCluster

        if self.scheduler is not None:
            client = Client(self.scheduler, timeout="30s")
        else:
            cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0" if _has_dashboard() else None,
                silence_logs=40,
            )
            self.owned.append(cluster)
            client = Client(cluster)
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


def run_tasks(client, tasks: list[VariantTask], done: int, total: int, say) -> dict[str, dict]:
    """Submit one task per variant; gather the rows as they finish, saying how far it got."""
    from distributed import as_completed

    futures = {
        client.submit(
            solve_variant, task, key=f"variant-{task.name}-{task.scenario_hash[:12]}", pure=False
        ): task
        for task in tasks
    }
    rows: dict[str, dict] = {}
    failed = 0
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
