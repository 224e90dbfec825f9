"""Why a headcount cannot work, in numbers, before any solver runs.

Two arguments, both proofs (each is a relaxation of the plan's rules):

- Reach: a unit with no allowed candidate site (every site beyond the distance limit, or
  excluded by segment or region) cannot be served by any number of bases.
- Islands: two units can share a base only through a site allowed for both, so the
  connected components of the unit-site graph of allowed pairs are served by disjoint sets
  of bases. With N bases every base carries between ``L[m](N)`` and ``U[m](N)`` of each
  metric, so an island of load ``W[m]`` needs an integer ``n`` of bases with
  ``n L[m](N) <= W[m] <= n U[m](N)`` for every m, and the islands' counts add up to N.
  When that fails, so does every plan with N bases.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .optimize.site_pairs import site_blocks


def unreachable_units(problem) -> tuple[np.ndarray, np.ndarray]:
    """Units with no allowed site, and their nearest site's distance in km (nan when the
    problem has no geography)."""
    from .geo import distance_matrix_km

    stranded, nearest = [], []
    for units, cost in site_blocks(problem):
        rows = np.flatnonzero(~np.isfinite(cost).any(axis=1))
        for u in units[rows].tolist():
            stranded.append(u)
            if problem.is_geographic:
                members = problem.unit_members[u]
                km = distance_matrix_km(
                    problem.account_lat[members],
                    problem.account_lon[members],
                    problem.rep_lat,
                    problem.rep_lon,
                )
                nearest.append(float(km.max(axis=0).min()))
            else:
                nearest.append(math.nan)
    return np.array(stranded, dtype=int), np.array(nearest)


def islands(problem) -> tuple[np.ndarray, int]:
    """Component label of every unit in the graph of allowed unit-site pairs."""
    rows, cols = [], []
    for units, cost in site_blocks(problem):
        r, c = np.nonzero(np.isfinite(cost))
        rows.append(units[r])
        cols.append(problem.n_units + c)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    size = problem.n_units + problem.n_reps
    graph = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(size, size))
    count, labels = connected_components(graph, directed=False)
    unit_labels = labels[: problem.n_units]
    _, compact = np.unique(unit_labels, return_inverse=True)
    return compact, int(compact.max()) + 1


def bases_needed(load: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[int, int]:
    """(fewest, most) bases an island of ``load`` (per metric) can have when every base
    carries between ``lower`` and ``upper`` of each metric; fewest > most: none works."""
    fewest, most = 1, math.inf
    for w, lo, hi in zip(load, lower, upper):
        if np.isfinite(hi):
            fewest = max(fewest, math.ceil(w / hi - 1e-9) if hi > 0 else math.inf)
        if np.isfinite(lo) and lo > 0:
            most = min(most, math.floor(w / lo + 1e-9))
    return fewest, most


def spread_units(problem) -> np.ndarray:
    """Units no two of which have an allowed candidate site in common: each needs a base of
    its own, so at least that many bases are needed (a packing; any one proves the bound).
    Greedy, the units with the fewest allowed sites first."""
    rows, cols = [], []
    for units, cost in site_blocks(problem):
        r, c = np.nonzero(np.isfinite(cost))
        rows.append(units[r])
        cols.append(c)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    order = np.argsort(rows, kind="stable")
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(rows, np.arange(problem.n_units + 1))
    sizes = np.diff(starts)
    covered = np.zeros(problem.n_reps, dtype=bool)
    chosen = []
    for u in np.argsort(sizes, kind="stable").tolist():
        sites = cols[starts[u] : starts[u + 1]]
        if len(sites) and not covered[sites].any():
            chosen.append(u)
            covered[sites] = True
    return np.array(chosen, dtype=int)
