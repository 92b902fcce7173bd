"""FilterIndex: everything a selection needs, built once per frame; builds, never selects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from aop_map import fields
from aop_map.filtering.selection import DISTRICT, ELSEWHERE, PAST_STATUS, STATUS
from aop_map.filtering.terms import bool_matrix, list_matrix, value_matrix
from aop_map.filtering.text_index import Concepts, SearchIndex, build_concepts, build_search_index
from aop_map.vocabulary import Vocabulary


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
            bool_matrix if spec.datatype == "bool" else list_matrix if spec.many else value_matrix
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
