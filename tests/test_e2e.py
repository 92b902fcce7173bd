"""End to end in headless Chromium: the real `streamlit run app.py`, offline, as a user sees it.

One server runs the bundled mapdata for the main checks, another a temporary directory with
script and Markdown injections. Screenshots of every page go to test-artifacts/ (git-ignored)
for a person to look at. Expected counts are computed from the same data with the library, so
the checks follow the bundled records as they change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from aop_map.dataset import load_dataset
from aop_map.filtering import Selection, count_records, filter_frame, gaps
from aop_map.geocoding import geocode_query
from tests.browser import (
    FOLIUM_IFRAME,
    run_app,
    run_app_on,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.browser

XSS_NAME = "<img src=x onerror=alert(1)>"
MD_NAME = "*markdown* [link](javascript:alert(1))"
XSS_RECORDS = f"""\
- id: xss-img
  name: "{XSS_NAME}"
  kind: organisation
  status: established
  summary: "<script>alert('summary')</script>"
  art_forms: [visual-arts]
  conditions: [dementia]
  areas_served: [cheltenham]
  locations: [{{postcode: GL50 3PR}}]
- id: md-inject
  name: "{MD_NAME}"
  kind: programme
  status: emerging
  art_forms: [dance]
  conditions: [mental-health]
  areas_served: [stroud]
  locations: [{{place: Stroud}}]
"""
WAIT_MS = 30_000
# Counts every circle marker and cluster Leaflet has drawn in the st_folium iframe.
COUNT_MARKERS_JS = """() => {
  let markers = 0, clusters = 0;
  window.map.eachLayer(l => {
    if (l instanceof L.MarkerCluster) clusters += 1;
    else if (l instanceof L.CircleMarker) markers += 1;
  });
  return {markers, clusters};
}"""
# Opens one record's popup (the layer's own content function, as a click would); returns its HTML.
OPEN_POPUP_JS = """(recordId) => {
  let group = null;
  window.map.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) group = l; });
  const marker = group.getLayers().find(
    m => (m.options.aopId || m.options.recordId) === recordId);
  L.popup().setLatLng(marker.getLatLng()).setContent(group.aopPopupHtml(marker))
    .openOn(window.map);
  return document.querySelector(".leaflet-popup-content").innerHTML;
}"""


@pytest.fixture(scope="module")
def bundled(chromium: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the bundled mapdata (AOP_MAP_DATA_DIR unset)."""
    with run_app(tmp_path_factory.mktemp("bundled")) as server:
        yield server.url


@pytest.fixture(scope="module")
def injected(chromium: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a data directory whose records carry script and Markdown payloads."""
    with run_app_on(XSS_RECORDS, tmp_path_factory.mktemp("xss")) as (server, _):
        yield server.url


class Watched:
    """A browser page that records dialogs, console errors and off-machine requests."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request) -> None:
        host = urlsplit(request.url).hostname or ""
        if request.url.startswith(("http://", "https://")) and host != "127.0.0.1":
            self.external.append(request.url)

    def open(self, url: str):
        self.page.goto(url)
        wait_for_app(self.page)
        return self.page


@pytest.fixture
def browser_page(chromium) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield Watched(page)
    context.close()


@pytest.fixture(scope="module")
def bundled_data():
    return load_dataset()


def matches_text(page) -> str:
    return page.get_by_test_id("stSidebar").get_by_text("records match").inner_text()


def wait_for_map(page) -> dict[str, int]:
    """Wait until Leaflet has drawn markers in the st_folium iframe; their counts."""
    frame = page.frame_locator(FOLIUM_IFRAME)
    frame.locator(".leaflet-container").wait_for()
    frame.locator(".aop-legend, .leaflet-control-layers").first.wait_for()
    handle = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    handle.wait_for_function("() => window.map && window.L", timeout=WAIT_MS)
    handle.wait_for_function(
        f"() => {{ const c = ({COUNT_MARKERS_JS})(); return c.markers + c.clusters > 0; }}",
        timeout=WAIT_MS,
    )
    return handle.evaluate(COUNT_MARKERS_JS)


def choose(page, label: str, option: str) -> None:
    """Pick an option in a sidebar multiselect with the keyboard, as a user would."""
    widget = page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text=label)
    widget.locator("input").click()
    widget.locator("input").fill(option)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


# ---------------------------------------------------------------------------------------------
# Bundled data


def test_shared_url_restores_the_selection(
    bundled: str, browser_page: Watched, bundled_data
) -> None:
    # The first request of a fresh server, straight to a page with filters in its URL.
    page = browser_page.open(f"{bundled}/directory?condition=copd&art_form=singing")
    frame = filter_frame(
        bundled_data.frame,
        Selection(condition=("copd",), art_form=("singing",)),
        bundled_data.vocabulary,
    )
    expected = count_records(frame)
    total = count_records(filter_frame(bundled_data.frame, Selection(), bundled_data.vocabulary))
    page.get_by_test_id("stSidebar").get_by_text(f"{expected} of {total} records match").wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_title(re.compile(r"^COPD and breathing conditions \(\d+\)$")).wait_for()
    sidebar.get_by_title(re.compile(r"^Singing \(\d+\)$")).wait_for()
    query = parse_qs(urlsplit(page.url).query)
    assert query["condition"] == ["copd"] and query["art_form"] == ["singing"]
    screenshot(page, "directory-copd-singing")


def test_map_draws_markers_offline(bundled: str, browser_page: Watched) -> None:
    page = browser_page.open(bundled + "/")
    counts = wait_for_map(page)
    assert counts["markers"] + counts["clusters"] > 0
    assert page.get_by_text("Map tiles are unavailable offline").count() == 1
    frame = page.frame_locator(FOLIUM_IFRAME)
    assert "Established" in frame.locator(".aop-legend").inner_text()
    page.wait_for_timeout(500)  # let the heat layer paint for the screenshot
    screenshot(page, "map")
    assert not browser_page.external, browser_page.external  # nothing from a CDN or tiles
    assert not browser_page.dialogs
    assert not [e for e in browser_page.errors if "404" not in e], browser_page.errors


# Counts the app's script runs from now on (a rerun flips the state to "running").
WATCH_RUNS_JS = """() => {
  window.__aopRuns = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__aopRuns += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
# The pixel position (in the iframe) of a marker drawn on its own, not inside a cluster.
LONE_MARKER_JS = """() => {
  let group = null;
  window.map.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) group = l; });
  const size = window.map.getSize();
  const lone = group.getLayers().map(m => [m, window.map.latLngToContainerPoint(m.getLatLng())])
    .find(([m, p]) => m._map && p.x > 60 && p.y > 60
          && p.x < size.x - 60 && p.y < size.y - 60);
  return lone ? {x: lone[1].x, y: lone[1].y} : null;
}"""


def test_panning_does_not_rerun_but_a_marker_click_selects(
    bundled: str, browser_page: Watched
) -> None:
    page = browser_page.open(bundled + "/")
    wait_for_map(page)
    page.evaluate(WATCH_RUNS_JS)
    box = page.locator(FOLIUM_IFRAME).bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.move(*centre)
    page.mouse.down()
    page.mouse.move(centre[0] + 120, centre[1] + 60, steps=8)
    page.mouse.up()
    page.mouse.wheel(0, -300)  # zoom in
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__aopRuns") == 0  # the map moved in the browser only
    frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    frame.evaluate("() => window.map.setView([51.845, -2.15], 9, {animate: false})")
    page.wait_for_timeout(500)
    point = frame.evaluate(LONE_MARKER_JS)
    assert point is not None
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    tooltip = frame.locator(".leaflet-tooltip:not(.aop-district-tooltip)")  # not a district's
    tooltip.wait_for()  # the markers' one shared tooltip, filled on hover
    assert tooltip.inner_text().strip()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    frame.locator(".leaflet-popup-content").get_by_text("Open the provider page").wait_for()
    page.get_by_role("link", name=re.compile("Open the page of")).wait_for()
    assert page.evaluate("window.__aopRuns") >= 1
    screenshot(page, "map-marker-clicked")


def test_choosing_a_filter_changes_count_and_url(
    bundled: str, browser_page: Watched, bundled_data
) -> None:
    page = browser_page.open(bundled + "/directory")
    # Of the records in view: current Gloucestershire activity unless asked for more.
    total = count_records(filter_frame(bundled_data.frame, Selection(), bundled_data.vocabulary))
    assert matches_text(page).startswith(f"{total} of {total}")
    dementia = count_records(
        filter_frame(
            bundled_data.frame, Selection(condition=("dementia",)), bundled_data.vocabulary
        )
    )
    assert dementia < total
    choose(page, "Health condition", "Dementia")
    page.get_by_test_id("stSidebar").get_by_text(f"{dementia} of {total} records match").wait_for()
    page.wait_for_url(re.compile(r"condition=dementia"))
    screenshot(page, "directory-dementia")
    # The sidebar menu drops the query string; the filters stay and return to the URL.
    page.get_by_test_id("stSidebar").get_by_role("link", name="Coverage and gaps").click()
    page.wait_for_url(re.compile(r"/coverage\?condition=dementia"))
    page.get_by_test_id("stSidebar").get_by_text(f"{dementia} of {total} records match").wait_for()


def test_coverage_cell_opens_the_map_filtered(
    bundled: str, browser_page: Watched, bundled_data
) -> None:
    page = browser_page.open(bundled + "/coverage")
    main = page.get_by_test_id("stMain")
    for label, option in (("Condition", "COPD and breathing conditions"), ("Art form", "Singing")):
        box = main.get_by_test_id("stSelectbox").filter(has_text=label).last
        box.locator("input").click()
        box.locator("input").fill(option)
        page.keyboard.press("Enter")
        wait_for_app(page)
    selection = Selection(condition=("copd",), art_form=("singing",))
    expected = count_records(filter_frame(bundled_data.frame, selection, bundled_data.vocabulary))
    link = main.get_by_role("link", name=re.compile(r"Open the map \(\d+\)"))
    assert f"({expected})" in link.inner_text()
    link.click()
    # The map is the home page, so its address is the app's root.
    page.wait_for_url(re.compile(r"/(map)?\?condition=copd&art_form=singing$"))
    total = count_records(filter_frame(bundled_data.frame, Selection(), bundled_data.vocabulary))
    page.get_by_test_id("stSidebar").get_by_text(f"{expected} of {total} records match").wait_for()


def test_done_when_singing_for_copd_near_gl14(
    bundled: str, browser_page: Watched, bundled_data
) -> None:
    """Who offers singing for people with COPD within 10 km of GL14 2AA, and how to contact?"""
    page = browser_page.open(
        f"{bundled}/?near=GL14+2AA&radius_km=10&condition=copd&art_form=singing"
    )
    page.frame_locator(FOLIUM_IFRAME).locator(".leaflet-container").wait_for()
    place = geocode_query("GL14 2AA")
    district = bundled_data.vocabulary.district_by_code(place.district_code)
    anywhere = filter_frame(
        bundled_data.frame,
        Selection(condition=("copd",), art_form=("singing",)),
        bundled_data.vocabulary,
    )
    serving = anywhere[
        anywhere["areas_served"].map(lambda areas: bool({district.id, "countywide"} & set(areas)))
    ]
    main = page.get_by_test_id("stMain")
    for name in set(serving["name"]):
        main.get_by_text(name, exact=True).first.wait_for()
    assert main.get_by_text(f"Also serving {district.label}").count() == 1
    screenshot(page, "done-when-copd-singing-gl14")
    # The provider page says how to get in touch (or that details are not published).
    first = serving.iloc[0]
    page = browser_page.open(f"{bundled}/provider?id={first['record_id']}")
    page.get_by_role("heading", name="Contact").wait_for()
    screenshot(page, "done-when-provider")


def test_done_when_cotswold_gaps(bundled: str, browser_page: Watched, bundled_data) -> None:
    """Which conditions have no provider in the Cotswolds?"""
    page = browser_page.open(bundled + "/coverage")
    box = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text="District")
    box.locator("input").click()
    box.locator("input").fill("Cotswold")
    page.keyboard.press("Enter")
    missing = gaps(bundled_data.frame, bundled_data.vocabulary, "conditions", "cotswold")
    labels = bundled_data.vocabulary.labels("conditions", missing)
    warning = page.get_by_text("No provider in Cotswold for:")
    warning.wait_for()
    text = warning.locator("xpath=ancestor::*[@data-testid='stAlert'][1]").inner_text()
    for label in labels:
        assert label in text
    screenshot(page, "done-when-cotswold-gaps")


@pytest.mark.parametrize(
    "path", ["coverage", "provider", "factsheets", "about", "register", "moderate"]
)
def test_every_page_renders(bundled: str, browser_page: Watched, bundled_data, path: str) -> None:
    url = f"{bundled}/{path}"
    if path == "provider":
        url += f"?id={bundled_data.records[0].id}"
    page = browser_page.open(url)
    assert page.get_by_test_id("stException").count() == 0
    assert page.title().endswith("Gloucestershire arts and health map")
    screenshot(page, f"page-{path}")
    assert not browser_page.dialogs


def test_unknown_provider_says_not_found(bundled: str, browser_page: Watched) -> None:
    page = browser_page.open(f"{bundled}/provider?id=no-such-record")
    assert page.get_by_role("heading", name="Provider not found").count() == 1
    page.get_by_role("link", name=re.compile("Back to the directory")).wait_for()
    screenshot(page, "provider-not-found")


# ---------------------------------------------------------------------------------------------
# Injected records


def test_script_payloads_execute_nothing(injected: str, browser_page: Watched) -> None:
    page = browser_page.open(injected + "/")
    wait_for_map(page)
    frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    popup = frame.evaluate(OPEN_POPUP_JS, "xss-img")
    assert "&lt;img src=x onerror=alert(1)&gt;" in popup
    assert frame.locator(".leaflet-popup-content img").count() == 0
    assert XSS_NAME in frame.locator(".leaflet-popup-content").inner_text()
    screenshot(page, "xss-map-popup")

    page = browser_page.open(injected + "/provider?id=xss-img")
    assert page.get_by_role("heading", level=1).first.inner_text() == XSS_NAME
    assert page.get_by_test_id("stMain").locator("img[src='x']").count() == 0
    screenshot(page, "xss-provider")

    page = browser_page.open(injected + "/provider?id=md-inject")
    assert page.get_by_role("heading", level=1).first.inner_text() == MD_NAME
    assert page.get_by_test_id("stMain").locator("a[href^='javascript']").count() == 0
    assert page.get_by_test_id("stMain").locator("em", has_text="markdown").count() == 0
    screenshot(page, "md-provider")

    page = browser_page.open(injected + "/directory")
    page.get_by_test_id("stDataFrame").first.wait_for()
    screenshot(page, "xss-directory")
    page.wait_for_timeout(300)
    assert browser_page.dialogs == []
    assert not [e for e in browser_page.errors if "alert" in e or "onerror" in e]
