"""Directory: the current selection as a sortable table, with downloads (the map's text twin)."""

import pandas as pd
import streamlit as st

from aop_map import ui, views
from aop_map.filtering import count_records, to_geojson
from aop_map.text import table_to_csv

dataset, index = ui.get_dataset()
filtered = ui.apply_filters(dataset, index)
vocabulary = dataset.vocabulary

st.title("Directory of providers and activities")
ui.show_messages(filtered)
records = count_records(filtered.frame)
in_view = views.in_view_count(index, filtered.search_selection)  # ended/elsewhere if asked
st.markdown(
    f"**{records}** of {in_view} records match: "
    f"{ui.describe_selection(filtered.search_selection, vocabulary)}."
    + (" Nearest first." if filtered.origin else "")
)

serving = filtered.serving if filtered.serving is not None else filtered.frame.iloc[:0]
if records == 0 and not len(serving):
    ui.show_empty("clear_filters_empty_directory")
    st.stop()

# Ended and out-of-date records after fresh ones (unless nearest or most relevant first), and
# examples elsewhere in the UK (scope=uk) under their own heading; the map lists the same.
table, elsewhere, area = ui.directory_rows(filtered, vocabulary)
if records:
    # The sortable grid on wide screens; on a phone (too narrow for its columns) the same rows
    # as a list: name, what, where and the page link (layout CSS in aop_map/ui/layout.py).
    with st.container(key="directory_grid"):
        ui.show_records_table(table)
        st.caption(
            "Click a column heading to sort. Contact details appear only when the "
            "provider has agreed to publish them; the provider page has the rest."
        )
    with st.container(key="directory_list"):
        ui.show_record_list(table)
    ui.shortlist_adder(table)
else:
    st.info(
        f"0 within {filtered.search_selection.radius_km:g} km, {len(area)} serving "
        f"{ui.md_escape(filtered.area)}: listed below.",
        icon=":material/info:",
    )
if len(elsewhere):
    ui.show_directory_part(
        elsewhere,
        "elsewhere",
        views.ELSEWHERE_HEADING,
        "Case studies outside Gloucestershire, shown because examples elsewhere are "
        "included. They are not provision in the county.",
    )
    table = pd.concat([table, elsewhere], ignore_index=True)
if len(area):
    ui.show_directory_part(
        area,
        "serving",
        f"Also serving {ui.md_escape(filtered.area)}",
        "These match the other filters and work across the district or the whole "
        "county, but publish no venue within the distance chosen.",
    )
    table = pd.concat([table, area], ignore_index=True)
exported = pd.concat([filtered.frame, serving]) if len(serving) else filtered.frame

left, right = st.columns(2)
left.download_button(
    "Download this selection as CSV",
    table_to_csv(table),
    file_name="aop-map-selection.csv",
    mime="text/csv",
    width="stretch",
    icon=":material/download:",
)
right.download_button(
    "Download this selection as GeoJSON",
    to_geojson(exported, vocabulary),
    file_name="aop-map-selection.geojson",
    mime="application/geo+json",
    width="stretch",
    icon=":material/download:",
)
