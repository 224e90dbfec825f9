"""The scenario data loader: every file read, normalised and cross-checked at once."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ProblemList
from ..scenario import Scenario, load_scenario_settings, ordinal
from ..tables import frame_as_text, read_table
from .accounts import (
    normalize_accounts,
    place_accounts_in_regions,
    report_swapped_outside_regions,
)
from .cells import (
    _report_rows,
    _rows_in,
)
from .columns import (
    ACCOUNT_ALIASES,
    REP_STATUSES,
)
from .owners import case_twins, resolve_owner_names
from .postal_regions import place_by_postal_code
from .region_keys import matched_note, matched_region_ids
from .reps import (
    normalize_reps,
)


@dataclass
class ScenarioData:
    """A validated scenario with its data: what ``plan()`` needs, nothing else.

    accounts / reps are canonical DataFrames (canonical columns first, unknown extra columns
    passed through); regions is a GeoDataFrame (or None) owned by the geo package.
    """

    settings: Scenario
    accounts: pd.DataFrame
    reps: pd.DataFrame
    regions: object | None = None
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.settings.name

    def summary(self) -> dict:
        """What was read, for ``validate`` and for the plan's summary.json."""
        reps = self.reps
        return {
            "scenario": self.settings.name,
            "accounts": int(len(self.accounts)),
            "reps": int(len(reps)),
            "reps_by_status": {s: int((reps["status"] == s).sum()) for s in REP_STATUSES},
            "regions": 0 if self.regions is None else int(len(self.regions)),
            "geocoded_from_postal_code": int(self.accounts.attrs.get("geocoded", 0)),
            "locked_accounts": int(self.accounts["locked"].sum()),
            "totals": {
                m.metric: float(self.accounts[m.metric].sum()) for m in self.settings.balance
            },
            "metrics": {
                column: _spread(self.accounts[column]) for column in self._reported_metrics()
            },
            "capacity": _spread(reps["capacity"]),
            "defaults": [
                *self.accounts.attrs.get("defaults", []),
                *reps.attrs.get("defaults", []),
            ],
            "decimal_marks": {
                str(self.files.get(what, what)): frame.attrs.get("decimal_marks", {})
                for what, frame in (("accounts", self.accounts), ("reps", reps))
                if frame.attrs.get("decimal_marks")
            },
        }

    def _reported_metrics(self) -> list[str]:
        """The balance metrics, then the account figures every plan reports."""
        balanced = [rule.metric for rule in self.settings.balance]
        rest = [m for m in ("workload", "potential", "revenue") if m not in balanced]
        return [*balanced, *rest]


def _spread(values: pd.Series) -> dict[str, float]:
    """Total and range of a numeric column, so the scale is visible at a glance."""
    if not len(values):
        return {"total": 0.0, "min": 0.0, "max": 0.0}
    return {
        "total": float(values.sum()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def cross_check(
    accounts: pd.DataFrame,
    reps: pd.DataFrame,
    regions,
    settings: Scenario,
    account_file: str,
    rep_file: str,
    problems: ProblemList,
) -> None:
    """References between files: owners, regions, metrics; and that someone can work."""
    rep_ids = set(reps["rep_id"])
    owners = accounts["current_rep_id"]
    unknown_owner = owners.notna() & ~owners.isin(rep_ids)
    # 'r01' for R01 is not read as R01 (IDs are case-sensitive), but the fix names R01
    twins = pd.Series(
        case_twins(owners[unknown_owner], rep_ids), index=owners.index[unknown_owner], dtype=object
    ).reindex(owners.index)
    plain = unknown_owner & twins.isna()
    _report_rows(
        problems,
        account_file,
        _rows_in(accounts, plain),
        "current_rep_id",
        "current_rep_id is not a rep in the reps file",
        fix="correct the ID or blank it",
        values=owners[plain].astype(str).tolist(),
    )
    for twin in sorted(set(twins.dropna())):
        wrong_case = twins.eq(twin)
        _report_rows(
            problems,
            account_file,
            _rows_in(accounts, wrong_case),
            "current_rep_id",
            "current_rep_id is not a rep in the reps file",
            fix=f"did you mean '{twin}'? rep IDs are case-sensitive",
            values=owners[wrong_case].astype(str).tolist(),
        )
    region_ids: set[str] = set()
    if regions is not None:
        from ..geo import region_ancestors

        for ancestors in region_ancestors(regions).values():
            region_ids.update(ancestors)
    else:
        region_ids.update(accounts["region_id"].dropna())
    bad_region = reps["region_id"].notna() & ~reps["region_id"].isin(region_ids)
    _report_rows(
        problems,
        rep_file,
        _rows_in(reps, bad_region),
        "region_id",
        "region_id does not exist"
        + (
            " in the regions file"
            if regions is not None
            else " among the accounts' region_id values"
        ),
        values=reps["region_id"][bad_region].astype(str).tolist(),
        fix="use a region_id (or a parent_id) of the regions",
    )
    if regions is not None:
        known = set(regions["region_id"])
        bad_acc_region = accounts["region_id"].notna() & ~accounts["region_id"].isin(known)
        _report_rows(
            problems,
            account_file,
            _rows_in(accounts, bad_acc_region),
            "region_id",
            "region_id is not a region of the regions file",
            values=accounts["region_id"][bad_acc_region].astype(str).tolist(),
            fix="correct it or leave it blank to place the account by its location",
        )
    if len(reps) and not (reps["status"] != "leaving").any():
        problems.add(
            rep_file,
            "every rep is leaving: nobody is left to own the accounts",
            column="status",
            fix="keep at least one rep active or new",
        )
    if settings.constraints.keep_together and settings.constraints.keep_together not in (
        accounts.columns
    ):
        problems.add(
            account_file,
            f"keep_together names column "
            f"'{settings.constraints.keep_together}', which the accounts do not have",
            row=1,
            column=settings.constraints.keep_together,
            fix="add the column or change constraints.keep_together",
        )


def check_balance_metrics(
    settings: Scenario, accounts: pd.DataFrame, account_file: str, problems: ProblemList
) -> None:
    """Each balance rule names a numeric column of the accounts.

    The rule is the scenario's, so a wrong metric is reported against the scenario file,
    with the closest column the accounts do have.
    """
    scenario_file = str(settings.source) if settings.source is not None else "scenario"
    numeric = ["workload", "potential", "revenue"]
    passed = [c for c in accounts.columns if c not in ACCOUNT_ALIASES and c not in numeric]
    for position, rule in enumerate(settings.balance):
        metric = rule.metric
        which = f"the {ordinal(position)} balance rule"
        if metric in ACCOUNT_ALIASES and metric not in numeric:
            problems.add(
                scenario_file,
                f"{which} balances '{metric}', which is not a numeric column "
                "(it is one of the account's identifying or location columns)",
                fix="balance workload, potential, revenue or a numeric column you add",
            )
        elif metric not in accounts.columns:
            close = difflib.get_close_matches(metric, [*numeric, *passed], n=1)
            problems.add(
                scenario_file,
                f"{which} balances '{metric}', which is not a column of {account_file}",
                fix=f"did you mean '{close[0]}'?"
                if close
                else f"add the column to the accounts or remove '{metric}' from 'balance'",
            )


def load_data(
    settings: Scenario,
    accounts: pd.DataFrame | None = None,
    reps: pd.DataFrame | None = None,
    regions=None,
) -> ScenarioData:
    """Read (or take in memory), normalise and validate all inputs of a scenario.

    Raises one InputError with every problem of every file. DataFrames given in memory go
    through exactly the same validation as files (they are converted to text cells first).
    """
    problems = ProblemList()
    metrics = [rule.metric for rule in settings.balance]
    account_file = str(settings.accounts) if accounts is None else "accounts (in memory)"
    rep_file = str(settings.reps) if reps is None else "reps (in memory)"
    raw_accounts = (
        read_table(settings.accounts, problems)
        if accounts is None
        else frame_as_text(accounts, account_file)
    )
    raw_reps = (
        read_table(settings.reps, problems) if reps is None else frame_as_text(reps, rep_file)
    )
    regions_unreadable = False
    if regions is None and settings.regions is not None:
        from ..geo import read_regions_for_checks

        # a map with defects still serves the checks below when its places can be trusted
        regions = read_regions_for_checks(settings.regions, problems)
        regions_unreadable = regions is None
    # Every file is checked even when another one failed, so one run lists every defect.
    acc = rep = None
    if raw_accounts is not None:
        acc = normalize_accounts(raw_accounts, account_file, problems, metrics)
        if len(acc) == 0:
            problems.add(
                account_file, "has a header but no accounts", row=2, fix="export the rows too"
            )
    if raw_reps is not None:
        rep = normalize_reps(raw_reps, rep_file, problems)
        if len(rep) == 0:
            problems.add(rep_file, "has a header but no reps", row=2, fix="export the rows too")
    if acc is None or rep is None:
        problems.raise_if_any()
    check_balance_metrics(settings, acc, account_file, problems)
    if regions_unreadable:  # the checks that need no map, then every problem at once
        if settings.unit == "region":
            from ..regions import named_flags

            named_flags(acc, account_file, problems)
        problems.raise_if_any()
    if regions is not None:
        acc, rep = with_region_ids_matched(acc, rep, regions)
    if len(acc) and len(rep):
        acc = resolve_owner_names(acc, rep, account_file, problems)
        cross_check(acc, rep, regions, settings, account_file, rep_file, problems)
    acc = place_by_postal_code(acc, regions)
    acc = place_accounts_in_regions(acc, regions)
    report_swapped_outside_regions(acc, regions, account_file, problems)
    if settings.unit == "region":
        from ..regions import check_region_mode

        acc = check_region_mode(acc, rep, regions, settings, account_file, problems)
    problems.raise_if_any()
    files = {"accounts": Path(settings.accounts), "reps": Path(settings.reps)}
    if settings.regions is not None:
        files["regions"] = Path(settings.regions)
    return ScenarioData(settings=settings, accounts=acc, reps=rep, regions=regions, files=files)


def with_region_ids_matched(accounts: pd.DataFrame, reps: pd.DataFrame, regions):
    """Accounts' and reps' region_id matched to the regions file where a spreadsheet lost
    their leading zeros (region_keys.py); each match listed among the defaults applied."""
    from ..geo import region_ancestors

    known = {"accounts": set(regions["region_id"]), "reps": set()}
    for ancestors in region_ancestors(regions).values():
        known["reps"].update(ancestors)  # a rep may be scoped to a region or a parent
    frames = {"accounts": accounts, "reps": reps}
    for what, frame in frames.items():
        ids, matched = matched_region_ids(frame["region_id"], known[what])
        if matched:
            note = matched_note(what, frame["region_id"], matched)
            frame = frame.assign(region_id=ids)
            frame.attrs["defaults"] = [*frame.attrs.get("defaults", []), note]
            frames[what] = frame
    return frames["accounts"], frames["reps"]


def load_scenario(path: str | Path) -> ScenarioData:
    """Read a scenario file and all its data, validated. The Python API's front door."""
    settings = load_scenario_settings(path)
    return load_data(settings)
