"""The energy map's view: where it opens, what a click picks, who serves an area; draws nothing."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd

from aop_map.filtering import FilterIndex, Selection, filter_frame
from aop_map.geocoding import haversine_km
from aop_map.vocabulary import Vocabulary

GLOUCESTERSHIRE_VIEW = ((51.845, -2.15), 9)  # centre (lat, lon) and zoom showing the county
# A click on the map selects the record whose point is this close (km): a marker's radius at
# the zoom where single markers show, so a click beside every marker selects nothing.
CLICK_RADIUS_KM = 0.05


def map_view(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary
) -> tuple[tuple[float, float] | None, int | None, int]:
    """Centre and zoom for the energy map, and how many places lie outside the county.

    The map fits its points, except when case studies elsewhere in the UK would shrink
    Gloucestershire to a dot: then it shows the county and they are a zoom-out away.
    """
    located = frame[frame.geometry.notna()] if len(frame) else frame
    if not len(located):
        return None, None, 0
    codes = {t.code for t in vocabulary.terms("areas_served") if t.code}
    inside = located["district_code"].isin(codes)
    outside = int((~inside).sum())
    if inside.any() and outside:
        center, zoom = GLOUCESTERSHIRE_VIEW
        return center, zoom, outside
    return None, None, outside


def record_at(clicked: dict | None, frame: gpd.GeoDataFrame) -> dict | None:
    """The row at a clicked map point ({"lat", "lng"}, within CLICK_RADIUS_KM), or None."""
    if not clicked or not len(frame) or "lat" not in clicked:
        return None
    located = frame[frame.geometry.notna()]
    if not len(located):
        return None
    distances = haversine_km(clicked["lat"], clicked["lng"], located["lat"], located["lon"])
    best = int(distances.argmin())
    if distances[best] > CLICK_RADIUS_KM:
        return None
    return located.iloc[best].to_dict()


def serving_area(
    frame: gpd.GeoDataFrame,
    vocabulary: Vocabulary,
    applied: Selection,
    district_code: str | None,
    nearby: gpd.GeoDataFrame,
    *,
    index: FilterIndex | None = None,
) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Records serving the district of a searched place, or the whole county, that are not
    already among ``nearby``; and that district's label. (None, None) outside the county.

    Countywide services rarely publish a venue, so a 'near' search alone would miss them;
    they match every filter of ``applied`` but the distance. One row per record.
    """
    term = vocabulary.district_by_code(district_code or "")
    if term is None:  # outside Gloucestershire: no county service is known to reach it
        return None, None
    anywhere = filter_frame(
        frame, replace(applied, near="", radius_km=None), vocabulary, index=index
    )
    wanted = {term.id, "countywide"}
    serves = anywhere["areas_served"].map(lambda areas: bool(wanted.intersection(areas or ())))
    fresh = ~anywhere["record_id"].isin(set(nearby["record_id"]))
    chosen = anywhere[serves.to_numpy() & fresh.to_numpy()]
    return chosen.drop_duplicates("record_id"), term.label
