"""Records as a table and as GeoJSON for the directory and exports; contacts only by consent."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from aop_map import fields
from aop_map.filtering.search import RELEVANCE
from aop_map.filtering.terms import factorize_terms
from aop_map.vocabulary import Vocabulary

# Columns records_table derives from a record's locations, shown where the registry's location
# fields sit: where to find it (label, place, postcode), its district, how many locations it
# has and how precisely the shown one was placed.
WHERE_COLUMNS = ("place", "district", "locations", "location_precision", "lat", "lon")


def table_columns() -> tuple[str, ...]:
    """records_table's columns: the registry's table fields, in its order, with the
    WHERE_COLUMNS in place of its location fields."""
    out: list[str] = []
    for spec in fields.all_fields():
        if spec.group == "locations":
            out += [c for c in WHERE_COLUMNS if c not in out]
        if spec.table:  # a location field's column is the shown location's value
            out.append(spec.name)
    return tuple(out)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _labels(values: pd.Series, vocabulary: Vocabulary, field: str) -> np.ndarray:
    """Term ids -> "Label, Label" for a column, computed once per distinct value."""
    codes, uniques = factorize_terms(values)
    labels = [", ".join(vocabulary.labels(field, terms)) for terms in uniques]
    return np.array([*labels, ""], dtype=object)[codes]  # code -1 (missing) -> ""


def _places(frame: pd.DataFrame) -> list[str]:
    """ "label, place, postcode" of each row, blanks and repeats left out."""
    columns = zip(frame["location_label"], frame["place"], frame["postcode"], strict=True)
    out = []
    for parts in columns:
        kept = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
        out.append(", ".join(dict.fromkeys(kept)) if len(kept) > 1 else "".join(kept))
    return out


def _consented(value: Any) -> bool:
    """Only a real True publishes contact details (not a missing value, not the text "no")."""
    return isinstance(value, bool | np.bool_) and bool(value)


def _date_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else _text(value)


def _one_row_per_record(frame: pd.DataFrame) -> pd.DataFrame:
    """Each record's nearest row when distances are known, else its first row (frame order)."""
    if "distance_km" in frame:
        order = np.argsort(frame["distance_km"].to_numpy(dtype=float), kind="stable")
        frame = frame.iloc[order]
    return frame.drop_duplicates("record_id", keep="first")


def records_table(
    frame: pd.DataFrame, vocabulary: Vocabulary, *, with_distance: bool = False
) -> pd.DataFrame:
    """One row per record (its first location, or nearest when the frame has distances), with
    labels joined by ", " -- for the directory table and CSV export.

    Contact columns are blank unless the provider agreed to publish them. With
    `with_distance` and a ``distance_km`` column, rows are nearest first.
    """
    columns = table_columns()
    if not len(frame):
        return pd.DataFrame(columns=list(columns))
    first = _one_row_per_record(frame)
    consented = [_consented(v) for v in first["publish_contact"]]
    where = _where_columns(frame, first)
    out = pd.DataFrame(
        {
            name: where[name]
            if name in where
            else _table_column(
                first[fields.by_name(name).column_name], fields.by_name(name), vocabulary, consented
            )
            for name in columns
        }
    )
    if with_distance and "distance_km" in first:
        distances = np.round(first["distance_km"].to_numpy(dtype=float), 1)
        out.insert(2, "distance_km", distances)
    if RELEVANCE in first:  # a search's order: the directory sorts by it
        out.insert(2, RELEVANCE, first[RELEVANCE].to_numpy(dtype=float))
    return out


def _table_column(
    values: pd.Series, spec: fields.FieldSpec, vocabulary: Vocabulary, consented: list[bool]
) -> Any:
    """One field's table column: labels for terms, ISO dates, stripped text; personal
    values blank unless the provider agreed to publish them."""
    if spec.controlled:
        labels = _labels(values, vocabulary, spec.name)
        return _not_stated(labels, spec) if spec.not_stated else labels
    if spec.many:  # "; " between structured values (a schedule has commas of its own)
        texts = [
            ("; " if spec.datatype != "text" else ", ").join(
                w for w in (fields.describe(v) for v in items or ()) if w
            )
            for items in values
        ]
    elif spec.datatype == "date":
        texts = [_date_text(v) for v in values]
    else:
        texts = [_text(v) if isinstance(v, str) else fields.describe(v) for v in values]
    if spec.personal:
        texts = [v if ok else "" for v, ok in zip(texts, consented, strict=True)]
    return _not_stated(np.array(texts, dtype=object), spec)


def _not_stated(texts: np.ndarray, spec: fields.FieldSpec) -> np.ndarray:
    """Blank cells of a ``not_stated`` field say so (fields.NOT_STATED), never a guess."""
    if spec.not_stated:
        texts = np.where(texts == "", fields.NOT_STATED, texts).astype(object)
    return texts


def _where_columns(frame: pd.DataFrame, first: pd.DataFrame) -> dict[str, Any]:
    """The WHERE_COLUMNS of each record's shown row (`first`)."""
    located = frame.loc[frame.geometry.notna(), "record_id"].value_counts()
    return {
        "place": _places(first),
        "district": [_text(v) for v in first["district_name"]],
        "locations": located.reindex(first["record_id"]).fillna(0).astype(int).to_numpy(),
        "location_precision": first["location_precision"].to_numpy(dtype=object),
        "lat": np.round(pd.to_numeric(first["lat"], errors="coerce").to_numpy(float), 6),
        "lon": np.round(pd.to_numeric(first["lon"], errors="coerce").to_numpy(float), 6),
    }


def _feature(row: dict[str, Any], x: float, y: float) -> dict[str, Any]:
    """One located row as a feature: the registry's table fields (term ids, not labels),
    personal ones only with consent, and where the row is."""
    consented = _consented(row["publish_contact"])
    properties: dict[str, Any] = {}
    for spec in fields.table_fields():
        if spec.personal and not consented:
            continue
        value = row[spec.column_name]
        if spec.many:  # term ids and texts; a structured value (a schedule) in words
            properties[spec.name] = [w for w in (fields.describe(t) for t in value or ()) if w]
        elif spec.datatype == "date":
            properties[spec.name] = _date_text(value) or None
        else:
            properties[spec.name] = (
                _text(value) if isinstance(value, str) else fields.describe(value)
            ) or None
    properties.update(_where_properties(row))
    geometry = {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _where_properties(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "place": ", ".join(p for p in map(_text, (row["location_label"], row["place"])) if p),
        "postcode": _text(row["postcode"]) or None,
        "district": _text(row["district_name"]) or None,
        "location_precision": _text(row["location_precision"]) or None,
    }


def to_geojson(frame: gpd.GeoDataFrame, vocabulary: Vocabulary) -> str:
    """A GeoJSON FeatureCollection (EPSG:4326): one feature per located row.

    Properties are plain strings and lists of term ids (labels are in the vocabulary);
    contact fields appear only where the provider agreed to publish them.
    """
    geometry = frame.geometry
    located = frame[geometry.notna().to_numpy() & ~geometry.is_empty.to_numpy()]
    columns = [c for c in located.columns if c != located.geometry.name]
    records = located[columns].astype(object).to_dict("records")
    features = [
        _feature(row, point.x, point.y)
        for row, point in zip(records, located.geometry, strict=True)
    ]
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, indent=1, default=str)
