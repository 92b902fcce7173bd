"""The lock every change takes, and the approval journal it repairs before each change.

Intents of approvals under way, their audit line, and finishing or undoing an approval a crash
interrupted; deciding what to approve and writing its record is approval.py's.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from aop_map.store import files
from aop_map.store.codes import ID_PATTERN
from aop_map.store.errors import RecordNotFound, StoreError
from aop_map.store.files import TEMP_PREFIX
from aop_map.store.folder import LOCK_FILE, StoreFolder
from aop_map.store.values import iso


class StoreJournal(StoreFolder):
    """The part of ``SubmissionStore`` that locks and keeps the approval journal."""

    def repair(self) -> None:
        """Finish or undo any approval a crash interrupted (cheap when there is none).

        With the intended record on disk the approval is completed (its audit line written
        once); without it the intent is dropped and the submission stays pending.
        """
        if not self._pending_intents():
            return
        with self._locked():
            pass  # _locked repairs under the lock

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
        files.append_line(self.audit_path, json.dumps(entry, ensure_ascii=False) + "\n")

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
        files.remove_file(self._intent_path(doc["id"]))

    def _repair_locked(self) -> None:
        """Finish each interrupted approval whose record is on disk; drop the others."""
        for path in self._pending_intents():
            try:
                intent = json.loads(path.read_text(encoding="utf-8"))
                doc = self._read(path.stem)
            except (ValueError, StoreError):
                files.remove_file(path)  # no submission to finish: nothing was published for it
                continue
            if doc["status"] != "pending":  # finished, only the intent was left
                files.remove_file(path)
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
                "at": iso(self._now()),
                "who": "aop-map",
                "action": "approval-undone",
                "submission": doc["id"],
                "record_id": intent["record_id"],
                "reason": "interrupted before its record was written",
            }
            files.append_line(self.audit_path, json.dumps(entry) + "\n")
            files.remove_file(path)
