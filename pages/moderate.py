"""Moderation (moderators only): review, edit, approve or reject submitted listings.

Submitted text is the submitter's, not ours: every label, heading and message that shows it
is escaped (views.submission_title and the rest; expander labels render Markdown links and
images too), and the full submission is shown as a code block, which never renders anything.
"""

import streamlit as st

from aop_map import ui, views
from aop_map.registration import find_duplicates
from aop_map.store import StoreError, SubmissionStore

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
    data = submission.data or {}
    with st.expander(views.submission_title(submission), expanded=status == "pending"):
        st.markdown(views.submission_received(submission))
        if submission.problems:
            st.warning("Problems to fix before approving:")
            st.markdown("\n".join(f"- {ui.md_escape(p)}" for p in submission.problems))
        others = [(sid, d) for sid, d in pending if sid != submission.id]
        about = views.reports_about(open_reports, submission.update_of or submission.record_id)
        if about:
            st.warning(about)
        found = find_duplicates(data, dataset.records, pending=others)
        note = views.duplicates_note([d for d in found if d.id != submission.update_of])
        if note:
            st.info(note)
        changes = store.diff(submission.id) if submission.update_of else []
        if submission.update_of:
            st.markdown(views.update_heading(submission, len(changes)))
        if changes:
            st.dataframe(views.changes_table(changes), hide_index=True, width="stretch")
        st.code(views.submission_yaml(data), language="yaml")
        if status != "pending":
            if submission.reason:
                st.markdown(f"Reason: {ui.md_escape(submission.reason)}")
            continue
        edited = st.text_area(
            "Edit before approving (YAML)",
            key=f"edit_{submission.id}",
            value=views.submission_yaml(data),
            height=200,
        )
        left, right = st.columns(2)
        if left.button("Approve and publish", key=f"approve_{submission.id}", type="primary"):
            record, problem = views.approve_edited(
                store, submission, edited, moderator.name, self_declared=moderator.self_declared
            )
            if problem:
                st.error(problem)
            else:
                ui.clear_data_cache()
                st.session_state["moderation_flash"] = (
                    f"Published {ui.md_escape(record.name)} as record {ui.md_escape(record.id)}."
                )
                st.rerun()
        reason = right.text_input(
            "Reason for rejecting", key=f"reason_{submission.id}", max_chars=500
        )
        if right.button("Reject", key=f"reject_{submission.id}", disabled=not reason.strip()):
            try:
                store.reject(
                    submission.id,
                    moderator.name,
                    reason.strip(),
                    self_declared=moderator.self_declared,
                )
            except StoreError as error:
                st.error(ui.md_escape(error))
            else:
                st.session_state["moderation_flash"] = f"Rejected {submission.id}."
                st.rerun()

st.subheader("Due for review")
ui.show_review_queue(store, dataset, moderator)

st.subheader("Problem reports")
ui.show_problem_reports(store, dataset, moderator)

with st.expander("Audit log"):
    st.dataframe(store.audit_log()[-200:], width="stretch")
