"""The base map (background, tiles, panes, county and district boundaries): district shapes
and names travel as JSON values, never as template source; no records here.

District and place names are data like any record's text: they travel as safe_json values
and pass through esc() in the browser before they become markup (here, in
``aop_map.mapping.labels`` and in ``aop_map.mapping.choropleth``).
"""

from __future__ import annotations

import json
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from jinja2 import Template

from aop_map.mapping.safe import Literal, LiteralMacro, safe_json
from aop_map.mapping.style import MAX_ZOOM

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
# Shown where tiles would be: a calm colour reads as "no background map", Leaflet's grey as
# "broken".
BACKGROUND = "#eef2f5"


# Leaflet panes, bottom to top, around its own (tiles 200, the markers' canvas 400, cluster
# icons 600): the choropleth's fills under the energy glow, then boundary lines, then names,
# all under the markers (the data). None of them takes a click: a pane above another would
# swallow its events, so only the markers' canvas is interactive, and the choropleth answers
# the pointer through a point-in-polygon test on the map's own events.
ACTIVITY_PANE = ("aopActivity", 300)
BOUNDARY_PANE = ("aopBoundaries", 390)
LABEL_PANE = ("aopLabels", 395)
PANE_JS = """
  function aopPane(map, name, zIndex) {
    if (!map.getPane(name)) {
      var pane = map.createPane(name);
      pane.style.zIndex = zIndex;
      pane.style.pointerEvents = "none";
    }
    return name;
  }"""
BOUNDARY_STYLE = {"color": "#5c5c5c", "weight": 1.2, "opacity": 0.9, "fill": False}
COUNTY_STYLE = {"color": "#262626", "weight": 2.5, "opacity": 0.9, "fill": False}


def add_base(m: folium.Map, tiles: bool) -> str | None:
    """The map's background colour, and OpenStreetMap tiles unless offline: their variable."""
    style = f"<style>#{m.get_name()}{{background:{BACKGROUND}}}</style>"
    m.get_root().header.add_child(Literal(style), name="aop_map_background")
    if not tiles:
        return None
    layer = folium.TileLayer(
        tiles=OSM_TILES,
        name="OpenStreetMap",
        attr=OSM_ATTRIBUTION,
        max_zoom=MAX_ZOOM,
        control=False,
    )
    layer.add_to(m)
    return layer.get_name()


def district_names_of(districts: gpd.GeoDataFrame) -> pd.Series:
    """Each district's name (its ``name``, ``district_name`` or ``label`` column), "" if none."""
    for column in ("name", "district_name", "label"):
        if column in districts:
            return districts[column].fillna("").astype(str)
    return pd.Series([""] * len(districts), index=districts.index)


def _features(districts: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The districts as GeoJSON features (EPSG:4326), geometry only: names travel elsewhere."""
    shapes = districts if districts.crs is None else districts.to_crs("EPSG:4326")
    return [
        {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(shape))}
        for shape in shapes.geometry
    ]


class BaseMap(LiteralMacro):
    """The county outline and district boundaries: thin lines, no fill, never clickable.

    Drawn with or without tiles, so markers always have their county around them. Its
    variable holds the district features, which the activity layer reads (no second copy).
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (map) {
  {{ this.pane_js }}
  var data = {{ this.data }};
  var pane = aopPane(map, {{ this.pane }}, {{ this.z }});
  var renderer = L.svg({pane: pane});
  [[data.districts, {{ this.district_style }}], [data.county, {{ this.county_style }}]]
    .forEach(function (pair) {
      L.geoJSON(pair[0], {renderer: renderer, pane: pane, interactive: false,
        style: function () { return pair[1]; }}).addTo(map);
    });
  return data;
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, districts: gpd.GeoDataFrame) -> None:
        super().__init__()
        self._name = "BaseMap"
        features = _features(districts)
        shapes = districts if districts.crs is None else districts.to_crs("EPSG:4326")
        county = shapely.union_all(shapes.geometry.to_numpy())
        self.data = safe_json(
            {
                "districts": {"type": "FeatureCollection", "features": features},
                "county": json.loads(shapely.to_geojson(county)),
            }
        )
        self.pane, self.z = safe_json(BOUNDARY_PANE[0]), BOUNDARY_PANE[1]
        self.district_style = safe_json(BOUNDARY_STYLE)
        self.county_style = safe_json(COUNTY_STYLE)
        self.pane_js = PANE_JS
