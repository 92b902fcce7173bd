"""What every record module shares: Problem, excerpt, the strict model base; no fields, no I/O."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from aop_map.fields import MAX_SHORT

ShortText = Annotated[str, Field(max_length=MAX_SHORT)]
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
