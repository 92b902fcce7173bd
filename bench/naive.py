"""The naive way to do each stage: what a first version would write, computing the same thing.

Each function here must return the same answer as the project's code (the suite checks it), so
that a ratio compares two ways of doing one job rather than two different jobs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import yaml

from aop_map import fields
from aop_map.filtering import (
    COUNTYWIDE,
    DISTRICT,
    ELSEWHERE,
    MIN_INFIX_WORD,
    PAST_STATUS,
    RELEVANCE,
    SCORE_COUNTYWIDE,
    SCORE_STRONG,
    SCORE_WEAK,
    STRONG_COLUMNS,
    WEAK_COLUMNS,
)
from aop_map.geocoding import PostcodeLookup, normalise_postcode
from aop_map.geocoding.coordinates import bng_transformer
from aop_map.geocoding.postcodes import pcd7_key
from aop_map.records import Record, validate_record
from aop_map.text import normalise
from aop_map.vocabulary import Vocabulary

EARTH_RADIUS_KM = 6371.0088  # as aop_map.geocoding.haversine_km


def load_yaml_files(files: list[Path], vocabulary: Vocabulary) -> list[Record]:
    """PyYAML's safe_load per file (the pure-Python loader), then validation per record."""
    records: list[Record] = []
    seen: set[str] = set()
    for path in files:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        record, _problems = validate_record(data, vocabulary, source=path.name)
        if record is not None and record.id not in seen:
            seen.add(record.id)
            records.append(record)
    return records


def geocode_postcodes(postcodes: list[str], lookup: PostcodeLookup) -> pd.DataFrame:
    """One lookup per postcode in a Python loop: normalise, `.loc` the row, transform one point.

    Uses the same ONSPD tables (read through the same class, so loading costs the same) and
    the same BNG -> WGS84 transform, one point at a time.
    """
    transformer = bng_transformer()
    rows: list[tuple[Any, float, float, Any]] = []
    for text in postcodes:
        postcode = normalise_postcode(text)
        if postcode is None:
            rows.append((None, math.nan, math.nan, None))
            continue
        key = pcd7_key(postcode)
        table = lookup.table(key[0])
        try:
            row = table.loc[key]
        except KeyError:
            rows.append((postcode, math.nan, math.nan, None))
            continue
        lon, lat = transformer.transform(float(row["easting"]), float(row["northing"]))
        rows.append((postcode, lat, lon, row["lad"]))
    return pd.DataFrame(rows, columns=["postcode", "lat", "lon", "district_code"])


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle km between two points (one pair at a time)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return EARTH_RADIUS_KM * 2 * math.asin(math.sqrt(min(max(a, 0.0), 1.0)))


def filter_frame(
    frame: pd.DataFrame,
    condition: str,
    art_form: str,
    origin: tuple[float, float],
    radius_km: float,
) -> pd.DataFrame:
    """condition AND art form AND within a radius, with DataFrame.apply and Python lambdas."""

    def distance(row: pd.Series) -> float:
        if pd.isna(row["lat"]) or pd.isna(row["lon"]):
            return math.nan
        return haversine(origin[0], origin[1], float(row["lat"]), float(row["lon"]))

    mask = frame.apply(
        lambda row: (
            condition in row["conditions"]
            and art_form in row["art_forms"]
            and distance(row) <= radius_km
        ),
        axis=1,
    )
    result = frame[mask.astype(bool)]
    distances = result.apply(distance, axis=1) if len(result) else pd.Series([], dtype=float)
    result = result.assign(distance_km=distances.astype(float))
    return result.sort_values("distance_km", kind="stable", na_position="last")


def search_frame(frame: pd.DataFrame, query: str, vocabulary: Vocabulary) -> pd.DataFrame:
    """A one-word search with DataFrame.apply: each row's words folded and matched in Python.

    What ``filter_frame`` with ``Selection(q=query)`` answers for a word found without a
    typo: a word the vocabulary knows (a term's id, label or synonym) matches rows tagged with
    its terms and whole words (or plurals) of their text; another word matches word starts
    and, from MIN_INFIX_WORD letters, word parts. The name, organisation, places and tag
    labels score SCORE_STRONG, the summary and description SCORE_WEAK, a countywide record
    for a named district SCORE_COUNTYWIDE. Ended and elsewhere rows are out of view, as in the
    app by default. Most relevant first, with the relevance column.
    """
    word = normalise(query)
    served = fields.by_facet(DISTRICT)
    area_column = served.column_name if served else "areas_served"
    labels: dict[str, dict[str, str]] = {}  # list column -> term id -> label
    named: list[tuple[str, str, str | None]] = []  # (column, term id, area code) the word names
    for spec in fields.facets():
        if spec.datatype == "bool":
            continue
        terms = vocabulary.terms(spec.name)
        if spec.many:
            labels[spec.column_name] = {t.id: t.label for t in terms}
        for term in terms:
            if word in {normalise(s) for s in (term.id, term.label, *term.synonyms)}:
                code = term.code if spec.column_name == area_column else None
                named.append((spec.column_name, term.id, code))
    a_place = any(c == area_column and t != COUNTYWIDE for c, t, _ in named)

    def matches(text: str) -> bool:
        for w in normalise(text).split():
            if named and w in (word, word + "s", word + "es"):
                return True
            if not named and (w.startswith(word) or (len(word) >= MIN_INFIX_WORD and word in w)):
                return True
        return False

    def terms_of(value: Any) -> tuple[str, ...]:
        if isinstance(value, list | tuple | np.ndarray):
            return tuple(value)
        return (value,) if isinstance(value, str) else ()

    def text(row: pd.Series, columns: tuple[str, ...]) -> str:
        return " ".join("" if _missing(row.get(c)) else str(row.get(c)) for c in columns)

    def score(row: pd.Series) -> float:
        tagged = any(
            term in terms_of(row[column]) or (code is not None and row["district_code"] == code)
            for column, term, code in named
        )
        tags = " ".join(
            names.get(t) or t.replace("-", " ")
            for column, names in labels.items()
            for t in terms_of(row[column])
        )
        if tagged or matches(text(row, STRONG_COLUMNS) + " " + tags):
            return SCORE_STRONG
        if matches(text(row, WEAK_COLUMNS)):
            return SCORE_WEAK
        if a_place and COUNTYWIDE in terms_of(row[area_column]):
            return SCORE_COUNTYWIDE
        return 0.0

    in_view = frame["status"] != PAST_STATUS
    if "scope" in frame:
        in_view &= frame["scope"] != ELSEWHERE
    scores = frame.apply(score, axis=1).to_numpy(float) if len(frame) else np.zeros(0)
    keep = in_view.to_numpy(bool) & (scores > 0)
    result = frame[keep].assign(**{RELEVANCE: np.round(scores[keep], 2)})
    return result.sort_values(RELEVANCE, ascending=False, kind="stable")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def popup_html(row: Any, vocabulary: Vocabulary) -> str:
    """The same facts the project's popups show, as an HTML string."""

    def terms(field: str, ids: Any) -> str:
        return ", ".join(vocabulary.labels(field, ids or ())) or "&ndash;"

    return (
        f'<div class="aop-popup"><strong>{_esc(row.name)}</strong>'
        f"<br><b>Art forms:</b> {_esc(terms('art_forms', row.art_forms))}"
        f"<br><b>Conditions:</b> {_esc(terms('conditions', row.conditions))}"
        f"<br><b>Areas:</b> {_esc(terms('areas_served', row.areas_served))}"
        f'<br><a href="?id={_esc(row.record_id)}" target="_blank">Provider page</a></div>'
    )


def _esc(text: Any) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def build_map(frame: pd.DataFrame, vocabulary: Vocabulary) -> folium.Map:
    """One folium.Marker with an HTML popup and a tooltip per located row."""
    m = folium.Map(location=[51.83, -2.2], zoom_start=9)
    located = frame[frame["lat"].notna()] if len(frame) else frame
    for row in located.itertuples():
        folium.Marker(
            [row.lat, row.lon],
            popup=folium.Popup(popup_html(row, vocabulary), max_width=320),
            tooltip=_esc(row.name),
        ).add_to(m)
    if len(located):
        lats, lons = located["lat"].to_numpy(float), located["lon"].to_numpy(float)
        m.fit_bounds([[np.min(lats), np.min(lons)], [np.max(lats), np.max(lons)]])
    return m


def count_markers(m: folium.Map) -> int:
    """Markers on a naive map."""
    return sum(isinstance(child, folium.Marker) for child in m._children.values())
