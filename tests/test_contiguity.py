"""The contiguity pieces on their own: separators, cuts, the rooted flow model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory_planner.data import load_scenario
from territory_planner.optimize.contiguity import (
    ReachCut,
    _grow_light_set,
    adjacency_matrix,
    minimal_separator,
    piece_separators,
    region_boundary,
    separator_cuts,
    settle_empty_regions,
)
from territory_planner.optimize.rooted_flow import rooted_model
from territory_planner.optimize.strategy import SolveSettings, all_allowed_pairs, run
from territory_planner.regions import build_region_problem
from tests.helpers import cell_centre, grid_regions, write_region_scenario


def _grid(tmp_path, workload, homes, capacity, tolerance=0.0, metric="potential"):
    rows = []
    for rid, w in sorted(workload.items()):
        lat, lon = cell_centre(rid)
        rows.append(dict(account_id=f"a{rid[1:]}", lat=lat, lon=lon, workload=w, potential=1.0))
    reps = [
        dict(rep_id=r, lat=cell_centre(h)[0], lon=cell_centre(h)[1], capacity=capacity[r])
        for r, h in homes.items()
    ]
    path = write_region_scenario(
        tmp_path,
        grid_regions(3, 3),
        pd.DataFrame(rows),
        pd.DataFrame(reps),
        balance=[{"metric": metric, "tolerance": tolerance}],
    )
    return build_region_problem(load_scenario(path))


def _ids(geography, units):
    return sorted(geography.region_ids[u] for u in units)


def test_minimal_separator_on_the_grid(tmp_path):
    """3 x 3 grid: the corner r00 is cut from r22 by its two neighbours r01 and r10. The
    piece {r00, r01} has N = {r02, r10, r11}; removing N leaves r12, r20, r21, r22 in one part
    holding r22, and r02 borders it (through r12), r10 (through r20), r11 (all): all three."""
    g = _grid(
        tmp_path, {f"r{r}{c}": 1 for r in range(3) for c in range(3)}, {"A": "r00"}, {"A": 1}, 1.0
    )
    graph = adjacency_matrix(g.neighbours, g.n_regions)
    at = {r: k for k, r in enumerate(g.region_ids)}
    assert _ids(g, minimal_separator(graph, np.array([at["r00"]]), at["r22"])) == ["r01", "r10"]
    piece = np.array([at["r00"], at["r01"]])
    assert _ids(g, minimal_separator(graph, piece, at["r22"])) == ["r02", "r10", "r11"]


def test_separator_cuts_name_every_pair_of_two_pieces(tmp_path):
    """Territory A = {r00, r02} (two pieces of one region each) gives the cuts (r00, r02)
    with separator N(r00) = {r01, r10} and (r02, r00) with {r01, r12}; B is connected."""
    g = _grid(
        tmp_path,
        {f"r{r}{c}": 1 for r in range(3) for c in range(3)},
        {"A": "r00", "B": "r22"},
        {"A": 1, "B": 1},
        1.0,
    )
    graph = adjacency_matrix(g.neighbours, g.n_regions)
    at = {r: k for k, r in enumerate(g.region_ids)}
    plan = np.ones(g.problem.n_units, dtype=int)
    plan[[at["r00"], at["r02"]]] = 0
    cuts, broken = separator_cuts(graph, plan, g.n_regions, 2)
    assert broken == 1
    found = {(g.region_ids[c.a], g.region_ids[c.b], tuple(_ids(g, c.separator))) for c in cuts}
    assert found == {("r00", "r02", ("r01", "r10")), ("r02", "r00", ("r01", "r12"))}


def test_rooted_flow_gives_the_connected_optimum(tmp_path):
    """The far-region case of test_regions_tiny (A at r00 holds 2 regions, r02 weighs 6):
    rooted at the homes r00 and r21 the flow model's optimum is the connected optimum
    A = {r00, r01}, and it holds each home."""
    workload = {f"r{r}{c}": 1.0 for r in range(3) for c in range(3)} | {"r02": 6.0}
    g = _grid(tmp_path, workload, {"A": "r00", "B": "r21"}, {"A": 2, "B": 7})
    pairs = all_allowed_pairs(g.problem)
    model = rooted_model(g.problem, pairs, g.neighbours, g.n_regions, g.home_region)
    outcome = run(model, SolveSettings(gap=0.0), mip=True, time_limit=30, gap=0.0)
    assert outcome.status == "optimal"
    values = model.values()
    a_regions = [
        g.region_ids[u] for u, j, v in zip(pairs.unit, pairs.rep, values) if j == 0 and v > 0.5
    ]
    assert sorted(a_regions) == ["r00", "r01"]


def test_empty_regions_are_re_given_to_connect(tmp_path):
    """Accounts only in the corners r00 and r02 (A) and r20, r22 (B); every other region
    is empty. A plan giving A {r00, r02, r11} and B the rest is disconnected for A;
    re-giving empty regions joins r00 and r02 along r01 and keeps B connected."""
    workload = {"r00": 1, "r02": 1, "r20": 1, "r22": 1}
    g = _grid(tmp_path, workload, {"A": "r00", "B": "r22"}, {"A": 1, "B": 1}, 1.0, "workload")
    graph = adjacency_matrix(g.neighbours, g.n_regions)
    at = {r: k for k, r in enumerate(g.region_ids)}
    plan = np.ones(g.problem.n_units, dtype=int)
    plan[[at["r00"], at["r02"], at["r11"]]] = 0
    settled = settle_empty_regions(g.problem, graph, plan, g.n_regions)
    assert settled is not None
    assert separator_cuts(graph, settled, g.n_regions, 2)[1] == 0
    for rid in ("r00", "r02", "r20", "r22"):  # loaded regions keep their rep
        assert settled[at[rid]] == plan[at[rid]]


def _random_map(rng, rows: int, cols: int):
    """A rows x cols grid with some rook edges removed and some diagonals added: an
    irregular map, as real region files are."""
    cells = np.arange(rows * cols).reshape(rows, cols)
    pairs = [(cells[r, c], cells[r, c + 1]) for r in range(rows) for c in range(cols - 1)]
    pairs += [(cells[r, c], cells[r + 1, c]) for r in range(rows - 1) for c in range(cols)]
    pairs = [p for p in pairs if rng.random() > 0.15]
    pairs += [
        (cells[r, c], cells[r + 1, c + 1])
        for r in range(rows - 1)
        for c in range(cols - 1)
        if rng.random() < 0.1
    ]
    neighbours = [[] for _ in range(rows * cols)]
    for a, b in pairs:
        neighbours[int(a)].append(int(b))
    return adjacency_matrix(neighbours, rows * cols)


def _separator_by_search(graph, piece, target):
    """The definition, one search over the whole map: N(piece), the part of G - N(piece)
    holding target, and the regions of N(piece) bordering that part."""
    inside = set(piece.tolist())
    boundary = {int(c) for u in piece for c in graph[u].indices} - inside
    seen, todo = {target}, [target]
    while todo:
        u = todo.pop()
        for c in graph[u].indices.tolist():
            if c not in seen and c not in boundary:
                seen.add(c)
                todo.append(c)
    return tuple(sorted(c for c in boundary if set(graph[c].indices.tolist()) & seen))


def test_separators_from_one_labelling_equal_a_search_from_each_target():
    """On 40 irregular 12 x 12 maps, every connected piece grown from a random region and
    every target outside it and N(piece): piece_separators gives the separator a search
    from the target finds (tests the one-labelling shortcut against the definition)."""
    from scipy.sparse.csgraph import breadth_first_order

    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(40):
        graph = _random_map(rng, 12, 12)
        start = int(rng.integers(144))
        order = breadth_first_order(graph, start, directed=False, return_predecessors=False)
        piece = np.sort(order[: int(rng.integers(1, 20))])
        near = {int(c) for u in piece for c in graph[u].indices}
        targets = [t for t in range(144) if t not in near and t not in set(piece.tolist())]
        targets = rng.choice(targets, size=min(6, len(targets)), replace=False).tolist()
        found = piece_separators(graph, piece, targets)
        assert found == [_separator_by_search(graph, piece, t) for t in targets]
        checked += len(targets)
    assert checked > 200


class _Floors:
    """BandFloors' interface with one metric: S is too light while its load is below the
    floor."""

    def __init__(self, load, floor):
        self.load, self.floor = load, floor

    def too_light(self, regions, k):
        return self.load[np.asarray(regions, dtype=int)].sum() < self.floor


def _grow_by_rebuilding(graph, weight, a, k, floors, least):
    """The search as first written: N(S) rebuilt from S at every step."""
    inside = [a]
    while floors.too_light(inside, k):
        boundary = region_boundary(graph, inside)
        if weight[a] - weight[list(boundary)].sum() > least:
            return ReachCut(a, k, boundary)
        heaviest = max(boundary, key=lambda c: (weight[c], -c), default=None)
        if heaviest is None or weight[heaviest] <= 0.0:
            return None
        inside.append(heaviest)
    return None


def test_the_light_set_grown_in_place_finds_the_cuts_of_the_rebuilt_search():
    """On 30 irregular 10 x 10 maps with random x* (a third of them 0, ties on purpose by
    rounding to tenths) and floors, the incremental search returns, from every region, the
    same cut (or none) as the search that rebuilds N(S) each step."""
    rng = np.random.default_rng(5)
    cuts = 0
    for _ in range(30):
        graph = _random_map(rng, 10, 10)
        weight = np.round(rng.random(100), 1) * (rng.random(100) > 0.33)
        floors = _Floors(rng.random(100), float(rng.uniform(2, 20)))
        for a in range(100):
            new = _grow_light_set(graph, weight, a, 0, floors, 1e-3)
            assert new == _grow_by_rebuilding(graph, weight, a, 0, floors, 1e-3)
            cuts += new is not None
    assert cuts > 50
