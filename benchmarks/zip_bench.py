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

National scale: ``--states all`` (every state of us48, about 30,000 regions), e.g. with
``--reps 300 --gap 0.02 --time-limit 1800``. The flow baseline's child caps its address space
at ``--memory-cap-gb`` (12 by default; 0 for none) with ``resource.setrlimit``, so a model too
big to build fails with MemoryError instead of swapping the machine. ``--instance-dir DIR``
writes the instance to DIR (kept) instead of a temporary folder, or reuses the one already
there (its scenario.yaml), so the methods can be run one at a time on the same instance.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flow_baseline import solve_flow_milp  # noqa: E402
from regions_bench import engine_run  # noqa: E402
from zip_instances import ZIP_STATES, write_zip_instance  # noqa: E402

from territory_planner.data import load_scenario  # noqa: E402
from territory_planner.regions import build_region_problem  # noqa: E402

#: a method still running at this many times its time limit (plus a minute) is stopped
WALL_CAP = 2.0
#: the flow baseline's address-space cap, in GB
MEMORY_CAP_GB = 12.0
CHILDREN = resource.RUSAGE_CHILDREN


def child(
    method: str, path: Path, time_limit: float, gap: float, memory_cap_gb: float = 0.0
) -> dict:
    """One method on the written instance, in this process; peak RSS in MB added (of this
    process or of its largest forked solve, whichever is larger). The flow
    baseline runs under an address-space cap of ``memory_cap_gb`` (none if 0): past it,
    allocations fail (MemoryError, or HiGHS failing) and the row says how far it got."""
    started = time.perf_counter()
    if method == "engine":
        result = engine_run(path, phases=True)
    else:
        if memory_cap_gb > 0:
            cap = int(memory_cap_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        stage = "reading"
        try:
            geography = build_region_problem(load_scenario(path))
            stage = "building or solving the MILP"
            read = time.perf_counter() - started
            result = solve_flow_milp(geography, time_limit, gap)
            result["read_seconds"] = round(read, 1)
        except MemoryError as error:
            where = traceback.extract_tb(error.__traceback__)[-1]
            result = {
                "status": f"no plan (MemoryError while {stage}, cap {memory_cap_gb:g} GB)",
                "seconds": round(time.perf_counter() - started, 1),
                "where": f"{Path(where.filename).name}:{where.lineno} {where.line}",
            }
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    # the engine's MIP solves run in forked copies (optimize/timebox.py) while this process
    # waits; a copy's RSS counts the pages it shares with this one, so the larger of the two
    # peaks is the method's peak (this process's alone leaves the solves out)
    peaks = (resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, CHILDREN))
    result["peak_mb"] = round(max(peaks) / 1024)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--states", nargs="+", default=list(ZIP_STATES), help="abbreviations, or 'all' (us48)"
    )
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--gap", type=float, default=0.01)
    parser.add_argument("--methods", nargs="+", default=["engine", "flow"])
    parser.add_argument("--memory-cap-gb", type=float, default=MEMORY_CAP_GB)
    parser.add_argument("--instance-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--instance", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        cap = args.memory_cap_gb if args.child == "flow" else 0.0
        print(json.dumps(child(args.child, args.instance, args.time_limit, args.gap, cap)))
        return
    rows = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.instance_dir or Path(scratch)
        path = folder / "scenario.yaml"
        if not path.exists():
            started = time.perf_counter()
            path = write_zip_instance(
                folder,
                states=tuple(args.states),
                n_reps=args.reps,
                seed=args.seed,
                time_limit=args.time_limit,
                gap=args.gap,
            )
            rows["instance"] = {"build_seconds": round(time.perf_counter() - started, 1)}
            print("instance", json.dumps(rows["instance"]), flush=True)
        for method in args.methods:
            command = [sys.executable, __file__, "--child", method, "--instance", str(path)]
            command += ["--time-limit", str(args.time_limit), "--gap", str(args.gap)]
            command += ["--memory-cap-gb", str(args.memory_cap_gb)]
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
