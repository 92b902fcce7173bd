"""The field registry: sound as shipped, and a field added to it flows through every layer.

The throwaway field ("moods", a controlled list) is added to ``fields.entries.FIELDS`` with
monkeypatch and its terms to a copy of the vocabulary; nothing else changes. It then has to
appear in the record schema, the frame, the filters' URL round trip, the filter index, the
table and GeoJSON, the CSV header matching, the register form's data, the provider page's
facts and the sidebar (AppTest).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from aop_map import fields, ui
from aop_map.filtering import (
    Selection,
    build_index,
    count_options,
    filter_fields,
    filter_frame,
    records_table,
    selection_from_params,
    selection_to_params,
    table_columns,
    to_geojson,
    url_params,
)
from aop_map.geocoding import geocode_records
from aop_map.geocoding.frame import frame_columns
from aop_map.loading import load_records, normalise_header, parse_csv_text
from aop_map.records import validate_record
from aop_map.registration import check_form, form_to_data
from aop_map.vocabulary import Vocabulary
from tests.conftest import MAPDATA

APP = str(Path(__file__).resolve().parents[1] / "app.py")

# ---------------------------------------------------------------------------------------------
# The registry as shipped


def test_the_registry_is_sound(vocabulary: Vocabulary) -> None:
    assert fields.problems() == []
    for spec in fields.controlled():
        assert spec.section in vocabulary.sections, spec.name
    for spec in fields.all_fields():
        assert spec.label and spec.label[0].isupper(), spec.name


def test_urls_and_sidebar_keep_their_names_and_order() -> None:
    # Bookmarks keep working: the same parameter names, in the same order.
    assert url_params() == (
        "condition",
        "art_form",
        "age_group",
        "district",
        "status",
        "delivery",
        "referral",
        "model",
        "free",
        "self_referral",
        "step_free",
        "q",
        "near",
        "radius_km",
        "include_past",
        "scope",
    )
    assert list(ui.filter_labels().values()) == [
        "Health condition",
        "Art form",
        "Age group",
        "District or area",
        "Status",
        "Delivery",
        "Referral route",
        "Commissioning model",
        "Free only",
        "Self-referral welcome",
        "Step-free access",
    ]
    assert [f.facet for f in fields.facets()][-1] == "kind"  # counted, never a filter


def test_personal_fields_are_the_contact_details() -> None:
    assert {f.key for f in fields.personal_fields()} == {
        "contact.website",
        "contact.email",
        "contact.phone",
        "contact.name",
    }


def test_queries_follow_a_replaced_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    before = fields.facets()
    assert fields.facets() is before  # remembered while the registry is the same object
    assert not hasattr(fields, "FIELDS")  # no copy to patch by mistake: entries holds it
    monkeypatch.setattr(fields.entries, "FIELDS", fields.all_fields()[:3])
    assert [f.name for f in fields.all_fields()] == ["id", "name", "kind"]
    assert [f.facet for f in fields.facets()] == ["kind"] and filter_fields() == {}
    with pytest.raises(KeyError, match="no field 'conditions'"):
        fields.by_name("conditions")


def test_read_and_getter_follow_paths(vocabulary: Vocabulary) -> None:
    data = {
        "id": "a",
        "name": "A",
        "kind": "organisation",
        "status": "established",
        "contact": {"email": "a@example.org"},
        "publish_contact": True,
    }
    record, problems = validate_record(data, vocabulary, source="test")
    assert record is not None and not problems
    email, phone = fields.by_name("email"), fields.by_name("phone")
    assert fields.read(record, email) == fields.read(data, email) == "a@example.org"
    assert fields.getter(email)(record) == "a@example.org" and fields.read(record, phone) is None
    assert fields.getter(fields.by_name("art_forms"))(record) == []
    assert ("Art forms", []) in fields.facts(record, vocabulary)


# ---------------------------------------------------------------------------------------------
# A throwaway field, added in the registry alone

MOODS = fields.FieldSpec(
    "moods",
    "Moods",
    help="How sessions feel",
    section="moods",
    many=True,
    facet="mood",
    facet_label="Mood",
    table=True,
    directory=True,
    facts=True,
    csv_aliases=("moods", "feelings"),
    widget="multiselect",
    oruk="service.attributes",
)
MOOD_TERMS = [
    {"id": "calm", "label": "Calm", "synonyms": ["gentle", "quiet"]},
    {"id": "lively", "label": "Lively", "synonyms": ["energetic"]},
    {"id": "rowdy", "label": "Rowdy, joyful"},  # a label with a comma, as "Arts, crafts"
]
RECORDS = """\
- id: calm-choir
  name: Calm Choir
  kind: organisation
  status: established
  conditions: [copd]
  moods: [gentle]
  locations: [{postcode: GL50 3PR}]
- id: lively-band
  name: Lively Band
  kind: programme
  status: emerging
  moods: Energetic
  areas_served: [stroud]
- id: no-mood
  name: No Mood Club
  kind: organisation
  status: established
  areas_served: [countywide]
"""


@pytest.fixture
def moods(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The registry with MOODS added, and a data directory whose vocabulary has its terms."""
    monkeypatch.setattr(fields.entries, "FIELDS", (*fields.all_fields(), MOODS))
    directory = tmp_path / "mapdata"
    directory.mkdir()
    data = yaml.safe_load((MAPDATA / "vocabulary.yaml").read_text(encoding="utf-8"))
    data["moods"] = MOOD_TERMS
    (directory / "vocabulary.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (directory / "records.yaml").write_text(RECORDS, encoding="utf-8")
    return directory


def mood_vocabulary(directory: Path) -> Vocabulary:
    return Vocabulary.load(directory / "vocabulary.yaml")


def test_a_vocabulary_without_the_new_section_is_refused(moods: Path) -> None:
    with pytest.raises(ValueError, match="no section"):
        Vocabulary.load(MAPDATA / "vocabulary.yaml")


def test_records_validate_the_new_field(moods: Path) -> None:
    vocabulary = mood_vocabulary(moods)
    result = load_records(moods)
    assert not result.problems, result.problems
    by_id = {r.id: r for r in result.records}
    assert by_id["calm-choir"].moods == ["calm"] and by_id["lively-band"].moods == ["lively"]
    assert fields.read(by_id["no-mood"], MOODS) == ()
    assert by_id["calm-choir"].model_dump(exclude_defaults=True)["moods"] == ["calm"]
    assert pickle.loads(pickle.dumps(by_id["calm-choir"])) == by_id["calm-choir"]
    record, problems = validate_record(
        {
            "id": "x",
            "name": "X",
            "kind": "organisation",
            "status": "established",
            "moods": ["calm", "sleepy"],
        },
        vocabulary,
        source="x.yaml",
    )
    assert record is not None and record.moods == ["calm"]  # the unknown term is left out
    assert [(p.field, p.message) for p in problems] == [("moods", "unknown moods term 'sleepy'")]
    record, problems = validate_record(
        {
            "id": "x",
            "name": "X",
            "kind": "organisation",
            "status": "established",
            "moods": ["calm"] * 51,
        },
        vocabulary,
        source="x.yaml",
    )
    assert record is None and [p.field for p in problems] == ["moods"]


def frame_of(directory: Path) -> Any:
    frame, _ = geocode_records(load_records(directory).records, mood_vocabulary(directory))
    return frame


def test_the_frame_and_filters_carry_the_new_field(moods: Path) -> None:
    vocabulary = mood_vocabulary(moods)
    frame = frame_of(moods)
    assert "moods" in frame_columns() and "moods" in frame.columns
    assert dict(zip(frame["record_id"], frame["moods"], strict=True))["calm-choir"] == ("calm",)
    index = build_index(frame, vocabulary)
    calm = filter_frame(frame, Selection(mood=("calm",)), vocabulary, index=index)
    assert list(calm["record_id"]) == ["calm-choir"]
    counts = count_options(frame, Selection(), vocabulary, "mood", index=index)
    assert counts == {"calm": 1, "lively": 1, "rowdy": 0}
    assert count_options(frame, Selection(), vocabulary, "moods") == counts  # by its column


def test_the_url_round_trip_carries_the_new_field(moods: Path) -> None:
    vocabulary = mood_vocabulary(moods)
    assert url_params()[-6:] == ("mood", "q", "near", "radius_km", "include_past", "scope")
    params = {"condition": "copd", "mood": ["energetic,Calm", "calm"], "q": "choir"}
    selection, notes = selection_from_params(params, vocabulary)
    assert notes == [] and selection.terms("mood") == ("lively", "calm")
    assert selection.mood == ("lively", "calm")
    assert selection_to_params(selection) == {
        "condition": ["copd"],
        "mood": ["lively", "calm"],
        "q": "choir",
    }
    assert selection_from_params(selection_to_params(selection), vocabulary) == (selection, [])
    _, notes = selection_from_params({"mood": "clam"}, vocabulary)
    assert notes == ["Ignored unknown mood 'clam' (did you mean 'Calm'?)"]


def test_the_table_and_exports_carry_the_new_field(moods: Path) -> None:
    vocabulary = mood_vocabulary(moods)
    frame = frame_of(moods)
    table = records_table(frame, vocabulary).set_index("id")
    assert list(table.reset_index().columns) == list(table_columns())
    assert table.loc["calm-choir", "moods"] == "Calm" and table.loc["no-mood", "moods"] == ""
    assert "moods" in ui.directory_columns()
    features = yaml.safe_load(to_geojson(frame, vocabulary))["features"]
    assert features[0]["properties"]["moods"] == ["calm"]


def test_csv_headers_match_the_new_fields_aliases(moods: Path) -> None:
    header = "Name,Kind,Status,Feelings,Areas served\n"
    raw, problems = parse_csv_text(
        header + 'Quiet Hour,programme,established,"Rowdy, joyful",stroud\n', "moods.csv"
    )
    assert not problems and raw[0].data["moods"] == ["Rowdy", "joyful"]  # split: no section
    assert normalise_header("Feelings") in fields.csv_headers()
    (moods / "sheet.csv").write_text(
        header + "Quiet Hour,programme,established,gentle; Energetic,stroud\n", encoding="utf-8"
    )
    (record,) = [r for r in load_records(moods).records if r.name == "Quiet Hour"]
    assert record.moods == ["calm", "lively"]


def test_the_register_form_carries_the_new_field(moods: Path) -> None:
    vocabulary = mood_vocabulary(moods)
    assert MOODS in fields.form_fields("")
    values = {
        "name": "Quiet Hour",
        "kind": "programme",
        "status": "established",
        "moods": ["calm"],
        "areas_served": ["stroud"],
        "consent_listing": True,
    }
    assert form_to_data(values)["moods"] == ["calm"]
    assert check_form(values, vocabulary).ok
    check = check_form({**values, "moods": ["sleepy"]}, vocabulary)
    assert "sleepy" in " ".join(check.errors["moods"])
    assert "Moods: unknown moods term 'sleepy'" in check.messages()


def test_the_provider_facts_carry_the_new_field(moods: Path) -> None:
    vocabulary = mood_vocabulary(moods)
    (record,) = [r for r in load_records(moods).records if r.id == "lively-band"]
    assert ("Moods", ["Lively"]) in fields.facts(record, vocabulary)


def test_the_sidebar_and_register_page_draw_the_new_field(
    moods: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AOP_MAP_DATA_DIR", str(moods))
    monkeypatch.setenv("AOP_MAP_OFFLINE", "1")
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["mood"] = "gentle"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (widget,) = [w for w in at.sidebar.multiselect if w.key == "filter_mood"]
    assert widget.label == "Mood" and widget.value == ["calm"]
    assert widget.options == ["Calm (1)", "Lively (1)", "Rowdy, joyful (0)"]
    assert "**1** of 3 records match" in "\n".join(m.value for m in at.sidebar.markdown)
    widget.set_value(["calm", "lively"]).run()
    assert at.query_params["mood"] == ["calm", "lively"]
    at.switch_page("pages/register.py").run()
    assert not at.exception, [e.value for e in at.exception]
    (field,) = [w for w in at.multiselect if w.label == "Moods"]
    assert field.options == ["Calm", "Lively", "Rowdy, joyful"]
