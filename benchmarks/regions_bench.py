"""Geography mode at county scale, side by side with a plain flow-contiguity MILP.

Each instance: North Carolina's 100 counties (libpysal ``sids2``; ``--states GA`` Georgia's
159, ``--states VA`` Virginia's 136 counties and cities), one account per real ZIP
centroid (``zipcodes``), reps placed by a seeded weighted k-means, bands 10% on workload and
15% on potential, travel objective. The engine (``territory_planner.plan``) and the plain
PuLP + HiGHS single-commodity-flow MILP over all pairs (flow_baseline.py) get the same time
limit and gap target on the same RegionProblem.

    flock /work/bench.lock python benchmarks/regions_bench.py --reps 8 10 12 --seeds 1 2 \
        --time-limit 20 --out /tmp/regions_bench.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flow_baseline import solve_flow_milp  # noqa: E402
from regions_instances import write_instance  # noqa: E402

from territory_planner import plan  # noqa: E402
from territory_planner.data import load_scenario  # noqa: E402
from territory_planner.errors import TerritoryPlannerError  # noqa: E402
from territory_planner.regions import build_region_problem  # noqa: E402


def engine_run(path: Path, phases: bool = False) -> dict:
    """``plan`` on the scenario at ``path``: status, objective, bound, gap, seconds,
    contiguity (the engine's and checked on regions.csv); with ``phases``, also the solver's
    phase log (where the time went)."""
    try:
        made = plan(path)
    except TerritoryPlannerError as error:
        return {"status": f"error (exit {error.exit_code})", "message": str(error).splitlines()[0]}
    summary = made.summary
    rounds = [p for p in summary["solver"]["phases"] if p["phase"] == "regions_milp"]
    checked = territories_connected(path, made.extra_files["regions.csv"])
    return {
        "status": summary["status"],
        "objective": summary["objective"],
        "bound": summary["lower_bound"],
        "gap": summary["gap"],
        "seconds": summary["total_seconds"],
        "rounds": len(rounds),
        "cuts": rounds[-1]["cuts"] if rounds else 0,
        "connected": summary["contiguity"]["proven"],
        "checked_connected": checked,
        **({"phases": summary["solver"]["phases"]} if phases else {}),
    }


def territories_connected(path: Path, regions_table) -> bool:
    """Whether every territory of a plan's regions.csv is one piece of the region graph
    (the engine's rook adjacency with its island links), checked here on the output."""
    from territory_planner.optimize.contiguity import adjacency_matrix, territory_pieces

    geography = build_region_problem(load_scenario(path))
    graph = adjacency_matrix(geography.neighbours, geography.n_regions)
    position = {
        str(u).removeprefix("region:"): k
        for k, u in enumerate(geography.problem.unit_ids[: geography.n_regions])
    }
    owners = {}
    for region, rep in zip(regions_table["region_id"], regions_table["rep_id"]):
        owners.setdefault(rep, []).append(position[str(region)])
    if sorted(k for regions in owners.values() for k in regions) != list(range(len(position))):
        return False  # a region missing or given twice
    return all(
        len(territory_pieces(graph, np.array(sorted(regions)))) == 1 for regions in owners.values()
    )


def _cell(value, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, nargs="+", default=[8, 10, 12])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--gap", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--states", nargs="+", default=["NC"], help="libpysal county sets: NC, VA, GA"
    )
    parser.add_argument("--skip-flow", action="store_true", help="the engine alone")
    args = parser.parse_args()
    states = tuple(args.states)
    label = "+".join(states)
    rows = []
    print("instance            | engine: status, objective, gap, s | flow MILP: the same")
    for n_reps in args.reps:
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                path = write_instance(
                    Path(folder),
                    states=states,
                    n_reps=n_reps,
                    seed=seed,
                    time_limit=args.time_limit,
                    gap=args.gap,
                )
                engine = engine_run(path)
                geography = build_region_problem(load_scenario(path))
                flow = (
                    {"status": "skipped", "objective": None, "gap": None, "seconds": 0.0}
                    if args.skip_flow
                    else solve_flow_milp(geography, args.time_limit, args.gap)
                )
            name = f"{label}{geography.n_regions} {n_reps} reps s{seed}"
            rows.append({"instance": name, "engine": engine, "flow_milp": flow})
            print(
                f"{name:<19} | {engine['status']:<17} {_cell(engine.get('objective'), ',.0f'):>9} "
                f"{_cell(engine.get('gap'), '.3%'):>7} {_cell(engine.get('seconds'), '.1f'):>5} | "
                f"{flow['status']:<10} {_cell(flow['objective'], ',.0f'):>9} "
                f"{_cell(flow['gap'], '.3%'):>7} {flow['seconds']:>5.1f}",
                flush=True,
            )
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
