"""Pure GeoDataFrame -> selection functions, facet counts, coverage and exports; never mutates.

Filtering 100,000 rows must stay well under 50 ms, so membership of every list field is
precomputed once into boolean matrices (``FilterIndex``); a selection is then a few numpy
``any``/``&`` operations instead of a Python call per row.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from aop_map.geocoding import haversine_km
from aop_map.vocabulary import Vocabulary

# Selection attribute -> (frame column, URL parameter). Order is the URL's order.
FILTER_FIELDS: dict[str, str] = {
    "condition": "conditions",
    "art_form": "art_forms",
    "age_group": "age_groups",
    "district": "areas_served",
    "status": "status",
    "delivery": "delivery",
    "referral": "referral_routes",
    "model": "commissioning_models",
}
LIST_COLUMNS = ("conditions", "art_forms", "age_groups", "areas_served", "delivery",
                "referral_routes", "commissioning_models")
MAX_RADIUS_KM = 500.0
# rapidfuzz partial_ratio at or above this counts as the same word ("singng" ~ "singing").
TYPO_SCORE = 80
# Words this short must match exactly: a 3-letter typo match is mostly noise.
MIN_FUZZY_WORD = 4


@dataclass(frozen=True)
class Selection:
    """What the user chose: OR within a field, AND across fields."""

    condition: tuple[str, ...] = ()
    art_form: tuple[str, ...] = ()
    age_group: tuple[str, ...] = ()
    district: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    delivery: tuple[str, ...] = ()
    referral: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    q: str = ""
    near: str = ""
    radius_km: float | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing is selected."""
        return self == Selection()

    def terms(self, name: str) -> tuple[str, ...]:
        """The chosen term ids of one filter field."""
        return getattr(self, name)


# ---------------------------------------------------------------------------------------------
# URL parameters


def _values(raw: str | list[str] | None) -> list[str]:
    items = raw if isinstance(raw, list) else [raw] if raw else []
    return [part.strip() for item in items for part in str(item).split(",") if part.strip()]


def selection_from_params(
    params: Mapping[str, str | list[str]], vocabulary: Vocabulary
) -> tuple[Selection, list[str]]:
    """A selection from URL parameters, and notes about values that were ignored."""
    notes: list[str] = []
    chosen: dict[str, Any] = {}
    for name, column in FILTER_FIELDS.items():
        terms: list[str] = []
        section = "areas" if name == "district" else column
        for value in _values(params.get(name)):
            term = vocabulary.find(section, value)
            if term is None:
                notes.append(f"Ignored unknown {name.replace('_', ' ')} {value!r}")
            elif term not in terms:
                terms.append(term)
        chosen[name] = tuple(terms)
    chosen["q"] = _last(params.get("q"))[:200]
    chosen["near"] = _last(params.get("near"))[:100]
    chosen["radius_km"], note = _radius(params.get("radius_km"))
    if note:
        notes.append(note)
    return Selection(**chosen), notes


def _last(raw: str | list[str] | None) -> str:
    """A single-valued parameter: the last one given wins, as in most web frameworks."""
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    return (raw or "").strip()


def _radius(raw: str | list[str] | None) -> tuple[float | None, str | None]:
    values = _values(raw)
    if not values:
        return None, None
    try:
        radius = float(values[-1])
    except ValueError:
        return None, f"Ignored radius {values[-1]!r}: not a number"
    if not (0 < radius <= MAX_RADIUS_KM) or math.isnan(radius):
        return None, f"Ignored radius {values[-1]!r}: use a distance from 1 to 500 km"
    return radius, None


def selection_to_params(selection: Selection) -> dict[str, list[str] | str]:
    """URL parameters for a selection (only what is set, in a stable order)."""
    params: dict[str, list[str] | str] = {}
    for name in FILTER_FIELDS:
        if selection.terms(name):
            params[name] = list(selection.terms(name))
    if selection.q:
        params["q"] = selection.q
    if selection.near:
        params["near"] = selection.near
        if selection.radius_km:
            params["radius_km"] = f"{selection.radius_km:g}"
    return params


# ---------------------------------------------------------------------------------------------
# The index


def fold(text: str) -> str:
    """Lower case ASCII words: accents, case and punctuation don't matter for search."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


@dataclass
class FilterIndex:
    """Precomputed membership matrices and search text for one frame (build once, reuse)."""

    length: int
    members: dict[str, tuple[dict[str, int], np.ndarray]]
    status: np.ndarray
    district_codes: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    text: np.ndarray
    words: dict[str, np.ndarray] = field(default_factory=dict)

    def mask(self, column: str, terms: tuple[str, ...]) -> np.ndarray:
        """Rows having any of the terms in a list column."""
        positions, matrix = self.members[column]
        columns = [positions[t] for t in terms if t in positions]
        if not columns:
            return np.zeros(self.length, dtype=bool)
        return matrix[:, columns].any(axis=1)


def build_index(frame: pd.DataFrame, vocabulary: Vocabulary) -> FilterIndex:
    """Membership matrices for every list column, plus search text and coordinates."""
    members: dict[str, tuple[dict[str, int], np.ndarray]] = {}
    n = len(frame)
    for column in LIST_COLUMNS:
        section = "areas" if column == "areas_served" else column
        positions = {t.id: i for i, t in enumerate(vocabulary.terms(section))}
        matrix = np.zeros((n, len(positions)), dtype=bool)
        rows, cols = [], []
        for row, values in enumerate(frame[column].tolist() if n else []):
            for value in values or ():
                col = positions.get(value)
                if col is not None:
                    rows.append(row)
                    cols.append(col)
        matrix[rows, cols] = True
        members[column] = (positions, matrix)
    text = (frame["name"].fillna("").astype(str) + " " + frame["summary"].fillna("").astype(str)
            + " " + frame["description"].fillna("").astype(str) + " "
            + frame["organisation"].fillna("").astype(str)) if n else pd.Series([], dtype=object)
    return FilterIndex(
        length=n,
        members=members,
        status=frame["status"].to_numpy(dtype=object) if n else np.array([], dtype=object),
        district_codes=frame["district_code"].to_numpy(dtype=object) if n else np.array([]),
        lat=pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float),
        lon=pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float),
        text=np.array([fold(t) for t in text], dtype=object),
    )


# ---------------------------------------------------------------------------------------------
# Filtering


def selection_mask(
    index: FilterIndex,
    selection: Selection,
    vocabulary: Vocabulary,
    *,
    origin: tuple[float, float] | None = None,
    skip: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows matching a selection (minus the `skip` field, for facet counts), and distances."""
    mask = np.ones(index.length, dtype=bool)
    for name, column in FILTER_FIELDS.items():
        terms = selection.terms(name)
        if not terms or name == skip:
            continue
        if name == "status":
            mask &= np.isin(index.status, list(terms))
        elif name == "district":
            mask &= _district_mask(index, terms, vocabulary)
        else:
            mask &= index.mask(column, terms)
    if selection.q.strip():
        mask &= _text_mask(index, selection.q, mask)
    distances = None
    if origin is not None:
        distances = haversine_km(origin[0], origin[1], index.lat, index.lon)
        if selection.radius_km:
            mask &= distances <= selection.radius_km  # NaN (no point) compares False
    return mask, distances


def _district_mask(index: FilterIndex, districts: tuple[str, ...],
                   vocabulary: Vocabulary) -> np.ndarray:
    """A district matches rows located in it, rows serving it, and countywide providers."""
    codes = [t.code for d in districts if (t := vocabulary.term("areas", d)) and t.code]
    located = np.isin(index.district_codes, codes) if codes else np.zeros(index.length, bool)
    return located | index.mask("areas_served", (*districts, "countywide"))


def _text_mask(index: FilterIndex, query: str, within: np.ndarray) -> np.ndarray:
    """Rows whose text contains every word of the query (typo-tolerant per word)."""
    mask = within.copy()
    for word in fold(query).split():
        candidates = np.flatnonzero(mask)
        if not len(candidates):
            break
        texts = index.text[candidates]
        hit = np.fromiter((word in t for t in texts), dtype=bool, count=len(texts))
        if len(word) >= MIN_FUZZY_WORD and not hit.all():
            misses = np.flatnonzero(~hit)
            scores = process.cdist([word], list(texts[misses]), scorer=fuzz.partial_ratio,
                                   workers=1)[0]
            hit[misses] = scores >= TYPO_SCORE
        mask[candidates] = hit
    return mask


def filter_frame(
    frame: gpd.GeoDataFrame,
    selection: Selection,
    vocabulary: Vocabulary,
    *,
    origin: tuple[float, float] | None = None,
    index: FilterIndex | None = None,
) -> gpd.GeoDataFrame:
    """The rows matching a selection; with `origin`, a `distance_km` column, nearest first."""
    index = index or build_index(frame, vocabulary)
    mask, distances = selection_mask(index, selection, vocabulary, origin=origin)
    result = frame[mask]
    if distances is not None:
        result = result.assign(distance_km=distances[mask])
        result = result.sort_values("distance_km", kind="stable", na_position="last")
    return result


def count_records(frame: pd.DataFrame) -> int:
    """Distinct records in a frame (a record may have several location rows)."""
    return int(frame["record_id"].nunique()) if len(frame) else 0


def count_options(
    frame: pd.DataFrame,
    selection: Selection,
    vocabulary: Vocabulary,
    name: str,
    *,
    origin: tuple[float, float] | None = None,
    index: FilterIndex | None = None,
) -> dict[str, int]:
    """Facet counts: records per option of one filter, with that filter itself left out."""
    index = index or build_index(frame, vocabulary)
    mask, _ = selection_mask(index, selection, vocabulary, origin=origin, skip=name)
    record_ids = frame["record_id"].to_numpy(dtype=object)
    column = FILTER_FIELDS[name]
    section = "areas" if name == "district" else column
    counts: dict[str, int] = {}
    for term in vocabulary.terms(section):
        if name == "status":
            option = mask & (index.status == term.id)
        elif name == "district":
            option = mask & _district_mask(index, (term.id,), vocabulary)
        else:
            option = mask & index.mask(column, (term.id,))
        counts[term.id] = len(set(record_ids[option]))
    return counts


# ---------------------------------------------------------------------------------------------
# Coverage for commissioners


def _explode_terms(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    if column == "status":
        return frame[["record_id", "status"]].drop_duplicates()
    exploded = frame[["record_id", column]].explode(column).dropna()
    return exploded.drop_duplicates()


def coverage_matrix(frame: pd.DataFrame, vocabulary: Vocabulary, rows: str = "conditions",
                    cols: str = "art_forms") -> pd.DataFrame:
    """Distinct records per (row term, column term); every vocabulary term present."""
    row_ids = [t.id for t in vocabulary.terms(rows)]
    col_ids = [t.id for t in vocabulary.terms(cols)]
    pairs = _explode_terms(frame, rows).merge(_explode_terms(frame, cols), on="record_id")
    table = pd.crosstab(pairs[rows], pairs[cols]) if len(pairs) else pd.DataFrame()
    return table.reindex(index=row_ids, columns=col_ids, fill_value=0).astype(int)


def counts_by(frame: pd.DataFrame, vocabulary: Vocabulary, name: str) -> pd.Series:
    """Distinct records per term of one filter field (district counts countywide providers)."""
    selection = Selection()
    counts = count_options(frame, selection, vocabulary, name)
    return pd.Series(counts, name="records", dtype=int)


def gaps(frame: pd.DataFrame, vocabulary: Vocabulary, field_name: str = "conditions",
         district: str | None = None) -> list[str]:
    """Terms of a field with no provider (in a district, counting countywide providers)."""
    name = next(n for n, c in FILTER_FIELDS.items() if c == field_name)
    selection = Selection(district=(district,)) if district else Selection()
    counts = count_options(frame, selection, vocabulary, name)
    return [term for term, count in counts.items() if count == 0]


# ---------------------------------------------------------------------------------------------
# Tables and exports


def records_table(frame: pd.DataFrame, vocabulary: Vocabulary, *,
                  with_distance: bool = False) -> pd.DataFrame:
    """One row per record (its first, or nearest, location) with labels, for lists and CSV."""
    if not len(frame):
        return pd.DataFrame(columns=list(TABLE_COLUMNS))
    first = frame.drop_duplicates("record_id", keep="first")
    out = pd.DataFrame({
        "id": first["record_id"].to_numpy(),
        "name": first["name"].to_numpy(),
        "kind": [vocabulary.label("kind", k) for k in first["kind"]],
        "status": [vocabulary.label("status", s) for s in first["status"]],
    })
    for column in LIST_COLUMNS:
        out[column] = [", ".join(vocabulary.labels(column, v or ())) for v in first[column]]
    out["place"] = [_place(r) for r in first.itertuples()]
    out["district"] = first["district_name"].to_numpy(dtype=object)
    out["location_precision"] = first["location_precision"].to_numpy()
    out["lat"] = np.round(pd.to_numeric(first["lat"]).to_numpy(dtype=float), 6)
    out["lon"] = np.round(pd.to_numeric(first["lon"]).to_numpy(dtype=float), 6)
    out["summary"] = first["summary"].to_numpy()
    for column in ("website", "email", "phone"):
        out[column] = first[column].to_numpy(dtype=object)
    out["last_verified"] = [str(v) if v else "" for v in first["last_verified"]]
    if with_distance and "distance_km" in first:
        out.insert(2, "distance_km", np.round(first["distance_km"].to_numpy(dtype=float), 1))
    return out.reset_index(drop=True)


TABLE_COLUMNS = ("id", "name", "kind", "status", *LIST_COLUMNS, "place", "district",
                 "location_precision", "lat", "lon", "summary", "website", "email", "phone",
                 "last_verified")


def _place(row: Any) -> str:
    parts = [row.location_label, row.place, row.postcode]
    return ", ".join(str(p) for p in parts if isinstance(p, str) and p)


def to_geojson(frame: gpd.GeoDataFrame, vocabulary: Vocabulary) -> str:
    """A GeoJSON FeatureCollection of the located rows (contact only where consented)."""
    features = []
    for row in frame[frame.geometry.notna()].itertuples():
        properties: dict[str, Any] = {
            "id": row.record_id, "name": row.name,
            "kind": row.kind, "status": row.status, "summary": row.summary,
            **{column: list(getattr(row, column) or ()) for column in LIST_COLUMNS},
            "place": _place(row), "district": row.district_name,
            "location_precision": row.location_precision,
            "last_verified": str(row.last_verified) if row.last_verified else None,
        }
        if row.publish_contact:
            properties.update(website=row.website, email=row.email, phone=row.phone)
        features.append({"type": "Feature", "properties": properties, "geometry": {
            "type": "Point", "coordinates": [round(row.geometry.x, 6),
                                             round(row.geometry.y, 6)]}})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      indent=1)


def clear_field(selection: Selection, name: str) -> Selection:
    """The selection with one field reset."""
    default = {f.name: f.default for f in fields(Selection)}[name]
    return replace(selection, **{name: default})
