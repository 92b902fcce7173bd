"""GeoDataFrame -> folium.Map; returns the map, never renders, saves or displays it.

Records reach the browser as one compact JSON payload -- per point ``[lat, lon, status,
record]``, per record ``[id, name, art forms, conditions, areas]`` as indices into label
tables sent once -- from which a little JavaScript builds clustered circle markers, popups
and the energy (heat) layer. One ``folium.Marker`` with an HTML popup per record costs ~1 KB
of HTML and ~1 ms of Python each; this costs <100 bytes and microseconds.

Escaping, twice over: the payload is JSON with ``<``, ``>``, ``&`` and U+2028/9 written as
``\\uXXXX`` so no text can close the ``<script>`` it sits in, and popups and tooltips pass
every string through an HTML-escaping function in JavaScript before it becomes markup.

Never a template: branca renders each element's macros, then wraps the *output* in a new
``Element(output)`` -- a Jinja template -- which the page render evaluates again, so text such
as ``{{ ... }}`` in a record would run on the server and ``{%`` or ``{#`` would break the page.
Every element here that carries record text is a ``LiteralMacro``: its rendered output goes
into the page as a ``Literal``, which is never compiled. folium's own elements (tiles, circles,
fit-bounds, layer control) only ever get numbers and this module's fixed strings.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlsplit

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import HeatMap, MarkerCluster
from jinja2 import Template

from aop_map.offline_assets import STREAMLIT_BASE, localise_assets
from aop_map.vocabulary import Vocabulary

# Okabe-Ito blue and orange stay distinct for the common colour-vision deficiencies; emerging
# markers are also smaller with a dashed outline, and the legend and popups say it in words.
STATUS_ORDER = ("established", "emerging")
STATUS_STYLE: dict[str, dict[str, Any]] = {
    "established": {"color": "#003f63", "fillColor": "#0072B2", "radius": 8, "weight": 2},
    "emerging": {
        "color": "#6b4500",
        "fillColor": "#E69F00",
        "radius": 7,
        "weight": 2,
        "dashArray": "3 2",
    },
}
# Emerging activity counts half in the energy layer: a pilot or a plan is energy that is
# starting, not yet the capacity of a running service, so a cluster of pilots glows less than
# the same number of established services (but is still visible where nothing is established).
EMERGING_WEIGHT = 0.5
GLOS_BOUNDS = [[51.57, -2.69], [52.12, -1.61]]  # Gloucestershire, for an empty map
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
# Shown where tiles would be: a calm colour reads as "no background map", Leaflet's grey as
# "broken".
BACKGROUND = "#eef2f5"
# Magma: perceptually even and readable with any colour vision; leaflet.heat's default runs
# blue-green-red, the pair most people with colour-blindness cannot tell apart.
ENERGY_GRADIENT = {
    "0.2": "#3b0f70",
    "0.45": "#8c2981",
    "0.7": "#de4968",
    "0.9": "#fe9f6d",
    "1.0": "#fcfdbf",
}
# The map's own zoom limits: without tiles nothing else sets them, and markercluster builds
# its clusters for every level between them (zoom 5 shows all of Great Britain).
MAX_ZOOM = 19
MIN_ZOOM = 5
# The energy layer is at full strength up to this zoom (a district or so) and fades beyond,
# where single markers say more than a glow.
ENERGY_FULL_ZOOM = 12
COORD_DECIMALS = 5  # ~1 m: finer than any postcode centroid, and 2 bytes a point cheaper
LABELS = {"a": "art_forms", "c": "conditions", "d": "areas_served"}


def safe_json(value: Any) -> str:
    """JSON that is safe inside an HTML <script>: no '</script>', '<!--', '&' or line breaks.

    ``'`` is written as ``\\u0027`` as well: streamlit-folium rewrites ``{{'name'}}`` in a
    map's script into a bare name, which would change a record's text that looked like it.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("'", "\\u0027"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, escaped)
    return text


def html_text(value: Any) -> str:
    """Text made safe for HTML, and for the JS template literals folium wraps tooltips in.

    Besides ``& < > " '`` this writes `` ` ``, ``$`` and ``\\`` as character references: inside
    a template literal they would end it, start ``${...}`` or start an escape.
    """
    text = "" if value is None else str(value)
    for raw, escaped in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("'", "&#39;"),
        ("`", "&#96;"),
        ("$", "&#36;"),
        ("\\", "&#92;"),
    ):
        text = text.replace(raw, escaped)
    return text


class Literal(Element):
    """Text already rendered, placed in the page as it is: never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Literal"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class LiteralMacro(MacroElement):
    """A MacroElement whose rendered header, html and script reach the page as ``Literal``s.

    branca's ``MacroElement.render`` adds ``Element(rendered)``: the rendered text becomes the
    source of a new template, evaluated when the page renders. Here the template is only ever
    this class's own fixed ``_template``; the values it renders (record text among them) stay
    values. Listed after folium's classes in a subclass's bases, so their ``render`` (adding
    links, the add-to-map call) runs first and ends here instead of in ``MacroElement``.
    """

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError(f"{type(self).__name__} can only render inside a Figure")
        for part in ("header", "html", "script"):
            macro = self._template.module.__dict__.get(part)
            if macro is not None:
                getattr(figure, part).add_child(Literal(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


# HTML-escaping in the browser: every string from a payload passes through esc() before it
# becomes markup (popups and tooltips are HTML).
JS_ESCAPE = """
  var ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return ESCAPES[c]; });
  }"""


def _located(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows with a usable point (in EPSG:4326), as a new frame."""
    if not len(frame):
        return frame
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    geometry = frame.geometry
    keep = geometry.notna().to_numpy() & ~geometry.is_empty.to_numpy()
    return frame[keep]


def _term_indices(values: pd.Series, vocabulary: Vocabulary, field: str) -> list[list[int]]:
    """Each cell's term ids as positions in the field's label table (unknown ids dropped)."""
    position = {t.id: i for i, t in enumerate(vocabulary.terms(field))}
    cache: dict[Any, list[int]] = {}
    out = []
    for value in values:
        key = value if isinstance(value, tuple) else tuple(value or ())
        if key not in cache:
            cache[key] = [position[t] for t in key if t in position]
        out.append(cache[key])
    return out


def spatial_order(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Positions that sort points south to north (west to east within a latitude).

    Leaflet.markercluster clusters points one at a time, looking each up in a grid of cells
    per zoom level. In spatial order, consecutive points read the same cells, still in the
    CPU's caches: at 100,000 points its grid lookups (`getNearObject`) took 0.45 s instead of
    2.0 s, and the map showed its clusters in 4.9 s instead of 7.6 s (bench, browser stage).
    """
    return np.lexsort((lon, lat))


def compact_payload(frame: gpd.GeoDataFrame, vocabulary: Vocabulary) -> dict[str, Any]:
    """What the browser needs for the first view, and nothing more.

    ``p``: one ``[lat, lon, status (0 established, 1 emerging), record]`` per located row,
    ordered south to north (see ``spatial_order``); ``r``: one ``[id, name, art forms,
    conditions, areas]`` per record, terms as indices into ``l``, the label tables (``a``,
    ``c``, ``d``); ``s``: the status labels.
    """
    located = _located(frame)
    labels = {key: [t.label for t in vocabulary.terms(f)] for key, f in LABELS.items()}
    status_labels = [vocabulary.label("status", s) for s in STATUS_ORDER]
    if not len(located):
        return {"p": [], "r": [], "l": labels, "s": status_labels}
    codes, _ = pd.factorize(located["record_id"].to_numpy(dtype=object))
    first = located.drop_duplicates("record_id", keep="first")
    columns = [_term_indices(first[f], vocabulary, f) for f in LABELS.values()]
    names = ["" if not isinstance(n, str) else n for n in first["name"]]
    records = [
        [str(rid), name, *terms]
        for rid, name, *terms in zip(first["record_id"], names, *columns, strict=True)
    ]
    lat = np.round(located.geometry.y.to_numpy(dtype=float), COORD_DECIMALS)
    lon = np.round(located.geometry.x.to_numpy(dtype=float), COORD_DECIMALS)
    status = (located["status"].to_numpy(dtype=object) == "emerging").astype(int)
    order = spatial_order(lat, lon)
    points = [
        list(row)
        for row in zip(
            lat[order].tolist(),
            lon[order].tolist(),
            status[order].tolist(),
            codes[order].tolist(),
            strict=True,
        )
    ]
    return {"p": points, "r": records, "l": labels, "s": status_labels}


class ProviderLayer(JSCSSMixin, Layer, LiteralMacro):
    """Clustered circle markers built in the browser from a compact payload.

    Clusters are small pies: the orange share is the emerging share, the number the places.
    A marker's click event carries the marker's own position (not the mouse's), so
    streamlit-folium's ``last_object_clicked`` names the point exactly.
    """

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.aop-cluster{background:transparent}
.aop-cluster div{width:100%;height:100%;border-radius:50%;display:flex;align-items:center;
 justify-content:center;box-shadow:0 0 0 2px rgba(255,255,255,.85),0 1px 4px rgba(0,0,0,.4)}
.aop-cluster span{background:#fff;color:#1a1a1a;border-radius:50%;width:64%;height:64%;
 display:flex;align-items:center;justify-content:center;font:bold 12px/1 sans-serif}
.aop-popup{font:13px/1.45 sans-serif;max-width:300px}
.aop-popup .aop-status{display:inline-block;padding:0 6px;border-radius:8px;font-size:12px;
 border:1px solid #555}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
  var data = {{ this.payload }};
  var styles = {{ this.styles }};
  var link = {{ this.link_template }};
  {{ this.js_escape }}
  function terms(key, ids) {
    return ids.map(function (i) { return esc(data.l[key][i]); }).join(", ") || "&ndash;";
  }
  function popup(r, status) {
    var href = link.split("{id}").join(encodeURIComponent(r[0]));
    return '<div class="aop-popup"><strong>' + esc(r[1]) + '</strong> ' +
      '<span class="aop-status" style="background:' + styles[status].fillColor + '33">' +
      esc(data.s[status]) + '</span>' +
      '<br><b>Art forms:</b> ' + terms("a", r[2]) +
      '<br><b>Conditions:</b> ' + terms("c", r[3]) +
      '<br><b>Areas served:</b> ' + terms("d", r[4]) +
      '<br><a class="aop-open" href="' + esc(href) + '" target="_top">' +
      'Open the provider page</a></div>';
  }
  // The map sits in Streamlit's sandboxed iframe, which may not navigate the app's window
  // (Chromium refuses target="_top"). That window is the same origin: put the provider page's
  // address in its history and tell it, and Streamlit routes to the page as it does for Back
  // and Forward -- same tab, the address shows ?id=..., Back returns to the map as it was.
  function openInApp(event) {
    var top = window.top;
    if (top === window) { return; }  // a page of its own: the link works as a link
    try {
      top.history.pushState(null, "", event.currentTarget.href);
      top.dispatchEvent(new PopStateEvent("popstate"));
    } catch (e) {
      window.open(event.currentTarget.href, "_blank", "noopener");  // another origin
    }
    event.preventDefault();
  }
  function clusterIcon(cluster) {
    var children = cluster.getAllChildMarkers(), emerging = 0, n = children.length;
    for (var i = 0; i < n; i++) { if (children[i].options.aopStatus === 1) { emerging++; } }
    var share = Math.round(100 * emerging / n), size = n < 10 ? 34 : n < 100 ? 40 : 48;
    var title = n + " places: " + (n - emerging) + " established, " + emerging + " emerging";
    return L.divIcon({
      html: '<div title="' + title + '" aria-label="' + title + '" style="background:' +
        'conic-gradient(' + styles[1].fillColor + ' 0 ' + share + '%, ' +
        styles[0].fillColor + ' ' + share + '% 100%)"><span>' + n + '</span></div>',
      className: "aop-cluster", iconSize: L.point(size, size)});
  }
  var map = {{ this._parent.get_name() }};
  // Chunked: the page stays responsive while 100,000 points are clustered (~200 ms at a
  // time); 1 ms between chunks rather than the default 50, which idled ~0.4 s at 100,000.
  var group = L.markerClusterGroup({chunkedLoading: true, chunkDelay: 1,
    showCoverageOnHover: false, maxClusterRadius: 45, spiderfyOnMaxZoom: true,
    iconCreateFunction: clusterIcon});
  var markers = data.p.map(function (p) {
    return L.circleMarker([p[0], p[1]], Object.assign({fillOpacity: 0.9}, styles[p[2]],
      {aopStatus: p[2], aopId: data.r[p[3]][0], aopRecord: p[3]}));
  });
  // One tooltip and one popup serve every marker, filled when needed: binding a popup, a
  // tooltip and a click handler to each of 10,000 markers cost more than clustering them.
  group.aopData = data;
  group.aopPopupHtml = function (m) {
    return popup(data.r[m.options.aopRecord], m.options.aopStatus);
  };
  var tip = L.tooltip({direction: "top", offset: [0, -4]});
  group.on("mouseover", function (e) {
    tip.setLatLng(e.layer.getLatLng()).setContent(esc(data.r[e.layer.options.aopRecord][1]));
    map.openTooltip(tip);
  });
  group.on("mouseout", function () { map.closeTooltip(tip); });
  group.on("click", function (e) {
    // The marker's own position, not the mouse's: streamlit-folium's last_object_clicked
    // (listening on this group after this handler) then names the point exactly.
    e.latlng = e.layer.getLatLng();
    var opened = L.popup({maxWidth: 320}).setLatLng(e.latlng)
      .setContent(group.aopPopupHtml(e.layer)).openOn(map);
    var open = opened.getElement && opened.getElement().querySelector("a.aop-open");
    if (open) { open.addEventListener("click", openInApp); }
  });
  // On the map first: markercluster checks every marker added to a group that is not yet on
  // a map against its whole queue (quadratic: 7 s of 13.6 s at 100,000 points). No
  // "layeradd" event per marker (true): nothing listens to them.
  {%- if this.show %}
  group.addTo(map);
  {%- endif %}
  group.addLayers(markers, true);
  return group;
})();
{% endmacro %}
""")
    default_js = MarkerCluster.default_js
    default_css = MarkerCluster.default_css

    def __init__(
        self,
        payload: dict[str, Any],
        link_template: str,
        name: str = "Providers and activities",
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "ProviderLayer"
        self.payload = safe_json(payload)
        self.styles = safe_json([STATUS_STYLE[s] for s in STATUS_ORDER])
        self.link_template = safe_json(check_link_template(link_template))
        self.js_escape = JS_ESCAPE


class EnergyLayer(JSCSSMixin, Layer, LiteralMacro):
    """A weighted heat layer read from the provider layer's payload (no second copy)."""

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (map) {
  // Its own pane between tiles (200) and markers (400): the glow stays under the markers and
  // never takes their clicks.
  if (!map.getPane("aopEnergy")) {
    var pane = map.createPane("aopEnergy");
    pane.style.zIndex = 350;
    pane.style.pointerEvents = "none";
  }
  return L.heatLayer(
    {{ this.source }}.aopData.p.map(function (p) {
      return [p[0], p[1], p[2] === 1 ? {{ this.emerging_weight }} : 1];
    }),
    // maxZoom = the map's, so the layer control never greys the layer out; `max` scales the
    // glow so it is full strength at ENERGY_FULL_ZOOM and fades by half per zoom level in.
    {radius: 26, blur: 22, minOpacity: 0.2, maxZoom: {{ this.max_zoom }}, max: {{ this.max }},
     pane: "aopEnergy",
     gradient: {{ this.gradient }}});
})({{ this._parent.get_name() }});
{%- if this.show %}
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{%- endif %}
{% endmacro %}
""")
    default_js = HeatMap.default_js

    def __init__(
        self, source: ProviderLayer, *, show: bool = True, emerging_weight: float = EMERGING_WEIGHT
    ) -> None:
        super().__init__(
            name="Energy: where activity concentrates", overlay=True, control=True, show=show
        )
        self._name = "EnergyLayer"
        self.source = source.get_name()
        self.emerging_weight = float(emerging_weight)
        self.gradient = safe_json(ENERGY_GRADIENT)
        self.max_zoom = MAX_ZOOM
        self.max = 2.0 ** -(MAX_ZOOM - ENERGY_FULL_ZOOM)


class Legend(LiteralMacro):
    """The legend, as a Leaflet control inside the map: words and shapes, not colour alone."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.aop-legend{background:rgba(255,255,255,.94);padding:6px 10px;border-radius:4px;
 font:12px/1.6 sans-serif;color:#1a1a1a;box-shadow:0 1px 4px rgba(0,0,0,.3);max-width:230px}
.aop-legend i{display:inline-block;vertical-align:middle;margin-right:6px;border-radius:50%}
.aop-legend .aop-bar{width:60px;height:9px;border-radius:2px}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function (map) {
  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "aop-legend");
    div.setAttribute("role", "region");
    div.setAttribute("aria-label", "Map legend");
    div.innerHTML = {{ this.markup }};
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(map);
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, *, energy: bool = True, tiles: bool = True) -> None:
        super().__init__()
        self._name = "Legend"
        self.markup = safe_json(legend_markup(energy=energy, tiles=tiles))


def _swatch(style: dict[str, Any]) -> str:
    size = 2 * style["radius"] - 2
    border = "dashed" if style.get("dashArray") else "solid"
    return (
        f'<i style="width:{size}px;height:{size}px;background:{style["fillColor"]};'
        f'border:2px {border} {style["color"]}"></i>'
    )


def legend_markup(*, energy: bool = True, tiles: bool = True) -> str:
    """The legend's HTML (fixed text: no user data ever goes in here)."""
    established, emerging = (STATUS_STYLE[s] for s in STATUS_ORDER)
    pie = (
        f"background:conic-gradient({emerging['fillColor']} 0 30%, "
        f"{established['fillColor']} 30% 100%)"
    )
    stops = ", ".join(f"{c} {float(k) * 100:.0f}%" for k, c in ENERGY_GRADIENT.items())
    lines = [
        "<strong>Status</strong>",
        f"{_swatch(established)}Established (running, commissioned)",
        f"{_swatch(emerging)}Emerging (new, pilot; dashed)",
        f'<i style="width:14px;height:14px;{pie}"></i>Group: number of places, '
        "orange share emerging",
    ]
    if energy:
        lines.append(
            f'<i class="aop-bar" style="background:linear-gradient(90deg, {stops})"></i>'
            "Energy: more activity, lighter (emerging counts half)"
        )
    if not tiles:
        lines.append("<em>No background map (offline)</em>")
    return "<br>".join(lines)


def check_link_template(template: str) -> str:
    """A provider-page link pattern: must hold ``{id}`` and be relative or http(s)."""
    if "{id}" not in template:
        raise ValueError(f"link_template needs an {{id}} slot: {template!r}")
    scheme = urlsplit(template.replace("{id}", "x")).scheme.lower()
    if scheme not in ("", "http", "https"):
        raise ValueError(f"link_template must be relative or http(s): {template!r}")
    return template


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


def _add_base(m: folium.Map, tiles: bool) -> None:
    """The map's background colour, and OpenStreetMap tiles unless offline."""
    style = f"<style>#{m.get_name()}{{background:{BACKGROUND}}}</style>"
    m.get_root().header.add_child(Literal(style), name="aop_map_background")
    if tiles:
        folium.TileLayer(
            tiles=OSM_TILES,
            name="OpenStreetMap",
            attr=OSM_ATTRIBUTION,
            max_zoom=MAX_ZOOM,
            control=False,
        ).add_to(m)


def _district_names(districts: gpd.GeoDataFrame) -> pd.Series:
    for column in ("name", "district_name", "label"):
        if column in districts:
            return districts[column].fillna("").astype(str)
    return pd.Series([""] * len(districts), index=districts.index)


DISTRICT_STYLE = {"color": "#4d4d4d", "weight": 1.5, "fill": True, "fillOpacity": 0.03,
                  "dashArray": "5 4"}
DISTRICT_HIGHLIGHT = {"weight": 2.5, "fillOpacity": 0.08}


class DistrictLayer(Layer, LiteralMacro):
    """District outlines: dashed, almost no fill, the name in a tooltip on hover.

    The outlines and names travel as a JSON value (``safe_json``); the browser escapes each
    name before it becomes the tooltip's HTML.
    """

    _template = Template("""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
  {{ this.js_escape }}
  var style = {{ this.style }}, highlight = {{ this.highlight }};
  var layer = L.geoJSON({{ this.data }}, {
    style: function () { return style; },
    onEachFeature: function (feature, shape) {
      shape.bindTooltip(esc(feature.properties.name),
        {sticky: true, className: "aop-district-tooltip"});
      shape.on("mouseover", function () { shape.setStyle(highlight); });
      shape.on("mouseout", function () { shape.setStyle(style); });
    }
  });
  return layer;
})();
{% endmacro %}
""")

    def __init__(self, districts: gpd.GeoDataFrame, name: str) -> None:
        super().__init__(name=name, overlay=True, control=True, show=True)
        self._name = "DistrictLayer"
        shapes = districts if districts.crs is None else districts.to_crs("EPSG:4326")
        outlines = gpd.GeoDataFrame(
            {"name": _district_names(shapes).to_numpy()},
            geometry=shapes.geometry.to_numpy(),
            crs="EPSG:4326",
        )
        self.data = safe_json(json.loads(outlines.to_json()))
        self.style = safe_json(DISTRICT_STYLE)
        self.highlight = safe_json(DISTRICT_HIGHLIGHT)
        self.js_escape = JS_ESCAPE


def _add_districts(m: folium.Map, districts: gpd.GeoDataFrame) -> None:
    """District outlines with their names on hover."""
    DistrictLayer(districts, name="District outlines (approximate)").add_to(m)


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
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    tiles: bool = True,
    energy_layer: bool = True,
    link_template: str = "?id={id}",
    search_area: tuple[float, float, float] | None = None,
    asset_base: str = STREAMLIT_BASE,
) -> folium.Map:
    """The energy map of a selection: clustered markers by status, energy (heat) layer,
    district outlines, legend and layer control. Never changes `frame`.

    Without `center` the map fits the `search_area` (lat, lon, radius km) if given, else the
    points, else Gloucestershire (`zoom` then caps the zoom). ``tiles=False`` adds no tile
    layer (offline): the map shows a plain background. `link_template` is the provider
    page's address with an ``{id}`` slot, filled with the URL-encoded record id.
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
    _add_base(m, tiles)
    if districts is not None and len(districts):
        _add_districts(m, districts)
    if search_area is not None:
        _add_search_area(m, search_area)
    payload = compact_payload(frame, vocabulary)
    providers = ProviderLayer(payload, link_template)
    providers.add_to(m)
    energy = energy_layer and bool(payload["p"])
    if energy:
        EnergyLayer(providers).add_to(m)
    Legend(energy=energy, tiles=tiles).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    if center is None:
        m.fit_bounds(_box(payload["p"], search_area), max_zoom=zoom or 13)
    return _localise(m, asset_base)


def _location_point(row: Any, vocabulary: Vocabulary) -> list[Any]:
    """``[lat, lon, status (0 established, 1 emerging), tooltip text]`` of one location."""
    where = next(
        (
            v
            for v in (row.location_label, row.place, row.postcode, row.name)
            if isinstance(v, str) and v.strip()
        ),
        "",
    )
    status = vocabulary.label("status", row.status) if isinstance(row.status, str) else ""
    text = f"{where} ({status}; placed by {row.location_precision})"
    return [row.geometry.y, row.geometry.x, int(row.status == "emerging"), text]


class LocationPoints(LiteralMacro):
    """A record's few locations as circle markers, each with its (escaped) tooltip."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function (map) {
  {{ this.js_escape }}
  var styles = {{ this.styles }};
  {{ this.points }}.forEach(function (p) {
    L.circleMarker([p[0], p[1]], Object.assign({fillOpacity: 0.9}, styles[p[2]], {radius: 9}))
      .bindTooltip(esc(p[3])).addTo(map);
  });
})({{ this._parent.get_name() }});
{% endmacro %}
""")

    def __init__(self, points: list[list[Any]]) -> None:
        super().__init__()
        self._name = "LocationPoints"
        self.points = safe_json(points)
        self.styles = safe_json([STATUS_STYLE[s] for s in STATUS_ORDER])
        self.js_escape = JS_ESCAPE


def build_location_map(
    frame_rows: gpd.GeoDataFrame,
    vocabulary: Vocabulary,
    *,
    tiles: bool = True,
    asset_base: str = STREAMLIT_BASE,
) -> folium.Map:
    """A small map of one record's locations (a handful of plain circle markers)."""
    located = _located(frame_rows)
    m = folium.Map(location=[51.845, -2.15], zoom_start=9, tiles=None, control_scale=True)
    m.options["maxZoom"] = MAX_ZOOM
    _add_base(m, tiles)
    places = [_location_point(row, vocabulary) for row in located.itertuples(index=False)]
    if places:
        LocationPoints(places).add_to(m)
    points = [place[:2] for place in places]
    m.fit_bounds(_box(points, None), max_zoom=14)
    return _localise(m, asset_base)
