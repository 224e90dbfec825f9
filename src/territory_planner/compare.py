"""Compare two plans: what moved, who gained and lost, and the KPIs side by side.

Works for any two plan folders (two scenarios of one year, or a plan and its re-balance).
Every number is recomputed from the plans' owners with evaluate.py (:func:`as_assigned`), so
both sides are judged by the same definitions whatever made them, and a folder edited by hand
is judged as it now stands.

* ``moves``: every account whose rep differs between A and B (an account present in only one
  plan counts, with the missing side blank): account_id, name, rep_a, rep_b, potential,
  workload.
* ``kpis``: metric, a, b, delta (= b - a): the largest deviation per balance metric (active
  reps), travel cost, the accounts and potential each plan moved away from its own previous
  owners, the accounts and potential that change owner from A to B (0 on A's side), and the
  quota fairness (largest relative deviation from the fair share) when both plans have quotas.
* ``rep_changes``: rep_id, name, accounts_a, accounts_b, gained, lost, then per metric
  ``{metric}_a`` and ``{metric}_b`` loads; when both plans have quotas, ``quota_a``,
  ``quota_b`` (blank for a rep without one in that plan: a leaving rep, a hire) and
  ``quota_change`` (b - a, a blank counting as 0, so the changes add up to the difference of
  the two targets).
* ``region_moves`` (two geography-mode plans, each with its regions.csv): every region
  whose rep differs between A and B: region_id, rep_a, rep_b, accounts (those following the
  region), potential and each balance metric's load (B's regions.csv, A's for a region only
  A has); ``kpis`` then counts them. None when either plan assigns accounts one by one.

Presentation (compare.html) lives in report/compare_page.py and is imported only by
:meth:`Comparison.write`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .evaluate import assignment_frame, territory_frame
from .evaluate import kpis as plan_kpis
from .plan import Plan, check_output_folder, write_csv, write_folder_atomically

__all__ = ["Comparison", "compare"]


@dataclass
class Comparison:
    """Two plans and what differs between them; ``write`` makes the comparison folder."""

    plan_a: Plan
    plan_b: Plan
    moves: pd.DataFrame
    kpis: pd.DataFrame
    rep_changes: pd.DataFrame
    label_a: str = "A"
    label_b: str = "B"
    region_moves: pd.DataFrame | None = None

    def page(self, tiles: str | None = None) -> str:
        """compare.html as text (folium is imported only here)."""
        from .report.compare_page import compare_html

        return compare_html(self, tiles=tiles)

    def write(
        self, out: str | Path, *, force: bool = False, tiles: str | None = None, html: bool = True
    ) -> Path:
        """compare.html, moves.csv, kpis.csv, rep_changes.csv (region_moves.csv for two
        geography-mode plans), plan.xlsx: written whole or not at all."""
        out = Path(out)
        check_output_folder(out, force)
        _refuse_to_replace_an_input(out, (self.plan_a, self.plan_b))

        def fill(folder: Path) -> None:
            write_csv(self.moves, folder / "moves.csv")
            write_csv(self.kpis, folder / "kpis.csv")
            write_csv(self.rep_changes, folder / "rep_changes.csv")
            if self.region_moves is not None:
                write_csv(self.region_moves, folder / "region_moves.csv")
            from .report.plan_workbook import write_plan_workbook

            write_plan_workbook(folder)
            if html:
                (folder / "compare.html").write_text(self.page(tiles=tiles), encoding="utf-8")

        return write_folder_atomically(out, fill)


def _refuse_to_replace_an_input(out: Path, plans: tuple[Plan, Plan]) -> None:
    """``out`` must not be (or hold) a compared plan's folder or files: with --force the
    comparison would replace it, and the plan being compared would be lost."""
    inside = out.resolve()
    for made in plans:
        sources = [*made.files.values(), made.scenario.source]
        for source in (Path(s).resolve() for s in sources if s is not None):
            if source == inside or inside in source.parents:
                raise InputError(
                    Problem(
                        file=str(out),
                        message=f"the output folder holds a compared plan's file ({source}); "
                        "replacing it with the comparison would delete that plan",
                        fix="choose another --out",
                    )
                )


def _owners(plan: Plan) -> pd.DataFrame:
    frame = plan.assignments[["account_id", "rep_id"]].copy()
    frame["account_id"] = frame["account_id"].astype(str)
    frame["rep_id"] = frame["rep_id"].astype(object).where(frame["rep_id"].notna(), None)
    return frame.drop_duplicates("account_id")


def as_assigned(plan: Plan) -> Plan:
    """``plan`` with every number its owners imply recomputed from its ``rep_id`` column
    (evaluate.py): distances, moved flags, rep names and the territories' loads, targets,
    deviations and travel. A plan folder whose assignments.csv was changed by hand (a rep
    typed over in Excel) is compared as it now stands, not with the numbers it was written
    with; for a folder as written the numbers are the same. Columns the recomputation does
    not make (passed-through account columns, quotas) are kept as they were."""
    owners = _owners(plan).set_index("account_id")["rep_id"]
    metrics = [rule.metric for rule in plan.scenario.balance]
    assignments = assignment_frame(plan.accounts, plan.reps, owners)
    kept = [c for c in plan.assignments.columns if c not in assignments.columns]
    if kept:
        extra = plan.assignments.drop_duplicates("account_id").set_index("account_id")[kept]
        assignments = assignments.join(extra, on="account_id")
    territories = territory_frame(assignments, plan.accounts, plan.reps, metrics)
    kept = [c for c in plan.territories.columns if c not in territories.columns]
    if kept:
        extra = plan.territories.drop_duplicates("rep_id").set_index("rep_id")[kept]
        territories = territories.join(extra, on="rep_id")
    return replace(plan, assignments=assignments, territories=territories)


def _account_numbers(plan_a: Plan, plan_b: Plan) -> pd.DataFrame:
    """name, potential, workload per account; B's inputs win where both have the account."""
    columns = ["account_id", "name", "potential", "workload"]
    both = pd.concat([plan_b.accounts[columns], plan_a.accounts[columns]], ignore_index=True)
    both["account_id"] = both["account_id"].astype(str)
    return both.drop_duplicates("account_id").set_index("account_id")


def moves_between(plan_a: Plan, plan_b: Plan) -> pd.DataFrame:
    """Accounts whose rep differs between the plans (sorted by account_id)."""
    joined = _owners(plan_a).merge(
        _owners(plan_b), on="account_id", how="outer", suffixes=("_a", "_b")
    )
    rep_a = joined["rep_id_a"].astype(object).where(joined["rep_id_a"].notna(), None)
    rep_b = joined["rep_id_b"].astype(object).where(joined["rep_id_b"].notna(), None)
    differs = np.array([a != b for a, b in zip(rep_a, rep_b)], dtype=bool)
    changed = joined.loc[differs].sort_values("account_id", kind="stable")
    numbers = _account_numbers(plan_a, plan_b)
    return pd.DataFrame(
        {
            "account_id": changed["account_id"].to_numpy(),
            "name": changed["account_id"].map(numbers["name"]).to_numpy(),
            "rep_a": rep_a[differs].to_numpy() if differs.any() else [],
            "rep_b": rep_b[differs].to_numpy() if differs.any() else [],
            "potential": changed["account_id"].map(numbers["potential"]).astype(float).to_numpy(),
            "workload": changed["account_id"].map(numbers["workload"]).astype(float).to_numpy(),
        }
    ).reset_index(drop=True)


def _region_table(plan: Plan) -> pd.DataFrame | None:
    """A geography-mode plan's regions.csv with a potential column (from its accounts that
    follow their region when potential is not a balance metric); None in account mode."""
    table = plan.extra_files.get("regions.csv")
    if table is None or plan.scenario.unit != "region":
        return None
    table = table.assign(region_id=table["region_id"].astype(str))
    if "potential" not in table.columns:
        accounts = plan.accounts
        following = ~accounts["named"].astype(bool) if "named" in accounts else slice(None)
        by_region = accounts[following].groupby(accounts["region_id"].astype(str))["potential"]
        table["potential"] = table["region_id"].map(by_region.sum()).fillna(0.0).astype(float)
    return table


def region_moves_between(plan_a: Plan, plan_b: Plan) -> pd.DataFrame | None:
    """Regions whose rep differs between two geography-mode plans (sorted by region_id)."""
    table_a, table_b = _region_table(plan_a), _region_table(plan_b)
    if table_a is None or table_b is None:
        return None
    joined = table_a[["region_id", "rep_id"]].merge(
        table_b[["region_id", "rep_id"]], on="region_id", how="outer", suffixes=("_a", "_b")
    )
    rep_a = joined["rep_id_a"].astype(object).where(joined["rep_id_a"].notna(), None)
    rep_b = joined["rep_id_b"].astype(object).where(joined["rep_id_b"].notna(), None)
    differs = np.array([a != b for a, b in zip(rep_a, rep_b)], dtype=bool)
    loads = [c for c in table_b.columns if c not in ("rep_id", "previous_rep_id")]
    loads += [
        c for c in table_a.columns if c not in loads and c not in ("rep_id", "previous_rep_id")
    ]
    numbers = pd.concat([table_b, table_a], ignore_index=True).drop_duplicates("region_id")
    out = pd.DataFrame(
        {
            "region_id": joined.loc[differs, "region_id"].to_numpy(),
            "rep_a": rep_a[differs].to_numpy(),
            "rep_b": rep_b[differs].to_numpy(),
        }
    )
    out = out.merge(numbers[loads], on="region_id", how="left")
    return out.sort_values("region_id", kind="stable").reset_index(drop=True)


def _numbers(plan: Plan) -> dict:
    return plan_kpis(plan.assignments, plan.territories, plan.accounts, plan.scenario.balance)


def kpi_table(
    plan_a: Plan, plan_b: Plan, moves: pd.DataFrame, region_moves: pd.DataFrame | None = None
) -> pd.DataFrame:
    """kpis.csv: metric, a, b, delta (b - a)."""
    a, b = _numbers(plan_a), _numbers(plan_b)
    rows: list[tuple[str, float | None, float | None]] = []
    metrics = list(dict.fromkeys(list(a["balance"]) + list(b["balance"])))
    for metric in metrics:
        rows.append(
            (
                f"largest deviation: {metric}",
                a["balance"].get(metric, {}).get("max_abs_deviation"),
                b["balance"].get(metric, {}).get("max_abs_deviation"),
            )
        )
    rows.append(("travel cost (workload x km)", a["travel_cost"], b["travel_cost"]))
    rows.append(
        (
            "accounts moved from previous owners",
            a["disruption"]["moved_accounts"],
            b["disruption"]["moved_accounts"],
        )
    )
    rows.append(
        (
            "potential moved from previous owners",
            a["disruption"]["moved_potential"],
            b["disruption"]["moved_potential"],
        )
    )
    rows.append(("accounts changing owner from A to B", 0, int(len(moves))))
    rows.append(
        ("potential changing owner from A to B", 0.0, float(moves["potential"].fillna(0.0).sum()))
    )
    if region_moves is not None:
        rows.append(("regions changing owner from A to B", 0, int(len(region_moves))))
    if plan_a.quotas is not None and plan_b.quotas is not None:
        fairness = []
        for made in (plan_a, plan_b):
            quota = made.summary.get("quota", {})
            fairness.append(quota.get("max_relative_deviation"))
        rows.append(("quota fairness: largest deviation from fair share", *fairness))
    frame = pd.DataFrame(rows, columns=["metric", "a", "b"])
    frame["a"] = pd.to_numeric(frame["a"], errors="coerce")
    frame["b"] = pd.to_numeric(frame["b"], errors="coerce")
    frame["delta"] = frame["b"] - frame["a"]
    return frame


def rep_change_table(plan_a: Plan, plan_b: Plan) -> pd.DataFrame:
    """rep_changes.csv: accounts each rep holds in A and B, gained, lost, loads a/b, and
    quotas a/b with their change when both plans have quotas."""
    owners = _owners(plan_a).merge(
        _owners(plan_b), on="account_id", how="outer", suffixes=("_a", "_b")
    )
    names: dict[str, str] = {}
    for made in (plan_a, plan_b):
        for rep_id, name in zip(made.reps["rep_id"], made.reps["name"]):
            if isinstance(name, str) and name and str(rep_id) not in names:
                names[str(rep_id)] = name
    rep_ids = sorted(
        set(map(str, plan_a.reps["rep_id"]))
        | set(map(str, plan_b.reps["rep_id"]))
        | {r for r in owners["rep_id_a"].dropna()}
        | {r for r in owners["rep_id_b"].dropna()}
    )
    same = owners["rep_id_a"] == owners["rep_id_b"]
    gained = owners.loc[~same & owners["rep_id_b"].notna()].groupby("rep_id_b").size()
    lost = owners.loc[~same & owners["rep_id_a"].notna()].groupby("rep_id_a").size()
    count_a = owners.groupby("rep_id_a").size()
    count_b = owners.groupby("rep_id_b").size()
    out = pd.DataFrame({"rep_id": rep_ids})
    out["name"] = out["rep_id"].map(names).fillna("")
    out["accounts_a"] = out["rep_id"].map(count_a).fillna(0).astype(int)
    out["accounts_b"] = out["rep_id"].map(count_b).fillna(0).astype(int)
    out["gained"] = out["rep_id"].map(gained).fillna(0).astype(int)
    out["lost"] = out["rep_id"].map(lost).fillna(0).astype(int)
    metrics = list(
        dict.fromkeys(
            [r.metric for r in plan_a.scenario.balance]
            + [r.metric for r in plan_b.scenario.balance]
        )
    )
    for metric in metrics:
        for made, side in ((plan_a, "a"), (plan_b, "b")):
            column = f"{metric}_load"
            if column in made.territories.columns:
                load = (
                    made.territories.assign(rep_id=made.territories["rep_id"].astype(str))
                    .set_index("rep_id")[column]
                    .astype(float)
                )
                out[f"{metric}_{side}"] = out["rep_id"].map(load).fillna(0.0).round(6)
            else:
                out[f"{metric}_{side}"] = np.nan
    if plan_a.quotas is not None and plan_b.quotas is not None:
        # leadership's question after a re-balance: whose quota moved, and by how much
        for made, side in ((plan_a, "a"), (plan_b, "b")):
            quota = made.quotas.assign(rep_id=made.quotas["rep_id"].astype(str)).set_index(
                "rep_id"
            )["quota"]
            out[f"quota_{side}"] = out["rep_id"].map(quota.astype(float))
        out["quota_change"] = (out["quota_b"].fillna(0.0) - out["quota_a"].fillna(0.0)).round(2)
    return out


def compare(
    plan_a: Plan | str | Path,
    plan_b: Plan | str | Path,
    *,
    label_a: str | None = None,
    label_b: str | None = None,
) -> Comparison:
    """Compare two plans (Plan objects or plan folders)."""
    if not isinstance(plan_a, Plan):
        label_a = label_a or Path(plan_a).name
        plan_a = Plan.read(plan_a)
    if not isinstance(plan_b, Plan):
        label_b = label_b or Path(plan_b).name
        plan_b = Plan.read(plan_b)
    plan_a, plan_b = as_assigned(plan_a), as_assigned(plan_b)
    moves = moves_between(plan_a, plan_b)
    region_moves = region_moves_between(plan_a, plan_b)
    return Comparison(
        plan_a=plan_a,
        plan_b=plan_b,
        moves=moves,
        kpis=kpi_table(plan_a, plan_b, moves, region_moves),
        rep_changes=rep_change_table(plan_a, plan_b),
        label_a=label_a or plan_a.scenario.name,
        label_b=label_b or plan_b.scenario.name,
        region_moves=region_moves,
    )
