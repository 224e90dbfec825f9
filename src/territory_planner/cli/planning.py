"""The planning commands: validate, plan, demo, show and evaluate."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import click

from ..data import load_scenario
from ..data.far_accounts import far_accounts
from ..folders import check_output_folder
from ..number_format import tolerance_percent
from ..plan import Plan, check_hierarchy, plan
from ..quota import ramp_notes
from ..regions import region_overview
from ..scoring import evaluate as evaluate_assignment
from .common import Reporter, guarded, plan_options
from .printing import plain, print_plan_summary


def demo_scenario_path() -> Path:
    """The bundled demo scenario (packaged as territory_planner.scenarios).

    From a source checkout run with PYTHONPATH=src the subpackage is not importable, so the
    repository's scenarios/ folder next to src/ is used instead.
    """
    try:
        path = Path(str(resources.files("territory_planner.scenarios") / "demo" / "scenario.yaml"))
        if path.exists():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[3] / "scenarios" / "demo" / "scenario.yaml"


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@guarded
def validate(scenario: Path) -> None:
    """Read and check a scenario and its data; print what was read. Writes nothing."""
    data = load_scenario(scenario)
    check_hierarchy(data)  # hierarchy levels and quota references, as plan checks them
    summary = data.summary()
    click.echo(f"scenario '{summary['scenario']}' is valid")
    click.echo(
        f"  accounts: {summary['accounts']:,} "
        f"({summary['geocoded_from_postal_code']:,} placed by postal code, "
        f"{summary['locked_accounts']:,} locked)"
    )
    statuses = ", ".join(f"{n} {s}" for s, n in summary["reps_by_status"].items() if n)
    click.echo(f"  reps: {summary['reps']:,} ({statuses})")
    if data.settings.unit == "region":
        _echo_geography(region_overview(data))
    elif summary["regions"]:
        click.echo(f"  regions: {summary['regions']:,}")
    tolerances = {rule.metric: rule.tolerance for rule in data.settings.balance}
    for metric, spread in summary["metrics"].items():
        balanced = (
            f" (balanced within {tolerance_percent(tolerances[metric])})"
            if metric in tolerances
            else ""
        )
        click.echo(
            f"  total {metric}: {spread['total']:,.1f}, range "
            f"{plain(spread['min'])}..{plain(spread['max'])}{balanced}"
        )
    capacity = summary["capacity"]
    click.echo(
        f"  total capacity: {plain(capacity['total'])}, range "
        f"{plain(capacity['min'])}..{plain(capacity['max'])}"
    )
    for file, columns in summary["decimal_marks"].items():
        click.echo(f"  numbers in {Path(file).name}:")
        for column, reason in columns.items():
            click.echo(f"    {column}: {reason}")
    if summary["defaults"]:
        click.echo("  defaults applied:")
        for default in summary["defaults"]:
            click.echo(f"    - {default}")
    for note in ramp_notes(data.reps, data.settings.quota):
        click.echo(f"  quota note: {note}")
    far = far_accounts(data.accounts, data.reps)
    if far["count"]:
        click.echo(
            f"  note: {far['count']:,} account(s) lie far from every rep (a lat/lon typo or "
            "swap looks like this; a remote account that is really there does too):"
        )
        for row, account, km in far["first"]:
            click.echo(f"    row {row}: {account}, {km:,.0f} km from the nearest rep")


def _echo_geography(overview: dict) -> None:
    """validate's lines on the map a geography-mode plan is made of."""
    contiguity = "each territory one connected piece" if overview["contiguous"] else "off"
    click.echo(
        f"  regions: {overview['regions']:,} ({overview['empty_regions']:,} with no accounts, "
        f"{overview['named_accounts']:,} named accounts assigned on their own, "
        f"{overview['locked_regions']:,} locked to their rep); "
        f"{overview['adjacency']} adjacency, contiguity: {contiguity}"
    )
    links = overview["island_links"]
    if links:
        click.echo(
            f"  island links (no neighbour on the map; joined to the nearest region): {len(links)}"
        )
        for link in links:
            ends = [
                f"{link[f'{end}_name']} ({link[end]})" if link[f"{end}_name"] else link[end]
                for end in ("from", "to")
            ]
            click.echo(f"    - {ends[0]} -> {ends[1]} ({link['km']:,.1f} km)")


def _plan_and_write(
    scenario_path: Path, out: Path, *, time_limit, gap, solver, force, tiles, quiet
) -> None:
    check_output_folder(out, force)  # before any reading or solving
    reporter = Reporter(quiet=quiet)
    try:
        reporter(f"reading {scenario_path}")
        # the time limit holds end to end: reading from here, writing kept room for
        made = plan(
            scenario_path,
            time_limit=time_limit,
            gap=gap,
            solver=solver,
            progress=reporter,
            started=reporter.started,
            will_write=True,
        )
        reporter(f"writing {out}")
        made.write(out, force=force, tiles=tiles)
    finally:
        reporter.close()
    print_plan_summary(made, out)


@click.command(name="plan")
@click.argument("scenario", type=click.Path(path_type=Path))
@plan_options
@guarded
def plan_command(scenario: Path, out: Path, time_limit, gap, solver, force, tiles, quiet) -> None:
    """Solve SCENARIO and write a plan folder (assignments, territories, summary, map)."""
    _plan_and_write(
        scenario,
        out,
        time_limit=time_limit,
        gap=gap,
        solver=solver,
        force=force,
        tiles=tiles,
        quiet=quiet,
    )


@click.command()
@plan_options
@guarded
def demo(out: Path, time_limit, gap, solver, force, tiles, quiet) -> None:
    """Run the bundled national demo (about 2,000 accounts, 25 reps) end to end."""
    _plan_and_write(
        demo_scenario_path(),
        out,
        time_limit=time_limit,
        gap=gap,
        solver=solver,
        force=force,
        tiles=tiles,
        quiet=quiet,
    )


def is_compare_folder(folder: Path) -> bool:
    """A folder written by ``compare`` (kpis.csv, no summary.json): not a plan folder."""
    return (folder / "kpis.csv").is_file() and not (folder / "summary.json").exists()


@click.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print summary.json as it is")
@guarded
def show(plan_dir: Path, as_json: bool) -> None:
    """Print a plan folder's summary: status and gap in words, today versus the plan, the
    reps furthest from their targets, quotas, where the files are (--json: the raw summary).
    A folder written by compare prints its KPIs."""
    if is_compare_folder(plan_dir) and not as_json:
        from ..report.summary_text import compare_text  # report/ loads folium

        click.echo(compare_text(plan_dir))
        return
    made = Plan.read(plan_dir)
    if as_json:
        click.echo(json.dumps(made.summary, indent=2))
        return
    from ..report.summary_text import summary_text  # report/ loads folium

    click.echo(summary_text(made.summary, made.territories, plan_dir))


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path), help="plan folder to write"
)
@click.option(
    "--assignments",
    "assignments",
    type=click.Path(path_type=Path),
    default=None,
    help="CSV/XLSX of account_id,rep_id (or the accounts file's names, e.g. Id,OwnerId); "
    "default: today's owners",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="seconds for proving the scenario's lower bound (default: the scenario's)",
)
@click.option("--force", is_flag=True, help="replace an existing output folder")
@click.option("--tiles", default=None, help="online tile provider for the map")
@click.option("--quiet", is_flag=True, help="no progress lines")
@guarded
def evaluate(scenario: Path, out: Path, assignments, time_limit, force, tiles, quiet) -> None:
    """Score an assignment of SCENARIO without optimising it (today's owners, or a file such
    as a plan edited by hand) against the scenario's proven lower bound; writes a plan folder."""
    from ..report.summary_text import status_sentence  # report/ loads folium

    check_output_folder(out, force)  # before any reading or solving
    reporter = Reporter(quiet=quiet)
    try:
        made = evaluate_assignment(
            scenario,
            assignments,
            time_limit=time_limit,
            progress=reporter,
            started=reporter.started,  # the limit holds end to end, as for plan
            will_write=True,
        )
        reporter(f"writing {out}")
        made.write(out, force=force, tiles=tiles)
    finally:
        reporter.close()
    summary = made.summary
    click.echo(f"plan '{summary['scenario']}': {status_sentence(summary)}")
    lower = summary["lower_bound"]
    click.echo(
        f"  objective {summary['objective']:,.1f}, proven lower bound "
        + (f"{lower:,.1f}" if lower is not None else "none")
    )
    click.echo(f"  travel cost {summary['travel_cost']:,.1f} (workload x km)")
    for metric, numbers in summary["balance"].items():
        broken = len(numbers["broken"])
        click.echo(
            f"  {metric}: largest deviation {numbers['max_abs_deviation']:.2%} "
            f"(tolerance {tolerance_percent(numbers['tolerance'])}), {broken} rep"
            f"{'s' if broken != 1 else ''} outside the band"
        )
    click.echo(f"written: {out}")
