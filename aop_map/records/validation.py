"""Raw data -> a Record and its problems, located; no I/O, and never a personal value quoted."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from aop_map import fields
from aop_map.records.base import Problem, excerpt
from aop_map.records.record import Record
from aop_map.vocabulary import UnknownTermError, Vocabulary

# Unknown fields reported one by one per record; the rest are counted in one more problem.
MAX_UNKNOWN_REPORTED = 20


def _private_parts() -> frozenset[str]:
    """Top-level keys holding personal values (``contact``): problems never quote them."""
    return frozenset(spec.group or spec.name for spec in fields.personal_fields())


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
