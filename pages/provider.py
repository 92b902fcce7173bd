"""Provider page (?id=...): everything public about one record; a picker without an id."""

import re

import streamlit as st

from aop_map import ui
from aop_map.mapping import build_location_map

PRECISION_NOTES = {
    "exact": "placed at the exact point given",
    "postcode": "placed at its postcode",
    "postcode_district": "placed at the centre of its postcode district: the full postcode "
                         "was not found",
    "place": "placed at town or village level: no address is published",
    "online": "placed by an online geocoder from its place name",
    "none": "not on the map: no location could be found",
}
ANSWERS = {True: "yes", False: "no", None: "not stated"}
# The county's arts umbrella body: who to ask when a provider publishes no contact details.
UMBRELLA_ID = "create-gloucestershire"

dataset, index = ui.get_dataset()
vocab = dataset.vocabulary
record_id = st.query_params.get("id", "").strip()
record = dataset.record(record_id) if record_id else None
wanted = {"id": record_id} if record_id else {}
if {k: st.query_params.get_all(k) for k in st.query_params} != {k: [v] for k, v in
                                                                  wanted.items()}:
    st.query_params.from_dict(wanted)  # this page is about one record, not a selection

if record is None:
    st.title("Provider pages" if not record_id else "Provider not found")
    if record_id:
        ui.set_page_title("Provider not found")
        st.error(f"There is no provider or activity with the id “{ui.md_escape(record_id)}”. "
                 "It may have been withdrawn or renamed.", icon=":material/error:")
    else:
        st.markdown("Every provider, programme and venue has a page here. Choose one, or find "
                    "them on the map or in the directory.")
    names = {r.id: r.name for r in sorted(dataset.records, key=lambda r: r.name.casefold())}
    choice = st.selectbox("Provider or activity", list(names), index=None,
                          format_func=names.get, placeholder="Type to search by name")
    if choice:
        st.page_link("pages/provider.py", label=f"Open {ui.md_escape(names[choice])}",
                     icon=":material/arrow_forward:", query_params={"id": choice})
    st.page_link("pages/directory.py", label="Back to the directory",
                 icon=":material/arrow_back:")
    st.page_link("pages/map.py", label="Back to the map", icon=":material/map:")
    st.stop()

ui.set_page_title(record.name)
st.title(ui.md_escape(record.name))
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
        for paragraph in re.split(r"\n\s*\n", record.description):
            st.markdown(ui.md_escape(paragraph))
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
        st.markdown(f"**{label}:** " + (ui.md_escape(", ".join(values)) if values
                                        else "not stated"))
    readiness = record.readiness
    st.subheader("Readiness")
    st.markdown(f"Safeguarding policy: {ANSWERS[readiness.safeguarding_policy]} · "
                f"DBS checks: {ANSWERS[readiness.dbs_checks]} · "
                f"Insurance: {ANSWERS[readiness.insurance]}")
    if readiness.evaluation_frameworks:
        st.markdown("Evaluation: " + ui.md_escape(", ".join(readiness.evaluation_frameworks)))
    if record.notes:
        st.subheader("Notes")
        for paragraph in re.split(r"\n\s*\n", record.notes):
            st.markdown(ui.md_escape(paragraph))

with side:
    st.subheader("Contact")
    contact = record.contact
    published = ui.contact_markdown(contact.website, contact.email, contact.phone)
    if record.publish_contact and published:
        if contact.name:
            st.markdown(ui.md_escape(contact.name))
        st.markdown(published)
    else:
        st.markdown("This provider has not published contact details here. Commissioners "
                    "can reach Gloucestershire providers through Create Gloucestershire, the "
                    "county's arts umbrella body, or through the partners and sources listed.")
        if dataset.record(UMBRELLA_ID) is not None and record.id != UMBRELLA_ID:
            st.page_link("pages/provider.py", label="Create Gloucestershire",
                         icon=":material/arrow_forward:", query_params={"id": UMBRELLA_ID})
    rows = dataset.frame[dataset.frame["record_id"] == record.id]
    st.subheader("Where")
    for row in rows.itertuples():
        parts = (row.location_label, row.address, row.place, row.postcode)
        where = ", ".join(dict.fromkeys(p for p in parts if isinstance(p, str) and p))
        district = (f" ({row.district_name})" if isinstance(row.district_name, str)
                    and row.district_name not in where else "")
        if row.location_index < 0:
            st.markdown("No place given: listed by the areas it serves.")
            continue
        precision = PRECISION_NOTES.get(row.location_precision,
                                        ui.md_escape(row.location_precision))
        st.markdown(f"{ui.md_escape(where + district)}: {precision}.")
    if rows.geometry.notna().any():
        ui.show_map(lambda: build_location_map(rows, vocab, tiles=ui.tiles_enabled()),
                    key=f"location_map_{record.id}", height=300, use_container_width=True,
                    returned_objects=[])
        ui.show_tiles_note(small=True)

st.subheader("Sources")
if not record.sources:
    st.markdown("No sources recorded.")
for source in record.sources:
    date = f" ({source.date.isoformat()})" if source.date else ""
    st.markdown(f"- {ui.md_link(source.title, source.url)}{date}")
st.caption(f"Last verified: {record.last_verified or 'not recorded'}. "
           f"Record id: {ui.md_escape(record.id)}. Something wrong or out of date? Use "
           "*Register your activity* with this id to suggest an update.")
