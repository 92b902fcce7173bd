"""Map building: assert on the returned folium.Map and its rendered HTML (and run its JS)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon

from aop_map.energy import EMERGING_WEIGHT
from aop_map.mapping import (
    GLOS_BOUNDS,
    EnergyLayer,
    LocationPoints,
    ProviderLayer,
    build_location_map,
    build_map,
    check_link_template,
    compact_payload,
    html_text,
    safe_json,
)
from aop_map.mapping.style import FOCUS_RING
from aop_map.vocabulary import Vocabulary
from tests.frames import make_frame, synthetic_frame
from tests.hostile import TEMPLATE_PAYLOADS, evaluated
from tests.maps import NASTY, XSS, child, location_frame, render, template_sources


def payload_of(m) -> dict:
    """The payload as the browser will parse it (the bench reads it the same way)."""
    return json.loads(child(m, ProviderLayer).payload)


class Scripts(HTMLParser):
    """Every <script> element's text, as a browser's tokenizer would split the page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "script":
            self._open = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = False

    def handle_data(self, data: str) -> None:
        if self._open:
            self.scripts[-1] += data


def scripts_of(html: str) -> list[str]:
    parser = Scripts()
    parser.feed(html)
    return parser.scripts


def fitted_bounds(html: str) -> list[float]:
    """[south, west, north, east] of the map's fitBounds call."""
    match = re.search(r"fitBounds\(\s*\[\[([^\]]+)\],\s*\[([^\]]+)\]\]", html)
    assert match, "the map fits its bounds"
    return [float(v) for part in match.groups() for v in part.split(",")]


def frame_named(names: list[str], **extra) -> gpd.GeoDataFrame:
    return make_frame(
        [
            {"record_id": f"r{i}", "name": name, "lat": 51.8 + i / 100, "lon": -2.2, **extra}
            for i, name in enumerate(names)
        ]
    )


# ---------------------------------------------------------------------------------------------
# The compact payload


def test_one_point_per_located_row(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(500, seed=3)
    m = build_map(frame, vocabulary)
    html = render(m)
    payload = payload_of(m)
    located = frame[frame.geometry.notna()]
    assert len(payload["p"]) == len(located) < len(frame)  # unlocated rows are not drawn
    assert len(payload["r"]) == located["record_id"].nunique() < len(located)  # shared names
    drawn = sorted((payload["r"][p[3]][0], p[0], p[1]) for p in payload["p"])
    geometry = located.geometry
    rows = zip(located["record_id"], geometry.y.round(5), geometry.x.round(5), strict=True)
    assert drawn == sorted(rows)  # every located row, with its own record
    lats = [p[0] for p in payload["p"]]
    assert lats == sorted(lats)  # south to north: markercluster clusters them faster
    assert {p[2] for p in payload["p"]} == {0, 1}
    assert "L.markerClusterGroup" in html and "L.circleMarker" in html
    assert "L.marker(" not in html and "bindPopup(`" not in html  # no per-record elements


def test_payload_uses_label_indices(vocabulary: Vocabulary) -> None:
    frame = make_frame(
        [
            {
                "record_id": "a",
                "name": "A",
                "lat": 51.8,
                "lon": -2.2,
                "status": "emerging",
                "conditions": ("copd", "not-a-term"),
                "art_forms": ("singing",),
                "areas_served": ("stroud",),
            },
        ]
    )
    payload = compact_payload(frame, vocabulary)
    assert payload["p"] == [[51.8, -2.2, 1, 0]]
    record = payload["r"][0]
    assert record[:2] == ["a", "A"]
    assert [payload["l"]["c"][i] for i in record[3]] == ["COPD and breathing conditions"]
    assert [payload["l"]["a"][i] for i in record[2]] == ["Singing"]
    assert [payload["l"]["d"][i] for i in record[4]] == ["Stroud"]
    assert payload["s"] == ["Established", "Emerging", "Ended"]
    assert record[5] == "may be out of date"  # no date at all: due for a check


def test_payload_from_another_crs(vocabulary: Vocabulary) -> None:
    frame = make_frame([{"record_id": "a", "lat": 51.8, "lon": -2.2}]).to_crs("EPSG:27700")
    lat, lon, *_ = compact_payload(frame, vocabulary)["p"][0]
    assert (lat, lon) == pytest.approx((51.8, -2.2), abs=1e-5)


def test_html_is_compact(vocabulary: Vocabulary) -> None:
    # Size, not time: deterministic. The fixed part (template, legend, CSS) is ~10 KB.
    frame = synthetic_frame(2000, seed=2)
    located = int(frame.geometry.notna().sum())
    empty = len(render(build_map(frame.iloc[:0], vocabulary)).encode())
    full = len(render(build_map(frame, vocabulary)).encode())
    assert (full - empty) / located < 100
    assert full / located < 150


def test_frame_is_not_changed(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(100, seed=4)
    before = frame.copy(deep=True)
    build_map(frame, vocabulary, search_area=(51.8, -2.2, 10))
    build_location_map(frame.iloc[:3], vocabulary)
    pd.testing.assert_frame_equal(frame, before)


# ---------------------------------------------------------------------------------------------
# Escaping


@pytest.mark.parametrize("name", NASTY)
def test_user_strings_stay_data(vocabulary: Vocabulary, name: str) -> None:
    m = build_map(frame_named(["Plain", name]), vocabulary)
    html = render(m)
    plain = render(build_map(frame_named(["Plain", "Also plain"]), vocabulary))
    # The page has exactly the scripts of a harmless one: nothing closed or opened a tag.
    assert len(scripts_of(html)) == len(scripts_of(plain))
    assert html.count("<script") == plain.count("<script")
    assert XSS not in html and "</script><script>alert" not in html
    assert "<img" not in html and "\u2028" not in html
    assert [r[1] for r in payload_of(m)["r"]] == ["Plain", name]  # the text survives intact
    # ...and is shown as text: test_popups_and_tooltips_escape_in_javascript runs the JS.


@pytest.mark.parametrize("payload", TEMPLATE_PAYLOADS)
def test_template_text_is_never_evaluated(vocabulary: Vocabulary, payload: str) -> None:
    """branca evaluates rendered output as a template again: no record text may reach it."""
    text = f"Choir {payload} marker"
    frame = make_frame(
        [
            {
                "record_id": "t",
                "name": text,
                "lat": 51.86,
                "lon": -2.24,
                "location_label": text,
                "place": text,
                "postcode": text,
            }
        ]
    )
    maps = [
        build_map(frame, vocabulary, districts=district_frame([text]), tiles=False),
        build_map(frame, vocabulary, search_area=(51.86, -2.24, 5.0)),
        build_location_map(frame, vocabulary),
    ]
    for m in maps:
        html = render(m)  # no TemplateSyntaxError from {% or {#
        assert not evaluated(html)
        assert text.replace("'", "\\u0027") in html.replace("\\u003c", "<").replace(
            "\\u003e", ">"
        ).replace("\\u0026", "&")  # literally, as data
        assert not [source for source in template_sources(m) if "Choir" in source]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("</script>", '"\\u003c/script\\u003e"'),
        ("<!-- x -->", '"\\u003c!-- x --\\u003e"'),
        ("a & b", '"a \\u0026 b"'),
        ("\u2028\u2029", '"\\u2028\\u2029"'),
        ("café", '"café"'),
        ("{{'name'}}", '"{{\\u0027name\\u0027}}"'),
        ({"k": [1, "<"]}, '{"k":[1,"\\u003c"]}'),
    ],
)
def test_safe_json(value, expected: str) -> None:
    text = safe_json(value)
    assert text == expected and json.loads(text) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (XSS, "&lt;img src=x onerror=alert(1)&gt;"),
        ("`${x}`", "&#96;&#36;{x}&#96;"),
        ("a\\u", "a&#92;u"),
        ("Tom & 'Jerry' \"x\"", "Tom &amp; &#39;Jerry&#39; &quot;x&quot;"),
        (None, ""),
    ],
)
def test_html_text(value, expected: str) -> None:
    assert html_text(value) == expected


NODE_STUB = """
var made = [], handlers = {}, mapHandlers = {}, opened = [];
function element() {  // records attributes; anything that sets markup would show as html
  var e = {attributes: {}, html: null, focused: false};
  e.setAttribute = function (k, v) { e.attributes[k] = v; };
  e.addEventListener = function () {};
  e.focus = function () { e.focused = true; };
  return e;
}
function overlay() {
  var o = {html: null};
  o.setLatLng = function () { return o; };
  o.setContent = function (h) { o.html = h; return o; };
  o.openOn = function () { opened.push(o.html); return o; };
  o.content = element();
  o.getElement = function () {
    return {querySelector: function () { return o.content; }};
  };
  o.once = function () { return o; };
  return o;
}
var L = {
  markerClusterGroup: function (o) {
    return {options: o, addLayers: function (ms) { made = ms; }, addTo: function () {},
            on: function (t, f) { handlers[t] = f; }};
  },
  circleMarker: function (ll, o) {
    var m = {ll: ll, options: o, path: element()};
    m.getLatLng = function () { return {lat: ll[0], lng: ll[1]}; };
    m.getElement = function () { return m.path; };
    m.fire = function (type, data) {  // as it reaches the group's handlers
      handlers[type](Object.assign({layer: m}, data));
    };
    return m;
  },
  tooltip: overlay,
  popup: function () { L.lastPopup = overlay(); return L.lastPopup; },
  svg: function () { return {}; },
  DomEvent: {on: function () {}},
  DivIcon: {prototype: {createIcon: element}, extend: function (methods) {
    var Icon = function (o) { this.options = o; };
    Icon.prototype = methods;
    return Icon;
  }},
  point: function (x, y) { return [x, y]; }
};
var focused = 0;
var %(map)s = {openTooltip: function (t) { opened.push(t.html); }, closeTooltip: function () {},
  on: function (t, f) { mapHandlers[t] = f; },
  getSize: function () { return {x: 1000, y: 600}; },  // a desktop map
  getContainer: function () {
    return {querySelectorAll: function () { return []; },
            focus: function () { focused += 1; }};
  }};
%(script)s
var cluster = made[0] && %(layer)s.options.iconCreateFunction(
  {getAllChildMarkers: function () { return made; }});
var icon = cluster && cluster.createIcon();
var click = {layer: made[0], latlng: {lat: 0, lng: 0}};
handlers.click(click);
var clickPopup = opened[0];
made.forEach(function (m) { mapHandlers.layeradd({layer: m}); });  // drawn on their own
mapHandlers.layeradd({layer: {options: {}, getElement: function () { return element(); }}});
var keys = ["Enter", " ", "a", "Tab"].map(function (key) {
  var before = opened.length, prevented = false;
  handlers.keydown({layer: made[made.length - 1], originalEvent: {
    key: key, preventDefault: function () { prevented = true; }}});
  var popup = opened.length > before ? L.lastPopup : null;
  return {key: key, popup: popup && popup.html, prevented: prevented,
          focused: Boolean(popup && popup.content.focused)};
});
handlers.clusterkeydown({layer: {fire: function () {}}, originalEvent: {
  key: "Enter", preventDefault: function () {}}});
var tooltips = made.map(function (m) {
  handlers.mouseover({layer: m});
  return opened[opened.length - 1];
});
console.log(JSON.stringify({
  popups: made.map(function (m) { return %(layer)s.aopPopupHtml(m); }),
  tooltips: tooltips, cluster: cluster.options.html, clicked: click.latlng,
  clickPopup: clickPopup, clusterLabel: icon.attributes, keys: keys, focused: focused,
  paths: made.map(function (m) { return m.path; })
}));
"""


def run_layer_js(m) -> dict:
    """Run the provider layer's own JavaScript in Node against a stub Leaflet."""
    layer = child(m, ProviderLayer)
    script = layer._template.module.script(layer, {})
    code = NODE_STUB % {"map": m.get_name(), "script": script, "layer": layer.get_name()}
    done = subprocess.run(["node", "-e", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_popups_and_tooltips_escape_in_javascript(vocabulary: Vocabulary) -> None:
    frame = make_frame(
        [
            {
                "record_id": f"r{i}",
                "name": name,
                "lat": 51.8 + i / 100,
                "lon": -2.2,
                "status": "emerging" if i % 2 else "established",
                "art_forms": ("singing",),
                "conditions": ("copd",),
                "areas_served": ("countywide",),
            }
            for i, name in enumerate(NASTY)
        ]
    )
    out = run_layer_js(build_map(frame, vocabulary, link_template="/provider?id={id}"))
    for html in out["popups"] + out["tooltips"]:
        assert "<img" not in html and "<script" not in html  # ` and $ are plain text in HTML
    assert out["tooltips"][0] == "&lt;img src=x onerror=alert(1)&gt;"
    assert out["tooltips"][3] == "Tom &amp; Jerry&#39;s &quot;choir&quot;"
    popup = out["popups"][0]
    assert "<strong>&lt;img src=x onerror=alert(1)&gt;</strong>" in popup
    assert "Singing" in popup and "COPD and breathing conditions" in popup
    assert "Countywide (Gloucestershire)" in popup and "Established" in popup
    assert 'href="/provider?id=r0"' in popup and "Emerging" in out["popups"][1]
    assert out["clicked"] == {"lat": 51.8, "lng": -2.2}  # the marker, not the mouse
    assert out["clickPopup"] == popup  # a click opens the marker's popup
    assert "5 places: 3 established, 2 emerging" in out["cluster"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_markers_and_clusters_work_from_the_keyboard(vocabulary: Vocabulary) -> None:
    """Each drawn marker is a button named after its record (attributes, not markup); Enter
    or Space opens its popup as a click does and moves the focus into it; clusters are named
    by their counts and zoom in on Enter."""
    frame = make_frame(
        [
            {"record_id": f"r{i}", "name": name, "lat": 51.8 + i / 100, "lon": -2.2}
            for i, name in enumerate(NASTY)
        ]
    )
    out = run_layer_js(build_map(frame, vocabulary))
    paths = out["paths"]
    assert [p["attributes"]["aria-label"] for p in paths] == NASTY  # literally, as text
    assert all(p["attributes"]["tabindex"] == "0" for p in paths)
    assert all(p["attributes"]["role"] == "button" for p in paths)
    assert not [p for p in paths if p["html"] is not None]  # nothing parsed as markup
    keys = {k["key"]: k for k in out["keys"]}
    for key in ("Enter", " "):
        assert keys[key]["popup"] == out["popups"][-1]  # its own popup, as a click opens it
        assert keys[key]["prevented"] and keys[key]["focused"]  # no scroll; focus in popup
    for key in ("a", "Tab"):
        assert keys[key] == {"key": key, "popup": None, "prevented": False, "focused": False}
    label = out["clusterLabel"]["aria-label"]
    assert label.startswith(f"{len(NASTY)} places: ") and label.endswith("press Enter to show them")
    assert out["focused"] == 1  # Enter on a cluster: the focus goes to the map


def test_the_focus_ring_is_the_apps() -> None:
    """Focus looks the same inside the map's frame as on the app's page around it."""
    from aop_map.ui.layout import LAYOUT_CSS

    width, colour = re.fullmatch(
        r"outline:(\w+) solid (#\w+);outline-offset:2px", FOCUS_RING
    ).groups()
    assert f"outline: {width} solid {colour} !important; outline-offset: 2px" in LAYOUT_CSS


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_provider_link_is_url_encoded(vocabulary: Vocabulary) -> None:
    frame = make_frame([{"record_id": 'a b/"c"&<d>', "lat": 51.8, "lon": -2.2}])
    m = build_map(frame, vocabulary, link_template="https://x.example/provider?id={id}&v=1")
    popup = run_layer_js(m)["popups"][0]
    assert 'href="https://x.example/provider?id=a%20b%2F%22c%22%26%3Cd%3E&amp;v=1"' in popup


@pytest.mark.parametrize(
    ("template", "ok"),
    [
        ("?id={id}", True),
        ("/provider?id={id}", True),
        ("https://example.org/provider?id={id}", True),
        ("javascript:alert({id})", False),
        (" JavaScript:alert({id})", False),
        ("data:text/html,{id}", False),
        ("/provider", False),
    ],
)
def test_check_link_template(template: str, ok: bool) -> None:
    if ok:
        assert check_link_template(template) == template
    else:
        with pytest.raises(ValueError):
            check_link_template(template)


# ---------------------------------------------------------------------------------------------
# Legend, layers, tiles, view


def test_legend(vocabulary: Vocabulary) -> None:
    html = render(build_map(synthetic_frame(20), vocabulary))
    assert "Map legend" in html and "L.control(" in html
    assert "Established" in html and "Emerging" in html and "dashed" in html
    assert "Energy: more activity" in html and "No background tiles" not in html
    offline = render(build_map(synthetic_frame(20), vocabulary, tiles=False))
    assert "No background tiles (offline)" in offline
    assert "Energy: more activity" not in render(
        build_map(synthetic_frame(20), vocabulary, energy_layer=False)
    )


def test_colour_blind_safe_palette(vocabulary: Vocabulary) -> None:
    html = render(build_map(synthetic_frame(20), vocabulary))
    assert "#0072B2" in html and "#E69F00" in html  # Okabe-Ito blue and orange
    assert '"dashArray":"3 2"' in html  # emerging differs in outline, not only colour


def test_layer_control_and_energy(vocabulary: Vocabulary) -> None:
    m = build_map(synthetic_frame(50), vocabulary)
    html = render(m)
    assert "L.control.layers" in html
    assert "Providers and activities" in html and "Energy: where activity concentrates" in html
    energy = child(m, EnergyLayer)
    assert energy.emerging_weight == EMERGING_WEIGHT < 1
    assert "L.heatLayer" in html and "aopData.p.map" in html and 'pane: "aopEnergy"' in html
    without = render(build_map(synthetic_frame(50), vocabulary, energy_layer=False))
    assert "L.heatLayer" not in without


def test_tiles_or_none(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(20)
    online = render(build_map(frame, vocabulary))
    assert "tile.openstreetmap.org" in online and "L.tileLayer" in online
    assert "openstreetmap.org/copyright" in online
    offline = render(build_map(frame, vocabulary, tiles=False))
    assert "L.tileLayer" not in offline and "openstreetmap" not in offline.lower()
    assert "background:#eef2f5" in offline  # a calm background, not a grey "broken" one


def test_no_cdn_resources(vocabulary: Vocabulary) -> None:
    html = render(build_map(synthetic_frame(20), vocabulary))
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/app/static/vendor/") for s in sources), sources
    assert any(s.endswith("leaflet.markercluster.js") for s in sources)
    assert any("heat" in s for s in sources)


def test_fits_points_or_county(vocabulary: Vocabulary) -> None:
    frame = make_frame(
        [{"record_id": "a", "lat": 51.8, "lon": -2.2}, {"record_id": "b", "lat": 51.9, "lon": -2.0}]
    )
    m = build_map(frame, vocabulary)
    assert m._children  # fit_bounds adds a FitBounds child
    assert fitted_bounds(render(m)) == pytest.approx([51.78, -2.22, 51.92, -1.98])
    empty = build_map(make_frame([]), vocabulary)
    assert payload_of(empty)["p"] == [] and str(GLOS_BOUNDS) in render(empty)
    assert "L.heatLayer" not in render(empty)  # nothing to glow


def test_center_and_zoom(vocabulary: Vocabulary) -> None:
    html = render(build_map(synthetic_frame(20), vocabulary, center=(51.7, -2.3), zoom=11))
    assert "fitBounds" not in html and "[51.7, -2.3]" in html and '"zoom": 11' in html


def test_search_area(vocabulary: Vocabulary) -> None:
    html = render(build_map(synthetic_frame(20), vocabulary, search_area=(51.75, -2.2, 10.0)))
    assert "L.circle(" in html and '"radius": 10000' in html
    assert html.count('"interactive": false') == 2  # ring and dot let clicks through
    south, west, north, east = fitted_bounds(html)  # fitted to the circle, not the points
    assert (south, north) == pytest.approx((51.75 - 0.09, 51.75 + 0.09), abs=0.001)
    assert (west, east) == pytest.approx((-2.2 - 0.145, -2.2 + 0.145), abs=0.002)


SHAPES_STUB = """
var tooltips = [], markers = [], layers = [];
function shape(options) {
  var s = {options: options, handlers: {}, path: {attributes: {}, html: null, listeners: 0}};
  s.path.setAttribute = function (k, v) { s.path.attributes[k] = v; };
  s.path.addEventListener = function () { s.path.listeners += 1; };
  s.getElement = function () { return s.path; };
  s.bindTooltip = function (html) { tooltips.push(html); return s; };
  s.on = function (t, f) { s.handlers[t] = f; return s; };
  s.setStyle = function (o) { s.style = o; return s; };
  s.addTo = function () { return s; };
  return s;
}
var L = {
  geoJSON: function (data, o) {
    data.features.forEach(function (f) { o.onEachFeature(f, shape(o.style(f))); });
    layers.push(data);
    return shape(o);
  },
  circleMarker: function (ll, o) { var s = shape(o); s.ll = ll; markers.push(s); return s; },
  svg: function () { return {}; }
};
var %(map)s = {};
%(script)s
console.log(JSON.stringify({tooltips: tooltips,
  markers: markers.map(function (m) { return {ll: m.ll, options: m.options, path: m.path}; })
}));
"""


def run_shapes_js(m, kind: type) -> dict:
    """Run an element's own JavaScript in Node against a stub Leaflet: its tooltips' HTML."""
    element = child(m, kind)
    script = element._template.module.script(element, {})
    code = SHAPES_STUB % {"map": m.get_name(), "script": script}
    done = subprocess.run(["node", "-e", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def district_frame(names: list[str]) -> gpd.GeoDataFrame:
    square = Polygon([(-2.3, 51.7), (-2.1, 51.7), (-2.1, 51.8), (-2.3, 51.8)])
    return gpd.GeoDataFrame(
        {"code": [f"E0{i}" for i in range(len(names))], "name": names},
        geometry=[square.buffer(i / 100) for i in range(len(names))],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("n", [0, 1, 50])
def test_map_builds_for_any_size(vocabulary: Vocabulary, n: int) -> None:
    m = build_map(synthetic_frame(n), vocabulary, tiles=False)
    assert len(payload_of(m)["p"]) <= n
    render(m)


# ---------------------------------------------------------------------------------------------
# The provider page's small map


@pytest.mark.parametrize("name", NASTY)
def test_location_map_escapes(vocabulary: Vocabulary, name: str) -> None:
    html = render(build_location_map(location_frame(name), vocabulary))
    assert XSS not in html and "<img" not in html  # ` and ${ are plain text in JSON
    assert "</script><script>alert" not in html and "fitBounds" in html
    plain = render(build_location_map(location_frame("x"), vocabulary))
    assert len(scripts_of(html)) == len(scripts_of(plain))


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_location_markers_and_tooltips(vocabulary: Vocabulary) -> None:
    out = run_shapes_js(build_location_map(location_frame(XSS), vocabulary), LocationPoints)
    assert [m["ll"] for m in out["markers"]] == [[51.8, -2.2], [51.7, -2.1]]  # 2 located
    assert out["markers"][1]["options"]["dashArray"] == "3 2"  # the emerging one
    assert out["tooltips"][0].startswith("&lt;img src=x onerror=alert(1)&gt; (Established;")
    assert out["tooltips"][1].startswith("&lt;img src=x onerror=alert(1)&gt; (Emerging;")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_location_markers_work_from_the_keyboard(vocabulary: Vocabulary) -> None:
    """Each location marker is a focusable image named by its text (attributes, not markup),
    with its own element (SVG) and the map's focus ring; Leaflet shows its tooltip on focus."""
    m = build_location_map(location_frame(XSS), vocabulary)
    paths = [marker["path"] for marker in run_shapes_js(m, LocationPoints)["markers"]]
    labels = [p["attributes"]["aria-label"] for p in paths]
    assert [label.split(" (")[0] for label in labels] == [XSS, XSS]  # literally, as text
    assert labels[0].startswith(f"{XSS} (Established;")
    assert all(p["attributes"]["tabindex"] == "0" for p in paths)
    assert all(p["attributes"]["role"] == "img" for p in paths)
    assert not [p for p in paths if p["html"] is not None]  # nothing parsed as markup
    html = render(m)
    assert f".aop-venue:focus-visible{{ {FOCUS_RING}}}" in html and '"aop-venue"' in html


def test_location_map_without_points(vocabulary: Vocabulary) -> None:
    html = render(build_location_map(make_frame([{"record_id": "a"}]), vocabulary, tiles=False))
    assert "L.circleMarker(" not in html and str(GLOS_BOUNDS) in html
    assert "L.tileLayer" not in html
