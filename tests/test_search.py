"""Search that understands people: tags, places, the vocabulary's words, typos and relevance.

The query table is real queries against records shaped like the bundled ones: what must come
first, what must be found, and what must not be found at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aop_map.filtering import (
    RELEVANCE,
    SCORE_STRONG,
    Selection,
    build_index,
    filter_frame,
    records_table,
    search_scores,
    search_scores_plain,
    suggest_terms,
)
from aop_map.vocabulary import Vocabulary
from tests.frames import make_frame, real_vocabulary, synthetic_frame

CHELTENHAM = "E07000078"
STROUD = "E07000082"
GLOUCESTER = "E07000081"

# Records like the bundled ones, each with what a searcher would type to find it.
ROWS = [
    {
        "record_id": "mindsong",
        "name": "Mindsong",
        "art_forms": ("singing", "music"),
        "conditions": ("dementia", "copd"),
        "areas_served": ("countywide",),
        "summary": "Music and singing for people living with dementia and their carers.",
        "place": "Gloucester",
        "district_code": GLOUCESTER,
    },
    {
        "record_id": "choir-only-text",
        "name": "Tuesday Club",
        "description": "We end every session with singing and a cup of tea.",
        "art_forms": ("crafts",),
        "place": "Stroud",
        "district_code": STROUD,
    },
    {
        "record_id": "commissioning",
        "name": "Cultural commissioning programme",
        "summary": "Commissioning arts on prescription across the county.",
        "areas_served": ("countywide",),
        "commissioning_models": ("grant",),
    },
    {
        "record_id": "art-shape",
        "name": "Art Shape",
        "art_forms": ("visual-arts", "crafts"),
        "conditions": ("learning-disability",),
        "areas_served": ("cheltenham",),
        "summary": "Inclusive art workshops.",
        "place": "Gloucester",
        "district_code": GLOUCESTER,
    },
    {
        "record_id": "artlift-pain",
        "name": "Artlift chronic pain pathway",
        "art_forms": ("visual-arts",),
        "conditions": ("chronic-pain",),
        "summary": "Ten weekly sessions for people referred by their GP.",
        "place": "Cheltenham",
        "district_code": CHELTENHAM,
    },
    {
        "record_id": "paint-mention",
        "name": "Riverside Drop-in",
        "description": "Some sessions include painting, others gardening.",
        "art_forms": ("nature-and-outdoor-arts",),
        "place": "Stroud",
        "district_code": STROUD,
    },
    {
        "record_id": "breathe",
        "name": "Breathe Easy Stroud",
        "art_forms": ("singing",),
        "conditions": ("copd",),
        "summary": "Singing for lung health.",
        "place": "Stroud",
        "district_code": STROUD,
    },
    {
        "record_id": "memory-cafe",
        "name": "Forget-me-not memory cafe",
        "conditions": ("dementia",),
        "art_forms": ("reading",),
        "place": "Cheltenham",
        "district_code": CHELTENHAM,
    },
    {
        "record_id": "elsewhere",
        "name": "Dulwich art club",
        "art_forms": ("visual-arts",),
        "areas_served": ("elsewhere",),
        "summary": "An art class in south London.",
    },
]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return real_vocabulary()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame(ROWS)


def ranked(frame: pd.DataFrame, vocabulary: Vocabulary, query: str) -> list[str]:
    result = filter_frame(frame, Selection(q=query), vocabulary)
    return list(dict.fromkeys(result["record_id"]))


# (query, the records that must come first (in any order among them), others that must be
# found after them, records that must not be found)
QUERIES = [
    # A tag: everything tagged Dementia, whatever its text says.
    ("dementia", {"mindsong", "memory-cafe"}, set(), {"choir-only-text", "breathe"}),
    # The vocabulary's synonyms: "breathing" -> COPD and breathing conditions.
    ("breathing", {"mindsong", "breathe"}, set(), {"choir-only-text", "memory-cafe"}),
    # "art class" is visual arts; a description that only mentions painting is not a class.
    ("art class", {"art-shape", "artlift-pain", "elsewhere"}, set(), {"paint-mention", "mindsong"}),
    ("pain", {"artlift-pain"}, set(), {"mindsong", "paint-mention"}),
    ("memory", {"mindsong", "memory-cafe"}, set(), {"breathe"}),
    # Typos: singing records first, the description that mentions singing after them, and
    # never "commissioning" (one letter from "ssioning" inside it).
    ("sining", {"mindsong", "breathe"}, {"choir-only-text"}, {"commissioning"}),
    ("demensia", {"mindsong", "memory-cafe"}, set(), {"commissioning", "breathe"}),
    # A place: in it, serving it, then (below them) countywide records that serve it too.
    (
        "Cheltenham",
        {"artlift-pain", "memory-cafe", "art-shape"},
        {"mindsong", "commissioning"},
        {"breathe", "elsewhere"},
    ),
    # Words together: singing, in Stroud.
    # (then: the description mentioning singing in Stroud, and singing serving the county)
    ("singing stroud", {"breathe"}, {"choir-only-text", "mindsong"}, {"memory-cafe", "art-shape"}),
    # The name outranks the description.
    ("riverside", {"paint-mention"}, set(), {"mindsong"}),
    ("commissioning", {"commissioning"}, set(), {"mindsong"}),
    ("zzqqxx", set(), set(), {r["record_id"] for r in ROWS}),
]


@pytest.mark.parametrize(("query", "first", "then", "never"), QUERIES, ids=[q[0] for q in QUERIES])
def test_query_table(
    frame: pd.DataFrame,
    vocabulary: Vocabulary,
    query: str,
    first: set[str],
    then: set[str],
    never: set[str],
) -> None:
    found = ranked(frame, vocabulary, query)
    assert set(found[: len(first)]) == first, found
    assert set(found[len(first) : len(first) + len(then)]) == then, found
    assert not set(found) & never, found


def test_relevance_column_sorts_results(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    result = filter_frame(frame, Selection(q="sining"), vocabulary)
    scores = list(result[RELEVANCE])
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1] > 0
    table = records_table(result, vocabulary)
    assert list(table["name"])[0] in {"Mindsong", "Breathe Easy Stroud"}
    assert RELEVANCE in table.columns
    assert RELEVANCE not in filter_frame(frame, Selection(), vocabulary).columns


def test_no_match_suggests_nearest_terms(frame: pd.DataFrame, vocabulary: Vocabulary) -> None:
    index = build_index(frame, vocabulary)
    assert index.text is not None
    assert "Dementia" in suggest_terms(index, index.text, "dementiax zzqq")
    assert suggest_terms(index, index.text, "qqqqqqqq") == []


def test_scores_agree_with_plain_twin(vocabulary: Vocabulary) -> None:
    big = synthetic_frame(300, seed=3)
    index = build_index(big, vocabulary)
    assert index.text is not None
    for query in ("dementia", "stroud", "weekly", "friendly", "singing", "memory", "choir"):
        fast = search_scores(index, index.text, query)
        plain = search_scores_plain(index, big, query)
        assert np.array_equal(fast > 0, plain > 0), query
        strong = fast >= SCORE_STRONG
        assert np.array_equal(strong, plain >= SCORE_STRONG), query


# ---------------------------------------------------------------------------------------------
# The app: the sidebar says what a search found, or what it may have meant


from tests.test_app import _app_env, app_data, matching, open_app  # noqa: E402, F401


def test_sidebar_suggests_terms_when_a_search_finds_nothing() -> None:
    at = open_app(q="demenshiaa")
    assert "0** of" in matching(at) and "Did you mean" in matching(at)
    assert "Dementia" in matching(at)
    at = open_app(q="dementia")
    assert "Did you mean" not in matching(at)


def test_directory_shows_relevance_best_first() -> None:
    at = open_app("pages/directory.py", q="choir")
    grid = at.dataframe[0].value
    assert "relevance" in grid.columns
    assert list(grid["relevance"]) == sorted(grid["relevance"], reverse=True)


def test_yes_only_filters_in_the_sidebar() -> None:
    at = open_app(free="1")
    assert "0** of" in matching(at)  # the test records state no cost: none is free
    assert at.query_params["free"] == "1"  # written back as it came
