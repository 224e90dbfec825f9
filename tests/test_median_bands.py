"""The banded Lagrangian bound for choosing bases (optimize/median_bands.py)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from territory_planner.optimize.locate import median_problem
from territory_planner.optimize.locate_search import sparse_median_bound
from territory_planner.optimize.median_bands import banded_bound_applies, banded_median_bound
from territory_planner.optimize.site_pairs import nearest_sites

POINTS = np.array([0.0, 1.0, 2.0, 10.0])
LINE = np.abs(POINTS[:, None] - POINTS[None, :])


def test_bands_lift_the_bound_to_the_banded_optimum_on_a_line():
    """Points 0, 1, 2, 10 (sites = points), 2 bases, each carrying exactly 2 of the 4
    units. Without bands a base at 1 serves 0, 1, 2 and one at 10 itself: 2. With them the
    three left points cannot share a base: {0,1} + {2,10} costs 1 + 8 = 9 (the other
    splits cost 11), the banded optimum. The multipliers lam = (1, 1, 1, 8) prove 9: each
    site's cheapest two units have reduced costs summing to -1 (site 0: -1 + 0; site 1:
    0 - 1; site 2: -1 + 0; site 10: -8 + 7), so L = 11 - 1 - 1 = 9. The bound without bands
    stays at 2."""
    band = dict(loads=np.ones((1, 4)), lower=np.array([2.0]), upper=np.array([2.0]))
    problem = median_problem(LINE, **band)
    found = banded_median_bound(problem, 2, 9.0, time.perf_counter() + 10)
    assert found.bound == pytest.approx(9.0, abs=1e-6)
    assert found.bound <= 9.0 + 1e-9
    no_bands = sparse_median_bound(nearest_sites(problem, 4), 2, 9.0, time.perf_counter() + 5)
    assert no_bands == pytest.approx(2.0, abs=1e-6)


def _banded_optimum(cost, loads, lower, upper, count) -> float:
    """Every choice of ``count`` open sites and every assignment of the units to them, the
    cheapest one that keeps every open site's load within [lower, upper] on every metric."""
    n_units, n_sites = cost.shape
    best = np.inf
    for sites in itertools.combinations(range(n_sites), count):
        choice = np.array(list(itertools.product(range(count), repeat=n_units)))  # (A, U)
        site_of = np.array(sites)[choice]
        travel = cost[np.arange(n_units)[None, :], site_of].sum(axis=1)
        ok = np.ones(len(choice), dtype=bool)
        for k in range(count):
            load = (loads[:, None, :] * (choice == k)[None]).sum(axis=2)  # (M, A)
            ok &= ((load >= lower[:, None] - 1e-9) & (load <= upper[:, None] + 1e-9)).all(axis=0)
        if ok.any():
            best = min(best, float(travel[ok].min()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_the_banded_bound_never_exceeds_the_enumerated_optimum(seed):
    """Random 7-unit instances (sites = units), 2 or 3 bases, two metrics with bands of
    20-50% around an equal share and unit loads that differ: the bound (both metrics' rows,
    the narrower kept in the knapsack and the other priced) is at most the optimum found by
    enumerating every plan, and above the trivial bound (every unit at its cheapest site)."""
    rng = np.random.default_rng(seed)
    n, count = 7, 2 + seed % 2
    xy = rng.uniform(0, 100, (n, 2))
    loads = rng.uniform(1, 10, (2, n))
    cost = loads[0][:, None] * np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(axis=2))
    share = loads.sum(axis=1) / count
    tolerance = rng.uniform(0.2, 0.5, 2)
    lower, upper = share * (1 - tolerance), share * (1 + tolerance)
    optimum = _banded_optimum(cost, loads, lower, upper, count)
    assert np.isfinite(optimum)  # the seeds are chosen so that some plan keeps the bands
    problem = median_problem(cost, loads=loads, lower=lower, upper=upper)
    found = banded_median_bound(problem, count, optimum, time.perf_counter() + 5)
    assert found.bound <= optimum * (1 + 1e-9) + 1e-9
    assert found.bound > 0.0  # every unit at its own site costs 0: the bands lift it
    assert len(found.sites) == count


def test_a_site_that_cannot_reach_its_lower_band_is_never_opened():
    """Units at 0, 1, 2, 3 of load 1 each, 2 bases of load 1.5 to 2. Site 3 may serve only
    unit 3 (the other costs to it are forbidden), so it can never reach 1.5 and never
    opens. The optimum is {0,1} from site 0 or 1 (cost 1) and {2,3} from site 2 (cost 1):
    2, which the bound reaches and does not pass."""
    cost = np.abs(np.arange(4.0)[:, None] - np.arange(4.0)[None, :])
    cost[:3, 3] = np.inf
    band = dict(loads=np.ones((1, 4)), lower=np.array([1.5]), upper=np.array([2.0]))
    assert _banded_optimum(cost, band["loads"], band["lower"], band["upper"], 2) == 2.0
    found = banded_median_bound(median_problem(cost, **band), 2, 2.0, time.perf_counter() + 5)
    assert 3 not in found.sites.tolist()
    assert found.bound <= 2.0 + 1e-9
    assert found.bound == pytest.approx(2.0, abs=1e-6)


def test_the_banded_bound_applies_only_where_a_band_binds():
    assert not banded_bound_applies(median_problem(LINE))
    assert banded_bound_applies(median_problem(LINE, loads=np.ones((1, 4)), upper=np.array([2.0])))
