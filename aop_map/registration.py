"""The register form's logic without Streamlit: form values -> record data, checks, duplicates.

The page collects plain values; this module turns them into the record shape, checks them
field by field (the record schema plus what a form needs: consent, a way to be located or an
area served) and finds likely duplicates. How often anyone may submit is limited on the
server, in limits.py: never in the browser session, which a reload resets.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from aop_map.geocoding import normalise_postcode
from aop_map.records import URL_PATTERN, Problem, Record, slugify, validate_record
from aop_map.vocabulary import Vocabulary

# Names this similar (rapidfuzz token_sort_ratio) are probably the same provider.
DUPLICATE_NAME_SCORE = 85
# With the same postcode, a looser name match is enough.
DUPLICATE_NAME_SCORE_SAME_POSTCODE = 60
MAX_LOCATIONS = 3

FIELD_LABELS = {
    "name": "Name",
    "kind": "Kind",
    "status": "Status",
    "summary": "Short summary",
    "description": "Description",
    "organisation": "Parent organisation",
    "art_forms": "Art forms",
    "conditions": "Health conditions",
    "age_groups": "Age groups",
    "areas_served": "Areas served",
    "delivery": "Delivery",
    "referral_routes": "Referral routes",
    "commissioning_models": "Commissioning models",
    "locations": "Locations",
    "contact": "Contact",
    "contact.email": "Email",
    "contact.website": "Website",
    "contact.phone": "Phone",
    "contact.name": "Contact name",
    "sources": "Sources and links",
    "consent": "Consent",
    "readiness": "Readiness",
}


@dataclass
class FormCheck:
    """The record data built from a form, and messages keyed by form field."""

    data: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing stops the submission."""
        return not self.errors

    def add(self, key: str, message: str) -> None:
        """Record one message against a field."""
        self.errors.setdefault(key, []).append(message)

    def messages(self) -> list[str]:
        """'Field: message' lines in form order."""
        return [f"{FIELD_LABELS.get(k, k)}: {m}" for k, ms in self.errors.items() for m in ms]


def _clean(value: Any) -> str:
    return str(value or "").strip()


def _yes_no(value: Any) -> bool | None:
    return {"Yes": True, "No": False}.get(value)


def form_to_data(values: dict[str, Any]) -> dict[str, Any]:
    """Record-shaped data from form values (empty fields left out)."""
    data: dict[str, Any] = {}
    for key in ("name", "kind", "status", "summary", "description", "organisation"):
        if _clean(values.get(key)):
            data[key] = _clean(values.get(key))
    for key in (
        "art_forms",
        "conditions",
        "age_groups",
        "areas_served",
        "delivery",
        "referral_routes",
        "commissioning_models",
    ):
        if values.get(key):
            data[key] = list(values[key])
    locations = []
    for location in values.get("locations") or []:
        entry = {
            k: _clean(location.get(k))
            for k in ("label", "postcode", "place")
            if _clean(location.get(k))
        }
        if entry:
            locations.append(entry)
    if locations:
        data["locations"] = locations
    contact = {
        k: _clean(values.get(f"contact_{k}"))
        for k in ("name", "email", "phone", "website")
        if _clean(values.get(f"contact_{k}"))
    }
    if contact:
        data["contact"] = contact
    data["publish_contact"] = bool(values.get("publish_contact"))
    readiness: dict[str, Any] = {
        k: _yes_no(values.get(k))
        for k in ("safeguarding_policy", "dbs_checks", "insurance")
        if _yes_no(values.get(k)) is not None
    }
    frameworks = [
        f.strip() for f in _clean(values.get("evaluation_frameworks")).split(",") if f.strip()
    ]
    if frameworks:
        readiness["evaluation_frameworks"] = frameworks
    if readiness:
        data["readiness"] = readiness
    sources = [line.strip() for line in _clean(values.get("sources")).splitlines() if line.strip()]
    if sources:
        data["sources"] = sources
    return data


def check_form(values: dict[str, Any], vocabulary: Vocabulary) -> FormCheck:
    """Build the data and collect field-level messages (schema, consent, locations, links)."""
    check = FormCheck(form_to_data(values))
    data = check.data
    if not values.get("consent_listing"):
        check.add("consent", "please agree that the listing may be published")
    if not data.get("locations") and not data.get("areas_served"):
        check.add("locations", "give a postcode or place, or at least one area served")
    for index, location in enumerate(data.get("locations", [])):
        postcode = location.get("postcode")
        if postcode and normalise_postcode(postcode) is None:
            check.add(
                "locations",
                f"location {index + 1}: {postcode!r} is not a UK postcode "
                "(for example GL50 3PR); leave it empty and give a place",
            )
    for source in data.get("sources", []):
        if "://" in source and not URL_PATTERN.match(source):
            check.add("sources", f"{source!r} is not a web address starting http(s)://")
    candidate = {**data, "id": slugify(data.get("name", "") or "listing")}
    _record, problems = validate_record(candidate, vocabulary, source="form")
    for problem in problems:
        key = problem.field or "name"
        key = key if key in FIELD_LABELS else key.split(".")[0]
        check.add(key, _friendly(problem))
    return check


def _friendly(problem: Problem) -> str:
    message = problem.message
    message = re.sub(
        r"^String should have at most (\d+) characters?",
        r"too long: at most \1 characters",
        message,
    )
    message = re.sub(r"^String should have at least 1 character", "required", message)
    return message


@dataclass(frozen=True)
class Duplicate:
    """An existing record or pending submission that looks like the same listing."""

    kind: str  # "record" or "submission"
    id: str
    name: str
    score: int


def find_duplicates(
    data: dict[str, Any],
    records: Iterable[Record],
    *,
    pending: Iterable[tuple[str, dict[str, Any]]] = (),
) -> list[Duplicate]:
    """Records and pending submissions whose name (or postcode + name) closely match.

    Only moderators may be shown ``pending`` submissions: a public page passes published
    records alone, so nobody learns another person's pending listing or its reference.
    """
    name = _clean(data.get("name"))
    if not name:
        return []
    postcodes = {normalise_postcode(loc.get("postcode", "")) for loc in data.get("locations", [])}
    postcodes.discard(None)
    candidates = [
        ("record", r.id, r.name, {normalise_postcode(loc.postcode or "") for loc in r.locations})
        for r in records
    ]
    candidates += [
        (
            "submission",
            sid,
            _clean(d.get("name")),
            {normalise_postcode(loc.get("postcode", "")) for loc in d.get("locations", []) or []},
        )
        for sid, d in pending
    ]
    found = []
    for kind, cid, other, other_postcodes in candidates:
        score = int(fuzz.token_sort_ratio(name.lower(), other.lower()))
        shared = bool(postcodes & (other_postcodes - {None}))
        threshold = DUPLICATE_NAME_SCORE_SAME_POSTCODE if shared else DUPLICATE_NAME_SCORE
        if score >= threshold:
            found.append(Duplicate(kind, cid, other, score))
    return sorted(found, key=lambda d: -d.score)[:5]


def consent_record(publish_contact: bool) -> dict[str, Any]:
    """What the submitter agreed to and when (stored with the submission, not published)."""
    return {
        "listing": True,
        "contact": bool(publish_contact),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
