"""The store's errors: what it refuses to do, in words for the person who asked; no logic."""

from __future__ import annotations

from aop_map.limits import Refusal
from aop_map.records import Problem


class StoreError(Exception):
    """Anything the store refuses to do; the message is written for the person who asked."""


class SubmissionNotFound(StoreError):
    """No submission has that reference number."""


class InvalidEditCode(StoreError):
    """The edit code is wrong, or no longer accepted (after withdrawal)."""


class EditCodeLocked(InvalidEditCode):
    """Too many wrong edit codes from this client (or for this reference): wait, then retry."""

    def __init__(self, message: str, refusal: Refusal) -> None:
        self.refusal = refusal
        super().__init__(message)


class InvalidTransition(StoreError):
    """The action does not apply to a submission in its current status."""


class SubmissionInvalid(StoreError):
    """The data fails validation; ``problems`` lists why."""

    def __init__(self, problems: list[Problem], what: str = "the submission") -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p.field or 'record'}: {p.message}" for p in problems)
        super().__init__(f"{what} has {len(problems)} problem(s):\n{lines}")


class ConsentRequired(StoreError):
    """A listing cannot be stored without the provider's consent to list it."""


class SubmissionTooLarge(StoreError):
    """The submission is bigger (or deeper) than any real listing."""


class RecordNotFound(StoreError):
    """An update refers to a record that does not exist."""


class CuratedRecordError(StoreError):
    """An update to a hand-curated record: the change must be applied to its file by hand."""

    def __init__(self, record_id: str, source: str, record_yaml: str) -> None:
        self.record_id = record_id
        self.source = source
        self.record_yaml = record_yaml
        super().__init__(
            f"record {record_id!r} is curated in {source}: the store never overwrites curated "
            "files, so apply the change there by hand (see record_yaml or the diff), then "
            "reject this submission with a reason such as 'applied by hand'"
        )
