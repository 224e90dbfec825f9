"""Tests of geo.py on tiny hand-drawn geometry (no mocks, real shapely / GDAL)."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from territory_planner import geo
from territory_planner.errors import InputError

# --------------------------------------------------------------------------- distances


def test_one_degree_of_latitude_is_111_195_km():
    # R * pi / 180 with R = 6371.0088 km
    assert geo.haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.19508, abs=1e-4)
    # on a sphere a degree of longitude on the equator is the same arc
    assert geo.haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(111.19508, abs=1e-4)


def test_london_paris_within_half_a_percent():
    # published great-circle distance London (51.5074, -0.1278) - Paris (48.8566, 2.3522)
    # is 343.5 km
    d = geo.haversine_km(51.5074, -0.1278, 48.8566, 2.3522)
    assert d == pytest.approx(343.5, rel=0.005)


def test_haversine_broadcasts_and_handles_antipodes():
    d = geo.haversine_km(0.0, 0.0, np.array([0.0, 0.0, 0.0]), np.array([0.0, 90.0, 180.0]))
    assert d.shape == (3,)
    assert d[0] == 0.0
    assert d[1] == pytest.approx(math.pi / 2 * geo.EARTH_RADIUS_KM)
    assert d[2] == pytest.approx(math.pi * geo.EARTH_RADIUS_KM)
    assert not np.isnan(d).any()


def test_distance_matrix_shape_and_symmetry():
    lat = np.array([40.0, 41.0, 42.5, 40.2])
    lon = np.array([-74.0, -73.0, -71.0, -75.5])
    d = geo.distance_matrix_km(lat, lon, lat[:3], lon[:3])
    assert d.shape == (4, 3) and d.dtype == np.float64
    sq = geo.distance_matrix_km(lat, lon, lat, lon)
    np.testing.assert_allclose(sq, sq.T)
    np.testing.assert_array_equal(np.diag(sq), 0.0)
    assert sq[0, 1] == pytest.approx(geo.haversine_km(40.0, -74.0, 41.0, -73.0))


def test_nearest_k_orders_by_distance_and_breaks_ties_by_index():
    # From (0, 0): b3 is 0.5 deg away; b0, b1, b2 are all exactly 1 deg away (a tie).
    lat_b = np.array([0.0, 0.0, 1.0, 0.0, 5.0])
    lon_b = np.array([1.0, -1.0, 0.0, 0.5, 5.0])
    idx, dist = geo.nearest_k([0.0, 5.0], [0.0, 5.0], lat_b, lon_b, k=4)
    assert idx.dtype == np.int64 and idx.shape == (2, 4)
    assert idx[0].tolist() == [3, 0, 1, 2]
    assert dist[0, 0] == pytest.approx(111.19508 / 2, abs=1e-3)
    assert dist[0, 1] == dist[0, 2] == pytest.approx(111.19508, abs=1e-4)
    assert idx[1, 0] == 4 and dist[1, 0] == 0.0
    assert np.all(np.diff(dist, axis=1) >= 0)


def test_nearest_k_chunking_and_k_larger_than_b():
    rng = np.random.default_rng(7)
    # points on a coarse grid give many exact ties
    lat_a, lon_a = rng.integers(0, 3, 300).astype(float), rng.integers(0, 3, 300).astype(float)
    lat_b, lon_b = rng.integers(0, 3, 40).astype(float), rng.integers(0, 3, 40).astype(float)
    full = np.argsort(geo.distance_matrix_km(lat_a, lon_a, lat_b, lon_b), axis=1, kind="stable")
    idx, _ = geo.nearest_k(lat_a, lon_a, lat_b, lon_b, k=6, chunk=7)
    np.testing.assert_array_equal(idx, full[:, :6])
    idx_all, dist_all = geo.nearest_k(lat_a[:5], lon_a[:5], lat_b[:3], lon_b[:3], k=10)
    assert idx_all.shape == dist_all.shape == (5, 3)
    with pytest.raises(ValueError):
        geo.nearest_k(lat_a, lon_a, lat_b, lon_b, k=0)


# --------------------------------------------------------------------------- regions


def _square(x0: float, y0: float, size: float = 1.0) -> list:
    return [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]


def _feature(props: dict, coords: list | None, kind: str = "Polygon") -> dict:
    geometry = None if coords is None else {"type": kind, "coordinates": coords}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _write(tmp_path, name: str, features: list) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return str(path)


def _problems(exc: pytest.ExceptionInfo) -> list:
    return [(p.row, p.column, p.message) for p in exc.value.problems]


def test_read_regions_aliases_sorting_and_defaults(tmp_path):
    path = _write(
        tmp_path,
        "r.geojson",
        [
            _feature({"CODE": "B", "Parent": "WEST", "Name": "Bravo", "pop": 5}, _square(1, 0)),
            _feature({"CODE": "A", "Parent": "WEST", "Name": "Alpha", "pop": 3}, _square(0, 0)),
            _feature(
                {"CODE": "WEST", "Parent": None, "Name": None, "pop": 8},
                [_square(0, 0, 2)],
                "MultiPolygon",
            ),
        ],
    )
    regions = geo.read_regions(path)
    assert regions["region_id"].tolist() == ["A", "B", "WEST"]
    assert regions["parent_id"].tolist() == ["WEST", "WEST", None]
    assert regions["name"].tolist() == ["Alpha", "Bravo", ""]
    assert regions["pop"].tolist() == [3, 5, 8]  # extra columns pass through
    assert regions.crs.to_epsg() == 4326
    assert regions.geometry.iloc[0].equals(box(0, 0, 1, 1))


def test_read_regions_numeric_ids_become_text(tmp_path):
    path = _write(tmp_path, "r.geojson", [_feature({"id": 6001}, _square(0, 0))])
    assert geo.read_regions(path)["region_id"].tolist() == ["6001"]


def test_read_regions_reports_every_defect_at_once(tmp_path):
    path = _write(
        tmp_path,
        "bad.geojson",
        [
            _feature({"region_id": "A", "parent_id": None}, _square(0, 0)),
            _feature({"region_id": "A", "parent_id": None}, _square(1, 0)),  # duplicate
            _feature({"region_id": "C", "parent_id": None}, None),  # empty
            _feature({"region_id": "D", "parent_id": "D"}, _square(2, 0)),  # own parent
            _feature({"region_id": "", "parent_id": None}, _square(3, 0)),  # blank id
            _feature({"region_id": "F", "parent_id": None}, [0.5, 0.5], "Point"),  # not a polygon
        ],
    )
    with pytest.raises(InputError) as exc:
        geo.read_regions(path)
    found = _problems(exc)
    assert all(p.file == path for p in exc.value.problems)
    assert (2, "region_id") in [(r, c) for r, c, _ in found]
    assert any(r == 2 and "duplicate" in m and "'A'" in m for r, _, m in found)
    assert any(r == 3 and c == "geometry" and "empty" in m for r, c, m in found)
    assert any(r == 4 and c == "parent_id" and "own parent" in m for r, c, m in found)
    assert any(r == 5 and c == "region_id" and "blank" in m for r, c, m in found)
    assert any(r == 6 and c == "geometry" and "Point" in m for r, c, m in found)
    assert len(found) == 5


def test_read_regions_parent_labels_allowed_cycles_refused(tmp_path):
    # "Pacific" is a label with no polygon: fine. x -> y -> x is a cycle: refused.
    path = _write(
        tmp_path,
        "labels.geojson",
        [
            _feature({"region_id": "CA", "parent_id": "Pacific"}, _square(0, 0)),
            _feature({"region_id": "OR", "parent_id": "Pacific"}, _square(0, 1)),
        ],
    )
    regions = geo.read_regions(path)
    assert geo.region_ancestors(regions)["CA"] == ("CA", "Pacific")
    path = _write(
        tmp_path,
        "cycle.geojson",
        [
            _feature({"region_id": "y", "parent_id": "x"}, _square(0, 0)),
            _feature({"region_id": "x", "parent_id": "y"}, _square(1, 0)),
            _feature({"region_id": "z", "parent_id": "x"}, _square(2, 0)),
        ],
    )
    with pytest.raises(InputError) as exc:
        geo.read_regions(path)
    assert [(r, c, m) for r, c, m in _problems(exc)] == [
        (2, "parent_id", "parent_id forms a cycle: x -> y -> x")
    ]


def test_read_regions_missing_file_and_missing_id_column(tmp_path):
    with pytest.raises(InputError, match="not found"):
        geo.read_regions(tmp_path / "nope.geojson")
    path = _write(tmp_path, "noid.geojson", [_feature({"label": "x"}, _square(0, 0))])
    with pytest.raises(InputError) as exc:
        geo.read_regions(path)
    assert _problems(exc)[0][1] == "region_id"
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("this is not json")
    with pytest.raises(InputError, match="cannot read"):
        geo.read_regions(garbage)


def test_read_regions_repairs_a_bow_tie(tmp_path):
    bow_tie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    path = _write(tmp_path, "bow.geojson", [_feature({"region_id": "X"}, bow_tie)])
    regions = geo.read_regions(path)
    shape = regions.geometry.iloc[0]
    assert shape.is_valid and shape.geom_type in ("Polygon", "MultiPolygon")
    assert shape.area == pytest.approx(0.5)


def test_read_regions_reprojects_a_projected_file(tmp_path):
    src = gpd.GeoDataFrame(
        {"region_id": ["A", "B"]},
        geometry=[box(-74.0, 40.0, -73.0, 41.0), box(2.0, 48.0, 3.0, 49.0)],
        crs="EPSG:4326",
    ).to_crs("EPSG:3857")
    for name in ("r.gpkg", "r.geojson", "r.shp"):
        path = tmp_path / name
        src.to_file(path, engine="pyogrio")
        regions = geo.read_regions(path)
        assert regions.crs.to_epsg() == 4326, name
        np.testing.assert_allclose(regions.geometry.iloc[0].bounds, (-74, 40, -73, 41), atol=1e-6)
        np.testing.assert_allclose(regions.geometry.iloc[1].bounds, (2, 48, 3, 49), atol=1e-6)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_read_regions_without_crs(tmp_path):
    lonlat = gpd.GeoDataFrame({"region_id": ["A"]}, geometry=[box(10, 50, 11, 51)])
    lonlat.to_file(tmp_path / "lonlat.shp", engine="pyogrio")
    regions = geo.read_regions(tmp_path / "lonlat.shp")
    assert regions.crs.to_epsg() == 4326
    assert regions.geometry.iloc[0].bounds == (10, 50, 11, 51)

    metres = gpd.GeoDataFrame({"region_id": ["A"]}, geometry=[box(500000, 4e6, 510000, 4.01e6)])
    metres.to_file(tmp_path / "metres.shp", engine="pyogrio")
    with pytest.raises(InputError, match="not longitude/latitude"):
        geo.read_regions(tmp_path / "metres.shp")


# --------------------------------------------------------------------------- locate


@pytest.fixture()
def two_squares() -> gpd.GeoDataFrame:
    # B listed first on purpose: answers must not depend on row order
    return gpd.GeoDataFrame(
        {"region_id": ["B", "A"], "parent_id": [None, None], "name": ["Bravo", "Alpha"]},
        geometry=[box(1, 0, 2, 1), box(0, 0, 1, 1)],
        crs="EPSG:4326",
    )


def test_locate_points_inside_border_snapped_and_none(two_squares):
    lat = np.array([0.5, 0.5, 0.5, -0.1, -1.0, np.nan])
    lon = np.array([0.5, 1.5, 1.0, 0.5, 0.5, 0.5])
    # (-0.1, 0.5) is 11.1 km south of A: snapped; (-1, 0.5) is 111 km away: None
    found = geo.locate_points(lat, lon, two_squares)
    assert found.dtype == object
    assert found.tolist() == ["A", "B", "A", "A", None, None]
    wide = geo.locate_points(lat, lon, two_squares, max_snap_km=200)
    assert wide[4] == "A"
    tight = geo.locate_points(lat, lon, two_squares, max_snap_km=5)
    assert tight[3] is None


def test_locate_points_snaps_to_the_nearest_region(two_squares):
    # 0.05 deg east of B (5.6 km) and 0.95 deg from A: B wins
    assert geo.locate_points([0.5], [2.05], two_squares).tolist() == ["B"]


def test_region_ancestors_with_label_parents_and_cycles():
    import pandas as pd

    regions = pd.DataFrame(
        {"region_id": ["06001", "06", "41"], "parent_id": ["06", "Pacific", "Pacific"]}
    )
    anc = geo.region_ancestors(regions)
    assert anc == {
        "06": ("06", "Pacific"),
        "06001": ("06001", "06", "Pacific"),
        "41": ("41", "Pacific"),
    }
    cyclic = pd.DataFrame({"region_id": ["a", "b", "c"], "parent_id": ["b", "a", None]})
    with pytest.raises(InputError, match="cycle"):
        geo.region_ancestors(cyclic)


def test_region_adjacency_rook_and_queen():
    # 2 x 2 grid of unit squares plus a far island:  c d
    #                                                a b      z
    grid = gpd.GeoDataFrame(
        {"region_id": ["d", "c", "b", "a", "z"]},
        geometry=[
            box(1, 1, 2, 2),
            box(0, 1, 1, 2),
            box(1, 0, 2, 1),
            box(0, 0, 1, 1),
            box(5, 5, 6, 6),
        ],
        crs="EPSG:4326",
    )
    rook = geo.region_adjacency(grid)
    assert rook == {"a": ("b", "c"), "b": ("a", "d"), "c": ("a", "d"), "d": ("b", "c"), "z": ()}
    queen = geo.region_adjacency(grid, queen=True)
    assert queen["a"] == ("b", "c", "d") and queen["z"] == ()


# --------------------------------------------------------------------------- shapes


def test_territory_shapes_two_reps_left_and_right():
    lat = np.array([0.0, 0.5, -0.5, 0.0, 0.5, -0.5])
    lon = np.array([-1.0, -1.2, -0.8, 1.0, 1.2, 0.8])
    reps = np.array(["west", "west", "west", "east", "east", "east"], dtype=object)
    shapes = geo.territory_shapes(lat, lon, reps)
    assert shapes["rep_id"].tolist() == ["east", "west"]
    assert shapes.crs.to_epsg() == 4326
    by_rep = dict(zip(shapes["rep_id"], shapes.geometry))
    for la, lo, rep in zip(lat, lon, reps):
        assert by_rep[rep].contains(Point(lo, la))
    assert by_rep["east"].intersection(by_rep["west"]).area == pytest.approx(0.0, abs=1e-9)
    hull = shapely.multipoints(np.column_stack([lon, lat])).convex_hull.buffer(0.5)
    union = shapely.union_all(shapes.geometry.values)
    assert union.symmetric_difference(hull).area == pytest.approx(0.0, abs=1e-6)
    # the border is the bisector x = 0
    assert by_rep["west"].bounds[2] == pytest.approx(0.0, abs=1e-9)


def test_territory_shapes_clip_to_regions_and_determinism(two_squares):
    rng = np.random.default_rng(3)
    lat = rng.uniform(0.05, 0.95, 40)
    lon = rng.uniform(0.05, 1.95, 40)
    reps = np.where(lon < 1.0, "r1", "r2").astype(object)
    shapes = geo.territory_shapes(lat, lon, reps, clip=two_squares)
    union = shapely.union_all(shapes.geometry.values)
    assert union.area == pytest.approx(2.0, abs=1e-9)
    perm = rng.permutation(40)
    again = geo.territory_shapes(lat[perm], lon[perm], reps[perm], clip=two_squares)
    for a, b in zip(shapes.geometry, again.geometry):
        assert a.equals_exact(b, tolerance=0.0)


@pytest.mark.parametrize(
    "lat, lon, reps",
    [
        ([0.0], [0.0], ["a"]),  # one point
        ([0.0, 0.0], [0.0, 1.0], ["a", "b"]),  # two points
        ([0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 2.0, 3.0], ["a", "a", "b", "b"]),  # collinear
    ],
)
def test_territory_shapes_degenerate_inputs(lat, lon, reps):
    shapes = geo.territory_shapes(np.array(lat), np.array(lon), np.array(reps, dtype=object))
    assert sorted(shapes["rep_id"]) == sorted(set(reps))
    by_rep = dict(zip(shapes["rep_id"], shapes.geometry))
    for la, lo, rep in zip(lat, lon, reps):
        assert by_rep[rep].contains(Point(lo, la))
    hull = shapely.multipoints(np.column_stack([lon, lat])).convex_hull.buffer(0.5)
    assert shapely.union_all(shapes.geometry.values).area == pytest.approx(hull.area, rel=1e-9)


def test_territory_shapes_shared_point_goes_to_the_majority_then_smallest_id():
    lat = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
    lon = np.array([0.0, 0.0, 0.0, 2.0, 2.0])
    shapes = geo.territory_shapes(lat, lon, np.array(["z", "z", "y", "y", "x"], dtype=object))
    by_rep = dict(zip(shapes["rep_id"], shapes.geometry))
    assert by_rep["z"].contains(Point(0, 0))  # two accounts of z there, one of y
    assert by_rep["x"].contains(Point(2, 0))  # one each of x and y: smallest id
    assert by_rep["y"].is_empty


def test_territory_shapes_ignores_unassigned_and_unlocated():
    shapes = geo.territory_shapes([0.0, np.nan, 1.0], [0.0, 1.0, 1.0], ["a", "b", None])
    assert shapes["rep_id"].tolist() == ["a"]
    empty = geo.territory_shapes([], [], [])
    assert len(empty) == 0 and "rep_id" in empty.columns


# --------------------------------------------------------------------------- drawing


def test_region_outlines_and_to_geojson(two_squares):
    outlines = geo.region_outlines(two_squares, simplify_deg=0.01)
    assert outlines["region_id"].tolist() == ["A", "B"]
    assert outlines["name"].tolist() == ["Alpha", "Bravo"]
    wiggly = Polygon([(0, 0), (0.5, 0.000001), (1, 0), (1, 1), (0, 1)])
    gdf = gpd.GeoDataFrame(
        {"rep_id": ["r1", "r2"], "load": [np.float64(1.5), np.nan]},
        geometry=[wiggly.buffer(0.123456789), Polygon()],
        crs="EPSG:4326",
    )
    doc = geo.to_geojson(gdf)
    text = json.dumps(doc)  # plain JSON: no numpy scalars, no NaN
    assert "NaN" not in text
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 2
    first = doc["features"][0]
    assert first["properties"] == {"rep_id": "r1", "load": 1.5}
    coords = np.array(first["geometry"]["coordinates"][0])
    np.testing.assert_array_equal(coords, np.round(coords, 5))
    assert doc["features"][1]["geometry"] is None
    projected = geo.to_geojson(gdf.iloc[:1].to_crs("EPSG:3857"))
    xs = np.array(projected["features"][0]["geometry"]["coordinates"][0])[:, 0]
    assert xs.min() == pytest.approx(-0.12346, abs=1e-4)


def test_the_distance_matrix_is_the_haversine_far_and_near():
    """distance_matrix_km takes the haversine's a from unit vectors, (1 - p.q) / 2, and the
    haversine itself within about 1.3 km, where 1 - p.q cancels: on points spread over the
    globe and on pairs 1 m, 10 m and 1 km apart it agrees with haversine_km within 1e-8 km
    (a metre is 1e-3 km)."""
    import numpy as np

    from territory_planner.geo import distance_matrix_km, haversine_km

    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-80, 80, 300), rng.uniform(-180, 180, 300)
    near = np.array([1e-3, 1e-2, 1.0]) / 111.2  # about 1 m, 10 m and 1 km north, in degrees
    lat_b = np.r_[rng.uniform(-80, 80, 50), lat[0] + near]
    lon_b = np.r_[rng.uniform(-180, 180, 50), np.full(3, lon[0])]
    matrix = distance_matrix_km(lat, lon, lat_b, lon_b)
    exact = haversine_km(lat[:, None], lon[:, None], lat_b[None, :], lon_b[None, :])
    assert matrix.shape == (300, 53)
    assert np.abs(matrix - exact).max() < 1e-8
    assert matrix[0, 50:] == pytest.approx([1e-3, 1e-2, 1.0], rel=1e-3)
