"""The activity sheet PDF: every activity's text drawn as text, blocks kept whole, maps drawn."""

from __future__ import annotations

import re
import zlib

import pytest

from aop_map import activity_sheet
from aop_map.shortlist import SheetEntry

STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
SHOWN = re.compile(rb"\((?:\\.|[^\\)])*\)\s*Tj|\[(?:\\.|[^\]\\])*\]\s*TJ", re.S)
STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"(": b"(", b")": b")", b"\\": b"\\"}


def _unescape(raw: bytes) -> bytes:
    return re.sub(
        rb"\\(\d{1,3}|.)",
        lambda m: bytes([int(m[1], 8)]) if m[1].isdigit() else ESCAPES.get(m[1], m[1]),
        raw,
    )


def pdf_text(data: bytes) -> str:
    """The text a PDF of core-font strings shows, one space between strings (no pypdf)."""
    shown = []
    for stream in STREAM.findall(data):
        try:
            stream = zlib.decompress(stream)
        except zlib.error:
            pass  # an uncompressed stream
        for operator in SHOWN.findall(stream):
            shown += [_unescape(s).decode("latin-1") for s in STRING.findall(operator)]
    return " ".join(" ".join(shown).split())


def entry(number: int, **changes: object) -> SheetEntry:
    values = dict(
        record_id=f"r{number}",
        title=f"Activity {number}",
        what="Singing",
        for_whom="Adults",
        where="Stroud",
        when="Tuesdays 10:00",
        cost="Free",
        how_to_join="Self-referral",
        contact="01234 567890",
        last_confirmed="2026-01-02",
        points=((51.74, -2.22),),
        area_codes=("E07000082",),
    )
    values.update(changes)
    return SheetEntry(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def outlines() -> activity_sheet.Outlines:
    return activity_sheet.load_outlines()


def test_every_activity_and_field_is_in_the_text(outlines) -> None:
    entries = [
        entry(1),
        entry(2, title="Choir (for (breath)) \\ £3 – café “quoted”"),
        entry(3, contact="not published"),
    ]
    data = activity_sheet.build_pdf(entries, outlines=outlines, link="http://x/shortlist")
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Activity 1" in text and "Activity 3" in text
    assert 'Choir (for (breath)) \\ £3 - café "quoted"' in text
    for label in (
        "What it is",
        "Who it is for",
        "Where",
        "When",
        "Cost",
        "How to join",
        "Contact",
        "Facts last confirmed",
        "Tuesdays 10:00",
        "2026-01-02",
    ):
        assert label in text
    assert "This list online: http://x/shortlist" in text
    assert "District boundaries" in text
    assert "page 1 of 1" in text


def test_uncompressed_output_reads_the_same(outlines) -> None:
    entries = [entry(1), entry(2)]
    assert pdf_text(
        activity_sheet.build_pdf(entries, outlines=outlines, compress=False)
    ) == pdf_text(activity_sheet.build_pdf(entries, outlines=outlines))


def test_a_block_is_never_split_across_pages(outlines) -> None:
    long_what = "A long description of the sessions. " * 12
    entries = [entry(n, what=long_what) for n in range(12)]
    data = activity_sheet.build_pdf(entries, outlines=outlines, compress=False)
    pages = [pdf_text(b"stream\n" + s + b"\nendstream") for s in STREAM.findall(data) if b"Tj" in s]
    assert len(pages) > 1
    for page in pages:  # each page holds whole blocks: every title has its last row
        assert page.count("Facts last confirmed") == len(re.findall(r"Activity \d+", page))


def test_text_outside_latin1_is_replaced_not_an_error() -> None:
    assert activity_sheet.plain("“Łódź” — 日本\x07 ok") == '"?ódz" - ?? ok'
    data = activity_sheet.build_pdf([entry(1, title="Łódź — 合唱 choir")])
    assert "?ódz - ?? choir" in pdf_text(data)


def test_without_outlines_there_is_no_map_but_a_sheet() -> None:
    text = pdf_text(activity_sheet.build_pdf([entry(1)]))
    assert "Activity 1" in text and "District boundaries" not in text


def test_locator_svg_has_the_districts_and_a_dot(outlines) -> None:
    svg = activity_sheet.locator_svg(entry(1), outlines)
    assert svg.startswith("<svg") and svg.count("<polygon") >= 6
    assert svg.count("<circle") == 1 and "rgb(225,225,225)" in svg
    outside = activity_sheet.locator_svg(entry(1, points=((53.4, -2.98),)), outlines)
    assert "<circle" not in outside  # a venue off the county's map has no dot
