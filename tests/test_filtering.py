"""Filtering: parametrised tables, URL round trips, facets, coverage, and a naive twin."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest

from aop_map.filtering import (
    Selection,
    build_index,
    count_options,
    count_records,
    coverage_matrix,
    filter_frame,
    gaps,
    records_table,
    selection_from_params,
    selection_to_params,
    to_geojson,
)
from aop_map.geocoding import haversine_km
from aop_map.vocabulary import Vocabulary
from tests.frames import frame_from_rows, synthetic_frame

STROUD = (51.7446, -2.2150)

ROWS = [
    {"record_id": "choir", "name": "Breathe Choir", "conditions": ("copd",),
     "art_forms": ("singing",), "district_code": "E07000081", "lat": 51.864, "lon": -2.238,
     "areas_served": ("gloucester",), "summary": "Singing for lung health"},
    {"record_id": "choir", "location_index": 1, "name": "Breathe Choir",
     "conditions": ("copd",), "art_forms": ("singing",), "district_code": "E07000082",
     "lat": 51.745, "lon": -2.215, "areas_served": ("gloucester",)},
    {"record_id": "artlift", "name": "Artlift", "conditions": ("chronic-pain", "mental-health"),
     "art_forms": ("visual-arts", "creative-writing"), "areas_served": ("countywide",),
     "district_code": "E07000078", "lat": 51.899, "lon": -2.078, "status": "established",
     "description": "Arts on prescription with a café feel"},
    {"record_id": "circus", "name": "Forest Circus", "conditions": ("disabling-barriers",),
     "art_forms": ("circus",), "areas_served": ("forest-of-dean",), "status": "emerging",
     "district_code": "E07000080", "lat": 51.823, "lon": -2.499, "age_groups": ("children",),
     "kind": "programme"},
    {"record_id": "nowhere", "name": "National Reading", "conditions": ("mental-health",),
     "art_forms": ("reading",), "areas_served": ("national",), "location_index": -1,
     "location_precision": "none"},
]


@pytest.fixture
def frame() -> pd.DataFrame:
    return frame_from_rows(ROWS)


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (Selection(), {"choir", "artlift", "circus", "nowhere"}),
        (Selection(condition=("copd",)), {"choir"}),
        (Selection(condition=("copd", "chronic-pain")), {"choir", "artlift"}),
        (Selection(condition=("mental-health",), art_form=("reading",)), {"nowhere"}),
        (Selection(condition=("copd",), art_form=("circus",)), set()),
        (Selection(status=("emerging",)), {"circus"}),
        (Selection(age_group=("children",)), {"circus"}),
        # A district matches providers located in it, serving it, or countywide.
        (Selection(district=("cotswold",)), {"artlift"}),
        (Selection(district=("stroud",)), {"choir", "artlift"}),
        (Selection(district=("forest-of-dean",)), {"circus", "artlift"}),
        (Selection(q="choir"), {"choir"}),
        (Selection(q="BREATHE choir"), {"choir"}),
        (Selection(q="breathe circus"), set()),
        (Selection(q="singng"), {"choir"}),  # typo
        (Selection(q="artlfit"), {"artlift"}),  # typo
        (Selection(q="cafe"), {"artlift"}),  # accents don't matter
        (Selection(q="lung"), {"choir"}),  # summary is searched
        (Selection(q="zzzzzz"), set()),
    ],
)
def test_filter_table(frame: pd.DataFrame, vocabulary: Vocabulary, selection: Selection,
                      expected: set[str]) -> None:
    before = frame.copy()
    result = filter_frame(frame, selection, vocabulary)
    assert set(result["record_id"]) == expected
    pd.testing.assert_frame_equal(frame, before)  # never mutates its input


def test_radius_filters_and_sorts_by_distance(frame: pd.DataFrame,
                                              vocabulary: Vocabulary) -> None:
    result = filter_frame(frame, Selection(near="Stroud", radius_km=20), vocabulary,
                          origin=STROUD)
    assert list(result["record_id"]) == ["choir", "choir", "artlift"]
    assert list(result["distance_km"]) == sorted(result["distance_km"])
    assert result["distance_km"].iloc[0] < 0.5
    assert "nowhere" not in set(result["record_id"])  # no point, so not "near"


def test_origin_without_radius_sorts_everything(frame: pd.DataFrame,
                                                vocabulary: Vocabulary) -> None:
    result = filter_frame(frame, Selection(near="Stroud"), vocabulary, origin=STROUD)
    assert len(result) == len(frame) and result["record_id"].iloc[-1] == "nowhere"


def test_counts(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    assert count_records(frame) == 4
    selection = Selection(condition=("copd",), status=("established",))
    counts = count_options(frame, selection, vocabulary, "condition")
    # The condition facet ignores its own filter but keeps the status filter.
    assert counts["copd"] == 1 and counts["mental-health"] == 2 and counts["dementia"] == 0
    assert counts["disabling-barriers"] == 0  # circus is emerging
    assert set(counts) == {t.id for t in vocabulary.terms("conditions")}
    assert count_options(frame, selection, vocabulary, "art_form")["singing"] == 1
    assert count_options(frame, Selection(), vocabulary, "district")["cotswold"] == 1


@pytest.mark.parametrize(
    ("params", "selection", "notes"),
    [
        ({}, Selection(), []),
        ({"condition": "copd"}, Selection(condition=("copd",)), []),
        ({"condition": ["copd", "dementia"]}, Selection(condition=("copd", "dementia")), []),
        ({"condition": "copd,dementia"}, Selection(condition=("copd", "dementia")), []),
        ({"condition": "COPD"}, Selection(condition=("copd",)), []),
        ({"art_form": "Singing for breathing"}, Selection(art_form=("singing",)), []),
        ({"district": "Cotswolds"}, Selection(district=("cotswold",)), []),
        ({"status": "emerging"}, Selection(status=("emerging",)), []),
        ({"condition": "xyz"}, Selection(), ["Ignored unknown condition 'xyz'"]),
        ({"q": " choir ", "near": "GL14 2AA", "radius_km": "10"},
         Selection(q="choir", near="GL14 2AA", radius_km=10.0), []),
        ({"near": "GL14", "radius_km": "far"}, Selection(near="GL14"),
         ["Ignored radius 'far': not a number"]),
        ({"near": "GL14", "radius_km": "-3"}, Selection(near="GL14"),
         ["Ignored radius '-3': use a distance from 1 to 500 km"]),
        ({"model": "<script>"}, Selection(), ["Ignored unknown model '<script>'"]),
    ],
)
def test_params_to_selection(vocabulary: Vocabulary, params: dict, selection: Selection,
                             notes: list[str]) -> None:
    assert selection_from_params(params, vocabulary) == (selection, notes)


def test_params_round_trip(vocabulary: Vocabulary) -> None:
    selection = Selection(condition=("copd",), art_form=("singing", "music"),
                          district=("forest-of-dean",), q="choir", near="GL14 2AA",
                          radius_km=10.0)
    params = selection_to_params(selection)
    assert params["radius_km"] == "10" and params["art_form"] == ["singing", "music"]
    assert selection_from_params(params, vocabulary) == (selection, [])
    assert selection_to_params(Selection()) == {}


def test_coverage_and_gaps(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    matrix = coverage_matrix(frame, vocabulary)
    assert matrix.loc["copd", "singing"] == 1
    assert matrix.loc["mental-health", "visual-arts"] == 1
    assert matrix.loc["dementia"].sum() == 0
    assert list(matrix.index) == [t.id for t in vocabulary.terms("conditions")]
    # Cotswolds: only the countywide provider serves it.
    cotswold_gaps = gaps(frame, vocabulary, "conditions", district="cotswold")
    assert "copd" in cotswold_gaps and "chronic-pain" not in cotswold_gaps
    assert "dementia" in gaps(frame, vocabulary, "conditions")


def test_records_table_and_geojson(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    table = records_table(frame, vocabulary)
    assert list(table["id"]) == ["choir", "artlift", "circus", "nowhere"]
    assert table.loc[1, "conditions"] == "Chronic pain, Mental health"
    collection = json.loads(to_geojson(frame, vocabulary))
    assert len(collection["features"]) == 4  # the unlocated record has no feature
    assert all("email" not in f["properties"] for f in collection["features"])


def test_contact_exported_only_with_consent(vocabulary: Vocabulary) -> None:
    rows = [{"record_id": "a", "lat": 51.8, "lon": -2.2, "email": "a@x.org",
             "publish_contact": True},
            {"record_id": "b", "lat": 51.8, "lon": -2.2, "email": None}]
    features = json.loads(to_geojson(frame_from_rows(rows), vocabulary))["features"]
    assert features[0]["properties"]["email"] == "a@x.org"
    assert "email" not in features[1]["properties"]


def test_empty_frame(vocabulary: Vocabulary) -> None:
    empty = frame_from_rows([])
    assert len(filter_frame(empty, Selection(condition=("copd",)), vocabulary)) == 0
    assert records_table(empty, vocabulary).empty
    assert coverage_matrix(empty, vocabulary).to_numpy().sum() == 0


def naive_filter(frame: pd.DataFrame, selection: Selection, vocabulary: Vocabulary,
                 origin: tuple[float, float] | None) -> set[str]:
    """The obvious row-by-row implementation the index must agree with."""
    codes = {t.code: t.id for t in vocabulary.terms("areas_served") if t.code}

    def keep(row: pd.Series) -> bool:
        checks = [("condition", "conditions"), ("art_form", "art_forms"),
                  ("age_group", "age_groups"), ("delivery", "delivery"),
                  ("referral", "referral_routes"), ("model", "commissioning_models")]
        for name, column in checks:
            terms = selection.terms(name)
            if terms and not set(terms) & set(row[column]):
                return False
        if selection.status and row["status"] not in selection.status:
            return False
        if selection.district:
            served = set(row["areas_served"]) | {codes.get(row["district_code"])}
            if not set(selection.district) & served and "countywide" not in served:
                return False
        if origin and selection.radius_km:
            if pd.isna(row["lat"]):
                return False
            distance = haversine_km(origin[0], origin[1], [row["lat"]], [row["lon"]])[0]
            if distance > selection.radius_km:
                return False
        return True

    return set(frame[frame.apply(keep, axis=1)]["record_id"])


def test_index_agrees_with_naive_filter(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(2000, vocabulary, seed=7)
    index = build_index(frame, vocabulary)
    rng = random.Random(11)
    fields = {"condition": "conditions", "art_form": "art_forms", "age_group": "age_groups",
              "district": "areas_served", "delivery": "delivery"}
    for _ in range(40):
        chosen = {name: tuple(rng.sample([t.id for t in vocabulary.terms(section)],
                                         rng.randint(0, 2)))
                  for name, section in fields.items() if rng.random() < 0.5}
        radius = rng.choice([None, 5.0, 15.0, 40.0])
        selection = Selection(**chosen, status=rng.choice([(), ("emerging",)]),
                              near="x" if radius else "", radius_km=radius)
        origin = (rng.uniform(51.6, 52.0), rng.uniform(-2.5, -1.8)) if radius else None
        ours = set(filter_frame(frame, selection, vocabulary, origin=origin,
                                index=index)["record_id"])
        assert ours == naive_filter(frame, selection, vocabulary, origin), selection


def test_index_is_reusable_and_frame_untouched(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(300, vocabulary, seed=1)
    snapshot = frame.copy()
    index = build_index(frame, vocabulary)
    first = filter_frame(frame, Selection(condition=("copd",)), vocabulary, index=index)
    second = filter_frame(frame, Selection(condition=("copd",)), vocabulary, index=index)
    assert np.array_equal(first.index, second.index)
    pd.testing.assert_frame_equal(frame, snapshot)
