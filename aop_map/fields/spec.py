"""The FieldSpec type and the registry's constants (lengths, widgets, datatypes, part labels);
it declares no field and answers no question about the registry (entries, registry do)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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
