"""Reference numbers and edit codes: making them, and hashing and checking codes with scrypt.

No I/O: the counters against guessing are limits.py's, the check under the lock the store's.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aop_map.limits import EDIT_CODE_REFERENCE_TOTAL, Refusal

# Reference numbers and edit codes avoid 0/O, 1/I/L: people read them aloud and retype them.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ID_LENGTH = 6  # 31**6: ~887 million per year, checked against existing ones anyway
ID_PATTERN = re.compile(r"^AOP-\d{4}-[0-9A-Z]{6}$")
CODE_GROUPS, CODE_GROUP_LENGTH = 4, 4  # 31**16: ~79 bits, far beyond guessing (limits.py)
# scrypt at 16 MiB / ~50 ms: cheap once per action, costly for an offline guesser of a leak.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_LENGTH = 2**14, 8, 1, 32


def new_reference(year: int) -> str:
    return f"AOP-{year}-" + "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def new_edit_code() -> str:
    """A private code such as ``7F3K-9QXA-M2PD-H8RT``."""
    groups = (
        "".join(secrets.choice(ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def _normalise_code(code: str) -> bytes:
    return re.sub(r"[\s-]+", "", str(code)).upper().encode("utf-8")


def _scrypt(code: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        _normalise_code(code), salt=salt, n=n, r=r, p=p, dklen=SCRYPT_LENGTH, maxmem=2**26
    )


def hash_edit_code(code: str) -> dict[str, Any]:
    """What is stored for a code: scheme, cost, per-submission salt and hash (never the code)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(code, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {
        "scheme": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": salt.hex(),
        "hash": digest.hex(),
    }


def code_matches(auth: Mapping[str, Any], code: str) -> bool:
    if not isinstance(code, str) or not code.strip() or auth.get("scheme") != "scrypt":
        return False
    try:
        salt = bytes.fromhex(auth["salt"])
        expected = bytes.fromhex(auth["hash"])
        digest = _scrypt(code, salt, int(auth["n"]), int(auth["r"]), int(auth["p"]))
    except (KeyError, ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True)
class CodeCheck:
    """An edit-code attempt, counted and verified: the matching salt (or None), its counters,
    and the wait it started for the next attempt (None: the next may come at once)."""

    salt: str | None
    entries: tuple[Any, ...]
    started: Refusal | None


def code_wait_message(reference: str, refusal: Refusal) -> str:
    if refusal.rule == EDIT_CODE_REFERENCE_TOTAL:
        where = f"for {reference} from many places"
    else:
        where = "from your connection"
    return f"Too many wrong edit codes {where}: try again in {refusal.wait_text}."
