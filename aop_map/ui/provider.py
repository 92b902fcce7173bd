"""The provider page's body (the Register preview draws it too), its banners, links and
problem-report form; it writes nothing but a report through registration.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import streamlit as st

from aop_map import fields, views
from aop_map.dataset import Dataset
from aop_map.store import SubmissionStore
from aop_map.text import md_escape
from aop_map.ui.auth import client_address
from aop_map.ui.data import get_district_outlines, get_places
from aop_map.ui.layout import replace_query_params
from aop_map.ui.maps import show_map, show_tiles_note, tiles_enabled

# How each kind of provider-page banner looks (views.provider_banners gives the words).
BANNER_ICONS = {
    "ended": ":material/history:",
    "elsewhere": ":material/public:",
    "out_of_date": ":material/update:",
}


def show_lifecycle_banners(record: Any) -> None:
    """At the top of a provider page: ended, an example elsewhere, or "may be out of date"."""
    import datetime as dt

    from aop_map.review import review_months

    for kind, text in views.provider_banners(record, dt.date.today(), review_months()):
        show = st.info if kind == "elsewhere" else st.warning
        show(text, icon=BANNER_ICONS[kind])


# The county's arts umbrella body: who to ask when a provider publishes no contact details.
UMBRELLA_ID = "create-gloucestershire"


def put_record_in_url(record_id: str) -> None:
    """Make the address ``?id=<record_id>`` (nothing else), sent on every run.

    A link to the page already shown (``st.page_link`` from one provider to another) reruns it
    with the new query string but leaves the address bar alone, and a write of the same values
    is skipped by ``replace_query_params``. Sent always, the browser compares it with its
    address and pushes a history entry when they differ (the link followed, so Back returns),
    else does nothing.
    """
    if record_id:
        st.query_params.from_dict({"id": record_id})
    else:
        replace_query_params({})


def provider_link(name: str, record_id: str, icon: str = ":material/arrow_forward:") -> None:
    """A link to another record's page that changes the address (``?id=``) as it goes:
    reload, bookmarks, sharing and Back all follow the record shown."""
    st.page_link(
        "pages/provider.py", label=md_escape(name), icon=icon, query_params={"id": record_id}
    )


def show_provider(
    record: Any, rows: gpd.GeoDataFrame, dataset: Dataset, *, map_key: str | None = None
) -> None:
    """Everything public about one record, as the public sees it: title, facts, contact
    (email and phone as links when published), where (with directions) and a small map,
    sources. `rows` are the record's geocoded rows; `dataset` gives the vocabulary and the
    records its organisation and partners may link to."""
    from aop_map.mapping import build_location_map

    vocab = dataset.vocabulary
    st.title(md_escape(record.name))
    st.markdown(views.headline(record, vocab))
    if record.summary:
        st.markdown(md_escape(record.summary))
    main, side = st.columns([3, 2], gap="large")
    with main:
        _show_provider_facts(record, dataset)
    with side:
        _show_provider_contact(record, dataset)
        st.subheader("Where")
        for number, (line, directions) in enumerate(views.located_lines(rows)):
            st.markdown(line)
            if directions:
                st.link_button(
                    "Directions",
                    directions,
                    icon=":material/directions:",
                    key=f"directions_{map_key or record.id}_{number}",
                )
        if rows.geometry.notna().any():
            show_map(
                lambda: build_location_map(
                    rows,
                    vocab,
                    districts=get_district_outlines(dataset),
                    places=get_places(),
                    tiles=tiles_enabled(),
                ),
                key=map_key or f"location_map_{record.id}",
                height=300,
                use_container_width=True,
                returned_objects=[],
            )
            show_tiles_note(small=True)
    st.subheader("Sources")
    st.markdown(views.source_list(record.sources))
    st.caption(f"{views.dates_sentence(record)} Record id: {md_escape(record.id)}.")


def _show_provider_facts(record: Any, dataset: Dataset) -> None:
    if record.description:
        st.subheader("About")
        st.markdown("\n\n".join(views.paragraphs(record.description)))
    st.subheader("What, who and how")
    for label, values in fields.facts(record, dataset.vocabulary):
        st.markdown(f"**{label}:** " + (md_escape(", ".join(values)) if values else "not stated"))
    related = views.related_records(record, dataset.records)
    if related:
        st.markdown("**On this map too:**")
        for name, record_id in related:
            provider_link(name, record_id)
    st.subheader("Readiness")
    st.markdown("\n\n".join(views.readiness_lines(record.readiness)))
    if record.notes:
        st.subheader("Notes")
        st.markdown("\n\n".join(views.paragraphs(record.notes)))


def _show_provider_contact(record: Any, dataset: Dataset) -> None:
    st.subheader("Contact")
    contact = record.contact
    published = views.contact_markdown(contact.website, contact.email, contact.phone)
    if record.publish_contact and published:
        if contact.name:
            st.markdown(md_escape(contact.name))
        st.markdown(published)
        return
    st.markdown(
        "This provider has not published contact details here. Commissioners "
        "can reach Gloucestershire providers through Create Gloucestershire, the "
        "county's arts umbrella body, or through the partners and sources listed."
    )
    if dataset.record(UMBRELLA_ID) is not None and record.id != UMBRELLA_ID:
        provider_link("Create Gloucestershire", UMBRELLA_ID)


def show_report_form(store: SubmissionStore, record: Any) -> None:
    """ "Report a problem with this listing": topic, message, optional email for a reply;
    a honeypot, and the Register form's server-side limit (registration.send_report)."""
    from aop_map import registration as reg
    from aop_map.store import (
        MAX_REPORT_EMAIL,
        MAX_REPORT_MESSAGE,
        REPORT_EMAIL_DAYS,
        REPORT_TOPICS,
    )

    sent = st.session_state.get("report_sent")
    with st.expander("Report a problem with this listing", expanded=bool(sent)):
        if sent and sent[0] == record.id:
            st.success(f"Thank you: your report {sent[1]} was sent to the moderators.")
        with st.form(f"report_form_{record.id}", clear_on_submit=True):
            values = {
                "topic": st.radio(
                    "What is wrong?",
                    list(REPORT_TOPICS),
                    format_func=REPORT_TOPICS.get,
                    key="report_topic",
                ),
                "message": st.text_area(
                    "What should we know?", max_chars=MAX_REPORT_MESSAGE, key="report_message"
                ),
                "email": st.text_input(
                    "Your email, if you would like a reply (optional; only the moderators see "
                    "it, and it is deleted once your report is dealt with, or after "
                    f"{REPORT_EMAIL_DAYS} days)",
                    max_chars=MAX_REPORT_EMAIL,
                    key="report_email",
                ),
                reg.HONEYPOT: st.text_input(
                    "Leave this field empty", key="report_hp", label_visibility="collapsed"
                ),
            }
            if st.form_submit_button("Send the report"):
                result = reg.send_report(store, record.id, values, client=client_address())
                if result.reference is None:
                    st.error(md_escape(result.error))
                else:
                    st.session_state["report_sent"] = (record.id, result.reference)
                    st.rerun()
    st.html("<style>.st-key-report_hp{position:absolute;left:-9999px}</style>")
