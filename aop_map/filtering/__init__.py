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

The modules, each importing only those above it:

- ``selection``: what the user asked for (``Selection``), the registry's filters and facets by
  name, and the URL parameters round trip;
- ``terms``: term-id columns as numpy arrays (distinct term tuples, membership matrices);
- ``text_index``: word indexes of the frame's text and of the vocabulary, and the word-matching
  rules (prefix, infix, typo);
- ``index``: ``FilterIndex``, everything a selection needs, built once per frame;
- ``search``: relevance of each row to a query, its readable twin, suggestions;
- ``apply``: a selection applied to a frame: masks, ``filter_frame``, facet counts;
- ``coverage``: records per pair of terms, and the gaps, per district;
- ``tables``: one row per record for the directory and CSV, and GeoJSON.
"""

from aop_map.filtering.apply import (
    count_options,
    count_records,
    counts_by,
    facet_matrix,
    filter_frame,
    lifecycle_mask,
    selection_mask,
)
from aop_map.filtering.coverage import coverage_matrix, gaps, gaps_by_district
from aop_map.filtering.index import FilterIndex, build_index
from aop_map.filtering.search import (
    MAX_SUGGESTIONS,
    RELEVANCE,
    SCORE_COUNTYWIDE,
    SCORE_STRONG,
    SCORE_WEAK,
    SUGGEST_CUTOFF,
    TYPO_FACTOR,
    search_scores,
    search_scores_plain,
    suggest_terms,
)
from aop_map.filtering.selection import (
    COUNTYWIDE,
    DISTRICT,
    ELSEWHERE,
    EXTRA_FACET_ALIASES,
    LIFECYCLE_PARAMS,
    MAX_NEAR,
    MAX_NOTE_VALUE,
    MAX_QUERY,
    MAX_RADIUS_KM,
    MAX_VALUES,
    PAST_STATUS,
    SCOPE_UK,
    SCOPE_WORDS,
    SEARCH_PARAMS,
    STATUS,
    TRUE_WORDS,
    Selection,
    TermChoice,
    clear_field,
    facet_aliases,
    facet_fields,
    filter_fields,
    list_columns,
    selection_from_params,
    selection_to_params,
    url_params,
)
from aop_map.filtering.tables import WHERE_COLUMNS, records_table, table_columns, to_geojson
from aop_map.filtering.text_index import (
    MIN_FUZZY_WORD,
    MIN_INFIX_WORD,
    MIN_PARTIAL_TYPO,
    STRONG_COLUMNS,
    TWO_TYPOS_FROM,
    WEAK_COLUMNS,
    Concepts,
    SearchIndex,
    TextIndex,
    build_concepts,
    build_search_index,
    fold,
    fold_words,
)

__all__ = [
    # selection
    "COUNTYWIDE",
    "DISTRICT",
    "ELSEWHERE",
    "EXTRA_FACET_ALIASES",
    "LIFECYCLE_PARAMS",
    "MAX_NEAR",
    "MAX_NOTE_VALUE",
    "MAX_QUERY",
    "MAX_RADIUS_KM",
    "MAX_VALUES",
    "PAST_STATUS",
    "SCOPE_UK",
    "SCOPE_WORDS",
    "SEARCH_PARAMS",
    "STATUS",
    "TRUE_WORDS",
    "Selection",
    "TermChoice",
    "clear_field",
    "facet_aliases",
    "facet_fields",
    "filter_fields",
    "list_columns",
    "selection_from_params",
    "selection_to_params",
    "url_params",
    # text_index
    "MIN_FUZZY_WORD",
    "MIN_INFIX_WORD",
    "MIN_PARTIAL_TYPO",
    "STRONG_COLUMNS",
    "TWO_TYPOS_FROM",
    "WEAK_COLUMNS",
    "Concepts",
    "SearchIndex",
    "TextIndex",
    "build_concepts",
    "build_search_index",
    "fold",
    "fold_words",
    # index
    "FilterIndex",
    "build_index",
    # search
    "MAX_SUGGESTIONS",
    "RELEVANCE",
    "SCORE_COUNTYWIDE",
    "SCORE_STRONG",
    "SCORE_WEAK",
    "SUGGEST_CUTOFF",
    "TYPO_FACTOR",
    "search_scores",
    "search_scores_plain",
    "suggest_terms",
    # apply
    "count_options",
    "count_records",
    "counts_by",
    "facet_matrix",
    "filter_frame",
    "lifecycle_mask",
    "selection_mask",
    # coverage
    "coverage_matrix",
    "gaps",
    "gaps_by_district",
    # tables
    "WHERE_COLUMNS",
    "records_table",
    "table_columns",
    "to_geojson",
]
