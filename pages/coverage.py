"""Coverage and gaps (for commissioners): condition × art form counts and where there is none."""

from dataclasses import replace

import altair as alt
import streamlit as st

from aop_map import ui
from aop_map.filtering import (
    Selection,
    count_records,
    counts_by,
    coverage_matrix,
    filter_frame,
    gaps,
    selection_to_params,
)

dataset, index = ui.get_dataset()
filtered = ui.apply_filters(dataset, index)
vocab = dataset.vocabulary
cond_labels = ui.term_labels(vocab, "conditions")
art_labels = ui.term_labels(vocab, "art_forms")
district_terms = [t for t in vocab.terms("areas_served") if t.code]

st.title("Coverage and gaps")
st.caption("How many providers and activities there are for each health condition and art "
           "form, where there are none, and how provision spreads across districts. A "
           "provider counts for a district when it is located there, names it among the "
           "areas it serves, or works countywide.")
ui.show_messages(filtered)

# --- Gaps first: the question commissioners ask most --------------------------------------
st.header("Gaps: conditions with no provider")
chosen_districts = [d for d in filtered.selection.district if vocab.term("areas", d)
                    and vocab.term("areas", d).code]
district_ids = [t.id for t in district_terms]
district = st.selectbox(
    "District", district_ids, format_func=ui.term_labels(vocab, "areas_served").get,
    index=district_ids.index(chosen_districts[0]) if chosen_districts else 0,
    key="coverage_gap_district", help="Gaps always use all the data, not the filters.")
countywide = st.toggle(
    "Count countywide providers as serving every district", value=True,
    key="coverage_countywide",
    help="Off: only providers located in the district or naming it count, which shows "
         "where local provision is thin even though county services reach it.")
missing = gaps(dataset.frame, vocab, "conditions", district, countywide=countywide)
district_label = vocab.label("areas_served", district)
if missing:
    st.warning(f"**No provider in {ui.md_escape(district_label)} for:** "
               + ", ".join(ui.md_escape(cond_labels[c]) for c in missing),
               icon=":material/report:")
else:
    st.success(f"Every health condition has at least one provider in "
               f"{ui.md_escape(district_label)}.")
if not countywide:
    st.caption("Counting only providers located in a district or naming it among the areas "
               "they serve.")

rows = []
for term in district_terms:
    lacking = gaps(dataset.frame, vocab, "conditions", term.id, countywide=countywide)
    rows.append({"District": term.label, "Conditions with no provider":
                 ", ".join(cond_labels[c] for c in lacking) or "none: every condition covered",
                 "Missing": len(lacking)})
st.dataframe(rows, hide_index=True, width="stretch",
             column_config={"Missing": st.column_config.NumberColumn(
                 "Missing", help="How many conditions have no provider there")})
county_gaps = gaps(dataset.frame, vocab, "conditions")
if county_gaps:
    st.error("No provider anywhere in the data for: "
             + ", ".join(ui.md_escape(cond_labels[c]) for c in county_gaps),
             icon=":material/block:")

# --- The matrix, following the sidebar filters ---------------------------------------------
st.header("Health condition × art form")
st.markdown(f"**{count_records(filtered.frame)}** records in the current selection "
            f"({ui.describe_selection(filtered.search_selection, vocab)}). Darker cells have "
            "more providers; empty cells have none. Click a cell, or pick a pair below, to "
            "open the map filtered to it.")
matrix = coverage_matrix(filtered.frame, vocab, "conditions", "art_forms")
long = matrix.stack().reset_index()
long.columns = ["condition", "art_form", "records"]
long["Condition"] = long["condition"].map(cond_labels)
long["Art form"] = long["art_form"].map(art_labels)

cell = alt.selection_point(name="cell", fields=["condition", "art_form"])
base = alt.Chart(long).encode(
    x=alt.X("Art form:N", sort=list(art_labels.values()), title=None,
            axis=alt.Axis(labelAngle=-40, labelOverlap=False, labelLimit=180)),
    y=alt.Y("Condition:N", sort=list(cond_labels.values()), title=None,
            axis=alt.Axis(labelOverlap=False, labelLimit=260)),
)
chart = (base.mark_rect(stroke="#ffffff").encode(
    color=alt.Color("records:Q", scale=alt.Scale(scheme="blues"), title="Records"),
    tooltip=["Condition", "Art form", alt.Tooltip("records:Q", title="Records")],
).add_params(cell) + base.mark_text(fontSize=11).encode(
    text=alt.condition("datum.records > 0", "records:Q", alt.value("")),
    color=alt.condition("datum.records > 2", alt.value("white"), alt.value("#222222")),
)).properties(height=28 * len(cond_labels) + 60)
event = st.altair_chart(chart, width="stretch", on_select="rerun", key="coverage_chart")

points = (event.selection.get("cell") if event and hasattr(event, "selection") else None) or []
picked = (points[0]["condition"], points[0]["art_form"]) if points else None
if picked and picked != st.session_state.get("coverage_last_pick"):
    # A newly clicked cell sets the two boxes (before they are drawn); later the boxes rule.
    st.session_state["coverage_condition"], st.session_state["coverage_art_form"] = picked
st.session_state["coverage_last_pick"] = picked
left, right, go = st.columns([2, 2, 1], vertical_alignment="bottom")
condition = left.selectbox("Condition", list(cond_labels), format_func=cond_labels.get,
                           key="coverage_condition")
art_form = right.selectbox("Art form", list(art_labels), format_func=art_labels.get,
                           key="coverage_art_form")
target = replace(filtered.selection, condition=(condition,), art_form=(art_form,))
go.page_link("pages/map.py", label=f"Open the map ({int(matrix.loc[condition, art_form])})",
             icon=":material/map:", query_params=selection_to_params(target))

with st.expander("The same counts as a table"):
    table = matrix.rename(index=cond_labels, columns=art_labels)
    table.index.name = "Condition"
    top = max(int(table.to_numpy().max()), 1)
    st.dataframe(table.style.map(
        lambda v: f"background-color: rgba(0, 114, 178, {0.08 + 0.6 * v / top:.2f})" if v
        else "color: #999999"), width="stretch")

# --- Spread across districts and status ------------------------------------------------------
st.header("Records per district and per status")
st.caption("All the data, not only the current selection. District counts include "
           "countywide providers.")
districts = counts_by(dataset.frame, vocab, "district")
by_status = {t.id: counts_by(filter_frame(dataset.frame, Selection(status=(t.id,)), vocab,
                                          index=index), vocab, "district")
             for t in vocab.terms("status")}
most = max(int(districts.max()) if len(districts) else 0, 1)
st.dataframe(
    [{"District": t.label, "Records": int(districts.get(t.id, 0)),
      **{s.label: int(by_status[s.id].get(t.id, 0)) for s in vocab.terms("status")}}
     for t in district_terms],
    hide_index=True, width="stretch",
    column_config={"Records": st.column_config.ProgressColumn(
        "Records", format="%d", min_value=0, max_value=most)})
statuses = counts_by(dataset.frame, vocab, "status")
st.markdown("By status: " + " · ".join(
    f"**{ui.md_escape(t.label)}** {int(statuses.get(t.id, 0))}" for t in vocab.terms("status")))
empty = [t.label for t in district_terms if districts.get(t.id, 0) == 0]
if empty:
    st.warning("No provision at all in: " + ui.md_escape(", ".join(empty)),
               icon=":material/report:")
