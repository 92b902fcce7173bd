"""Vocabulary normalisation: every spelling a person might type maps to the right term."""

from __future__ import annotations

import pytest

from aop_map import fields
from aop_map.vocabulary import UnknownTermError, Vocabulary, normalise_key


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("conditions", "COPD", "copd"),
        ("conditions", "copd", "copd"),
        ("conditions", "Singing for Breathing", "copd"),
        ("art_forms", "Singing for Breathing", "singing"),
        ("art_forms", "creative writing", "creative-writing"),
        ("art_forms", "Creative-Writing", "creative-writing"),
        ("art_forms", "CREATIVE_WRITING", "creative-writing"),
        ("art_forms", "  creative   writing ", "creative-writing"),
        ("art_forms", "Cross arts", "cross-arts"),
        ("art_forms", "cross-arts", "cross-arts"),
        ("art_forms", "Print making", "printmaking"),
        ("art_forms", "Circus", "circus"),
        ("conditions", "Chronic Pain", "chronic-pain"),
        ("conditions", "chronic-pain", "chronic-pain"),
        ("conditions", "Dementia", "dementia"),
        ("conditions", "Alzheimer's", "dementia"),
        ("conditions", "paediatric epilepsy", "paediatric-epilepsy"),
        ("conditions", "Type 1 Diabetes", "type-1-diabetes"),
        ("conditions", "cancer", "cancer"),
        ("conditions", "Mental Health", "mental-health"),
        ("conditions", "anxiety", "mental-health"),
        ("kind", "Freelance artist", "freelance-artist"),
        ("kind", "Organization", "organisation"),
        ("status", "Pilot", "emerging"),
        ("areas_served", "The Cotswolds", "cotswold"),
        ("areas_served", "Forest of Dean", "forest-of-dean"),
        ("areas_served", "county-wide", "countywide"),
        ("delivery", "Face to face", "in-person"),
        ("referral_routes", "Link worker", "social-prescriber"),
        ("referral_routes", "GP", "gp"),
        ("referral_routes", "self referral", "self-referral"),
        ("commissioning_models", "Consortia", "consortium"),
        ("commissioning_models", "micro-commissioning", "personal-budget"),
        ("commissioning_models", "Recovery Colleges", "recovery-college"),
        ("age_groups", "Children & young people", "young-people"),
    ],
)
def test_normalise(vocabulary: Vocabulary, field: str, text: str, expected: str) -> None:
    assert vocabulary.normalise(field, text) == expected


@pytest.mark.parametrize(
    ("field", "text", "suggested"),
    [
        ("conditions", "chronic pian", "chronic-pain"),
        ("conditions", "demntia", "dementia"),
        ("art_forms", "photografy", "photography"),
        ("art_forms", "singin", "singing"),
    ],
)
def test_unknown_term_suggests_closest(
    vocabulary: Vocabulary, field: str, text: str, suggested: str
) -> None:
    with pytest.raises(UnknownTermError) as caught:
        vocabulary.normalise(field, text)
    assert caught.value.suggestions[0] == suggested
    assert repr(text) in str(caught.value)
    assert suggested in str(caught.value)


def test_unknown_term_without_close_match(vocabulary: Vocabulary) -> None:
    with pytest.raises(UnknownTermError) as caught:
        vocabulary.normalise("art_forms", "zzzzqqq")
    assert caught.value.suggestions == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Creative-Writing", "creative writing"),
        ("Arts & Crafts", "arts and crafts"),
        ("  a__b--c ", "a b c"),
        ("Alzheimer\u2019s", "alzheimers"),
    ],
)
def test_normalise_key(text: str, key: str) -> None:
    assert normalise_key(text) == key


def test_every_section_present_and_terms_labelled(vocabulary: Vocabulary) -> None:
    for field in fields.sections():
        terms = vocabulary.terms(field)
        assert terms, field
        for term in terms:
            assert term.label and term.description, (field, term.id)


def test_no_spelling_maps_to_two_terms_in_a_section(vocabulary: Vocabulary) -> None:
    # setdefault keeps the first meaning silently; a clash would make data ambiguous.
    from aop_map.vocabulary import normalise_key as key

    for section, terms in vocabulary.sections.items():
        owners: dict[str, str] = {}
        for term in terms.values():
            for spelling in {key(s) for s in (term.id, term.label, *term.synonyms)}:
                assert owners.setdefault(spelling, term.id) == term.id, (section, spelling)


def test_seed_conditions_and_art_forms_covered(vocabulary: Vocabulary) -> None:
    # Named in the source documents (AoP pathways and consortium partners).
    for text in (
        "chronic pain",
        "COPD",
        "dementia",
        "mental health",
        "paediatric epilepsy",
        "type 1 diabetes",
        "cancer",
        "learning disability",
    ):
        assert vocabulary.find("conditions", text), text
    for text in (
        "illustration",
        "printmaking",
        "film",
        "photography",
        "creative writing",
        "circus",
        "music",
        "singing",
        "cross arts",
        "dance",
        "theatre",
        "reading",
    ):
        assert vocabulary.find("art_forms", text), text


def test_districts_carry_ons_codes(vocabulary: Vocabulary) -> None:
    codes = {t.code for t in vocabulary.terms("areas_served") if t.code}
    assert codes == {f"E0700007{n}" for n in range(8, 10)} | {f"E0700008{n}" for n in range(0, 4)}
    assert vocabulary.district_by_code("E07000079").id == "cotswold"


def test_the_former_names_answer_from_the_registry() -> None:
    from aop_map import vocabulary

    assert vocabulary.FIELD_SECTIONS == fields.sections()
    assert vocabulary.FIELD_SECTIONS["areas_served"] == "areas"
    assert vocabulary.CONTROLLED_FIELDS == {
        "kind",
        "status",
        "scope",
        "referral_need",
        "free",
        "self_referral",
        "step_free",
        *vocabulary.LIST_FIELDS,
    }
    with pytest.raises(AttributeError):
        vocabulary.NO_SUCH_NAME  # noqa: B018


def test_duplicate_ids_rejected() -> None:
    data = {section: [] for section in set(fields.sections().values())}
    data["conditions"] = [{"id": "a", "label": "A"}, {"id": "a", "label": "B"}]
    with pytest.raises(ValueError, match="duplicate id"):
        Vocabulary.from_dict(data)
