"""The shortlist: the `list` URL parameter, share links and the activity sheet's content."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from aop_map import shortlist
from aop_map.dataset import load_dataset

KNOWN = {"a", "b", "c"}.__contains__


@pytest.mark.parametrize(("value", "ids", "noted"), [
    (None, (), False),
    ("", (), False),
    ("a,b", ("a", "b"), False),
    (" b , a ,b,,", ("b", "a"), False),  # order kept, repeats and blanks dropped
    (["a", "c,b"], ("a", "c", "b"), False),  # the parameter given more than once
    ("a,zz,<script>", ("a",), True),  # unknown ids dropped, with a note
])
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


@pytest.mark.parametrize("page_url", [
    "http://host:8501/shortlist?list=old",
    "http://host:8501/shortlist/",
    "http://host:8501",
])
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
    base = dict(id="r1", name="Sing  for\nbreath", kind="programme", status="established",
                summary="", description="Weekly singing.\n\nMore.", art_forms=["singing"],
                conditions=[], age_groups=[], delivery=[], areas_served=[],
                referral_routes=["self-referral", "gp"], publish_contact=False,
                contact=SimpleNamespace(name="Jo", phone="0123", email="jo@x", website=None),
                last_verified=dt.date(2026, 1, 2))
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


def test_sheet_entry_reads_when_and_cost_where_a_record_has_them() -> None:
    frame = load_dataset().frame.iloc[:0]
    entry = shortlist.sheet_entry(_record(schedule="Tuesdays 10-12", cost="Free"), frame,
                                  _Vocab())
    assert (entry.when, entry.cost) == ("Tuesdays 10-12", "Free")


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
