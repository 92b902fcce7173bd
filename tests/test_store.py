"""The submission store: moderation, privacy of edit codes and personal data, the audit log."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from aop_map.limits import (
    EDIT_CODE,
    EDIT_CODE_REFERENCE,
    EDIT_CODE_REFERENCE_TOTAL,
    edit_code_entries,
)
from aop_map.loading import load_records
from aop_map.records import Problem
from aop_map.store import (
    ALPHABET,
    ConsentRequired,
    CuratedRecordError,
    EditCodeLocked,
    InvalidEditCode,
    InvalidTransition,
    Receipt,
    RecordNotFound,
    StoreError,
    Submission,
    SubmissionInvalid,
    SubmissionNotFound,
    SubmissionStore,
    SubmissionTooLarge,
)
from aop_map.store import files as store_files


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(microseconds=1)  # distinct, ordered timestamps
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


def listing(**overrides: Any) -> dict[str, Any]:
    """A valid submission as the registration page sends it."""
    data: dict[str, Any] = {
        "name": "Stroud Singing for Breathing",
        "kind": "programme",
        "status": "established",
        "summary": "Weekly singing for people with lung conditions.",
        "description": "Warm-ups and songs; carers welcome. Ask for Jo on arrival.",
        "art_forms": ["Singing"],
        "conditions": ["COPD"],
        "areas_served": ["Stroud"],
        "locations": [{"address": "7 Private Lane", "postcode": "GL5 1AA", "place": "Stroud"}],
        "contact": {"name": "Jo Bloggs", "email": "jo@example.org", "phone": "01453 123456"},
        "publish_contact": True,
        "consent": {"listing": True, "contact": True, "at": "2026-03-14T09:00:00+00:00"},
    }
    data.update(overrides)
    return data


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(data_dir: Path, clock: FakeClock) -> SubmissionStore:
    return SubmissionStore(data_dir=data_dir, clock=clock)


def write_curated(data_dir: Path, record_id: str = "gloucester-museum-makers") -> Path:
    path = data_dir / "organisations" / f"{record_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"id: {record_id}\nname: Gloucester Museum Makers\nkind: organisation\n"
        "status: established\nart_forms: [crafts]\nlocations:\n  - place: Gloucester\n",
        encoding="utf-8",
    )
    return path


def files_text(directory: Path) -> str:
    """Every byte under a directory, as text, to grep for secrets."""
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace")
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    )


# ---------------------------------------------------------------------------------------------
# Submitting


def test_submit_stores_a_pending_submission_with_a_receipt(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    assert re.fullmatch(f"AOP-2026-[{ALPHABET}]{{6}}", receipt.id)
    assert re.fullmatch(f"([{ALPHABET}]{{4}}-){{3}}[{ALPHABET}]{{4}}", receipt.edit_code)
    assert receipt.edit_code not in repr(receipt)
    submission = store.get(receipt.id)
    assert isinstance(submission, Submission)
    assert submission.status == "pending"
    assert submission.data["name"] == "Stroud Singing for Breathing"
    assert "consent" not in submission.data and submission.consent["listing"] is True
    assert submission.problems == [] and submission.update_of is None
    assert submission.created == submission.updated
    assert store.get(receipt.id.lower()).id == receipt.id  # references are typed by hand
    assert (store.root / f"{receipt.id}.yaml").stat().st_mode & 0o077 == 0  # private file


def test_html_and_odd_text_are_stored_exactly_as_plain_text(store: SubmissionStore) -> None:
    text = "<script>alert('x')</script> <b>Bold</b> \u2028 caf\u00e9 \U0001f3b5 \x00 'q' \"dq\" #"
    receipt = store.submit(listing(summary=text, name="Name: {with} [yaml] *chars*"))
    data = store.get(receipt.id).data
    assert data["summary"] == text
    assert data["name"] == "Name: {with} [yaml] *chars*"


def test_an_invalid_submission_is_kept_with_its_problems(store: SubmissionStore) -> None:
    receipt = store.submit(listing(kind="spaceship", contact={"email": "not-an-email"}))
    submission = store.get(receipt.id)
    assert submission.status == "pending"
    assert submission.data["kind"] == "spaceship"
    assert {p.field for p in submission.problems} >= {"kind", "contact.email"}
    assert all(isinstance(p, Problem) for p in receipt.problems)
    assert len(receipt.problems) == len(submission.problems)


@pytest.mark.parametrize(
    "consent",
    [None, {}, {"listing": False}, {"listing": "yes"}, "yes", {"contact": True}],
)
def test_submit_without_listing_consent_is_refused(store: SubmissionStore, consent: Any) -> None:
    data = listing()
    data.pop("consent")
    if consent is not None:
        data["consent"] = consent
    with pytest.raises(ConsentRequired, match="consent"):
        store.submit(data)
    assert store.list() == []


def test_a_huge_or_deep_submission_is_refused(store: SubmissionStore) -> None:
    with pytest.raises(SubmissionTooLarge, match="KB"):
        store.submit(listing(description="x" * 70_000))
    deep: Any = "bottom"
    for _ in range(50):
        deep = [deep]
    with pytest.raises(SubmissionTooLarge, match="nested"):
        store.submit(listing(partners=deep))
    assert store.list() == [] and not store.audit_log()


def test_the_submitter_cannot_choose_the_record_id(store: SubmissionStore) -> None:
    receipt = store.submit(listing(id="someone-elses-record"))
    assert "id" not in store.get(receipt.id).data
    assert store.approve(receipt.id, "Mo").id == "stroud-singing-for-breathing"


@pytest.mark.parametrize("reference", ["nope", "../../etc/passwd", "AOP-2026-ZZZZZZ", "", None])
def test_unknown_or_malformed_references_are_not_found(
    store: SubmissionStore, reference: Any
) -> None:
    with pytest.raises(SubmissionNotFound):
        store.get(reference)


def test_list_filters_by_status_and_sorts_by_creation(store: SubmissionStore) -> None:
    ids = [store.submit(listing(name=f"Group {n}")).id for n in range(4)]
    store.reject(ids[1], "Mo", "duplicate")
    assert [s.id for s in store.list()] == ids
    assert [s.id for s in store.list("pending")] == [ids[0], ids[2], ids[3]]
    assert [s.id for s in store.list("rejected")] == [ids[1]]
    with pytest.raises(ValueError):
        store.list("lost")


# ---------------------------------------------------------------------------------------------
# Moderating


def test_approve_publishes_a_record_the_loader_accepts(
    store: SubmissionStore, data_dir: Path
) -> None:
    receipt = store.submit(listing())
    record = store.approve(receipt.id, "Mo Derator")
    path = data_dir / "community" / f"{record.id}.yaml"
    assert path.is_file()
    result = load_records(data_dir, use_cache=False)
    assert result.problems == []
    assert [r.id for r in result.records] == [record.id] == ["stroud-singing-for-breathing"]
    loaded = result.records[0]
    assert loaded.art_forms == ["singing"] and loaded.conditions == ["copd"]
    assert loaded.last_verified == dt.date(2026, 3, 14)
    assert loaded.sources[-1].title == (
        "Submitted through aop-map by the provider, approved on 2026-03-14"
    )
    assert "Mo Derator" not in path.read_text(encoding="utf-8")  # who is in the audit log
    assert loaded.publish_contact is True
    assert "consent" not in path.read_text(encoding="utf-8")
    submission = store.get(receipt.id)
    assert submission.status == "approved" and submission.record_id == record.id


def test_record_ids_are_unique_against_records_and_other_approvals(
    store: SubmissionStore, data_dir: Path
) -> None:
    write_curated(data_dir, "stroud-singing-for-breathing")
    first = store.approve(store.submit(listing()).id, "Mo")
    second = store.approve(store.submit(listing()).id, "Mo")
    assert (first.id, second.id) == (
        "stroud-singing-for-breathing-2",
        "stroud-singing-for-breathing-3",
    )
    assert load_records(data_dir, use_cache=False).problems == []


def test_contact_is_published_only_with_consent(store: SubmissionStore, data_dir: Path) -> None:
    receipt = store.submit(listing(consent={"listing": True, "contact": False}))
    assert any(p.field == "publish_contact" for p in receipt.problems)  # told, as a warning
    record = store.approve(receipt.id, "Mo", data=listing(publish_contact=True))
    assert record.publish_contact is False


@pytest.mark.parametrize(
    "changes",
    [
        {"consent": {"listing": True, "contact": False}},  # no consent, whatever the flag says
        {"publish_contact": False, "consent": {"listing": True, "contact": False}},
        {"publish_contact": False, "consent": {"listing": True, "contact": True}},
    ],
    ids=["flag-without-consent", "neither", "consent-without-flag"],
)
def test_unpublished_contact_details_never_reach_the_published_file(
    store: SubmissionStore, data_dir: Path, changes: dict[str, Any]
) -> None:
    contact = {"name": "Jo Bloggs", "email": "jo@example.org", "phone": "01453 123456"}
    receipt = store.submit(listing(contact={**contact, "website": "https://jo.example"}, **changes))
    record = store.approve(receipt.id, "Mo")
    path = data_dir / "community" / f"{record.id}.yaml"
    published = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "contact" not in published and published.get("publish_contact", False) is False
    raw = files_text(data_dir / "community")
    for secret in (*contact.values(), "jo.example"):
        assert secret not in raw
    # The private copy keeps them, for the moderators.
    assert store.get(receipt.id).data["contact"]["email"] == "jo@example.org"
    assert load_records(data_dir, use_cache=False).problems == []


def test_consented_contact_details_are_published(store: SubmissionStore, data_dir: Path) -> None:
    record = store.approve(store.submit(listing()).id, "Mo")
    text = (data_dir / "community" / f"{record.id}.yaml").read_text(encoding="utf-8")
    assert "jo@example.org" in text and "01453 123456" in text


def test_approving_invalid_data_is_refused_with_every_problem(
    store: SubmissionStore, data_dir: Path
) -> None:
    receipt = store.submit(listing(kind="spaceship", art_forms=["Underwater basketry"]))
    with pytest.raises(SubmissionInvalid) as caught:
        store.approve(receipt.id, "Mo")
    assert {p.field for p in caught.value.problems} == {"kind", "art_forms"}
    assert "kind" in str(caught.value) and "art_forms" in str(caught.value)
    assert store.get(receipt.id).status == "pending"
    assert not (data_dir / "community").exists() or not any((data_dir / "community").iterdir())


def test_edit_then_approve(store: SubmissionStore, data_dir: Path) -> None:
    receipt = store.submit(listing(kind="spaceship"))
    fixed = {**store.get(receipt.id).data, "kind": "programme", "summary": "Tidied by Mo."}
    record = store.approve(receipt.id, "Mo", data=fixed)
    assert record.kind == "programme" and record.summary == "Tidied by Mo."
    submission = store.get(receipt.id)
    assert submission.data["summary"] == "Tidied by Mo."
    assert submission.consent["listing"] is True  # the moderator cannot change consent
    assert set(submission.history[-1]["changed"]) == {"status", "kind", "summary"}
    assert load_records(data_dir, use_cache=False).problems == []


def test_reject_keeps_the_reason_and_needs_one(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    with pytest.raises(StoreError, match="reason"):
        store.reject(receipt.id, "Mo", "  ")
    with pytest.raises(StoreError, match="moderator"):
        store.reject(receipt.id, " ", "spam")
    submission = store.reject(receipt.id, "Mo", "Not in Gloucestershire")
    assert submission.status == "rejected" and submission.reason == "Not in Gloucestershire"


def _approved(store: SubmissionStore) -> str:
    receipt = store.submit(listing())
    store.approve(receipt.id, "Mo")
    return receipt.id


def _rejected(store: SubmissionStore) -> str:
    receipt = store.submit(listing())
    store.reject(receipt.id, "Mo", "no")
    return receipt.id


def _withdrawn(store: SubmissionStore) -> str:
    receipt = store.submit(listing())
    store.withdraw(receipt.id, receipt.edit_code)
    return receipt.id


def _approve(s: SubmissionStore, i: str) -> Any:
    return s.approve(i, "Mo")


def _approve_changed(s: SubmissionStore, i: str) -> Any:
    return s.approve(i, "Mo", data=listing(summary="Changed"))


def _reject(s: SubmissionStore, i: str) -> Any:
    return s.reject(i, "Mo", "because")


# Approving an approved submission again, unchanged, returns its record (see below).
@pytest.mark.parametrize(
    ("make", "action"),
    [
        (_approved, _approve_changed),
        (_approved, _reject),
        (_rejected, _approve),
        (_rejected, _approve_changed),
        (_rejected, _reject),
        (_withdrawn, _approve),
        (_withdrawn, _reject),
    ],
)
def test_moderation_only_applies_to_pending_submissions(
    store: SubmissionStore, make: Any, action: Any
) -> None:
    submission_id = make(store)
    before = store.get(submission_id)
    with pytest.raises(InvalidTransition, match=before.status):
        action(store, submission_id)
    assert store.get(submission_id) == before


# ---------------------------------------------------------------------------------------------
# Updates and diffs


def test_an_update_to_a_curated_record_is_diffed_but_never_written(
    store: SubmissionStore, data_dir: Path
) -> None:
    curated = write_curated(data_dir)
    original = curated.read_text(encoding="utf-8")
    change = {
        "name": "Gloucester Museum Makers",
        "kind": "organisation",
        "status": "established",
        "art_forms": ["crafts", "Printmaking"],
        "locations": [{"place": "Gloucester"}],
        "consent": {"listing": True},
    }
    receipt = store.submit(change, update_of="gloucester-museum-makers")
    assert store.get(receipt.id).update_of == "gloucester-museum-makers"
    assert store.diff(receipt.id) == [("art_forms", ["crafts"], ["crafts", "printmaking"])]
    with pytest.raises(CuratedRecordError) as caught:
        store.approve(receipt.id, "Mo")
    assert "printmaking" in caught.value.record_yaml
    assert caught.value.source.endswith("gloucester-museum-makers.yaml")
    assert curated.read_text(encoding="utf-8") == original
    assert not (data_dir / "community").exists()
    assert store.get(receipt.id).status == "pending"  # nothing lost; reject once applied


def test_an_update_of_an_unknown_record_is_refused(store: SubmissionStore) -> None:
    for target in ("no-such-record", "../../etc/passwd"):
        with pytest.raises(RecordNotFound):
            store.submit(listing(), update_of=target)


def test_editing_an_approved_submission_proposes_an_update(
    store: SubmissionStore, data_dir: Path
) -> None:
    receipt = store.submit(listing())
    record = store.approve(receipt.id, "Mo")
    path = data_dir / "community" / f"{record.id}.yaml"
    published = path.read_text(encoding="utf-8")
    changed = {**store.get(receipt.id).data, "summary": "Now fortnightly.", "art_forms": ["music"]}
    submission = store.edit(receipt.id, receipt.edit_code, changed)
    assert submission.status == "pending" and submission.update_of == record.id
    assert path.read_text(encoding="utf-8") == published  # live until re-approved
    assert dict((f, (old, new)) for f, old, new in store.diff(receipt.id)) == {
        "summary": ("Weekly singing for people with lung conditions.", "Now fortnightly."),
        "art_forms": (["singing"], ["music"]),
    }
    updated = store.approve(receipt.id, "Mo")
    assert updated.id == record.id and updated.summary == "Now fortnightly."
    result = load_records(data_dir, use_cache=False)
    assert result.problems == [] and [r.summary for r in result.records] == ["Now fortnightly."]
    assert len(result.records[0].sources) == 1  # one approval note, the latest


def test_a_new_listing_diff_shows_every_field_as_new(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    diff = dict((f, (old, new)) for f, old, new in store.diff(receipt.id))
    assert diff["name"] == (None, "Stroud Singing for Breathing")
    assert diff["art_forms"] == (None, ["singing"])
    assert "id" not in diff


def test_a_rejected_submission_can_be_fixed_and_resent(store: SubmissionStore) -> None:
    receipt = store.submit(listing(kind="spaceship"))
    store.reject(receipt.id, "Mo", "kind must be one of the listed ones")
    submission = store.edit(receipt.id, receipt.edit_code, listing())
    assert submission.status == "pending" and submission.problems == []
    assert submission.reason is None and submission.history[-2]["action"] == "rejected"


# ---------------------------------------------------------------------------------------------
# Withdrawal: the right to erasure


def test_withdrawal_unpublishes_and_wipes_personal_data(
    store: SubmissionStore, data_dir: Path
) -> None:
    receipt = store.submit(listing())
    record = store.approve(receipt.id, "Mo")
    assert (data_dir / "community" / f"{record.id}.yaml").is_file()
    submission = store.withdraw(receipt.id, receipt.edit_code)
    assert submission.status == "withdrawn"
    assert not (data_dir / "community" / f"{record.id}.yaml").exists()
    assert load_records(data_dir, use_cache=False).records == []
    assert "contact" not in submission.data and "description" not in submission.data
    assert submission.data["locations"] == [{"place": "Stroud"}]
    assert submission.problems == []
    on_disk = files_text(data_dir)
    for secret in ("Jo Bloggs", "jo@example.org", "01453 123456", "7 Private Lane", "GL5 1AA"):
        assert secret not in on_disk
    entry = store.audit_log()[-1]
    assert entry["action"] == "withdrawn" and entry["record_removed"] is True


def test_withdrawing_a_freelance_artist_wipes_their_name(store: SubmissionStore) -> None:
    receipt = store.submit(listing(kind="freelance-artist", name="Ada Artist"))
    submission = store.withdraw(receipt.id, receipt.edit_code)
    assert submission.data["name"] == "(withdrawn)"


def test_withdrawing_an_update_keeps_a_record_it_did_not_create(
    store: SubmissionStore, data_dir: Path
) -> None:
    owner = store.submit(listing())
    record = store.approve(owner.id, "Mo")
    other = store.submit(listing(summary="Changed by someone else."), update_of=record.id)
    store.approve(other.id, "Mo")
    store.withdraw(other.id, other.edit_code)
    assert (data_dir / "community" / f"{record.id}.yaml").is_file()
    assert store.audit_log()[-1]["record_removed"] is False


def test_after_withdrawal_the_code_works_for_nothing(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    store.withdraw(receipt.id, receipt.edit_code)
    with pytest.raises(InvalidEditCode):
        store.edit(receipt.id, receipt.edit_code, listing())
    with pytest.raises(InvalidEditCode):
        store.withdraw(receipt.id, receipt.edit_code)
    with pytest.raises(InvalidTransition):
        store.approve(receipt.id, "Mo")


# ---------------------------------------------------------------------------------------------
# Edit codes


def test_a_wrong_code_is_refused_and_the_right_one_works(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    wrong = "2222-3333-4444-5555"
    with pytest.raises(InvalidEditCode, match="wrong edit code"):
        store.edit(receipt.id, wrong, listing(summary="Hijacked"))
    with pytest.raises(InvalidEditCode):
        store.withdraw(receipt.id, "")
    assert store.get(receipt.id).data["summary"] != "Hijacked"
    typed = " " + receipt.edit_code.lower().replace("-", " ") + " "  # read out over the phone
    assert store.edit(receipt.id, typed, listing(summary="Fine")).data["summary"] == "Fine"
    assert store.edit(receipt.id, receipt.edit_code, listing(summary="Again")).status == "pending"


GUESSER, OWNER = "203.0.113.7", "198.51.100.20"
WRONG = "2222-3333-4444-5555"


def test_a_guesser_is_locked_out_but_never_the_owner(
    store: SubmissionStore, clock: FakeClock
) -> None:
    receipt = store.submit(listing())
    for _ in range(EDIT_CODE_REFERENCE.free - 1):
        with pytest.raises(InvalidEditCode) as caught:
            store.edit(receipt.id, WRONG, listing(), client=GUESSER)
        assert not isinstance(caught.value, EditCodeLocked)
    with pytest.raises(EditCodeLocked, match="try again in 15 minutes"):
        store.edit(receipt.id, WRONG, listing(), client=GUESSER)
    with pytest.raises(EditCodeLocked):  # the guesser, even with the right code, must wait
        store.withdraw(receipt.id, receipt.edit_code, client=GUESSER)
    assert store.get(receipt.id).status == "pending"
    # The owner, elsewhere, is not locked out at all.
    assert store.withdraw(receipt.id, receipt.edit_code, client=OWNER).status == "withdrawn"
    entries = store.audit_log()
    assert [e["action"] for e in entries] == ["submitted", "locked", "withdrawn"]
    assert entries[1]["client"] == GUESSER and entries[1]["rule"] == EDIT_CODE_REFERENCE.name


def test_a_guessers_wait_grows_and_ends(store: SubmissionStore, clock: FakeClock) -> None:
    receipt = store.submit(listing())
    for _ in range(EDIT_CODE_REFERENCE.free):
        with pytest.raises(InvalidEditCode):
            store.edit(receipt.id, WRONG, listing(), client=GUESSER)
    clock.advance(dt.timedelta(minutes=15) - dt.timedelta(seconds=1))
    with pytest.raises(EditCodeLocked):
        store.edit(receipt.id, WRONG, listing(), client=GUESSER)
    clock.advance(dt.timedelta(seconds=2))
    with pytest.raises(EditCodeLocked, match="try again in 30 minutes"):  # doubled
        store.edit(receipt.id, WRONG, listing(), client=GUESSER)
    clock.advance(dt.timedelta(minutes=30))
    assert store.edit(receipt.id, receipt.edit_code, listing(), client=GUESSER).id == receipt.id
    # A success forgets this address's misses on this reference.
    assert store.limits.count(EDIT_CODE_REFERENCE, f"{GUESSER} {receipt.id}") == 0


def test_one_address_guessing_many_references_is_limited(store: SubmissionStore) -> None:
    references = [store.submit(listing(name=f"Group {n}")).id for n in range(EDIT_CODE.free)]
    for reference in references[:-1]:
        with pytest.raises(InvalidEditCode) as caught:
            store.withdraw(reference, WRONG, client=GUESSER)
        assert not isinstance(caught.value, EditCodeLocked)
    with pytest.raises(EditCodeLocked, match="from your connection"):
        store.withdraw(references[-1], WRONG, client=GUESSER)
    with pytest.raises(EditCodeLocked):
        store.withdraw(store.submit(listing(name="Fresh")).id, WRONG, client=GUESSER)


def test_distributed_guessing_meets_a_generous_ceiling_per_reference(
    store: SubmissionStore,
) -> None:
    receipt = store.submit(listing())
    for n in range(EDIT_CODE_REFERENCE_TOTAL.free):  # wrong codes from 100 addresses
        client = f"10.0.{n // 250}.{n % 250}"
        assert store.limits.attempt(*edit_code_entries(client, receipt.id)).refused is None
    with pytest.raises(EditCodeLocked, match="from many places"):
        store.withdraw(receipt.id, receipt.edit_code, client=OWNER)


def test_a_success_resets_the_failure_count(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    for _ in range(2):
        for _ in range(EDIT_CODE_REFERENCE.free - 1):
            with pytest.raises(InvalidEditCode) as caught:
                store.edit(receipt.id, "nope", listing())
            assert not isinstance(caught.value, EditCodeLocked)
        store.edit(receipt.id, receipt.edit_code, listing())
    assert store.get(receipt.id).status == "pending"


def test_wrong_codes_change_nothing_in_the_submission(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    path = store.root / f"{receipt.id}.yaml"
    before = path.read_bytes()
    for _ in range(EDIT_CODE_REFERENCE.free + 2):
        with pytest.raises(InvalidEditCode):
            store.withdraw(receipt.id, WRONG, client=GUESSER)
    assert path.read_bytes() == before


def test_the_plain_edit_code_is_nowhere_on_disk(store: SubmissionStore, tmp_path: Path) -> None:
    receipts = [store.submit(listing(name=f"Group {n}")) for n in range(3)]
    store.edit(receipts[0].id, receipts[0].edit_code, listing(summary="Edited"))
    store.approve(receipts[1].id, "Mo")
    store.withdraw(receipts[2].id, receipts[2].edit_code)
    on_disk = files_text(tmp_path)
    for receipt in receipts:
        code = receipt.edit_code
        for form in (code, code.replace("-", ""), code.lower(), code.replace("-", "").lower()):
            assert form not in on_disk
    stored = yaml.safe_load((store.root / f"{receipts[0].id}.yaml").read_text(encoding="utf-8"))
    assert stored["auth"]["scheme"] == "scrypt" and len(stored["auth"]["salt"]) == 32
    audit = store.audit_path.read_text(encoding="utf-8")
    assert stored["auth"]["hash"] not in audit and stored["auth"]["salt"] not in audit
    assert "auth" not in audit


# ---------------------------------------------------------------------------------------------
# The audit log


def test_every_state_change_is_audited_without_personal_data(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    store.edit(
        receipt.id,
        receipt.edit_code,
        listing(contact={"email": "new@example.org"}, art_forms=["Music"], summary="New"),
    )
    store.approve(receipt.id, "Mo")
    other = store.submit(listing(name="Other"))
    store.reject(other.id, "Mo", "duplicate")
    store.withdraw(receipt.id, receipt.edit_code)
    log = store.audit_log()
    assert [(e["action"], e["who"]) for e in log] == [
        ("submitted", "submitter"),
        ("edited", "submitter"),
        ("approved", "Mo"),
        ("submitted", "submitter"),
        ("rejected", "Mo"),
        ("withdrawn", "submitter"),
    ]
    for entry in log:
        assert dt.datetime.fromisoformat(entry["at"]).utcoffset() == dt.timedelta(0)
        assert entry["submission"] in (receipt.id, other.id)
        assert isinstance(entry["changed"], list)
    edited = log[1]
    assert set(edited["changed"]) == {"contact", "art_forms", "summary"}
    assert edited["before"] == {"art_forms": ["Singing"]}
    assert edited["after"] == {"art_forms": ["Music"]}
    text = store.audit_path.read_text(encoding="utf-8")
    for secret in ("jo@example.org", "new@example.org", "Jo Bloggs", "Private Lane", "duplicate"):
        assert secret not in text


def test_a_torn_audit_line_is_skipped_and_closed_off(store: SubmissionStore) -> None:
    store.submit(listing())
    with open(store.audit_path, "a", encoding="utf-8") as handle:
        handle.write('{"at": "2026-03-14T09:30:00+00:00", "acti')  # a crash mid-append
    store.submit(listing(name="After the crash"))
    lines = store.audit_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["action"] == "submitted"
    assert [e["action"] for e in store.audit_log()] == ["submitted", "submitted"]


# ---------------------------------------------------------------------------------------------
# Where things live


def test_folders_come_from_the_environment(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(data_dir))
    assert SubmissionStore().root == data_dir / "submissions"
    monkeypatch.setenv("AOP_MAP_SUBMISSIONS_DIR", str(tmp_path / "queue"))
    store = SubmissionStore()
    assert store.root == tmp_path / "queue" and store.data_dir == data_dir
    receipt = store.submit(listing())
    assert (tmp_path / "queue" / f"{receipt.id}.yaml").is_file()
    assert SubmissionStore(tmp_path / "elsewhere", data_dir=data_dir).root.name == "elsewhere"


def test_submissions_are_never_where_the_map_would_publish_them(data_dir: Path) -> None:
    for root in (data_dir, data_dir / "queue"):
        with pytest.raises(StoreError, match="inside the data directory"):
            SubmissionStore(root, data_dir=data_dir)
    SubmissionStore(data_dir / ".queue", data_dir=data_dir)  # hidden from the loader: fine


def test_submissions_are_invisible_to_the_loader(store: SubmissionStore, data_dir: Path) -> None:
    store.submit(listing())
    store.submit(listing(kind="spaceship"))
    assert load_records(data_dir, use_cache=False).records == []
    assert load_records(data_dir, use_cache=False).problems == []


def test_receipt_is_a_plain_value() -> None:
    assert Receipt("AOP-2026-ABCDEF", "AAAA-BBBB-CCCC-DDDD").problems == []


# ---------------------------------------------------------------------------------------------
# Concurrency: threads and processes never overwrite or corrupt each other

ROOT = Path(__file__).resolve().parents[1]


def submit_in_process(root: str, data_dir: str, n: int, barrier: Any, results: Any) -> None:
    """One submission from a separate process, released with the others by a barrier."""
    store = SubmissionStore(Path(root), data_dir=Path(data_dir))
    barrier.wait()
    receipt = store.submit(
        {
            "name": f"Process listing {n}",
            "kind": "programme",
            "status": "emerging",
            "locations": [{"place": "Stroud"}],
            "consent": {"listing": True},
        }
    )
    results.put((n, receipt.id, receipt.edit_code))


def spawn_python(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def run_together(count: int, action: Any) -> list[Any]:
    """Run ``action(n)`` in ``count`` threads released at once; results in order of n."""
    barrier = threading.Barrier(count)

    def run(n: int) -> Any:
        barrier.wait()
        return action(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.slow
def test_100_concurrent_submissions_from_threads_and_processes_all_land(
    data_dir: Path,
) -> None:
    # forkserver: each process is forked from a clean server (no threads, no held locks) that
    # imported the store once; 50 spawned interpreters would spend ~50 s importing on 2 cores.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["aop_map.store", __name__])
    store = SubmissionStore(data_dir=data_dir)
    barrier, results = context.Barrier(51), context.Queue()
    processes = [
        context.Process(
            target=submit_in_process, args=(str(store.root), str(data_dir), n, barrier, results)
        )
        for n in range(50)
    ]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=120)  # every process is ready: release them and the threads
        by_thread = run_together(
            50, lambda n: store.submit(listing(name=f"Thread listing {n}", summary=str(n)))
        )
        by_process = sorted(results.get(timeout=120) for _ in processes)
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
    ids = [r.id for r in by_thread] + [reference for _, reference, _ in by_process]
    assert len(set(ids)) == 100
    names = {s.id: s.data["name"] for s in store.list()}
    assert len(names) == 100
    for n, receipt in enumerate(by_thread):
        assert names[receipt.id] == f"Thread listing {n}"
        assert store.get(receipt.id).data["summary"] == str(n)
    for n, reference, _ in by_process:
        assert names[reference] == f"Process listing {n}"
    lines = store.audit_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 100
    entries = [json.loads(line) for line in lines]
    assert {e["submission"] for e in entries} == set(ids)
    assert {e["action"] for e in entries} == {"submitted"}
    assert not list(store.root.glob(".aop-tmp-*"))
    # A code issued in another process works here: its hash was stored whole.
    _, reference, code = by_process[7]
    assert store.withdraw(reference, code).status == "withdrawn"


def test_concurrent_edits_of_one_submission_are_never_lost(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    # From 16 addresses: one address's burst of attempts is limited before any is verified.
    run_together(
        16,
        lambda n: store.edit(
            receipt.id, receipt.edit_code, listing(summary=f"Edit {n}"), client=f"10.0.0.{n}"
        ),
    )
    submission = store.get(receipt.id)
    assert [h["action"] for h in submission.history] == ["submitted"] + ["edited"] * 16
    assert submission.data["summary"] in {f"Edit {n}" for n in range(16)}
    assert len(store.audit_log()) == 17


def test_concurrent_wrong_codes_are_all_counted(store: SubmissionStore) -> None:
    receipt = store.submit(listing())

    def guess(n: int) -> type[Exception]:
        try:
            store.edit(receipt.id, f"WRONG-{n}", listing(), client=GUESSER)
        except InvalidEditCode as error:
            return type(error)
        raise AssertionError("a wrong code was accepted")

    burst = EDIT_CODE_REFERENCE.free + 3
    outcomes = run_together(burst, guess)
    # Counted before checking: the fifth starts the wait, and the rest wait without scrypt.
    assert outcomes.count(InvalidEditCode) == EDIT_CODE_REFERENCE.free - 1
    assert outcomes.count(EditCodeLocked) == 4
    key = f"{GUESSER} {receipt.id}"
    assert store.limits.count(EDIT_CODE_REFERENCE, key) == EDIT_CODE_REFERENCE.free
    with pytest.raises(EditCodeLocked):
        store.edit(receipt.id, receipt.edit_code, listing(), client=GUESSER)
    assert store.edit(receipt.id, receipt.edit_code, listing(), client=OWNER).id == receipt.id


def test_concurrent_approvals_of_one_name_get_distinct_record_ids(
    data_dir: Path, clock: FakeClock
) -> None:
    # Two store objects on one folder share the in-process lock; flock covers other processes.
    stores = [SubmissionStore(data_dir=data_dir, clock=clock) for _ in range(2)]
    ids = [stores[0].submit(listing()).id for _ in range(10)]
    records = run_together(10, lambda n: stores[n % 2].approve(ids[n], "Mo"))
    assert len({r.id for r in records}) == 10
    result = load_records(data_dir, use_cache=False)
    assert result.problems == [] and len(result.records) == 10


# ---------------------------------------------------------------------------------------------
# Crashes: a failed or killed write leaves the old file or the new one, never half of one


def test_a_failing_rename_leaves_the_old_files_whole(
    store: SubmissionStore, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = store.submit(listing())
    path = store.root / f"{receipt.id}.yaml"
    before, audit_before = path.read_bytes(), store.audit_path.read_bytes()

    def fail(*_: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        store.edit(receipt.id, receipt.edit_code, listing(summary="Lost?"))
    with pytest.raises(OSError):
        store.approve(receipt.id, "Mo")
    monkeypatch.undo()
    assert path.read_bytes() == before and store.audit_path.read_bytes() == audit_before
    assert store.get(receipt.id).status == "pending"
    assert not list(store.root.glob(".aop-tmp-*"))
    community = data_dir / "community"
    assert not community.exists() or not any(community.iterdir())
    assert store.approve(receipt.id, "Mo").id  # and the store carries on


def test_a_write_dying_half_way_leaves_the_old_file_whole(
    store: SubmissionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = store.submit(listing())
    path = store.root / f"{receipt.id}.yaml"
    before = path.read_bytes()
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, handle: Any) -> None:
            self.handle = handle

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: Any) -> None:
            self.handle.close()

        def write(self, text: str) -> None:
            self.handle.write(text[: len(text) // 2])
            self.handle.flush()
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: HalfWriter(real_fdopen(fd, *a, **k)))
    with pytest.raises(OSError):
        store.edit(receipt.id, receipt.edit_code, listing(summary="Half"))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not list(store.root.glob(".aop-tmp-*"))
    assert store.get(receipt.id).data["summary"] == listing()["summary"]


# An approval interrupted at any of its durable steps is finished or undone, never half-done

APPROVE_STEPS = ("intent", "record", "audit line", "submission", "intent removal")
STEPS = range(1, len(APPROVE_STEPS) + 1)
RECORD_STEP = APPROVE_STEPS.index("record") + 1  # a crash before it publishes nothing


class Crash(Exception):
    """Stands for the process dying at this point (nothing after it runs)."""


def crash_at(monkeypatch: pytest.MonkeyPatch, step: int | None) -> list[str]:
    """Crash just before the store's ``step``-th durable write (1-based; None: never).

    Returns the list of steps taken, filled in as they happen. The store's modules call these
    through ``aop_map.store.files``, so patching that module reaches every step."""
    taken: list[str] = []
    for name in ("atomic_write", "append_line", "remove_file"):
        real = getattr(store_files, name)

        def effect(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            if len(taken) + 1 == step:
                raise Crash(f"crashed before step {step}")
            taken.append(f"{_name} {Path(args[0]).parent.name}/{Path(args[0]).name}")
            return _real(*args, **kwargs)

        monkeypatch.setattr(store_files, name, effect)
    return taken


def published(data_dir: Path) -> list[Path]:
    community = data_dir / "community"
    return sorted(community.glob("*.yaml")) if community.is_dir() else []


def test_an_approval_takes_five_durable_steps_in_journal_order(
    store: SubmissionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = store.submit(listing())
    taken = crash_at(monkeypatch, None)
    record = store.approve(receipt.id, "Mo")
    assert taken == [
        f"atomic_write intents/{receipt.id}.json",
        f"atomic_write community/{record.id}.yaml",
        "append_line submissions/audit.jsonl",
        f"atomic_write submissions/{receipt.id}.yaml",
        f"remove_file intents/{receipt.id}.json",
    ]
    assert len(taken) == len(APPROVE_STEPS)


@pytest.mark.parametrize("step", STEPS, ids=[f"before the {name}" for name in APPROVE_STEPS])
def test_a_crash_at_any_step_of_approve_is_repaired(
    data_dir: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    store = SubmissionStore(data_dir=data_dir, clock=clock)
    receipt = store.submit(listing())
    crash_at(monkeypatch, step)
    with pytest.raises(Crash):
        store.approve(receipt.id, "Mo")
    monkeypatch.undo()

    reopened = SubmissionStore(data_dir=data_dir, clock=clock)  # a restarted server
    reopened.repair()
    submission = reopened.get(receipt.id)
    approvals = [e for e in reopened.audit_log() if e["action"] == "approved"]
    assert not list(reopened.intents_dir.glob("*"))
    if step <= RECORD_STEP:  # the record was never written: undone
        assert submission.status == "pending" and published(data_dir) == []
        assert approvals == []
    else:  # the record is out: the approval is completed, audited once
        assert submission.status == "approved"
        assert [p.stem for p in published(data_dir)] == [submission.record_id]
        assert len(approvals) == 1 and approvals[0]["record_id"] == submission.record_id
    assert load_records(data_dir, use_cache=False).problems == []

    # Approving again never publishes a second copy; the first approval's record stands.
    record = reopened.approve(receipt.id, "Mo")
    assert [p.stem for p in published(data_dir)] == [record.id]
    assert reopened.get(receipt.id).status == "approved"
    assert len([e for e in reopened.audit_log() if e["action"] == "approved"]) == 1


@pytest.mark.parametrize("step", STEPS, ids=[f"before the {name}" for name in APPROVE_STEPS])
def test_withdrawing_after_a_crashed_approval_really_unpublishes(
    data_dir: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    store = SubmissionStore(data_dir=data_dir, clock=clock)
    receipt = store.submit(listing())
    crash_at(monkeypatch, step)
    with pytest.raises(Crash):
        store.approve(receipt.id, "Mo")
    monkeypatch.undo()

    reopened = SubmissionStore(data_dir=data_dir, clock=clock)  # no explicit repair: withdraw
    assert reopened.withdraw(receipt.id, receipt.edit_code).status == "withdrawn"
    assert published(data_dir) == []
    assert load_records(data_dir, use_cache=False).records == []
    on_disk = files_text(data_dir)
    for secret in ("jo@example.org", "01453 123456", "Jo Bloggs"):
        assert secret not in on_disk


@pytest.mark.parametrize("step", STEPS, ids=[f"before the {name}" for name in APPROVE_STEPS])
def test_a_crash_while_approving_an_update_leaves_the_old_or_the_new_record(
    data_dir: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, step: int
) -> None:
    store = SubmissionStore(data_dir=data_dir, clock=clock)
    record = store.approve(store.submit(listing()).id, "Mo")
    path = data_dir / "community" / f"{record.id}.yaml"
    old = path.read_text(encoding="utf-8")
    update = store.submit(listing(summary="A new summary."), update_of=record.id)
    crash_at(monkeypatch, step)
    with pytest.raises(Crash):
        store.approve(update.id, "Mo")
    monkeypatch.undo()

    reopened = SubmissionStore(data_dir=data_dir, clock=clock)
    status = reopened.get(update.id).status
    if step <= RECORD_STEP:
        assert status == "pending" and path.read_text(encoding="utf-8") == old
    else:
        assert status == "approved" and "A new summary." in path.read_text(encoding="utf-8")
    assert [p.stem for p in published(data_dir)] == [record.id]
    assert reopened.approve(update.id, "Mo").summary == "A new summary."
    assert [p.stem for p in published(data_dir)] == [record.id]


def test_approving_an_approved_submission_again_returns_its_record(
    store: SubmissionStore, data_dir: Path
) -> None:
    receipt = store.submit(listing())
    first = store.approve(receipt.id, "Mo")
    log = store.audit_log()
    assert store.approve(receipt.id, "Someone else") == first
    assert store.audit_log() == log and [p.stem for p in published(data_dir)] == [first.id]


# A process killed (SIGKILL: no cleanup, no finally) after writing the temp file, before the
# rename, while it holds the lock.
KILLED_CHILD = """
import os, signal, sys
from pathlib import Path
from aop_map import store as store_module

store = store_module.SubmissionStore(data_dir=Path(sys.argv[1]))
real_replace = os.replace


def die_before_renaming_a_store_file(source, target):
    # Not the loader's cache files; for an approval, at its record (after the intent).
    wanted = "community" if sys.argv[2] == "approve" else ""
    if store_module.TEMP_PREFIX in str(source) and wanted in str(target):
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, target)


os.replace = die_before_renaming_a_store_file
if sys.argv[2] == "edit":
    store.edit(sys.argv[3], sys.argv[4], {
        "name": "Half done", "kind": "programme", "status": "emerging",
        "consent": {"listing": True},
    })
else:
    store.approve(sys.argv[3], "Mo")
"""


@pytest.mark.parametrize("action", ["edit", "approve"])
def test_a_process_killed_mid_write_damages_nothing(
    store: SubmissionStore, data_dir: Path, action: str
) -> None:
    receipt = store.submit(listing())
    path = store.root / f"{receipt.id}.yaml"
    before = path.read_bytes()
    child = spawn_python(KILLED_CHILD, str(data_dir), action, receipt.id, receipt.edit_code)
    _, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err
    folder = store.root if action == "edit" else data_dir / "community"
    leftovers = list(folder.glob(".aop-tmp-*"))
    assert len(leftovers) == 1  # the crash really happened between write and rename
    assert path.read_bytes() == before
    assert store.get(receipt.id).status == "pending"
    assert [s.id for s in store.list()] == [receipt.id]
    result = load_records(data_dir, use_cache=False)
    assert result.records == [] and result.problems == []
    # The dead process's lock is gone with it; the next writer sweeps its temp file.
    fresh = SubmissionStore(data_dir=data_dir)
    done = run_together(1, lambda _: fresh.approve(receipt.id, "Mo"))
    assert done[0].id == "stroud-singing-for-breathing"
    assert not list(folder.glob(".aop-tmp-*"))
    assert load_records(data_dir, use_cache=False).problems == []


# ---------------------------------------------------------------------------------------------
# Updates by the provider with the edit code (issue 12 §4)


def test_an_update_of_a_published_listing_is_a_pending_change_until_approved(
    store: SubmissionStore, data_dir: Path
) -> None:
    receipt = store.submit(listing())
    record = store.approve(receipt.id, "Mo")
    opened = store.open_for_update(receipt.id, receipt.edit_code)
    assert opened.data["summary"] == listing()["summary"]  # the form's prefill
    store.edit(receipt.id, receipt.edit_code, listing(summary="Now on Tuesdays."))
    pending = store.get(receipt.id)
    assert (pending.status, pending.update_of) == ("pending", record.id)
    published = load_records(data_dir).records
    assert [r.summary for r in published] == [listing()["summary"]]  # unchanged until approved
    assert store.diff(receipt.id) == [("summary", listing()["summary"], "Now on Tuesdays.")]
    updated = store.approve(receipt.id, "Mo")
    assert updated.id == record.id and updated.summary == "Now on Tuesdays."
    assert [r.summary for r in load_records(data_dir).records] == ["Now on Tuesdays."]
    assert store.approve(receipt.id, "Mo") == updated  # again: the same record, nothing new
    assert len(list((data_dir / "community").glob("*.yaml"))) == 1


def test_opening_an_update_is_limited_as_withdrawal_is(store: SubmissionStore) -> None:
    receipt = store.submit(listing())
    for _ in range(EDIT_CODE_REFERENCE.free - 1):
        with pytest.raises(InvalidEditCode) as caught:
            store.open_for_update(receipt.id, WRONG, client=GUESSER)
        assert not isinstance(caught.value, EditCodeLocked)
    with pytest.raises(EditCodeLocked, match="try again in 15 minutes"):
        store.open_for_update(receipt.id, WRONG, client=GUESSER)
    with pytest.raises(EditCodeLocked):  # the guesser waits, even with the right code
        store.open_for_update(receipt.id, receipt.edit_code, client=GUESSER)
    with pytest.raises(EditCodeLocked):  # and the same counters guard withdrawal
        store.withdraw(receipt.id, receipt.edit_code, client=GUESSER)
    assert store.open_for_update(receipt.id, receipt.edit_code, client=OWNER).id == receipt.id
    store.withdraw(receipt.id, receipt.edit_code, client=OWNER)
    with pytest.raises(InvalidEditCode):  # a withdrawn listing opens for nobody
        store.open_for_update(receipt.id, receipt.edit_code, client=OWNER)
