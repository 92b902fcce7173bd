"""Approval: a submission published as a community record (journalled), diffs, verifications.

Builds and writes only what may be published (contact details only with consent) and never
overwrites a curated file except through ``record_verification``'s checked rewrite.
"""

from __future__ import annotations

import builtins
import copy
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from aop_map.loading import load_records
from aop_map.records import Record, slugify, validate_record
from aop_map.store import files
from aop_map.store.errors import (
    CuratedRecordError,
    InvalidTransition,
    RecordNotFound,
    StoreError,
    SubmissionInvalid,
)
from aop_map.store.journal import StoreJournal
from aop_map.store.values import changed_fields, check_name, iso, who_fields

APPROVAL_SOURCE = "Submitted through aop-map by the provider"
# Who confirmed an approved submission's facts: the provider, who sent them (issue 12).
VERIFIED_BY_PROVIDER = "the provider, through the register form"


def _approval_source(source: Any) -> bool:
    title = source.get("title") if isinstance(source, Mapping) else source
    return isinstance(title, str) and title.startswith(APPROVAL_SOURCE)


class StoreApproval(StoreJournal):
    """The part of ``SubmissionStore`` that publishes approved submissions as records."""

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
        moderator = check_name(moderator)
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
                "at": iso(now),
                "nonce": secrets.token_hex(8),
                **who_fields(moderator, self_declared),
            }
            # The journal: intent, record, audit line, submission, then the intent goes.
            files.atomic_write(self._intent_path(doc["id"]), json.dumps(intent, ensure_ascii=False))
            self._write_record_text(record_id, text)
            self._audit_approval(intent)
            self._finish_approval(doc, intent)
        return record

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
        moderator = check_name(moderator)
        verified_by = check_name(verified_by)
        with self._locked():
            if curated is None:
                path = self._record_path(record_id)
                old = path.read_text(encoding="utf-8") if path.is_file() else None
                if old is None:
                    raise RecordNotFound(f"no community record {record_id!r}")
                data = files.load_yaml(old)
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
                found = files.load_yaml(new)
                docs = found if isinstance(found, list) else [found]
                data = next(
                    (d for d in docs if isinstance(d, dict) and d.get("id") == record_id), None
                )
                record = self._valid_record(data, record_id)
                mode = path.stat().st_mode & 0o777
            if record.last_verified != on or record.verified_by != verified_by:
                raise StoreError(f"the edit of {path.name} did not record the verification")
            files.atomic_write(path, new, mode=mode)
            entry = {
                "at": iso(self._now()),
                **who_fields(moderator, self_declared),
                "action": "verified",
                "record_id": record_id,
                "verified_by": verified_by,
                "verified_on": on.isoformat(),
                "file": "community" if curated is None else "curated",
            }
            files.append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")
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

    # -- records ---------------------------------------------------------------------------

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
        return files.dump_yaml(record.model_dump(mode="python", exclude_defaults=True))

    def _record_text(self, record: Record, reference: str) -> str:
        header = (
            f"# Published by aop-map from submission {reference}; change it through the "
            "moderation queue (aop-map submissions), not by hand.\n"
        )
        return header + self._dump(record)

    def _write_record_text(self, record_id: str, text: str) -> None:
        self.community_dir.mkdir(parents=True, exist_ok=True)
        files.atomic_write(self._record_path(record_id), text, mode=0o644)

    def _remove_record(self, record_id: str) -> bool:
        return files.remove_file(self._record_path(record_id))

    def _published_record(self, doc: Mapping[str, Any]) -> Record | None:
        """The record file an approved submission published, if it is still there."""
        if not doc.get("record_id"):
            return None
        try:
            text = self._record_path(doc["record_id"]).read_text(encoding="utf-8")
        except (FileNotFoundError, RecordNotFound):
            return None
        record, _ = validate_record(files.load_yaml(text), self.vocabulary, source=doc["id"])
        return record
