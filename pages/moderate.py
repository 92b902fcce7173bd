"""Moderation (moderators only): review, edit, approve or reject submitted listings.

Submitted text is the submitter's, not ours: every label, heading and message that shows it
goes through ui.md_escape (expander labels render Markdown links and images too), and the
full submission is shown as a code block, which never renders anything.
"""

import streamlit as st
import yaml

from aop_map import ui
from aop_map.registration import find_duplicates
from aop_map.store import StoreError, SubmissionStore

ui.ensure_entrypoint()  # sign-in comes before data, so run through app.py first
st.title("Moderation")
store = SubmissionStore()
moderator = ui.moderator_login(store)
if moderator is None:
    st.stop()  # nothing about submissions is shown before sign-in

dataset, index = ui.get_dataset()
declared = " (self-declared at a password sign-in)" if moderator.self_declared else ""
st.caption(
    f"Signed in as {ui.md_escape(moderator.name)}{declared}. Every decision is written to the "
    "audit log."
)
if st.button("Sign out"):
    st.session_state.pop("moderator", None)
    st.rerun()

flash = st.session_state.pop("moderation_flash", None)
if flash:
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
pending_pairs = [(s.id, s.data) for s in store.list("pending")]

for submission in submissions:
    data = submission.data or {}
    title = f"{submission.id} · {ui.md_escape(data.get('name', '(no name)'))}"
    with st.expander(title, expanded=status == "pending"):
        st.markdown(
            f"Received {ui.md_escape(submission.created)}"
            + (
                f" · update of **{ui.md_escape(submission.update_of)}**"
                if submission.update_of
                else ""
            )
        )
        if submission.problems:
            st.warning("Problems to fix before approving:")
            for problem in submission.problems:
                st.markdown(f"- {ui.md_escape(problem)}")
        others = [(sid, d) for sid, d in pending_pairs if sid != submission.id]
        duplicates = find_duplicates(data, dataset.records, pending=others)
        if duplicates:
            st.info(
                "Possible duplicates: "
                + ", ".join(
                    f"{ui.md_escape(d.name)} ({d.kind} {ui.md_escape(d.id)})" for d in duplicates
                )
            )
        if submission.update_of:
            changes = store.diff(submission.id)
            if changes:
                st.markdown("**Changes to the published record:**")
                st.dataframe(
                    [
                        {"Field": f, "Now": str(old), "Proposed": str(new)}
                        for f, old, new in changes
                    ],
                    hide_index=True,
                    width="stretch",
                )
        st.code(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), language="yaml")
        if status != "pending":
            if submission.reason:
                st.markdown(f"Reason: {ui.md_escape(submission.reason)}")
            continue
        edited = st.text_area(
            "Edit before approving (YAML)",
            key=f"edit_{submission.id}",
            value=yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
            height=200,
        )
        left, right = st.columns(2)
        approve_key = f"approve_{submission.id}"
        if ui.was_clicked(
            approve_key,
            left.button(
                "Approve and publish",
                key=approve_key,
                type="primary",
                on_click=ui.remember_click(approve_key),
            ),
        ):
            try:
                changed = yaml.safe_load(edited)
                record = store.approve(
                    submission.id,
                    moderator.name,
                    data=changed if changed != data else None,
                    self_declared=moderator.self_declared,
                )
            except (StoreError, yaml.YAMLError) as error:
                messages = getattr(error, "problems", None) or [error]
                st.error("Not approved: " + "; ".join(ui.md_escape(m) for m in messages))
            else:
                ui.clear_data_cache()
                st.session_state["moderation_flash"] = (
                    f"Published {ui.md_escape(record.name)} as record {ui.md_escape(record.id)}."
                )
                st.rerun()
        reason = right.text_input(
            "Reason for rejecting", key=f"reason_{submission.id}", max_chars=500
        )
        reject_key = f"reject_{submission.id}"
        if ui.was_clicked(
            reject_key,
            right.button(
                "Reject",
                key=reject_key,
                disabled=not reason.strip(),
                on_click=ui.remember_click(reject_key),
            ),
        ):
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

with st.expander("Audit log"):
    st.dataframe(store.audit_log()[-200:], width="stretch")
