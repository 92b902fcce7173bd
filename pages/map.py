"""Energy map (home): where arts and health activity is, established and emerging."""

import streamlit as st
from streamlit_folium import st_folium

from aop_map import ui
from aop_map.filtering import count_records
from aop_map.mapping import build_map

dataset, index = ui.get_dataset()
notes = ui.init_filters_from_url(dataset)
filtered = ui.apply_filters(dataset, index)
ui.sync_url(filtered.selection)

st.title("Energy map of arts and health activity")
st.caption("Arts on prescription and creative health in Gloucestershire: who does what, "
           "where, for whom. Use the filters on the left; the Directory lists the same "
           "selection as a table.")
ui.show_messages(notes, filtered)

frame = filtered.frame
records = count_records(frame)
located = int(frame.geometry.notna().sum()) if len(frame) else 0
established = frame.loc[frame["status"] == "established", "record_id"].nunique()
cols = st.columns(4)
cols[0].metric("Matching records", records, help="Providers, programmes and venues")
cols[1].metric("Places on the map", located)
cols[2].metric("Established", established)
cols[3].metric("Emerging", records - established)

if records == 0:
    st.warning("Nothing matches these filters. Try fewer filters or a larger distance.")
    st.button("Clear filters", on_click=ui.clear_filters, key="clear_filters_empty")

search_area = None
if filtered.origin and filtered.selection.radius_km:
    search_area = (*filtered.origin, filtered.selection.radius_km)
m = build_map(frame, dataset.vocabulary, districts=ui.get_district_outlines(),
              tiles=ui.tiles_enabled(), link_template=ui.provider_link_template(),
              search_area=search_area)
# Only a click reruns the script: panning and zooming stay in the browser.
clicked = st_folium(m, key="energy_map", height=560, use_container_width=True,
                    returned_objects=["last_object_clicked"])
st.caption("Background map © OpenStreetMap contributors, when online. Without a network "
           "the map shows no background but the markers, clusters, energy layer and legend "
           "still work.")

chosen = ui.record_at((clicked or {}).get("last_object_clicked"), frame)
if chosen is not None:
    st.page_link("pages/provider.py", label=f"Open the page of {chosen['name']}",
                 icon="➡️", query_params={"id": chosen["record_id"]})

if filtered.origin is not None and records:
    st.subheader(f"Nearest to {filtered.selection.near}")
    ui.show_nearest(frame, dataset.vocabulary)
