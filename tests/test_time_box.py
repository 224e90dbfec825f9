"""Every round of the solve is time-boxed: it is handed at most its share of the time left
(TimeBudget) and stops there with the best plan it has, whatever the instance.

The clocks here are held still, so the share a round is given is an exact number; the
solver itself runs against that limit on a case built to be slow (exact optimality asked
for on hundreds of whole accounts under tight bands). HiGHS does not check its clock in
every step of a MIP (timebox.py), so a MIP call is also held to its limit by a hard box:
a solver made to stall past it is stopped there, and the plan end to end keeps room for
writing the plan folder.
"""

from __future__ import annotations

import importlib
import time

import highspy
import numpy as np
import pandas as pd
import pytest

from territory_planner import load_data, scoring
from territory_planner.optimize import strategy, windows
from territory_planner.optimize.model import read_assignment
from territory_planner.optimize.settings import Clock, SolveSettings
from territory_planner.optimize.strategy import Incumbent, _Solve, objective_of
from territory_planner.optimize.time_budget import TimeBudget
from territory_planner.optimize.timebox import box_seconds
from territory_planner.plan import WRITE_SECONDS_ONCE, write_reserve
from territory_planner.scenario import parse_scenario
from tests.helpers import banded_problem, three_rep_plan

plan_module = importlib.import_module("territory_planner.plan")  # the package's plan() hides it
rebalance_module = importlib.import_module("territory_planner.rebalance")
headcount_module = importlib.import_module("territory_planner.headcount")


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
    return banded_problem(accounts, reps, workload=0.002, potential=0.01)


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


# the hard box: HiGHS does not check its clock everywhere ------------------------------


def _stalling_run(seconds: float):
    """``Highs.run`` that first stalls for ``seconds``: it stands in for HiGHS's root central
    rounding (timebox.py), which propagates every integer column at up to a hundred points
    without once looking at the time limit."""
    real = highspy.Highs.run

    def run(self):
        time.sleep(seconds)
        return real(self)

    return run


def test_a_window_whose_solver_ignores_its_limit_is_stopped_at_its_box(monkeypatch):
    """A window MILP whose solver would stall for 60 s is killed at its box (its limit plus
    the grace): it reports no solution, the plan stays as it was, and the call took about
    its limit. The margin (5 s over a 1.2 s box, against a 60 s stall) is wide enough for a
    loaded machine: the check is that the box stops the call, not how fast the machine is."""
    problem = _slow_case()
    solve = _Solve(problem, SolveSettings(time_limit=60), None)
    solve.choose_candidates()
    plan = np.argmin(problem.cost_block(np.arange(problem.n_units)), axis=1)
    window_outcomes = []
    real_run = windows.run

    def recorded_run(model, settings, **kwargs):
        outcome = real_run(model, settings, **kwargs)
        window_outcomes.append(outcome)
        return outcome

    monkeypatch.setattr(windows, "run", recorded_run)
    monkeypatch.setattr(highspy.Highs, "run", _stalling_run(60.0))
    box = windows.Windows(
        problem,
        solve.pairs,
        plan,
        objective_of(problem, plan),
        solve.settings,
        Clock(60.0),
        solve.log,
        seconds=1.0,
    )
    assert box.solve(0, mend=False) is False
    (outcome,) = window_outcomes
    assert outcome.killed and outcome.status == "no_solution"
    assert outcome.limit == pytest.approx(1.0)
    assert outcome.seconds <= box_seconds(outcome.limit) + 5.0
    assert np.array_equal(box.plan, plan)


def test_a_round_the_solver_cannot_finish_stays_within_its_box(solve_after_lp):
    """The real solver on the slow case (exact optimality asked for): the round stops with
    its limit, and the seconds the phase log records for it are within its box plus a
    margin for reading the answer back on a loaded machine."""
    solve, _ = solve_after_lp
    solve.finish_round("every other unit", np.arange(0, solve.problem.n_units, 2))
    entry = solve.log.entries[-1]
    assert entry["limit"] == pytest.approx(TimeBudget.PARTIAL_ROUND * 2.0)
    assert entry["status"] in ("feasible", "no_solution")
    assert entry["solve_seconds"] <= box_seconds(entry["limit"]) + 2.0


def test_writing_the_plan_folder_is_kept_room_for_in_the_limit(monkeypatch, tmp_path):
    """The CLI's plan holds its limit end to end: the solve gets the limit less an allowance
    for writing (at most a fifth of it), counted from the caller's start."""
    data = load_data(
        parse_scenario({"accounts": "a", "reps": "r", "solver": {"time_limit": 60}}),
        accounts=pd.DataFrame(
            {"account_id": ["A1", "A2"], "lat": [30.0, 30.1], "lon": [-97.0, -97.1]}
        ),
        reps=pd.DataFrame({"rep_id": ["R1"], "lat": [30.0], "lon": [-97.0]}),
    )
    assert write_reserve(data, 60.0) == pytest.approx(WRITE_SECONDS_ONCE + 2 * 1e-3)
    assert write_reserve(data, 5.0) == pytest.approx(1.0)  # a fifth of a short limit
    seen = []

    class Seen(Exception):
        pass

    def stand_in(problem, settings, progress):
        seen.append(settings)
        raise Seen

    monkeypatch.setattr(plan_module, "solve_assignment", stand_in)
    with pytest.raises(Seen):
        plan_module.plan(data, started=123.0, will_write=True)
    assert seen[0].started == 123.0
    assert seen[0].time_limit == pytest.approx(60.0 - write_reserve(data, 60.0))


@pytest.mark.parametrize("tradeoff", [False, True])
def test_a_rebalance_holds_its_limit_end_to_end(monkeypatch, tmp_path, tradeoff):
    """rebalance counts its limit from the caller's start, as plan does: with 10 s of a 30 s
    limit already spent and room kept for writing, step 1 gets half of the 20 - reserve s
    left (a quarter when the trade-off curve takes the second half), on a clock that starts
    with the step, and step 2 ends where the steps' share ends. Before, each step's limit
    was counted from nothing: reading and writing ran on top of it."""
    start = three_rep_plan(tmp_path)
    real_solve = rebalance_module.solve_assignment
    given: list[SolveSettings] = []

    def recording(problem, settings, progress=None):
        given.append(settings)
        return real_solve(problem, settings, progress=progress)

    monkeypatch.setattr(rebalance_module, "solve_assignment", recording)
    spent = time.perf_counter() - 10.0
    made = rebalance_module.rebalance(
        start, leaves=["C"], time_limit=30, started=spent, will_write=True, tradeoff=tradeoff
    )
    left = 30.0 - write_reserve(made, 30.0) - 10.0
    steps_share = left / 2 if tradeoff else left
    first, second = given[0], given[1]
    assert first.time_limit == pytest.approx(steps_share / 2, abs=0.5)
    assert first.started >= spent + 10.0
    steps_end = spent + 10.0 + steps_share
    assert second.started + second.time_limit == pytest.approx(steps_end, abs=0.5)
    assert made.summary["solver"]["time_limit"] == 30
    if tradeoff:  # the curve's solves come after, within the half left to them
        assert len(given) == 2 and "tradeoff.csv" in made.extra_files


def _two_accounts_one_rep():
    return load_data(
        parse_scenario({"accounts": "a", "reps": "r", "solver": {"time_limit": 60}}),
        accounts=pd.DataFrame(
            {
                "account_id": ["A1", "A2"],
                "lat": [30.0, 30.1],
                "lon": [-97.0, -97.1],
                "current_rep_id": ["R1", "R1"],
            }
        ),
        reps=pd.DataFrame({"rep_id": ["R1"], "lat": [30.0], "lon": [-97.0]}),
    )


@pytest.mark.parametrize(
    "command",
    [
        lambda data, **end: headcount_module.locate(data, 1, **end),
        lambda data, **end: headcount_module.headcount(data, max_load=10.0, **end),
        lambda data, **end: scoring.evaluate(data, **end),
    ],
    ids=["locate", "headcount", "evaluate"],
)
def test_locate_headcount_and_evaluate_hold_their_limit_end_to_end(monkeypatch, command):
    """As for plan: with 10 s of the scenario's 60 s spent before the solve and room kept
    for writing, the solver is handed 60 - 10 - reserve s (before: the whole 60 s, so the
    CLI's locate --time-limit 30 on the demo ran 37 s)."""
    data = _two_accounts_one_rep()
    seen = []

    class Seen(Exception):
        pass

    def stand_in(problem, *args, **kwargs):
        seen.append(next(a for a in (*args, *kwargs.values()) if isinstance(a, SolveSettings)))
        raise Seen

    monkeypatch.setattr(headcount_module, "solve_locate_problem", stand_in)
    monkeypatch.setattr(scoring, "solve_assignment", stand_in)
    with pytest.raises(Seen):
        command(data, started=time.perf_counter() - 10.0, will_write=True)
    assert seen[0].time_limit == pytest.approx(60.0 - 10.0 - write_reserve(data, 60.0), abs=0.5)
