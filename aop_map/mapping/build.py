"""build_map and build_location_map: assemble the layers and fit the view; they return the
map, never render, save or display it, and never change the frame they are given.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd

from aop_map.mapping.basemap import BaseMap, add_base
from aop_map.mapping.choropleth import ActivityLayer, district_classes
from aop_map.mapping.labels import NameLabels, label_payload
from aop_map.mapping.layers import EnergyLayer, LocationPoints, ProviderLayer, location_point
from aop_map.mapping.legend import FoldOnNarrow, Legend
from aop_map.mapping.payload import compact_payload, located_rows
from aop_map.mapping.style import MAX_ZOOM, MIN_ZOOM
from aop_map.offline_assets import STREAMLIT_BASE, localise_assets
from aop_map.vocabulary import Vocabulary

GLOS_BOUNDS = [[51.57, -2.69], [52.12, -1.61]]  # Gloucestershire, for an empty map
# The closest a map zooms to fit its points: a town with the country around it. Closer, a single
# record would fill the map with blank background (no tiles offline, few place names).
MAX_FIT_ZOOM = 12


def _box(points: list[list[float]], search_area: tuple[float, float, float] | None) -> list:
    """Bounds to show: the search circle, else the points (padded), else the county."""
    if search_area is not None:
        lat, lon, radius_km = search_area
        dlat = radius_km / 111.2
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        return [[lat - dlat, lon - dlon], [lat + dlat, lon + dlon]]
    if not points:
        return GLOS_BOUNDS
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    pad = 0.02  # ~2 km, so edge markers are not cut in half
    return [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]]


def _add_districts(
    m: folium.Map,
    frame: gpd.GeoDataFrame,
    vocabulary: Vocabulary,
    districts: gpd.GeoDataFrame,
    activity: bool,
) -> None:
    """Boundaries, and the activity choropleth unless turned off."""
    base = BaseMap(districts)
    base.add_to(m)
    if activity:
        ActivityLayer(base, *district_classes(frame, vocabulary, districts)).add_to(m)


def _add_search_area(m: folium.Map, search_area: tuple[float, float, float]) -> None:
    """The 'near' circle: a dashed ring and a centre dot, neither taking clicks or hovers."""
    lat, lon, radius_km = search_area
    style = {"color": "#1a1a1a", "weight": 1.5}
    ring = folium.Circle([lat, lon], radius=radius_km * 1000, fill=False, dash_array="6 5", **style)
    dot = folium.CircleMarker([lat, lon], radius=3, fill=True, fill_opacity=1, **style)
    for layer in (ring, dot):
        layer.options["interactive"] = False  # folium has no keyword for this Leaflet option
        layer.add_to(m)


def _localise(m: folium.Map, asset_base: str) -> folium.Map:
    """Serve Leaflet and plugins from local copies (aop_map.offline_assets), never CDNs."""
    return localise_assets(m, asset_base)


def build_map(
    frame: gpd.GeoDataFrame,
    vocabulary: Vocabulary,
    *,
    districts: gpd.GeoDataFrame | None = None,
    places: pd.DataFrame | None = None,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    tiles: bool = True,
    energy_layer: bool = True,
    activity_layer: bool = True,
    link_template: str = "?id={id}",
    search_area: tuple[float, float, float] | None = None,
    asset_base: str = STREAMLIT_BASE,
) -> folium.Map:
    """The energy map of a selection: clustered markers by status, energy (heat) layer,
    districts coloured by activity, county and district boundaries, names, legend and layer
    control. Never changes `frame`.

    `districts` (``code``, ``name``, polygons; aop_map.boundaries.load_districts) draws the
    boundaries and, with `activity_layer`, the choropleth of `frame`'s activity per district
    (aop_map.energy); `places` (load_places) adds place names, shown when there are no tiles.
    Without `center` the map fits the `search_area` (lat, lon, radius km) if given, else the
    points, else Gloucestershire (`zoom` then caps the zoom). ``tiles=False`` adds no tile
    layer (offline). `link_template` is the provider page's address with an ``{id}`` slot,
    filled with the URL-encoded record id.
    """
    m = folium.Map(
        location=list(center) if center else [51.845, -2.15],
        zoom_start=zoom or (12 if center else 9),
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    m.options["maxZoom"] = MAX_ZOOM  # folium's max_zoom= only reaches its own default tiles
    m.options["minZoom"] = MIN_ZOOM
    tile_layer = add_base(m, tiles)
    if districts is not None and len(districts):
        _add_districts(m, frame, vocabulary, districts, activity_layer)
    if search_area is not None:
        _add_search_area(m, search_area)
    payload = compact_payload(frame, vocabulary)
    providers = ProviderLayer(payload, link_template)
    providers.add_to(m)
    energy = energy_layer and bool(payload["p"])
    if energy:
        EnergyLayer(providers).add_to(m)
    labels = label_payload(districts, places)
    if labels:
        NameLabels(labels, tile_layer=tile_layer).add_to(m)
    Legend(energy=energy, tiles=tiles).add_to(m)
    control = folium.LayerControl(collapsed=False, position="topright")
    control.add_to(m)
    FoldOnNarrow(control).add_to(m)
    if center is None:
        m.fit_bounds(
            _box(payload["p"], search_area), max_zoom=min(zoom or MAX_FIT_ZOOM, MAX_FIT_ZOOM)
        )
    return _localise(m, asset_base)


def build_location_map(
    frame_rows: gpd.GeoDataFrame,
    vocabulary: Vocabulary,
    *,
    districts: gpd.GeoDataFrame | None = None,
    places: pd.DataFrame | None = None,
    tiles: bool = True,
    asset_base: str = STREAMLIT_BASE,
) -> folium.Map:
    """A small map of one record's locations (a handful of plain circle markers), with the
    district boundaries and names around them when `districts` and `places` are given."""
    located = located_rows(frame_rows)
    m = folium.Map(location=[51.845, -2.15], zoom_start=9, tiles=None, control_scale=True)
    m.options["maxZoom"] = MAX_ZOOM
    tile_layer = add_base(m, tiles)
    if districts is not None and len(districts):
        BaseMap(districts).add_to(m)
    labels = label_payload(districts, places)
    if labels:
        NameLabels(labels, tile_layer=tile_layer).add_to(m)
    points = [location_point(row, vocabulary) for row in located.itertuples(index=False)]
    if points:
        LocationPoints(points).add_to(m)
    m.fit_bounds(_box([point[:2] for point in points], None), max_zoom=MAX_FIT_ZOOM)
    return _localise(m, asset_base)
