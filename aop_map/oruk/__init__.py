"""Records + vocabulary -> Open Referral UK (ORUK 3.0) objects as plain dicts; no I/O, no web.

Every published record (every record that validates) is one ORUK *service* with its
*organization*, *service_at_locations*, *service_areas*, *contacts* (only with the provider's
consent), *schedules*, *cost_options*, accessibility and *attributes* (taxonomy terms). The
controlled vocabulary's sections in :data:`TAXONOMIES` are published as ORUK *taxonomies*.

Ids are stable: each is ``uuid5(ORUK_NAMESPACE, name)`` of a name built from the record id
(or vocabulary section and term id), listed in the README; an unchanged record keeps its ids
in every export. ``aop_map.api`` serves these objects; ``aop-map export --format oruk`` writes
them. The mapping is table-driven: :data:`STATUSES`, :data:`TAXONOMIES`, :data:`AGE_RANGES`,
:data:`OPTIONAL_FIELDS`.

The modules: ``ids`` (stable ids), ``optional`` (record fields that become ORUK values when
set), ``taxonomy`` (taxonomies, terms, a record's attributes), ``locations`` (a record's
venues), ``services`` (a record as one nested service, with its organisation) and ``feed``
(pages, the whole export, the About page's words).
"""

from aop_map.oruk.feed import (
    ORUK_PROFILE,
    ORUK_VERSION,
    about_markdown,
    export_feed,
    page,
)
from aop_map.oruk.ids import (
    ORUK_NAMESPACE,
    oruk_id,
    oruk_id_plain,
    service_id,
    taxonomy_id,
    term_id,
)
from aop_map.oruk.locations import (
    COUNTRY,
    COUNTY,
    PRECISION_NOTES,
    Placed,
    placements,
    service_at_locations,
)
from aop_map.oruk.optional import (
    ACCESSIBILITY_KEYS,
    COST_KEYS,
    LANGUAGE_CODES,
    OPTIONAL_FIELDS,
    SCHEDULE_KEYS,
    OptionalField,
    optional_values,
    terms_of,
)
from aop_map.oruk.services import (
    AGE_RANGES,
    AREA_URI,
    ARRAY_KEYS,
    LIST_KEYS,
    STATUSES,
    UNLISTED_STATUS,
    URI_SAFE,
    Organisations,
    age_range,
    build_service,
    build_services,
    description,
    list_item,
    sort_key,
    uri,
)
from aop_map.oruk.taxonomy import (
    TAXONOMIES,
    Taxonomies,
    Taxonomy,
    attributes,
)

__all__ = [
    "ACCESSIBILITY_KEYS",
    "AGE_RANGES",
    "AREA_URI",
    "ARRAY_KEYS",
    "COST_KEYS",
    "COUNTRY",
    "COUNTY",
    "LANGUAGE_CODES",
    "LIST_KEYS",
    "OPTIONAL_FIELDS",
    "ORUK_NAMESPACE",
    "ORUK_PROFILE",
    "ORUK_VERSION",
    "OptionalField",
    "Organisations",
    "PRECISION_NOTES",
    "Placed",
    "SCHEDULE_KEYS",
    "STATUSES",
    "TAXONOMIES",
    "Taxonomies",
    "Taxonomy",
    "UNLISTED_STATUS",
    "URI_SAFE",
    "about_markdown",
    "age_range",
    "attributes",
    "build_service",
    "build_services",
    "description",
    "export_feed",
    "list_item",
    "optional_values",
    "oruk_id",
    "oruk_id_plain",
    "page",
    "placements",
    "service_at_locations",
    "service_id",
    "sort_key",
    "taxonomy_id",
    "term_id",
    "terms_of",
    "uri",
]
