"""Pure GeoDataFrame -> selection functions, facet counts, coverage and exports; never mutates.

A selection is a few numpy operations on a ``FilterIndex`` built once per frame (and cached by
the caller): one boolean column per vocabulary term, record numbers for distinct counts, a
token index for text search and float arrays of coordinates. Filtering 100,000 rows by
condition, art form and radius then takes a few milliseconds instead of a Python call per row.

District semantics, used everywhere here: a row matches a district when it is *located* in it
(its ``district_code`` is the district's ONS code), when its record *serves* it
(``areas_served``), or when its record serves ``countywide`` -- a countywide provider serves
every district. Pass ``countywide=False`` to count only providers located in or naming the
district.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from aop_map import fields
from aop_map.geocoding import haversine_km
from aop_map.text import fold as fold_text
from aop_map.text import normalise
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
SEARCH_COLUMNS = ("name", "summary", "description", "organisation")
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
# Query words shorter than this must match a word's start exactly: a one-letter typo in a
# three-letter word matches half the dictionary.
MIN_FUZZY_WORD = 4
# Words this long may have two typos; shorter ones one.
TWO_TYPOS_FROM = 8
# Query words this long also match inside longer words ("lift" finds "Artlift").
MIN_INFIX_WORD = 4
# A typo is looked for inside longer words only from this length: "chor" is a typo of
# "choir", but finding "cor" in "Corinium" would be noise.
MIN_PARTIAL_TYPO = 6
# The column filter_frame adds when there is a query: how well each row matches it.
RELEVANCE = "relevance"


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


_FORMER_NAMES: dict[str, Any] = {
    "FILTER_FIELDS": filter_fields,
    "FACET_FIELDS": facet_fields,
    "URL_PARAMS": url_params,
    "LIST_COLUMNS": list_columns,
}


def __getattr__(name: str) -> Any:
    # The former constants, answered from the registry when asked (new code calls the
    # functions: a `from ... import` of these is a copy taken at import time).
    if name in _FORMER_NAMES:
        return _FORMER_NAMES[name]()
    if name == "TABLE_COLUMNS":
        return table_columns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


# ---------------------------------------------------------------------------------------------
# Text search


_WORD_OR_BREAK = re.compile(r"[^\W_]+|\n")
# The corpus is folded once (text.fold) and split into words and line breaks in one pass.
_fold = fold_text


def fold_words(text: str) -> list[str]:
    """The words of a text in search form (text.normalise): "Café" -> ["cafe"]."""
    return normalise(text).split()


def fold(text: str) -> str:
    """Search form of a text: text.normalise, its folded words separated by single spaces."""
    return normalise(text)


@dataclass(frozen=True, eq=False)
class TextIndex:
    """Distinct words (sorted) and, for each word, the distinct texts that contain it."""

    words: list[str]
    sorted_words: np.ndarray  # the same words as a numpy array, for binary search
    starts: np.ndarray  # texts of word i are texts[starts[i]:starts[i + 1]]
    texts: np.ndarray
    row_text: np.ndarray  # the text number of each row
    n_texts: int
    joined: str  # the words joined by newlines, for fast substring search
    offsets: np.ndarray  # where each word starts in `joined`
    lengths: np.ndarray


def _search_text(frame: pd.DataFrame) -> np.ndarray:
    parts = [frame[c].fillna("").astype(str) for c in SEARCH_COLUMNS]
    text = parts[0]
    for part in parts[1:]:
        text = text + " " + part
    return text.to_numpy(dtype=object)


def _word_pairs(texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Each distinct (word, text number) pair, sorted by word, and the words alphabetically.

    The texts are folded and split as one string, so the work is a few C-level passes rather
    than a Python loop per text; a newline marks where one text ends.
    """
    corpus = _fold("\n".join(t.replace("\n", " ") for t in texts))
    tokens = np.array(_WORD_OR_BREAK.findall(corpus), dtype=object)
    breaks = tokens == "\n"
    text_of = np.cumsum(breaks)[~breaks]
    n_texts = int(text_of.max(initial=0)) + 1
    codes, uniques = pd.factorize(tokens[~breaks])
    words = [str(w) for w in uniques]
    order = np.argsort(np.array(words, dtype=str), kind="stable")
    rank = np.empty(len(words), dtype=np.int64)
    rank[order] = np.arange(len(words))
    keys = np.sort(rank[codes] * n_texts + text_of)
    keys = keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys
    return keys // n_texts, keys % n_texts, [words[i] for i in order]


def build_text_index(frame: pd.DataFrame) -> TextIndex:
    """Index the name, summary, description and organisation of every row.

    Rows of one record share their text, and texts share words, so everything is factorised
    first: each distinct text is folded once, each distinct word is matched once per query.
    """
    row_text, uniques = pd.factorize(_search_text(frame))
    word_of, text_of, words = _word_pairs(uniques)
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    return TextIndex(
        words=words,
        sorted_words=np.asarray(words, dtype=str),
        starts=np.searchsorted(word_of, np.arange(len(words) + 1)),
        texts=text_of.astype(np.int64),
        row_text=row_text.astype(np.int64),
        n_texts=max(len(uniques), 1),
        joined="\n".join(words),
        offsets=np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64),
        lengths=lengths,
    )


def _exact_words(index: TextIndex, word: str) -> np.ndarray:
    """Words starting with `word`, or (for longer query words) containing it."""
    if len(word) >= MIN_INFIX_WORD:
        hits = [m.start() for m in re.finditer(re.escape(word), index.joined)]
        return np.unique(np.searchsorted(index.offsets, hits, side="right") - 1)
    lo = int(np.searchsorted(index.sorted_words, word, side="left"))
    hi = int(np.searchsorted(index.sorted_words, word + "\U0010ffff", side="left"))
    return np.arange(lo, hi)


def _typo_words(index: TextIndex, word: str) -> np.ndarray:
    """Words within one typo of `word` (two from 8 letters), whole or as the start of a longer one.

    rapidfuzz's ratio is 100 * (1 - edits / length) for `edits` substitutions, so the cut-off
    allows that many wrong, missing, extra or swapped letters ("singng", "artlfit"). From
    MIN_PARTIAL_TYPO letters, a typo is also looked for at the start of longer words
    ("paintng" in "paintings"); never in their middle, where a typo of any six letters finds
    nonsense ("sining" is one letter from "ssioning", inside "commissioning"). A short word is
    never matched inside the query ("art" is no typo of "artlfit"): only longer words are
    compared.
    """
    edits = 1 if len(word) < TWO_TYPOS_FROM else 2
    # Half a point of slack: cdist compares in float32, and the next score down is far lower.
    cutoff = 100.0 * (len(word) - edits) / len(word) - 0.5
    whole = process.cdist([word], index.words, scorer=fuzz.ratio, score_cutoff=cutoff)[0]
    found = set(np.flatnonzero(whole).tolist())
    longer = np.flatnonzero(index.lengths > len(word))
    if len(longer) and len(word) >= MIN_PARTIAL_TYPO:
        for size in (len(word), len(word) + 1):  # a letter missing or wrong; one extra
            starts = [index.words[i][:size] for i in longer]
            part = process.cdist([word], starts, scorer=fuzz.ratio, score_cutoff=cutoff)
            found |= set(longer[np.flatnonzero(part[0])].tolist())
    return np.array(sorted(found), dtype=np.int64)


def _text_hits(index: TextIndex, matched: np.ndarray) -> np.ndarray:
    """(texts,) bool: the texts containing any of the `matched` word numbers."""
    found = np.zeros(index.n_texts, dtype=bool)
    if len(matched):
        # Consecutive words (a prefix range) are one slice; otherwise one slice per word.
        if matched[-1] - matched[0] + 1 == len(matched):
            texts = index.texts[index.starts[matched[0]] : index.starts[matched[-1] + 1]]
        else:
            texts = np.concatenate(
                [index.texts[index.starts[i] : index.starts[i + 1]] for i in matched]
            )
        found[texts] = True
    return found


def _word_mask(index: TextIndex, word: str) -> np.ndarray:
    """Rows whose text has a word matching `word` exactly, or failing that with a typo."""
    matched = _exact_words(index, word)
    if not len(matched) and len(word) >= MIN_FUZZY_WORD:
        matched = _typo_words(index, word)
    return _text_hits(index, matched)[index.row_text]


def search_mask(index: TextIndex, query: str) -> np.ndarray:
    """Rows matching every word of a query (case-, accent- and typo-insensitive)."""
    mask = np.ones(len(index.row_text), dtype=bool)
    for word in dict.fromkeys(fold_words(query)):
        mask &= _word_mask(index, word)
    return mask


# ---------------------------------------------------------------------------------------------
# Search that understands people: tags, places, the vocabulary's words, relevance

# Where a query word is found, and what that is worth. A record's name, organisation, places
# and tags say what it *is*; its summary and description may only mention a word in passing.
STRONG_COLUMNS = ("name", "organisation", "location_label", "place", "district_name")
WEAK_COLUMNS = ("summary", "description")
SCORE_STRONG = 3.0  # in the name, organisation, a place, or a tag (a vocabulary term)
SCORE_WEAK = 1.0  # in the summary or description only
SCORE_COUNTYWIDE = 1.0  # a place asked for, served by a countywide record
TYPO_FACTOR = 0.5  # a word found only through a typo counts half
# Suggestions for a search that finds nothing: how close a term must be (rapidfuzz ratio).
SUGGEST_CUTOFF = 60
MAX_SUGGESTIONS = 3


@dataclass(frozen=True, eq=False)
class SearchIndex:
    """The words of each row, in two strengths: `strong` (name, organisation, places, tag
    labels) and `weak` (summary, description)."""

    strong: TextIndex
    weak: TextIndex
    both: TextIndex  # every word of either (texts unused): typos are looked for once, here


@dataclass(frozen=True, eq=False)
class Concepts:
    """The vocabulary as a search understands it: each folded id, label and synonym ->
    the (facet, term column) pairs it names, and a readable label for suggestions."""

    terms: Mapping[str, tuple[tuple[str, int], ...]]
    labels: Mapping[str, str]  # folded key -> the term's label
    keys: tuple[str, ...]  # the keys, for fuzzy matching
    longest: int  # words in the longest key


def build_concepts(vocabulary: Vocabulary) -> Concepts:
    """Every term of every facet by its id, label and synonyms, folded as a query is."""
    terms: dict[str, list[tuple[str, int]]] = {}
    labels: dict[str, str] = {}
    for spec in fields.facets():
        if spec.facet is None or spec.datatype == "bool":
            continue
        for column, term in enumerate(vocabulary.terms(spec.name)):
            for spelling in (term.id, term.label, *term.synonyms):
                key = fold(spelling)
                if key and (spec.facet, column) not in terms.setdefault(key, []):
                    terms[key].append((spec.facet, column))
                    labels.setdefault(key, term.label)
    return Concepts(
        terms=MappingProxyType({k: tuple(v) for k, v in terms.items()}),
        labels=MappingProxyType(labels),
        keys=tuple(terms),
        longest=max((len(k.split()) for k in terms), default=1),
    )


def _joined(frame: pd.DataFrame, columns: Iterable[str]) -> np.ndarray:
    parts = [frame[c].fillna("").astype(str) for c in columns if c in frame]
    text = parts[0]
    for part in parts[1:]:
        text = text + " " + part
    return text.to_numpy(dtype=object)


def _text_index(texts: np.ndarray) -> TextIndex:
    row_text, uniques = pd.factorize(texts)
    word_of, text_of, words = _word_pairs(uniques)
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    return TextIndex(
        words=words,
        sorted_words=np.asarray(words, dtype=str),
        starts=np.searchsorted(word_of, np.arange(len(words) + 1)),
        texts=text_of.astype(np.int64),
        row_text=row_text.astype(np.int64),
        n_texts=max(len(uniques), 1),
        joined="\n".join(words),
        offsets=np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64),
        lengths=lengths,
    )


def build_search_index(
    frame: pd.DataFrame, labels: Mapping[str, Mapping[str, str]] | None = None
) -> SearchIndex:
    """The strong and weak words of every row. `labels` (facet -> term id -> label) makes a
    row's tags words of its strong text; without it, the ids are ("visual-arts": "visual
    arts")."""
    strong = _joined(frame, STRONG_COLUMNS)
    for spec in fields.facets():
        if not (spec.many and spec.facet):
            continue
        names = (labels or {}).get(spec.facet, {})
        codes, uniques = _factorize_terms(frame[spec.column_name])
        texts = [" ".join(names.get(t) or t.replace("-", " ") for t in u) for u in uniques]
        strong = strong + " " + np.array([*texts, ""], dtype=object)[codes]
    strong_index = _text_index(strong)
    weak_index = _text_index(_joined(frame, WEAK_COLUMNS))
    both = sorted(set(strong_index.words) | set(weak_index.words))
    return SearchIndex(
        strong=strong_index,
        weak=weak_index,
        both=_text_index(np.array(["\n".join(both)] if both else [""], dtype=object)),
    )


def _same_words(index: TextIndex, words: list[str]) -> np.ndarray:
    """The numbers of those of `words` that are words of `index`."""
    if not words or not index.words:
        return np.zeros(0, dtype=np.int64)
    at = np.searchsorted(index.sorted_words, np.asarray(words, dtype=str))
    at = np.minimum(at, len(index.words) - 1)
    return np.unique(at[index.sorted_words[at] == np.asarray(words, dtype=str)])


def _query_groups(concepts: Concepts, words: list[str]) -> list[tuple[tuple[str, ...], str]]:
    """The query's words, longest vocabulary phrases first: ("art", "class") is one group
    when "art class" is a synonym. Each group is (words, concept key or "")."""
    groups: list[tuple[tuple[str, ...], str]] = []
    i = 0
    while i < len(words):
        for n in range(min(concepts.longest, len(words) - i), 0, -1):
            key = " ".join(words[i : i + n])
            if key in concepts.terms:
                groups.append((tuple(words[i : i + n]), key))
                i += n
                break
        else:
            groups.append(((words[i],), ""))
            i += 1
    return list(dict.fromkeys(groups))


def _cutoff(word: str) -> float:
    """The rapidfuzz ratio a typo of `word` reaches (see _typo_words)."""
    edits = 1 if len(word) < TWO_TYPOS_FROM else 2
    return 100.0 * (len(word) - edits) / len(word) - 0.5


def _typo_concepts(concepts: Concepts, word: str) -> list[str]:
    """Vocabulary keys within a typo of a word ("demensia" -> "dementia"); none for short
    words, where one letter changes the meaning."""
    if len(word) < MIN_FUZZY_WORD:
        return []
    found = process.extract(
        word, concepts.keys, scorer=fuzz.ratio, score_cutoff=_cutoff(word), limit=5
    )
    return [key for key, _, _ in found if len(key) >= MIN_FUZZY_WORD]


def _concept_scores(index: FilterIndex, concepts: Concepts, keys: Iterable[str]) -> np.ndarray:
    """(rows,) the score of rows tagged with any term the keys name: SCORE_STRONG, or
    SCORE_COUNTYWIDE for a place a countywide record serves."""
    scores = np.zeros(index.length, dtype=np.float32)
    for key in keys:
        for facet, column in concepts.terms[key]:
            hit = index.matrices[facet][:, column]
            if facet == DISTRICT:
                hit = hit | index.located[:, column]
                ids = index.term_ids[facet]
                if COUNTYWIDE in ids and ids[column] != COUNTYWIDE:
                    everywhere = index.matrices[facet][:, ids.index(COUNTYWIDE)]
                    np.maximum(scores, np.where(everywhere, SCORE_COUNTYWIDE, 0), out=scores)
            scores[hit] = SCORE_STRONG
    return scores


def _whole_words(index: TextIndex, word: str) -> np.ndarray:
    """The word itself and its plurals ("pain", "pains"; never "painting")."""
    found = [
        int(i)
        for form in (word, word + "s", word + "es")
        if (i := int(np.searchsorted(index.sorted_words, form))) < len(index.words)
        and index.words[i] == form
    ]
    return np.array(sorted(found), dtype=np.int64)


def _text_scores(
    search: SearchIndex, words: tuple[str, ...], typo: bool, whole: bool = False
) -> np.ndarray:
    """(rows,) SCORE_STRONG where every word is in the strong text, else SCORE_WEAK where
    every word is in the strong or weak text; typos only when `typo`; with `whole`, only
    whole words (and their plurals) rather than word starts and parts."""
    find = _whole_words if whole else _exact_words
    scores: np.ndarray | None = None
    for word in words:
        if typo and len(word) < MIN_FUZZY_WORD:
            return np.zeros(len(search.strong.row_text), dtype=np.float32)
        if typo:  # the typos of a word, found once among all words, then in each index
            near = [search.both.words[i] for i in _typo_words(search.both, word)]
            strong_words, weak_words = (
                _same_words(search.strong, near),
                _same_words(search.weak, near),
            )
        else:
            strong_words, weak_words = find(search.strong, word), find(search.weak, word)
        strong = _text_hits(search.strong, strong_words)[search.strong.row_text]
        weak = _text_hits(search.weak, weak_words)[search.weak.row_text]
        word_score = np.where(strong, SCORE_STRONG, np.where(weak, SCORE_WEAK, 0.0))
        scores = word_score if scores is None else np.minimum(scores, word_score)
    assert scores is not None
    return scores.astype(np.float32)


def search_scores(index: FilterIndex, search: SearchIndex, query: str) -> np.ndarray:
    """(rows,) relevance of each row to a query: 0 for rows that do not match.

    Every word (or vocabulary phrase) of the query must match, as a word of the row's text or
    as one of its tags named by the vocabulary (``breathing`` finds rows tagged COPD and
    breathing conditions; ``Cheltenham`` rows there, serving it, and countywide ones below
    them). A group found nowhere exactly is looked for with a typo, at TYPO_FACTOR of the
    score. The relevance is the sum over the groups.
    """
    concepts = index.concepts
    total: np.ndarray | None = None
    for words, key in _query_groups(concepts, fold_words(query)):
        # A word the vocabulary knows means that: "pain" is not the start of "painting".
        scores = _text_scores(search, words, typo=False, whole=bool(key))
        if key:
            np.maximum(scores, _concept_scores(index, concepts, (key,)), out=scores)
        if not scores.any() and len(words) == 1:
            typos = _text_scores(search, words, typo=True)
            np.maximum(
                typos,
                _concept_scores(index, concepts, _typo_concepts(concepts, words[0])),
                out=typos,
            )
            scores = typos * TYPO_FACTOR
        total = (
            scores
            if total is None
            else np.where((total > 0) & (scores > 0), total + scores, np.float32(0))
        )
        if not total.any():
            break
    return np.zeros(index.length, dtype=np.float32) if total is None else total


def search_scores_plain(index: FilterIndex, frame: pd.DataFrame, query: str) -> np.ndarray:
    """The readable twin of :func:`search_scores` for one-word queries without typos, row by
    row (tests check they agree)."""
    word = fold(query)
    named = set(index.concepts.terms.get(word, ()))
    if word in index.concepts.terms:  # a word the vocabulary knows: whole words only

        def matches(w: str) -> bool:
            return w in (word, word + "s", word + "es")
    else:

        def matches(w: str) -> bool:
            return w.startswith(word) or (len(word) >= MIN_INFIX_WORD and word in w)

    everywhere = index.term_ids[DISTRICT].index(COUNTYWIDE)
    out = np.zeros(len(frame), dtype=np.float32)
    for row in range(len(frame)):
        tags = {(f, i) for f in index.labels for i in np.flatnonzero(index.matrices[f][row])}
        tags |= {(DISTRICT, i) for i in np.flatnonzero(index.located[row])}
        labels = [
            index.labels[f][index.term_ids[f][i]]
            for f, i in tags
            if fields.by_facet(f) is not None
            and fields.by_facet(f).many
            and f in index.labels
            and index.matrices[f][row, i]
        ]
        strong = " ".join([*(str(frame[c].iloc[row] or "") for c in STRONG_COLUMNS), *labels])
        weak = " ".join(str(frame[c].iloc[row] or "") for c in WEAK_COLUMNS)
        score = 0.0
        if tags & named or any(matches(w) for w in fold_words(strong)):
            score = SCORE_STRONG
        elif any(matches(w) for w in fold_words(weak)):
            score = SCORE_WEAK
        elif any(f == DISTRICT for f, _ in named) and (DISTRICT, everywhere) in tags:
            score = SCORE_COUNTYWIDE
        out[row] = score
    return out


def suggest_terms(
    index: FilterIndex, search: SearchIndex, query: str, limit: int = MAX_SUGGESTIONS
) -> list[str]:
    """The vocabulary labels and record words nearest a query's words, for a search that found
    nothing ("did you mean ..."); nearest first, at most `limit`."""
    found: dict[str, float] = {}
    choices = {
        **{w: w for w in search.strong.words if len(w) >= MIN_FUZZY_WORD},
        **index.concepts.labels,
    }
    for word in fold_words(query)[:MAX_VALUES]:
        for key, score, _ in process.extract(
            word, list(choices), scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF, limit=limit * 3
        ):
            shown = choices[key]
            found[shown] = max(
                found.get(shown, 0.0), score + (5 if key in index.concepts.labels else 0)
            )
    return sorted(found, key=lambda s: -found[s])[:limit]


# ---------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True, eq=False)
class FilterIndex:
    """Everything a selection needs, precomputed for one frame; build once, share, reuse.

    Arrays are read-only, so one index can be shared between sessions and threads.
    """

    length: int
    term_ids: Mapping[str, tuple[str, ...]]  # facet -> its terms, in vocabulary order
    matrices: Mapping[str, np.ndarray]  # facet -> (rows, terms) bool; district = served
    located: np.ndarray  # (rows, area terms) bool: the row's district_code is the area's
    record_codes: np.ndarray  # a number per distinct record_id
    n_records: int
    lat: np.ndarray
    lon: np.ndarray
    first_record_id: str | None
    past: np.ndarray  # (rows,) bool: the record has ended (hidden unless asked for)
    elsewhere: np.ndarray  # (rows,) bool: an example outside Gloucestershire (likewise)
    text: SearchIndex | None
    concepts: Concepts  # the vocabulary's words, for search
    labels: Mapping[str, Mapping[str, str]]  # facet -> term id -> label

    def positions(self, facet: str, terms: Iterable[str]) -> list[int]:
        """Column numbers of known terms of a facet (unknown terms are skipped)."""
        ids = self.term_ids[facet]
        return [ids.index(t) for t in dict.fromkeys(terms) if t in ids]


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _factorize_terms(values: pd.Series) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Each row's code into the column's distinct term tuples (missing: -1), and the tuples.

    A single string counts as a one-term tuple, so this serves ``status`` and ``kind`` too.
    """
    try:
        codes, uniques = pd.factorize(values.to_numpy(dtype=object))  # tuples hash; None is -1
    except TypeError:  # lists (unhashable) instead of the contract's tuples
        items = pd.Series([tuple(v) if _is_list(v) else v for v in values], dtype=object)
        codes, uniques = pd.factorize(items)
    terms = [
        tuple(t for t in u if isinstance(t, str))
        if _is_list(u)
        else (u,)
        if isinstance(u, str)
        else ()
        for u in uniques
    ]
    return codes, terms


def _list_matrix(values: pd.Series, term_ids: tuple[str, ...]) -> np.ndarray:
    """(rows, terms) membership of a column of term-id tuples, computed per distinct tuple."""
    codes, uniques = _factorize_terms(values)
    position = {t: i for i, t in enumerate(term_ids)}
    small = np.zeros((len(uniques) + 1, len(term_ids)), dtype=bool)  # last row: no terms
    for row, terms in enumerate(uniques):
        small[row, [position[t] for t in terms if t in position]] = True
    return np.asfortranarray(small[codes])  # code -1 (missing) picks the empty last row


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray | set | frozenset)


def _bool_matrix(values: pd.Series, term_ids: tuple[str, ...]) -> np.ndarray:
    """(rows, 1): is the value a real True (a missing value is not stated, not false)."""
    array = values.to_numpy(dtype=object)
    return np.asfortranarray(
        np.array([v is True or v is np.True_ for v in array], dtype=bool).reshape(-1, 1)
    )


def _value_matrix(values: pd.Series, term_ids: tuple[str, ...]) -> np.ndarray:
    """(rows, terms) equality of a single-valued column with each term id."""
    array = values.to_numpy(dtype=object)
    return np.asfortranarray(np.stack([array == t for t in term_ids], axis=1))


def build_index(frame: pd.DataFrame, vocabulary: Vocabulary, *, search: bool = True) -> FilterIndex:
    """Precompute membership matrices, record numbers, coordinates and (optionally) search.

    A few seconds for 100,000 rows, mostly the text index; ``search=False`` skips that for
    counting-only uses (a query then builds it on the fly). Cache the result per frame.
    """
    term_ids: dict[str, tuple[str, ...]] = {}
    matrices: dict[str, np.ndarray] = {}
    labels: dict[str, Mapping[str, str]] = {}
    for spec in fields.facets():
        assert spec.facet is not None
        terms = vocabulary.terms(spec.name)
        term_ids[spec.facet] = tuple(t.id for t in terms)
        labels[spec.facet] = MappingProxyType({t.id: t.label for t in terms})
        # A yes/no facet (free=1) has one term, "yes": the rows where the field is true.
        build = (
            _bool_matrix
            if spec.datatype == "bool"
            else _list_matrix
            if spec.many
            else _value_matrix
        )
        matrices[spec.facet] = _readonly(build(frame[spec.column_name], term_ids[spec.facet]))
    codes = frame["district_code"].to_numpy(dtype=object)
    district = fields.by_facet(DISTRICT)
    areas = vocabulary.terms(district.name) if district else []
    located = np.stack(
        [(codes == a.code) if a.code else np.zeros(len(frame), bool) for a in areas], 1
    )
    record_codes, records = pd.factorize(frame["record_id"].to_numpy(dtype=object))
    return FilterIndex(
        length=len(frame),
        term_ids=MappingProxyType(term_ids),
        matrices=MappingProxyType(matrices),
        located=_readonly(np.asfortranarray(located.reshape(len(frame), len(areas)))),
        record_codes=_readonly(record_codes.astype(np.int64)),
        n_records=len(records),
        lat=_readonly(pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)),
        lon=_readonly(pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)),
        first_record_id=str(frame["record_id"].iloc[0]) if len(frame) else None,
        past=_readonly(_equals(frame, STATUS, PAST_STATUS)),
        elsewhere=_readonly(_equals(frame, "scope", ELSEWHERE)),
        text=build_search_index(frame, labels) if search and len(frame) else None,
        concepts=build_concepts(vocabulary),
        labels=MappingProxyType(labels),
    )


def _equals(frame: pd.DataFrame, column: str, value: str) -> np.ndarray:
    """(rows,) bool: the column holds `value` (all False when the frame has no such column)."""
    if column not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].to_numpy(dtype=object) == value


def lifecycle_mask(index: FilterIndex, selection: Selection, skip: str | None = None) -> np.ndarray:
    """(rows,) bool: the rows in view at all, before any filter (issue 12).

    Ended activity is history: hidden unless ``include_past``, or ``ended`` is a chosen status,
    or the status facet itself is being counted (``skip="status"``: its "Ended" option counts
    what choosing it would show). Examples elsewhere in the UK are kept apart: hidden unless
    ``scope="uk"``, so a gap in the Cotswolds is never filled by a London project.
    """
    keep = np.ones(index.length, dtype=bool)
    chosen = dict(selection.chosen).get(STATUS, ()) if skip != STATUS else ()
    if not (selection.include_past or skip == STATUS or PAST_STATUS in chosen):
        keep &= ~index.past
    if selection.scope != SCOPE_UK:
        keep &= ~index.elsewhere
    return keep


def _index_for(
    frame: pd.DataFrame, vocabulary: Vocabulary, index: FilterIndex | None
) -> FilterIndex:
    """The given index after a cheap check that it belongs to the frame, or a new one."""
    if index is None:
        return build_index(frame, vocabulary, search=False)
    first = str(frame["record_id"].iloc[0]) if len(frame) else None
    if index.length != len(frame) or index.first_record_id != first:
        raise ValueError("this FilterIndex was built for another frame; rebuild it")
    return index


# ---------------------------------------------------------------------------------------------
# Selecting


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


def _facet(name: str) -> str:
    facet = facet_aliases().get(name)
    if facet is None:
        raise ValueError(f"unknown field {name!r}; use one of {', '.join(facet_fields())}")
    return facet


def facet_matrix(index: FilterIndex, facet: str, *, countywide: bool = True) -> np.ndarray:
    """(rows, terms) bool: does each row count for each term of a facet.

    For ``district`` that is: located in it, or its record serves it (or, with
    ``countywide``, serves the whole county).
    """
    facet = _facet(facet)
    matrix = index.matrices[facet]
    if facet != DISTRICT:
        return matrix
    combined = matrix | index.located
    if countywide and COUNTYWIDE in index.term_ids[facet]:
        served = matrix[:, index.term_ids[facet].index(COUNTYWIDE)]
        combined |= served[:, None]
    return combined


def _term_mask(
    index: FilterIndex, facet: str, terms: tuple[str, ...], countywide: bool
) -> np.ndarray:
    """Rows counting for any of the terms (OR within a field)."""
    columns = index.positions(facet, terms)
    mask = np.zeros(index.length, dtype=bool)
    for column in columns:
        mask |= index.matrices[facet][:, column]
        if facet == DISTRICT:
            mask |= index.located[:, column]
    if facet == DISTRICT and countywide and columns and COUNTYWIDE in index.term_ids[facet]:
        mask |= index.matrices[facet][:, index.term_ids[facet].index(COUNTYWIDE)]
    return mask


def _radius_mask(
    index: FilterIndex, origin: tuple[float, float], radius_km: float | None, within: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `within` inside the radius (none without a point) and their distances (else NaN).

    A bounding box first cuts the haversine work to the few rows that could be inside.
    """
    candidates = within.copy()
    if radius_km is not None:
        lat0 = origin[0]
        dlat = math.degrees(radius_km / 6371.0088) * 1.001
        dlon = dlat / max(math.cos(math.radians(min(abs(lat0) + dlat, 89.9))), 1e-6)
        with np.errstate(invalid="ignore"):
            candidates &= np.abs(index.lat - lat0) <= dlat
            candidates &= np.abs((index.lon - origin[1] + 180) % 360 - 180) <= dlon
    rows = np.flatnonzero(candidates)
    distances = np.full(index.length, np.nan)
    distances[rows] = haversine_km(origin[0], origin[1], index.lat[rows], index.lon[rows])
    if radius_km is None:
        return within, distances
    with np.errstate(invalid="ignore"):
        return within & (distances <= radius_km), distances  # NaN compares False


def selection_mask(
    index: FilterIndex,
    selection: Selection,
    *,
    origin: tuple[float, float] | None = None,
    skip: str | None = None,
    countywide: bool = True,
    frame: pd.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows matching a selection (minus the `skip` field, for facet counts), and distances.

    Distances (km, NaN for rows without a point or not needed) come only with an `origin`;
    the radius applies only with both an origin and ``selection.radius_km``.
    """
    mask, distances, _ = _select(
        index, selection, origin=origin, skip=skip, countywide=countywide, frame=frame
    )
    return mask, distances


def _select(
    index: FilterIndex,
    selection: Selection,
    *,
    origin: tuple[float, float] | None = None,
    skip: str | None = None,
    countywide: bool = True,
    frame: pd.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """selection_mask's answer, and the search relevance of each row when there is a query."""
    mask = lifecycle_mask(index, selection, skip)
    for name, terms in selection.chosen:
        if name != skip:
            mask &= _term_mask(index, name, terms, countywide)
    scores = None
    if selection.q.strip() and skip != "q" and fold_words(selection.q):
        search = index.text
        if search is None and frame is not None and len(frame):
            search = build_search_index(frame, index.labels)
        if search is not None:
            scores = search_scores(index, search, selection.q)
            mask &= scores > 0
    if origin is None:
        return mask, None, scores
    return (*_radius_mask(index, origin, selection.radius_km, mask), scores)


def filter_frame(
    frame: gpd.GeoDataFrame,
    selection: Selection,
    vocabulary: Vocabulary,
    *,
    origin: tuple[float, float] | None = None,
    index: FilterIndex | None = None,
    countywide: bool = True,
) -> gpd.GeoDataFrame:
    """The rows matching a selection, as a new frame (the input is never changed).

    With a query (``selection.q``) the result gains ``relevance`` (see search_scores) and
    is sorted most relevant first; with `origin` (lat, lon) it gains ``distance_km`` and is
    sorted nearest first instead (rows without a point last); with ``selection.radius_km``
    too, only rows within the radius remain, so rows without a point drop out. Pass the
    caller's cached `index` (from ``build_index(frame, vocabulary)``) to skip rebuilding it.
    """
    index = _index_for(frame, vocabulary, index)
    mask, distances, scores = _select(
        index, selection, origin=origin, countywide=countywide, frame=frame
    )
    rows = np.flatnonzero(mask)
    if distances is not None:
        rows = rows[np.argsort(distances[rows], kind="stable")]
    elif scores is not None:
        rows = rows[np.argsort(-scores[rows], kind="stable")]
    result = frame.take(rows)
    # A new frame: the input keeps its columns.
    if distances is not None:
        result["distance_km"] = distances[rows]
    if scores is not None:
        result[RELEVANCE] = np.round(scores[rows].astype(float), 2)
    return result


# ---------------------------------------------------------------------------------------------
# Counting


def count_records(frame: pd.DataFrame) -> int:
    """Distinct records in a frame (a record may have several location rows)."""
    return int(frame["record_id"].nunique()) if len(frame) else 0


def _distinct_counts(index: FilterIndex, matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each column of `matrix`, the distinct records among `rows` with that column set."""
    hit_rows, hit_cols = np.nonzero(matrix[rows])
    seen = np.zeros((index.n_records, matrix.shape[1]), dtype=bool)
    seen[index.record_codes[rows][hit_rows], hit_cols] = True
    return seen.sum(axis=0)


def count_options(
    frame: pd.DataFrame,
    selection: Selection,
    vocabulary: Vocabulary,
    field: str,
    *,
    origin: tuple[float, float] | None = None,
    index: FilterIndex | None = None,
    countywide: bool = True,
) -> dict[str, int]:
    """Facet counts: distinct records per option of `field` for the current selection, with
    that field's own filter left out (so choosing one option still shows the others' counts).

    `field` is a filter name (``condition``), a column (``conditions``) or ``kind``. Every
    term of the field is a key, zeros included, in vocabulary order.
    """
    facet = _facet(field)
    index = _index_for(frame, vocabulary, index)
    mask, _ = selection_mask(
        index, selection, origin=origin, skip=facet, countywide=countywide, frame=frame
    )
    matrix = facet_matrix(index, facet, countywide=countywide)
    counts = _distinct_counts(index, matrix, np.flatnonzero(mask))
    return dict(zip(index.term_ids[facet], counts.tolist(), strict=True))


def counts_by(
    frame: pd.DataFrame, vocabulary: Vocabulary, field: str, *, countywide: bool = True
) -> pd.Series:
    """Distinct records per term of a field (``district``, ``status``, ``kind``...), zeros
    included. District counts include countywide providers unless ``countywide=False``."""
    counts = count_options(frame, Selection(), vocabulary, field, countywide=countywide)
    series = pd.Series(counts, name="records", dtype=int)
    series.index.name = _facet(field)
    return series


def _record_matrix(
    index: FilterIndex, facet: str, countywide: bool, shown: np.ndarray | None = None
) -> np.ndarray:
    """(records, terms) bool: does any row of each record (of the `shown` rows) count for
    each term."""
    matrix = facet_matrix(index, facet, countywide=countywide)
    if shown is not None:
        matrix = matrix & shown[:, None]
    rows, cols = np.nonzero(matrix)
    seen = np.zeros((index.n_records, matrix.shape[1]), dtype=bool)
    seen[index.record_codes[rows], cols] = True
    return seen


def coverage_matrix(
    frame: pd.DataFrame,
    vocabulary: Vocabulary,
    rows: str = "conditions",
    cols: str = "art_forms",
    *,
    countywide: bool = True,
    selection: Selection | None = None,
) -> pd.DataFrame:
    """Distinct records per (row term, column term), every vocabulary term present, zeros too.

    `rows` and `cols` are list columns, ``status``, ``kind`` or ``district`` (located, served
    or countywide). A record counts once per cell however many locations it has. Ended
    records and examples elsewhere count only when `selection` asks for them (see
    ``lifecycle_mask``; its filters are not applied here).
    """
    row_facet, col_facet = _facet(rows), _facet(cols)
    index = build_index(frame, vocabulary, search=False)
    lifecycle = (
        Selection(include_past=selection.include_past, scope=selection.scope)
        if selection
        else Selection()
    )
    shown = lifecycle_mask(index, lifecycle)
    left = _record_matrix(index, row_facet, countywide, shown).astype(np.int64)
    right = _record_matrix(index, col_facet, countywide, shown).astype(np.int64)
    table = pd.DataFrame(
        left.T @ right,
        index=pd.Index(index.term_ids[row_facet], name=rows),
        columns=pd.Index(index.term_ids[col_facet], name=cols),
    )
    return table


def gaps(
    frame: pd.DataFrame,
    vocabulary: Vocabulary,
    field: str = "conditions",
    district: str | None = None,
    *,
    countywide: bool = True,
    selection: Selection | None = None,
) -> list[str]:
    """Terms of a field that no record covers, in vocabulary order (ended records and
    examples elsewhere only when `selection` includes them; its filters are not applied).

    With `district`, only records counting for that district are considered: located there,
    serving it, or (unless ``countywide=False``) serving the whole county. "Which conditions
    have no provider in the Cotswolds" is ``gaps(frame, vocabulary, "conditions", "cotswold")``.
    """
    base = selection or Selection()
    chosen = Selection(
        district=(district,) if district else (), include_past=base.include_past, scope=base.scope
    )
    counts = count_options(frame, chosen, vocabulary, field, countywide=countywide)
    return [term for term, count in counts.items() if count == 0]


# ---------------------------------------------------------------------------------------------
# Tables and exports

# Columns records_table derives from a record's locations, shown where the registry's location
# fields sit: where to find it (label, place, postcode), its district, how many locations it
# has and how precisely the shown one was placed.
WHERE_COLUMNS = ("place", "district", "locations", "location_precision", "lat", "lon")


def table_columns() -> tuple[str, ...]:
    """records_table's columns: the registry's table fields, in its order, with the
    WHERE_COLUMNS in place of its location fields."""
    out: list[str] = []
    for spec in fields.all_fields():
        if spec.group == "locations":
            out += [c for c in WHERE_COLUMNS if c not in out]
        if spec.table:  # a location field's column is the shown location's value
            out.append(spec.name)
    return tuple(out)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _labels(values: pd.Series, vocabulary: Vocabulary, field: str) -> np.ndarray:
    """Term ids -> "Label, Label" for a column, computed once per distinct value."""
    codes, uniques = _factorize_terms(values)
    labels = [", ".join(vocabulary.labels(field, terms)) for terms in uniques]
    return np.array([*labels, ""], dtype=object)[codes]  # code -1 (missing) -> ""


def _places(frame: pd.DataFrame) -> list[str]:
    """ "label, place, postcode" of each row, blanks and repeats left out."""
    columns = zip(frame["location_label"], frame["place"], frame["postcode"], strict=True)
    out = []
    for parts in columns:
        kept = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
        out.append(", ".join(dict.fromkeys(kept)) if len(kept) > 1 else "".join(kept))
    return out


def _consented(value: Any) -> bool:
    """Only a real True publishes contact details (not a missing value, not the text "no")."""
    return isinstance(value, bool | np.bool_) and bool(value)


def _date_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else _text(value)


def _one_row_per_record(frame: pd.DataFrame) -> pd.DataFrame:
    """Each record's nearest row when distances are known, else its first row (frame order)."""
    if "distance_km" in frame:
        order = np.argsort(frame["distance_km"].to_numpy(dtype=float), kind="stable")
        frame = frame.iloc[order]
    return frame.drop_duplicates("record_id", keep="first")


def records_table(
    frame: pd.DataFrame, vocabulary: Vocabulary, *, with_distance: bool = False
) -> pd.DataFrame:
    """One row per record (its first location, or nearest when the frame has distances), with
    labels joined by ", " -- for the directory table and CSV export.

    Contact columns are blank unless the provider agreed to publish them. With
    `with_distance` and a ``distance_km`` column, rows are nearest first.
    """
    columns = table_columns()
    if not len(frame):
        return pd.DataFrame(columns=list(columns))
    first = _one_row_per_record(frame)
    consented = [_consented(v) for v in first["publish_contact"]]
    where = _where_columns(frame, first)
    out = pd.DataFrame(
        {
            name: where[name]
            if name in where
            else _table_column(
                first[fields.by_name(name).column_name], fields.by_name(name), vocabulary, consented
            )
            for name in columns
        }
    )
    if with_distance and "distance_km" in first:
        distances = np.round(first["distance_km"].to_numpy(dtype=float), 1)
        out.insert(2, "distance_km", distances)
    if RELEVANCE in first:  # a search's order: the directory sorts by it
        out.insert(2, RELEVANCE, first[RELEVANCE].to_numpy(dtype=float))
    return out


def _table_column(
    values: pd.Series, spec: fields.FieldSpec, vocabulary: Vocabulary, consented: list[bool]
) -> Any:
    """One field's table column: labels for terms, ISO dates, stripped text; personal
    values blank unless the provider agreed to publish them."""
    if spec.controlled:
        labels = _labels(values, vocabulary, spec.name)
        return _not_stated(labels, spec) if spec.not_stated else labels
    if spec.many:  # "; " between structured values (a schedule has commas of its own)
        texts = [
            ("; " if spec.datatype != "text" else ", ").join(
                w for w in (fields.describe(v) for v in items or ()) if w
            )
            for items in values
        ]
    elif spec.datatype == "date":
        texts = [_date_text(v) for v in values]
    else:
        texts = [_text(v) if isinstance(v, str) else fields.describe(v) for v in values]
    if spec.personal:
        texts = [v if ok else "" for v, ok in zip(texts, consented, strict=True)]
    return _not_stated(np.array(texts, dtype=object), spec)


def _not_stated(texts: np.ndarray, spec: fields.FieldSpec) -> np.ndarray:
    """Blank cells of a ``not_stated`` field say so (fields.NOT_STATED), never a guess."""
    if spec.not_stated:
        texts = np.where(texts == "", fields.NOT_STATED, texts).astype(object)
    return texts


def _where_columns(frame: pd.DataFrame, first: pd.DataFrame) -> dict[str, Any]:
    """The WHERE_COLUMNS of each record's shown row (`first`)."""
    located = frame.loc[frame.geometry.notna(), "record_id"].value_counts()
    return {
        "place": _places(first),
        "district": [_text(v) for v in first["district_name"]],
        "locations": located.reindex(first["record_id"]).fillna(0).astype(int).to_numpy(),
        "location_precision": first["location_precision"].to_numpy(dtype=object),
        "lat": np.round(pd.to_numeric(first["lat"], errors="coerce").to_numpy(float), 6),
        "lon": np.round(pd.to_numeric(first["lon"], errors="coerce").to_numpy(float), 6),
    }


def _feature(row: dict[str, Any], x: float, y: float) -> dict[str, Any]:
    """One located row as a feature: the registry's table fields (term ids, not labels),
    personal ones only with consent, and where the row is."""
    consented = _consented(row["publish_contact"])
    properties: dict[str, Any] = {}
    for spec in fields.table_fields():
        if spec.personal and not consented:
            continue
        value = row[spec.column_name]
        if spec.many:  # term ids and texts; a structured value (a schedule) in words
            properties[spec.name] = [w for w in (fields.describe(t) for t in value or ()) if w]
        elif spec.datatype == "date":
            properties[spec.name] = _date_text(value) or None
        else:
            properties[spec.name] = (
                _text(value) if isinstance(value, str) else fields.describe(value)
            ) or None
    properties.update(_where_properties(row))
    geometry = {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _where_properties(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "place": ", ".join(p for p in map(_text, (row["location_label"], row["place"])) if p),
        "postcode": _text(row["postcode"]) or None,
        "district": _text(row["district_name"]) or None,
        "location_precision": _text(row["location_precision"]) or None,
    }


def to_geojson(frame: gpd.GeoDataFrame, vocabulary: Vocabulary) -> str:
    """A GeoJSON FeatureCollection (EPSG:4326): one feature per located row.

    Properties are plain strings and lists of term ids (labels are in the vocabulary);
    contact fields appear only where the provider agreed to publish them.
    """
    geometry = frame.geometry
    located = frame[geometry.notna().to_numpy() & ~geometry.is_empty.to_numpy()]
    columns = [c for c in located.columns if c != located.geometry.name]
    records = located[columns].astype(object).to_dict("records")
    features = [
        _feature(row, point.x, point.y)
        for row, point in zip(records, located.geometry, strict=True)
    ]
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, indent=1, default=str)


def gaps_by_district(
    frame: pd.DataFrame,
    vocabulary: Vocabulary,
    field: str = "conditions",
    *,
    countywide: bool = True,
    selection: Selection | None = None,
) -> dict[str, list[str]]:
    """``gaps`` for every district (the areas with an ONS code), in vocabulary order: district
    id -> the terms of `field` no record counting for that district covers.

    One coverage matrix instead of a filtering per district; tests check it against ``gaps``.
    """
    matrix = coverage_matrix(
        frame, vocabulary, "district", field, countywide=countywide, selection=selection
    )
    districts = [t.id for t in vocabulary.terms("areas_served") if t.code]
    return {
        district: [term for term, count in matrix.loc[district].items() if count == 0]
        for district in districts
    }
