"""Register and moderation pages through AppTest: checks, duplicates, receipt, sign-in, publish."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from aop_map.store import SubmissionStore
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
