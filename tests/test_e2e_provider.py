"""In headless Chromium: the provider page, its links, its problem report, the Register page's
preview and updates, and the moderator sign-in lockout (issue 11 items 2, 9, 11, 12; issue 12
§4).

One server runs a small data directory: ``alpha`` names ``Beta Singers`` as a partner and
publishes its contact details; ``quiet`` publishes none, so its page links to the umbrella
body. Each test says which item it covers.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import launch_chromium, require_browser, run_app, wait_for_app
from tests.conftest import MAPDATA
from tests.test_e2e import WAIT_MS, Watched

pytestmark = pytest.mark.browser
PASSWORD = "provider page moderator password"
RECORDS = """\
- id: alpha
  name: Alpha Arts
  kind: organisation
  status: established
  summary: Painting for people living with dementia.
  partners: [Beta Singers]
  publish_contact: true
  contact: {email: hello@alpha.example, phone: 01452 123456}
  locations: [{postcode: GL50 3PR}]
- id: beta
  name: Beta Singers
  kind: organisation
  status: established
  locations: [{place: Stroud}]
- id: quiet
  name: Quiet Choir
  kind: organisation
  status: established
  locations: [{place: Stroud}]
- id: create-gloucestershire
  name: Create Gloucestershire
  kind: organisation
  status: established
  areas_served: [gloucestershire]
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app on the small data directory, with moderation set up; (url, data dir)."""
    require_browser()
    directory = tmp_path_factory.mktemp("provider")
    data = directory / "mapdata"
    data.mkdir()
    shutil.copy(MAPDATA / "vocabulary.yaml", data)
    (data / "records.yaml").write_text(RECORDS, encoding="utf-8")
    with run_app(directory, data_dir=data,
                 env={"AOP_MAP_MODERATOR_PASSWORD": PASSWORD}) as server:
        yield server.url, data


@pytest.fixture
def watched(app: tuple[str, Path]) -> Iterator[Watched]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, require_browser())
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(WAIT_MS)
        yield Watched(page)
        browser.close()


def heading(page) -> str:
    return page.locator("h1").first.inner_text().strip()


def follow(page, link: str, record_id: str, name: str) -> None:
    """Click an in-app link and wait for the record, by address and by heading."""
    page.get_by_test_id("stMain").get_by_role("link", name=link).first.click()
    page.wait_for_url(re.compile(rf"/provider\?id={record_id}$"))
    wait_for_app(page)
    page.locator("h1", has_text=name).first.wait_for()


# Issue 11 item 2: links that change the record shown change the address.
@pytest.mark.parametrize(("start", "link", "target", "name"), [
    ("alpha", "Beta Singers", "beta", "Beta Singers"),  # a partner
    ("quiet", "Create Gloucestershire", "create-gloucestershire", "Create Gloucestershire"),
])
def test_provider_links_change_the_address(app, watched: Watched, start: str, link: str,
                                           target: str, name: str) -> None:
    url, _ = app
    page = watched.open(f"{url}/provider?id={start}")
    first = heading(page)
    follow(page, link, target, name)
    assert heading(page) == name
    page.reload()
    wait_for_app(page)
    assert heading(page) == name and page.url.endswith(f"?id={target}")
    page.go_back()
    page.wait_for_url(re.compile(rf"/provider\?id={start}$"))
    wait_for_app(page)
    page.locator("h1", has_text=first).first.wait_for()
    assert watched.dialogs == []
