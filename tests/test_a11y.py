"""WCAG audit of every page in headless Chromium with axe-core (bundled, offline).

Every page at desktop (1366x900) and phone (390x844) size, and inside the map's iframe: no
violation of impact "serious" or "critical" for WCAG 2.0/2.1/2.2 A and AA. A violation inside a
third-party widget we cannot change goes in KNOWN_THIRD_PARTY with its reason, matched by rule
and element; nothing is ignored wholesale. Screenshots of each page at each size go to
test-artifacts/ (a11y-<page>-<width>.png) for a person to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests import test_e2e
from tests.browser import FOLIUM_IFRAME, screenshot
from tests.test_e2e import WAIT_MS, Watched, wait_for_map

pytestmark = pytest.mark.browser
bundled = test_e2e.bundled  # test_e2e's app on the bundled data

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}
}
BLOCKING = ("serious", "critical")
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = {
    "map": "/",
    "directory": "/directory",
    "coverage": "/coverage",
    "provider": "/provider?id=artlift",
    "register": "/register",
    "moderate": "/moderate",
    "factsheets": "/factsheets",
    "about": "/about",
    "not-found": "/nosuchpage",
}
# (rule id, a CSS selector fragment of the element) -> why it is not ours to fix. Empty today:
# every serious or critical finding so far was ours and is fixed.
KNOWN_THIRD_PARTY: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture(params=list(SIZES))
def sized(chromium, request) -> Iterator[tuple[str, Watched]]:
    size = SIZES[request.param]
    narrow = size["width"] < 600
    context = chromium.new_context(viewport=size, is_mobile=narrow, has_touch=narrow)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield request.param, Watched(page)
    context.close()


def blocking(results: dict) -> list[str]:
    """The serious and critical violations not listed as third-party, one line per element."""
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            if any(rule == violation["id"] and part in target for rule, part in KNOWN_THIRD_PARTY):
                continue
            found.append(
                f"{violation['id']} ({violation['impact']}): {target}: "
                f"{node.get('failureSummary', '')[:200]}"
            )
    return found


def audit_frame(frame, axe) -> dict:
    """Run axe inside one frame (the map's iframe is a document of its own)."""
    frame.evaluate(axe.axe_script)
    return frame.evaluate(f"axe.run(document, {json.dumps(AXE_OPTIONS)})")


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_accessibility_violations(
    bundled: str, sized: tuple[str, Watched], axe, name: str
) -> None:
    size, watched = sized
    page = watched.open(bundled + PAGES[name])
    if name == "map":
        wait_for_map(page)
    page.wait_for_timeout(500)
    problems = blocking(axe.run(page, options=AXE_OPTIONS).response)
    for index in range(page.locator(FOLIUM_IFRAME).count()):
        frame = page.locator(FOLIUM_IFRAME).nth(index).element_handle().content_frame()
        frame.wait_for_function("() => window.map && window.L", timeout=WAIT_MS)
        problems += [f"in the map: {p}" for p in blocking(audit_frame(frame, axe))]
    screenshot(page, f"a11y-{name}-{page.viewport_size['width']}")
    assert not problems, f"{name} at {size} size:\n" + "\n".join(problems)
