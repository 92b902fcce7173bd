"""Map building: assert on the returned folium.Map and its rendered HTML."""

from __future__ import annotations

import json
import re

import pytest

from aop_map.mapping import build_location_map, build_map, compact_payload, safe_json
from aop_map.offline_assets import STATIC_DIR, ensure_asset, local_name
from aop_map.vocabulary import Vocabulary
from tests.frames import frame_from_rows, synthetic_frame

XSS = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><script>alert(2)</script>"


def payload_of(html: str) -> dict:
    match = re.search(r"var data = (\{.*?\});\n", html)
    assert match, "the compact payload is embedded"
    return json.loads(match.group(1))


def test_one_point_per_located_row(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(500, seed=3)
    html = build_map(frame, vocabulary).get_root().render()
    payload = payload_of(html)
    assert len(payload["p"]) == int(frame.geometry.notna().sum())
    assert len(payload["r"]) == frame.loc[frame.geometry.notna(), "record_id"].nunique()
    assert "L.markerClusterGroup" in html and "L.heatLayer" in html
    assert html.count("L.marker(") == 0  # no per-record folium.Marker


def test_user_strings_cannot_inject(vocabulary: Vocabulary) -> None:
    frame = frame_from_rows(
        [
            {"record_id": "x1", "name": XSS, "lat": 51.8, "lon": -2.2},
            {"record_id": "x2", "name": BREAKOUT, "lat": 51.9, "lon": -2.1},
        ]
    )
    html = build_map(frame, vocabulary).get_root().render()
    assert XSS not in html and "</script><script>alert(2)" not in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html  # data, escaped in the JSON
    payload = payload_of(html)
    assert [r[1] for r in payload["r"]] == [XSS, BREAKOUT]  # the text itself survives intact
    assert "function esc(s)" in html and "esc(r[1])" in html  # and is escaped when shown


def test_safe_json_escapes_script_enders() -> None:
    text = safe_json({"a": "</script>\u2028&"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script>\u2028&"}


def test_legend_layers_and_tiles(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(20)
    html = build_map(frame, vocabulary).get_root().render()
    assert "Established" in html and "Emerging" in html and 'aria-label="Map legend"' in html
    assert "L.control.layers" in html and "Energy: where activity concentrates" in html
    assert "tile.openstreetmap.org" in html and "OpenStreetMap\\u003c/a\\u003e contributors" in html
    offline = build_map(frame, vocabulary, tiles=False).get_root().render()
    assert "tile.openstreetmap.org" not in offline


def test_no_cdn_resources(vocabulary: Vocabulary) -> None:
    frame = synthetic_frame(20)
    html = build_map(frame, vocabulary).get_root().render()
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/app/static/vendor/") for s in sources), sources
    for source in sources:
        path = STATIC_DIR / source.rsplit("/", 1)[-1]
        assert path.is_file() and path.stat().st_size > 500
    cluster = next(s for s in sources if s.endswith("leaflet.markercluster.js"))
    assert "MarkerClusterGroup" in (STATIC_DIR / cluster.rsplit("/", 1)[-1]).read_text()


def test_link_template_encodes_ids(vocabulary: Vocabulary) -> None:
    frame = frame_from_rows([{"record_id": "a-b", "lat": 51.8, "lon": -2.2}])
    html = build_map(frame, vocabulary, link_template="/provider?id={id}").get_root().render()
    assert '"/provider?id={id}"' in html and "encodeURIComponent(r[0])" in html


def test_empty_selection_shows_the_county(vocabulary: Vocabulary) -> None:
    html = build_map(frame_from_rows([]), vocabulary).get_root().render()
    assert payload_of(html)["p"] == [] and "fitBounds" in html and "51.57" in html


def test_payload_uses_label_indices(vocabulary: Vocabulary) -> None:
    frame = frame_from_rows(
        [
            {
                "record_id": "a",
                "lat": 51.8,
                "lon": -2.2,
                "conditions": ("copd",),
                "art_forms": ("singing",),
            }
        ]
    )
    payload = compact_payload(frame, vocabulary)
    record = payload["r"][0]
    assert payload["l"]["c"][record[3][0]] == "COPD and breathing conditions"
    assert payload["l"]["a"][record[2][0]] == "Singing"


def test_location_map_escapes(vocabulary: Vocabulary) -> None:
    frame = frame_from_rows(
        [{"record_id": "a", "name": XSS, "lat": 51.8, "lon": -2.2, "location_label": XSS}]
    )
    html = build_location_map(frame, vocabulary).get_root().render()
    assert XSS not in html and "circleMarker" in html


def test_unknown_resource_refused(tmp_path) -> None:
    assert ensure_asset("https://example.org/nothing.js", tmp_path) is None
    assert local_name("https://a/b/leaflet.js").endswith("-leaflet.js")


@pytest.mark.parametrize("n", [0, 1, 50])
def test_map_builds_for_any_size(vocabulary: Vocabulary, n: int) -> None:
    build_map(synthetic_frame(n), vocabulary).get_root().render()
