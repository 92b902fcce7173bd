"""Energy map (home): where arts and health activity is, established and emerging."""

import streamlit as st

from aop_map import ui, views
from aop_map.filtering import count_records
from aop_map.mapping import build_map

dataset, index = ui.get_dataset()
filtered = ui.apply_filters(dataset, index)
frame = filtered.frame
vocabulary = dataset.vocabulary

st.title("Energy map of arts and health activity")
st.caption("Arts on prescription and creative health in Gloucestershire: who does what, "
           "where, for whom. Choose filters on the left; the Directory lists the same "
           "selection as a table.")
ui.show_messages(filtered)

records = count_records(frame)
located = int(frame.geometry.notna().sum()) if len(frame) else 0
established = frame.loc[frame["status"] == "established", "record_id"].nunique()
cols = st.columns(4)
cols[0].metric("Matching records", records, help="Providers, programmes and venues")
cols[1].metric("Places on the map", located,
               help="Records without a place are listed in the Directory")
cols[2].metric("Established", established)
cols[3].metric("Emerging", records - established)
serving = filtered.serving if filtered.serving is not None else frame.iloc[:0]
if records == 0 and len(serving):
    st.info(f"Nothing matching has a venue within {filtered.search_selection.radius_km:g} km, "
            f"but {len(serving)} provider(s) serve {ui.md_escape(filtered.area)}: see below "
            "the map.", icon=":material/info:")
elif records == 0:
    ui.show_empty("clear_filters_empty_map")

search_area = None
center, zoom, elsewhere = views.map_view(frame, vocabulary)
if filtered.origin and filtered.search_selection.radius_km:
    search_area = (*filtered.origin, filtered.search_selection.radius_km)
    center = zoom = None  # the map fits the search circle
tiles, link_template = ui.tiles_enabled(), views.provider_link_template(st.context.url)
# Rendered once per selection for every session (most visitors open the unfiltered map).
# Only a click on a marker reruns the script: panning and zooming stay in the browser.
clicked = ui.show_map(
    lambda: build_map(frame, vocabulary, districts=ui.get_district_outlines(dataset),
                      places=ui.get_places(), tiles=tiles, link_template=link_template,
                      search_area=search_area, center=center, zoom=zoom),
    memo=(dataset, (filtered.search_selection, filtered.origin, tiles, link_template)),
    key="energy_map", height=560, use_container_width=True,
    returned_objects=["last_object_clicked"])
ui.show_tiles_note()
if center is not None and elsewhere:
    st.caption(f"{elsewhere} matching place(s) outside Gloucestershire (case studies "
               "elsewhere in the UK) are off the edge of the map: zoom out to see them.")

chosen = views.record_at((clicked or {}).get("last_object_clicked"), frame)
if chosen is not None:
    st.page_link("pages/provider.py", label=f"Open the page of {ui.md_escape(chosen['name'])}",
                 icon=":material/arrow_forward:", query_params={"id": chosen["record_id"]})
    ui.shortlist_button(chosen["record_id"], key="shortlist_map_chosen")

if filtered.origin is not None and records:
    st.subheader(f"Nearest to {ui.md_escape(filtered.selection.near)}")
    ui.show_nearest(frame, vocabulary)
ui.show_serving(filtered, vocabulary)
