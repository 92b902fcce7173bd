"""The register form's logic: data shape, field messages, duplicates (public and moderators')."""

from __future__ import annotations

from typing import Any

import pytest

from aop_map.records import Record
from aop_map.registration import (
    check_form,
    consent_record,
    find_duplicates,
    form_to_data,
)
from aop_map.vocabulary import Vocabulary


def form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Breathe Choir", "kind": "organisation", "status": "emerging",
        "summary": "Singing for lung health", "art_forms": ["singing"],
        "conditions": ["copd"], "areas_served": [], "locations": [
            {"label": "Community hall", "postcode": "gl14 2aa", "place": ""},
            {"label": "", "postcode": "", "place": ""}],
        "contact_email": "hello@example.org", "publish_contact": False,
        "safeguarding_policy": "Yes", "dbs_checks": "Not stated", "insurance": "No",
        "evaluation_frameworks": "WEMWBS, own survey", "sources": "https://example.org\n",
        "consent_listing": True,
    }
    values.update(changes)
    return values


def test_form_to_data_shape() -> None:
    data = form_to_data(form())
    assert data["locations"] == [{"label": "Community hall", "postcode": "gl14 2aa"}]
    assert data["contact"] == {"email": "hello@example.org"} and data["publish_contact"] is False
    assert data["readiness"] == {"safeguarding_policy": True, "insurance": False,
                                 "evaluation_frameworks": ["WEMWBS", "own survey"]}
    assert data["sources"] == ["https://example.org"]
    assert "description" not in data  # empty fields are left out


def test_valid_form(vocabulary: Vocabulary) -> None:
    check = check_form(form(), vocabulary)
    assert check.ok, check.errors


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"consent_listing": False}, "consent", "agree"),
        ({"locations": [], "areas_served": []}, "locations", "postcode or place"),
        ({"locations": [{"postcode": "not a postcode"}]}, "locations", "not a UK postcode"),
        ({"contact_email": "nobody"}, "contact.email", "not an email"),
        ({"contact_website": "javascript:alert(1)"}, "contact.website", "web address"),
        ({"contact_phone": "ring ring"}, "contact.phone", "not a phone"),
        ({"sources": "ftp://x y"}, "sources", "not a web address"),
        ({"summary": "s" * 501}, "summary", "at most 500"),
    ],
)
def test_field_messages(vocabulary: Vocabulary, changes: dict, field: str,
                        fragment: str) -> None:
    check = check_form(form(**changes), vocabulary)
    assert not check.ok
    assert any(fragment in m for m in check.errors.get(field, [])), check.errors


def test_areas_served_alone_is_enough(vocabulary: Vocabulary) -> None:
    # A freelance artist lists areas, not a home address.
    check = check_form(form(locations=[], areas_served=["stroud"], kind="freelance-artist"),
                       vocabulary)
    assert check.ok, check.errors


def test_html_is_kept_as_text(vocabulary: Vocabulary) -> None:
    payload = "<img src=x onerror=alert(1)>"
    check = check_form(form(name=payload, description=payload), vocabulary)
    assert check.ok and check.data["name"] == payload


def record(rid: str, name: str, postcode: str | None = None) -> Record:
    return Record.model_validate({"id": rid, "name": name, "kind": "organisation",
                                  "status": "established",
                                  "locations": [{"postcode": postcode}] if postcode else []})


@pytest.mark.parametrize(
    ("name", "postcode", "expected"),
    [("Breathe Choir", None, ["breathe-choir"]),
     ("The Breathe Choir", None, ["breathe-choir"]),
     ("breathe choir", None, ["breathe-choir"]),
     ("Breathe Singers", "GL14 2AA", ["breathe-choir"]),  # same postcode, looser name
     ("Breathe Singers", None, []),
     ("Paint Club", None, [])],
)
def test_duplicates(name: str, postcode: str | None, expected: list[str]) -> None:
    records = [record("breathe-choir", "Breathe Choir", "GL14 2AA"), record("artlift", "Artlift")]
    data = {"name": name, "locations": [{"postcode": postcode}] if postcode else []}
    assert [d.id for d in find_duplicates(data, records)] == expected


def test_duplicates_include_pending_submissions_only_when_asked() -> None:
    pending = [("AOP-2026-ABCDEF", {"name": "Circus skills club"})]
    found = find_duplicates({"name": "Circus Skills Club"}, [], pending=pending)
    assert [(d.kind, d.id) for d in found] == [("submission", "AOP-2026-ABCDEF")]
    # The public check (records only) knows nothing of pending submissions.
    assert find_duplicates({"name": "Circus Skills Club"}, []) == []
    with pytest.raises(TypeError):  # pending is never passed by position, by accident
        find_duplicates({"name": "Circus Skills Club"}, [], pending)  # type: ignore[misc]


def test_consent_record() -> None:
    consent = consent_record(True)
    assert consent["listing"] is True and consent["contact"] is True and "T" in consent["at"]
