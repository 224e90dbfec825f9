"""benchmarks/zip_bench.py's child: a flow baseline that runs out of memory under its cap
gives a row that says so and where, instead of a crash."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def test_flow_out_of_memory_is_a_row(monkeypatch, tmp_path):
    import zip_bench

    def too_big(geography, time_limit, gap):
        raise MemoryError

    monkeypatch.setattr(zip_bench, "load_scenario", lambda path: None)
    monkeypatch.setattr(zip_bench, "build_region_problem", lambda data: None)
    monkeypatch.setattr(zip_bench, "solve_flow_milp", too_big)
    row = zip_bench.child("flow", tmp_path / "scenario.yaml", 10.0, 0.02, memory_cap_gb=0.0)
    assert row["status"].startswith("no plan (MemoryError while building or solving")
    assert row["where"].startswith("test_zip_bench.py:") and "MemoryError" in row["where"]
    assert row["peak_mb"] > 0 and row["seconds"] >= 0
