"""Synthetic frames for tests: realistic random rows over Gloucestershire, generated in code."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import geopandas as gpd
import numpy as np

from aop_map.geocoding import FRAME_COLUMNS, empty_frame
from aop_map.vocabulary import Vocabulary

# Rough bounding box of Gloucestershire (lat, lon).
GLOS_BOX = (51.58, 52.10, -2.65, -1.65)
DISTRICTS = ("E07000078", "E07000079", "E07000080", "E07000081", "E07000082", "E07000083")
WORDS = ("singing", "painting", "breathing", "choir", "workshop", "studio", "community",
         "wellbeing", "creative", "circus", "stories", "music", "garden", "dance", "film")


def frame_from_rows(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    """A frame with every column from partial row dicts (missing fields get defaults)."""
    if not rows:
        return empty_frame()
    defaults: dict[str, Any] = {c: None for c in FRAME_COLUMNS}
    defaults.update({"location_index": 0, "kind": "organisation", "status": "established",
                     "summary": "", "description": "", "publish_contact": False,
                     "location_precision": "postcode", "lat": np.nan, "lon": np.nan})
    for column in ("art_forms", "conditions", "age_groups", "areas_served", "delivery",
                   "referral_routes", "commissioning_models"):
        defaults[column] = ()
    full = [{**defaults, **row} for row in rows]
    for row in full:
        row.setdefault("name", row["record_id"])
        if row["name"] is None:
            row["name"] = row["record_id"]
    frame = gpd.GeoDataFrame(
        full, geometry=gpd.points_from_xy([r["lon"] for r in full], [r["lat"] for r in full]),
        crs="EPSG:4326")
    frame.loc[frame["lat"].isna(), "geometry"] = None
    return frame


def synthetic_frame(n: int, vocabulary: Vocabulary, seed: int = 0) -> gpd.GeoDataFrame:
    """n rows of plausible, random records over Gloucestershire."""
    rng = random.Random(seed)
    terms = {f: [t.id for t in vocabulary.terms(f)] for f in (
        "conditions", "art_forms", "age_groups", "delivery", "referral_routes",
        "commissioning_models")}
    areas = [t.id for t in vocabulary.terms("areas_served")][:7]
    rows = []
    for i in range(n):
        located = rng.random() > 0.05
        rows.append({
            "record_id": f"rec-{i:06d}", "name": f"{rng.choice(WORDS).title()} group {i}",
            "kind": rng.choice(["organisation", "freelance-artist", "programme", "venue"]),
            "status": rng.choice(["established", "established", "emerging"]),
            "summary": " ".join(rng.choices(WORDS, k=6)),
            "description": " ".join(rng.choices(WORDS, k=20)),
            **{f: tuple(rng.sample(v, rng.randint(0, 3))) for f, v in terms.items()},
            "areas_served": tuple(rng.sample(areas, rng.randint(0, 2))),
            "lat": rng.uniform(*GLOS_BOX[:2]) if located else np.nan,
            "lon": rng.uniform(*GLOS_BOX[2:]) if located else np.nan,
            "district_code": rng.choice(DISTRICTS) if located else None,
            "location_precision": "postcode" if located else "none",
            "last_verified": dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 700)),
            "location_index": 0 if located else -1,
        })
    return frame_from_rows(rows)
