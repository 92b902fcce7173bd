"""Records per pair of facet terms, and gaps per district; no filter applied but the lifecycle."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aop_map.filtering.apply import count_options, facet_matrix, lifecycle_mask
from aop_map.filtering.index import FilterIndex, build_index
from aop_map.filtering.selection import Selection, facet_of
from aop_map.vocabulary import Vocabulary


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
    row_facet, col_facet = facet_of(rows), facet_of(cols)
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
