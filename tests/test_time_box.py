"""Every round of the solve is time-boxed: it is handed at most its share of the time left
(TimeBudget) and stops there with the best plan it has, whatever the instance.

The clocks here are held still, so the share a round is given is an exact number; the
solver itself runs against that limit on a case built to be slow (exact optimality asked
for on hundreds of whole accounts under tight bands).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territory_planner import build_problem, load_data
from territory_planner.optimize import strategy
from territory_planner.optimize.model import read_assignment
from territory_planner.optimize.settings import Clock, SolveSettings
from territory_planner.optimize.strategy import Incumbent, TimeBudget, _Solve
from territory_planner.scenario import parse_scenario


class HeldClock(Clock):
    """A clock that always has ``left`` seconds remaining: time does not pass on it."""

    def __init__(self, left: float):
        super().__init__(left, start=0.0)

    @property
    def elapsed(self) -> float:
        return 0.0


def _slow_case():
    """1,200 accounts and 12 reps, uniform over a square, integer workloads 1..40 with a
    band of 0.2%: a partition problem under the travel objective, slow to prove optimal."""
    rng = np.random.default_rng(5)
    n = 1200
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:04d}" for i in range(n)],
            "lat": rng.uniform(30, 34, n),
            "lon": rng.uniform(-100, -96, n),
            "workload": rng.integers(1, 41, n).astype(float),
            "potential": rng.integers(100, 1000, n).astype(float),
        }
    )
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{j:02d}" for j in range(12)],
            "lat": rng.uniform(30, 34, 12),
            "lon": rng.uniform(-100, -96, 12),
        }
    )
    scenario = parse_scenario(
        {
            "accounts": "a",
            "reps": "r",
            "balance": [
                {"metric": "workload", "tolerance": 0.002},
                {"metric": "potential", "tolerance": 0.01},
            ],
        }
    )
    return build_problem(load_data(scenario, accounts=accounts, reps=reps))


@pytest.fixture
def solve_after_lp(monkeypatch):
    """The solve of the slow case after its LP, its clock held at 2 s left; every call to
    the solver is recorded (its kind and the time limit it was given)."""
    problem = _slow_case()
    solve = _Solve(problem, SolveSettings(time_limit=60, gap=0.0), None)
    solve.choose_candidates()
    solve.price_relaxation()
    rep, _ = read_assignment(solve.lp_model, problem.n_units)
    solve.incumbent = Incumbent(fallback=rep)
    held = HeldClock(2.0)
    solve.clock, solve.time = held, TimeBudget(held)
    solve.log.clock = held
    calls = []
    real_run = strategy.run

    def recorded_run(model, settings, **kwargs):
        calls.append(kwargs)
        return real_run(model, settings, **kwargs)

    monkeypatch.setattr(strategy, "run", recorded_run)
    monkeypatch.setattr(strategy, "ROUND_GAP", 0.0)  # exact optimality: the slow part
    return solve, calls


def test_a_partial_round_is_given_its_share_and_stops_at_it(solve_after_lp):
    solve, calls = solve_after_lp
    free = np.arange(0, solve.problem.n_units, 2)
    solve.finish_round("every other unit", free)
    assert len(calls) == 1 and calls[0]["mip"] is True
    assert calls[0]["time_limit"] == pytest.approx(TimeBudget.PARTIAL_ROUND * 2.0)
    entry = solve.log.entries[-1]
    assert entry["phase"] == "finish" and entry["free_units"] == len(free)
    # stopped by its limit: a plan found but not proven, or none found in the time
    assert entry["status"] in ("feasible", "no_solution")


def test_the_all_units_round_keeps_a_tenth_of_the_time_for_what_follows(solve_after_lp):
    solve, calls = solve_after_lp
    solve.finish_round("all units", np.arange(solve.problem.n_units))
    assert calls[0]["time_limit"] == pytest.approx(TimeBudget.ALL_UNITS_ROUND * 2.0)
    assert solve.log.entries[-1]["status"] in ("feasible", "no_solution")


def test_no_round_starts_when_its_share_would_be_too_short():
    budget = TimeBudget(HeldClock(TimeBudget.ROUND_SECONDS))
    assert not budget.round_worth_it()
    assert TimeBudget(HeldClock(TimeBudget.ROUND_SECONDS + 0.01)).round_worth_it()


def test_a_round_needs_time_for_its_own_build_at_the_rate_last_seen():
    budget = TimeBudget(HeldClock(2.0))
    budget.observe_build(0.3, 100)  # too small to tell: fixed costs dominate it
    assert budget.build_rate == TimeBudget.POLISH_SECONDS_PER_PAIR
    budget.observe_build(1.0, 20000)  # 50 microseconds a pair, as on a loaded machine
    assert budget.build_rate == pytest.approx(5e-5)
    # 0.5 s to solve plus the build: 10,000 pairs need 1 s, 40,000 need 2.5 s of the 2 left
    assert budget.round_worth_it(10000)
    assert not budget.round_worth_it(40000)
