"""The Record model: fields, ids, registry extras, controlled terms; no problems made, no I/O.

Problems are made from its errors in :mod:`aop_map.records.validation`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from aop_map import fields
from aop_map.fields import MAX_DESCRIPTION, MAX_LIST, MAX_NAME, MAX_SHORT, MAX_SUMMARY
from aop_map.records.base import ShortText, _Strict
from aop_map.records.dates import PartialDate, partial_date_start
from aop_map.records.parts import (
    URL_PATTERN,
    Contact,
    Cost,
    Eligibility,
    Location,
    Readiness,
    Schedule,
    Source,
    _empty_part,
)
from aop_map.text import normalise
from aop_map.vocabulary import UnknownTermError, Vocabulary

ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?$")
# An id names a file (<id>.yaml), so never one the data directory uses for something else,
# nor a Windows device name (no file can be called con.yaml there). The pattern already
# refuses '/', '..' and a leading '.' or '_'.
RESERVED_IDS = frozenset(
    {
        "vocabulary",
        "gazetteer",
        "readme",
        "providers",
        "community",
        "submissions",
        "imported",
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{n}" for n in range(10)),
        *(f"lpt{n}" for n in range(10)),
    }
)


def slugify(text: str) -> str:
    """A stable id from a name: lower case ASCII words joined by hyphens."""
    slug = normalise(text, "-", ascii_only=True)[:120].strip("-") or "record"
    return f"{slug}-record" if slug in RESERVED_IDS else slug  # "Community" is a fine name


def _registry_value(value: Any) -> Any:
    """A registry-only field's value, after term normalisation: text, or a list of texts."""
    if isinstance(value, str):
        if len(value) > MAX_DESCRIPTION:
            raise ValueError(f"too long: at most {MAX_DESCRIPTION} characters")
        return value
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            raise ValueError(f"List should have at most {MAX_LIST} items, not {len(value)}")
        if not all(isinstance(item, str) and len(item) <= MAX_SHORT for item in value):
            raise ValueError(f"expected a list of texts of at most {MAX_SHORT} characters")
        return value
    raise ValueError("expected text or a list of texts")


class Record(_Strict):
    """A provider (organisation, freelance artist, venue) or an activity/programme."""

    # Registry-only fields (aop_map.fields) are kept as extras; _check_fields refuses others.
    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, Annotated[Any, AfterValidator(_registry_value)]] = Field(
        init=False
    )

    id: str
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    kind: str
    status: str
    summary: Annotated[str, Field(max_length=MAX_SUMMARY)] = ""
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""
    organisation: ShortText | None = None
    partners: list[ShortText] = Field(default_factory=list, max_length=MAX_LIST)
    art_forms: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    conditions: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    age_groups: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    areas_served: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    delivery: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    referral_routes: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    commissioning_models: list[str] = Field(default_factory=list, max_length=MAX_LIST)
    locations: list[Location] = Field(default_factory=list, max_length=MAX_LIST)
    contact: Contact = Field(default_factory=Contact)
    publish_contact: bool = False
    readiness: Readiness = Field(default_factory=Readiness)
    # When, cost and who (Open Referral UK schedules, cost_options, eligibility): absent is
    # "not stated", never a guess.
    schedules: list[Schedule] = Field(default_factory=list, max_length=MAX_LIST)
    cost: Annotated[Cost | None, BeforeValidator(_empty_part)] = None
    eligibility: Annotated[Eligibility | None, BeforeValidator(_empty_part)] = None
    started: PartialDate | None = None
    ended: PartialDate | None = None
    scope: str = "gloucestershire"
    source_date: PartialDate | None = None
    last_verified: dt.date | None = None
    verified_by: ShortText | None = None
    sources: list[Source] = Field(default_factory=list, max_length=MAX_LIST)
    notes: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = ""

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not ID_PATTERN.match(value):
            raise ValueError(
                f"id {value!r} must be lower-case letters, digits and hyphens "
                f"(for example {slugify(value)!r})"
            )
        if value in RESERVED_IDS:
            raise ValueError(
                f"id {value!r} is reserved (it names a data file, folder or device); "
                f"use another, for example {slugify(value)!r}"
            )
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _sources_from_text(cls, value: Any) -> Any:
        # A plain string (or list of strings) is a source title, or an address if it looks so.
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [_source_from_text(v) if isinstance(v, str) else v for v in value]
        return value

    @field_validator("schedules", mode="before")
    @classmethod
    def _schedules_from_text(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | dict) else value

    @field_validator("partners", mode="before")
    @classmethod
    def _list_from_text(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="wrap")
    @classmethod
    def _check_fields(
        cls, data: Any, handler: ModelWrapValidatorHandler[Record], info: ValidationInfo
    ) -> Record:
        """Refuse keys the registry does not know; normalise every controlled field's terms.

        The registry is read now, not at import: a field added to it is validated at once.
        An unknown key or single term is reported beside every other problem of the record,
        at its own field, as pydantic reports its own.
        """
        if not isinstance(data, dict):
            return handler(data)
        data, errors = _prepare(data, info.context or {})
        if not errors:
            return handler(data)
        try:
            handler(data)
        except ValidationError as error:
            errors += [
                InitErrorDetails(
                    type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {})
                )
                for e in error.errors()
            ]
        raise ValidationError.from_exception_data(cls.__name__, errors)

    @model_validator(mode="after")
    def _check_lifecycle(self) -> Record:
        start, end = partial_date_start(self.started), partial_date_start(self.ended)
        if start and end and end.year < start.year:
            raise ValueError(f"ended ({self.ended}) is before started ({self.started})")
        return self

    @property
    def is_past(self) -> bool:
        """True when it ran and has finished (status ``ended``): kept as history."""
        return self.status == "ended"

    @property
    def in_county(self) -> bool:
        """True when it is Gloucestershire activity, not an example from elsewhere."""
        return self.scope != "elsewhere"

    @property
    def located(self) -> bool:
        """True when at least one location is given (it may still fail to geocode)."""
        return bool(self.locations)


def _prepare(
    data: dict[str, Any], context: dict[str, Any]
) -> tuple[dict[str, Any], list[InitErrorDetails]]:
    """Record data with controlled terms normalised and unknown keys left out, and an error
    for each unknown key or unknown single term. The caller's dict is never changed.

    An unknown term in a list is left out and collected in ``context["unknown"]`` when the
    caller collects them (the record is kept), else it is an error too.
    """
    known = Record.model_fields
    top = fields.top_level_names()
    errors = [
        _error("extra_forbidden", "Extra inputs are not permitted", key, data[key])
        for key in data
        if key not in known and key not in top
    ]
    out = data
    if errors:
        out = {key: value for key, value in data.items() if key in known or key in top}
    vocabulary: Vocabulary | None = context.get("vocabulary")
    for spec in fields.controlled():
        name = spec.name
        if name not in out:
            continue
        value = new = out[name]
        try:
            if vocabulary is None:
                new = [value] if spec.many and isinstance(value, str) else value
            elif not spec.many:
                new = vocabulary.normalise(name, value) if isinstance(value, str) else value
            else:
                new = _normalise_list(vocabulary, name, value, context.get("unknown"))
        except ValueError as error:  # UnknownTermError, or any when terms are not collected
            errors.append(_error("value_error", str(error), name, value))
        if new is not value:
            out = dict(out) if out is data else out
            out[name] = new
    for key in [k for k in out if k not in known]:  # a registry-only list given as one text
        if isinstance(out[key], str) and fields.by_name(key).many:
            out = dict(out) if out is data else out
            out[key] = [out[key]]
    return out, errors


def _error(kind: str, message: str, field: str, value: Any) -> InitErrorDetails:
    # The message is the context, never the template: a term such as "{x}" stays as typed.
    return InitErrorDetails(
        type=PydanticCustomError(kind, "{message}", {"message": message}), loc=(field,), input=value
    )


def _source_from_text(text: str) -> dict[str, str]:
    text = text.strip()
    return {"title": text, "url": text} if URL_PATTERN.match(text) else {"title": text}


def _normalise_list(
    vocabulary: Vocabulary, field: str, value: Any, unknown: list[UnknownTermError] | None
) -> Any:
    """Map each term to its id; unknown terms are collected (record kept) or raised.

    A list longer than MAX_LIST is left as it is, to fail its length check as one problem:
    looking up (and suggesting for) 100,000 unknown terms took seconds and gave as many.
    """
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_LIST:
        return value
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            continue
        try:
            term = vocabulary.normalise(field, item)
        except UnknownTermError as error:
            if unknown is None:
                raise ValueError(str(error)) from None
            unknown.append(error)
            continue
        if term not in out:
            out.append(term)
    return out
