"""The home map right after the first load, in headless Chromium: drawn once, so a pan the
visitor makes while the page settles is kept. A rerun that sent the map different arguments
(the URL sync, a tile probe answering, a changed link) would draw it afresh at its first view.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import FOLIUM_IFRAME, run_app, wait_for_app

pytestmark = pytest.mark.browser

WAIT_MS = 30_000
# How long after the page has settled a late rerun could still redraw the map.
SETTLE_MS = 3_000
# In every frame: streamlit-folium sets `window.map` once per drawing of a map. Each drawing is
# counted in the top window, and the first is panned as soon as it is drawn, as a visitor who
# starts dragging at once would. (The iframe's first document, about:blank, is the one its page
# loads into, so the hook is in place before the map's script runs.)
COUNT_DRAWS_JS = """if (window !== window.top) {
  let drawn;
  Object.defineProperty(window, "map", {configurable: true, get: () => drawn, set(map) {
    drawn = map;
    const top = window.top;
    top.__aopDraws = (top.__aopDraws || 0) + 1;
    if (top.__aopDraws === 1) {
      setTimeout(() => {
        map.panBy([200, 100], {animate: false});
        top.__aopPanned = map.getCenter();
      }, 300);
    }
  }});
}"""


@pytest.fixture(scope="module")
def fresh_app(chromium: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own, so the first visit below is its first session on cold caches."""
    with run_app(tmp_path_factory.mktemp("first-load")) as server:
        yield server.url


@pytest.mark.parametrize("path", ["/", "/?status=established", "/map?condition=dementia"])
def test_the_home_map_is_drawn_once_and_keeps_an_early_pan(
    chromium, fresh_app: str, path: str
) -> None:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(COUNT_DRAWS_JS)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(fresh_app + path)
        page.wait_for_function("() => window.__aopDraws")
        wait_for_app(page)
        page.wait_for_timeout(SETTLE_MS)
        assert page.evaluate("window.__aopDraws") == 1  # not drawn afresh by a rerun
        assert len(page.locator(FOLIUM_IFRAME).all()) == 1
        panned = page.evaluate("window.__aopPanned")
        frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
        centre = frame.evaluate("() => window.map.getCenter()")
        assert panned and centre == pytest.approx(panned, abs=1e-6)  # a resize may round it
    finally:
        context.close()
