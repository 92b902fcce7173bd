"""The record schema and its validation; no I/O, and no import of loading, ui or anything above.

A record is kept compatible with Open Referral UK: a record of kind ``organisation`` maps to an
ORUK *organization*, ``programme``/``freelance-artist``/``venue`` to a *service* (with the parent
``organisation`` as its organization), ``locations`` to *location*s and every controlled term to
a *taxonomy* term. ``aop_map.oruk`` does that mapping.

Which fields are controlled, and by which vocabulary section, is ``aop_map.fields``'s answer at
validation time. ``Record`` keeps a typed attribute for each field it has always had; a
top-level field declared only in the registry is accepted as a pydantic *extra*: its terms are
normalised like the others', its length is checked, ``record.<name>`` reads it and
``model_dump`` writes it beside the rest. Any other unknown key is refused.

The modules, each importing only those above it in this list:

- ``base``: ``Problem``, ``excerpt`` and the strict frozen model base every part shares;
- ``parts``: ``Location``, ``Contact``, ``Source``, ``Schedule``, ``Cost``, ``Eligibility``,
  ``Readiness``;
- ``dates``: partial dates ("2019", "2018-11") and how pages say them;
- ``record``: the ``Record`` model, its ids (``slugify``) and controlled terms;
- ``validation``: ``validate_record``, raw data -> a record and its problems.
"""

from aop_map.records.base import EXCERPT_CHARS, Problem, ShortText, excerpt
from aop_map.records.dates import (
    PARTIAL_DATE_PATTERN,
    PartialDate,
    ended_text,
    partial_date_start,
    partial_date_text,
)
from aop_map.records.parts import (
    BY_ARRANGEMENT,
    DAY_CODES,
    DAYS,
    EMAIL_PATTERN,
    FREQUENCIES,
    PHONE_PATTERN,
    REFERRAL_NEEDS,
    SELF_REFERRAL,
    STEP_FREE,
    TIME_PATTERN,
    URL_PATTERN,
    Contact,
    Cost,
    Eligibility,
    Location,
    Readiness,
    Schedule,
    Source,
)
from aop_map.records.record import ID_PATTERN, RESERVED_IDS, Record, slugify
from aop_map.records.validation import MAX_UNKNOWN_REPORTED, validate_record

__all__ = [
    "BY_ARRANGEMENT",
    "DAYS",
    "DAY_CODES",
    "EMAIL_PATTERN",
    "EXCERPT_CHARS",
    "FREQUENCIES",
    "ID_PATTERN",
    "MAX_UNKNOWN_REPORTED",
    "PARTIAL_DATE_PATTERN",
    "PHONE_PATTERN",
    "REFERRAL_NEEDS",
    "RESERVED_IDS",
    "SELF_REFERRAL",
    "STEP_FREE",
    "TIME_PATTERN",
    "URL_PATTERN",
    "Contact",
    "Cost",
    "Eligibility",
    "Location",
    "PartialDate",
    "Problem",
    "Readiness",
    "Record",
    "Schedule",
    "ShortText",
    "Source",
    "ended_text",
    "excerpt",
    "partial_date_start",
    "partial_date_text",
    "slugify",
    "validate_record",
]
