"""In headless Chromium: links that change the record shown change the address (issue 11).

The map's popup link sits in Streamlit's sandboxed iframe; clicking it must open the provider
page in the same tab with ``?id=...`` in the address, and Back must return to the map with its
filters.
"""

from __future__ import annotations

import re

import pytest

from tests.browser import FOLIUM_IFRAME, screenshot, wait_for_app
from tests.test_e2e import (  # noqa: F401 (fixtures)
    Watched,
    browser_page,
    bundled,
    wait_for_map,
)

pytestmark = pytest.mark.browser

# The pixel position of the lone marker (not in a cluster) nearest the map's middle, so its popup
# opens clear of the map's controls.
CENTRAL_MARKER_JS = """() => {
  let group = null;
  window.map.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) group = l; });
  const size = window.map.getSize();
  const lone = group.getLayers().filter(m => m._map)
    .map(m => window.map.latLngToContainerPoint(m.getLatLng()))
    .sort((a, b) => Math.hypot(a.x - size.x / 2, a.y - size.y / 2)
                  - Math.hypot(b.x - size.x / 2, b.y - size.y / 2));
  return lone.length ? {x: lone[0].x, y: lone[0].y} : null;
}"""


def test_the_popup_link_opens_the_provider_page(
    bundled: str,  # noqa: F811 (a fixture)
    browser_page: Watched,  # noqa: F811 (a fixture)
) -> None:
    page = browser_page.open(bundled + "/?status=established")
    wait_for_map(page)
    frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    wait_for_app(page)  # the home map is drawn once more after the first run settles the URL
    frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    frame.wait_for_function("() => window.map && window.L")
    page.wait_for_timeout(500)
    point = frame.evaluate(CENTRAL_MARKER_JS)
    assert point is not None
    box = page.locator(FOLIUM_IFRAME).bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = frame.locator(".leaflet-popup-content")
    popup.get_by_text("Open the provider page").wait_for()
    name = popup.locator("strong").first.inner_text()
    popup.get_by_text("Open the provider page").click()
    page.wait_for_url(re.compile(r"/provider\?id=[^&]+$"))
    wait_for_app(page)
    page.get_by_test_id("stMain").get_by_text(name, exact=True).first.wait_for()
    screenshot(page, "provider-from-popup")
    assert not browser_page.dialogs
    page.go_back()
    page.wait_for_url(re.compile(r"status=established"))
    wait_for_app(page)
    wait_for_map(page)
