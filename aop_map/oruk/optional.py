"""Record fields that become ORUK values when a record has them (schedules, cost, eligibility,
ages, languages, accessibility...), table-driven by OPTIONAL_FIELDS; values in, ORUK values
out, nothing else of a service is built here."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aop_map import fields
from aop_map.oruk.ids import oruk_id
from aop_map.records import Record


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
