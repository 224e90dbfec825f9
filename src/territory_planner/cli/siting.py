"""The commands that choose where reps sit: locate (bases for a count) and headcount."""

from __future__ import annotations

from pathlib import Path

import click

from ..folders import check_output_folder
from ..headcount import headcount, locate
from .common import Reporter, guarded, plan_options
from .printing import print_bases


@click.command(name="locate")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--count",
    type=click.IntRange(min=1),
    default=None,
    help="number of bases (default: the scenario's locate.count)",
)
@click.option(
    "--candidates",
    default=None,
    help="accounts | reps | PATH.csv with site_id,lat,lon (default: scenario's)",
)
@plan_options
@guarded
def locate_command(
    scenario: Path, count, candidates, out: Path, time_limit, gap, solver, force, tiles, quiet
) -> None:
    """Choose home bases for SCENARIO and assign accounts to them (a plan folder)."""
    check_output_folder(out, force)  # before any reading or solving
    reporter = Reporter(quiet=quiet)
    try:
        made = locate(
            scenario,
            count,
            candidates=candidates,
            time_limit=time_limit,
            gap=gap,
            solver=solver,
            progress=reporter,
            # the time limit holds end to end: reading from here, writing kept room for
            started=reporter.started,
            will_write=True,
        )
        made.write(out, force=force, tiles=tiles)
    finally:
        reporter.close()
    print_bases(made, out)


@click.command(name="headcount")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option(
    "--max-distance",
    "max_distance",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="km from base to any of its accounts",
)
@click.option(
    "--max-load",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="most workload one rep may carry",
)
@click.option("--candidates", default=None, help="accounts | reps | PATH.csv")
@plan_options
@guarded
def headcount_command(
    scenario: Path,
    max_distance,
    max_load,
    candidates,
    out: Path,
    time_limit,
    gap,
    solver,
    force,
    tiles,
    quiet,
) -> None:
    """Smallest number of reps for which SCENARIO's bands and limits can be met.

    Needs --max-distance or --max-load (or a distance limit in the scenario): without a
    limit one base always meets bands re-based on one share."""
    check_output_folder(out, force)  # before any reading or solving
    reporter = Reporter(quiet=quiet)
    try:
        found = headcount(
            scenario,
            max_distance_km=max_distance,
            max_load=max_load,
            candidates=candidates,
            time_limit=time_limit,
            gap=gap,
            solver=solver,
            progress=reporter,
            started=reporter.started,
            will_write=True,
        )
        found.plan.write(out, force=force, tiles=tiles)
    finally:
        reporter.close()
    click.echo(f"smallest headcount: {found.count} (lower bound {found.lower_bound})")
    for step in found.checked:
        click.echo(f"  {step['count']} reps: {step['status']} ({step['seconds']:.1f} s)")
    print_bases(found.plan, out)
