"""Reading a field's values from a record (or its data as a dict) and saying them in words,
as the registry declares the field; it changes no record and declares no field."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from aop_map.fields.registry import by_key, fact_fields
from aop_map.fields.spec import FieldSpec


def read(obj: Any, spec: FieldSpec) -> Any:
    """A field's value from a record (or its data as a dict): () or None when missing.

    Parts are followed (``contact.email`` reads ``record.contact.email``); a list part
    (``locations``) has no single value here.
    """
    empty: Any = () if spec.many else None
    value = obj
    for part in spec.key.split("."):
        if value is None:
            return empty
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return empty if value is None else value


def getter(spec: FieldSpec) -> Callable[[Any], Any]:
    """A fast reader of one field from record objects (attributes only): () or None when
    missing. For building frames, where ``read`` per cell would cost too much."""
    get = operator.attrgetter(spec.key)
    empty: Any = () if spec.many else None

    def read_one(obj: Any) -> Any:
        try:
            value = get(obj)
        except AttributeError:  # a registry-only field this record does not have
            return empty
        return empty if value is None else value

    return read_one


def describe(value: Any) -> str:
    """A value in words: text as it is, a structured one (a schedule, a cost) by its own
    ``describe()``, anything else as str."""
    if isinstance(value, str):
        return value
    words = getattr(value, "describe", None)
    return words() if callable(words) else "" if value is None else str(value)


def read_all(obj: Any, spec: FieldSpec) -> list[Any]:
    """A field's values from a record as a list: a location field's from every location
    (distinct, in order), a list field's items, a single value as a list of one."""
    if spec.group == "locations":
        found: list[Any] = []
        for location in read(obj, by_key("locations") or _LOCATIONS) or ():
            value = (
                location.get(spec.attribute)
                if isinstance(location, dict)
                else getattr(location, spec.attribute, None)
            )
            for item in value if isinstance(value, list | tuple) else [value]:
                if item not in (None, "") and item not in found:
                    found.append(item)
        return found
    value = read(obj, spec)
    return list(value) if spec.many else [value] if value not in (None, "") else []


_LOCATIONS = FieldSpec("locations", "Locations", many=True)


def facts(record: Any, vocabulary: Any) -> list[tuple[str, list[str]]]:
    """(label, values) of each fact field of a record, for its page: vocabulary terms by
    their labels (``vocabulary.labels``), structured values in words (``describe``), a
    location field's values from every location, free text as it is; empty lists included
    (the page says "not stated" for them: nothing is guessed)."""
    out = []
    for spec in fact_fields():
        values = read_all(record, spec)
        shown = vocabulary.labels(spec.name, values) if spec.controlled else values
        out.append((spec.label, [w for w in (describe(v) for v in shown) if w]))
    return out
