"""The register form's logic: data shape, field messages, duplicates (public and moderators'),
the preview and sending a listing -- all without Streamlit."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from aop_map import fields
from aop_map.limits import REGISTER
from aop_map.records import Record
from aop_map.registration import (
    FORM_SECTIONS,
    HONEYPOT,
    MAX_LOCATIONS,
    NEW_LISTING,
    NOT_SENT,
    Duplicate,
    check_form,
    consent_record,
    duplicate_lines,
    error_lines,
    find_duplicates,
    form_to_data,
    form_values,
    open_listing,
    preview,
    receipt_state,
    receipt_text,
    send_listing,
    submit_listing,
    updating_note,
    withdraw_listing,
)
from aop_map.store import SubmissionStore
from aop_map.vocabulary import Vocabulary


def form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Breathe Choir",
        "kind": "organisation",
        "status": "emerging",
        "summary": "Singing for lung health",
        "art_forms": ["singing"],
        "conditions": ["copd"],
        "areas_served": [],
        "locations": [
            {"location_label": "Community hall", "postcode": "gl14 2aa", "place": ""},
            {"location_label": "", "postcode": "", "place": ""},
        ],
        "email": "hello@example.org",
        "publish_contact": False,
        "safeguarding_policy": "Yes",
        "dbs_checks": "Not stated",
        "insurance": "No",
        "evaluation_frameworks": "WEMWBS, own survey",
        "sources": "https://example.org\n",
        "consent_listing": True,
    }
    values.update(changes)
    return values


def test_form_to_data_shape() -> None:
    data = form_to_data(form())
    assert data["locations"] == [{"label": "Community hall", "postcode": "gl14 2aa"}]
    assert data["contact"] == {"email": "hello@example.org"} and data["publish_contact"] is False
    assert data["readiness"] == {
        "safeguarding_policy": True,
        "insurance": False,
        "evaluation_frameworks": ["WEMWBS", "own survey"],
    }
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
        ({"email": "nobody"}, "contact.email", "not an email"),
        ({"website": "javascript:alert(1)"}, "contact.website", "web address"),
        ({"phone": "ring ring"}, "contact.phone", "not a phone"),
        ({"sources": "ftp://x y"}, "sources", "not a web address"),
        ({"summary": "s" * 501}, "summary", "at most 500"),
    ],
)
def test_field_messages(vocabulary: Vocabulary, changes: dict, field: str, fragment: str) -> None:
    check = check_form(form(**changes), vocabulary)
    assert not check.ok
    assert any(fragment in m for m in check.errors.get(field, [])), check.errors


def test_areas_served_alone_is_enough(vocabulary: Vocabulary) -> None:
    # A freelance artist lists areas, not a home address.
    check = check_form(
        form(locations=[], areas_served=["stroud"], kind="freelance-artist"), vocabulary
    )
    assert check.ok, check.errors


def test_html_is_kept_as_text(vocabulary: Vocabulary) -> None:
    payload = "<img src=x onerror=alert(1)>"
    check = check_form(form(name=payload, description=payload), vocabulary)
    assert check.ok and check.data["name"] == payload


def record(rid: str, name: str, postcode: str | None = None) -> Record:
    return Record.model_validate(
        {
            "id": rid,
            "name": name,
            "kind": "organisation",
            "status": "established",
            "locations": [{"postcode": postcode}] if postcode else [],
        }
    )


@pytest.mark.parametrize(
    ("name", "postcode", "expected"),
    [
        ("Breathe Choir", None, ["breathe-choir"]),
        ("The Breathe Choir", None, ["breathe-choir"]),
        ("breathe choir", None, ["breathe-choir"]),
        ("Breathe Singers", "GL14 2AA", ["breathe-choir"]),  # same postcode, looser name
        ("Breathe Singers", None, []),
        ("Paint Club", None, []),
    ],
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


# ---------------------------------------------------------------------------------------------
# preview and submit_listing, without Streamlit


def no_geocoding(records: list[Record], vocabulary: Vocabulary) -> tuple[Any, list]:
    """A stand-in geocoder: no frame, one warning (the real one reads the postcode files)."""
    return None, [SimpleNamespace(message=f"{records[0].id}: placed at town level")]


@pytest.fixture
def store(data_dir: Path) -> SubmissionStore:
    return SubmissionStore(data_dir=data_dir)


def test_preview_of_a_bad_form_only_checks(vocabulary: Vocabulary) -> None:
    checked = preview(form(name="", consent_listing=False), vocabulary, [])
    assert not checked.ok and checked.record is None and checked.frame is None
    assert {"Name", "Consent"} <= {label for label, _ in checked.check.labelled()}


def test_preview_geocodes_and_finds_duplicates(vocabulary: Vocabulary) -> None:
    existing = [record("breathe-choir", "Breathe Choir", "GL14 2AA")]
    checked = preview(form(), vocabulary, existing)
    assert checked.ok and checked.record is not None and checked.record.id == "breathe-choir"
    assert checked.located and checked.frame is not None
    assert list(checked.frame["postcode"]) == ["GL14 2AA"]
    assert [d.id for d in checked.duplicates] == ["breathe-choir"]
    assert checked.update_target(NEW_LISTING) is None
    assert checked.update_target("breathe-choir") == "breathe-choir"
    assert checked.update_target("not-offered") is None  # only a duplicate shown may be named


def test_a_named_update_skips_the_duplicate_question(vocabulary: Vocabulary) -> None:
    existing = [record("breathe-choir", "Breathe Choir", "GL14 2AA")]
    checked = preview(form(update_of=" breathe-choir "), vocabulary, existing, geocode=no_geocoding)
    assert checked.duplicates == () and checked.update_target(None) == "breathe-choir"
    assert checked.notes == ("breathe-choir: placed at town level",) and not checked.located


def test_submit_listing_stores_the_data_and_consent(
    vocabulary: Vocabulary, store: SubmissionStore
) -> None:
    checked = preview(form(publish_contact=True), vocabulary, [], geocode=no_geocoding)
    sent = submit_listing(store, checked, client="198.51.100.1")
    assert sent.error is None and sent.receipt is not None
    (stored,) = store.list("pending")
    assert stored.id == sent.receipt.id and stored.data["name"] == "Breathe Choir"
    assert stored.data["contact"] == {"email": "hello@example.org"}


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({HONEYPOT: "http://spam.example"}, NOT_SENT),  # a bot is told nothing useful
        ({"name": ""}, "problems to correct"),
    ],
)
def test_submit_listing_refuses(
    vocabulary: Vocabulary, store: SubmissionStore, changes: dict, fragment: str
) -> None:
    checked = preview(form(**changes), vocabulary, [], geocode=no_geocoding)
    sent = submit_listing(store, checked, client="198.51.100.1")
    assert sent.receipt is None and fragment in (sent.error or "")
    assert store.list() == []


def test_submit_listing_keeps_the_server_side_limit(
    vocabulary: Vocabulary, store: SubmissionStore
) -> None:
    checked = preview(form(), vocabulary, [], geocode=no_geocoding)
    for _ in range(REGISTER.free):
        assert submit_listing(store, checked, client="198.51.100.1").receipt is not None
    sent = submit_listing(
        SubmissionStore(data_dir=store.data_dir), checked, client="198.51.100.1"
    )  # a new store object: the count is on disk
    assert sent.receipt is None and "try again in" in (sent.error or "")


def test_submit_listing_reports_a_store_failure(
    vocabulary: Vocabulary, store: SubmissionStore
) -> None:
    checked = preview(form(), vocabulary, [], geocode=no_geocoding)
    sent = submit_listing(store, checked, client="198.51.100.1", update_of="no-such-record")
    assert sent.receipt is None and (sent.error or "").startswith("Your listing could not be")


# ---------------------------------------------------------------------------------------------
# What the Register page says and does around the form


def test_form_sections_draw_every_part_of_the_form_once() -> None:
    parts = [part for _, _, drawn in FORM_SECTIONS for part, _ in drawn]
    assert sorted(parts) == sorted({spec.group for spec in fields.form_fields()})
    assert all(columns >= 1 for _, _, drawn in FORM_SECTIONS for _, columns in drawn)


def test_receipt_text_for_a_new_listing_and_an_update() -> None:
    new = receipt_state(SimpleNamespace(id="S-1", edit_code="1111-2222"), update=False)
    assert new == {"id": "S-1", "edit_code": "1111-2222", "update": False}
    thanks, again = receipt_text(new)
    assert "reference **S-1**" in thanks and again == "Register another listing"
    thanks, again = receipt_text({"id": "S-2", "edit_code": "", "update": True})
    assert "change to listing **S-2**" in thanks and again == "Back to the form"
    assert "**art-shape**" in updating_note({"id": "art-shape", "code": "x"})


def test_error_and_duplicate_lines_are_escaped_list_items(vocabulary: Vocabulary) -> None:
    check = check_form(form(name="", consent_listing=False), vocabulary)
    lines = error_lines(check)
    assert len(lines) == len(check.labelled()) and all(line.startswith("- **") for line in lines)
    assert any(line.startswith("- **Consent**: please agree") for line in lines)
    odd = Duplicate("record", "a_b", "**Bold** <img>", 90)
    assert duplicate_lines([odd]) == [r"- \*\*Bold\*\* \<img\> (record a\_b)"]


def test_send_listing_sends_new_listings_and_updates(
    vocabulary: Vocabulary, store: SubmissionStore
) -> None:
    checked = preview(form(), vocabulary, [], geocode=no_geocoding)
    sent = send_listing(store, checked, client="198.51.100.1", choice=NEW_LISTING)
    assert sent.receipt is not None and sent.receipt.edit_code
    code = sent.receipt.edit_code
    changed = preview(form(summary="Now weekly"), vocabulary, [], geocode=no_geocoding)
    updating = {"id": sent.receipt.id, "code": code}
    update = send_listing(store, changed, client="198.51.100.1", updating=updating)
    assert update.error is None and update.receipt is not None
    wrong = send_listing(store, changed, client="198.51.100.1", updating={**updating, "code": "0"})
    assert wrong.receipt is None and wrong.error


def test_open_and_withdraw_a_listing_with_its_edit_code(
    vocabulary: Vocabulary, store: SubmissionStore
) -> None:
    checked = preview(form(), vocabulary, [], geocode=no_geocoding)
    receipt = submit_listing(store, checked, client="198.51.100.1").receipt
    assert receipt is not None
    refused = open_listing(store, receipt.id, "0000-0000", client="198.51.100.1")
    assert refused.updating is None and refused.values is None and refused.error
    opened = open_listing(store, f" {receipt.id} ", f" {receipt.edit_code} ", client="x")
    assert opened.error is None
    assert opened.updating == {"id": receipt.id, "code": receipt.edit_code}
    assert opened.values == form_values(store.get(receipt.id).data)
    assert len(opened.values["locations"]) == MAX_LOCATIONS
    assert withdraw_listing(store, receipt.id, "0000-0000", client="198.51.100.1")
    assert withdraw_listing(store, f" {receipt.id}", receipt.edit_code, client="x") is None
    assert store.get(receipt.id).status == "withdrawn"
