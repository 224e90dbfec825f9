"""Pair windows (optimize/pair_windows.py) on a 3 x 3 grid worked by hand:

    0 1 2
    3 4 5
    6 7 8

rook neighbours, each region's load 1, three reps A (home 0), B (home 5), C (home 7), every
band exactly 3 regions."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.sparse import csr_matrix

from territory_planner.optimize.pair_windows import improved_by_pairs, touching_reps
from territory_planner.optimize.settings import SolveSettings
from territory_planner.problem import assignment_problem

A, B, C = 0, 1, 2
HOMES = np.array([0, 5, 7])


def _grid(rows: int = 3, cols: int = 3) -> csr_matrix:
    """Rook neighbours of a rows x cols grid, region r * cols + c."""
    edges = [(r * cols + c, r * cols + c + 1) for r in range(rows) for c in range(cols - 1)]
    edges += [(r * cols + c, (r + 1) * cols + c) for r in range(rows - 1) for c in range(cols)]
    heads = [a for a, b in edges] + [b for a, b in edges]
    tails = [b for a, b in edges] + [a for a, b in edges]
    n = rows * cols
    return csr_matrix((np.ones(len(heads)), (heads, tails)), shape=(n, n))


def _problem(cost):
    problem = assignment_problem(cost, np.ones((9, 3)), np.array([3.0, 3.0, 3.0]))
    three = np.array([[3.0, 3.0, 3.0]])
    return dataclasses.replace(problem, lower=three, target=three, upper=three.copy())


#: travel: A near 0, 3, 4; B near 1, 2, 5; C near the bottom row; 9 anywhere else
COST = np.array(
    [
        [0, 9, 9],
        [5, 1, 9],
        [5, 1, 9],
        [1, 5, 9],
        [1, 5, 9],
        [9, 0, 9],
        [9, 9, 0],
        [9, 9, 0],
        [9, 9, 0],
    ],
    dtype=float,
)


def test_two_touching_territories_are_re_split_at_their_connected_optimum():
    """Start A = {0, 1, 2} (cost 10), B = {3, 4, 5} (10), C = {6, 7, 8} (0): 20. The window
    of A and B holds regions 0-5; with A rooted at 0, B at 5 and three regions each, its
    cheapest connected split is A = {0, 3, 4} (0 + 1 + 1) and B = {1, 2, 5} (1 + 1 + 0), 4
    in all. C's windows find nothing cheaper (the bottom row costs 9 to A or B), so the plan
    is A = {0, 3, 4}, B = {1, 2, 5}, C = {6, 7, 8}: cost 4, every territory one piece."""
    plan = np.array([A, A, A, B, B, B, C, C, C])
    settings = SolveSettings(time_limit=30)
    better = improved_by_pairs(
        _problem(COST), _grid(), 9, plan, HOMES, settings, time.perf_counter() + 60
    )
    assert better.tolist() == [A, B, B, A, A, B, C, C, C]
    assert plan.tolist() == [A, A, A, B, B, B, C, C, C]  # the plan given is not changed


def test_a_plan_no_pair_can_improve_is_returned_as_it_is():
    """The optimum above, given as the start: every window's split costs the same, so no
    pair takes one and the plan comes back unchanged."""
    plan = np.array([A, B, B, A, A, B, C, C, C])
    better = improved_by_pairs(
        _problem(COST), _grid(), 9, plan, HOMES, SolveSettings(), time.perf_counter() + 60
    )
    assert better.tolist() == plan.tolist()


def test_the_touching_pairs_are_read_off_the_grid():
    """A = {0, 1, 2}, B = {3, 4, 5}, C = {6, 7, 8}: A touches B, B touches C, A and C do
    not touch."""
    plan = np.array([A, A, A, B, B, B, C, C, C])
    assert touching_reps(_grid(), plan, 9) == [(A, B), (B, C)]


def test_windows_stop_once_the_plan_costs_what_the_gap_asks():
    """Two copies of the grid above side by side (a 3 x 6 grid): A, B, C on the left three
    columns, D, E, F on the right three, each copy's costs as COST (9 to a rep of the other
    copy). Both copies start at the bad split (20 each, 40). Each copy's A-B (D-E) window
    saves 16. Asked to stop at 30, the first window taken (40 - 16 = 24) is enough and the
    other copy keeps its bad split; asked for nothing, both windows are taken: 8."""
    left = [r * 6 + c for r in range(3) for c in range(3)]
    right = [r * 6 + c + 3 for r in range(3) for c in range(3)]
    cost = np.full((18, 6), 9.0)
    cost[left, 0:3] = COST
    cost[right, 3:6] = COST
    six = np.array([[3.0] * 6])
    problem = assignment_problem(cost, np.ones((18, 6)), six[0])
    problem = dataclasses.replace(problem, lower=six, target=six, upper=six.copy())
    start = np.empty(18, dtype=int)
    start[left] = [A, A, A, B, B, B, C, C, C]
    start[right] = [A + 3, A + 3, A + 3, B + 3, B + 3, B + 3, C + 3, C + 3, C + 3]
    homes = np.array([left[0], left[5], left[7], right[0], right[5], right[7]])
    graph, settings, later = _grid(3, 6), SolveSettings(), time.perf_counter() + 60

    def cost_of(plan):
        return float(cost[np.arange(18), plan].sum())

    assert cost_of(start) == 40.0
    stopped = improved_by_pairs(problem, graph, 18, start, homes, settings, later, 30.0)
    assert cost_of(stopped) == 24.0
    halves = [stopped[left].tolist(), stopped[right].tolist()]
    assert sorted(halves) == sorted([[A, B, B, A, A, B, C, C, C], start[right].tolist()]) or (
        sorted(halves) == sorted([start[left].tolist(), [3, 4, 4, 3, 3, 4, 5, 5, 5]])
    )
    full = improved_by_pairs(problem, graph, 18, start, homes, settings, later)
    assert cost_of(full) == 8.0
