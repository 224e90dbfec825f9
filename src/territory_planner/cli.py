"""The command line: parse, call the library, map errors to exit codes. Nothing more.

Exit codes (DESIGN.md): 0 done; 2 bad input (every problem listed); 3 infeasible scenario
(the reason named); 4 the solver stopped without any feasible plan.
"""

from __future__ import annotations

import json
import sys
import time
from importlib import resources
from pathlib import Path

import click

from .errors import InfeasibleError, InputError, Problem, SolverError, TerritoryPlannerError

MAX_PROBLEM_LINES = 60


class Reporter:
    """Progress: a live status line on a terminal, plain timestamped lines otherwise."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.started = time.perf_counter()
        self.interactive = sys.stderr.isatty()
        self._status = None
        if self.interactive and not quiet:
            from rich.console import Console

            self._console = Console(stderr=True)
            self._status = self._console.status("starting")
            self._status.start()

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.started
        if self._status is not None:
            self._status.update(f"[{elapsed:6.1f}s] {message}")
            self._console.log(message)
        else:
            click.echo(f"[{elapsed:6.1f}s] {message}", err=True)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def fail(error: TerritoryPlannerError) -> None:
    """Print one clear error (all problems of an InputError) and exit with its code."""
    if isinstance(error, InputError):
        click.echo(
            f"error: {len(error.problems)} problem(s) in the inputs; nothing was written", err=True
        )
        for problem in error.problems[:MAX_PROBLEM_LINES]:
            click.echo(f"  - {problem}", err=True)
        if len(error.problems) > MAX_PROBLEM_LINES:
            click.echo(f"  ... and {len(error.problems) - MAX_PROBLEM_LINES} more", err=True)
    elif isinstance(error, InfeasibleError):
        click.echo("error: the scenario is infeasible; nothing was written", err=True)
        for reason in error.reasons:
            click.echo(f"  - {reason}", err=True)
    elif isinstance(error, SolverError):
        click.echo(f"error: the solver found no feasible plan: {error}", err=True)
    else:
        click.echo(f"error: {error}", err=True)
    sys.exit(error.exit_code)


def guarded(function):
    """Run a command body; domain errors become exit codes, Ctrl-C a clean exit."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except TerritoryPlannerError as error:
            fail(error)
        except OSError as error:
            # a path the planner gave that cannot be used (--out under a file, a read-only
            # folder, a full disk): name it instead of a traceback; the write was atomic
            fail(
                InputError(
                    Problem(
                        file=str(error.filename or "output"),
                        message=f"cannot be used: {error.strerror or error}",
                        fix="check the path, its permissions and the free disk space",
                    )
                )
            )
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was written", err=True)
            sys.exit(130)

    return wrapper


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
    return Path(__file__).resolve().parents[2] / "scenarios" / "demo" / "scenario.yaml"


def print_plan_summary(made, out: Path) -> None:
    summary = made.summary
    click.echo(f"plan '{summary['scenario']}': {summary['status']}")
    click.echo(
        f"  objective {summary['objective']:,.1f}, proven lower bound "
        f"{summary['lower_bound']:,.1f}, gap {summary['gap']:.3%}"
    )
    click.echo(f"  travel cost {summary['travel_cost']:,.1f} (workload x km)")
    moved = summary["disruption"]
    click.echo(
        f"  moved {moved['moved_accounts']} accounts, {moved['moved_share']:.1%} of potential"
    )
    for metric, numbers in summary["balance"].items():
        click.echo(
            f"  {metric}: largest deviation {numbers['max_abs_deviation']:.2%} "
            f"(tolerance {numbers['tolerance']:.0%})"
        )
    if "quota" in summary:
        quota = summary["quota"]
        click.echo(
            f"  quotas: target {quota['target']:,.0f}, largest deviation from fair share "
            f"{quota['max_relative_deviation']:.2%}"
        )
        print_quota_reasons(quota)
    from .report.summary_text import today_lines

    for line in today_lines(summary):
        click.echo(line)
    click.echo(f"  solved in {summary['total_seconds']:.1f} s")
    click.echo(f"written: {out}")
    click.echo(f"  map: {out / 'map.html'}")


def print_quota_reasons(quota: dict) -> None:
    """Under the quota line: the reps farthest from their fair share with the rule that binds
    each, and where capacity and ramp both scale a share."""
    for record in quota.get("largest_deviations", []):
        click.echo(f"    {record['explanation']}")
    for note in quota.get("ramp_notes", []):
        click.echo(f"    note: {note}")


@click.group()
@click.version_option(package_name="territory-planner")
def main() -> None:
    """Sales territory and quota planning as linear programs."""


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@guarded
def validate(scenario: Path) -> None:
    """Read and check a scenario and its data; print what was read. Writes nothing."""
    from .data import load_scenario

    data = load_scenario(scenario)
    summary = data.summary()
    click.echo(f"scenario '{summary['scenario']}' is valid")
    click.echo(
        f"  accounts: {summary['accounts']:,} "
        f"({summary['geocoded_from_postal_code']:,} placed by postal code, "
        f"{summary['locked_accounts']:,} locked)"
    )
    statuses = ", ".join(f"{n} {s}" for s, n in summary["reps_by_status"].items() if n)
    click.echo(f"  reps: {summary['reps']:,} ({statuses})")
    if summary["regions"]:
        click.echo(f"  regions: {summary['regions']:,}")
    tolerances = {rule.metric: rule.tolerance for rule in data.settings.balance}
    for metric, spread in summary["metrics"].items():
        balanced = f" (balanced within {tolerances[metric]:.0%})" if metric in tolerances else ""
        click.echo(
            f"  total {metric}: {spread['total']:,.1f}, range "
            f"{_plain(spread['min'])}..{_plain(spread['max'])}{balanced}"
        )
    capacity = summary["capacity"]
    click.echo(
        f"  total capacity: {_plain(capacity['total'])}, range "
        f"{_plain(capacity['min'])}..{_plain(capacity['max'])}"
    )
    for file, columns in summary["decimal_marks"].items():
        click.echo(f"  numbers in {Path(file).name}:")
        for column, reason in columns.items():
            click.echo(f"    {column}: {reason}")
    if summary["defaults"]:
        click.echo("  defaults applied:")
        for default in summary["defaults"]:
            click.echo(f"    - {default}")
    from .quota import ramp_notes

    for note in ramp_notes(data.reps, data.settings.quota):
        click.echo(f"  quota note: {note}")


def _plain(value: float) -> str:
    """1,234,567.89 / 48,718 / 0.5: thousands separated, at most two decimals."""
    text = f"{value:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plan_and_write(
    scenario_path: Path, out: Path, *, time_limit, gap, solver, force, tiles, quiet
) -> None:
    from .plan import plan

    if out.exists() and not force:
        raise InputError(f"output folder {out} already exists; pass --force to replace it")
    reporter = Reporter(quiet=quiet)
    try:
        reporter(f"reading {scenario_path}")
        made = plan(scenario_path, time_limit=time_limit, gap=gap, solver=solver, progress=reporter)
        reporter(f"writing {out}")
        made.write(out, force=force, tiles=tiles)
    finally:
        reporter.close()
    print_plan_summary(made, out)


_plan_options = [
    click.option(
        "--out", "out", required=True, type=click.Path(path_type=Path), help="plan folder to write"
    ),
    click.option(
        "--time-limit",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="seconds for the whole solve (default: the scenario's)",
    ),
    click.option(
        "--gap",
        type=click.FloatRange(min=0, max=1),
        default=None,
        help="stop when the proven gap is at most this (e.g. 0.005)",
    ),
    click.option("--solver", default=None, help="PuLP solver name (default: highs)"),
    click.option("--force", is_flag=True, help="replace an existing output folder"),
    click.option(
        "--tiles",
        default=None,
        help="online tile provider for the map (default: none, works offline)",
    ),
    click.option("--quiet", is_flag=True, help="no progress lines"),
]


def plan_options(function):
    for option in reversed(_plan_options):
        function = option(function)
    return function


@main.command(name="plan")
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


@main.command()
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


@main.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print summary.json as it is")
@guarded
def show(plan_dir: Path, as_json: bool) -> None:
    """Print a plan folder's summary: status and gap in words, today versus the plan, the
    reps furthest from their targets, where the files are (--json: the raw summary)."""
    from .plan import Plan

    made = Plan.read(plan_dir)
    if as_json:
        click.echo(json.dumps(made.summary, indent=2))
        return
    from .report.summary_text import summary_text

    click.echo(summary_text(made.summary, made.territories, plan_dir))


@main.command()
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
    from .report.summary_text import status_sentence
    from .scoring import evaluate as evaluate_assignment

    if out.exists() and not force:
        raise InputError(f"output folder {out} already exists; pass --force to replace it")
    reporter = Reporter(quiet=quiet)
    try:
        made = evaluate_assignment(scenario, assignments, time_limit=time_limit, progress=reporter)
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
            f"(tolerance {numbers['tolerance']:.0%}), {broken} rep"
            f"{'s' if broken != 1 else ''} outside the band"
        )
    click.echo(f"written: {out}")


@main.command(name="quota")
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
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="company target (replaces the scenario's target or per-region targets)",
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
    from .plan import Plan, requota

    if out.exists() and not force:
        raise InputError(f"output folder {out} already exists; pass --force to replace it")
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


def parse_capacities(values: tuple[str, ...]) -> dict[str, float]:
    """``REP_ID=0.5`` pairs; every malformed one is reported at once (exit 2)."""
    from .errors import ProblemList

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


@main.command()
@click.argument("plan_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="plan folder to write (a full plan plus moves.csv)",
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
    from .plan import Plan
    from .rebalance import rebalance as rebalance_plan

    changes = parse_capacities(capacities)
    if out.exists() and not force:
        raise InputError(f"output folder {out} already exists; pass --force to replace it")
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
    click.echo(
        f"  travel cost {made.summary['travel_cost']:,.1f} (proven lower bound "
        f"{made.summary['lower_bound']:,.1f} at that disruption)"
    )
    for metric, numbers in made.summary["balance"].items():
        click.echo(
            f"  {metric}: largest deviation {numbers['max_abs_deviation']:.2%} "
            f"(tolerance {numbers['tolerance']:.0%})"
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


@main.command()
@click.argument("plan_a", type=click.Path(path_type=Path))
@click.argument("plan_b", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="folder for compare.html, moves.csv, kpis.csv, rep_changes.csv",
)
@click.option("--force", is_flag=True, help="replace an existing output folder")
@click.option("--tiles", default=None, help="online tile provider for the maps")
@guarded
def compare(plan_a: Path, plan_b: Path, out: Path, force, tiles) -> None:
    """Compare two plan folders: maps side by side, KPIs, gains and losses, moves."""
    from .compare import compare as compare_plans

    if out.exists() and not force:
        raise InputError(f"output folder {out} already exists; pass --force to replace it")
    comparison = compare_plans(plan_a, plan_b)
    comparison.write(out, force=force, tiles=tiles)
    click.echo(f"A: {comparison.label_a}   B: {comparison.label_b}")
    for row in comparison.kpis.to_dict("records"):
        shares = row["metric"].startswith(("largest deviation", "quota fairness"))
        number = "{:.2%}" if shares else "{:,.1f}"
        delta = "{:+.2%}" if shares else "{:+,.1f}"
        click.echo(
            f"  {row['metric']}: {number.format(row['a'])} -> "
            f"{number.format(row['b'])} ({delta.format(row['delta'])})"
        )
    click.echo(f"  {len(comparison.moves)} accounts change owner")
    click.echo(f"written: {out}")
    click.echo(f"  page: {out / 'compare.html'}")


def _print_bases(made, out: Path) -> None:
    summary = made.summary
    click.echo(
        f"bases for '{summary['scenario']}': {summary['locate']['count']} chosen among "
        f"{summary['inputs']['candidate_sites']:,} candidate sites, {summary['status']}"
    )
    click.echo(
        f"  travel {summary['objective']:,.1f}, proven lower bound "
        f"{summary['lower_bound']:,.1f}, gap {summary['gap']:.3%}"
    )
    for metric, numbers in summary["balance"].items():
        click.echo(
            f"  {metric}: largest deviation {numbers['max_abs_deviation']:.2%} "
            f"(tolerance {numbers['tolerance']:.0%})"
        )
    click.echo(f"written: {out} (bases.csv lists the chosen sites)")


@main.command(name="locate")
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
    from .headcount import locate

    if out.exists() and not force:
        raise InputError(f"output folder {out} already exists; pass --force to replace it")
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
        )
        made.write(out, force=force, tiles=tiles)
    finally:
        reporter.close()
    _print_bases(made, out)


@main.command(name="headcount")
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
    from .headcount import headcount

    if out.exists() and not force:
        raise InputError(f"output folder {out} already exists; pass --force to replace it")
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
        )
        found.plan.write(out, force=force, tiles=tiles)
    finally:
        reporter.close()
    click.echo(f"smallest headcount: {found.count} (lower bound {found.lower_bound})")
    for step in found.checked:
        click.echo(f"  {step['count']} reps: {step['status']} ({step['seconds']:.1f} s)")
    _print_bases(found.plan, out)


@main.command(name="sweep")
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
    from .sweep import sweep

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


if __name__ == "__main__":  # pragma: no cover
    main()
