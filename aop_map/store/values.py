"""Plain values of the store: what callers get back, times, cleaned text, personal fields.

No I/O and no locking: each function here depends only on its arguments (and the clock).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aop_map import fields
from aop_map.records import Problem
from aop_map.store.errors import StoreError, SubmissionTooLarge

STATUSES = ("pending", "approved", "rejected", "withdrawn")
SUBMITTER = "submitter"
MAX_NESTING = 12
MAX_MODERATOR = 100
MAX_REASON = 2000
# Free-text fields that may hold personal data: wiped on withdrawal, never logged by value
# (with wherever the registry's personal fields sit: see wipe_personal).
PERSONAL_FIELDS = ("contact", "description", "notes", "locations")
# A rejected listing keeps its personal data this long after the rejection: long enough for
# its submitter to fix it and send it again with the edit code. Then the data is erased and the
# submission kept without it (UK GDPR storage limitation); the receipt and the Register page
# say so. Pending ones await a decision and are never erased for their age.
REJECTED_KEEP_DAYS = 90
# What a freelance artist's own name becomes when it is wiped: by withdrawal, by retention.
WITHDRAWN_NAME = "(withdrawn)"
ERASED_NAME = "(name deleted)"
# What an edit must give again once erased (the rest the form asks for anyway), as it says so.
GIVE_AGAIN = {"name": "your name", "contact": "the contact details"}


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
    personal_erased_at: dt.datetime | None = None  # rejected, kept REJECTED_KEEP_DAYS, erased


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def parse_time(text: Any) -> dt.datetime:
    moment = text if isinstance(text, dt.datetime) else dt.datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def clean_text(text: str) -> str:
    # Lone surrogates (from broken clients) cannot be stored as UTF-8: replace, never fail.
    return text.encode("utf-8", "replace").decode("utf-8")


def plain_data(value: Any, depth: int = 0) -> Any:
    """A deep copy made of YAML-safe plain types; text is kept exactly (HTML stays text)."""
    if depth > MAX_NESTING:
        raise SubmissionTooLarge("the submission is nested too deeply to be a listing")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {clean_text(str(k)): plain_data(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_data(v, depth + 1) for v in value]
    return clean_text(str(value))


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Top-level keys whose values differ, in first-seen order."""
    keys = dict.fromkeys([*before, *after])
    return [key for key in keys if before.get(key) != after.get(key)]


def wipe_personal(data: Mapping[str, Any], *, name: str = WITHDRAWN_NAME) -> dict[str, Any]:
    """A copy without personal data: contact, free text, any part holding a personal field of
    the registry, and locations down to the place name.

    A freelance artist's name is the artist's own name, so it goes too: it becomes ``name``.
    """
    personal = {*PERSONAL_FIELDS, *(spec.key.split(".")[0] for spec in fields.personal_fields())}
    out = {k: copy.deepcopy(v) for k, v in data.items() if k not in personal}
    places = [
        {"place": loc["place"]}
        for loc in data.get("locations") or []
        if isinstance(loc, Mapping) and loc.get("place")
    ]
    if places:
        out["locations"] = places
    if data.get("kind") == "freelance-artist" and "name" in out:
        out["name"] = name
    return out


def rejected_at(submission: Submission) -> dt.datetime:
    """When a submission was last turned down: its last "rejected" history entry (else, for a
    history without one, its last change)."""
    for entry in reversed(submission.history):
        if isinstance(entry, Mapping) and entry.get("action") == "rejected":
            try:
                return parse_time(entry["at"])
            except (KeyError, TypeError, ValueError):
                break
    return submission.updated


def personal_due(submission: Submission, now: dt.datetime) -> str | None:
    """Why a submission's personal data must be erased now, or None to keep it: only a
    rejected one, REJECTED_KEEP_DAYS after its rejection, with personal data left to erase."""
    if submission.status != "rejected":
        return None
    if rejected_at(submission) + dt.timedelta(days=REJECTED_KEEP_DAYS) > now:
        return None
    if wipe_personal(submission.data, name=ERASED_NAME) == submission.data:
        return None  # erased already, or never given
    return f"rejected {REJECTED_KEEP_DAYS} days ago"


def missing_again(
    erased: Iterable[str], wiped: Mapping[str, Any], data: Mapping[str, Any]
) -> list[str]:
    """The GIVE_AGAIN fields among those ``erased`` that an edit's ``data`` leaves empty or as
    the erasure left them (``wiped``)."""
    gone = set(erased)
    return [
        key
        for key in GIVE_AGAIN
        if key in gone and (data.get(key) in (None, "", {}) or data.get(key) == wiped.get(key))
    ]


def check_name(moderator: str) -> str:
    name = " ".join(str(moderator or "").split())
    if not name:
        raise StoreError("a moderator name is required (it goes in the audit log)")
    if len(name) > MAX_MODERATOR:
        raise StoreError(f"a moderator name has at most {MAX_MODERATOR} characters")
    return name


def who_fields(moderator: str, self_declared: bool) -> dict[str, Any]:
    """The "who" of an audit or history entry; a name typed at a password sign-in is marked."""
    return {"who": moderator, "self_declared": True} if self_declared else {"who": moderator}


def _problem_from_dict(data: Mapping[str, Any]) -> Problem:
    keys = ("source", "message", "line", "field", "record_id", "severity")
    return Problem(**{k: data[k] for k in keys if k in data})


def to_submission(doc: Mapping[str, Any]) -> Submission:
    return Submission(
        id=doc["id"],
        status=doc["status"],
        data=copy.deepcopy(doc.get("data") or {}),
        problems=[_problem_from_dict(p) for p in doc.get("problems") or []],
        created=parse_time(doc["created"]),
        updated=parse_time(doc.get("updated") or doc["created"]),
        update_of=doc.get("update_of"),
        record_id=doc.get("record_id"),
        reason=doc.get("reason"),
        consent=copy.deepcopy(doc.get("consent") or {}),
        history=copy.deepcopy(doc.get("history") or []),
        personal_erased_at=parse_time(erased)
        if (erased := doc.get("personal_erased_at"))
        else None,
    )
