"""Local authority districts: the names of the ONS codes geocoding gives; no lookups."""

from __future__ import annotations

import functools

from aop_map.loading import BUNDLED_DATA_DIR
from aop_map.vocabulary import Vocabulary

GLOS_DISTRICTS = {
    "E07000078": "Cheltenham",
    "E07000079": "Cotswold",
    "E07000080": "Forest of Dean",
    "E07000081": "Gloucester",
    "E07000082": "Stroud",
    "E07000083": "Tewkesbury",
}
# Districts around Gloucestershire and of the other places in the gazetteer; any other code is
# kept without a name.
OTHER_DISTRICTS = {
    "E06000019": "Herefordshire",
    "E06000022": "Bath and North East Somerset",
    "E06000023": "Bristol",
    "E06000024": "North Somerset",
    "E06000025": "South Gloucestershire",
    "E06000030": "Swindon",
    "E06000051": "Shropshire",
    "E06000054": "Wiltshire",
    "E07000177": "Cherwell",
    "E07000178": "Oxford",
    "E07000180": "Vale of White Horse",
    "E07000181": "West Oxfordshire",
    "E07000221": "Stratford-on-Avon",
    "E07000235": "Malvern Hills",
    "E07000237": "Worcester",
    "E07000238": "Wychavon",
    "E08000001": "Bolton",
    "E08000003": "Manchester",
    "E08000012": "Liverpool",
    "E08000025": "Birmingham",
    "N09000003": "Belfast",
    "N09000005": "Derry City and Strabane",
    "W06000015": "Cardiff",
    "W06000021": "Monmouthshire",
    "W06000022": "Newport",
}


def district_name(code: str | None, vocabulary: Vocabulary | None = None) -> str | None:
    """The name of an ONS district code: the vocabulary's area label, else a known name."""
    if not code:
        return None
    if vocabulary is not None:
        term = vocabulary.district_by_code(code)
        if term is not None:
            return term.label
    return GLOS_DISTRICTS.get(code) or OTHER_DISTRICTS.get(code)


def district_area_code(text: str, vocabulary: Vocabulary) -> str | None:
    """The ONS code of a place name that is a whole district ('the Forest of Dean'), or None."""
    term_id = vocabulary.find("areas_served", text)
    term = vocabulary.term("areas_served", term_id) if term_id else None
    return term.code if term else None


@functools.cache
def bundled_vocabulary() -> Vocabulary:
    """The bundled vocabulary, read once (for lookups that are given none)."""
    return Vocabulary.load(BUNDLED_DATA_DIR / "vocabulary.yaml")
