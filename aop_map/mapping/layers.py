"""The record layers (clustered provider markers, the energy heat layer, a record's location
points): fixed JavaScript that reads record text only as escaped JSON values.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.plugins import HeatMap, MarkerCluster
from jinja2 import Template

from aop_map.energy import (
    EMERGING_WEIGHT,  # emerging counts half in the energy layers (why: aop_map.energy)
)
from aop_map.mapping.safe import JS_ESCAPE, LiteralMacro, safe_json
from aop_map.mapping.style import (
    ENERGY_GRADIENT,
    FOCUS_RING,
    MAX_ZOOM,
    STATUS_ORDER,
    STATUS_STYLE,
)
from aop_map.vocabulary import Vocabulary

# The energy layer is at full strength up to this zoom (a district or so) and fades beyond,
# where single markers say more than a glow.
ENERGY_FULL_ZOOM = 12
# A marker's own element made reachable from the keyboard and named by its record's text
# (WCAG 2.1.1): attributes set from the payload, never markup. `show` (if given) runs when the
# keyboard focuses it, not a mouse press (the home map pans then: the click would miss), and
# `hide` when it loses the focus. Shared by the home map's markers and a record's locations.
FOCUSABLE_JS = """
  function focusable(path, role, label, show, hide) {
    path.setAttribute("tabindex", "0");
    path.setAttribute("role", role);
    path.setAttribute("aria-label", label);
    if (!show) { return; }
    path.addEventListener("focus", function () {
      if (path.matches(":focus-visible")) { show(); }
    });
    path.addEventListener("blur", hide);
  }"""


class ProviderLayer(JSCSSMixin, Layer, LiteralMacro):
    """Clustered circle markers built in the browser from a compact payload.

    Clusters are small pies: the orange share is the emerging share, the number the places.
    A marker's click event carries the marker's own position (not the mouse's), so
    streamlit-folium's ``last_object_clicked`` names the point exactly.

    Keyboard (WCAG 2.1.1): every marker drawn on its own is an SVG button named after its
    record (set as attributes, never markup, as Leaflet draws it); Tab reaches it and the
    cluster icons, Enter or Space does what a click does, and a popup opened from the keyboard
    takes the focus (Tab then reaches its link) and gives it back when it closes.
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
.aop-marker:focus,.aop-cluster:focus,.leaflet-popup-content:focus{outline:none}
.aop-marker:focus-visible,.aop-cluster:focus-visible,.leaflet-popup-content:focus-visible{
 {{ this.focus_ring }}}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function () {
  var data = {{ this.payload }};
  var styles = {{ this.styles }};
  var link = {{ this.link_template }};
  {{ this.js_escape }}
  {{ this.focusable_js }}
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
  // A popup's own margins around its text (Leaflet's), and the narrowest text worth reading.
  var POPUP_FRAME_PX = 50, POPUP_MIN_PX = 200;
  function aside(side) {
    var widest = 0;
    map.getContainer().querySelectorAll(".leaflet-" + side + " .leaflet-control")
      .forEach(function (c) { widest = Math.max(widest, c.offsetWidth); });
    return widest + 10;
  }
  // How far the controls along the map's top or bottom edge reach into it, plus a margin.
  function reach(edge) {
    var box = map.getContainer().getBoundingClientRect(), most = 0;
    map.getContainer().querySelectorAll(".leaflet-" + edge + " .leaflet-control")
      .forEach(function (c) {
        var r = c.getBoundingClientRect();
        most = Math.max(most, edge === "top" ? r.bottom - box.top : box.bottom - r.top);
      });
    return most + 10;
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
  // The popup opened from the keyboard takes the focus (read out, then Tab reaches its link);
  // Escape closes it, and closing gives the focus back to its marker if nothing else has it.
  var shown = null;
  function focusPopup(popup, marker) {
    var element = popup.getElement(), content = element.querySelector(".leaflet-popup-content");
    content.tabIndex = -1;
    content.focus({preventScroll: true});
    L.DomEvent.on(element, "keydown", function (event) {
      if (event.key === "Escape") { map.closePopup(popup); }
    });
    popup.once("remove", function () {
      var active = document.activeElement;
      if (marker._map && (!active || active === document.body || element.contains(active))) {
        marker.getElement().focus({preventScroll: true});
      }
    });
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
    return new ClusterIcon({
      html: '<div title="' + title + '" style="background:' +
        'conic-gradient(' + styles[1].fillColor + ' 0 ' + share + '%, ' +
        styles[2].fillColor + ' ' + share + '% ' + past + '%, ' +
        styles[0].fillColor + ' ' + past + '% 100%)"><span>' + n + '</span></div>',
      className: "aop-cluster", iconSize: L.point(size, size),
      label: title + "; press Enter to show them"});
  }
  // Leaflet makes a cluster's icon a button Tab reaches (tabindex, role): its name is the
  // element's own label, which names the counts (numbers only, no record text).
  var ClusterIcon = L.DivIcon.extend({
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      div.setAttribute("aria-label", this.options.label);
      return div;
    }
  });
  var map = {{ this._parent.get_name() }};
  // Chunked: the page stays responsive while 100,000 points are clustered (~200 ms at a
  // time); 1 ms between chunks rather than the default 50, which idled ~0.4 s at 100,000.
  var group = L.markerClusterGroup({chunkedLoading: true, chunkDelay: 1,
    showCoverageOnHover: false, maxClusterRadius: 45, spiderfyOnMaxZoom: true,
    iconCreateFunction: clusterIcon});
  // SVG, not the map's canvas: a marker needs an element of its own to take the focus. Only
  // markers drawn on their own have one (those in clusters are not drawn), a few hundred at most.
  var renderer = L.svg();
  var markers = data.p.map(function (p) {
    return L.circleMarker([p[0], p[1]], Object.assign({fillOpacity: 0.9}, styles[p[2]],
      {aopStatus: p[2], aopId: data.r[p[3]][0], aopRecord: p[3], renderer: renderer,
       className: "aop-marker"}));
  });
  // One tooltip and one popup serve every marker, filled when needed: binding a popup, a
  // tooltip and a click handler to each of 10,000 markers cost more than clustering them.
  group.aopData = data;
  group.aopPopupHtml = function (m) {
    return popup(data.r[m.options.aopRecord], m.options.aopStatus);
  };
  var tip = L.tooltip({direction: "top", offset: [0, -4]});
  function showName(marker) {
    tip.setLatLng(marker.getLatLng()).setContent(esc(data.r[marker.options.aopRecord][1]));
    map.openTooltip(tip);
  }
  function hideName() { map.closeTooltip(tip); }
  group.on("mouseover", function (e) { showName(e.layer); });
  group.on("mouseout", hideName);
  // A marker drawn on its own is a button named after its record: attributes set from the
  // payload each time Leaflet draws it (it makes a new element each time), never markup.
  // Focused from the keyboard, it shows its name as on hover, clear of the legends and layer
  // control (not when a mouse press focuses it: panning then would make the click miss).
  map.on("layeradd", function (e) {
    var marker = e.layer, path;
    if (marker.options.aopRecord === undefined || !(path = marker.getElement())) { return; }
    focusable(path, "button", data.r[marker.options.aopRecord][1], function () {
      map.panInside(marker.getLatLng(), {paddingTopLeft: L.point(aside("left"), 10),
                                         paddingBottomRight: L.point(aside("right"), 10)});
      showName(marker);
    }, hideName);
  });
  group.on("click", function (e) {
    // The marker's own position, not the mouse's: streamlit-folium's last_object_clicked
    // (listening on this group after this handler) then names the point exactly.
    e.latlng = e.layer.getLatLng();
    // Panned clear of the legends and layer control (controls sit above popups), so the
    // popup's link can be read and clicked, and never wider than the room between them. On a
    // narrow map (a phone) that room is too small to read in: the popup then takes the map's
    // width, panned below the controls along the top and above those along the bottom.
    var left = aside("left"), right = aside("right"), top = 10, bottom = 10;
    var width = map.getSize().x;
    if (width - left - right - POPUP_FRAME_PX < POPUP_MIN_PX) {
      left = right = 10;
      top = reach("top");
      bottom = reach("bottom");
    }
    var opened = L.popup({maxWidth: Math.min(320, width - left - right - POPUP_FRAME_PX),
                          autoPanPaddingTopLeft: L.point(left, top),
                          autoPanPaddingBottomRight: L.point(right, bottom)})
      .setLatLng(e.latlng).setContent(group.aopPopupHtml(e.layer)).openOn(map);
    var open = opened.getElement && opened.getElement().querySelector("a.aop-open");
    if (open) { open.addEventListener("click", openInApp); }
    shown = opened;
  });
  // Enter or Space on a focused marker or cluster icon does what a click does: the same
  // event (streamlit-folium's last_object_clicked listens to it too). Leaflet's own Enter
  // handling is for bound popups and markercluster's for a click, so neither fires here.
  function pressed(e) {
    var key = e.originalEvent.key;
    if (key !== "Enter" && key !== " ") { return false; }
    e.originalEvent.preventDefault();
    e.layer.fire("click", {originalEvent: e.originalEvent}, true);
    return true;
  }
  group.on("keydown", function (e) {
    shown = null;
    if (pressed(e) && shown) { focusPopup(shown, e.layer); }
  });
  // The cluster's icon is gone once the map zooms in: the focus goes to the map, from where
  // Tab reaches the markers and clusters now shown.
  group.on("clusterkeydown", function (e) {
    if (pressed(e)) { map.getContainer().focus({preventScroll: true}); }
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
        self.focusable_js = FOCUSABLE_JS
        self.focus_ring = FOCUS_RING


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


def check_link_template(template: str) -> str:
    """A provider-page link pattern: must hold ``{id}`` and be relative or http(s)."""
    if "{id}" not in template:
        raise ValueError(f"link_template needs an {{id}} slot: {template!r}")
    scheme = urlsplit(template.replace("{id}", "x")).scheme.lower()
    if scheme not in ("", "http", "https"):
        raise ValueError(f"link_template must be relative or http(s): {template!r}")
    return template


def location_point(row: Any, vocabulary: Vocabulary) -> list[Any]:
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
    """A record's few locations as circle markers, each with its (escaped) tooltip.

    Keyboard (WCAG 2.1.1): each marker is an SVG image named by its location's text (set as
    attributes, never markup) that Tab reaches; focused, it shows its tooltip as on hover
    (Leaflet opens a bound tooltip when its marker takes the focus). Nothing happens on Enter,
    so it is an image, not a button.
    """

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.aop-venue:focus{outline:none}
.aop-venue:focus-visible{ {{ this.focus_ring }}}
/* A small map: the text wraps above its marker rather than run off the map's edge. */
.aop-venue-tip{white-space:normal;width:max-content;max-width:14em}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function (map) {
  {{ this.js_escape }}
  {{ this.focusable_js }}
  var styles = {{ this.styles }};
  // SVG, not a canvas: a marker needs an element of its own to take the focus.
  var renderer = L.svg();
  {{ this.points }}.forEach(function (p) {
    var marker = L.circleMarker([p[0], p[1]], Object.assign({fillOpacity: 0.9}, styles[p[2]],
      {radius: 9, renderer: renderer, className: "aop-venue"}))
      .bindTooltip(esc(p[3]), {direction: "top", className: "aop-venue-tip"}).addTo(map);
    focusable(marker.getElement(), "img", p[3]);
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
        self.focusable_js = FOCUSABLE_JS
        self.focus_ring = FOCUS_RING
