"""The Register page's logic and words without Streamlit: form values to a sent listing.

Values -> record data, checks, a preview, duplicates, and sending a listing (honeypot,
server-side limit, consent, update or new), opening or withdrawing one with its edit code,
and what the page says around the form (sections, labels, receipts).

The page draws one widget per registry field that has one (``aop_map.fields``: ``widget``)
and hands the values here keyed by field name -- ``locations`` is a list of rows, each keyed
by the location fields' names -- plus the form's own keys (CONSENT, HONEYPOT, UPDATE_OF,
``publish_contact``). ``preview`` checks them and shows what would be published;
``submit_listing`` sends a checked preview. How often anyone may submit is limited on the
server, in limits.py: never in the browser session, which a reload resets.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
from rapidfuzz import fuzz

from aop_map import fields
from aop_map.geocoding import geocode_records, normalise_postcode
from aop_map.limits import register_entries
from aop_map.records import URL_PATTERN, Problem, Record, Schedule, slugify, validate_record
from aop_map.store import REJECTED_KEEP_DAYS, Receipt, StoreError, SubmissionStore
from aop_map.text import md_escape
from aop_map.vocabulary import Vocabulary

# Names this similar (rapidfuzz token_sort_ratio) are probably the same provider.
DUPLICATE_NAME_SCORE = 85
# With the same postcode, a looser name match is enough.
DUPLICATE_NAME_SCORE_SAME_POSTCODE = 60
MAX_LOCATIONS = 3
# Form values that are not record fields.
CONSENT = "consent_listing"  # the submitter agrees the listing may be published
HONEYPOT = "honeypot"  # a field people never see; simple bots fill it in
UPDATE_OF = "update_of"  # the id of the listing this one updates, typed by the submitter
# The choices of a "yes_no" widget: a readiness answer may be left unstated.
YES_NO = ("Not stated", "Yes", "No")
# The duplicate question's answer for a listing that updates none of them.
NEW_LISTING = "No, it is new"
# Labels of the messages about the form itself (the rest are the registry's labels).
FORM_LABELS = {"consent": "Consent"}
# What a suspected bot is told: nothing useful.
NOT_SENT = "Your listing could not be sent."


def field_label(key: str) -> str:
    """The label of a message key: a field (``name``, ``contact.email``), a part
    (``locations``) or the form's own (``consent``)."""
    return FORM_LABELS.get(key) or fields.label_of(key)


def _known_key(key: str) -> bool:
    return key in FORM_LABELS or key in fields.GROUP_LABELS or fields.by_key(key) is not None


@dataclass
class FormCheck:
    """The record data built from a form, and messages keyed by form field."""

    data: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing stops the submission."""
        return not self.errors

    def add(self, key: str, message: str) -> None:
        """Record one message against a field."""
        self.errors.setdefault(key, []).append(message)

    def labelled(self) -> list[tuple[str, str]]:
        """(field label, message) pairs in form order."""
        return [(field_label(k), m) for k, ms in self.errors.items() for m in ms]

    def messages(self) -> list[str]:
        """'Field: message' lines in form order."""
        return [f"{label}: {message}" for label, message in self.labelled()]


def _clean(value: Any) -> str:
    return str(value or "").strip()


def _yes_no(value: Any) -> bool | None:
    return {"Yes": True, "No": False}.get(value)


def _form_value(spec: fields.FieldSpec, raw: Any) -> Any:
    """A widget's value as record data (empty when nothing was given)."""
    if spec.widget == "multiselect":
        return list(raw or [])
    if spec.widget == "yes_no":
        return _yes_no(raw)
    if spec.widget == "list":
        return [part.strip() for part in _clean(raw).split(",") if part.strip()]
    if spec.widget == "lines":
        return [line.strip() for line in _clean(raw).splitlines() if line.strip()]
    return _clean(raw)


def form_to_data(values: dict[str, Any]) -> dict[str, Any]:
    """Record-shaped data from form values (empty fields left out), each field at its place
    in the record (``email`` -> ``contact.email``)."""
    data: dict[str, Any] = {}
    for spec in fields.form_fields():
        if spec.group == "locations":
            continue
        value = _form_value(spec, values.get(spec.name))
        if value is None or value == "" or value == []:
            continue
        if spec.group:
            data.setdefault(spec.group, {})[spec.attribute] = value
        else:
            data[spec.name] = value
    located = fields.form_fields("locations")
    locations = [
        {
            spec.attribute: value
            for spec in located
            if (value := _form_value(spec, row.get(spec.name))) not in (None, "", [])
        }
        for row in values.get("locations") or []
    ]
    if any(locations):
        data["locations"] = [location for location in locations if location]
    data["publish_contact"] = bool(values.get("publish_contact"))
    return data


def check_form(values: dict[str, Any], vocabulary: Vocabulary) -> FormCheck:
    """Build the data and collect field-level messages (schema, consent, locations, links)."""
    check = FormCheck(form_to_data(values))
    data = check.data
    if not values.get(CONSENT):
        check.add("consent", "please agree that the listing may be published")
    if not data.get("locations") and not data.get("areas_served"):
        check.add("locations", "give a postcode or place, or at least one area served")
    for index, location in enumerate(data.get("locations", [])):
        postcode = location.get("postcode")
        if postcode and normalise_postcode(postcode) is None:
            check.add(
                "locations",
                f"location {index + 1}: {postcode!r} is not a UK postcode "
                "(for example GL50 3PR); leave it empty and give a place",
            )
    for source in data.get("sources", []):
        if "://" in source and not URL_PATTERN.match(source):
            check.add("sources", f"{source!r} is not a web address starting http(s)://")
    candidate = {**data, "id": slugify(data.get("name", "") or "listing")}
    _record, problems = validate_record(candidate, vocabulary, source="form")
    for problem in problems:
        key = problem.field or "name"
        key = key if _known_key(key) else key.split(".")[0]
        check.add(key, _friendly(problem))
    return check


def _friendly(problem: Problem) -> str:
    message = problem.message
    message = re.sub(
        r"^String should have at most (\d+) characters?",
        r"too long: at most \1 characters",
        message,
    )
    message = re.sub(r"^String should have at least 1 character", "required", message)
    return message


@dataclass(frozen=True)
class Duplicate:
    """An existing record or pending submission that looks like the same listing."""

    kind: str  # "record" or "submission"
    id: str
    name: str
    score: int


def find_duplicates(
    data: dict[str, Any],
    records: Iterable[Record],
    *,
    pending: Iterable[tuple[str, dict[str, Any]]] = (),
) -> list[Duplicate]:
    """Records and pending submissions whose name (or postcode + name) closely match.

    Only moderators may be shown ``pending`` submissions: a public page passes published
    records alone, so nobody learns another person's pending listing or its reference.
    """
    name = _clean(data.get("name"))
    if not name:
        return []
    postcodes = {normalise_postcode(loc.get("postcode", "")) for loc in data.get("locations", [])}
    postcodes.discard(None)
    candidates = [
        ("record", r.id, r.name, {normalise_postcode(loc.postcode or "") for loc in r.locations})
        for r in records
    ]
    candidates += [
        (
            "submission",
            sid,
            _clean(d.get("name")),
            {normalise_postcode(loc.get("postcode", "")) for loc in d.get("locations", []) or []},
        )
        for sid, d in pending
    ]
    found = []
    for kind, cid, other, other_postcodes in candidates:
        score = int(fuzz.token_sort_ratio(name.lower(), other.lower()))
        shared = bool(postcodes & (other_postcodes - {None}))
        threshold = DUPLICATE_NAME_SCORE_SAME_POSTCODE if shared else DUPLICATE_NAME_SCORE
        if score >= threshold:
            found.append(Duplicate(kind, cid, other, score))
    return sorted(found, key=lambda d: -d.score)[:5]


def consent_record(publish_contact: bool) -> dict[str, Any]:
    """What the submitter agreed to and when (stored with the submission, not published)."""
    return {
        "listing": True,
        "contact": bool(publish_contact),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


# ---------------------------------------------------------------------------------------------
# Preview and sending


@dataclass(frozen=True)
class Preview:
    """A checked form: its messages, the record it makes, where it would be placed, the
    published records it may duplicate, and the values it came from."""

    values: dict[str, Any]
    check: FormCheck
    record: Record | None = None
    frame: gpd.GeoDataFrame | None = None  # the record geocoded, one row per location
    notes: tuple[str, ...] = ()  # geocoding warnings, as plain text
    duplicates: tuple[Duplicate, ...] = ()  # only when no update was named

    @property
    def ok(self) -> bool:
        """True when the listing may be sent."""
        return self.check.ok and self.record is not None

    @property
    def data(self) -> dict[str, Any]:
        """The record data that would be sent."""
        return self.check.data

    @property
    def located(self) -> bool:
        """True when at least one location was placed on the map."""
        return self.frame is not None and bool(self.frame.geometry.notna().any())

    @property
    def update_of(self) -> str | None:
        """The id typed in the form as the listing this one updates, or None."""
        return _clean(self.values.get(UPDATE_OF)) or None

    def update_target(self, choice: str | None = None) -> str | None:
        """The listing this one updates: the id typed, else the duplicate chosen (the
        answer to the duplicate question; NEW_LISTING or None for none)."""
        if self.update_of:
            return self.update_of
        ids = {d.id for d in self.duplicates}
        return choice if choice in ids else None


def preview(
    values: dict[str, Any],
    vocabulary: Vocabulary,
    records: Iterable[Record],
    *,
    geocode: Any = geocode_records,
) -> Preview:
    """Check form values and, when they pass, show what would be published: the record,
    where it would appear (geocoded offline) and likely duplicates among `records`.

    Pass published records only: pending submissions are private to the moderators (their
    names and reference numbers are not for anonymous visitors).
    """
    values = dict(values)
    check = check_form(values, vocabulary)
    if not check.ok:
        return Preview(values, check)
    data = check.data
    record, _ = validate_record({**data, "id": slugify(data["name"])}, vocabulary, source="form")
    if record is None:  # check_form passed, so this is unexpected: say so, send nothing
        check.add("name", "the listing could not be checked; please try again")
        return Preview(values, check)
    frame, notes = geocode([record], vocabulary)
    draft = Preview(values, check, record, frame, tuple(n.message for n in notes))
    if draft.update_of:
        return draft
    return Preview(values, check, record, frame, draft.notes, tuple(find_duplicates(data, records)))


@dataclass(frozen=True)
class Sent:
    """What sending a listing came to: a receipt, or the message to show instead."""

    receipt: Receipt | None = None
    error: str | None = None


def submit_listing(
    store: SubmissionStore, checked: Preview, *, client: str, update_of: str | None = None
) -> Sent:
    """Send a checked listing for review: refused for a bot (the honeypot was filled), when
    the server-side limit for `client` (or everyone) is reached, or when the store fails.

    The attempt is counted before the listing is saved, so a listing that then fails to save
    still counts (so does a script's). The consent given is stored with it, not published.
    """
    if not checked.ok:
        return Sent(error="The listing has problems to correct before it can be sent.")
    if _clean(checked.values.get(HONEYPOT)):
        return Sent(error=NOT_SENT)
    outcome = store.limits.attempt(*register_entries(client))
    if outcome.refused is not None:
        return Sent(
            error="Several listings have been sent from here (or by everyone) just "
            f"now. Please try again in {outcome.refused.wait_text}."
        )
    data = {**checked.data, "consent": consent_record(checked.data["publish_contact"])}
    try:
        receipt = store.submit(data, update_of=update_of)
    except StoreError as error:
        return Sent(error=f"Your listing could not be saved: {error}")
    return Sent(receipt=receipt)


# ---------------------------------------------------------------------------------------------
# Updating a listing with its edit code, and problem reports from provider pages


def _line(spec: fields.FieldSpec, value: Any) -> str:
    """One item of a list field as a line of its widget: a source's address or title, a
    schedule in words."""
    if not isinstance(value, dict):
        return str(value)
    if spec.datatype == "schedules":
        try:
            return Schedule.model_validate(value).describe()
        except ValueError:
            return str(value.get("description") or "")
    return value.get("url") or value.get("title") or ""


def _widget_value(spec: fields.FieldSpec, value: Any) -> Any:
    """A record value as its widget shows it (the inverse of ``_form_value``)."""
    if spec.widget == "multiselect":
        return list(value or [])
    if spec.widget == "yes_no":
        return {True: "Yes", False: "No"}.get(value, YES_NO[0])
    if spec.widget in ("list", "lines"):
        texts = [_line(spec, v) for v in value or []]
        return (", " if spec.widget == "list" else "\n").join(t for t in texts if t)
    if spec.widget in ("select", "radio"):
        return value
    return "" if value is None else str(value)


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    """The register form's values for record data: the form prefilled for an update.

    The inverse of ``form_to_data``: field name -> widget value, ``locations`` a list of
    MAX_LOCATIONS rows, plus ``publish_contact``. Values a widget cannot show are left out.
    """
    values: dict[str, Any] = {}
    for spec in fields.form_fields():
        if spec.group == "locations":
            continue
        part = data.get(spec.group) if spec.group else data
        value = (
            part.get(spec.attribute if spec.group else spec.name)
            if isinstance(part, dict)
            else None
        )
        if value is None and spec.widget in ("select", "radio"):
            continue
        values[spec.name] = _widget_value(spec, value)
    rows = [row for row in data.get("locations") or [] if isinstance(row, dict)]
    located = fields.form_fields("locations")
    values["locations"] = [
        {spec.name: _widget_value(spec, row.get(spec.attribute)) for spec in located}
        for row in [*rows, *[{}] * MAX_LOCATIONS][:MAX_LOCATIONS]
    ]
    values["publish_contact"] = data.get("publish_contact") is True
    return values


def send_update(
    store: SubmissionStore, reference: str, code: str, checked: Preview, *, client: str
) -> Sent:
    """Send a checked, changed listing with its reference and edit code: it becomes a change
    pending review (the published record stays until a moderator approves it). The edit code
    goes through the store's brute-force limits, as for withdrawal."""
    if not checked.ok:
        return Sent(error="The listing has problems to correct before it can be sent.")
    if _clean(checked.values.get(HONEYPOT)):
        return Sent(error=NOT_SENT)
    data = {**checked.data, "consent": consent_record(checked.data["publish_contact"])}
    try:
        submission = store.edit(reference, code, data, client=client)
    except StoreError as error:
        return Sent(error=str(error))
    return Sent(receipt=Receipt(submission.id, ""))


@dataclass(frozen=True)
class ReportSent:
    """What sending a problem report came to: its reference, or the message to show."""

    reference: str | None = None
    error: str | None = None


def send_report(
    store: SubmissionStore, record_id: str, values: dict[str, Any], *, client: str
) -> ReportSent:
    """Send a problem report from a provider page: the form's ``topic``, ``message``,
    ``email`` and HONEYPOT. Limited on the server as the Register form is (the same counters:
    one allowance for everything a visitor sends us), sizes checked by the store."""
    if _clean(values.get(HONEYPOT)):
        return ReportSent(error="Your report could not be sent.")
    outcome = store.limits.attempt(*register_entries(client))
    if outcome.refused is not None:
        return ReportSent(
            error="Several messages have been sent from here (or by everyone) "
            f"just now. Please try again in {outcome.refused.wait_text}."
        )
    try:
        reference = store.report_problem(
            record_id,
            _clean(values.get("topic")),
            str(values.get("message") or ""),
            _clean(values.get("email")) or None,
        )
    except StoreError as error:
        return ReportSent(error=f"Your report could not be sent: {error}")
    return ReportSent(reference=reference)


# ---------------------------------------------------------------------------------------------
# What the Register page says and does around the form (plain data: the page only draws it)

# The form's sections in order: heading, caption (or None), and the parts of a record drawn
# there (``fields`` groups, ``""`` the top level) with their columns. ``locations`` is drawn
# MAX_LOCATIONS times, one row each; the form's own boxes follow the last section.
FORM_SECTIONS: tuple[tuple[str, str | None, tuple[tuple[str, int], ...]], ...] = (
    ("About the activity", None, (("", 1),)),
    (
        "Where",
        "A postcode or a town or village for each place you work (a venue, not a home "
        "address). Leave these empty if you list areas served instead.",
        (("locations", 3),),
    ),
    (
        "Cost and who can join",
        'Leave anything you are not sure of empty: the map then says "not stated".',
        (("cost", 2), ("eligibility", 3)),
    ),
    ("Readiness (what commissioners ask)", None, (("readiness", 3),)),
    ("Contact details", None, (("contact", 2),)),
)
# What the Register page says first: who may list, and what is published.
INTRO = """
List your organisation, your practice as a freelance artist, or a programme, so that
commissioners, social prescribers and the public can find it. **A moderator checks every
listing before it appears on the map.**

**What we publish:** everything you enter below *except* your contact details, which are
published only if you tick the separate box for them. We ask for a town or the areas you
serve, never a home address: freelance artists can list the areas they work in instead.
You get a reference number and a private edit code to update or withdraw the listing at any
time; withdrawing removes it from the public map.
"""
# Said above the preview of a checked listing.
PREVIEW_NOTE = (
    "This is your listing's page as the public will see it once a moderator has "
    "approved it (contact details only if you chose to publish them)."
)
# Said above the form that opens a listing for an update or withdraws it.
WITHDRAW_NOTE = (
    "With the reference number and the edit code you were given: *Update* fills "
    "the form above with your listing to change it; *Withdraw* removes it from the map. "
    f"A listing we turned down keeps its contact details for {REJECTED_KEEP_DAYS} days; "
    "after that, enter them again to resend it."
)
# The labels of the form's own boxes, after the record's fields.
PUBLISH_CONTACT_LABEL = (
    "Publish these contact details on the map (optional; without this, only the "
    "moderators see them)"
)
CONSENT_LABEL = (
    "I agree that this listing, apart from contact details I have not chosen to publish, "
    "may be published on the map and in exports *"
)
UPDATE_OF_LABEL = "Updating an existing listing? Its id (optional)"
UPDATE_OF_HELP = (
    "Shown on its provider page, e.g. art-shape. With your reference and edit "
    "code, use *Update or withdraw a listing* below instead."
)
# Said under a new listing's receipt, above the edit code.
EDIT_CODE_NOTE = (
    "Your **private edit code** is shown only once. Keep it safe: with it you "
    "can update or withdraw the listing. If we turn it down, you can fix and resend it: "
    f"we delete its contact details {REJECTED_KEEP_DAYS} days after turning it down."
)


def receipt_state(receipt: Receipt, *, update: bool) -> dict[str, Any]:
    """What the page keeps of a sent listing to show its receipt: reference, edit code (empty
    for an update) and whether it was an update."""
    return {"id": receipt.id, "edit_code": receipt.edit_code, "update": update}


def receipt_text(receipt: dict[str, Any]) -> tuple[str, str]:
    """(the thanks, the label of the button back to the form) for a ``receipt_state``."""
    if receipt.get("update"):
        return (
            f"Thank you. Your change to listing **{receipt['id']}** was received. A "
            "moderator will review it; until then the map shows the listing as it was.",
            "Back to the form",
        )
    return (
        f"Thank you. Your listing was received with reference **{receipt['id']}**. "
        "A moderator will review it before it appears on the map.",
        "Register another listing",
    )


def updating_note(updating: dict[str, str]) -> str:
    """What the page says while a listing opened with its edit code is being changed."""
    note = (
        f"You are updating listing **{updating['id']}**: change what you need, check it "
        "and send it. A moderator reviews the change before the map shows it."
    )
    if erased := updating.get("erased"):
        note += (
            f" It was turned down more than {REJECTED_KEEP_DAYS} days ago, so we deleted its "
            f"contact details on {erased}: please enter them again."
        )
    return note


def error_lines(check: FormCheck) -> list[str]:
    """A failed check's messages as escaped Markdown list items: ``- **label**: message``."""
    return [
        f"- **{md_escape(label)}**: {md_escape(message)}" for label, message in check.labelled()
    ]


def duplicate_lines(duplicates: Iterable[Duplicate]) -> list[str]:
    """Published listings a preview may duplicate, as escaped Markdown list items."""
    return [f"- {md_escape(d.name)} (record {md_escape(d.id)})" for d in duplicates]


def send_listing(
    store: SubmissionStore,
    checked: Preview,
    *,
    client: str,
    updating: dict[str, str] | None = None,
    choice: str | None = None,
) -> Sent:
    """Send a checked listing: as a change to the listing opened with its edit code
    (``updating``: {"id", "code"}), else as a new one, updating the listing the submitter
    named or chose among the duplicates (``choice``)."""
    if updating:
        return send_update(store, updating["id"], updating["code"], checked, client=client)
    return submit_listing(store, checked, client=client, update_of=checked.update_target(choice))


@dataclass(frozen=True)
class Opened:
    """A listing opened for an update with its edit code: what the page keeps while it is
    changed ({"id", "code"}) and the form's values, or the message to show instead."""

    updating: dict[str, str] | None = None
    values: dict[str, Any] | None = None
    error: str | None = None


def open_listing(store: SubmissionStore, reference: str, code: str, *, client: str) -> Opened:
    """Open a listing to update it with its reference and edit code (both stripped), through
    the store's brute-force limits; its data becomes the form's values."""
    try:
        opened = store.open_for_update(reference.strip(), code.strip(), client=client)
    except StoreError as error:
        return Opened(error=str(error))
    updating = {"id": opened.id, "code": code.strip()}
    if opened.personal_erased_at is not None:
        updating["erased"] = opened.personal_erased_at.date().isoformat()
    return Opened(updating, form_values(opened.data))


def withdraw_listing(
    store: SubmissionStore, reference: str, code: str, *, client: str
) -> str | None:
    """Withdraw a listing with its reference and edit code (both stripped): None when done,
    else why not (the store's message)."""
    try:
        store.withdraw(reference.strip(), code.strip(), client=client)
    except StoreError as error:
        return str(error)
    return None
