"""The review cycle: when a record is due for a check with its provider, and recording one.

No Streamlit, no printing. Dates are worked out here and nowhere else: a record is *due* (and
shows "may be out of date") once ``AOP_MAP_REVIEW_MONTHS`` (default 12) calendar months have
passed since it was last verified, else since its newest source. The day is counted as due:
12 months after 2025-11-30 is 2026-11-30, due that day; from the 31st of a month the months
end on the last day of a shorter one (2025-01-31 + 1 month = 2025-02-28).

A verification is recorded through the store (``SubmissionStore.record_verification``): a
community record is rewritten by the store; a curated YAML file is edited in place by
``set_verified_yaml``, a ruamel.yaml round trip that keeps comments, key order and formatting
and refuses to write when anything but the two changed lines would move.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aop_map import settings
from aop_map.records import Record, partial_date_start

if TYPE_CHECKING:  # the map and pages ask only the dates: the writers are imported when used
    from ruamel.yaml import YAML

    from aop_map.store import SubmissionStore

DEFAULT_REVIEW_MONTHS = 12
REVIEW_SETTING = "AOP_MAP_REVIEW_MONTHS"
# What a page says beside a record past its review date.
OUT_OF_DATE = "may be out of date"
# The keys a verification writes, in the order they sit in a record file.
VERIFIED_KEYS = ("last_verified", "verified_by")
# A verified record's keys go after the first of these present (else at the end).
INSERT_AFTER = ("source_date", "publish_contact", "readiness", "contact")


class VerifyError(ValueError):
    """A verification that cannot be recorded: unknown record, bad name or date, a file kind
    that cannot be edited safely."""


def review_months(environ: dict[str, str] | None = None) -> int:
    """The review period in months: AOP_MAP_REVIEW_MONTHS, else 12 (0 counts as 12)."""
    return settings.count(REVIEW_SETTING, environ) or DEFAULT_REVIEW_MONTHS


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later, or the month's last day when it is
    shorter (2025-01-31 + 1 -> 2025-02-28; 2024-02-29 + 12 -> 2025-02-28)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def months_between(start: dt.date, end: dt.date) -> int:
    """Whole calendar months from `start` to `end` (0 when `end` is earlier)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    while months > 0 and add_months(start, months) > end:
        months -= 1
    return max(months, 0)


def reference_date(record: Any) -> dt.date | None:
    """What a record's age counts from: last_verified, else the start of its source_date."""
    verified = getattr(record, "last_verified", None)
    if isinstance(verified, dt.datetime):
        verified = verified.date()
    if isinstance(verified, dt.date):
        return verified
    source = getattr(record, "source_date", None)
    return partial_date_start(source) if isinstance(source, str) and source else None


def review_due_on(record: Any, months: int) -> dt.date | None:
    """The day a record falls due for review (None: no date at all, so due already)."""
    base = reference_date(record)
    return None if base is None else add_months(base, months)


def is_out_of_date(record: Any, today: dt.date, months: int) -> bool:
    """True when a record may be out of date: its review day has come, or it has no date.

    Ended records are history, never "out of date". `record` is a Record or a frame row
    (anything with ``status``, ``last_verified`` and ``source_date`` attributes).
    """
    if getattr(record, "status", None) == "ended":
        return False
    due = review_due_on(record, months)
    return due is None or today >= due


@dataclass(frozen=True)
class DueRecord:
    """One record due for review, as ``aop-map review --json`` lists it."""

    id: str
    name: str
    last_verified: str | None
    source_date: str | None
    months_since: int | None  # from last_verified, else source_date; None: no date at all
    contact: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape: id, name, last_verified, source_date, months_since, contact."""
        return asdict(self)


def contact_text(record: Record) -> str:
    """How to reach the provider, for reviewers: its contact details, else its sources."""
    contact = record.contact
    parts = [p for p in (contact.name, contact.email, contact.phone, contact.website) if p]
    if parts:
        return " · ".join(parts)
    links = [s.url for s in record.sources if s.url]
    if links:
        return "no contact details; see " + links[0]
    owner = record.organisation or record.name
    return f"no contact details or links: find {owner} through its sources"


def due_for_review(records: Iterable[Record], today: dt.date, months: int) -> list[DueRecord]:
    """Records due for review, oldest first (records with no date at all come first).

    Ended records are left out: they are history, with nothing running to confirm.
    """
    due = [r for r in records if is_out_of_date(r, today, months)]
    due.sort(key=lambda r: (reference_date(r) or dt.date.min, r.id))
    out = []
    for record in due:
        base = reference_date(record)
        out.append(
            DueRecord(
                id=record.id,
                name=record.name,
                last_verified=record.last_verified.isoformat() if record.last_verified else None,
                source_date=record.source_date,
                months_since=None if base is None else months_between(base, today),
                contact=contact_text(record),
            )
        )
    return out


def review_report(records: Iterable[Record], today: dt.date, months: int) -> dict[str, Any]:
    """``{"review_months": N, "due": [...]}``: the review queue as plain data (JSON)."""
    return {
        "review_months": months,
        "due": [d.as_dict() for d in due_for_review(records, today, months)],
    }


# ---------------------------------------------------------------------------------------------
# Recording a verification


def _round_trip() -> YAML:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: comments, key order, quotes and block styles are kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def _place_keys(doc: Any, on: dt.date, by: str) -> None:
    """Set last_verified and verified_by in a round-trip mapping, in place: where they are,
    else together after the first INSERT_AFTER key present (else at the end)."""
    keys = list(doc.keys())
    if "last_verified" in doc:
        doc["last_verified"] = on
    else:
        anchor = next((k for k in INSERT_AFTER if k in doc), None)
        position = keys.index(anchor) + 1 if anchor else len(keys)
        doc.insert(position, "last_verified", on)
    if "verified_by" in doc:
        doc["verified_by"] = by
    else:
        doc.insert(list(doc.keys()).index("last_verified") + 1, "verified_by", by)


def set_verified_yaml(text: str, record_id: str, on: dt.date, by: str) -> str:
    """A curated YAML file's text with one record's last_verified and verified_by set.

    A ruamel.yaml round trip: every other line stays byte for byte (checked: VerifyError when
    the round trip would change anything else, so a file is never silently reformatted).
    """
    yaml = _round_trip()
    doc = yaml.load(text)
    docs = doc if isinstance(doc, list) else [doc]
    target = next((d for d in docs if hasattr(d, "insert") and d.get("id") == record_id), None)
    if target is None:
        raise VerifyError(f"no record {record_id!r} in the file")
    _place_keys(target, on, by)
    out = io.StringIO()
    yaml.dump(doc, out)
    new = out.getvalue()
    _check_only_verified_lines(text, new)
    return new


def _check_only_verified_lines(old: str, new: str) -> None:
    """VerifyError unless old and new differ only in lines setting VERIFIED_KEYS."""
    diff = difflib.ndiff(old.splitlines(), new.splitlines())
    for line in diff:
        if line[:2] in ("- ", "+ ") and not line[2:].lstrip().startswith(
            tuple(f"{k}:" for k in VERIFIED_KEYS)
        ):
            raise VerifyError(
                "recording the verification would reformat other lines of the "
                "file; set last_verified and verified_by by hand"
            )


def record_file(data_dir: Path, record_id: str) -> tuple[Record, Path]:
    """A record and the file it was read from; VerifyError when there is none."""
    from aop_map.loading import load_records

    result = load_records(data_dir, use_cache=False)
    record = next((r for r in result.records if r.id == record_id), None)
    origin = result.origins.get(record_id)
    if record is None or origin is None:
        raise VerifyError(f"no record {record_id!r} in the data")
    path = Path(origin.source)
    if not path.is_absolute():
        path = Path(data_dir).parent / path
    return record, path


def verify(
    store: SubmissionStore,
    record_id: str,
    by: str,
    moderator: str,
    on: dt.date,
    *,
    today: dt.date | None = None,
    self_declared: bool = False,
) -> Record:
    """Record that `by` confirmed a record's facts with its provider on `on` (not after
    `today`): through the store, for a community record or a curated YAML file alike."""
    by = " ".join(str(by or "").split())
    if not by:
        raise VerifyError("say who confirmed the facts with the provider (--by NAME)")
    if on > (today or dt.date.today()):
        raise VerifyError(f"{on.isoformat()} is in the future")
    _, path = record_file(store.data_dir, record_id)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise VerifyError(
            f"{path.name} is not a YAML file: set last_verified and verified_by in it by hand"
        )
    if path.resolve().parent == store.community_dir.resolve():
        return store.record_verification(record_id, by, on, moderator, self_declared=self_declared)
    return store.record_verification(
        record_id,
        by,
        on,
        moderator,
        self_declared=self_declared,
        curated=path,
        rewrite=lambda text: set_verified_yaml(text, record_id, on, by),
    )
