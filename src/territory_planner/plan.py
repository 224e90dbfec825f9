"""The Plan object: make a plan, write it as a plan folder, read it back.

A plan folder (DESIGN.md section 2) holds everything needed to audit and re-use a plan
without the original files: the results, the scenario as solved and a copy of its inputs.
Folders are written whole or not at all: everything goes to a temporary sibling folder that
is renamed into place at the end, so an interrupted run leaves the previous plan untouched.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from . import __version__
from .data import ScenarioData, load_data, load_scenario
from .errors import InputError, Problem, ProblemList
from .evaluate import (
    assignment_frame,
    finite_or_none,
    kpis,
    rollup_frame,
    territory_frame,
    today_kpis,
)
from .optimize.strategy import SolveSettings, solve_assignment
from .outputs import (
    assignment_dtypes,
    assignments_from_file,
    assignments_table,
    owner_changes_table,
    plain_numbers,
    rounded,
)
from .problem import build_problem
from .scenario import Scenario, load_scenario_settings

PLAN_FILES = ("assignments.csv", "territories.csv", "summary.json", "scenario.yaml")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# --------------------------------------------------------------------------- safe output


def _runs_as_formula(value) -> bool:
    """Text a spreadsheet could run: starts with = + - @ tab or CR and is not a plain number.

    A passed-through column read as text (``-500``, ``+1.5e3``) is a real number that Excel
    shows as a number and never runs, so it is left alone; ``-1+cmd|...`` is not a number.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return False
    return _PLAIN_NUMBER.fullmatch(value) is None


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe.

    Only text columns are touched: real numbers (including negative ones) stay numbers.
    """
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        text = series.astype(object)
        mask = text.map(_runs_as_formula)
        if mask.any():
            out[column] = text.where(~mask, "'" + text.astype(str))
    renamed = {
        c: "'" + c for c in out.columns if isinstance(c, str) and c.startswith(_FORMULA_START)
    }
    return out.rename(columns=renamed)


def restore_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise_formulas` when a plan folder is read back."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            text = out[column].astype(object)
            mask = text.map(
                lambda v: (
                    isinstance(v, str)
                    and len(v) > 1
                    and v[0] == "'"
                    and v[1:].startswith(_FORMULA_START)
                )
            )
            if mask.any():
                out[column] = text.where(~mask, text.astype(str).str[1:])
    return out.rename(
        columns={
            c: c[1:]
            for c in out.columns
            if isinstance(c, str) and c.startswith("'") and c[1:].startswith(_FORMULA_START)
        }
    )


def write_csv(frame: pd.DataFrame, path: Path, *, exact: bool = False) -> None:
    """Deterministic, formula-safe CSV (UTF-8, ``\\n`` line ends, numbers without float
    noise: rounded per column, or, with ``exact``, every digit that makes the float).

    A carriage return inside a text cell is written as a line feed: with ``\\n`` line ends
    the csv module does not quote a lone CR, and a reader would split the row there.
    """
    safe = neutralise_formulas(frame)
    for column in safe.columns:
        if not (
            pd.api.types.is_numeric_dtype(safe[column]) or pd.api.types.is_bool_dtype(safe[column])
        ):
            text = safe[column].astype(object)
            has_cr = text.map(lambda v: isinstance(v, str) and "\r" in v)
            if has_cr.any():
                safe[column] = text.where(
                    ~has_cr,
                    text.astype(str)
                    .str.replace("\r\n", "\n", regex=False)
                    .str.replace("\r", "\n", regex=False),
                )
    plain_numbers(safe, exact=exact).to_csv(path, index=False, lineterminator="\n")


def check_output_folder(out: Path, force: bool) -> None:
    """An existing output folder is replaced only with ``force``, and never if it is a file."""
    if out.exists() and not force:
        raise InputError(
            Problem(
                file=str(out),
                message="the output folder already exists",
                fix="choose another --out or pass --force to replace it",
            )
        )
    if out.exists() and not out.is_dir():
        raise InputError(Problem(file=str(out), message="exists and is not a folder"))


def write_folder_atomically(out: Path, fill: Callable[[Path], None]) -> Path:
    """Let ``fill`` write into a temporary sibling folder, then rename it to ``out``.

    A failure or interruption anywhere in ``fill`` removes the temporary folder and leaves
    ``out`` (a previous plan, say) exactly as it was; an existing ``out`` is swapped out
    only after the new folder is complete.

    Two runs writing the same ``out`` at once: the whole write happens under an exclusive
    lock on a sibling lock file, so the second run is refused at once (InputError) instead
    of replacing the first one's folder; and an ``out`` that did not exist when this call
    began but appeared before the rename (another run finished first) is never replaced,
    since only the caller's check (:func:`check_output_folder`, with ``force``) allows
    replacing a folder that was already there.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    existed = out.exists()
    with _exclusive_writer(out):
        _refuse_if_appeared(out, existed)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        try:
            # mkdtemp makes the folder private (0700); an output folder is an ordinary one
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)
            fill(staging)
            _refuse_if_appeared(out, existed)
            if out.exists():
                retired = Path(
                    tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent)
                )
                os.rename(out, retired / "previous")
                os.rename(staging, out)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.rename(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return out


def _refuse_if_appeared(out: Path, existed: bool) -> None:
    if out.exists() and not existed:
        raise InputError(
            Problem(
                file=str(out),
                message="the output folder was written by another run while this one "
                "was working; it was left as that run wrote it",
                fix="choose another --out, or pass --force to replace it",
            )
        )


@contextmanager
def _exclusive_writer(out: Path):
    """Hold an exclusive ``flock`` on ``.NAME.lock`` beside ``out`` while writing it.

    The kernel drops the lock when the process ends, even killed, so a crash never leaves
    a stale lock. The file is removed on release; a run that opened it just before the
    removal sees its inode gone and opens the new one.
    """
    lock_path = out.parent / f".{out.name}.lock"
    while True:
        handle = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise InputError(
                Problem(
                    file=str(out),
                    message="another run is writing this output folder right now; "
                    "nothing was written by this one",
                    fix="wait for the other run to finish, or choose another --out",
                )
            ) from None
        try:
            same = os.stat(lock_path).st_ino == os.fstat(handle).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(handle)
    try:
        yield
    finally:
        try:
            os.unlink(lock_path)
        except FileNotFoundError:
            pass
        os.close(handle)


def _read_plan_csv(
    path: Path, problems: ProblemList, required: tuple[str, ...], accounts=None
) -> pd.DataFrame:
    """A plan CSV; assignments.csv (``accounts`` given) back under the canonical names."""
    if not path.exists():
        problems.add(
            str(path),
            "is missing from the plan folder",
            fix="point to a complete plan folder written by territory-planner",
        )
        return pd.DataFrame()
    try:
        frame = pd.read_csv(
            path,
            dtype={
                "account_id": str,
                "rep_id": str,
                "previous_rep_id": str,
                "region_id": str,
                "name": str,
                **(assignment_dtypes(accounts) if accounts is not None else {}),
            },
            keep_default_na=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        problems.add(str(path), f"cannot be read ({error})")
        return pd.DataFrame()
    if accounts is not None:
        frame = assignments_from_file(frame, accounts)
    missing = [c for c in required if c not in frame.columns]
    for column in missing:
        problems.add(str(path), f"column '{column}' is missing", row=1, column=column)
    return restore_formulas(frame)


# --------------------------------------------------------------------------- the plan


@dataclass
class Plan:
    """A territory plan with its inputs and numbers. ``write`` and ``read`` round-trip it."""

    scenario: Scenario
    accounts: pd.DataFrame
    reps: pd.DataFrame
    regions: object | None
    assignments: pd.DataFrame
    territories: pd.DataFrame
    summary: dict
    quotas: pd.DataFrame | None = None
    files: dict[str, Path] = field(default_factory=dict)
    extra_files: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def rep_of_account(self) -> pd.Series:
        return self.assignments.set_index("account_id")["rep_id"]

    # ------------------------------------------------------------------ presentation
    def map(self, tiles: str | None = None, **options):
        """The interactive folium map. Imported lazily: the core never needs folium.
        ``options`` go to :func:`territory_planner.report.maps.territory_map`."""
        if "regions.csv" in self.extra_files and self.regions is not None:
            from .report.region_map import region_territory_map

            return region_territory_map(
                self.extra_files["regions.csv"],
                self.regions,
                self.reps,
                self.assignments,
                self.accounts,
                title=self.scenario.name,
                tiles=tiles,
            )
        from .report.maps import territory_map

        settings = {
            "title": self.scenario.name,
            "tiles": tiles,
            "quotas": self.quotas,
            "tolerances": {r.metric: r.tolerance for r in self.scenario.balance},
            "summary": self.summary,
            "hierarchy": getattr(self.scenario, "hierarchy", None),
            **options,
        }
        return territory_map(
            self.assignments, self.territories, self.accounts, self.reps, self.regions, **settings
        )

    def rollups(self) -> pd.DataFrame | None:
        """rollups.csv: the territories summed per level of the scenario's hierarchy."""
        levels = list(self.scenario.hierarchy)
        if not levels:
            return None
        metrics = [rule.metric for rule in self.scenario.balance]
        return rollup_frame(self.territories, self.reps, levels, metrics)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The plan folder's tables by file name, as written: assignments under the input's
        column names, the CRM owner update, territories, rollups and quotas when they
        apply, then the workflow's own files; numbers rounded (outputs.py), still numbers."""
        tables = {
            "assignments.csv": assignments_table(self.assignments, self.accounts),
            "owner_changes.csv": owner_changes_table(self.assignments, self.accounts),
            "territories.csv": self.territories,
        }
        rollups = self.rollups()
        if rollups is not None:
            tables["rollups.csv"] = rollups
        if self.quotas is not None:
            tables["quotas.csv"] = self.quotas
        tables.update(self.extra_files)
        return {name: rounded(frame) for name, frame in tables.items()}

    # ------------------------------------------------------------------ writing
    def write(
        self,
        out: str | Path,
        *,
        force: bool = False,
        map_html: bool = True,
        tiles: str | None = None,
    ) -> Path:
        """Write the plan folder whole or not at all; replace an existing one only if force."""
        out = Path(out)
        check_output_folder(out, force)
        # --force replaces the whole folder: never a data folder holding the files being
        # planned (a plan folder may be rewritten: its inputs/ are copied into the new one)
        inside = out.resolve()
        sources = [*self.files.values(), self.scenario.source]
        is_plan_folder = all((out / name).is_file() for name in PLAN_FILES)
        for source in (Path(s).resolve() for s in sources if s is not None):
            if not is_plan_folder and (source == inside or inside in source.parents):
                raise InputError(
                    Problem(
                        file=str(out),
                        message=f"the output folder holds an input ({source}); "
                        "replacing it would delete the inputs",
                        fix="choose another --out",
                    )
                )
        return write_folder_atomically(
            out, lambda folder: self._write_into(folder, map_html=map_html, tiles=tiles)
        )

    def _write_into(self, folder: Path, *, map_html: bool, tiles: str | None) -> None:
        inputs = folder / "inputs"
        inputs.mkdir()
        copied: dict[str, str] = {}
        for key in ("accounts", "reps", "regions"):
            source = self.files.get(key)
            if source is not None and Path(source).exists():
                target = inputs / f"{key}{''.join(Path(source).suffixes[-1:]) or '.csv'}"
                shutil.copyfile(source, target)
                copied[key] = f"inputs/{target.name}"
            elif key == "accounts":
                write_csv(self.accounts, inputs / "accounts.csv", exact=True)
                copied[key] = "inputs/accounts.csv"
            elif key == "reps":
                write_csv(self.reps, inputs / "reps.csv", exact=True)
                copied[key] = "inputs/reps.csv"
        scenario = self.scenario.to_yaml_dict()
        scenario.update(copied)
        if "regions" not in copied:
            scenario.pop("regions", None)
        (folder / "scenario.yaml").write_text(
            "# the scenario as solved; paths point to the copies in inputs/\n"
            + yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        for name, frame in self.tables().items():
            write_csv(frame, folder / name)
        (folder / "summary.json").write_text(
            json.dumps(_jsonable(self.summary), indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
        from .report.plan_workbook import write_plan_workbook

        write_plan_workbook(folder)
        if map_html:
            from .report.maps import save_map

            save_map(self.map(tiles=tiles), folder / "map.html")

    # ------------------------------------------------------------------ reading
    @classmethod
    def read(cls, folder: str | Path) -> Plan:
        """Read a plan folder back, inputs included; InputError if it is incomplete."""
        folder = Path(folder)
        problems = ProblemList()
        if not folder.is_dir():
            problems.add(
                str(folder),
                "is not a plan folder (it does not exist or is a file)",
                fix="pass the folder written by 'territory-planner plan --out'",
            )
            problems.raise_if_any()
        for name in PLAN_FILES:
            if not (folder / name).exists():
                problems.add(
                    str(folder / name),
                    "is missing from the plan folder",
                    fix="re-run 'territory-planner plan' to write a complete folder",
                )
        problems.raise_if_any()
        settings = load_scenario_settings(folder / "scenario.yaml")
        data = load_data(settings)
        assignments = _read_plan_csv(
            folder / "assignments.csv",
            problems,
            ("account_id", "rep_id"),
            accounts=data.accounts,
        )
        territories = _read_plan_csv(folder / "territories.csv", problems, ("rep_id",))
        quotas = None
        if (folder / "quotas.csv").exists():
            quotas = _read_plan_csv(folder / "quotas.csv", problems, ("rep_id", "quota"))
        extra_files = {}
        if (folder / "regions.csv").exists():  # geography mode: the regions' owners
            extra_files["regions.csv"] = _read_plan_csv(
                folder / "regions.csv", problems, ("region_id", "rep_id")
            )
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            problems.add(str(folder / "summary.json"), f"is not valid JSON ({error})")
            summary = {}
        if not problems:
            known = set(data.accounts["account_id"])
            listed = set(assignments["account_id"])
            for account in sorted(known - listed)[:20]:
                problems.add(
                    str(folder / "assignments.csv"),
                    f"account {account} of the inputs has no assignment",
                    column="account_id",
                )
            unknown_reps = set(assignments["rep_id"].dropna()) - set(data.reps["rep_id"])
            for rep in sorted(unknown_reps)[:20]:
                problems.add(
                    str(folder / "assignments.csv"),
                    f"rep {rep} is not in the plan's reps",
                    column="rep_id",
                )
        problems.raise_if_any()
        return cls(
            scenario=settings,
            accounts=data.accounts,
            reps=data.reps,
            regions=data.regions,
            assignments=assignments,
            territories=territories,
            summary=summary,
            quotas=quotas,
            files=data.files,
            extra_files=extra_files,
        )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return finite_or_none(float(value))
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


# --------------------------------------------------------------------------- making a plan


def scenario_data(scenario: ScenarioData | Scenario | str | Path) -> ScenarioData:
    """A scenario file, validated settings or prepared data, as prepared data."""
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    if isinstance(scenario, Scenario):
        return load_data(scenario)
    return scenario


def plan(
    scenario: ScenarioData | Scenario | str | Path,
    *,
    time_limit: float | None = None,
    gap: float | None = None,
    solver: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Plan:
    """Solve a scenario into a Plan: read -> build -> optimise -> evaluate (-> quotas)."""
    data = scenario_data(scenario)
    settings = data.settings
    overrides = {
        k: v
        for k, v in {"time_limit": time_limit, "gap": gap, "name": solver}.items()
        if v is not None
    }
    if overrides:
        settings = settings.model_copy(
            update={"solver": settings.solver.model_copy(update=overrides)}
        )
        data = ScenarioData(
            settings=settings,
            accounts=data.accounts,
            reps=data.reps,
            regions=data.regions,
            files=data.files,
        )
    return plan_from_problem_data(data, progress=progress)


def evaluate_assignment(
    data: ScenarioData, problem, unit_rep: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(assignments, territories, KPIs) of a solved assignment (rep position per unit)."""
    rep_of_unit = problem.rep_ids[unit_rep]
    rep_of_account = pd.Series(rep_of_unit[problem.account_unit], index=problem.account_ids)
    assignments = assignment_frame(data.accounts, data.reps, rep_of_account)
    metrics = [rule.metric for rule in data.settings.balance]
    territories = territory_frame(assignments, data.accounts, data.reps, metrics)
    numbers = kpis(assignments, territories, data.accounts, data.settings.balance)
    return assignments, territories, numbers


def plan_summary(
    data: ScenarioData, result, numbers: dict, solver: dict, extra: dict | None = None
) -> dict:
    """summary.json of a solved plan: status, objective, proven bound and gap, the KPIs
    (``numbers``), the solver's facts (``solver``, after its name), the inputs' sizes, then
    ``extra`` (what a rebalance adds); ``total_seconds`` is set when the plan is complete."""
    settings = data.settings
    return {
        "scenario": settings.name,
        "status": result.status,
        "objective": result.objective,
        "lower_bound": result.lower_bound,
        "gap": result.gap,
        **numbers,
        "today": today_kpis(data, result.lower_bound),
        "solver": {"name": settings.solver.name, **solver},
        "inputs": {"accounts": int(len(data.accounts)), "reps": int(len(data.reps))},
        "objective_weights": settings.objective.model_dump(),
        **(extra or {}),
        "version": __version__,
        "total_seconds": None,
    }


def check_hierarchy(data: ScenarioData) -> None:
    """Every ``hierarchy`` level names a column of the reps (InputError otherwise)."""
    problems = ProblemList()
    for level in data.settings.hierarchy:
        if level not in data.reps.columns:
            problems.add(
                str(data.files.get("reps", "reps")),
                f"hierarchy level '{level}' is not a column of the reps",
                row=1,
                column=level,
                fix="add the column to the reps file or remove it from 'hierarchy'",
            )
    problems.raise_if_any()


def plan_from_problem_data(
    data: ScenarioData,
    *,
    progress=None,
    problem=None,
    solve_settings: SolveSettings | None = None,
    extra_summary: dict | None = None,
) -> Plan:
    """Solve prepared data (optionally a prepared problem) and assemble the Plan."""
    started = time.perf_counter()
    settings = data.settings
    check_hierarchy(data)
    built = time.perf_counter()
    geography = None
    if problem is None and settings.unit == "region":
        from .regions import build_region_problem

        geography = build_region_problem(data)
        problem = geography.problem
    problem = problem if problem is not None else build_problem(data)
    build_seconds = time.perf_counter() - built
    solve_settings = solve_settings or SolveSettings.from_scenario(settings.solver)
    if solve_settings.started is None:
        # the time limit covers building the problem too: the user waits for both
        solve_settings = dataclasses.replace(solve_settings, started=started)
    if geography is not None:
        from .optimize.region_solve import solve_regions
        from .regions import region_summary

        result = solve_regions(
            problem,
            geography.neighbours,
            geography.n_regions,
            solve_settings,
            contiguous=geography.contiguous,
            homes=geography.home_region,
            progress=progress,
        )
        extra_summary = {**(extra_summary or {}), **region_summary(geography, geography.contiguous)}
    else:
        result = solve_assignment(problem, solve_settings, progress=progress)
    assignments, territories, numbers = evaluate_assignment(data, problem, result.unit_rep)
    summary = plan_summary(
        data,
        result,
        numbers,
        solver={
            "seconds": round(result.seconds, 3),
            "build_seconds": round(build_seconds, 3),
            "time_limit": settings.solver.time_limit,
            "gap_target": settings.solver.gap,
            "candidate_pairs": result.candidate_pairs,
            "allowed_pairs": result.total_pairs,
            "phases": result.phases,
        },
        extra=extra_summary,
    )
    made = Plan(
        scenario=settings,
        accounts=data.accounts,
        reps=data.reps,
        regions=data.regions,
        assignments=assignments,
        territories=territories,
        summary=summary,
        files=dict(data.files),
    )
    if geography is not None:
        from .regions import regions_table

        made.extra_files["regions.csv"] = regions_table(geography, result.unit_rep)
    if settings.quota is not None:
        apply_quotas(made, settings.quota)
    summary["total_seconds"] = round(time.perf_counter() - started, 3)
    return made


def requota(
    made: Plan,
    *,
    target: float | None = None,
    method: str | None = None,
    alpha: float | None = None,
    min_growth: float | None = None,
    max_growth: float | None = None,
    settings=None,
) -> Plan:
    """A copy of ``made`` with quotas set or re-set; ``made`` itself is left as it was.

    The quota settings are the plan's own ``quota:`` section (or ``settings``) with any of
    the given values replacing theirs; a plan without a quota section needs ``target``.
    The scenario recorded with the new plan carries the settings actually used.
    """
    from .scenario import QuotaSettings

    base = settings if settings is not None else made.scenario.quota
    changes = {
        k: v
        for k, v in {
            "target": target,
            "method": method,
            "alpha": alpha,
            "min_growth": min_growth,
            "max_growth": max_growth,
        }.items()
        if v is not None
    }
    if base is None:
        if target is None:
            raise InputError(
                Problem(
                    file="scenario.yaml",
                    column="quota",
                    message="the plan's scenario has no quota section",
                    fix="give a company target, e.g. --target 48000000",
                )
            )
        data = changes
    else:
        data = base.model_dump(exclude_none=True)
        if target is not None:
            data.pop("targets", None)  # a company target replaces per-region targets
        data.update(changes)
    try:
        quota_settings = QuotaSettings.model_validate(data)
    except ValidationError as error:
        from .scenario import scenario_problems

        scenario_problems(error, "quota settings").raise_if_any()
        raise
    copy = Plan(
        scenario=made.scenario.model_copy(update={"quota": quota_settings}),
        accounts=made.accounts,
        reps=made.reps,
        regions=made.regions,
        assignments=made.assignments.copy(),
        territories=made.territories.copy(),
        summary=json.loads(json.dumps(_jsonable(made.summary))),
        quotas=None,
        files=dict(made.files),
        extra_files=dict(made.extra_files),
    )
    return apply_quotas(copy, quota_settings)


def apply_quotas(made: Plan, quota_settings) -> Plan:
    """Set quotas on a plan in place: quotas.csv, the territories' quota columns, summary."""
    from .quota import allocate_quotas

    quota_plan = allocate_quotas(made, quota_settings)
    frame = quota_plan.to_frame()
    made.quotas = frame
    keep = [c for c in made.territories.columns if c not in ("quota", "quota_to_potential")]
    made.territories = made.territories[keep].merge(
        frame[["rep_id", "quota", "quota_to_potential"]], on="rep_id", how="left"
    )
    made.summary["quota"] = quota_plan.summary()
    return made
