"""A shortlist of records kept in the URL (``list=id1,id2``) and the activity sheet's content.

Pure: no Streamlit, no I/O. Ids are checked against the dataset's records; the sheet's text is
plain (escape it for Markdown, draw it as text in a PDF): nothing here is markup.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd

from aop_map import fields

PARAM = "list"  # the URL parameter
PAGE = "shortlist"  # the url_path of the shortlist page
# A printed sheet of more than a few dozen activities helps nobody, and a URL must stay short
# enough for email clients and browsers (50 ids of ~40 characters is ~2 KB).
MAX_IDS = 50
SEPARATOR = ","
NOT_STATED = "not stated"
# Where the sheet finds when, cost and access: the registry's facts (fields.facts) by words
# in their labels first, then record attributes of those names (read with getattr: a record
# or registry without them still makes a sheet).
WHEN_WORDS = ("when", "schedule", "schedules", "times", "timetable")
COST_WORDS = ("cost", "costs", "price", "fee", "fees")
ACCESS_WORDS = ("access", "accessibility")
JOIN_WORDS = ("join", "eligibility")
LANGUAGE_WORDS = ("language", "languages")
WHEN_ATTRIBUTES = ("schedules", "schedule", "when", "times", "timetable")
COST_ATTRIBUTES = ("cost", "price", "fee", "fees")
ACCESS_ATTRIBUTES = ("accessibility", "access")
SELF_REFERRAL = "self-referral"
COUNTYWIDE = "countywide"  # the areas term for the whole county: every district shaded


def parse_param(
    value: str | Sequence[str] | None, is_known: Callable[[str], bool]
) -> tuple[tuple[str, ...], list[str]]:
    """The ids of a ``list`` parameter that name records, in order, without repeats, at most
    MAX_IDS; and notes (plain text) on what was dropped. ``value`` may be several parameters."""
    parts: list[str] = []
    for item in [value] if isinstance(value, str) else (value or []):
        parts += [p.strip() for p in str(item).split(SEPARATOR)]
    ids: list[str] = []
    unknown: list[str] = []
    for part in dict.fromkeys(p for p in parts if p):
        (ids if is_known(part) else unknown).append(part)
    notes = []
    if unknown:
        shown = ", ".join(f"“{u[:60]}”" for u in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        notes.append(
            f"{len(unknown)} id(s) in the shortlist link name no record and were "
            f"left out: {shown}{more}."
        )
    if len(ids) > MAX_IDS:
        notes.append(
            f"A shortlist holds at most {MAX_IDS} activities: the first {MAX_IDS} "
            f"of {len(ids)} are kept."
        )
        ids = ids[:MAX_IDS]
    return tuple(ids), notes


def format_param(ids: Iterable[str]) -> str:
    """The ``list`` parameter's value for some ids ("" for none)."""
    return SEPARATOR.join(dict.fromkeys(ids))


def add(ids: Sequence[str], record_id: str) -> tuple[str, ...]:
    """The shortlist with one more id at the end (unchanged if present or full)."""
    if record_id in ids or len(ids) >= MAX_IDS:
        return tuple(ids)
    return (*ids, record_id)


def remove(ids: Sequence[str], record_id: str) -> tuple[str, ...]:
    """The shortlist without one id."""
    return tuple(i for i in ids if i != record_id)


def share_link(page_url: str, ids: Sequence[str], page: str = PAGE) -> str:
    """The shortlist page's address with the list in it. ``page_url`` is the address the
    browser shows (the shortlist page's, or the app's root): its query is replaced."""
    path = page_url.split("?")[0].split("#")[0].rstrip("/")
    if path.rsplit("/", 1)[-1] != page:
        path = f"{path}/{page}"
    query = urlencode({PARAM: format_param(ids)}, safe=SEPARATOR)
    return f"{path}?{query}"


def mailto(link: str, count: int) -> str:
    """A ``mailto:`` address with a subject and a body holding the link, URL-encoded."""
    subject = f"Arts and health activities: a shortlist of {count}"
    body = (
        "Here is a shortlist of arts and health activities in Gloucestershire. Open the "
        f"link to see them, print an activity sheet or download it as a PDF:\n\n{link}\n"
    )
    return f"mailto:?subject={quote(subject)}&body={quote(body)}"


# ---------------------------------------------------------------------------------------------
# The activity sheet's content


@dataclass(frozen=True)
class SheetEntry:
    """One activity as the sheet shows it: plain text, "not stated" where nothing is known."""

    record_id: str
    title: str
    what: str
    for_whom: str
    where: str
    when: str
    cost: str
    how_to_join: str
    contact: str  # only what the provider agreed to publish
    last_confirmed: str
    points: tuple[tuple[float, float], ...] = ()  # (lat, lon) of its venues
    area_codes: tuple[str, ...] = ()  # ONS codes of the districts it serves

    def rows(self) -> list[tuple[str, str]]:
        """(label, text) in the sheet's order."""
        return [
            ("What it is", self.what),
            ("Who it is for", self.for_whom),
            ("Where", self.where),
            ("When", self.when),
            ("Cost", self.cost),
            ("How to join", self.how_to_join),
            ("Contact", self.contact),
            ("Facts last confirmed", self.last_confirmed),
        ]


def _text(value: Any) -> str:
    """A value as one line of plain text ("" for nothing): a structured value (a schedule, a
    cost) by its own describe()."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(t for t in (_text(v) for v in value) if t)
    if isinstance(value, bool):
        return "yes" if value else "no"
    describe = getattr(value, "describe", None)
    if callable(describe):
        value = describe()
    return " ".join(str(value).split())


def _stated(values: Sequence[str]) -> list[str]:
    return [v for v in values if v and v.casefold() != NOT_STATED]


def _from_record(
    record: Any, attributes: Sequence[str], facts: list[tuple[str, list[str]]], words: Sequence[str]
) -> str:
    """The facts whose label has one of some words (labelled when several), else the first
    of some attributes the record has, else ""."""
    matched = [
        (label, _stated(values))
        for label, values in facts
        if set(label.casefold().split()) & set(words)
    ]
    matched = [(label, values) for label, values in matched if values]
    if len(matched) == 1:
        return ", ".join(matched[0][1])
    if matched:
        return "; ".join(f"{label}: {', '.join(values)}" for label, values in matched)
    for name in attributes:
        found = _text(getattr(record, name, None))
        if found:
            return found
    return ""


def _what(record: Any, vocabulary: Any) -> str:
    summary = _text(record.summary) or _text((record.description or "").split("\n\n")[0])
    kind = vocabulary.label("kind", record.kind)
    forms = ", ".join(vocabulary.labels("art_forms", record.art_forms))
    head = f"{kind}" + (f": {forms}" if forms else "")
    return f"{head}. {summary}" if summary else head


def _for_whom(record: Any, vocabulary: Any, facts: list[tuple[str, list[str]]]) -> str:
    parts = []
    if record.conditions:
        parts.append(
            "People with or affected by: "
            + ", ".join(vocabulary.labels("conditions", record.conditions))
        )
    if record.age_groups:
        parts.append("Ages: " + ", ".join(vocabulary.labels("age_groups", record.age_groups)))
    joining = _from_record(record, (), facts, JOIN_WORDS)
    if joining:
        parts.append(joining[:1].upper() + joining[1:])
    languages = _from_record(record, ("languages",), facts, LANGUAGE_WORDS)
    if languages:
        parts.append(f"Languages: {languages}")
    return ". ".join(parts)


def _where(rows: pd.DataFrame, record: Any, vocabulary: Any) -> str:
    places = []
    for row in rows.itertuples():
        if getattr(row, "location_index", 0) < 0:
            continue
        parts = [
            _text(getattr(row, c, None)) for c in ("location_label", "address", "place", "postcode")
        ]
        where = ", ".join(dict.fromkeys(p for p in parts if p))
        if where:
            places.append(where)
    delivery = ", ".join(vocabulary.labels("delivery", record.delivery))
    areas = ", ".join(vocabulary.labels("areas_served", record.areas_served))
    text = "; ".join(dict.fromkeys(places))
    if not text and areas:
        text = f"Serves {areas} (no single venue)"
    elif areas:
        text += f" (serves {areas})"
    if delivery:
        text = f"{text}. Delivery: {delivery}" if text else f"Delivery: {delivery}"
    return text


def _how_to_join(record: Any, vocabulary: Any) -> str:
    """Whether people may refer themselves (the eligibility's referral need, or the
    self-referral route), and who else refers."""
    need = getattr(getattr(record, "eligibility", None), "referral", None)
    routes = list(record.referral_routes)
    others = [r for r in routes if r != SELF_REFERRAL]
    parts = []
    if need:
        try:
            parts.append(vocabulary.label("referral_need", need))
        except Exception:  # a vocabulary without the section (older data): the term as given
            parts.append(str(need))
    elif SELF_REFERRAL in routes:
        parts.append("Self-referral: people can join directly")
    if others:
        parts.append("Referral by: " + ", ".join(vocabulary.labels("referral_routes", others)))
    return ". ".join(parts)


def _contact(record: Any) -> str:
    """The published contact details, or a pointer elsewhere without consent."""
    contact = record.contact
    parts = [_text(p) for p in (contact.name, contact.phone, contact.email, contact.website)]
    if record.publish_contact and any(parts[1:]):
        return " · ".join(p for p in parts if p)
    return "Not published here: ask your link worker or GP, or see the provider's page on the map."


def _points(rows: pd.DataFrame) -> tuple[tuple[float, float], ...]:
    located = rows[rows.geometry.notna()] if len(rows) else rows
    return tuple((float(p.y), float(p.x)) for p in located.geometry)


def _area_codes(areas: Sequence[str], vocabulary: Any) -> tuple[str, ...]:
    """The district codes of the areas a record serves; the county's (COUNTYWIDE) are all of
    the vocabulary's districts."""
    if COUNTYWIDE in areas:
        areas = [t.id for t in vocabulary.terms("areas_served")]
    codes = [getattr(vocabulary.term("areas_served", a), "code", None) for a in areas]
    return tuple(dict.fromkeys(c for c in codes if c))


def sheet_entry(record: Any, rows: pd.DataFrame, vocabulary: Any) -> SheetEntry:
    """One record's block of the activity sheet (``rows``: its rows of the dataset's frame)."""
    facts = fields.facts(record, vocabulary)
    access = _from_record(record, ACCESS_ATTRIBUTES, facts, ACCESS_WORDS)
    where = _where(rows, record, vocabulary)
    if access:
        where = f"{where}. Access: {access}" if where else f"Access: {access}"
    verified = record.last_verified
    codes = _area_codes(record.areas_served, vocabulary)

    def said(text: str) -> str:
        return text or NOT_STATED

    return SheetEntry(
        record_id=record.id,
        title=_text(record.name),
        what=said(_what(record, vocabulary)),
        for_whom=said(_for_whom(record, vocabulary, facts)),
        where=said(where),
        when=said(_from_record(record, WHEN_ATTRIBUTES, facts, WHEN_WORDS)),
        cost=said(_from_record(record, COST_ATTRIBUTES, facts, COST_WORDS)),
        how_to_join=said(_how_to_join(record, vocabulary)),
        contact=_contact(record),
        last_confirmed=verified.isoformat() if isinstance(verified, dt.date) else NOT_STATED,
        points=_points(rows),
        area_codes=codes,
    )


def sheet_entries(
    ids: Sequence[str], record: Callable[[str], Any], frame: pd.DataFrame, vocabulary: Any
) -> list[SheetEntry]:
    """The sheet's blocks for the shortlist, in its order (unknown ids skipped)."""
    out = []
    for record_id in ids:
        found = record(record_id)
        if found is not None:
            rows = frame[frame["record_id"] == record_id] if len(frame) else frame
            out.append(sheet_entry(found, rows, vocabulary))
    return out
