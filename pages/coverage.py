"""Coverage and gaps (for commissioners): condition × art form counts and where there is none."""

from dataclasses import replace

import streamlit as st

from aop_map import charts, ui, views
from aop_map.filtering import (
    count_records,
    counts_by,
    coverage_matrix,
    gaps,
    gaps_by_district,
    selection_to_params,
)

dataset, index = ui.get_dataset()
filtered = ui.apply_filters(dataset, index)
vocab = dataset.vocabulary
cond_labels = ui.term_labels(vocab, "conditions")
art_labels = ui.term_labels(vocab, "art_forms")
district_labels = {t.id: t.label for t in vocab.terms("areas_served") if t.code}

st.title("Coverage and gaps")
st.caption(
    "How many providers and activities there are for each health condition and art "
    "form, where there are none, and how provision spreads across districts. A "
    "provider counts for a district when it is located there, names it among the "
    "areas it serves, or works countywide."
)
ui.show_messages(filtered)

# --- Gaps first: the question commissioners ask most --------------------------------------
st.header("Gaps: conditions with no provider")
chosen = [d for d in filtered.selection.district if d in district_labels]
district = st.selectbox(
    "District",
    list(district_labels),
    format_func=district_labels.get,
    index=list(district_labels).index(chosen[0]) if chosen else 0,
    key="coverage_gap_district",
    help="Gaps always use all the data, not the filters.",
)
countywide = st.toggle(
    "Count countywide providers as serving every district",
    value=True,
    key="coverage_countywide",
    help="Off: only providers located in the district or naming it count, which shows "
    "where local provision is thin even though county services reach it.",
)
# Current Gloucestershire provision only, whatever the sidebar includes: ended activity and
# examples elsewhere in the UK never fill a gap (filtering.lifecycle_mask).
missing = gaps_by_district(dataset.frame, vocab, "conditions", countywide=countywide)
st.caption(
    "Gaps count current provision in Gloucestershire only: ended activity and "
    "examples elsewhere in the UK never fill a gap."
)
where = ui.md_escape(district_labels[district])
if missing[district]:
    st.warning(
        f"**No provider in {where} for:** "
        + ui.md_escape(", ".join(vocab.labels("conditions", missing[district]))),
        icon=":material/report:",
    )
else:
    st.success(f"Every health condition has at least one provider in {where}.")
if not countywide:
    st.caption(
        "Counting only providers located in a district or naming it among the areas they serve."
    )
st.dataframe(
    views.gaps_table(missing, vocab),
    hide_index=True,
    width="stretch",
    column_config={
        "Missing": st.column_config.NumberColumn(
            "Missing", help="How many conditions have no provider there"
        )
    },
)
county_gaps = gaps(dataset.frame, vocab, "conditions")
if county_gaps:
    st.error(
        "No provider anywhere in the data for: "
        + ui.md_escape(", ".join(vocab.labels("conditions", county_gaps))),
        icon=":material/block:",
    )

# --- The matrix, following the sidebar filters ---------------------------------------------
st.header("Health condition × art form")
st.markdown(
    f"**{count_records(filtered.frame)}** records in the current selection "
    f"({ui.describe_selection(filtered.search_selection, vocab)}). Darker cells have "
    "more providers; empty cells have none. Click a cell, or pick a pair below, to "
    "open the map filtered to it."
)
matrix = coverage_matrix(
    filtered.frame, vocab, "conditions", "art_forms", selection=filtered.search_selection
)
event = st.altair_chart(
    charts.coverage_heatmap(matrix, cond_labels, art_labels),
    width="stretch",
    on_select="rerun",
    key="coverage_chart",
)
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
target = replace(filtered.selection, condition=(condition,), art_form=(art_form,))
go.page_link(
    "pages/map.py",
    label=f"Open the map ({int(matrix.loc[condition, art_form])})",
    icon=":material/map:",
    query_params=selection_to_params(target),
)
with st.expander("The same counts as a table"):
    table = matrix.rename(index=cond_labels, columns=art_labels).rename_axis("Condition")
    st.dataframe(charts.shade_cells(table), width="stretch")

# --- Spread across districts and status ------------------------------------------------------
st.header("Records per district and per status")
st.caption(
    "All the data, not only the current selection. District counts include countywide providers."
)
spread = views.district_status_table(dataset.frame, vocab)
st.dataframe(
    spread,
    hide_index=True,
    width="stretch",
    column_config={
        "Records": st.column_config.ProgressColumn(
            "Records", format="%d", min_value=0, max_value=max([1, *spread["Records"]])
        )
    },
)
statuses = counts_by(dataset.frame, vocab, "status")
st.markdown(
    "By status: "
    + " · ".join(
        f"**{ui.md_escape(t.label)}** {int(statuses.get(t.id, 0))}"
        for t in vocab.terms("status")
        if t.id != "ended" or filtered.selection.include_past
    )
)
empty = spread.loc[spread["Records"] == 0, "District"].tolist()
if empty:
    st.warning(
        "No provision at all in: " + ui.md_escape(", ".join(empty)), icon=":material/report:"
    )
