"""aop_map.views, aop_map.charts and filtering.gaps_by_district: what the pages show, checked
without Streamlit."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from aop_map import charts, views
from aop_map.filtering import Selection, coverage_matrix, filter_frame, gaps, gaps_by_district
from aop_map.loading import Origin
from aop_map.records import Problem, Record, validate_record
from aop_map.views import GLOUCESTERSHIRE_VIEW
from tests.frames import make_frame, real_vocabulary, synthetic_frame

VOCAB = real_vocabulary()
FOREST = "E07000080"  # Forest of Dean


# ---------------------------------------------------------------------------------------------
# The energy map


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["E07000082", "E07000078"], (None, None, 0)),  # all in the county: fit the points
        (["E07000082", None], (*GLOUCESTERSHIRE_VIEW, 1)),  # plus a London case study
        ([None], (None, None, 1)),  # only case studies: fit them
        ([], (None, None, 0)),
    ],
)
def test_map_view_keeps_gloucestershire_in_view(codes: list, expected: tuple) -> None:
    frame = make_frame(
        [
            {
                "record_id": f"r{i}",
                "lat": 51.7 if code else 51.5,
                "lon": -2.2 if code else -0.1,
                "district_code": code,
            }
            for i, code in enumerate(codes)
        ]
    )
    assert views.map_view(frame, VOCAB) == expected


def test_map_view_ignores_rows_without_a_point() -> None:
    frame = make_frame(
        [{"record_id": "a", "lat": 51.7, "lon": -2.2, "district_code": FOREST}, {"record_id": "b"}]
    )
    assert views.map_view(frame, VOCAB) == (None, None, 0)


CLICK_FRAME = make_frame(
    [
        {"record_id": "near", "lat": 51.8, "lon": -2.5},
        {"record_id": "far", "lat": 51.9, "lon": -2.0},
        {"record_id": "nowhere"},
    ]
)


@pytest.mark.parametrize(
    ("clicked", "expected"),
    [
        ({"lat": 51.8, "lng": -2.5}, "near"),
        ({"lat": 51.8002, "lng": -2.5002}, "near"),  # ~27 m away: still that marker
        ({"lat": 51.801, "lng": -2.5}, None),  # ~110 m away: a click beside it
        ({"lat": 51.9, "lng": -2.0}, "far"),
        (None, None),
        ({}, None),
        ({"lng": -2.5}, None),
    ],
)
def test_record_at_finds_the_clicked_marker(clicked: dict | None, expected: str | None) -> None:
    found = views.record_at(clicked, CLICK_FRAME)
    assert (found or {}).get("record_id") == expected


def test_record_at_without_points() -> None:
    assert views.record_at({"lat": 51.8, "lng": -2.5}, CLICK_FRAME.iloc[2:]) is None
    assert views.record_at({"lat": 51.8, "lng": -2.5}, CLICK_FRAME.iloc[:0]) is None


@pytest.mark.parametrize(
    ("page_url", "template"),
    [
        ("http://localhost:8501/", "http://localhost:8501/provider?id={id}"),
        ("http://localhost:8501/map?condition=copd", "http://localhost:8501/provider?id={id}"),
        ("https://example.org/arts/directory", "https://example.org/arts/provider?id={id}"),
        ("https://example.org/arts/", "https://example.org/arts/provider?id={id}"),
        ("https://example.org/arts", "https://example.org/arts/provider?id={id}"),
        ("https://example.org/arts/provider?id=x#top", "https://example.org/arts/provider?id={id}"),
        (None, "/provider?id={id}"),
        ("javascript:alert(1)", "/provider?id={id}"),
    ],
)
def test_provider_links_keep_the_host_and_base_path(page_url: str | None, template: str) -> None:
    assert views.provider_link_template(page_url) == template


def test_serving_area_lists_district_and_countywide_providers_not_nearby() -> None:
    frame = make_frame(
        [
            {
                "record_id": "venue",
                "lat": 51.82,
                "lon": -2.5,
                "district_code": FOREST,
                "areas_served": ("forest-of-dean",),
                "conditions": ("copd",),
            },
            {"record_id": "county", "areas_served": ("countywide",), "conditions": ("copd",)},
            {"record_id": "forest", "areas_served": ("forest-of-dean",), "conditions": ("copd",)},
            {"record_id": "stroud", "areas_served": ("stroud",), "conditions": ("copd",)},
            {"record_id": "other", "areas_served": ("countywide",), "conditions": ("dementia",)},
        ]
    )
    nearby = frame[frame["record_id"] == "venue"]
    served, area = views.serving_area(
        frame, VOCAB, Selection(condition=("copd",), near="x", radius_km=5.0), FOREST, nearby
    )
    assert area == "Forest of Dean"
    assert set(served["record_id"]) == {"county", "forest"}  # not nearby, not other filters
    assert views.serving_area(frame, VOCAB, Selection(), None, nearby) == (None, None)


# ---------------------------------------------------------------------------------------------
# Provider pages


@pytest.mark.parametrize(
    ("website", "email", "phone", "expected"),
    [
        (
            "https://e.org/a",
            "a@e.org",
            "01 2",
            "[https\\://e\\.org/a](https://e.org/a) · email [a@e\\.org](mailto:a@e.org) · "
            "phone 01 2",  # too short to dial: text
        ),
        (  # issue 11 item 12: well-formed email and phone numbers are mailto: and tel: links
            None,
            "a.b@e.org",
            "01452 123 456",
            "email [a\\.b@e\\.org](mailto:a.b@e.org) · phone [01452 123 456](tel:01452123456)",
        ),
        (
            None,
            "a@e.org)(javascript:x",
            "+44 (0)1452",
            "email a@e\\.org\\)\\(javascript\\:x · phone [\\+44 \\(0\\)1452](tel:+4401452)",
        ),
        ("javascript:alert(1)", None, " ", "javascript\\:alert\\(1\\)"),
        (None, None, None, None),
        (float("nan"), "", None, None),
    ],
)
def test_contact_markdown(website, email, phone, expected) -> None:
    assert views.contact_markdown(website, email, phone) == expected


def test_location_lines_say_where_and_how_precisely() -> None:
    rows = make_frame(
        [
            {
                "record_id": "r",
                "location_label": "Hall",
                "place": "Newnham",
                "postcode": "GL14 2AA",
                "district_code": FOREST,
                "location_precision": "postcode",
            },
            {
                "record_id": "r",
                "location_index": 1,
                "place": "Cinderford*",
                "district_name": "Cinderford*",
                "location_precision": "weird",
            },
            {"record_id": "r", "location_index": -1},
        ]
    )
    assert views.location_lines(rows) == [
        "Hall, Newnham, GL14 2AA \\(Forest of Dean\\): placed at its postcode.",
        "Cinderford\\*: weird.",
        "No place given: listed by the areas it serves.",
    ]


def test_paragraphs_split_at_blank_lines_and_escape() -> None:
    assert views.paragraphs("One *a*\n\n  \nTwo\nlines") == ["One \\*a\\*", "Two lines"]
    assert views.paragraphs(None) == []


# ---------------------------------------------------------------------------------------------
# Coverage


def test_gaps_by_district_is_gaps_for_each_district() -> None:
    frame = synthetic_frame(400, seed=7)
    sparse = frame[frame["record_id"].str.endswith(("1", "2"))]
    for data in (frame, sparse, frame.iloc[:0]):
        for countywide in (True, False):
            plain = {
                t.id: gaps(data, VOCAB, "conditions", t.id, countywide=countywide)
                for t in VOCAB.terms("areas_served")
                if t.code
            }
            assert gaps_by_district(data, VOCAB, countywide=countywide) == plain


def test_gaps_table_names_what_is_missing() -> None:
    table = views.gaps_table({"cotswold": ["copd", "dementia"], "stroud": []}, VOCAB)
    assert table.to_dict("records") == [
        {
            "District": "Cotswold",
            "Conditions with no provider": "COPD and breathing conditions, Dementia",
            "Missing": 2,
        },
        {
            "District": "Stroud",
            "Conditions with no provider": "none: every condition covered",
            "Missing": 0,
        },
    ]


def test_district_labels_are_the_county_districts() -> None:
    labels = views.district_labels(VOCAB)
    assert labels["cotswold"] == "Cotswold" and "countywide" not in labels
    assert list(labels) == [t.id for t in VOCAB.terms("areas_served") if t.code]


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [((), 0), (("stroud",), 2), (("countywide", "stroud", "cotswold"), 2), (("nowhere",), 0)],
)
def test_gap_district_index_follows_the_sidebar(chosen: tuple, expected: int) -> None:
    assert views.gap_district_index(chosen, ["cotswold", "forest-of-dean", "stroud"]) == expected


def test_gap_notes_name_the_missing_conditions_escaped() -> None:
    missing = {"cotswold": ["copd", "dementia"], "stroud": []}
    assert views.gap_note(missing, "cotswold", VOCAB) == (
        True,
        "**No provider in Cotswold for:** COPD and breathing conditions, Dementia",
    )
    assert views.gap_note(missing, "stroud", VOCAB) == (
        False,
        "Every health condition has at least one provider in Stroud.",
    )
    assert views.county_gaps_note([], VOCAB) is None
    assert views.county_gaps_note(["dementia", "*odd*"], VOCAB) == (
        "No provider anywhere in the data for: Dementia, \\*odd\\*"
    )


def test_cell_link_narrows_the_selection_to_the_cell() -> None:
    frame = synthetic_frame(200, seed=5)
    matrix = coverage_matrix(frame, VOCAB, "conditions", "art_forms")
    selection = Selection(status=("established",), condition=("dementia",))
    label, params = views.cell_link(matrix, selection, "copd", "singing")
    assert label == f"Open the map ({int(matrix.loc['copd', 'singing'])})"
    assert params["condition"] in ("copd", ["copd"]) and params["art_form"] in (
        "singing",
        ["singing"],
    )
    assert params["status"] in ("established", ["established"])


def test_labelled_matrix_names_both_axes() -> None:
    matrix = pd.DataFrame([[1, 0]], index=["copd"], columns=["singing", "dance"])
    table = views.labelled_matrix(
        matrix, {"copd": "COPD"}, {"singing": "Singing", "dance": "Dance"}
    )
    assert table.index.name == "Condition" and list(table.index) == ["COPD"]
    assert list(table.columns) == ["Singing", "Dance"]


def test_status_line_counts_each_status_and_ended_only_with_past() -> None:
    frame = synthetic_frame(200, seed=9)
    line = views.status_line(frame, VOCAB, include_past=False)
    assert line.startswith("By status: **")
    labels = [t.label for t in VOCAB.terms("status")]
    ended = VOCAB.label("status", "ended")
    assert all(f"**{label}**" in line for label in labels if label != ended)
    assert f"**{ended}**" not in line
    assert f"**{ended}**" in views.status_line(frame, VOCAB, include_past=True)


def test_empty_districts_note() -> None:
    spread = pd.DataFrame({"District": ["Stroud", "Tewkesbury", "Cotswold"], "Records": [2, 0, 0]})
    assert views.empty_districts_note(spread) == "No provision at all in: Tewkesbury, Cotswold"
    assert views.empty_districts_note(spread.iloc[:1]) is None


def test_district_status_table_matches_filtering_by_status() -> None:
    frame = synthetic_frame(300, seed=3)
    table = views.district_status_table(frame, VOCAB).set_index("District")
    for status in VOCAB.terms("status"):
        only = filter_frame(frame, Selection(status=(status.id,)), VOCAB)
        for district in (t for t in VOCAB.terms("areas_served") if t.code):
            expected = only[
                only["record_id"].isin(
                    filter_frame(only, Selection(district=(district.id,)), VOCAB)["record_id"]
                )
            ]["record_id"].nunique()
            assert table.at[district.label, status.label] == expected


def test_heatmap_says_what_it_shows() -> None:
    frame = make_frame([{"record_id": "a", "conditions": ("copd",), "art_forms": ("singing",)}])
    matrix = coverage_matrix(frame, VOCAB, "conditions", "art_forms")
    conditions = {t.id: t.label for t in VOCAB.terms("conditions")}
    arts = {t.id: t.label for t in VOCAB.terms("art_forms")}
    spec = charts.coverage_heatmap(matrix, conditions, arts).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert len(values) == len(conditions) * len(arts)
    cell = next(v for v in values if v["records"])
    assert cell == {
        "condition": "copd",
        "art_form": "singing",
        "records": 1,
        "Condition": "COPD and breathing conditions",
        "Art form": "Singing",
    }
    assert spec["height"] == charts.ROW_HEIGHT_PX * len(conditions) + charts.AXIS_ROOM_PX
    select = spec["params"][0]
    assert select["name"] == charts.CELL_SELECTION
    assert select["select"] == {"type": "point", "fields": ["condition", "art_form"]}
    assert spec["layer"][0]["encoding"]["y"]["sort"] == list(conditions.values())


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (None, None),
        (type("E", (), {"selection": {"cell": []}})(), None),
        (type("E", (), {"selection": {}})(), None),
        (
            type("E", (), {"selection": {"cell": [{"condition": "copd", "art_form": "dance"}]}})(),
            ("copd", "dance"),
        ),
    ],
)
def test_clicked_cell(event: object, expected: tuple | None) -> None:
    assert charts.clicked_cell(event) == expected


def test_shade_cells_darkens_with_the_count() -> None:
    styled = charts.shade_cells(pd.DataFrame({"a": [0, 1], "b": [2, 4]})).to_html()
    assert "color: #999999" in styled and "rgba(0, 114, 178, 0.68)" in styled


# ---------------------------------------------------------------------------------------------
# About and data quality


def _record(record_id: str, **fields: object) -> Record:
    data = {
        "id": record_id,
        "name": record_id.title(),
        "kind": "organisation",
        "status": "established",
        **fields,
    }
    record, problems = validate_record(data, VOCAB, source="test")
    assert record is not None, problems
    return record


def test_unlocated_table_says_why_and_where() -> None:
    records = [
        _record("lost", locations=[{"postcode": "ZZ99 9ZZ"}], areas_served=["gloucester"]),
        _record("roaming", areas_served=["stroud", "cotswold"]),
        _record("unknown-reason", locations=[{"place": "Atlantis"}]),
    ]
    problems = [
        Problem("a.yaml", "postcode ZZ99 9ZZ not found", 3, "locations[0]", "lost"),
        Problem("a.yaml", "a warning elsewhere", 4, "summary", "roaming"),
    ]
    origins = {"lost": Origin("a.yaml", 2), "roaming": Origin("b.yaml", 7)}
    table = views.unlocated_table(records, problems, origins, VOCAB).set_index("Id")
    assert table.at["lost", "Why"] == "postcode ZZ99 9ZZ not found"
    assert table.at["roaming", "Why"] == "no location given: listed by the areas it serves"
    assert table.at["unknown-reason", "Why"] == "its location could not be found"
    assert (table.at["roaming", "File"], table.at["roaming", "Line"]) == ("b.yaml", 7)
    assert table.at["unknown-reason", "File"] == ""
    assert table.at["roaming", "Areas served"] == "Stroud, Cotswold"


def test_problems_and_kind_tables() -> None:
    problems = views.problems_table([Problem("f.yaml", "bad", 2, "status", "x")])
    assert problems.to_dict("records") == [
        {
            "File": "f.yaml",
            "Line": 2,
            "Field": "status",
            "Record": "x",
            "Severity": "error",
            "Problem": "bad",
        }
    ]
    assert list(views.problems_table([]).columns) == views.PROBLEM_COLUMNS
    kinds = views.kind_status_table([_record("a"), _record("b", status="emerging")], VOCAB)
    assert kinds.at["Total", "Total"] == 2 and kinds.at["Organisation", "Emerging"] == 1
    assert views.kind_status_table([], VOCAB).empty


def test_precision_counts_are_labelled() -> None:
    frame = make_frame(
        [
            {"record_id": "a", "location_precision": "place"},
            {"record_id": "b", "location_precision": "place"},
            {"record_id": "c", "location_precision": "mystery"},
        ]
    )
    assert views.precision_counts(frame).to_dict() == {"Town or village": 2, "mystery": 1}


def test_last_verified_is_unchanged_by_views() -> None:
    # The views never change the frames they are given (geopandas explore's rule).
    frame = make_frame(
        [
            {
                "record_id": "a",
                "last_verified": dt.date(2025, 1, 1),
                "lat": 51.8,
                "lon": -2.5,
                "district_code": FOREST,
            }
        ]
    )
    before = frame.copy()
    views.map_view(frame, VOCAB)
    views.record_at({"lat": 51.8, "lng": -2.5}, frame)
    views.location_lines(frame)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("text", "title", "body"),
    [
        (
            "# Arts on prescription\nIntro.\n## How\nText",
            "Arts on prescription",
            "Intro.\n### How\nText",
        ),
        (
            "No heading\n#### Deep\n###### Deepest",
            "fallback",
            "No heading\n##### Deep\n###### Deepest",
        ),
        ("#Not a heading", "fallback", "#Not a heading"),
        ("", "fallback", ""),
    ],
)
def test_factsheet_title_and_body_one_level_down(text: str, title: str, body: str) -> None:
    assert views.factsheet(text, "fallback") == (title, body)


def test_located_lines_give_directions_to_placed_locations_only() -> None:
    rows = make_frame(
        [
            {
                "record_id": "a",
                "location_index": 0,
                "place": "Stroud",
                "location_precision": "place",
                "lat": 51.74564,
                "lon": -2.21512,
            },
            {"record_id": "a", "location_index": -1, "location_precision": "none"},
        ]
    )
    (first, url), (second, none) = views.located_lines(rows)
    assert url == "https://www.openstreetmap.org/directions?to=51.74564%2C-2.21512"
    assert none is None and "areas it serves" in second and "Stroud" in first


def test_related_records_match_partners_and_organisation_by_name_or_id(vocabulary) -> None:
    from aop_map.records import validate_record

    def record(**data):
        made, _ = validate_record(
            {"kind": "organisation", "status": "established", **data}, vocabulary, source="test"
        )
        return made

    a = record(id="a", name="Alpha", organisation="gamma", partners=["BETA ", "Nobody", "Alpha"])
    others = [a, record(id="b", name="Beta"), record(id="gamma", name="Gamma Trust")]
    assert views.related_records(a, others) == [("Gamma Trust", "gamma"), ("Beta", "b")]


def test_submission_received_says_how_long_a_listing_has_waited() -> None:
    from aop_map.store import Submission
    from aop_map.text import md_escape

    now = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)

    def received(days: float, **kw) -> str:
        created = now - dt.timedelta(days=days)
        return views.submission_received(
            Submission(
                "AOP-2026-ABCDEF", kw.pop("status", "pending"), {}, [], created, created, **kw
            ),
            now,
        )

    assert received(0.1).startswith("Received 30 Nov 2026 09:36 UTC (today)")
    assert "(1 day ago)" in received(1) and "waiting" not in received(14)
    assert "(15 days ago) · **waiting more than 14 days**" in received(15)
    assert "ago" not in received(30, status="approved")  # decided: no waiting
    update = received(2, update_of="glos-*choir*")
    assert update.endswith(f"update of **{md_escape('glos-*choir*')}**") and "\\*choir" in update
    erased = received(200, status="rejected", personal_erased_at=now - dt.timedelta(days=10))
    assert "personal details deleted on 20 Nov 2026" in erased
