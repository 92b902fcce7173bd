"""Questions about the field registry (which fields are facets, table columns, form widgets...),
answered from ``entries.FIELDS`` as it is now and memoised per registry object; it declares no
field and reads no record (values does)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aop_map.fields import entries
from aop_map.fields.spec import DATATYPES, GROUP_LABELS, WIDGETS, FieldSpec

_T = TypeVar("_T")
_memo: dict[str, Any] = {}
_memo_of: list[tuple[FieldSpec, ...] | None] = [None]


def remember(key: str, build: Callable[[], _T]) -> _T:
    """`build()` for the current registry, computed once per registry object: for answers
    derived from it that a hot loop needs (callers pick a key of their own)."""
    if _memo_of[0] is not entries.FIELDS:
        _memo.clear()
        _memo_of[0] = entries.FIELDS
    try:
        return _memo[key]
    except KeyError:
        value = _memo[key] = build()
        return value


def _where(key: str, keep: Callable[[FieldSpec], Any]) -> tuple[FieldSpec, ...]:
    """The fields `keep` accepts, in registry order (remembered under `key`)."""
    return remember(key, lambda: tuple(f for f in entries.FIELDS if keep(f)))


def all_fields() -> tuple[FieldSpec, ...]:
    """Every field, in registry order (the order of forms, frames and tables)."""
    return entries.FIELDS


def named() -> dict[str, FieldSpec]:
    """Field name -> field, for loops over many values (do not change the answer)."""
    return remember("by_name", lambda: {f.name: f for f in entries.FIELDS})


def by_name(name: str) -> FieldSpec:
    """One field by name; KeyError naming the known ones."""
    found = named().get(name)
    if found is None:
        known = ", ".join(f.name for f in entries.FIELDS)
        raise KeyError(f"no field {name!r}; known: {known}")
    return found


def by_key(key: str) -> FieldSpec | None:
    """The field at a dotted place in a record's data (``contact.email``), or None."""
    return remember("by_key", lambda: {f.key: f for f in entries.FIELDS}).get(key)


def controlled() -> tuple[FieldSpec, ...]:
    """The fields whose values are vocabulary terms."""
    return _where("controlled", lambda f: f.section)


def sections() -> dict[str, str]:
    """Controlled field name -> its vocabulary section (do not change the answer)."""
    return remember("sections", lambda: {f.name: f.section for f in controlled()})


def facets() -> tuple[FieldSpec, ...]:
    """The countable fields, in sidebar order (facet_rank, then registry order)."""
    return remember(
        "facets",
        lambda: tuple(sorted((f for f in entries.FIELDS if f.facet), key=lambda f: f.facet_rank)),
    )


def filters() -> tuple[FieldSpec, ...]:
    """The facets that are also filters (sidebar widgets and URL parameters), in order."""
    return remember("filters", lambda: tuple(f for f in facets() if f.filterable))


def by_facet(facet: str) -> FieldSpec | None:
    """The field of a facet name (``condition``), or None."""
    return remember("by_facet", lambda: {f.facet: f for f in facets()}).get(facet)


def table_fields() -> tuple[FieldSpec, ...]:
    """The fields that are records_table (export) columns, in registry order."""
    return _where("table", lambda f: f.table)


def directory_fields() -> tuple[FieldSpec, ...]:
    """The table fields the directory's grid shows."""
    return _where("directory", lambda f: f.directory)


def frame_fields() -> tuple[FieldSpec, ...]:
    """The fields the geocoded frame carries, in registry order."""
    return _where("frame", lambda f: f.frame)


def form_fields(group: str | None = None) -> tuple[FieldSpec, ...]:
    """The fields with a register form widget; with `group`, only those of that part."""
    every = _where("form", lambda f: f.widget)
    return every if group is None else tuple(f for f in every if f.group == group)


def fact_fields() -> tuple[FieldSpec, ...]:
    """The fields the provider page lists as facts."""
    return _where("facts", lambda f: f.facts)


def location_fields() -> tuple[FieldSpec, ...]:
    """The fields of each location (``locations.postcode``...), in registry order."""
    return _where("locations", lambda f: f.group == "locations")


def personal_fields() -> tuple[FieldSpec, ...]:
    """Contact details: published only with consent, never quoted in a problem."""
    return _where("personal", lambda f: f.personal)


def top_level_names() -> frozenset[str]:
    """Names of the fields that sit at the top of a record's data (not in a part)."""
    return remember("top", lambda: frozenset(f.name for f in entries.FIELDS if not f.group))


def csv_headers() -> dict[str, str]:
    """Normalised CSV header spelling -> field name (the first field declaring it wins)."""

    def build() -> dict[str, str]:
        lookup: dict[str, str] = {}
        for spec in entries.FIELDS:
            for alias in spec.csv_aliases:
                lookup.setdefault(alias, spec.name)
        return lookup

    return remember("csv", build)


def oruk_names() -> dict[str, str]:
    """Field name -> its Open Referral UK name, for the fields that have one."""
    return remember("oruk", lambda: {f.name: f.oruk for f in entries.FIELDS if f.oruk})


def label_of(key: str) -> str:
    """A label for a field name, a dotted data key or a part (``locations``); else the key."""
    spec = by_key(key) or named().get(key)
    if spec is not None:
        return spec.label
    return GROUP_LABELS.get(key, key)


def problems() -> list[str]:
    """What is inconsistent in the registry (empty when it is sound): tests assert on it."""
    found: list[str] = []
    names = [f.name for f in entries.FIELDS]
    found += [
        f"field {n!r} declared twice" for n in sorted({n for n in names if names.count(n) > 1})
    ]
    facet_names = [f.facet for f in entries.FIELDS if f.facet]
    found += [
        f"facet {n!r} declared twice"
        for n in sorted({n for n in facet_names if facet_names.count(n) > 1})
    ]
    seen: dict[str, str] = {}
    for spec in entries.FIELDS:
        if spec.widget is not None and spec.widget not in WIDGETS:
            found.append(f"{spec.name}: unknown widget {spec.widget!r}")
        if spec.datatype not in DATATYPES:
            found.append(f"{spec.name}: unknown datatype {spec.datatype!r}")
        if spec.widget in ("select", "radio", "multiselect") and not spec.section:
            found.append(f"{spec.name}: a {spec.widget} needs a vocabulary section")
        if spec.facet and not (spec.section and spec.frame):
            found.append(f"{spec.name}: a facet must be controlled and in the frame")
        for alias in spec.csv_aliases:
            if alias in seen:
                found.append(f"{spec.name}: CSV alias {alias!r} already means {seen[alias]!r}")
            seen.setdefault(alias, spec.name)
            if alias != "".join(c for c in alias.lower() if c.isalnum()):
                found.append(f"{spec.name}: CSV alias {alias!r} is not normalised")
    return found
