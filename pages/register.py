"""Register your activity (public): a listing that a moderator reviews before it appears."""

import streamlit as st

from aop_map import registration as reg
from aop_map import ui
from aop_map.store import SubmissionStore

dataset, index = ui.get_dataset()
vocab = dataset.vocabulary
store = SubmissionStore()
state = st.session_state

st.title("Register your arts and health activity")
st.markdown(reg.INTRO)

if receipt := state.get("register_receipt"):
    thanks, again = reg.receipt_text(receipt)
    st.success(thanks)
    if not receipt.get("update"):
        st.markdown(reg.EDIT_CODE_NOTE)
        st.code(receipt["edit_code"], language=None)
    if st.button(again):
        del state["register_receipt"]
        st.rerun()
    st.stop()

updating = state.get("register_updating")  # {"id", "code"} after a right code
if prefill := state.pop("register_prefill", None):
    ui.prefill_register_form(prefill)  # before the widgets exist in this run
if updating:
    st.info(reg.updating_note(updating))
    if st.button("Cancel the update"):
        state.pop("register_updating", None)
        state.pop("register_pending", None)
        st.rerun()

with st.form("register_form"):
    values: dict = {}
    for heading, caption, parts in reg.FORM_SECTIONS:
        st.subheader(heading)
        if caption:
            st.caption(caption)
        for part, columns in parts:
            if part == "locations":
                numbers = range(1, reg.MAX_LOCATIONS + 1)
                values[part] = [
                    ui.field_widgets(part, vocab, columns=columns, number=n) for n in numbers
                ]
            else:
                values |= ui.field_widgets(part, vocab, columns=columns)
    values["publish_contact"] = st.checkbox(
        reg.PUBLISH_CONTACT_LABEL, key="register_publish_contact"
    )
    values[reg.HONEYPOT] = st.text_input(
        "Leave this field empty", key="register_hp", label_visibility="collapsed"
    )  # hidden by CSS below
    values[reg.CONSENT] = st.checkbox(reg.CONSENT_LABEL)
    if not updating:
        label, hint = reg.UPDATE_OF_LABEL, reg.UPDATE_OF_HELP
        values[reg.UPDATE_OF] = st.text_input(label, max_chars=120, help=hint)
    if st.form_submit_button("Check my listing", type="primary"):
        state["register_pending"] = reg.preview(values, vocab, dataset.records)
st.html("<style>.st-key-register_hp{position:absolute;left:-9999px}</style>")

if pending := state.get("register_pending"):
    if not pending.ok:
        st.error("Please correct these and check again:")
        for line in reg.error_lines(pending.check):
            st.markdown(line)
        st.stop()
    st.subheader("Check before you send")
    st.markdown(reg.PREVIEW_NOTE)
    for note in pending.notes:
        st.warning(ui.md_escape(note))
    with st.container(border=True, key="register_preview_page"):
        ui.show_provider(pending.record, pending.frame, dataset, map_key="register_preview")
    choice = None
    if pending.duplicates and not updating:
        st.warning("This looks like a listing we already have:")
        for line in reg.duplicate_lines(pending.duplicates):
            st.markdown(line)
        choice = st.radio(
            "Is your listing an update to one of these?",
            [reg.NEW_LISTING, *(d.id for d in pending.duplicates)],
            key="register_update_choice",
        )
    if st.button("Send my listing for review", type="primary"):
        client = ui.client_address()
        sent = reg.send_listing(store, pending, client=client, updating=updating, choice=choice)
        if sent.receipt is None:
            st.error(ui.md_escape(sent.error))
            st.stop()
        state["register_receipt"] = reg.receipt_state(sent.receipt, update=bool(updating))
        state.pop("register_updating", None)
        del state["register_pending"]
        st.rerun()

st.divider()
st.subheader("Update or withdraw a listing")
st.caption(reg.WITHDRAW_NOTE)
with st.form("withdraw_form"):
    reference = st.text_input("Reference number", max_chars=40)
    code = st.text_input("Edit code", type="password", max_chars=40)
    update, withdraw = st.columns(2)
    if update.form_submit_button("Update my listing"):
        opened = reg.open_listing(store, reference, code, client=ui.client_address())
        if opened.error is not None:
            st.error(ui.md_escape(opened.error))
        else:
            state["register_updating"], state["register_prefill"] = opened.updating, opened.values
            state.pop("register_pending", None)
            st.rerun()
    if withdraw.form_submit_button("Withdraw my listing"):
        client = ui.client_address()
        if (error := reg.withdraw_listing(store, reference, code, client=client)) is not None:
            st.error(ui.md_escape(error))
        else:
            ui.clear_data_cache()
            st.success("Your listing has been withdrawn and removed from the map.")
