"""Coordinates: the British and Irish grids to WGS84, and great-circle distances; no data."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from pyproj import Transformer
from pyproj.enums import TransformDirection

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
# The mean Earth radius (IUGG): great-circle distances are within 0.5 % of the ellipsoid's.
EARTH_RADIUS_KM = 6371.0088


@functools.cache
def bng_transformer() -> Transformer:
    """The British National Grid -> WGS84 transformer (made once)."""
    return Transformer.from_pipeline(BNG_TO_WGS84)


@functools.cache
def _irish_transformer() -> Transformer:
    return Transformer.from_pipeline(IRISH_GRID_TO_WGS84)


def bng_to_wgs84(easting: Any, northing: Any) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) arrays from OSGB36 easting/northing arrays (vectorised; NaN stays NaN)."""
    lon, lat = bng_transformer().transform(np.asarray(easting, float), np.asarray(northing, float))
    return np.asarray(lat, float), np.asarray(lon, float)


def wgs84_to_bng(lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
    """(easting, northing) arrays from WGS84 lat/lon arrays: the inverse of bng_to_wgs84."""
    easting, northing = bng_transformer().transform(
        np.asarray(lon, float), np.asarray(lat, float), direction=TransformDirection.INVERSE
    )
    return np.asarray(easting, float), np.asarray(northing, float)


def grid_to_wgs84(
    easting: np.ndarray, northing: np.ndarray, irish: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) from ONSPD grid references: the Irish Grid where `irish`, else the British."""
    lat, lon = bng_to_wgs84(easting, northing)
    if irish.any():
        lon_i, lat_i = _irish_transformer().transform(easting[irish], northing[irish])
        lat[irish], lon[irish] = lat_i, lon_i
    return lat, lon


def haversine_km(lat: float, lon: float, lats: Any, lons: Any) -> np.ndarray:
    """Great-circle distances in km from one point to arrays of points (vectorised)."""
    lat1, lon1 = np.radians(lat), np.radians(lon)
    lat2, lon2 = np.radians(np.asarray(lats, float)), np.radians(np.asarray(lons, float))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return EARTH_RADIUS_KM * 2 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))
