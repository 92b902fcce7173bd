"""The one normaliser (text.normalise) and the callers that read through it.

Vocabulary keys, search words, place keys, CSV headers and record ids were five functions with
five slightly different ideas of "the same text"; this table is what each now agrees on.
"""

from __future__ import annotations

import pytest

from aop_map.filtering import fold, fold_words
from aop_map.geocoding import place_key
from aop_map.loading import normalise_header
from aop_map.records import slugify
from aop_map.text import fold as fold_text
from aop_map.text import normalise
from aop_map.vocabulary import normalise_key


@pytest.mark.parametrize(
    ("text", "separator", "ascii_only", "expected"),
    [
        ("Creative-Writing", " ", False, "creative writing"),
        ("Arts & Crafts", " ", False, "arts and crafts"),
        ("Arts&Crafts", " ", False, "arts and crafts"),
        ("  a__b--c ", " ", False, "a b c"),
        ("Alzheimer\u2019s", " ", False, "alzheimers"),
        ("Lucy's Studio", " ", False, "lucys studio"),
        ("Café Créatif", " ", False, "cafe creatif"),
        ("STRASSE straße", " ", False, "strasse strasse"),
        ("Ærø Łódź naïve", " ", False, "aero lodz naive"),
        ("ﬁsh ①", " ", False, "fish 1"),  # compatibility forms: ligature, circled digit
        ('COPD (lung) / "breathing"', " ", False, "copd lung breathing"),
        ("  GL14 2AA ", " ", False, "gl14 2aa"),
        ("line\nbreak\ttab", " ", False, "line break tab"),
        ("Μουσική", " ", False, "μουσικη"),  # other scripts are letters too
        ("Μουσική", "-", True, ""),  # ...but an id keeps ASCII only
        ("Artlift & Friends", "-", True, "artlift-and-friends"),
        ("Art forms", "", False, "artforms"),
        ("", " ", False, ""),
        ("!!!", " ", False, ""),
    ],
)
def test_normalise(text: str, separator: str, ascii_only: bool, expected: str) -> None:
    assert normalise(text, separator, ascii_only=ascii_only) == expected


def test_fold_keeps_line_breaks_for_the_search_corpus() -> None:
    assert fold_text("Café & Co's\nNext") == "cafe  and  cos\nnext"


@pytest.mark.parametrize(
    "text", ["Arts & Crafts", "Alzheimer\u2019s disease", "Stow-on-the-Wold", "Café Ünïcode"]
)
def test_every_caller_agrees_with_the_normaliser(text: str) -> None:
    words = normalise(text)
    assert normalise_key(text) == words
    assert fold(text) == words and fold_words(text) == words.split()
    assert normalise_header(text) == words.replace(" ", "")
    assert slugify(text) == normalise(text, "-", ascii_only=True)
    assert place_key(text) == normalise(text, ascii_only=True)  # no "Saint", no leading "The"


@pytest.mark.parametrize(
    ("name", "key"),
    [("Saint Briavels", "st briavels"), ("The Pludds", "pludds"), ("St. Briavels", "st briavels")],
)
def test_place_key_adds_saint_and_the(name: str, key: str) -> None:
    assert place_key(name) == key
