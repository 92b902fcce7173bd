"""A read-only Open Referral UK API (FastAPI) over the app's data; the mapping is aop_map.oruk.

`Catalogue` holds one loaded dataset as ORUK objects and answers queries without a server
(plain data in, plain data out); `CatalogueHolder` reloads it when the data files change;
`create_app` only wires routes. Every endpoint is open (no key), answers GET only, and sends
``Access-Control-Allow-Origin: *`` (the ORUK compliance rules); errors are JSON with their
status: 404 for an unknown id or path, 422 for a bad parameter, 503 when no data can be loaded.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from aop_map import oruk
from aop_map.dataset import Dataset, load_dataset
from aop_map.filtering import MAX_QUERY, FilterIndex, build_index, fold_words, search_scores
from aop_map.geocoding import GLOS_DISTRICTS, geocode_query, geocode_records, haversine_km
from aop_map.loading import data_dir_from_env, data_signature
from aop_map.records import Record
from aop_map.text import json_terminal_safe
from aop_map.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

# How often, at most, a request looks at the data files for changes (scanning 10,000 files
# takes ~0.1 s): an edit is served within this many seconds.
RELOAD_CHECK_S = 5.0
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
# The widest proximity search, as the app's widest radius (filtering.MAX_RADIUS_KM).
MAX_PROXIMITY_M = 500_000
MAX_POSTCODE = 100
# A location's one-to-one fields: what /service_at_locations lists.
LOCATION_LIST_KEYS = (
    "id",
    "location_type",
    "name",
    "description",
    "latitude",
    "longitude",
    "external_identifier",
    "external_identifier_type",
)
# areas_served terms that cover a postcode wherever it is, in the county, or outside it.
EVERYWHERE, COUNTYWIDE, ELSEWHERE = "national", "countywide", "elsewhere"


class QueryError(ValueError):
    """A query parameter that cannot be used (answered 422 with this message)."""


# ---------------------------------------------------------------------------------------------
# The catalogue: one dataset as ORUK objects, and the queries on it


@dataclass(frozen=True)
class Origin:
    """Where a postcode search starts: a point and its district."""

    lat: float
    lon: float
    district_code: str | None


@dataclass(frozen=True, eq=False)
class Catalogue:
    """The ORUK objects of one dataset, with what the queries need precomputed; read-only."""

    services: list[dict[str, Any]]  # fully nested, by name
    listed: list[dict[str, Any]]  # the same services' one-to-one fields
    service_index: dict[str, int]
    sal_index: dict[str, int]  # service_at_location id -> its row
    taxonomies: list[dict[str, Any]]
    terms: list[dict[str, Any]]
    term_services: dict[str, np.ndarray]  # taxonomy term id -> service numbers
    taxonomy_terms: dict[str, list[str]]  # taxonomy id -> its term ids
    min_age: np.ndarray  # 0 where a service gives none
    max_age: np.ndarray  # inf where a service gives none
    areas: list[tuple[str, ...]]  # areas_served of each service
    search: FilterIndex  # the app's search index over the records' frame (one row a location)
    row_service: np.ndarray  # the service number of each row of the search index
    sal_service: np.ndarray  # the service number of each service_at_location
    sal_lat: np.ndarray  # NaN where not placed
    sal_lon: np.ndarray
    vocabulary: Vocabulary

    @classmethod
    def build(
        cls, records: list[Record], vocabulary: Vocabulary, frame: pd.DataFrame | None = None
    ) -> Catalogue:
        """The catalogue of some records (``frame``: their geocoded frame, for points and
        search; geocoded offline here when not given)."""
        records = sorted(records, key=oruk.sort_key)
        if frame is None:
            frame = geocode_records(records, vocabulary)[0]
        services = oruk.build_services(records, vocabulary, frame)
        taxonomies = oruk.Taxonomies.build(vocabulary)
        members: dict[str, list[int]] = {}
        for n, service in enumerate(services):
            for attribute in service["attributes"]:
                members.setdefault(attribute["taxonomy_term_id"], []).append(n)
        ages = [(s.get("minimum_age"), s.get("maximum_age")) for s in services]
        sals = [(n, sal) for n, s in enumerate(services) for sal in s["service_at_locations"]]
        return cls(
            services=services,
            listed=[oruk.list_item(s) for s in services],
            service_index={s["id"]: n for n, s in enumerate(services)},
            sal_index={sal["id"]: row for row, (_, sal) in enumerate(sals)},
            taxonomies=taxonomies.taxonomies,
            terms=taxonomies.terms,
            term_services={k: np.array(v, dtype=np.int64) for k, v in members.items()},
            taxonomy_terms=_terms_by_taxonomy(taxonomies.terms),
            min_age=np.array([0 if lo is None else lo for lo, _ in ages], dtype=float),
            max_age=np.array([math.inf if hi is None else hi for _, hi in ages], dtype=float),
            areas=[tuple(r.areas_served) for r in records],
            search=build_index(frame, vocabulary),
            row_service=_row_services(frame, [r.id for r in records]),
            sal_service=np.array([n for n, _ in sals], dtype=np.int64),
            sal_lat=np.array(
                [sal["location"].get("latitude", math.nan) for _, sal in sals], dtype=float
            ),
            sal_lon=np.array(
                [sal["location"].get("longitude", math.nan) for _, sal in sals], dtype=float
            ),
            vocabulary=vocabulary,
        )

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> Catalogue:
        """The catalogue of a loaded dataset (every valid record is published)."""
        return cls.build(dataset.records, dataset.vocabulary, dataset.frame)

    # Services --------------------------------------------------------------------------------

    def service(self, service_id: str) -> dict[str, Any] | None:
        """One fully nested service by ORUK id, or None."""
        n = self.service_index.get(_canonical(service_id))
        return None if n is None else self.services[n]

    def select(
        self,
        *,
        search: str | None = None,
        taxonomy_term_id: str | None = None,
        taxonomy_id: str | None = None,
        minimum_age: float | None = None,
        maximum_age: float | None = None,
    ) -> np.ndarray:
        """The numbers of the services matching every filter given, in answer order.

        As the ORUK API describes them: ``minimum_age`` keeps services whose minimum age is
        at least that (none counts as 0), ``maximum_age`` those whose maximum age is at most
        that (none counts as no limit). ``search`` is the app's search box
        (``filtering.search_scores``: every word or vocabulary phrase must match the name,
        organisation, places, tags, summary or description, with synonyms and typos): the
        services are then most relevant first, a service as relevant as its best location,
        ties in listing order (by name); without it, in listing order.
        """
        mask = np.ones(len(self.services), dtype=bool)
        relevance = None
        if search and search.strip():
            if len(search) > MAX_QUERY:
                raise QueryError(f"search is longer than {MAX_QUERY} characters")
            if fold_words(search):  # as the app: a query of no words is no search
                relevance = self._relevance(search)
                mask &= relevance > 0
        if taxonomy_term_id:
            mask &= self._members([_uuid(taxonomy_term_id, "taxonomy_term_id")])
        if taxonomy_id:
            terms = self.taxonomy_terms.get(_uuid(taxonomy_id, "taxonomy_id"), [])
            mask &= self._members(terms)
        if minimum_age is not None:
            mask &= self.min_age >= minimum_age
        if maximum_age is not None:
            mask &= self.max_age <= maximum_age
        numbers = np.flatnonzero(mask)
        if relevance is not None:
            numbers = numbers[np.argsort(-relevance[numbers], kind="stable")]
        return numbers

    def _relevance(self, query: str) -> np.ndarray:
        """(services,) each service's relevance to a query: its best location row's."""
        scores = np.zeros(len(self.services), dtype=np.float32)
        if self.search.text is not None:
            rows = search_scores(self.search, self.search.text, query)
            known = self.row_service >= 0
            np.maximum.at(scores, self.row_service[known], rows[known])
        return scores

    def _members(self, term_ids: list[str]) -> np.ndarray:
        mask = np.zeros(len(self.services), dtype=bool)
        for term in term_ids:
            mask[self.term_services.get(term, np.array([], dtype=np.int64))] = True
        return mask

    # Service at locations --------------------------------------------------------------------

    def service_at_location(self, sal_id: str) -> dict[str, Any] | None:
        """One service at location, fully nested (its service without the other locations),
        or None."""
        row = self.sal_index.get(_canonical(sal_id))
        if row is None:
            return None
        n, sal = self._sal(row)
        rest = {k: v for k, v in self.services[n].items() if k != "service_at_locations"}
        return {**sal, "service": rest}

    def service_at_locations(
        self, services: np.ndarray, origin: Origin | None = None, proximity_m: float | None = None
    ) -> list[dict[str, Any]]:
        """The locations of some services (numbers, as ``select`` gives them, in that order)
        as ``/service_at_locations`` items.

        With an origin: nearest first (ties in the services' order), and only those within
        ``proximity_m`` metres when it is given; without ``proximity_m``, only services whose
        areas served cover the origin's district (a service that names no area is kept) and
        unplaced locations last.
        """
        rank = np.full(len(self.services), -1, dtype=np.int64)
        rank[services] = np.arange(len(services))
        rows = np.flatnonzero(rank[self.sal_service] >= 0)
        rows = rows[np.argsort(rank[self.sal_service[rows]], kind="stable")]
        if origin is not None:
            distance = (
                haversine_km(origin.lat, origin.lon, self.sal_lat[rows], self.sal_lon[rows])
                * 1000.0
            )
            if proximity_m is not None:
                keep = distance <= proximity_m  # NaN (not placed) is never within
            else:
                keep = np.array(
                    [self._covers(self.sal_service[r], origin.district_code) for r in rows],
                    dtype=bool,
                )
            rows, distance = rows[keep], distance[keep]
            rows = rows[np.argsort(np.nan_to_num(distance, nan=math.inf), kind="stable")]
        return [self._sal_item(r) for r in rows]

    def _covers(self, n: int, district_code: str | None) -> bool:
        areas = self.areas[n]
        if not areas or EVERYWHERE in areas:
            return True
        term = self.vocabulary.district_by_code(district_code) if district_code else None
        in_county = district_code in GLOS_DISTRICTS
        return bool(
            (term is not None and term.id in areas)
            or (COUNTYWIDE in areas and in_county)
            or (ELSEWHERE in areas and district_code and not in_county)
        )

    def _sal(self, row: int) -> tuple[int, dict[str, Any]]:
        """The service number and service_at_location of a row."""
        n = int(self.sal_service[row])
        first = int(np.searchsorted(self.sal_service, n))  # a service's locations are adjacent
        return n, self.services[n]["service_at_locations"][row - first]

    def _sal_item(self, row: int) -> dict[str, Any]:
        n, sal = self._sal(row)
        location = {k: sal["location"][k] for k in LOCATION_LIST_KEYS if k in sal["location"]}
        return {
            "id": sal["id"],
            "service_id": sal["service_id"],
            "location_id": sal["location_id"],
            "location": location,
            "service": self.listed[n],
        }

    # Taxonomies ------------------------------------------------------------------------------

    def taxonomy(self, taxonomy_id: str) -> dict[str, Any] | None:
        """One taxonomy by id, or None."""
        wanted = _canonical(taxonomy_id)
        return next((t for t in self.taxonomies if t["id"] == wanted), None)

    def taxonomy_term(self, term_id: str) -> dict[str, Any] | None:
        """One taxonomy term by id, or None."""
        wanted = _canonical(term_id)
        return next((t for t in self.terms if t["id"] == wanted), None)

    def terms_of(self, taxonomy_id: str | None) -> list[dict[str, Any]]:
        """The terms of one taxonomy, or all of them."""
        if not taxonomy_id:
            return self.terms
        wanted = _uuid(taxonomy_id, "taxonomy_id")
        return [t for t in self.terms if t["taxonomy_id"] == wanted]

    def origin(self, postcode: str) -> Origin:
        """Where a postcode (or outward code, or place name) is, offline; QueryError when it
        cannot be found."""
        if len(postcode) > MAX_POSTCODE:
            raise QueryError(f"postcode is longer than {MAX_POSTCODE} characters")
        found = geocode_query(postcode, vocabulary=self.vocabulary)
        if found.lat is None or found.lon is None:
            raise QueryError(
                "postcode not found: give a UK postcode (GL50 3PR), an outward "
                "code (GL14) or a Gloucestershire place name"
            )
        return Origin(found.lat, found.lon, found.district_code)


def _terms_by_taxonomy(terms: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for term in terms:
        out.setdefault(term["taxonomy_id"], []).append(term["id"])
    return out


def _row_services(frame: pd.DataFrame, record_ids: list[str]) -> np.ndarray:
    """The service number of each frame row (services are the records in `record_ids`
    order), -1 for a row of a record that is not among them."""
    number = {record_id: n for n, record_id in enumerate(record_ids)}
    return np.array([number.get(r, -1) for r in frame["record_id"]], dtype=np.int64)


def _canonical(value: str) -> str:
    """An id as published (lower-case uuid), or the value unchanged when it is not a uuid."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def _uuid(value: str, name: str) -> str:
    """A uuid parameter in canonical form; QueryError when it is not one."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise QueryError(f"{name} is not a uuid") from None


# ---------------------------------------------------------------------------------------------
# Reloading


class DataUnavailable(RuntimeError):
    """No data could be loaded (answered 503; the details are in the log)."""


class CatalogueHolder:
    """The current catalogue of a data directory, reloaded when its files change.

    The files' signature (``loading.data_signature``) is checked at most every ``interval``
    seconds; a failed reload keeps serving the last good catalogue.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        interval: float = RELOAD_CHECK_S,
        clock: Callable[[], float] = time.monotonic,
        load: Callable[[Path], Catalogue] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.interval = interval
        self._clock = clock
        self._load = load or (lambda d: Catalogue.from_dataset(load_dataset(d)))
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None
        self._signature: str | None = None
        self._checked = -math.inf

    def current(self) -> Catalogue:
        """The catalogue, reloaded first when the files changed since the last look."""
        with self._lock:
            now = self._clock()
            if self._catalogue is not None and now - self._checked < self.interval:
                return self._catalogue
            self._checked = now
            signature = data_signature(self.data_dir)
            if self._catalogue is not None and signature == self._signature:
                return self._catalogue
            try:
                catalogue = self._load(self.data_dir)
            except Exception as error:
                if self._catalogue is None:
                    logger.error("cannot load the data in %s: %s", self.data_dir, error)
                    raise DataUnavailable(str(error)) from error
                logger.exception("reloading %s failed; serving the previous data", self.data_dir)
                return self._catalogue
            self._catalogue, self._signature = catalogue, signature
            return catalogue


# ---------------------------------------------------------------------------------------------
# The web app


class ORUKResponse(JSONResponse):
    """Compact UTF-8 JSON; text that could act on a terminal or break UTF-8 is escaped."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return json_terminal_safe(text).encode("utf-8")


class _AllowAnyOrigin:
    """ASGI middleware: ``Access-Control-Allow-Origin: *`` on every response, as ORUK asks
    (CORSMiddleware adds it only when a request says where it comes from)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"access-control-allow-origin"
                ]
                message = {**message, "headers": [*headers, (b"access-control-allow-origin", b"*")]}
            await send(message)

        await self.app(scope, receive, send_with_header)


def create_app(
    data_dir: Path | str | None = None, *, reload_interval: float = RELOAD_CHECK_S
) -> FastAPI:
    """The ORUK API over a data directory (default: $AOP_MAP_DATA_DIR or the bundled
    mapdata/), read through the same loader as the app."""
    holder = CatalogueHolder(
        Path(data_dir) if data_dir else data_dir_from_env(), interval=reload_interval
    )
    app = FastAPI(
        title="aop-map: Open Referral UK API",
        version=oruk.ORUK_VERSION,
        description="Arts and health activity in Gloucestershire as Open Referral "
        "UK services. Read-only and open: no key.",
        default_response_class=ORUKResponse,
    )
    app.state.catalogue = holder
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_headers=["*"]
    )
    app.add_middleware(_AllowAnyOrigin)
    _add_error_handlers(app)
    _add_routes(app, holder)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QueryError)
    async def _bad_parameter(_request: Request, error: QueryError) -> ORUKResponse:
        return ORUKResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(DataUnavailable)
    async def _no_data(_request: Request, _error: DataUnavailable) -> ORUKResponse:
        return ORUKResponse(
            {"detail": "the directory's data cannot be loaded just now"}, status_code=503
        )


PageNumber = Annotated[int, Query(ge=1, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=MAX_PER_PAGE, description="items per page")]
Age = Annotated[float | None, Query(ge=0, le=150, description="age in years")]
Search = Annotated[
    str | None,
    Query(
        description="words to find, as the app's search box finds them (vocabulary "
        "synonyms, small typos); the answer is then most relevant first"
    ),
]
Proximity = Annotated[
    float | None, Query(gt=0, le=MAX_PROXIMITY_M, description="metres from the postcode")
]


def _found(item: dict[str, Any] | None, what: str) -> dict[str, Any]:
    if item is None:
        raise HTTPException(status_code=404, detail=f"no {what} with that id")
    return item


def _add_routes(app: FastAPI, holder: CatalogueHolder) -> None:
    @app.get("/", summary="About this API and its relation to Open Referral UK")
    def root(request: Request) -> dict[str, Any]:
        return {
            "version": oruk.ORUK_VERSION,
            "profile": oruk.ORUK_PROFILE,
            "openapi_url": str(request.url_for("openapi")),
        }

    @app.get(
        "/services",
        summary="Services, page by page",
        description="By name; with `search`, most relevant first (ties by name).",
    )
    def services(
        page: PageNumber = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        search: Search = None,
        taxonomy_term_id: str | None = None,
        taxonomy_id: str | None = None,
        minimum_age: Age = None,
        maximum_age: Age = None,
        full: bool = False,
    ) -> dict[str, Any]:
        catalogue = holder.current()
        found = catalogue.select(
            search=search,
            taxonomy_term_id=taxonomy_term_id,
            taxonomy_id=taxonomy_id,
            minimum_age=minimum_age,
            maximum_age=maximum_age,
        )
        items = catalogue.services if full else catalogue.listed
        return oruk.page([items[n] for n in found], page, per_page)

    @app.get("/services/{service_id}", summary="One service with everything about it")
    def service(service_id: str) -> dict[str, Any]:
        return _found(holder.current().service(service_id), "service")

    @app.get("/taxonomies", summary="The taxonomies terms come from")
    def taxonomies(page: PageNumber = 1, per_page: PerPage = DEFAULT_PER_PAGE) -> dict[str, Any]:
        return oruk.page(holder.current().taxonomies, page, per_page)

    @app.get("/taxonomies/{taxonomy_id}", summary="One taxonomy")
    def taxonomy(taxonomy_id: str) -> dict[str, Any]:
        return _found(holder.current().taxonomy(taxonomy_id), "taxonomy")

    @app.get("/taxonomy_terms", summary="Taxonomy terms, page by page")
    def taxonomy_terms(
        page: PageNumber = 1, per_page: PerPage = DEFAULT_PER_PAGE, taxonomy_id: str | None = None
    ) -> dict[str, Any]:
        return oruk.page(holder.current().terms_of(taxonomy_id), page, per_page)

    @app.get("/taxonomy_terms/{term_id}", summary="One taxonomy term")
    def taxonomy_term(term_id: str) -> dict[str, Any]:
        return _found(holder.current().taxonomy_term(term_id), "taxonomy term")

    @app.get(
        "/service_at_locations",
        summary="Services at their venues, nearest first",
        description="With `postcode`, nearest first; else by service name, or with `search` "
        "most relevant first (ties by name).",
    )
    def service_at_locations(
        page: PageNumber = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
        search: Search = None,
        taxonomy_term_id: str | None = None,
        taxonomy_id: str | None = None,
        minimum_age: Age = None,
        maximum_age: Age = None,
        postcode: str | None = None,
        proximity: Proximity = None,
    ) -> dict[str, Any]:
        catalogue = holder.current()
        if proximity is not None and not (postcode and postcode.strip()):
            raise QueryError("proximity needs a postcode to measure from")
        origin = catalogue.origin(postcode) if postcode and postcode.strip() else None
        found = catalogue.select(
            search=search,
            taxonomy_term_id=taxonomy_term_id,
            taxonomy_id=taxonomy_id,
            minimum_age=minimum_age,
            maximum_age=maximum_age,
        )
        items = catalogue.service_at_locations(found, origin, proximity)
        return oruk.page(items, page, per_page)

    @app.get("/service_at_locations/{sal_id}", summary="One service at one location")
    def service_at_location(sal_id: str) -> dict[str, Any]:
        return _found(holder.current().service_at_location(sal_id), "service at location")
