"""District and place names on the map (which, in what priority, at which zooms, and the layer
that places them): names are JSON values escaped in the browser, never markup or template.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely.affinity
from folium.map import Layer
from jinja2 import Template
from shapely.ops import polylabel

from aop_map.mapping.basemap import LABEL_PANE, PANE_JS, district_names_of
from aop_map.mapping.safe import JS_ESCAPE, LiteralMacro, safe_json
from aop_map.mapping.style import COORD_DECIMALS, MAX_ZOOM

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
        for name, shape in zip(district_names_of(shapes), shapes.geometry, strict=True):
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
