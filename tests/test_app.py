"""The Streamlit pages through AppTest: every page runs, filters, URL state, escaping, gaps.

The data is a handful of synthetic records written here into a temporary directory (never
committed as data), including two whose names are script and Markdown injections. The folium
map is opaque to AppTest; its contents are tested on `build_map` output in test_mapping.py and
in a real browser in test_e2e.py.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest, app_test

from aop_map import ui, views
from aop_map.text import md_escape
from aop_map.ui import data as ui_data
from aop_map.ui import maps as ui_maps
from tests.frames import make_frame, real_vocabulary
from tests.hostile import TEMPLATE_PAYLOADS, evaluated

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT_S = 90
XSS_NAME = "<img src=x onerror=alert(1)>"
MD_NAME = "*markdown* [link](javascript:alert(1))"

RECORDS = f"""\
- id: forest-breathers
  name: Forest Breathers Choir
  kind: organisation
  status: established
  summary: Singing for lung health by the Severn.
  description: |
    Weekly singing for people with COPD.

    Second paragraph about the choir.
  art_forms: [singing]
  conditions: [copd]
  age_groups: [older-adults]
  areas_served: [forest-of-dean]
  delivery: [in-person]
  referral_routes: [gp, self-referral]
  locations:
    - label: Newnham village hall
      postcode: GL14 2AA
  contact: {{name: Jo Singer, email: jo@example.org, phone: "01594 000000",
             website: "https://example.org/choir"}}
  publish_contact: true
  last_verified: 2025-01-10
  sources:
    - {{title: Forest Breathers annual report, url: "https://example.org/report",
       date: 2024-12-01}}
- id: cheltenham-lungs
  name: Cheltenham Lung Singers
  kind: programme
  status: emerging
  art_forms: [singing]
  conditions: [copd]
  areas_served: [cheltenham]
  locations: [{{postcode: GL50 3PR}}]
  contact: {{email: private@example.org}}
  publish_contact: false
- id: xss-img
  name: "{XSS_NAME}"
  kind: organisation
  status: established
  summary: "<script>alert('summary')</script>"
  art_forms: [visual-arts]
  conditions: [dementia]
  areas_served: [cheltenham]
  locations: [{{postcode: GL50 3PR}}]
- id: md-inject
  name: "{MD_NAME}"
  kind: programme
  status: emerging
  summary: "[click](javascript:alert(2)) ![img](https://example.org/x.png) :red[red]"
  art_forms: [dance]
  conditions: [mental-health]
  areas_served: [stroud]
  locations: [{{place: Stroud}}]
- id: cotswold-painters
  name: Cotswold Painters
  kind: organisation
  status: established
  art_forms: [visual-arts]
  conditions: [mental-health]
  areas_served: [cotswold]
  locations: [{{place: Cirencester}}]
- id: roaming-stories
  name: Roaming Storytellers
  kind: freelance-artist
  status: emerging
  art_forms: [creative-writing]
  conditions: [dementia]
  areas_served: [stroud]
- id: county-carers-choir
  name: County Carers Choir
  kind: programme
  status: established
  art_forms: [singing]
  conditions: [carers]
  areas_served: [countywide]
- id: lost-postcode
  name: Lost Postcode Group
  kind: organisation
  status: established
  art_forms: [music]
  conditions: [chronic-pain]
  areas_served: [gloucester]
  locations: [{{postcode: ZZ99 9ZZ}}]
"""
BROKEN = "id: broken\nname: Broken Record\nkind: organisation\nstatus: sleeping\n"
TOTAL = 8


def write_data(directory: Path, records: str = RECORDS) -> Path:
    """A data directory with the synthetic records (the bundled vocabulary applies)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "records.yaml").write_text(records, encoding="utf-8")
    (directory / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def app_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_data(tmp_path_factory.mktemp("app") / "mapdata")


@pytest.fixture(autouse=True)
def _app_env(monkeypatch: pytest.MonkeyPatch, app_data: Path) -> None:
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(app_data))
    monkeypatch.setenv("AOP_MAP_OFFLINE", "1")


def open_app(page: str | None = None, **params: str | list[str]) -> AppTest:
    """The app opened at a URL with these query parameters, then switched to `page`."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()  # AppTest starts on the home page (the map), which rewrites the URL...
    if page:
        at.query_params.update(params)  # ...so the page gets the URL as it was opened
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    """All the values of a group of elements as one string."""
    return "\n".join(str(e.value) for e in elements)


def listed(at: AppTest) -> str:
    """The HTML of the page's record lists (views.list_html, drawn with st.html)."""
    return "\n".join(e.proto.body for e in at.get("html") if "aop-list" in e.proto.body)


def matching(at: AppTest) -> str:
    """The sidebar's 'N of M records match' line."""
    return next(m.value for m in at.sidebar.markdown if "records match" in m.value)


# ---------------------------------------------------------------------------------------------
# Every page


@pytest.mark.parametrize(
    ("page", "title"),
    [
        (None, "Energy map of arts and health activity"),
        ("pages/directory.py", "Directory of providers and activities"),
        ("pages/coverage.py", "Coverage and gaps"),
        ("pages/provider.py", "Provider pages"),
        ("pages/factsheets.py", "Fact sheets"),
        ("pages/about.py", "About this map and its data"),
    ],
)
def test_every_page_runs(page: str | None, title: str) -> None:
    at = open_app(page)
    assert at.title[0].value == title


def test_filters_only_on_filtered_pages() -> None:
    assert open_app("pages/directory.py").sidebar.multiselect
    assert not open_app("pages/about.py").sidebar.multiselect


def test_factsheets_render_with_sources() -> None:
    at = open_app("pages/factsheets.py")
    assert len(at.tabs) >= 1
    assert "Sources" in texts(at.markdown)


# ---------------------------------------------------------------------------------------------
# Filters, counts and the URL


def test_choosing_a_filter_changes_counts_and_url() -> None:
    at = open_app()
    assert at.metric[0].value == str(TOTAL)
    assert matching(at).startswith(f"**{TOTAL}** of {TOTAL}")
    at.sidebar.multiselect(key="filter_condition").select("copd").run()
    assert not at.exception
    assert at.metric[0].value == "2"
    assert matching(at).startswith(f"**2** of {TOTAL}")
    assert at.query_params["condition"] == "copd"


def test_option_labels_show_counts() -> None:
    at = open_app()
    widget = at.sidebar.multiselect(key="filter_condition")
    assert "COPD and breathing conditions (2)" in widget.options
    assert "Dementia (2)" in widget.options


def test_url_restores_filters() -> None:
    at = open_app("pages/directory.py", condition="copd", art_form="singing")
    assert at.sidebar.multiselect(key="filter_condition").value == ["copd"]
    assert at.sidebar.multiselect(key="filter_art_form").value == ["singing"]
    table = at.dataframe[0].value
    assert set(table["name"]) == {"Forest Breathers Choir", "Cheltenham Lung Singers"}
    assert at.query_params["condition"] == "copd"


def test_comma_separated_and_label_values() -> None:
    at = open_app("pages/directory.py", condition="copd,Dementia")
    assert at.sidebar.multiselect(key="filter_condition").value == ["copd", "dementia"]
    assert len(at.dataframe[0].value) == 4


def test_unknown_parameter_value_is_ignored_with_a_note() -> None:
    at = open_app("pages/directory.py", condition=["copd", "unicorns"])
    assert "unicorns" in texts(at.info)
    assert at.sidebar.multiselect(key="filter_condition").value == ["copd"]
    # Once the user changes the filters the note has done its job.
    at.sidebar.multiselect(key="filter_art_form").select("singing").run()
    assert "unicorns" not in texts(at.info)


def test_link_inside_the_app_with_filters_replaces_them() -> None:
    at = open_app("pages/coverage.py", condition="dementia")
    at.query_params.clear()
    at.query_params.update({"condition": "copd", "art_form": "singing"})
    at.switch_page("pages/map.py").run()  # what the coverage page's "Open the map" does
    assert at.sidebar.multiselect(key="filter_condition").value == ["copd"]
    assert at.sidebar.multiselect(key="filter_art_form").value == ["singing"]


def test_filters_survive_pages_without_the_sidebar() -> None:
    at = open_app(None, condition="copd")
    at.switch_page("pages/about.py").run()
    at.query_params.clear()  # the sidebar navigation drops query parameters
    at.switch_page("pages/directory.py").run()
    assert at.sidebar.multiselect(key="filter_condition").value == ["copd"]
    assert at.query_params["condition"] == "copd"


def test_text_search_is_typo_tolerant() -> None:
    at = open_app("pages/directory.py", q="storytelers")
    assert list(at.dataframe[0].value["name"]) == ["Roaming Storytellers"]


def test_near_a_postcode_filters_sorts_and_shows_distance_and_contact() -> None:
    at = open_app("pages/directory.py", near="GL14 2AA", radius_km="10", art_form="singing")
    table = at.dataframe[0].value
    assert list(table["name"]) == ["Forest Breathers Choir"]
    assert table["distance_km"].iloc[0] < 1
    assert table["email"].iloc[0] == "jo@example.org"
    at.switch_page("pages/map.py").run()
    assert "Nearest to GL14 2AA" in texts(at.subheader)
    # The map lists it with its distance and a link to its page (which has the contact).
    assert ">Forest Breathers Choir</a>" in listed(at)
    assert re.search(r"0\.\d km", listed(at))


def test_near_also_lists_providers_serving_the_area_without_a_venue() -> None:
    at = open_app("pages/directory.py", near="GL14 2AA", radius_km="10", art_form="singing")
    assert "Also serving Forest of Dean" in texts(at.subheader)
    assert list(at.dataframe[1].value["name"]) == ["County Carers Choir"]
    assert "1** more serve Forest of Dean" in matching(at)
    at.switch_page("pages/map.py").run()
    assert "County Carers Choir" in listed(at)
    assert "serves Countywide" in listed(at)


def test_near_with_nothing_close_points_to_area_providers() -> None:
    at = open_app(None, near="GL14 2AA", radius_km="5", condition="carers")
    assert "0 within 5 km" in texts(at.info)  # and how many serve the area, as listed
    assert at.metric[0].label == "Within 5 km" and at.metric[0].value == "0"
    assert at.metric[1].label == "Serving the area" and int(at.metric[1].value) > 0
    assert "No records match" not in texts(at.warning)


def test_wider_radius_sorts_nearest_first() -> None:
    at = open_app("pages/directory.py", near="GL14 2AA", radius_km="50", condition="copd")
    table = at.dataframe[0].value
    assert list(table["name"]) == ["Forest Breathers Choir", "Cheltenham Lung Singers"]
    assert table["distance_km"].is_monotonic_increasing


def test_radius_widget_changes_the_selection() -> None:
    at = open_app("pages/directory.py", near="GL14 2AA", condition="copd")
    assert len(at.dataframe[0].value) == 1
    at.sidebar.number_input(key="filter_radius_km").set_value(50).run()
    assert len(at.dataframe[0].value) == 2
    assert at.query_params["radius_km"] == "50"


def test_unknown_postcode_warns_and_keeps_the_other_filters() -> None:
    at = open_app("pages/directory.py", condition="copd")
    at.sidebar.text_input(key="filter_near").input("ZZ99 9ZZ").run()
    assert not at.exception
    assert "Could not find" in texts(at.warning)
    assert len(at.dataframe[0].value) == 2


def test_empty_selection_says_so_and_clears() -> None:
    at = open_app("pages/directory.py", q="zzzzqqqxxx")
    assert "No records match" in texts(at.warning)
    at.button(key="clear_filters_empty_directory").click().run()
    assert len(at.dataframe[0].value) == TOTAL
    assert "q" not in at.query_params


def test_downloads_hold_the_selection_as_csv_and_geojson() -> None:
    stores: list[app_test.MemoryMediaFileStorage] = []

    class Recording(app_test.MemoryMediaFileStorage):
        """AppTest's store of download data, kept for reading after the run."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            stores.append(self)

    with mock.patch.object(app_test, "MemoryMediaFileStorage", Recording):
        at = open_app("pages/directory.py", condition="copd")
    csv_button, geojson_button = at.get("download_button")

    def download(button) -> str:
        return stores[-1].get_file(button.proto.url.rsplit("/", 1)[1]).content.decode("utf-8")

    table = pd.read_csv(io.StringIO(download(csv_button)))
    assert set(table["name"]) == {"Forest Breathers Choir", "Cheltenham Lung Singers"}
    assert "private@example.org" not in table.to_string()  # unconsented contact stays out
    features = json.loads(download(geojson_button))["features"]
    assert {f["properties"]["name"] for f in features} == set(table["name"])


# ---------------------------------------------------------------------------------------------
# Provider pages


def test_provider_page_shows_public_details_and_contact() -> None:
    at = open_app("pages/provider.py", id="forest-breathers")
    assert at.title[0].value == "Forest Breathers Choir"
    shown = texts(at.markdown)
    assert "COPD and breathing conditions" in shown and "Singing" in shown
    assert "jo@example\\.org" in shown
    assert "Second paragraph" in shown
    assert "Forest Breathers annual report" in shown and "2024-12-01" in shown
    assert "placed at its postcode" in shown
    assert "Confirmed with the provider on 10 January 2025" in texts(at.caption)


def test_the_provider_map_draws_its_own_background(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, the small map has the district outlines and place names its note promises."""
    from aop_map import mapping

    drawn: list[dict] = []
    real = mapping.build_location_map
    monkeypatch.setattr(
        mapping, "build_location_map", lambda *a, **k: drawn.append(k) or real(*a, **k)
    )
    at = open_app("pages/provider.py", id="forest-breathers")
    assert "district boundaries and place names" in texts(at.caption)
    assert drawn and drawn[0]["tiles"] is False
    assert len(drawn[0]["districts"]) == 6 and len(drawn[0]["places"]) > 100


def test_private_contact_is_never_shown() -> None:
    at = open_app("pages/provider.py", id="cheltenham-lungs")
    assert "private@example" not in texts(at.markdown)
    assert "not published contact details" in texts(at.markdown)
    at = open_app("pages/directory.py")
    assert "private@example.org" not in at.dataframe[0].value.to_string()


def test_town_level_precision_is_explained() -> None:
    at = open_app("pages/provider.py", id="cotswold-painters")
    assert "town or village level: no address is published" in texts(at.markdown)


def test_unknown_id_says_not_found_with_a_way_back() -> None:
    at = open_app("pages/provider.py", id="no-such-provider")
    assert at.title[0].value == "Provider not found"
    assert "no\\-such\\-provider" in texts(at.error)
    assert any("directory" in str(link.proto.page) for link in at.get("page_link"))


# ---------------------------------------------------------------------------------------------
# Escaping user text


@pytest.mark.parametrize("record_id", ["xss-img", "md-inject"])
def test_injected_names_are_escaped(record_id: str) -> None:
    at = open_app("pages/provider.py", id=record_id)
    rendered = at.title[0].value + texts(at.markdown)
    # Every character that could open HTML, a link, an image or a directive is escaped.
    assert not re.search(r"(?<!\\)[<>\[\]]", rendered), rendered
    assert "\\<img" in rendered or "\\[link\\]" in rendered


def test_injected_names_appear_literally_in_the_directory() -> None:
    names = set(open_app("pages/directory.py").dataframe[0].value["name"])
    assert {XSS_NAME, MD_NAME} <= names


def test_injected_names_are_text_in_the_map_list() -> None:
    html = listed(open_app())
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "<script" not in html


def test_list_html_escapes_text_and_encodes_ids() -> None:
    item = {"id": 'a"b&c', "name": XSS_NAME, "what": "<b>", "where": "'x'"}
    html = views.list_html([item])
    assert 'href="provider?id=a%22b%26c"' in html
    assert "<img" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("http://host:8501/", "", None),
        ("http://host:8501", "", None),
        ("http://host:8501/nosuchpage", "", "nosuchpage"),
        ("http://host:8501/directory", "", None),  # Streamlit leaves a known page's path in
        ("http://host/aop/", "aop", None),  # served under a base path
        ("http://host/aop/nosuchpage", "/aop/", "nosuchpage"),
        ("http://host/a/b", "", "a/b"),
        (None, "", None),
    ],
)
def test_unknown_path(url: str | None, base: str, expected: str | None) -> None:
    known = ["", "directory", "coverage"]
    assert views.unknown_path(url, base, known) == expected


def test_md_escape_renders_literally_in_streamlit() -> None:
    at = AppTest.from_string(f"import streamlit as st\nst.markdown({md_escape(MD_NAME)!r})")
    at.run()
    assert at.markdown[0].value == md_escape(MD_NAME)


# ---------------------------------------------------------------------------------------------
# Coverage for commissioners


def test_cotswold_gaps_are_answerable() -> None:
    at = open_app("pages/coverage.py")
    at.selectbox(key="coverage_gap_district").set_value("cotswold").run()
    assert not at.exception
    warning = next(w.value for w in at.warning if "No provider in Cotswold" in w.value)
    assert "COPD and breathing conditions" in warning and "Dementia" in warning
    assert "Mental health" not in warning
    table = pd.DataFrame(at.dataframe[0].value)
    cotswold = table.set_index("District").loc["Cotswold", "Conditions with no provider"]
    assert "COPD" in cotswold and "Mental health" not in cotswold


def test_coverage_can_leave_countywide_providers_out() -> None:
    at = open_app("pages/coverage.py")
    at.selectbox(key="coverage_gap_district").set_value("cotswold").run()
    assert "Carers" not in next(w.value for w in at.warning if "Cotswold" in w.value)
    at.toggle(key="coverage_countywide").set_value(False).run()
    assert "Carers" in next(w.value for w in at.warning if "Cotswold" in w.value)
    assert "Counting only providers located in" in texts(at.caption)


def test_coverage_gap_district_follows_the_sidebar() -> None:
    at = open_app("pages/coverage.py", district="forest-of-dean")
    assert at.selectbox(key="coverage_gap_district").value == "forest-of-dean"
    assert "No provider in Forest of Dean" in texts(at.warning)


def test_coverage_links_to_the_map_with_the_chosen_cell() -> None:
    at = open_app("pages/coverage.py", status="established")
    at.selectbox(key="coverage_condition").set_value("copd")
    at.selectbox(key="coverage_art_form").set_value("singing").run()
    link = next(p.proto for p in at.get("page_link") if "Open the map" in p.proto.label)
    assert link.label == "Open the map (1)"
    assert "condition=copd" in link.query_string and "art_form=singing" in link.query_string
    assert "status=established" in link.query_string


def test_districts_with_no_provision_stand_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the countywide choir (which serves every district) Tewkesbury has nothing.
    data = write_data(tmp_path / "mapdata", RECORDS.replace("[countywide]", "[stroud]"))
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(data))
    at = open_app("pages/coverage.py")
    assert "No provision at all in: Tewkesbury" in texts(at.warning)


# ---------------------------------------------------------------------------------------------
# About and data quality


def test_data_quality_lists_problems_and_unlocated_records() -> None:
    at = open_app("pages/about.py")
    problems = at.dataframe[2].value
    assert {"File", "Line", "Field", "Problem"} <= set(problems.columns)
    assert problems["Problem"].str.contains("sleeping").any()
    unlocated = at.dataframe[3].value
    assert set(unlocated["Record"]) == {
        "Roaming Storytellers",
        "Lost Postcode Group",
        "County Carers Choir",
    }
    why = unlocated.set_index("Record")["Why"]
    assert "ZZ99 9ZZ" in why["Lost Postcode Group"]
    assert "OpenStreetMap" in texts(at.markdown) and "Open Government Licence" in texts(at.markdown)


def test_a_new_record_file_appears_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_data(tmp_path / "mapdata")
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(data))
    monkeypatch.setattr(ui_data, "SIGNATURE_TTL_S", 0.0)  # rescan on every run (10 s by default)
    at = open_app("pages/directory.py")
    assert len(at.dataframe[0].value) == TOTAL
    (data / "approved.yaml").write_text(
        textwrap.dedent("""\
        id: newly-approved
        name: Newly Approved Group
        kind: organisation
        status: emerging
        locations: [{place: Stroud}]
        """),
        encoding="utf-8",
    )
    at.run()
    assert "Newly Approved Group" in set(at.dataframe[0].value["name"])


def test_data_files_are_rescanned_at_most_once_per_ttl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans: list[Path] = []
    now = [1000.0]
    monkeypatch.setattr(ui_data, "data_signature", lambda d: scans.append(d) or f"sig{len(scans)}")
    monkeypatch.setattr(ui_data, "_clock", lambda: now[0])
    ui.clear_data_cache()
    assert ui.current_signature(tmp_path) == "sig1"
    now[0] += ui.SIGNATURE_TTL_S - 1
    assert ui.current_signature(tmp_path) == "sig1" and len(scans) == 1  # clicks reuse it
    now[0] += 2
    assert ui.current_signature(tmp_path) == "sig2"  # stale: looked at again
    ui.clear_data_cache()  # publishing a submission forgets it at once
    assert ui.current_signature(tmp_path) == "sig3"


# ---------------------------------------------------------------------------------------------
# Drawing maps


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows of every energy map built from now on (ui.show_energy_map calls mapping.build_map)."""
    from aop_map import mapping

    builds: list[int] = []
    real = mapping.build_map
    monkeypatch.setattr(
        mapping,
        "build_map",
        lambda frame, *a, **k: builds.append(len(frame)) or real(frame, *a, **k),
    )
    ui.clear_map_cache()
    return builds


def test_the_energy_map_is_rendered_once_per_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    builds = count_builds(monkeypatch)
    at = open_app()
    open_app()  # another visitor: the same unfiltered map, drawn from the first rendering
    assert len(builds) == 1
    at.sidebar.multiselect(key="filter_condition").select("copd").run()
    assert len(builds) == 2 and builds[1] < builds[0]
    at.sidebar.multiselect(key="filter_condition").unselect("copd").run()
    assert len(builds) == 2 and not at.exception  # back to a selection already rendered
    ui.clear_data_cache()  # e.g. a moderator published a record: render again
    open_app()
    assert len(builds) == 3


def test_a_session_keeps_its_first_tiles_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tile check answering after a session's first map never changes that session's map
    (st_folium would replace it and lose the visitor's view); the next visitor gets the answer."""
    from aop_map import mapping

    monkeypatch.delenv("AOP_MAP_OFFLINE")
    # The background check has started and not answered yet, as on a server's first visit.
    monkeypatch.setattr(ui_maps, "_tile_probe", {"checked": 1e12, "result": None, "running": True})
    tiles: list[bool] = []
    real = mapping.build_map
    monkeypatch.setattr(
        mapping, "build_map", lambda *a, **k: tiles.append(k["tiles"]) or real(*a, **k)
    )
    ui.clear_map_cache()
    at = open_app()
    ui_maps._tile_probe["result"] = False  # then it answers: no tile server here
    at.sidebar.multiselect(key="filter_condition").select("copd").run()
    assert tiles == [True, True] and not at.exception
    assert "Background map © OpenStreetMap" in texts(at.caption)  # as the map has tiles
    open_app()  # another visitor, after the answer
    assert tiles[-1] is False


def test_the_map_never_forbids_zooming() -> None:
    """folium's header says user-scalable=no; what st_folium sends carries no such tag."""
    from aop_map.mapping import build_map

    frame = make_frame([{"record_id": "a"}])
    header = ui.folium_arguments(build_map(frame, real_vocabulary(), tiles=False))["header"]
    assert "<style>" in header  # the header itself is sent
    assert "user-scalable" not in header and "maximum-scale" not in header


def test_rendered_maps_are_limited_and_never_outlive_their_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builds = count_builds(monkeypatch)
    monkeypatch.setattr(ui_maps, "MAP_CACHE_ENTRIES", 1)
    at = open_app()
    at.sidebar.multiselect(key="filter_condition").select("copd").run()
    at.sidebar.multiselect(key="filter_condition").unselect("copd").run()
    assert len(builds) == 3  # only the last map was kept

    class Owner:
        pass

    owner, draws = Owner(), []
    options = {"key": "m", "returned_objects": []}
    monkeypatch.setattr(ui_maps, "folium_arguments", lambda m, **_: draws.append(m) or {})
    monkeypatch.setattr(
        ui_maps, "_folium_component", lambda: SimpleNamespace(component=lambda **_: None)
    )
    ui.show_map(lambda: "map 1", memo=(owner, "all"), **options)
    ui.show_map(lambda: "map 2", memo=(owner, "all"), **options)
    ui.show_map(lambda: "map 3", memo=(Owner(), "all"), **options)  # other data, same key
    assert draws == ["map 1", "map 3"]


def test_map_arguments_are_those_st_folium_gives_its_component(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import streamlit_folium

    from aop_map.mapping import build_map

    frame = make_frame(
        [
            {"record_id": "a", "lat": 51.86, "lon": -2.24},
            {"record_id": "b", "lat": 51.70, "lon": -2.20, "status": "emerging"},
        ]
    )
    direct: dict = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: direct.update(kw))
    options = {"key": "energy_map", "height": 560, "returned_objects": ["last_object_clicked"]}
    streamlit_folium.st_folium(build_map(frame, real_vocabulary(), tiles=False), **options)
    captured = ui.folium_arguments(build_map(frame, real_vocabulary(), tiles=False), **options)
    assert callable(direct.pop("on_change")) and callable(captured.pop("on_change"))
    # The same, but for the header's zoom lock (see test_the_map_never_forbids_zooming).
    assert "user-scalable=no" in direct["header"]
    assert captured.pop("header") == ui_maps.ZOOM_LOCK.sub("", direct.pop("header"))
    assert captured == direct and "circleMarker" in captured["script"]


@pytest.mark.parametrize("payload", TEMPLATE_PAYLOADS)
def test_map_text_is_never_evaluated_as_a_template(
    monkeypatch: pytest.MonkeyPatch, payload: str
) -> None:
    """What st_folium sends the browser: record text in it literally, never evaluated."""
    import jinja2

    from aop_map.mapping import build_location_map, build_map

    outputs: list[str] = []
    real = jinja2.Template.render
    monkeypatch.setattr(
        jinja2.Template,
        "render",
        lambda self, *a, **k: outputs.append(real(self, *a, **k)) or outputs[-1],
    )
    name, label = f"Choir {payload}", f"Hall {payload}"
    frame = make_frame(
        [{"record_id": "t", "name": name, "lat": 51.86, "lon": -2.24, "location_label": label}]
    )
    energy = ui.folium_arguments(build_map(frame, real_vocabulary(), tiles=False))
    location = ui.folium_arguments(build_location_map(frame, real_vocabulary(), tiles=False))
    literal = {"'": "\\u0027", "<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}
    for text, script in ((name, energy["script"]), (label, location["script"])):
        assert "".join(literal.get(c, c) for c in text) in script
    assert not [o for o in outputs if evaluated(o)]


# ---------------------------------------------------------------------------------------------
# Settings and the entry point


@pytest.mark.parametrize(
    "page",
    [None, "pages/directory.py", "pages/about.py", "pages/factsheets.py", "pages/moderate.py"],
)
@pytest.mark.parametrize(
    ("name", "value"), [("AOP_MAP_OFFLINE", "maybe"), ("AOP_MAP_LOAD_WORKERS", "lots")]
)
def test_a_bad_setting_is_a_plain_message_naming_it(
    monkeypatch: pytest.MonkeyPatch, page: str | None, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and name.replace("_", "\\_") in at.error[0].value
    assert not at.title  # nothing else of the page is drawn


@pytest.mark.parametrize(
    "page", ["pages/directory.py", "pages/provider.py", "pages/factsheets.py", "pages/moderate.py"]
)
def test_a_page_started_alone_runs_inside_the_app(page: str) -> None:
    """What a fresh server does with a first request for /directory (and AppTest with every
    run): Streamlit runs the page file by itself; it must still get app.py's frame."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.switch_page(page).run()  # the first run: Streamlit still reads pages/ the old way
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.title) == 1  # drawn once, inside the frame
    if page == "pages/directory.py":
        assert at.sidebar.multiselect(key="filter_condition")  # app.py's sidebar filters
