"""Energy map (home): where arts and health activity is, established and emerging."""

import streamlit as st

from aop_map import ui, views

dataset, index = ui.get_dataset()
filtered = ui.apply_filters(dataset, index)

st.title("Energy map of arts and health activity")
st.caption(
    "Arts on prescription and creative health in Gloucestershire: who does what, "
    "where, for whom. Choose filters in the sidebar (on a phone, its button at the top "
    "left); every record on the map is listed under it."
)
ui.show_messages(filtered)
ui.show_map_metrics(filtered)
clicked = ui.show_energy_map(dataset, filtered)

chosen = views.record_at((clicked or {}).get("last_object_clicked"), filtered.frame)
if chosen is not None:
    st.page_link(
        "pages/provider.py",
        label=f"Open the page of {ui.md_escape(chosen['name'])}",
        icon=":material/arrow_forward:",
        query_params={"id": chosen["record_id"]},
    )
    ui.shortlist_button(chosen["record_id"], key="shortlist_map_chosen")

# The map's text twin: every matching record, in the Directory's order, with its page.
ui.show_selection_lists(filtered, dataset.vocabulary)
