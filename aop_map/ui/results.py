"""The selection as text: the Directory's grid and the plain record lists, in the
Directory's order; filtering is filters', what a row says is views'.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from aop_map import fields, views
from aop_map.filtering import (
    RELEVANCE,
    WHERE_COLUMNS,
    table_columns,
)
from aop_map.ui.filters import Filtered
from aop_map.vocabulary import Vocabulary

# The derived where-columns the directory's grid shows, and their headings.
DIRECTORY_WHERE = {"place": "Where", "district": "District"}


def directory_columns() -> tuple[str, ...]:
    """The directory grid's columns: name, page link, distance, then the registry's
    directory fields and the place and district, in records_table's order."""
    shown = {spec.name for spec in fields.directory_fields()} | set(DIRECTORY_WHERE)
    rest = [c for c in table_columns() if c in shown and c != "name"]
    return ("name", "page", "distance_km", RELEVANCE, "review", *rest)


def _column_config(name: str) -> Any:
    """How the grid shows one column: a heading from the registry, links for addresses."""
    if name in DIRECTORY_WHERE or name in WHERE_COLUMNS:
        return DIRECTORY_WHERE.get(name, name)
    spec = fields.by_name(name)
    if spec.datatype == "url":
        return st.column_config.LinkColumn(spec.label)
    return spec.label


def show_records_table(table: Any, key: str | None = None) -> None:
    """A records_table() as a sortable grid with labelled columns and provider-page links."""
    shown = table.assign(page=[f"provider?id={rid}" for rid in table["id"]])
    columns = [c for c in directory_columns() if c in shown]
    config: dict[str, Any] = {
        c: _column_config(c)
        for c in columns
        if c not in ("name", "page", "distance_km", "review", RELEVANCE)
    }
    config.update(
        {
            "page": st.column_config.LinkColumn(
                "Page", display_text="Open", width="small", help="The provider's page"
            ),
            "name": st.column_config.TextColumn(fields.by_name("name").label, width="large"),
            "distance_km": st.column_config.NumberColumn("Distance (km)", format="%.1f"),
            RELEVANCE: st.column_config.NumberColumn(
                "Relevance",
                format="%.1f",
                width="small",
                help="How well the record matches the search: name, places and topics count "
                "above the description, a typo half; best first",
            ),
            "review": st.column_config.TextColumn(
                "Note",
                help="Ended activity, or a record not verified with the provider within "
                "the review period: it may be out of date",
            ),
        }
    )
    st.dataframe(shown[columns], hide_index=True, width="stretch", key=key, column_config=config)


def directory_rows(filtered: Filtered, vocabulary: Vocabulary) -> tuple[Any, Any, Any]:
    """The Directory's tables in its order (views.directory_rows): the Directory shows them,
    and the map lists them under itself, so the map and its text twin always agree."""
    import datetime as dt

    from aop_map.review import review_months

    keep_order = bool(filtered.origin or filtered.search_selection.q)  # nearest, best first
    return views.directory_rows(
        filtered.frame,
        filtered.serving,
        vocabulary,
        with_distance=filtered.origin is not None,
        today=dt.date.today(),
        months=review_months(),
        keep_order=keep_order,
    )


# At most this many records in a page's list: every record on the bundled data; with tens of
# thousands the Directory (a grid) is the way through them all.
LIST_LIMIT = 500


def show_record_list(table: Any, *, limit: int = LIST_LIMIT) -> None:
    """A records_table() as a plain list: name (a link to its page), what, where."""
    items = views.list_items(table.head(limit))
    st.html(views.list_html(items))
    if len(table) > limit:
        st.caption(f"The first {limit} of {len(table)}: the Directory lists them all.")


def show_directory_part(table: Any, name: str, heading: str, caption: str) -> None:
    """A further part of the Directory under its heading: its rows as the sortable grid on
    wide screens and as the plain list on a phone (containers keyed for the layout CSS)."""
    st.subheader(heading)
    st.caption(caption)
    with st.container(key=f"directory_grid_{name}"):
        show_records_table(table, key=f"directory_{name}")
    with st.container(key=f"directory_list_{name}"):
        show_record_list(table)
