"""The one resolver: a location (postcode, outward code, place, lat/lon) -> a point, its
precision and one message. `aop-map geocode`, the map's 'near' box and `geocode_records` (for
what its vectorised postcode lookup leaves) all go through `Resolver.resolve`."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from aop_map.geocoding.directory import PostcodeLookup, default_postcode_lookup
from aop_map.geocoding.districts import bundled_vocabulary, district_area_code, district_name
from aop_map.geocoding.gazetteer import Gazetteer, default_gazetteer
from aop_map.geocoding.messages import NOTE_SEPARATOR, Message
from aop_map.geocoding.online import OnlineGeocoder
from aop_map.geocoding.postcodes import normalise_postcode, outward_code, reads_as_postcode
from aop_map.vocabulary import Vocabulary

PRECISIONS = ("exact", "postcode", "postcode_district", "place", "online", "none")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True)
class LocationSpec:
    """What a location gives: any of a postcode (or outward code), a place name, an address
    (only ever sent to the online geocoder) and lat/lon, as written; the resolver reads them."""

    postcode: str | None = None
    place: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def from_query(cls, query: str | None) -> LocationSpec:
        """Free text as typed ('GL50 3PR', 'GL14', 'Stroud'): a postcode when it is shaped like
        one, valid or not, else a place name."""
        text = _text(query)
        return cls(postcode=text) if reads_as_postcode(text) else cls(place=text or None)

    @property
    def has_point(self) -> bool:
        """True when the location gives both lat and lon."""
        return _number(self.lat) and _number(self.lon)

    @property
    def subject(self) -> str:
        """The field a message is about: the postcode when one is given, else the place."""
        return "postcode" if _text(self.postcode) else "place"

    def describe(self) -> str:
        """The text the location is looked up by (a result's `query`)."""
        point = f"{self.lat}, {self.lon}" if self.has_point else ""
        return _text(self.postcode) or _text(self.place) or _text(self.address) or point


@dataclass(frozen=True)
class GeocodeResult:
    """Where a free-text postcode, outward code or place is (lat/lon None when not found)."""

    query: str
    lat: float | None
    lon: float | None
    precision: str
    district_code: str | None
    district_name: str | None
    message: str | None = None


class _Found(NamedTuple):
    lat: float | None
    lon: float | None
    precision: str
    district_code: str | None


_NOWHERE = _Found(None, None, "none", None)


class Resolver:
    """Locates a LocationSpec, offline first; the first step that places it wins:

    1. lat/lon -> ``exact`` (district: its postcode's, else the nearest GL postcode's);
    2. a postcode in the ONS Postcode Directory -> ``postcode``;
    3. an outward code alone ('GL14'), or a postcode not in the directory or cut short
       ('GL50 3P') -> the centre of that outward code's postcodes -> ``postcode_district``;
    4. a place in the gazetteer, or a close spelling of one -> ``place``;
    5. the injected online geocoder, if any -> ``online`` (district: the nearest GL postcode's);
    6. else ``none``; a place that is a whole district keeps that district.

    Each step that falls short adds a note (`Message`); the result's message is the notes.
    """

    def __init__(
        self,
        postcodes: PostcodeLookup | None = None,
        gazetteer: Gazetteer | None = None,
        online: OnlineGeocoder | None = None,
        vocabulary: Vocabulary | None = None,
    ) -> None:
        self.postcodes = default_postcode_lookup() if postcodes is None else postcodes
        self.gazetteer = default_gazetteer() if gazetteer is None else gazetteer
        self.online = online
        self.vocabulary = bundled_vocabulary() if vocabulary is None else vocabulary

    def resolve(self, spec: LocationSpec) -> GeocodeResult:
        """The point, precision, district and message (None when nothing needs saying)."""
        notes: list[str] = []
        found = self._locate(spec, notes)
        return GeocodeResult(
            spec.describe(),
            found.lat,
            found.lon,
            found.precision,
            found.district_code,
            district_name(found.district_code, self.vocabulary),
            NOTE_SEPARATOR.join(notes) or None,
        )

    def _locate(self, spec: LocationSpec, notes: list[str]) -> _Found:
        if spec.has_point:
            return self._exact(float(spec.lat), float(spec.lon), _text(spec.postcode))
        raw = _text(spec.postcode)
        found = self._postcode(raw, notes) if raw else None
        if found:
            return found
        text = _text(spec.place)
        found = self._place(text, notes) if text else _NOWHERE
        if found.lat is not None:
            return found
        wanted = text or _text(spec.address) or raw
        if not wanted:
            notes.append(Message.NOTHING)
            return found
        return self._online(wanted, found.district_code, notes) or found

    def _exact(self, lat: float, lon: float, postcode: str) -> _Found:
        hit = self.postcodes.find(postcode) if postcode else None
        district = hit.district_code if hit else None
        return _Found(lat, lon, "exact", district or self._nearest_district(lat, lon))

    def _postcode(self, raw: str, notes: list[str]) -> _Found | None:
        hit = self.postcodes.find(raw)
        if hit:
            return _Found(hit.lat, hit.lon, "postcode", hit.district_code)
        full = normalise_postcode(raw)
        bare = None if full else outward_code(raw)
        # 'GL50 3P': not a postcode, but its first word is still a usable outward code.
        outward = full.split()[0] if full else bare or outward_code(raw.split()[0])
        centre = self.postcodes.outward_centroid(outward) if outward else None
        at_centre = (
            _Found(centre.lat, centre.lon, "postcode_district", centre.district_code)
            if centre
            else None
        )
        if bare and at_centre:
            return at_centre  # an outward code alone: just what was asked for
        if full:
            notes.append(Message.POSTCODE_NOT_FOUND.format(postcode=full))
        elif bare:
            notes.append(Message.DISTRICT_NOT_FOUND.format(outward=bare))
        else:
            notes.append(Message.POSTCODE_INVALID.format(text=raw))
        if at_centre:
            notes.append(Message.PLACED_AT_DISTRICT.format(outward=outward))
        return at_centre

    def _place(self, text: str, notes: list[str]) -> _Found:
        place, exact = self.gazetteer.match(text)
        if place:
            if not exact:
                notes.append(Message.PLACE_CLOSE_SPELLING.format(text=text, name=place.name))
            return _Found(place.lat, place.lon, "place", place.district_code)
        area_code = district_area_code(text, self.vocabulary)
        suggestions = [] if area_code else self.gazetteer.suggest(text)
        if area_code:
            name = district_name(area_code, self.vocabulary)
            notes.append(Message.PLACE_IS_DISTRICT.format(text=text, name=name))
        elif suggestions:
            notes.append(
                Message.PLACE_NOT_FOUND_SUGGEST.format(text=text, names=", ".join(suggestions))
            )
        else:
            notes.append(Message.PLACE_NOT_FOUND.format(text=text))
        return _Found(None, None, "none", area_code)

    def _online(self, text: str, area_code: str | None, notes: list[str]) -> _Found | None:
        if self.online is None:
            notes.append(Message.ONLINE_OFF)
            return None
        hit = self.online(text)
        if not hit:
            notes.append(Message.ONLINE_NOT_FOUND.format(text=text))
            return None
        notes.append(Message.ONLINE_FOUND.format(text=text))
        lat, lon = float(hit[0]), float(hit[1])
        return _Found(lat, lon, "online", area_code or self._nearest_district(lat, lon))

    def _nearest_district(self, lat: float, lon: float) -> str | None:
        return self.postcodes.nearest([lat], [lon])["district_code"].iat[0]


def geocode_query(
    query: str,
    *,
    postcodes: PostcodeLookup | None = None,
    gazetteer: Gazetteer | None = None,
    online: OnlineGeocoder | None = None,
    vocabulary: Vocabulary | None = None,
) -> GeocodeResult:
    """Locate one postcode ('GL50 3PR'), outward code ('GL14') or place name ('Stroud')."""
    resolver = Resolver(postcodes, gazetteer, online, vocabulary)
    return dataclasses.replace(resolver.resolve(LocationSpec.from_query(query)), query=query)
