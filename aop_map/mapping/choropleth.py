"""The activity choropleth (districts coloured by activity, its legend and pointer readout):
drawing only; the counting is aop_map.energy's.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from folium.map import Layer
from jinja2 import Template

from aop_map.energy import activity_text, class_breaks, class_of, district_activity
from aop_map.mapping.basemap import ACTIVITY_PANE, PANE_JS, BaseMap, district_names_of
from aop_map.mapping.legend import COLLAPSIBLE_JS, NARROW_MAP_PX, TOGGLE_CSS
from aop_map.mapping.safe import JS_ESCAPE, LiteralMacro, html_text, safe_json
from aop_map.vocabulary import Vocabulary

# ColorBrewer YlGn: a sequential scale readable with any colour vision (lightness carries it)
# and apart from the markers' blue and orange and the energy layer's magma. Fewer classes take
# colours spread across it. "None" is near-white, so a district with nothing reads as empty.
ACTIVITY_COLOURS = ("#d9f0a3", "#addd8e", "#78c679", "#41ab5d", "#238443", "#005a32")
ACTIVITY_NONE = "#ffffff"
ACTIVITY_OPACITY = 0.6
ACTIVITY_STYLE = {"stroke": False, "fill": True, "fillOpacity": ACTIVITY_OPACITY}
ACTIVITY_HIGHLIGHT = {"stroke": True, "color": "#1a1a1a", "weight": 3, "opacity": 1}
ACTIVITY_HINT = "Point at or tap a district for its numbers."


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
    for name, row, weight in zip(district_names_of(districts), rows, weights, strict=True):
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
