"""Register and moderation pages through AppTest: checks, duplicates, receipt, sign-in, publish,
limits that outlive a session, and submitted text shown literally."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from aop_map import ui
from aop_map.limits import REGISTER, SIGN_IN, UNKNOWN_CLIENT, register_entries
from aop_map.store import SubmissionStore
from aop_map.ui import register as ui_register  # where the Register page asks who is calling
from tests.conftest import MAPDATA

APP = str(Path(__file__).resolve().parents[1] / "app.py")
XSS = "<img src=x onerror=alert(1)>"
EXISTING = """\
id: breathe-choir
name: Breathe Choir
kind: organisation
status: established
conditions: [copd]
locations: [{postcode: GL14 2AA}]
"""


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "mapdata"
    directory.mkdir()
    shutil.copy(MAPDATA / "vocabulary.yaml", directory)
    (directory / "breathe-choir.yaml").write_text(EXISTING, encoding="utf-8")
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(directory))
    monkeypatch.setenv("AOP_MAP_OFFLINE", "1")
    monkeypatch.delenv("AOP_MAP_SUBMISSIONS_DIR", raising=False)
    monkeypatch.delenv("AOP_MAP_MODERATOR_PASSWORD", raising=False)
    return directory


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def widget(elements, label: str):
    found = [e for e in elements if e.label.startswith(label)]
    assert found, f"no widget labelled {label!r}: {[e.label for e in elements]}"
    return found[0]


def text(at: AppTest) -> str:
    kinds = (
        at.markdown,
        at.error,
        at.warning,
        at.success,
        at.info,
        at.code,
        at.subheader,
        at.caption,
    )
    parts = [e.value for kind in kinds for e in kind]
    return "\n".join(str(p) for p in parts)


def fill(at: AppTest, name: str, postcode: str = "GL50 3PR") -> None:
    widget(at.text_input, "Name").input(name)
    widget(at.text_input, "Short summary").input(XSS)
    widget(at.multiselect, "Art forms").select("singing")
    widget(at.text_input, "Postcode 1").input(postcode)
    widget(at.checkbox, "I agree").check()


def test_empty_form_gets_field_messages(data: Path) -> None:
    at = open_page("pages/register.py")
    widget(at.button, "Check my listing").click().run()
    shown = text(at)
    assert "Please correct these" in shown
    assert "Name" in shown and "Consent" in shown and "Locations" in shown
    assert SubmissionStore().list() == []


def test_register_then_moderate_and_publish(data: Path, monkeypatch) -> None:
    at = open_page("pages/register.py")
    fill(at, "Lung Singers of Cheltenham")
    widget(at.button, "Check my listing").click().run()
    assert "Check before you send" in text(at)
    widget(at.button, "Send my listing for review").click().run()
    assert not at.exception
    shown = text(at)
    (pending,) = SubmissionStore().list("pending")
    assert pending.id in shown and "private edit code" in shown
    assert pending.data["summary"] == XSS  # stored as text
    assert "<img" not in "".join(e.value for e in at.markdown)  # never rendered as HTML

    # No password configured: the page says so and shows nothing pending.
    at = open_page("pages/moderate.py")
    assert "not set up" in text(at) and pending.id not in text(at)

    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", "correct horse")
    at = open_page("pages/moderate.py")
    assert pending.id not in text(at)
    widget(at.text_input, "Your name").input("Sam")
    widget(at.text_input, "Moderator password").input("wrong")
    widget(at.button, "Sign in").click().run()
    assert "Wrong name or password" in text(at) and pending.id not in text(at)
    widget(at.text_input, "Moderator password").input("correct horse")
    widget(at.button, "Sign in").click().run()
    assert not at.exception
    assert pending.id in "".join(e.label for e in at.expander)
    widget(at.button, "Approve and publish").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Published Lung Singers of Cheltenham" in text(at)
    assert (data / "community" / "lung-singers-of-cheltenham.yaml").is_file()
    assert SubmissionStore().get(pending.id).status == "approved"


def test_duplicate_warning_offers_update(data: Path) -> None:
    at = open_page("pages/register.py")
    fill(at, "The Breathe Choir", postcode="GL14 2AA")
    widget(at.button, "Check my listing").click().run()
    assert "looks like a listing we already have" in text(at)
    choice = widget(at.radio, "Is your listing an update")
    assert "breathe-choir" in choice.options


def test_honeypot_stores_nothing(data: Path) -> None:
    at = open_page("pages/register.py")
    fill(at, "Bot Listing")
    at.text_input(key="register_hp").input("http://spam.example")
    widget(at.button, "Check my listing").click().run()
    widget(at.button, "Send my listing for review").click().run()
    assert "could not be sent" in text(at)
    assert SubmissionStore().list() == []


# ---------------------------------------------------------------------------------------------
# Privacy, server-side limits and escaping (issue 9 sections 4, 5 and 7)

PASSWORD = "a long enough moderator password"
GUESSER, OWNER = "203.0.113.7", "198.51.100.20"
MARKDOWN_NAME = "**bold** [link](http://evil) ![img](http://evil/x.png) <img src=x> # Head"


def listing(name: str, **changes: object) -> dict:
    data = {
        "name": name,
        "kind": "organisation",
        "status": "established",
        "art_forms": ["singing"],
        "locations": [{"postcode": "GL50 3PR"}],
        "contact": {"email": "private@example.org", "phone": "01242 000000"},
        "publish_contact": False,
        "consent": {"listing": True, "contact": False},
    }
    return {**data, **changes}


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    widget(at.text_input, "Your name").input(name)
    widget(at.text_input, "Moderator password").input(password)
    widget(at.button, "Sign in").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def use_edit_code(at: AppTest, reference: str, code: str, button: str) -> AppTest:
    """Fill the Update-or-withdraw box with a reference and edit code and press `button`."""
    widget(at.text_input, "Reference number").input(reference)
    widget(at.text_input, "Edit code").input(code)
    widget(at.button, button).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def withdraw(at: AppTest, reference: str, code: str) -> AppTest:
    return use_edit_code(at, reference, code, "Withdraw my listing")


def test_the_public_duplicate_check_never_reveals_pending_submissions(data: Path) -> None:
    receipt = SubmissionStore().submit(listing("Lung Singers of Cheltenham"))
    at = open_page("pages/register.py")
    fill(at, "Lung Singers of Cheltenham")
    widget(at.button, "Check my listing").click().run()
    shown = text(at) + "".join(str(o) for r in at.radio for o in r.options)
    assert "Check before you send" in shown
    assert receipt.id not in shown and "looks like a listing we already have" not in shown


def test_a_guesser_is_locked_out_across_reloads_but_the_owner_withdraws(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = SubmissionStore().submit(listing("Lung Singers of Cheltenham"))
    record = SubmissionStore().approve(receipt.id, "Mo")
    monkeypatch.setattr(ui_register, "client_address", lambda: GUESSER)
    for _ in range(4):  # each guess from a fresh session: a reload resets nothing
        assert "wrong edit code" in text(
            withdraw(open_page("pages/register.py"), receipt.id, "2222-3333-4444-5555")
        )
    shown = text(withdraw(open_page("pages/register.py"), receipt.id, "2222-3333-4444-5555"))
    assert "Too many wrong edit codes" in shown
    shown = text(withdraw(open_page("pages/register.py"), receipt.id, receipt.edit_code))
    assert "Too many wrong edit codes" in shown  # the guesser waits, even with the right code
    assert (data / "community" / f"{record.id}.yaml").is_file()

    monkeypatch.setattr(ui_register, "client_address", lambda: OWNER)
    shown = text(withdraw(open_page("pages/register.py"), receipt.id, receipt.edit_code))
    assert "has been withdrawn" in shown
    assert SubmissionStore().get(receipt.id).status == "withdrawn"
    assert not (data / "community" / f"{record.id}.yaml").exists()


def test_the_listing_limit_is_kept_on_the_server(data: Path) -> None:
    store = SubmissionStore()
    for _ in range(REGISTER.free):  # three listings sent from here already, in other sessions
        assert store.limits.attempt(*register_entries(UNKNOWN_CLIENT)).refused is None
    at = open_page("pages/register.py")
    fill(at, "One Listing Too Many")
    widget(at.button, "Check my listing").click().run()
    widget(at.button, "Send my listing for review").click().run()
    assert "Please try again in 10 minutes" in text(at)
    assert SubmissionStore().list() == []


def test_a_short_moderator_password_is_refused_with_the_reason(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = SubmissionStore().submit(listing("Lung Singers of Cheltenham"))
    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", "a" * 11)
    at = open_page("pages/moderate.py")
    assert "moderation is not set up: the password must be at least 12 characters" in (
        text(at).lower()
    )
    assert not at.text_input and not at.button and receipt.id not in text(at)


def test_password_guessing_is_limited_across_reloads_and_audited(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = SubmissionStore().submit(listing("Lung Singers of Cheltenham"))
    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", PASSWORD)
    for n in range(SIGN_IN.free):  # each from a fresh session, as reloads would be
        at = sign_in(open_page("pages/moderate.py"), f"Guesser {n}", f"guess {n}")
        assert "Wrong name or password" in text(at) and receipt.id not in text(at)
    assert "the next try must wait 30 seconds" in text(at)
    at = sign_in(open_page("pages/moderate.py"), "Sam", PASSWORD)
    assert "Too many failed sign-ins" in text(at)
    assert receipt.id not in "".join(e.label for e in at.expander)
    failed = [e for e in SubmissionStore().audit_log() if e["action"] == "sign-in-failed"]
    assert [e["who"] for e in failed] == [f"Guesser {n}" for n in range(SIGN_IN.free)]
    assert all(e["self_declared"] is True and e["client"] == UNKNOWN_CLIENT for e in failed)
    audit = SubmissionStore().audit_path.read_text(encoding="utf-8")
    assert "guess 0" not in audit and PASSWORD not in audit  # never a password


def test_password_sign_in_names_are_audited_as_self_declared(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = SubmissionStore().submit(listing("Lung Singers of Cheltenham"))
    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", PASSWORD)
    at = sign_in(open_page("pages/moderate.py"), "Sam", PASSWORD)
    assert "self-declared" in text(at)
    widget(at.button, "Approve and publish").click().run()
    assert not at.exception, [e.value for e in at.exception]
    log = SubmissionStore().audit_log()
    assert [(e["action"], e["who"], e.get("self_declared")) for e in log[1:]] == [
        ("signed-in", "Sam", True),
        ("approved", "Sam", True),
    ]
    assert SubmissionStore().get(receipt.id).history[-1]["self_declared"] is True
    # The published file names no moderator and, without consent, no contact details.
    published = (data / "community" / "lung-singers-of-cheltenham.yaml").read_text("utf-8")
    assert "Sam" not in published and "private@example.org" not in published
    assert "01242 000000" not in published and "contact" not in yaml.safe_load(published)


UNESCAPED = re.compile(r"(?<!\\)(!\[|\]\(http|<img|\*\*bold|^#)", re.MULTILINE)


def test_the_moderation_page_shows_submitted_markdown_literally(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = SubmissionStore().submit(listing(MARKDOWN_NAME))
    SubmissionStore().submit(listing(MARKDOWN_NAME + " again"))  # shown as a duplicate too
    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", PASSWORD)
    at = sign_in(open_page("pages/moderate.py"), MARKDOWN_NAME, PASSWORD)
    labels = [e.label for e in at.expander]
    (label,) = [lab for lab in labels if receipt.id in lab]
    assert label == f"{receipt.id} · {ui.md_escape(MARKDOWN_NAME)}"
    rendered = [
        *labels,
        *(
            e.value
            for kind in (
                at.markdown,
                at.caption,
                at.info,
                at.success,
                at.warning,
                at.error,
                at.subheader,
            )
            for e in kind
        ),
    ]
    assert any(ui.md_escape(MARKDOWN_NAME) in r for r in rendered if r not in labels)  # caption
    for value in rendered:
        assert not UNESCAPED.search(str(value)), value
    widget(at.button, "Approve and publish").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (flash,) = [e.value for e in at.success]
    assert ui.md_escape(MARKDOWN_NAME) in flash and not UNESCAPED.search(flash)


# ---------------------------------------------------------------------------------------------
# Updating a listing with its edit code (issue 12 §4)


def open_update(at: AppTest, reference: str, code: str) -> AppTest:
    return use_edit_code(at, reference, code, "Update my listing")


def test_an_update_with_the_edit_code_is_prefilled_diffed_and_published(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = SubmissionStore().submit(listing("Lung Singers of Cheltenham", summary="Mondays"))
    record = SubmissionStore().approve(receipt.id, "Mo")
    at = open_update(open_page("pages/register.py"), receipt.id, receipt.edit_code)
    assert f"You are updating listing {receipt.id}" in text(at).replace("*", "")
    assert widget(at.text_input, "Name").value == "Lung Singers of Cheltenham"
    assert widget(at.text_input, "Short summary").value == "Mondays"
    assert widget(at.text_input, "Postcode 1").value == "GL50 3PR"
    assert widget(at.multiselect, "Art forms").value == ["singing"]
    widget(at.text_input, "Short summary").input("Tuesdays")
    widget(at.checkbox, "I agree").check()
    widget(at.button, "Check my listing").click().run()
    assert "Check before you send" in text(at)
    widget(at.button, "Send my listing for review").click().run()
    assert not at.exception and "Your change to listing" in text(at)
    pending = SubmissionStore().get(receipt.id)
    assert (pending.status, pending.update_of) == ("pending", record.id)
    published = (data / "community" / f"{record.id}.yaml").read_text(encoding="utf-8")
    assert "Mondays" in published  # the map keeps the listing as it was until approval

    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", PASSWORD)
    at = sign_in(open_page("pages/moderate.py"), "Sam", PASSWORD)
    assert "An update to the published record" in text(at)
    (table,) = [d for d in at.dataframe if "Proposed" in d.value.columns]
    assert table.value.to_dict("records") == [
        {"Field": "summary", "Now": "Mondays", "Proposed": "Tuesdays"}
    ]
    widget(at.button, "Approve and publish").click().run()
    assert not at.exception, [e.value for e in at.exception]
    published = (data / "community" / f"{record.id}.yaml").read_text(encoding="utf-8")
    assert "Tuesdays" in published and "Mondays" not in published


def test_a_guesser_cannot_open_an_update_across_reloads(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = SubmissionStore().submit(listing("Lung Singers of Cheltenham"))
    monkeypatch.setattr(ui_register, "client_address", lambda: GUESSER)
    for _ in range(4):  # each guess from a fresh session
        shown = text(open_update(open_page("pages/register.py"), receipt.id, "2222-3333-4444"))
        assert "wrong edit code" in shown
    shown = text(open_update(open_page("pages/register.py"), receipt.id, "2222-3333-4444"))
    assert "Too many wrong edit codes" in shown
    at = open_update(open_page("pages/register.py"), receipt.id, receipt.edit_code)
    assert "Too many wrong edit codes" in text(at) and "You are updating" not in text(at)
    monkeypatch.setattr(ui_register, "client_address", lambda: OWNER)
    at = open_update(open_page("pages/register.py"), receipt.id, receipt.edit_code)
    assert "You are updating" in text(at)


def test_the_update_form_shows_a_listing_as_it_was_sent() -> None:
    from aop_map.registration import MAX_LOCATIONS, form_to_data, form_values

    data = {
        "name": "A",
        "kind": "organisation",
        "status": "established",
        "art_forms": ["dance"],
        "readiness": {"dbs_checks": True, "insurance": False},
        "contact": {"email": "a@example.org"},
        "sources": ["https://a.example"],
        "locations": [{"postcode": "GL50 3PR", "place": "Cheltenham"}],
        "publish_contact": True,
    }
    values = form_values(data)
    assert len(values["locations"]) == MAX_LOCATIONS
    assert form_to_data(values) == data
