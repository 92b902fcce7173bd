"""Records + vocabulary -> Open Referral UK (ORUK 3.0) objects as plain dicts; no I/O, no web.

Every published record (every record that validates) is one ORUK *service* with its
*organization*, *service_at_locations*, *service_areas*, *contacts* (only with the provider's
consent), *schedules*, *cost_options*, accessibility and *attributes* (taxonomy terms). The
controlled vocabulary's sections in :data:`TAXONOMIES` are published as ORUK *taxonomies*.

Ids are stable: each is ``uuid5(ORUK_NAMESPACE, name)`` of a name built from the record id
(or vocabulary section and term id), listed in the README; an unchanged record keeps its ids
in every export. ``aop_map.api`` serves these objects; ``aop-map export --format oruk`` writes
them. The mapping is table-driven: :data:`STATUSES`, :data:`TAXONOMIES`, :data:`AGE_RANGES`,
:data:`OPTIONAL_FIELDS`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pandas as pd

from aop_map import fields, settings
from aop_map.geocoding.districts import GLOS_DISTRICTS
from aop_map.records import Location, Record
from aop_map.vocabulary import Term, Vocabulary, normalise_key

# The namespace of every id this project publishes in ORUK. Never change it: every service,
# organisation, location and taxonomy term id would change with it, breaking every link
# another directory holds to ours.
ORUK_NAMESPACE = uuid.UUID("779fd6a5-21d8-48f1-99f2-9eb51a2acd0d")
ORUK_VERSION = "3.0"
ORUK_PROFILE = "https://github.com/openreferral/uk-profile"
COUNTRY = "GB"
COUNTY = "Gloucestershire"

# Record status -> ORUK service status. Every vocabulary status needs a row (a test checks);
# one not listed is published as "inactive", never as "active" by mistake.
STATUSES: dict[str, str] = {
    "established": "active",
    "emerging": "active",
    "ended": "inactive",  # ran and finished: kept as history (ORUK: inactive)
}
UNLISTED_STATUS = "inactive"


@dataclass(frozen=True)
class Taxonomy:
    """A vocabulary section published as an ORUK taxonomy, and what its terms describe."""

    field: str  # the record field (its vocabulary section names the ids)
    name: str
    description: str
    link_type: str  # the attribute's link_type: a local code (ORUK's list is open)


TAXONOMIES: tuple[Taxonomy, ...] = (
    # ORUK's status says only active; this keeps whether it is established or emerging.
    Taxonomy(
        "status",
        "Stage",
        "Whether an activity is established (running or "
        "commissioned) or emerging (new, a pilot, or looking for its first commission).",
        "status",
    ),
    Taxonomy(
        "conditions",
        "Health conditions",
        "Health conditions and needs an arts-and-health activity is for.",
        "audience",
    ),
    Taxonomy("art_forms", "Art forms", "The art forms an activity uses.", "activity"),
    Taxonomy("age_groups", "Age groups", "The age groups an activity is for.", "audience"),
    Taxonomy(
        "delivery", "Delivery", "How sessions are held: in person, online or both.", "delivery"
    ),
    Taxonomy(
        "referral_routes", "Referral routes", "How people can be referred or join.", "referral"
    ),
)

# Age group term -> (minimum, maximum) age in years; None is no limit. A service's ages span
# its groups; a record's own minimum_age/maximum_age (OPTIONAL_FIELDS) win over these.
AGE_RANGES: dict[str, tuple[int | None, int | None]] = {
    "children": (0, 12),
    "young-people": (13, 25),
    "adults": (18, None),
    "older-people": (65, None),
    "all-ages": (None, None),
}

# How a location was placed -> what the location's description says about its point.
PRECISION_NOTES: dict[str, str] = {
    "place": "approximate: placed at the town or village centre",
    "postcode_district": "approximate: placed at the postcode district centre",
    "online": "placed by an online geocoder from its place name",
}
# ONS GSS codes have persistent URIs: a district service area links to its own.
AREA_URI = "http://statistics.data.gov.uk/id/statistical-geography/{code}"
# Characters a URI may hold as they are (RFC 3986 reserved + unreserved, and '%' of an
# existing escape); anything else in a web address (a space cannot be: records refuse it,
# but '|', '{', or a non-ASCII letter can) is percent-encoded so the value is a valid URI.
URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


_NAMESPACE_BYTES = ORUK_NAMESPACE.bytes


def oruk_id(name: str) -> str:
    """The stable ORUK id (a uuid5 in :data:`ORUK_NAMESPACE`) of a name such as
    ``service:<record id>``: :func:`oruk_id_plain`'s answer, computed without building
    uuid.UUID objects (an export makes ~15 ids a record; this takes a third of the time)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def oruk_id_plain(name: str) -> str:
    """The readable twin of :func:`oruk_id` (tests check they agree)."""
    return str(uuid.uuid5(ORUK_NAMESPACE, name))


def service_id(record_id: str) -> str:
    """The ORUK id of a record's service."""
    return oruk_id(f"service:{record_id}")


def taxonomy_id(section: str) -> str:
    """The ORUK id of a vocabulary section's taxonomy."""
    return oruk_id(f"taxonomy:{section}")


def term_id(section: str, term: str) -> str:
    """The ORUK id of a vocabulary term: uuid5 of ``<section>:<term id>``."""
    return oruk_id(f"{section}:{term}")


# ---------------------------------------------------------------------------------------------
# Fields the record schema does not have yet


def _text(value: Any, _owner: str = "") -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _number(value: Any, _owner: str = "") -> float | int | None:
    """A finite number, from a number or its text ("16": a registry-only field is text)."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
        value = int(value) if value.is_integer() else value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _described(value: Any, _owner: str = "") -> str | None:
    """A structured value in words (records.Eligibility.describe), or text as it is."""
    words = getattr(value, "describe", None)
    return _text(words() if callable(words) else value)


# A language's ISO 639-1 code, for the languages people name most in Gloucestershire (the
# code is optional in ORUK: a language not listed is published by name alone).
LANGUAGE_CODES = {
    "english": "en",
    "welsh": "cy",
    "polish": "pl",
    "urdu": "ur",
    "punjabi": "pa",
    "bengali": "bn",
    "arabic": "ar",
    "romanian": "ro",
    "portuguese": "pt",
    "spanish": "es",
    "french": "fr",
    "gujarati": "gu",
    "hindi": "hi",
    "lithuanian": "lt",
    "chinese": "zh",
    "cantonese": "zh",
    "mandarin": "zh",
    "turkish": "tr",
    "ukrainian": "uk",
    "russian": "ru",
    "italian": "it",
    "german": "de",
    "somali": "so",
    "tamil": "ta",
    "farsi": "fa",
    "persian": "fa",
    "pashto": "ps",
    "kurdish": "ku",
    "tigrinya": "ti",
}


def _languages(value: Any, owner: str) -> list[dict[str, Any]]:
    """Language names as ORUK languages (name, and the ISO 639-1 code when known)."""
    names = [value] if isinstance(value, str) else list(value or [])
    out = []
    for n, name in enumerate(t for t in (_text(v) for v in names) if t):
        item = {"id": oruk_id(f"language:{owner}:{n}"), "name": name}
        code = LANGUAGE_CODES.get(name.casefold())
        if code:
            item["code"] = code
        out.append(item)
    return out


def _plain(value: Any) -> Any:
    """A value as JSON: dates and times as ISO text, models and mappings as dicts."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(exclude_none=True))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _objects(kind: str, text_key: str, keys: frozenset[str]) -> Callable[[Any, str], list]:
    """A converter of a field's value into ORUK objects of ``kind``: free text becomes one
    object with ``text_key``; a mapping (or model), or a list of them, keeps the ORUK keys it
    has. Each object gets a stable id from its owner and position."""

    def convert(value: Any, owner: str) -> list[dict[str, Any]]:
        items = value if isinstance(value, list | tuple) else [value]
        out = []
        for n, item in enumerate(items):
            # A structured value (records.Schedule, Cost) knows its ORUK fields.
            item = _plain(item.to_oruk() if hasattr(item, "to_oruk") else item)
            if isinstance(item, dict):
                body = {k: v for k, v in item.items() if k in keys}
            else:
                body = {text_key: text} if (text := _text(item)) else {}
            if body:
                out.append({"id": oruk_id(f"{kind}:{owner}:{n}"), **body})
        return out

    return convert


SCHEDULE_KEYS = frozenset(
    {
        "valid_from",
        "valid_to",
        "dtstart",
        "freq",
        "interval",
        "byday",
        "bymonthday",
        "description",
        "opens_at",
        "closes_at",
        "schedule_link",
        "attending_type",
        "notes",
    }
)
COST_KEYS = frozenset({"valid_from", "valid_to", "option", "amount", "amount_description"})
ACCESSIBILITY_KEYS = frozenset({"description", "details", "url"})


@dataclass(frozen=True)
class OptionalField:
    """A record field that becomes ORUK when a record has it (``getattr``: the field
    registry, ``aop_map.fields``, adds them; each spec's ``oruk`` names a ``target`` here)."""

    attributes: tuple[str, ...]  # record attribute names; the first one set is used
    target: str  # "service.<key>" or "location.<key>" (set on every location)
    convert: Callable[[Any, str], Any]  # (value, owner name) -> the ORUK value or None


def _registry(name: str, *more: str) -> tuple[tuple[str, ...], str]:
    """(attributes, target) of a registry field (aop_map.fields): its place in a record
    (``eligibility.minimum_age``) and name, any older spellings, and its ``oruk`` name."""
    spec = fields.by_name(name)
    assert spec.oruk is not None, name
    return tuple(dict.fromkeys((spec.key, spec.name, *more))), spec.oruk


OPTIONAL_FIELDS: tuple[OptionalField, ...] = (
    OptionalField(
        *_registry("schedules", "schedule"),
        _objects("schedule", "description", SCHEDULE_KEYS),
    ),
    OptionalField(
        ("cost_options", *_registry("cost", "costs")[0]),
        _registry("cost")[1],
        _objects("cost_option", "amount_description", COST_KEYS),
    ),
    OptionalField(("fees",), "service.fees", _text),
    OptionalField(*_registry("eligibility"), _described),  # HSDS 3.0
    OptionalField(*_registry("minimum_age"), _number),
    OptionalField(*_registry("maximum_age"), _number),
    OptionalField(*_registry("languages"), _languages),
    OptionalField(("accreditations",), "service.accreditations", _text),
    OptionalField(("alert",), "service.alert", _text),
    OptionalField(
        ("accessibility",),
        "location.accessibility",
        _objects("accessibility", "description", ACCESSIBILITY_KEYS),
    ),
)


@functools.cache
def _targets(
    specs: tuple[OptionalField, ...], target_prefix: str
) -> tuple[tuple[str, OptionalField], ...]:
    """(ORUK key, spec) of the optional fields that go to one target."""
    out = []
    for spec in specs:
        prefix, _, key = spec.target.partition(".")
        if prefix == target_prefix:
            out.append((key, spec))
    return tuple(out)


@functools.cache
def _class_attributes(cls: type) -> frozenset[str]:
    """The optional field names a record class answers for everyone (properties, fields)."""
    names = {name.partition(".")[0] for spec in OPTIONAL_FIELDS for name in spec.attributes}
    declared = getattr(cls, "model_fields", {})
    return frozenset(n for n in names if n in declared or hasattr(cls, n))


def _value(record: Record, name: str) -> Any:
    """A record's value of an optional field (``eligibility.minimum_age`` follows the part),
    or None."""
    head, _, rest = name.partition(".")
    value = getattr(record, head, None) if _has(record, head) else None
    for part in rest.split(".") if rest else ():
        value = getattr(value, part, None)
    return value


def _has(record: Record, name: str) -> bool:
    # Asking a pydantic model for an attribute it lacks raises inside it: 0.5 s of an export
    # of 10,000 records. A value is in the instance (a field, or a registry-only extra) or
    # its class (a property).
    extra = getattr(record, "__pydantic_extra__", None)
    return (
        name in record.__dict__
        or (extra is not None and name in extra)
        or name in _class_attributes(type(record))
    )


def optional_values(record: Record, target_prefix: str) -> dict[str, Any]:
    """The ORUK values of the optional fields a record has, for one target (``service`` or
    ``location``), keyed by ORUK name; an empty value is left out."""
    out: dict[str, Any] = {}
    for key, spec in _targets(OPTIONAL_FIELDS, target_prefix):
        for name in spec.attributes:
            value = _value(record, name)
            if value is not None and value != "" and value != []:
                converted = spec.convert(value, f"{record.id}:{name}")
                if converted is not None and converted != []:
                    out[key] = converted
                break
    return out


def terms_of(record: Record, field_name: str) -> list[str]:
    """The term ids of a controlled field, a single one (status) as a list of one."""
    value = getattr(record, field_name, None) if _has(record, field_name) else None
    if isinstance(value, str):
        return [value]
    return list(value or ())


# ---------------------------------------------------------------------------------------------
# Pieces of a service


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


@dataclass
class Taxonomies:
    """The published taxonomies and their terms, with each term's ORUK object by section."""

    taxonomies: list[dict[str, Any]]
    terms: list[dict[str, Any]]
    by_term: dict[tuple[str, str], dict[str, Any]]  # (field, term id) -> taxonomy_term

    @classmethod
    def build(cls, vocabulary: Vocabulary) -> Taxonomies:
        """Every taxonomy of :data:`TAXONOMIES` and its terms, in vocabulary order."""
        taxonomies, terms, by_term = [], [], {}
        for tax in TAXONOMIES:
            section = vocabulary.section(tax.field)
            tax_id = taxonomy_id(section)
            taxonomies.append({"id": tax_id, "name": tax.name, "description": tax.description})
            for term in vocabulary.terms(tax.field):
                item = _term_object(section, term, tax_id, tax.name)
                terms.append(item)
                by_term[(tax.field, term.id)] = item
        return cls(taxonomies, terms, by_term)


def _term_object(section: str, term: Term, tax_id: str, tax_name: str) -> dict[str, Any]:
    return {
        "id": term_id(section, term.id),
        "code": term.id,  # HSDS 3.0's code: the id the app's URLs and exports use
        "name": term.label,
        "term": term.label,
        "description": term.description,
        "taxonomy": tax_name,
        "taxonomy_id": tax_id,
    }


def _attributes(record: Record, link_id: str, taxonomies: Taxonomies) -> list[dict[str, Any]]:
    out = []
    for tax in TAXONOMIES:
        for term in terms_of(record, tax.field):
            item = taxonomies.by_term.get((tax.field, term))
            if item is None:
                continue
            out.append(
                {
                    "id": oruk_id(f"attribute:{record.id}:{tax.field}:{term}"),
                    "link_id": link_id,
                    "taxonomy_term_id": item["id"],
                    "link_type": tax.link_type,
                    "link_entity": "service",
                    "taxonomy_term": item,
                }
            )
    return out


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


@dataclass(frozen=True)
class Placed:
    """Where geocoding put one location of a record."""

    lat: float | None
    lon: float | None
    precision: str
    postcode: str | None
    district_code: str | None
    district_name: str | None


def placements(frame: pd.DataFrame | None) -> dict[tuple[str, int], Placed]:
    """(record id, location index) -> where the geocoded frame put it."""
    if frame is None or not len(frame):
        return {}
    columns = [
        frame[c].to_numpy()
        for c in (
            "record_id",
            "location_index",
            "lat",
            "lon",
            "location_precision",
            "postcode",
            "district_code",
            "district_name",
        )
    ]
    out = {}
    for rid, index, lat, lon, precision, postcode, code, name in zip(*columns, strict=True):
        if index < 0:
            continue
        located = lat is not None and lon is not None and math.isfinite(lat) and math.isfinite(lon)
        out[(rid, int(index))] = Placed(
            float(lat) if located else None,
            float(lon) if located else None,
            str(precision or "none"),
            postcode if isinstance(postcode, str) else None,
            code if isinstance(code, str) else None,
            name if isinstance(name, str) else None,
        )
    return out


def _location(
    record: Record,
    index: int,
    location: Location,
    placed: Placed | None,
    accessibility: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    lid = oruk_id(f"location:{record.id}:{index}")
    postcode = (placed.postcode if placed else None) or location.postcode
    description = ", ".join(p for p in (location.address, location.place, postcode) if p)
    note = PRECISION_NOTES.get(placed.precision) if placed else None
    if note:
        description = f"{description} ({note})" if description else note
    item: dict[str, Any] = {
        "id": lid,
        "location_type": "physical",
        "name": location.label or location.place or location.address or postcode or record.name,
        "description": description,
    }
    if placed is not None and placed.lat is not None:
        item["latitude"] = round(placed.lat, 6)
        item["longitude"] = round(placed.lon, 6)  # type: ignore[arg-type]
    if location.address or postcode:
        district = placed.district_code if placed else None
        address = {
            "id": oruk_id(f"address:{record.id}:{index}"),
            "location_id": lid,
            "address_1": location.address or location.label or "",
            "city": location.place or "",
            "state_province": COUNTY if district in GLOS_DISTRICTS else "",
            "postal_code": postcode or "",
            "country": COUNTRY,
            "address_type": "physical",
        }
        if placed is not None and placed.district_name:
            address["region"] = placed.district_name
        item["addresses"] = [address]
    if accessibility:
        item["accessibility"] = [
            {**a, "id": oruk_id(f"accessibility:{record.id}:{index}:{n}"), "location_id": lid}
            for n, a in enumerate(accessibility)
        ]
    return item


def _location_access(location: Location, vocabulary: Vocabulary | None) -> list[dict[str, Any]]:
    """A location's own accessibility terms as ORUK accessibility objects (label, and the
    term's description as details)."""
    out = []
    for term_id in getattr(location, "accessibility", None) or ():
        term = vocabulary.term("accessibility", term_id) if vocabulary else None
        item = {"description": term.label if term else term_id}
        if term is not None and term.description:
            item["details"] = term.description
        out.append(item)
    return out


def _service_at_locations(
    record: Record,
    sid: str,
    placed: Mapping[tuple[str, int], Placed],
    vocabulary: Vocabulary | None = None,
) -> list[dict[str, Any]]:
    shared = optional_values(record, "location").get("accessibility")
    out = []
    for index, location in enumerate(record.locations):
        accessibility = _location_access(location, vocabulary) or shared
        item = _location(record, index, location, placed.get((record.id, index)), accessibility)
        out.append(
            {
                "id": oruk_id(f"service_at_location:{record.id}:{index}"),
                "service_id": sid,
                "location_id": item["id"],
                "location": item,
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# Organisations


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


# ---------------------------------------------------------------------------------------------
# Services


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
    service["service_at_locations"] = _service_at_locations(record, sid, placed, vocabulary)
    service["contacts"] = _contacts(record, sid)
    service["schedules"] = [{**s, "service_id": sid} for s in extra.get("schedules", [])]
    service["cost_options"] = [{**c, "service_id": sid} for c in extra.get("cost_options", [])]
    service["languages"] = [{**lang, "service_id": sid} for lang in extra.get("languages", [])]
    service["funding"] = _funding(record, sid, vocabulary)
    service["attributes"] = _attributes(record, sid, taxonomies)
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


# ---------------------------------------------------------------------------------------------
# Pages


def page(items: list[Any], page_number: int, per_page: int) -> dict[str, Any]:
    """One page of ``items`` in ORUK's paged shape (``page_number`` counts from 1)."""
    total = len(items)
    start = (page_number - 1) * per_page
    contents = items[start : start + per_page] if start < total else []
    total_pages = math.ceil(total / per_page)
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def export_feed(
    records: Iterable[Record], vocabulary: Vocabulary, frame: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Every record as one page of a ``/services`` response, each service fully nested."""
    services = build_services(records, vocabulary, frame)
    return page(services, 1, max(len(services), 1))


# ---------------------------------------------------------------------------------------------
# The About page

_SAFE_BASE_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?$")


def about_markdown(api_url: str | None = None) -> str:
    """What the Open Referral UK feed and API are for, as Markdown for the About page.

    They are linked when ``api_url``, the API's public base address (by default
    AOP_MAP_API_URL), is a plain http(s) address; otherwise the text says how to run them.
    """
    if api_url is None:
        api_url = settings.raw("AOP_MAP_API_URL")
    base = api_url.strip().rstrip("/") if api_url else ""
    if base and not _SAFE_BASE_URL.match(base):
        base = ""  # never put an odd value into a link
    text = (
        "### Open data: Open Referral UK\n\n"
        "Every listing is also published in the [Open Referral UK]"
        "(https://openreferraluk.org) data standard (version 3.0), which other service "
        "directories, social prescribing platforms and council websites read. Each listing "
        "is a *service* with its organisation, venues, areas served, and its health "
        "conditions, art forms, age groups, delivery and referral routes as taxonomy terms. "
        "Contact details are included only where the provider agreed to publish them. Ids "
        "never change, so others can link to a listing and pick up its updates.\n\n"
    )
    if base:
        text += (
            f"- **The feed**: [{base}/services]({base}/services) lists every service, page "
            "by page, for anyone who wants to copy or check the whole directory.\n"
            f"- **The API**: [{base}/]({base}/) answers questions such as *services for "
            f"dementia* or *venues within 10 km of a postcode* "
            f"([documentation]({base}/docs)). It is open: no key or registration.\n"
        )
    else:
        text += (
            "- **The feed**: `aop-map export --format oruk` writes every service to one "
            "JSON file.\n"
            "- **The API**: `aop-map serve-api` serves the same data as a read-only Open "
            "Referral UK API (services, taxonomies, venues near a postcode), open to "
            "anyone without a key.\n"
        )
    return text
