"""Postcode text: the UK postcode format, outward codes and ONSPD's key; no data, no lookups."""

from __future__ import annotations

import re
from typing import Any

# The UK postcode format (Royal Mail / GOV.UK data standard): letters that never occur in a
# position are excluded, so 'GL5O 3PR' (letter O for zero) is rejected rather than half-matched.
_OUTWARD = (
    r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
POSTCODE_RE = re.compile(rf"^(?:(GIR)(0AA)|({_OUTWARD})([0-9][ABD-HJLNP-UW-Z]{{2}}))$")
OUTWARD_RE = re.compile(rf"^{_OUTWARD}$")
# Typed text shaped like a postcode, right or wrong ('GL14', 'GL50 3P', 'GL5O 3PR', 'W1N 6JN'):
# one or two letters, a digit, and no more than a postcode's seven characters (plus one typo).
POSTCODE_SHAPE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]{0,5}$")


def compact_postcode(text: Any) -> str:
    """Upper case without whitespace ('gl50 3pr' -> 'GL503PR'); '' for anything but text."""
    return re.sub(r"\s+", "", text).upper() if isinstance(text, str) else ""


def normalise_postcode(text: str) -> str | None:
    """'gl503pr' -> 'GL50 3PR'; None when the text is not a full UK postcode."""
    match = POSTCODE_RE.match(compact_postcode(text))
    if not match:
        return None
    outward, inward = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return f"{outward} {inward}"


def outward_code(text: str) -> str | None:
    """The outward code ('GL14') of a full postcode or of an outward code on its own."""
    full = normalise_postcode(text)
    if full:
        return full.split()[0]
    compact = compact_postcode(text)
    return compact if OUTWARD_RE.match(compact) else None


def reads_as_postcode(text: str) -> bool:
    """Whether free text is meant as a postcode or outward code (valid or not), not a place."""
    if normalise_postcode(text):
        return True  # includes 'GIR 0AA', which has no digit after its first letters
    return len(text.split()) <= 2 and bool(POSTCODE_SHAPE_RE.match(compact_postcode(text)))


def pcd7_key(postcode: str) -> str:
    """ONSPD's 7-character key of a normalised postcode: outward code padded to 4, inward."""
    outward, inward = postcode.split()
    return outward.ljust(4) + inward


def from_pcd7_key(key: str) -> str:
    """The usual spelling of an ONSPD key ('GL1 1AA' -> 'GL1 1AA', 'GL501AA' -> 'GL50 1AA')."""
    return f"{key[:4].strip()} {key[4:]}"
