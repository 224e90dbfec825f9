"""Shared test helpers (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_planner import load_scenario
from territory_planner.errors import InputError, Problem


def write_inputs(
    folder: Path,
    accounts: str | bytes,
    reps: str | bytes,
    extra: str = "",
    accounts_name: str = "accounts.csv",
    reps_name: str = "reps.csv",
) -> Path:
    """Write accounts, reps (bytes untouched) and a scenario naming them; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in ((accounts_name, accounts), (reps_name, reps)):
        (folder / name).write_bytes(
            content.encode("utf-8") if isinstance(content, str) else content
        )
    path = folder / "scenario.yaml"
    path.write_text(
        f"name: t\naccounts: {accounts_name}\nreps: {reps_name}\n{extra}", encoding="utf-8"
    )
    return path


def input_problems(path: Path) -> list[Problem]:
    """The problems load_scenario raises for ``path`` (it must raise)."""
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return caught.value.problems
