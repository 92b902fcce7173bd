"""Directory: the current selection as a sortable table, with downloads (the map's text twin)."""

import pandas as pd
import streamlit as st

from aop_map import ui
from aop_map.filtering import count_records, records_table, to_geojson
from aop_map.text import table_to_csv

dataset, index = ui.get_dataset()
filtered = ui.apply_filters(dataset, index)
vocabulary = dataset.vocabulary

st.title("Directory of providers and activities")
ui.show_messages(filtered)
records = count_records(filtered.frame)
st.markdown(f"**{records}** of {count_records(dataset.frame)} records match: "
            f"{ui.describe_selection(filtered.search_selection, vocabulary)}."
            + (" Nearest first." if filtered.origin else ""))

serving = filtered.serving if filtered.serving is not None else filtered.frame.iloc[:0]
if records == 0 and not len(serving):
    ui.show_empty("clear_filters_empty_directory")
    st.stop()

table = records_table(filtered.frame, vocabulary, with_distance=filtered.origin is not None)
if records:
    ui.show_records_table(table)
    ui.shortlist_adder(table)
    st.caption("Click a column heading to sort. Contact details appear only when the "
               "provider has agreed to publish them; the provider page has the rest.")
else:
    st.info(f"Nothing matching has a venue within {filtered.search_selection.radius_km:g} km, "
            "but the providers below serve the area.", icon=":material/info:")
if len(serving):
    st.subheader(f"Also serving {ui.md_escape(filtered.area)}")
    st.caption("These match the other filters and work across the district or the whole "
               "county, but publish no venue within the distance chosen.")
    ui.show_records_table(records_table(serving, vocabulary), key="directory_serving")
    table = pd.concat([table, records_table(serving, vocabulary)], ignore_index=True)
exported = pd.concat([filtered.frame, serving]) if len(serving) else filtered.frame

left, right = st.columns(2)
left.download_button("Download this selection as CSV", table_to_csv(table),
                     file_name="aop-map-selection.csv", mime="text/csv", width="stretch",
                     icon=":material/download:")
right.download_button("Download this selection as GeoJSON",
                      to_geojson(exported, vocabulary),
                      file_name="aop-map-selection.geojson", mime="application/geo+json",
                      width="stretch", icon=":material/download:")
