"""The shortlist in session state and the URL (`list=a,b`), its buttons, and the activity
sheet; parsing and ordering the list is aop_map.shortlist's.
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from aop_map.dataset import Dataset
from aop_map.text import md_escape
from aop_map.ui.layout import replace_query_params

SHORTLIST_KEY = "_shortlist"
# Hides every control when the page is printed, and keeps each activity on one sheet of paper.
# Fixed CSS, no user text. Streamlit scrolls inside its own containers: printing needs them to
# grow to their content, or only the first screen prints.
PRINT_CSS = """<style>
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stDecoration"], [data-testid="stSidebarCollapsedControl"],
  [data-testid="stExpandSidebarButton"], [data-testid="stStatusWidget"],
  [data-testid="stBottom"], .st-key-shortlist_controls, .stButton, .stDownloadButton,
  .stLinkButton, [data-testid="stPageLink"], [data-testid="stBaseButton-secondary"], button,
  [data-testid="stAlert"] { display: none !important; }
  html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"],
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {
    overflow: visible !important; height: auto !important; position: static !important; }
  [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: none !important; }
  [class*="st-key-sheet_entry_"] { break-inside: avoid; page-break-inside: avoid; }
  * { color: #000 !important; }
}
</style>"""


def restore_shortlist(dataset: Dataset) -> None:
    """Run every run in app.py, before any page writes its URL: a `list` parameter the session
    has not seen yet (a shared link, Back) replaces the shortlist; unknown ids are noted."""
    from aop_map import shortlist as sl

    given = st.query_params.get_all(sl.PARAM)
    if not given or given == st.session_state.get("_shortlist_synced"):
        return
    ids, notes = sl.parse_param(given, lambda rid: dataset.record(rid) is not None)
    st.session_state[SHORTLIST_KEY] = ids
    st.session_state["_shortlist_notes"] = notes
    st.session_state["_shortlist_synced"] = given


def shortlist_ids() -> tuple[str, ...]:
    """The record ids on the shortlist, in the order they were added."""
    return tuple(st.session_state.get(SHORTLIST_KEY, ()))


def shortlist_params() -> dict[str, str]:
    """The shortlist as URL parameters ({} when empty), noted as what the URL now holds:
    pages that write their URL (the filters, the shortlist page) add it."""
    from aop_map import shortlist as sl

    value = sl.format_param(shortlist_ids())
    st.session_state["_shortlist_synced"] = [value] if value else []
    return {sl.PARAM: value} if value else {}


def write_shortlist_url() -> None:
    """Make the URL hold the shortlist (the shortlist page: its address is the share link)."""
    replace_query_params(shortlist_params())


def _shortlist_toggle(record_id: str) -> None:
    from aop_map import shortlist as sl

    ids = shortlist_ids()
    change = sl.remove if record_id in ids else sl.add
    st.session_state[SHORTLIST_KEY] = change(ids, record_id)


def shortlist_button(record_id: str, *, key: str | None = None, link: bool = True) -> None:
    """'Add to shortlist' (or 'Remove from shortlist') for one record, and a link to the
    shortlist page while it holds anything."""
    listed = record_id in shortlist_ids()
    st.button(
        "Remove from shortlist" if listed else "Add to shortlist",
        key=key or f"shortlist_toggle_{record_id}",
        on_click=_shortlist_toggle,
        args=(record_id,),
        icon=":material/bookmark_remove:" if listed else ":material/bookmark_add:",
    )
    if link:
        shortlist_link()


def shortlist_link() -> None:
    """A link to the shortlist page saying how many it holds (nothing when empty)."""
    count = len(shortlist_ids())
    if count:
        st.page_link(
            "pages/shortlist.py", label=f"Open the shortlist ({count})", icon=":material/bookmarks:"
        )


def _shortlist_add_chosen(widget_key: str) -> None:
    from aop_map import shortlist as sl

    ids = shortlist_ids()
    for record_id in st.session_state.get(widget_key) or ():
        ids = sl.add(ids, record_id)
    st.session_state[SHORTLIST_KEY] = ids
    st.session_state[widget_key] = []


def shortlist_adder(table: Any, key: str = "shortlist_pick") -> None:
    """Row actions for a records_table(): choose rows by name, add them to the shortlist."""
    names = dict(zip(table["id"], table["name"], strict=False))
    listed = set(shortlist_ids())
    choices = [rid for rid in names if rid not in listed]
    with st.container(key=f"{key}_box"):
        pick, add = st.columns([4, 1], vertical_alignment="bottom")
        pick.multiselect(
            "Add to shortlist",
            choices,
            key=key,
            format_func=names.get,
            placeholder="Choose activities to print or share",
        )
        add.button(
            "Add to shortlist",
            key=f"{key}_add",
            on_click=_shortlist_add_chosen,
            args=(key,),
            icon=":material/bookmark_add:",
            width="stretch",
        )
        shortlist_link()


@st.cache_resource(show_spinner=False, max_entries=1)
def _sheet_outlines() -> Any:
    from aop_map import activity_sheet

    outlines = activity_sheet.load_outlines()
    return outlines, activity_sheet.sketch(outlines)


def sheet_outlines() -> tuple[Any, Any]:
    """The districts for the sheet's locator maps (and their sketch); empty if unreadable."""
    try:
        return _sheet_outlines()
    except Exception:  # the maps are context: the sheet works without them
        logging.getLogger(__name__).exception("cannot read the district boundaries")
        return {}, []


@st.cache_data(show_spinner=False, max_entries=16)
def sheet_pdf(entries: tuple[Any, ...], link: str, made: str) -> bytes:
    """The activity sheet PDF of some entries (cached: a sheet is built once per list)."""
    import datetime as dt

    from aop_map import activity_sheet

    return activity_sheet.build_pdf(
        entries, outlines=sheet_outlines()[0], link=link, made=dt.date.fromisoformat(made)
    )


def show_sheet_entry(entry: Any, number: int) -> None:
    """One activity of the sheet: its facts beside a small locator map; a remove button."""
    from aop_map import activity_sheet

    with st.container(key=f"sheet_entry_{number}", border=True):
        text, picture = st.columns([4, 1])
        text.subheader(md_escape(entry.title), anchor=False)
        text.markdown(
            "\n\n".join(f"**{label}:** {md_escape(value)}" for label, value in entry.rows())
        )
        outlines, drawn = sheet_outlines()
        if outlines:
            picture.image(
                activity_sheet.locator_svg(entry, outlines, drawn),
                caption="Where: dot = venue, grey = districts served",
                width="stretch",
            )
        with text:
            shortlist_button(entry.record_id, key=f"shortlist_remove_{number}", link=False)
