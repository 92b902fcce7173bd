"""Provider page (?id=...): everything public about one record."""

import streamlit as st
from streamlit_folium import st_folium

from aop_map import ui
from aop_map.filtering import Selection
from aop_map.mapping import build_location_map

PRECISION_NOTES = {
    "exact": "placed at the exact point given",
    "postcode": "placed at its postcode",
    "postcode_district": "placed at the centre of its postcode district (the full postcode "
                         "was not found)",
    "place": "placed at town or village level: no address is published",
    "online": "placed by an online geocoder from its place name",
    "none": "not on the map: no location could be found",
}

dataset, index = ui.get_dataset()
record_id = st.query_params.get("id", "")
record = dataset.record(record_id) if record_id else None
ui.sync_url(Selection(), keep=("id",))  # the page is about one record, not a selection

if record is None:
    st.title("Provider not found")
    if record_id:
        st.error(f"There is no record with the id “{ui.md_escape(record_id)}”. It may have "
                 "been withdrawn or renamed.")
    else:
        st.info("Choose a provider from the map or the directory.")
    st.page_link("pages/directory.py", label="Back to the directory", icon="⬅️")
    st.stop()

vocab = dataset.vocabulary
st.title(record.name)
st.markdown(f"{ui.md_escape(vocab.label('kind', record.kind))} · "
            f"**{ui.md_escape(vocab.label('status', record.status))}**"
            + (f" · part of {ui.md_escape(record.organisation)}" if record.organisation
               else ""))
if record.summary:
    st.markdown(ui.md_escape(record.summary))

main, side = st.columns([3, 2], gap="large")
with main:
    if record.description:
        st.subheader("About")
        st.markdown(ui.md_escape(record.description))
    st.subheader("What, who and how")
    facts = [
        ("Art forms", vocab.labels("art_forms", record.art_forms)),
        ("Health conditions", vocab.labels("conditions", record.conditions)),
        ("Age groups", vocab.labels("age_groups", record.age_groups)),
        ("Areas served", vocab.labels("areas_served", record.areas_served)),
        ("Delivery", vocab.labels("delivery", record.delivery)),
        ("Referral routes", vocab.labels("referral_routes", record.referral_routes)),
        ("Commissioning models", vocab.labels("commissioning_models",
                                              record.commissioning_models)),
        ("Partners", list(record.partners)),
    ]
    for label, values in facts:
        if values:
            st.markdown(f"**{label}:** " + ui.md_escape(", ".join(values)))
    readiness = record.readiness
    answers = {True: "yes", False: "no", None: "not stated"}
    st.subheader("Readiness")
    st.markdown(
        f"Safeguarding policy: {answers[readiness.safeguarding_policy]} · "
        f"DBS checks: {answers[readiness.dbs_checks]} · "
        f"Insurance: {answers[readiness.insurance]}")
    if readiness.evaluation_frameworks:
        st.markdown("Evaluation: " + ui.md_escape(", ".join(readiness.evaluation_frameworks)))
    if record.notes:
        st.subheader("Notes")
        st.markdown(ui.md_escape(record.notes))

with side:
    st.subheader("Contact")
    contact = record.contact
    if record.publish_contact and any((contact.website, contact.email, contact.phone)):
        if contact.name:
            st.markdown(ui.md_escape(contact.name))
        if contact.website:
            st.link_button("Website", contact.website)
            st.caption(ui.md_escape(contact.website))
        if contact.email:
            st.markdown("Email: " + ui.md_escape(contact.email))
        if contact.phone:
            st.markdown("Phone: " + ui.md_escape(contact.phone))
    else:
        st.markdown("This provider has not published contact details here. Commissioners "
                    "can reach Gloucestershire providers through Create Gloucestershire, the "
                    "county's arts umbrella body, or through the partner organisations listed.")
    rows = dataset.frame[dataset.frame["record_id"] == record.id]
    st.subheader("Where")
    for row in rows.itertuples():
        where = ", ".join(str(p) for p in (row.location_label, row.address, row.place,
                                           row.postcode) if isinstance(p, str) and p)
        where = where or "No location given"
        district = f" ({row.district_name})" if isinstance(row.district_name, str) else ""
        st.markdown(f"{ui.md_escape(where + district)}: "
                    f"{PRECISION_NOTES.get(row.location_precision, row.location_precision)}.")
    if rows.geometry.notna().any():
        st_folium(build_location_map(rows, vocab, tiles=ui.tiles_enabled()),
                  key=f"location_map_{record.id}", height=300, use_container_width=True,
                  returned_objects=[])

st.subheader("Sources")
for source in record.sources:
    text = ui.md_escape(source.title) + (f" ({source.date})" if source.date else "")
    if source.url:
        text += f" · {ui.md_escape(source.url)}"
    st.markdown(f"- {text}")
st.caption(f"Last verified: {record.last_verified or 'not recorded'}. "
           f"Record id: {ui.md_escape(record.id)}.")
