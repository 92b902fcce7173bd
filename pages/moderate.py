"""Moderation (moderators only): review, edit, approve or reject submitted listings.

Submitted text is the submitter's, not ours: ui.show_submission escapes all of it.
"""

import streamlit as st

from aop_map import ui
from aop_map.store import SubmissionStore

ui.ensure_entrypoint()  # sign-in comes before the data, so app.py's frame comes first
st.title("Moderation")
store = SubmissionStore()
moderator = ui.moderator_login(store)
if moderator is None:
    st.stop()  # nothing about submissions is shown before sign-in

dataset, index = ui.get_dataset()
declared = " (self-declared at a password sign-in)" if moderator.self_declared else ""
st.caption(
    f"Signed in as {ui.md_escape(moderator.name)}{declared}. Every decision is written "
    "to the audit log."
)
if st.button("Sign out"):
    st.session_state.pop("moderator", None)
    st.rerun()
if flash := st.session_state.pop("moderation_flash", None):
    st.success(flash)

status = (
    st.segmented_control(
        "Show",
        ["pending", "approved", "rejected", "withdrawn"],
        default="pending",
        key="moderation_status",
    )
    or "pending"
)
submissions = store.list(status)
st.markdown(f"**{len(submissions)}** {status} submission(s).")
pending = [(s.id, s.data) for s in store.list("pending")]
open_reports = store.reports("open")
for submission in submissions:
    ui.show_submission(
        store,
        submission,
        dataset,
        moderator,
        pending=pending,
        open_reports=open_reports,
        status=status,
    )

st.subheader("Due for review")
ui.show_review_queue(store, dataset, moderator)

st.subheader("Problem reports")
ui.show_problem_reports(store, dataset, moderator)

with st.expander("Audit log"):
    st.dataframe(store.audit_log()[-200:], width="stretch")
