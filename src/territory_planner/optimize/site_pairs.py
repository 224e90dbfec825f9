"""Unit-site pairs for choosing bases, with memory bounded by the block size.

Every sweep over all pairs walks the units in blocks of about BLOCK_PAIRS pairs, so 10,000
accounts against 10,000 candidate sites never hold the 100,000,000 costs at once. What the
search keeps are sparse lists: each unit's k cheapest allowed sites.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .model import PairSet

BLOCK_PAIRS = 1_000_000  # pairs priced at once in a sweep (8 MB per float array)


def site_blocks(problem, block_pairs: int = BLOCK_PAIRS):
    """(units, cost) over consecutive unit blocks; ``cost`` is inf where a pair is forbidden."""
    size = max(1, block_pairs // max(problem.n_reps, 1))
    for start in range(0, problem.n_units, size):
        units = np.arange(start, min(start + size, problem.n_units))
        yield units, np.where(problem.allowed_block(units), problem.cost_block(units), np.inf)


@dataclass
class NearestSites:
    """Each unit's k cheapest allowed sites, cheapest first (inf cost: fewer allowed)."""

    site: np.ndarray  # (U, k)
    cost: np.ndarray  # (U, k)
    allowed_pairs: int
    reachable: np.ndarray  # (S,) bool: the site may serve some unit

    def head(self, k: int) -> NearestSites:
        """The first k sites of every list."""
        return NearestSites(
            site=self.site[:, :k],
            cost=self.cost[:, :k],
            allowed_pairs=self.allowed_pairs,
            reachable=self.reachable,
        )

    def pairs(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(unit, site) of the first k sites of every list that are allowed."""
        k = min(k, self.site.shape[1])
        ok = np.isfinite(self.cost[:, :k])
        units = np.repeat(np.arange(len(self.site))[:, None], k, axis=1)
        return units[ok], self.site[:, :k][ok]


def nearest_sites(problem, k: int) -> NearestSites:
    """One sweep over all pairs keeping the k cheapest allowed sites of every unit."""
    k = min(k, problem.n_reps)
    site = np.zeros((problem.n_units, k), dtype=int)
    cost = np.full((problem.n_units, k), np.inf)
    allowed_pairs = 0
    reachable = np.zeros(problem.n_reps, dtype=bool)
    for units, block in site_blocks(problem):
        finite = np.isfinite(block)
        allowed_pairs += int(finite.sum())
        reachable |= finite.any(axis=0)
        top = (
            np.argpartition(block, k - 1, axis=1)[:, :k]
            if k < problem.n_reps
            else np.tile(np.arange(problem.n_reps), (len(units), 1))
        )
        values = np.take_along_axis(block, top, axis=1)
        order = np.lexsort((top, values), axis=1)
        site[units] = np.take_along_axis(top, order, axis=1)
        cost[units] = np.take_along_axis(values, order, axis=1)
    return NearestSites(site=site, cost=cost, allowed_pairs=allowed_pairs, reachable=reachable)


def with_sites(problem, sites: np.ndarray):
    """The problem restricted to the candidate sites ``sites`` (their order kept)."""

    def columns(array):
        return None if array is None else array[..., sites]

    return replace(
        problem,
        rep_ids=problem.rep_ids[sites],
        target=problem.target[:, sites],
        lower=problem.lower[:, sites],
        upper=problem.upper[:, sites],
        allowed=columns(problem.allowed),
        cost_matrix=columns(problem.cost_matrix),
        pair_load=columns(problem.pair_load),
        rep_lat=columns(problem.rep_lat),
        rep_lon=columns(problem.rep_lon),
    )


def cost_to_sites(problem, sites: np.ndarray) -> np.ndarray:
    """(U, len(sites)) cost of serving every unit from each of ``sites``; inf if forbidden."""
    sub = with_sites(problem, np.asarray(sites))
    return np.vstack([block for _, block in site_blocks(sub)])


def priced_pairs(problem, units: np.ndarray, sites: np.ndarray) -> PairSet:
    """PairSet of explicit (unit, site) pairs, deduplicated and sorted; costs are computed
    for those pairs only (one site column at a time), loads from the units."""
    key = np.unique(units.astype(np.int64) * problem.n_reps + sites)
    units, sites = key // problem.n_reps, key % problem.n_reps
    cost = np.empty(len(units))
    order = np.argsort(sites, kind="stable")
    distinct, starts = np.unique(sites[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    columns = cost_columns(problem, distinct)
    for q, (a, b) in enumerate(zip(starts, ends)):
        members = order[a:b]
        cost[members] = columns(q, units[members])
    load = problem.unit_load[:, units]
    return PairSet(units.astype(int), sites.astype(int), cost, load, np.zeros(len(units)))


def cost_columns(problem, sites: np.ndarray):
    """A function (q, units) -> cost of those units served from ``sites[q]``, computed in
    groups of 256 sites so the cost matrix of many sites is never held whole."""
    cache: dict[int, np.ndarray] = {}

    def column(q: int, units: np.ndarray) -> np.ndarray:
        group = q // 256
        if group not in cache:
            cache.clear()
            chosen = sites[group * 256 : (group + 1) * 256]
            cache[group] = cost_to_sites(problem, chosen)
        return cache[group][units, q - group * 256]

    return column
