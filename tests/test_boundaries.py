"""The shipped base map: real district boundaries and place names, small, valid, reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from aop_map.boundaries import (
    BASEMAP_ATTRIBUTION,
    BASEMAP_DIR,
    DISTRICTS_FILE,
    PLACE_TYPES,
    PLACES_FILE,
    SIMPLIFY_M,
    basemap_attribution,
    build_basemap,
    load_districts,
    load_places,
    simplify_coverage,
)
from aop_map.geocoding.coordinates import wgs84_to_bng
from aop_map.loading import scan_record_files
from aop_map.vocabulary import Vocabulary
from tests.conftest import MAPDATA, ROOT, SHARED_GEODATA

NAMES = ["Cheltenham", "Cotswold", "Forest of Dean", "Gloucester", "Stroud", "Tewkesbury"]
# Areas (km², ONS, rounded) within 2 %: the simplified outlines still enclose the districts.
AREAS_KM2 = {
    "Cheltenham": 47,
    "Cotswold": 1162,
    "Forest of Dean": 525,
    "Gloucester": 40,
    "Stroud": 459,
    "Tewkesbury": 415,
}
MAX_BASEMAP_BYTES = 300_000


def _bng(shape: shapely.Geometry) -> shapely.Geometry:
    def transform(coords: np.ndarray) -> np.ndarray:
        return np.c_[wgs84_to_bng(coords[:, 1], coords[:, 0])]

    return shapely.transform(shape, transform)


def test_six_districts_named_as_the_vocabulary(vocabulary: Vocabulary) -> None:
    districts = load_districts(vocabulary)
    assert sorted(districts["name"]) == NAMES
    assert all(vocabulary.district_by_code(code) for code in districts["code"])
    assert districts.crs.to_epsg() == 4326 and districts.is_valid.all()
    assert (districts.geom_type == "Polygon").all()


def test_areas_match_the_official_ones(vocabulary: Vocabulary) -> None:
    for row in load_districts(vocabulary).itertuples():
        area = _bng(row.geometry).area / 1e6
        assert area == pytest.approx(AREAS_KM2[row.name], rel=0.02), row.name


def test_districts_share_their_borders_exactly() -> None:
    """Simplified as one coverage: no overlaps, and the union is one county polygon."""
    shapes = list(load_districts().geometry)
    for i, a in enumerate(shapes):
        for b in shapes[i + 1 :]:
            assert a.intersection(b).area < 1e-12
    county = shapely.union_all(shapes)
    assert county.geom_type == "Polygon" and len(county.interiors) == 0


def test_places_ranked_and_typed() -> None:
    places = load_places()
    assert set(places["type"]) == set(PLACE_TYPES)
    assert places.iloc[0]["name"] == "Gloucester" and places.iloc[0]["type"] == "City"
    towns = places[places["type"] == "Town"]["name"].tolist()
    assert towns[0] == "Cheltenham" and {"Stroud", "Cirencester", "Tewkesbury"} <= set(towns)
    assert places["lat"].between(51.5, 52.2).all() and places["lon"].between(-2.8, -1.5).all()
    # Within each type, larger places first (their labels win a collision).
    for _, group in places.groupby("type", sort=False):
        assert group["postcodes"].is_monotonic_decreasing


def test_shipped_files_are_small_and_never_read_as_records() -> None:
    sizes = {p.name: p.stat().st_size for p in BASEMAP_DIR.iterdir()}
    assert set(sizes) == {DISTRICTS_FILE, PLACES_FILE}
    assert sum(sizes.values()) < MAX_BASEMAP_BYTES
    assert not [f for f in scan_record_files(MAPDATA) if "basemap" in f.path]


def test_attribution_is_shown() -> None:
    text = basemap_attribution()
    assert "CC BY 4.0" in text and "Open Government Licence v3.0" in text
    assert text.count("\n- ") == len(BASEMAP_ATTRIBUTION) - 1
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    mapdata_readme = (MAPDATA / "README.md").read_text(encoding="utf-8")
    for _, attribution in BASEMAP_ATTRIBUTION:
        assert "© Crown copyright" in attribution
        assert "Crown copyright and database right 2016" in readme
        assert "Crown copyright and database right 2017" in readme
    assert str(SIMPLIFY_M) + " m" in mapdata_readme


def test_simplify_coverage_keeps_shared_edges() -> None:
    """Two squares sharing a wiggly edge: simplified, they still meet without gap or overlap."""
    wiggle = [(100.0, y * 10.0 + (3.0 if y % 2 else 0.0)) for y in range(11)]
    left = shapely.Polygon([(0, 0), *wiggle, (0, 100)])
    right = shapely.Polygon([(200, 0), (200, 100), *reversed(wiggle)])
    a, b = simplify_coverage([left, right], tolerance=5)
    assert shapely.get_num_coordinates(a) < shapely.get_num_coordinates(left)
    assert a.intersection(b).area == pytest.approx(0) and a.union(b).area == pytest.approx(
        left.area + right.area
    )


@pytest.mark.skipif(
    not (SHARED_GEODATA / "glos_districts.geojson").is_file(),
    reason="reference geodata (../shared/geodata) not available",
)
def test_build_reproduces_the_shipped_files(tmp_path: Path) -> None:
    build_basemap(SHARED_GEODATA, tmp_path)
    for name in (DISTRICTS_FILE, PLACES_FILE):
        assert (tmp_path / name).read_bytes() == (BASEMAP_DIR / name).read_bytes(), name


@pytest.mark.skipif(
    not (SHARED_GEODATA / "glos_districts.geojson").is_file(),
    reason="reference geodata (../shared/geodata) not available",
)
def test_simplified_within_tolerance_of_the_source() -> None:
    source = json.loads((SHARED_GEODATA / "glos_districts.geojson").read_text())
    real = {
        f["properties"]["lad_code"]: _bng(shapely.geometry.shape(f["geometry"]))
        for f in source["features"]
    }
    for row in load_districts().itertuples():
        # Douglas-Peucker keeps every point within the tolerance; rounding adds ~1 m.
        assert shapely.hausdorff_distance(real[row.code], _bng(row.geometry)) < SIMPLIFY_M + 2
