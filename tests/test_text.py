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
from aop_map.text import md_escape, md_link, normalise
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


# Markdown: user text shown literally


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("plain words", "plain words"),
        ("*bold*", "\\*bold\\*"),
        ("[x](javascript:alert(1))", "\\[x\\]\\(javascript\\:alert\\(1\\)\\)"),
        ("![img](http://e.org/i.png)", "\\!\\[img\\]\\(http\\://e\\.org/i\\.png\\)"),
        ("<img src=x onerror=alert(1)>", "\\<img src\\=x onerror\\=alert\\(1\\)\\>"),
        (":red[alert] $x^2$", "\\:red\\[alert\\] \\$x\\^2\\$"),
        ("# heading\n- item", "\\# heading \\- item"),
        ("a_b `code` ~~s~~ | t", "a\\_b \\`code\\` \\~\\~s\\~\\~ \\| t"),
        ("&lt;b&gt;", "\\&lt;b\\&gt;"),
        (None, ""),
    ],
)
def test_md_escape(text: str | None, escaped: str) -> None:
    assert md_escape(text) == escaped


@pytest.mark.parametrize(
    ("text", "url", "expected"),
    [
        ("Report", "https://example.org/a(b)", "[Report](https://example.org/a%28b%29)"),
        ("Report", "javascript:alert(1)", "Report"),
        ("[x]", None, "\\[x\\]"),
        ("Report", 'https://e.org/x)"<y', "Report"),
    ],
)
def test_md_link(text: str, url: str | None, expected: str) -> None:
    assert md_link(text, url) == expected
