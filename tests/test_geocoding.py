"""Offline geocoding: postcodes, outward codes, the gazetteer, the online fallback, the frame."""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aop_map.geocoding import (
    FRAME_COLUMNS,
    CachedOnlineGeocoder,
    Gazetteer,
    default_gazetteer,
    default_postcode_lookup,
    geocode_query,
    geocode_records,
    haversine_km,
    import_onspd,
    normalise_postcode,
    online_geocoder_from_env,
    outward_code,
    place_key,
)
from aop_map.records import Record
from aop_map.vocabulary import Vocabulary
from tests.conftest import MAPDATA, SHARED_GEODATA

GLOS_DISTRICTS = {"E07000078", "E07000079", "E07000080", "E07000081", "E07000082", "E07000083"}


def reference(name: str) -> Path:
    path = SHARED_GEODATA / name
    if not path.is_file():
        pytest.skip(f"reference geodata {path} not available (it sits beside the checkout)")
    return path


def record(**fields: object) -> Record:
    base = {"id": "r", "name": "R", "kind": "organisation", "status": "established"}
    return Record.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("text", "expected"),
    [("GL50 3PR", "GL50 3PR"), ("gl503pr", "GL50 3PR"), (" gl50   3pr ", "GL50 3PR"),
     ("GL1 1AD", "GL1 1AD"), ("g11ab", "G1 1AB"), ("SW1A 1AA", "SW1A 1AA"),
     ("ec1a1bb", "EC1A 1BB"), ("GL14", None), ("GL50 3P", None), ("50GL 3PR", None),
     ("GL50 3PRX", None), ("", None), ("<script>", None), ("GL50 3CR", "GL50 3CR")],
)
def test_normalise_postcode(text: str, expected: str | None) -> None:
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("GL14", "GL14"), ("gl14 2aa", "GL14"), ("GL50", "GL50"), ("G1", "G1"),
     ("Stroud", None), ("GL", None)],
)
def test_outward_code(text: str, expected: str | None) -> None:
    assert outward_code(text) == expected


def test_postcodes_match_reference_within_50m_and_district() -> None:
    with open(reference("gl_postcodes.csv"), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    sample = random.Random(2026).sample(rows, 2500)
    found = default_postcode_lookup().lookup([r["postcode"] for r in sample])
    distances = haversine_km(0, 0, [0], [0])  # warm-up of the helper's dtype path
    distances = np.array([
        haversine_km(float(r["lat"]), float(r["lon"]), [a], [o])[0] * 1000
        for r, a, o in zip(sample, found["lat"], found["lon"], strict=True)])
    assert not np.isnan(distances).any(), "every live GL postcode is in the packaged ONSPD"
    assert distances.max() < 50, f"max error {distances.max():.1f} m"
    assert list(found["district_code"]) == [r["district_code"] for r in sample]


def test_gazetteer_places_match_os_open_names() -> None:
    with open(reference("glos_places.csv"), encoding="utf-8") as handle:
        names: dict[str, list[dict[str, str]]] = {}
        for row in csv.DictReader(handle):
            names.setdefault(place_key(row["name"]), []).append(row)
    gazetteer = Gazetteer.load(MAPDATA / "gazetteer.csv")
    with open(MAPDATA / "gazetteer.csv", encoding="utf-8") as handle:
        ours = list(csv.DictReader(handle))
    checked = 0
    for row in ours:
        if row["in_gloucestershire"] == "0":
            continue
        keys = [place_key(n) for n in [row["name"], *row["alt_names"].split(";")] if n]
        candidates = [c for k in keys for c in names.get(k, [])]
        assert candidates, f"{row['name']} is not an OS Open Names populated place"
        best = min(haversine_km(float(row["lat"]), float(row["lon"]), [float(c["lat"])],
                                [float(c["lon"])])[0] for c in candidates)
        assert best <= 1.5, f"{row['name']} is {best:.2f} km from the OS point"
        assert row["district_code"] in {c["district_code"] for c in candidates}, row["name"]
        assert gazetteer.find(row["name"]).district_code == row["district_code"]
        checked += 1
    assert checked >= 80
    assert {r["district_code"] for r in ours} >= GLOS_DISTRICTS


@pytest.mark.parametrize(
    ("query", "name"),
    [("Stroud", "Stroud"), ("stroud", "Stroud"), ("STOW", "Stow-on-the-Wold"),
     ("stow on the wold", "Stow-on-the-Wold"), ("Bishops Cleeve", "Bishop's Cleeve"),
     ("Cirencster", "Cirencester"), ("Lechlade", "Lechlade-on-Thames")],
)
def test_gazetteer_find(query: str, name: str) -> None:
    assert default_gazetteer().find(query).name == name


def test_gazetteer_rejects_distant_guesses() -> None:
    assert default_gazetteer().find("Manchester") is None
    assert default_gazetteer().find("") is None


def test_outward_centroid_inside_county() -> None:
    result = geocode_query("GL14")
    assert result.precision == "postcode_district"
    assert result.district_name == "Forest of Dean"
    assert 51.7 < result.lat < 51.9 and -2.6 < result.lon < -2.3


def test_query_unknown_postcode_falls_back_to_outward() -> None:
    result = geocode_query("GL14 9ZZ")
    assert result.precision == "postcode_district" and "not found" in result.message


def test_query_unknown_everything() -> None:
    result = geocode_query("Atlantis")
    assert result.lat is None and result.precision == "none"
    assert "not a known postcode or Gloucestershire place" in result.message


def test_query_place_with_typo_says_how_it_was_read() -> None:
    result = geocode_query("Tewksbury")
    assert result.precision == "place" and "Tewkesbury" in result.message


def test_records_frame_columns_and_precisions(vocabulary: Vocabulary) -> None:
    records = [
        record(id="exact", locations=[{"lat": 51.745, "lon": -2.215}]),
        record(id="postcode", locations=[{"postcode": "gl503pr"}, {"place": "Stroud"}],
               publish_contact=True, contact={"email": "a@b.org"}),
        record(id="outward", locations=[{"postcode": "GL14 9ZZ"}]),
        record(id="nowhere", locations=[{"place": "Atlantis"}]),
        record(id="none", contact={"email": "private@b.org"}),
    ]
    frame, problems = geocode_records(records, vocabulary)
    assert tuple(c for c in frame.columns if c != "geometry") == FRAME_COLUMNS
    assert frame.crs.to_epsg() == 4326
    by = {(r.record_id, r.location_index): r for r in frame.itertuples()}
    assert by[("exact", 0)].location_precision == "exact"
    assert by[("exact", 0)].district_name == "Stroud"  # from the nearest gazetteer place
    assert by[("postcode", 0)].location_precision == "postcode"
    assert by[("postcode", 0)].postcode == "GL50 3PR"
    assert by[("postcode", 0)].district_name == "Cheltenham"
    assert by[("postcode", 1)].location_precision == "place"
    assert by[("outward", 0)].location_precision == "postcode_district"
    assert by[("nowhere", 0)].location_precision == "none" and by[("nowhere", 0)].geometry is None
    assert by[("none", -1)].location_precision == "none"
    # Contact details only with consent.
    assert by[("postcode", 0)].email == "a@b.org" and by[("none", -1)].email is None
    assert {(p.record_id, p.severity) for p in problems} == {
        ("outward", "warning"), ("nowhere", "warning")}
    assert any("GL14 9ZZ" in p.message for p in problems)


def test_empty_records(vocabulary: Vocabulary) -> None:
    frame, problems = geocode_records([], vocabulary)
    assert len(frame) == 0 and problems == [] and frame.crs.to_epsg() == 4326


def test_online_geocoder_off_unless_enabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AOP_MAP_ONLINE_GEOCODING", raising=False)
    assert online_geocoder_from_env() is None


def test_online_fallback_rate_limited_and_cached(tmp_path: Path, vocabulary: Vocabulary) -> None:
    calls: list[str] = []
    now = [0.0]
    sleeps: list[float] = []

    def fake(query: str) -> tuple[float, float] | None:
        calls.append(query)
        return (53.4, -2.99) if query == "Somewhere Far" else None

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    cache = tmp_path / "online.json"
    online = CachedOnlineGeocoder(fake, cache, clock=lambda: now[0], sleep=sleep)
    records = [record(id="far", locations=[{"place": "Somewhere Far"}]),
               record(id="lost", locations=[{"place": "Nowhere Known"}])]
    frame, _ = geocode_records(records, vocabulary, online=online)
    assert list(frame["location_precision"]) == ["online", "none"]
    assert calls == ["Somewhere Far", "Nowhere Known"] and sleeps == [1.0]
    again = CachedOnlineGeocoder(fake, cache, clock=lambda: now[0], sleep=sleep)
    geocode_records(records, vocabulary, online=again)
    assert len(calls) == 2, "a second run answers from the cache file, offline"


def test_import_onspd_takes_precedence(tmp_path: Path) -> None:
    source = tmp_path / "ONSPD_TEST_UK.csv"
    pd.DataFrame({"pcd": ["GL50 3PR", "ZZ1 1ZZ"], "oseast1m": ["394855", "400000"],
                  "osnrth1m": ["222460", "300000"], "laua": ["E07000078", "E99999999"]}
                 ).to_csv(source, index=False)
    dest = import_onspd(source, tmp_path / "geodata")
    from aop_map.geocoding import PostcodeLookup

    lookup = PostcodeLookup(dest)
    found = lookup.lookup(["ZZ1 1ZZ", "gl503pr", "GL1 1AD"])
    assert found["district_code"].tolist() == ["E99999999", "E07000078", None]
    assert math.isclose(found["lat"][0], 52.598, abs_tol=0.01)


def test_import_onspd_rejects_other_files(tmp_path: Path) -> None:
    source = tmp_path / "x.csv"
    source.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="is this ONSPD"):
        import_onspd(source, tmp_path / "g")
