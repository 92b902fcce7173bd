"""Register your activity (public): a listing that a moderator reviews before it appears."""

import streamlit as st

from aop_map import registration as reg
from aop_map import ui
from aop_map.store import StoreError, SubmissionStore

dataset, index = ui.get_dataset()
vocab = dataset.vocabulary
store = SubmissionStore()

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
if receipt and receipt.get("update"):
    st.success(
        f"Thank you. Your change to listing **{receipt['id']}** was received. A "
        "moderator will review it; until then the map shows the listing as it was."
    )
    if st.button("Back to the form"):
        del st.session_state["register_receipt"]
        st.rerun()
    st.stop()
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

updating = st.session_state.get("register_updating")  # {"id", "code"} after a right code
if prefill := st.session_state.pop("register_prefill", None):
    ui.prefill_register_form(prefill)  # before the widgets exist in this run
if updating:
    st.info(
        f"You are updating listing **{updating['id']}**: change what you need, check it "
        "and send it. A moderator reviews the change before the map shows it."
    )
    if st.button("Cancel the update"):
        st.session_state.pop("register_updating", None)
        st.session_state.pop("register_pending", None)
        st.rerun()

with st.form("register_form"):
    st.subheader("About the activity")
    values = ui.field_widgets("", vocab)
    st.subheader("Where")
    st.caption(
        "A postcode or a town or village for each place you work (a venue, not a home "
        "address). Leave these empty if you list areas served instead."
    )
    values["locations"] = [
        ui.field_widgets("locations", vocab, columns=3, number=number)
        for number in range(1, reg.MAX_LOCATIONS + 1)
    ]
    st.subheader("Cost and who can join")
    st.caption('Leave anything you are not sure of empty: the map then says "not stated".')
    values |= ui.field_widgets("cost", vocab, columns=2)
    values |= ui.field_widgets("eligibility", vocab, columns=3)
    st.subheader("Readiness (what commissioners ask)")
    values |= ui.field_widgets("readiness", vocab, columns=3)
    st.subheader("Contact details")
    values |= ui.field_widgets("contact", vocab, columns=2)
    values["publish_contact"] = st.checkbox(
        "Publish these contact details on the map (optional; without this, only the "
        "moderators see them)",
        key="register_publish_contact",
    )
    values[reg.HONEYPOT] = st.text_input(
        "Leave this field empty", key="register_hp", label_visibility="collapsed"
    )  # hidden by CSS below
    values[reg.CONSENT] = st.checkbox(
        "I agree that this listing, apart from contact details I have not chosen to publish, "
        "may be published on the map and in exports *"
    )
    if not updating:
        values[reg.UPDATE_OF] = st.text_input(
            "Updating an existing listing? Its id (optional)",
            max_chars=120,
            help="Shown on its provider page, e.g. art-shape. With your reference and edit "
            "code, use *Update or withdraw a listing* below instead.",
        )
    if st.form_submit_button("Check my listing", type="primary"):
        st.session_state["register_pending"] = reg.preview(values, vocab, dataset.records)
st.html("<style>.st-key-register_hp{position:absolute;left:-9999px}</style>")

pending = st.session_state.get("register_pending")
if pending:
    if not pending.ok:
        st.error("Please correct these and check again:")
        for label, message in pending.check.labelled():
            st.markdown(f"- **{ui.md_escape(label)}**: {ui.md_escape(message)}")
        st.stop()
    st.subheader("Check before you send")
    st.markdown(
        "This is your listing's page as the public will see it once a moderator has "
        "approved it (contact details only if you chose to publish them)."
    )
    for note in pending.notes:
        st.warning(ui.md_escape(note))
    with st.container(border=True, key="register_preview_page"):
        ui.show_provider(pending.record, pending.frame, dataset, map_key="register_preview")
    choice = None
    if pending.duplicates and not updating:
        st.warning("This looks like a listing we already have:")
        for duplicate in pending.duplicates:
            st.markdown(f"- {ui.md_escape(duplicate.name)} (record {ui.md_escape(duplicate.id)})")
        choice = st.radio(
            "Is your listing an update to one of these?",
            [reg.NEW_LISTING, *(d.id for d in pending.duplicates)],
            key="register_update_choice",
        )
    if st.button("Send my listing for review", type="primary"):
        if updating:
            sent = reg.send_update(
                store, updating["id"], updating["code"], pending, client=ui.client_address()
            )
        else:
            sent = reg.submit_listing(
                store, pending, client=ui.client_address(), update_of=pending.update_target(choice)
            )
        if sent.receipt is None:
            st.error(ui.md_escape(sent.error))
            st.stop()
        st.session_state["register_receipt"] = {
            "id": sent.receipt.id,
            "edit_code": sent.receipt.edit_code,
            "update": bool(updating),
        }
        st.session_state.pop("register_updating", None)
        del st.session_state["register_pending"]
        st.rerun()

st.divider()
st.subheader("Update or withdraw a listing")
st.caption(
    "With the reference number and the edit code you were given: *Update* fills "
    "the form above with your listing to change it; *Withdraw* removes it from the map."
)
with st.form("withdraw_form"):
    reference = st.text_input("Reference number", max_chars=40)
    code = st.text_input("Edit code", type="password", max_chars=40)
    update, withdraw = st.columns(2)
    if update.form_submit_button("Update my listing"):
        try:
            opened = store.open_for_update(
                reference.strip(), code.strip(), client=ui.client_address()
            )
        except StoreError as error:
            st.error(ui.md_escape(error))
        else:
            st.session_state["register_updating"] = {"id": opened.id, "code": code.strip()}
            st.session_state["register_prefill"] = reg.form_values(opened.data)
            st.session_state.pop("register_pending", None)
            st.rerun()
    if withdraw.form_submit_button("Withdraw my listing"):
        try:
            store.withdraw(reference.strip(), code.strip(), client=ui.client_address())
        except StoreError as error:
            st.error(ui.md_escape(error))
        else:
            ui.clear_data_cache()
            st.success("Your listing has been withdrawn and removed from the map.")
