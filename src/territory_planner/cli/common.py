"""What every command shares: progress lines, and domain errors turned into exit codes.

Exit codes (docs/design.md section 5): 0 done; 2 bad input (every problem listed);
3 infeasible scenario (the reason named); 4 the solver stopped without any feasible plan;
and as any Unix tool: 130 interrupted (Ctrl-C), 141 the reader of the output went away.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from pathlib import Path

import click

from ..errors import InfeasibleError, InputError, Problem, SolverError, TerritoryPlannerError

MAX_PROBLEM_LINES = 60
#: the exit status of a process ended by SIGPIPE (128 + 13)
SIGPIPE_EXIT = 141


class Reporter:
    """Progress: a live status line on a terminal, plain timestamped lines otherwise."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.started = time.perf_counter()
        self.interactive = sys.stderr.isatty()
        self._status = None
        if self.interactive and not quiet:
            from rich.console import Console  # rich only for a live line on a terminal

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

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except TerritoryPlannerError as error:
            fail(error)
        except BrokenPipeError:
            # the reader of stdout went away (`validate ... | head`): stop quietly with
            # SIGPIPE's status, as a Unix tool does; it is no input problem, and a plan
            # folder written before the summary was printed stays written
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(SIGPIPE_EXIT)
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


PLAN_OPTIONS = [
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
    for option in reversed(PLAN_OPTIONS):
        function = option(function)
    return function
