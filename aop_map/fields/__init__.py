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

The modules: ``spec`` (the FieldSpec type and constants), ``entries`` (``FIELDS``, the one
tuple of entries), ``registry`` (questions about it) and ``values`` (reading a record's values).

``entries.FIELDS`` is read *when a question is asked*, never copied at import (so this package
does not re-export it): a test (or a fork) that replaces it --
``monkeypatch.setattr(fields.entries, "FIELDS", (*fields.all_fields(), extra))`` -- sees the
new field flow through the URL round trip, the filter index, the sidebar, the table, the CSV
headers, the frame and the register form. Answers are memoised per registry object, so asking
costs a dictionary lookup.

Adding a field is one entry in ``entries``, its vocabulary section (when it is controlled) and
its tests. A top-level field the pydantic ``Record`` has no attribute for is still validated (its
terms normalised, its length checked) and kept as a pydantic extra: ``record.<name>`` reads it
and ``model_dump`` writes it back beside the others (see ``records.Record``). Fields inside the
structured parts of a record (``contact.*``, ``locations.*``, ``readiness.*``) are declared there
too, for their labels, CSV spellings, form widgets and ORUK names, but a new one also needs its
attribute on that part's model.

This package imports nothing from the rest of aop_map: every other module may read it.
"""

from aop_map.fields.registry import (
    all_fields,
    by_facet,
    by_key,
    by_name,
    controlled,
    csv_headers,
    directory_fields,
    facets,
    fact_fields,
    filters,
    form_fields,
    frame_fields,
    label_of,
    location_fields,
    named,
    oruk_names,
    personal_fields,
    problems,
    remember,
    sections,
    table_fields,
    top_level_names,
)
from aop_map.fields.spec import (
    DATATYPES,
    GROUP_LABELS,
    MAX_DESCRIPTION,
    MAX_LIST,
    MAX_NAME,
    MAX_PHONE,
    MAX_POSTCODE,
    MAX_SHORT,
    MAX_SOURCES_TEXT,
    MAX_SUMMARY,
    NOT_STATED,
    STATED,
    WIDGETS,
    FieldSpec,
)
from aop_map.fields.values import (
    describe,
    facts,
    getter,
    read,
    read_all,
)

__all__ = [
    "DATATYPES",
    "FieldSpec",
    "GROUP_LABELS",
    "MAX_DESCRIPTION",
    "MAX_LIST",
    "MAX_NAME",
    "MAX_PHONE",
    "MAX_POSTCODE",
    "MAX_SHORT",
    "MAX_SOURCES_TEXT",
    "MAX_SUMMARY",
    "NOT_STATED",
    "STATED",
    "WIDGETS",
    "all_fields",
    "by_facet",
    "by_key",
    "by_name",
    "controlled",
    "csv_headers",
    "describe",
    "directory_fields",
    "facets",
    "fact_fields",
    "facts",
    "filters",
    "form_fields",
    "frame_fields",
    "getter",
    "label_of",
    "location_fields",
    "named",
    "oruk_names",
    "personal_fields",
    "problems",
    "read",
    "read_all",
    "remember",
    "sections",
    "table_fields",
    "top_level_names",
]
