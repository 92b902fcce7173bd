"""A Selection applied to a frame: row masks, filter_frame, facet counts; never mutates it."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd

from aop_map.filtering.index import FilterIndex, build_index
from aop_map.filtering.search import RELEVANCE, search_scores
from aop_map.filtering.selection import (
    COUNTYWIDE,
    DISTRICT,
    PAST_STATUS,
    SCOPE_UK,
    STATUS,
    Selection,
    facet_of,
)
from aop_map.filtering.text_index import build_search_index, fold_words
from aop_map.geocoding import haversine_km
from aop_map.vocabulary import Vocabulary


def lifecycle_mask(index: FilterIndex, selection: Selection, skip: str | None = None) -> np.ndarray:
    """(rows,) bool: the rows in view at all, before any filter (issue 12).

    Ended activity is history: hidden unless ``include_past``, or ``ended`` is a chosen status,
    or the status facet itself is being counted (``skip="status"``: its "Ended" option counts
    what choosing it would show). Examples elsewhere in the UK are kept apart: hidden unless
    ``scope="uk"``, so a gap in the Cotswolds is never filled by a London project.
    """
    keep = np.ones(index.length, dtype=bool)
    chosen = dict(selection.chosen).get(STATUS, ()) if skip != STATUS else ()
    if not (selection.include_past or skip == STATUS or PAST_STATUS in chosen):
        keep &= ~index.past
    if selection.scope != SCOPE_UK:
        keep &= ~index.elsewhere
    return keep


def _index_for(
    frame: pd.DataFrame, vocabulary: Vocabulary, index: FilterIndex | None
) -> FilterIndex:
    """The given index after a cheap check that it belongs to the frame, or a new one."""
    if index is None:
        return build_index(frame, vocabulary, search=False)
    first = str(frame["record_id"].iloc[0]) if len(frame) else None
    if index.length != len(frame) or index.first_record_id != first:
        raise ValueError("this FilterIndex was built for another frame; rebuild it")
    return index


def facet_matrix(index: FilterIndex, facet: str, *, countywide: bool = True) -> np.ndarray:
    """(rows, terms) bool: does each row count for each term of a facet.

    For ``district`` that is: located in it, or its record serves it (or, with
    ``countywide``, serves the whole county).
    """
    facet = facet_of(facet)
    matrix = index.matrices[facet]
    if facet != DISTRICT:
        return matrix
    combined = matrix | index.located
    if countywide and COUNTYWIDE in index.term_ids[facet]:
        served = matrix[:, index.term_ids[facet].index(COUNTYWIDE)]
        combined |= served[:, None]
    return combined


def _term_mask(
    index: FilterIndex, facet: str, terms: tuple[str, ...], countywide: bool
) -> np.ndarray:
    """Rows counting for any of the terms (OR within a field)."""
    columns = index.positions(facet, terms)
    mask = np.zeros(index.length, dtype=bool)
    for column in columns:
        mask |= index.matrices[facet][:, column]
        if facet == DISTRICT:
            mask |= index.located[:, column]
    if facet == DISTRICT and countywide and columns and COUNTYWIDE in index.term_ids[facet]:
        mask |= index.matrices[facet][:, index.term_ids[facet].index(COUNTYWIDE)]
    return mask


def _radius_mask(
    index: FilterIndex, origin: tuple[float, float], radius_km: float | None, within: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of `within` inside the radius (none without a point) and their distances (else NaN).

    A bounding box first cuts the haversine work to the few rows that could be inside.
    """
    candidates = within.copy()
    if radius_km is not None:
        lat0 = origin[0]
        dlat = math.degrees(radius_km / 6371.0088) * 1.001
        dlon = dlat / max(math.cos(math.radians(min(abs(lat0) + dlat, 89.9))), 1e-6)
        with np.errstate(invalid="ignore"):
            candidates &= np.abs(index.lat - lat0) <= dlat
            candidates &= np.abs((index.lon - origin[1] + 180) % 360 - 180) <= dlon
    rows = np.flatnonzero(candidates)
    distances = np.full(index.length, np.nan)
    distances[rows] = haversine_km(origin[0], origin[1], index.lat[rows], index.lon[rows])
    if radius_km is None:
        return within, distances
    with np.errstate(invalid="ignore"):
        return within & (distances <= radius_km), distances  # NaN compares False


def selection_mask(
    index: FilterIndex,
    selection: Selection,
    *,
    origin: tuple[float, float] | None = None,
    skip: str | None = None,
    countywide: bool = True,
    frame: pd.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows matching a selection (minus the `skip` field, for facet counts), and distances.

    Distances (km, NaN for rows without a point or not needed) come only with an `origin`;
    the radius applies only with both an origin and ``selection.radius_km``.
    """
    mask, distances, _ = _select(
        index, selection, origin=origin, skip=skip, countywide=countywide, frame=frame
    )
    return mask, distances


def _select(
    index: FilterIndex,
    selection: Selection,
    *,
    origin: tuple[float, float] | None = None,
    skip: str | None = None,
    countywide: bool = True,
    frame: pd.DataFrame | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """selection_mask's answer, and the search relevance of each row when there is a query."""
    mask = lifecycle_mask(index, selection, skip)
    for name, terms in selection.chosen:
        if name != skip:
            mask &= _term_mask(index, name, terms, countywide)
    scores = None
    if selection.q.strip() and skip != "q" and fold_words(selection.q):
        search = index.text
        if search is None and frame is not None and len(frame):
            search = build_search_index(frame, index.labels)
        if search is not None:
            scores = search_scores(index, search, selection.q)
            mask &= scores > 0
    if origin is None:
        return mask, None, scores
    return (*_radius_mask(index, origin, selection.radius_km, mask), scores)


def filter_frame(
    frame: gpd.GeoDataFrame,
    selection: Selection,
    vocabulary: Vocabulary,
    *,
    origin: tuple[float, float] | None = None,
    index: FilterIndex | None = None,
    countywide: bool = True,
) -> gpd.GeoDataFrame:
    """The rows matching a selection, as a new frame (the input is never changed).

    With a query (``selection.q``) the result gains ``relevance`` (see search_scores) and
    is sorted most relevant first; with `origin` (lat, lon) it gains ``distance_km`` and is
    sorted nearest first instead (rows without a point last); with ``selection.radius_km``
    too, only rows within the radius remain, so rows without a point drop out. Pass the
    caller's cached `index` (from ``build_index(frame, vocabulary)``) to skip rebuilding it.
    """
    index = _index_for(frame, vocabulary, index)
    mask, distances, scores = _select(
        index, selection, origin=origin, countywide=countywide, frame=frame
    )
    rows = np.flatnonzero(mask)
    if distances is not None:
        rows = rows[np.argsort(distances[rows], kind="stable")]
    elif scores is not None:
        rows = rows[np.argsort(-scores[rows], kind="stable")]
    result = frame.take(rows)
    # A new frame: the input keeps its columns.
    if distances is not None:
        result["distance_km"] = distances[rows]
    if scores is not None:
        result[RELEVANCE] = np.round(scores[rows].astype(float), 2)
    return result


def count_records(frame: pd.DataFrame) -> int:
    """Distinct records in a frame (a record may have several location rows)."""
    return int(frame["record_id"].nunique()) if len(frame) else 0


def _distinct_counts(index: FilterIndex, matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each column of `matrix`, the distinct records among `rows` with that column set."""
    hit_rows, hit_cols = np.nonzero(matrix[rows])
    seen = np.zeros((index.n_records, matrix.shape[1]), dtype=bool)
    seen[index.record_codes[rows][hit_rows], hit_cols] = True
    return seen.sum(axis=0)


def count_options(
    frame: pd.DataFrame,
    selection: Selection,
    vocabulary: Vocabulary,
    field: str,
    *,
    origin: tuple[float, float] | None = None,
    index: FilterIndex | None = None,
    countywide: bool = True,
) -> dict[str, int]:
    """Facet counts: distinct records per option of `field` for the current selection, with
    that field's own filter left out (so choosing one option still shows the others' counts).

    `field` is a filter name (``condition``), a column (``conditions``) or ``kind``. Every
    term of the field is a key, zeros included, in vocabulary order.
    """
    facet = facet_of(field)
    index = _index_for(frame, vocabulary, index)
    mask, _ = selection_mask(
        index, selection, origin=origin, skip=facet, countywide=countywide, frame=frame
    )
    matrix = facet_matrix(index, facet, countywide=countywide)
    counts = _distinct_counts(index, matrix, np.flatnonzero(mask))
    return dict(zip(index.term_ids[facet], counts.tolist(), strict=True))


def counts_by(
    frame: pd.DataFrame, vocabulary: Vocabulary, field: str, *, countywide: bool = True
) -> pd.Series:
    """Distinct records per term of a field (``district``, ``status``, ``kind``...), zeros
    included. District counts include countywide providers unless ``countywide=False``."""
    counts = count_options(frame, Selection(), vocabulary, field, countywide=countywide)
    series = pd.Series(counts, name="records", dtype=int)
    series.index.name = facet_of(field)
    return series
