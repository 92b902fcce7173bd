"""In headless Chromium: the provider page, its links, its problem report, the Register page's
preview and updates, and the moderator sign-in lockout (issue 11 items 2, 9, 11, 12; issue 12
§4).

One server runs a small data directory: ``alpha`` names ``Beta Singers`` as a partner and
publishes its contact details; ``quiet`` publishes none, so its page links to the umbrella
body. Each test says which item it covers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import (
    FOLIUM_IFRAME,
    require_browser,
    run_app_on,
    screenshot,
    wait_for_app,
)
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
    env = {"AOP_MAP_MODERATOR_PASSWORD": PASSWORD}
    with run_app_on(RECORDS, tmp_path_factory.mktemp("provider"), env) as (server, data):
        yield server.url, data


@pytest.fixture
def watched(app: tuple[str, Path], chromium) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield Watched(page)
    context.close()


def heading(page) -> str:
    return page.locator("h1").first.inner_text().strip()


def follow(page, link: str, record_id: str, name: str) -> None:
    """Click an in-app link and wait for the record, by address and by heading."""
    page.get_by_test_id("stMain").get_by_role("link", name=link).first.click()
    page.wait_for_url(re.compile(rf"/provider\?id={record_id}$"))
    wait_for_app(page)
    page.locator("h1", has_text=name).first.wait_for()


# Issue 11 item 2: links that change the record shown change the address.
@pytest.mark.parametrize(
    ("start", "link", "target", "name"),
    [
        ("alpha", "Beta Singers", "beta", "Beta Singers"),  # a partner
        ("quiet", "Create Gloucestershire", "create-gloucestershire", "Create Gloucestershire"),
    ],
)
def test_provider_links_change_the_address(
    app, watched: Watched, start: str, link: str, target: str, name: str
) -> None:
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


# Issue 11 item 12: consented email and phone are mailto: and tel: links; a located record has
# an OpenStreetMap directions link to its point.
def test_contact_links_and_directions(app, watched: Watched) -> None:
    url, _ = app
    page = watched.open(f"{url}/provider?id=alpha")
    main = page.get_by_test_id("stMain")
    assert (
        main.get_by_role("link", name="hello@alpha.example").get_attribute("href")
        == "mailto:hello@alpha.example"
    )
    assert main.get_by_role("link", name="01452 123456").get_attribute("href") == "tel:01452123456"
    directions = main.get_by_role("link", name=re.compile("Directions"))
    assert directions.count() == 1
    href = directions.get_attribute("href")
    match = re.fullmatch(
        r"https://www\.openstreetmap\.org/directions\?to=(-?[\d.]+)%2C(-?[\d.]+)", href
    )
    assert match, href
    lat, lon = map(float, match.groups())
    assert 51.8 < lat < 52.0 and -2.2 < lon < -2.0  # GL50 3PR, Cheltenham
    page = watched.open(f"{url}/provider?id=create-gloucestershire")  # countywide: no point
    main = page.get_by_test_id("stMain")
    assert main.get_by_role("link", name=re.compile("Directions")).count() == 0


def sign_in(page, password: str = PASSWORD) -> None:
    page.get_by_role("textbox", name="Your name").fill("Sam")
    page.get_by_role("textbox", name="Moderator password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app(page)


# Issue 12 §4: a problem report sent from a provider page appears on the moderation page.
def test_a_problem_report_reaches_the_moderation_page(app, watched: Watched) -> None:
    url, _ = app
    page = watched.open(f"{url}/provider?id=beta")
    page.get_by_text("Report a problem with this listing").click()
    page.get_by_text("The activity has ended").click()
    page.get_by_role("textbox", name="What should we know?").fill(
        "They stopped meeting <b>in May</b>."
    )
    page.get_by_role("textbox", name=re.compile("Your email")).fill("me@example.org")
    page.get_by_role("button", name="Send the report").click()
    page.get_by_text("your report RPT-").wait_for()
    reference = re.search(r"RPT-\d{4}-[0-9A-Z]{6}", page.inner_text("body")).group(0)
    page = watched.open(f"{url}/moderate")
    sign_in(page)
    page.get_by_text(reference).first.wait_for()
    body = page.inner_text("body")
    assert f"{reference} · Beta Singers" in body
    assert "They stopped meeting <b>in May</b>." in body and "me@example.org" in body
    screenshot(page, "moderation-problem-report")
    follow(page, "Beta Singers", "beta", "Beta Singers")  # the record's link


REGISTER_NAME = "Gamma Painters"


def fill_listing(page, summary: str) -> None:
    page.get_by_role("textbox", name="Name *").fill(REGISTER_NAME)
    page.get_by_role("textbox", name="Short summary").fill(summary)
    page.get_by_role("textbox", name="Email").fill("gamma@example.org")
    page.get_by_role("textbox", name="Postcode 1").fill("GL50 3PR")
    page.get_by_text("Publish these contact details").click()
    page.get_by_text("I agree that this listing").click()


# Issue 11 item 11: "Check before you send" is the provider page as the public will see it.
def test_the_register_preview_is_the_provider_page(app, watched: Watched) -> None:
    url, _ = app
    page = watched.open(f"{url}/register")
    fill_listing(page, "Watercolour mornings for carers.")
    page.get_by_role("button", name="Check my listing").click()
    page.get_by_text("Check before you send").wait_for()
    wait_for_app(page)
    preview = page.locator(".st-key-register_preview_page")
    assert preview.locator("h1").inner_text().strip() == REGISTER_NAME
    for heading_text in ("What, who and how", "Readiness", "Contact", "Where", "Sources"):
        preview.get_by_role("heading", name=heading_text).wait_for()
    preview.get_by_text("Watercolour mornings for carers.").wait_for()
    assert (
        preview.get_by_role("link", name="gamma@example.org").get_attribute("href")
        == "mailto:gamma@example.org"
    )
    preview.locator(FOLIUM_IFRAME).wait_for()  # its own map, with the dot
    frame = preview.locator(FOLIUM_IFRAME).element_handle().content_frame()
    frame.wait_for_function("() => window.map && window.L")
    dots = """() => { let n = 0;
        window.map.eachLayer(l => { if (l instanceof L.CircleMarker) n += 1; }); return n; }"""
    assert frame.evaluate(dots) >= 1
    screenshot(page, "register-preview")


# Issue 12 §4 done-when: an update sent with an edit code shows as a diff and, approved, on the
# map. The listing was sent and approved earlier (through the library, on the server's store).
def test_an_update_with_the_edit_code_is_diffed_then_published(app, watched: Watched) -> None:
    from aop_map.store import SubmissionStore

    url, data = app
    store = SubmissionStore(data_dir=data)
    receipt = store.submit(
        {
            "name": "Delta Dancers",
            "kind": "organisation",
            "status": "established",
            "summary": "Mondays at ten.",
            "locations": [{"place": "Stroud"}],
            "publish_contact": False,
            "consent": {"listing": True, "contact": False},
        }
    )
    record = store.approve(receipt.id, "Mo")
    page = watched.open(f"{url}/register")
    page.get_by_role("textbox", name="Reference number").fill(receipt.id)
    page.get_by_role("textbox", name="Edit code").fill(receipt.edit_code)
    page.get_by_role("button", name="Update my listing").click()
    page.get_by_text("You are updating listing").wait_for()
    wait_for_app(page)
    summary = page.get_by_role("textbox", name="Short summary")
    assert summary.input_value() == "Mondays at ten."
    summary.fill("Tuesdays at ten.")
    page.get_by_text("I agree that this listing").click()
    page.get_by_role("button", name="Check my listing").click()
    page.get_by_text("Check before you send").wait_for()
    wait_for_app(page)
    page.get_by_role("button", name="Send my listing for review").click()
    page.get_by_text("Your change to listing").wait_for()

    page = watched.open(f"{url}/moderate")
    sign_in(page)
    page.get_by_text("An update to the published record").wait_for()
    page.get_by_text("1 field(s) change").wait_for()  # the summary: the grid is a canvas
    page.get_by_test_id("stDataFrame").first.wait_for()
    screenshot(page, "moderation-update-diff")
    page.get_by_role("button", name="Approve and publish").click()
    page.get_by_text("Published Delta Dancers").wait_for()
    page = watched.open(f"{url}/provider?id={record.id}")
    page.get_by_text("Tuesdays at ten.").wait_for()
    page = watched.open(f"{url}/")
    from tests.test_e2e import OPEN_POPUP_JS, wait_for_map

    wait_for_map(page)
    frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
    assert "Delta Dancers" in frame.evaluate(OPEN_POPUP_JS, record.id)


@pytest.fixture(scope="module")
def lockout_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: the lockout it shows would refuse the other tests' sign-ins."""
    require_browser()
    env = {"AOP_MAP_MODERATOR_PASSWORD": PASSWORD}
    with run_app_on(RECORDS, tmp_path_factory.mktemp("lockout"), env) as (server, _):
        yield server.url


# Issue 11 item 9: wrong passwords, a reload, and the right one is still refused for the delay.
def test_the_sign_in_lockout_outlives_a_reload(lockout_url: str, watched: Watched) -> None:
    from aop_map.limits import SIGN_IN

    page = watched.open(f"{lockout_url}/moderate")
    for _ in range(SIGN_IN.free):
        sign_in(page, "not the password at all")
        page.get_by_text("Wrong name or password").first.wait_for()
    assert "the next try must wait" in page.inner_text("body")
    page.reload()  # a fresh session: nothing in the browser remembers the failures
    wait_for_app(page)
    sign_in(page, PASSWORD)
    page.get_by_text("Too many failed sign-ins").wait_for()
    body = page.inner_text("body")
    assert "the password was not checked" in body and "Sign out" not in body
    page.goto("about:blank")
    page = watched.open(f"{lockout_url}/moderate")  # a new page load: still refused
    sign_in(page, PASSWORD)
    page.get_by_text("Too many failed sign-ins").wait_for()
    screenshot(page, "moderation-lockout")
