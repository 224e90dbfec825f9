"""The sweep command: every variant of a sweep file solved on Dask."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import InputError, Problem
from ..sweep import finished_variants, sweep
from .common import Reporter, guarded


@click.command(name="sweep")
@click.argument("sweep_file", type=click.Path(path_type=Path))
@click.option(
    "--out", "out", required=True, type=click.Path(path_type=Path), help="sweep folder to write"
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="worker processes of the local Dask cluster (default: one per core)",
)
@click.option(
    "--scheduler", default=None, help="address of a running Dask scheduler, e.g. tcp://host:8786"
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="seconds per variant (default: the scenario's)",
)
@click.option("--resume", is_flag=True, help="skip variants whose plan folder is complete")
@click.option("--force", is_flag=True, help="solve every variant again into an existing folder")
@click.option("--no-map", is_flag=True, help="skip each variant's map.html")
@click.option("--quiet", is_flag=True, help="no progress lines")
@guarded
def sweep_command(
    sweep_file: Path, out: Path, workers, scheduler, time_limit, resume, force, no_map, quiet
) -> None:
    """Solve every variant of SWEEP_FILE on Dask; writes sweep.csv/.xlsx/.html and plans/."""
    if workers is not None and scheduler is not None:
        raise InputError(
            Problem(
                file="--scheduler",
                message="give either --workers (a local cluster) or --scheduler, not both",
            )
        )
    reporter = Reporter(quiet=quiet)
    try:
        made = sweep(
            sweep_file,
            out=out,
            workers=workers,
            scheduler=scheduler,
            time_limit=time_limit,
            resume=resume,
            force=force,
            map_html=not no_map,
            progress=reporter,
        )
    except KeyboardInterrupt:
        reporter.close()
        if not out.exists():
            raise  # nothing was written (guarded says so)
        finished = finished_variants(out)
        click.echo(
            f"interrupted: {out} is kept with the {len(finished)} variant plan folder(s) "
            "written so far and no sweep table; run the same command with --resume to "
            "finish it (or --force to start again)",
            err=True,
        )
        sys.exit(130)
    finally:
        reporter.close()
    rows = made.rows
    click.echo(f"sweep of {len(rows)} variants ({made.resumed} resumed)")
    for status, count in rows["status"].value_counts().sort_index().items():
        click.echo(f"  {status}: {count}")
    if made.dashboard:
        click.echo(f"  Dask dashboard was at {made.dashboard}")
    click.echo(f"written: {made.out}")
    click.echo(f"  table: {made.out / 'sweep.csv'} and {made.out / 'sweep.xlsx'}")
    click.echo(f"  page: {made.out / 'sweep.html'}")
