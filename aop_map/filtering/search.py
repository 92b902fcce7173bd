"""Relevance of each row to a query, its plain twin, suggestions; scores rows, never filters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from aop_map import fields
from aop_map.filtering.index import FilterIndex
from aop_map.filtering.selection import COUNTYWIDE, DISTRICT, MAX_VALUES
from aop_map.filtering.text_index import (
    MIN_FUZZY_WORD,
    MIN_INFIX_WORD,
    STRONG_COLUMNS,
    WEAK_COLUMNS,
    Concepts,
    SearchIndex,
    TextIndex,
    exact_words,
    fold,
    fold_words,
    same_words,
    text_hits,
    typo_cutoff,
    typo_words,
    whole_words,
)

# What a query word is worth, by where it is found (text_index.STRONG_COLUMNS, WEAK_COLUMNS).
SCORE_STRONG = 3.0  # in the name, organisation, a place, or a tag (a vocabulary term)
SCORE_WEAK = 1.0  # in the summary or description only
SCORE_COUNTYWIDE = 1.0  # a place asked for, served by a countywide record
TYPO_FACTOR = 0.5  # a word found only through a typo counts half
# Suggestions for a search that finds nothing: how close a term must be (rapidfuzz ratio).
SUGGEST_CUTOFF = 60
MAX_SUGGESTIONS = 3

# The column filter_frame adds when there is a query: how well each row matches it.
RELEVANCE = "relevance"


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


def _typo_concepts(concepts: Concepts, word: str) -> list[str]:
    """Vocabulary keys within a typo of a word ("demensia" -> "dementia"); none for short
    words, where one letter changes the meaning."""
    if len(word) < MIN_FUZZY_WORD:
        return []
    found = process.extract(
        word, concepts.keys, scorer=fuzz.ratio, score_cutoff=typo_cutoff(word), limit=5
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


def _strong_hits(search: SearchIndex, match: Callable[[TextIndex], np.ndarray]) -> np.ndarray:
    """(rows,) bool: a word `match` finds in an index is in the row's strong text or among
    its tags' labels."""
    hits = text_hits(search.strong, match(search.strong))[search.strong.row_text]
    for tags in search.tags:
        matched = match(tags)
        if len(matched):  # most words are in no facet's labels: no pass over the rows
            hits |= text_hits(tags, matched)[tags.row_text]
    return hits


def _text_scores(
    search: SearchIndex, words: tuple[str, ...], typo: bool, whole: bool = False
) -> np.ndarray:
    """(rows,) SCORE_STRONG where every word is in the strong text, else SCORE_WEAK where
    every word is in the strong or weak text; typos only when `typo`; with `whole`, only
    whole words (and their plurals) rather than word starts and parts."""
    find = whole_words if whole else exact_words
    scores: np.ndarray | None = None
    for word in words:
        if typo and len(word) < MIN_FUZZY_WORD:
            return np.zeros(len(search.strong.row_text), dtype=np.float32)
        match: Callable[[TextIndex], np.ndarray]
        if typo:  # the typos of a word, found once among all words, then in each index
            match = partial(
                same_words, words=[search.both.words[i] for i in typo_words(search.both, word)]
            )
        else:
            match = partial(find, word=word)
        strong = _strong_hits(search, match)
        weak = text_hits(search.weak, match(search.weak))[search.weak.row_text]
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
        **{w: w for w in search.strong_words() if len(w) >= MIN_FUZZY_WORD},
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
