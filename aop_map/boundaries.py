"""Gloucestershire's district boundaries and place names for the offline base map.

Read from ``mapdata/basemap/`` (never the network, never ``../shared``). ``build_basemap`` makes
those files from the ONS boundary and OS Open Names extracts (``python -m aop_map.boundaries
../shared/geodata``): it simplifies the districts as one coverage, so neighbours keep one shared
edge (no slivers, no gaps), and ranks places by the postcodes around them, for label priority.
Attribution for both is in ``BASEMAP_ATTRIBUTION``: the README and the About page show it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from aop_map.geocoding.coordinates import bng_to_wgs84, wgs84_to_bng
from aop_map.loading import BUNDLED_DATA_DIR
from aop_map.vocabulary import Vocabulary

# A folder of non-record files (.geojson, .json): the record loader never reads them.
BASEMAP_DIR = BUNDLED_DATA_DIR / "basemap"
DISTRICTS_FILE = "districts.geojson"
PLACES_FILE = "places.json"
SOURCE_DISTRICTS = "glos_districts.geojson"
SOURCE_PLACES = "glos_places.csv"
# Douglas-Peucker tolerance on the British grid: the source is already generalised to 20 m,
# and 30 m is under 1.5 px up to zoom 12; it keeps the districts file about 60 KB.
SIMPLIFY_M = 30
COORD_DECIMALS = 5  # ~1 m
# OS Open Names LOCAL_TYPEs shipped as labels: hamlets and "other settlements" (273 in the
# county) would only show from street zoom, where tiles or a postcode say more.
PLACE_TYPES = ("City", "Town", "Village", "Suburban Area")
# A place's size, for label priority, is the number of postcodes within this distance of it:
# OS Open Names has no population, and postcodes follow where people live.
SIZE_RADIUS_M = 1000
POSTCODE_LETTERS = ("G", "H", "N", "W", "O", "S", "B")  # GL and the areas around the county

BASEMAP_ATTRIBUTION = (
    (
        "District boundaries",
        "ONS Middle Layer Super Output Areas (Dec 2011), generalised 20 m, "
        "dissolved into districts; GeoJSON by Martin Chorley, "
        "https://github.com/martinjc/UK-GeoJSON "
        "(CC BY 4.0). Contains National Statistics data © Crown copyright and database right 2016. "
        "Contains OS data © Crown copyright and database right 2016. Simplified for this map.",
    ),
    (
        "Place names",
        "OS Open Names (populated places), compiled by Alasdair Rae "
        "(https://github.com/alasdairrae/gb-places), Open Government Licence v3.0. Contains "
        "Ordnance Survey data © Crown copyright and database right 2017. Contains Royal Mail data "
        "© Royal Mail copyright and database right 2017. Contains National Statistics data © Crown "
        "copyright and database right 2017.",
    ),
)


def basemap_attribution() -> str:
    """The base map's sources and licences as a Markdown list (fixed text, for the About page)."""
    return "\n".join(f"- **{what}**: {text}" for what, text in BASEMAP_ATTRIBUTION)


# ---------------------------------------------------------------------------------------------
# Reading the shipped files


def load_districts(
    vocabulary: Vocabulary | None = None, path: Path | None = None
) -> gpd.GeoDataFrame:
    """The six districts (EPSG:4326): ``code`` (ONS), ``name``, ``geometry``.

    Names are the vocabulary's labels where a term has the district's code, else the file's.
    """
    data = json.loads(Path(path or BASEMAP_DIR / DISTRICTS_FILE).read_text(encoding="utf-8"))
    rows = []
    for feature in data["features"]:
        code, name = feature["properties"]["code"], feature["properties"]["name"]
        term = vocabulary.district_by_code(code) if vocabulary is not None else None
        rows.append(
            {
                "code": code,
                "name": term.label if term else name,
                "geometry": shapely.geometry.shape(feature["geometry"]),
            }
        )
    return gpd.GeoDataFrame(
        rows, columns=["code", "name", "geometry"], geometry="geometry", crs="EPSG:4326"
    )


def load_places(path: Path | None = None) -> pd.DataFrame:
    """Place labels: ``name``, ``type`` (City, Town, Village, Suburban Area), ``lat``, ``lon``,
    ``district_code`` and ``postcodes`` (within SIZE_RADIUS_M: the label priority)."""
    data = json.loads(Path(path or BASEMAP_DIR / PLACES_FILE).read_text(encoding="utf-8"))
    return pd.DataFrame(data["rows"], columns=data["columns"])


# ---------------------------------------------------------------------------------------------
# Building them (by hand, from the open extracts)


def _to_bng(shape: shapely.Geometry) -> shapely.Geometry:
    def transform(coords: np.ndarray) -> np.ndarray:
        easting, northing = wgs84_to_bng(coords[:, 1], coords[:, 0])
        return np.c_[easting, northing]

    return shapely.transform(shape, transform)


def _to_wgs84(shape: shapely.Geometry) -> shapely.Geometry:
    def transform(coords: np.ndarray) -> np.ndarray:
        lat, lon = bng_to_wgs84(coords[:, 0], coords[:, 1])
        return np.c_[np.round(lon, COORD_DECIMALS), np.round(lat, COORD_DECIMALS)]

    return shapely.transform(shape, transform)


def simplify_coverage(polygons: list[shapely.Polygon], tolerance: float) -> list[shapely.Polygon]:
    """Polygons that share edges, simplified so that they still share them exactly.

    Each edge between two junctions (or of the outer boundary) is simplified once with
    Douglas-Peucker, ends kept; the faces are rebuilt and each given to the polygon it overlaps
    most. Simplifying polygons one by one would open gaps and overlaps along every border.
    """
    edges = shapely.get_parts(
        shapely.line_merge(shapely.union_all([polygon.boundary for polygon in polygons]))
    )
    simple = shapely.simplify(edges, tolerance, preserve_topology=False)
    faces = list(shapely.get_parts(shapely.polygonize(simple)))
    owners: dict[int, list[shapely.Polygon]] = {i: [] for i in range(len(polygons))}
    for face in faces:
        overlap = [face.intersection(polygon).area for polygon in polygons]
        if max(overlap) < 0.5 * face.area:
            continue  # a hole between the polygons (none in a clean coverage)
        owners[int(np.argmax(overlap))].append(face)
    out = [shapely.union_all(parts) for parts in owners.values()]
    if not all(shape.is_valid and shape.geom_type == "Polygon" for shape in out):
        raise ValueError("simplification broke a polygon: try a smaller tolerance")
    return out


def _simplified_districts(source: Path, tolerance_m: float) -> dict[str, Any]:
    data = json.loads((source / SOURCE_DISTRICTS).read_text(encoding="utf-8"))
    features = data["features"]
    shapes = [_to_bng(shapely.geometry.shape(f["geometry"])) for f in features]
    simple = simplify_coverage(shapes, tolerance_m)
    out = []
    for feature, shape in zip(features, simple, strict=True):
        props = feature["properties"]
        geometry = json.loads(shapely.to_geojson(_to_wgs84(shape)))
        out.append(
            {
                "type": "Feature",
                "properties": {"code": props["lad_code"], "name": props["lad_name"]},
                "geometry": geometry,
            }
        )
    return {"type": "FeatureCollection", "features": out}


def place_sizes(
    easting: np.ndarray,
    northing: np.ndarray,
    postcodes: Any = None,
    radius_m: float = SIZE_RADIUS_M,
) -> np.ndarray:
    """Postcodes (live or not, from the project's ONSPD tables) within `radius_m` of each point."""
    from aop_map.geocoding import default_postcode_lookup

    lookup = postcodes or default_postcode_lookup()
    pad = radius_m + 1
    box = shapely.box(
        easting.min() - pad, northing.min() - pad, easting.max() + pad, northing.max() + pad
    )
    tables = [lookup.table(letter) for letter in POSTCODE_LETTERS]
    table = pd.concat([t[["easting", "northing"]] for t in tables]).dropna()
    points = shapely.points(table["easting"].to_numpy(float), table["northing"].to_numpy(float))
    points = points[shapely.contains_xy(box, table["easting"], table["northing"])]
    places, _ = shapely.STRtree(points).query(
        shapely.points(easting, northing), predicate="dwithin", distance=radius_m
    )
    return np.bincount(places, minlength=len(easting))


def _places(source: Path, postcodes: Any = None) -> dict[str, Any]:
    table = pd.read_csv(source / SOURCE_PLACES, dtype={"name": str})
    table = table[table["place_type"].isin(PLACE_TYPES)].copy()
    table["postcodes"] = place_sizes(
        table["easting"].to_numpy(float), table["northing"].to_numpy(float), postcodes
    )
    table["rank"] = table["place_type"].map({t: i for i, t in enumerate(PLACE_TYPES)})
    table = table.sort_values(["rank", "postcodes", "name"], ascending=[True, False, True])
    columns = ["name", "type", "lat", "lon", "district_code", "postcodes"]
    rows = [
        [
            r.name,
            r.place_type,
            round(r.lat, COORD_DECIMALS),
            round(r.lon, COORD_DECIMALS),
            r.district_code,
            int(r.postcodes),
        ]
        for r in table.itertuples()
    ]
    return {"columns": columns, "rows": rows}


def _write_lines(path: Path, head: str, items: list[Any], tail: str) -> None:
    """JSON with one item a line: small, and a change shows as a changed line."""
    body = ",\n".join(json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items)
    path.write_text(f"{head}\n{body}\n{tail}\n", encoding="utf-8")


def build_basemap(
    source: Path,
    target: Path = BASEMAP_DIR,
    *,
    tolerance_m: float = SIMPLIFY_M,
    postcodes: Any = None,
) -> dict[str, int]:
    """Write districts.geojson and places.json into `target` from the extracts in `source`.

    Returns each file's size in bytes.
    """
    target.mkdir(parents=True, exist_ok=True)
    districts = _simplified_districts(source, tolerance_m)
    _write_lines(
        target / DISTRICTS_FILE,
        '{"type":"FeatureCollection","features":[',
        districts["features"],
        "]}",
    )
    places = _places(source, postcodes)
    _write_lines(
        target / PLACES_FILE,
        '{"columns":' + json.dumps(places["columns"]) + ',"rows":[',
        places["rows"],
        "]}",
    )
    return {name: (target / name).stat().st_size for name in (DISTRICTS_FILE, PLACES_FILE)}


def main(argv: list[str] | None = None) -> int:
    """``python -m aop_map.boundaries SOURCE [--target DIR] [--tolerance-m M]``."""
    parser = argparse.ArgumentParser(
        prog="python -m aop_map.boundaries", description=build_basemap.__doc__
    )
    parser.add_argument(
        "source",
        type=Path,
        help="folder with glos_districts.geojson and glos_places.csv (e.g. ../shared/geodata)",
    )
    parser.add_argument("--target", type=Path, default=BASEMAP_DIR)
    parser.add_argument("--tolerance-m", type=float, default=SIMPLIFY_M)
    args = parser.parse_args(argv)
    sizes = build_basemap(args.source, args.target, tolerance_m=args.tolerance_m)
    for name, size in sizes.items():
        print(f"{args.target / name}: {size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
