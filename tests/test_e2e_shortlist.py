"""In headless Chromium: a shortlist of three made on the map (or in the Directory) opens from
its link in a fresh browser, prints without controls and downloads as a PDF naming all three
(issue 13)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from aop_map.dataset import load_dataset
from tests import test_e2e
from tests.browser import screenshot, wait_for_app
from tests.test_activity_sheet import pdf_text
from tests.test_e2e import WAIT_MS, Watched

pytestmark = pytest.mark.browser
# The browser, the app on the bundled data and a watched page: test_e2e's fixtures.
bundled, browser_page = test_e2e.bundled, test_e2e.browser_page

# One with published contact details (shown on the sheet), two without (never shown).
CHOSEN = ("artlift", "mindsong", "create-gloucestershire")


# The page where the list is made, and the key of its 'Add to shortlist' row action.
MADE_ON = {"map": "shortlist_pick_map", "directory": "shortlist_pick"}
PATHS = {"map": "/", "directory": "/directory"}  # the map is the home page


def choose(page, key: str, name: str) -> None:
    """Pick one name in a page's 'Add to shortlist' list."""
    box = page.locator(f".st-key-{key}_box").get_by_test_id("stMultiSelect")
    box.locator("input").click()
    box.locator("input").fill(name)
    page.get_by_role("option", name=name, exact=True).click()
    page.keyboard.press("Escape")


@pytest.mark.parametrize("made_on", list(MADE_ON))
def test_a_shortlist_of_three_travels_prints_and_downloads(
    made_on: str, bundled: str, browser_page: Watched, chromium
) -> None:
    dataset = load_dataset()
    records = [dataset.record(rid) for rid in CHOSEN]
    assert all(records), "the bundled data changed: pick three other ids"
    names = [r.name for r in records]

    page = browser_page.open(bundled + PATHS[made_on])
    key = MADE_ON[made_on]
    if not page.locator(f".st-key-{key}_box").count():
        pytest.skip(f"the {made_on} page has no list to add from yet")
    for name in names:
        choose(page, key, name)
    page.locator(f".st-key-{key}_box").get_by_role("button", name="Add to shortlist").click()
    wait_for_app(page)
    page.wait_for_url(re.compile(r"[?&]list="))  # the page's own address carries it too
    assert parse_qs(urlsplit(page.url).query)["list"] == [",".join(CHOSEN)]
    page.get_by_role("link", name="Open the shortlist (3)").click()
    page.wait_for_url(re.compile(r"/shortlist\?list="))
    wait_for_app(page)
    link = page.url
    assert parse_qs(urlsplit(link).query)["list"] == [",".join(CHOSEN)]
    shown = page.get_by_test_id("stCode").inner_text().strip()  # the share link, commas plain
    assert urlsplit(shown).path == urlsplit(link).path
    assert parse_qs(urlsplit(shown).query) == parse_qs(urlsplit(link).query)

    fresh = chromium.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    try:
        other = fresh.new_page()
        other.set_default_timeout(WAIT_MS)
        other.goto(shown)
        wait_for_app(other)
        main = other.get_by_test_id("stMain")
        for name in names:
            main.get_by_role("heading", name=name, exact=True).wait_for()
        published = records[2].contact.email
        assert published and published in main.inner_text()
        mail = other.get_by_role("link", name="Email the link").get_attribute("href")
        assert mail.startswith("mailto:") and "shortlist%3Flist%3D" in mail

        with other.expect_download() as download:
            other.get_by_role("button", name="Download the activity sheet (PDF)").click()
        text = pdf_text(open(download.value.path(), "rb").read())
        for name in names:
            assert " ".join(name.split()) in text
        for record in records[:2]:  # no consent: nothing of their contact details
            for detail in (record.contact.email, record.contact.phone):
                assert not detail or detail not in text

        other.emulate_media(media="print")
        other.wait_for_timeout(300)
        assert not other.get_by_test_id("stSidebar").is_visible()
        assert (
            other.locator("button:visible, a[data-testid='stPageLink-NavLink']:visible").count()
            == 0
        )
        assert not other.get_by_test_id("stCode").is_visible()
        block = other.locator("[class*='st-key-sheet_entry_']").first
        assert block.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
        for name in names:
            assert main.get_by_role("heading", name=name, exact=True).is_visible()
        other.pdf(path=str(screenshot(other, f"shortlist-print-{made_on}").with_suffix(".pdf")))
    finally:
        fresh.close()
