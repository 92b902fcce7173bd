"""Coverage and gaps (for commissioners): condition × art form counts and where there is none."""

import altair as alt
import streamlit as st

from aop_map import ui
from aop_map.filtering import count_records, counts_by, coverage_matrix, gaps

dataset, index = ui.get_dataset()
notes = ui.init_filters_from_url(dataset)
filtered = ui.apply_filters(dataset, index)
ui.sync_url(filtered.selection)
vocab = dataset.vocabulary

st.title("Coverage and gaps")
st.caption("How many providers and activities there are for each health condition and art "
           "form, in each district, established or emerging. Counts follow the filters on "
           "the left; the gap lists below always use all the data.")
ui.show_messages(notes, filtered)
st.markdown(f"**{count_records(filtered.frame)}** records in the current selection.")

matrix = coverage_matrix(filtered.frame, vocab)
cond_labels = {t.id: t.label for t in vocab.terms("conditions")}
art_labels = {t.id: t.label for t in vocab.terms("art_forms")}
long = matrix.stack().reset_index()
long.columns = ["condition", "art_form", "records"]
long["Condition"] = long["condition"].map(cond_labels)
long["Art form"] = long["art_form"].map(art_labels)

st.subheader("Health condition × art form")
cell = alt.selection_point(name="cell", fields=["condition", "art_form"])
base = alt.Chart(long).encode(
    x=alt.X("Art form:N", sort=list(art_labels.values()), axis=alt.Axis(labelAngle=-40)),
    y=alt.Y("Condition:N", sort=list(cond_labels.values())),
)
chart = (base.mark_rect(stroke="#ffffff").encode(
    color=alt.Color("records:Q", scale=alt.Scale(scheme="blues"), title="Records"),
    tooltip=["Condition", "Art form", "records"],
).add_params(cell) + base.mark_text(fontSize=11).encode(
    text=alt.condition("datum.records > 0", "records:Q", alt.value("")),
    color=alt.condition("datum.records > 2", alt.value("white"), alt.value("#222222")),
)).properties(height=28 * len(cond_labels) + 60)
event = st.altair_chart(chart, width="stretch", on_select="rerun", key="coverage")

points = (event.selection.get("cell") if event and hasattr(event, "selection") else None) or []
chosen = points[0] if points else None
st.markdown("Choose a cell above, or pick a pair here, to open the map filtered to it:")
left, right, go = st.columns([2, 2, 1], vertical_alignment="bottom")
condition = left.selectbox("Condition", list(cond_labels), format_func=cond_labels.get,
                           index=list(cond_labels).index(chosen["condition"]) if chosen else 0)
art_form = right.selectbox("Art form", list(art_labels), format_func=art_labels.get,
                           index=list(art_labels).index(chosen["art_form"]) if chosen else 0)
count = int(matrix.loc[condition, art_form])
go.page_link("pages/map.py", label=f"Open map ({count})", icon="🗺️",
             query_params={"condition": condition, "art_form": art_form})

st.subheader("Gaps: conditions with no provider")
st.caption("A provider counts for a district when it is located there, serves it, or works "
           "countywide. Outside-county case studies are not counted.")
district_terms = [t for t in vocab.terms("areas_served") if t.code]
rows = []
for term in district_terms:
    missing = gaps(dataset.frame, vocab, "conditions", district=term.id)
    rows.append({"District": term.label, "Conditions with no provider":
                 ", ".join(cond_labels[c] for c in missing) or "none: every condition covered",
                 "Number missing": len(missing)})
st.dataframe(rows, hide_index=True, width="stretch")
county_gaps = gaps(dataset.frame, vocab, "conditions")
if county_gaps:
    st.warning("No provider anywhere in the data for: "
               + ", ".join(cond_labels[c] for c in county_gaps))

st.subheader("Records per district and per status")
left, right = st.columns(2)
districts = counts_by(dataset.frame, vocab, "district")
left.bar_chart(districts.rename(index={t.id: t.label for t in vocab.terms("areas_served")})
               [[t.label for t in district_terms]], horizontal=True, y_label="",
               x_label="Records (including countywide)")
statuses = counts_by(dataset.frame, vocab, "status")
right.bar_chart(statuses.rename(index={t.id: t.label for t in vocab.terms("status")}),
                horizontal=True, x_label="Records", y_label="")
empty = [t.label for t in district_terms if districts.get(t.id, 0) == 0]
if empty:
    st.warning("No provision at all in: " + ", ".join(empty))
