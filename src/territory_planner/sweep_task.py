"""One variant as one Dask task: its inputs, its solve, its plan folder, its row.

Everything here runs on a worker except the hashing, which the client does before it
submits. A worker parses the input files at most once: :func:`cached_data` keeps the last
parsed input sets in the process, keyed by each file's path and content hash and by the few
settings reading depends on. A task writes its plan folder whole or not at all and returns
its row; a domain error becomes a row with the status and exit code ``plan`` would have
given, anything else a ``failed`` row, so one variant never stops the others.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__
from .data import ScenarioData, load_data
from .errors import InfeasibleError, InputError, Problem, SolverError
from .plan import PLAN_FILES, plan_from_problem_data
from .scenario import Scenario
from .sweep_spec import PATH_KEYS

__all__ = [
    "VariantTask",
    "solve_variant",
    "cached_data",
    "file_hash",
    "input_files",
    "scenario_hash",
    "row_from_summary",
    "failure_row",
    "completed_row",
    "table",
]

FAILURE_EXIT_CODES = {"bad_input": 2, "infeasible": 3, "no_plan": 4, "failed": 1}


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
    name: str, values: dict, status: str, message: str, started: float | None, worker: str
) -> dict:
    """The row of a variant without a plan; ``started`` None when it never ran."""
    seconds = 0.0 if started is None else round(time.perf_counter() - started, 3)
    return {
        "name": name,
        **values,
        "status": status,
        "exit_code": FAILURE_EXIT_CODES[status],
        "message": message,
        "seconds": seconds,
        "worker": worker,
        "plan": "",
    }


def completed_row(plan_dir: Path, wanted_hash: str, map_html: bool = True) -> dict | None:
    """The row of a complete plan folder made from the same scenario and inputs, else None
    (a folder written without a map is incomplete when the map is asked for now)."""
    needed = (*PLAN_FILES, "map.html") if map_html else PLAN_FILES
    if not all((plan_dir / name).is_file() for name in needed):
        return None
    try:
        summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    block = summary.get("sweep") if isinstance(summary, dict) else None
    if not isinstance(block, dict) or block.get("scenario_hash") != wanted_hash:
        return None
    return row_from_summary(summary, plan_dir.name)
