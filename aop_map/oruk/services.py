"""A record as a fully nested ORUK service: its status, ages, organisation, service areas,
contacts (only by consent), funding, and the pieces the sibling modules build; no paging, no
I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pandas as pd

from aop_map.oruk.ids import oruk_id, service_id
from aop_map.oruk.locations import Placed, placements, service_at_locations
from aop_map.oruk.optional import optional_values
from aop_map.oruk.taxonomy import Taxonomies, attributes
from aop_map.records import Record
from aop_map.vocabulary import Vocabulary, normalise_key

# Record status -> ORUK service status. Every vocabulary status needs a row (a test checks);
# one not listed is published as "inactive", never as "active" by mistake.
STATUSES: dict[str, str] = {
    "established": "active",
    "emerging": "active",
    "ended": "inactive",  # ran and finished: kept as history (ORUK: inactive)
}
UNLISTED_STATUS = "inactive"

# Age group term -> (minimum, maximum) age in years; None is no limit. A service's ages span
# its groups; a record's own minimum_age/maximum_age (OPTIONAL_FIELDS) win over these.
AGE_RANGES: dict[str, tuple[int | None, int | None]] = {
    "children": (0, 12),
    "young-people": (13, 25),
    "adults": (18, None),
    "older-people": (65, None),
    "all-ages": (None, None),
}

# ONS GSS codes have persistent URIs: a district service area links to its own.
AREA_URI = "http://statistics.data.gov.uk/id/statistical-geography/{code}"
# Characters a URI may hold as they are (RFC 3986 reserved + unreserved, and '%' of an
# existing escape); anything else in a web address (a space cannot be: records refuse it,
# but '|', '{', or a non-ASCII letter can) is percent-encoded so the value is a valid URI.
URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


def uri(value: str | None) -> str | None:
    """A web address as a valid URI (unsafe characters percent-encoded), or None."""
    return quote(value, safe=URI_SAFE) if value else None


def age_range(record: Record) -> tuple[int | None, int | None]:
    """The minimum and maximum age a record's age groups span (None: no limit or unknown)."""
    ranges = [AGE_RANGES[g] for g in record.age_groups if g in AGE_RANGES]
    if not ranges:
        return None, None
    lows = [low for low, _ in ranges]
    highs = [high for _, high in ranges]
    low = None if None in lows else min(lows)  # type: ignore[type-var]
    high = None if None in highs else max(highs)  # type: ignore[type-var]
    return (low or None), high  # a minimum of 0 is no minimum


def _funding(record: Record, sid: str, vocabulary: Vocabulary) -> list[dict[str, Any]]:
    """How the activity is commissioned or funded (its commissioning models)."""
    return [
        {
            "id": oruk_id(f"funding:{record.id}:{model}"),
            "service_id": sid,
            "source": vocabulary.label("commissioning_models", model),
        }
        for model in record.commissioning_models
    ]


def _service_areas(record: Record, sid: str, vocabulary: Vocabulary) -> list[dict[str, Any]]:
    out = []
    for area in record.areas_served:
        term = vocabulary.term("areas_served", area)
        label = term.label if term else area
        item = {
            "id": oruk_id(f"service_area:{record.id}:{area}"),
            "service_id": sid,
            "name": label,
            "service_area": label,
        }
        if term is not None and term.code:
            item["uri"] = AREA_URI.format(code=term.code)
        out.append(item)
    return out


def _contacts(record: Record, sid: str) -> list[dict[str, Any]]:
    """The record's contact, only when the provider agreed to publish it."""
    contact = record.contact
    if not record.publish_contact or not (contact.name or contact.email or contact.phone):
        return []
    cid = oruk_id(f"contact:{record.id}")
    item: dict[str, Any] = {"id": cid, "service_id": sid}
    if contact.name:
        item["name"] = contact.name
    if contact.email:
        item["email"] = contact.email  # HSDS 3.0 contact fields
    if contact.phone:
        item["phones"] = [
            {"id": oruk_id(f"phone:{record.id}"), "contact_id": cid, "number": contact.phone}
        ]
    return [item]


@dataclass
class Organisations:
    """The organisation of each record: the organisation record its ``organisation`` names
    (matched by name as the vocabulary matches terms), that name alone, or the record
    itself when it names none."""

    by_name: dict[str, Record] = field(default_factory=dict)

    @classmethod
    def build(cls, records: Iterable[Record]) -> Organisations:
        """Index the organisation records by name (the first of a name wins)."""
        by_name: dict[str, Record] = {}
        for record in records:
            if record.kind == "organisation":
                by_name.setdefault(normalise_key(record.name), record)
        return cls(by_name)

    def of(self, record: Record) -> dict[str, Any]:
        """The ORUK organization of a record's service."""
        if record.organisation:
            parent = self.by_name.get(normalise_key(record.organisation))
            if parent is not None and parent.id != record.id:
                return self._from_record(parent)
            if parent is None:
                return {
                    "id": oruk_id(f"organization-name:{normalise_key(record.organisation)}"),
                    "name": record.organisation,
                    "description": "",
                }
        return self._from_record(record)

    def _from_record(self, record: Record) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": oruk_id(f"organization:{record.id}"),
            "name": record.name,
            "description": record.summary or record.description,
        }
        if record.publish_contact:
            if record.contact.email:
                item["email"] = record.contact.email
            if record.contact.website:
                item["website"] = uri(record.contact.website)
        parent = self.by_name.get(normalise_key(record.organisation or ""))
        if parent is not None and parent.id != record.id:
            item["parent_organization_id"] = oruk_id(f"organization:{parent.id}")
        return item


# A service's one-to-one fields: what /services lists (the rest is in /services/{id}).
LIST_KEYS = (
    "id",
    "organization_id",
    "name",
    "description",
    "url",
    "email",
    "status",
    "fees",
    "accreditations",
    "minimum_age",
    "maximum_age",
    "assured_date",
    "assurer_email",
    "alert",
    "last_modified",
    "organization",
)
# Arrays every full service carries, empty when the record has nothing for them.
ARRAY_KEYS = (
    "service_areas",
    "service_at_locations",
    "contacts",
    "schedules",
    "cost_options",
    "languages",
    "funding",
    "attributes",
)


def description(record: Record) -> str:
    """The service description: the summary as its first paragraph, then the description."""
    parts = [record.summary, record.description]
    return "\n\n".join(p for p in parts if p)


def build_service(
    record: Record,
    vocabulary: Vocabulary,
    taxonomies: Taxonomies,
    organisations: Organisations,
    placed: Mapping[tuple[str, int], Placed],
) -> dict[str, Any]:
    """One record as a fully nested ORUK service (the ``/services/{id}`` shape)."""
    sid = service_id(record.id)
    organization = organisations.of(record)
    service: dict[str, Any] = {
        "id": sid,
        "organization_id": organization["id"],
        "name": record.name,
        "description": description(record),
    }
    if record.publish_contact:  # the website and email are the provider's, shown by consent
        if record.contact.website:
            service["url"] = uri(record.contact.website)
        if record.contact.email:
            service["email"] = record.contact.email
    service["status"] = STATUSES.get(record.status, UNLISTED_STATUS)
    low, high = age_range(record)
    if low is not None:
        service["minimum_age"] = low
    if high is not None:
        service["maximum_age"] = high
    if record.last_verified:
        service["assured_date"] = record.last_verified.isoformat()
    extra = optional_values(record, "service")
    service.update({k: v for k, v in extra.items() if k not in ARRAY_KEYS})
    service["organization"] = organization
    service["service_areas"] = _service_areas(record, sid, vocabulary)
    service["service_at_locations"] = service_at_locations(record, sid, placed, vocabulary)
    service["contacts"] = _contacts(record, sid)
    service["schedules"] = [{**s, "service_id": sid} for s in extra.get("schedules", [])]
    service["cost_options"] = [{**c, "service_id": sid} for c in extra.get("cost_options", [])]
    service["languages"] = [{**lang, "service_id": sid} for lang in extra.get("languages", [])]
    service["funding"] = _funding(record, sid, vocabulary)
    service["attributes"] = attributes(record, sid, taxonomies)
    return service


def list_item(service: dict[str, Any]) -> dict[str, Any]:
    """A service's one-to-one fields and organization: an item of ``/services``."""
    return {k: service[k] for k in LIST_KEYS if k in service}


def sort_key(record: Record) -> tuple[str, str]:
    """Services are listed by name (case-insensitive), then id."""
    return record.name.casefold(), record.id


def build_services(
    records: Iterable[Record], vocabulary: Vocabulary, frame: pd.DataFrame | None = None
) -> list[dict[str, Any]]:
    """Every record as a fully nested ORUK service, by name. ``frame`` (the geocoded frame
    of :func:`aop_map.geocoding.geocode_records`) gives locations their points."""
    records = sorted(records, key=sort_key)
    taxonomies = Taxonomies.build(vocabulary)
    organisations = Organisations.build(records)
    placed = placements(frame)
    return [build_service(r, vocabulary, taxonomies, organisations, placed) for r in records]
