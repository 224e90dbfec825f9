"""Printing a finished plan's numbers in words (shared by several commands)."""

from __future__ import annotations

from pathlib import Path

import click

from ..number_format import tolerance_percent


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
            f"(tolerance {tolerance_percent(numbers['tolerance'])})"
        )
    if "quota" in summary:
        quota = summary["quota"]
        click.echo(
            f"  quotas: target {quota['target']:,.0f}, largest deviation from fair share "
            f"{quota['max_relative_deviation']:.2%}"
        )
        print_quota_reasons(quota)
    # report/ loads folium: only when a summary is printed, never for --help
    from ..report.summary_text import today_lines

    for line in today_lines(summary):
        click.echo(line)
    click.echo(f"  solved in {summary['total_seconds']:.1f} s")
    click.echo(f"written: {out}")
    click.echo(f"  map: {out / 'map.html'}")


def print_quota_reasons(quota: dict) -> None:
    """Under the quota line: what the growth bounds left over and how it was spread, the reps
    farthest from their fair share with the rule that binds each, and where capacity and
    ramp both scale a share."""
    from ..quota.binding import reason_lines

    for line in reason_lines(quota):
        click.echo(f"    {line}")
    for note in quota.get("ramp_notes", []):
        click.echo(f"    note: {note}")


def plain(value: float) -> str:
    """1,234,567.89 / 48,718 / 0.5: thousands separated, at most two decimals."""
    text = f"{value:,.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def print_bases(made, out: Path) -> None:
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
            f"(tolerance {tolerance_percent(numbers['tolerance'])})"
        )
    click.echo(f"written: {out} (bases.csv lists the chosen sites)")
