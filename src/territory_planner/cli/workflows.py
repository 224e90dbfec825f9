"""The commands that change a made plan: quota, rebalance, compare."""

from __future__ import annotations

from pathlib import Path

import click

from ..compare import compare as compare_plans
from ..errors import ProblemList
from ..folders import check_output_folder
from ..number_format import money_amount, tolerance_percent
from ..plan import Plan, requota
from ..rebalance import rebalance as rebalance_plan
from .common import Reporter, guarded
from .printing import print_quota_reasons


class MoneyType(click.ParamType):
    """An amount above zero as a planner types it: 48000000, 48,000,000.00, '$48,000,000'."""

    name = "amount"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            amount = money_amount(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)
        if not (amount > 0 and amount != float("inf")):
            self.fail(f"'{value}' must be an amount above 0", param, ctx)
        return amount


MONEY = MoneyType()


@click.command(name="quota")
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="new plan folder to write (PLAN_DIR is left as it was)",
)
@click.option(
    "--target",
    type=MONEY,
    default=None,
    help="company target, e.g. 48000000 or '$48,000,000' (replaces the scenario's target or "
    "per-region targets)",
)
@click.option("--method", type=click.Choice(["potential", "history", "blend"]), default=None)
@click.option(
    "--alpha",
    type=click.FloatRange(min=0, max=1),
    default=None,
    help="weight on potential in blend",
)
@click.option("--min-growth", type=float, default=None, help="quota >= revenue x (1 + this)")
@click.option("--max-growth", type=float, default=None, help="quota <= revenue x (1 + this)")
@click.option("--force", is_flag=True, help="replace an existing output folder")
@click.option("--tiles", default=None, help="online tile provider for the map")
@guarded
def quota_command(
    plan_dir: Path, out: Path, target, method, alpha, min_growth, max_growth, force, tiles
) -> None:
    """Set or re-set quotas on an existing plan folder; writes a new folder."""
    check_output_folder(out, force)  # before any reading or solving
    made = requota(
        Plan.read(plan_dir),
        target=target,
        method=method,
        alpha=alpha,
        min_growth=min_growth,
        max_growth=max_growth,
    )
    made.write(out, force=force, tiles=tiles)
    quota = made.summary["quota"]
    click.echo(
        f"quotas for '{made.scenario.name}': target {quota['target']:,.0f}, method "
        f"{quota['method']}"
    )
    click.echo(
        f"  largest deviation from fair share {quota['max_relative_deviation']:.2%} "
        f"(proven minimum {quota['lower_bound']:.2%})"
    )
    print_quota_reasons(quota)
    click.echo(f"written: {out}")
    click.echo(f"  quotas: {out / 'quotas.csv'}")


def _is_whole(value) -> bool:
    try:
        return float(value).is_integer()
    except (TypeError, ValueError):
        return False


def parse_capacities(values: tuple[str, ...]) -> dict[str, float]:
    """``REP_ID=0.5`` pairs; every malformed one is reported at once (exit 2)."""
    problems = ProblemList()
    capacities: dict[str, float] = {}
    for text in values:
        rep_id, sep, number = text.partition("=")
        try:
            capacities[rep_id.strip()] = float(number)
            if not sep or not rep_id.strip():
                raise ValueError(text)
        except ValueError:
            problems.add("--capacity", f"'{text}' is not REP_ID=NUMBER", fix="e.g. R07=0.5")
    problems.raise_if_any()
    return capacities


@click.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="plan folder to write (a full plan plus moves.csv; region_moves.csv in region mode)",
)
@click.option(
    "--hire",
    "hires",
    type=click.Path(path_type=Path),
    default=None,
    help="CSV/XLSX of new reps, read like a reps file (status defaults to new)",
)
@click.option("--leave", "leaves", multiple=True, help="rep_id of a rep who leaves (repeat)")
@click.option(
    "--capacity",
    "capacities",
    multiple=True,
    help="REP_ID=FTE, a changed capacity, e.g. R07=0.5 (repeat)",
)
@click.option(
    "--max-moved-share",
    type=click.FloatRange(min=0, max=1),
    default=None,
    help="largest share of potential that may change owner",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="seconds for the solve (default: the scenario's)",
)
@click.option(
    "--tradeoff",
    is_flag=True,
    help="also write tradeoff.csv: best balance reachable per disruption budget",
)
@click.option("--force", is_flag=True, help="replace an existing output folder")
@click.option("--tiles", default=None, help="online tile provider for the map")
@click.option("--no-map", is_flag=True, help="skip map.html")
@click.option("--quiet", is_flag=True, help="no progress lines")
@guarded
def rebalance(
    plan_dir: Path,
    out: Path,
    hires,
    leaves,
    capacities,
    max_moved_share,
    time_limit,
    tradeoff,
    force,
    tiles,
    no_map,
    quiet,
) -> None:
    """Re-balance PLAN_DIR after hires, departures and capacity changes, moving as little
    potential as possible; writes the new plan and moves.csv."""
    changes = parse_capacities(capacities)
    check_output_folder(out, force)  # before any reading or solving
    reporter = Reporter(quiet=quiet)
    try:
        made = rebalance_plan(
            Plan.read(plan_dir),
            hires=hires,
            leaves=leaves,
            capacities=changes,
            max_moved_share=max_moved_share,
            time_limit=time_limit,
            tradeoff=tradeoff or None,
            progress=reporter,
            # the time limit holds end to end: reading from here, writing kept room for
            started=reporter.started,
            will_write=True,
        )
        reporter(f"writing {out}")
        made.write(out, force=force, tiles=tiles, map_html=not no_map)
    finally:
        reporter.close()
    disruption = made.summary["disruption"]
    moves = made.extra_files["moves.csv"]
    click.echo(f"re-balanced '{made.summary['scenario']}': {made.summary['status']}")
    click.echo(
        f"  moved {disruption['moved_accounts']} accounts, "
        f"{disruption['moved_potential']:,.1f} potential "
        f"({disruption['moved_share']:.2%}); proven bound {disruption['bound']:,.1f} "
        f"(gap {disruption['gap']:.3%}); forced by departures "
        f"{disruption['forced_share']:.2%}"
    )
    for reason, count in moves["reason"].value_counts().sort_index().items():
        click.echo(f"    {reason}: {count}")
    if "region_moves.csv" in made.extra_files:
        connected = ", every territory connected" if made.summary["contiguity"]["proven"] else ""
        click.echo(f"  {disruption['moved_regions']} regions change hands{connected}")
    click.echo(
        f"  travel cost {made.summary['travel_cost']:,.1f} (proven lower bound "
        f"{made.summary['lower_bound']:,.1f} at that disruption)"
    )
    for metric, numbers in made.summary["balance"].items():
        click.echo(
            f"  {metric}: largest deviation {numbers['max_abs_deviation']:.2%} "
            f"(tolerance {tolerance_percent(numbers['tolerance'])})"
        )
    if "tradeoff.csv" in made.extra_files:
        click.echo("  trade-off (budget -> moved share, largest deviation, proven bound):")
        for row in made.extra_files["tradeoff.csv"].to_dict("records"):
            if row["max_deviation"] is None or row["max_deviation"] != row["max_deviation"]:
                click.echo(f"    {row['moved_share_budget']:6.1%}: {row['status']}")
            else:
                bound = row["bound"] if row["bound"] is not None else float("nan")
                click.echo(
                    f"    {row['moved_share_budget']:6.1%}: moved "
                    f"{row['moved_share']:.1%}, deviation {row['max_deviation']:.2%}, "
                    f"bound {bound:.2%} ({row['status']})"
                )
    click.echo(f"written: {out}")


@click.command()
@click.argument("plan_a", type=click.Path(path_type=Path))
@click.argument("plan_b", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="folder for compare.html, moves.csv, kpis.csv, rep_changes.csv (+ region_moves.csv)",
)
@click.option("--force", is_flag=True, help="replace an existing output folder")
@click.option("--tiles", default=None, help="online tile provider for the maps")
@guarded
def compare(plan_a: Path, plan_b: Path, out: Path, force, tiles) -> None:
    """Compare two plan folders: maps side by side, KPIs, gains and losses, moves."""
    check_output_folder(out, force)  # before any reading or solving
    comparison = compare_plans(plan_a, plan_b)
    comparison.write(out, force=force, tiles=tiles)
    click.echo(f"A: {comparison.label_a}   B: {comparison.label_b}")
    for row in comparison.kpis.to_dict("records"):
        shares = row["metric"].startswith(("largest deviation", "quota fairness"))
        # counts (accounts, regions changing owner) read as counts: 2, not 2.0
        counts = all(_is_whole(row[k]) for k in ("a", "b", "delta"))
        number = "{:.2%}" if shares else ("{:,.0f}" if counts else "{:,.1f}")
        delta = "{:+.2%}" if shares else ("{:+,.0f}" if counts else "{:+,.1f}")
        click.echo(
            f"  {row['metric']}: {number.format(row['a'])} -> "
            f"{number.format(row['b'])} ({delta.format(row['delta'])})"
        )
    click.echo(f"  {len(comparison.moves)} accounts change owner")
    if comparison.region_moves is not None:
        click.echo(f"  {len(comparison.region_moves)} regions change owner")
    click.echo(f"written: {out}")
    click.echo(f"  page: {out / 'compare.html'}")
