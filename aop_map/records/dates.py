"""Partial dates ("2019", "2018-11", "2018-11-01"): checked, dated, in words; no other field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator

from aop_map.records.base import excerpt

# A year, a month or a day: "2019", "2018-11", "2018-11-01" (sources often give only a year).
PARTIAL_DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


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
