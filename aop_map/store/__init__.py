"""Submissions, moderation and the audit log: the only writer of submissions and approved records.

The curated ``mapdata/`` stays the published source of truth. A provider's listing arrives as a
*submission* and becomes a record only when a moderator approves it. On disk::

    <submissions dir>/            $AOP_MAP_SUBMISSIONS_DIR, else <data dir>/submissions/
        AOP-2026-7F3K9Q.yaml      one file per submission: status, data, consent, problems,
                                  history, and the salted scrypt hash of its edit code; a
                                  rejected one's personal data is erased REJECTED_KEEP_DAYS
                                  after its rejection (the submission stays, without it)
        audit.jsonl               one JSON line per state change (who, when, what, never values
                                  of personal fields, never the edit code or its hash) and per
                                  moderator sign-in, failed or not (never the password)
        intents/AOP-....json      an approval under way (see below); normally none
        reports/RPT-2026-....yaml one file per problem report from a provider page: record,
                                  topic, message, an optional email for a reply (personal:
                                  never published, never in the audit log, erased when the
                                  report is resolved or REPORT_EMAIL_DAYS after it came), and
                                  how it was resolved and by whom
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

The modules, each using only those listed before it:

- ``errors``: what the store refuses, and why; ``files``: atomic writes, appends, its YAML;
- ``values``: what callers get back (``Receipt``, ``Submission``), times, cleaned text, personal
  fields; ``codes``: reference numbers and edit codes (scrypt);
- ``folder``: paths, submission files, the audit log; ``journal``: the lock and the approval
  journal it repairs; ``approval``: approving into records, diffs, verifications; ``reports``:
  problem reports; ``submissions``: ``SubmissionStore``, what providers do and moderators decide.
"""

from aop_map.store.approval import APPROVAL_SOURCE, VERIFIED_BY_PROVIDER
from aop_map.store.codes import ALPHABET, ID_PATTERN, hash_edit_code, new_edit_code
from aop_map.store.errors import (
    ConsentRequired,
    CuratedRecordError,
    EditCodeLocked,
    InvalidEditCode,
    InvalidTransition,
    RecordNotFound,
    StoreError,
    SubmissionInvalid,
    SubmissionNotFound,
    SubmissionTooLarge,
)
from aop_map.store.files import TEMP_PREFIX, atomic_write, dump_yaml
from aop_map.store.folder import MAX_SUBMISSION_BYTES
from aop_map.store.reports import (
    MAX_REPORT_EMAIL,
    MAX_REPORT_MESSAGE,
    REPORT_EMAIL_DAYS,
    REPORT_STATUSES,
    REPORT_TOPICS,
    ProblemReport,
)
from aop_map.store.submissions import SubmissionStore
from aop_map.store.values import (
    MAX_REASON,
    PERSONAL_FIELDS,
    REJECTED_KEEP_DAYS,
    STATUSES,
    Receipt,
    Submission,
    changed_fields,
    plain_data,
    wipe_personal,
)

__all__ = [
    "ALPHABET",
    "APPROVAL_SOURCE",
    "ID_PATTERN",
    "MAX_REASON",
    "MAX_REPORT_EMAIL",
    "MAX_REPORT_MESSAGE",
    "MAX_SUBMISSION_BYTES",
    "PERSONAL_FIELDS",
    "REJECTED_KEEP_DAYS",
    "REPORT_EMAIL_DAYS",
    "REPORT_STATUSES",
    "REPORT_TOPICS",
    "STATUSES",
    "TEMP_PREFIX",
    "VERIFIED_BY_PROVIDER",
    "ConsentRequired",
    "CuratedRecordError",
    "EditCodeLocked",
    "InvalidEditCode",
    "InvalidTransition",
    "ProblemReport",
    "Receipt",
    "RecordNotFound",
    "StoreError",
    "Submission",
    "SubmissionInvalid",
    "SubmissionNotFound",
    "SubmissionStore",
    "SubmissionTooLarge",
    "atomic_write",
    "changed_fields",
    "dump_yaml",
    "hash_edit_code",
    "new_edit_code",
    "plain_data",
    "wipe_personal",
]
