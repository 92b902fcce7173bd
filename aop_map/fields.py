"""Every record field declared once: label, vocabulary, facet, table, CSV, form, privacy, ORUK.

One ``FieldSpec`` per field, in the spirit of datasette's facet classes: a small frozen
dataclass that says what the field is, and every layer reads it --

- ``vocabulary`` and ``records``: which fields are controlled, by which vocabulary section,
  and whether they hold one term or a list (``section``, ``many``);
- ``geocoding.frame``: the frame's record columns (``frame``, ``column``), personal ones
  (``personal``) blank unless the provider agreed to publish them;
- ``filtering`` and ``ui``: the facets, their URL parameters and sidebar order (``facet``,
  ``facet_rank``, ``filterable``), the table and export columns (``table``, ``directory``);
- ``loading``: the CSV header spellings (``csv_aliases``);
- ``registration`` and the register page: the form widgets (``widget``, ``required``,
  ``max_chars``, ``help``, ``placeholder``);
- the provider page: the facts listed (``facts``);
- ``oruk``: the Open Referral UK (HSDS) name a field maps to, for exports.

``FIELDS`` is read *when a question is asked*, never copied at import: a test (or a fork) that
replaces it -- ``monkeypatch.setattr(fields, "FIELDS", (*fields.FIELDS, extra))`` -- sees the
new field flow through the URL round trip, the filter index, the sidebar, the table, the CSV
headers, the frame and the register form. Answers are memoised per registry object, so asking
costs a dictionary lookup.

Adding a field is one entry here, its vocabulary section (when it is controlled) and its tests.
A top-level field the pydantic ``Record`` has no attribute for is still validated (its terms
normalised, its length checked) and kept as a pydantic extra: ``record.<name>`` reads it and
``model_dump`` writes it back beside the others (see ``records.Record``). Fields inside the
structured parts of a record (``contact.*``, ``locations.*``, ``readiness.*``) are declared here
too, for their labels, CSV spellings, form widgets and ORUK names, but a new one also needs its
attribute on that part's model.

This module imports nothing from aop_map: every other module may read it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

# Lengths are generous for real descriptions but stop a pasted essay (or an attack) bloating
# every page that shows the record. The record schema and the form's max_chars both use them.
MAX_NAME = 200
MAX_SUMMARY = 500
MAX_DESCRIPTION = 5000
MAX_SHORT = 300
MAX_LIST = 50
MAX_PHONE = 30
MAX_POSTCODE = 12
MAX_SOURCES_TEXT = 2000

# Form widget kinds the register page knows how to draw (see ui.field_widget).
WIDGETS = frozenset(
    {
        "text",  # one line of text
        "textarea",  # paragraphs
        "select",  # one vocabulary term, from a drop-down
        "radio",  # one vocabulary term, from a row of buttons
        "multiselect",  # several vocabulary terms
        "list",  # free text, comma separated
        "lines",  # free text, one per line
        "yes_no",  # Yes / No / Not stated
    }
)
DATATYPES = frozenset(
    {"text", "url", "bool", "date", "number", "sources", "schedules", "cost", "eligibility"}
)
# The structured parts of a record, by the first part of a field's path.
GROUP_LABELS = {
    "contact": "Contact",
    "locations": "Locations",
    "readiness": "Readiness",
    "cost": "Cost",
    "eligibility": "Who can join",
}
# What pages and exports say of a field with ``not_stated`` that a record leaves out: the
# sources were silent, so nothing is invented (not "no", not "free").
NOT_STATED = "Not stated"
# The vocabulary section of a yes/no facet (free=1): one term, "1" (yes), so a facet, its URL
# parameter and its count work as every other facet's.
STATED = "stated"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record, and how each layer shows, filters, imports and exports it."""

    name: str  # the record attribute, form value key and canonical CSV column
    label: str  # a heading for its values: form, table, provider page, messages
    help: str = ""  # one sentence for the form
    section: str | None = None  # vocabulary section: a controlled field; None is free text
    many: bool = False  # a list of values rather than one
    datatype: str = "text"  # text, url, bool, date, number or sources
    path: str | None = None  # where it sits in a record's data ("contact.email"); None: name
    column: str | None = None  # its frame and table column; None: name
    frame: bool = True  # carried by the geocoded frame (one value per row)
    facet: str | None = None  # facet name: Selection key, URL parameter, count name
    # (a bool field's facet is a yes-only filter: ``free=1`` keeps the records stating it)
    facet_label: str | None = None  # the sidebar's label for one choice; None: label
    facet_rank: int = 100  # sidebar and URL order of the facets (then registry order)
    filterable: bool = True  # a facet that is also a filter (kind is only counted)
    table: bool = False  # a column of records_table: exports (CSV, GeoJSON properties)
    directory: bool = False  # also shown in the directory's grid
    facts: bool = False  # listed under "What, who and how" on the provider page
    csv_aliases: tuple[str, ...] = ()  # header spellings, as normalised by normalise_header
    widget: str | None = None  # register form widget kind (WIDGETS); None: not on the form
    required: bool = False  # the form marks it with *
    max_chars: int | None = None  # the form's limit (the schema uses the same constants)
    placeholder: str = ""
    personal: bool = False  # contact details: published only with the provider's consent
    oruk: str | None = None  # the Open Referral UK name it maps to; None: no counterpart
    not_stated: bool = False  # pages and exports say NOT_STATED when a record has no value

    # Derived once per field (cached_property writes the instance's __dict__ directly, which a
    # frozen dataclass allows): loaders ask these for every cell of every row.
    @cached_property
    def key(self) -> str:
        """Its dotted place in a record's data: ``contact.email``, or the name at the top."""
        return self.path or self.name

    @cached_property
    def group(self) -> str:
        """The structured part it belongs to (``contact``, ``locations``...), or ""."""
        return self.key.split(".")[0] if "." in self.key else ""

    @cached_property
    def attribute(self) -> str:
        """Its attribute name inside its group (``email``), or the name at the top."""
        return self.key.rsplit(".", 1)[-1]

    @cached_property
    def column_name(self) -> str:
        """Its frame and table column."""
        return self.column or self.name

    @property
    def controlled(self) -> bool:
        """True when its values are vocabulary terms."""
        return self.section is not None


def _terms(
    name: str,
    label: str,
    section: str,
    facet: str,
    facet_label: str,
    rank: int,
    aliases: tuple[str, ...],
    oruk: str,
    **more: Any,
) -> FieldSpec:
    """A controlled list field: a facet, a table column, a multiselect and a provider fact."""
    return FieldSpec(
        name,
        label,
        section=section,
        many=True,
        facet=facet,
        facet_label=facet_label,
        facet_rank=rank,
        table=True,
        directory=True,
        facts=True,
        csv_aliases=aliases,
        widget="multiselect",
        oruk=oruk,
        **more,
    )


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "id",
        "Record id",
        column="record_id",
        table=True,
        csv_aliases=("id", "recordid", "slug"),
        oruk="service.id",
    ),
    FieldSpec(
        "name",
        "Name",
        help="The organisation, artist or programme name",
        table=True,
        directory=True,
        widget="text",
        required=True,
        max_chars=MAX_NAME,
        csv_aliases=(
            "name",
            "organisationname",
            "organizationname",
            "providername",
            "provider",
            "activityname",
            "title",
        ),
        oruk="service.name",
    ),
    FieldSpec(
        "kind",
        "Kind",
        section="kinds",
        facet="kind",
        facet_rank=90,
        filterable=False,
        table=True,
        directory=True,
        widget="select",
        required=True,
        csv_aliases=("kind", "type", "providertype", "recordtype"),
        oruk="organization or service (the record type)",
    ),
    FieldSpec(
        "status",
        "Status",
        section="statuses",
        facet="status",
        facet_rank=5,
        help="Established: running or commissioned. Emerging: new, a pilot, or looking "
        "for its first commission.",
        table=True,
        directory=True,
        widget="radio",
        required=True,
        csv_aliases=("status", "stage"),
        oruk="attribute:statuses",
    ),
    FieldSpec(
        "summary",
        "Short summary",
        table=True,
        widget="text",
        max_chars=MAX_SUMMARY,
        csv_aliases=("summary", "shortdescription", "strapline"),
        oruk="service.description (its first paragraph)",
    ),
    FieldSpec(
        "description",
        "Description",
        widget="textarea",
        max_chars=MAX_DESCRIPTION,
        csv_aliases=("description", "details", "about", "longdescription"),
        oruk="service.description",
    ),
    FieldSpec(
        "organisation",
        "Parent organisation",
        help="If it is part of a larger one",
        table=True,
        widget="text",
        max_chars=MAX_SHORT,
        csv_aliases=(
            "organisation",
            "organization",
            "parentorganisation",
            "parent",
            "leadorganisation",
        ),
        oruk="organization.name",
    ),
    _terms(
        "art_forms",
        "Art forms",
        "art_forms",
        "art_form",
        "Art form",
        2,
        ("artforms", "artform", "arts", "artsactivity"),
        "attribute:art_forms",
    ),
    _terms(
        "conditions",
        "Health conditions",
        "conditions",
        "condition",
        "Health condition",
        1,
        ("conditions", "healthconditions", "condition", "healthcondition", "healthfocus", "health"),
        "attribute:conditions",
    ),
    _terms(
        "age_groups",
        "Age groups",
        "age_groups",
        "age_group",
        "Age group",
        3,
        ("agegroups", "agegroup", "ages", "age"),
        "attribute:age_groups (and service.minimum_age, maximum_age)",
    ),
    _terms(
        "areas_served",
        "Areas served",
        "areas",
        "district",
        "District or area",
        4,
        ("areasserved", "areas", "area", "districts", "coverage"),
        "service_areas",
    ),
    _terms(
        "delivery",
        "Delivery",
        "delivery",
        "delivery",
        "Delivery",
        6,
        ("delivery", "deliverymode", "mode"),
        "attribute:delivery",
    ),
    _terms(
        "referral_routes",
        "Referral routes",
        "referral_routes",
        "referral",
        "Referral route",
        7,
        ("referralroutes", "referralroute", "referral", "referrals", "howtorefer"),
        "attribute:referral_routes",
    ),
    _terms(
        "commissioning_models",
        "Commissioning models",
        "commissioning_models",
        "model",
        "Commissioning model",
        8,
        ("commissioningmodels", "commissioningmodel", "commissioning", "fundingmodel"),
        "funding.source",
    ),
    FieldSpec(
        "partners",
        "Partners",
        many=True,
        frame=False,
        facts=True,
        csv_aliases=("partners", "consortium", "partnerorganisations", "partnerorganizations"),
    ),
    # Where: one row of the frame per location. A venue, never a home address.
    FieldSpec(
        "location_label",
        "Venue",
        path="locations.label",
        widget="text",
        max_chars=MAX_SHORT,
        csv_aliases=("venue", "venuename", "locationname"),
        oruk="location.name",
    ),
    FieldSpec(
        "address",
        "Address",
        path="locations.address",
        csv_aliases=("address", "streetaddress"),
        oruk="location.addresses.address_1",
    ),
    FieldSpec(
        "postcode",
        "Postcode",
        path="locations.postcode",
        widget="text",
        max_chars=MAX_POSTCODE,
        csv_aliases=("postcode", "postcodes", "postalcode"),
        oruk="location.addresses.postal_code",
    ),
    FieldSpec(
        "place",
        "Town or village",
        path="locations.place",
        widget="text",
        max_chars=MAX_SHORT,
        csv_aliases=("place", "town", "village", "city", "placename", "location", "district"),
        oruk="location.addresses.city",
    ),
    FieldSpec(
        "lat",
        "Latitude",
        datatype="number",
        path="locations.lat",
        csv_aliases=("lat", "latitude"),
        oruk="location.latitude",
    ),
    FieldSpec(
        "lon",
        "Longitude",
        datatype="number",
        path="locations.lon",
        csv_aliases=("lon", "lng", "long", "longitude"),
        oruk="location.longitude",
    ),
    # Contact details: personal, shown and exported only when publish_contact is true.
    FieldSpec(
        "website",
        "Website",
        datatype="url",
        path="contact.website",
        table=True,
        directory=True,
        widget="text",
        max_chars=MAX_SHORT,
        placeholder="https://",
        personal=True,
        csv_aliases=("website", "web", "url", "site", "webaddress"),
        oruk="service.url",
    ),
    FieldSpec(
        "email",
        "Email",
        path="contact.email",
        table=True,
        directory=True,
        widget="text",
        max_chars=MAX_SHORT,
        personal=True,
        csv_aliases=("email", "emailaddress"),
        oruk="service.email",
    ),
    FieldSpec(
        "phone",
        "Phone",
        path="contact.phone",
        table=True,
        directory=True,
        widget="text",
        max_chars=MAX_PHONE,
        personal=True,
        csv_aliases=("phone", "telephone", "tel", "phonenumber", "telephonenumber"),
        oruk="contacts.phones.number",
    ),
    FieldSpec(
        "contact_name",
        "Contact name",
        path="contact.name",
        table=True,
        widget="text",
        max_chars=MAX_SHORT,
        personal=True,
        csv_aliases=("contact", "contactname", "contactperson"),
        oruk="contacts.name",
    ),
    FieldSpec(
        "publish_contact",
        "Publish contact details",
        datatype="bool",
        csv_aliases=(
            "publishcontact",
            "publishcontactdetails",
            "consent",
            "consenttopublish",
            "consenttopublishcontact",
        ),
    ),
    # Lifecycle and dates (issue 12): when it ran, what the record rests on, who confirmed it.
    FieldSpec(
        "started",
        "Started",
        datatype="date",
        help="The year (or date) it began, when a source says so",
        csv_aliases=("started", "startyear", "startdate", "began", "since"),
    ),
    FieldSpec(
        "ended",
        "Ended",
        datatype="date",
        help="The year (or date) it finished, when a source says so",
        csv_aliases=("ended", "endyear", "enddate", "finished"),
    ),
    FieldSpec(
        "scope",
        "Scope",
        section="scopes",
        table=True,
        help="In Gloucestershire, or an example from elsewhere in the UK",
        csv_aliases=("scope", "countyscope"),
        oruk="attribute:scopes",
    ),
    FieldSpec(
        "source_date",
        "Source date",
        datatype="date",
        table=True,
        help="The date of the newest source the record rests on (a year, month or day)",
        csv_aliases=("sourcedate", "dateofsource", "sourced"),
    ),
    FieldSpec(
        "last_verified",
        "Last verified",
        datatype="date",
        table=True,
        directory=True,
        help="When a person confirmed the facts with the provider (never a stand-in)",
        csv_aliases=("lastverified", "verified", "dateverified", "lastchecked", "verifiedon"),
        oruk="service.assured_date",
    ),
    FieldSpec(
        "verified_by",
        "Verified by",
        table=True,
        max_chars=MAX_SHORT,
        help="Who confirmed the facts with the provider on the last_verified date",
        csv_aliases=("verifiedby", "checkedby", "confirmedby"),
    ),
    # Readiness: what commissioners ask before they refer anyone.
    FieldSpec(
        "safeguarding_policy",
        "Safeguarding policy",
        datatype="bool",
        path="readiness.safeguarding_policy",
        frame=False,
        widget="yes_no",
        csv_aliases=("safeguarding", "safeguardingpolicy"),
    ),
    FieldSpec(
        "dbs_checks",
        "DBS checks",
        datatype="bool",
        path="readiness.dbs_checks",
        frame=False,
        widget="yes_no",
        csv_aliases=("dbs", "dbschecks", "dbschecked", "dbscheck"),
    ),
    FieldSpec(
        "insurance",
        "Insurance",
        datatype="bool",
        path="readiness.insurance",
        frame=False,
        widget="yes_no",
        csv_aliases=("insurance", "publicliabilityinsurance", "insured"),
    ),
    FieldSpec(
        "evaluation_frameworks",
        "Evaluation frameworks you use",
        many=True,
        path="readiness.evaluation_frameworks",
        frame=False,
        widget="list",
        max_chars=MAX_SHORT,
        help="For example WEMWBS or the PHE arts and health evaluation framework",
        csv_aliases=("evaluation", "evaluationframework", "evaluationframeworks"),
    ),
    FieldSpec(
        "sources",
        "Links and sources",
        many=True,
        datatype="sources",
        frame=False,
        widget="lines",
        max_chars=MAX_SOURCES_TEXT,
        help="Your website, reports or articles about the work",
        csv_aliases=("sources", "source", "references", "reference"),
    ),
    FieldSpec("notes", "Notes", frame=False, csv_aliases=("notes", "note", "comments")),
    # When, cost, who and access (Open Referral UK schedules, cost_options, eligibility,
    # location accessibility, languages). Never guessed: absent is "Not stated".
    FieldSpec(
        "schedules",
        "When",
        many=True,
        datatype="schedules",
        table=True,
        facts=True,
        widget="lines",
        max_chars=MAX_SOURCES_TEXT,
        not_stated=True,
        help='One line per regular session or course, e.g. "Weekly, Tuesdays '
        '10:30-12:00", "10 weekly sessions" or "By arrangement"',
        csv_aliases=("schedules", "schedule", "when", "sessions", "times", "timetable"),
        oruk="service.schedules",
    ),
    FieldSpec(
        "cost",
        "Cost",
        datatype="cost",
        table=True,
        directory=True,
        facts=True,
        not_stated=True,
        oruk="service.cost_options",
    ),
    FieldSpec(
        "free",
        "Free to take part",
        datatype="bool",
        section=STATED,
        path="cost.free",
        widget="yes_no",
        facet="free",
        facet_label="Free only",
        facet_rank=10,
        csv_aliases=("free", "isfree"),
        oruk="cost_options.amount (0)",
    ),
    FieldSpec(
        "cost_description",
        "Cost details",
        path="cost.description",
        frame=False,
        widget="text",
        max_chars=MAX_SHORT,
        placeholder="£3 a session; donations welcome",
        # A spreadsheet's cost column is its text: its parts (free) have their own.
        csv_aliases=("cost", "price", "fee", "fees", "charge", "costdescription", "costdetails"),
        oruk="cost_options.amount_description",
    ),
    FieldSpec(
        "eligibility",
        "Who can join",
        datatype="eligibility",
        table=True,
        facts=True,
        not_stated=True,
        oruk="service.eligibility_description",
    ),
    FieldSpec(
        "minimum_age",
        "Minimum age",
        datatype="number",
        path="eligibility.minimum_age",
        frame=False,
        widget="text",
        max_chars=3,
        csv_aliases=("minimumage", "minage", "agefrom"),
        oruk="service.minimum_age",
    ),
    FieldSpec(
        "maximum_age",
        "Maximum age",
        datatype="number",
        path="eligibility.maximum_age",
        frame=False,
        widget="text",
        max_chars=3,
        csv_aliases=("maximumage", "maxage", "ageto"),
        oruk="service.maximum_age",
    ),
    FieldSpec(
        "referral_need",
        "Referral",
        section="referral_needs",
        path="eligibility.referral",
        frame=False,
        widget="select",
        help="Do people need a referral, or may they contact you themselves?",
        csv_aliases=("referralneed", "referralneeded", "selfreferral"),
        oruk="service.eligibility_description",
    ),
    FieldSpec(
        "self_referral",
        "Self-referral welcome",
        datatype="bool",
        section=STATED,
        path="eligibility.self_referral",
        facet="self_referral",
        facet_label="Self-referral welcome",
        facet_rank=11,
    ),
    FieldSpec(
        "accessibility",
        "Venue accessibility",
        section="accessibility",
        many=True,
        path="locations.accessibility",
        table=True,
        facts=True,
        widget="multiselect",
        not_stated=True,
        csv_aliases=("accessibility", "access", "venueaccess"),
        oruk="location.accessibility",
    ),
    FieldSpec(
        "step_free",
        "Step-free access",
        datatype="bool",
        section=STATED,
        path="locations.step_free",
        facet="step_free",
        facet_label="Step-free access",
        facet_rank=12,
    ),
    FieldSpec(
        "languages",
        "Languages",
        many=True,
        table=True,
        facts=True,
        widget="list",
        max_chars=MAX_SHORT,
        not_stated=True,
        help="Languages sessions are run in, e.g. English, Polish, BSL",
        csv_aliases=("languages", "language", "languagesspoken"),
        oruk="service.languages",
    ),
)


# ---------------------------------------------------------------------------------------------
# Questions about the registry, answered from FIELDS as it is now (memoised per registry object)

_T = TypeVar("_T")
_memo: dict[str, Any] = {}
_memo_of: list[tuple[FieldSpec, ...] | None] = [None]


def remember(key: str, build: Callable[[], _T]) -> _T:
    """`build()` for the current registry, computed once per registry object: for answers
    derived from it that a hot loop needs (callers pick a key of their own)."""
    if _memo_of[0] is not FIELDS:
        _memo.clear()
        _memo_of[0] = FIELDS
    try:
        return _memo[key]
    except KeyError:
        value = _memo[key] = build()
        return value


def all_fields() -> tuple[FieldSpec, ...]:
    """Every field, in registry order (the order of forms, frames and tables)."""
    return FIELDS


def named() -> dict[str, FieldSpec]:
    """Field name -> field, for loops over many values (do not change the answer)."""
    return remember("by_name", lambda: {f.name: f for f in FIELDS})


def by_name(name: str) -> FieldSpec:
    """One field by name; KeyError naming the known ones."""
    found = named().get(name)
    if found is None:
        raise KeyError(f"no field {name!r}; known: {', '.join(f.name for f in FIELDS)}")
    return found


def by_key(key: str) -> FieldSpec | None:
    """The field at a dotted place in a record's data (``contact.email``), or None."""
    return remember("by_key", lambda: {f.key: f for f in FIELDS}).get(key)


def controlled() -> tuple[FieldSpec, ...]:
    """The fields whose values are vocabulary terms."""
    return remember("controlled", lambda: tuple(f for f in FIELDS if f.section))


def sections() -> dict[str, str]:
    """Controlled field name -> its vocabulary section (do not change the answer)."""
    return remember("sections", lambda: {f.name: f.section for f in controlled()})


def facets() -> tuple[FieldSpec, ...]:
    """The countable fields, in sidebar order (facet_rank, then registry order)."""
    return remember(
        "facets", lambda: tuple(sorted((f for f in FIELDS if f.facet), key=lambda f: f.facet_rank))
    )


def filters() -> tuple[FieldSpec, ...]:
    """The facets that are also filters (sidebar widgets and URL parameters), in order."""
    return remember("filters", lambda: tuple(f for f in facets() if f.filterable))


def by_facet(facet: str) -> FieldSpec | None:
    """The field of a facet name (``condition``), or None."""
    return remember("by_facet", lambda: {f.facet: f for f in facets()}).get(facet)


def table_fields() -> tuple[FieldSpec, ...]:
    """The fields that are records_table (export) columns, in registry order."""
    return remember("table", lambda: tuple(f for f in FIELDS if f.table))


def directory_fields() -> tuple[FieldSpec, ...]:
    """The table fields the directory's grid shows."""
    return remember("directory", lambda: tuple(f for f in FIELDS if f.directory))


def frame_fields() -> tuple[FieldSpec, ...]:
    """The fields the geocoded frame carries, in registry order."""
    return remember("frame", lambda: tuple(f for f in FIELDS if f.frame))


def form_fields(group: str | None = None) -> tuple[FieldSpec, ...]:
    """The fields with a register form widget; with `group`, only those of that part."""
    every = remember("form", lambda: tuple(f for f in FIELDS if f.widget))
    return every if group is None else tuple(f for f in every if f.group == group)


def fact_fields() -> tuple[FieldSpec, ...]:
    """The fields the provider page lists as facts."""
    return remember("facts", lambda: tuple(f for f in FIELDS if f.facts))


def location_fields() -> tuple[FieldSpec, ...]:
    """The fields of each location (``locations.postcode``...), in registry order."""
    return remember("locations", lambda: tuple(f for f in FIELDS if f.group == "locations"))


def personal_fields() -> tuple[FieldSpec, ...]:
    """Contact details: published only with consent, never quoted in a problem."""
    return remember("personal", lambda: tuple(f for f in FIELDS if f.personal))


def top_level_names() -> frozenset[str]:
    """Names of the fields that sit at the top of a record's data (not in a part)."""
    return remember("top", lambda: frozenset(f.name for f in FIELDS if not f.group))


def csv_headers() -> dict[str, str]:
    """Normalised CSV header spelling -> field name (the first field declaring it wins)."""

    def build() -> dict[str, str]:
        lookup: dict[str, str] = {}
        for spec in FIELDS:
            for alias in spec.csv_aliases:
                lookup.setdefault(alias, spec.name)
        return lookup

    return remember("csv", build)


def oruk_names() -> dict[str, str]:
    """Field name -> its Open Referral UK name, for the fields that have one."""
    return remember("oruk", lambda: {f.name: f.oruk for f in FIELDS if f.oruk})


def label_of(key: str) -> str:
    """A label for a field name, a dotted data key or a part (``locations``); else the key."""
    spec = by_key(key) or named().get(key)
    if spec is not None:
        return spec.label
    return GROUP_LABELS.get(key, key)


def read(obj: Any, spec: FieldSpec) -> Any:
    """A field's value from a record (or its data as a dict): () or None when missing.

    Parts are followed (``contact.email`` reads ``record.contact.email``); a list part
    (``locations``) has no single value here.
    """
    empty: Any = () if spec.many else None
    value = obj
    for part in spec.key.split("."):
        if value is None:
            return empty
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return empty if value is None else value


def getter(spec: FieldSpec) -> Callable[[Any], Any]:
    """A fast reader of one field from record objects (attributes only): () or None when
    missing. For building frames, where ``read`` per cell would cost too much."""
    get = operator.attrgetter(spec.key)
    empty: Any = () if spec.many else None

    def read_one(obj: Any) -> Any:
        try:
            value = get(obj)
        except AttributeError:  # a registry-only field this record does not have
            return empty
        return empty if value is None else value

    return read_one


def describe(value: Any) -> str:
    """A value in words: text as it is, a structured one (a schedule, a cost) by its own
    ``describe()``, anything else as str."""
    if isinstance(value, str):
        return value
    words = getattr(value, "describe", None)
    return words() if callable(words) else "" if value is None else str(value)


def read_all(obj: Any, spec: FieldSpec) -> list[Any]:
    """A field's values from a record as a list: a location field's from every location
    (distinct, in order), a list field's items, a single value as a list of one."""
    if spec.group == "locations":
        found: list[Any] = []
        for location in read(obj, by_key("locations") or _LOCATIONS) or ():
            value = (
                location.get(spec.attribute)
                if isinstance(location, dict)
                else getattr(location, spec.attribute, None)
            )
            for item in value if isinstance(value, list | tuple) else [value]:
                if item not in (None, "") and item not in found:
                    found.append(item)
        return found
    value = read(obj, spec)
    return list(value) if spec.many else [value] if value not in (None, "") else []


_LOCATIONS = FieldSpec("locations", "Locations", many=True)


def facts(record: Any, vocabulary: Any) -> list[tuple[str, list[str]]]:
    """(label, values) of each fact field of a record, for its page: vocabulary terms by
    their labels (``vocabulary.labels``), structured values in words (``describe``), a
    location field's values from every location, free text as it is; empty lists included
    (the page says "not stated" for them: nothing is guessed)."""
    out = []
    for spec in fact_fields():
        values = read_all(record, spec)
        shown = vocabulary.labels(spec.name, values) if spec.controlled else values
        out.append((spec.label, [w for w in (describe(v) for v in shown) if w]))
    return out


def problems() -> list[str]:
    """What is inconsistent in the registry (empty when it is sound): tests assert on it."""
    found: list[str] = []
    names = [f.name for f in FIELDS]
    found += [
        f"field {n!r} declared twice" for n in sorted({n for n in names if names.count(n) > 1})
    ]
    facet_names = [f.facet for f in FIELDS if f.facet]
    found += [
        f"facet {n!r} declared twice"
        for n in sorted({n for n in facet_names if facet_names.count(n) > 1})
    ]
    seen: dict[str, str] = {}
    for spec in FIELDS:
        if spec.widget is not None and spec.widget not in WIDGETS:
            found.append(f"{spec.name}: unknown widget {spec.widget!r}")
        if spec.datatype not in DATATYPES:
            found.append(f"{spec.name}: unknown datatype {spec.datatype!r}")
        if spec.widget in ("select", "radio", "multiselect") and not spec.section:
            found.append(f"{spec.name}: a {spec.widget} needs a vocabulary section")
        if spec.facet and not (spec.section and spec.frame):
            found.append(f"{spec.name}: a facet must be controlled and in the frame")
        for alias in spec.csv_aliases:
            if alias in seen:
                found.append(f"{spec.name}: CSV alias {alias!r} already means {seen[alias]!r}")
            seen.setdefault(alias, spec.name)
            if alias != "".join(c for c in alias.lower() if c.isalnum()):
                found.append(f"{spec.name}: CSV alias {alias!r} is not normalised")
    return found
