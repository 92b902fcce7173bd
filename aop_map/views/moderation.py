"""Moderation text for submissions and reports (escaped) and approving an edit; no Streamlit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import yaml

from aop_map.records import Record
from aop_map.store import (
    REPORT_EMAIL_DAYS,
    REPORT_TOPICS,
    ProblemReport,
    StoreError,
    Submission,
    SubmissionStore,
)
from aop_map.text import md_escape


def submission_yaml(data: dict[str, Any] | None) -> str:
    """A submission as the YAML a moderator reads and may edit."""
    return yaml.safe_dump(data or {}, allow_unicode=True, sort_keys=False)


def submission_title(submission: Submission) -> str:
    """'<reference> · <name>', escaped (an expander label renders Markdown links too)."""
    return f"{submission.id} · {md_escape((submission.data or {}).get('name', '(no name)'))}"


# A pending listing older than this is flagged: its provider has waited long enough.
PENDING_WAIT_DAYS = 14


def submission_received(submission: Submission, now: dt.datetime | None = None) -> str:
    """When it came (and, while pending, how long it has waited, flagged after
    PENDING_WAIT_DAYS), which record it would update, and whether its personal details were
    deleted after a rejection."""
    now = now or dt.datetime.now(dt.UTC)
    text = f"Received {submission.created.astimezone(dt.UTC):%d %b %Y %H:%M} UTC"
    if submission.status == "pending":
        days = max(0, (now - submission.created).days)
        waited = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
        text += f" ({waited})" + (
            f" · **waiting more than {PENDING_WAIT_DAYS} days**" if days > PENDING_WAIT_DAYS else ""
        )
    if submission.update_of:
        text += f" · update of **{md_escape(submission.update_of)}**"
    if submission.personal_erased_at is not None:
        text += (
            f" · personal details deleted on {submission.personal_erased_at:%d %b %Y} "
            "(turned down long ago)"
        )
    return text


def duplicates_note(duplicates: Sequence[Any]) -> str | None:
    """'Possible duplicates: Name (kind id), ...' for registration.find_duplicates, or None."""
    if not duplicates:
        return None
    return "Possible duplicates: " + ", ".join(
        f"{md_escape(d.name)} ({d.kind} {md_escape(d.id)})" for d in duplicates
    )


def changes_table(changes: Sequence[tuple[str, Any, Any]]) -> pd.DataFrame:
    """What an update changes (SubmissionStore.diff), as text: field, now, proposed."""
    return pd.DataFrame(
        [{"Field": f, "Now": str(old), "Proposed": str(new)} for f, old, new in changes],
        columns=["Field", "Now", "Proposed"],
    )


def approve_edited(
    store: SubmissionStore,
    submission: Submission,
    edited: str,
    moderator: str,
    *,
    self_declared: bool,
) -> tuple[Record | None, str | None]:
    """Approve a submission as the moderator left its YAML: (published record, None), or
    (None, why not) -- bad YAML or every problem the store found, escaped."""
    try:
        changed = yaml.safe_load(edited)
        record = store.approve(
            submission.id,
            moderator,
            data=changed if changed != submission.data else None,
            self_declared=self_declared,
        )
    except (StoreError, yaml.YAMLError) as error:
        messages = getattr(error, "problems", None) or [error]
        return None, "Not approved: " + "; ".join(md_escape(m) for m in messages)
    return record, None


def update_heading(submission: Submission, changed: int) -> str:
    """What an update submission proposes, as escaped Markdown."""
    target = md_escape(submission.update_of or "")
    if not changed:
        return f"**An update to the published record {target}: it changes nothing.**"
    return (
        f"**An update to the published record {target}:** {changed} field(s) change, "
        "field by field below (approving publishes the proposed values)."
    )


def report_title(report: ProblemReport, record_name: str | None) -> str:
    """An expander label for one problem report: reference, record, topic (escaped)."""
    name = record_name if record_name is not None else f"{report.record_id} (no longer listed)"
    topic = REPORT_TOPICS.get(report.topic, report.topic)
    return f"{report.id} · {md_escape(name)} · {md_escape(topic)}"


def reports_about(reports: Sequence[ProblemReport], record_id: str | None) -> str | None:
    """A note that open problem reports concern the record a submission changes, or None."""
    ids = [r.id for r in reports if record_id and r.record_id == record_id]
    if not ids:
        return None
    return (
        f"{len(ids)} open problem report(s) about this record ({', '.join(ids)}): see "
        "Problem reports below."
    )


def report_details(report: ProblemReport) -> str:
    """When a report came, the reply address (or none, or when it was erased) and how long it
    is kept, and, once resolved, who and how."""
    lines = [f"Received {report.created:%d %b %Y %H:%M} UTC."]
    if report.email:
        until = report.created + dt.timedelta(days=REPORT_EMAIL_DAYS)
        lines.append(
            f"Reply to: {md_escape(report.email)} (reply before resolving: resolving erases "
            f"this address, and it is erased anyway on {until:%d %b %Y})"
        )
    elif report.email_erased_at:
        lines.append(
            f"The reply address was erased on {report.email_erased_at:%d %b %Y} (it is kept "
            f"only until the report is resolved, at most {REPORT_EMAIL_DAYS} days)."
        )
    else:
        lines.append("No reply address given.")
    if report.status == "resolved":
        when = f"{report.resolved_at:%d %b %Y}" if report.resolved_at else "?"
        lines.append(
            f"Resolved by {md_escape(report.resolved_by)} on {when}: {md_escape(report.resolution)}"
        )
    return "\n\n".join(lines)
