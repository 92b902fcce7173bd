"""A record's locations as ORUK service_at_locations (locations, addresses, accessibility),
placed where the geocoded frame put them; it geocodes nothing itself."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from aop_map.geocoding.districts import GLOS_DISTRICTS
from aop_map.oruk.ids import oruk_id
from aop_map.oruk.optional import optional_values
from aop_map.records import Location, Record
from aop_map.vocabulary import Vocabulary

COUNTRY = "GB"
COUNTY = "Gloucestershire"

# How a location was placed -> what the location's description says about its point.
PRECISION_NOTES: dict[str, str] = {
    "place": "approximate: placed at the town or village centre",
    "postcode_district": "approximate: placed at the postcode district centre",
    "online": "placed by an online geocoder from its place name",
}


@dataclass(frozen=True)
class Placed:
    """Where geocoding put one location of a record."""

    lat: float | None
    lon: float | None
    precision: str
    postcode: str | None
    district_code: str | None
    district_name: str | None


def placements(frame: pd.DataFrame | None) -> dict[tuple[str, int], Placed]:
    """(record id, location index) -> where the geocoded frame put it."""
    if frame is None or not len(frame):
        return {}
    columns = [
        frame[c].to_numpy()
        for c in (
            "record_id",
            "location_index",
            "lat",
            "lon",
            "location_precision",
            "postcode",
            "district_code",
            "district_name",
        )
    ]
    out = {}
    for rid, index, lat, lon, precision, postcode, code, name in zip(*columns, strict=True):
        if index < 0:
            continue
        located = lat is not None and lon is not None and math.isfinite(lat) and math.isfinite(lon)
        out[(rid, int(index))] = Placed(
            float(lat) if located else None,
            float(lon) if located else None,
            str(precision or "none"),
            postcode if isinstance(postcode, str) else None,
            code if isinstance(code, str) else None,
            name if isinstance(name, str) else None,
        )
    return out


def _location(
    record: Record,
    index: int,
    location: Location,
    placed: Placed | None,
    accessibility: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    lid = oruk_id(f"location:{record.id}:{index}")
    postcode = (placed.postcode if placed else None) or location.postcode
    description = ", ".join(p for p in (location.address, location.place, postcode) if p)
    note = PRECISION_NOTES.get(placed.precision) if placed else None
    if note:
        description = f"{description} ({note})" if description else note
    item: dict[str, Any] = {
        "id": lid,
        "location_type": "physical",
        "name": location.label or location.place or location.address or postcode or record.name,
        "description": description,
    }
    if placed is not None and placed.lat is not None:
        item["latitude"] = round(placed.lat, 6)
        item["longitude"] = round(placed.lon, 6)  # type: ignore[arg-type]
    if location.address or postcode:
        district = placed.district_code if placed else None
        address = {
            "id": oruk_id(f"address:{record.id}:{index}"),
            "location_id": lid,
            "address_1": location.address or location.label or "",
            "city": location.place or "",
            "state_province": COUNTY if district in GLOS_DISTRICTS else "",
            "postal_code": postcode or "",
            "country": COUNTRY,
            "address_type": "physical",
        }
        if placed is not None and placed.district_name:
            address["region"] = placed.district_name
        item["addresses"] = [address]
    if accessibility:
        item["accessibility"] = [
            {**a, "id": oruk_id(f"accessibility:{record.id}:{index}:{n}"), "location_id": lid}
            for n, a in enumerate(accessibility)
        ]
    return item


def _location_access(location: Location, vocabulary: Vocabulary | None) -> list[dict[str, Any]]:
    """A location's own accessibility terms as ORUK accessibility objects (label, and the
    term's description as details)."""
    out = []
    for term_id in getattr(location, "accessibility", None) or ():
        term = vocabulary.term("accessibility", term_id) if vocabulary else None
        item = {"description": term.label if term else term_id}
        if term is not None and term.description:
            item["details"] = term.description
        out.append(item)
    return out


def service_at_locations(
    record: Record,
    sid: str,
    placed: Mapping[tuple[str, int], Placed],
    vocabulary: Vocabulary | None = None,
) -> list[dict[str, Any]]:
    """Each location of a record as an ORUK service_at_location with its location nested; a
    location without accessibility terms of its own gets the record's (OPTIONAL_FIELDS)."""
    shared = optional_values(record, "location").get("accessibility")
    out = []
    for index, location in enumerate(record.locations):
        accessibility = _location_access(location, vocabulary) or shared
        item = _location(record, index, location, placed.get((record.id, index)), accessibility)
        out.append(
            {
                "id": oruk_id(f"service_at_location:{record.id}:{index}"),
                "service_id": sid,
                "location_id": item["id"],
                "location": item,
            }
        )
    return out
