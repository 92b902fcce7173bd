"""Filtering: parametrised tables, URL round trips, search, facets, coverage, a naive twin."""

from __future__ import annotations

import json
import math
import pickle
import random
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aop_map import fields
from aop_map.filtering import (
    Selection,
    build_concepts,
    build_index,
    clear_field,
    count_options,
    count_records,
    counts_by,
    coverage_matrix,
    facet_fields,
    filter_fields,
    filter_frame,
    fold,
    fold_words,
    gaps,
    records_table,
    selection_from_params,
    selection_to_params,
    to_geojson,
    url_params,
)
from aop_map.filtering.search import _query_groups
from aop_map.geocoding import haversine_km
from aop_map.vocabulary import Vocabulary
from tests.frames import make_frame, real_vocabulary, synthetic_frame

STROUD = (51.7446, -2.2150)

ROWS = [
    {
        "record_id": "choir",
        "name": "Breathe Choir",
        "conditions": ("copd",),
        "art_forms": ("singing",),
        "district_code": "E07000081",
        "lat": 51.864,
        "lon": -2.238,
        "areas_served": ("gloucester",),
        "summary": "Singing for lung health",
        "delivery": ("in-person",),
        "referral_routes": ("gp", "self-referral"),
        "commissioning_models": ("grant",),
        "location_label": "Cathedral hall",
    },
    {
        "record_id": "choir",
        "location_index": 1,
        "name": "Breathe Choir",
        "conditions": ("copd",),
        "art_forms": ("singing",),
        "district_code": "E07000082",
        "lat": 51.745,
        "lon": -2.215,
        "areas_served": ("gloucester",),
        "summary": "Singing for lung health",
        "delivery": ("in-person",),
        "referral_routes": ("gp", "self-referral"),
        "commissioning_models": ("grant",),
        "location_label": "Stroud library",
    },
    {
        "record_id": "artlift",
        "name": "Artlift",
        "conditions": ("chronic-pain", "mental-health"),
        "art_forms": ("visual-arts", "creative-writing"),
        "areas_served": ("countywide",),
        "district_code": "E07000078",
        "lat": 51.899,
        "lon": -2.078,
        "description": "Arts on prescription with a café feel",
        "referral_routes": ("gp",),
        "commissioning_models": ("arts-on-prescription",),
        "publish_contact": True,
        "email": "hello@artlift.example.org",
        "website": "https://artlift.example.org",
    },
    {
        "record_id": "circus",
        "name": "Forest Circus",
        "conditions": ("disabling-barriers",),
        "art_forms": ("circus",),
        "areas_served": ("forest-of-dean",),
        "status": "emerging",
        "district_code": "E07000080",
        "lat": 51.823,
        "lon": -2.499,
        "age_groups": ("children",),
        "kind": "programme",
        "organisation": "Forest Arts Trust",
        "delivery": ("in-person",),
    },
    {
        "record_id": "nowhere",
        "name": "National Reading",
        "conditions": ("mental-health",),
        "art_forms": ("reading",),
        "areas_served": ("national",),
        "location_index": -1,
        "location_precision": "none",
        "delivery": ("online",),
        "email": "not-consented@example.org",
    },
    {
        "record_id": "museum",
        "name": "Corinium Museum Memories",
        "conditions": ("dementia",),
        "art_forms": ("heritage-and-museums",),
        "district_code": "E07000079",
        "lat": 51.718,
        "lon": -1.968,
        "location_precision": "exact",
        "age_groups": ("older-people",),
    },
    {
        "record_id": "elsewhere",
        "name": "Bristol Music Trust",
        "conditions": ("cancer",),
        "art_forms": ("music",),
        "areas_served": ("elsewhere",),
        "district_code": "E06000023",
        "lat": 51.455,
        "lon": -2.59,
    },
]
ALL = {"choir", "artlift", "circus", "nowhere", "museum", "elsewhere"}


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame(ROWS)


def ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["record_id"])


# ---------------------------------------------------------------------------------------------
# Filters


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (Selection(), ALL),
        (Selection(condition=("copd",)), {"choir"}),
        (Selection(condition=("copd", "chronic-pain")), {"choir", "artlift"}),  # OR in a field
        (Selection(condition=("mental-health",), art_form=("reading",)), {"nowhere"}),  # AND
        (Selection(condition=("copd",), art_form=("circus",)), set()),
        (Selection(condition=("not-a-term",)), set()),
        (Selection(status=("emerging",)), {"circus"}),
        (Selection(status=("established", "emerging")), ALL),
        (Selection(age_group=("children",)), {"circus"}),
        (Selection(delivery=("online",)), {"nowhere"}),
        (Selection(referral=("gp",)), {"choir", "artlift"}),
        (Selection(model=("grant",)), {"choir"}),
        (Selection(model=("grant", "arts-on-prescription")), {"choir", "artlift"}),
        # A district: located in it, serving it, or countywide.
        (Selection(district=("cotswold",)), {"artlift", "museum"}),
        (Selection(district=("stroud",)), {"choir", "artlift"}),
        (Selection(district=("gloucester",)), {"choir", "artlift"}),
        (Selection(district=("tewkesbury",)), {"artlift"}),
        (Selection(district=("tewkesbury", "forest-of-dean")), {"artlift", "circus"}),
        (Selection(district=("national",)), {"nowhere", "artlift"}),
        (Selection(district=("elsewhere",)), {"elsewhere", "artlift"}),
        (Selection(district=("countywide",)), {"artlift"}),
        (Selection(district=("cotswold",), condition=("copd",)), set()),
        (
            Selection(district=("stroud",), status=("established",), referral=("gp",)),
            {"choir", "artlift"},
        ),
        # Text search: every word, any of name, summary, description, organisation.
        (Selection(q="choir"), {"choir"}),
        (Selection(q="forest arts"), {"circus"}),
        (Selection(q="breathe circus"), set()),
        (Selection(q="choir", district=("cotswold",)), set()),
    ],
)
def test_filter_table(
    frame: pd.DataFrame, vocabulary: Vocabulary, selection: Selection, expected: set[str]
) -> None:
    before = frame.copy(deep=True)
    result = filter_frame(frame, selection, vocabulary)
    assert ids(result) == expected
    assert "distance_km" not in result  # only with an origin
    pd.testing.assert_frame_equal(frame, before)  # never mutates its input
    index = build_index(frame, vocabulary)
    assert ids(filter_frame(frame, selection, vocabulary, index=index)) == expected


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (Selection(district=("cotswold",)), {"museum"}),
        (Selection(district=("gloucester",)), {"choir"}),
        (Selection(district=("tewkesbury",)), set()),
        (Selection(district=("countywide",)), {"artlift"}),  # chosen itself, still matches
    ],
)
def test_countywide_can_be_left_out(
    frame: pd.DataFrame, vocabulary: Vocabulary, selection: Selection, expected: set[str]
) -> None:
    assert ids(filter_frame(frame, selection, vocabulary, countywide=False)) == expected


def test_district_filter_keeps_only_matching_locations(
    frame: pd.DataFrame, vocabulary: Vocabulary
) -> None:
    # The choir has rows in Gloucester and Stroud and serves Gloucester: in Stroud, the map
    # shows its Stroud location only; in Gloucester (which it serves) both.
    stroud = filter_frame(frame, Selection(district=("stroud",)), vocabulary)
    assert list(stroud.loc[stroud["record_id"] == "choir", "district_code"]) == ["E07000082"]
    gloucester = filter_frame(frame, Selection(district=("gloucester",)), vocabulary)
    assert (gloucester["record_id"] == "choir").sum() == 2


def test_result_keeps_columns_and_type(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    result = filter_frame(frame, Selection(condition=("copd",)), vocabulary)
    assert list(result.columns) == list(frame.columns)
    assert result.crs == frame.crs and result.geometry.name == frame.geometry.name
    assert list(result.index) == [0, 1]  # original labels, original order


# ---------------------------------------------------------------------------------------------
# Text search


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL),
        ("   ", ALL),
        ("!!!", ALL),  # no words at all: no text filter
        ("choir", {"choir"}),
        ("BREATHE choir", {"choir"}),
        ("choir choir", {"choir"}),
        ("sing", {"choir"}),  # a word's start
        ("lift", {"artlift"}),  # inside a word (4+ letters)
        ("ift", set()),  # short fragments match word starts only
        ("lung", {"choir"}),  # the summary is searched
        ("prescription", {"artlift"}),  # and the description
        ("trust", {"circus", "elsewhere"}),  # and the organisation
        ("cafe", {"artlift"}),  # accents don't matter...
        ("CAFÉ", {"artlift"}),  # ...either way
        ("singng", {"choir"}),  # typo: a letter missing
        ("artlfit", {"artlift"}),  # typo: two letters swapped
        ("choor", {"choir"}),  # typo: a wrong letter
        ("museum memries", {"museum"}),  # one word exact, one with a typo
        ("corinium   MEMORIES", {"museum"}),
        ("zzzzzz", set()),
        ("chor", {"choir"}),  # in no word, so one typo is allowed: "choir" is one letter more
        ("choirr", {"choir"}),
        ("singingg", {"choir"}),
        ("circis", {"circus"}),
        ("photgraphy", set()),  # a typo of a word no record has finds nothing
        ("<script>", {"artlift"}),  # markup is just words: "script" is in "prescription"
    ],
)
def test_search_table(
    frame: pd.DataFrame, vocabulary: Vocabulary, query: str, expected: set[str]
) -> None:
    assert ids(filter_frame(frame, Selection(q=query), vocabulary)) == expected


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café Créatif", "cafe creatif"),
        ("Stow-on-the-Wold", "stow on the wold"),
        ("  GL14 2AA ", "gl14 2aa"),
        ("STRASSE straße", "strasse strasse"),
        ("under_score", "under score"),
        ("Ærø Łódź naïve", "aero lodz naive"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    assert fold_words(text) == folded.split()


# ---------------------------------------------------------------------------------------------
# Distance


def test_radius_filters_and_sorts_by_distance(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    result = filter_frame(frame, Selection(near="Stroud", radius_km=20), vocabulary, origin=STROUD)
    assert list(result["record_id"]) == ["choir", "choir", "museum", "artlift"]
    distances = result["distance_km"].to_numpy()
    assert list(distances) == sorted(distances) and distances[0] < 0.5
    assert 13 < distances[1] < 14 and 19 < distances[-1] < 20
    assert "nowhere" not in ids(result)  # no point, so not "near"
    assert "distance_km" not in frame  # the input gained nothing


@pytest.mark.parametrize(
    ("radius", "expected"),
    [
        (0.1, ["choir"]),
        (13.0, ["choir"]),
        (14.0, ["choir", "choir"]),
        (22.0, ["choir", "choir", "museum", "artlift", "circus"]),
        (500.0, ["choir", "choir", "museum", "artlift", "circus", "elsewhere"]),
    ],
)
def test_radius_table(
    frame: pd.DataFrame, vocabulary: Vocabulary, radius: float, expected: list[str]
) -> None:
    result = filter_frame(frame, Selection(radius_km=radius), vocabulary, origin=STROUD)
    assert list(result["record_id"]) == expected


def test_origin_without_radius_sorts_everything(
    frame: pd.DataFrame, vocabulary: Vocabulary
) -> None:
    result = filter_frame(frame, Selection(near="Stroud"), vocabulary, origin=STROUD)
    assert len(result) == len(frame) and result["record_id"].iloc[-1] == "nowhere"
    assert math.isnan(result["distance_km"].iloc[-1])


def test_radius_without_origin_is_ignored(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    # The page could not locate "near": no distance filter rather than nothing at all.
    assert ids(filter_frame(frame, Selection(near="Atlantis", radius_km=5), vocabulary)) == ALL


def test_radius_across_the_antimeridian(vocabulary: Vocabulary) -> None:
    frame = make_frame(
        [
            {"record_id": "east", "lat": 0.0, "lon": 179.99},
            {"record_id": "west", "lat": 0.0, "lon": -179.99},
        ]
    )
    result = filter_frame(frame, Selection(radius_km=5), vocabulary, origin=(0.0, 179.999))
    assert ids(result) == {"east", "west"}


# ---------------------------------------------------------------------------------------------
# URL parameters


@pytest.mark.parametrize(
    ("params", "selection", "notes"),
    [
        ({}, Selection(), []),
        ({"id": "artlift", "foo": "bar"}, Selection(), []),  # other parameters are not ours
        ({"condition": "copd"}, Selection(condition=("copd",)), []),
        ({"condition": ["copd", "dementia"]}, Selection(condition=("copd", "dementia")), []),
        ({"condition": "copd,dementia"}, Selection(condition=("copd", "dementia")), []),
        (
            {"condition": ["copd, dementia", "cancer"]},
            Selection(condition=("copd", "dementia", "cancer")),
            [],
        ),
        ({"condition": ["copd", "COPD", "copd"]}, Selection(condition=("copd",)), []),
        ({"condition": "COPD"}, Selection(condition=("copd",)), []),
        ({"condition": "Alzheimer's"}, Selection(condition=("dementia",)), []),  # synonym
        ({"condition": "Mental health"}, Selection(condition=("mental-health",)), []),  # label
        ({"art_form": "Singing for breathing"}, Selection(art_form=("singing",)), []),
        ({"art_form": "creative_writing"}, Selection(art_form=("creative-writing",)), []),
        ({"age_group": "kids"}, Selection(age_group=("children",)), []),
        ({"district": "Cotswolds"}, Selection(district=("cotswold",)), []),
        ({"district": "The Forest of Dean"}, Selection(district=("forest-of-dean",)), []),
        ({"district": "glos"}, Selection(district=("countywide",)), []),
        ({"status": "pilot"}, Selection(status=("emerging",)), []),
        ({"delivery": "Zoom"}, Selection(delivery=("online",)), []),
        ({"referral": "link worker"}, Selection(referral=("social-prescriber",)), []),
        ({"model": "AOP"}, Selection(model=("arts-on-prescription",)), []),
        ({"condition": "xyz"}, Selection(), ["Ignored unknown condition 'xyz'"]),
        (
            {"condition": "copd,,xyz, "},
            Selection(condition=("copd",)),
            ["Ignored unknown condition 'xyz'"],
        ),
        (
            {"condition": "dementai"},
            Selection(),
            ["Ignored unknown condition 'dementai' (did you mean 'Dementia'?)"],
        ),
        (
            {"art_form": "singng"},
            Selection(),
            ["Ignored unknown art form 'singng' (did you mean 'Singing'?)"],
        ),
        (
            {"district": "Atlantis", "status": "copd"},
            Selection(),
            ["Ignored unknown district 'Atlantis'", "Ignored unknown status 'copd'"],
        ),
        # Markup is punctuation to the normaliser: "script" is close to "prescription".
        (
            {"model": "<script>"},
            Selection(),
            ["Ignored unknown model '<script>' (did you mean 'Arts on prescription'?)"],
        ),
        ({"condition": "x" * 100}, Selection(), [f"Ignored unknown condition '{'x' * 60}...'"]),
        (
            {"q": " choir ", "near": "GL14 2AA", "radius_km": "10"},
            Selection(q="choir", near="GL14 2AA", radius_km=10.0),
            [],
        ),
        ({"q": ["first", "  singing   choir "]}, Selection(q="singing choir"), []),
        ({"q": "choir, singing"}, Selection(q="choir, singing"), []),  # q is text, not a list
        ({"q": "x" * 500}, Selection(q="x" * 200), []),
        ({"radius_km": "2.5"}, Selection(radius_km=2.5), []),
        ({"radius_km": ["5", "10"]}, Selection(radius_km=10.0), []),
        ({"radius_km": "500"}, Selection(radius_km=500.0), []),
        (
            {"near": "GL14", "radius_km": "far"},
            Selection(near="GL14"),
            ["Ignored radius 'far': not a number"],
        ),
        (
            {"radius_km": "-3"},
            Selection(),
            ["Ignored radius '-3': use a distance above 0 and up to 500 km"],
        ),
        (
            {"radius_km": "0"},
            Selection(),
            ["Ignored radius '0': use a distance above 0 and up to 500 km"],
        ),
        (
            {"radius_km": "500.5"},
            Selection(),
            ["Ignored radius '500.5': use a distance above 0 and up to 500 km"],
        ),
        (
            {"radius_km": "nan"},
            Selection(),
            ["Ignored radius 'nan': use a distance above 0 and up to 500 km"],
        ),
        (
            {"radius_km": "inf"},
            Selection(),
            ["Ignored radius 'inf': use a distance above 0 and up to 500 km"],
        ),
        ({"radius_km": ""}, Selection(), []),
    ],
)
def test_params_to_selection(
    vocabulary: Vocabulary, params: dict, selection: Selection, notes: list[str]
) -> None:
    assert selection_from_params(params, vocabulary) == (selection, notes)


@pytest.mark.parametrize(
    "selection",
    [
        Selection(),
        Selection(condition=("copd",)),
        Selection(
            condition=("copd",),
            art_form=("singing", "music"),
            district=("forest-of-dean",),
            q="choir",
            near="GL14 2AA",
            radius_km=10.0,
        ),
        Selection(
            status=("emerging",),
            delivery=("online", "hybrid"),
            referral=("gp",),
            model=("grant",),
            age_group=("all-ages",),
        ),
        Selection(q="café, crème & more", near="Stow-on-the-Wold"),
        Selection(radius_km=2.5),
        Selection(district=("countywide", "national", "elsewhere")),
    ],
)
def test_params_round_trip(vocabulary: Vocabulary, selection: Selection) -> None:
    params = selection_to_params(selection)
    assert list(params) == [p for p in url_params() if p in params]  # stable order
    assert all(value for value in params.values())  # only what is set
    assert selection_from_params(params, vocabulary) == (selection, [])


def test_params_shape() -> None:
    params = selection_to_params(
        Selection(art_form=("singing", "music"), q="choir", radius_km=10.0)
    )
    assert params == {"art_form": ["singing", "music"], "q": "choir", "radius_km": "10"}


def _terms_strategy(field: str) -> st.SearchStrategy[tuple[str, ...]]:
    ids_ = [t.id for t in real_vocabulary().terms(field)]
    return st.lists(st.sampled_from(ids_), max_size=4, unique=True).map(tuple)


@settings(max_examples=60, deadline=None)
@given(
    terms=st.fixed_dictionaries({n: _terms_strategy(f) for n, f in filter_fields().items()}),
    q=st.text(max_size=30).map(lambda s: " ".join(s.split())),
    near=st.sampled_from(["", "GL5 1AA", "Cirencester"]),
    radius=st.one_of(st.none(), st.floats(min_value=0.5, max_value=500)),
)
def test_params_round_trip_property(terms: dict, q: str, near: str, radius: float | None) -> None:
    selection = Selection(**terms, q=q, near=near, radius_km=radius)
    params = selection_to_params(selection)
    parsed, notes = selection_from_params(params, real_vocabulary())
    assert notes == []
    assert parsed == Selection(**terms, q=q, near=near, radius_km=parsed.radius_km)
    if radius is not None:
        assert parsed.radius_km == pytest.approx(radius, rel=1e-5)


def test_selection_coerces_lists_and_clears() -> None:
    selection = Selection(condition=["copd"], art_form="singing")
    assert selection.terms("condition") == ("copd",) and selection.art_form == ("singing",)
    assert selection.chosen == (("condition", ("copd",)), ("art_form", ("singing",)))
    assert hash(selection)
    assert clear_field(selection, "condition") == Selection(art_form=("singing",))
    assert Selection().is_empty and not selection.is_empty


def test_selection_facets_are_data() -> None:
    selection = Selection({"art_form": ["singing"], "condition": ()}, q="choir")
    assert selection == Selection(art_form=("singing",), q="choir")  # empty terms dropped
    assert selection.terms("condition") == () and selection.terms("district") == ()
    # Changed by keyword, with dataclasses.replace as with with_terms; the rest is kept.
    changed = replace(selection, condition=("copd",), near="Stroud")
    assert replace(changed, near="") == selection.with_terms(condition=("copd",)) != selection
    assert changed.terms("condition") == ("copd",) and changed.near == "Stroud"
    assert changed.q == "choir" and changed.art_form == ("singing",)
    assert clear_field(changed, "near").near == "" and clear_field(changed, "q").q == ""
    assert pickle.loads(pickle.dumps(changed)) == changed
    with pytest.raises(TypeError, match="no filter 'conditions'"):
        Selection(conditions=("copd",))
    with pytest.raises(KeyError):
        selection.terms("nonsense")
    with pytest.raises(AttributeError):
        selection.nonsense  # noqa: B018


# ---------------------------------------------------------------------------------------------
# Counts, coverage, gaps


def test_count_records(frame: pd.DataFrame) -> None:
    assert count_records(frame) == 6  # 7 rows: the choir has two locations
    assert count_records(frame.iloc[:0]) == 0


def test_facet_counts(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    selection = Selection(condition=("copd",), status=("established",))
    counts = count_options(frame, selection, vocabulary, "condition")
    # The condition facet ignores its own filter but keeps the status filter.
    assert counts["copd"] == 1 and counts["mental-health"] == 2 and counts["dementia"] == 1
    assert counts["disabling-barriers"] == 0  # circus is emerging
    assert list(counts) == [t.id for t in vocabulary.terms("conditions")]
    assert count_options(frame, selection, vocabulary, "conditions") == counts  # column name
    art = count_options(frame, selection, vocabulary, "art_form")
    assert art["singing"] == 1 and art["visual-arts"] == 0  # condition filter applies here
    status = count_options(frame, selection, vocabulary, "status")
    assert status == {"established": 1, "emerging": 0, "ended": 0}


@pytest.mark.parametrize(
    ("countywide", "expected"),
    [
        (
            True,
            {
                "cheltenham": 1,
                "cotswold": 2,
                "forest-of-dean": 2,
                "gloucester": 2,
                "stroud": 2,
                "tewkesbury": 1,
                "countywide": 1,
                "national": 2,
                "elsewhere": 2,
            },
        ),
        (
            False,
            {
                "cheltenham": 1,
                "cotswold": 1,
                "forest-of-dean": 1,
                "gloucester": 1,
                "stroud": 1,
                "tewkesbury": 0,
                "countywide": 1,
                "national": 1,
                "elsewhere": 1,
            },
        ),
    ],
)
def test_district_facet(
    frame: pd.DataFrame, vocabulary: Vocabulary, countywide: bool, expected: dict
) -> None:
    counts = count_options(frame, Selection(), vocabulary, "district", countywide=countywide)
    assert counts == expected  # the two-location choir counts once


def test_facet_counts_follow_text_and_radius(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    counts = count_options(frame, Selection(q="choir"), vocabulary, "art_form")
    assert counts["singing"] == 1 and sum(counts.values()) == 1
    near = count_options(frame, Selection(radius_km=15), vocabulary, "condition", origin=STROUD)
    assert near["copd"] == 1 and near["dementia"] == 0


def test_counts_by(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    status = counts_by(frame, vocabulary, "status")
    assert status.to_dict() == {"established": 5, "emerging": 1, "ended": 0}
    kinds = counts_by(frame, vocabulary, "kind")
    assert kinds["programme"] == 1 and kinds["organisation"] == 5
    districts = counts_by(frame, vocabulary, "district")
    assert districts["tewkesbury"] == 1 and districts.name == "records"
    assert counts_by(frame, vocabulary, "district", countywide=False)["tewkesbury"] == 0
    with pytest.raises(ValueError, match="unknown field"):
        counts_by(frame, vocabulary, "colour")


def test_coverage_matrix(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    matrix = coverage_matrix(frame, vocabulary)
    assert list(matrix.index) == [t.id for t in vocabulary.terms("conditions")]
    assert list(matrix.columns) == [t.id for t in vocabulary.terms("art_forms")]
    assert matrix.loc["copd", "singing"] == 1  # two locations, one record
    assert matrix.loc["mental-health", "visual-arts"] == 1
    assert matrix.loc["mental-health", "reading"] == 1
    assert matrix.loc["dementia"].sum() == 1 and matrix.loc["carers"].sum() == 0
    assert matrix.to_numpy().sum() == 1 + 4 + 1 + 1 + 1 + 1  # choir, artlift 2x2, ...


def test_coverage_by_district(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    matrix = coverage_matrix(frame, vocabulary, rows="conditions", cols="district")
    assert matrix.loc["copd", "stroud"] == 1 and matrix.loc["copd", "cotswold"] == 0
    assert matrix.loc["chronic-pain", "tewkesbury"] == 1  # countywide
    narrow = coverage_matrix(frame, vocabulary, "conditions", "district", countywide=False)
    assert narrow.loc["chronic-pain", "tewkesbury"] == 0
    assert narrow.loc["chronic-pain", "cheltenham"] == 1  # located there
    by_status = coverage_matrix(frame, vocabulary, "art_forms", "status")
    assert by_status.loc["circus", "emerging"] == 1 and by_status.loc["circus", "established"] == 0


@pytest.mark.parametrize(
    ("field", "district", "countywide", "covered"),
    [
        (
            "conditions",
            None,
            True,
            {"copd", "chronic-pain", "mental-health", "disabling-barriers", "dementia", "cancer"},
        ),
        ("conditions", "cotswold", True, {"chronic-pain", "mental-health", "dementia"}),
        ("conditions", "cotswold", False, {"dementia"}),
        ("conditions", "tewkesbury", True, {"chronic-pain", "mental-health"}),
        ("conditions", "tewkesbury", False, set()),
        ("conditions", "stroud", True, {"copd", "chronic-pain", "mental-health"}),
        ("art_forms", "forest-of-dean", True, {"circus", "visual-arts", "creative-writing"}),
        ("age_groups", None, True, {"children", "older-people"}),
    ],
)
def test_gaps(
    frame: pd.DataFrame,
    vocabulary: Vocabulary,
    field: str,
    district: str | None,
    countywide: bool,
    covered: set[str],
) -> None:
    expected = [t.id for t in vocabulary.terms(field) if t.id not in covered]
    assert gaps(frame, vocabulary, field, district=district, countywide=countywide) == expected


# ---------------------------------------------------------------------------------------------
# Tables and exports


def test_records_table(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    table = records_table(frame, vocabulary)
    assert list(table["id"]) == ["choir", "artlift", "circus", "nowhere", "museum", "elsewhere"]
    row = table.set_index("id").loc["artlift"]
    assert row["conditions"] == "Chronic pain, Mental health"
    assert row["areas_served"] == "Countywide (Gloucestershire)" and row["status"] == "Established"
    assert row["email"] == "hello@artlift.example.org"  # consented
    assert table.set_index("id").loc["nowhere", "email"] == ""  # not consented
    assert table.set_index("id").loc["choir", "locations"] == 2
    assert table.set_index("id").loc["nowhere", "locations"] == 0
    assert table.set_index("id").loc["choir", "place"] == "Cathedral hall"
    assert "distance_km" not in table
    csv = table.to_csv(index=False)
    assert csv.count("\n") == 7


def test_records_table_nearest_location(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    near = filter_frame(frame, Selection(radius_km=25), vocabulary, origin=STROUD)
    table = records_table(near, vocabulary, with_distance=True)
    assert list(table.columns[:3]) == ["id", "name", "distance_km"]
    assert list(table["id"]) == ["choir", "museum", "artlift", "circus"]
    assert table.loc[0, "place"] == "Stroud library" and table.loc[0, "distance_km"] == 0.0
    # Even unsorted, a frame with distances gives each record's nearest location.
    shuffled = near.iloc[::-1]
    assert records_table(shuffled, vocabulary, with_distance=True).loc[0, "place"] == (
        "Stroud library"
    )


def _strict_json(text: str) -> dict:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_geojson(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    collection = _strict_json(to_geojson(frame, vocabulary))
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert len(features) == 6  # located rows; the unlocated record has no feature
    first = features[0]
    assert first["geometry"] == {"type": "Point", "coordinates": [-2.238, 51.864]}
    assert first["properties"]["art_forms"] == ["singing"] and first["properties"]["id"] == "choir"
    by_id = {f["properties"]["id"]: f["properties"] for f in features}
    assert by_id["artlift"]["email"] == "hello@artlift.example.org"
    assert "email" not in by_id["circus"] and "website" not in by_id["circus"]
    assert all(isinstance(v, str | list | type(None)) for v in by_id["circus"].values())


def test_empty_frame(vocabulary: Vocabulary) -> None:
    empty = make_frame([])
    assert len(filter_frame(empty, Selection(condition=("copd",), q="x"), vocabulary)) == 0
    assert len(filter_frame(empty, Selection(radius_km=5), vocabulary, origin=STROUD)) == 0
    assert records_table(empty, vocabulary).empty
    assert coverage_matrix(empty, vocabulary).to_numpy().sum() == 0
    assert set(count_options(empty, Selection(), vocabulary, "condition").values()) == {0}
    assert _strict_json(to_geojson(empty, vocabulary))["features"] == []
    assert len(gaps(empty, vocabulary)) == len(vocabulary.terms("conditions"))


def test_nothing_mutates_its_input(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    before = frame.copy(deep=True)
    cells = [tuple(v) for v in frame["conditions"]]
    index = build_index(frame, vocabulary)
    selection = Selection(condition=("copd", "mental-health"), q="choir", radius_km=30)
    filter_frame(frame, selection, vocabulary, origin=STROUD, index=index)
    for name in filter_fields():
        count_options(frame, selection, vocabulary, name, origin=STROUD, index=index)
    coverage_matrix(frame, vocabulary)
    counts_by(frame, vocabulary, "district")
    gaps(frame, vocabulary, "conditions", district="cotswold")
    records_table(frame, vocabulary, with_distance=True)
    to_geojson(frame, vocabulary)
    pd.testing.assert_frame_equal(frame, before)
    assert [tuple(v) for v in frame["conditions"]] == cells


def test_index_is_reusable_read_only_and_checked(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(300, seed=1)
    index = build_index(frame, vocabulary)
    first = filter_frame(frame, Selection(condition=("copd",)), vocabulary, index=index)
    second = filter_frame(frame, Selection(condition=("copd",)), vocabulary, index=index)
    assert np.array_equal(first.index, second.index)
    assert not index.matrices["condition"].flags.writeable
    with pytest.raises(ValueError, match="another frame"):
        filter_frame(frame.iloc[1:], Selection(), vocabulary, index=index)


def test_lists_instead_of_tuples_work(vocabulary: Vocabulary) -> None:
    frame = make_frame(ROWS)
    frame["conditions"] = [list(v) for v in frame["conditions"]]
    frame["age_groups"] = [[] for _ in range(len(frame))]
    assert ids(filter_frame(frame, Selection(condition=("copd",)), vocabulary)) == {"choir"}
    assert ids(filter_frame(frame, Selection(age_group=("children",)), vocabulary)) == set()
    table = records_table(frame, vocabulary).set_index("id")
    assert table.loc["choir", "conditions"] == "COPD and breathing conditions"
    assert table.loc["choir", "age_groups"] == ""


# ---------------------------------------------------------------------------------------------
# The index agrees with an obvious row-by-row implementation


def naive_terms(row: pd.Series, name: str, vocabulary: Vocabulary) -> set[str]:
    """The terms of filter `name` that one row counts for, spelled out the obvious way."""
    if name in ("status", "kind"):
        return {row[name]}
    if fields.by_facet(name).datatype == "bool":  # a yes-only facet: "1" when true
        return {"1"} if row[filter_fields()[name]] is True else set()
    if name != "district":
        return set(row[filter_fields()[name]])
    codes = {t.code: t.id for t in vocabulary.terms("areas_served") if t.code}
    values = set(row["areas_served"]) | {codes.get(row["district_code"])}
    if "countywide" in values:
        values |= {t.id for t in vocabulary.terms("areas_served")}
    return values - {None}


def naive_mask(
    frame: pd.DataFrame,
    selection: Selection,
    vocabulary: Vocabulary,
    origin: tuple[float, float] | None,
    *,
    skip: str | None = None,
) -> pd.Series:
    """The obvious row-by-row filter (exact words only) that the index must agree with: a
    query's words (or vocabulary phrases) in the row's text, places and tag labels, or a
    vocabulary phrase naming one of its terms."""
    concepts = build_concepts(vocabulary)

    def keep(row: pd.Series) -> bool:
        for name in filter_fields():
            terms = set(selection.terms(name))
            if terms and name != skip and not terms & naive_terms(row, name, vocabulary):
                return False
        columns = (
            "name",
            "summary",
            "description",
            "organisation",
            "location_label",
            "place",
            "district_name",
        )
        tags = [
            label
            for spec in fields.facets()
            if spec.many and spec.facet
            for label in vocabulary.labels(spec.name, row[spec.column_name])
        ]
        words = fold_words(" ".join([*(str(row[c] or "") for c in columns), *tags]))
        for group, key in _query_groups(concepts, fold_words(selection.q)):
            named = {
                (facet, vocabulary.terms(facet_fields()[facet])[column].id)
                for facet, column in concepts.terms.get(key, ())
            }
            if any(term in naive_terms(row, facet, vocabulary) for facet, term in named):
                continue
            if key:  # a word the vocabulary knows means that: whole words (and plurals)
                if not all(
                    any(w in (word, word + "s", word + "es") for w in words) for word in group
                ):
                    return False
            elif not all(
                any(w.startswith(word) or (len(word) >= 4 and word in w) for w in words)
                for word in group
            ):
                return False
        if origin and selection.radius_km:
            if pd.isna(row["lat"]):
                return False
            distance = haversine_km(origin[0], origin[1], [row["lat"]], [row["lon"]])[0]
            if distance > selection.radius_km:
                return False
        return True

    return frame.apply(keep, axis=1).astype(bool)


def random_selection(rng: random.Random, vocabulary: Vocabulary, words: list[str]) -> Selection:
    chosen = {
        name: tuple(
            rng.sample(
                ids := [t.id for t in vocabulary.terms(column)], min(len(ids), rng.randint(1, 2))
            )
        )
        for name, column in filter_fields().items()
        if rng.random() < 0.3
    }
    query = " ".join(rng.sample(words, rng.choice([0, 0, 1, 2])))
    radius = rng.choice([None, 5.0, 15.0, 40.0])
    return Selection(**chosen, q=query, near="x" if radius else "", radius_km=radius)


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return synthetic_frame(2000, seed=7)


def test_index_agrees_with_naive_filter(big: pd.DataFrame, vocabulary: Vocabulary) -> None:
    index = build_index(big, vocabulary)
    rng = random.Random(11)
    words = sorted({w for t in big["summary"] for w in fold_words(t)} | {"sing", "art"})
    for _ in range(60):
        selection = random_selection(rng, vocabulary, words)
        origin = (rng.uniform(51.6, 52.0), rng.uniform(-2.5, -1.8)) if rng.random() < 0.6 else None
        ours = filter_frame(big, selection, vocabulary, origin=origin, index=index)
        expected = big[naive_mask(big, selection, vocabulary, origin)]
        assert set(ours.index) == set(expected.index), selection
        if origin is not None:
            assert list(ours["distance_km"].dropna()) == sorted(ours["distance_km"].dropna())


def test_facet_counts_agree_with_naive(big: pd.DataFrame, vocabulary: Vocabulary) -> None:
    index = build_index(big, vocabulary)
    rng = random.Random(5)
    words = ["weekly", "sessions", "friendly", "course"]
    for _ in range(5):
        selection = random_selection(rng, vocabulary, words)
        origin = STROUD if selection.radius_km else None
        for name, column in filter_fields().items():
            counts = count_options(big, selection, vocabulary, name, origin=origin, index=index)
            rows = big[naive_mask(big, selection, vocabulary, origin, skip=name)]
            records: dict[str, set[str]] = {t.id: set() for t in vocabulary.terms(column)}
            for _, row in rows.iterrows():
                for term in naive_terms(row, name, vocabulary) & set(records):
                    records[term].add(row["record_id"])
            assert counts == {term: len(found) for term, found in records.items()}, name
