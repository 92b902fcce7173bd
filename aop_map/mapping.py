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

District and place names on the base map (boundaries, the activity choropleth, labels) are
data in the same way: JSON values in ``LiteralMacro`` elements, escaped with ``esc()``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any
from urllib.parse import urlsplit

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.affinity
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import HeatMap, MarkerCluster
from jinja2 import Template
from shapely.ops import polylabel

from aop_map import review
from aop_map.energy import (
    EMERGING_WEIGHT,  # emerging counts half in the energy layers (why: aop_map.energy)
    activity_text,
    class_breaks,
    class_of,
    district_activity,
)
from aop_map.offline_assets import STREAMLIT_BASE, localise_assets
from aop_map.records import ended_text
from aop_map.vocabulary import Vocabulary

# Okabe-Ito blue and orange stay distinct for the common colour-vision deficiencies; emerging
# markers are also smaller with a dashed outline, and the legend and popups say it in words.
# Ended activity (shown only when asked for) is grey, pale, small and dotted: told apart by
# lightness and outline, not hue, and its popup says "ended 2019".
STATUS_ORDER = ("established", "emerging", "ended")
STATUS_STYLE: dict[str, dict[str, Any]] = {
    "established": {"color": "#003f63", "fillColor": "#0072B2", "radius": 8, "weight": 2},
    "emerging": {
        "color": "#6b4500",
        "fillColor": "#E69F00",
        "radius": 7,
        "weight": 2,
        "dashArray": "3 2",
    },
    "ended": {
        "color": "#4d4d4d",
        "fillColor": "#bdbdbd",
        "fillOpacity": 0.55,
        "radius": 6,
        "weight": 1.5,
        "dashArray": "1 3",
    },
}
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
# The closest a map zooms to fit its points: a town with the country around it. Closer, a single
# record would fill the map with blank background (no tiles offline, few place names).
MAX_FIT_ZOOM = 12
# Below this map width (px, a phone) the layer control starts folded and the legends closed:
# open, they cover the zoom buttons and about a third of the map.
NARROW_MAP_PX = 600
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


# A legend that folds: a real button (keyboard operable, aria-expanded) above its body, open
# unless the map is narrow. Fixed text only; `label` is one of this module's constants.
COLLAPSIBLE_JS = """
  function aopCollapsible(map, div, label, narrowPx) {
    var button = L.DomUtil.create("button", "aop-toggle", div), shown = true;
    if (div.insertBefore) { div.insertBefore(button, div.firstChild); }
    button.type = "button";
    function set(open) {
      shown = open;
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.textContent = (open ? "Hide " : "Show ") + label;
      // Leaflet adds its own classes to a control after onAdd: change only ours.
      div.className = div.className.replace(/ ?aop-folded/g, "") + (open ? "" : " aop-folded");
    }
    button.onclick = function (e) {
      e.preventDefault();
      e.stopPropagation();
      set(!shown);
    };
    set(map.getSize().x >= narrowPx);
  }"""
TOGGLE_CSS = (
    ".aop-toggle{display:block;font:600 12px/1.6 sans-serif;color:#003f63;background:none;"
    "border:0;padding:0;margin:0;cursor:pointer;text-decoration:underline}"
    ".aop-toggle:focus-visible{outline:3px solid #0072B2;outline-offset:2px}"
    ".aop-folded>:not(.aop-toggle){display:none}.aop-folded{width:auto!important}"
)


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


def _status_codes(values: pd.Series) -> np.ndarray:
    """Each status as its place in STATUS_ORDER (an unknown one as established's)."""
    array = values.to_numpy(dtype=object)
    codes = np.zeros(len(array), dtype=int)
    for code, status in enumerate(STATUS_ORDER[1:], start=1):
        codes[array == status] = code
    return codes


def record_notes(first: pd.DataFrame, today: dt.date | None = None) -> list[str]:
    """Per row (one per record): "ended 2019", "may be out of date" (not verified within
    AOP_MAP_REVIEW_MONTHS of `today`), or ""."""
    today = today or dt.date.today()
    months = review.review_months()
    ended = first["ended"] if "ended" in first else pd.Series([None] * len(first))
    out = []
    for row, end in zip(first.itertuples(index=False), ended, strict=True):
        note = ended_text(row.status, end)
        if not note and review.is_out_of_date(row, today, months):
            note = review.OUT_OF_DATE
        out.append(note)
    return out


def compact_payload(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary, today: dt.date | None = None
) -> dict[str, Any]:
    """What the browser needs for the first view, and nothing more.

    ``p``: one ``[lat, lon, status (its place in STATUS_ORDER), record]`` per located row,
    ordered south to north (see ``spatial_order``); ``r``: one ``[id, name, art forms,
    conditions, areas, note]`` per record, terms as indices into ``l``, the label tables
    (``a``, ``c``, ``d``), the note "ended 2019", "may be out of date" (``review``, counted
    from `today`) or ""; ``s``: the status labels.
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
    notes = record_notes(first, today)
    records = [
        [str(rid), name, *terms, note]
        for rid, name, note, *terms in zip(first["record_id"], names, notes, *columns, strict=True)
    ]
    lat = np.round(located.geometry.y.to_numpy(dtype=float), COORD_DECIMALS)
    lon = np.round(located.geometry.x.to_numpy(dtype=float), COORD_DECIMALS)
    status = _status_codes(located["status"])
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
      (r[5] ? '<br><em class="aop-note">' + esc(r[5]) + '</em>' : '') +
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
  // The width the map's controls take on one side (their widest), plus a margin.
  function aside(side) {
    var widest = 0;
    map.getContainer().querySelectorAll(".leaflet-" + side + " .leaflet-control")
      .forEach(function (c) { widest = Math.max(widest, c.offsetWidth); });
    return widest + 10;
  }
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
    var children = cluster.getAllChildMarkers(), emerging = 0, ended = 0, n = children.length;
    for (var i = 0; i < n; i++) {
      var s = children[i].options.aopStatus;
      if (s === 1) { emerging++; } else if (s === 2) { ended++; }
    }
    var share = Math.round(100 * emerging / n), size = n < 10 ? 34 : n < 100 ? 40 : 48;
    var past = share + Math.round(100 * ended / n);
    var title = n + " places: " + (n - emerging - ended) + " established, " + emerging +
      " emerging" + (ended ? ", " + ended + " ended" : "");
    return L.divIcon({
      html: '<div title="' + title + '" aria-label="' + title + '" style="background:' +
        'conic-gradient(' + styles[1].fillColor + ' 0 ' + share + '%, ' +
        styles[2].fillColor + ' ' + share + '% ' + past + '%, ' +
        styles[0].fillColor + ' ' + past + '% 100%)"><span>' + n + '</span></div>',
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
    // Panned clear of the legends and layer control (controls sit above popups), so the
    // popup's link can be read and clicked.
    var opened = L.popup({maxWidth: 320, autoPanPaddingTopLeft: L.point(aside("left"), 10),
                          autoPanPaddingBottomRight: L.point(aside("right"), 10)})
      .setLatLng(e.latlng).setContent(group.aopPopupHtml(e.layer)).openOn(map);
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
    {{ this.source }}.aopData.p.map(function (p) {  // ended activity adds no energy
      return [p[0], p[1], p[2] === 2 ? 0 : p[2] === 1 ? {{ this.emerging_weight }} : 1];
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
{{ this.toggle_css }}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function (map) {
  {{ this.collapsible_js }}
  var legend = L.control({position: "bottomleft"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "aop-legend");
    div.setAttribute("role", "region");
    div.setAttribute("aria-label", "Map legend");
    div.innerHTML = '<div class="aop-body">' + {{ this.markup }} + "</div>";
    aopCollapsible(map, div, "legend", {{ this.narrow_px }});
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
        self.collapsible_js, self.toggle_css = COLLAPSIBLE_JS, TOGGLE_CSS
        self.narrow_px = NARROW_MAP_PX


class FoldOnNarrow(LiteralMacro):
    """Folds the layer control on a narrow map (a phone), where open it would cover the zoom
    buttons; it then opens on a tap or on keyboard focus (Leaflet's own folded control)."""

    _template = Template("""
{% macro script(this, kwargs) %}
(function (map, control) {
  if (map.getSize().x >= {{ this.narrow_px }}) { return; }
  control.remove();
  control.options.collapsed = true;
  control.addTo(map);
})({{ this._parent.get_name() }}, {{ this.control }});
{% endmacro %}
""")

    def __init__(self, control: folium.LayerControl) -> None:
        super().__init__()
        self._name = "FoldOnNarrow"
        self.control = control.get_name()  # a generated identifier, never text from data
        self.narrow_px = NARROW_MAP_PX


def _swatch(style: dict[str, Any]) -> str:
    size = 2 * style["radius"] - 2
    border = "dashed" if style.get("dashArray") else "solid"
    return (
        f'<i style="width:{size}px;height:{size}px;background:{style["fillColor"]};'
        f'border:2px {border} {style["color"]}"></i>'
    )


def legend_markup(*, energy: bool = True, tiles: bool = True) -> str:
    """The legend's HTML (fixed text: no user data ever goes in here)."""
    established, emerging, ended = (STATUS_STYLE[s] for s in STATUS_ORDER)
    pie = (
        f"background:conic-gradient({emerging['fillColor']} 0 30%, "
        f"{established['fillColor']} 30% 100%)"
    )
    stops = ", ".join(f"{c} {float(k) * 100:.0f}%" for k, c in ENERGY_GRADIENT.items())
    lines = [
        "<strong>Status</strong>",
        f"{_swatch(established)}Established (running, commissioned)",
        f"{_swatch(emerging)}Emerging (new, pilot; dashed)",
        f"{_swatch(ended)}Ended (past activity, when included; grey, dotted)",
        f'<i style="width:14px;height:14px;{pie}"></i>Group: number of places, '
        "orange share emerging",
    ]
    if energy:
        lines.append(
            f'<i class="aop-bar" style="background:linear-gradient(90deg, {stops})"></i>'
            "Energy: more activity, lighter (emerging counts half)"
        )
    if not tiles:
        lines.append("<em>No background tiles (offline)</em>")
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


def _add_base(m: folium.Map, tiles: bool) -> str | None:
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


def _district_names(districts: gpd.GeoDataFrame) -> pd.Series:
    for column in ("name", "district_name", "label"):
        if column in districts:
            return districts[column].fillna("").astype(str)
    return pd.Series([""] * len(districts), index=districts.index)


# ---------------------------------------------------------------------------------------------
# The base map (county outline, district boundaries, names) and the activity choropleth.
# District and place names are data like any record's text: they travel as safe_json values
# and pass through esc() in the browser before they become markup.

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

# ColorBrewer YlGn: a sequential scale readable with any colour vision (lightness carries it)
# and apart from the markers' blue and orange and the energy layer's magma. Fewer classes take
# colours spread across it. "None" is near-white, so a district with nothing reads as empty.
ACTIVITY_COLOURS = ("#d9f0a3", "#addd8e", "#78c679", "#41ab5d", "#238443", "#005a32")
ACTIVITY_NONE = "#ffffff"
ACTIVITY_OPACITY = 0.6
ACTIVITY_STYLE = {"stroke": False, "fill": True, "fillOpacity": ACTIVITY_OPACITY}
ACTIVITY_HIGHLIGHT = {"stroke": True, "color": "#1a1a1a", "weight": 3, "opacity": 1}
ACTIVITY_HINT = "Point at or tap a district for its numbers."

# Label kinds, in the order the payload numbers them: CSS class suffix, font (CSS, and for
# measuring the text in the browser), line height (px), letter spacing (px), upper case.
LABEL_KINDS: dict[str, tuple[str, int, float, bool]] = {
    "district": ("bold 11px sans-serif", 13, 1.5, True),
    "city": ("bold 14px sans-serif", 16, 0, False),
    "town": ("bold 12px sans-serif", 14, 0, False),
    "village": ("11px sans-serif", 13, 0, False),
    "suburb": ("italic 11px sans-serif", 13, 0, False),
}
PLACE_KINDS = {"City": "city", "Town": "town", "Village": "village", "Suburban Area": "suburb"}
# Zooms at which each kind is named (the county is ~400 px wide at zoom 9): districts only
# while the whole county is in view, then towns, the larger villages, villages and suburbs.
# Within that, labels are placed in priority order and one that would touch a placed label is
# left out, so they never overlap however many qualify.
LABEL_ZOOMS = {
    "district": (8, 10),
    "city": (8, MAX_ZOOM),
    "town": (9, MAX_ZOOM),
    "village": (12, MAX_ZOOM),
    "suburb": (13, MAX_ZOOM),
}
# Villages with at least this many postcodes within 1 km (mapdata/basemap/places.json) are
# "larger" and named from this zoom.
LARGE_VILLAGE_POSTCODES = 50
LARGE_VILLAGE_ZOOM = 11
LABEL_GAP_PX = 3
# Place names sit beside their point (above, else below, right or left), where a marker at the
# town centre (8 px in radius) hides at most their edge; district names are centred.
LABEL_LIFT_PX = 6
# With tiles, the tiles carry place names; ours appear only if this many tiles fail to load
# before one succeeds (the browser is offline although the server was not).
TILE_FAILURES = 3


def _rounded(value: float) -> float:
    return round(float(value), COORD_DECIMALS)


def _features(districts: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """The districts as GeoJSON features (EPSG:4326), geometry only: names travel elsewhere."""
    shapes = districts if districts.crs is None else districts.to_crs("EPSG:4326")
    return [
        {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(shape))}
        for shape in shapes.geometry
    ]


def _label_point(shape: Any) -> tuple[float, float]:
    """(lat, lon) inside a district, far from its edges (polylabel, with longitude scaled)."""
    if shape.geom_type == "MultiPolygon":
        shape = max(shape.geoms, key=lambda part: part.area)
    if shape.geom_type != "Polygon":
        point = shape.representative_point()
        return _rounded(point.y), _rounded(point.x)
    scale = math.cos(math.radians(shape.centroid.y))
    flat = shapely.affinity.scale(shape, xfact=scale, yfact=1.0, origin=(0, 0))
    point = polylabel(flat, tolerance=0.002)
    return _rounded(point.y), _rounded(point.x / scale)


def label_payload(
    districts: gpd.GeoDataFrame | None, places: pd.DataFrame | None
) -> list[list[Any]]:
    """``[name, lat, lon, kind, min zoom, max zoom]`` per label, in priority order.

    The city first; then towns named like their district (they name it too: Cheltenham,
    Stroud); then the districts; then other towns, villages and suburbs, larger first.
    """
    kinds = list(LABEL_KINDS)
    rows: list[tuple[int, int, list[Any]]] = []
    district_names = set()
    if districts is not None and len(districts):
        shapes = districts if districts.crs is None else districts.to_crs("EPSG:4326")
        for name, shape in zip(_district_names(shapes), shapes.geometry, strict=True):
            if not name or shape is None or shape.is_empty:
                continue
            district_names.add(name.casefold())
            lat, lon = _label_point(shape)
            rows.append((2, 0, [name, lat, lon, 0, *LABEL_ZOOMS["district"]]))
    if places is not None and len(places):
        sizes = places["postcodes"] if "postcodes" in places else pd.Series(0, places.index)
        for name, kind_name, lat, lon, size in zip(
            places["name"], places["type"], places["lat"], places["lon"], sizes, strict=True
        ):
            kind = PLACE_KINDS.get(kind_name)
            if kind is None or not isinstance(name, str) or not name:
                continue
            low, high = LABEL_ZOOMS[kind]
            if kind == "village" and size >= LARGE_VILLAGE_POSTCODES:
                low = LARGE_VILLAGE_ZOOM
            tier = {"city": 0, "town": 3, "village": 4, "suburb": 5}[kind]
            if kind == "town" and name.casefold() in district_names:
                tier = 1
            row = [name, _rounded(lat), _rounded(lon), kinds.index(kind), low, high]
            rows.append((tier, -int(size), row))
    rows.sort(key=lambda r: (r[0], r[1]))  # stable: file order within equal sizes
    return [row for _, _, row in rows]


def label_css() -> str:
    """The labels' CSS, from LABEL_KINDS (fixed: no data ever goes in here)."""
    halo = "0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,0 0 4px #fff"
    lines = [
        ".aop-label{white-space:nowrap;text-align:center;color:#1a1a1a;pointer-events:none;"
        f"text-shadow:{halo}}}",
        ".aop-label-district{color:#404040}",
        ".aop-label-suburb{color:#333}",
    ]
    for kind, (font, height, spacing, upper) in LABEL_KINDS.items():
        extra = f"letter-spacing:{spacing}px;" if spacing else ""
        extra += "text-transform:uppercase;" if upper else ""
        lines.append(f".aop-label-{kind}{{font:{font};line-height:{height}px;{extra}}}")
    return "\n".join(lines)


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


def activity_colours(classes: int) -> list[str]:
    """`classes` colours of ACTIVITY_COLOURS, light to dark, spread across the scale."""
    top = len(ACTIVITY_COLOURS) - 1
    if classes <= 1:
        return list(ACTIVITY_COLOURS[top // 2 : top // 2 + classes])
    return [ACTIVITY_COLOURS[round(i * top / (classes - 1))] for i in range(classes)]


def _rgba(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def activity_legend(classes: list[tuple[str, str]]) -> str:
    """The choropleth's legend: what is counted, then its classes (fixed text and numbers)."""
    boxes = "".join(
        f'<span><i style="background:{_rgba(colour, ACTIVITY_OPACITY)}"></i>'
        f"{html_text(label)}</span>"
        for colour, label in classes
    )
    return (
        "<strong>Activity by district</strong>"
        '<span class="aop-note">Records with a venue in the district or serving it (by name '
        "or countywide), each counted once; emerging counts half.</span>"
        f'<span class="aop-classes">{boxes}</span>'
    )


def _class_label(breaks: list[float], number: int) -> str:
    low, high = breaks[number - 1], breaks[number]
    if low == high:
        return f"{low:g}"
    if low == 0:
        return f"up to {high:g}"
    return f"{low:g}–{high:g}"


def district_classes(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary, districts: gpd.GeoDataFrame
) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """Per district (in `districts`' order) ``[fill colour, text]``, and the legend's classes
    as ``(colour, label)``. Districts are matched on their ONS ``code``."""
    current = frame[frame["status"] != "ended"] if "status" in frame else frame  # no energy
    table = district_activity(current, vocabulary).set_index("code")
    codes = districts["code"] if "code" in districts else pd.Series(None, districts.index)
    rows = [table.loc[code] if code in table.index else None for code in codes]
    weights = [0.0 if row is None else float(row["weighted"]) for row in rows]
    breaks = class_breaks(weights)
    colours = activity_colours(len(breaks) - 1) if breaks else []
    info = []
    for name, row, weight in zip(_district_names(districts), rows, weights, strict=True):
        number = class_of(weight, breaks)
        counts = (0, 0, 0) if row is None else (row.established, row.emerging, row.countywide)
        fill = colours[number - 1] if number else ACTIVITY_NONE
        info.append([fill, activity_text(name, *(int(c) for c in counts))])
    legend = [(colours[i - 1], _class_label(breaks, i)) for i in range(1, len(breaks))]
    if not breaks or min(weights, default=0) <= 0:
        legend.insert(0, (ACTIVITY_NONE, "none"))
    return info, legend


class ActivityLayer(Layer, LiteralMacro):
    """Districts coloured by activity (``aop_map.energy``), with what each count is made of
    in a box that follows the pointer or a tap.

    The shapes are the base map's; this layer carries one ``[colour, text]`` per district.
    """

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.aop-info{background:rgba(255,255,255,.94);padding:5px 9px;border-radius:4px;
 font:12px/1.45 sans-serif;color:#1a1a1a;box-shadow:0 1px 4px rgba(0,0,0,.3);width:210px}
.aop-info .aop-note{display:block;font-size:11px;line-height:1.35;color:#333}
.aop-info .aop-classes{display:grid;grid-template-columns:1fr 1fr;column-gap:8px;margin:2px 0}
.aop-info i{display:inline-block;width:14px;height:11px;margin-right:5px;border-radius:2px;
 border:1px solid #8c8c8c;vertical-align:middle}
.aop-info .aop-readout{display:block;border-top:1px solid #ccc;padding-top:2px}
{{ this.toggle_css }}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (map, base) {
  {{ this.js_escape }}
  {{ this.pane_js }}
  {{ this.collapsible_js }}
  var info = {{ this.info }}, style = {{ this.style }}, highlight = {{ this.highlight }};
  var hint = {{ this.hint }}, legend = {{ this.legend }};
  var pane = aopPane(map, {{ this.pane }}, {{ this.z }});
  var renderer = L.svg({pane: pane}), features = base.districts.features;
  var group = L.featureGroup();
  function fill(i) { return Object.assign({}, style, {fillColor: info[i][0]}); }
  var shapes = features.map(function (feature, i) {
    var shape = L.geoJSON(feature, {renderer: renderer, pane: pane, interactive: false,
      className: "aop-activity", style: function () { return fill(i); }});
    group.addLayer(shape);
    return shape;
  });
  function inRing(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a[1] > y) !== (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) {
        inside = !inside;
      }
    }
    return inside;
  }
  function inPolygon(rings, x, y) {
    if (!inRing(rings[0], x, y)) { return false; }
    for (var k = 1; k < rings.length; k++) { if (inRing(rings[k], x, y)) { return false; } }
    return true;
  }
  function at(latlng) {
    for (var i = 0; i < features.length; i++) {
      var g = features[i].geometry;
      var polygons = g.type === "Polygon" ? [g.coordinates] :
        g.type === "MultiPolygon" ? g.coordinates : [];
      for (var p = 0; p < polygons.length; p++) {
        if (inPolygon(polygons[p], latlng.lng, latlng.lat)) { return i; }
      }
    }
    return -1;
  }
  // The layer's legend, and under it the numbers of the district pointed at.
  var box = L.control({position: "topleft"}), div = null, current = -1;
  box.onAdd = function () {
    var outer = L.DomUtil.create("div", "aop-info");
    outer.setAttribute("role", "region");
    outer.setAttribute("aria-label", "Activity by district");
    outer.innerHTML = legend;
    div = L.DomUtil.create("span", "aop-readout", outer);
    div.setAttribute("role", "status");
    div.setAttribute("aria-live", "polite");
    div.innerHTML = esc(current >= 0 ? info[current][1] : hint);
    aopCollapsible(map, outer, "district key", {{ this.narrow_px }});
    L.DomEvent.disableClickPropagation(outer);
    return outer;
  };
  function show(i) {
    if (i === current) { return; }
    if (current >= 0) { shapes[current].setStyle(fill(current)); }
    current = i;
    if (i >= 0) { shapes[i].setStyle(highlight); }
    if (div) { div.innerHTML = esc(i >= 0 ? info[i][1] : hint); }
  }
  function track(e) { show(at(e.latlng)); }
  function leave() { show(-1); }
  group.on("add", function () {
    box.addTo(map);
    map.on("mousemove click", track);
    map.on("mouseout", leave);
  });
  group.on("remove", function () {
    show(-1);
    box.remove();
    map.off("mousemove click", track);
    map.off("mouseout", leave);
  });
  group.aopAt = at;
  group.aopShow = show;
  group.aopText = function () { return div ? div.innerHTML : null; };
  return group;
})({{ this._parent.get_name() }}, {{ this.base }});
{%- if this.show %}
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{%- endif %}
{% endmacro %}
""")

    def __init__(
        self,
        base: BaseMap,
        info: list[list[str]],
        classes: list[tuple[str, str]],
        *,
        show: bool = True,
    ) -> None:
        super().__init__(name="Activity by district", overlay=True, control=True, show=show)
        self._name = "ActivityLayer"
        self.base = base.get_name()
        self.info = safe_json(info)
        self.legend = safe_json(activity_legend(classes))
        self.style = safe_json(ACTIVITY_STYLE)
        self.highlight = safe_json(ACTIVITY_HIGHLIGHT)
        self.hint = safe_json(ACTIVITY_HINT)
        self.pane, self.z = safe_json(ACTIVITY_PANE[0]), ACTIVITY_PANE[1]
        self.js_escape = JS_ESCAPE
        self.pane_js = PANE_JS
        self.collapsible_js, self.toggle_css = COLLAPSIBLE_JS, TOGGLE_CSS
        self.narrow_px = NARROW_MAP_PX


class NameLabels(Layer, LiteralMacro):
    """District and place names, placed in priority order where they fit, redrawn on zoom.

    Permanent, non-interactive divIcons with a white halo. Without tiles every kind shows;
    with tiles only district names (the tiles name places), until tiles fail to load.
    """

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
{{ this.css }}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (map, tiles) {
  {{ this.js_escape }}
  {{ this.pane_js }}
  var labels = {{ this.labels }}, kinds = {{ this.kinds }}, gap = {{ this.gap }};
  var lift = {{ this.lift }};
  var pane = aopPane(map, {{ this.pane }}, {{ this.z }});
  var group = L.layerGroup(), made = {}, shown = {}, widths = {}, places = !tiles;
  var ctx = typeof document === "undefined" ? null :
    document.createElement("canvas").getContext("2d");
  function width(i) {
    if (!(i in widths)) {
      var label = labels[i], kind = kinds[label[3]];
      var text = kind[4] ? label[0].toUpperCase() : label[0];
      if (ctx) { ctx.font = kind[1]; }
      widths[i] = Math.ceil((ctx ? ctx.measureText(text).width : 7 * text.length) +
        kind[3] * text.length) + 4;
    }
    return widths[i];
  }
  // Where a label's middle may go, tried in turn: a place name above its point, below it, to
  // its right, to its left (clear of a marker on the point); a district name on its point.
  function spots(i) {
    var label = labels[i], up = kinds[label[3]][2] / 2 + lift, side = width(i) / 2 + lift;
    return label[3] === 0 ? [[0, 0]] : [[0, -up], [0, up], [side, 0], [-side, 0]];
  }
  function marker(i, k) {
    var label = labels[i], kind = kinds[label[3]], w = width(i), spot = spots(i)[k];
    return L.marker([label[1], label[2]], {pane: pane, interactive: false, keyboard: false,
      icon: L.divIcon({className: "aop-label aop-label-" + kind[0], html: esc(label[0]),
                       iconSize: [w, kind[2]],
                       iconAnchor: [w / 2 - spot[0], kind[2] / 2 - spot[1]]})});
  }
  function free(box, boxes) {
    for (var j = 0; j < boxes.length; j++) {
      var b = boxes[j];
      if (box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1]) { return false; }
    }
    return true;
  }
  function wanted() {
    var want = {}, boxes = [], zoom = map.getZoom(), size = map.getSize();
    var view = [0, 0, size.x, size.y];
    for (var i = 0; i < labels.length; i++) {
      var label = labels[i];
      if (zoom < label[4] || zoom > label[5] || (!places && label[3] !== 0)) { continue; }
      var p = map.latLngToContainerPoint([label[1], label[2]]), options = spots(i);
      var w = width(i) / 2 + gap, h = kinds[label[3]][2] / 2 + gap;
      for (var k = 0; k < options.length; k++) {
        var x = p.x + options[k][0], y = p.y + options[k][1];
        var box = [x - w, y - h, x + w, y + h];
        if (!free(box, [view]) && free(box, boxes)) {
          boxes.push(box);
          want[i] = k;
          break;
        }
      }
    }
    return want;
  }
  function draw() {
    var want = map.hasLayer(group) ? wanted() : {};
    Object.keys(shown).forEach(function (i) {
      if (want[i] !== shown[i].k) { group.removeLayer(shown[i].marker); delete shown[i]; }
    });
    Object.keys(want).forEach(function (i) {
      if (!shown[i]) {
        var key = i + ":" + want[i];
        shown[i] = {k: want[i], marker: made[key] || (made[key] = marker(+i, want[i]))};
        group.addLayer(shown[i].marker);
      }
    });
  }
  group.on("add", function () { map.on("zoomend moveend resize", draw); draw(); });
  group.on("remove", function () { map.off("zoomend moveend resize", draw); });
  if (tiles) {
    var loaded = 0, failed = 0;
    tiles.on("tileload", function () { loaded++; });
    tiles.on("tileerror", function () {
      failed++;
      if (!places && !loaded && failed >= {{ this.failures }}) { places = true; draw(); }
    });
  }
  group.aopDraw = draw;
  group.aopShown = function () {
    return Object.keys(shown).map(function (i) { return labels[i][0]; });
  };
  return group;
})({{ this._parent.get_name() }}, {{ this.tiles }});
{%- if this.show %}
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{%- endif %}
{% endmacro %}
""")

    def __init__(
        self, labels: list[list[Any]], *, tile_layer: str | None = None, show: bool = True
    ) -> None:
        super().__init__(
            name="Names of districts and places", overlay=True, control=True, show=show
        )
        self._name = "NameLabels"
        self.labels = safe_json(labels)
        kinds = [[kind, *style] for kind, style in LABEL_KINDS.items()]
        self.kinds = safe_json(kinds)
        self.css = label_css()
        self.gap = LABEL_GAP_PX
        self.lift = LABEL_LIFT_PX
        self.failures = TILE_FAILURES
        # A folium-made JavaScript variable name (or null), never data.
        self.tiles = tile_layer if tile_layer and tile_layer.isidentifier() else "null"
        self.pane, self.z = safe_json(LABEL_PANE[0]), LABEL_PANE[1]
        self.js_escape = JS_ESCAPE
        self.pane_js = PANE_JS


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
    tile_layer = _add_base(m, tiles)
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
    code = STATUS_ORDER.index(row.status) if row.status in STATUS_ORDER else 0
    return [row.geometry.y, row.geometry.x, code, text]


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
    districts: gpd.GeoDataFrame | None = None,
    places: pd.DataFrame | None = None,
    tiles: bool = True,
    asset_base: str = STREAMLIT_BASE,
) -> folium.Map:
    """A small map of one record's locations (a handful of plain circle markers), with the
    district boundaries and names around them when `districts` and `places` are given."""
    located = _located(frame_rows)
    m = folium.Map(location=[51.845, -2.15], zoom_start=9, tiles=None, control_scale=True)
    m.options["maxZoom"] = MAX_ZOOM
    tile_layer = _add_base(m, tiles)
    if districts is not None and len(districts):
        BaseMap(districts).add_to(m)
    labels = label_payload(districts, places)
    if labels:
        NameLabels(labels, tile_layer=tile_layer).add_to(m)
    points = [_location_point(row, vocabulary) for row in located.itertuples(index=False)]
    if points:
        LocationPoints(points).add_to(m)
    m.fit_bounds(_box([point[:2] for point in points], None), max_zoom=MAX_FIT_ZOOM)
    return _localise(m, asset_base)
