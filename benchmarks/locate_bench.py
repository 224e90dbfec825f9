"""Base placement at ordinary time limits: travel, proven gap, wall seconds and peak memory.

    flock /work/bench.lock python benchmarks/locate_bench.py --case demo --count 20 \\
        --time-limit 20 60 [--src OTHER/src] [--json out.json]
    flock /work/bench.lock python benchmarks/locate_bench.py --case synthetic:10000 \\
        --count 20 --time-limit 300

Each run is a fresh Python process (``--src`` chooses which source tree it imports, so an
older copy of the code can be measured side by side); wall seconds include reading the
inputs, peak MB is the child's maximum resident set. ``fixed-home`` is the travel of the
ordinary plan with the reps' own homes (``plan`` on the same scenario), when asked for with
``--fixed-home``: a locate plan of N bases with bands re-based on N equal shares is below it
only if placing the bases well beats the reps' homes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
from territory_planner.errors import TerritoryPlannerError
scenario, count, limit, mode = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
out = {"count": count, "time_limit": limit}
try:
    if mode == "plan":
        from territory_planner.plan import plan
        made = plan(scenario, time_limit=limit)
    else:
        from territory_planner.headcount import locate
        made = locate(scenario, count, time_limit=limit)
    s = made.summary
    out.update(status=s["status"], travel=s.get("travel_cost"), objective=s["objective"],
               bound=s["lower_bound"], gap=s["gap"], solve_seconds=s["solver"].get("seconds"))
except TerritoryPlannerError as error:
    out.update(status=f"error (exit {error.exit_code})", message=str(error)[:300])
out["wall_seconds"] = round(time.perf_counter() - started, 1)
out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
print("RESULT " + json.dumps(out))
"""


def scenario_for(case: str, workdir: Path) -> Path:
    """``demo`` or ``synthetic:N`` (N accounts written by benchmarks/synthetic.py)."""
    if case == "demo":
        return ROOT / "scenarios" / "demo" / "scenario.yaml"
    if case.startswith("synthetic:"):
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from synthetic import write_instance

        return write_instance(workdir / case.replace(":", "-"), int(case.split(":")[1]), 50)
    raise SystemExit(f"unknown case {case!r}: demo or synthetic:N")


def run_child(src: Path, scenario: Path, count: int, limit: float, mode: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, str(scenario), str(count), str(limit), mode],
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {"status": f"crashed (exit {completed.returncode})", "stderr": completed.stderr[-500:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--case", default="demo")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--time-limit", type=float, nargs="+", default=[20.0, 60.0])
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="source tree to import")
    parser.add_argument("--label", default="this branch")
    parser.add_argument("--fixed-home", action="store_true", help="also run the ordinary plan")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        scenario = scenario_for(args.case, Path(workdir))
        if args.fixed_home:
            row = run_child(args.src, scenario, 0, max(args.time_limit), "plan")
            rows.append({"case": args.case, "code": args.label, "run": "fixed-home plan", **row})
            print(json.dumps(rows[-1]), flush=True)
        for limit in args.time_limit:
            row = run_child(args.src, scenario, args.count, limit, "locate")
            rows.append({"case": args.case, "code": args.label, "run": "locate", **row})
            print(json.dumps(rows[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
