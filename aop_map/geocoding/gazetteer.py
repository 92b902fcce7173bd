"""The gazetteer: Gloucestershire place names (and a few beyond) -> points, typo-tolerant;
read from mapdata/gazetteer.csv, never written."""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process

from aop_map.geocoding.coordinates import haversine_km
from aop_map.geocoding.districts import GLOS_DISTRICTS
from aop_map.loading import BUNDLED_DATA_DIR, GAZETTEER_FILE
from aop_map.text import normalise

GAZETTEER_COLUMNS = ("name", "alt_names", "lat", "lon", "district_code", "district_name")
# A fuzzy place match below this rapidfuzz ratio is more likely another place than a typo
# ('Tewksbury' -> 'Tewkesbury' scores 95; 'Stroud' vs 'Strood' only 83).
PLACE_MATCH_CUTOFF = 90
# Suggestions ("did you mean ...?") may be further off than a match: the person checks them.
SUGGEST_CUTOFF = 75


def place_key(name: str) -> str:
    """Matching key of a place name: no accents, case, punctuation, 'the' or 'Saint'."""
    text = re.sub(r"\bsaint\b", "st", normalise(name, ascii_only=True))
    return re.sub(r"^the ", "", text)


@dataclass(frozen=True)
class GazetteerPlace:
    """A named place with a point and its district."""

    name: str
    lat: float
    lon: float
    district_code: str | None
    district_name: str | None
    alt_names: tuple[str, ...] = ()

    @property
    def in_gloucestershire(self) -> bool:
        """True for a place in one of the county's six districts."""
        return self.district_code in GLOS_DISTRICTS


class Gazetteer:
    """Place names (and alternative names) -> places; typo-tolerant above a high score."""

    def __init__(
        self, places: Iterable[GazetteerPlace], alt_names: dict[str, list[str]] | None = None
    ) -> None:
        self.places = list(places)
        self._keys: dict[str, GazetteerPlace] = {}
        for place in self.places:
            for name in (place.name, *place.alt_names, *(alt_names or {}).get(place.name, [])):
                self._keys.setdefault(place_key(name), place)
        self._key_list = list(self._keys)

    @classmethod
    def load(cls, path: Path | str | None = None) -> Gazetteer:
        """Read a gazetteer CSV: name, alt_names (';'-separated), lat, lon, district_code,
        district_name."""
        path = Path(path) if path is not None else BUNDLED_DATA_DIR / GAZETTEER_FILE
        places: list[GazetteerPlace] = []
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = set(GAZETTEER_COLUMNS) - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
            for line, row in enumerate(reader, start=2):
                try:
                    lat, lon = float(row["lat"]), float(row["lon"])
                except ValueError:
                    raise ValueError(f"{path} line {line}: lat/lon are not numbers") from None
                alt = tuple(a.strip() for a in (row["alt_names"] or "").split(";") if a.strip())
                places.append(
                    GazetteerPlace(
                        row["name"].strip(),
                        lat,
                        lon,
                        row["district_code"] or None,
                        row["district_name"] or None,
                        alt,
                    )
                )
        return cls(places)

    def find(self, name: str) -> GazetteerPlace | None:
        """The place a name means (exact key, then a close typo), or None."""
        place, _exact = self.match(name)
        return place

    def match(self, name: str) -> tuple[GazetteerPlace | None, bool]:
        """(place, whether the match was exact rather than a typo-tolerant guess)."""
        key = place_key(name or "")
        if not key:
            return None, False
        if key in self._keys:
            return self._keys[key], True
        best = process.extract(
            key, self._key_list, scorer=fuzz.ratio, limit=2, score_cutoff=PLACE_MATCH_CUTOFF
        )
        if not best:
            return None, False
        place = self._keys[best[0][0]]
        # Two different places about equally close: a guess either way, so neither.
        if len(best) > 1 and self._keys[best[1][0]] != place and best[1][1] >= best[0][1] - 1:
            return None, False
        return place, False

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Place names close to a name that was not found."""
        matches = process.extract(
            place_key(name or ""),
            self._key_list,
            scorer=fuzz.WRatio,
            limit=limit,
            score_cutoff=SUGGEST_CUTOFF,
        )
        return sorted({self._keys[m[0]].name for m in matches})

    def nearest(self, lat: float, lon: float, max_km: float) -> GazetteerPlace | None:
        """The nearest place within max_km, or None."""
        if not self.places:
            return None
        distances = haversine_km(
            lat, lon, [p.lat for p in self.places], [p.lon for p in self.places]
        )
        best = int(np.argmin(distances))
        return self.places[best] if distances[best] <= max_km else None


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The bundled gazetteer, read once."""
    return Gazetteer.load()
