"""Submissions, moderation and the audit log: the only writer of submissions and approved records.

The curated ``mapdata/`` stays the published source of truth. A provider's listing arrives as a
*submission* and becomes a record only when a moderator approves it. On disk::

    <submissions dir>/            $AOP_MAP_SUBMISSIONS_DIR, else <data dir>/submissions/
        AOP-2026-7F3K9Q.yaml      one file per submission: status, data, consent, problems,
                                  history, and the salted scrypt hash of its edit code
        audit.jsonl               one JSON line per state change (who, when, what, never values
                                  of personal fields, never the edit code or its hash) and per
                                  moderator sign-in, failed or not (never the password)
        intents/AOP-....json      an approval under way (see below); normally none
        reports/RPT-2026-....yaml one file per problem report from a provider page: record,
                                  topic, message, an optional email for a reply (personal:
                                  never published, never in the audit log), and how it was
                                  resolved and by whom
        limits/                   server-side counters against guessing and flooding (limits.py)
        .lock                     the flock(2) lock every write takes
    <data dir>/community/<record id>.yaml   approved records, read by ``load_records``: only
                                  what may be published (contact details only with consent)

Every write is atomic (temp file in the same folder, fsync, ``os.replace``, fsync the folder), so
a crash leaves the old file or the new one, never half of either. Every state change happens
under one lock, a ``threading.Lock`` per folder (threads of one process) plus ``fcntl.flock`` on
a lock file opened per operation (processes); the kernel drops a dead process's flock, so a
crash never leaves the store locked. Reads take no lock (they only ever see whole files) unless
an interrupted approval is left to repair.

Approving touches two files, so it is journalled: the *intent* (the record to write, with the
hash of its text) is written first, then the record, the audit line, the submission, and the
intent is removed last. Whatever step a crash interrupts, ``repair`` (run before every change,
and by ``list``/``get`` when an intent is left) finishes the approval when the record on disk is
the intended one, and otherwise drops it, leaving the submission pending and nothing published.
Approving an approved submission again returns its record: never a second copy.

Edit codes are limited per client address, per address and reference, and (generously) per
reference in total, in ``limits.py``'s counters: a guesser waits, the owner elsewhere does not.

Updates to a *curated* record (one not written by the store) are never published by the store:
``approve`` refuses with ``CuratedRecordError`` carrying the validated YAML to paste into the
curated file by hand, so two copies of one id can never compete on the public map.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from aop_map import settings
from aop_map.limits import (
    EDIT_CODE_REFERENCE_TOTAL,
    Limiter,
    Outcome,
    Refusal,
    client_key,
    edit_code_entries,
)
from aop_map.loading import SKIPPED_DIRS, data_dir_from_env, load_records, load_vocabulary
from aop_map.records import ID_PATTERN as RECORD_ID_PATTERN
from aop_map.records import Problem, Record, slugify, validate_record
from aop_map.vocabulary import CONTROLLED_FIELDS, Vocabulary

STATUSES = ("pending", "approved", "rejected", "withdrawn")
SUBMITTER = "submitter"
COMMUNITY_DIR = "community"
AUDIT_FILE = "audit.jsonl"
INTENTS_DIR = "intents"
LIMITS_DIR = "limits"
LOCK_FILE = ".lock"
TEMP_PREFIX = ".aop-tmp-"
# Reference numbers and edit codes avoid 0/O, 1/I/L: people read them aloud and retype them.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ID_LENGTH = 6  # 31**6: ~887 million per year, checked against existing ones anyway
ID_PATTERN = re.compile(r"^AOP-\d{4}-[0-9A-Z]{6}$")
CODE_GROUPS, CODE_GROUP_LENGTH = 4, 4  # 31**16: ~79 bits, far beyond guessing (limits.py)
# scrypt at 16 MiB / ~50 ms: cheap once per action, costly for an offline guesser of a leak.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LENGTH = 2**14, 8, 1, 32
# The schema limits each field; this caps the whole stored submission (an attack, not a listing).
MAX_SUBMISSION_BYTES = 64 * 1024
MAX_NESTING = 12
MAX_MODERATOR = 100
MAX_REASON = 2000
APPROVAL_SOURCE = "Submitted through aop-map by the provider"
# Who confirmed an approved submission's facts: the provider, who sent them (issue 12).
VERIFIED_BY_PROVIDER = "the provider, through the register form"
# Problem reports from provider pages: private (they may hold an email), kept beside submissions.
REPORTS_DIR = "reports"
REPORT_PATTERN = re.compile(r"^RPT-\d{4}-[0-9A-Z]{6}$")
REPORT_TOPICS = {
    "out-of-date": "Out of date",
    "wrong-details": "Wrong details",
    "ended": "The activity has ended",
    "other": "Something else",
}
REPORT_STATUSES = ("open", "resolved")
MAX_REPORT_MESSAGE = 2000  # a problem described, not an essay (the form says so too)
MAX_REPORT_EMAIL = 254  # the longest address RFC 5321 allows
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Free-text fields that may hold personal data: wiped on withdrawal, never logged by value.
PERSONAL_FIELDS = ("contact", "description", "notes", "locations")
# The audit log shows before/after values only of these (controlled terms and flags).
AUDIT_VALUE_FIELDS = CONTROLLED_FIELDS | {"publish_contact"}

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# The C emitter writes the same safe YAML as yaml.safe_dump, about ten times faster; it matters
# because every write happens under the lock.
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


# ---------------------------------------------------------------------------------------------
# Errors


class StoreError(Exception):
    """Anything the store refuses to do; the message is written for the person who asked."""


class SubmissionNotFound(StoreError):
    """No submission has that reference number."""


class InvalidEditCode(StoreError):
    """The edit code is wrong, or no longer accepted (after withdrawal)."""


class EditCodeLocked(InvalidEditCode):
    """Too many wrong edit codes from this client (or for this reference): wait, then retry."""

    def __init__(self, message: str, refusal: Refusal) -> None:
        self.refusal = refusal
        super().__init__(message)


class InvalidTransition(StoreError):
    """The action does not apply to a submission in its current status."""


class SubmissionInvalid(StoreError):
    """The data fails validation; ``problems`` lists why."""

    def __init__(self, problems: list[Problem], what: str = "the submission") -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p.field or 'record'}: {p.message}" for p in problems)
        super().__init__(f"{what} has {len(problems)} problem(s):\n{lines}")


class ConsentRequired(StoreError):
    """A listing cannot be stored without the provider's consent to list it."""


class SubmissionTooLarge(StoreError):
    """The submission is bigger (or deeper) than any real listing."""


class RecordNotFound(StoreError):
    """An update refers to a record that does not exist."""


class CuratedRecordError(StoreError):
    """An update to a hand-curated record: the change must be applied to its file by hand."""

    def __init__(self, record_id: str, source: str, record_yaml: str) -> None:
        self.record_id = record_id
        self.source = source
        self.record_yaml = record_yaml
        super().__init__(
            f"record {record_id!r} is curated in {source}: the store never overwrites curated "
            "files, so apply the change there by hand (see record_yaml or the diff), then "
            "reject this submission with a reason such as 'applied by hand'"
        )


# ---------------------------------------------------------------------------------------------
# What callers get back


@dataclass(frozen=True)
class Receipt:
    """What a submitter is told once: the reference number and the private edit code."""

    id: str
    edit_code: str = field(repr=False)  # never in logs or tracebacks by accident
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Submission:
    """One submission as moderators and submitters see it (the edit code hash is never here)."""

    id: str
    status: str
    data: dict[str, Any]
    problems: list[Problem]
    created: dt.datetime
    updated: dt.datetime
    update_of: str | None = None
    record_id: str | None = None
    reason: str | None = None
    consent: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ProblemReport:
    """A problem reported on a provider page, as moderators see it (private: it may hold an
    email address)."""

    id: str
    record_id: str
    topic: str
    message: str
    created: dt.datetime
    email: str | None = None
    status: str = "open"
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None


def _to_report(doc: Mapping[str, Any]) -> ProblemReport:
    resolved = doc.get("resolved_at")
    return ProblemReport(
        id=doc["id"],
        record_id=str(doc["record_id"]),
        topic=str(doc["topic"]),
        message=str(doc.get("message") or ""),
        created=_parse_time(doc["created"]),
        email=doc.get("email"),
        status=doc.get("status") or "open",
        resolved_at=_parse_time(resolved) if resolved else None,
        resolved_by=doc.get("resolved_by"),
        resolution=doc.get("resolution"),
    )


# ---------------------------------------------------------------------------------------------
# Files: atomic writes, appends, YAML


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace a file with ``text`` so readers and crashes see the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _append_line(path: Path, line: str) -> None:
    """Append one line durably; a line torn by an earlier crash is closed off first."""
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        data = line.encode("utf-8")
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def _remove_file(path: Path) -> bool:
    """Delete a file durably; False if it was not there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _fsync_dir(path.parent)
    return True


def dump_yaml(value: Any) -> str:
    """The one YAML style of the store: safe, readable Unicode, keys in schema order."""
    return yaml.dump(value, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


# ---------------------------------------------------------------------------------------------
# Small pure helpers


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _parse_time(text: Any) -> dt.datetime:
    moment = text if isinstance(text, dt.datetime) else dt.datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _clean_text(text: str) -> str:
    # Lone surrogates (from broken clients) cannot be stored as UTF-8: replace, never fail.
    return text.encode("utf-8", "replace").decode("utf-8")


def plain_data(value: Any, depth: int = 0) -> Any:
    """A deep copy made of YAML-safe plain types; text is kept exactly (HTML stays text)."""
    if depth > MAX_NESTING:
        raise SubmissionTooLarge("the submission is nested too deeply to be a listing")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {_clean_text(str(k)): plain_data(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_data(v, depth + 1) for v in value]
    return _clean_text(str(value))


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Top-level keys whose values differ, in first-seen order."""
    keys = dict.fromkeys([*before, *after])
    return [key for key in keys if before.get(key) != after.get(key)]


def wipe_personal(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without personal data: contact, free text, and locations down to the place name.

    A freelance artist's name is the artist's own name, so it goes too.
    """
    out = {k: copy.deepcopy(v) for k, v in data.items() if k not in PERSONAL_FIELDS}
    places = [
        {"place": loc["place"]}
        for loc in data.get("locations") or []
        if isinstance(loc, Mapping) and loc.get("place")
    ]
    if places:
        out["locations"] = places
    if data.get("kind") == "freelance-artist" and "name" in out:
        out["name"] = "(withdrawn)"
    return out


def _new_reference(year: int) -> str:
    return f"AOP-{year}-" + "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def new_edit_code() -> str:
    """A private code such as ``7F3K-9QXA-M2PD-H8RT``."""
    groups = (
        "".join(secrets.choice(ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def _normalise_code(code: str) -> bytes:
    return re.sub(r"[\s-]+", "", str(code)).upper().encode("utf-8")


def _scrypt(code: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        _normalise_code(code), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_LENGTH, maxmem=2**26
    )


def hash_edit_code(code: str) -> dict[str, Any]:
    """What is stored for a code: scheme, cost, per-submission salt and hash (never the code)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(code, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {
        "scheme": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": salt.hex(),
        "hash": digest.hex(),
    }


def _code_matches(auth: Mapping[str, Any], code: str) -> bool:
    if not isinstance(code, str) or not code.strip() or auth.get("scheme") != "scrypt":
        return False
    try:
        salt = bytes.fromhex(auth["salt"])
        expected = bytes.fromhex(auth["hash"])
        digest = _scrypt(code, salt, int(auth["n"]), int(auth["r"]), int(auth["p"]))
    except (KeyError, ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def _check_name(moderator: str) -> str:
    name = " ".join(str(moderator or "").split())
    if not name:
        raise StoreError("a moderator name is required (it goes in the audit log)")
    if len(name) > MAX_MODERATOR:
        raise StoreError(f"a moderator name has at most {MAX_MODERATOR} characters")
    return name


def _who(moderator: str, self_declared: bool) -> dict[str, Any]:
    """The "who" of an audit or history entry; a name typed at a password sign-in is marked."""
    return {"who": moderator, "self_declared": True} if self_declared else {"who": moderator}


def _problem_from_dict(data: Mapping[str, Any]) -> Problem:
    keys = ("source", "message", "line", "field", "record_id", "severity")
    return Problem(**{k: data[k] for k in keys if k in data})


def _to_submission(doc: Mapping[str, Any]) -> Submission:
    return Submission(
        id=doc["id"],
        status=doc["status"],
        data=copy.deepcopy(doc.get("data") or {}),
        problems=[_problem_from_dict(p) for p in doc.get("problems") or []],
        created=_parse_time(doc["created"]),
        updated=_parse_time(doc.get("updated") or doc["created"]),
        update_of=doc.get("update_of"),
        record_id=doc.get("record_id"),
        reason=doc.get("reason"),
        consent=copy.deepcopy(doc.get("consent") or {}),
        history=copy.deepcopy(doc.get("history") or []),
    )


@dataclass(frozen=True)
class _CodeCheck:
    """An edit-code attempt, counted and verified: the matching salt (or None), its counters,
    and the wait it started for the next attempt (None: the next may come at once)."""

    salt: str | None
    entries: tuple[Any, ...]
    started: Refusal | None


def _code_wait_message(reference: str, refusal: Refusal) -> str:
    if refusal.rule == EDIT_CODE_REFERENCE_TOTAL:
        where = f"for {reference} from many places"
    else:
        where = "from your connection"
    return f"Too many wrong edit codes {where}: try again in {refusal.wait_text}."


def _approval_source(source: Any) -> bool:
    title = source.get("title") if isinstance(source, Mapping) else source
    return isinstance(title, str) and title.startswith(APPROVAL_SOURCE)


# ---------------------------------------------------------------------------------------------
# The store


class SubmissionStore:
    """Submissions on disk, their moderation, the audit log, and the approved records.

    ``root`` is the submissions folder ($AOP_MAP_SUBMISSIONS_DIR, else ``<data_dir>/submissions``);
    ``data_dir`` the published data ($AOP_MAP_DATA_DIR, else the bundled mapdata/); ``clock``
    returns the current UTC time (tests inject a fake one).
    """

    def __init__(
        self,
        root: Path | None = None,
        *,
        data_dir: Path | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else data_dir_from_env()
        if root is None:
            root = settings.path("AOP_MAP_SUBMISSIONS_DIR") or self.data_dir / "submissions"
        self.root = Path(root)
        self.community_dir = self.data_dir / COMMUNITY_DIR
        self.audit_path = self.root / AUDIT_FILE
        self.intents_dir = self.root / INTENTS_DIR
        self._clock = clock or _utc_now
        self._vocabulary: Vocabulary | None = None
        self._swept = False
        self._check_root_is_hidden_from_loader()
        self._thread_lock = _thread_lock_for(self.root)
        # Counters against guessing and flooding, beside the submissions (private, not
        # published), on the store's clock so tests move both at once.
        self.limits = Limiter(self.root / LIMITS_DIR, clock=lambda: self._now().timestamp())

    # -- public API ------------------------------------------------------------------------

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
            reference = self._unused_reference(now.year)
            problems = self._problems(reference, clean, consent, update_of)
            doc = {
                "id": reference,
                "status": "pending",
                "created": _iso(now),
                "updated": _iso(now),
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
        """One submission; ``SubmissionNotFound`` for an unknown or malformed reference."""
        self.repair()
        return _to_submission(self._read(submission_id))

    def list(self, status: str | None = None) -> list[Submission]:
        """Submissions (all, or of one status), oldest first."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        self.repair()
        return self._list(status)

    def _list(self, status: str | None = None) -> builtins.list[Submission]:
        # Without repair, so callers holding the lock (the thread lock is not re-entrant) can.
        out: builtins.list[Submission] = []
        for path in sorted(self.root.glob("AOP-*.yaml")) if self.root.is_dir() else []:
            try:
                doc = _load_yaml(path.read_text(encoding="utf-8"))
                submission = _to_submission(doc)
            except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError):
                continue  # not a submission file; atomic writes never leave half of one
            if status is None or submission.status == status:
                out.append(submission)
        return sorted(out, key=lambda s: (s.created, s.id))

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
        as it is until a moderator approves the change. A rejected one can be fixed and resent.
        ``client`` is the address the code comes from (limits.client_key; None: unknown).
        """
        check = self._check_code(submission_id, edit_code, client)
        with self._locked():
            doc = self._read(submission_id)
            now = self._now()
            self._accept_code(doc, check, now)
            self._require(doc, "edit", ("pending", "approved", "rejected"))
            clean, consent = self._prepare(data, doc.get("consent"))
            before = doc["data"]
            if doc["status"] == "approved":
                doc["update_of"] = doc["record_id"]
            problems = self._problems(doc["id"], clean, consent, doc.get("update_of"))
            doc.update(status="pending", data=clean, consent=consent, reason=None)
            doc["problems"] = [p.as_dict() for p in problems]
            self._change(doc, now, SUBMITTER, "edited", changed_fields(before, clean), before)
        return _to_submission(doc)

    def withdraw(
        self, submission_id: str, edit_code: str, *, client: str | None = None
    ) -> Submission:
        """The right to erasure: personal data wiped, the published record (if any) removed.

        The edit code stops working for good. A record this submission only *updated* (it was
        created by another submission or curated) is kept; the audit line says so for review.
        ``client`` is the address the code comes from (limits.client_key; None: unknown).
        """
        check = self._check_code(submission_id, edit_code, client)
        with self._locked():
            doc = self._read(submission_id)
            now = self._now()
            self._accept_code(doc, check, now)
            self._require(doc, "withdraw", ("pending", "approved", "rejected"))
            extra: dict[str, Any] = {}
            if doc.get("record_id"):
                removed = doc.get("created_record") and self._remove_record(doc["record_id"])
                extra = {"record_id": doc["record_id"], "record_removed": bool(removed)}
            wiped = wipe_personal(doc["data"])
            changed = ["status", *changed_fields(doc["data"], wiped)]
            doc.update(status="withdrawn", data=wiped, problems=[], auth=None)
            self._change(doc, now, SUBMITTER, "withdrawn", changed, extra=extra)
        return _to_submission(doc)

    def approve(
        self,
        submission_id: str,
        moderator: str,
        *,
        data: dict[str, Any] | None = None,
        self_declared: bool = False,
    ) -> Record:
        """Publish a pending submission as ``<data_dir>/community/<record id>.yaml``.

        ``data`` (optional) is the moderator's corrected copy: edit-then-approve. Refuses with
        ``SubmissionInvalid`` (listing every problem) unless the record validates cleanly.
        Approving an approved submission again (without ``data``) returns its published record
        and writes nothing. ``self_declared`` marks a moderator name nobody verified (typed at a
        password sign-in) in the audit log.
        """
        moderator = _check_name(moderator)
        with self._locked():
            doc = self._read(submission_id)
            if doc["status"] == "approved" and data is None:
                published = self._published_record(doc)
                if published is not None:
                    return published
            self._require(doc, "approve", ("pending",))
            now = self._now()
            final = doc["data"] if data is None else self._prepare(data, doc["consent"])[0]
            record_id, creates = self._target_record(doc, final)
            record = self._build_record(doc, final, record_id, now.date())
            text = self._record_text(record, doc["id"])
            intent = {
                "submission": doc["id"],
                "record_id": record_id,
                "creates": creates,
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "data": final,
                "changed": ["status", *changed_fields(doc["data"], final)],
                "at": _iso(now),
                "nonce": secrets.token_hex(8),
                **_who(moderator, self_declared),
            }
            # The journal: intent, record, audit line, submission, then the intent goes.
            atomic_write(self._intent_path(doc["id"]), json.dumps(intent, ensure_ascii=False))
            self._write_record_text(record_id, text)
            self._audit_approval(intent)
            self._finish_approval(doc, intent)
        return record

    def reject(
        self, submission_id: str, moderator: str, reason: str, *, self_declared: bool = False
    ) -> Submission:
        """Turn down a pending submission; the reason is kept for the submitter."""
        moderator = _check_name(moderator)
        reason = str(reason or "").strip()
        if not reason:
            raise StoreError("a reason is required to reject a submission")
        if len(reason) > MAX_REASON:
            raise StoreError(f"a reason has at most {MAX_REASON} characters")
        with self._locked():
            doc = self._read(submission_id)
            self._require(doc, "reject", ("pending",))
            doc.update(status="rejected", reason=_clean_text(reason))
            changed = ["status", "reason"]
            now = self._now()
            self._change(doc, now, moderator, "rejected", changed, self_declared=self_declared)
        return _to_submission(doc)

    def open_for_update(
        self, submission_id: str, edit_code: str, *, client: str | None = None
    ) -> Submission:
        """The submission an edit code unlocks, to prefill the form of an update.

        Counted against the same edit-code limits as ``edit`` and ``withdraw`` (a right code
        forgives its attempt); nothing changes. Withdrawn submissions accept no code.
        """
        check = self._check_code(submission_id, edit_code, client)
        with self._locked():
            doc = self._read(submission_id)
            self._accept_code(doc, check, self._now())
            self._require(doc, "update", ("pending", "approved", "rejected"))
        return _to_submission(doc)

    # -- problem reports ---------------------------------------------------------------------

    def report_problem(
        self, record_id: str, topic: str, message: str, email: str | None = None
    ) -> str:
        """Keep a problem reported about a published record; returns its reference.

        The message and email are the reporter's: stored privately here, audited by reference,
        record and topic only. Rate limits are the caller's (registration.send_report).
        """
        if topic not in REPORT_TOPICS:
            raise StoreError(f"the topic must be one of {', '.join(REPORT_TOPICS)}")
        text = _clean_text(str(message or "")).strip()
        if not text:
            raise StoreError("please say what is wrong")
        if len(text) > MAX_REPORT_MESSAGE:
            raise StoreError(f"a message has at most {MAX_REPORT_MESSAGE} characters")
        address = _clean_text(str(email or "")).strip() or None
        if address is not None and (
            len(address) > MAX_REPORT_EMAIL or not EMAIL_PATTERN.match(address)
        ):
            raise StoreError(f"{address[:60]!r} is not an email address")
        if not isinstance(record_id, str) or not self._record_exists(record_id):
            raise RecordNotFound(f"there is no record {record_id!r}")
        with self._locked():
            now = self._now()
            reference = self._unused_report_reference(now.year)
            doc = {
                "id": reference,
                "status": "open",
                "record_id": record_id,
                "topic": topic,
                "message": text,
                "email": address,
                "created": _iso(now),
            }
            self._write_report(doc)
            entry = {
                "at": _iso(now),
                "who": SUBMITTER,
                "action": "reported",
                "report": reference,
                "record_id": record_id,
                "topic": topic,
            }
            _append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")
        return reference

    def reports(
        self, status: str | None = None, *, record_id: str | None = None
    ) -> builtins.list[ProblemReport]:
        """Problem reports (all, of one status, of one record), oldest first."""
        if status is not None and status not in REPORT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(REPORT_STATUSES)}")
        folder = self.root / REPORTS_DIR
        out = []
        for path in sorted(folder.glob("RPT-*.yaml")) if folder.is_dir() else []:
            try:
                report = _to_report(_load_yaml(path.read_text(encoding="utf-8")))
            except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError):
                continue
            if (status is None or report.status == status) and (
                record_id is None or report.record_id == record_id
            ):
                out.append(report)
        return sorted(out, key=lambda r: (r.created, r.id))

    def get_report(self, reference: str) -> ProblemReport:
        """One problem report; ``StoreError`` for an unknown or malformed reference."""
        return _to_report(self._read_report(reference))

    def resolve_report(
        self, reference: str, moderator: str, how: str, *, self_declared: bool = False
    ) -> ProblemReport:
        """Close a problem report, saying how (e.g. 'record updated'); who and when are kept."""
        moderator = _check_name(moderator)
        how = " ".join(_clean_text(str(how or "")).split())
        if not how:
            raise StoreError("say how the report was resolved")
        if len(how) > MAX_REASON:
            raise StoreError(f"a resolution has at most {MAX_REASON} characters")
        with self._locked():
            doc = self._read_report(reference)
            if doc.get("status") == "resolved":
                raise InvalidTransition(f"report {doc['id']} is already resolved")
            now = self._now()
            doc.update(
                status="resolved",
                resolved_at=_iso(now),
                resolved_by=moderator,
                resolution=how,
                self_declared=self_declared,
            )
            self._write_report(doc)
            entry = {
                "at": _iso(now),
                **_who(moderator, self_declared),
                "action": "report-resolved",
                "report": doc["id"],
                "record_id": doc["record_id"],
                "how": how,
            }
            _append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")
        return _to_report(doc)

    def _report_path(self, reference: str) -> Path:
        text = str(reference or "").strip().upper()
        if not REPORT_PATTERN.match(text):
            raise StoreError(f"{reference!r} is not a problem report reference")
        return self.root / REPORTS_DIR / f"{text}.yaml"

    def _read_report(self, reference: str) -> dict[str, Any]:
        path = self._report_path(reference)
        try:
            doc = _load_yaml(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(f"no problem report {path.stem}") from None
        if not isinstance(doc, dict) or doc.get("id") != path.stem:
            raise StoreError(f"the file of report {path.stem} is not a problem report")
        return doc

    def _write_report(self, doc: Mapping[str, Any]) -> None:
        folder = self.root / REPORTS_DIR
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(folder / f"{doc['id']}.yaml", dump_yaml(dict(doc)))

    def _unused_report_reference(self, year: int) -> str:
        while True:
            reference = "RPT-" + _new_reference(year)[4:]
            if not self._report_path(reference).exists():
                return reference

    def record_sign_in(
        self, name: str, *, ok: bool, client: str | None, method: str = "password"
    ) -> None:
        """Audit one moderator sign-in, failed or not: the name as typed, marked self-declared
        for a password sign-in, and the client's address key; never the password."""
        name = " ".join(_clean_text(str(name or "")).split())[:MAX_MODERATOR] or "(no name)"
        entry = {
            "at": _iso(self._now()),
            **_who(name, method == "password"),
            "action": "signed-in" if ok else "sign-in-failed",
            "method": method,
            "client": client_key(client),
        }
        with self._locked():
            _append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")

    def repair(self) -> None:
        """Finish or undo any approval a crash interrupted (cheap when there is none).

        With the intended record on disk the approval is completed (its audit line written
        once); without it the intent is dropped and the submission stays pending.
        """
        if not self._pending_intents():
            return
        with self._locked():
            pass  # _locked repairs under the lock

    def diff(self, submission_id: str) -> builtins.list[tuple[str, Any, Any]]:
        """(field, current value, proposed value) for every field the submission changes.

        Compared with the published record of ``update_of``; for a new listing every field it
        sets is new (current value None). Vocabulary terms are compared as term ids.
        """
        doc = self._read(submission_id)
        target = doc.get("update_of")
        old: dict[str, Any] = {}
        if target:
            current = next((r for r in load_records(self.data_dir).records if r.id == target), None)
            if current is not None:
                old = current.model_dump(mode="json", exclude_defaults=True)
        new = self._proposed(doc, target)
        for side in (old, new):
            side.pop("id", None)
            side.pop("last_verified", None)
            side.pop("verified_by", None)
            sources = [s for s in side.get("sources") or [] if not _approval_source(s)]
            side["sources"] = sources or None
        fields = dict.fromkeys([*Record.model_fields, *old, *new])
        return [(f, old.get(f), new.get(f)) for f in fields if old.get(f) != new.get(f)]

    def audit_log(self) -> builtins.list[dict[str, Any]]:
        """Every audit entry, oldest first (a line torn by a crash is skipped)."""
        try:
            text = self.audit_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        out = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    out.append(entry)
        return out

    def record_verification(
        self,
        record_id: str,
        verified_by: str,
        on: dt.date,
        moderator: str,
        *,
        self_declared: bool = False,
        curated: Path | None = None,
        rewrite: Callable[[str], str] | None = None,
    ) -> Record:
        """Record that ``verified_by`` confirmed a record's facts with its provider ``on`` a day.

        A community record (written by the store) is read, given ``last_verified`` and
        ``verified_by``, validated and written back in the store's style, its header kept. A
        curated file (``curated``, inside the data directory) is changed by ``rewrite`` (text
        -> text: the caller's round-trip edit, which keeps comments and formatting), and the
        result must still hold a valid record with those two values. Either way the write is
        atomic, under the store's lock, and one audit line says who recorded what, when.
        """
        moderator = _check_name(moderator)
        verified_by = _check_name(verified_by)
        with self._locked():
            if curated is None:
                path = self._record_path(record_id)
                old = path.read_text(encoding="utf-8") if path.is_file() else None
                if old is None:
                    raise RecordNotFound(f"no community record {record_id!r}")
                data = _load_yaml(old)
                data.update(last_verified=on.isoformat(), verified_by=verified_by)
                header = "".join(
                    line for line in old.splitlines(keepends=True) if line.startswith("#")
                )
                record = self._valid_record(data, record_id)
                new = header + self._dump(record)
                mode = 0o644
            else:
                path = Path(curated)
                if rewrite is None or not path.resolve().is_relative_to(self.data_dir.resolve()):
                    raise StoreError(f"{path.name}: not a curated file of the data directory")
                old = path.read_text(encoding="utf-8")
                new = rewrite(old)
                found = _load_yaml(new)
                docs = found if isinstance(found, list) else [found]
                data = next(
                    (d for d in docs if isinstance(d, dict) and d.get("id") == record_id), None
                )
                record = self._valid_record(data, record_id)
                mode = path.stat().st_mode & 0o777
            if record.last_verified != on or record.verified_by != verified_by:
                raise StoreError(f"the edit of {path.name} did not record the verification")
            atomic_write(path, new, mode=mode)
            entry = {
                "at": _iso(self._now()),
                **_who(moderator, self_declared),
                "action": "verified",
                "record_id": record_id,
                "verified_by": verified_by,
                "verified_on": on.isoformat(),
                "file": "community" if curated is None else "curated",
            }
            _append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")
        return record

    def _valid_record(self, data: Any, record_id: str) -> Record:
        """The record in ``data`` if it validates cleanly, else SubmissionInvalid."""
        if not isinstance(data, dict):
            raise StoreError(f"no record {record_id!r} in the file")
        record, problems = validate_record(data, self.vocabulary, source=record_id)
        errors = [p for p in problems if p.severity == "error"]
        if record is None or errors:
            raise SubmissionInvalid(errors or problems, f"record {record_id}")
        return record

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary submissions are validated with (that of the data directory)."""
        if self._vocabulary is None:
            self._vocabulary = load_vocabulary(self.data_dir)
        return self._vocabulary

    # -- locking and files ----------------------------------------------------------------

    def _check_root_is_hidden_from_loader(self) -> None:
        try:
            inside = self.root.resolve().relative_to(self.data_dir.resolve())
        except ValueError:
            return
        if not any(p in SKIPPED_DIRS or p.startswith((".", "_")) for p in inside.parts):
            raise StoreError(
                f"the submissions folder {self.root} is inside the data directory where the "
                f"map would publish it: use a folder named {' or '.join(sorted(SKIPPED_DIRS))}"
            )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive across threads (threading.Lock) and processes (flock per operation)."""
        _ = self.vocabulary  # read once, outside the lock: other writers need not wait for it
        with self._thread_lock:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if not self._swept:
                    self._sweep_temp_files()
                self._repair_locked()
                yield
            finally:
                os.close(fd)  # closing the descriptor releases the flock

    def _sweep_temp_files(self) -> None:
        # Under the lock no write is in flight, so any temp file left is from a crash.
        for folder in (self.root, self.community_dir):
            for path in folder.glob(f"{TEMP_PREFIX}*") if folder.is_dir() else []:
                with contextlib.suppress(OSError):
                    path.unlink()
        self._swept = True

    def _path(self, submission_id: str) -> Path:
        reference = str(submission_id or "").strip().upper()
        if not ID_PATTERN.match(reference):
            raise SubmissionNotFound(f"{submission_id!r} is not a submission reference")
        return self.root / f"{reference}.yaml"

    def _read(self, submission_id: str) -> dict[str, Any]:
        path = self._path(submission_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SubmissionNotFound(f"no submission {path.stem}") from None
        doc = _load_yaml(text)
        if not isinstance(doc, dict) or doc.get("id") != path.stem:
            raise StoreError(f"the file of submission {path.stem} is not a submission")
        return doc

    def _write(self, doc: dict[str, Any]) -> None:
        atomic_write(self.root / f"{doc['id']}.yaml", dump_yaml(doc))

    def _now(self) -> dt.datetime:
        return _parse_time(self._clock())

    def _unused_reference(self, year: int) -> str:
        while True:
            reference = _new_reference(year)
            if not (self.root / f"{reference}.yaml").exists():
                return reference

    def _change(
        self,
        doc: dict[str, Any],
        now: dt.datetime,
        who: str,
        action: str,
        changed: builtins.list[str],
        before: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        self_declared: bool = False,
    ) -> None:
        """Save a state change: the submission file, then its audit line (both under the lock)."""
        doc["updated"] = _iso(now)
        doc.setdefault("history", []).append(
            {"at": _iso(now), **_who(who, self_declared), "action": action, "changed": changed}
        )
        self._write(doc)
        entry: dict[str, Any] = {
            "at": _iso(now),
            **_who(who, self_declared),
            "action": action,
            "submission": doc["id"],
            "changed": changed,
        }
        shown = [f for f in changed if f in AUDIT_VALUE_FIELDS]
        if before is not None and shown and action == "edited":
            entry["before"] = {f: before.get(f) for f in shown}
            entry["after"] = {f: doc["data"].get(f) for f in shown}
        entry.update(extra or {})
        _append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")

    # -- rules -----------------------------------------------------------------------------

    @staticmethod
    def _require(doc: Mapping[str, Any], action: str, allowed: tuple[str, ...]) -> None:
        if doc["status"] not in allowed:
            raise InvalidTransition(
                f"cannot {action} submission {doc['id']}: it is {doc['status']} "
                f"(only {' or '.join(allowed)} ones)"
            )

    def _prepare(
        self, data: Any, previous_consent: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Plain data without id/consent, the consent, and the size cap."""
        if not isinstance(data, Mapping):
            raise StoreError("a submission is a mapping of fields to values")
        clean = plain_data(data)
        consent = clean.pop("consent", None)
        clean.pop("id", None)  # record ids are the store's to give
        if consent is None:
            consent = dict(previous_consent or {})
        if not isinstance(consent, dict) or consent.get("listing") is not True:
            raise ConsentRequired(
                "the provider must agree to be listed on the public map (consent.listing)"
            )
        consent.setdefault("contact", clean.get("publish_contact") is True)
        consent.setdefault("at", _iso(self._now()))
        size = len(dump_yaml({"consent": consent, "data": clean}).encode("utf-8"))
        if size > MAX_SUBMISSION_BYTES:
            raise SubmissionTooLarge(
                f"the submission is {size // 1024} KB; a listing is at most "
                f"{MAX_SUBMISSION_BYTES // 1024} KB: shorten the longest texts"
            )
        return clean, consent

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

    def _check_code(self, submission_id: str, code: str, client: str | None) -> _CodeCheck:
        """Count the attempt, then verify the code outside the lock (scrypt is slow).

        Counting comes first, so refused guesses cost no scrypt work and a burst of parallel
        guesses is counted before any is checked.
        """
        reference = self._path(submission_id).stem
        entries = edit_code_entries(client_key(client), reference)
        outcome: Outcome = self.limits.attempt(*entries)
        if outcome.refused is not None:
            raise EditCodeLocked(_code_wait_message(reference, outcome.refused), outcome.refused)
        auth = self._read(reference).get("auth")
        salt = auth.get("salt") if auth and _code_matches(auth, code) else None
        return _CodeCheck(salt, entries, outcome.started)

    def _accept_code(self, doc: dict[str, Any], check: _CodeCheck, now: dt.datetime) -> None:
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
            "at": _iso(now),
            "who": SUBMITTER,
            "action": "locked",
            "submission": doc["id"],
            "client": check.entries[0][1],
            "rule": check.started.rule.name,
        }
        _append_line(self.audit_path, json.dumps(entry) + "\n")
        message = _code_wait_message(doc["id"], check.started)
        raise EditCodeLocked(f"wrong edit code for {doc['id']}. {message}", check.started)

    # -- records ---------------------------------------------------------------------------

    def _record_path(self, record_id: str) -> Path:
        if not isinstance(record_id, str) or not RECORD_ID_PATTERN.match(record_id):
            raise RecordNotFound(f"{record_id!r} is not a record id")
        return self.community_dir / f"{record_id}.yaml"

    def _record_exists(self, record_id: str) -> bool:
        if self._record_path(record_id).is_file():
            return True
        return record_id in load_records(self.data_dir).origins

    def _target_record(self, doc: Mapping[str, Any], data: Mapping[str, Any]) -> tuple[str, bool]:
        """The record id to write and whether it is a new record; refuses curated ones."""
        target = doc.get("update_of")
        if target:
            if self._record_path(target).is_file():
                return target, False
            loaded = load_records(self.data_dir)
            if target in loaded.origins:
                record = self._build_record(doc, data, target, self._now().date())
                raise CuratedRecordError(target, loaded.origins[target].source, self._dump(record))
            raise InvalidTransition(
                f"record {target!r} no longer exists (withdrawn?): reject this update"
            )
        taken = set(load_records(self.data_dir).origins)
        taken |= {p.stem for p in self.community_dir.glob("*.yaml")}
        taken |= {s.record_id for s in self._list() if s.record_id and s.status != "withdrawn"}
        name = data.get("name")
        base = slugify(name if isinstance(name, str) else "record")[:110].strip("-")
        record_id, number = base, 1
        while record_id in taken:
            number += 1
            record_id = f"{base}-{number}"
        return record_id, True

    def _build_record(
        self,
        doc: Mapping[str, Any],
        data: Mapping[str, Any],
        record_id: str,
        today: dt.date,
    ) -> Record:
        """The validated record to publish; ``SubmissionInvalid`` lists any problem.

        It holds only what may be published: contact details only with the provider's own
        consent (else none at all: the file is public, whatever the map shows), and no
        moderator name or email (who approved is in the private audit log).
        """
        fields = {k: v for k, v in data.items() if k not in ("id", "last_verified", "verified_by")}
        fields["id"] = record_id
        consented = (doc.get("consent") or {}).get("contact") is True
        fields["publish_contact"] = consented and data.get("publish_contact") is True
        if not fields["publish_contact"]:
            fields.pop("contact", None)
        fields["last_verified"] = today.isoformat()
        fields["verified_by"] = VERIFIED_BY_PROVIDER  # the provider's own words, approved
        sources = data.get("sources") or []
        sources = sources if isinstance(sources, list) else [sources]
        sources = [s for s in sources if not _approval_source(s)]
        title = f"{APPROVAL_SOURCE}, approved on {today.isoformat()}"
        fields["sources"] = [*sources, {"title": title, "date": today.isoformat()}]
        source = f"submission {doc['id']}"
        record, problems = validate_record(fields, self.vocabulary, source=source)
        errors = [p for p in problems if p.severity == "error"]
        if record is None or errors:
            raise SubmissionInvalid(errors or problems, f"submission {doc['id']}")
        return record

    def _proposed(self, doc: Mapping[str, Any], target: str | None) -> dict[str, Any]:
        """What approving would publish, to compare with the record: contact details only
        with the provider's consent, as ``_build_record`` decides."""
        data = dict(doc.get("data") or {})
        consented = (doc.get("consent") or {}).get("contact") is True
        if not (consented and data.get("publish_contact") is True):
            data.pop("contact", None)
            data["publish_contact"] = False
        name = data.get("name")
        record_id = target or (slugify(name) if isinstance(name, str) else "submission")
        record, _ = validate_record({**data, "id": record_id}, self.vocabulary, source="diff")
        if record is None:
            return copy.deepcopy(dict(data))
        return record.model_dump(mode="json", exclude_defaults=True)

    @staticmethod
    def _dump(record: Record) -> str:
        return dump_yaml(record.model_dump(mode="python", exclude_defaults=True))

    def _record_text(self, record: Record, reference: str) -> str:
        header = (
            f"# Published by aop-map from submission {reference}; change it through the "
            "moderation queue (aop-map submissions), not by hand.\n"
        )
        return header + self._dump(record)

    def _write_record_text(self, record_id: str, text: str) -> None:
        self.community_dir.mkdir(parents=True, exist_ok=True)
        atomic_write(self._record_path(record_id), text, mode=0o644)

    def _remove_record(self, record_id: str) -> bool:
        return _remove_file(self._record_path(record_id))

    def _published_record(self, doc: Mapping[str, Any]) -> Record | None:
        """The record file an approved submission published, if it is still there."""
        if not doc.get("record_id"):
            return None
        try:
            text = self._record_path(doc["record_id"]).read_text(encoding="utf-8")
        except (FileNotFoundError, RecordNotFound):
            return None
        record, _ = validate_record(_load_yaml(text), self.vocabulary, source=doc["id"])
        return record

    # -- the approval journal --------------------------------------------------------------

    def _intent_path(self, reference: str) -> Path:
        self.intents_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.intents_dir / f"{reference}.json"

    def _pending_intents(self) -> builtins.list[Path]:
        if not self.intents_dir.is_dir():
            return []
        return sorted(p for p in self.intents_dir.glob("AOP-*.json") if ID_PATTERN.match(p.stem))

    def _audit_approval(self, intent: Mapping[str, Any], repaired: bool = False) -> None:
        entry = {
            "at": intent["at"],
            "who": intent["who"],
            "action": "approved",
            "submission": intent["submission"],
            "changed": intent["changed"],
            "record_id": intent["record_id"],
            "intent": intent["nonce"],
        }
        if intent.get("self_declared"):
            entry["self_declared"] = True
        if repaired:
            entry["repaired"] = True
        _append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")

    def _finish_approval(self, doc: dict[str, Any], intent: Mapping[str, Any]) -> None:
        """Mark the submission approved as the intent says, then drop the intent."""
        doc.update(
            status="approved",
            record_id=intent["record_id"],
            data=intent["data"],
            problems=[],
            updated=intent["at"],
        )
        doc["created_record"] = bool(doc.get("created_record") or intent["creates"])
        history = {"at": intent["at"], "who": intent["who"], "action": "approved"}
        if intent.get("self_declared"):
            history["self_declared"] = True
        doc.setdefault("history", []).append({**history, "changed": intent["changed"]})
        self._write(doc)
        _remove_file(self._intent_path(doc["id"]))

    def _repair_locked(self) -> None:
        """Finish each interrupted approval whose record is on disk; drop the others."""
        for path in self._pending_intents():
            try:
                intent = json.loads(path.read_text(encoding="utf-8"))
                doc = self._read(path.stem)
            except (ValueError, StoreError):
                _remove_file(path)  # no submission to finish: nothing was published for it
                continue
            if doc["status"] != "pending":  # finished, only the intent was left
                _remove_file(path)
                continue
            try:
                on_disk = self._record_path(intent["record_id"]).read_bytes()
            except (FileNotFoundError, RecordNotFound):
                on_disk = b""
            if hashlib.sha256(on_disk).hexdigest() == intent["sha256"]:
                if not any(e.get("intent") == intent["nonce"] for e in self.audit_log()):
                    self._audit_approval(intent, repaired=True)
                self._finish_approval(doc, intent)
                continue
            entry = {
                "at": _iso(self._now()),
                "who": "aop-map",
                "action": "approval-undone",
                "submission": doc["id"],
                "record_id": intent["record_id"],
                "reason": "interrupted before its record was written",
            }
            _append_line(self.audit_path, json.dumps(entry) + "\n")
            _remove_file(path)


def _thread_lock_for(root: Path) -> threading.Lock:
    """One lock per submissions folder per process, shared by every store object on it."""
    key = str(root.resolve())
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.Lock())
