"""The command line: parse, call the library, map errors to exit codes. Nothing more.

Exit codes (docs/design.md section 5): 0 done; 2 bad input (every problem listed);
3 infeasible scenario (the reason named); 4 the solver stopped without any feasible plan.
The commands live in one module per group (planning, workflows, siting, sweep); common.py
holds what they share.
"""

from __future__ import annotations

import click

from .common import MAX_PROBLEM_LINES, Reporter, fail, guarded, plan_options
from .planning import demo, demo_scenario_path, evaluate, plan_command, show, validate
from .printing import print_plan_summary, print_quota_reasons
from .siting import headcount_command, locate_command
from .sweep import sweep_command
from .workflows import compare, parse_capacities, quota_command, rebalance

__all__ = [
    "MAX_PROBLEM_LINES",
    "Reporter",
    "demo_scenario_path",
    "fail",
    "guarded",
    "main",
    "parse_capacities",
    "plan_options",
    "print_plan_summary",
    "print_quota_reasons",
]


@click.group()
@click.version_option(package_name="territory-planner")
def main() -> None:
    """Sales territory and quota planning as linear programs."""


for command in (
    validate,
    plan_command,
    demo,
    show,
    evaluate,
    quota_command,
    rebalance,
    compare,
    locate_command,
    headcount_command,
    sweep_command,
):
    main.add_command(command)
