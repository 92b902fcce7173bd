"""The energy map page's parts: its counts, the map itself and the map's text twin (the
selection as lists); what the map shows is aop_map.mapping's, each row's words views'.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from aop_map import mapping, views
from aop_map.dataset import Dataset
from aop_map.filtering import count_records
from aop_map.text import md_escape
from aop_map.ui.data import get_district_outlines, get_places
from aop_map.ui.filters import Filtered, show_empty
from aop_map.ui.maps import show_map, show_tiles_note, tiles_enabled
from aop_map.ui.results import directory_rows, show_record_list
from aop_map.ui.shortlist import shortlist_adder
from aop_map.vocabulary import Vocabulary


def show_map_metrics(filtered: Filtered) -> None:
    """The counts over the map: matching (or within the distance, and serving the area),
    placed, established and emerging; what an empty selection says."""
    frame = filtered.frame
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
            f"{md_escape(filtered.area)}: see the list below the map.",
            icon=":material/info:",
        )
    elif records == 0:
        show_empty("clear_filters_empty_map")


def show_energy_map(dataset: Dataset, filtered: Filtered) -> Any:
    """The energy map of the selection, with its tiles note; st_folium's value (the clicks).

    Rendered once per selection for every session (most visitors open the unfiltered map).
    Only a click on a marker reruns the script: panning and zooming stay in the browser.
    """
    frame, vocabulary = filtered.frame, dataset.vocabulary
    search_area = None
    center, zoom, elsewhere = views.map_view(frame, vocabulary)
    if filtered.origin and filtered.search_selection.radius_km:
        search_area = (*filtered.origin, filtered.search_selection.radius_km)
        center = zoom = None  # the map fits the search circle
    tiles, link_template = tiles_enabled(), views.provider_link_template(st.context.url)
    clicked = show_map(
        lambda: mapping.build_map(
            frame,
            vocabulary,
            districts=get_district_outlines(dataset),
            places=get_places(),
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
    show_tiles_note()
    if center is not None and elsewhere:
        st.caption(
            f"{elsewhere} matching place(s) outside Gloucestershire (case studies "
            "elsewhere in the UK) are off the edge of the map: zoom out to see them."
        )
    return clicked


def show_selection_lists(filtered: Filtered, vocabulary: Vocabulary) -> None:
    """The map's text twin: every matching record, in the Directory's order, with its page;
    then those elsewhere, and those serving the searched area without a venue near it."""
    found, away, area = directory_rows(filtered, vocabulary)
    if len(found):
        st.subheader(
            f"Nearest to {md_escape(filtered.selection.near)}"
            if filtered.origin
            else "The selection as a list",
            anchor=False,
        )
        shortlist_adder(found, key="shortlist_pick_map")
        show_record_list(found)
    if len(away):
        st.subheader(views.ELSEWHERE_HEADING, anchor=False)
        show_record_list(away)
    if len(area):
        radius = filtered.search_selection.radius_km
        st.subheader(f"Also serving {md_escape(filtered.area)}", anchor=False)
        st.caption(
            f"These match your other filters and work across {md_escape(filtered.area)} "
            f"or the whole county, but publish no venue within {radius:g} km of "
            f"{md_escape(filtered.selection.near)}."
        )
        show_record_list(area)
