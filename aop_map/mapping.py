"""GeoDataFrame -> folium.Map; returns the map, never renders, saves or displays it.

Records reach the browser as one compact JSON payload (points plus a table of names and term
indices) from which small JavaScript builds clustered circle markers, popups and the energy
(heat) layer. One ``folium.Marker`` per record costs ~1 KB of HTML and ~1 ms of Python each;
this costs ~100 bytes and microseconds. Every user-supplied string is escaped twice over: the
JSON cannot close its <script> tag, and popups are built with an HTML-escaping function.
"""

from __future__ import annotations

import html
import json
from typing import Any

import folium
import geopandas as gpd
import numpy as np
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import HeatMap, MarkerCluster
from jinja2 import Template

from aop_map.offline_assets import STREAMLIT_BASE, localise_assets
from aop_map.vocabulary import Vocabulary

# Okabe-Ito colours stay distinct for the common colour-vision deficiencies; shape and outline
# differ too, so status never depends on colour alone.
STATUS_STYLE = {
    "established": {"color": "#004a75", "fillColor": "#0072B2", "radius": 8, "dashArray": None},
    "emerging": {"color": "#7a5200", "fillColor": "#E69F00", "radius": 7, "dashArray": "3 2"},
}
STATUS_ORDER = ("established", "emerging")
# Without a tile layer (offline) Leaflet has no maxZoom, and marker clustering then fails
# ("Map has no maxZoom specified"): the map must set one itself.
MAX_ZOOM = 18
# Gloucestershire's extent, for an empty selection.
GLOS_BOUNDS = [[51.57, -2.69], [52.12, -1.61]]
OSM_ATTRIBUTION = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                   "contributors")


def safe_json(value: Any) -> str:
    """JSON that is safe inside an HTML <script>: no '</script>', comments or line breaks."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def compact_payload(frame: gpd.GeoDataFrame, vocabulary: Vocabulary) -> dict[str, Any]:
    """Points as [lat, lon, status, record] and records as [id, name, arts, conds, areas]."""
    located = frame[frame.geometry.notna()] if len(frame) else frame
    labels = {key: [t.label for t in vocabulary.terms(field)] for key, field in
              (("a", "art_forms"), ("c", "conditions"), ("d", "areas_served"))}
    positions = {key: {t.id: i for i, t in enumerate(vocabulary.terms(field))} for key, field
                 in (("a", "art_forms"), ("c", "conditions"), ("d", "areas_served"))}
    record_index: dict[str, int] = {}
    records: list[list[Any]] = []
    for rid, name, arts, conds, areas in zip(
            located["record_id"], located["name"], located["art_forms"],
            located["conditions"], located["areas_served"], strict=True):
        if rid not in record_index:
            record_index[rid] = len(records)
            records.append([rid, name, [positions["a"][t] for t in arts if t in positions["a"]],
                            [positions["c"][t] for t in conds if t in positions["c"]],
                            [positions["d"][t] for t in areas if t in positions["d"]]])
    status_code = {s: i for i, s in enumerate(STATUS_ORDER)}
    lat = np.round(located["lat"].to_numpy(dtype=float), 5) if len(located) else []
    lon = np.round(located["lon"].to_numpy(dtype=float), 5) if len(located) else []
    points = [[float(a), float(o), status_code.get(s, 0), record_index[r]] for a, o, s, r in
              zip(lat, lon, located["status"], located["record_id"], strict=True)]
    return {"p": points, "r": records, "l": labels}


class ProviderLayer(JSCSSMixin, Layer):
    """Clustered circle markers built in the browser from a compact payload."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
  var data = {{ this.payload }};
  var styles = {{ this.styles }};
  var link = {{ this.link_template }};
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function terms(key, ids) {
    return ids.map(function (i) { return esc(data.l[key][i]); }).join(", ") || "&ndash;";
  }
  function popup(r) {
    var href = link.split("{id}").join(encodeURIComponent(r[0]));
    return '<div class="aop-popup"><strong>' + esc(r[1]) + '</strong>' +
      '<br><b>Art forms:</b> ' + terms("a", r[2]) +
      '<br><b>Conditions:</b> ' + terms("c", r[3]) +
      '<br><b>Areas:</b> ' + terms("d", r[4]) +
      '<br><a href="' + esc(href) + '" target="_blank" rel="noopener">Provider page</a></div>';
  }
  var group = L.markerClusterGroup({chunkedLoading: true, showCoverageOnHover: false,
                                    maxClusterRadius: 50});
  var markers = data.p.map(function (p) {
    var r = data.r[p[3]];
    var m = L.circleMarker([p[0], p[1]], Object.assign({weight: 2, fillOpacity: 0.85},
                                                       styles[p[2]]));
    m.bindTooltip(esc(r[1]));
    m.bindPopup(function () { return popup(r); }, {maxWidth: 320});
    m.options.recordId = r[0];
    return m;
  });
  group.addLayers(markers);
  {%- if this.show %}
  group.addTo({{ this._parent.get_name() }});
  {%- endif %}
  return group;
})();
{% endmacro %}
""")
    default_js = MarkerCluster.default_js
    default_css = MarkerCluster.default_css

    def __init__(self, payload: dict[str, Any], link_template: str,
                 name: str = "Providers and activities") -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ProviderLayer"
        self.payload = safe_json(payload)
        styles = [{k: v for k, v in STATUS_STYLE[s].items() if v is not None}
                  for s in STATUS_ORDER]
        self.styles = safe_json(styles)
        self.link_template = safe_json(link_template)


class EnergyLayer(JSCSSMixin, Layer):
    """A heat layer from the provider payload's points (no second copy of the coordinates)."""

    _template = Template("""
{% macro script(this, kwargs) %}
// The heat sits in its own pane below the markers' overlay pane, so it never hides them.
if (!{{ this._parent.get_name() }}.getPane("aopEnergy")) {
  {{ this._parent.get_name() }}.createPane("aopEnergy");
  {{ this._parent.get_name() }}.getPane("aopEnergy").style.zIndex = 350;
  {{ this._parent.get_name() }}.getPane("aopEnergy").style.pointerEvents = "none";
}
var {{ this.get_name() }} = L.heatLayer(
  {{ this.source }}.getLayers().map(function (m) {
    var ll = m.getLatLng();
    return [ll.lat, ll.lng, m.options.fillColor === "#E69F00" ? {{ this.emerging_weight }} : 1];
  }), {radius: 28, blur: 22, minOpacity: 0.25, maxZoom: 12, pane: "aopEnergy"});
{%- if this.show %}
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{%- endif %}
{% endmacro %}
""")
    default_js = HeatMap.default_js

    def __init__(self, source: ProviderLayer, *, show: bool = True,
                 emerging_weight: float = 0.6) -> None:
        super().__init__(name="Energy: where activity concentrates", overlay=True,
                         control=True, show=show)
        self._name = "EnergyLayer"
        self.source = source.get_name()
        self.emerging_weight = emerging_weight


class Legend(MacroElement):
    """A status legend inside the map (text and shapes, not colour alone)."""

    _template = Template("""
{% macro html(this, kwargs) %}
<div class="aop-legend" role="region" aria-label="Map legend" style="position:absolute;
 bottom:24px;left:10px;z-index:1000;background:rgba(255,255,255,.92);padding:6px 10px;
 border-radius:4px;font:13px/1.5 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">
 <strong>Status</strong><br>
 <span style="display:inline-block;width:12px;height:12px;border-radius:50%;
  background:#0072B2;border:2px solid #004a75"></span> Established<br>
 <span style="display:inline-block;width:11px;height:11px;border-radius:50%;
  background:#E69F00;border:2px dashed #7a5200"></span> Emerging<br>
 <span style="display:inline-block;width:12px;height:12px;border-radius:50%;
  background:rgba(110,204,57,.8)"></span> Cluster (number = activities)
</div>
{% endmacro %}
""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "Legend"


def build_map(
    frame: gpd.GeoDataFrame,
    vocabulary: Vocabulary,
    *,
    districts: gpd.GeoDataFrame | None = None,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    tiles: bool = True,
    energy_layer: bool = True,
    link_template: str = "?id={id}",
    asset_base: str = STREAMLIT_BASE,
    search_area: tuple[float, float, float] | None = None,
) -> folium.Map:
    """The energy map of a selection: clusters by status, heat layer, districts, legend.

    ``search_area`` (lat, lon, radius km) draws the "near" search as a circle.
    """
    m = folium.Map(location=list(center) if center else [51.83, -2.2], zoom_start=zoom or 9,
                   tiles=None, control_scale=True, prefer_canvas=True)
    m.options["max_zoom"] = MAX_ZOOM
    if tiles:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", attr=OSM_ATTRIBUTION,
                         control=False).add_to(m)
    if districts is not None and len(districts):
        _add_districts(m, districts)
    payload = compact_payload(frame, vocabulary)
    providers = ProviderLayer(payload, link_template)
    providers.add_to(m)
    if energy_layer and payload["p"]:
        EnergyLayer(providers).add_to(m)
    Legend().add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if search_area is not None:
        lat, lon, radius_km = search_area
        folium.Circle([lat, lon], radius=radius_km * 1000, color="#333333", weight=1.5,
                      fill=False, dash_array="6 4",
                      tooltip=f"Search area: {radius_km:g} km").add_to(m)
        folium.CircleMarker([lat, lon], radius=4, color="#000000", fill=True,
                            fill_opacity=1, tooltip="Searched place").add_to(m)
    if center is None:
        points = payload["p"]
        if search_area is not None:
            lat, lon, radius_km = search_area
            pad = radius_km / 111
            points = [*points, [lat - pad, lon - pad * 1.6], [lat + pad, lon + pad * 1.6]]
        m.fit_bounds(_bounds(points), max_zoom=13)
    return localise_assets(m, asset_base)


def _bounds(points: list[list[float]]) -> list[list[float]]:
    if not points:
        return GLOS_BOUNDS
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    pad = 0.02
    return [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]]


def _add_districts(m: folium.Map, districts: gpd.GeoDataFrame) -> None:
    folium.GeoJson(
        districts[["name", "geometry"]].to_json(),
        name="District outlines (approximate)",
        style_function=lambda _f: {"color": "#555555", "weight": 1.5, "fill": True,
                                   "fillOpacity": 0.03, "dashArray": "4 3"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["District"]),
        control=True,
    ).add_to(m)


def build_location_map(rows: gpd.GeoDataFrame, vocabulary: Vocabulary, *,
                       tiles: bool = True, asset_base: str = STREAMLIT_BASE) -> folium.Map:
    """A small map of one record's locations (a handful of points)."""
    located = rows[rows.geometry.notna()] if len(rows) else rows
    m = folium.Map(tiles=None, control_scale=True)
    m.options["max_zoom"] = MAX_ZOOM
    if tiles:
        folium.TileLayer("OpenStreetMap", attr=OSM_ATTRIBUTION).add_to(m)
    for row in located.itertuples():
        style = STATUS_STYLE.get(row.status, STATUS_STYLE["established"])
        label = row.location_label or row.place or row.postcode or row.name
        folium.CircleMarker(
            [row.lat, row.lon], radius=9, color=style["color"], fill_color=style["fillColor"],
            fill_opacity=0.85, weight=2,
            tooltip=folium.Tooltip(_escape(f"{label} ({vocabulary.label('status', row.status)},"
                                           f" located by {row.location_precision})")),
        ).add_to(m)
    points = [[r.lat, r.lon] for r in located.itertuples()]
    m.fit_bounds(_bounds(points) if points else GLOS_BOUNDS, max_zoom=14)
    return localise_assets(m, asset_base)


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)
