"""The Register page's parts: receipt, form, preview and the update-or-withdraw box; what a
listing must be and how it is stored is aop_map.registration's and aop_map.store's.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from aop_map import registration as reg
from aop_map.dataset import Dataset
from aop_map.store import SubmissionStore
from aop_map.text import md_escape
from aop_map.ui.auth import client_address
from aop_map.ui.data import clear_data_cache
from aop_map.ui.forms import field_widgets, prefill_register_form
from aop_map.ui.provider import show_provider

RECEIPT = "register_receipt"
UPDATING = "register_updating"  # {"id", "code"} after a right edit code
PREFILL = "register_prefill"
PENDING = "register_pending"
# Hidden from people (and so left empty by them): bots that fill every field fill it.
HONEYPOT_CSS = "<style>.st-key-register_hp{position:absolute;left:-9999px}</style>"


def show_receipt() -> bool:
    """The thanks, reference and edit code after sending, if a listing was just sent (then
    the page shows nothing else)."""
    state = st.session_state
    if not (receipt := state.get(RECEIPT)):
        return False
    thanks, again = reg.receipt_text(receipt)
    st.success(thanks)
    if not receipt.get("update"):
        st.markdown(reg.EDIT_CODE_NOTE)
        st.code(receipt["edit_code"], language=None)
    if st.button(again):
        del state[RECEIPT]
        st.rerun()
    return True


def updating_listing() -> dict[str, str] | None:
    """The listing being updated ({"id", "code"}), if any, with a way to cancel; fills the
    form with it the first time (before the widgets exist in this run)."""
    state = st.session_state
    updating = state.get(UPDATING)
    if prefill := state.pop(PREFILL, None):
        prefill_register_form(prefill)
    if updating:
        st.info(reg.updating_note(updating))
        if st.button("Cancel the update"):
            state.pop(UPDATING, None)
            state.pop(PENDING, None)
            st.rerun()
    return updating


def register_form(dataset: Dataset, *, updating: bool) -> None:
    """Draw the form, section by section from the registry; once sent, check it
    (registration.preview) for show_preview."""
    vocabulary = dataset.vocabulary
    with st.form("register_form"):
        values: dict[str, Any] = {}
        for heading, caption, parts in reg.FORM_SECTIONS:
            st.subheader(heading)
            if caption:
                st.caption(caption)
            for part, columns in parts:
                if part == "locations":
                    numbers = range(1, reg.MAX_LOCATIONS + 1)
                    values[part] = [
                        field_widgets(part, vocabulary, columns=columns, number=n) for n in numbers
                    ]
                else:
                    values |= field_widgets(part, vocabulary, columns=columns)
        values["publish_contact"] = st.checkbox(
            reg.PUBLISH_CONTACT_LABEL, key="register_publish_contact"
        )
        values[reg.HONEYPOT] = st.text_input(
            "Leave this field empty", key="register_hp", label_visibility="collapsed"
        )
        values[reg.CONSENT] = st.checkbox(reg.CONSENT_LABEL)
        if not updating:
            label, hint = reg.UPDATE_OF_LABEL, reg.UPDATE_OF_HELP
            values[reg.UPDATE_OF] = st.text_input(label, max_chars=120, help=hint)
        if st.form_submit_button("Check my listing", type="primary"):
            st.session_state[PENDING] = reg.preview(values, vocabulary, dataset.records)
    st.html(HONEYPOT_CSS)


def show_preview(dataset: Dataset, store: SubmissionStore, updating: dict[str, str] | None) -> None:
    """The checked listing: what to correct, or the provider page it will make and the
    button that sends it (asking first whether it updates a listing it looks like)."""
    state = st.session_state
    if not (pending := state.get(PENDING)):
        return
    if not pending.ok:
        st.error("Please correct these and check again:")
        for line in reg.error_lines(pending.check):
            st.markdown(line)
        st.stop()
    st.subheader("Check before you send")
    st.markdown(reg.PREVIEW_NOTE)
    for note in pending.notes:
        st.warning(md_escape(note))
    with st.container(border=True, key="register_preview_page"):
        show_provider(pending.record, pending.frame, dataset, map_key="register_preview")
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
        client = client_address()
        sent = reg.send_listing(store, pending, client=client, updating=updating, choice=choice)
        if sent.receipt is None:
            st.error(md_escape(sent.error))
            st.stop()
        state[RECEIPT] = reg.receipt_state(sent.receipt, update=bool(updating))
        state.pop(UPDATING, None)
        del state[PENDING]
        st.rerun()


def show_update_or_withdraw(store: SubmissionStore) -> None:
    """The box where a provider opens their listing to update it, or withdraws it, with the
    reference and edit code they were given."""
    state = st.session_state
    st.subheader("Update or withdraw a listing")
    st.caption(reg.WITHDRAW_NOTE)
    with st.form("withdraw_form"):
        reference = st.text_input("Reference number", max_chars=40)
        code = st.text_input("Edit code", type="password", max_chars=40)
        update, withdraw = st.columns(2)
        if update.form_submit_button("Update my listing"):
            opened = reg.open_listing(store, reference, code, client=client_address())
            if opened.error is not None:
                st.error(md_escape(opened.error))
            else:
                state[UPDATING], state[PREFILL] = opened.updating, opened.values
                state.pop(PENDING, None)
                st.rerun()
        if withdraw.form_submit_button("Withdraw my listing"):
            client = client_address()
            if (error := reg.withdraw_listing(store, reference, code, client=client)) is not None:
                st.error(md_escape(error))
            else:
                clear_data_cache()
                st.success("Your listing has been withdrawn and removed from the map.")
