"""Hostile text in every text field of a record, across every surface that shows it.

Template syntax (see tests/hostile.py) must appear as text: never evaluated on the server, never
breaking a page. The corpus runs through every page of the app (AppTest), what st_folium sends
the browser, and the exports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from aop_map import ui
from aop_map.mapping import safe_json
from tests.conftest import MAPDATA
from tests.hostile import MARKUP_PAYLOADS, TEMPLATE_PAYLOADS, evaluated

APP = str(Path(__file__).resolve().parents[1] / "app.py")
POSTCODES = ("GL50 3PR", "GL14 2AA", "GL1 2EH", "GL5 1HE")


def hostile_record(index: int, payload: str) -> dict:
    """A valid record whose every free-text field holds `payload`."""
    text = f"Choir {payload} end"
    return {
        "id": f"hostile-{index}",
        "name": text,
        "kind": "organisation",
        "status": "established",
        "summary": text,
        "description": f"{text}\n\n{text}",
        "partners": [text],
        "art_forms": ["singing"],
        "conditions": ["copd"],
        "areas_served": ["cheltenham"],
        "locations": [{"label": text, "postcode": POSTCODES[index % len(POSTCODES)]}],
        "contact": {"name": text, "website": "https://example.org/choir"},
        "publish_contact": True,
        "sources": [{"title": text, "url": "https://example.org/source"}],
        "notes": text,
    }


PAYLOADS = TEMPLATE_PAYLOADS + MARKUP_PAYLOADS


@pytest.fixture(scope="module")
def hostile_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("hostile") / "mapdata"
    directory.mkdir()
    (directory / "vocabulary.yaml").write_bytes((MAPDATA / "vocabulary.yaml").read_bytes())
    records = [hostile_record(i, p) for i, p in enumerate(PAYLOADS)]
    (directory / "records.yaml").write_text(
        yaml.safe_dump(records, allow_unicode=True), encoding="utf-8"
    )
    return directory


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, hostile_data: Path) -> None:
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(hostile_data))
    monkeypatch.setenv("AOP_MAP_OFFLINE", "1")


@pytest.fixture
def templates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Jinja template output from now on, and the script, HTML and header of every map
    st_folium sends the browser (each element's macros are rendered through Jinja)."""
    outputs: list[str] = []
    real = jinja2.Template.render
    monkeypatch.setattr(
        jinja2.Template,
        "render",
        lambda self, *a, **k: outputs.append(real(self, *a, **k)) or outputs[-1],
    )
    real_arguments = ui.folium_arguments

    def arguments(m, **options):
        sent = real_arguments(m, **options)
        outputs.extend(str(sent.get(part, "")) for part in ("script", "html", "header"))
        return sent

    monkeypatch.setattr(ui.maps, "folium_arguments", arguments)  # where show_map finds it
    ui.clear_map_cache()
    return outputs


def shown(at: AppTest) -> str:
    """Everything a page shows as text (markdown, messages, tables)."""
    parts = []
    for kind in (
        at.markdown,
        at.caption,
        at.title,
        at.header,
        at.subheader,
        at.error,
        at.warning,
        at.info,
        at.success,
        at.code,
        at.metric,
    ):
        parts.extend(str(e.value) for e in kind)
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


@pytest.mark.parametrize(
    "page",
    [None, "pages/directory.py", "pages/coverage.py", "pages/factsheets.py", "pages/about.py"],
)
def test_pages_show_hostile_records_as_text(page: str | None, templates: list[str]) -> None:
    at = AppTest.from_file(APP, default_timeout=90).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not evaluated(shown(at)) and not [t for t in templates if evaluated(t)]
    if page == "pages/directory.py":  # every hostile record listed, its name as it is
        names = set(at.dataframe[0].value.iloc[:, 0].astype(str))
        assert len(at.dataframe[0].value) == len(PAYLOADS), names


@pytest.mark.parametrize("index", range(len(PAYLOADS)))
def test_provider_page_and_its_map(index: int, templates: list[str]) -> None:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["id"] = f"hostile-{index}"
    at.run()
    at.query_params["id"] = f"hostile-{index}"
    at.switch_page("pages/provider.py").run()
    assert not at.exception, [e.value for e in at.exception]
    page = shown(at)
    assert "Choir" in page and not evaluated(page)
    assert not [t for t in templates if evaluated(t)]
    script = next(t for t in templates if "LocationPoints" in t or "circleMarker" in t)
    assert safe_json(PAYLOADS[index])[1:-1] in script  # in the map, literally, as JSON text


def test_exports_keep_the_text(hostile_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.geojson"
    subprocess.run(
        [sys.executable, "-m", "aop_map", "export", "--format", "geojson", "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    names = {f["properties"]["name"] for f in json.loads(out.read_text())["features"]}
    assert {f"Choir {p} end" for p in PAYLOADS} <= names


# ---------------------------------------------------------------------------------------------
# The Register form, its preview, the moderation queue and the published file


def labelled(elements, label: str):
    found = [e for e in elements if e.label.startswith(label)]
    assert found, f"no widget labelled {label!r}: {[e.label for e in elements]}"
    return found[0]


def run_page(at: AppTest, templates: list[str]) -> str:
    assert not at.exception, [e.value for e in at.exception]
    page = shown(at) + "\n".join(e.label for e in at.expander)
    assert not evaluated(page) and not [t for t in templates if evaluated(t)]
    return page


@pytest.mark.parametrize(
    "payload",
    ["{{ 7*191 }}", "Group {#1} Choir {% if 1 %}", "{{ lipsum.__globals__.os.getcwd() }}"],
)
def test_register_preview_moderate_publish(
    payload: str, tmp_path: Path, templates: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "mapdata"
    data.mkdir()
    (data / "vocabulary.yaml").write_bytes((MAPDATA / "vocabulary.yaml").read_bytes())
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(data))
    monkeypatch.delenv("AOP_MAP_SUBMISSIONS_DIR", raising=False)
    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", "a long enough passphrase")
    text = f"Choir {payload}"
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/register.py").run()
    for label in (
        "Name",
        "Short summary",
        "Description",
        "Parent organisation",
        "Venue 1",
        "Evaluation frameworks",
        "Links and sources",
        "Contact name",
    ):
        element = labelled([*at.text_input, *at.text_area], label)
        element.input(text)
    labelled(at.text_input, "Postcode 1").input("GL50 3PR")
    labelled(at.multiselect, "Art forms").select("singing")
    labelled(at.checkbox, "I agree").check()
    labelled(at.button, "Check my listing").click().run()
    assert "Check before you send" in run_page(at, templates)  # the preview, with its map
    assert any("circleMarker" in t for t in templates)
    labelled(at.button, "Send my listing for review").click().run()
    run_page(at, templates)

    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("pages/moderate.py").run()
    labelled(at.text_input, "Your name").input("Sam")
    labelled(at.text_input, "Moderator password").input("a long enough passphrase")
    labelled(at.button, "Sign in").click().run()
    assert "Choir" in run_page(at, templates)
    labelled(at.button, "Approve and publish").click().run()
    run_page(at, templates)
    (published,) = (data / "community").glob("*.yaml")
    record = yaml.safe_load(published.read_text(encoding="utf-8"))
    assert record["name"] == text and record["summary"] == text
