"""Controlled terms (conditions, art forms, ...) and synonym normalisation; reads only its YAML.

Every controlled field of a record (a field of ``aop_map.fields`` with a ``section``) maps to
one section of ``mapdata/vocabulary.yaml``. A term has an id (used in records, URLs and
exports), a label, a short description and synonyms. Matching ignores case, spacing,
hyphens/underscores/slashes and "&" vs "and", so "Creative-Writing", "creative writing" and
"CREATIVE_WRITING" are one term.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from aop_map import fields
from aop_map.reading import FileRefused, read_yaml_file
from aop_map.text import normalise


def __getattr__(name: str) -> Any:
    """The registry's answers under their former names, read when asked (never frozen here).

    FIELD_SECTIONS (field -> section), CONTROLLED_FIELDS and LIST_FIELDS now come from
    ``aop_map.fields``; new code asks it directly.
    """
    if name == "FIELD_SECTIONS":
        return dict(fields.sections())
    if name == "CONTROLLED_FIELDS":
        return frozenset(fields.sections())
    if name == "LIST_FIELDS":
        return tuple(f.name for f in fields.controlled() if f.many)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Suggestions below this rapidfuzz WRatio score are noise rather than help.
SUGGESTION_CUTOFF = 70
# Suggestions much weaker than the best one only distract.
SUGGESTION_SPREAD = 8
# Distinct spellings remembered per vocabulary section by Vocabulary.find.
FIND_MEMO_SIZE = 4096
# Longest unknown term quoted in its problem: a typo shows whole, a pasted paragraph does not.
MAX_QUOTED = 60


def normalise_key(text: str) -> str:
    """The matching key of a term: text.normalise ("Arts & Crafts" -> "arts and crafts")."""
    return normalise(text)


@dataclass(frozen=True)
class Term:
    """One controlled term."""

    id: str
    label: str
    description: str = ""
    synonyms: tuple[str, ...] = ()
    code: str | None = None  # e.g. the ONS GSS code of a district


class VocabularyError(ValueError):
    """A vocabulary file that cannot be used: missing, a link, not YAML, or not a vocabulary.

    The message is plain and names the file, never its folder: the app may show it to
    visitors (the full path is in ``path``, for logs).
    """

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.reason = reason
        self.line = line
        where = f" (line {line})" if line else ""
        super().__init__(f"{self.path.name}: {reason}{where}")


class UnknownTermError(ValueError):
    """A value that matches no term of a field; carries the closest terms as suggestions."""

    def __init__(self, field: str, value: str, suggestions: list[str]) -> None:
        self.field = field
        self.value = value
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        shown = value if len(value) <= MAX_QUOTED else value[: MAX_QUOTED - 1] + "…"
        super().__init__(f"unknown {field.replace('_', ' ')} term {shown!r}{hint}")


@dataclass
class Vocabulary:
    """All controlled terms by section, with a lookup from every spelling to a term id."""

    sections: dict[str, dict[str, Term]]
    _lookup: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _found: dict[str, dict[str, str | None]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for section, terms in self.sections.items():
            keys: dict[str, str] = {}
            for term in terms.values():
                for spelling in (term.id, term.label, *term.synonyms):
                    keys.setdefault(normalise_key(spelling), term.id)
            self._lookup[section] = keys

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        """Build from the parsed YAML shape: {section: [{id, label, description, synonyms}]}.

        Raises ValueError saying what is wrong with the shape.
        """
        if not isinstance(data, dict):
            raise ValueError(
                "expected sections (a mapping such as 'conditions: [...]'), got "
                f"{type(data).__name__}"
            )
        sections: dict[str, dict[str, Term]] = {}
        for section, entries in data.items():
            if not isinstance(entries, list | None):
                raise ValueError(f"section {str(section)[:40]!r} is not a list of terms")
            terms: dict[str, Term] = {}
            for entry in entries or []:
                term = _term(section, entry)
                if term.id in terms:
                    raise ValueError(f"vocabulary section {section!r}: duplicate id {term.id!r}")
                terms[term.id] = term
            sections[str(section)] = terms
        missing = set(fields.sections().values()) - set(sections)
        if missing:
            raise ValueError(f"vocabulary has no section(s): {', '.join(sorted(missing))}")
        return cls(sections)

    @classmethod
    def load(cls, path: str | Path) -> Vocabulary:
        """Read a vocabulary YAML file, within the limits of every data file.

        Raises :class:`VocabularyError` naming the file and saying what is wrong: missing or
        unreadable, a link, too big or too deep, UTF-16, not YAML, or not a vocabulary.
        """
        try:
            documents = read_yaml_file(path)
        except FileRefused as error:
            raise VocabularyError(path, error.reason, error.line) from None
        except FileNotFoundError:
            raise VocabularyError(path, "the file is missing") from None
        except OSError as error:
            raise VocabularyError(path, f"cannot be read: {error.strerror or 'error'}") from None
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
            reason = getattr(error, "problem", None) or "not valid YAML"
            raise VocabularyError(
                path,
                f"not valid YAML: {str(reason)[:200]}",
                mark.line + 1 if mark is not None else None,
            ) from None
        if len(documents) != 1:
            raise VocabularyError(path, f"expected one YAML document, found {len(documents)}")
        try:
            return cls.from_dict(documents[0])
        except ValueError as error:
            raise VocabularyError(path, str(error)) from None

    def section(self, field_name: str) -> str:
        """The vocabulary section of a record field (or a section name itself)."""
        return fields.sections().get(field_name, field_name)

    def terms(self, field_name: str) -> list[Term]:
        """The terms of a field, in vocabulary order."""
        return list(self.sections[self.section(field_name)].values())

    def term(self, field_name: str, term_id: str) -> Term | None:
        """One term by id, or None."""
        return self.sections[self.section(field_name)].get(term_id)

    def label(self, field_name: str, term_id: str) -> str:
        """A term's label; an unknown id is returned as it is."""
        term = self.term(field_name, term_id)
        return term.label if term else term_id

    def labels(self, field_name: str, term_ids: Iterable[str]) -> list[str]:
        """Labels of several term ids, in the order given."""
        return [self.label(field_name, t) for t in term_ids]

    def find(self, field_name: str, value: str) -> str | None:
        """The term id a spelling means, or None."""
        section = self.section(field_name)
        memo = self._found.get(section)
        if memo is None:
            memo = self._found[section] = {}
        try:
            return memo[value]
        except KeyError:
            pass
        found = self._lookup[section].get(normalise_key(value))
        if len(memo) < FIND_MEMO_SIZE:  # records repeat a few spellings thousands of times
            memo[value] = found
        return found

    def fingerprint(self) -> str:
        """A digest of every term and spelling: caches of validated records are keyed on it."""
        digest = hashlib.sha1()
        for section, terms in sorted(self.sections.items()):
            for term in terms.values():
                digest.update(repr((section, term)).encode())
        return digest.hexdigest()

    def normalise(self, field_name: str, value: str) -> str:
        """The term id a spelling means; raises UnknownTermError with suggestions."""
        found = self.find(field_name, value)
        if found is None:
            raise UnknownTermError(field_name, value, self.suggest(field_name, value))
        return found

    def suggest(self, field_name: str, value: str, limit: int = 3) -> list[str]:
        """The closest term ids to a misspelling, best first."""
        keys = self._lookup[self.section(field_name)]
        matches = process.extract(
            normalise_key(value),
            list(keys),
            scorer=fuzz.WRatio,
            limit=limit * 3,
            score_cutoff=SUGGESTION_CUTOFF,
        )
        out: list[str] = []
        best = matches[0][1] if matches else 0
        for key, score, _ in matches:
            if score >= best - SUGGESTION_SPREAD and keys[key] not in out:
                out.append(keys[key])
        return out[:limit]

    def district_by_code(self, code: str) -> Term | None:
        """The area term of an ONS district code (E07000078...), or None."""
        for term in self.sections["areas"].values():
            if term.code == code:
                return term
        return None


def _term(section: Any, entry: Any) -> Term:
    """One term of a section from its YAML mapping; ValueError saying what is missing."""
    if not isinstance(entry, dict) or entry.get("id") in (None, ""):
        raise ValueError(f"section {str(section)[:40]!r}: every term needs an id")
    synonyms = entry.get("synonyms") or ()
    if not isinstance(synonyms, list | tuple):
        raise ValueError(
            f"section {str(section)[:40]!r}: the synonyms of {entry['id']!r} are not a list"
        )
    code = entry.get("code")
    return Term(
        id=str(entry["id"]),
        label=str(entry.get("label") or entry["id"]),
        description=str(entry.get("description") or ""),
        synonyms=tuple(str(s) for s in synonyms),
        code=None if code is None else str(code),
    )
