"""Geography mode at ZIP scale, side by side with a plain flow-contiguity MILP.

The instance (zip_instances.py): Voronoi cells of the real ZIP centroids of five states
clipped to their real outlines (about 3,200 regions), one account per ZIP, 40 reps at a
seeded weighted k-means, bands 5% on workload and 10% on potential, travel objective, gap
target 1%. The engine (``territory_planner.plan``) and the plain PuLP + HiGHS
single-commodity-flow MILP over all pairs (flow_baseline.py) get the same time limit, one
after the other, each in its own process so that each one's peak memory is its own; a
method still running at twice its time limit plus a minute is stopped and has no plan.

    flock /work/bench.lock python benchmarks/zip_bench.py --time-limit 600 \\
        --out /tmp/zip_bench.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flow_baseline import solve_flow_milp  # noqa: E402
from regions_bench import engine_run  # noqa: E402
from zip_instances import ZIP_STATES, write_zip_instance  # noqa: E402

from territory_planner.data import load_scenario  # noqa: E402
from territory_planner.regions import build_region_problem  # noqa: E402

#: a method still running at this many times its time limit (plus a minute) is stopped
WALL_CAP = 2.0


def child(method: str, path: Path, time_limit: float, gap: float) -> dict:
    """One method on the written instance, in this process; peak RSS in MB added."""
    started = time.perf_counter()
    if method == "engine":
        result = engine_run(path)
    else:
        geography = build_region_problem(load_scenario(path))
        result = solve_flow_milp(geography, time_limit, gap)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    result["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", nargs="+", default=list(ZIP_STATES))
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--methods", nargs="+", default=["engine", "flow"])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.instance, args.time_limit, args.gap)))
        return
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        path = write_zip_instance(
            Path(folder),
            states=tuple(args.states),
            n_reps=args.reps,
            seed=args.seed,
            time_limit=args.time_limit,
            gap=args.gap,
        )
        for method in args.methods:
            command = [sys.executable, __file__, "--child", method, "--instance", str(path)]
            command += ["--time-limit", str(args.time_limit), "--gap", str(args.gap)]
            cap = WALL_CAP * args.time_limit + 60
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=cap)
            except subprocess.TimeoutExpired:
                # HiGHS's MIP set-up (clique partition of the objective) does not look at the
                # clock: a method still running long after its limit has no plan to give
                rows[method] = {"status": f"no plan (killed after {cap:.0f} s wall)"}
                print(method, json.dumps(rows[method]), flush=True)
                continue
            lines = done.stdout.strip().splitlines()
            rows[method] = (
                json.loads(lines[-1])
                if done.returncode == 0 and lines
                else {
                    "status": f"crashed (exit {done.returncode})",
                    "message": done.stderr.strip().splitlines()[-1:] or [""],
                }
            )
            print(method, json.dumps(rows[method]), flush=True)
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
