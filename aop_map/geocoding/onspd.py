"""Importing a newer ONS Postcode Directory (CSV or the ONS zip) as lookup files; the only
writer of postcode data."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import brotli
import msgpack
import pandas as pd

from aop_map.geocoding.directory import ONSPD_COLUMNS, default_postcode_lookup, user_geodata_dir
from aop_map.geocoding.postcodes import POSTCODE_RE

# Brotli quality for imported ONSPD files: 11 takes minutes for the whole UK, 6 seconds.
IMPORT_BROTLI_QUALITY = 6


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
    # The package's own writer is private (_generate), prints, and takes minutes at quality 11.
    for letter, group in frame.groupby(frame["pcd"].str[:1], sort=True):
        payload = {
            "columns": list(ONSPD_COLUMNS),
            "data": {c: group[c].tolist() for c in ONSPD_COLUMNS},
        }
        target = dest / f"postcodes_{letter}.msgpack.br"
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(
            brotli.compress(
                msgpack.packb(payload, use_bin_type=True), quality=IMPORT_BROTLI_QUALITY
            )
        )
        tmp.replace(target)
    manifest = {
        "source": source.name,
        "postcodes": len(frame),
        "imported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (dest / "onspd-import.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    default_postcode_lookup.cache_clear()
    return dest


def _read_onspd(source: Path) -> pd.DataFrame:
    if not source.is_file():
        raise ValueError(f"{source}: file not found")
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            names = [
                n
                for n in archive.namelist()
                if n.lower().endswith(".csv")
                and re.search(r"onspd|nspd|postcode", n, re.IGNORECASE)
            ]
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

    chosen = {
        "pcd": pick("pcd7", "pcd", "pcds", "postcode"),
        "laua": pick("laua", "oslaua", r"lad\d\dcd"),
        "oseast1m": pick("oseast1m", "east1m"),
        "osnrth1m": pick("osnrth1m", "north1m"),
    }
    # Only four of ONSPD's ~50 columns are read: the whole-UK file is over a gigabyte.
    types = {
        chosen["pcd"]: str,
        chosen["laua"]: str,
        chosen["oseast1m"]: float,
        chosen["osnrth1m"]: float,
    }
    try:
        raw = pd.read_csv(handle, usecols=list(types), dtype=types)
    except ValueError as error:
        raise ValueError(f"{source}: {error} (is this ONSPD?)") from None
    lad = raw[chosen["laua"]]
    frame = pd.DataFrame(
        {
            "pcd": _as_pcd7(raw[chosen["pcd"]]),
            "laua": lad.astype(object).where(lad.notna(), None),
            "oseast1m": raw[chosen["oseast1m"]],
            "osnrth1m": raw[chosen["osnrth1m"]],
        }
    )
    return frame[frame["pcd"].notna() & frame["oseast1m"].notna() & frame["osnrth1m"].notna()]


def _as_pcd7(values: pd.Series) -> pd.Series:
    """ONSPD's key for each postcode in any spelling, None where invalid (vectorised: the whole
    UK is 2.7 million rows)."""
    compact = values.astype(object).where(values.notna(), "").astype(str)
    compact = compact.str.replace(r"\s+", "", regex=True).str.upper()
    valid = compact.str.fullmatch(POSTCODE_RE.pattern.strip("^$"))
    keys = compact.str[:-3].str.ljust(4) + compact.str[-3:]
    return keys.astype(object).where(valid.astype(bool), None)
