"""Register your activity (public): a listing that a moderator reviews before it appears."""

import streamlit as st

from aop_map import ui
from aop_map.geocoding import geocode_records
from aop_map.limits import register_entries
from aop_map.mapping import build_location_map
from aop_map.records import slugify, validate_record
from aop_map.registration import MAX_LOCATIONS, check_form, consent_record, find_duplicates
from aop_map.store import StoreError, SubmissionStore

dataset, index = ui.get_dataset()
vocab = dataset.vocabulary
store = SubmissionStore()


def terms(field: str) -> tuple[list[str], dict[str, str]]:
    """Options (term ids) and their labels for a multiselect."""
    labels = {t.id: t.label for t in vocab.terms(field)}
    return list(labels), labels


st.title("Register your arts and health activity")
st.markdown("""
List your organisation, your practice as a freelance artist, or a programme, so that
commissioners, social prescribers and the public can find it. **A moderator checks every
listing before it appears on the map.**

**What we publish:** everything you enter below *except* your contact details, which are
published only if you tick the separate box for them. We ask for a town or the areas you
serve, never a home address: freelance artists can list the areas they work in instead.
You get a reference number and a private edit code to update or withdraw the listing at any
time; withdrawing removes it from the public map.
""")

receipt = st.session_state.get("register_receipt")
if receipt:
    st.success(
        f"Thank you. Your listing was received with reference **{receipt['id']}**. "
        "A moderator will review it before it appears on the map."
    )
    st.markdown(
        "Your **private edit code** is shown only once. Keep it safe: with it you "
        "can update or withdraw the listing."
    )
    st.code(receipt["edit_code"], language=None)
    if st.button("Register another listing"):
        del st.session_state["register_receipt"]
        st.rerun()
    st.stop()

with st.form("register_form"):
    st.subheader("About the activity")
    values: dict = {}
    values["name"] = st.text_input(
        "Name *", max_chars=200, help="The organisation, artist or programme name"
    )
    kinds, kind_labels = terms("kind")
    values["kind"] = st.selectbox("Kind *", kinds, format_func=kind_labels.get)
    statuses, status_labels = terms("status")
    values["status"] = st.radio(
        "Status *",
        statuses,
        format_func=status_labels.get,
        horizontal=True,
        help="Established: running or commissioned. Emerging: new, a "
        "pilot, or looking for its first commission.",
    )
    values["summary"] = st.text_input("Short summary", max_chars=500)
    values["description"] = st.text_area("Description", max_chars=5000)
    values["organisation"] = st.text_input("Parent organisation (if any)", max_chars=300)
    for field, label in (
        ("art_forms", "Art forms"),
        ("conditions", "Health conditions"),
        ("age_groups", "Age groups"),
        ("areas_served", "Areas served"),
        ("delivery", "Delivery"),
        ("referral_routes", "Referral routes"),
        ("commissioning_models", "Commissioning models"),
    ):
        options, labels = terms(field)
        values[field] = st.multiselect(
            label, options, format_func=labels.get, placeholder="Choose one or more"
        )

    st.subheader("Where")
    st.caption(
        "A postcode or a town or village for each place you work (a venue, not a home "
        "address). Leave these empty if you list areas served instead."
    )
    values["locations"] = []
    for number in range(1, MAX_LOCATIONS + 1):
        left, middle, right = st.columns(3)
        values["locations"].append(
            {
                "label": left.text_input(
                    f"Venue {number}", max_chars=300, key=f"loc_label_{number}"
                ),
                "postcode": middle.text_input(
                    f"Postcode {number}", max_chars=12, key=f"loc_postcode_{number}"
                ),
                "place": right.text_input(
                    f"Town or village {number}", max_chars=300, key=f"loc_place_{number}"
                ),
            }
        )

    st.subheader("Readiness (what commissioners ask)")
    left, middle, right = st.columns(3)
    choices = ["Not stated", "Yes", "No"]
    values["safeguarding_policy"] = left.selectbox("Safeguarding policy", choices)
    values["dbs_checks"] = middle.selectbox("DBS checks", choices)
    values["insurance"] = right.selectbox("Insurance", choices)
    values["evaluation_frameworks"] = st.text_input(
        "Evaluation frameworks you use (comma separated)",
        max_chars=300,
        help="For example WEMWBS or the PHE arts and health evaluation framework",
    )
    values["sources"] = st.text_area(
        "Links and sources (one per line)",
        max_chars=2000,
        help="Your website, reports or articles about the work",
    )

    st.subheader("Contact details")
    left, right = st.columns(2)
    values["contact_name"] = left.text_input("Contact name", max_chars=300)
    values["contact_email"] = right.text_input("Email", max_chars=300)
    values["contact_phone"] = left.text_input("Phone", max_chars=30)
    values["contact_website"] = right.text_input("Website", max_chars=300, placeholder="https://")
    values["publish_contact"] = st.checkbox(
        "Publish these contact details on the map (optional; without this, only the "
        "moderators see them)"
    )
    # A honeypot: people never see this field (hidden with CSS); simple bots fill it in.
    honeypot = st.text_input(
        "Leave this field empty", key="register_hp", label_visibility="collapsed"
    )
    values["consent_listing"] = st.checkbox(
        "I agree that this listing, apart from contact details I have not chosen to publish, "
        "may be published on the map and in exports *"
    )
    values["update_of"] = st.text_input(
        "Updating an existing listing? Its id (optional)",
        max_chars=120,
        help="Shown on its provider page, e.g. art-shape",
    )
    submitted = st.form_submit_button(
        "Check my listing", type="primary", on_click=ui.remember_click("register_check")
    )
st.html("<style>.st-key-register_hp{position:absolute;left:-9999px}</style>")

if ui.was_clicked("register_check", submitted):
    check = check_form(values, vocab)
    st.session_state["register_pending"] = {
        "values": values,
        "data": check.data,
        "errors": check.errors,
        "honeypot": honeypot,
    }

pending = st.session_state.get("register_pending")
if pending:
    data = pending["data"]
    if pending["errors"]:
        st.error("Please correct these and check again:")
        for key, messages in pending["errors"].items():
            label = ui.md_escape(key.replace("_", " ").capitalize())
            for message in messages:
                st.markdown(f"- **{label}**: {ui.md_escape(message)}")
        st.stop()
    st.subheader("Check before you send")
    st.markdown(
        f"**{ui.md_escape(data['name'])}**: "
        f"{ui.md_escape(vocab.label('kind', data['kind']))}, "
        f"{ui.md_escape(vocab.label('status', data['status']))}"
    )
    record, _ = validate_record({**data, "id": slugify(data["name"])}, vocab, source="form")
    preview, notes = geocode_records([record], vocab) if record else (None, [])
    for note in notes:
        st.warning(ui.md_escape(note.message))
    if preview is not None and preview.geometry.notna().any():
        st.caption("Where your listing will appear:")
        ui.show_map(
            lambda: build_location_map(preview, vocab, tiles=ui.tiles_enabled()),
            key="register_preview",
            height=260,
            use_container_width=True,
            returned_objects=[],
        )
    # Published records only: pending submissions are private to the moderators (their names
    # and reference numbers are not for anonymous visitors).
    duplicates = find_duplicates(data, dataset.records)
    update_of = (pending["values"].get("update_of") or "").strip() or None
    if duplicates and not update_of:
        st.warning("This looks like a listing we already have:")
        for duplicate in duplicates:
            st.markdown(f"- {ui.md_escape(duplicate.name)} (record {ui.md_escape(duplicate.id)})")
        choice = st.radio(
            "Is your listing an update to one of these?",
            ["No, it is new"] + [d.id for d in duplicates],
            key="register_update_choice",
        )
        update_of = None if choice == "No, it is new" else choice
    if ui.was_clicked(
        "register_send",
        st.button(
            "Send my listing for review",
            type="primary",
            on_click=ui.remember_click("register_send"),
        ),
    ):
        if pending["honeypot"]:
            st.error("Your listing could not be sent.")  # a bot: tell it nothing useful
            st.stop()
        # Counted on the server, per address and in total: a reload or a new session resets
        # nothing. A listing that then fails to save still counts (so does a script's).
        outcome = store.limits.attempt(*register_entries(ui.client_address()))
        if outcome.refused is not None:
            st.error(
                "Several listings have been sent from here (or by everyone) just now. "
                f"Please try again in {outcome.refused.wait_text}."
            )
            st.stop()
        try:
            receipt = store.submit(
                {**data, "consent": consent_record(data["publish_contact"])}, update_of=update_of
            )
        except StoreError as error:
            st.error(f"Your listing could not be saved: {ui.md_escape(error)}")
            st.stop()
        st.session_state["register_receipt"] = {"id": receipt.id, "edit_code": receipt.edit_code}
        del st.session_state["register_pending"]
        st.rerun()

st.divider()
st.subheader("Withdraw a listing")
with st.form("withdraw_form"):
    reference = st.text_input("Reference number", max_chars=40)
    code = st.text_input("Edit code", type="password", max_chars=40)
    if ui.was_clicked(
        "register_withdraw",
        st.form_submit_button(
            "Withdraw my listing", on_click=ui.remember_click("register_withdraw")
        ),
    ):
        try:
            store.withdraw(reference.strip(), code.strip(), client=ui.client_address())
        except StoreError as error:
            st.error(ui.md_escape(error))
        else:
            ui.clear_data_cache()
            st.success("Your listing has been withdrawn and removed from the map.")
