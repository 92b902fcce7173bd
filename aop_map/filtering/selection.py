"""The Selection (what the user asked for), the filters by name, the URL round trip; no frames."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from aop_map import fields
from aop_map.vocabulary import Vocabulary

# Which fields are facets, their URL parameters, frame columns and order: the field registry
# (aop_map.fields), asked at call time through the functions below.
# The facet whose terms are areas: a row also counts for the district it is located in, and a
# countywide record for every district.
DISTRICT = "district"
COUNTYWIDE = "countywide"
# Spellings of a facet accepted by the counting functions besides its name, column and section.
EXTRA_FACET_ALIASES = {"district_code": DISTRICT}
# URL parameters of the search itself, after the filters'.
SEARCH_PARAMS = ("q", "near", "radius_km")
# URL parameters of what is in view at all, after the search's (issue 12): ended activity is
# hidden unless include_past=1; examples elsewhere in the UK unless scope=uk.
LIFECYCLE_PARAMS = ("include_past", "scope")
STATUS = "status"
PAST_STATUS = "ended"  # the status of activity that ran and has finished
ELSEWHERE = "elsewhere"  # the scope of an example from outside Gloucestershire
SCOPE_UK = "uk"  # scope=uk: the county and the examples elsewhere, in every view
SCOPE_WORDS = {
    "uk": SCOPE_UK,
    "all": SCOPE_UK,
    "elsewhere": SCOPE_UK,
    "national": SCOPE_UK,
    "gloucestershire": "",
    "county": "",
    "glos": "",
}
TRUE_WORDS = frozenset({"1", "yes", "true", "on", "y"})
# The largest distance filter: beyond it the county and its neighbours are all "near".
MAX_RADIUS_KM = 500
# A link can carry anything; past these sizes it is an accident or an attack, not a search.
MAX_QUERY = 200
MAX_NEAR = 100
MAX_VALUES = 50
MAX_NOTE_VALUE = 60


def filter_fields() -> dict[str, str]:
    """Filter name (Selection key = URL parameter) -> frame column, in sidebar and URL order."""
    return {spec.facet: spec.column_name for spec in fields.filters() if spec.facet}


def facet_fields() -> dict[str, str]:
    """Every countable facet -> frame column: the filters, plus kind (counted, not filtered)."""
    return {spec.facet: spec.column_name for spec in fields.facets() if spec.facet}


def url_params() -> tuple[str, ...]:
    """The URL parameters a selection reads and writes, in the order it writes them."""
    return (*filter_fields(), *SEARCH_PARAMS, *LIFECYCLE_PARAMS)


def list_columns() -> tuple[str, ...]:
    """Frame columns holding tuples of term ids (the controlled list fields)."""
    return tuple(spec.column_name for spec in fields.controlled() if spec.many and spec.frame)


def facet_aliases() -> dict[str, str]:
    """Every spelling of a facet the counting functions accept -> the facet: its name, its
    field and column, its vocabulary section (``conditions``, ``areas``...), district_code."""
    aliases = dict(EXTRA_FACET_ALIASES)
    for spec in fields.facets():
        assert spec.facet is not None
        for spelling in (spec.section, spec.name, spec.column_name, spec.facet):
            if spelling:
                aliases[spelling] = spec.facet
    return aliases


def facet_of(name: str) -> str:
    """The facet a spelling names (see facet_aliases); ValueError for an unknown one."""
    facet = facet_aliases().get(name)
    if facet is None:
        raise ValueError(f"unknown field {name!r}; use one of {', '.join(facet_fields())}")
    return facet


def _coerce_terms(value: Any) -> tuple[str, ...]:
    if value is None or isinstance(value, str):
        return (value,) if value else ()
    return tuple(value)


def _filter_names() -> tuple[str, ...]:
    return tuple(filter_fields())


TermChoice = Iterable[str] | str | None


@dataclass(frozen=True, init=False)
class Selection:
    """What the user chose: OR within a field, AND across fields; empty means no filter.

    Facets are data: ``chosen`` holds (filter name, term ids) pairs for the registry's filters
    (``aop_map.fields.filters()``), in their order, only those with terms. Build one with the
    filter names as keywords -- ``Selection(condition=("copd",), q="choir")`` -- or a mapping,
    ``Selection({"condition": ["copd"]})``; read one filter with ``terms("condition")`` (or
    ``selection.condition``); change it with ``with_terms(condition=...)`` or
    ``dataclasses.replace``, which take the same keywords. A name that is not a filter is a
    TypeError, as an unknown keyword always was.

    ``district`` matches rows located in, or records serving, a chosen district, and records
    serving ``countywide`` (a countywide provider serves every district). ``near`` is the
    place typed by the user; the caller geocodes it and passes ``origin`` to ``filter_frame``,
    which keeps rows within ``radius_km`` of it.

    What is in view at all: ended activity (status ``ended``) only with ``include_past`` (or
    when ``ended`` is among the chosen statuses), examples elsewhere in the UK (scope
    ``elsewhere``) only with ``scope="uk"``; see ``lifecycle_mask``.
    """

    chosen: tuple[tuple[str, tuple[str, ...]], ...]
    q: str
    near: str
    radius_km: float | None
    include_past: bool
    scope: str

    def __init__(
        self,
        chosen: Mapping[str, TermChoice] | Iterable[tuple[str, TermChoice]] | None = None,
        *,
        q: str = "",
        near: str = "",
        radius_km: float | None = None,
        include_past: bool = False,
        scope: str = "",
        **terms: TermChoice,
    ) -> None:
        given = dict(chosen.items() if isinstance(chosen, Mapping) else chosen or ())
        given.update(terms)
        names = _filter_names()
        unknown = [name for name in given if name not in names]
        if unknown:
            raise TypeError(
                f"Selection has no filter {unknown[0]!r}; the filters are {', '.join(names)}"
            )
        # Lists or a bare string would make the selection unhashable or iterate characters.
        pairs = tuple((name, found) for name in names if (found := _coerce_terms(given.get(name))))
        object.__setattr__(self, "chosen", pairs)
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "near", near)
        object.__setattr__(self, "radius_km", radius_km)
        object.__setattr__(self, "include_past", bool(include_past))
        object.__setattr__(self, "scope", SCOPE_UK if scope == SCOPE_UK else "")

    def __getattr__(self, name: str) -> tuple[str, ...]:
        # Only reached for names that are not attributes: a filter's terms, read by name.
        if not name.startswith("_") and name in _filter_names():
            return self.terms(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def is_empty(self) -> bool:
        """True when nothing is selected."""
        return not (
            self.chosen
            or self.q
            or self.near
            or self.radius_km is not None
            or self.include_past
            or self.scope
        )

    def terms(self, name: str) -> tuple[str, ...]:
        """The chosen term ids of one filter (empty when none are chosen)."""
        for chosen, terms in self.chosen:
            if chosen == name:
                return terms
        if name not in _filter_names():
            raise KeyError(f"no filter {name!r}; the filters are {', '.join(_filter_names())}")
        return ()

    def with_terms(self, **terms: TermChoice) -> Selection:
        """The selection with some filters' terms replaced (an empty value clears one)."""
        return replace(self, **terms)


# What clear_field resets the search parts of a selection to.
_SEARCH_DEFAULTS: dict[str, Any] = {
    "q": "",
    "near": "",
    "radius_km": None,
    "include_past": False,
    "scope": "",
}


def clear_field(selection: Selection, name: str) -> Selection:
    """The selection with one filter, or ``q``/``near``/``radius_km``, reset to nothing."""
    if name in _SEARCH_DEFAULTS:
        return replace(selection, **{name: _SEARCH_DEFAULTS[name]})
    return selection.with_terms(**{name: ()})


# ---------------------------------------------------------------------------------------------
# URL parameters


def _values(raw: str | Iterable[str] | None) -> list[str]:
    """Repeated and comma-separated values, flattened, stripped, empties dropped."""
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def _last(raw: str | Iterable[str] | None) -> str:
    """A single-valued parameter: the last one given wins, as in most web frameworks."""
    items = [raw] if isinstance(raw, str) else list(raw or [])
    return " ".join(str(items[-1]).split()) if items else ""


def _shown(value: str) -> str:
    return repr(value if len(value) <= MAX_NOTE_VALUE else value[:MAX_NOTE_VALUE] + "...")


def _parse_terms(
    name: str, raw: str | Iterable[str] | None, vocabulary: Vocabulary
) -> tuple[tuple[str, ...], list[str]]:
    """Term ids from ids, labels or synonyms; a note for each value that means nothing."""
    field = filter_fields()[name]
    terms: list[str] = []
    notes: list[str] = []
    for value in _values(raw)[:MAX_VALUES]:
        term = vocabulary.find(field, value)
        if term is not None:
            if term not in terms:
                terms.append(term)
            continue
        note = f"Ignored unknown {name.replace('_', ' ')} {_shown(value)}"
        suggestions = vocabulary.suggest(field, value[:MAX_NOTE_VALUE], limit=1)
        if suggestions:
            note += f" (did you mean {vocabulary.label(field, suggestions[0])!r}?)"
        notes.append(note)
    return tuple(terms), notes


def _parse_radius(raw: str | Iterable[str] | None) -> tuple[float | None, str | None]:
    values = _values(raw)
    if not values:
        return None, None
    text = values[-1]
    try:
        radius = float(text)
    except ValueError:
        return None, f"Ignored radius {_shown(text)}: not a number"
    if math.isnan(radius) or not 0 < radius <= MAX_RADIUS_KM:
        return None, (
            f"Ignored radius {_shown(text)}: use a distance above 0 and up to {MAX_RADIUS_KM:g} km"
        )
    return radius, None


def selection_from_params(
    params: Mapping[str, str | list[str]], vocabulary: Vocabulary
) -> tuple[Selection, list[str]]:
    """A selection from URL query parameters, and human-readable notes on what was ignored.

    Each filter accepts repeated parameters and comma-separated values, spelt as term ids,
    labels or synonyms (``condition=COPD,dementia&condition=Alzheimers``). Unknown parameter
    names are left alone: pages have their own (``id``).
    """
    chosen: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    for name in filter_fields():
        chosen[name], field_notes = _parse_terms(name, params.get(name), vocabulary)
        notes += field_notes
    radius, radius_note = _parse_radius(params.get("radius_km"))
    notes += [radius_note] if radius_note else []
    include_past = _last(params.get("include_past")).lower() in TRUE_WORDS
    scope_text = _last(params.get("scope")).lower()
    scope = SCOPE_WORDS.get(scope_text, "")
    if scope_text and scope_text not in SCOPE_WORDS:
        notes.append(
            f"Ignored scope {_shown(scope_text)}: use scope=uk to include examples "
            "elsewhere in the UK"
        )
    selection = Selection(
        chosen,
        q=_last(params.get("q"))[:MAX_QUERY],
        near=_last(params.get("near"))[:MAX_NEAR],
        radius_km=radius,
        include_past=include_past,
        scope=scope,
    )
    return selection, notes


def selection_to_params(selection: Selection) -> dict[str, list[str] | str]:
    """URL query parameters for a selection: only what is set, always in the same order."""
    params: dict[str, list[str] | str] = {name: list(terms) for name, terms in selection.chosen}
    if selection.q:
        params["q"] = selection.q
    if selection.near:
        params["near"] = selection.near
    if selection.radius_km is not None:
        params["radius_km"] = f"{selection.radius_km:g}"
    if selection.include_past:
        params["include_past"] = "1"
    if selection.scope:
        params["scope"] = selection.scope
    return params
