"""The capacitated p-median with balance (optimize/locate.py) on hand-worked instances."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from territory_planner.errors import InfeasibleError, InputError
from territory_planner.optimize.locate import (
    _cutoff,
    _MedianDual,
    lagrangian_median_bound,
    solve_locate,
)
from territory_planner.optimize.strategy import SolveSettings

EXACT = SolveSettings(gap=0.0, time_limit=30)
POINTS = np.array([0.0, 1.0, 2.0, 10.0])
LINE = np.abs(POINTS[:, None] - POINTS[None, :])


def test_two_medians_on_a_line_uncapacitated():
    """Points 0, 1, 2, 10; sites = points; 2 medians. A median at 1 serves 0, 1, 2 at cost
    1 + 0 + 1 = 2 and a median at 10 serves itself at 0: total 2. No plan costs less: 10 is
    at least 8 from every other site, so it must be a median (else it alone costs >= 8) and
    the other median serves 0, 1, 2, at least |0 - 2| = 2 between them."""
    result = solve_locate(LINE, 2, settings=EXACT)
    assert result.objective == pytest.approx(2.0)
    assert result.lower_bound == pytest.approx(2.0)
    assert result.gap == pytest.approx(0.0)
    assert result.status == "optimal"
    assert sorted(result.open_sites.tolist()) == [1, 3]
    assert result.unit_rep.tolist() == [1, 1, 1, 3]


def test_capacity_two_per_median_changes_the_answer():
    """Same points, each of load 1, every median carries at most 2. The three left points
    can no longer share one median, so one of them joins 10. Options: {0,1}+{2,10} costs
    1 + 8 = 9; {0,2}+{1,10} costs 2 + 9 = 11; {1,2}+{0,10} costs 1 + 10 = 11. Optimum 9."""
    result = solve_locate(LINE, 2, loads=np.ones((1, 4)), upper=np.array([2.0]), settings=EXACT)
    assert result.objective == pytest.approx(9.0)
    assert result.lower_bound == pytest.approx(9.0)
    assert result.status == "optimal"
    sites = result.unit_rep
    assert sites[0] == sites[1] and sites[2] == sites[3] and sites[0] != sites[2]


def test_lower_band_is_enforced_on_open_sites_only():
    """Each open median must carry at least 2 (and at most 2): the same partition, 9.
    A lower band of 3 with 2 medians and total load 4 is impossible: proven infeasible."""
    result = solve_locate(
        LINE, 2, loads=np.ones((1, 4)), lower=np.array([2.0]), upper=np.array([2.0]), settings=EXACT
    )
    assert result.objective == pytest.approx(9.0)
    with pytest.raises(InfeasibleError, match="no choice of 2 bases"):
        solve_locate(LINE, 2, loads=np.ones((1, 4)), lower=np.array([3.0]), settings=EXACT)


def test_bad_count_is_an_input_error():
    with pytest.raises(InputError, match="between 1 and the 4 candidate sites; got 5"):
        solve_locate(LINE, 5, settings=EXACT)


def test_sparse_candidates_keep_the_bound_honest():
    """A random 60-point instance with a capacity of 12 per median (so the banded, priced
    path runs) solved with 3 candidate sites per unit (pricing must bring in the rest) gives
    the same optimum as the full model over all 3,600 pairs."""
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, (60, 2))
    cost = np.floor(np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2)))
    capacity = dict(loads=np.ones((1, 60)), upper=np.array([12.0]))
    full = solve_locate(
        cost, 6, **capacity, settings=SolveSettings(gap=0.0, time_limit=30, full_model_pairs=10**9)
    )
    sparse = solve_locate(
        cost,
        6,
        **capacity,
        settings=SolveSettings(gap=0.0, time_limit=30, candidates=3, full_model_pairs=0),
    )
    assert full.status == sparse.status == "optimal"
    assert sparse.objective == pytest.approx(full.objective)
    assert sparse.lower_bound <= full.objective + 1e-6


def _brute_force(cost: np.ndarray, count: int) -> tuple[float, list[tuple[int, ...]]]:
    """Every choice of ``count`` sites, each unit served by its cheapest: (optimum, the
    choices reaching it)."""
    values = {
        sites: float(cost[:, list(sites)].min(axis=1).sum())
        for sites in itertools.combinations(range(cost.shape[1]), count)
    }
    best = min(values.values())
    return best, [sites for sites, value in values.items() if value <= best + 1e-9]


def _points(seed: int, n: int, integral: bool) -> np.ndarray:
    xy = np.random.default_rng(seed).uniform(0, 100, (n, 2))
    cost = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2))
    return np.floor(cost) if integral else cost


@pytest.mark.parametrize(
    ("seed", "n", "count", "integral"), [(1, 40, 3, True), (2, 24, 5, True), (3, 30, 4, False)]
)
def test_median_without_bands_is_the_brute_force_optimum(seed, n, count, integral):
    """Without bands the Lagrangian path (dual bound, fixing, site tree, reduced MILP) runs.
    Its plan costs exactly the optimum found by enumerating every choice of sites, and the
    bound it proves equals that optimum (integer costs) or is within 1e-6 of it."""
    cost = _points(seed, n, integral)
    optimum, _ = _brute_force(cost, count)
    result = solve_locate(cost, count, settings=EXACT)
    assert result.objective == pytest.approx(optimum)
    assert result.lower_bound <= optimum + 1e-9
    assert result.gap <= 1e-6 and result.status == "optimal"
    assert len(result.open_sites) == count
    served = cost[np.arange(n), result.unit_rep].sum()
    assert served == pytest.approx(optimum)


def test_lagrangian_bound_and_fixings_never_cut_off_an_optimum():
    """With an incumbent 5 above the optimum, the dual's bound is at most the optimum, no
    optimal choice of sites uses a site it closed, and every site it opened is in every
    optimal choice (each fixing only removes plans costing at least the cutoff)."""
    cost = _points(4, 25, True)
    optimum, optimal_choices = _brute_force(cost, 3)
    dual = _MedianDual(cost, 3, integral=True)
    dual.cutoff = _cutoff(dual, optimum + 5)
    start = np.sort(cost, axis=1)[:, 1]
    bound = lagrangian_median_bound(
        dual, start, optimum + 5, time.perf_counter() + 5, 0.0, lambda chosen: optimum + 5
    )
    assert bound.value <= optimum + 1e-9
    assert bound.closed.any()  # the bound is strong enough to close some sites
    for sites in optimal_choices:
        assert not bound.closed[list(sites)].any()
        assert set(np.flatnonzero(bound.opened).tolist()) <= set(sites)


# ----------------------------------------------------------------------------- the search


def _banded_brute_force(cost: np.ndarray, loads: np.ndarray, upper: float, count: int) -> float:
    """Every assignment of the units to ``count`` distinct sites with every open site's load
    at most ``upper``: the cheapest total (sites and assignment enumerated)."""
    n_units, n_sites = cost.shape
    best = np.inf
    for sites in itertools.combinations(range(n_sites), count):
        for choice in itertools.product(range(count), repeat=n_units):
            if len(set(choice)) != count:
                continue
            carried = np.bincount(choice, loads, minlength=count)
            if (carried <= upper + 1e-9).all():
                best = min(
                    best, float(cost[np.arange(n_units), np.array(sites)[list(choice)]].sum())
                )
    return best


def test_lagrangian_bound_holds_for_any_sign_correct_duals():
    """Six points of load 1, 2, 1, 1, 1, 1, two bases of at most 4 load each: the optimum
    is enumerated (15 site pairs x 64 assignments). The bound of lagrangian_bound, over a
    model of each unit's 2 cheapest sites priced over all 36 pairs, is at most that optimum
    for random duals clipped to their rows' signs, and for the LP's own duals as well (over
    each unit's 4 cheapest sites, so that the LP is feasible)."""
    from territory_planner.optimize.locate import median_problem
    from territory_planner.optimize.site_pairs import priced_pairs, site_blocks
    from territory_planner.optimize.strong_model import (
        build_strong_model,
        dual_prices,
        lagrangian_bound,
        solve_strong,
    )

    cost = _points(5, 6, True)
    loads = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0])
    optimum = _banded_brute_force(cost, loads, 4.0, 2)
    problem = median_problem(cost, loads=loads[None, :], upper=np.array([4.0]))
    nearest = np.argsort(cost, axis=1)[:, :2]
    pairs = priced_pairs(problem, np.repeat(np.arange(6), 2), nearest.ravel())
    model = build_strong_model(problem, pairs, 2)
    rng = np.random.default_rng(0)
    for _ in range(50):
        duals = rng.normal(0, 30, model.n_rows)
        priced = lagrangian_bound(
            problem, model, dual_prices(problem, model, duals), site_blocks(problem), 2
        )
        assert priced.bound <= optimum + 1e-9
    nearest = np.argsort(cost, axis=1)[:, :4]
    pairs = priced_pairs(problem, np.repeat(np.arange(6), 4), nearest.ravel())
    model = build_strong_model(problem, pairs, 2)
    outcome = solve_strong(model, EXACT, mip=False, time_limit=10)
    assert outcome.status == "optimal"
    priced = lagrangian_bound(
        problem, model, dual_prices(problem, model, outcome.row_dual), site_blocks(problem), 2
    )
    assert priced.bound <= optimum + 1e-9
    assert priced.bound > 0.5 * optimum  # the LP duals give a bound worth having


def test_sparse_median_bound_is_a_lower_bound_and_beats_the_nearest_site_sum():
    """40 points, 3 medians, lists of 12 sites: the no-band Lagrangian bound is at most the
    enumerated optimum and above the trivial bound (every unit at its nearest site, 0)."""
    from territory_planner.optimize.locate_search import sparse_median_bound
    from territory_planner.optimize.site_pairs import nearest_sites

    cost = _points(1, 40, True)
    optimum, _ = _brute_force(cost, 3)
    from territory_planner.optimize.locate import median_problem

    near = nearest_sites(median_problem(cost), 12)
    value = sparse_median_bound(near, 3, optimum, time.perf_counter() + 5)
    assert value <= optimum + 1e-9
    assert value > float(near.cost[:, 0].sum())


def test_banded_locate_beyond_the_full_model_gives_a_banded_plan_and_an_honest_bound():
    """300 points (90,000 pairs, past FULL_MODEL_PAIRS), 5 bases of at most 63 units each
    (300 / 5 = 60, +5%). The plan meets the capacity, its objective is its own travel, the
    bound is below it, and it is cheaper than serving from the first five sites (what a
    stalled LP used to return)."""
    from territory_planner.optimize.construct import allocate
    from territory_planner.optimize.locate import median_problem

    cost = _points(7, 300, False)
    capacity = dict(loads=np.ones((1, 300)), upper=np.array([63.0]))
    result = solve_locate(cost, 5, **capacity, settings=SolveSettings(time_limit=20))
    assert len(result.open_sites) == 5
    assert np.bincount(result.unit_rep, minlength=300).max() <= 63
    assert result.objective == pytest.approx(cost[np.arange(300), result.unit_rep].sum())
    assert 0 < result.lower_bound <= result.objective
    problem = median_problem(cost, **capacity)
    first_rows = allocate(problem, np.arange(5), SolveSettings(), 10.0)
    assert result.objective < cost[np.arange(300), first_rows].sum()


def test_the_strong_model_is_a_pulp_model_whose_mip_is_integral():
    """Three units of load 2, 1, 1, two fixed bases of at most 2.5 load each; every unit
    costs 0 at base 0 and 1 at base 1. The LP fills base 0 with both small units and a
    quarter of the big one (cost 0.75); the MILP can only fit the two small units there, so
    the big one goes to base 1 (cost 1), and its values are 0/1."""
    import pulp

    from territory_planner.optimize.locate import median_problem
    from territory_planner.optimize.site_pairs import priced_pairs
    from territory_planner.optimize.strong_model import build_strong_model, solve_strong

    cost = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    loads = np.array([[2.0, 1.0, 1.0]])
    problem = median_problem(cost, loads=loads, upper=np.array([2.5]))
    pairs = priced_pairs(problem, np.repeat(np.arange(3), 2), np.tile(np.arange(2), 3))
    model = build_strong_model(problem, pairs, 2, fixed_sites=np.array([0, 1]))
    assert isinstance(model.lp, pulp.LpProblem)
    relaxed = solve_strong(model, EXACT, mip=False, time_limit=10)
    assert relaxed.status == "optimal"
    assert relaxed.objective == pytest.approx(0.75)
    integral = solve_strong(model, EXACT, mip=True, time_limit=10)
    assert integral.status == "optimal"
    assert integral.objective == pytest.approx(1.0)
    assert set(np.round(integral.values, 9).tolist()) <= {0.0, 1.0}
    assert integral.values[: model.n_x].reshape(3, 2)[0].tolist() == [0.0, 1.0]
