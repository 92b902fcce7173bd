"""The base map: boundaries, the activity choropleth and the names of districts and places
(assert on the returned folium.Map and its rendered HTML, and run its JS)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import folium
import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from aop_map.mapping import (
    MAX_ZOOM,
    ActivityLayer,
    BaseMap,
    NameLabels,
    activity_colours,
    activity_legend,
    build_location_map,
    build_map,
    district_classes,
    label_css,
    label_payload,
)
from aop_map.mapping.choropleth import ACTIVITY_COLOURS, ACTIVITY_NONE
from aop_map.mapping.labels import LABEL_KINDS, LARGE_VILLAGE_ZOOM
from aop_map.vocabulary import Vocabulary
from tests.frames import make_frame, synthetic_frame
from tests.hostile import TEMPLATE_PAYLOADS, evaluated
from tests.maps import NASTY, XSS, child, location_frame, render, template_sources

STROUD_CODE = "E07000082"


def district_row(names: list[str], codes: list[str] | None = None) -> gpd.GeoDataFrame:
    """Side-by-side squares (no overlap), one per name, west to east from -2.6."""
    shapes = [
        Polygon(
            [
                (-2.6 + i / 10, 51.7),
                (-2.5 + i / 10, 51.7),
                (-2.5 + i / 10, 51.8),
                (-2.6 + i / 10, 51.8),
            ]
        )
        for i in range(len(names))
    ]
    codes = codes or [f"E0{i}" for i in range(len(names))]
    return gpd.GeoDataFrame({"code": codes, "name": names}, geometry=shapes, crs="EPSG:4326")


def place_frame(names: list[str], kind: str = "Town") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": names,
            "type": [kind] * len(names),
            "lat": [51.75] * len(names),
            "lon": [-2.55 + i / 10 for i in range(len(names))],
            "district_code": [None] * len(names),
            "postcodes": [100 - i for i in range(len(names))],
        }
    )


def test_base_map_layers_in_page(vocabulary: Vocabulary) -> None:
    m = build_map(
        synthetic_frame(20),
        vocabulary,
        districts=district_row(["Stroud", "Cotswold"]),
        places=place_frame(["Tetbury"]),
        tiles=False,
    )
    html = render(m)
    assert "approximate" not in html
    for element in (BaseMap, ActivityLayer, NameLabels):
        child(m, element)  # each once
    assert '"Activity by district"' in html and '"Names of districts and places"' in html
    assert '"aopActivity"' in html and '"aopLabels"' in html and "L.svg(" in html


def test_no_districts_no_choropleth(vocabulary: Vocabulary) -> None:
    html = render(build_map(synthetic_frame(5), vocabulary, places=place_frame(["Tetbury"])))
    assert "Activity by district" not in html and "Names of districts and places" in html
    html = render(build_map(synthetic_frame(5), vocabulary))
    assert "Names of districts and places" not in html
    m = build_map(
        synthetic_frame(5), vocabulary, districts=district_row(["A"]), activity_layer=False
    )
    assert "Activity by district" not in render(m) and child(m, BaseMap)


def test_choropleth_follows_the_selection(vocabulary: Vocabulary) -> None:
    """Districts matched on their ONS code; the counts are those of the frame given."""
    districts = district_row(["Stroud", "Gloucester"], [STROUD_CODE, "E07000081"])
    frame = make_frame(
        [{"record_id": f"s{i}", "areas_served": ("stroud",)} for i in range(3)]
        + [{"record_id": "g", "areas_served": ("gloucester",)}]
    )
    info, classes = district_classes(frame, vocabulary, districts)
    assert info[0][1] == "Stroud: 3 established, 0 emerging"
    assert info[1][1] == "Gloucester: 1 established, 0 emerging"
    assert info[0][0] != info[1][0] and info[0][0] in ACTIVITY_COLOURS
    assert [label for _, label in classes] == ["1–1.5", "1.5–2", "2–2.5", "2.5–3"]
    info, classes = district_classes(frame.iloc[:0], vocabulary, districts)
    assert {fill for fill, _ in info} == {ACTIVITY_NONE} and classes == [(ACTIVITY_NONE, "none")]
    unknown = district_row(["Elsewhere"], ["E99999999"])
    assert district_classes(frame, vocabulary, unknown)[0] == [
        [ACTIVITY_NONE, "Elsewhere: 0 established, 0 emerging"]
    ]


def test_activity_colours_are_a_light_to_dark_scale() -> None:
    def lightness(colour: str) -> float:
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    for n in range(1, len(ACTIVITY_COLOURS) + 1):
        colours = activity_colours(n)
        assert len(set(colours)) == n
        assert [lightness(c) for c in colours] == sorted(map(lightness, colours), reverse=True)
    assert lightness(ACTIVITY_NONE) > lightness(ACTIVITY_COLOURS[0])


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_legend_and_label_text_meet_aa_contrast() -> None:
    """Text on the white legend box, and labels on their white halo: 4.5:1 at least."""
    css = ActivityLayer._template.module.header(ActivityLayer.__new__(ActivityLayer), {})
    found = set(re.findall(r"[^-]color:#([0-9a-f]{3}|[0-9a-f]{6})\b", css + label_css()))
    colours = {"#" + (c if len(c) == 6 else "".join(2 * x for x in c)) for c in found}
    assert len(colours) >= 3
    for colour in colours:
        assert contrast(colour, "#ffffff") >= 4.5, colour
    legend = activity_legend([("#d9f0a3", "1–2")])
    assert "venue in the district or serving it" in legend and "emerging counts half" in legend


def test_label_priority_and_zooms() -> None:
    districts = district_row(["Stroud", "Cotswold"])
    places = pd.concat(
        [
            place_frame(["Gloucester"], "City"),
            place_frame(["Tetbury", "Stroud"], "Town").assign(postcodes=[300, 100]),
            place_frame(["Bigville", "Smallville"], "Village").assign(postcodes=[80, 10]),
            place_frame(["Suburbia"], "Suburban Area"),
            place_frame(["Nowhere"], "Hamlet"),
        ],
        ignore_index=True,
    )
    labels = label_payload(districts, places)
    kinds = list(LABEL_KINDS)
    order = [(name, kinds[kind], low, high) for name, _, _, kind, low, high in labels]
    assert order == [
        ("Gloucester", "city", 8, MAX_ZOOM),
        ("Stroud", "town", 9, MAX_ZOOM),  # names its district too: before the districts
        ("Stroud", "district", 8, 10),
        ("Cotswold", "district", 8, 10),
        ("Tetbury", "town", 9, MAX_ZOOM),
        ("Bigville", "village", LARGE_VILLAGE_ZOOM, MAX_ZOOM),
        ("Smallville", "village", 12, MAX_ZOOM),
        ("Suburbia", "suburb", 13, MAX_ZOOM),
    ]  # hamlets are not labelled
    lat, lon = labels[2][1:3]
    assert districts.geometry[0].contains(Point(lon, lat))  # inside its district


def test_label_css_is_fixed_text() -> None:
    css = label_css()
    assert ".aop-label-district{font:bold 11px sans-serif" in css and "uppercase" in css
    assert "text-shadow:0 0 2px #fff" in css and "pointer-events:none" in css


@pytest.mark.parametrize("payload", TEMPLATE_PAYLOADS)
def test_district_and_place_names_are_never_template_source(
    vocabulary: Vocabulary, payload: str
) -> None:
    name = f"Vale {payload} town"
    districts = district_row([name, "Plain"], [STROUD_CODE, "E07000081"])
    frame = make_frame([{"record_id": "a", "areas_served": ("stroud",)}])
    for tiles in (False, True):
        m = build_map(
            frame, vocabulary, districts=districts, places=place_frame([name]), tiles=tiles
        )
        html = render(m)  # no TemplateSyntaxError from {% or {#
        assert not evaluated(html)
        unescaped = (
            html.replace("\\u003c", "<")
            .replace("\\u003e", ">")
            .replace("\\u0026", "&")
            .replace("\\u0027", "'")
        )
        assert unescaped.count(name) >= 3  # district label, activity text, place label
        assert not [source for source in template_sources(m) if "Vale" in source]


BASEMAP_STUB = """
var panes = {}, controls = [];
function el() {
  var e = {innerHTML: "", attrs: {}, children: [], style: {}};
  e.setAttribute = function (k, v) { e.attrs[k] = v; };
  return e;
}
function evented(o) {
  o.handlers = {};
  o.on = function (types, f) {
    types.split(" ").forEach(function (t) { o.handlers[t] = f; });
    return o;
  };
  o.off = function () { return o; };
  o.fire = function (t, e) { if (o.handlers[t]) { o.handlers[t](e || {}); } return o; };
  return o;
}
var %(tiles)s = evented({});
var %(map)s = evented({});
%(map)s.getPane = function (n) { return panes[n]; };
%(map)s.createPane = function (n) { return (panes[n] = el()); };
%(map)s.hasLayer = function () { return true; };
%(map)s.getZoom = function () { return %(zoom)s; };
%(map)s.getSize = function () { return {x: 4000, y: 4000}; };
%(map)s.latLngToContainerPoint = function (ll) {
  return {x: 2000 + (ll[1] + 2.3) * 4000, y: 2000 - (ll[0] - 51.75) * 6000};
};
function group() {
  var g = evented({layers: []});
  g.addLayer = function (l) { g.layers.push(l); return g; };
  g.removeLayer = function (l) { g.layers = g.layers.filter(function (x) { return x !== l; }); };
  g.addTo = function () { g.fire("add"); return g; };
  return g;
}
var L = {
  svg: function (o) { return o; },
  geoJSON: function (data, o) {
    var s = {data: data, options: o, style: o.style ? o.style(data) : null};
    s.setStyle = function (st) { s.style = Object.assign({}, s.style, st); return s; };
    s.addTo = function () { return s; };
    return s;
  },
  featureGroup: group,
  layerGroup: group,
  control: function (o) {
    var c = {options: o};
    c.addTo = function () { c.div = c.onAdd(); controls.push(c); return c; };
    c.remove = function () { return c; };
    return c;
  },
  DomUtil: {create: function (tag, cls, parent) {
    var e = el(); e.className = cls; if (parent) { parent.children.push(e); } return e;
  }},
  DomEvent: {disableClickPropagation: function () {}},
  marker: function (ll, o) { return {ll: ll, options: o}; },
  divIcon: function (o) { return o; }
};
%(script)s
var activity = %(activity)s, labels = %(labels)s;
var readouts = (activity ? activity.layers : []).map(function (shape) {
  var feature = shape.data.geometry.coordinates[0];
  var inside = {lat: (feature[0][1] + feature[2][1]) / 2, lng: (feature[0][0] + feature[2][0]) / 2};
  %(map)s.fire("mousemove", {latlng: inside});
  return {at: activity.aopAt(inside), text: controls[0].div.children[0].innerHTML,
          fill: shape.style.fillColor, highlighted: shape.style.stroke === true};
});
var before = labels.layers.map(function (m) { return m.options.icon.html; });
for (var i = 0; i < 3; i++) { %(tiles)s.fire("tileerror"); }
console.log(JSON.stringify({
  readouts: readouts, legend: activity && controls[0].div.innerHTML,
  outside: activity && activity.aopAt({lat: 0, lng: 0}),
  highlighted: activity && activity.layers.filter(function (s) {
    return s.style.stroke === true;
  }).length,
  labels: before,
  afterTileErrors: labels.layers.map(function (m) { return m.options.icon.html; }),
  classes: labels.layers.map(function (m) { return m.options.icon.className; })
}));
"""


def run_basemap_js(m, zoom: int = 9) -> dict:
    """Run the base map, activity and name scripts in Node against a stub Leaflet (its tile
    layer, when the map has one, fails three tiles after the first look at the labels)."""
    elements = [e for e in m._children.values() if isinstance(e, BaseMap | ActivityLayer)]
    labels = child(m, NameLabels)
    activity = [e for e in elements if isinstance(e, ActivityLayer)]
    code = BASEMAP_STUB % {
        "map": m.get_name(),
        "zoom": zoom,
        "tiles": labels.tiles if labels.tiles != "null" else "noTiles",
        "script": "\n".join(e._template.module.script(e, {}) for e in [*elements, labels]),
        "activity": activity[0].get_name() if activity else "null",
        "labels": labels.get_name(),
    }
    done = subprocess.run(["node", "-e", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_district_and_place_names_escape_in_javascript(vocabulary: Vocabulary) -> None:
    names = ["Stroud", *NASTY]
    districts = district_row(names, [STROUD_CODE, *(f"E0{i}" for i in range(len(NASTY)))])
    frame = make_frame([{"record_id": "a", "status": "emerging", "areas_served": ("stroud",)}])
    m = build_map(frame, vocabulary, districts=districts, places=place_frame(names), tiles=False)
    out = run_basemap_js(m)
    readouts = out["readouts"]
    assert [r["at"] for r in readouts] == list(range(len(names)))  # point-in-polygon
    assert readouts[0]["text"] == "Stroud: 0 established, 1 emerging"
    assert readouts[1]["text"].startswith("&lt;img src=x onerror=alert(1)&gt;: 0 established")
    assert readouts[4]["text"].startswith("Tom &amp; Jerry&#39;s &quot;choir&quot;: ")
    assert all(r["highlighted"] for r in readouts) and out["highlighted"] == 1  # one at a time
    assert readouts[0]["fill"] in ACTIVITY_COLOURS and readouts[1]["fill"] == ACTIVITY_NONE
    assert out["outside"] == -1 and "Activity by district" in out["legend"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in out["labels"]
    assert all("<" not in html for html in out["labels"])
    assert set(out["classes"]) <= {"aop-label aop-label-district", "aop-label aop-label-town"}


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_place_names_with_tiles_only_once_tiles_fail(vocabulary: Vocabulary) -> None:
    districts = district_row(["Cotswold"], ["E07000079"])
    m = build_map(
        make_frame([]), vocabulary, districts=districts, places=place_frame(["Tetbury"]), tiles=True
    )
    labels = child(m, NameLabels)
    assert labels.tiles == child(m, folium.TileLayer).get_name()
    script = labels._template.module.script(labels, {})
    assert f"({m.get_name()}, {labels.tiles})" in script
    out = run_basemap_js(m)
    assert out["labels"] == ["Cotswold"]  # the tiles name places
    assert sorted(out["afterTileErrors"]) == ["Cotswold", "Tetbury"]  # until they fail
    offline = run_basemap_js(
        build_map(
            make_frame([]),
            vocabulary,
            districts=districts,
            places=place_frame(["Tetbury"]),
            tiles=False,
        )
    )
    assert sorted(offline["labels"]) == ["Cotswold", "Tetbury"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the map's JS")
def test_labels_thin_out_by_zoom_and_never_overlap(vocabulary: Vocabulary) -> None:
    places = pd.concat(
        [
            place_frame(["Bigtown"], "Town"),
            place_frame(["Hamletish"], "Village").assign(lon=-2.549),  # on top of Bigtown
        ],
        ignore_index=True,
    )
    m = build_map(make_frame([]), vocabulary, places=places, tiles=False)
    assert run_basemap_js(m, zoom=9)["labels"] == ["Bigtown"]
    assert run_basemap_js(m, zoom=12)["labels"] == ["Bigtown", "Hamletish"]  # moved beside it


def test_location_map_with_the_base_map(vocabulary: Vocabulary) -> None:
    name = f"Vale {TEMPLATE_PAYLOADS[0]} {XSS}"
    m = build_location_map(
        location_frame("x"),
        vocabulary,
        districts=district_row([name]),
        places=place_frame([name]),
        tiles=False,
    )
    html = render(m)
    assert child(m, BaseMap) and child(m, NameLabels) and not evaluated(html)
    assert XSS not in html and "Activity by district" not in html
    assert not [source for source in template_sources(m) if "Vale" in source]
    assert "aopLabels" not in render(build_location_map(location_frame("x"), vocabulary))
