"""In a real browser: register a listing, approve it as a moderator, find it on the map.

The listing's text fields carry a script payload; it must show literally on the register
confirmation, the moderation page, the provider page and the map popup, and run nothing.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest

from aop_map.records import slugify
from tests.browser import require_browser, run_app, screenshot, wait_for_app
from tests.conftest import MAPDATA
from tests.test_e2e import OPEN_POPUP_JS, WAIT_MS, Watched, wait_for_map

pytestmark = pytest.mark.browser
XSS = "<img src=x onerror=alert(1)>"
PASSWORD = "test moderator password"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    executable = require_browser()
    directory = tmp_path_factory.mktemp("register")
    data = directory / "mapdata"
    data.mkdir()
    shutil.copy(MAPDATA / "vocabulary.yaml", data)
    (data / "one.yaml").write_text(
        "id: existing\nname: Existing Choir\nkind: organisation\nstatus: established\n"
        "locations: [{postcode: GL14 2AA}]\n",
        encoding="utf-8",
    )
    assert executable
    with run_app(directory, data_dir=data, env={"AOP_MAP_MODERATOR_PASSWORD": PASSWORD}) as server:
        yield server.url


@pytest.fixture
def watched(app_url: str, chromium) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield Watched(page)
    context.close()


def test_register_approve_and_see_it_on_the_map(app_url: str, watched: Watched) -> None:
    page = watched.open(f"{app_url}/register")
    page.get_by_role("textbox", name="Name *").fill(XSS)
    page.get_by_role("textbox", name="Short summary").fill(XSS)
    page.get_by_role("textbox", name="Description").fill(XSS)
    page.get_by_role("textbox", name="Postcode 1").fill("GL50 3PR")
    page.get_by_text("I agree that this listing").click()
    page.get_by_role("button", name="Check my listing").click()
    page.get_by_text("Check before you send").wait_for()
    wait_for_app(page)
    page.get_by_role("button", name="Send my listing for review").click()
    page.get_by_text("private edit code").wait_for()
    wait_for_app(page)
    screenshot(page, "register-receipt")
    reference = re.search(r"AOP-\d{4}-[0-9A-Z]+", page.inner_text("body")).group(0)

    page = watched.open(f"{app_url}/moderate")
    page.get_by_role("textbox", name="Your name").fill("Sam")
    page.get_by_role("textbox", name="Moderator password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(reference).first.wait_for()
    wait_for_app(page)
    assert XSS in page.inner_text("body")  # shown as text
    screenshot(page, "moderation-pending")
    page.get_by_role("button", name="Approve and publish").click()
    page.get_by_text("Published").wait_for()

    record_id = slugify(XSS)
    page = watched.open(f"{app_url}/provider?id={record_id}")
    assert page.locator("h1").first.inner_text().strip() == XSS
    screenshot(page, "provider-registered")

    page = watched.open(f"{app_url}/")
    wait_for_map(page)
    frame = page.locator('iframe[title="streamlit_folium.st_folium"]').element_handle()
    popup = frame.content_frame().evaluate(OPEN_POPUP_JS, record_id)
    assert "&lt;img src=x onerror=alert(1)&gt;" in popup and "<img" not in popup
    assert watched.dialogs == []
    assert page.locator("img[src='x']").count() == 0
