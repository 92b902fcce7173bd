"""Approximate district outlines derived offline from ONS postcode locations.

No boundary file ships with the project, so each Gloucestershire district is drawn as the
concave hull of its GL postcodes, padded slightly. It shows where a district's population
lives (moorland and river edges are cut in), which is what a commissioner scanning for gaps
needs; it is labelled approximate wherever it is shown and never used to assign districts
(postcodes carry their own district code).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from aop_map.geocoding import PostcodeLookup, bng_to_wgs84, default_postcode_lookup
from aop_map.vocabulary import Vocabulary

# Hull tightness (0 = tightest), padding and simplification in metres on the British grid.
HULL_RATIO = 0.08
PAD_M = 400
SIMPLIFY_M = 150


def district_outlines(vocabulary: Vocabulary,
                      postcodes: PostcodeLookup | None = None) -> gpd.GeoDataFrame:
    """One approximate polygon per district with an ONS code (EPSG:4326): code, name, geometry."""
    table = (postcodes or default_postcode_lookup()).table("G")
    rows = []
    for term in vocabulary.terms("areas_served"):
        if not term.code:
            continue
        points = table[table["lad"] == term.code]
        if len(points) < 3:
            continue
        hull = shapely.concave_hull(
            shapely.multipoints(np.c_[points["easting"], points["northing"]]), ratio=HULL_RATIO)
        shape = hull.buffer(PAD_M).simplify(SIMPLIFY_M)
        rows.append({"code": term.code, "name": term.label, "geometry": _to_wgs84(shape)})
    return gpd.GeoDataFrame(rows, columns=["code", "name", "geometry"], geometry="geometry",
                            crs="EPSG:4326")


def _to_wgs84(shape: shapely.Geometry) -> shapely.Geometry:
    def transform(coords: np.ndarray) -> np.ndarray:
        lat, lon = bng_to_wgs84(coords[:, 0], coords[:, 1])
        return np.c_[lon, lat]

    return shapely.transform(shape, transform)
