"""Approximate district outlines: one per Gloucestershire district, where the district is."""

from __future__ import annotations

import json

import pytest
import shapely

from aop_map.boundaries import district_outlines
from aop_map.vocabulary import Vocabulary
from tests.conftest import SHARED_GEODATA


def test_one_outline_per_district(vocabulary: Vocabulary) -> None:
    outlines = district_outlines(vocabulary)
    assert sorted(outlines["name"]) == ["Cheltenham", "Cotswold", "Forest of Dean",
                                        "Gloucester", "Stroud", "Tewkesbury"]
    assert outlines.crs.to_epsg() == 4326 and outlines.is_valid.all()


def test_outlines_overlap_the_real_districts(vocabulary: Vocabulary) -> None:
    path = SHARED_GEODATA / "glos_districts.geojson"
    if not path.is_file():
        pytest.skip(f"reference boundaries {path} not available")
    real = {f["properties"]["lad_code"]: shapely.geometry.shape(f["geometry"])
            for f in json.loads(path.read_text())["features"]}
    for row in district_outlines(vocabulary).itertuples():
        share = row.geometry.intersection(real[row.code]).area / row.geometry.area
        assert share > 0.85, f"{row.name}: only {share:.0%} inside the real district"
