"""``SubmissionStore``: what providers do and moderators decide; publishing is approval.py's.

Providers submit, edit, withdraw and open an update; moderators reject (approving is
approval.py's, problem reports reports.py's).

The edit code is checked here, against limits.py's counters, before anything changes.

A rejected submission's personal data is kept REJECTED_KEEP_DAYS for its submitter to fix and
resend it, then erased by every read and write of submissions (UK GDPR storage limitation):
the submission stays, audited without the data, and an edit must give the contact details again.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import hmac
import json
from collections.abc import Iterator, Mapping
from typing import Any

from aop_map.limits import Outcome, client_key, edit_code_entries
from aop_map.records import Problem, slugify, validate_record
from aop_map.store import files
from aop_map.store.approval import StoreApproval
from aop_map.store.codes import (
    CodeCheck,
    code_matches,
    code_wait_message,
    hash_edit_code,
    new_edit_code,
)
from aop_map.store.errors import EditCodeLocked, InvalidEditCode, RecordNotFound, StoreError
from aop_map.store.reports import StoreReports
from aop_map.store.values import (
    ERASED_NAME,
    GIVE_AGAIN,
    MAX_MODERATOR,
    MAX_REASON,
    REJECTED_KEEP_DAYS,
    STATUSES,
    SUBMITTER,
    Receipt,
    Submission,
    changed_fields,
    check_name,
    clean_text,
    iso,
    missing_again,
    personal_due,
    to_submission,
    who_fields,
    wipe_personal,
)

# Who erases personal data kept past its time, in the history and the audit log.
RETENTION = "aop-map"


class SubmissionStore(StoreReports, StoreApproval):
    """Submissions on disk, their moderation, the audit log, and the approved records.

    ``root`` is the submissions folder ($AOP_MAP_SUBMISSIONS_DIR, else ``<data_dir>/submissions``);
    ``data_dir`` the published data ($AOP_MAP_DATA_DIR, else the bundled mapdata/); ``clock``
    returns the current UTC time (tests inject a fake one).
    """

    # -- providers -------------------------------------------------------------------------

    def submit(self, data: dict[str, Any], *, update_of: str | None = None) -> Receipt:
        """Store a new listing (or a change to record ``update_of``) as a pending submission.

        Invalid data is stored anyway, with its problems, for a moderator to fix: nothing a
        provider sends is lost. Refused only without listing consent, or when too large.
        """
        clean, consent = self._prepare(data, None)
        if update_of is not None and not self._record_exists(update_of):
            raise RecordNotFound(f"there is no record {update_of!r} to update")
        code = new_edit_code()
        auth = hash_edit_code(code)  # slow on purpose: outside the lock
        with self._locked():
            now = self._now()
            self._erase_due_personal(now)
            reference = self._unused_reference(now.year)
            problems = self._problems(reference, clean, consent, update_of)
            doc = {
                "id": reference,
                "status": "pending",
                "created": iso(now),
                "updated": iso(now),
                "update_of": update_of,
                "record_id": None,
                "reason": None,
                "consent": consent,
                "data": clean,
                "problems": [p.as_dict() for p in problems],
                "history": [],
                "auth": auth,
            }
            self._change(doc, now, SUBMITTER, "submitted", list(clean))
        return Receipt(reference, code, problems)

    def get(self, submission_id: str) -> Submission:
        """One submission; ``SubmissionNotFound`` for an unknown or malformed reference.

        Personal data due for erasure is erased first (under the lock, only when it is due).
        """
        self.repair()
        submission = to_submission(self._read(submission_id))
        if personal_due(submission, self._now()):
            self.purge_personal_data()
            submission = to_submission(self._read(submission_id))
        return submission

    def list(self, status: str | None = None) -> list[Submission]:
        """Submissions (all, or of one status), oldest first.

        Personal data due for erasure is erased first (under the lock, only when any is due).
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        self.repair()
        found = self._list()
        now = self._now()
        if any(personal_due(s, now) for s in found):
            self.purge_personal_data()
            found = self._list()
        return [s for s in found if status is None or s.status == status]

    def edit(
        self,
        submission_id: str,
        edit_code: str,
        data: dict[str, Any],
        *,
        client: str | None = None,
    ) -> Submission:
        """The submitter replaces the data; it goes (back) to pending for moderation.

        Editing an approved submission proposes a change to its published record, which stays
        as it is until a moderator approves the change. A rejected one can be fixed and resent;
        once its personal data was erased (REJECTED_KEEP_DAYS), only with the contact details
        (and a freelance artist's name) given again: ``StoreError`` says so.
        ``client`` is the address the code comes from (limits.client_key; None: unknown).
        """
        with self._opened(submission_id, edit_code, client, "edit") as (doc, now):
            clean, consent = self._prepare(data, doc.get("consent"))
            self._require_given_again(doc, clean)
            doc.pop("personal_erased_at", None)
            doc.pop("personal_erased", None)
            before = doc["data"]
            if doc["status"] == "approved":
                doc["update_of"] = doc["record_id"]
            problems = self._problems(doc["id"], clean, consent, doc.get("update_of"))
            doc.update(status="pending", data=clean, consent=consent, reason=None)
            doc["problems"] = [p.as_dict() for p in problems]
            self._change(doc, now, SUBMITTER, "edited", changed_fields(before, clean), before)
        return to_submission(doc)

    def withdraw(
        self, submission_id: str, edit_code: str, *, client: str | None = None
    ) -> Submission:
        """The right to erasure: personal data wiped, the published record (if any) removed.

        The edit code stops working for good. A record this submission only *updated* (it was
        created by another submission or curated) is kept; the audit line says so for review.
        ``client`` is the address the code comes from (limits.client_key; None: unknown).
        """
        with self._opened(submission_id, edit_code, client, "withdraw") as (doc, now):
            extra: dict[str, Any] = {}
            if doc.get("record_id"):
                removed = doc.get("created_record") and self._remove_record(doc["record_id"])
                extra = {"record_id": doc["record_id"], "record_removed": bool(removed)}
            wiped = wipe_personal(doc["data"])
            changed = ["status", *changed_fields(doc["data"], wiped)]
            doc.update(status="withdrawn", data=wiped, problems=[], auth=None)
            self._change(doc, now, SUBMITTER, "withdrawn", changed, extra=extra)
        return to_submission(doc)

    def open_for_update(
        self, submission_id: str, edit_code: str, *, client: str | None = None
    ) -> Submission:
        """The submission an edit code unlocks, to prefill the form of an update.

        Counted against the same edit-code limits as ``edit`` and ``withdraw`` (a right code
        forgives its attempt); nothing else changes, but personal data due for erasure is
        erased first (``personal_erased_at`` then says so). Withdrawn ones accept no code.
        """
        with self._opened(submission_id, edit_code, client, "update") as (doc, _):
            return to_submission(doc)

    @contextlib.contextmanager
    def _opened(
        self, submission_id: str, edit_code: str, client: str | None, action: str
    ) -> Iterator[tuple[dict[str, Any], dt.datetime]]:
        """Under the lock, the submission an edit code opens for `action`, and the time: the
        code checked against the limits first, personal data due for erasure erased, and only
        a pending, approved or rejected one (withdrawn ones accept no code)."""
        check = self._check_code(submission_id, edit_code, client)
        with self._locked():
            now = self._now()
            self._erase_due_personal(now)
            doc = self._read(submission_id)
            self._accept_code(doc, check, now)
            self._require(doc, action, ("pending", "approved", "rejected"))
            yield doc, now

    # -- moderators ------------------------------------------------------------------------

    def reject(
        self, submission_id: str, moderator: str, reason: str, *, self_declared: bool = False
    ) -> Submission:
        """Turn down a pending submission; the reason is kept for the submitter, and its
        personal data for REJECTED_KEEP_DAYS (for a fix to be sent), then erased."""
        moderator = check_name(moderator)
        reason = str(reason or "").strip()
        if not reason:
            raise StoreError("a reason is required to reject a submission")
        if len(reason) > MAX_REASON:
            raise StoreError(f"a reason has at most {MAX_REASON} characters")
        with self._locked():
            now = self._now()
            self._erase_due_personal(now)
            doc = self._read(submission_id)
            self._require(doc, "reject", ("pending",))
            doc.update(status="rejected", reason=clean_text(reason))
            changed = ["status", "reason"]
            self._change(doc, now, moderator, "rejected", changed, self_declared=self_declared)
        return to_submission(doc)

    def record_sign_in(
        self, name: str, *, ok: bool, client: str | None, method: str = "password"
    ) -> None:
        """Audit one moderator sign-in, failed or not: the name as typed, marked self-declared
        for a password sign-in, and the client's address key; never the password."""
        name = " ".join(clean_text(str(name or "")).split())[:MAX_MODERATOR] or "(no name)"
        entry = {
            "at": iso(self._now()),
            **who_fields(name, method == "password"),
            "action": "signed-in" if ok else "sign-in-failed",
            "method": method,
            "client": client_key(client),
        }
        with self._locked():
            files.append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")

    # -- keeping personal data no longer than needed ---------------------------------------

    def purge_personal_data(self) -> int:
        """Erase the personal data now due (submissions rejected REJECTED_KEEP_DAYS ago or more
        and not sent again); returns how many. Each erasure is audited, never the data."""
        with self._locked():
            return self._erase_due_personal(self._now())

    def _erase_due_personal(self, now: dt.datetime) -> int:
        """Erase the personal data due at ``now`` (wipe_personal), one atomic write and audit
        line per submission (under the lock); returns how many. The submission stays: its
        reference, status, reason, history and the rest of its data."""
        erased = 0
        for submission in self._list("rejected"):
            why = personal_due(submission, now)
            if why is None:
                continue
            doc = self._read(submission.id)
            wiped = wipe_personal(doc["data"], name=ERASED_NAME)
            changed = changed_fields(doc["data"], wiped)
            doc.update(data=wiped, personal_erased_at=iso(now), personal_erased=changed)
            self._change(
                doc, now, RETENTION, "personal-data-erased", changed, extra={"reason": why}
            )
            erased += 1
        return erased

    @staticmethod
    def _require_given_again(doc: Mapping[str, Any], data: Mapping[str, Any]) -> None:
        """Refuse an edit of an erased submission that leaves what must be given again (the
        contact details, a freelance artist's name) empty: never resent without them unseen."""
        missing = missing_again(doc.get("personal_erased") or [], doc["data"], data)
        if missing:
            what = " and ".join(GIVE_AGAIN[key] for key in missing)
            raise StoreError(
                f"listing {doc['id']} was turned down more than {REJECTED_KEEP_DAYS} days ago, "
                f"so its personal details were deleted: please enter {what} again, then send it"
            )

    # -- rules -----------------------------------------------------------------------------

    def _problems(
        self,
        reference: str,
        data: Mapping[str, Any],
        consent: Mapping[str, Any],
        update_of: str | None,
    ) -> builtins.list[Problem]:
        name = data.get("name")
        record_id = update_of or (slugify(name) if isinstance(name, str) else "submission")
        source = f"submission {reference}"
        _, problems = validate_record({**data, "id": record_id}, self.vocabulary, source=source)
        if data.get("publish_contact") is True and consent.get("contact") is not True:
            problems.append(
                Problem(
                    source,
                    "publish_contact is set but there is no consent to publish contact "
                    "details: they will stay private",
                    field="publish_contact",
                    severity="warning",
                )
            )
        return problems

    def _check_code(self, submission_id: str, code: str, client: str | None) -> CodeCheck:
        """Count the attempt, then verify the code outside the lock (scrypt is slow).

        Counting comes first, so refused guesses cost no scrypt work and a burst of parallel
        guesses is counted before any is checked.
        """
        reference = self._path(submission_id).stem
        entries = edit_code_entries(client_key(client), reference)
        outcome: Outcome = self.limits.attempt(*entries)
        if outcome.refused is not None:
            raise EditCodeLocked(code_wait_message(reference, outcome.refused), outcome.refused)
        auth = self._read(reference).get("auth")
        salt = auth.get("salt") if auth and code_matches(auth, code) else None
        return CodeCheck(salt, entries, outcome.started)

    def _accept_code(self, doc: dict[str, Any], check: CodeCheck, now: dt.datetime) -> None:
        """Refuse a dead or wrong code (its attempt stays counted); forgive a right one.

        ``salt`` is what the code was verified against outside the lock: a code checked
        before a concurrent withdrawal cannot slip through after it. A wrong code changes
        nothing in the submission: it can never lock the owner out.
        """
        auth = doc.get("auth")
        if not auth:
            raise InvalidEditCode(f"submission {doc['id']} no longer accepts an edit code")
        salt = check.salt
        if salt is not None and hmac.compare_digest(str(salt), str(auth.get("salt"))):
            per_client, per_reference, in_total = check.entries
            self.limits.forgive(per_reference, forget=True)
            self.limits.forgive(per_client, in_total)
            return
        if check.started is None:
            raise InvalidEditCode(f"wrong edit code for {doc['id']}")
        entry = {
            "at": iso(now),
            "who": SUBMITTER,
            "action": "locked",
            "submission": doc["id"],
            "client": check.entries[0][1],
            "rule": check.started.rule.name,
        }
        files.append_line(self.audit_path, json.dumps(entry) + "\n")
        message = code_wait_message(doc["id"], check.started)
        raise EditCodeLocked(f"wrong edit code for {doc['id']}. {message}", check.started)
