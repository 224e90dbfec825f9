"""Scenario file (YAML) -> validated settings.

A scenario states everything a planner decides: which files, which balance rules, which
constraints, how long to solve. Settings are pydantic models with ``extra="forbid"`` so a
typo such as ``tolerence`` is named instead of silently ignored. Paths are resolved relative
to the scenario file, so a scenario folder can be moved or shared as a whole.

The YAML is read by safe_yaml.py: a scenario can never construct Python objects. The
settings models live in scenario_models.py, their errors in words in scenario_errors.py;
every name is importable from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import InputError, Problem, ProblemList
from .safe_yaml import (
    MAX_SCENARIO_BYTES,
    MAX_SCENARIO_VALUES,
    AliasBombError,
    safe_load_yaml,
)
from .scenario_errors import describe_location, ordinal, scenario_problems
from .scenario_models import (
    BalanceRule,
    Constraints,
    LocateSettings,
    ObjectiveWeights,
    QuotaSettings,
    Scenario,
    SolverSettings,
)

__all__ = [
    "MAX_SCENARIO_BYTES",
    "MAX_SCENARIO_VALUES",
    "AliasBombError",
    "BalanceRule",
    "Constraints",
    "LocateSettings",
    "ObjectiveWeights",
    "QuotaSettings",
    "Scenario",
    "SolverSettings",
    "describe_location",
    "load_scenario_settings",
    "ordinal",
    "parse_scenario",
    "safe_load_yaml",
    "scenario_problems",
]


def parse_scenario(data: Any, file: str = "scenario", base_dir: Path | None = None) -> Scenario:
    """Validate already-loaded scenario data (a mapping) and resolve its paths."""
    if not isinstance(data, dict):
        raise InputError(
            Problem(
                file=file,
                message="the scenario must be a YAML mapping of keys to values",
                fix="start from scenarios/demo/scenario.yaml",
            )
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        scenario_problems(error, file).raise_if_any()
        raise  # pragma: no cover - every ValidationError has at least one item
    return scenario.resolved(base_dir or Path.cwd())


def load_scenario_settings(path: str | Path) -> Scenario:
    """Read a scenario YAML file into validated settings (no data files are read here)."""
    path = Path(path)
    problems = ProblemList()
    name = str(path)
    if not path.exists():
        problems.add(name, "the scenario file does not exist", fix="check the path")
        problems.raise_if_any()
    if path.is_dir():
        problems.add(name, "is a folder, not a scenario file", fix="name the .yaml file inside it")
        problems.raise_if_any()
    try:
        size = path.stat().st_size
        if size > MAX_SCENARIO_BYTES:
            problems.add(
                name,
                f"is {size / 1e6:,.1f} MB; a scenario file is at most "
                f"{MAX_SCENARIO_BYTES / 1e6:,.0f} MB",
                fix="a scenario names its data files; it does not hold the data",
            )
            problems.raise_if_any()
        raw = path.read_bytes()
    except OSError as error:
        problems.add(
            name,
            f"cannot be read ({error.strerror or error})",
            fix="check that the file is readable",
        )
        problems.raise_if_any()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.add(
            name,
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x} on line {line})",
            row=line,
            fix="save the scenario as UTF-8",
        )
        problems.raise_if_any()
    try:
        data = safe_load_yaml(text)
    except AliasBombError as error:
        problems.add(
            name,
            f"is refused: {error.problem}",
            row=error.problem_mark.line + 1 if error.problem_mark is not None else None,
            fix="write the settings out; a scenario needs no nested aliases",
        )
        problems.raise_if_any()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error)
        if "could not determine a constructor" in reason:
            reason += " (Python object tags are never constructed: a scenario is plain data)"
        problems.add(
            name,
            f"is not valid YAML: {reason}",
            row=row,
            fix="check indentation and quoting on that line",
        )
        problems.raise_if_any()
    except RecursionError:
        problems.add(
            name,
            "is not valid YAML: nested too deeply",
            fix="a scenario is a few levels of keys and lists",
        )
        problems.raise_if_any()
    if data is None:
        problems.add(
            name,
            "the scenario file is empty",
            fix="it needs at least 'accounts:' and 'reps:' paths",
        )
        problems.raise_if_any()
    base_dir = path.resolve().parent
    try:
        scenario = parse_scenario(data, file=name, base_dir=base_dir)
    except InputError as error:
        # name missing files too, so one run lists every defect of the scenario
        problems.extend(error.problems)
        if isinstance(data, dict):
            problems.extend(_missing_files({k: data.get(k) for k in _PATH_KEYS}, base_dir, name))
        problems.raise_if_any()
    scenario = scenario.model_copy(update={"source": path.resolve()})
    _missing_files({k: getattr(scenario, k) for k in _PATH_KEYS}, base_dir, name).raise_if_any()
    return scenario


_PATH_KEYS = ("accounts", "reps", "regions")


def _missing_files(paths: dict[str, Any], base_dir: Path, name: str) -> ProblemList:
    """A problem for each data path that names no existing file (non-text values skipped:
    the settings validation reports those)."""
    missing = ProblemList()
    for key, target in paths.items():
        if not isinstance(target, (str, Path)) or not str(target).strip() or "\x00" in str(target):
            continue
        full = Path(target).expanduser()
        full = full if full.is_absolute() else base_dir / full
        try:
            exists = full.exists()
        except OSError:  # a name too long for the file system
            exists = False
        if not exists:
            missing.add(
                name,
                f"'{key}' file {full} does not exist",
                column=key,
                fix="paths are relative to the scenario file",
            )
    return missing
