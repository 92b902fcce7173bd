"""aop_map.oruk: records as Open Referral UK services, checked against the ORUK JSON Schemas.

The schemas are the reference copy in ../shared/oruk/schema (Draft 2020-12), read by the tests
only. `uuid` is checked by jsonschema's format checker; `uri` and `date-time`, which it checks
only with optional packages, by the small checkers below. The helpers here are shared with
tests/test_api.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from aop_map import oruk
from aop_map.cli import main
from aop_map.geocoding import geocode_query, geocode_records
from aop_map.records import Record, validate_record
from aop_map.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parents[1]
# The reference schemas: ../shared beside the checkout, else this workplace's shared folder (a
# clean clone elsewhere, as CI makes); the app itself never reads them.
SCHEMA_CANDIDATES = (
    ROOT.parent / "shared" / "oruk" / "schema",
    Path("/work/shared/oruk/schema"),
)
SCHEMA_DIR = next(
    (d for d in SCHEMA_CANDIDATES if (d / "compiled" / "service.json").is_file()),
    SCHEMA_CANDIDATES[0],
)
PAGE_KEYS = (
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
)

# ---------------------------------------------------------------------------------------------
# The ORUK schemas

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
FORMATS = FormatChecker()
FORMATS.checkers = dict(Draft202012Validator.FORMAT_CHECKER.checkers)


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    """RFC 3986: a scheme, then only URI characters, every '%' starting an escape."""
    if not isinstance(value, str):
        return True
    return (
        bool(_URI.match(value))
        and not _BAD_ESCAPE.search(value)
        and (urlsplit(value).scheme not in ("http", "https") or bool(urlsplit(value).netloc))
    )


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _require_schemas() -> None:
    if not (SCHEMA_DIR / "compiled" / "service.json").is_file():
        pytest.skip(f"the ORUK schemas are not here: {', '.join(map(str, SCHEMA_CANDIDATES))}")


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """A schema of ../shared/oruk/schema by its path there ("compiled/service.json")."""
    _require_schemas()
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


@functools.cache
def _registry() -> Registry:
    names = [p.relative_to(SCHEMA_DIR).as_posix() for p in SCHEMA_DIR.rglob("*.json")]
    return Registry().with_resources(
        (name, Resource.from_contents(schema(name), default_specification=DRAFT202012))
        for name in names
        if name != "openapi.json"
    )


@functools.cache
def validator(name: str) -> Draft202012Validator:
    """A Draft 2020-12 validator of one schema, resolving its neighbours ("attribute.json")."""
    return Draft202012Validator(schema(name), registry=_registry(), format_checker=FORMATS)


def assert_valid(instance: Any, name: str) -> None:
    """Fail with every (first 10) schema error, each with where it is."""
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"not valid against {name}:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in errors[:10]
    )


@functools.cache
def _page_validator() -> Draft202012Validator:
    _require_schemas()
    page = json.loads((SCHEMA_DIR / "openapi.json").read_text())["components"]["schemas"]["Page"]
    envelope = {
        **page,
        "required": list(PAGE_KEYS),
        "properties": {**page["properties"], "contents": {"type": "array"}},
    }
    return Draft202012Validator(envelope, format_checker=FORMATS)


def assert_page(response: Any, item_schema: str) -> None:
    """A paged ORUK response (openapi.json's Page, every key present) whose every item is
    valid against ``item_schema``, with counts that agree with each other."""
    errors = list(_page_validator().iter_errors(response))
    assert not errors, [e.message for e in errors]
    for item in response["contents"]:
        assert_valid(item, item_schema)
    assert response["size"] == len(response["contents"])
    assert response["empty"] == (not response["contents"])
    assert response["first_page"] == (response["page_number"] == 1)


def test_the_schemas_are_there() -> None:
    # Where neither copy exists, every schema check says so as a skip with the places looked in.
    _require_schemas()
    assert (SCHEMA_DIR / "compiled" / "service.json").is_file(), SCHEMA_DIR


def test_the_format_checker_refuses_what_oruk_refuses() -> None:
    assert not validator("service.json").is_valid(
        {"id": "not-a-uuid", "name": "x", "status": "active"}
    )
    assert not validator("service.json").is_valid(
        {"id": str(uuid.uuid4()), "name": "x", "status": "active", "url": "http://a b"}
    )
    assert not validator("service.json").is_valid(
        {"id": str(uuid.uuid4()), "name": "x", "status": "open"}
    )


# ---------------------------------------------------------------------------------------------
# Records: one with every optional field, one with none, and the cases between


FULL = {  # every optional field of records.Record set
    "id": "cinderford-arts",
    "name": "Cinderford Arts & Health",
    "kind": "programme",
    "status": "emerging",
    "summary": "Music and dance for wellbeing in Cinderford.",
    "description": "Weekly music and dance sessions for adults and older people.",
    "organisation": "Forest Arts Trust",
    "partners": ["Forest Library"],
    "art_forms": ["music", "dance"],
    "conditions": ["mental-health", "dementia"],
    "age_groups": ["adults", "older-people"],
    "areas_served": ["forest-of-dean", "countywide"],
    "delivery": ["in-person", "online"],
    "referral_routes": ["gp", "self-referral"],
    "commissioning_models": ["grant"],
    "locations": [
        {
            "label": "Cinderford Hub",
            "address": "1 High Street",
            "postcode": "gl14 3ja",
            "place": "Cinderford",
        },
        {"label": "Pittville Pump Room", "lat": 51.9105, "lon": -2.0693},
    ],
    "contact": {
        "name": "Jo Bloggs",
        "website": "https://example.org/arts|health",
        "email": "jo@example.org",
        "phone": "01594 123456",
    },
    "publish_contact": True,
    "readiness": {
        "safeguarding_policy": True,
        "dbs_checks": True,
        "insurance": False,
        "evaluation_frameworks": ["WEMWBS"],
    },
    "last_verified": "2024-05-01",
    "sources": [{"title": "A leaflet", "url": "https://example.org/leaflet", "date": "2024-01-01"}],
    "notes": "Checked by phone.",
}
MINIMAL = {
    "id": "bare",
    "name": "Bare Minimum",
    "kind": "freelance-artist",
    "status": "established",
}
RECORDS = [
    FULL,
    MINIMAL,
    {
        "id": "forest-arts-trust",
        "name": "Forest Arts Trust",
        "kind": "organisation",
        "status": "established",
        "summary": "The Forest of Dean's arts charity.",
        "areas_served": ["forest-of-dean"],
        "locations": [{"postcode": "GL14 2DB"}],
        "contact": {"website": "https://forestarts.example.org", "email": "hello@example.org"},
        "publish_contact": True,
    },
    {
        "id": "private-choir",
        "name": "Private Choir",
        "kind": "programme",
        "status": "established",
        "organisation": "Unlisted Singers",
        "art_forms": ["singing"],
        "age_groups": ["children"],
        "locations": [{"postcode": "GL17 0AA"}],
        "contact": {
            "name": "Sam Secret",
            "email": "sam.secret@example.org",
            "phone": "07700 900123",
            "website": "https://secret.example.org",
        },
        "publish_contact": False,
    },
    {
        "id": "coleford-venue",
        "name": "Coleford Venue",
        "kind": "venue",
        "status": "established",
        "areas_served": ["elsewhere"],
        "locations": [{"postcode": "GL16 8AA"}],
    },
    {
        "id": "lydney-dance",
        "name": "Lydney Dance",
        "kind": "programme",
        "status": "emerging",
        "art_forms": ["dance"],
        "age_groups": ["young-people"],
        "locations": [{"postcode": "GL15 5AA"}],
    },
    {
        "id": "lost-place",
        "name": "Lost Place",
        "kind": "venue",
        "status": "established",
        "locations": [{"place": "Zzqxville"}],
    },
]
# GL14 2AA to each postcode above, in km (ONSPD centroids): GL14 2DB 0.10, GL14 3JA 1.34,
# GL17 0AA 5.63, GL16 8AA 8.84, GL15 5AA 12.37; the Pump Room is ~30 km away.
WITHIN_10_KM = ["forest-arts-trust", "cinderford-arts", "private-choir", "coleford-venue"]


def make_records(vocabulary: Vocabulary, raw: list[dict[str, Any]] | None = None) -> list[Record]:
    """Validated records (any problem fails the test)."""
    out = []
    for data in raw or RECORDS:
        record, problems = validate_record(data, vocabulary, source="test")
        assert record is not None and not problems, problems
        out.append(record)
    return out


@pytest.fixture(scope="module")
def records(vocabulary: Vocabulary) -> list[Record]:
    return make_records(vocabulary)


@pytest.fixture(scope="module")
def feed(records: list[Record], vocabulary: Vocabulary) -> dict[str, Any]:
    frame, _ = geocode_records(records, vocabulary)
    return oruk.export_feed(records, vocabulary, frame)


def by_record(feed: dict[str, Any], record_id: str) -> dict[str, Any]:
    wanted = oruk.service_id(record_id)
    return next(s for s in feed["contents"] if s["id"] == wanted)


def test_the_export_is_one_valid_page_of_every_service(feed: dict[str, Any]) -> None:
    assert_page(feed, "compiled/service_list.json")
    for service in feed["contents"]:
        assert_valid(service, "compiled/service.json")  # the nested parts too
    assert feed["total_items"] == len(RECORDS) == feed["size"]
    assert (feed["total_pages"], feed["page_number"]) == (1, 1)
    assert feed["first_page"] and feed["last_page"] and not feed["empty"]
    names = [s["name"] for s in feed["contents"]]
    assert names == sorted(names, key=str.casefold)


def test_the_full_record(feed: dict[str, Any], vocabulary: Vocabulary) -> None:
    service = by_record(feed, "cinderford-arts")
    assert service["name"] == "Cinderford Arts & Health"
    assert service["description"] == f"{FULL['summary']}\n\n{FULL['description']}"
    assert service["status"] == "active"  # emerging is active (oruk.STATUSES)
    assert service["assured_date"] == "2024-05-01"
    assert (service["minimum_age"], "maximum_age" in service) == (18, False)
    assert service["url"] == "https://example.org/arts%7Chealth"  # a valid URI
    assert service["email"] == "jo@example.org"
    # Its organisation is the organisation record it names, by name.
    assert service["organization"]["id"] == oruk.oruk_id("organization:forest-arts-trust")
    assert service["organization_id"] == service["organization"]["id"]
    assert service["organization"]["website"] == "https://forestarts.example.org"
    [contact] = service["contacts"]
    assert (contact["name"], contact["email"]) == ("Jo Bloggs", "jo@example.org")
    assert contact["phones"][0]["number"] == "01594 123456"
    areas = {a["name"]: a.get("uri") for a in service["service_areas"]}
    assert areas == {
        "Forest of Dean": "http://statistics.data.gov.uk/id/statistical-geography/E07000080",
        "Countywide (Gloucestershire)": None,
    }
    hub, pump_room = (sal["location"] for sal in service["service_at_locations"])
    assert hub["name"] == "Cinderford Hub"
    centroid = geocode_query("GL14 3JA")
    assert (hub["latitude"], hub["longitude"]) == (round(centroid.lat, 6), round(centroid.lon, 6))
    [address] = hub["addresses"]
    assert address["postal_code"] == "GL14 3JA"  # normalised
    assert (address["address_1"], address["city"]) == ("1 High Street", "Cinderford")
    assert (address["state_province"], address["region"]) == ("Gloucestershire", "Forest of Dean")
    assert (pump_room["latitude"], pump_room["longitude"]) == (51.9105, -2.0693)
    assert "addresses" not in pump_room
    terms = {a["taxonomy_term"]["code"] for a in service["attributes"]}
    assert terms == {
        "emerging",
        "music",
        "dance",
        "mental-health",
        "dementia",
        "adults",
        "older-people",
        "in-person",
        "online",
        "gp",
        "self-referral",
    }
    assert [f["source"] for f in service["funding"]] == [
        vocabulary.label("commissioning_models", "grant")
    ]
    for attribute in service["attributes"]:
        assert attribute["link_id"] == service["id"]
        assert attribute["taxonomy_term_id"] == attribute["taxonomy_term"]["id"]


def test_the_record_with_no_optional_field(feed: dict[str, Any]) -> None:
    service = by_record(feed, "bare")
    assert_valid(service, "compiled/service.json")
    assert service["description"] == ""
    for key in ("url", "email", "minimum_age", "maximum_age", "assured_date"):
        assert key not in service
    for key in oruk.ARRAY_KEYS:
        if key != "attributes":
            assert service[key] == []
    # Its stage (status is required) is its only taxonomy term.
    [stage] = service["attributes"]
    assert stage["taxonomy_term_id"] == oruk.term_id("statuses", "established")
    # A freelance artist naming no organisation is its own.
    assert service["organization"] == {
        "id": oruk.oruk_id("organization:bare"),
        "name": "Bare Minimum",
        "description": "",
    }


def test_contact_details_only_with_consent(feed: dict[str, Any]) -> None:
    service = by_record(feed, "private-choir")
    assert service["contacts"] == [] and "url" not in service and "email" not in service
    text = json.dumps(feed)
    for private in ("Sam Secret", "sam.secret", "07700 900123", "secret.example.org"):
        assert private not in text
    # An organisation known only by name carries that name alone.
    assert service["organization"] == {
        "id": oruk.oruk_id("organization-name:unlisted singers"),
        "name": "Unlisted Singers",
        "description": "",
    }
    assert (service.get("minimum_age"), service["maximum_age"]) == (None, 12)


def test_a_location_that_cannot_be_placed_has_no_point(feed: dict[str, Any]) -> None:
    [sal] = by_record(feed, "lost-place")["service_at_locations"]
    assert "latitude" not in sal["location"] and "longitude" not in sal["location"]
    assert sal["location"]["name"] == "Zzqxville"


def test_ids_are_stable_documented_uuid5s(
    records: list[Record], vocabulary: Vocabulary, feed: dict[str, Any]
) -> None:
    assert oruk.ORUK_NAMESPACE == uuid.UUID("779fd6a5-21d8-48f1-99f2-9eb51a2acd0d")  # never
    assert by_record(feed, "bare")["id"] == str(uuid.uuid5(oruk.ORUK_NAMESPACE, "service:bare"))
    assert oruk.term_id("conditions", "dementia") == str(
        uuid.uuid5(oruk.ORUK_NAMESPACE, "conditions:dementia")
    )
    again = oruk.export_feed(
        list(reversed(records)), vocabulary, geocode_records(records, vocabulary)[0]
    )
    assert again == feed  # the same records give the same document, whatever their order
    assert _ids_unique_per_kind(feed)


def _ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        own = [value["id"]] if "id" in value else []
        return own + [i for v in value.values() for i in _ids(v)]
    if isinstance(value, list):
        return [i for v in value for i in _ids(v)]
    return []


def _ids_unique_per_kind(feed: dict[str, Any]) -> bool:
    # Organisations and taxonomy terms repeat (shared); everything else is unique.
    shared = {s["organization"]["id"] for s in feed["contents"]}
    shared |= {a["taxonomy_term"]["id"] for s in feed["contents"] for a in s["attributes"]}
    own = [i for i in _ids(feed) if i not in shared]
    return len(own) == len(set(own))


def test_every_vocabulary_status_has_an_oruk_status(vocabulary: Vocabulary) -> None:
    for term in vocabulary.terms("status"):
        assert term.id in oruk.STATUSES, f"add {term.id!r} to oruk.STATUSES"
    assert oruk.UNLISTED_STATUS == "inactive"  # never 'active' by mistake


def test_taxonomies_and_their_terms(vocabulary: Vocabulary) -> None:
    taxonomies = oruk.Taxonomies.build(vocabulary)
    assert [t["name"] for t in taxonomies.taxonomies] == [t.name for t in oruk.TAXONOMIES]
    for item in taxonomies.taxonomies:
        assert_valid(item, "taxonomy.json")
    for item in taxonomies.terms:
        assert_valid(item, "taxonomy_term.json")
    by_code = {t["code"]: t for t in taxonomies.terms}
    dementia = by_code["dementia"]
    assert dementia["id"] == oruk.term_id("conditions", "dementia")
    assert dementia["name"] == vocabulary.label("conditions", "dementia")
    assert dementia["taxonomy_id"] == oruk.taxonomy_id("conditions")
    assert len(taxonomies.terms) == sum(len(vocabulary.terms(t.field)) for t in oruk.TAXONOMIES)


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([], (None, None)),
        (["children"], (None, 12)),
        (["young-people"], (13, 25)),
        (["children", "young-people"], (None, 25)),
        (["adults"], (18, None)),
        (["adults", "older-people"], (18, None)),
        (["young-people", "adults"], (13, None)),
        (["all-ages", "children"], (None, None)),
    ],
)
def test_age_range_spans_the_age_groups(
    vocabulary: Vocabulary, groups: list[str], expected: tuple[int | None, int | None]
) -> None:
    [record] = make_records(vocabulary, [{**MINIMAL, "age_groups": groups}])
    assert oruk.age_range(record) == expected


def test_every_age_group_has_a_range(vocabulary: Vocabulary) -> None:
    assert {t.id for t in vocabulary.terms("age_groups")} == set(oruk.AGE_RANGES)


@pytest.mark.parametrize(
    ("total", "number", "per_page", "expected"),
    [
        # total_items, total_pages, size, first_page, last_page, empty
        (0, 1, 10, (0, 0, 0, True, True, True)),
        (5, 1, 10, (5, 1, 5, True, True, False)),
        (10, 1, 10, (10, 1, 10, True, True, False)),
        (11, 1, 10, (11, 2, 10, True, False, False)),
        (11, 2, 10, (11, 2, 1, False, True, False)),
        (11, 3, 10, (11, 2, 0, False, True, True)),
    ],
)
def test_page(total: int, number: int, per_page: int, expected: tuple[Any, ...]) -> None:
    got = oruk.page(list(range(total)), number, per_page)
    assert _page_validator().is_valid(got)
    keys = ("total_items", "total_pages", "size", "first_page", "last_page", "empty")
    assert tuple(got[k] for k in keys) == expected
    assert got["contents"] == list(range(total))[(number - 1) * per_page : number * per_page]


# ---------------------------------------------------------------------------------------------
# Fields the record schema gains later (aop_map.fields): emitted when a record has them


# Fields a record may gain (as attributes or registry-only extras), and values for them.
FUTURE = {
    "cost": "Free; donations welcome",
    "accessibility": "Step-free access and a hearing loop.",
    "eligibility": "Referred by a GP or self-referral.",
    "minimum_age": 16,
    "schedules": [
        {
            "freq": "WEEKLY",
            "byday": "TU",
            "opens_at": dt.time(10, 0),
            "closes_at": dt.time(12, 0),
            "valid_from": dt.date(2025, 1, 7),
            "description": "Tuesday mornings",
            "not_oruk": "dropped",
        },
        "Also the first Saturday of each month",
    ],
}


def test_optional_fields_are_emitted_when_a_record_has_them(vocabulary: Vocabulary) -> None:
    full, bare = make_records(vocabulary, [{**FULL, "id": "future"}, MINIMAL])
    records = [full.model_copy(update=FUTURE), bare]
    frame, _ = geocode_records(records, vocabulary)
    feed = oruk.export_feed(records, vocabulary, frame)
    assert_page(feed, "compiled/service_list.json")
    service = by_record(feed, "future")
    assert_valid(service, "compiled/service.json")
    weekly, text = service["schedules"]
    assert weekly["opens_at"] == "10:00:00" and weekly["valid_from"] == "2025-01-07"
    assert "not_oruk" not in weekly and weekly["service_id"] == service["id"]
    assert text["description"] == "Also the first Saturday of each month"
    assert [c["amount_description"] for c in service["cost_options"]] == [FUTURE["cost"]]
    assert service["cost_options"][0]["service_id"] == service["id"]
    assert service["eligibility_description"] == FUTURE["eligibility"]
    assert service["minimum_age"] == 16  # the record's own age wins over its age groups
    for sal in service["service_at_locations"]:
        [access] = sal["location"]["accessibility"]
        assert access["description"] == FUTURE["accessibility"]
        assert access["location_id"] == sal["location"]["id"]
    bare = by_record(feed, "bare")  # none set: nothing emitted
    assert bare["schedules"] == bare["cost_options"] == []
    assert "eligibility_description" not in bare


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (16, 16),
        (16.5, 16.5),
        ("16", 16),
        (" 7.5 ", 7.5),
        ("sixteen", None),
        (True, None),
        (float("nan"), None),
        ("inf", None),
        (None, None),
    ],
)
def test_ages_from_numbers_or_their_text(value: Any, expected: float | None) -> None:
    [spec] = [s for s in oruk.OPTIONAL_FIELDS if s.target == "service.minimum_age"]
    assert spec.convert(value, "x") == expected


def test_every_optional_field_target_is_known() -> None:
    for spec in oruk.OPTIONAL_FIELDS:
        prefix, _, key = spec.target.partition(".")
        assert prefix in ("service", "location") and key


# ---------------------------------------------------------------------------------------------
# Text that is data


def test_unsafe_characters_stay_data(
    vocabulary: Vocabulary, tmp_path: Path, data_dir: Path
) -> None:
    name = "Arts\u2028Health \u202egnitirw\u202c"
    (data_dir / "odd.yaml").write_text(
        json.dumps({**MINIMAL, "id": "odd", "name": name}), encoding="utf-8"
    )
    out = tmp_path / "feed.json"
    assert main(["export", "--format", "oruk", "--data-dir", str(data_dir), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "\u2028" not in text and "\u202e" not in text and "\\u2028" in text
    feed = json.loads(text)
    assert_page(feed, "compiled/service_list.json")
    assert feed["contents"][0]["name"] == name


def test_cli_export_to_stdout(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for data in RECORDS:
        (data_dir / f"{data['id']}.yaml").write_text(json.dumps(data), encoding="utf-8")
    assert main(["export", "--format", "oruk", "--data-dir", str(data_dir)]) == 0
    feed = json.loads(capsys.readouterr().out)
    assert_page(feed, "compiled/service_list.json")
    assert feed["total_items"] == len(RECORDS)


# ---------------------------------------------------------------------------------------------
# The About page's text


def test_about_markdown_links_the_feed_and_the_api() -> None:
    text = oruk.about_markdown("https://api.example.org/oruk/")
    assert "[https://api.example.org/oruk/services](https://api.example.org/oruk/services)" in text
    assert "(https://api.example.org/oruk/docs)" in text
    assert "consent" in text or "agreed" in text


@pytest.mark.parametrize(
    "odd", ["javascript:alert(1)", "https://x.org/a)(b", "ftp://x.org", "https://x.org/<b>", ""]
)
def test_about_markdown_never_links_an_odd_address(odd: str) -> None:
    text = oruk.about_markdown(odd)
    assert "](" not in text.replace("(https://openreferraluk.org)", "")
    assert "aop-map serve-api" in text


def test_about_markdown_reads_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AOP_MAP_API_URL", "http://localhost:8000")
    assert "(http://localhost:8000/services)" in oruk.about_markdown()
    monkeypatch.delenv("AOP_MAP_API_URL")
    assert "aop-map serve-api" in oruk.about_markdown()


@pytest.mark.parametrize(
    "name", ["service:bare", "conditions:mental-health", "", "é:ünï", "location:" + "x" * 500]
)
def test_the_fast_id_is_the_plain_uuid5(name: str) -> None:
    assert oruk.oruk_id(name) == oruk.oruk_id_plain(name)
    assert uuid.UUID(oruk.oruk_id(name)).version == 5
