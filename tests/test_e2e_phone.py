"""In headless Chromium: issue 11's defects 3-8, at desktop (1366x900) and phone (390x844) size.

3 the map lists its records; 4 near-search counts agree with what is listed; 5 one result is
never shown closer than a town; 6 the pages work on a phone; 7 the keyboard reaches
everything, with a visible focus; 8 an unknown path says "page not found".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from aop_map.filtering import Selection, filter_frame
from aop_map.mapping import MAX_FIT_ZOOM
from tests import test_e2e
from tests.browser import FOLIUM_IFRAME, screenshot, wait_for_app
from tests.test_e2e import WAIT_MS, Watched, wait_for_map

pytestmark = pytest.mark.browser
# test_e2e's fixtures: its browser and its app on the bundled data.
bundled, bundled_data = test_e2e.bundled, test_e2e.bundled_data

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# A near search with no venue in range but providers serving the area (GL14 is the Forest of
# Dean; the test checks the data still make it so).
NEAR_NONE_IN_RANGE = "/?near=GL14+2AA&radius_km=10&condition=copd&art_form=singing"


@pytest.fixture
def sized(chromium, request) -> Iterator[Watched]:
    size = getattr(request, "param", DESKTOP)
    context = chromium.new_context(
        viewport=size, is_mobile=size["width"] < 600, has_touch=size["width"] < 600
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield Watched(page)
    context.close()


def map_frame(page):
    return page.locator(FOLIUM_IFRAME).first.element_handle().content_frame()


def matching(page) -> int:
    """The sidebar's "N of M records match" N (the sidebar is in the page while closed)."""
    text = page.get_by_test_id("stSidebar").get_by_text("records match").inner_text()
    return int(text.split()[0])


def listed(page) -> list[str]:
    """The names in the page's record lists, in order (only the visible lists)."""
    return page.locator(".aop-list li > a").filter(visible=True).all_inner_texts()


# ---------------------------------------------------------------------------------------------
# 3 and 7: the map's text twin


@pytest.mark.parametrize("sized", [PHONE], indirect=True)  # the Directory's list shows
def test_map_lists_every_record_in_the_directory_order(
    bundled: str, sized: Watched, bundled_data
) -> None:
    page = sized.open(bundled + "/directory")
    page.locator(".aop-list").first.wait_for()
    directory = listed(page)
    assert len(directory) == matching(page)
    page = sized.open(bundled + "/")
    wait_for_map(page)
    assert listed(page) == directory  # every record, in the Directory's order
    first = page.locator(".aop-list li").first
    record = bundled_data.frame.loc[bundled_data.frame["name"] == directory[0], "record_id"]
    assert first.locator("a").get_attribute("href") == f"provider?id={record.iloc[0]}"
    assert first.locator(".aop-what").inner_text().strip()
    assert first.locator(".aop-where").inner_text().strip()
    first.locator("a").click()  # the link opens the record's page
    page.wait_for_url(re.compile(r"/provider\?id="))
    wait_for_app(page)
    assert page.get_by_role("heading", level=1).first.inner_text() == directory[0]


# ---------------------------------------------------------------------------------------------
# 4: counts agree with what is listed


def metric(page, label: str) -> int:
    box = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return int(box.get_by_test_id("stMetricValue").inner_text())


def test_near_search_counts_agree_with_the_list(bundled: str, sized: Watched, bundled_data) -> None:
    page = sized.open(bundled + NEAR_NONE_IN_RANGE)
    main = page.get_by_test_id("stMain")
    main.get_by_text("Also serving").first.wait_for()
    serving = main.locator(".aop-list").last.locator("li").count()
    assert serving > 0
    assert metric(page, "Within 10 km") == 0
    assert metric(page, "Serving the area") == serving
    assert main.get_by_text(re.compile(rf"0 within 10 km, {serving} serving")).count() == 1
    screenshot(page, "issue11-near-counts")
    # The Directory says the same.
    page = sized.open(bundled + NEAR_NONE_IN_RANGE.replace("/?", "/directory?"))
    page.get_by_text(re.compile(rf"0 within 10 km, {serving} serving")).wait_for()


# ---------------------------------------------------------------------------------------------
# 5: one result, and the town around it


def lone_search(bundled_data) -> str:
    """A search word whose matches have exactly one place on the map."""
    frame = bundled_data.frame
    for _record_id, rows in frame[frame.geometry.notna()].groupby("record_id"):
        name = rows["name"].iloc[0]
        matches = filter_frame(frame, Selection(q=name), bundled_data.vocabulary)
        if matches.geometry.notna().sum() == 1 and rows["district_code"].notna().all():
            return name
    pytest.skip("no record in the bundled data is a single point on its own")


def test_a_single_result_shows_the_town_around_it(
    bundled: str, sized: Watched, bundled_data
) -> None:
    name = lone_search(bundled_data)
    page = sized.open(f"{bundled}/?q={name.replace(' ', '+')}")
    wait_for_map(page)
    frame = map_frame(page)
    assert frame.evaluate("() => window.map.getZoom()") <= MAX_FIT_ZOOM
    record = bundled_data.frame.loc[bundled_data.frame["name"] == name, "record_id"].iloc[0]
    page = sized.open(f"{bundled}/provider?id={record}")
    page.locator(FOLIUM_IFRAME).first.wait_for()
    frame = map_frame(page)
    frame.wait_for_function("() => window.map && window.map.getZoom() !== undefined")
    assert frame.evaluate("() => window.map.getZoom()") <= MAX_FIT_ZOOM


# ---------------------------------------------------------------------------------------------
# 6: a phone


def boxes_overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.parametrize("sized", [PHONE], indirect=True)
def test_the_map_page_works_on_a_phone(bundled: str, sized: Watched) -> None:
    page = sized.open(bundled + "/")
    wait_for_map(page)
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_attribute("data-collapsed") == "true"  # closed, not covering the page
    assert sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 0
    iframe = page.locator(FOLIUM_IFRAME).first.bounding_box()
    assert iframe["y"] < PHONE["height"] - 200  # compact metrics: the map on the first screen
    frame = page.frame_locator(FOLIUM_IFRAME).first
    layers = frame.locator(".leaflet-control-layers").bounding_box()
    zoom = frame.locator(".leaflet-control-zoom").bounding_box()
    assert not boxes_overlap(layers, zoom)
    legend = frame.locator(".aop-legend")
    toggle = legend.get_by_role("button", name="Show legend")
    assert toggle.get_attribute("aria-expanded") == "false"
    area = iframe["width"] * iframe["height"]
    for box in (legend, frame.locator(".aop-info")):
        shown = box.bounding_box()
        assert shown["width"] * shown["height"] < 0.05 * area
    toggle.click()
    assert legend.get_by_role("button", name="Hide legend").get_attribute("aria-expanded") == "true"
    screenshot(page, "issue11-phone-map")


# Clicks (as the layer's click handler sees it) the lone marker furthest right in view, the
# hardest place for a popup on a narrow map; then the popup's box, the map's, and the controls
# that overlap the popup.
CLICK_RIGHTMOST_JS = """() => new Promise(done => {
  let group = null;
  window.map.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) group = l; });
  const shown = group.getLayers().filter(m => window.map.hasLayer(m)
      && window.map.getBounds().contains(m.getLatLng()));
  shown.sort((a, b) => b.getLatLng().lng - a.getLatLng().lng);
  shown[0].fire("click", {latlng: shown[0].getLatLng()}, true);
  setTimeout(() => {
    const p = document.querySelector(".leaflet-popup").getBoundingClientRect();
    const m = window.map.getContainer().getBoundingClientRect();
    const under = [...document.querySelectorAll(".leaflet-control")].filter(c => {
      const r = c.getBoundingClientRect();
      return r.width && r.left < p.right && p.left < r.right
          && r.top < p.bottom && p.top < r.bottom;
    }).map(c => c.className);
    done({popup: [p.left, p.right], map: [m.left, m.right], under});
  }, 800);
})"""


@pytest.mark.parametrize("sized", [PHONE], indirect=True)
def test_a_popup_fits_on_a_phone_map(bundled: str, sized: Watched) -> None:
    page = sized.open(bundled + "/")
    wait_for_map(page)
    frame = map_frame(page)
    frame.evaluate("() => window.map.setView([51.86, -2.24], 11, {animate: false})")
    page.wait_for_timeout(500)
    boxes = frame.evaluate(CLICK_RIGHTMOST_JS)
    (left, right), (map_left, map_right) = boxes["popup"], boxes["map"]
    assert map_left <= left and right <= map_right, boxes  # the whole popup can be read
    assert boxes["under"] == [], boxes  # and no control covers any of it
    screenshot(page, "phone-popup")


@pytest.mark.parametrize("sized", [PHONE], indirect=True)
def test_the_directory_is_readable_on_a_phone(bundled: str, sized: Watched, bundled_data) -> None:
    page = sized.open(bundled + "/directory")
    rows = page.locator(".st-key-directory_list .aop-list li")
    rows.first.wait_for()
    assert rows.count() == matching(page)
    for part in ("a", ".aop-what", ".aop-where"):
        box = rows.first.locator(part).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert not page.locator(".st-key-directory_grid").is_visible()
    screenshot(page, "issue11-phone-directory")


# ---------------------------------------------------------------------------------------------
# 7: the keyboard


FOCUS_RING_JS = """() => {
  const e = document.activeElement, s = getComputedStyle(e);
  return {text: e.innerText || e.getAttribute('aria-label') || '',
          width: parseFloat(s.outlineWidth) || 0, style: s.outlineStyle};
}"""


def test_the_keyboard_reaches_the_menu_with_a_visible_focus(bundled: str, sized: Watched) -> None:
    page = sized.open(bundled + "/")
    for _ in range(30):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS_RING_JS)
        if focus["text"].strip().endswith("Directory"):
            break
    else:
        pytest.fail("Tab never reached the Directory in the menu")
    assert focus["width"] >= 2 and focus["style"] != "none"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/directory"))


def test_arrow_down_enter_picks_one_art_form(bundled: str, sized: Watched) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = sized.open(bundled + "/directory")
    widget = (
        page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Art form")
    )
    first = page.get_by_role("option").first
    for _ in range(3):  # on a loaded machine a key pressed as the box mounts can go unseen
        widget.locator("input").focus()
        page.wait_for_function("() => document.activeElement?.tagName === 'INPUT'")
        page.keyboard.press("ArrowDown")
        try:
            first.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    first.wait_for()
    assert "Select all" not in first.inner_text()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_for_app(page)
    chips = widget.locator("[data-tag]")
    chips.first.wait_for()
    assert chips.count() == 1


def test_the_legend_folds_with_the_keyboard(bundled: str, sized: Watched) -> None:
    page = sized.open(bundled + "/")
    wait_for_map(page)
    frame = page.frame_locator(FOLIUM_IFRAME).first
    toggle = frame.locator(".aop-legend .aop-toggle")
    assert toggle.get_attribute("aria-expanded") == "true"  # open on a wide map
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not frame.locator(".aop-legend").get_by_text("Established (running").is_visible()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert frame.locator(".aop-legend").get_by_text("Established (running").is_visible()


# ---------------------------------------------------------------------------------------------
# 8: unknown paths


@pytest.mark.parametrize("sized", [DESKTOP, PHONE], indirect=True)
def test_an_unknown_path_says_page_not_found(bundled: str, sized: Watched) -> None:
    page = sized.open(bundled + "/nosuchpage")
    main = page.get_by_test_id("stMain")
    assert main.get_by_role("heading", name="Page not found").count() == 1
    assert main.get_by_role("link", name=re.compile("home page")).count() == 1
    for title in (
        "Energy map",
        "Directory",
        "Coverage and gaps",
        "Register your activity",
        "Fact sheets",
        "About and data",
    ):
        assert main.get_by_role("link", name=title, exact=True).count() == 1
    assert page.get_by_test_id("stMetric").count() == 0  # not the map
    assert page.title().startswith("Page not found")
    screenshot(page, f"issue11-not-found-{page.viewport_size['width']}")
