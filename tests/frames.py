"""Synthetic record frames for tests, generated in code (never committed as data).

The frames follow ``aop_map.geocoding``'s contract: one row per record location, the columns
of ``frame_columns()`` (from the field registry as it is when called) with the same dtypes
(object text with None, float lat/lon with NaN, tuples of term ids), plus a Point geometry
(None when there is no location), EPSG:4326.

``make_frame(rows)`` fills in defaults for hand-written rows; ``synthetic_frame(n, seed)``
makes n realistic random rows over Gloucestershire with the real vocabulary.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from aop_map import fields
from aop_map.geocoding.frame import frame_columns
from aop_map.vocabulary import Vocabulary

VOCABULARY_PATH = Path(__file__).resolve().parents[1] / "mapdata" / "vocabulary.yaml"
# District code -> (name, centre lat, centre lon, spread in degrees): rough, but every point
# generated for a district lies in or near it.
DISTRICTS = {
    "E07000078": ("Cheltenham", 51.90, -2.07, 0.025),
    "E07000079": ("Cotswold", 51.78, -1.85, 0.10),
    "E07000080": ("Forest of Dean", 51.82, -2.50, 0.07),
    "E07000081": ("Gloucester", 51.86, -2.24, 0.02),
    "E07000082": ("Stroud", 51.71, -2.25, 0.06),
    "E07000083": ("Tewkesbury", 51.97, -2.12, 0.05),
}
PLACES = (
    "Cinderford",
    "Coleford",
    "Lydney",
    "Newent",
    "Cirencester",
    "Tetbury",
    "Stroud",
    "Nailsworth",
    "Dursley",
    "Stonehouse",
    "Winchcombe",
    "Bishop's Cleeve",
    "Gloucester",
    "Cheltenham",
    "Tewkesbury",
    "Stow-on-the-Wold",
)
ADJECTIVES = (
    "Bright",
    "Open",
    "Riverside",
    "Hillside",
    "Community",
    "Shared",
    "Green",
    "Together",
    "Creative",
    "Calm",
    "Forest",
    "Vale",
    "Café",
    "Crème",
    "Northgate",
)
NOUNS = (
    "Studio",
    "Collective",
    "Voices",
    "Makers",
    "Arts",
    "Hub",
    "Circle",
    "Workshop",
    "Company",
    "Project",
    "Choir",
    "Players",
    "Gallery",
    "Club",
    "Circus",
)
SENTENCES = (
    "Weekly {art} sessions for people living with {cond}.",
    "Small friendly groups meet in a warm, accessible venue with tea and time to talk.",
    "Referrals come from social prescribers and GPs; people can also self-refer.",
    "Each course runs for ten weeks and ends with a sharing for family and friends.",
    "Sessions are co-designed with participants and adapted to changing needs.",
)


@cache
def real_vocabulary() -> Vocabulary:
    """The bundled vocabulary (mapdata/vocabulary.yaml)."""
    return Vocabulary.load(VOCABULARY_PATH)


def list_columns() -> tuple[str, ...]:
    """The frame's columns of term-id tuples (the registry's controlled list fields)."""
    return tuple(f.column_name for f in fields.controlled() if f.many and f.frame)


def _defaults() -> dict[str, Any]:
    defaults: dict[str, Any] = dict.fromkeys(frame_columns())
    defaults.update(
        location_index=0,
        kind="organisation",
        status="established",
        summary="",
        description="",
        publish_contact=False,
        location_precision="postcode",
        lat=np.nan,
        lon=np.nan,
        **dict.fromkeys(list_columns(), ()),
    )
    return defaults


def make_frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """A frame with every contract column from partial row dicts (missing fields defaulted).

    A row without lat/lon has geometry None; ``name`` defaults to the record id; a
    ``district_code`` of a Gloucestershire district also fills ``district_name``.
    """
    full = []
    for row in rows:
        filled = {**_defaults(), **row}
        filled["name"] = filled["name"] if filled["name"] is not None else filled["record_id"]
        if filled["district_name"] is None and filled["district_code"] in DISTRICTS:
            filled["district_name"] = DISTRICTS[filled["district_code"]][0]
        full.append(filled)
    return _to_geodataframe(full)


frame_from_rows = make_frame  # the earlier name


def _to_geodataframe(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """Rows -> GeoDataFrame with geocoding's dtypes (object text, so None stays None)."""
    frame = pd.DataFrame(rows, columns=list(frame_columns()), dtype=object)
    frame["location_index"] = frame["location_index"].astype(int)
    frame["publish_contact"] = frame["publish_contact"].astype(bool)
    frame["lat"] = pd.to_numeric(frame["lat"]).astype(float)
    frame["lon"] = pd.to_numeric(frame["lon"]).astype(float)
    located = ~np.isnan(frame["lat"].to_numpy())
    geometry = np.full(len(frame), None, dtype=object)
    geometry[located] = gpd.points_from_xy(frame["lon"][located], frame["lat"][located])
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs="EPSG:4326")


def _record(rng: random.Random, number: int, vocabulary: Vocabulary) -> dict[str, Any]:
    """The record-level columns of one random record."""
    columns = list_columns()
    terms = {c: [t.id for t in vocabulary.terms(c)] for c in columns}
    areas = [a for a in terms["areas_served"] if a != "elsewhere"]
    chosen = {c: tuple(rng.sample(terms[c], rng.choice((0, 1, 1, 2, 3)))) for c in columns}
    chosen["areas_served"] = tuple(rng.sample(areas, rng.choice((0, 1, 1, 2))))
    art = vocabulary.label("art_forms", chosen["art_forms"][0]) if chosen["art_forms"] else "arts"
    cond = (
        vocabulary.label("conditions", chosen["conditions"][0]) if chosen["conditions"] else "all"
    )
    consent = rng.random() < 0.4
    slug = f"rec-{number:06d}"
    return {
        "record_id": slug,
        "name": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {number}",
        "kind": rng.choice(("organisation", "freelance-artist", "programme", "programme", "venue")),
        "status": rng.choice(("established", "established", "emerging")),
        "summary": SENTENCES[0].format(art=art.lower(), cond=cond.lower()),
        "description": " ".join(rng.sample(SENTENCES[1:], 2)),
        "organisation": rng.choice((None, None, f"{rng.choice(NOUNS)} Trust")),
        **chosen,
        "last_verified": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 700)),
        "publish_contact": consent,
        "website": f"https://example.org/{slug}" if consent else None,
        "email": f"hello@{slug}.example.org" if consent else None,
        "phone": "01452 000000" if consent and rng.random() < 0.5 else None,
        "contact_name": "Sam Example" if consent and rng.random() < 0.5 else None,
    }


def _location(rng: random.Random, index: int) -> dict[str, Any]:
    """One located row's location columns, inside a random Gloucestershire district."""
    code = rng.choice(list(DISTRICTS))
    name, lat, lon, spread = DISTRICTS[code]
    return {
        "location_index": index,
        "location_label": rng.choice((None, "Main hall", "Library", "Community centre")),
        "place": rng.choice(PLACES),
        "postcode": f"GL{rng.randint(1, 56)} {rng.randint(1, 9)}AB",
        "lat": round(rng.gauss(lat, spread / 2), 6),
        "lon": round(rng.gauss(lon, spread / 2), 6),
        "location_precision": rng.choice(("postcode", "postcode", "exact", "place")),
        "district_code": code,
        "district_name": name,
    }


def synthetic_frame(
    n: int, seed: int = 0, vocabulary: Vocabulary | None = None
) -> gpd.GeoDataFrame:
    """n rows of plausible random records over Gloucestershire (real vocabulary by default).

    About 1 record in 20 has no location (one row, geometry None); others have 1-3 located
    rows, so records and rows differ as in the real data.
    """
    vocabulary = vocabulary or real_vocabulary()
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    number = 0
    while len(rows) < n:
        record = _record(rng, number, vocabulary)
        number += 1
        if rng.random() < 0.05:
            precision = rng.choice(("none", "online"))
            rows.append(
                {**_defaults(), **record, "location_index": -1, "location_precision": precision}
            )
            continue
        for index in range(min(rng.choice((1, 1, 1, 2, 3)), n - len(rows))):
            rows.append({**_defaults(), **record, **_location(rng, index)})
    return _to_geodataframe(rows)
