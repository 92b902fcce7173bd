"""Problem reports from provider pages, kept privately; never published, never audited by text.

Reports live beside the submissions and are resolved by moderators; the reporter's message and
email never reach the audit log or the published data. The email is kept only as long as it is
needed for a reply: erased when the report is resolved, or after REPORT_EMAIL_DAYS while it is
still open, by every read and write of reports (UK GDPR storage limitation).
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aop_map.store import files
from aop_map.store.codes import new_reference
from aop_map.store.errors import InvalidTransition, RecordNotFound, StoreError
from aop_map.store.journal import StoreJournal
from aop_map.store.values import (
    MAX_REASON,
    SUBMITTER,
    check_name,
    clean_text,
    iso,
    parse_time,
    who_fields,
)

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
# A reporter's email is only for a reply: a report still open after this many days gets none,
# so the address is erased then (and at once when the report is resolved). The report form
# tells the reporter so.
REPORT_EMAIL_DAYS = 90


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
    email_erased_at: dt.datetime | None = None


def _to_report(doc: Mapping[str, Any]) -> ProblemReport:
    resolved = doc.get("resolved_at")
    erased = doc.get("email_erased_at")
    return ProblemReport(
        id=doc["id"],
        record_id=str(doc["record_id"]),
        topic=str(doc["topic"]),
        message=str(doc.get("message") or ""),
        created=parse_time(doc["created"]),
        email=doc.get("email"),
        status=doc.get("status") or "open",
        resolved_at=parse_time(resolved) if resolved else None,
        resolved_by=doc.get("resolved_by"),
        resolution=doc.get("resolution"),
        email_erased_at=parse_time(erased) if erased else None,
    )


def _email_due(doc: Mapping[str, Any], now: dt.datetime) -> str | None:
    """Why a report's email must go now ('resolved', 'kept N days'), or None to keep it."""
    if not doc.get("email"):
        return None
    if doc.get("status") == "resolved":
        return "resolved"  # kept by an older version, which erased nothing on resolving
    try:
        created = parse_time(doc["created"])
    except (KeyError, TypeError, ValueError):
        return None  # not a report that is listed or shown anywhere
    if created + dt.timedelta(days=REPORT_EMAIL_DAYS) <= now:
        return f"kept {REPORT_EMAIL_DAYS} days"
    return None


def _erase_email(doc: dict[str, Any], now: dt.datetime) -> None:
    doc.update(email=None, email_erased_at=iso(now))


class StoreReports(StoreJournal):
    """The part of ``SubmissionStore`` that keeps problem reports."""

    def report_problem(
        self, record_id: str, topic: str, message: str, email: str | None = None
    ) -> str:
        """Keep a problem reported about a published record; returns its reference.

        The message and email are the reporter's: stored privately here, audited by reference,
        record and topic only. Rate limits are the caller's (registration.send_report).
        """
        if topic not in REPORT_TOPICS:
            raise StoreError(f"the topic must be one of {', '.join(REPORT_TOPICS)}")
        text = clean_text(str(message or "")).strip()
        if not text:
            raise StoreError("please say what is wrong")
        if len(text) > MAX_REPORT_MESSAGE:
            raise StoreError(f"a message has at most {MAX_REPORT_MESSAGE} characters")
        address = clean_text(str(email or "")).strip() or None
        if address is not None and (
            len(address) > MAX_REPORT_EMAIL or not EMAIL_PATTERN.match(address)
        ):
            raise StoreError(f"{address[:60]!r} is not an email address")
        if not isinstance(record_id, str) or not self._record_exists(record_id):
            raise RecordNotFound(f"there is no record {record_id!r}")
        with self._locked():
            now = self._now()
            self._erase_due_emails(now)
            reference = self._unused_report_reference(now.year)
            doc = {
                "id": reference,
                "status": "open",
                "record_id": record_id,
                "topic": topic,
                "message": text,
                "email": address,
                "created": iso(now),
            }
            self._write_report(doc)
            entry = {
                "at": iso(now),
                "who": SUBMITTER,
                "action": "reported",
                "report": reference,
                "record_id": record_id,
                "topic": topic,
            }
            files.append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")
        return reference

    def reports(
        self, status: str | None = None, *, record_id: str | None = None
    ) -> builtins.list[ProblemReport]:
        """Problem reports (all, of one status, of one record), oldest first.

        Emails due for erasure are erased first (under the lock, only when there are any).
        """
        if status is not None and status not in REPORT_STATUSES:
            raise ValueError(f"status must be one of {', '.join(REPORT_STATUSES)}")
        docs = list(self._report_docs())
        now = self._now()
        if any(_email_due(doc, now) for doc in docs):
            self.purge_report_emails()
            docs = list(self._report_docs())
        out = []
        for doc in docs:
            try:
                report = _to_report(doc)
            except (KeyError, TypeError, ValueError):
                continue
            if (status is None or report.status == status) and (
                record_id is None or report.record_id == record_id
            ):
                out.append(report)
        return sorted(out, key=lambda r: (r.created, r.id))

    def get_report(self, reference: str) -> ProblemReport:
        """One problem report; ``StoreError`` for an unknown or malformed reference.

        An email due for erasure is erased first, as ``reports`` does.
        """
        doc = self._read_report(reference)
        if _email_due(doc, self._now()):
            self.purge_report_emails()
            doc = self._read_report(reference)
        return _to_report(doc)

    def purge_report_emails(self) -> int:
        """Erase every reporter's email that is due (its report resolved, or open for
        REPORT_EMAIL_DAYS); returns how many. Each erasure is audited, never the email."""
        with self._locked():
            return self._erase_due_emails(self._now())

    def resolve_report(
        self, reference: str, moderator: str, how: str, *, self_declared: bool = False
    ) -> ProblemReport:
        """Close a problem report, saying how (e.g. 'record updated'); who and when are kept.

        The reporter's email, if any, is erased: a moderator replies before resolving.
        """
        moderator = check_name(moderator)
        how = " ".join(clean_text(str(how or "")).split())
        if not how:
            raise StoreError("say how the report was resolved")
        if len(how) > MAX_REASON:
            raise StoreError(f"a resolution has at most {MAX_REASON} characters")
        with self._locked():
            now = self._now()
            self._erase_due_emails(now)
            doc = self._read_report(reference)
            if doc.get("status") == "resolved":
                raise InvalidTransition(f"report {doc['id']} is already resolved")
            erased = bool(doc.get("email"))
            if erased:
                _erase_email(doc, now)
            doc.update(
                status="resolved",
                resolved_at=iso(now),
                resolved_by=moderator,
                resolution=how,
                self_declared=self_declared,
            )
            self._write_report(doc)
            entry = {
                "at": iso(now),
                **who_fields(moderator, self_declared),
                "action": "report-resolved",
                "report": doc["id"],
                "record_id": doc["record_id"],
                "how": how,
            }
            if erased:
                entry["email_erased"] = True
            files.append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")
        return _to_report(doc)

    def _erase_due_emails(self, now: dt.datetime) -> int:
        """Erase the emails due at ``now``, one atomic write and audit line each (under the
        lock); returns how many."""
        erased = 0
        for doc in self._report_docs():
            why = _email_due(doc, now)
            if why is None:
                continue
            _erase_email(doc, now)
            self._write_report(doc)
            entry = {
                "at": iso(now),
                "who": "aop-map",
                "action": "report-email-erased",
                "report": doc["id"],
                "record_id": doc.get("record_id"),
                "reason": why,
            }
            files.append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")
            erased += 1
        return erased

    def _report_docs(self) -> Iterator[dict[str, Any]]:
        """Each report file's contents, by reference (unreadable files and others skipped)."""
        folder = self.root / REPORTS_DIR
        for path in sorted(folder.glob("RPT-*.yaml")) if folder.is_dir() else []:
            try:
                doc = files.load_yaml(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError):
                continue
            if isinstance(doc, dict) and doc.get("id") == path.stem:
                yield doc

    def _report_path(self, reference: str) -> Path:
        text = str(reference or "").strip().upper()
        if not REPORT_PATTERN.match(text):
            raise StoreError(f"{reference!r} is not a problem report reference")
        return self.root / REPORTS_DIR / f"{text}.yaml"

    def _read_report(self, reference: str) -> dict[str, Any]:
        path = self._report_path(reference)
        try:
            doc = files.load_yaml(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StoreError(f"no problem report {path.stem}") from None
        if not isinstance(doc, dict) or doc.get("id") != path.stem:
            raise StoreError(f"the file of report {path.stem} is not a problem report")
        return doc

    def _write_report(self, doc: Mapping[str, Any]) -> None:
        folder = self.root / REPORTS_DIR
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        files.atomic_write(folder / f"{doc['id']}.yaml", files.dump_yaml(dict(doc)))

    def _unused_report_reference(self, year: int) -> str:
        while True:
            reference = "RPT-" + new_reference(year)[4:]
            if not self._report_path(reference).exists():
                return reference
