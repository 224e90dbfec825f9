"""Known-optimum benchmarks through the engine's own core (OR-Library GAP, pmed, pmedcap).

    python benchmarks/known_optima.py --set gap1 --set pmedcap --json results.json \\
        --solutions solutions/ [--time-limit 60] [--instances gapa-1,pmed1] [--spopt]

Instances are read from ``../shared/benchmarks`` (relative to the repository root; override
with ``--data``); they are never copied into the repository.

- GAP (``gap1``..``gap12`` maximise, ``gapa``..``gapd`` minimise): ``assignment_problem`` +
  ``solve_assignment`` with a zero gap target, i.e. the same strategy as a territory plan.
- capacitated p-median (``pmedcap01``..``20``) and p-median (``pmed1``..``40``):
  ``locate.solve_locate`` on a cost matrix (units = sites, candidate bases = sites).

Per instance the JSON holds ``{instance, objective, optimum, bound, gap, seconds, status,
optimum_gap}``: ``bound`` is the bound the solver proved (an upper bound for maximisation),
``gap = |objective - bound| / |objective|``, ``optimum_gap`` the relative distance to the
published optimum (for gapd 3..6 to the best known solution). ``DIR/INSTANCE.csv`` holds the
solution, ``item,assigned_to`` numbered from 1 as in the files.

``--spopt`` also solves every selected ``pmed`` instance with PySAL spopt's ``PMedian``
(same HiGHS solver through PuLP, same time limit) and prints both totals side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from territory_planner.optimize.locate import solve_locate  # noqa: E402
from territory_planner.optimize.strategy import SolveSettings, solve_assignment  # noqa: E402
from territory_planner.problem import assignment_problem  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks"

GAP_OPTIMA = {
    "gap1": [336, 327, 339, 341, 326],
    "gap2": [434, 436, 420, 419, 428],
    "gap3": [580, 564, 573, 570, 564],
    "gap4": [656, 644, 673, 647, 664],
    "gap5": [563, 558, 564, 568, 559],
    "gap6": [761, 759, 758, 752, 747],
    "gap7": [942, 949, 968, 945, 951],
    "gap8": [1133, 1134, 1141, 1117, 1127],
    "gap9": [709, 717, 712, 723, 706],
    "gap10": [958, 963, 960, 947, 947],
    "gap11": [1139, 1178, 1195, 1171, 1171],
    "gap12": [1451, 1449, 1433, 1447, 1446],
    "gapa": [1698, 3235, 1360, 2623, 1158, 2339],
    "gapb": [1843, 3552, 1407, 2827, 1166, 2339],
    "gapc": [1931, 3456, 1402, 2806, 1243, 2391],
    # problems 3..6: the best known solution (the lower bounds are 6345 12426 6177 12230)
    "gapd": [6353, 12742, 6348, 12432, 6190, 12241],
}
GAPD_PROVEN = {1, 2}
GAP_FILES = [f"gap{i}" for i in range(1, 13)] + ["gapa", "gapb", "gapc", "gapd"]
GROUPS = {
    "gap": GAP_FILES,
    "pmedcap": [f"pmedcap{i:02d}" for i in range(1, 21)],
    "pmed": [f"pmed{i}" for i in range(1, 41)],
}


# ----------------------------------------------------------------------------- readers


@dataclass
class GapInstance:
    name: str
    cost: np.ndarray  # (jobs, agents)
    load: np.ndarray  # (jobs, agents)
    capacity: np.ndarray  # (agents,)
    maximise: bool
    optimum: float


def read_gap(path: Path) -> list[GapInstance]:
    """All problems of an OR-Library GAP file (``P``; then ``m n``, c, a, b per problem)."""
    numbers = path.read_text().split()
    position = 0

    def take(count: int) -> np.ndarray:
        nonlocal position
        chunk = np.array(numbers[position : position + count], dtype=float)
        position += count
        return chunk

    stem = path.stem
    n_problems = int(take(1)[0])
    out = []
    for k in range(n_problems):
        m, n = (int(v) for v in take(2))
        cost = take(m * n).reshape(m, n).T
        load = take(m * n).reshape(m, n).T
        capacity = take(m)
        out.append(
            GapInstance(
                f"{stem}-{k + 1}",
                cost,
                load,
                capacity,
                maximise=stem not in ("gapa", "gapb", "gapc", "gapd"),
                optimum=float(GAP_OPTIMA[stem][k]),
            )
        )
    return out


@dataclass
class MedianInstance:
    name: str
    cost: np.ndarray  # (sites, sites): cost of serving site u from median s
    count: int
    demand: np.ndarray | None  # (sites,) for the capacitated variant
    capacity: float | None
    optimum: float


def read_pmedcap(path: Path) -> MedianInstance:
    """Osman-Christofides: ``number optimum``; ``n p Q``; n lines ``id x y demand``."""
    lines = path.read_text().split("\n")
    optimum = float(lines[0].split()[1])
    n, p, capacity = (float(v) for v in lines[1].split())
    rows = np.array([line.split() for line in lines[2 : 2 + int(n)]], dtype=float)
    xy = rows[:, 1:3]
    cost = np.floor(np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2)))
    return MedianInstance(path.stem, cost, int(p), rows[:, 3], capacity, optimum)


def read_pmed(path: Path, optima: dict[str, float]) -> MedianInstance:
    """OR-Library p-median: shortest paths of an undirected graph; the last listing of a
    duplicated edge counts (Beasley's convention)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    numbers = path.read_text().split()
    n, m, p = (int(v) for v in numbers[:3])
    edges = np.array(numbers[3 : 3 + 3 * m], dtype=float).reshape(m, 3)
    weight: dict[tuple[int, int], float] = {}
    for i, j, c in edges:
        a, b = int(i) - 1, int(j) - 1
        weight[(min(a, b), max(a, b))] = c  # later listings overwrite earlier ones
    keys = np.array(list(weight.keys()), dtype=int)
    values = np.array(list(weight.values()))
    graph = csr_matrix((values, (keys[:, 0], keys[:, 1])), shape=(n, n))
    cost = shortest_path(graph, method="D", directed=False)
    return MedianInstance(path.stem, cost, p, None, None, optima[path.stem])


def read_pmed_optima(folder: Path) -> dict[str, float]:
    out = {}
    for line in (folder / "pmedopt.txt").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2:
            out[parts[0]] = float(parts[1])
    return out


# ----------------------------------------------------------------------------- solving


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), 1e-9)


def solve_gap(instance: GapInstance, time_limit: float) -> tuple[dict, list[tuple[int, int]]]:
    problem = assignment_problem(
        instance.cost, instance.load, instance.capacity, maximise=instance.maximise
    )
    started = time.perf_counter()
    result = solve_assignment(problem, SolveSettings(gap=0.0, time_limit=time_limit))
    seconds = time.perf_counter() - started
    solution = [(u + 1, int(j) + 1) for u, j in enumerate(result.unit_rep)]
    # the lower_bound field holds the proven bound in the problem's own sense
    row = record(
        instance.name,
        result.objective,
        instance.optimum,
        result.lower_bound,
        seconds,
        result.status,
        "max" if instance.maximise else "min",
    )
    return row, solution


def solve_median(instance: MedianInstance, time_limit: float) -> tuple[dict, list]:
    started = time.perf_counter()
    result = solve_locate(
        instance.cost,
        instance.count,
        loads=None if instance.demand is None else instance.demand[None, :],
        upper=None if instance.capacity is None else np.array([instance.capacity]),
        settings=SolveSettings(gap=0.0, time_limit=time_limit),
    )
    seconds = time.perf_counter() - started
    solution = [(u + 1, int(s) + 1) for u, s in enumerate(result.unit_rep)]
    row = record(
        instance.name,
        result.objective,
        instance.optimum,
        result.lower_bound,
        seconds,
        result.status,
        "min",
    )
    return row, solution


def record(name, objective, optimum, bound, seconds, status, sense) -> dict:
    return {
        "instance": name,
        "sense": sense,
        "objective": objective,
        "optimum": optimum,
        "bound": bound,
        "gap": relative(objective, bound),
        "optimum_gap": relative(objective, optimum),
        "seconds": round(seconds, 3),
        "status": status,
    }


def spopt_pmedian(instance: MedianInstance, time_limit: float) -> tuple[float, float, str]:
    """PySAL spopt's PMedian on the same cost matrix, HiGHS through PuLP, same limit."""
    import pulp
    from spopt.locate import PMedian

    started = time.perf_counter()
    weights = np.ones(instance.cost.shape[0])
    model = PMedian.from_cost_matrix(
        instance.cost, weights, p_facilities=instance.count, name=instance.name
    )
    try:
        model = model.solve(pulp.HiGHS(msg=False, timeLimit=time_limit, threads=1))
    except RuntimeError:
        # spopt raises when the solver stops without a plan (time limit before any)
        return math.nan, time.perf_counter() - started, "no plan in the limit"
    seconds = time.perf_counter() - started
    objective = pulp.value(model.problem.objective)
    # PuLP says "Optimal" also for a time-limit stop with a plan; its sol_status tells them
    # apart (the only way spopt exposes it)
    proven = model.problem.sol_status == pulp.LpSolutionOptimal
    status = (
        pulp.LpStatus[model.problem.status] if proven or model.problem.status != 1 else "time_limit"
    )
    return float(objective) if objective is not None else math.nan, seconds, status


# ----------------------------------------------------------------------------- driver


def instance_names(sets: list[str]) -> list[str]:
    out = []
    for name in sets:
        out.extend(GROUPS.get(name, [name]))
    return out


def load_instances(data: Path, files: list[str]):
    optima = None
    for stem in files:
        if stem.startswith("gap"):
            yield from read_gap(data / "orlib-gap" / f"{stem}.txt")
        elif stem.startswith("pmedcap"):
            yield read_pmedcap(data / "pmedcap" / f"{stem}.txt")
        elif stem.startswith("pmed"):
            optima = optima or read_pmed_optima(data / "orlib-pmed")
            yield read_pmed(data / "orlib-pmed" / f"{stem}.txt", optima)
        else:
            raise SystemExit(
                f"unknown set '{stem}'; use gap1..gap12, gapa..gapd, "
                "pmedcap01..20, pmed1..40 or the groups gap, pmedcap, pmed"
            )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        required=True,
        help="file or group (gap, pmedcap, pmed); repeatable",
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--solutions", type=Path, help="write DIR/INSTANCE.csv here")
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds per instance (default 60)"
    )
    parser.add_argument("--instances", default=None, help="only these instances, e.g. gapa-1,pmed1")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--spopt", action="store_true", help="also solve the pmed instances with spopt's PMedian"
    )
    args = parser.parse_args(argv)
    wanted = set(args.instances.split(",")) if args.instances else None
    if args.solutions:
        args.solutions.mkdir(parents=True, exist_ok=True)
    results = []
    engine_pmed = spopt_total = 0.0
    print(
        f"{'instance':<12}{'objective':>12}{'optimum':>10}{'bound':>12}{'gap':>9}"
        f"{'to opt':>9}{'seconds':>9}  status"
    )
    for instance in load_instances(args.data, instance_names(args.sets)):
        if wanted is not None and instance.name not in wanted:
            continue
        if isinstance(instance, GapInstance):
            row, solution = solve_gap(instance, args.time_limit)
        else:
            row, solution = solve_median(instance, args.time_limit)
        if isinstance(instance, MedianInstance) and instance.demand is None:
            engine_pmed += row["seconds"]
            if args.spopt:
                objective, seconds, status = spopt_pmedian(instance, args.time_limit)
                spopt_total += seconds
                row["spopt"] = {
                    "objective": objective,
                    "seconds": round(seconds, 3),
                    "status": status,
                }
        results.append(row)
        line = (
            f"{row['instance']:<12}{row['objective']:>12,.0f}{row['optimum']:>10,.0f}"
            f"{row['bound']:>12,.1f}{row['gap']:>9.3%}{row['optimum_gap']:>9.3%}"
            f"{row['seconds']:>9.1f}  {row['status']}"
        )
        if "spopt" in row:
            line += (
                f"  | spopt {row['spopt']['objective']:,.0f} in "
                f"{row['spopt']['seconds']:.1f} s ({row['spopt']['status']})"
            )
        print(line, flush=True)
        if args.solutions:
            text = "item,assigned_to\n" + "".join(f"{a},{b}\n" for a, b in solution)
            (args.solutions / f"{row['instance']}.csv").write_text(text)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2) + "\n")
    at_optimum = sum(1 for r in results if r["optimum_gap"] <= 1e-9)
    print(
        f"{len(results)} instances, {at_optimum} at the published optimum / best known, "
        f"{sum(r['seconds'] for r in results):.1f} s in total"
    )
    if engine_pmed:
        print(
            f"pmed: engine {engine_pmed:.1f} s"
            + (f", spopt PMedian {spopt_total:.1f} s" if args.spopt else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
