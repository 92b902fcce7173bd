"""Every message geocoding gives, worded once: `aop-map geocode`, the map's 'near' box and the
records' warnings say the same thing about the same input; no lookups."""

from __future__ import annotations

from enum import StrEnum

from aop_map.geocoding.online import ONLINE_ENV

POSTCODE_SOURCE = "the ONS Postcode Directory"
# A location's message is its notes, in the order the resolver met them, joined by this.
NOTE_SEPARATOR = "; "


class Message(StrEnum):
    """The wordings, as str.format templates (user text always as {text!r}: quoted, escaped)."""

    NOTHING = "nothing to look up"
    POSTCODE_NOT_FOUND = f"postcode {{postcode}} is not in {POSTCODE_SOURCE}"
    DISTRICT_NOT_FOUND = f"postcode district {{outward}} is not in {POSTCODE_SOURCE}"
    POSTCODE_INVALID = "postcode {text!r} is not a valid UK postcode"
    PLACED_AT_DISTRICT = (
        "placed at the centre of postcode district {outward} instead "
        "(precision postcode_district): check the postcode"
    )
    PLACE_CLOSE_SPELLING = (
        "place {text!r} is not in the gazetteer; read it as {name!r} (a close spelling: check it)"
    )
    PLACE_IS_DISTRICT = (
        "place {text!r} is a whole district ({name}), not a point: give a "
        "town, postcode or lat/lon to map it"
    )
    PLACE_NOT_FOUND = "place {text!r} is not in the Gloucestershire gazetteer"
    PLACE_NOT_FOUND_SUGGEST = (
        "place {text!r} is not in the Gloucestershire gazetteer (did you mean {names}?)"
    )
    ONLINE_FOUND = "located {text!r} online (OpenStreetMap Nominatim)"
    ONLINE_NOT_FOUND = "the online geocoder did not find {text!r} either"
    ONLINE_OFF = f"online geocoding is off ({ONLINE_ENV}=1 turns it on)"
    # A record's warning: the location's message, naming the record.
    RECORD = "record {record_id!r}: {message}"
    RECORD_NOT_MAPPED = "record {record_id!r}: {message}. Not on the map, but still listed"
