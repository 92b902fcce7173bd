"""When, cost, who and access (issue 13 §2): schedules, cost, eligibility, venue accessibility
and languages through the registry -- the record, filters and counts, the provider facts, the
exports (CSV, GeoJSON, Open Referral UK) and the register form. Absent is "not stated"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aop_map import fields, oruk, registration
from aop_map.filtering import (
    Selection,
    build_index,
    count_options,
    filter_frame,
    records_table,
    selection_from_params,
    selection_to_params,
    to_geojson,
)
from aop_map.geocoding import geocode_records
from aop_map.loading import load_records
from aop_map.records import Record, Schedule, validate_record
from aop_map.vocabulary import Vocabulary
from tests.conftest import MAPDATA
from tests.test_oruk import FULL, MINIMAL, assert_valid, by_record

EVERYTHING = {  # every field of §2 set, as a provider would give them
    "id": "singing-for-breathing",
    "name": "Singing for Breathing",
    "kind": "programme",
    "status": "established",
    "schedules": [
        {
            "days": ["Tuesday"],
            "start": "10:30",
            "end": "12:00",
            "frequency": "weekly",
            "course_length": "10 weekly sessions",
        },
        "By arrangement in the school holidays",
    ],
    "cost": {"free": True, "description": "Donations welcome"},
    "eligibility": {"minimum_age": 18, "referral": "self referral welcome"},
    "languages": ["English", "Polish"],
    "locations": [
        {
            "label": "Stroud Library",
            "postcode": "GL5 2HT",
            "place": "Stroud",
            "accessibility": ["wheelchair access", "Hearing loop", "bus"],
        },
        {"place": "Cinderford"},
    ],
}
PAID = {
    "id": "paid-class",
    "name": "Paid art class",
    "kind": "programme",
    "status": "established",
    "cost": {"amount": 5, "description": "a session"},
    "eligibility": {"referral": "needed"},
    "locations": [{"place": "Stroud"}],
}


def validated(data: dict[str, Any], vocabulary: Vocabulary) -> Record:
    record, problems = validate_record(data, vocabulary, source="test")
    assert record is not None and not problems, problems
    return record


@pytest.fixture(scope="module")
def records(vocabulary: Vocabulary) -> list[Record]:
    bare = {
        "id": "bare",
        "name": "Bare",
        "kind": "programme",
        "status": "established",
        "locations": [{"place": "Stroud"}],
    }
    return [validated(d, vocabulary) for d in (EVERYTHING, PAID, bare)]


@pytest.fixture(scope="module")
def frame(records: list[Record], vocabulary: Vocabulary) -> Any:
    return geocode_records(records, vocabulary)[0]


# ---------------------------------------------------------------------------------------------
# The record


def test_structured_fields_are_validated_and_normalised(records: list[Record]) -> None:
    record = records[0]
    weekly, arranged = record.schedules
    assert weekly.days == ["tuesday"] and weekly.start == "10:30"
    assert weekly.describe() == "Weekly, Tuesdays 10:30–12:00; 10 weekly sessions"
    assert arranged.by_arrangement and arranged.description.startswith("By arrangement")
    assert record.cost.free is True and record.cost.describe() == "Free; Donations welcome"
    assert record.eligibility.referral == "self-referral-welcome"
    assert record.eligibility.self_referral is True
    assert record.eligibility.describe() == "Ages 18 and over; self-referral welcome"
    assert record.locations[0].accessibility == ["step-free", "hearing-loop", "public-transport"]
    assert record.locations[0].step_free is True and record.locations[1].step_free is None
    assert record.languages == ["English", "Polish"]
    assert records[2].cost is None and records[2].schedules == []  # absent: not stated


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"schedules": [{"start": "25:00"}]}, "schedules.0.start", "HH:MM"),
        ({"schedules": [{"start": "10:30", "end": "09:00"}]}, "schedules.0", "ends after"),
        ({"schedules": [{"days": ["Funday"]}]}, "schedules.0.days", "unknown day"),
        ({"schedules": [{"frequency": "hourly"}]}, "schedules.0.frequency", "frequency"),
        ({"schedules": [{}]}, "schedules.0", "needs days"),
        ({"eligibility": {"minimum_age": 65, "maximum_age": 18}}, "eligibility", "below"),
        ({"eligibility": {"referral": "maybe"}}, "eligibility.referral", "unknown referral"),
        ({"cost": {"amount": -1}}, "cost.amount", "greater than or equal"),
        (
            {"locations": [{"place": "Stroud", "accessibility": ["helipad"]}]},
            "locations.0.accessibility",
            "helipad",
        ),
    ],
)
def test_bad_values_are_reported_at_their_field(
    vocabulary: Vocabulary, change: dict[str, Any], field: str, says: str
) -> None:
    record, problems = validate_record({**PAID, **change}, vocabulary, source="test")
    assert record is None
    assert any(p.field == field and says in p.message for p in problems), problems


def test_schedule_text_and_oruk_shape() -> None:
    fortnightly = Schedule(days=["mon", "Thursdays"], start="14:00", frequency="Fortnightly")
    assert fortnightly.to_oruk() == {
        "description": "Fortnightly, Mondays, Thursdays 14:00",
        "freq": "WEEKLY",
        "interval": 2,
        "byday": "MO,TH",
        "opens_at": "14:00",
    }


def test_bundled_records_never_invent_them(vocabulary: Vocabulary) -> None:
    result = load_records(MAPDATA / "providers", vocabulary=vocabulary, use_cache=False)
    assert result.records
    for record in result.records:
        assert not record.schedules and record.cost is None and record.eligibility is None
        assert not getattr(record, "languages", None)
        assert not any(location.accessibility for location in record.locations)


# ---------------------------------------------------------------------------------------------
# Filters and counts


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"free": "1"}, {"singing-for-breathing"}),
        ({"self_referral": "yes"}, {"singing-for-breathing"}),
        ({"step_free": "1"}, {"singing-for-breathing"}),
        ({"free": "1", "q": "paid"}, set()),
        ({}, {"singing-for-breathing", "paid-class", "bare"}),
    ],
)
def test_yes_only_filters(
    frame: Any, vocabulary: Vocabulary, params: dict[str, str], expected: set[str]
) -> None:
    selection, notes = selection_from_params(params, vocabulary)
    assert notes == []
    index = build_index(frame, vocabulary)
    found = filter_frame(frame, selection, vocabulary, index=index)
    assert set(found["record_id"]) == expected
    for name in ("free", "self_referral", "step_free"):
        if name in params:
            assert selection_to_params(selection)[name] == ["1"]


def test_yes_only_filter_rows_and_counts(frame: Any, vocabulary: Vocabulary) -> None:
    index = build_index(frame, vocabulary)
    # Step-free is a venue's: only the library row, not the same record's Cinderford row.
    rows = filter_frame(frame, Selection(step_free=("1",)), vocabulary, index=index)
    assert list(rows["location_label"]) == ["Stroud Library"]
    assert count_options(frame, Selection(), vocabulary, "free", index=index) == {"1": 1}
    assert count_options(frame, Selection(), vocabulary, "step_free", index=index) == {"1": 1}
    _, notes = selection_from_params({"free": "maybe"}, vocabulary)
    assert notes and "free" in notes[0]


# ---------------------------------------------------------------------------------------------
# Pages and exports


def test_facts_describe_or_leave_empty(records: list[Record], vocabulary: Vocabulary) -> None:
    facts = dict(fields.facts(records[0], vocabulary))
    assert facts["When"] == [
        "Weekly, Tuesdays 10:30–12:00; 10 weekly sessions",
        "By arrangement in the school holidays",
    ]
    assert facts["Cost"] == ["Free; Donations welcome"]
    assert facts["Venue accessibility"] == ["Step-free access", "Hearing loop", "Public transport"]
    assert facts["Languages"] == ["English", "Polish"]
    bare = dict(fields.facts(records[2], vocabulary))  # the page says "not stated"
    assert bare["When"] == bare["Cost"] == bare["Who can join"] == bare["Languages"] == []


def test_csv_columns_say_not_stated(frame: Any, vocabulary: Vocabulary) -> None:
    table = records_table(frame, vocabulary).set_index("id")
    assert table.loc["singing-for-breathing", "cost"] == "Free; Donations welcome"
    assert table.loc["paid-class", "cost"] == "£5; a session"
    assert table.loc["paid-class", "eligibility"] == "Referral needed"
    assert table.loc["singing-for-breathing", "accessibility"] == (
        "Step-free access, Hearing loop, Public transport"
    )
    assert table.loc["singing-for-breathing", "schedules"].startswith("Weekly, Tuesdays")
    for column in ("schedules", "cost", "eligibility", "accessibility", "languages"):
        assert table.loc["bare", column] == fields.NOT_STATED


def test_geojson_carries_them_in_words(frame: Any, vocabulary: Vocabulary) -> None:
    features = json.loads(to_geojson(frame, vocabulary))["features"]
    library = next(
        f["properties"] for f in features if f["properties"]["place"].startswith("Stroud Library")
    )
    assert library["cost"] == "Free; Donations welcome"
    assert library["accessibility"] == ["step-free", "hearing-loop", "public-transport"]
    assert library["languages"] == ["English", "Polish"]


def test_oruk_with_every_optional_field_validates(vocabulary: Vocabulary) -> None:
    full = validated(
        {
            **FULL,
            **{
                k: v
                for k, v in EVERYTHING.items()
                if k not in ("id", "name", "kind", "status", "locations")
            },
            "locations": [
                {**FULL["locations"][0], "accessibility": ["step-free", "parking"]},
                FULL["locations"][1],
            ],
        },
        vocabulary,
    )
    records = [full, validated(MINIMAL, vocabulary)]
    feed = oruk.export_feed(records, vocabulary, geocode_records(records, vocabulary)[0])
    service = by_record(feed, FULL["id"])
    assert_valid(service, "compiled/service.json")
    weekly, arranged = service["schedules"]
    assert (weekly["freq"], weekly["byday"], weekly["opens_at"], weekly["closes_at"]) == (
        "WEEKLY",
        "TU",
        "10:30",
        "12:00",
    )
    assert weekly["notes"] == "10 weekly sessions" and weekly["service_id"] == service["id"]
    assert arranged["description"] == "By arrangement in the school holidays"
    [cost] = service["cost_options"]
    assert cost["amount"] == 0 and cost["amount_description"] == "Free; Donations welcome"
    assert service["eligibility_description"] == "Ages 18 and over; self-referral welcome"
    assert service["minimum_age"] == 18  # the record's own age, over its age groups'
    assert [(lang["name"], lang.get("code")) for lang in service["languages"]] == [
        ("English", "en"),
        ("Polish", "pl"),
    ]
    first, second = service["service_at_locations"]
    assert [a["description"] for a in first["location"]["accessibility"]] == [
        "Step-free access",
        "Parking",
    ]
    assert "accessibility" not in second["location"]  # not stated there
    bare = by_record(feed, MINIMAL["id"])
    assert bare["languages"] == bare["schedules"] == bare["cost_options"] == []
    assert "eligibility_description" not in bare


def test_oruk_optional_fields_read_the_registry() -> None:
    targets = {spec.target for spec in oruk.OPTIONAL_FIELDS}
    for name in ("schedules", "cost", "eligibility", "minimum_age", "languages"):
        assert fields.by_name(name).oruk in targets, name


# ---------------------------------------------------------------------------------------------
# The register form


def test_register_form_values_reach_the_record(vocabulary: Vocabulary) -> None:
    values = {
        "name": "Tea and Tunes",
        "kind": "programme",
        "status": "established",
        "schedules": "Weekly, Tuesdays 10:30-12:00\nBy arrangement",
        "free": "Yes",
        "cost_description": "",
        "minimum_age": "16",
        "maximum_age": "",
        "referral_need": "either",
        "languages": "English, Welsh",
        "locations": [{"place": "Stroud", "accessibility": ["step-free"]}],
    }
    data = registration.form_to_data(values)
    assert data["cost"] == {"free": True}
    assert data["eligibility"] == {"minimum_age": "16", "referral": "either"}
    assert data["locations"] == [{"place": "Stroud", "accessibility": ["step-free"]}]
    record = validated({**data, "id": "tea-and-tunes"}, vocabulary)
    assert record.eligibility.self_referral and record.cost.free
    assert [s.description for s in record.schedules] == [
        "Weekly, Tuesdays 10:30-12:00",
        "By arrangement",
    ]
    again = registration.form_values(record.model_dump(mode="json", exclude_none=True))
    assert again["schedules"] == "Weekly, Tuesdays 10:30-12:00\nBy arrangement"
    assert again["free"] == "Yes" and again["referral_need"] == "either"
    assert again["locations"][0]["accessibility"] == ["step-free"]


def test_nothing_given_is_nothing_stated(vocabulary: Vocabulary) -> None:
    data = registration.form_to_data(
        {
            "name": "X",
            "kind": "programme",
            "status": "established",
            "free": "Not stated",
            "referral_need": None,
            "minimum_age": "",
        }
    )
    assert "cost" not in data and "eligibility" not in data


def test_the_form_draws_them(vocabulary: Vocabulary) -> None:
    names = {spec.name for spec in fields.form_fields()}
    assert {
        "schedules",
        "free",
        "cost_description",
        "minimum_age",
        "maximum_age",
        "referral_need",
        "accessibility",
        "languages",
    } <= names
    drawn = [part for _, _, parts in registration.FORM_SECTIONS for part, _ in parts]
    assert drawn.count("cost") == 1  # the Register page draws each section's parts


def test_a_spreadsheet_row_fills_them(tmp_path: Path, vocabulary: Vocabulary) -> None:
    (tmp_path / "records.csv").write_text(
        "id,name,kind,status,place,cost,free,schedules,languages,accessibility,minimum age,"
        "referral needed\n"
        "tea,Tea Tunes,programme,established,Stroud,£3 a session,yes,"
        "Weekly Tuesdays 10:30;By arrangement,English;Polish,step free;parking,16,"
        "self referral\n",
        encoding="utf-8",
    )
    result = load_records(tmp_path, vocabulary=vocabulary, use_cache=False)
    assert result.problems == []
    [record] = result.records
    assert record.cost.free is True and record.cost.description == "£3 a session"
    assert [s.by_arrangement for s in record.schedules] == [False, True]
    assert record.languages == ["English", "Polish"]
    assert record.locations[0].accessibility == ["step-free", "parking"]
    assert (record.eligibility.minimum_age, record.eligibility.referral) == (
        16,
        "self-referral-welcome",
    )
