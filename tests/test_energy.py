"""Activity per district: venue there, serving it by name, countywide; emerging weighs half."""

from __future__ import annotations

import pandas as pd
import pytest

from aop_map.energy import (
    EMERGING_WEIGHT,
    activity_text,
    class_breaks,
    class_of,
    district_activity,
    district_terms,
)
from aop_map.vocabulary import Vocabulary
from tests.frames import make_frame, synthetic_frame

STROUD, GLOUCESTER, COTSWOLD = "E07000082", "E07000081", "E07000079"


def counts(frame, vocabulary: Vocabulary) -> dict[str, tuple[int, int, int, float]]:
    """District name -> (established, emerging, countywide, weighted)."""
    table = district_activity(frame, vocabulary)
    return {
        row.name: (row.established, row.emerging, row.countywide, row.weighted)
        for row in table.itertuples()
    }


def test_every_district_listed_in_vocabulary_order_zeros_included(vocabulary) -> None:
    table = district_activity(make_frame([]), vocabulary)
    assert list(table["code"]) == list(district_terms(vocabulary).values())
    assert list(table["name"]) == [
        "Cheltenham",
        "Cotswold",
        "Forest of Dean",
        "Gloucester",
        "Stroud",
        "Tewkesbury",
    ]
    assert (table[["established", "emerging", "countywide", "weighted"]] == 0).all().all()


def test_a_venue_in_the_district_counts(vocabulary) -> None:
    frame = make_frame([{"record_id": "a", "lat": 51.74, "lon": -2.22, "district_code": STROUD}])
    got = counts(frame, vocabulary)
    assert got["Stroud"] == (1, 0, 0, 1.0)
    assert got["Gloucester"] == (0, 0, 0, 0.0)


def test_serving_the_district_counts_without_a_venue(vocabulary) -> None:
    frame = make_frame([{"record_id": "a", "areas_served": ("stroud", "gloucester")}])
    got = counts(frame, vocabulary)
    assert got["Stroud"] == got["Gloucester"] == (1, 0, 0, 1.0)
    assert got["Cotswold"] == (0, 0, 0, 0.0)


def test_countywide_serves_every_district(vocabulary) -> None:
    frame = make_frame([{"record_id": "a", "areas_served": ("countywide",)}])
    assert set(counts(frame, vocabulary).values()) == {(1, 0, 1, 1.0)}


def test_national_and_elsewhere_count_nowhere(vocabulary) -> None:
    frame = make_frame(
        [
            {"record_id": "a", "areas_served": ("national",)},
            {
                "record_id": "b",
                "areas_served": ("elsewhere",),
                "lat": 51.5,
                "lon": -0.1,
                "district_code": "E09000033",
            },
        ]
    )
    assert set(counts(frame, vocabulary).values()) == {(0, 0, 0, 0.0)}


def test_emerging_weighs_half_and_is_counted_apart(vocabulary) -> None:
    frame = make_frame(
        [
            {"record_id": "e1", "status": "emerging", "areas_served": ("stroud",)},
            {"record_id": "e2", "status": "emerging", "areas_served": ("stroud",)},
            {"record_id": "s1", "areas_served": ("stroud",)},
        ]
    )
    assert counts(frame, vocabulary)["Stroud"] == (1, 2, 0, 1 + 2 * EMERGING_WEIGHT)
    weighted = district_activity(frame, vocabulary, emerging_weight=0.25)
    assert weighted.set_index("name").loc["Stroud", "weighted"] == 1.5


def test_a_record_counts_once_per_district(vocabulary) -> None:
    """Three venues in Stroud, one in Gloucester, serving Stroud and the county: once each."""
    rows = [
        {
            "record_id": "a",
            "location_index": i,
            "lat": 51.74,
            "lon": -2.22,
            "district_code": STROUD,
            "areas_served": ("stroud", "countywide"),
        }
        for i in range(3)
    ]
    rows.append({**rows[0], "location_index": 3, "district_code": GLOUCESTER})
    got = counts(make_frame(rows), vocabulary)
    assert got["Stroud"] == got["Gloucester"] == got["Cotswold"] == (1, 0, 1, 1.0)


def test_distinct_records_mixed(vocabulary) -> None:
    frame = make_frame(
        [
            {"record_id": "venue", "lat": 51.74, "lon": -2.22, "district_code": STROUD},
            {"record_id": "serves", "status": "emerging", "areas_served": ("stroud",)},
            {"record_id": "county", "areas_served": ("countywide",)},
            {"record_id": "cots", "lat": 51.7, "lon": -1.9, "district_code": COTSWOLD},
        ]
    )
    got = counts(frame, vocabulary)
    assert got["Stroud"] == (2, 1, 1, 2.5)
    assert got["Cotswold"] == (2, 0, 1, 2.0)
    assert got["Gloucester"] == (1, 0, 1, 1.0)
    assert activity_text("Stroud", *got["Stroud"][:3]) == (
        "Stroud: 2 established, 1 emerging, incl. 1 countywide"
    )
    assert activity_text("Gloucester", 0, 0, 0) == "Gloucester: 0 established, 0 emerging"


def test_matches_the_plain_twin_on_random_frames(vocabulary) -> None:
    """The vectorised count equals a loop over records written straight from the rules."""
    frame = synthetic_frame(400, seed=3)
    codes = district_terms(vocabulary)
    expected = {code: [0, 0, 0] for code in codes.values()}
    for _, rows in frame.groupby("record_id"):
        first = rows.iloc[0]
        areas = set(first["areas_served"])
        venues = set(rows["district_code"].dropna())
        for term, code in codes.items():
            if code in venues or term in areas or "countywide" in areas:
                expected[code][first["status"] == "emerging"] += 1
                expected[code][2] += "countywide" in areas
    table = district_activity(frame, vocabulary).set_index("code")
    for code, (established, emerging, countywide) in expected.items():
        assert tuple(table.loc[code, ["established", "emerging", "countywide"]]) == (
            established,
            emerging,
            countywide,
        )


def test_frame_is_not_changed(vocabulary) -> None:
    frame = synthetic_frame(30)
    before = frame.copy()
    district_activity(frame, vocabulary)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("values", "breaks"),
    [
        ([12, 12.5, 13, 14, 12], [12, 12.5, 13, 13.5, 14]),  # a countywide floor: own range
        ([0, 1, 7.5], [0, 2, 4, 6, 8]),
        ([40, 1], [0, 10, 20, 30, 40]),
        ([3, 3], [3, 3]),  # one value: one class
        ([0.5], [0.5, 0.5]),
        ([0, 0], []),  # nothing anywhere
        ([], []),
    ],
)
def test_class_breaks(values: list[float], breaks: list[float]) -> None:
    assert class_breaks(values) == breaks


def test_class_breaks_are_round_and_cover_everything() -> None:
    for values in ([1, 2, 3], [0.5, 9], [7, 123, 55], [12, 12.5, 13, 13, 14, 12]):
        breaks = class_breaks(values)
        assert len(breaks) - 1 <= 6 and breaks[0] <= min(v for v in values if v > 0)
        assert all(1 <= class_of(v, breaks) <= len(breaks) - 1 for v in values if v > 0)
        assert class_of(0, breaks) == 0
    breaks = class_breaks([12, 14])
    assert [class_of(v, breaks) for v in (12, 12.5, 12.6, 14)] == [1, 1, 2, 4]
