"""aop_map.api: the read-only ORUK API, its queries, reloading, and every endpoint's answers
checked against the ORUK JSON Schemas.

httpx (which FastAPI's TestClient needs) is not in the lock, so the endpoints are tested on a
real server: `aop-map serve-api` in a subprocess, on a free port, asked with urllib. Those tests
are marked slow; the queries and reloading are tested without a server.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import yaml

from aop_map import oruk
from aop_map.api import Catalogue, CatalogueHolder, DataUnavailable, QueryError
from aop_map.cli import main
from aop_map.dataset import load_dataset
from aop_map.filtering import RELEVANCE, SCOPE_UK, Selection, filter_frame
from aop_map.geocoding import geocode_query, geocode_records, haversine_km
from aop_map.vocabulary import Vocabulary
from tests.conftest import MAPDATA
from tests.test_oruk import RECORDS, WITHIN_10_KM, assert_page, assert_valid, make_records

ROOT = Path(__file__).resolve().parents[1]
SERVER_START_S = 90
HOME = "GL14 2AA"


def sid(record_id: str) -> str:
    return oruk.service_id(record_id)


# ---------------------------------------------------------------------------------------------
# Queries, without a server


@pytest.fixture(scope="module")
def catalogue(vocabulary: Vocabulary) -> Catalogue:
    records = make_records(vocabulary)
    return Catalogue.build(records, vocabulary, geocode_records(records, vocabulary)[0])


def selected(catalogue: Catalogue, **filters: Any) -> set[str]:
    return {catalogue.services[n]["id"] for n in catalogue.select(**filters)}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [r["id"] for r in RECORDS]),
        ({"search": "dance"}, ["cinderford-arts", "lydney-dance"]),
        ({"search": "DANCE lydney"}, ["lydney-dance"]),
        ({"search": "dementia"}, ["cinderford-arts"]),  # a term label, not in the text
        ({"search": "   "}, [r["id"] for r in RECORDS]),
        ({"search": "nothing-like-this"}, []),
        (
            {"taxonomy_term_id": oruk.term_id("art_forms", "dance")},
            ["cinderford-arts", "lydney-dance"],
        ),
        (
            {"taxonomy_term_id": oruk.term_id("art_forms", "dance").upper()},
            ["cinderford-arts", "lydney-dance"],
        ),
        ({"taxonomy_term_id": oruk.term_id("art_forms", "circus")}, []),
        (
            {"taxonomy_id": oruk.taxonomy_id("age_groups")},
            ["cinderford-arts", "private-choir", "lydney-dance"],
        ),
        ({"taxonomy_id": oruk.taxonomy_id("art_forms"), "search": "choir"}, ["private-choir"]),
        # As ORUK describes them: a minimum age of at least, a maximum age of at most.
        ({"minimum_age": 18}, ["cinderford-arts"]),
        ({"minimum_age": 13}, ["cinderford-arts", "lydney-dance"]),
        ({"minimum_age": 0}, [r["id"] for r in RECORDS]),
        ({"maximum_age": 12}, ["private-choir"]),
        ({"maximum_age": 25}, ["private-choir", "lydney-dance"]),
        ({"minimum_age": 13, "maximum_age": 25}, ["lydney-dance"]),
    ],
)
def test_select(catalogue: Catalogue, filters: dict[str, Any], expected: list[str]) -> None:
    assert selected(catalogue, **filters) == {sid(r) for r in expected}


@pytest.mark.parametrize(
    "filters",
    [
        {"taxonomy_term_id": "dance"},
        {"taxonomy_id": "not-a-uuid"},
        {"search": "x" * 201},
    ],
)
def test_select_refuses_a_bad_parameter(catalogue: Catalogue, filters: dict[str, Any]) -> None:
    with pytest.raises(QueryError):
        catalogue.select(**filters)


def test_near_a_postcode_nearest_first(catalogue: Catalogue) -> None:
    origin = catalogue.origin(HOME)
    items = catalogue.service_at_locations(catalogue.select(), origin, 10_000)
    assert [i["service_id"] for i in items] == [sid(r) for r in WITHIN_10_KM]
    distances = [
        haversine_km(
            origin.lat, origin.lon, [i["location"]["latitude"]], [i["location"]["longitude"]]
        )[0]
        for i in items
    ]
    assert distances == sorted(distances) and distances[-1] <= 10.0
    for item in items:
        assert_valid(item, "compiled/service_at_location_list.json")


def test_a_postcode_alone_keeps_the_services_covering_it(catalogue: Catalogue) -> None:
    # No proximity: ORUK keeps services whose service areas cover the postcode (one naming
    # none is kept); Coleford Venue serves only places outside Gloucestershire.
    items = catalogue.service_at_locations(catalogue.select(), catalogue.origin(HOME))
    services = [i["service_id"] for i in items]
    assert sid("coleford-venue") not in services
    assert services[:3] == [sid("forest-arts-trust"), sid("cinderford-arts"), sid("private-choir")]
    assert services[-1] == sid("lost-place")  # not placed: last
    bristol = catalogue.service_at_locations(catalogue.select(), catalogue.origin("BS1 4DJ"))
    assert sid("coleford-venue") in [i["service_id"] for i in bristol]
    assert sid("forest-arts-trust") not in [i["service_id"] for i in bristol]


def test_without_a_postcode_every_location_in_listing_order(catalogue: Catalogue) -> None:
    items = catalogue.service_at_locations(catalogue.select())
    expected = [sal["id"] for s in catalogue.services for sal in s["service_at_locations"]]
    assert [i["id"] for i in items] == expected
    assert catalogue.service_at_locations(catalogue.select(search="zzzz")) == []


@pytest.mark.parametrize("postcode", ["ZZ99 9ZZ", "not a place at all", "x" * 101])
def test_an_unknown_postcode_is_a_bad_parameter(catalogue: Catalogue, postcode: str) -> None:
    with pytest.raises(QueryError):
        catalogue.origin(postcode)


def test_the_bundled_data_within_10_km_of_gl14_2aa() -> None:
    catalogue = Catalogue.from_dataset(load_dataset(MAPDATA))
    origin = geocode_query(HOME)
    items = catalogue.service_at_locations(catalogue.select(), catalogue.origin(HOME), 10_000)
    assert items, "the bundled data has venues in and around Cinderford"
    distances = [
        haversine_km(
            origin.lat, origin.lon, [i["location"]["latitude"]], [i["location"]["longitude"]]
        )[0]
        for i in items
    ]
    assert distances == sorted(distances) and max(distances) <= 10.0
    everything = catalogue.service_at_locations(catalogue.select())
    near = [
        i
        for i in everything
        if "latitude" in i["location"]
        and haversine_km(
            origin.lat, origin.lon, [i["location"]["latitude"]], [i["location"]["longitude"]]
        )[0]
        <= 10.0
    ]
    assert len(items) == len(near)


def test_one_service_at_location_by_id(catalogue: Catalogue) -> None:
    service = catalogue.service(sid("cinderford-arts"))
    assert service is not None
    second = service["service_at_locations"][1]
    item = catalogue.service_at_location(second["id"])
    assert item is not None and item["location"] == second["location"]
    assert item["service"]["id"] == service["id"]
    assert "service_at_locations" not in item["service"]
    assert_valid(item, "compiled/service_at_location.json")
    assert catalogue.service_at_location(oruk.oruk_id("nothing")) is None


# ---------------------------------------------------------------------------------------------
# Search: the API finds what the app's search box finds, most relevant first

# RECORDS and a few whose words tempt a looser search.
SEARCH_RECORDS = [
    *RECORDS,
    {
        "id": "commissioning",
        "name": "Cultural Commissioning Programme",
        "kind": "programme",
        "status": "established",
        "summary": "Commissioning arts on prescription across the county.",
        "areas_served": ["countywide"],
    },
    {
        "id": "painting-together",
        "name": "Painting Together",
        "kind": "programme",
        "status": "established",
        "art_forms": ["visual-arts"],
        "summary": "Watercolours for wellbeing.",
        "locations": [{"postcode": "GL15 5AA"}],
    },
    {
        "id": "living-well-singers",
        "name": "Living Well Singers",
        "kind": "programme",
        "status": "established",
        "art_forms": ["singing"],
        "conditions": ["chronic-pain", "copd"],
        "locations": [{"postcode": "GL14 2DB"}, {"place": "Cheltenham"}],
    },
    {
        "id": "old-choir",
        "name": "Old Choir",
        "kind": "programme",
        "status": "ended",
        "description": "We sang in Stroud until the hall closed.",
    },
]


@pytest.fixture(scope="module")
def searched(vocabulary: Vocabulary) -> tuple[Catalogue, Any]:
    """A catalogue of SEARCH_RECORDS and the frame the app would search."""
    records = make_records(vocabulary, SEARCH_RECORDS)
    frame = geocode_records(records, vocabulary)[0]
    return Catalogue.build(records, vocabulary, frame), frame


def app_relevance(frame: Any, vocabulary: Vocabulary, query: str) -> dict[str, float]:
    """Service id -> relevance of what the app's search box finds (ended and elsewhere too:
    the API publishes every record), a record as relevant as its best row."""
    selection = Selection(q=query, include_past=True, scope=SCOPE_UK)
    found = filter_frame(frame, selection, vocabulary)
    if RELEVANCE not in found:
        return dict.fromkeys((sid(r) for r in found["record_id"]), 0.0)
    best = found.groupby("record_id")[RELEVANCE].max()
    return {sid(r): float(v) for r, v in best.items()}


@pytest.mark.parametrize(
    ("query", "found", "not_found"),
    [
        ("choir", ["private-choir", "living-well-singers", "old-choir"], ["lydney-dance"]),
        ("choirs", ["private-choir", "living-well-singers"], []),  # a synonym: the tag
        ("singing", ["private-choir", "living-well-singers"], ["commissioning"]),
        ("sining", ["private-choir", "living-well-singers"], ["commissioning"]),  # a typo
        ("pain", ["living-well-singers"], ["painting-together"]),  # chronic pain, no prefix
        ("painting", ["painting-together"], ["living-well-singers"]),
        ("breathing", ["living-well-singers"], ["private-choir"]),  # a synonym of COPD
        ("cheltenham", ["living-well-singers", "commissioning"], ["lydney-dance"]),
        ("DANCE lydney", ["lydney-dance"], ["cinderford-arts"]),
        ("dementia", ["cinderford-arts"], []),
        ("stroud", ["old-choir"], []),
        ("commissioning", ["commissioning"], ["private-choir"]),
        ("!!!", [r["id"] for r in SEARCH_RECORDS], []),  # no words: no search
        ("nothing-like-this", [], [r["id"] for r in SEARCH_RECORDS]),
    ],
)
def test_search_finds_what_the_app_finds(
    searched: tuple[Catalogue, Any],
    vocabulary: Vocabulary,
    query: str,
    found: list[str],
    not_found: list[str],
) -> None:
    catalogue, frame = searched
    answer = [catalogue.services[n]["id"] for n in catalogue.select(search=query)]
    app = app_relevance(frame, vocabulary, query)
    assert set(answer) == set(app)
    assert {sid(r) for r in found} <= set(answer)
    assert not {sid(r) for r in not_found} & set(answer)
    # Most relevant first, ties in listing order (by name).
    listing = [s["id"] for s in catalogue.services]
    keys = [(-app[s], listing.index(s)) for s in answer]
    assert keys == sorted(keys)
    # The locations of the services found, in the same order when no postcode is given.
    items = catalogue.service_at_locations(catalogue.select(search=query))
    assert list(dict.fromkeys(i["service_id"] for i in items)) == [
        s
        for s in answer
        if catalogue.service(s)["service_at_locations"]  # type: ignore[index]
    ]


def test_search_orders_by_relevance(searched: tuple[Catalogue, Any]) -> None:
    catalogue, _ = searched
    # A venue in Cheltenham before a countywide programme, though by name it comes later.
    answer = [catalogue.services[n]["id"] for n in catalogue.select(search="cheltenham")]
    assert answer.index(sid("living-well-singers")) < answer.index(sid("commissioning"))
    listing = [s["id"] for s in catalogue.services]
    assert listing.index(sid("commissioning")) < listing.index(sid("living-well-singers"))


def test_search_with_other_filters(searched: tuple[Catalogue, Any]) -> None:
    catalogue, _ = searched
    term = oruk.term_id("conditions", "chronic-pain")
    assert selected(catalogue, search="choir", taxonomy_term_id=term) == {
        sid("living-well-singers")
    }
    assert selected(catalogue, search="choir", maximum_age=12) == {sid("private-choir")}


# ---------------------------------------------------------------------------------------------
# Reloading


def write_records(data_dir: Path, records: list[dict[str, Any]]) -> None:
    for data in records:
        (data_dir / f"{data['id']}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_reloads_when_the_data_changes_checked_at_most_every_interval(data_dir: Path) -> None:
    write_records(data_dir, RECORDS[:1])
    clock = Clock()
    holder = CatalogueHolder(data_dir, interval=5.0, clock=clock)
    first = holder.current()
    assert len(first.services) == 1
    write_records(data_dir, RECORDS[1:2])
    clock.now += 4.9
    assert holder.current() is first  # not looked at again yet
    clock.now += 0.2
    second = holder.current()
    assert len(second.services) == 2
    clock.now += 10
    assert holder.current() is second  # looked, nothing changed: not reloaded


def test_a_failed_reload_keeps_the_last_good_data(data_dir: Path) -> None:
    write_records(data_dir, RECORDS[:1])
    clock = Clock()
    calls: list[Path] = []

    def load(path: Path) -> Catalogue:
        calls.append(path)
        if len(calls) > 1:
            raise RuntimeError("disk on fire")
        return Catalogue.from_dataset(load_dataset(path))

    holder = CatalogueHolder(data_dir, interval=1.0, clock=clock, load=load)
    good = holder.current()
    write_records(data_dir, RECORDS[1:2])
    clock.now += 2
    assert holder.current() is good and len(calls) == 2


def test_no_data_at_all_is_unavailable(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data_dir / "vocabulary.yaml").write_text("kinds: [", encoding="utf-8")
    with pytest.raises(DataUnavailable):
        CatalogueHolder(data_dir).current()
    # serve-api says so and stops before serving anything.
    assert main(["serve-api", "--data-dir", str(data_dir), "--port", "1"]) == 2
    assert "cannot load the data: vocabulary.yaml" in capsys.readouterr().err


def test_ids_in_any_case(catalogue: Catalogue) -> None:
    service = catalogue.service(sid("bare"))
    assert service is not None and catalogue.service(sid("bare").upper()) is service
    term = oruk.term_id("conditions", "dementia")
    assert catalogue.taxonomy_term(term.upper()) == catalogue.taxonomy_term(term) is not None
    assert catalogue.service("not a uuid") is None


# ---------------------------------------------------------------------------------------------
# The endpoints, on a real server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`aop-map serve-api` in a subprocess; ``get`` answers (status, headers, JSON body)."""

    def __init__(self, data_dir: Path, cache_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AOP_MAP_")}
        env["AOP_MAP_CACHE_DIR"] = str(cache_dir)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aop_map",
                "serve-api",
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait(self) -> None:
        deadline = time.monotonic() + SERVER_START_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve-api exited: {self.process.stdout.read()}")  # type: ignore
            try:
                if self.get("/")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail("serve-api did not answer in time")

    def request(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> tuple[int, Any, Any]:
        request = urllib.request.Request(self.base + path, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, head, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, head, body = error.code, error.headers, error.read()
        is_json = head.get("content-type", "").startswith("application/json")
        return status, head, json.loads(body) if is_json else body

    def get(self, path: str, **params: Any) -> tuple[int, Any, Any]:
        query = f"?{urlencode(params)}" if params else ""
        return self.request(path + query)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("api")
    data_dir = root / "mapdata"
    data_dir.mkdir()
    shutil.copy(MAPDATA / "vocabulary.yaml", data_dir / "vocabulary.yaml")
    write_records(data_dir, RECORDS)
    running = Server(data_dir, root / "cache")
    try:
        running.wait()
        running.data_dir = data_dir  # type: ignore[attr-defined]
        yield running
    finally:
        running.stop()


def ok(server: Server, path: str, **params: Any) -> Any:
    status, headers, body = server.get(path, **params)
    assert status == 200, (path, params, body)
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-type"].startswith("application/json")
    return body


@pytest.mark.slow
def test_root(server: Server) -> None:
    body = ok(server, "/")
    assert body["version"] == "3.0" and body["profile"].startswith("https://")
    assert body["openapi_url"] == f"{server.base}/openapi.json"
    assert ok(server, "/openapi.json")["paths"]["/services"]


@pytest.mark.slow
def test_services_page_by_page_hold_every_service(server: Server) -> None:
    seen: list[str] = []
    for number in range(1, 5):
        body = ok(server, "/services", page=number, per_page=2)
        assert_page(body, "compiled/service_list.json")
        assert body["total_items"] == len(RECORDS)
        assert body["total_pages"] == math.ceil(len(RECORDS) / 2)
        assert body["last_page"] == (number == 4)
        seen += [s["id"] for s in body["contents"]]
        assert all("service_at_locations" not in s for s in body["contents"])  # one-to-one
    assert sorted(seen) == sorted(sid(r["id"]) for r in RECORDS)
    beyond = ok(server, "/services", page=9, per_page=2)
    assert beyond["empty"] and beyond["contents"] == []


@pytest.mark.slow
def test_services_full_and_filtered(server: Server) -> None:
    full = ok(server, "/services", full="true", per_page=1000)
    assert_page(full, "compiled/service_list.json")
    for service in full["contents"]:
        assert_valid(service, "compiled/service.json")
    body = ok(
        server,
        "/services",
        search="dance",
        taxonomy_term_id=oruk.term_id("art_forms", "dance"),
        minimum_age=13,
    )
    assert_page(body, "compiled/service_list.json")
    assert {s["id"] for s in body["contents"]} == {sid("cinderford-arts"), sid("lydney-dance")}
    body = ok(server, "/services", maximum_age=12, taxonomy_id=oruk.taxonomy_id("age_groups"))
    assert [s["id"] for s in body["contents"]] == [sid("private-choir")]


@pytest.mark.slow
@pytest.mark.parametrize("query", ["choir", "sining", "dementia", "dance"])
def test_search_answers_are_valid_and_most_relevant_first(
    server: Server, catalogue: Catalogue, query: str
) -> None:
    expected = [catalogue.services[n]["id"] for n in catalogue.select(search=query)]
    assert expected, "each query finds something in RECORDS"
    body = ok(server, "/services", search=query, full="true")
    assert_page(body, "compiled/service_list.json")
    for service in body["contents"]:
        assert_valid(service, "compiled/service.json")
    assert [s["id"] for s in body["contents"]] == expected
    body = ok(server, "/service_at_locations", search=query)
    assert_page(body, "compiled/service_at_location_list.json")
    found = list(dict.fromkeys(i["service_id"] for i in body["contents"]))
    assert found == [s for s in expected if catalogue.service(s)["service_at_locations"]]  # type: ignore[index]


@pytest.mark.slow
def test_every_service_by_id(server: Server) -> None:
    for data in RECORDS:
        service = ok(server, f"/services/{sid(data['id'])}")
        assert_valid(service, "compiled/service.json")
        assert service["name"] == data["name"]
    text = json.dumps(ok(server, "/services", full="true", per_page=1000))
    assert "sam.secret" not in text and "07700 900123" not in text  # not consented


@pytest.mark.slow
def test_taxonomies_and_terms(server: Server, vocabulary: Vocabulary) -> None:
    body = ok(server, "/taxonomies")
    assert_page(body, "taxonomy.json")
    assert [t["name"] for t in body["contents"]] == [t.name for t in oruk.TAXONOMIES]
    one = ok(server, f"/taxonomies/{oruk.taxonomy_id('conditions')}")
    assert_valid(one, "taxonomy.json")
    terms = ok(server, "/taxonomy_terms", per_page=1000)
    assert_page(terms, "taxonomy_term.json")
    assert terms["total_items"] == sum(len(vocabulary.terms(t.field)) for t in oruk.TAXONOMIES)
    conditions = ok(
        server, "/taxonomy_terms", taxonomy_id=oruk.taxonomy_id("conditions"), per_page=1000
    )
    assert_page(conditions, "taxonomy_term.json")
    assert conditions["total_items"] == len(vocabulary.terms("conditions"))
    term = ok(server, f"/taxonomy_terms/{oruk.term_id('conditions', 'dementia')}")
    assert_valid(term, "taxonomy_term.json")
    assert term["code"] == "dementia"


@pytest.mark.slow
def test_service_at_locations_within_10_km_of_gl14_2aa(server: Server) -> None:
    body = ok(server, "/service_at_locations", postcode=HOME, proximity=10000)
    assert_page(body, "compiled/service_at_location_list.json")
    assert [i["service_id"] for i in body["contents"]] == [sid(r) for r in WITHIN_10_KM]
    paged = ok(server, "/service_at_locations", postcode=HOME, proximity=10000, page=2, per_page=3)
    assert_page(paged, "compiled/service_at_location_list.json")
    assert paged["contents"] == body["contents"][3:]
    # The same, written as people write postcodes, and with other filters.
    spaced = ok(
        server, "/service_at_locations", postcode="gl142aa", proximity="10000", search="choir"
    )
    assert [i["service_id"] for i in spaced["contents"]] == [sid("private-choir")]
    everything = ok(server, "/service_at_locations", per_page=1000)
    assert_page(everything, "compiled/service_at_location_list.json")
    assert everything["total_items"] == sum(len(r.get("locations", [])) for r in RECORDS)
    first = everything["contents"][0]
    one = ok(server, f"/service_at_locations/{first['id']}")
    assert_valid(one, "compiled/service_at_location.json")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/services/{oruk.oruk_id('no such service')}", 404),
        ("/services/not-a-uuid", 404),
        (f"/taxonomies/{oruk.oruk_id('nothing')}", 404),
        (f"/taxonomy_terms/{oruk.oruk_id('nothing')}", 404),
        (f"/service_at_locations/{oruk.oruk_id('nothing')}", 404),
        ("/no/such/path", 404),
        ("/services?page=0", 422),
        ("/services?page=two", 422),
        ("/services?per_page=100000", 422),
        ("/services?per_page=0", 422),
        ("/services?minimum_age=old", 422),
        ("/services?maximum_age=-1", 422),
        ("/services?taxonomy_term_id=dance", 422),
        ("/taxonomy_terms?taxonomy_id=conditions", 422),
        (f"/services?search={'x' * 201}", 422),
        ("/service_at_locations?proximity=10000", 422),
        (f"/service_at_locations?postcode={quote('ZZ99 9ZZ')}&proximity=10000", 422),
        (f"/service_at_locations?postcode={quote(HOME)}&proximity=-5", 422),
        (f"/service_at_locations?postcode={quote(HOME)}&proximity=far", 422),
        (f"/service_at_locations?postcode={quote(HOME)}&proximity=600000", 422),
    ],
)
def test_errors_are_json_with_their_status(server: Server, path: str, status: int) -> None:
    got, headers, body = server.request(path)
    assert got == status, body
    assert headers["access-control-allow-origin"] == "*"
    assert headers["content-type"].startswith("application/json")
    assert body["detail"]


@pytest.mark.slow
def test_read_only_open_and_cors(server: Server) -> None:
    status, headers, _ = server.request("/services", method="POST")
    assert status == 405 and headers["access-control-allow-origin"] == "*"
    status, headers, _ = server.request("/services", method="DELETE")
    assert status == 405
    # A browser page elsewhere may ask, preflight included; no key is ever asked for.
    status, headers, _ = server.request(
        "/services",
        method="OPTIONS",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
    )
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    status, headers, _ = server.request("/services", headers={"Origin": "https://x.example"})
    assert status == 200 and headers["access-control-allow-origin"] == "*"


@pytest.mark.slow
def test_the_server_reloads_when_a_record_is_added(server: Server) -> None:
    data_dir: Path = server.data_dir  # type: ignore[attr-defined]
    added = {
        "id": "new-arrival",
        "name": "New Arrival",
        "kind": "venue",
        "status": "established",
        "locations": [{"postcode": "GL14 2DB"}],
    }
    write_records(data_dir, [added])
    try:
        deadline = time.monotonic() + 30  # checked every RELOAD_CHECK_S (5 s)
        while time.monotonic() < deadline:
            status, _, _ = server.get(f"/services/{sid('new-arrival')}")
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200
        assert ok(server, "/services")["total_items"] == len(RECORDS) + 1
    finally:
        (data_dir / "new-arrival.yaml").unlink()
