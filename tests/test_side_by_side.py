"""MIP solves side by side: two boxed copies at once (solvers.run_together), and the windows
of reps that share no rep solved two at a time (windows.Windows.solve_both)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territory_planner import build_problem, load_data
from territory_planner.optimize import solvers, timebox, windows
from territory_planner.optimize.breach import band_excess, rep_loads
from territory_planner.optimize.model import build_assignment_model, read_assignment
from territory_planner.optimize.pairs import all_allowed_pairs, candidate_pairs
from territory_planner.optimize.settings import Clock, SolveSettings
from territory_planner.optimize.strategy import objective_of
from territory_planner.problem import assignment_problem
from territory_planner.scenario import parse_scenario

pytestmark = pytest.mark.skipif(not timebox.can_box(), reason="boxed solves need os.fork")


def _gap_model(cost, capacity):
    problem = assignment_problem(cost, np.ones(np.shape(cost)), np.asarray(capacity, float))
    pairs = all_allowed_pairs(problem)
    return problem, build_assignment_model(problem, pairs, np.arange(problem.n_units), relax=False)


def test_two_solves_run_at_once_and_each_gets_its_own_optimum(monkeypatch):
    """Both copies are started before either is read. The optima by hand: R1 has one seat,
    R2 two; u1 loses 3 by moving to R2, u2 only 1, so u1 -> R1 and u2, u3 -> R2: 1 + 3 + 1
    = 5. The second: two units, one seat each, the diagonal is dear: 1 + 1 = 2."""
    events = []
    real_start, real_result = solvers.start_boxed, timebox.BoxedSolve.result

    def start(*args, **kwargs):
        events.append("start")
        return real_start(*args, **kwargs)

    def result(self):
        events.append("result")
        return real_result(self)

    monkeypatch.setattr(solvers, "start_boxed", start)
    monkeypatch.setattr(timebox.BoxedSolve, "result", result)
    first, first_model = _gap_model([[1, 4], [2, 3], [5, 1]], [1, 2])
    second, second_model = _gap_model([[3, 1], [1, 3]], [1, 1])

    outcomes = solvers.run_together(
        [first_model, second_model], SolveSettings(), time_limit=30, gap=0.0
    )

    assert events == ["start", "start", "result", "result"]
    assert [o.status for o in outcomes] == ["optimal", "optimal"]
    assert [o.objective for o in outcomes] == pytest.approx([5.0, 2.0])
    assert read_assignment(first_model, 3)[0].tolist() == [0, 1, 1]
    assert read_assignment(second_model, 2)[0].tolist() == [1, 0]


def _line(budget: float | None = None):
    """48 accounts on the equator (workload 1), eight reps spread along them, each band
    10% of 6; neighbouring blocks of six accounts start swapped (R0 holds the block at R1
    and R1 R0's, and so on: a plan inside every band, and far from its cheapest)."""
    lon = np.repeat(np.arange(8) * 4.0, 6) + np.tile(np.linspace(-1, 1, 6), 8)
    accounts = pd.DataFrame(
        {
            "account_id": [f"A{i:02d}" for i in range(48)],
            "lat": 0.0,
            "lon": lon,
            "workload": 1.0,
            "potential": 1.0,
            "current_rep_id": [f"R{(i // 6) ^ 1}" for i in range(48)],
        }
    )
    reps = pd.DataFrame(
        {"rep_id": [f"R{j}" for j in range(8)], "lat": 0.0, "lon": np.arange(8) * 4.0}
    )
    rules = {"accounts": "a", "reps": "r", "balance": [{"metric": "workload", "tolerance": 0.1}]}
    if budget is not None:
        rules["constraints"] = {"max_moved_share": budget}
    problem = build_problem(load_data(parse_scenario(rules), accounts=accounts, reps=reps))
    start = problem.current_rep.copy()
    return problem, start


def _windows(problem, start):
    pairs, _ = candidate_pairs(problem, 3)  # each account's three nearest reps and its owner
    return windows.Windows(
        problem,
        pairs,
        start,
        objective_of(problem, start),
        SolveSettings(time_limit=60),
        Clock(60.0),
        lambda *args, **kwargs: None,
        seconds=2.0,
    )


def test_windows_that_share_no_rep_are_solved_two_at_a_time(monkeypatch):
    """The sweep pairs improving windows up (run_together gets two models with no rep in
    common); the plan it ends with holds every band and costs less than the start: each
    swapped pair of blocks is undone."""
    problem, start = _line()
    together = []
    real = windows.run_together

    def recorded(models, settings, **options):
        together.append([set(np.unique(m.pairs.rep).tolist()) for m in models])
        return real(models, settings, **options)

    monkeypatch.setattr(windows, "run_together", recorded)
    box = _windows(problem, start)
    assert box.side_by_side
    box.sweep(np.arange(0), done=lambda objective, breach: False)

    # (a window nothing touched since it found nothing is not solved again: one alone)
    assert any(len(call) == 2 for call in together)
    assert all(not (call[0] & call[1]) for call in together if len(call) == 2)
    assert band_excess(problem, rep_loads(problem, box.plan)).max() <= 1e-9
    assert box.objective == pytest.approx(objective_of(problem, box.plan))
    assert box.objective < objective_of(problem, start) - 1.0
    assert box.plan.tolist() == [i // 6 for i in range(48)]


def test_a_disruption_budget_keeps_the_windows_one_at_a_time():
    """Two windows could each spend the budget's last potential: the sweep solves them one
    after the other."""
    problem, start = _line(budget=0.5)
    assert not _windows(problem, start).side_by_side


def test_waiting_windows_that_all_overlap_are_solved_one_by_one(monkeypatch):
    """Draining a queue of windows that pairwise share a rep (the window of reps 1 and 2
    is R0, R1, R2 and of rep 3 R2, R3, R4: each pair shares R2) solves each of them alone,
    once, and ends: before, the oldest went back to the queue and the sweep spun until its
    time ran out."""
    problem, start = _line()
    box = _windows(problem, start)
    solved = []
    monkeypatch.setattr(box, "solve", lambda j, mend, width=None: solved.append(j) or False)
    monkeypatch.setattr(box, "solve_both", lambda a, b: pytest.fail("no pair shares no rep"))
    waiting = [1, 2, 3]
    assert all(
        np.isin(box.widest[a, :3], box.widest[b, :3]).any() for a in waiting for b in waiting
    )

    for _ in range(10):  # a bounded loop: the spinning queue fails here instead of hanging
        if waiting:
            box.queue_improving(waiting, None)

    assert not waiting
    assert solved == [1, 2, 3]
