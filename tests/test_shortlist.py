"""The shortlist: the `list` URL parameter, share links and the activity sheet's content."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from aop_map import shortlist
from aop_map.dataset import load_dataset
from tests import test_app

# test_app's synthetic data directory, and its environment for every test here.
app_data, _app_env = test_app.app_data, test_app._app_env
KNOWN = {"a", "b", "c"}.__contains__


@pytest.mark.parametrize(
    ("value", "ids", "noted"),
    [
        (None, (), False),
        ("", (), False),
        ("a,b", ("a", "b"), False),
        (" b , a ,b,,", ("b", "a"), False),  # order kept, repeats and blanks dropped
        (["a", "c,b"], ("a", "c", "b"), False),  # the parameter given more than once
        ("a,zz,<script>", ("a",), True),  # unknown ids dropped, with a note
    ],
)
def test_parse_param(value, ids, noted) -> None:
    found, notes = shortlist.parse_param(value, KNOWN)
    assert found == ids
    assert bool(notes) is noted


def test_parse_param_is_length_limited() -> None:
    many = [f"r{n}" for n in range(shortlist.MAX_IDS + 7)]
    ids, notes = shortlist.parse_param(",".join(many), lambda _: True)
    assert ids == tuple(many[: shortlist.MAX_IDS])
    assert "at most 50" in notes[0]


def test_unknown_ids_are_quoted_in_the_note() -> None:
    _, notes = shortlist.parse_param("a,nope", KNOWN)
    assert "“nope”" in notes[0] and "1 id(s)" in notes[0]


def test_add_remove_and_format() -> None:
    ids = shortlist.add(shortlist.add((), "a"), "b")
    assert shortlist.add(ids, "a") == ("a", "b")
    assert shortlist.remove(ids, "a") == ("b",)
    assert shortlist.format_param(ids) == "a,b"
    full = tuple(str(n) for n in range(shortlist.MAX_IDS))
    assert shortlist.add(full, "x") == full


@pytest.mark.parametrize(
    "page_url",
    [
        "http://host:8501/shortlist?list=old",
        "http://host:8501/shortlist/",
        "http://host:8501",
    ],
)
def test_share_link(page_url) -> None:
    link = shortlist.share_link(page_url, ("a", "b&c"))
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("host:8501", "/shortlist")
    assert parse_qs(parts.query) == {"list": ["a,b&c"]}


def test_mailto_holds_the_link_encoded() -> None:
    link = "http://host/shortlist?list=a,b&x=1"
    address = shortlist.mailto(link, 2)
    assert address.startswith("mailto:?subject=")
    assert "&" not in address.split("body=", 1)[1]  # the link's & cannot end the body
    assert link in unquote(address.split("body=", 1)[1])


def _record(**changes):
    base = dict(
        id="r1",
        name="Sing  for\nbreath",
        kind="programme",
        status="established",
        summary="",
        description="Weekly singing.\n\nMore.",
        art_forms=["singing"],
        conditions=[],
        age_groups=[],
        delivery=[],
        areas_served=[],
        referral_routes=["self-referral", "gp"],
        publish_contact=False,
        contact=SimpleNamespace(name="Jo", phone="0123", email="jo@x", website=None),
        last_verified=dt.date(2026, 1, 2),
    )
    base.update(changes)
    return SimpleNamespace(**base)


class _Vocab:
    def label(self, field, term):
        return term.title()

    def labels(self, field, terms):
        return [t.title() for t in terms]

    def term(self, field, term_id):
        return None


def test_sheet_entry_says_not_stated_and_hides_unconsented_contact() -> None:
    frame = load_dataset().frame.iloc[:0]
    entry = shortlist.sheet_entry(_record(), frame, _Vocab())
    assert entry.title == "Sing for breath"
    assert entry.what == "Programme: Singing. Weekly singing."
    assert entry.when == entry.cost == entry.for_whom == entry.where == "not stated"
    assert entry.how_to_join == "Self-referral: people can join directly. Referral by: Gp"
    assert "0123" not in entry.contact and "jo@x" not in entry.contact
    assert entry.last_confirmed == "2026-01-02"
    shown = shortlist.sheet_entry(_record(publish_contact=True), frame, _Vocab())
    assert shown.contact == "Jo · 0123 · jo@x"


class _Described:
    """A structured value (as records.Cost) that says itself in words."""

    def __init__(self, words: str) -> None:
        self.words = words

    def describe(self) -> str:
        return self.words


def test_sheet_entry_reads_when_cost_and_referral_where_a_record_has_them() -> None:
    frame = load_dataset().frame.iloc[:0]
    record = _record(
        schedules=["Weekly, Tuesdays 10:30-12:00"],
        cost=_Described("£3 a session"),
        eligibility=SimpleNamespace(referral="self-referral-welcome", describe=lambda: "Ages 18+"),
    )
    entry = shortlist.sheet_entry(record, frame, _Vocab())
    assert (entry.when, entry.cost) == ("Weekly, Tuesdays 10:30-12:00", "£3 a session")
    assert entry.how_to_join == "Self-Referral-Welcome. Referral by: Gp"


def test_sheet_entries_from_the_bundled_data() -> None:
    dataset = load_dataset()
    located = dataset.frame[dataset.frame.geometry.notna()]["record_id"].iloc[0]
    ids = (located, "no-such-id", dataset.records[0].id)
    entries = shortlist.sheet_entries(ids, dataset.record, dataset.frame, dataset.vocabulary)
    assert [e.record_id for e in entries] == [located, dataset.records[0].id]
    assert entries[0].points and entries[0].where != "not stated"
    for entry in entries:
        record = dataset.record(entry.record_id)
        assert entry.title == record.name
        if not record.publish_contact:
            assert record.contact.email is None or record.contact.email not in entry.contact


# ---------------------------------------------------------------------------------------------
# The pages (AppTest, on test_app's synthetic records)


def test_countywide_shades_every_district() -> None:
    dataset = load_dataset()
    codes = shortlist._area_codes(["countywide"], dataset.vocabulary)
    assert len(codes) == 6 and shortlist._area_codes(["stroud"], dataset.vocabulary) == (
        "E07000082",
    )


def test_the_shortlist_page_opens_from_its_link(app_data) -> None:
    at = test_app.open_app(
        "pages/shortlist.py", list="xss-img,cheltenham-lungs,md-inject,forest-breathers,no-such-id"
    )
    assert at.query_params["list"] == "xss-img,cheltenham-lungs,md-inject,forest-breathers"
    assert "“no\\-such\\-id”" in " ".join(str(i.value) for i in at.info)  # escaped
    headings = [h.value for h in at.subheader]
    assert len(headings) == 4
    # Names are escaped Markdown: shown as typed, never as HTML or a link.
    assert all("<img" not in h or "\\<img" in h for h in headings)
    assert any("\\[link\\]" in h for h in headings)
    shown = " ".join(str(m.value) for m in at.markdown)
    assert "jo@example\\.org" in shown  # consented (escaped)
    assert "private@example" not in shown  # not consented


def test_add_on_a_provider_page_then_open_the_shortlist(app_data) -> None:
    at = test_app.open_app("pages/provider.py", id="forest-breathers")
    [button] = [b for b in at.button if b.label == "Add to shortlist"]
    button.click().run()
    assert [b.label for b in at.button if "shortlist" in b.label] == ["Remove from shortlist"]
    at.query_params.clear()  # the menu drops query parameters
    at.switch_page("pages/shortlist.py").run()
    assert not at.exception
    assert [h.value for h in at.subheader] == ["Forest Breathers Choir"]
    assert at.query_params["list"] == "forest-breathers"


def test_the_list_travels_in_the_url_with_the_filters(app_data) -> None:
    at = test_app.open_app(None, list="forest-breathers,no-such-id", condition="copd")
    assert at.query_params["list"] == "forest-breathers"  # checked against the data
    assert at.query_params["condition"] == "copd"
    at.query_params.clear()  # the menu drops query parameters...
    at.switch_page("pages/directory.py").run()
    assert not at.exception
    assert at.query_params["list"] == "forest-breathers"  # ...the directory writes it back
    assert at.query_params["condition"] == "copd"
