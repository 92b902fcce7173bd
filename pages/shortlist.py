"""Shortlist (?list=id1,id2): the chosen activities as a printable sheet, a PDF and a link."""

import datetime as dt

import streamlit as st

from aop_map import shortlist, ui

dataset, index = ui.get_dataset()
ui.write_shortlist_url()  # the address bar is the share link
ids = ui.shortlist_ids()
st.html(ui.PRINT_CSS)

st.title("Shortlist")
for note in st.session_state.get("_shortlist_notes", ()):
    st.info(ui.md_escape(note), icon=":material/info:")
if not ids:
    st.markdown(
        "Nothing is on the shortlist yet. Add activities with **Add to shortlist** in "
        "the Directory, under the map or on a provider's page; then print them as an "
        "activity sheet, download a PDF, or share the link."
    )
    st.page_link("pages/directory.py", label="Go to the directory", icon=":material/list:")
    st.stop()

entries = shortlist.sheet_entries(ids, dataset.record, dataset.frame, dataset.vocabulary)
link = shortlist.share_link(st.context.url or "", ids)
with st.container(key="shortlist_controls"):
    st.markdown(
        f"**{len(entries)}** chosen. This page's address holds the list: bookmark it, "
        "or share it. Print this page (Ctrl+P or ⌘P) for an activity sheet without "
        "the controls."
    )
    st.code(link, language=None, wrap_lines=True)
    share, pdf = st.columns(2)
    share.link_button(
        "Email the link",
        shortlist.mailto(link, len(entries)),
        icon=":material/mail:",
        width="stretch",
    )
    pdf.download_button(
        "Download the activity sheet (PDF)",
        ui.sheet_pdf(tuple(entries), link, dt.date.today().isoformat()),
        file_name="activity-sheet.pdf",
        mime="application/pdf",
        icon=":material/picture_as_pdf:",
        width="stretch",
    )

st.caption(
    f"Arts and health activities in Gloucestershire, printed {dt.date.today():%d %B %Y}. "
    "Details change: check with the provider or your link worker before you go."
)
for number, entry in enumerate(entries):
    ui.show_sheet_entry(entry, number)
