"""Offline assets: no CDN link survives, local copies are real JS/CSS, Streamlit gets the same."""

from __future__ import annotations

import re
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import folium
import pytest
from folium.plugins import FastMarkerCluster, HeatMap, MarkerCluster

from aop_map.mapping import OSM_ATTRIBUTION, OSM_TILES
from aop_map.offline_assets import (
    ICON_ASSETS,
    STREAMLIT_BASE,
    ensure_asset,
    file_base_url,
    local_name,
    localise_assets,
)
from tests.browser import system_chromium

LEAFLET_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
CLUSTER_JS = (
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js"
)
# What a rendered offline map may still name: the tile template and attribution links (shown
# as text or fetched by Leaflet, never loaded as a script or stylesheet).
ALLOWED_URLS = (OSM_TILES, "https://www.openstreetmap.org/copyright")
SOURCES = re.compile(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', re.IGNORECASE)
REMOTE = re.compile(
    r'<(?:script|link)\b[^>]*?\b(?:src|href)\s*=\s*["\']((?:https?:)?//[^"\']+)', re.IGNORECASE
)
POINTS = [[51.6 + (i % 17) * 0.03, -2.6 + (i % 23) * 0.04] for i in range(120)]
BOX = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Box"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[-2.5, 51.7], [-1.8, 51.7], [-1.8, 52.0], [-2.5, 52.0], [-2.5, 51.7]]
                ],
            },
        }
    ],
}


def full_map(*, tiles: bool = True, icons: bool = False) -> folium.Map:
    """Every plugin the project relies on, plus a default-icon marker with a popup."""
    m = folium.Map(location=[51.85, -2.2], zoom_start=9, tiles=None)
    if tiles:
        folium.TileLayer(tiles=OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap").add_to(m)
    cluster = MarkerCluster(name="Clusters").add_to(m)
    for point in POINTS[:40]:
        folium.CircleMarker(
            point, radius=6, fill=True, popup=folium.Popup("a <b>popup</b>"), tooltip="tip"
        ).add_to(cluster)
    if icons:
        FastMarkerCluster(POINTS[40:80], name="Fast clusters").add_to(m)
        folium.Marker([51.9, -2.0], icon=folium.Icon(color="red", icon="info-sign")).add_to(m)
    HeatMap(POINTS, name="Heat").add_to(m)
    folium.GeoJson(BOX, name="Outline", tooltip=folium.GeoJsonTooltip(["name"])).add_to(m)
    folium.Marker([51.87, -2.24], popup="Default icon").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def local_sources(html: str) -> list[str]:
    return SOURCES.findall(html)


def remote_resources(html: str) -> list[str]:
    """Script/stylesheet addresses in rendered HTML that would need a network."""
    return REMOTE.findall(html)


def test_no_remote_script_or_stylesheet_remains(tmp_path: Path) -> None:
    html = localise_assets(full_map(icons=True), STREAMLIT_BASE, tmp_path).get_root().render()
    assert remote_resources(html) == []
    sources = local_sources(html)
    assert len(sources) >= 8 and all(s.startswith(STREAMLIT_BASE) for s in sources), sources
    # Every other address in the page is the tile template or an attribution link.
    others = set(re.findall(r"https?://[^\s\"'<>\\]+", html)) - set(ALLOWED_URLS)
    assert not others, others
    assert OSM_TILES in html and "OpenStreetMap" in html


def test_local_copies_exist_and_are_real_code(tmp_path: Path) -> None:
    html = localise_assets(full_map(icons=True), STREAMLIT_BASE, tmp_path).get_root().render()
    files = {s.rsplit("/", 1)[-1]: tmp_path / s.rsplit("/", 1)[-1] for s in local_sources(html)}
    for path in files.values():
        assert path.is_file() and path.stat().st_size > 300, path
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by a proxy or other user

    def text(suffix: str) -> str:
        return next(p for n, p in files.items() if n.endswith(suffix)).read_text("utf-8")

    assert "L.MarkerClusterGroup" in text("-leaflet.markercluster.js")
    assert "heatLayer" in text("-leaflet_heat.min.js")
    assert "AwesomeMarkers" in text("-leaflet.awesome-markers.js")
    assert "jQuery" in text("-jquery-3.7.1.min.js")
    leaflet = text("-leaflet.js")
    assert "L.Icon.Default.imagePath" in leaflet and "data:image/png;base64" in leaflet
    assert ".marker-cluster" in text("-MarkerCluster.Default.css")
    assert ".leaflet-container" in text("-leaflet.css")
    assert not list(tmp_path.glob(".asset-*"))  # no temporary files left behind


def test_default_marker_images_are_embedded(tmp_path: Path) -> None:
    # Leaflet would guess an image folder from the local leaflet.css link and fetch
    # <folder>/marker-icon.png; the patch keeps folium-offline's data URIs in use instead.
    path = ensure_asset(LEAFLET_JS, tmp_path)
    assert path is not None
    code = path.read_text("utf-8")
    assert code.rstrip().endswith('L.Icon.Default.imagePath = "";')
    assert 't==="marker-icon.png"' in code and 't==="marker-shadow.png"' in code


def test_idempotent_and_stable_names(tmp_path: Path) -> None:
    m = full_map()
    localise_assets(m, STREAMLIT_BASE, tmp_path)
    first = local_sources(m.get_root().render())
    localise_assets(m, STREAMLIT_BASE, tmp_path)
    assert local_sources(m.get_root().render()) == first
    again = local_sources(localise_assets(full_map(), STREAMLIT_BASE, tmp_path).get_root().render())
    assert again == first


def test_scripts_load_in_dependency_order(tmp_path: Path) -> None:
    html = localise_assets(full_map(), STREAMLIT_BASE, tmp_path).get_root().render()
    scripts = [s.rsplit("-", 1)[-1] for s in local_sources(html) if s.endswith(".js")]
    assert scripts.index("leaflet.js") < scripts.index("leaflet.markercluster.js")
    assert scripts.index("leaflet.js") < scripts.index("leaflet_heat.min.js")


def test_trim_keeps_icon_assets_only_when_used(tmp_path: Path) -> None:
    plain = localise_assets(full_map(), STREAMLIT_BASE, tmp_path)
    names = {n for n, _ in plain.default_js + plain.default_css}
    assert names == {"leaflet", "jquery", "leaflet_css"}  # jQuery: folium.Popup uses `$`
    with_icons = localise_assets(full_map(icons=True), STREAMLIT_BASE, tmp_path)
    assert ICON_ASSETS <= {n for n, _ in with_icons.default_js + with_icons.default_css}
    untrimmed = localise_assets(full_map(), STREAMLIT_BASE, tmp_path, trim=False)
    assert ICON_ASSETS <= {n for n, _ in untrimmed.default_js + untrimmed.default_css}


def test_fast_marker_cluster_default_callback_needs_icons(tmp_path: Path) -> None:
    m = folium.Map(tiles=None)
    FastMarkerCluster(POINTS).add_to(m)
    localise_assets(m, STREAMLIT_BASE, tmp_path)
    assert "awesome_markers" in {n for n, _ in m.default_js}


def test_unpackaged_cdn_resource_is_refused(tmp_path: Path) -> None:
    m = folium.Map(tiles=None)
    HeatMap(POINTS).add_to(m).default_js = [("mystery", "https://example.org/mystery.js")]
    with pytest.raises(ValueError, match="no offline copy"):
        localise_assets(m, STREAMLIT_BASE, tmp_path)
    assert ensure_asset("https://example.org/mystery.js", tmp_path) is None


def test_local_names() -> None:
    assert local_name("https://a/b/leaflet.js").endswith("-leaflet.js")
    assert local_name("https://unpkg.com/@x/leaflet.terminator", ".js").endswith(
        "-leaflet.terminator.js"
    )  # served as JavaScript, so the browser runs it
    assert local_name("https://a/1/x.js") != local_name("https://a/2/x.js")
    assert re.fullmatch(r"[0-9a-f]{10}-[A-Za-z0-9._-]+", local_name("https://a/b/c@1.2?v=3"))


def test_concurrent_first_use_writes_one_good_copy(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        paths = list(pool.map(lambda _: ensure_asset(CLUSTER_JS, tmp_path), range(16)))
    assert len(set(paths)) == 1 and paths[0] is not None
    assert "L.MarkerClusterGroup" in paths[0].read_text("utf-8")
    assert [p.name for p in tmp_path.iterdir()] == [paths[0].name]


def test_second_call_can_move_copies_to_another_base(tmp_path: Path) -> None:
    m = localise_assets(full_map(), STREAMLIT_BASE, tmp_path / "a")
    base = file_base_url(tmp_path / "b")
    html = localise_assets(m, base, tmp_path / "b").get_root().render()
    sources = local_sources(html)
    assert sources and all(s.startswith(base) for s in sources), sources
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        p.name for p in (tmp_path / "b").iterdir()
    )


def test_cleared_folder_is_refilled_by_a_second_call(tmp_path: Path) -> None:
    m = localise_assets(full_map(), STREAMLIT_BASE, tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    shutil.rmtree(tmp_path)
    localise_assets(m, STREAMLIT_BASE, tmp_path)  # e.g. a cached map after `git clean`
    assert sorted(p.name for p in tmp_path.iterdir()) == names


def test_file_base_url_points_at_this_machine() -> None:
    assert file_base_url(Path("/tmp/x")) == "file:///tmp/x/"


def test_st_folium_receives_only_local_links(tmp_path: Path, monkeypatch) -> None:
    """streamlit-folium loads the map's default_js/css in its iframe; one failure blanks it."""
    import streamlit_folium

    captured: dict = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: captured.update(kw))
    m = localise_assets(full_map(icons=True), STREAMLIT_BASE, tmp_path)
    streamlit_folium.st_folium(m, returned_objects=[])
    links = captured["js_links"] + captured["css_links"]
    assert links and all(link.startswith(STREAMLIT_BASE) for link in links), links
    assert all((tmp_path / link.rsplit("/", 1)[-1]).is_file() for link in links)
    assert remote_resources(captured["header"]) == []
    assert len(captured["header"]) < 5_000  # the code itself never travels with each rerun


@pytest.mark.browser
def test_map_draws_in_chromium_without_network(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    m = full_map(icons=True)
    localise_assets(m, file_base_url(vendor), vendor)
    page_file = tmp_path / "map.html"
    page_file.write_text(m.get_root().render(), encoding="utf-8")
    with system_chromium() as browser:
        page = browser.new_page()
        # No network: everything but file:// is refused, as on a machine with none.
        page.route(re.compile(r"^https?://"), lambda route: route.abort())
        errors: list[str] = []
        failed: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(page_file.as_uri())
        page.wait_for_selector(".marker-cluster", timeout=15_000)
        counts = page.evaluate("""() => ({
            clusters: document.querySelectorAll('.marker-cluster').length,
            heat: document.querySelectorAll('canvas.leaflet-heatmap-layer').length,
            layers: document.querySelectorAll('.leaflet-control-layers').length,
            icons: Array.from(document.querySelectorAll('img.leaflet-marker-icon'),
                              i => i.src.slice(0, 15)),
            awesome: document.querySelectorAll('.awesome-marker').length})""")
    assert errors == []
    assert all(url.startswith("https://tile.openstreetmap.org/") for url in failed), failed
    assert counts["clusters"] > 0 and counts["heat"] == 1 and counts["layers"] == 1
    assert counts["icons"] and set(counts["icons"]) == {"data:image/png;"}
    assert counts["awesome"] >= 1
