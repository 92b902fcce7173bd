"""The selection as lists: Directory tables, review notes, list HTML, counts; mutates nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from aop_map.filtering import FilterIndex, Selection, lifecycle_mask
from aop_map.records import ended_text
from aop_map.review import is_out_of_date
from aop_map.views.provider import OUT_OF_DATE
from aop_map.vocabulary import Vocabulary

# The heading over the examples elsewhere in the UK, apart from Gloucestershire's records.
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
