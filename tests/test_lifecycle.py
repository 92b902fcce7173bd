"""Issue 12 §1-2: ended activity and examples elsewhere, in the data, the filters, the counts,
the coverage and gaps, the map and the pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pytest
from streamlit.testing.v1 import AppTest

from aop_map import oruk, views
from aop_map.dataset import Dataset, load_dataset
from aop_map.filtering import (
    Selection,
    build_index,
    count_options,
    counts_by,
    coverage_matrix,
    filter_frame,
    gaps,
    gaps_by_district,
    selection_from_params,
    selection_to_params,
)
from aop_map.loading import load_records
from aop_map.mapping import STATUS_ORDER, STATUS_STYLE, build_map, compact_payload, legend_markup
from aop_map.records import ended_text, partial_date_text, validate_record
from aop_map.vocabulary import Vocabulary
from tests.frames import make_frame

MAPDATA = Path(__file__).resolve().parents[1] / "mapdata"
# The bundled records the sources describe as finished (the lifecycle plan of issue 12).
ENDED = {
    "art-shape-artspace-epilepsy-diabetes-pathway",
    "artlift-chronic-pain-pathway",
    "arts-on-prescription-sector-support-programme",
    "bolton-camhs-wellbeing-theatre-concept-project",
    "challenge-59-manchester-metropolitan-university",
    "creative-families-south-london-gallery",
    "cultural-commissioning-programme",
    "gloucestershire-cultural-commissioning-programme",
    "let-the-dance-begin-again-strabane",
    "mental-health-acts-elft-playingon",
    "mindsong-singing-for-breathing",
    "music-works-mental-health-pathway",
    "recoco-lockdown-gazette",
    "seabreeze-dance-united",
    "trestle-theatre-arts-on-prescription-pilot",
}


@pytest.fixture(scope="module")
def bundled() -> Dataset:
    return load_dataset(MAPDATA, use_cache=False)


# --- the bundled data -------------------------------------------------------------------------


def test_the_bundled_data_validates_with_no_problem(bundled: Dataset) -> None:
    assert bundled.problems == []
    assert len(bundled.records) == 42


def test_bundled_records_finished_in_their_sources_are_ended(bundled: Dataset) -> None:
    records = {r.id: r for r in bundled.records}
    assert {i for i, r in records.items() if r.status == "ended"} == ENDED
    # A 2018/19 pathway (named so) is never presented as running.
    assert all(r.status == "ended" for r in records.values() if "2018/19" in r.name)
    assert records["artlift-chronic-pain-pathway"].started == "2018"
    assert records["artlift-chronic-pain-pathway"].ended == "2019"
    assert records["arts-on-prescription-sector-support-programme"].started == "2018-09"


def test_no_bundled_last_verified_is_a_stand_in(bundled: Dataset) -> None:
    for record in bundled.records:
        assert not record.last_verified or record.verified_by, record.id
    text = "".join(p.read_text() for p in (MAPDATA / "providers").glob("*.yaml"))
    assert "last_verified:" not in text  # every stand-in removed; none verified yet


def test_bundled_scope_keeps_national_examples_apart(bundled: Dataset) -> None:
    records = bundled.records
    away = {r.id for r in records if r.scope == "elsewhere"}
    assert len(away) == 24 and "core-arts" in away
    assert "hospital-rooms-south-west-london-st-georges" in away
    assert "artlift" not in away
    # An example elsewhere never claims a Gloucestershire district.
    districts = {
        "cheltenham",
        "cotswold",
        "forest-of-dean",
        "gloucester",
        "stroud",
        "tewkesbury",
        "countywide",
    }
    assert all(not districts & set(r.areas_served) for r in records if r.scope == "elsewhere")


def test_bundled_source_dates_are_partial_dates(bundled: Dataset) -> None:
    dates = {r.id: r.source_date for r in bundled.records}
    assert dates["art-shape"] == "2018-11" and dates["create-gloucestershire"] == "2019"
    assert dates["core-arts"] is None  # only undated sources


# --- the schema -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (2019, "2019"),
        ("2019", "2019"),
        ("2018-11", "2018-11"),
        (dt.date(2018, 11, 1), "2018-11-01"),
        ("2018-11-01", "2018-11-01"),
    ],
)
def test_dates_may_be_a_year_a_month_or_a_day(
    vocabulary: Vocabulary, given: object, kept: str
) -> None:
    record, problems = validate_record(
        {
            "id": "x",
            "name": "X",
            "kind": "programme",
            "status": "finished",
            "ended": given,
            "source_date": given,
        },
        vocabulary,
        source="t",
    )
    assert problems == [] and record is not None
    assert record.status == "ended" and record.ended == kept and record.source_date == kept


@pytest.mark.parametrize("given", ["2019-13", "19", "2019-02-30", "last year", True])
def test_a_date_that_is_no_date_is_refused(vocabulary: Vocabulary, given: object) -> None:
    record, problems = validate_record(
        {"id": "x", "name": "X", "kind": "programme", "status": "ended", "started": given},
        vocabulary,
        source="t",
    )
    assert record is None and [p.field for p in problems] == ["started"]


def test_ended_before_started_is_refused(vocabulary: Vocabulary) -> None:
    _, problems = validate_record(
        {
            "id": "x",
            "name": "X",
            "kind": "programme",
            "status": "ended",
            "started": 2019,
            "ended": 2015,
        },
        vocabulary,
        source="t",
    )
    assert problems and "before started" in problems[0].message


def test_scope_is_a_term_and_defaults_to_the_county(vocabulary: Vocabulary) -> None:
    base = {"id": "x", "name": "X", "kind": "programme", "status": "established"}
    record, _ = validate_record(base, vocabulary, source="t")
    assert record is not None and record.scope == "gloucestershire" and record.in_county
    record, _ = validate_record({**base, "scope": "case study"}, vocabulary, source="t")
    assert record is not None and record.scope == "elsewhere" and not record.in_county


def test_words_for_dates() -> None:
    assert partial_date_text("2018-11") == "November 2018"
    assert partial_date_text("2019") == "2019"
    assert partial_date_text("2018-11-01") == "1 November 2018"
    assert ended_text("ended", "2019-03") == "ended 2019"
    assert ended_text("ended", None) == "ended"
    assert ended_text("established", "2019") == ""


def test_oruk_publishes_ended_as_inactive() -> None:
    assert oruk.STATUSES["ended"] == "inactive"
    assert oruk.STATUSES["established"] == oruk.STATUSES["emerging"] == "active"


# --- filters, counts, coverage and gaps --------------------------------------------------------


@pytest.fixture
def frame() -> gpd.GeoDataFrame:
    return make_frame(
        [
            {
                "record_id": "live",
                "lat": 51.9,
                "lon": -2.1,
                "conditions": ("dementia",),
                "areas_served": ("cotswold",),
                "art_forms": ("singing",),
            },
            {
                "record_id": "past",
                "lat": 51.8,
                "lon": -2.2,
                "status": "ended",
                "ended": "2019",
                "conditions": ("copd",),
                "areas_served": ("cotswold",),
                "art_forms": ("singing",),
            },
            {
                "record_id": "london",
                "lat": 51.5,
                "lon": -0.1,
                "scope": "elsewhere",
                "conditions": ("cancer",),
                "areas_served": ("cotswold",),
                "art_forms": ("singing",),
            },
        ]
    )


def _ids(frame: gpd.GeoDataFrame) -> set[str]:
    return set(frame["record_id"])


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        (Selection(), {"live"}),
        (Selection(include_past=True), {"live", "past"}),
        (Selection(scope="uk"), {"live", "london"}),
        (Selection(include_past=True, scope="uk"), {"live", "past", "london"}),
        (Selection(status=("ended",)), {"past"}),  # asking for ended shows it
        (Selection(status=("established",), include_past=True), {"live"}),
        (Selection(condition=("cancer",)), set()),  # the London case study stays apart
        (Selection(condition=("cancer",), scope="uk"), {"london"}),
    ],
)
def test_ended_and_elsewhere_show_only_when_asked(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary, selection: Selection, expected: set
) -> None:
    assert _ids(filter_frame(frame, selection, vocabulary)) == expected


def test_counts_leave_them_out_by_default(frame: gpd.GeoDataFrame, vocabulary: Vocabulary) -> None:
    conditions = count_options(frame, Selection(), vocabulary, "condition")
    assert conditions["dementia"] == 1 and conditions["copd"] == 0 and conditions["cancer"] == 0
    # The status facet's "Ended" option counts what choosing it would show.
    assert count_options(frame, Selection(), vocabulary, "status")["ended"] == 1
    assert counts_by(frame, vocabulary, "district")["cotswold"] == 1
    wider = Selection(include_past=True, scope="uk")
    assert count_options(frame, wider, vocabulary, "condition")["cancer"] == 1


def test_a_london_project_never_fills_a_gap_in_the_cotswolds(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary
) -> None:
    assert "cancer" in gaps(frame, vocabulary, "conditions", "cotswold")
    assert "copd" in gaps(frame, vocabulary, "conditions", "cotswold")  # ended: no provision
    by_district = gaps_by_district(frame, vocabulary, "conditions")
    assert "cancer" in by_district["cotswold"] and "dementia" not in by_district["cotswold"]
    matrix = coverage_matrix(frame, vocabulary, "conditions", "art_forms")
    assert matrix.loc["cancer", "singing"] == 0 and matrix.loc["dementia", "singing"] == 1
    wide = coverage_matrix(
        frame,
        vocabulary,
        "conditions",
        "art_forms",
        selection=Selection(scope="uk", include_past=True),
    )
    assert wide.loc["cancer", "singing"] == 1 and wide.loc["copd", "singing"] == 1


def test_hidden_counts_say_what_each_switch_adds(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary
) -> None:
    index = build_index(frame, vocabulary)
    assert views.hidden_counts(index, Selection()) == (1, 1)
    assert views.hidden_counts(index, Selection(include_past=True)) == (0, 1)
    assert views.hidden_counts(index, Selection(scope="uk")) == (1, 0)


@pytest.mark.parametrize(
    ("params", "include_past", "scope", "notes"),
    [
        ({}, False, "", []),
        ({"include_past": "1"}, True, "", []),
        ({"include_past": "yes", "scope": "uk"}, True, "uk", []),
        ({"scope": "gloucestershire"}, False, "", []),
        (
            {"scope": "mars"},
            False,
            "",
            ["Ignored scope 'mars': use scope=uk to include examples elsewhere in the UK"],
        ),
        ({"include_past": "0"}, False, "", []),
    ],
)
def test_url_parameters(
    vocabulary: Vocabulary, params: dict, include_past: bool, scope: str, notes: list[str]
) -> None:
    selection, found = selection_from_params(params, vocabulary)
    assert (selection.include_past, selection.scope, found) == (include_past, scope, notes)
    assert selection_from_params(selection_to_params(selection), vocabulary) == (selection, [])
    assert selection.is_empty == (not include_past and not scope)


def test_existing_urls_keep_working(vocabulary: Vocabulary) -> None:
    selection, notes = selection_from_params({"condition": "copd", "q": "choir"}, vocabulary)
    assert notes == [] and selection_to_params(selection) == {"condition": ["copd"], "q": "choir"}


# --- the map and the pages ---------------------------------------------------------------------


def test_ended_markers_are_grey_dotted_and_say_ended(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary
) -> None:
    shown = filter_frame(frame, Selection(include_past=True), vocabulary)
    payload = compact_payload(shown, vocabulary, today=dt.date(2026, 11, 30))
    by_id = {r[0]: r for r in payload["r"]}
    status = {by_id_key: None for by_id_key in by_id}
    for point in payload["p"]:
        status[payload["r"][point[3]][0]] = point[2]
    assert status["past"] == STATUS_ORDER.index("ended") == 2
    assert by_id["past"][5] == "ended 2019"
    assert by_id["live"][5] == "may be out of date"  # never verified, no source date
    style = STATUS_STYLE["ended"]
    assert style["dashArray"] and style["fillColor"] == "#bdbdbd"  # grey, not another hue
    assert "Ended (past activity" in legend_markup()
    html = build_map(shown, vocabulary).get_root().render()
    assert "aop-note" in html and "ended 2019" in html


def test_provider_banners(vocabulary: Vocabulary) -> None:
    records = {r.id: r for r in load_records(MAPDATA).records}
    today = dt.date(2026, 11, 30)
    kinds = [
        k for k, _ in views.provider_banners(records["artlift-chronic-pain-pathway"], today, 12)
    ]
    assert kinds == ["ended"]
    text = views.provider_banners(records["artlift-chronic-pain-pathway"], today, 12)[0][1]
    assert "ended" in text and "2018–2019" in text
    kinds = [k for k, _ in views.provider_banners(records["core-arts"], today, 12)]
    assert kinds == ["elsewhere", "out_of_date"]
    assert views.dates_sentence(records["art-shape"]) == (
        "Based on a source from November 2018; not yet confirmed with the provider\\."
    )


def test_directory_rows_note_and_sort(frame: gpd.GeoDataFrame, vocabulary: Vocabulary) -> None:
    from aop_map.filtering import records_table

    shown = filter_frame(frame, Selection(include_past=True, scope="uk"), vocabulary)
    table = records_table(shown, vocabulary)
    noted = views.with_review_notes(table, shown, dt.date(2026, 11, 30), 12)
    assert list(noted["review"])[-1] == "ended 2019"  # ended after the others
    county, away = views.split_elsewhere(noted, shown)
    assert set(away["id"]) == {"london"} and "london" not in set(county["id"])


# --- the pages (AppTest) ------------------------------------------------------------------------

APP = str(Path(__file__).resolve().parents[1] / "app.py")
ENDED_NAME = "Artlift chronic pain arts on prescription pathway (2018/19)"


@pytest.fixture
def app_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import shutil

    target = tmp_path / "mapdata"
    shutil.copytree(MAPDATA, target, ignore=shutil.ignore_patterns(".aop-cache", "submissions"))
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(target))
    monkeypatch.setenv("AOP_MAP_OFFLINE", "1")
    return target


def _open(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.query_params.update(params)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _names(at: AppTest) -> set[str]:
    return {n for frame in at.dataframe for n in frame.value.get("name", [])}


def test_the_directory_shows_ended_and_elsewhere_only_when_asked(app_data: Path) -> None:
    names = _names(_open("pages/directory.py"))
    assert "Art Shape" in names and ENDED_NAME not in names and "Core Arts" not in names
    at = _open("pages/directory.py", include_past="1")
    grid = at.dataframe[0].value
    assert ENDED_NAME in set(grid["name"])
    notes = dict(zip(grid["name"], grid["review"], strict=True))
    assert notes[ENDED_NAME] == "ended 2019" and notes["Art Shape"] == "may be out of date"
    assert list(grid["review"]).index("ended 2019") > list(grid["name"]).index("Art Shape")
    at = _open("pages/directory.py", scope="uk")
    assert "Examples elsewhere in the UK" in [s.value for s in at.subheader]
    assert "Core Arts" in set(at.dataframe[1].value["name"])
    assert "Core Arts" not in set(at.dataframe[0].value["name"])


def test_the_sidebar_switches_write_the_url(app_data: Path) -> None:
    at = _open("pages/directory.py")
    switch = at.sidebar.toggle(key="filter_include_past")
    assert "15 ended" in switch.label or "ended)" in switch.label
    switch.set_value(True).run()
    assert at.query_params.get("include_past") in ("1", ["1"])
    assert ENDED_NAME in _names(at)


def test_an_ended_provider_page_says_so_at_the_top(app_data: Path) -> None:
    at = _open("pages/provider.py", id="artlift-chronic-pain-pathway")
    assert "This activity has ended" in at.warning[0].value
    at = _open("pages/provider.py", id="core-arts")
    assert "elsewhere in the UK" in at.info[0].value
    assert any("may be out of date" in w.value for w in at.warning)
    assert any("not yet confirmed with the provider" in c.value for c in at.caption)


def test_the_moderation_review_queue_verifies_today(
    app_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "a long enough moderator password"
    monkeypatch.setenv("AOP_MAP_MODERATOR_PASSWORD", password)
    at = _open("pages/moderate.py")
    next(t for t in at.text_input if t.label.startswith("Your name")).input("Sam")
    next(t for t in at.text_input if t.label.startswith("Moderator password")).input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert "Due for review" in [s.value for s in at.subheader]
    at.text_input(key="review_by_art-shape").input("Sam (phone call)").run()
    at.button(key="review_verify_art-shape").click().run()
    assert not at.exception, [e.value for e in at.exception]
    text = (app_data / "providers" / "art-shape.yaml").read_text()
    assert f"last_verified: {dt.date.today().isoformat()}" in text
    assert "verified_by: Sam (phone call)" in text


# --- in a browser ------------------------------------------------------------------------------

BROWSER_RECORDS = f"""\
- id: fresh
  name: Fresh Choir
  kind: organisation
  status: established
  last_verified: {dt.date.today().isoformat()}
  verified_by: Sam (phone call)
  locations: [{{lat: 51.90, lon: -2.07}}]
- id: old
  name: Old Painters
  kind: organisation
  status: established
  source_date: 2018-11
  locations: [{{lat: 51.75, lon: -2.22}}]
- id: past
  name: Past Pathway
  kind: programme
  status: ended
  started: 2018
  ended: 2019
  locations: [{{lat: 51.82, lon: -2.50}}]
- id: london
  name: London Example
  kind: programme
  status: established
  scope: elsewhere
  areas_served: [elsewhere]
  locations: [{{lat: 51.50, lon: -0.12}}]
"""
MARKER_IDS_JS = """() => {
  let group = null;
  window.map.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) group = l; });
  return group.getLayers().map(m => m.options.aopId).sort();
}"""
# One record's popup HTML, from the layer's own content function (as a click fills it).
POPUP_HTML_JS = """(recordId) => {
  let group = null;
  window.map.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) group = l; });
  return group.aopPopupHtml(group.getLayers().find(m => m.options.aopId === recordId));
}"""


@pytest.fixture(scope="module")
def lifecycle_app(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from tests.browser import require_browser, run_app_on

    require_browser()
    with run_app_on(BROWSER_RECORDS, tmp_path_factory.mktemp("lifecycle")) as (server, _):
        yield server.url


@pytest.mark.browser
def test_in_a_browser_ended_and_elsewhere_appear_only_when_asked(lifecycle_app: str) -> None:
    from tests.browser import FOLIUM_IFRAME, screenshot, system_chromium
    from tests.test_e2e import OPEN_POPUP_JS, WAIT_MS, Watched, wait_for_map

    with system_chromium() as browser:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(WAIT_MS)
        watched = Watched(page)
        watched.open(lifecycle_app + "/")
        wait_for_map(page)
        frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
        assert frame.evaluate(MARKER_IDS_JS) == ["fresh", "old"]
        # "of N": the records in view, not the hidden ones.
        page.get_by_test_id("stSidebar").get_by_text("2 of 2 records match").wait_for()
        assert "may be out of date" in frame.evaluate(OPEN_POPUP_JS, "old")  # as a click does
        assert "out of date" not in frame.evaluate(POPUP_HTML_JS, "fresh")
        # Asked for: past activity and examples elsewhere, the ended one greyed and dated.
        watched.open(lifecycle_app + "/?include_past=1&scope=uk")
        wait_for_map(page)
        frame = page.locator(FOLIUM_IFRAME).element_handle().content_frame()
        frame.wait_for_function("() => window.map && window.L", timeout=WAIT_MS)
        assert frame.evaluate(MARKER_IDS_JS) == ["fresh", "london", "old", "past"]
        page.get_by_test_id("stSidebar").get_by_text("4 of 4 records match").wait_for()
        popup = frame.evaluate(POPUP_HTML_JS, "past")
        assert "ended 2019" in popup and "Ended" in popup
        assert (
            "Ended (past activity"
            in page.frame_locator(FOLIUM_IFRAME).locator(".aop-legend").inner_text()
        )
        screenshot(page, "map-include-past-and-uk")
        # The switches show in the sidebar, on, and the provider page says it has ended.
        sidebar = page.get_by_test_id("stSidebar")
        assert sidebar.get_by_text("Include past activity").count() == 1
        watched.open(lifecycle_app + "/provider?id=past")
        page.get_by_text("This activity has ended").first.wait_for()
        watched.open(lifecycle_app + "/provider?id=old")
        page.get_by_text("may be out of date").first.wait_for()
        assert not [e for e in watched.errors if "404" not in e], watched.errors


def test_ended_activity_adds_no_energy_to_its_district(vocabulary: Vocabulary) -> None:
    from aop_map.boundaries import load_districts
    from aop_map.mapping import district_classes

    districts = load_districts(vocabulary)
    frame = make_frame(
        [{"record_id": "past", "status": "ended", "ended": "2019", "areas_served": ("stroud",)}]
    )
    info, _ = district_classes(frame, vocabulary, districts)
    assert all("0 established, 0 emerging" in text for _, text in info)


def test_map_metrics_count_ended_apart(app_data: Path) -> None:
    at = _open("pages/map.py", include_past="1", scope="uk")
    metrics = {m.label: int(m.value) for m in at.metric}
    statuses = [r.status for r in load_dataset(app_data).records]
    assert metrics["Established"] == statuses.count("established")
    assert metrics["Emerging"] == statuses.count("emerging")  # ended records are neither
    assert (
        metrics["Matching records"] == len(statuses) > metrics["Established"] + metrics["Emerging"]
    )
