"""Word indexes of frame text and vocabulary, and word-matching rules; no relevance, no filters."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from aop_map import fields
from aop_map.filtering.terms import factorize_terms
from aop_map.text import fold as fold_text
from aop_map.text import normalise
from aop_map.vocabulary import Vocabulary

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
# Where a query word is found: a record's name, organisation, places and tags say what it *is*;
# its summary and description may only mention a word in passing (search.SCORE_STRONG, SCORE_WEAK).
STRONG_COLUMNS = ("name", "organisation", "location_label", "place", "district_name")
WEAK_COLUMNS = ("summary", "description")


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


def _joined(frame: pd.DataFrame, columns: Iterable[str]) -> np.ndarray:
    parts = [frame[c].fillna("").astype(str) for c in columns if c in frame]
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


def _text_index(texts: np.ndarray) -> TextIndex:
    """The word index of one text per row.

    Rows of one record share their text, and texts share words, so everything is factorised
    first: each distinct text is folded once, each distinct word is matched once per query.
    """
    row_text, uniques = pd.factorize(texts)
    return _distinct_text_index(list(uniques), row_text)


def _distinct_text_index(uniques: list[str], row_text: np.ndarray) -> TextIndex:
    """The word index of some distinct texts, given the text number of each row."""
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


def typo_cutoff(word: str) -> float:
    """The rapidfuzz ratio a typo of `word` reaches (see typo_words)."""
    edits = 1 if len(word) < TWO_TYPOS_FROM else 2
    # Half a point of slack: cdist compares in float32, and the next score down is far lower.
    return 100.0 * (len(word) - edits) / len(word) - 0.5


def exact_words(index: TextIndex, word: str) -> np.ndarray:
    """Words starting with `word`, or (for longer query words) containing it."""
    if len(word) >= MIN_INFIX_WORD:
        hits = [m.start() for m in re.finditer(re.escape(word), index.joined)]
        return np.unique(np.searchsorted(index.offsets, hits, side="right") - 1)
    lo = int(np.searchsorted(index.sorted_words, word, side="left"))
    hi = int(np.searchsorted(index.sorted_words, word + "\U0010ffff", side="left"))
    return np.arange(lo, hi)


def typo_words(index: TextIndex, word: str) -> np.ndarray:
    """Words within one typo of `word` (two from 8 letters), whole or as the start of a longer one.

    rapidfuzz's ratio is 100 * (1 - edits / length) for `edits` substitutions, so the cut-off
    allows that many wrong, missing, extra or swapped letters ("singng", "artlfit"). From
    MIN_PARTIAL_TYPO letters, a typo is also looked for at the start of longer words
    ("paintng" in "paintings"); never in their middle, where a typo of any six letters finds
    nonsense ("sining" is one letter from "ssioning", inside "commissioning"). A short word is
    never matched inside the query ("art" is no typo of "artlfit"): only longer words are
    compared.
    """
    cutoff = typo_cutoff(word)
    whole = process.cdist([word], index.words, scorer=fuzz.ratio, score_cutoff=cutoff)[0]
    found = set(np.flatnonzero(whole).tolist())
    longer = np.flatnonzero(index.lengths > len(word))
    if len(longer) and len(word) >= MIN_PARTIAL_TYPO:
        for size in (len(word), len(word) + 1):  # a letter missing or wrong; one extra
            starts = [index.words[i][:size] for i in longer]
            part = process.cdist([word], starts, scorer=fuzz.ratio, score_cutoff=cutoff)
            found |= set(longer[np.flatnonzero(part[0])].tolist())
    return np.array(sorted(found), dtype=np.int64)


def text_hits(index: TextIndex, matched: np.ndarray) -> np.ndarray:
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


def same_words(index: TextIndex, words: list[str]) -> np.ndarray:
    """The numbers of those of `words` that are words of `index`."""
    if not words or not index.words:
        return np.zeros(0, dtype=np.int64)
    at = np.searchsorted(index.sorted_words, np.asarray(words, dtype=str))
    at = np.minimum(at, len(index.words) - 1)
    return np.unique(at[index.sorted_words[at] == np.asarray(words, dtype=str)])


def whole_words(index: TextIndex, word: str) -> np.ndarray:
    """The word itself and its plurals ("pain", "pains"; never "painting")."""
    found = [
        int(i)
        for form in (word, word + "s", word + "es")
        if (i := int(np.searchsorted(index.sorted_words, form))) < len(index.words)
        and index.words[i] == form
    ]
    return np.array(sorted(found), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class SearchIndex:
    """The words of each row, in two strengths: strong (`strong`: name, organisation, places;
    `tags`: tag labels) and `weak` (summary, description)."""

    strong: TextIndex  # name, organisation, places
    # The tag labels, strong too: one index per list facet over its distinct term lists
    # (100,000 synthetic rows hold ~9,500 distinct condition lists, ~2,700 art form lists).
    # Folded into every row's strong text instead, they made 2.7 million word-row pairs
    # where the text alone has 0.65 million, and build_index took 2.8 s rather than 1.7 s.
    tags: tuple[TextIndex, ...]
    weak: TextIndex
    both: TextIndex  # every word of any (texts unused): typos are looked for once, here

    def strong_words(self) -> list[str]:
        """Every word of the strong text and the tag labels, alphabetically."""
        return sorted(set(self.strong.words).union(*(t.words for t in self.tags)))


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


def build_search_index(
    frame: pd.DataFrame, labels: Mapping[str, Mapping[str, str]] | None = None
) -> SearchIndex:
    """The strong and weak words of every row. `labels` (facet -> term id -> label) makes a
    row's tags strong words; without it, the ids are ("visual-arts": "visual arts")."""
    tags = tuple(
        _tag_index(frame[spec.column_name], (labels or {}).get(spec.facet, {}))
        for spec in fields.facets()
        if spec.many and spec.facet
    )
    strong_index = _text_index(_joined(frame, STRONG_COLUMNS))
    weak_index = _text_index(_joined(frame, WEAK_COLUMNS))
    both = sorted(set(weak_index.words).union(strong_index.words, *(t.words for t in tags)))
    return SearchIndex(
        strong=strong_index,
        tags=tags,
        weak=weak_index,
        both=_text_index(np.array(["\n".join(both)] if both else [""], dtype=object)),
    )


def _tag_index(values: pd.Series, names: Mapping[str, str]) -> TextIndex:
    """The word index of a list facet's tags: each distinct term list's labels (a term with
    no label by its id's words) as one text; a row without terms has the empty text."""
    codes, uniques = factorize_terms(values)
    texts = [" ".join(names.get(t) or t.replace("-", " ") for t in u) for u in uniques]
    return _distinct_text_index([*texts, ""], np.where(codes < 0, len(texts), codes))
