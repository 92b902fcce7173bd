"""The Coverage page's parts: gaps by district, the condition × art form matrix and the
spread across districts; the counting is aop_map.filtering's, the tables aop_map.views'.
"""

from __future__ import annotations

import streamlit as st

from aop_map import charts, views
from aop_map.dataset import Dataset
from aop_map.filtering import count_records, coverage_matrix, gaps, gaps_by_district
from aop_map.ui.filters import Filtered, describe_selection, term_labels


def show_gaps(dataset: Dataset, filtered: Filtered) -> None:
    """Conditions with no provider, in a district picked here and in every district: the
    question commissioners ask most. Always all current county data, never the filters."""
    vocab = dataset.vocabulary
    district_labels = views.district_labels(vocab)
    st.header("Gaps: conditions with no provider")
    district = st.selectbox(
        "District",
        list(district_labels),
        format_func=district_labels.get,
        index=views.gap_district_index(filtered.selection.district, list(district_labels)),
        key="coverage_gap_district",
        help="Gaps always use all the data, not the filters.",
    )
    countywide = st.toggle(
        "Count countywide providers as serving every district",
        value=True,
        key="coverage_countywide",
        help="Off: only providers located in the district or naming it count, which shows where "
        "local provision is thin even though county services reach it.",
    )
    # Current Gloucestershire provision only, whatever the sidebar includes: ended activity and
    # examples elsewhere in the UK never fill a gap (filtering.lifecycle_mask).
    missing = gaps_by_district(dataset.frame, vocab, "conditions", countywide=countywide)
    st.caption(
        "Gaps count current provision in Gloucestershire only: ended activity and examples "
        "elsewhere in the UK never fill a gap."
    )
    found, note = views.gap_note(missing, district, vocab)
    if found:
        st.warning(note, icon=":material/report:")
    else:
        st.success(note)
    if not countywide:
        st.caption(
            "Counting only providers located in a district or naming it among the areas they serve."
        )
    missing_help = "How many conditions have no provider there"
    st.dataframe(
        views.gaps_table(missing, vocab),
        hide_index=True,
        width="stretch",
        column_config={"Missing": st.column_config.NumberColumn("Missing", help=missing_help)},
    )
    if county_note := views.county_gaps_note(gaps(dataset.frame, vocab, "conditions"), vocab):
        st.error(county_note, icon=":material/block:")


def show_matrix(dataset: Dataset, filtered: Filtered) -> None:
    """Health condition × art form counts of the current selection, as a heat map whose
    cells (or the two boxes under it) open the map filtered to a pair."""
    vocab = dataset.vocabulary
    cond_labels = term_labels(vocab, "conditions")
    art_labels = term_labels(vocab, "art_forms")
    st.header("Health condition × art form")
    st.markdown(
        f"**{count_records(filtered.frame)}** records in the current selection "
        f"({describe_selection(filtered.search_selection, vocab)}). Darker cells have more "
        "providers; empty cells have none. Click a cell, or pick a pair below, to open the map "
        "filtered to it."
    )
    matrix = coverage_matrix(
        filtered.frame, vocab, "conditions", "art_forms", selection=filtered.search_selection
    )
    chart = charts.coverage_heatmap(matrix, cond_labels, art_labels)
    event = st.altair_chart(chart, width="stretch", on_select="rerun", key="coverage_chart")
    picked = charts.clicked_cell(event)
    if picked and picked != st.session_state.get("coverage_last_pick"):
        # A newly clicked cell sets the two boxes (before they are drawn); later the boxes rule.
        st.session_state["coverage_condition"], st.session_state["coverage_art_form"] = picked
    st.session_state["coverage_last_pick"] = picked
    left, right, go = st.columns([2, 2, 1], vertical_alignment="bottom")
    condition = left.selectbox(
        "Condition", list(cond_labels), format_func=cond_labels.get, key="coverage_condition"
    )
    art_form = right.selectbox(
        "Art form", list(art_labels), format_func=art_labels.get, key="coverage_art_form"
    )
    label, params = views.cell_link(matrix, filtered.selection, condition, art_form)
    go.page_link("pages/map.py", label=label, icon=":material/map:", query_params=params)
    with st.expander("The same counts as a table"):
        table = views.labelled_matrix(matrix, cond_labels, art_labels)
        st.dataframe(charts.shade_cells(table), width="stretch")


def show_spread(dataset: Dataset, filtered: Filtered) -> None:
    """Records per district and per status over all the data, and districts with none."""
    vocab = dataset.vocabulary
    st.header("Records per district and per status")
    st.caption(
        "All the data, not only the current selection. District counts include countywide "
        "providers."
    )
    spread = views.district_status_table(dataset.frame, vocab)
    most = max([1, *spread["Records"]])
    records_bar = st.column_config.ProgressColumn(
        "Records", format="%d", min_value=0, max_value=most
    )
    st.dataframe(spread, hide_index=True, width="stretch", column_config={"Records": records_bar})
    st.markdown(
        views.status_line(dataset.frame, vocab, include_past=filtered.selection.include_past)
    )
    if empty := views.empty_districts_note(spread):
        st.warning(empty, icon=":material/report:")
