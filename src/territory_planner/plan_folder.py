"""The Plan object: a plan with its inputs and numbers, written as a plan folder and read back.

A plan folder (docs/design.md section 4) holds everything needed to audit and re-use a plan
without the original files: the results, the scenario as solved and a copy of its inputs.
Folders are written whole or not at all (folders.py).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .data import load_data
from .data.owners import owners_as_written
from .errors import InputError, Problem, ProblemList
from .evaluate import finite_or_none, rollup_frame
from .folders import check_output_folder, write_folder_atomically
from .outputs import (
    assignment_dtypes,
    assignments_from_file,
    assignments_table,
    owner_changes_table,
    restore_formulas,
    rounded,
    source_names,
    write_csv,
)
from .scenario import Scenario, load_scenario_settings
from .tables import sniff_delimiter

PLAN_FILES = ("assignments.csv", "territories.csv", "summary.json", "scenario.yaml")


# the files a Shapefile is made of besides its .shp (attributes, index, projection, encoding,
# spatial indexes, metadata): without .shx and .dbf the .shp cannot be read at all
_SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml")


def _copy_shapefile_parts(source: Path, target: Path) -> None:
    """Copy the files beside a Shapefile ``source`` under ``target``'s name (regions.dbf
    next to regions.shp, ...), keeping each part's own extension case (X.SHX stays .SHX)."""
    if source.suffix.lower() != ".shp":
        return
    for part in source.parent.iterdir():
        name = part.name
        if not name.lower().startswith(source.stem.lower() + ".") or part == source:
            continue
        extension = name[len(source.stem) :]
        if extension.lower() in _SHAPEFILE_PARTS and part.is_file():
            shutil.copyfile(part, target.with_name(target.stem + extension))


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
    # a plan CSV edited and saved by a decimal-comma Excel comes back separated by
    # semicolons: its delimiter is sniffed as for any input (tables.py), with the decimal
    # mark such a file implies
    delimiter = plan_csv_delimiter(path)
    try:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            decimal="," if delimiter == ";" else ".",
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


def plan_csv_delimiter(path: Path) -> str:
    """The delimiter of a plan CSV, sniffed from its header line (tables.sniff_delimiter)."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        return sniff_delimiter(handle.readline())


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
                colours=options.get("colours"),
                changed_regions=options.get("changed_regions"),
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
                _copy_shapefile_parts(Path(source), target)
                copied[key] = f"inputs/{target.name}"
            elif key == "accounts":
                # under the export's own names, as assignments.csv is: the folder agrees
                # with itself, and a CRM's names survive re-balance after re-balance
                as_written = {c: o for o, c in source_names(self.accounts).items() if o != c}
                # today's owners too, as the export wrote them (names, 18-character IDs):
                # read back, the folder's owner_changes.csv keeps speaking that way
                owners = self.accounts.set_index("account_id")["current_rep_id"]
                accounts = self.accounts.assign(
                    current_rep_id=owners_as_written(owners, self.accounts).to_numpy()
                ).rename(columns=as_written)
                # unguarded: the guard's apostrophe would be read back as part of a name
                # ('=HYPERLINK(...) became "'=HYPERLINK(...)" in the re-balanced plan)
                write_csv(accounts, inputs / "accounts.csv", exact=True, guard=False)
                copied[key] = "inputs/accounts.csv"
            elif key == "reps":
                write_csv(self.reps, inputs / "reps.csv", exact=True, guard=False)
                copied[key] = "inputs/reps.csv"
            elif key == "regions" and self.regions is not None:
                from .geo import write_regions  # regions changed in memory (a re-balance)

                write_regions(self.regions, inputs / "regions.geojson")
                copied[key] = "inputs/regions.geojson"
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
            json.dumps(jsonable(self.summary), indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
        # report/ is the presentation leaf: loaded only when a folder is written
        from .report.plan_workbook import write_plan_workbook

        write_plan_workbook(folder)
        if map_html:
            from .report.maps import save_map  # folium, only when a map is asked for

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
        summary = _read_summary(folder / "summary.json", problems)
        if not problems:
            _check_assigned_once(assignments, data.accounts, folder / "assignments.csv", problems)
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


def _read_summary(path: Path, problems: ProblemList) -> dict:
    """summary.json as a dict; a file that is not a JSON object is a problem (the readers
    of a plan take its numbers by name)."""
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        problems.add(str(path), f"is not valid JSON ({error})")
        return {}
    if not isinstance(summary, dict):
        problems.add(
            str(path),
            f"is not a JSON object (it holds a {type(summary).__name__})",
            fix="re-run 'territory-planner plan' to write a complete folder",
        )
        return {}
    return summary


def _check_assigned_once(
    assignments: pd.DataFrame, accounts: pd.DataFrame, path: Path, problems: ProblemList
) -> None:
    """Every account of the inputs has exactly one row, and every row an account of the
    inputs (a row pasted twice or one for an account that is not in the plan would be
    read as another plan). Rows as a spreadsheet numbers them (the header is row 1)."""
    known = set(accounts["account_id"])
    ids = assignments["account_id"]
    for account in sorted(known - set(ids))[:20]:
        problems.add(
            str(path), f"account {account} of the inputs has no assignment", column="account_id"
        )
    first: dict[str, int] = {}
    for row, account in enumerate(ids.tolist(), start=2):
        if account not in known:
            problems.add(
                str(path),
                f"account {account} is not an account of the plan's inputs",
                row=row,
                column="account_id",
                fix="remove the row or add the account to the inputs and plan again",
            )
        elif account in first:
            problems.add(
                str(path),
                f"account {account} is listed twice (first on row {first[account]})",
                row=row,
                column="account_id",
                fix="keep one row per account",
            )
        else:
            first[account] = row


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return finite_or_none(float(value))
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value
