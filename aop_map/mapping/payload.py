"""Records -> the compact JSON payload the browser builds markers from: plain data, no drawing
and no escaping (``safe_json`` escapes it where it enters the page).

Records reach the browser as one compact JSON payload -- per point ``[lat, lon, status,
record]``, per record ``[id, name, art forms, conditions, areas]`` as indices into label
tables sent once -- from which a little JavaScript builds clustered circle markers, popups
and the energy (heat) layer. One ``folium.Marker`` with an HTML popup per record costs ~1 KB
of HTML and ~1 ms of Python each; this costs <100 bytes and microseconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from aop_map import review
from aop_map.mapping.style import COORD_DECIMALS, STATUS_ORDER
from aop_map.records import ended_text
from aop_map.vocabulary import Vocabulary

LABELS = {"a": "art_forms", "c": "conditions", "d": "areas_served"}


def located_rows(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows with a usable point (in EPSG:4326), as a new frame."""
    if not len(frame):
        return frame
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    geometry = frame.geometry
    keep = geometry.notna().to_numpy() & ~geometry.is_empty.to_numpy()
    return frame[keep]


def _term_indices(values: pd.Series, vocabulary: Vocabulary, field: str) -> list[list[int]]:
    """Each cell's term ids as positions in the field's label table (unknown ids dropped)."""
    position = {t.id: i for i, t in enumerate(vocabulary.terms(field))}
    cache: dict[Any, list[int]] = {}
    out = []
    for value in values:
        key = value if isinstance(value, tuple) else tuple(value or ())
        if key not in cache:
            cache[key] = [position[t] for t in key if t in position]
        out.append(cache[key])
    return out


def spatial_order(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Positions that sort points south to north (west to east within a latitude).

    Leaflet.markercluster clusters points one at a time, looking each up in a grid of cells
    per zoom level. In spatial order, consecutive points read the same cells, still in the
    CPU's caches: at 100,000 points its grid lookups (`getNearObject`) took 0.45 s instead of
    2.0 s, and the map showed its clusters in 4.9 s instead of 7.6 s (bench, browser stage).
    """
    return np.lexsort((lon, lat))


def _status_codes(values: pd.Series) -> np.ndarray:
    """Each status as its place in STATUS_ORDER (an unknown one as established's)."""
    array = values.to_numpy(dtype=object)
    codes = np.zeros(len(array), dtype=int)
    for code, status in enumerate(STATUS_ORDER[1:], start=1):
        codes[array == status] = code
    return codes


def record_notes(first: pd.DataFrame, today: dt.date | None = None) -> list[str]:
    """Per row (one per record): "ended 2019", "may be out of date" (not verified within
    AOP_MAP_REVIEW_MONTHS of `today`), or ""."""
    today = today or dt.date.today()
    months = review.review_months()
    ended = first["ended"] if "ended" in first else pd.Series([None] * len(first))
    out = []
    for row, end in zip(first.itertuples(index=False), ended, strict=True):
        note = ended_text(row.status, end)
        if not note and review.is_out_of_date(row, today, months):
            note = review.OUT_OF_DATE
        out.append(note)
    return out


def compact_payload(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary, today: dt.date | None = None
) -> dict[str, Any]:
    """What the browser needs for the first view, and nothing more.

    ``p``: one ``[lat, lon, status (its place in STATUS_ORDER), record]`` per located row,
    ordered south to north (see ``spatial_order``); ``r``: one ``[id, name, art forms,
    conditions, areas, note]`` per record, terms as indices into ``l``, the label tables
    (``a``, ``c``, ``d``), the note "ended 2019", "may be out of date" (``review``, counted
    from `today`) or ""; ``s``: the status labels.
    """
    located = located_rows(frame)
    labels = {key: [t.label for t in vocabulary.terms(f)] for key, f in LABELS.items()}
    status_labels = [vocabulary.label("status", s) for s in STATUS_ORDER]
    if not len(located):
        return {"p": [], "r": [], "l": labels, "s": status_labels}
    codes, _ = pd.factorize(located["record_id"].to_numpy(dtype=object))
    first = located.drop_duplicates("record_id", keep="first")
    columns = [_term_indices(first[f], vocabulary, f) for f in LABELS.values()]
    names = ["" if not isinstance(n, str) else n for n in first["name"]]
    notes = record_notes(first, today)
    records = [
        [str(rid), name, *terms, note]
        for rid, name, note, *terms in zip(first["record_id"], names, notes, *columns, strict=True)
    ]
    lat = np.round(located.geometry.y.to_numpy(dtype=float), COORD_DECIMALS)
    lon = np.round(located.geometry.x.to_numpy(dtype=float), COORD_DECIMALS)
    status = _status_codes(located["status"])
    order = spatial_order(lat, lon)
    points = [
        list(row)
        for row in zip(
            lat[order].tolist(),
            lon[order].tolist(),
            status[order].tolist(),
            codes[order].tolist(),
            strict=True,
        )
    ]
    return {"p": points, "r": records, "l": labels, "s": status_labels}
