"""What a provider page says as escaped Markdown: contact, places, dates, banners; no Streamlit."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd

from aop_map.records import Readiness, Record, Source, ended_text, partial_date_text
from aop_map.review import is_out_of_date
from aop_map.text import md_escape, md_link
from aop_map.vocabulary import Vocabulary

PRECISION_NOTES = {
    "exact": "placed at the exact point given",
    "postcode": "placed at its postcode",
    "postcode_district": "placed at the centre of its postcode district: the full postcode "
    "was not found",
    "place": "placed at town or village level: no address is published",
    "online": "placed by an online geocoder from its place name",
    "none": "not on the map: no location could be found",
}


def _present(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# An address a mailto: link may carry: one @, no spaces, nothing Markdown or a URL could
# read as syntax (so the link target needs no escaping of its own).
MAILTO_PATTERN = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
# A phone number's dialable characters; anything else (words, "ext.") stays in the label only.
TEL_DIGITS = re.compile(r"[^0-9+]")
# Where a person on a phone gets directions to a located record.
DIRECTIONS_URL = "https://www.openstreetmap.org/directions?to={lat:.5f}%2C{lon:.5f}"


def email_link(email: str) -> str:
    """An escaped ``mailto:`` Markdown link, or the escaped text when it is no plain address."""
    address = email.strip()
    if not MAILTO_PATTERN.match(address):
        return md_escape(address)
    return f"[{md_escape(address)}](mailto:{address})"


def phone_link(phone: str) -> str:
    """An escaped ``tel:`` Markdown link (dialled digits only), or the escaped text."""
    digits = TEL_DIGITS.sub("", phone.strip())
    digits = digits[:1] + digits[1:].replace("+", "")
    if len(digits.lstrip("+")) < 6:
        return md_escape(phone)
    return f"[{md_escape(phone.strip())}](tel:{digits})"


def contact_markdown(website: Any, email: Any, phone: Any) -> str | None:
    """Published contact details as escaped Markdown: the website an http(s) link, the email
    a ``mailto:`` link and the phone a ``tel:`` link (each only when it is well formed)."""
    parts = []
    if _present(website):
        parts.append(md_link(website, website))
    if _present(email):
        parts.append("email " + email_link(email))
    if _present(phone):
        parts.append("phone " + phone_link(phone))
    return " · ".join(parts) or None


def directions_url(lat: float, lon: float) -> str:
    """An OpenStreetMap directions page to a point (the visitor fills in where from)."""
    return DIRECTIONS_URL.format(lat=lat, lon=lon)


def located_lines(rows: gpd.GeoDataFrame) -> list[tuple[str, str | None]]:
    """``location_lines`` each with the directions URL of its point (None when unplaced).

    The URL is ours, not the provider's text: the page draws it as a button, apart from the
    escaped line, so no Markdown link ever sits beside user text.
    """
    out = []
    for line, geometry in zip(location_lines(rows), rows.geometry, strict=True):
        placed = geometry is not None and not geometry.is_empty
        out.append((line, directions_url(geometry.y, geometry.x) if placed else None))
    return out


def related_records(record: Record, records: Iterable[Record]) -> list[tuple[str, str]]:
    """(name, id) of the other records this one names as its organisation or a partner,
    matched by name or id ignoring case, in the order the record names them."""
    by_name: dict[str, Record] = {}
    for other in records:
        if other.id != record.id:
            by_name.setdefault(other.name.casefold().strip(), other)
            by_name.setdefault(other.id.casefold(), other)
    named = [record.organisation, *record.partners] if record.organisation else record.partners
    found: dict[str, str] = {}
    for name in named:
        other = by_name.get(str(name).casefold().strip())
        if other is not None:
            found.setdefault(other.id, other.name)
    return [(name, record_id) for record_id, name in found.items()]


def location_lines(rows: pd.DataFrame) -> list[str]:
    """One escaped Markdown line per location row of a record: where, and how precisely."""
    lines = []
    for row in rows.itertuples():
        if row.location_index < 0:
            lines.append("No place given: listed by the areas it serves.")
            continue
        parts = (row.location_label, row.address, row.place, row.postcode)
        where = ", ".join(dict.fromkeys(p for p in parts if isinstance(p, str) and p))
        district = row.district_name
        if isinstance(district, str) and district not in where:
            where += f" ({district})"
        precision = PRECISION_NOTES.get(row.location_precision, md_escape(row.location_precision))
        lines.append(f"{md_escape(where)}: {precision}.")
    return lines


def headline(record: Record, vocabulary: Vocabulary) -> str:
    """Kind · **status** · part of <organisation>, escaped Markdown."""
    line = (
        f"{md_escape(vocabulary.label('kind', record.kind))} · "
        f"**{md_escape(vocabulary.label('status', record.status))}**"
    )
    return line + (f" · part of {md_escape(record.organisation)}" if record.organisation else "")


ANSWERS = {True: "yes", False: "no", None: "not stated"}


def readiness_lines(readiness: Readiness) -> list[str]:
    """What commissioners ask before referring anyone, as escaped Markdown lines."""
    lines = [
        f"Safeguarding policy: {ANSWERS[readiness.safeguarding_policy]} · "
        f"DBS checks: {ANSWERS[readiness.dbs_checks]} · "
        f"Insurance: {ANSWERS[readiness.insurance]}"
    ]
    if readiness.evaluation_frameworks:
        lines.append("Evaluation: " + md_escape(", ".join(readiness.evaluation_frameworks)))
    return lines


def source_list(sources: Sequence[Source]) -> str:
    """A Markdown list of sources: linked when the address is http(s), dated when known."""
    if not sources:
        return "No sources recorded."
    return "\n".join(
        f"- {md_link(s.title, s.url)}" + (f" ({s.date.isoformat()})" if s.date else "")
        for s in sources
    )


def paragraphs(text: str | None) -> list[str]:
    """A record's long text as escaped Markdown paragraphs (split at blank lines)."""
    return [md_escape(p) for p in re.split(r"\n\s*\n", text or "") if p.strip()]


# What a page or a list says of a record not checked for a while (review.is_out_of_date).
OUT_OF_DATE = "may be out of date"


def dates_sentence(record: Any) -> str:
    """The two dates in plain words: "Based on a source from November 2018; not yet
    confirmed with the provider." (escaped Markdown)."""
    verified = getattr(record, "last_verified", None)
    by = getattr(record, "verified_by", None)
    source = partial_date_text(getattr(record, "source_date", None))
    based = f"Based on a source from {source}" if source else "Based on undated sources"
    if verified:
        who = f" by {by}" if by else ""
        return md_escape(
            f"Confirmed with the provider on {verified.day} {verified:%B %Y}{who}. {based}."
        )
    return md_escape(f"{based}; not yet confirmed with the provider.")


def provider_banners(record: Record, today: dt.date, months: int) -> list[tuple[str, str]]:
    """What a provider page says at its top, as (kind, escaped Markdown): kind is "ended",
    "elsewhere" or "out_of_date"; none for a current, checked county record."""
    out: list[tuple[str, str]] = []
    if record.is_past:
        ran = "–".join(p for p in (record.started, record.ended) if p)
        when = (
            f" (ran {ran})"
            if record.started and record.ended
            else (f" ({ended_text(record.status, record.ended)})" if record.ended else "")
        )
        out.append(
            (
                "ended",
                f"**This activity has ended{md_escape(when)}.** It is kept here "
                "as history: it is not taking referrals.",
            )
        )
    if not record.in_county:
        out.append(
            (
                "elsewhere",
                "**An example from elsewhere in the UK**, not provision in "
                "Gloucestershire: it is not counted in the county's coverage "
                "or gaps.",
            )
        )
    if is_out_of_date(record, today, months):
        out.append(
            (
                "out_of_date",
                f"**This record {OUT_OF_DATE}.** "
                + dates_sentence(record)
                + " Check with the provider before referring anyone.",
            )
        )
    return out
