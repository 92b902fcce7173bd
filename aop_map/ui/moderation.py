"""The moderation page's parts: a submission to review, the review queue and problem reports;
sign-in is auth's, every write the store's.

Submitted text is the submitter's, not ours: every label, heading and message that shows it
is escaped (views.submission_title and the rest; expander labels render Markdown links and
images too), and the full submission is shown as a code block, which never renders anything.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from aop_map import views
from aop_map.dataset import Dataset
from aop_map.registration import find_duplicates
from aop_map.store import ProblemReport, StoreError, Submission, SubmissionStore
from aop_map.text import md_escape
from aop_map.ui.auth import Moderator
from aop_map.ui.data import clear_data_cache
from aop_map.ui.provider import provider_link


def show_submission(
    store: SubmissionStore,
    submission: Submission,
    dataset: Dataset,
    moderator: Moderator,
    *,
    pending: list[tuple[str, Any]],
    open_reports: list[ProblemReport],
    status: str,
) -> None:
    """One submission in the list of those with `status`: what was sent, its problems, open
    reports about its record, likely duplicates among the records and the other `pending`,
    what an update changes; while pending, an editor and the approve and reject actions."""
    data = submission.data or {}
    with st.expander(views.submission_title(submission), expanded=status == "pending"):
        st.markdown(views.submission_received(submission))
        if submission.problems:
            st.warning("Problems to fix before approving:")
            st.markdown("\n".join(f"- {md_escape(p)}" for p in submission.problems))
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
                st.markdown(f"Reason: {md_escape(submission.reason)}")
            return
        _decide(store, submission, data, moderator)


def _decide(
    store: SubmissionStore, submission: Submission, data: dict[str, Any], moderator: Moderator
) -> None:
    """A pending submission's editor, "Approve and publish" and "Reject" (with a reason)."""
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
            clear_data_cache()
            st.session_state["moderation_flash"] = (
                f"Published {md_escape(record.name)} as record {md_escape(record.id)}."
            )
            st.rerun()
    reason = right.text_input("Reason for rejecting", key=f"reason_{submission.id}", max_chars=500)
    if right.button("Reject", key=f"reject_{submission.id}", disabled=not reason.strip()):
        try:
            store.reject(
                submission.id,
                moderator.name,
                reason.strip(),
                self_declared=moderator.self_declared,
            )
        except StoreError as error:
            st.error(md_escape(error))
        else:
            st.session_state["moderation_flash"] = f"Rejected {submission.id}."
            st.rerun()


# The review queue on the moderation page shows this many records (the oldest first).
REVIEW_QUEUE_SHOWN = 50


def show_review_queue(store: SubmissionStore, dataset: Dataset, moderator: Any) -> None:
    """Records due for a check with the provider, oldest first, each with how to reach them
    and a "verified today" action (review.verify: community and curated records alike)."""
    import datetime as dt

    from aop_map import review
    from aop_map.store import StoreError

    today, months = dt.date.today(), review.review_months()
    due = review.due_for_review(dataset.records, today, months)
    st.markdown(
        f"**{len(due)}** record(s) not verified with the provider in the last "
        f"{months} months (AOP_MAP_REVIEW_MONTHS), oldest first."
    )
    for item in due[:REVIEW_QUEUE_SHOWN]:
        age = (
            "no date at all"
            if item.months_since is None
            else f"{item.months_since} months since "
            + ("last verified" if item.last_verified else "its newest source")
        )
        with st.expander(f"{md_escape(item.name)} · {age}"):
            st.markdown(f"Contact: {md_escape(item.contact)}")
            provider_link("Open the provider page", item.id)
            by = st.text_input(
                "Confirmed with the provider by",
                key=f"review_by_{item.id}",
                max_chars=100,
                placeholder="Your name (and how: phone, email)",
            )
            if st.button(
                "Verified today",
                key=f"review_verify_{item.id}",
                disabled=not by.strip(),
                icon=":material/verified:",
            ):
                try:
                    review.verify(
                        store,
                        item.id,
                        by,
                        moderator.name,
                        today,
                        self_declared=moderator.self_declared,
                    )
                except (StoreError, ValueError, OSError) as error:  # VerifyError too
                    st.error(md_escape(error))
                else:
                    clear_data_cache()
                    st.session_state["moderation_flash"] = (
                        f"Recorded that {md_escape(item.name)} was verified today."
                    )
                    st.rerun()
    if len(due) > REVIEW_QUEUE_SHOWN:
        st.caption(f"{len(due) - REVIEW_QUEUE_SHOWN} more: `aop-map review` lists them all.")


def show_problem_reports(store: SubmissionStore, dataset: Dataset, moderator: Moderator) -> None:
    """The moderation page's open problem reports, each beside its record's name and link,
    with a box to say how it was resolved (who and when are recorded by the store)."""
    from aop_map.store import StoreError

    if flash := st.session_state.pop("report_flash", None):
        st.success(flash)
    reports = store.reports("open")
    st.markdown(f"**{len(reports)}** open problem report(s) from provider pages.")
    for report in reports:
        record = dataset.record(report.record_id)
        with st.expander(
            views.report_title(report, record.name if record else None), expanded=True
        ):
            if record is not None:
                provider_link(record.name, record.id)
            st.code(report.message, language=None, wrap_lines=True)  # shown, never rendered
            st.markdown(views.report_details(report))
            how = st.text_input(
                "How was it resolved?",
                key=f"how_{report.id}",
                max_chars=500,
                placeholder="e.g. record updated; no change needed",
            )
            if st.button("Mark resolved", key=f"resolve_{report.id}", disabled=not how.strip()):
                try:
                    store.resolve_report(
                        report.id,
                        moderator.name,
                        how.strip(),
                        self_declared=moderator.self_declared,
                    )
                except StoreError as error:
                    st.error(md_escape(error))
                else:
                    st.session_state["report_flash"] = f"Resolved {report.id}."
                    st.rerun()
