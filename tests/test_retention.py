"""How long the store keeps a rejected listing's personal data: REJECTED_KEEP_DAYS, then erased
by every read and write of submissions and by `aop-map submissions purge` (UK GDPR storage
limitation), the submission kept without it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from aop_map import fields, registration
from aop_map.cli import main
from aop_map.store import REJECTED_KEEP_DAYS, StoreError, SubmissionStore, wipe_personal
from tests.test_store import files_text, listing

# Long enough ago for `aop-map submissions purge`, on the real clock, to find these due.
START = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=4 * REJECTED_KEEP_DAYS)
SECRETS = ("Jo Bloggs", "jo@example.org", "01453 123456", "7 Private Lane", "GL5 1AA", "Ask for Jo")


class Clock:
    """A clock the test sets by hand: whole days after START."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def day(self, days: float) -> None:
        self.now = START + dt.timedelta(days=days)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(data_dir: Path, clock: Clock) -> SubmissionStore:
    return SubmissionStore(data_dir=data_dir, clock=clock)


def rejected(store: SubmissionStore, **overrides: Any) -> tuple[str, str]:
    """A listing turned down at the clock's time: (reference, edit code)."""
    receipt = store.submit(listing(**overrides))
    store.reject(receipt.id, "Mo", "Not in Gloucestershire")
    return receipt.id, receipt.edit_code


def raw(store: SubmissionStore, reference: str) -> str:
    return (store.root / f"{reference}.yaml").read_text(encoding="utf-8")


def erasures(store: SubmissionStore) -> list[dict[str, Any]]:
    return [e for e in store.audit_log() if e["action"] == "personal-data-erased"]


def test_day_89_keeps_and_day_90_erases_on_the_next_read(
    store: SubmissionStore, clock: Clock
) -> None:
    reference, _ = rejected(store)
    clock.day(REJECTED_KEEP_DAYS - 1)
    assert store.get(reference).data["contact"]["email"] == "jo@example.org"
    assert store.list("rejected")[0].data["contact"]["name"] == "Jo Bloggs"
    assert "jo@example.org" in raw(store, reference) and erasures(store) == []
    clock.day(REJECTED_KEEP_DAYS)
    submission = store.get(reference)
    assert "contact" not in submission.data and "description" not in submission.data
    assert submission.data["locations"] == [{"place": "Stroud"}]
    assert submission.personal_erased_at == clock.now
    # The submission stays: reference, status, reason, the rest of its content, its history.
    assert (submission.id, submission.status) == (reference, "rejected")
    assert submission.reason == "Not in Gloucestershire"
    assert submission.data["name"] == "Stroud Singing for Breathing"
    assert submission.data["summary"] == listing()["summary"]
    assert submission.history[-1]["action"] == "personal-data-erased"
    assert submission.history[-1]["who"] == "aop-map"
    assert not any(secret in raw(store, reference) for secret in SECRETS)
    assert len(erasures(store)) == 1
    store.get(reference)
    store.list()
    assert len(erasures(store)) == 1  # erased once, audited once


def test_listing_erases_every_due_one(store: SubmissionStore, clock: Clock) -> None:
    first, _ = rejected(store)
    clock.day(10)
    second, _ = rejected(store, name="Other choir")
    clock.day(REJECTED_KEEP_DAYS + 5)
    by_id = {s.id: s for s in store.list()}
    assert "contact" not in by_id[first].data
    assert by_id[second].data["contact"]["email"] == "jo@example.org"
    clock.day(REJECTED_KEEP_DAYS + 10)
    assert all("contact" not in s.data for s in store.list("rejected"))


def test_a_write_erases_the_due_ones(store: SubmissionStore, clock: Clock) -> None:
    reference, _ = rejected(store)
    clock.day(REJECTED_KEEP_DAYS)
    store.submit(listing(name="A new choir"))  # a write, reading nothing of the old one
    assert not any(secret in raw(store, reference) for secret in SECRETS)
    assert [e["submission"] for e in erasures(store)] == [reference]


def test_purge_erases_the_due_ones_and_says_how_many(
    store: SubmissionStore, clock: Clock, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _ = rejected(store)
    older, _ = rejected(store, name="Older choir")
    clock.day(30)
    recent, _ = rejected(store, name="Recent choir")
    pending = store.submit(listing(name="Undecided choir")).id
    clock.day(REJECTED_KEEP_DAYS + 1)
    assert store.purge_personal_data() == 2
    assert store.purge_personal_data() == 0  # nothing left: nothing audited twice
    assert sorted(e["submission"] for e in erasures(store)) == sorted([old, older])
    assert "jo@example.org" in raw(store, recent) and "jo@example.org" in raw(store, pending)
    clock.day(REJECTED_KEEP_DAYS + 30)
    args = ["submissions", "purge", "--data-dir", str(data_dir)]
    assert main(args) == 0  # the command's own store, on the real clock: later still
    assert capsys.readouterr().out.startswith("erased the personal data of 1 submission(s)")
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"erased": 0, "days": REJECTED_KEEP_DAYS}
    assert "jo@example.org" in raw(store, pending)  # undecided: never erased for its age
    assert main(["submissions", "show", old, "--json", "--data-dir", str(data_dir)]) == 0
    shown = capsys.readouterr().out
    assert json.loads(shown)["personal_erased_at"] and not any(s in shown for s in SECRETS)


def test_the_audit_names_the_erasure_never_the_data(store: SubmissionStore, clock: Clock) -> None:
    reference, _ = rejected(store)
    clock.day(REJECTED_KEEP_DAYS)
    store.purge_personal_data()
    (entry,) = erasures(store)
    assert entry["submission"] == reference and entry["who"] == "aop-map"
    assert entry["reason"] == f"rejected {REJECTED_KEEP_DAYS} days ago"
    assert set(entry["changed"]) == {"contact", "description", "locations"}
    assert "before" not in entry and "after" not in entry
    audit = store.audit_path.read_text(encoding="utf-8")
    assert not any(secret in audit for secret in SECRETS)
    assert not any(secret in files_text(store.root) for secret in SECRETS)


def test_approved_pending_and_withdrawn_ones_are_not_erased(
    store: SubmissionStore, clock: Clock
) -> None:
    approved = store.submit(listing(name="Approved choir"))
    store.approve(approved.id, "Mo")
    pending = store.submit(listing(name="Pending choir"))
    withdrawn = store.submit(listing(name="Withdrawn choir"))
    store.reject(withdrawn.id, "Mo", "no")
    store.withdraw(withdrawn.id, withdrawn.edit_code)
    before = {s.id: s.data for s in store.list()}
    clock.day(3 * REJECTED_KEEP_DAYS)
    assert store.purge_personal_data() == 0
    assert {s.id: s.data for s in store.list()} == before
    assert store.get(pending.id).data["contact"]["email"] == "jo@example.org"
    assert erasures(store) == []


def test_a_new_rejection_starts_the_time_again(store: SubmissionStore, clock: Clock) -> None:
    reference, code = rejected(store)
    clock.day(60)
    store.edit(reference, code, listing(summary="Fixed"))
    clock.day(80)
    store.reject(reference, "Mo", "Still not in Gloucestershire")
    clock.day(80 + REJECTED_KEEP_DAYS - 1)
    assert store.get(reference).data["contact"]["email"] == "jo@example.org"
    clock.day(80 + REJECTED_KEEP_DAYS)
    assert "contact" not in store.get(reference).data


def test_an_edit_after_erasure_asks_for_the_contact_details_again(
    store: SubmissionStore, clock: Clock
) -> None:
    reference, code = rejected(store)
    clock.day(REJECTED_KEEP_DAYS)
    opened = store.open_for_update(reference, code)  # the first thing to happen: erases first
    assert "contact" not in opened.data and opened.personal_erased_at is not None
    without = {k: v for k, v in listing().items() if k != "contact"}
    with pytest.raises(StoreError, match="please enter the contact details again"):
        store.edit(reference, code, without)
    with pytest.raises(StoreError, match="deleted"):
        store.edit(reference, code, {**without, "contact": {}})
    assert store.get(reference).status == "rejected"  # refused: nothing changed
    given = store.edit(reference, code, listing(contact={"email": "jo@example.net"}))
    assert given.status == "pending" and given.data["contact"] == {"email": "jo@example.net"}
    assert given.personal_erased_at is None  # what is kept now was given again
    assert "personal_erased" not in raw(store, reference)


def test_a_freelance_artists_erased_name_must_be_given_again(
    store: SubmissionStore, clock: Clock
) -> None:
    reference, code = rejected(store, kind="freelance-artist", name="Ada Artist")
    clock.day(REJECTED_KEEP_DAYS)
    wiped = store.get(reference).data
    assert wiped["name"] == "(name deleted)" and "Ada Artist" not in raw(store, reference)
    again = listing(kind="freelance-artist", name=wiped["name"])
    with pytest.raises(StoreError, match="enter your name and the contact details again"):
        store.edit(reference, code, {k: v for k, v in again.items() if k != "contact"})
    with pytest.raises(StoreError, match="enter your name again"):
        store.edit(reference, code, again)
    edited = store.edit(reference, code, listing(kind="freelance-artist", name="Ada Artist"))
    assert edited.status == "pending"


def test_the_register_page_opens_an_erased_listing_and_says_what_is_missing(
    store: SubmissionStore, clock: Clock
) -> None:
    reference, code = rejected(store)
    clock.day(REJECTED_KEEP_DAYS + 1)
    opened = registration.open_listing(store, reference, code, client="198.51.100.7")
    assert opened.error is None and opened.values is not None
    assert opened.values["email"] == "" and opened.values["publish_contact"] is True
    note = registration.updating_note(opened.updating)  # said as the form opens, not on sending
    assert "deleted its contact details on" in note and "enter them again" in note
    fresh = registration.open_listing(store, *rejected(store), client="198.51.100.7")
    assert "deleted" not in registration.updating_note(fresh.updating)
    vocabulary = store.vocabulary
    checked = registration.preview(
        {**opened.values, registration.CONSENT: True},
        vocabulary,
        [],
        geocode=lambda r, v: (None, []),
    )
    assert checked.ok
    sent = registration.send_update(store, reference, code, checked, client="198.51.100.7")
    assert sent.receipt is None and "enter the contact details again" in (sent.error or "")
    assert store.get(reference).status == "rejected"  # not resent with empty contacts


def test_the_receipt_and_the_register_page_say_how_long_contact_details_are_kept() -> None:
    for note in (registration.EDIT_CODE_NOTE, registration.WITHDRAW_NOTE):
        assert f"{REJECTED_KEEP_DAYS} days" in note and "contact details" in note


def test_wiping_covers_every_personal_field_of_the_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = fields.FieldSpec("pronouns", "Pronouns", personal=True)
    monkeypatch.setattr(fields.entries, "FIELDS", (*fields.all_fields(), extra))
    data = listing(pronouns="she/her")
    wiped = wipe_personal(data)
    for spec in fields.personal_fields():
        assert spec.key.split(".")[0] not in wiped
    assert wiped["name"] == data["name"] and wiped["summary"] == data["summary"]
