"""In headless Chromium: the map's markers work from the keyboard (WCAG 2.1.1).

On the home map, a marker drawn on its own is reached with Tab, shows a focus ring, and opens
its popup with Enter or Space; the popup takes the focus, Tab reaches its link, Escape gives
the focus back. Cluster icons are buttons named by their counts. On a provider page's small
map, Tab reaches each venue, named by its text, with its tooltip shown. A record's text is a
marker's label as text: a hostile name or venue puts no element in the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.browser import FOLIUM_IFRAME, run_app_on, screenshot, wait_for_app
from tests.test_a11y import audit_frame, axe, blocking  # noqa: F401 (a fixture)
from tests.test_e2e import (  # noqa: F401 (fixtures)
    XSS_NAME,
    Watched,
    browser_page,
    bundled,
    injected,
    wait_for_map,
)

pytestmark = pytest.mark.browser

# What has the keyboard focus in the map's frame: a marker (its label and record name), a
# cluster icon, the popup, its link, or something else.
FOCUSED_JS = """() => {
  const a = document.activeElement;
  let group = null;
  window.map.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) group = l; });
  const marker = group.getLayers().find(m => m._map && m.getElement() === a);
  return {
    marker: marker ? {label: a.getAttribute("aria-label"), role: a.getAttribute("role"),
                      name: group.aopData.r[marker.options.aopRecord][1],
                      outline: getComputedStyle(a).outlineStyle,
                      colour: getComputedStyle(a).outlineColor} : null,
    cluster: a.classList.contains("aop-cluster") ? a.getAttribute("aria-label") : null,
    popup: a.classList.contains("leaflet-popup-content"),
    link: a.matches("a.aop-open"),
  };
}"""
MAX_TABS = 60  # the map's markers and clusters come before its controls in the tab order


def map_frame(page, zoom: int = 10):
    """The st_folium frame with the map's focus, its view at the county's middle."""
    wait_for_map(page)
    wait_for_app(page)  # the app settled: the view set below is on the map that stays
    wait_for_map(page)
    frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    frame.evaluate(f"() => window.map.setView([51.845, -2.15], {zoom}, {{animate: false}})")
    page.wait_for_timeout(500)
    frame.evaluate("() => window.map.getContainer().focus()")  # into the map, as Tab would
    return frame


def tab_to_marker(page, frame, label: str | None = None) -> dict:
    """Press Tab until a marker (with `label`, if given) has the focus; what is focused."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = frame.evaluate(FOCUSED_JS)
        marker = focused["marker"]
        if marker and (label is None or marker["label"] == label):
            return focused
    raise AssertionError(f"no marker {label or ''} reached in {MAX_TABS} presses of Tab")


def test_a_marker_opens_from_the_keyboard(
    bundled: str,  # noqa: F811 (a fixture)
    browser_page: Watched,  # noqa: F811 (a fixture)
    axe,  # noqa: F811 (a fixture)
) -> None:
    page = browser_page.open(bundled + "/?status=established")
    frame = map_frame(page)
    marker = tab_to_marker(page, frame)["marker"]
    assert marker["label"] == marker["name"] and marker["role"] == "button"
    assert marker["outline"] == "solid" and marker["colour"] == "rgb(0, 114, 178)"  # the ring
    tooltip = frame.locator(".leaflet-tooltip:not(.aop-district-tooltip)")  # not a district's
    assert tooltip.inner_text() == marker["name"]  # its name shows, as on hover
    screenshot(page, "map-marker-focused")
    page.keyboard.press("Enter")
    popup = frame.locator(".leaflet-popup-content")
    popup.get_by_text("Open the provider page").wait_for()
    assert popup.locator("strong").first.inner_text() == marker["name"]
    assert frame.evaluate(FOCUSED_JS)["popup"]  # the popup took the focus
    page.keyboard.press("Tab")
    assert frame.evaluate(FOCUSED_JS)["link"]
    screenshot(page, "map-marker-popup-keyboard")
    assert not blocking(audit_frame(frame, axe))  # marker buttons, popup: no serious findings
    page.keyboard.press("Escape")
    popup.wait_for(state="detached")
    assert frame.evaluate(FOCUSED_JS)["marker"]["label"] == marker["name"]  # focus came back
    page.keyboard.press(" ")
    popup.get_by_text("Open the provider page").wait_for()
    assert popup.locator("strong").first.inner_text() == marker["name"]
    # As a click does: streamlit-folium reports the marker and the page offers its link.
    page.get_by_role("link", name=re.compile("Open the page of")).wait_for()
    assert not browser_page.dialogs


def test_cluster_icons_are_named_buttons(
    bundled: str,  # noqa: F811 (a fixture)
    browser_page: Watched,  # noqa: F811 (a fixture)
) -> None:
    page = browser_page.open(bundled + "/")
    frame = map_frame(page, zoom=8)
    cluster = frame.locator(".aop-cluster").first
    cluster.wait_for()
    label = cluster.get_attribute("aria-label")
    assert re.fullmatch(r"\d+ places: \d+ established, \d+ emerging.*; press Enter to .+", label)
    assert cluster.get_attribute("role") == "button" and cluster.get_attribute("tabindex") == "0"
    zoom = frame.evaluate("() => window.map.getZoom()")
    cluster.focus()
    page.keyboard.press("Enter")
    frame.wait_for_function(f"() => window.map.getZoom() > {zoom}")  # zoomed in, as a click


def test_a_hostile_name_is_only_a_label(
    injected: str,  # noqa: F811 (a fixture)
    browser_page: Watched,  # noqa: F811 (a fixture)
) -> None:
    page = browser_page.open(injected + "/")
    frame = map_frame(page)
    frame.evaluate("() => window.map.setView([51.85, -2.15], 10, {animate: false})")
    page.wait_for_timeout(300)
    marker = tab_to_marker(page, frame, XSS_NAME)["marker"]
    assert marker["label"] == XSS_NAME == marker["name"]  # literally, as text
    assert frame.locator("img[src='x']").count() == 0
    page.keyboard.press("Enter")
    popup = frame.locator(".leaflet-popup-content")
    popup.get_by_text("Open the provider page").wait_for()
    assert popup.locator("strong").first.inner_text() == XSS_NAME
    assert frame.locator("img[src='x']").count() == 0
    page.wait_for_timeout(300)
    assert browser_page.dialogs == []


# ---------------------------------------------------------------------------------------------
# The provider page's small map

HOSTILE_VENUE = "<img src=x onerror=alert(2)> & {{ 7*7 }}"
VENUE_RECORDS = f"""\
- id: hostile-venue
  name: Venue Test
  kind: organisation
  status: established
  locations: [{{label: "{HOSTILE_VENUE}", postcode: GL50 3PR}}]
"""
# The venue marker with the keyboard focus in the small map's frame: its label, role and ring.
FOCUSED_VENUE_JS = """() => {
  const a = document.activeElement;
  if (!a || !a.classList || !a.classList.contains("aop-venue")) return null;
  return {label: a.getAttribute("aria-label"), role: a.getAttribute("role"),
          outline: getComputedStyle(a).outlineStyle, colour: getComputedStyle(a).outlineColor};
}"""


@pytest.fixture(scope="module")
def hostile_venue(chromium: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a data directory whose one record has a venue named with markup."""
    with run_app_on(VENUE_RECORDS, tmp_path_factory.mktemp("venue")) as (server, _):
        yield server.url


def tab_to_venue(page) -> tuple[object, dict]:
    """Into the small map as Tab would, then Tab until a venue marker has the focus."""
    wait_for_app(page)
    page.frame_locator(FOLIUM_IFRAME).locator(".aop-venue").first.wait_for()
    frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    frame.evaluate("() => window.map.getContainer().focus()")
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        venue = frame.evaluate(FOCUSED_VENUE_JS)
        if venue:
            return frame, venue
    raise AssertionError(f"no venue reached in {MAX_TABS} presses of Tab")


def test_a_venue_is_reached_and_named_from_the_keyboard(
    bundled: str,  # noqa: F811 (a fixture)
    browser_page: Watched,  # noqa: F811 (a fixture)
    axe,  # noqa: F811 (a fixture)
) -> None:
    page = browser_page.open(bundled + "/provider?id=artspace")  # venue: Cinderford Artspace
    frame, venue = tab_to_venue(page)
    assert venue["label"].startswith("Cinderford Artspace (Established; placed by ")
    assert venue["role"] == "img"
    assert venue["outline"] == "solid" and venue["colour"] == "rgb(0, 114, 178)"  # the ring
    tooltip = frame.locator(".leaflet-tooltip:not(.aop-district-tooltip)")
    assert tooltip.inner_text() == venue["label"]  # its text shows, as on hover
    screenshot(page, "provider-map-venue-focused")
    assert not blocking(audit_frame(frame, axe))
    assert not browser_page.dialogs


def test_a_hostile_venue_is_only_a_label(
    hostile_venue: str,
    browser_page: Watched,  # noqa: F811 (a fixture)
) -> None:
    page = browser_page.open(hostile_venue + "/provider?id=hostile-venue")
    frame, venue = tab_to_venue(page)
    assert venue["label"].startswith(HOSTILE_VENUE + " (Established;")  # literally, as text
    tooltip = frame.locator(".leaflet-tooltip:not(.aop-district-tooltip)")
    assert tooltip.inner_text() == venue["label"]
    assert frame.locator("img[src='x']").count() == 0
    page.wait_for_timeout(300)
    assert browser_page.dialogs == []
