"""Provider page (?id=...): everything public about one record; a picker without an id."""

import streamlit as st

from aop_map import fields, ui, views
from aop_map.mapping import build_location_map

# The county's arts umbrella body: who to ask when a provider publishes no contact details.
UMBRELLA_ID = "create-gloucestershire"

dataset, index = ui.get_dataset()
vocab = dataset.vocabulary
record_id = st.query_params.get("id", "").strip()
record = dataset.record(record_id) if record_id else None
ui.replace_query_params({"id": record_id} if record_id else {})  # one record, not a selection

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
st.markdown(views.headline(record, vocab))
ui.shortlist_button(record.id)
if record.summary:
    st.markdown(ui.md_escape(record.summary))

main, side = st.columns([3, 2], gap="large")
with main:
    if record.description:
        st.subheader("About")
        st.markdown("\n\n".join(views.paragraphs(record.description)))
    st.subheader("What, who and how")
    facts = fields.facts(record, vocab)  # the registry's fact fields, labelled
    for label, values in facts:
        st.markdown(f"**{label}:** " + (ui.md_escape(", ".join(values)) if values
                                        else "not stated"))
    st.subheader("Readiness")
    st.markdown("\n\n".join(views.readiness_lines(record.readiness)))
    if record.notes:
        st.subheader("Notes")
        st.markdown("\n\n".join(views.paragraphs(record.notes)))

with side:
    st.subheader("Contact")
    contact = record.contact
    published = views.contact_markdown(contact.website, contact.email, contact.phone)
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
    st.markdown("\n\n".join(views.location_lines(rows)))
    if rows.geometry.notna().any():
        ui.show_map(lambda: build_location_map(rows, vocab, tiles=ui.tiles_enabled()),
                    key=f"location_map_{record.id}", height=300, use_container_width=True,
                    returned_objects=[])
        ui.show_tiles_note(small=True)

st.subheader("Sources")
st.markdown(views.source_list(record.sources))
st.caption(f"Last verified: {record.last_verified or 'not recorded'}. "
           f"Record id: {ui.md_escape(record.id)}. Something wrong or out of date? Use "
           "*Register your activity* with this id to suggest an update.")
