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
st.caption(
    "Arts on prescription and creative health in Gloucestershire: who does what, "
    "where, for whom. Choose filters in the sidebar (on a phone, its button at the top "
    "left); every record on the map is listed under it."
)
ui.show_messages(filtered)

records = count_records(frame)
located = int(frame.geometry.notna().sum()) if len(frame) else 0
established, emerging = (
    frame.loc[frame["status"] == status, "record_id"].nunique()
    for status in ("established", "emerging")
)
serving = filtered.serving if filtered.serving is not None else frame.iloc[:0]
radius = filtered.search_selection.radius_km
cols = st.container(key="map_metrics").columns(4)
if filtered.origin is not None and radius:
    # A near search: what is within the distance, and what serves the area without a venue
    # there, counted apart (both are listed under the map).
    cols[0].metric(f"Within {radius:g} km", records, help="Records with a venue in range")
    cols[1].metric(
        "Serving the area",
        count_records(serving),
        help="Matching providers working across the district or county",
    )
else:
    cols[0].metric("Matching records", records, help="Providers, programmes and venues")
    cols[1].metric(
        "Places on the map", located, help="Records without a place are listed under the map"
    )
cols[2].metric("Established", established)
cols[3].metric("Emerging", emerging)
if records == 0 and len(serving):
    st.info(
        f"0 within {radius:g} km, {count_records(serving)} serving "
        f"{ui.md_escape(filtered.area)}: see the list below the map.",
        icon=":material/info:",
    )
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
    lambda: build_map(
        frame,
        vocabulary,
        districts=ui.get_district_outlines(dataset),
        places=ui.get_places(),
        tiles=tiles,
        link_template=link_template,
        search_area=search_area,
        center=center,
        zoom=zoom,
    ),
    memo=(dataset, (filtered.search_selection, filtered.origin, tiles, link_template)),
    key="energy_map",
    height=560,
    use_container_width=True,
    returned_objects=["last_object_clicked"],
)
ui.show_tiles_note()
if center is not None and elsewhere:
    st.caption(
        f"{elsewhere} matching place(s) outside Gloucestershire (case studies "
        "elsewhere in the UK) are off the edge of the map: zoom out to see them."
    )

chosen = views.record_at((clicked or {}).get("last_object_clicked"), frame)
if chosen is not None:
    st.page_link(
        "pages/provider.py",
        label=f"Open the page of {ui.md_escape(chosen['name'])}",
        icon=":material/arrow_forward:",
        query_params={"id": chosen["record_id"]},
    )
    ui.shortlist_button(chosen["record_id"], key="shortlist_map_chosen")

# The map's text twin: every matching record, in the Directory's order, with its page.
found, away, area = ui.directory_rows(filtered, vocabulary)
if len(found):
    st.subheader(
        f"Nearest to {ui.md_escape(filtered.selection.near)}"
        if filtered.origin
        else "The selection as a list",
        anchor=False,
    )
    ui.shortlist_adder(found, key="shortlist_pick_map")
    ui.show_record_list(found)
if len(away):
    st.subheader(views.ELSEWHERE_HEADING, anchor=False)
    ui.show_record_list(away)
if len(area):
    st.subheader(f"Also serving {ui.md_escape(filtered.area)}", anchor=False)
    st.caption(
        f"These match your other filters and work across {ui.md_escape(filtered.area)} "
        f"or the whole county, but publish no venue within {radius:g} km of "
        f"{ui.md_escape(filtered.selection.near)}."
    )
    ui.show_record_list(area)
