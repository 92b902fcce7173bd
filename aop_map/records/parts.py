"""The parts of a record (location, contact, source, schedule, cost, ...); never a whole record.

Each is a strict model that knows itself in words (``describe``) and, where ORUK has it, in ORUK.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from aop_map.fields import MAX_LIST, MAX_PHONE, MAX_POSTCODE, MAX_SHORT
from aop_map.records.base import ShortText, _Strict, excerpt
from aop_map.vocabulary import Vocabulary

EMAIL_PATTERN = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[A-Za-z]{2,}$")
URL_PATTERN = re.compile(r"^https?://[^\s<>\"']+\.[^\s<>\"']+$", re.IGNORECASE)
# UK numbers: digits, spaces, brackets, a leading +44; 10 or 11 digits once punctuation is gone.
PHONE_PATTERN = re.compile(r"^\+?[\d\s()-]{10,20}$")


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
