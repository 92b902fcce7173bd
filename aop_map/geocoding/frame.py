"""Records -> GeoDataFrame (EPSG:4326), one row per location: points and postcodes in one
vectorised pass (the fast twin of `Resolver.resolve`), the rest through the resolver itself.
Never changes the records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from aop_map import fields
from aop_map.geocoding.directory import PostcodeLookup
from aop_map.geocoding.districts import district_name
from aop_map.geocoding.gazetteer import Gazetteer
from aop_map.geocoding.messages import Message
from aop_map.geocoding.online import OnlineGeocoder
from aop_map.geocoding.postcodes import normalise_postcode
from aop_map.geocoding.resolver import GeocodeResult, LocationSpec, Resolver
from aop_map.loading import Origin
from aop_map.records import Problem, Record
from aop_map.vocabulary import Vocabulary

# What geocoding adds to each location: how it was placed and the district it lies in.
GEOCODED_COLUMNS = ("location_precision", "district_code", "district_name")


def frame_columns() -> tuple[str, ...]:
    """The frame's columns, "geometry" aside, from the field registry as it is now: the record
    id and location number, every other record-level field of ``fields.frame_fields()``, then
    the location fields and what geocoding adds."""
    first = fields.by_name("id").column_name
    specs = fields.frame_fields()
    record_level = [s.column_name for s in specs if s.group != "locations" and s.name != "id"]
    located = [s.column_name for s in specs if s.group == "locations"]
    return (first, "location_index", *record_level, *located, *GEOCODED_COLUMNS)


def __getattr__(name: str) -> Any:
    # FRAME_COLUMNS, the former constant, is answered from the registry when asked.
    if name == "FRAME_COLUMNS":
        return frame_columns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# (column, field, reader) of one record-level frame column.
_Reader = tuple[str, fields.FieldSpec, Callable[[Any], Any]]


def _record_readers() -> list[_Reader]:
    """How to read each record-level frame column from a record, in frame order."""
    return [
        (spec.column_name, spec, fields.getter(spec))
        for spec in fields.frame_fields()
        if spec.group != "locations"
    ]


def _base_columns(record: Record, readers: list[_Reader]) -> dict[str, Any]:
    consented = bool(record.publish_contact)
    row: dict[str, Any] = {}
    for column, spec, read in readers:
        value = read(record)
        if spec.personal and not consented:  # contact details leave a record only with consent
            value = () if spec.many else None
        row[column] = tuple(value) if spec.many else value
    return row


def empty_frame() -> gpd.GeoDataFrame:
    """A frame with every column and no rows (EPSG:4326)."""
    return gpd.GeoDataFrame(
        {c: pd.Series([], dtype=object) for c in frame_columns()},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )


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

    Points and postcodes are placed in one vectorised pass; only the few locations left go,
    one by one, through the resolver (outward codes, places and, when given, online).
    """
    if not records:
        return empty_frame(), []
    resolver = Resolver(postcodes, gazetteer, online, vocabulary)
    frame = _location_rows(records)
    resolved = _Resolution(len(frame))
    _resolve_exact(frame, resolved)
    _resolve_postcodes(frame, resolved, resolver.postcodes)
    _fill_point_districts(resolved, resolver.postcodes)
    warnings = _resolve_rest(frame, resolved, resolver)
    problems = _problems(frame, warnings, origins or {})
    return _finish_frame(frame, resolved, vocabulary), problems


def _location_rows(records: list[Record]) -> pd.DataFrame:
    """One row per location (one without a place for a record without locations), with the
    location's fields as given: lat and lon are the inputs of the resolution steps."""
    readers = _record_readers()
    located = [
        (spec.column_name, spec.attribute)
        for spec in fields.frame_fields()
        if spec.group == "locations"
    ]
    nowhere = {column: None for column, _ in located}
    rows: list[dict[str, Any]] = []
    for record in records:
        base = _base_columns(record, readers)
        if not record.locations:
            rows.append({**base, "location_index": -1, **nowhere})
        for index, location in enumerate(record.locations):
            rows.append(
                {
                    **base,
                    "location_index": index,
                    **{column: getattr(location, attribute) for column, attribute in located},
                }
            )
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
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)  # as given
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    exact = ~np.isnan(lat) & ~np.isnan(lon)
    resolved.lat[exact], resolved.lon[exact] = lat[exact], lon[exact]
    resolved.precision[exact] = "exact"


def _resolve_postcodes(
    frame: pd.DataFrame, resolved: _Resolution, postcodes: PostcodeLookup
) -> None:
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


def _fill_point_districts(resolved: _Resolution, postcodes: PostcodeLookup) -> None:
    """Exact points without a district take that of the nearest GL postcode."""
    rows = np.flatnonzero((resolved.precision == "exact") & pd.isna(resolved.district))
    if len(rows):
        nearest = postcodes.nearest(resolved.lat[rows], resolved.lon[rows])
        resolved.district[rows] = nearest["district_code"].to_numpy()


def _resolve_rest(
    frame: pd.DataFrame, resolved: _Resolution, resolver: Resolver
) -> dict[int, tuple[str, str, bool]]:
    """The locations the vectorised pass left, through the resolver: (field, message,
    placed) for each row whose result has a message."""
    warnings: dict[int, tuple[str, str, bool]] = {}
    index = frame["location_index"].to_numpy()
    postcode, place = frame["postcode"].to_numpy(), frame["place"].to_numpy()
    address = frame["address"].to_numpy()
    for row in np.flatnonzero(resolved.pending() & (index >= 0)):
        spec = LocationSpec(postcode=postcode[row], place=place[row], address=address[row])
        result = resolver.resolve(spec)
        resolved.set(row, result)
        if result.message:
            warnings[row] = (
                f"locations.{index[row]}.{spec.subject}",
                result.message,
                result.lat is not None,
            )
    return warnings


def _problems(
    frame: pd.DataFrame, warnings: dict[int, tuple[str, str, bool]], origins: dict[str, Origin]
) -> list[Problem]:
    # A record that gives no location at all is not a geocoding failure: the sources often
    # name none. It stays in lists and the About page lists it among the records not on the map.
    problems = []
    for row, (field, message, placed) in sorted(warnings.items()):
        record_id = frame["record_id"].iat[row]
        origin = origins.get(record_id)
        wording = Message.RECORD if placed else Message.RECORD_NOT_MAPPED
        problems.append(
            Problem(
                origin.source if origin else record_id,
                wording.format(record_id=record_id, message=message),
                origin.line if origin else None,
                field,
                record_id,
                severity="warning",
            )
        )
    return problems


def _finish_frame(
    frame: pd.DataFrame, resolved: _Resolution, vocabulary: Vocabulary
) -> gpd.GeoDataFrame:
    frame["postcode"] = pd.Series(
        [normalise_postcode(p) or p if isinstance(p, str) else None for p in frame["postcode"]],
        dtype=object,
    )
    frame["lat"], frame["lon"] = resolved.lat, resolved.lon
    frame["location_precision"] = pd.Series(resolved.precision, dtype=object)
    frame["district_code"] = pd.Series(resolved.district, dtype=object)
    names = {code: district_name(code, vocabulary) for code in set(resolved.district) if code}
    frame["district_name"] = pd.Series(
        [names.get(c) if c else None for c in resolved.district], dtype=object
    )
    located = ~np.isnan(resolved.lat)
    geometry = np.full(len(frame), None, dtype=object)
    geometry[located] = shapely.points(resolved.lon[located], resolved.lat[located])
    frame = frame[list(frame_columns())]
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"), crs="EPSG:4326"
    )
