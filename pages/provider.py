"""Provider page (?id=...): everything public about one record; a picker without an id."""

import streamlit as st

from aop_map import ui
from aop_map.store import SubmissionStore

dataset, index = ui.get_dataset()
record_id = st.query_params.get("id", "").strip()
record = dataset.record(record_id) if record_id else None
ui.put_record_in_url(record_id)  # one record, not a selection; after a link, its id

if record is None:
    st.title("Provider pages" if not record_id else "Provider not found")
    if record_id:
        ui.set_page_title("Provider not found")
        st.error(
            f"There is no provider or activity with the id “{ui.md_escape(record_id)}”. "
            "It may have been withdrawn or renamed.",
            icon=":material/error:",
        )
    else:
        st.markdown(
            "Every provider, programme and venue has a page here. Choose one, or find "
            "them on the map or in the directory."
        )
    names = {r.id: r.name for r in sorted(dataset.records, key=lambda r: r.name.casefold())}
    choice = st.selectbox(
        "Provider or activity",
        list(names),
        index=None,
        format_func=names.get,
        placeholder="Type to search by name",
    )
    if choice:
        ui.provider_link(f"Open {names[choice]}", choice)
    st.page_link("pages/directory.py", label="Back to the directory", icon=":material/arrow_back:")
    st.page_link("pages/map.py", label="Back to the map", icon=":material/map:")
    st.stop()

ui.set_page_title(record.name)
ui.show_lifecycle_banners(record)  # ended, an example elsewhere, or "may be out of date"
rows = dataset.frame[dataset.frame["record_id"] == record.id]
ui.show_provider(record, rows, dataset)
ui.shortlist_button(record.id)
st.divider()
ui.show_report_form(SubmissionStore(), record)
st.caption(
    "Is this your listing? Update or withdraw it on *Register your activity* with "
    "your reference and edit code."
)
