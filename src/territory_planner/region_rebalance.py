"""Re-balancing a geography-mode plan: every territory stays connected, and as few regions
(by potential) change hands as the hires, departures and capacity changes need.

The steps are those of rebalance.py (its module docstring), run on the region problem of
regions.py and solved by geography mode's connected-territory solve (optimize/region_solve.py),
so the separator cuts, the rooted start and the elastic explanations all apply unchanged:

* **Previous owners.** A region's previous owner is its rep in the plan being re-balanced
  (that plan's regions.csv): it becomes the region's ``current_rep_id``. Every account's
  previous owner is its rep in that plan, so a region that changes hands moves exactly the
  potential of the accounts that follow it, and a named account moves on its own.
* **Step 1, least disruption.** Minimise ``D(x) = sum_u sum_j p[u, j] x[u, j] + eps * sum_u
  sum_j n[u, j] x[u, j]`` subject to assign-once, the bands, the budget and contiguity, where
  ``p[u, j]`` is the potential unit u (a region or a named account) moves when it goes to j
  and ``n[u, j] = [j != previous owner of u]``. The per-unit ``eps`` (``MOVE_PENALTY`` x total
  potential / number of units) makes a region with no potential, or no accounts, count too,
  so nothing changes hands without a reason. Regions of a departing rep have no previous
  owner among the reps left: every plan moves them (``n = 1``, ``p`` = all their potential).
  Its proven bound ``LB`` gives the moved-potential bound ``max(forced, LB - eps * U, 0)``
  (U units, ``sum n <= U``).
* **Step 2, travel.** Minimise travel with ``D(x) <= D* (1 + 1e-6) + eps / 2`` (or the
  scenario's weighted objective when ``objective.disruption > 0``), again with contiguity.

The plan folder adds ``region_moves.csv`` (region_id, from_rep, to_rep, accounts, potential
and each balance metric's load, reason: the rule of rebalance.py's ``moves.csv``) and
``regions.csv`` whose ``previous_rep_id`` is the re-balanced plan's owner.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from .errors import InputError, Problem
from .optimize.contiguity import adjacency_matrix
from .optimize.region_handover import hand_over, kept_owners
from .optimize.region_windows import improve_around
from .optimize.results import AssignmentResult, objective_of
from .optimize.settings import Clock, SolveSettings
from .plan import solve_geography
from .problem import PlanningProblem
from .rebalance import DisruptionProblem, move_penalty_for, move_reasons
from .regions import RegionProblem, build_region_problem, region_summary, regions_table

__all__ = [
    "RegionDisruptionProblem",
    "RegionRebalance",
    "region_moves_frame",
    "region_rebalance",
    "regions_owned_by_plan",
]


@dataclass
class RegionDisruptionProblem(DisruptionProblem):
    """The region problem whose move penalty counts units that change hands (a region, or a
    named account): ``n[u, j] = 1 if j != unit_previous_rep[u] else 0`` (module docstring)."""

    unit_previous_rep: np.ndarray | None = None  # (U,) rep position, -1 when none is left

    @property
    def most_moves(self) -> int:
        return self.n_units

    def moved_count_block(self, units: np.ndarray) -> np.ndarray:
        previous = self.unit_previous_rep[units]
        return (np.arange(self.n_reps)[None, :] != previous[:, None]).astype(float)


def regions_owned_by_plan(plan) -> object:
    """The plan's regions with ``current_rep_id`` := each region's rep in the plan."""
    table = plan.extra_files.get("regions.csv")
    if table is None or plan.regions is None:
        raise InputError(
            Problem(
                file="regions.csv",
                message="a geography-mode plan folder needs its regions.csv and regions file",
                fix="re-run 'territory-planner plan' to write a complete folder",
            )
        )
    owner = dict(zip(table["region_id"].astype(str), table["rep_id"]))
    regions = plan.regions.copy()
    regions["current_rep_id"] = regions["region_id"].astype(str).map(owner).astype(object)
    regions["current_rep_id"] = regions["current_rep_id"].where(
        regions["current_rep_id"].notna(), None
    )
    return regions


def _previous_units(geography: RegionProblem) -> np.ndarray:
    """Rep position of each unit's previous owner among the reps left (-1: none)."""
    problem = geography.problem
    position = {rep_id: j for j, rep_id in enumerate(problem.rep_ids)}
    previous = np.full(problem.n_units, -1, dtype=int)
    for u, rep_id in enumerate(geography.previous_rep):
        previous[u] = position.get(rep_id, -1) if rep_id is not None else -1
    for u in range(geography.n_regions, problem.n_units):  # a named account: its owner
        previous[u] = problem.current_rep[problem.unit_members[u][0]]
    return previous


def region_moves_frame(
    geography: RegionProblem, unit_rep: np.ndarray, data, previous_column: str = "previous_rep_id"
) -> pd.DataFrame:
    """region_moves.csv: each region whose rep differs from its previous owner, with its
    accounts, potential, balance-metric loads and the reason (rebalance.move_reasons)."""
    table = regions_table(geography, unit_rep)
    if "potential" not in table.columns:
        problem = geography.problem
        table["potential"] = [
            float(problem.account_potential[problem.unit_members[u]].sum())
            for u in range(geography.n_regions)
        ]
    changed = table[table["rep_id"].to_numpy(dtype=object) != table[previous_column].to_numpy()]
    moves = changed.rename(columns={previous_column: "from_rep", "rep_id": "to_rep"})
    loads = [c for c in moves.columns if c not in ("region_id", "from_rep", "to_rep", "accounts")]
    moves = moves[["region_id", "from_rep", "to_rep", "accounts", *loads]].reset_index(drop=True)
    metrics = [rule.metric for rule in data.settings.balance]
    tolerances = {rule.metric: rule.tolerance for rule in data.settings.balance}
    moves["reason"] = move_reasons(moves, data, metrics, tolerances).to_numpy()
    return moves


@dataclass
class RegionRebalance:
    """The region problem of a re-balance and how to solve and present it."""

    geography: RegionProblem
    problem: RegionDisruptionProblem
    last: np.ndarray | None = None  # the plan the previous step returned

    def solve(
        self, problem: PlanningProblem, settings: SolveSettings, progress=None
    ) -> AssignmentResult:
        """Geography mode's connected solve of ``problem`` (one step of the re-balance).

        Step 2 starts from step 1's plan, which meets every rule of step 2 (its disruption
        is step 2's cap, and within the user's budget). Step 1 seeds its rounds from the
        rooted flow of the travel objective under the same rules: with moved potential as
        the objective, the flow model's ties stall HiGHS (on North Carolina's counties it
        found no plan in 30 s, against 1.4 s for travel)."""
        seed, start = None, self.last
        if start is None:
            seed = dataclasses.replace(problem, travel_weight=1.0, disruption_weight=0.0)
            start = self.handover_start(problem, settings, progress)
        result = solve_geography(
            self.geography, problem, settings, progress=progress, start=start, seed=seed
        )
        self.last = result.unit_rep
        return result

    def handover_start(self, problem, settings: SolveSettings, progress=None):
        """Step 1's start: the previous territories with the orphaned regions handed to
        their neighbours (optimize/region_handover.py), then the territories around them
        re-optimised along their borders with contiguity (optimize/region_windows.py), in at most a
        third of step 1's time. None when neither gives a connected plan within every rule
        (the rounds then start from the travel seed)."""
        geography = self.geography
        if not geography.contiguous:
            return None
        n_regions = geography.n_regions
        graph = adjacency_matrix(geography.neighbours, n_regions)
        previous = self.problem.unit_previous_rep
        handed = hand_over(problem, graph, n_regions, previous)
        if handed is None:
            return None
        focus = np.flatnonzero(kept_owners(problem, previous)[:n_regions] < 0)
        if len(focus) == 0:  # no departure: nothing to hand over
            return None
        clock = Clock.for_settings(settings).share(1 / 3)
        window = dataclasses.replace(settings, time_limit=clock.limit, started=clock.start)
        plan = improve_around(problem, graph, n_regions, handed, window, clock)
        if plan is not None and progress is not None:
            moved = objective_of(problem, plan)
            progress(f"connected start (hand-over and windows): objective {moved:,.1f}")
        return plan

    def summary_fields(self) -> dict:
        """summary.json's geography-mode fields; the plan is connected (solve_regions checks
        it on the region graph before returning it)."""
        return region_summary(self.geography, self.geography.contiguous)

    def tables(self, unit_rep: np.ndarray, data) -> dict[str, pd.DataFrame]:
        """regions.csv and region_moves.csv of the re-balanced plan."""
        return {
            "regions.csv": regions_table(self.geography, unit_rep),
            "region_moves.csv": region_moves_frame(self.geography, unit_rep, data),
        }


def region_rebalance(data) -> RegionRebalance:
    """The region problem of re-balanced data (rebalance.rebalanced_data), with the move
    penalty of the module docstring."""
    geography = build_region_problem(data)
    base = geography.problem
    values = {f.name: getattr(base, f.name) for f in fields(PlanningProblem)}
    problem = RegionDisruptionProblem(
        **values,
        move_penalty=move_penalty_for(base, base.n_units),
        unit_previous_rep=_previous_units(geography),
    )
    return RegionRebalance(geography=geography, problem=problem)
