"""Sweep benchmark: a 12-variant sweep of the demo on Dask, three ways, compared.

    flock /work/bench.lock python benchmarks/sweep_bench.py --time-limit 120 --gap 0.05

The demo scenario (scenarios/demo, ~2,000 accounts, 25 reps) swept over the workload band
(15%, 20%, 25%; the potential band stays at 10%) times the disruption budget (20%, 25%,
30%, 100% of potential); ``--tolerances`` and ``--budgets`` change the grid:

1. a LocalCluster of 1 worker process,
2. a LocalCluster of 2 worker processes (the speed-up is 1. over 2.),
3. a separate ``dask scheduler`` and two ``dask worker`` processes started here on
   127.0.0.1 (the path a real cluster takes: the client only knows the address); they are
   stopped at the end.

Seconds are the sweep call alone (tasks, plan folders with maps, tables); starting the
cluster is timed apart. The runs are compared on every row's results (status, travel,
bound, gap, deviations, moved share, quota fairness) and on the bytes of every variant's
assignments.csv. A plan is reproducible across workers only when its solve depends on no
clock: it must reach the gap target well before the time limit, and without the window
phases, whose MILPs have time limits of their own (the ``window_phases`` column counts
them); tighter bands (5%, 10%) need windows on the demo, and on a loaded machine their
plans differed from run to run. Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from territory_planner import sweep  # noqa: E402
from territory_planner.sweep import local_cluster  # noqa: E402

DEMO = ROOT / "scenarios" / "demo"
TOLERANCES = [0.15, 0.20, 0.25]  # the workload band; the demo's potential band stays at 10%
BUDGETS = [0.20, 0.25, 0.30, 1.00]  # constraints.max_moved_share
COMPARED = [
    "name",
    "status",
    "travel_cost",
    "objective",
    "lower_bound",
    "gap",
    "workload_max_deviation",
    "potential_max_deviation",
    "moved_share",
    "quota_fairness",
]


def write_sweep(
    folder: Path, time_limit: float, gap: float, tolerances: list, budgets: list
) -> Path:
    """The demo scenario with absolute data paths and the benchmark's solver settings."""
    base = yaml.safe_load((DEMO / "scenario.yaml").read_text())
    for key in ("accounts", "reps", "regions"):
        base[key] = str(DEMO / base[key])
    base["solver"].update(time_limit=time_limit, gap=gap)
    (folder / "scenario.yaml").write_text(yaml.safe_dump(base, sort_keys=False))
    grid = {"balance.0.tolerance": tolerances, "constraints.max_moved_share": budgets}
    spec = {"scenario": "scenario.yaml", "vary": grid}
    (folder / "sweep.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder / "sweep.yaml"


def worker_memory(client) -> list[float]:
    """Resident memory of each worker process, MB (after the sweep: its cache included)."""
    import psutil

    return sorted(
        round(rss / 1e6) for rss in client.run(lambda: psutil.Process().memory_info().rss).values()
    )


def timed_sweep(path: Path, client, out: Path, label: str) -> dict:
    started = time.perf_counter()
    made = sweep(path, client, out=out, force=True)
    seconds = time.perf_counter() - started
    rows = made.rows
    digests = {
        name: hashlib.sha256((out / "plans" / name / "assignments.csv").read_bytes()).hexdigest()
        for name in made.solved["name"]
    }
    statuses = rows["status"].value_counts().to_dict()
    # window phases run MILPs with their own time limits inside the solve (strategy.py):
    # a plan that needed them may depend on the worker's speed even within the gap target
    windows = {
        name: sum(
            phase.get("phase") == "window"
            for phase in json.loads((out / "plans" / name / "summary.json").read_text())["solver"][
                "phases"
            ]
        )
        for name in made.solved["name"]
    }
    rows = rows.assign(window_phases=rows["name"].map(windows))
    print(f"{label}: {seconds:.1f} s, statuses {statuses}, worker MB {worker_memory(client)}")
    return {"label": label, "seconds": seconds, "rows": rows, "digests": digests}


def local_run(path: Path, workers: int, out: Path) -> dict:
    from distributed import Client

    started = time.perf_counter()
    with local_cluster(workers, dashboard=False) as cluster, Client(cluster) as client:
        startup = time.perf_counter() - started
        print(f"LocalCluster of {workers}: started in {startup:.1f} s")
        result = timed_sweep(path, client, out, f"LocalCluster, {workers} worker(s)")
    result["startup"] = startup
    return result


def cluster_run(path: Path, out: Path, folder: Path) -> dict:
    """`dask scheduler` + two `dask worker` processes on 127.0.0.1, stopped at the end."""
    from distributed import Client

    dask = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    scheduler_file = folder / "scheduler.json"
    log = open(folder / "cluster.log", "w")  # noqa: SIM115 - closed in finally
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        while not scheduler_file.exists():
            if processes[0].poll() is not None:
                raise RuntimeError(f"dask scheduler exited; see {folder / 'cluster.log'}")
            time.sleep(0.2)
        for number in (1, 2):
            processes.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        "--scheduler-file",
                        str(scheduler_file),
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-dashboard",
                        "--name",
                        f"worker-{number}",
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            address = json.loads(scheduler_file.read_text())["address"]
            startup = time.perf_counter() - started
            print(f"dask scheduler at {address} + 2 dask workers: started in {startup:.1f} s")
            result = timed_sweep(path, client, out, "dask scheduler + 2 dask workers")
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
    result["startup"] = startup
    return result


def same_results(a: dict, b: dict) -> tuple[bool, str]:
    columns = [c for c in COMPARED if c in a["rows"]]
    left, right = a["rows"][columns], b["rows"][columns]
    if not left.equals(right):
        differing = left.compare(right)
        return False, f"rows differ:\n{differing}"
    if a["digests"] != b["digests"]:
        names = [n for n in a["digests"] if a["digests"][n] != b["digests"].get(n)]
        return False, f"assignments.csv differs for {names}"
    return True, f"all {len(left)} rows equal on {len(columns)} columns, assignments.csv identical"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per variant")
    parser.add_argument("--gap", type=float, default=0.05, help="gap target per variant")
    parser.add_argument("--tolerances", type=float, nargs="+", default=TOLERANCES)
    parser.add_argument("--budgets", type=float, nargs="+", default=BUDGETS)
    parser.add_argument("--keep", type=Path, default=None, help="write the sweeps here")
    parser.add_argument("--skip-cluster", action="store_true")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = write_sweep(folder, args.time_limit, args.gap, args.tolerances, args.budgets)
    count = len(args.tolerances) * len(args.budgets)
    print(f"{count}-variant demo sweep, time limit {args.time_limit:g} s, gap {args.gap:g}")
    print(f"workload tolerance {args.tolerances} x max_moved_share {args.budgets}")
    print(f"load average before: {os.getloadavg()}")
    one = local_run(path, 1, folder / "one")
    two = local_run(path, 2, folder / "two")
    runs = [one, two]
    if not args.skip_cluster:
        runs.append(cluster_run(path, folder / "cluster", folder))
    print(f"load average after: {os.getloadavg()}")
    print()
    print("| run | cluster start s | sweep s | speed-up over 1 worker | same results as 1 worker |")
    print("|---|---|---|---|---|")
    for run in runs:
        same, why = same_results(one, run)
        print(
            f"| {run['label']} | {run['startup']:.1f} | {run['seconds']:.1f} | "
            f"{one['seconds'] / run['seconds']:.2f} | {'yes' if same else 'NO'} |"
        )
        if run is not one:
            print(f"  vs 1 worker: {why}")
    limited = one["rows"][one["rows"]["status"] == "time_limit"]["name"].tolist()
    print(f"variants stopped by the time limit (1 worker): {limited or 'none'}")
    print(one["rows"][[*COMPARED, "window_phases"]].to_string(index=False))
    print(f"outputs in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
