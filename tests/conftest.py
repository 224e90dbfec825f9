"""Shared fixtures: tiny hand-drawn instances written as real files in tmp_path."""

from __future__ import annotations

import pytest

from tests.helpers import line_accounts, line_reps, write_scenario


@pytest.fixture
def tiny(tmp_path):
    """A function writing a tiny scenario into tmp_path/<name>."""

    def make(name="case", accounts=None, reps=None, **settings):
        return write_scenario(
            tmp_path / name,
            line_accounts() if accounts is None else accounts,
            line_reps() if reps is None else reps,
            **settings,
        )

    return make
