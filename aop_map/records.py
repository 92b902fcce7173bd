"""The record schema (providers and activities) and its validation; no I/O.

A record is kept compatible with Open Referral UK: a record of kind ``organisation`` maps to an
ORUK *organization*, ``programme``/``freelance-artist``/``venue`` to a *service* (with the parent
``organisation`` as its organization), ``locations`` to *location*s and every controlled term to
a *taxonomy* term. ``aop_map.oruk`` does that mapping.

Which fields are controlled, and by which vocabulary section, is ``aop_map.fields``'s answer at
validation time. ``Record`` keeps a typed attribute for each field it has always had; a
top-level field declared only in the registry is accepted as a pydantic *extra*: its terms are
normalised like the others', its length is checked, ``record.<name>`` reads it and
``model_dump`` writes it beside the rest. Any other unknown key is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
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
from aop_map.fields import (
    MAX_DESCRIPTION,
    MAX_LIST,
    MAX_NAME,
    MAX_PHONE,
    MAX_POSTCODE,
    MAX_SHORT,
    MAX_SUMMARY,
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
EMAIL_PATTERN = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
URL_PATTERN = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$", re.IGNORECASE)
# UK numbers: digits, spaces, brackets, a leading +44; 10 or 11 digits once punctuation is gone.
PHONE_PATTERN = re.compile(r"^\+?[\d\s()-]{10,20}$")

ShortText = Annotated[str, Field(max_length=MAX_SHORT)]
# A year, a month or a day: "2019", "2018-11", "2018-11-01" (sources often give only a year).
PARTIAL_DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

# Unknown fields reported one by one per record; the rest are counted in one more problem.
MAX_UNKNOWN_REPORTED = 20
# Longest text quoted from a file in a problem (a column or field name): enough to spot a typo,
# never a chunk of the file.
EXCERPT_CHARS = 60


def excerpt(value: object, limit: int = EXCERPT_CHARS, *, quote: bool = True) -> str:
    """Text from a file to quote in a problem: at most ``limit`` characters, quoted (repr)."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if quote else text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    source: str
    message: str
    line: int | None = None
    field: str | None = None
    record_id: str | None = None
    severity: str = "error"  # "error" drops or changes data; "warning" is advice only

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape used by the CLI: source, line, field, message (+ record_id, severity)."""
        return asdict(self)

    def __str__(self) -> str:
        where = self.source + (f" line {self.line}" if self.line else "")
        what = f" [{self.field}]" if self.field else ""
        return f"{where}{what}: {self.message}"


def slugify(text: str) -> str:
    """A stable id from a name: lower case ASCII words joined by hyphens."""
    slug = normalise(text, "-", ascii_only=True)[:120].strip("-") or "record"
    return f"{slug}-record" if slug in RESERVED_IDS else slug  # "Community" is a fine name


_set_slot = object.__setattr__
# One shared copy of each distinct set of fields given, so a pickle stores it once.
_FIELD_SETS: dict[frozenset[str], frozenset[str]] = {}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    # Records are cached as pickles of tens of thousands of these. A compact state (values,
    # shared field set, and registry-only fields when there are any) unpickles faster than
    # pydantic's four-key dict per object; a state in pydantic's own shape (older pickles) is
    # still accepted.
    def __getstate__(self) -> Any:
        given = frozenset(self.__pydantic_fields_set__)
        shared = _FIELD_SETS.setdefault(given, given)
        extra = self.__pydantic_extra__
        return (self.__dict__, shared, extra) if extra else (self.__dict__, shared)

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple):
            super().__setstate__(state)
            return
        values, given, *extra = state
        _set_slot(self, "__dict__", values)
        _set_slot(self, "__pydantic_fields_set__", set(given))
        allows = self.model_config.get("extra") == "allow"
        _set_slot(self, "__pydantic_extra__", extra[0] if extra else {} if allows else None)
        _set_slot(self, "__pydantic_private__", None)


class Location(_Strict):
    """Where an activity happens: any one of postcode, place or lat/lon suffices."""

    label: ShortText | None = None
    address: ShortText | None = None
    postcode: Annotated[str, Field(max_length=MAX_POSTCODE)] | None = None
    place: ShortText | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    # What the venue offers (vocabulary section "accessibility"); empty is "not stated".
    accessibility: list[str] = Field(default_factory=list, max_length=MAX_LIST)

    @field_validator("accessibility", mode="before")
    @classmethod
    def _access_terms(cls, value: Any, info: ValidationInfo) -> Any:
        return _terms_in_part(value, "accessibility", info)

    @property
    def step_free(self) -> bool | None:
        """True when the venue states step-free access; None (not stated) otherwise."""
        return True if STEP_FREE in self.accessibility else None

    @model_validator(mode="after")
    def _one_way_to_locate(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.lat is None and not self.postcode and not self.place:
            raise ValueError("a location needs a postcode, a place name, or lat and lon")
        return self


class Contact(_Strict):
    """How to reach a provider; shown publicly only when the record's publish_contact is true.

    Its messages never quote a value (see _private_parts): the problem list is public.
    """

    name: ShortText | None = None
    website: ShortText | None = None
    email: ShortText | None = None
    phone: Annotated[str, Field(max_length=MAX_PHONE)] | None = None

    @field_validator("website")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value and not URL_PATTERN.match(value):
            raise ValueError("not a web address starting http:// or https://")
        return value or None

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        if value and not EMAIL_PATTERN.match(value):
            raise ValueError("not an email address (name@example.org)")
        return value or None

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        digits = re.sub(r"\D", "", value)
        if not PHONE_PATTERN.match(value) or not 10 <= len(digits) <= 13:
            raise ValueError("not a phone number (10 to 13 digits, spaces and brackets allowed)")
        return value


class Source(_Strict):
    """Where a fact came from: a document title and, when public, its address and date."""

    title: Annotated[str, Field(min_length=1, max_length=MAX_SHORT)]
    url: ShortText | None = None
    date: dt.date | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value and not URL_PATTERN.match(value):
            raise ValueError(f"not a web address starting http:// or https://: {value!r}")
        return value or None


def _terms_in_part(value: Any, field: str, info: ValidationInfo) -> Any:
    """A controlled list inside a part of a record (a location's accessibility): each term
    normalised by the vocabulary the record is validated with; an unknown one is an error."""
    if isinstance(value, str):
        value = [part for part in re.split(r"[;,]", value) if part.strip()]
    vocabulary: Vocabulary | None = (info.context or {}).get("vocabulary")
    if vocabulary is None or not isinstance(value, list) or len(value) > MAX_LIST:
        return value
    out: list[str] = []
    for item in value:
        if isinstance(item, str) and item.strip():
            term = vocabulary.normalise(field, item)  # UnknownTermError is a ValueError
            if term not in out:
                out.append(term)
    return out


# The days a schedule may name, in order, and their iCalendar (ORUK byday) codes.
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_CODES = dict(zip(DAYS, ("MO", "TU", "WE", "TH", "FR", "SA", "SU"), strict=True))
TIME_PATTERN = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")  # 24-hour HH:MM
# How often a regular session runs -> (ORUK freq, interval).
FREQUENCIES = {"weekly": ("WEEKLY", 1), "fortnightly": ("WEEKLY", 2), "monthly": ("MONTHLY", 1)}
STEP_FREE = "step-free"
REFERRAL_NEEDS = ("needed", "self-referral-welcome", "either")
# The referral needs under which people may refer themselves.
SELF_REFERRAL = frozenset({"self-referral-welcome", "either"})
BY_ARRANGEMENT = re.compile(r"\bby arrangement\b|\bon request\b", re.IGNORECASE)


class Schedule(_Strict):
    """When an activity runs: regular sessions (days, times, frequency, a course length), or
    by arrangement; ``description`` holds what does not fit (or a schedule typed as text)."""

    days: list[str] = Field(default_factory=list, max_length=len(DAYS))
    start: str | None = None
    end: str | None = None
    frequency: str | None = None
    course_length: ShortText | None = None  # "10 weekly sessions"
    by_arrangement: bool = False
    description: ShortText | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):  # a schedule typed as one line of text
            text = value.strip()
            return {"description": text, "by_arrangement": bool(BY_ARRANGEMENT.search(text))}
        return value

    @field_validator("days", mode="before")
    @classmethod
    def _check_days(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = re.split(r"[\s,;]+", value)
        if not isinstance(value, list):
            return value
        out = []
        for day in value:
            text = str(day).strip().lower()
            if not text:
                continue
            found = [d for d in DAYS if len(text) >= 2 and d.startswith(text.rstrip("s"))]
            if len(found) != 1:
                raise ValueError(f"unknown day {excerpt(day)}: use {', '.join(DAYS)}")
            if found[0] not in out:
                out.append(found[0])
        return sorted(out, key=DAYS.index)

    @field_validator("start", "end")
    @classmethod
    def _check_time(cls, value: str | None) -> str | None:
        if value and not TIME_PATTERN.match(value):
            raise ValueError(f"not a time as HH:MM (24-hour, e.g. 10:30): {excerpt(value)}")
        return value or None

    @field_validator("frequency")
    @classmethod
    def _check_frequency(cls, value: str | None) -> str | None:
        if value and value.lower() not in FREQUENCIES:
            raise ValueError(f"unknown frequency {excerpt(value)}: use {', '.join(FREQUENCIES)}")
        return value.lower() if value else None

    @model_validator(mode="after")
    def _check_times(self) -> Schedule:
        if self.start and self.end and self.end <= self.start:
            raise ValueError("a session ends after it starts")
        if not (
            self.days
            or self.start
            or self.frequency
            or self.course_length
            or self.by_arrangement
            or self.description
        ):
            raise ValueError(
                "a schedule needs days, times, a frequency, a course length, "
                "'by arrangement' or a description"
            )
        return self

    def describe(self) -> str:
        """In words: "Weekly, Tuesdays 10:30–12:00; 10 weekly sessions", "By arrangement"."""
        when = ", ".join(d.capitalize() + "s" for d in self.days)
        if self.start:
            when += (" " if when else "") + self.start + (f"–{self.end}" if self.end else "")
        parts = [p for p in (self.frequency.capitalize() if self.frequency else "", when) if p]
        text = ", ".join(parts)
        extra = [p for p in (self.course_length, self.description) if p]
        if self.by_arrangement and not (
            self.description and BY_ARRANGEMENT.search(self.description)
        ):
            extra.insert(0, "By arrangement")
        return "; ".join([t for t in (text, *extra) if t])

    def to_oruk(self) -> dict[str, Any]:
        """The ORUK schedule's fields (ids are added by aop_map.oruk)."""
        out: dict[str, Any] = {"description": self.describe()}
        if self.frequency:
            out["freq"], interval = FREQUENCIES[self.frequency]
            if interval != 1:
                out["interval"] = interval
        elif self.days:
            out["freq"] = "WEEKLY"
        if self.days:
            out["byday"] = ",".join(DAY_CODES[d] for d in self.days)
        if self.start:
            out["opens_at"] = self.start
        if self.end:
            out["closes_at"] = self.end
        if self.course_length:
            out["notes"] = self.course_length
        return out


class Cost(_Strict):
    """What taking part costs: free, or a description and amount."""

    free: bool | None = None
    description: ShortText | None = None  # "£3 a session; donations welcome"
    amount: float | None = Field(default=None, ge=0)
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "GBP"

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):  # a cost typed as text: "Free" is free, the rest described
            text = value.strip()
            return (
                {"free": True}
                if text.lower() in ("free", "£0", "0", "no charge")
                else {"description": text}
            )
        return value

    def describe(self) -> str:
        """In words: "Free", "£3.50 a session", "Free; donations welcome" ("" when empty)."""
        amount = ""
        if self.amount is not None:
            amount = (
                f"£{self.amount:,.2f}".replace(".00", "")
                if self.currency == "GBP"
                else f"{self.amount:,.2f} {self.currency}"
            )
        head = "Free" if self.free else amount
        rest = self.description if self.description != head else None
        return "; ".join(p for p in (head, rest) if p)

    def to_oruk(self) -> dict[str, Any]:
        """The ORUK cost option's fields."""
        out: dict[str, Any] = {"amount_description": self.describe()}
        if self.free:
            out["amount"] = 0
            out["option"] = "Free"
        elif self.amount is not None:
            out["amount"] = self.amount
        return out


class Eligibility(_Strict):
    """Who can take part: an age range, and whether a referral is needed."""

    minimum_age: int | None = Field(default=None, ge=0, le=120)
    maximum_age: int | None = Field(default=None, ge=0, le=120)
    referral: str | None = None  # REFERRAL_NEEDS (vocabulary section "referral_needs")

    @field_validator("minimum_age", "maximum_age", mode="before")
    @classmethod
    def _blank_age(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("referral", mode="before")
    @classmethod
    def _check_referral(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str) or not value.strip():
            return None if isinstance(value, str) else value
        vocabulary: Vocabulary | None = (info.context or {}).get("vocabulary")
        term = vocabulary.find("referral_needs", value) if vocabulary else value.strip()
        if term not in REFERRAL_NEEDS:
            raise ValueError(
                f"unknown referral need {excerpt(value)}: use {', '.join(REFERRAL_NEEDS)}"
            )
        return term

    @model_validator(mode="after")
    def _check_ages(self) -> Eligibility:
        low, high = self.minimum_age, self.maximum_age
        if low is not None and high is not None and high < low:
            raise ValueError("the maximum age is below the minimum age")
        return self

    @property
    def self_referral(self) -> bool | None:
        """True when people may refer themselves; None when that is not stated."""
        return True if self.referral in SELF_REFERRAL else None

    def describe(self) -> str:
        """In words: "Ages 18 to 65; self-referral welcome" ("" when empty)."""
        low, high = self.minimum_age, self.maximum_age
        ages = (
            f"Ages {low} to {high}"
            if low is not None and high is not None
            else f"Ages {low} and over"
            if low is not None
            else f"Up to age {high}"
            if high is not None
            else ""
        )
        referral = {
            "needed": "referral needed",
            "self-referral-welcome": "self-referral welcome",
            "either": "referral or self-referral",
        }.get(self.referral or "", "")
        if referral and not ages:
            referral = referral[0].upper() + referral[1:]
        return "; ".join(p for p in (ages, referral) if p)


def _empty_part(value: Any) -> Any:
    """A part given with nothing in it (a form's blank cost) is absent, not empty."""
    if isinstance(value, dict) and not any(v not in (None, "", []) for v in value.values()):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


class Readiness(_Strict):
    """Facts commissioners ask about before they refer anyone; each one optional."""

    safeguarding_policy: bool | None = None
    dbs_checks: bool | None = None
    insurance: bool | None = None
    evaluation_frameworks: list[ShortText] = Field(default_factory=list, max_length=MAX_LIST)


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


def _partial_date(value: Any) -> Any:
    """A year (2019 or "2019"), month ("2018-11") or date (a date, "2018-11-01"), as text."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("expected a year (2019), a month (2018-11) or a date (2018-11-01)")
    text = value.strip()
    found = PARTIAL_DATE_PATTERN.match(text)
    if not found:
        raise ValueError(
            f"{excerpt(text)} is not a year (2019), a month (2018-11) or a date (2018-11-01)"
        )
    year, month, day = found.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise ValueError(f"{excerpt(text)} is not a real month or day") from None
    return text


PartialDate = Annotated[str, BeforeValidator(_partial_date)]


def partial_date_start(text: str | None) -> dt.date | None:
    """The first day a partial date can mean: "2019" -> 2019-01-01 (None stays None)."""
    if not text:
        return None
    year, month, day = PARTIAL_DATE_PATTERN.match(str(text)).groups()  # type: ignore[union-attr]
    return dt.date(int(year), int(month or 1), int(day or 1))


def partial_date_text(text: str | None) -> str:
    """A partial date in words: "2019", "November 2018", "1 November 2018" ("" for None)."""
    if not text:
        return ""
    found = PARTIAL_DATE_PATTERN.match(str(text))
    if not found:
        return str(text)
    year, month, day = found.groups()
    if month is None:
        return year
    name = dt.date(2000, int(month), 1).strftime("%B")
    return f"{int(day)} {name} {year}" if day else f"{name} {year}"


def ended_text(status: Any, ended: Any) -> str:
    """What a page says of an ended record: "ended 2019", "ended" ("" when it has not)."""
    if status != "ended":
        return ""
    year = str(ended)[:4] if isinstance(ended, str) and ended else ""
    return f"ended {year}" if year else "ended"


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


def _private_parts() -> frozenset[str]:
    """Top-level keys holding personal values (``contact``): problems never quote them."""
    return frozenset(spec.group or spec.name for spec in fields.personal_fields())


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


def validate_record(
    data: Any,
    vocabulary: Vocabulary,
    *,
    source: str,
    line: int | None = None,
    field_lines: dict[str, int] | None = None,
) -> tuple[Record | None, list[Problem]]:
    """Validate one raw record: the record (or None) and every problem found in it.

    Unknown vocabulary terms are reported and left out, keeping the rest of the record: losing
    a whole provider over one misspelt art form would hide it from everyone.
    """
    field_lines = field_lines or {}
    record_id = data.get("id") if isinstance(data, dict) else None
    record_id = record_id if isinstance(record_id, str) else None
    if not isinstance(data, dict):
        kind = type(data).__name__
        return None, [Problem(source, f"expected a record (a mapping), got {kind}", line)]
    unknown: list[UnknownTermError] = []
    known = Record.model_fields.keys() | fields.top_level_names()
    extra = [key for key in data if key not in known]
    problems = [
        Problem(
            source,
            f"unknown field {excerpt(key)} ignored (check the spelling)",
            field_lines.get(str(key), line),
            excerpt(key, quote=False),
            record_id,
        )
        for key in extra[:MAX_UNKNOWN_REPORTED]
    ]
    if len(extra) > MAX_UNKNOWN_REPORTED:
        problems.append(
            Problem(
                source,
                f"{len(extra) - MAX_UNKNOWN_REPORTED:,} more unknown fields ignored",
                line,
                None,
                record_id,
            )
        )
    if extra:
        data = {key: value for key, value in data.items() if key in known}
    record: Record | None = None
    try:
        record = Record.model_validate(data, context={"vocabulary": vocabulary, "unknown": unknown})
    except ValidationError as error:
        problems += [
            _problem_from_error(e, source, line, field_lines, record_id)
            for e in error.errors(include_url=False)
        ]
    owner = record.id if record is not None else record_id
    problems += [
        Problem(source, str(u), field_lines.get(u.field, line), u.field, owner) for u in unknown
    ]
    return record, problems


def _problem_from_error(
    error: dict[str, Any],
    source: str,
    line: int | None,
    field_lines: dict[str, int],
    record_id: str | None,
) -> Problem:
    loc = [str(part) for part in error.get("loc", ())]
    field = excerpt(".".join(loc), quote=False) or None
    top = loc[0] if loc else ""
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if error.get("type") == "missing":
        message = "required field is missing"
    elif error.get("type") == "extra_forbidden":
        message = f"unknown field {excerpt(loc[-1])} (check the spelling)"
    if top in _private_parts():
        message = _without_value(message, error.get("input"))
    return Problem(source, message, field_lines.get(top, line), field, record_id)


def _without_value(message: str, value: Any) -> str:
    """A message about a private field with its value taken out, should it quote it."""
    if not isinstance(value, str) or not value.strip():
        return message
    value = value.strip()
    message = message.replace(repr(value), "(value not shown)")
    if len(value) >= 4:  # shorter ones could be any word of the message
        message = message.replace(value, "(value not shown)")
    return message
