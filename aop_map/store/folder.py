"""The submissions folder: its paths, submission files, the audit log; the base of the store.

Reads and writes whole submission files and checks incoming data, but takes no lock itself and
publishes nothing: the lock and the approval journal are journal.py's, records approval.py's.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from aop_map import settings
from aop_map.limits import Limiter
from aop_map.loading import SKIPPED_DIRS, data_dir_from_env, load_records, load_vocabulary
from aop_map.records import ID_PATTERN as RECORD_ID_PATTERN
from aop_map.store import files
from aop_map.store.codes import ID_PATTERN, new_reference
from aop_map.store.errors import (
    ConsentRequired,
    InvalidTransition,
    RecordNotFound,
    StoreError,
    SubmissionNotFound,
    SubmissionTooLarge,
)
from aop_map.store.values import (
    Submission,
    iso,
    parse_time,
    plain_data,
    to_submission,
    utc_now,
    who_fields,
)
from aop_map.vocabulary import CONTROLLED_FIELDS, Vocabulary

COMMUNITY_DIR = "community"
AUDIT_FILE = "audit.jsonl"
INTENTS_DIR = "intents"
LIMITS_DIR = "limits"
LOCK_FILE = ".lock"
# The schema limits each field; this caps the whole stored submission (an attack, not a listing).
MAX_SUBMISSION_BYTES = 64 * 1024
# The audit log shows before/after values only of these (controlled terms and flags).
AUDIT_VALUE_FIELDS = CONTROLLED_FIELDS | {"publish_contact"}
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


def _thread_lock_for(root: Path) -> threading.Lock:
    """One lock per submissions folder per process, shared by every store object on it."""
    key = str(root.resolve())
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.Lock())


class StoreFolder:
    """The part of ``SubmissionStore`` that owns the folder: paths, submission files, the audit
    log and the checks on incoming data (see ``SubmissionStore`` for the arguments)."""

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
        self._clock = clock or utc_now
        self._vocabulary: Vocabulary | None = None
        self._swept = False
        self._check_root_is_hidden_from_loader()
        self._thread_lock = _thread_lock_for(self.root)
        # Counters against guessing and flooding, beside the submissions (private, not
        # published), on the store's clock so tests move both at once.
        self.limits = Limiter(self.root / LIMITS_DIR, clock=lambda: self._now().timestamp())

    @property
    def vocabulary(self) -> Vocabulary:
        """The vocabulary submissions are validated with (that of the data directory)."""
        if self._vocabulary is None:
            self._vocabulary = load_vocabulary(self.data_dir)
        return self._vocabulary

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

    # -- submission files ------------------------------------------------------------------

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
        doc = files.load_yaml(text)
        if not isinstance(doc, dict) or doc.get("id") != path.stem:
            raise StoreError(f"the file of submission {path.stem} is not a submission")
        return doc

    def _write(self, doc: dict[str, Any]) -> None:
        files.atomic_write(self.root / f"{doc['id']}.yaml", files.dump_yaml(doc))

    def _now(self) -> dt.datetime:
        return parse_time(self._clock())

    def _unused_reference(self, year: int) -> str:
        while True:
            reference = new_reference(year)
            if not (self.root / f"{reference}.yaml").exists():
                return reference

    def _list(self, status: str | None = None) -> builtins.list[Submission]:
        # Without repair, so callers holding the lock (the thread lock is not re-entrant) can.
        out: builtins.list[Submission] = []
        for path in sorted(self.root.glob("AOP-*.yaml")) if self.root.is_dir() else []:
            try:
                doc = files.load_yaml(path.read_text(encoding="utf-8"))
                submission = to_submission(doc)
            except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError):
                continue  # not a submission file; atomic writes never leave half of one
            if status is None or submission.status == status:
                out.append(submission)
        return sorted(out, key=lambda s: (s.created, s.id))

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
        doc["updated"] = iso(now)
        doc.setdefault("history", []).append(
            {"at": iso(now), **who_fields(who, self_declared), "action": action, "changed": changed}
        )
        self._write(doc)
        entry: dict[str, Any] = {
            "at": iso(now),
            **who_fields(who, self_declared),
            "action": action,
            "submission": doc["id"],
            "changed": changed,
        }
        shown = [f for f in changed if f in AUDIT_VALUE_FIELDS]
        if before is not None and shown and action == "edited":
            entry["before"] = {f: before.get(f) for f in shown}
            entry["after"] = {f: doc["data"].get(f) for f in shown}
        entry.update(extra or {})
        files.append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")

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
        consent.setdefault("at", iso(self._now()))
        size = len(files.dump_yaml({"consent": consent, "data": clean}).encode("utf-8"))
        if size > MAX_SUBMISSION_BYTES:
            raise SubmissionTooLarge(
                f"the submission is {size // 1024} KB; a listing is at most "
                f"{MAX_SUBMISSION_BYTES // 1024} KB: shorten the longest texts"
            )
        return clean, consent

    # -- records ---------------------------------------------------------------------------

    def _record_path(self, record_id: str) -> Path:
        if not isinstance(record_id, str) or not RECORD_ID_PATTERN.match(record_id):
            raise RecordNotFound(f"{record_id!r} is not a record id")
        return self.community_dir / f"{record_id}.yaml"

    def _record_exists(self, record_id: str) -> bool:
        if self._record_path(record_id).is_file():
            return True
        return record_id in load_records(self.data_dir).origins
