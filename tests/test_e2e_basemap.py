"""The offline base map in headless Chromium: with tiles off (AOP_MAP_OFFLINE=1) the home map
shows the districts coloured by activity, their boundaries and the county outline, and town
names that thin out by zoom. A screenshot goes to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aop_map.boundaries import load_places
from aop_map.dataset import load_dataset
from aop_map.energy import district_activity
from aop_map.filtering import Selection, filter_frame
from tests.browser import (
    ARTIFACTS,
    FOLIUM_IFRAME,
    run_app,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.browser

WAIT_MS = 30_000
COUNTY_VIEW = ([51.845, -2.15], 9)  # ui.GLOUCESTERSHIRE_VIEW: the whole county
# The choropleth's SVG paths and the fill colour each is drawn with.
FILLS_JS = """() => [...document.querySelectorAll("path.aop-activity")]
  .map(p => getComputedStyle(p).fill)"""
# Every name label Leaflet has drawn, with its kind and whether it shows on screen.
LABELS_JS = """() => {
  const size = window.map.getSize();
  return [...document.querySelectorAll(".aop-label")].map(e => {
    const r = e.getBoundingClientRect();
    return {text: e.textContent, kind: [...e.classList].find(c => c.startsWith("aop-label-")),
            visible: r.width > 0 && r.right > 0 && r.left < size.x && r.bottom > 0
                     && r.top < size.y && getComputedStyle(e).visibility !== "hidden",
            box: [r.left, r.top, r.right, r.bottom]};
  });
}"""
SET_VIEW_JS = """([center, zoom]) => new Promise(done => {
  window.map.once("moveend", () => setTimeout(done, 50));
  window.map.setView(center, zoom, {animate: false});
})"""


@pytest.fixture(scope="module")
def offline_app(chromium: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the bundled data with tiles off."""
    with run_app(tmp_path_factory.mktemp("basemap"), env={"AOP_MAP_OFFLINE": "1"}) as server:
        yield server.url


@pytest.fixture
def map_frame(chromium, offline_app: str) -> Iterator[tuple[object, object]]:
    """(page, the map iframe's frame) once the home map has drawn its layers."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(offline_app + "/")
    wait_for_app(page)
    page.frame_locator(FOLIUM_IFRAME).locator(".aop-label").first.wait_for()
    frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    frame.wait_for_function("() => window.map && document.querySelector('path.aop-activity')")
    yield page, frame
    assert not errors, errors
    context.close()


def show_view(page, view) -> object:
    """Set the home map's view and return its frame; again if a rerun redrew the map meanwhile
    (the app settles the URL once after the first run, and the map is drawn afresh)."""
    for _ in range(5):
        wait_for_app(page)
        frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
        frame.wait_for_function("() => window.map && document.querySelector('path.aop-activity')")
        frame.evaluate(SET_VIEW_JS, list(view))
        page.wait_for_timeout(700)
        frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
        if frame.evaluate("() => window.map && window.map.getZoom()") == view[1]:
            return frame
    raise AssertionError(f"the map did not keep the view {view}")


def shown_frame(dataset: object) -> object:
    """What the home map shows by default: current Gloucestershire activity (issue 12)."""
    return filter_frame(dataset.frame, Selection(), dataset.vocabulary)


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_home_map_offline_shows_districts_by_activity_and_towns(map_frame) -> None:
    page, _ = map_frame
    frame = show_view(page, COUNTY_VIEW)
    fills = frame.evaluate(FILLS_JS)
    assert len(fills) == 6  # one shape per district
    dataset = load_dataset()
    weights = set(district_activity(shown_frame(dataset), dataset.vocabulary)["weighted"])
    assert len(set(fills)) >= min(2, len(weights)), fills  # coloured by activity
    legend = frame.locator(".aop-info").inner_text()  # the layer's own legend says what counts
    assert "Activity by district" in legend and "venue in the district" in legend
    labels = frame.evaluate(LABELS_JS)
    visible = {label["text"] for label in labels if label["visible"]}
    assert {"Cheltenham", "Stroud", "Gloucester"} <= visible, visible
    shown = [label for label in labels if label["visible"]]
    for i, a in enumerate(shown):  # labels never overlap
        assert not any(_overlap(a["box"], b["box"]) for b in shown[i + 1 :]), a
    page.wait_for_timeout(300)
    screenshot(page, "basemap-offline-county")
    frame.locator(".leaflet-container").screenshot(path=str(ARTIFACTS / "basemap-map-only.png"))


def test_village_names_only_when_zoomed_in(map_frame) -> None:
    page, _ = map_frame
    places = load_places()
    villages = set(places.loc[places["type"] == "Village", "name"])
    frame = show_view(page, COUNTY_VIEW)
    at_county = frame.evaluate(LABELS_JS)
    assert not [label for label in at_county if label["kind"] == "aop-label-village"]
    assert not {label["text"] for label in at_county} & (villages - {"Stroud"})
    frame = show_view(page, ([51.745, -2.218], 13))  # Stroud, zoomed in
    zoomed = frame.evaluate(LABELS_JS)
    assert [label for label in zoomed if label["kind"] == "aop-label-village" and label["visible"]]
    assert not [label for label in zoomed if label["kind"] == "aop-label-district"]


def test_pointing_at_a_district_shows_its_numbers(map_frame) -> None:
    page, _ = map_frame
    frame = show_view(page, COUNTY_VIEW)
    readout = frame.locator(".aop-readout")
    assert readout.inner_text().startswith("Point at or tap a district")
    # The real pointer, over Dursley (Stroud district, no marker there): the map's own events.
    point = frame.evaluate("() => window.map.latLngToContainerPoint([51.681, -2.36])")
    box = page.locator(FOLIUM_IFRAME).bounding_box()
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    page.mouse.move(box["x"] + point["x"] + 2, box["y"] + point["y"] + 1)
    dataset = load_dataset()
    table = district_activity(shown_frame(dataset), dataset.vocabulary).set_index("name")
    row = table.loc["Stroud"]
    expected = f"Stroud: {row.established} established, {row.emerging} emerging"
    assert readout.inner_text().startswith(expected)
    assert (
        frame.evaluate("""() => [...document.querySelectorAll("path.aop-activity")]
      .filter(p => p.getAttribute("stroke") === "#1a1a1a").length""")
        == 1
    )  # highlighted


# A 1x1 transparent PNG: a tile that "loads" without the network.
BLANK_TILE = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def tiles_app(chromium: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app asked to use tiles (AOP_MAP_OFFLINE=0); the browser decides if they load."""
    with run_app(tmp_path_factory.mktemp("tiles"), env={"AOP_MAP_OFFLINE": "0"}) as server:
        yield server.url


@pytest.mark.parametrize("reachable", [False, True])
def test_place_names_appear_when_tiles_are_unreachable(chromium, tiles_app, reachable) -> None:
    """With tiles the tiles name places; when they cannot load, the map names them itself."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)

    def tile(route) -> None:  # never the real tile server
        if reachable:
            route.fulfill(status=200, content_type="image/png", body=BLANK_TILE)
        else:
            route.abort("internetdisconnected")

    page.route("https://tile.openstreetmap.org/**", tile)
    page.goto(tiles_app + "/")
    wait_for_app(page)
    # No label need show yet: the home map may open closer than district names (zoom 8-10).
    frame = show_view(page, COUNTY_VIEW)
    frame.wait_for_function("() => document.querySelector('.leaflet-tile')")
    page.wait_for_timeout(500)  # let every tile answer
    kinds = {label["kind"] for label in frame.evaluate(LABELS_JS) if label["visible"]}
    if reachable:
        assert kinds == {"aop-label-district"}, kinds
    else:
        assert {"aop-label-city", "aop-label-town", "aop-label-district"} <= kinds, kinds
    context.close()
