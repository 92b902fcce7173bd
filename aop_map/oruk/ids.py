"""Stable Open Referral UK ids: uuid5 in one namespace of a name built from a record id (or a
vocabulary section and term id); no other part of the mapping lives here."""

from __future__ import annotations

import hashlib
import uuid

# The namespace of every id this project publishes in ORUK. Never change it: every service,
# organisation, location and taxonomy term id would change with it, breaking every link
# another directory holds to ours.
ORUK_NAMESPACE = uuid.UUID("779fd6a5-21d8-48f1-99f2-9eb51a2acd0d")

_NAMESPACE_BYTES = ORUK_NAMESPACE.bytes


def oruk_id(name: str) -> str:
    """The stable ORUK id (a uuid5 in :data:`ORUK_NAMESPACE`) of a name such as
    ``service:<record id>``: :func:`oruk_id_plain`'s answer, computed without building
    uuid.UUID objects (an export makes ~15 ids a record; this takes a third of the time)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def oruk_id_plain(name: str) -> str:
    """The readable twin of :func:`oruk_id` (tests check they agree)."""
    return str(uuid.uuid5(ORUK_NAMESPACE, name))


def service_id(record_id: str) -> str:
    """The ORUK id of a record's service."""
    return oruk_id(f"service:{record_id}")


def taxonomy_id(section: str) -> str:
    """The ORUK id of a vocabulary section's taxonomy."""
    return oruk_id(f"taxonomy:{section}")


def term_id(section: str, term: str) -> str:
    """The ORUK id of a vocabulary term: uuid5 of ``<section>:<term id>``."""
    return oruk_id(f"{section}:{term}")
