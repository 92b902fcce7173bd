"""What the pages show, worked out without Streamlit: map views, clicked points, link targets,
area providers, provider and moderation text, and the coverage and About tables.

Plain data in, plain data out (frames, strings, Markdown already escaped): the pages only
draw it, and each function is tested on its own. Nothing here imports streamlit.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import yaml

from aop_map.filtering import (
    FilterIndex,
    Selection,
    counts_by,
    coverage_matrix,
    filter_frame,
    lifecycle_mask,
)
from aop_map.geocoding import haversine_km
from aop_map.loading import Origin
from aop_map.records import (
    Problem,
    Readiness,
    Record,
    Source,
    ended_text,
    partial_date_text,
)
from aop_map.review import is_out_of_date
from aop_map.store import (
    REPORT_TOPICS,
    ProblemReport,
    StoreError,
    Submission,
    SubmissionStore,
)
from aop_map.text import md_escape, md_link
from aop_map.vocabulary import Vocabulary

# ---------------------------------------------------------------------------------------------
# The energy map

GLOUCESTERSHIRE_VIEW = ((51.845, -2.15), 9)  # centre (lat, lon) and zoom showing the county
# A click on the map selects the record whose point is this close (km): a marker's radius at
# the zoom where single markers show, so a click beside every marker selects nothing.
CLICK_RADIUS_KM = 0.05
# url_path of the pages that show the energy map or link into it (app.py's st.Page list).
MAP_PAGES = ("map", "directory", "coverage", "provider")


def map_view(
    frame: gpd.GeoDataFrame, vocabulary: Vocabulary
) -> tuple[tuple[float, float] | None, int | None, int]:
    """Centre and zoom for the energy map, and how many places lie outside the county.

    The map fits its points, except when case studies elsewhere in the UK would shrink
    Gloucestershire to a dot: then it shows the county and they are a zoom-out away.
    """
    located = frame[frame.geometry.notna()] if len(frame) else frame
    if not len(located):
        return None, None, 0
    codes = {t.code for t in vocabulary.terms("areas_served") if t.code}
    inside = located["district_code"].isin(codes)
    outside = int((~inside).sum())
    if inside.any() and outside:
        center, zoom = GLOUCESTERSHIRE_VIEW
        return center, zoom, outside
    return None, None, outside


def record_at(clicked: dict | None, frame: gpd.GeoDataFrame) -> dict | None:
    """The row at a clicked map point ({"lat", "lng"}, within CLICK_RADIUS_KM), or None."""
    if not clicked or not len(frame) or "lat" not in clicked:
        return None
    located = frame[frame.geometry.notna()]
    if not len(located):
        return None
    distances = haversine_km(clicked["lat"], clicked["lng"], located["lat"], located["lon"])
    best = int(distances.argmin())
    if distances[best] > CLICK_RADIUS_KM:
        return None
    return located.iloc[best].to_dict()


def provider_link_template(page_url: str | None) -> str:
    """An absolute link to the provider page with an `{id}` slot, for use inside the map's
    iframe (where a relative link would resolve against the component's own address).

    ``page_url`` is the address the browser shows (st.context.url): its scheme, host and any
    base path the app is served under are kept; the current page's own segment is dropped.
    """
    match = re.match(r"^(https?://[^/?#]+)([^?#]*)", page_url or "")
    if not match:
        return "/provider?id={id}"
    path = match.group(2).rstrip("/")
    head, _, last = path.rpartition("/")
    base = head if last in MAP_PAGES else path
    return f"{match.group(1)}{base}/provider?id={{id}}"


def serving_area(
    frame: gpd.GeoDataFrame,
    vocabulary: Vocabulary,
    applied: Selection,
    district_code: str | None,
    nearby: gpd.GeoDataFrame,
    *,
    index: FilterIndex | None = None,
) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """Records serving the district of a searched place, or the whole county, that are not
    already among ``nearby``; and that district's label. (None, None) outside the county.

    Countywide services rarely publish a venue, so a 'near' search alone would miss them;
    they match every filter of ``applied`` but the distance. One row per record.
    """
    term = vocabulary.district_by_code(district_code or "")
    if term is None:  # outside Gloucestershire: no county service is known to reach it
        return None, None
    anywhere = filter_frame(
        frame, replace(applied, near="", radius_km=None), vocabulary, index=index
    )
    wanted = {term.id, "countywide"}
    serves = anywhere["areas_served"].map(lambda areas: bool(wanted.intersection(areas or ())))
    fresh = ~anywhere["record_id"].isin(set(nearby["record_id"]))
    chosen = anywhere[serves.to_numpy() & fresh.to_numpy()]
    return chosen.drop_duplicates("record_id"), term.label


# ---------------------------------------------------------------------------------------------
# Provider pages and lists

PRECISION_LABELS = {
    "exact": "Exact point",
    "postcode": "Full postcode",
    "postcode_district": "Postcode district centre",
    "place": "Town or village",
    "online": "Online geocoder",
    "none": "Not placed",
}
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


# ---------------------------------------------------------------------------------------------
# Coverage and gaps


# ---------------------------------------------------------------------------------------------
# Lifecycle and review (issue 12): ended activity, examples elsewhere, "may be out of date"

OUT_OF_DATE = "may be out of date"
ELSEWHERE_HEADING = "Examples elsewhere in the UK"


def in_view_count(index: FilterIndex, selection: Selection) -> int:
    """How many records are in view at all before any filter (the "of N" of "M of N records
    match"): ended ones only with include_past, examples elsewhere only with scope=uk."""
    return int(np.unique(index.record_codes[lifecycle_mask(index, selection)]).size)


def hidden_counts(index: FilterIndex, selection: Selection) -> tuple[int, int]:
    """How many records "include past activity" and "include examples elsewhere" would add
    to the view (each counted with the other switch as it is)."""
    shown_scope = index.elsewhere == index.elsewhere if selection.scope else ~index.elsewhere
    shown_past = index.past == index.past if selection.include_past else ~index.past
    past = np.unique(index.record_codes[index.past & shown_scope]).size
    elsewhere = np.unique(index.record_codes[index.elsewhere & shown_past]).size
    return (0 if selection.include_past else int(past), 0 if selection.scope else int(elsewhere))


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


def review_flags(frame: pd.DataFrame, today: dt.date, months: int) -> dict[str, str]:
    """Record id -> the note a list shows beside it: "ended 2019", "may be out of date", or
    "" (one entry per record of the frame)."""
    first = frame.drop_duplicates("record_id")
    notes: dict[str, str] = {}
    for row in first.itertuples(index=False):
        note = ended_text(row.status, getattr(row, "ended", None))
        if not note and is_out_of_date(row, today, months):
            note = OUT_OF_DATE
        notes[str(row.record_id)] = note
    return notes


def with_review_notes(
    table: pd.DataFrame,
    frame: pd.DataFrame,
    today: dt.date,
    months: int,
    *,
    keep_order: bool = False,
) -> pd.DataFrame:
    """A records_table with a "review" column ("ended 2019", "may be out of date" or ""),
    fresh records first (then out-of-date, then ended) unless `keep_order` (nearest first)."""
    notes = review_flags(frame, today, months)
    out = table.assign(review=[notes.get(str(i), "") for i in table["id"]])
    if keep_order or not len(out):
        return out
    rank = [2 if n.startswith("ended") else 1 if n else 0 for n in out["review"]]
    return out.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def split_elsewhere(table: pd.DataFrame, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A records_table split into Gloucestershire records and examples elsewhere in the UK."""
    if "scope" not in frame or not len(table):
        return table, table.iloc[:0]
    away = set(frame.loc[frame["scope"] == "elsewhere", "record_id"].astype(str))
    is_away = table["id"].astype(str).isin(away).to_numpy()
    return table[~is_away], table[is_away]


def gaps_table(missing: dict[str, list[str]], vocabulary: Vocabulary) -> pd.DataFrame:
    """One row per district: the conditions with no provider there, and how many.

    ``missing`` is ``filtering.gaps_by_district`` for the conditions.
    """
    rows = []
    for district, terms in missing.items():
        labels = vocabulary.labels("conditions", terms)
        rows.append(
            {
                "District": vocabulary.label("areas_served", district),
                "Conditions with no provider": ", ".join(labels) or "none: every condition covered",
                "Missing": len(terms),
            }
        )
    return pd.DataFrame(rows, columns=["District", "Conditions with no provider", "Missing"])


def district_status_table(frame: pd.DataFrame, vocabulary: Vocabulary) -> pd.DataFrame:
    """Records per district (countywide providers included), in all and per status."""
    totals = counts_by(frame, vocabulary, "district")
    per_status = coverage_matrix(frame, vocabulary, "district", "status")
    statuses = vocabulary.terms("status")
    rows = [
        {
            "District": t.label,
            "Records": int(totals.get(t.id, 0)),
            **{s.label: int(per_status.at[t.id, s.id]) for s in statuses},
        }
        for t in vocabulary.terms("areas_served")
        if t.code
    ]
    return pd.DataFrame(rows, columns=["District", "Records", *(s.label for s in statuses)])


# ---------------------------------------------------------------------------------------------
# Moderation: submitted text is the submitter's, so everything here that shows it is escaped


def submission_yaml(data: dict[str, Any] | None) -> str:
    """A submission as the YAML a moderator reads and may edit."""
    return yaml.safe_dump(data or {}, allow_unicode=True, sort_keys=False)


def submission_title(submission: Submission) -> str:
    """'<reference> · <name>', escaped (an expander label renders Markdown links too)."""
    return f"{submission.id} · {md_escape((submission.data or {}).get('name', '(no name)'))}"


def submission_received(submission: Submission) -> str:
    """When it came, and which record it would update."""
    update = submission.update_of
    return f"Received {md_escape(submission.created)}" + (
        f" · update of **{md_escape(update)}**" if update else ""
    )


def duplicates_note(duplicates: Sequence[Any]) -> str | None:
    """'Possible duplicates: Name (kind id), ...' for registration.find_duplicates, or None."""
    if not duplicates:
        return None
    return "Possible duplicates: " + ", ".join(
        f"{md_escape(d.name)} ({d.kind} {md_escape(d.id)})" for d in duplicates
    )


def changes_table(changes: Sequence[tuple[str, Any, Any]]) -> pd.DataFrame:
    """What an update changes (SubmissionStore.diff), as text: field, now, proposed."""
    return pd.DataFrame(
        [{"Field": f, "Now": str(old), "Proposed": str(new)} for f, old, new in changes],
        columns=["Field", "Now", "Proposed"],
    )


def approve_edited(
    store: SubmissionStore,
    submission: Submission,
    edited: str,
    moderator: str,
    *,
    self_declared: bool,
) -> tuple[Record | None, str | None]:
    """Approve a submission as the moderator left its YAML: (published record, None), or
    (None, why not) -- bad YAML or every problem the store found, escaped."""
    try:
        changed = yaml.safe_load(edited)
        record = store.approve(
            submission.id,
            moderator,
            data=changed if changed != submission.data else None,
            self_declared=self_declared,
        )
    except (StoreError, yaml.YAMLError) as error:
        messages = getattr(error, "problems", None) or [error]
        return None, "Not approved: " + "; ".join(md_escape(m) for m in messages)
    return record, None


# ---------------------------------------------------------------------------------------------
# Fact sheets (the project's own Markdown, reviewed like code: rendered as written)


def factsheet(text: str, fallback_title: str) -> tuple[str, str]:
    """A sheet's title (its "# " first line, else ``fallback_title``) and its body, with every
    heading one level down so the body sits under the page's own headings."""
    lines = text.splitlines()
    heading = lines[0] if lines and lines[0].startswith("# ") else ""
    title = heading.removeprefix("# ").strip() or fallback_title
    body = "\n".join(lines[1:] if heading else lines)
    return title, re.sub(r"^(#{2,5}) ", r"#\1 ", body, flags=re.MULTILINE)


# ---------------------------------------------------------------------------------------------
# About and data quality

PROBLEM_COLUMNS = ["File", "Line", "Field", "Record", "Severity", "Problem"]


def kind_status_table(records: Iterable[Record], vocabulary: Vocabulary) -> pd.DataFrame:
    """Records counted by kind (rows) and status (columns), with totals; empty without any."""
    kinds = pd.DataFrame(
        [
            {
                "Kind": vocabulary.label("kind", r.kind),
                "Status": vocabulary.label("status", r.status),
            }
            for r in records
        ],
        columns=["Kind", "Status"],
    )
    if kinds.empty:
        return kinds
    return pd.crosstab(kinds["Kind"], kinds["Status"], margins=True, margins_name="Total")


def precision_counts(frame: pd.DataFrame) -> pd.Series:
    """Locations counted by how precisely they are placed, labelled for people."""
    labels = frame["location_precision"].map(lambda p: PRECISION_LABELS.get(p, p))
    return labels.value_counts().rename("Locations").rename_axis("Placed by")


def problems_table(problems: Sequence[Problem]) -> pd.DataFrame:
    """Loading and geocoding problems, one row each."""
    return pd.DataFrame(
        [
            {
                "File": p.source,
                "Line": p.line,
                "Field": p.field,
                "Record": p.record_id,
                "Severity": p.severity,
                "Problem": p.message,
            }
            for p in problems
        ],
        columns=PROBLEM_COLUMNS,
    )


def unlocated_table(
    records: Sequence[Record],
    problems: Sequence[Problem],
    origins: dict[str, Origin],
    vocabulary: Vocabulary,
) -> pd.DataFrame:
    """Records with no point on the map: where each is defined, what it serves, and why."""
    reasons: dict[str, list[str]] = {}
    for problem in problems:
        if problem.record_id and (problem.field or "").startswith("locations"):
            reasons.setdefault(problem.record_id, []).append(problem.message)
    rows = []
    for r in records:
        origin = origins.get(r.id)
        why = "; ".join(reasons.get(r.id, [])) or (
            "its location could not be found"
            if r.locations
            else "no location given: listed by the areas it serves"
        )
        rows.append(
            {
                "Record": r.name,
                "Id": r.id,
                "File": origin.source if origin else "",
                "Line": origin.line if origin else None,
                "Areas served": ", ".join(vocabulary.labels("areas_served", r.areas_served)),
                "Why": why,
            }
        )
    return pd.DataFrame(rows, columns=["Record", "Id", "File", "Line", "Areas served", "Why"])


# ---------------------------------------------------------------------------------------------
# The selection as a list: the Directory's rows and order, shared by the map's text twin


def selection_tables(
    frame: pd.DataFrame,
    serving: pd.DataFrame | None,
    vocabulary: Vocabulary,
    *,
    with_distance: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Directory's two tables in its order: the selection (nearest first with 'near'),
    then the providers serving the searched area without a venue in range (empty without).

    The map's list and the Directory both call this, so they always agree.
    """
    from aop_map.filtering import records_table

    found = records_table(frame, vocabulary, with_distance=with_distance)
    if serving is None or not len(serving):
        return found, found.iloc[:0]
    return found, records_table(serving, vocabulary)


def _cell(row: Any, name: str) -> str:
    value = row.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def list_items(table: pd.DataFrame) -> list[dict[str, str]]:
    """Per row of a records_table: its id, name, what (art forms, else conditions, else kind)
    and where (distance, place, district, else the areas served), as plain text."""
    items = []
    for row in table.to_dict("records"):
        what = next(
            (_cell(row, c) for c in ("art_forms", "conditions", "kind") if _cell(row, c)), ""
        )
        place, district = _cell(row, "place"), _cell(row, "district")
        # "Cheltenham General ICU, Cheltenham" already says the district.
        where = [place] if district and district in place else [place, district]
        where = [p for p in where if p]
        distance = row.get("distance_km")
        if isinstance(distance, float) and distance == distance:
            where.insert(0, f"{distance:.1f} km")
        if not where and _cell(row, "areas_served"):
            where = ["serves " + _cell(row, "areas_served")]
        items.append(
            {
                "id": str(row["id"]),
                "name": _cell(row, "name"),
                "what": what,
                "where": ", ".join(where) or "no place given",
            }
        )
    return items


def list_html(items: Sequence[dict[str, str]], link_prefix: str = "provider?id=") -> str:
    """An ordered list of records (name linking to its page, what, where): every text is
    HTML-escaped and the id URL-encoded, so a record's text is only ever text."""
    from html import escape
    from urllib.parse import quote

    rows = "".join(
        f'<li><a href="{escape(link_prefix + quote(item["id"], safe=""))}">'
        f"{escape(item['name'])}</a>"
        f'<span class="aop-what">{escape(item["what"])}</span>'
        f'<span class="aop-where">{escape(item["where"])}</span></li>'
        for item in items
    )
    return f'<ol class="aop-list">{rows}</ol>'


def unknown_path(page_url: str | None, base_path: str, known: Iterable[str]) -> str | None:
    """The path asked for when it is no page of the app (Streamlit then runs the default page
    and says nothing in the script), else None.

    ``page_url`` is st.context.url, from which Streamlit has already trimmed a known page's
    path; ``base_path`` is server.baseUrlPath; ``known`` the pages' url_paths.
    """
    match = re.match(r"^https?://[^/?#]+([^?#]*)", page_url or "")
    if not match:
        return None
    path = match.group(1).strip("/")
    base = base_path.strip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :].strip("/")
    return None if path in {"", *known} else path


# ---------------------------------------------------------------------------------------------
# Updates and problem reports on the moderation page


def update_heading(submission: Submission, changed: int) -> str:
    """What an update submission proposes, as escaped Markdown."""
    target = md_escape(submission.update_of or "")
    if not changed:
        return f"**An update to the published record {target}: it changes nothing.**"
    return (
        f"**An update to the published record {target}:** {changed} field(s) change, "
        "field by field below (approving publishes the proposed values)."
    )


def report_title(report: ProblemReport, record_name: str | None) -> str:
    """An expander label for one problem report: reference, record, topic (escaped)."""
    name = record_name if record_name is not None else f"{report.record_id} (no longer listed)"
    topic = REPORT_TOPICS.get(report.topic, report.topic)
    return f"{report.id} · {md_escape(name)} · {md_escape(topic)}"


def reports_about(reports: Sequence[ProblemReport], record_id: str | None) -> str | None:
    """A note that open problem reports concern the record a submission changes, or None."""
    ids = [r.id for r in reports if record_id and r.record_id == record_id]
    if not ids:
        return None
    return (
        f"{len(ids)} open problem report(s) about this record ({', '.join(ids)}): see "
        "Problem reports below."
    )


def report_details(report: ProblemReport) -> str:
    """When a report came, the reply address (or none) and, once resolved, who and how."""
    lines = [f"Received {report.created:%d %b %Y %H:%M} UTC."]
    lines.append(
        f"Reply to: {md_escape(report.email)}" if report.email else "No reply address given."
    )
    if report.status == "resolved":
        when = f"{report.resolved_at:%d %b %Y}" if report.resolved_at else "?"
        lines.append(
            f"Resolved by {md_escape(report.resolved_by)} on {when}: {md_escape(report.resolution)}"
        )
    return "\n\n".join(lines)


def directory_rows(
    frame: pd.DataFrame,
    serving: pd.DataFrame | None,
    vocabulary: Vocabulary,
    *,
    with_distance: bool,
    today: dt.date,
    months: int,
    keep_order: bool,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The Directory's three tables, each in its order: the Gloucestershire records (fresh,
    then out of date, then ended, unless `keep_order`), the examples elsewhere in the UK, and
    the providers serving the searched area. The map's list shows exactly these."""
    found, area = selection_tables(frame, serving, vocabulary, with_distance=with_distance)
    found = with_review_notes(found, frame, today, months, keep_order=keep_order)
    found, elsewhere = split_elsewhere(found, frame)
    return found, elsewhere, area
