"""Text made comparable (the one normaliser) and user text made safe for where it goes: a
terminal, a JSON document, a spreadsheet. No I/O.

User text is data, never code: an escape sequence in a provider's name must not clear a
moderator's terminal, and a name beginning ``=`` must not run as a formula in a spreadsheet.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

# ---------------------------------------------------------------------------------------------
# The one normaliser: vocabulary terms, search words, place names, CSV headers and record ids
# are all compared (or made) in this form, so "Café & Crafts", "cafe and crafts" and
# "CAFE-AND-CRAFTS" are one spelling everywhere.

# Unicode's combining-mark blocks: what NFKD splits accents into ("é" -> "e" + U+0301).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Letters NFKD keeps whole, spelt as an English keyboard would ("Ærø" -> "aero").
_LETTERS = str.maketrans(
    {"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"}
)
# An apostrophe joins ("Lucy's" is one word, "lucys"); '&' is the word "and".
_JOINERS = str.maketrans({"'": None, "\u2019": None, "&": " and "})
# A word: a run of letters and digits (underscore is punctuation here).
WORD = re.compile(r"[^\W_]+")


def fold(text: str) -> str:
    """The character step of ``normalise``: case-folded, accents removed, apostrophes dropped,
    '&' spelt "and"; other punctuation and spacing kept (so a large corpus can be folded once
    and split into ``WORD``s in one pass, line breaks and all)."""
    text = text.casefold()
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).translate(_LETTERS)
    return text.translate(_JOINERS)


def normalise(text: str, separator: str = " ", *, ascii_only: bool = False) -> str:
    """The matching form of a text: its ``fold``ed words joined by ``separator``.

    "Café & Crafts" -> "cafe and crafts"; "Alzheimer's" -> "alzheimers"; "  a__b--c " ->
    "a b c". ``ascii_only`` drops letters with no ASCII spelling (ids and URL slugs).
    """
    folded = fold(text)
    if ascii_only and not folded.isascii():
        folded = folded.encode("ascii", "ignore").decode()
    return separator.join(WORD.findall(folded))


# Characters a terminal may act on rather than show: C0 and C1 controls and DEL (escape
# sequences, bell, carriage return...), line and paragraph separators, the bidirectional
# overrides and isolates that reorder what is shown ("Trojan Source"), and lone surrogates
# (undecodable file names), which cannot even be written to a UTF-8 stream.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_TERMINAL_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
# json.dumps already escapes C0 controls inside strings; with ensure_ascii=False it leaves
# these as they are. JSON output never has them outside a string, so escaping is lossless.
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# A spreadsheet reads a cell beginning with one of these as a formula (OWASP, "CSV
# injection"); a leading apostrophe makes it text, and the apostrophe itself is not shown.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal_safe(text: object) -> str:
    """``text`` as one line a terminal shows literally: every control character, newline,
    bidirectional override or lone surrogate becomes a visible escape such as ``\\x1b``."""
    return _TERMINAL_UNSAFE.sub(_escape, str(text))


def json_terminal_safe(text: str) -> str:
    """JSON text (from ``json.dumps``) with the characters a terminal acts on as ``\\uXXXX``.

    Still the same JSON: those characters can only appear inside strings, where an escape
    means the same character.
    """
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def spreadsheet_safe(value: object) -> object:
    """A string a spreadsheet would run as a formula gets a leading ``'``; anything else
    (numbers, including negative ones, dates, missing values) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def table_to_csv(table: pd.DataFrame) -> str:
    """CSV text of a table for download or export, with formula-like text cells neutralised.

    Only text cells change: numeric columns (a negative longitude) are numbers, not formulas.
    The table itself is not changed.
    """
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(spreadsheet_safe)
    return safe.to_csv(index=False)


# ---------------------------------------------------------------------------------------------
# Markdown: st.markdown, st.title, st.info, widget and link labels all render it, so a record
# named "[x](javascript:...)" must reach them escaped, to show as text rather than a link.

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'^])")
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)


def md_escape(text: object) -> str:
    """User text that Markdown shows literally: no links, images, emphasis, HTML or LaTeX.

    Every ASCII punctuation character that Markdown, GitHub extensions or Streamlit's own
    directives (`:red[...]`, `:material/icon:`, `$math$`) give a meaning is backslash-escaped;
    line breaks become spaces so text cannot start a heading, list or table of its own.
    """
    flat = " ".join(str(text if text is not None else "").split())
    return _MARKDOWN_SPECIALS.sub(r"\\\1", flat)


def md_link(text: object, url: str | None) -> str:
    """A Markdown link to an http(s) address, or the escaped text alone for anything else."""
    label = md_escape(text)
    if not url or not _SAFE_URL.match(url):
        return label
    target = url.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{label}]({target})"
