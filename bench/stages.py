"""The Python-side stages: each times the project's code and the naive way in the same run.

Every stage returns ``{stage name: figure}`` (see ``bench.timing.figure``) and checks that both
sides computed the same answer, recording the check in the figure (``same_*`` keys).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aop_map.filtering import RELEVANCE, Selection, build_index, filter_frame
from aop_map.geocoding import PostcodeLookup, geocode_records
from aop_map.loading import load_records
from aop_map.mapping import ProviderLayer, build_map
from aop_map.records import Record
from aop_map.vocabulary import Vocabulary
from bench import naive
from bench.browser import chromium, localise_cdn_links
from bench.synth import Dataset
from bench.timing import figure, profile_top, run_worker, time_runs

# The filter every stage uses: the commonest condition AND a common art form within 15 km of
# Gloucester Cross. Selective enough to be a real question, broad enough to return rows.
FILTER_CONDITION = "mental-health"
FILTER_ART_FORM = "music"
FILTER_ORIGIN = (51.8642, -2.2382)
FILTER_RADIUS_KM = 15.0
# The search every stage uses: a broad one. "choir" is a vocabulary synonym of singing, so it
# finds every row tagged singing (about a fifth of them), not only the few that say "choir".
SEARCH_QUERY = "choir"
# Naive samples up to this many records take about a second a run or less, so a full run
# repeats them like our side; larger ones run `slow_repeat` times.
SMALL_NAIVE = 2_000


@dataclass
class Context:
    """What one N's run has produced so far (later stages reuse earlier results)."""

    dataset: Dataset
    vocabulary: Vocabulary
    repeat: int
    naive_cap: int | None  # the slow naive sides run on at most this many records
    work: Path
    slow_repeat: int = 3  # runs of stages that take seconds each (fresh processes, naive)
    profile: bool = False  # also record where ours spends its time (cProfile, breakdowns)
    small_naive: int = SMALL_NAIVE  # naive samples up to this size run `repeat` times
    records: list[Record] = field(default_factory=list)
    frame: Any = None
    index: Any = None  # the filter index of `frame` (built by the filter stage)
    html: dict[str, Path] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)
    browser: Any = None  # one headless Chromium for this N's browser stages (see get_browser)
    exits: ExitStack = field(default_factory=ExitStack)  # closed by close()

    def naive_repeat(self, size: int) -> int:
        """Runs of a naive side over `size` records or points: a small one is quick."""
        return self.repeat if size <= self.small_naive else self.slow_repeat

    def get_browser(self) -> Any:
        """Headless Chromium, launched once for the browser and app stages (each measurement
        still opens a fresh browser context: no cache, no session)."""
        if self.browser is None:
            self.browser = self.exits.enter_context(chromium())
        return self.browser

    def close(self) -> None:
        """Close what the stages opened (the browser)."""
        self.browser = None
        self.exits.close()

    def sample(self) -> int:
        """How many records the slow naive sides run on."""
        return min(self.dataset.n, self.naive_cap or self.dataset.n)

    def naive_sample_n(self) -> int | None:
        """The naive sample size when it is smaller than N, else None."""
        return self.sample() if self.sample() < self.dataset.n else None

    def points_scale(self) -> float:
        """Map points of ours / of the naive sample (the naive map-side scale-up)."""
        ours, naive_points = self.points.get("ours", 0), self.points.get("naive", 0)
        return ours / naive_points if naive_points and naive_points < ours else 1.0

    def get_records(self) -> list[Record]:
        """Validated records (loaded with a throwaway cache when the load stage did not run)."""
        if not self.records:
            self.records = load_records(
                self.dataset.yaml_dir, cache_dir=self.work / "stage-cache"
            ).records
        return self.records

    def get_frame(self) -> Any:
        """The geocoded frame (made when the geocode stage did not run)."""
        if self.frame is None:
            self.frame, _ = geocode_records(self.get_records(), self.vocabulary)
        return self.frame

    def get_index(self) -> Any:
        """The frame's filter index, search included (built when the filter stage did not run)."""
        if self.index is None:
            self.index = build_index(self.get_frame(), self.vocabulary)
        return self.index


def stage_load(ctx: Context) -> dict[str, Any]:
    """load_cold (fresh process, empty cache dir) and load_warm (fresh process, cache filled by
    the cold run), and the naive loader in a fresh process, per repetition."""
    cold, warm, naive_runs = [], [], []
    ours: dict[str, Any] = {}
    naive_answer: dict[str, Any] = {}
    same_warm = True
    for run in range(ctx.slow_repeat):
        cache = ctx.work / f"load-cache-{run}"
        shutil.rmtree(cache, ignore_errors=True)
        ours = run_worker("load_ours", data_dir=str(ctx.dataset.yaml_dir), cache_dir=str(cache))
        again = run_worker("load_ours", data_dir=str(ctx.dataset.yaml_dir), cache_dir=str(cache))
        cold.append(ours["seconds"])
        warm.append(again["seconds"])
        if run == ctx.slow_repeat - 1:  # later stages load from it warm, in this process
            shutil.rmtree(ctx.work / "stage-cache", ignore_errors=True)
            cache.rename(ctx.work / "stage-cache")
        shutil.rmtree(cache, ignore_errors=True)
        same_warm = same_warm and again["digest"] == ours["digest"]
        naive_answer = run_worker(
            "load_naive", data_dir=str(ctx.dataset.yaml_dir), limit=ctx.sample()
        )
        naive_runs.append(naive_answer["seconds"])
    csv_s = None
    if ctx.profile and ctx.dataset.csv_dir is not None:  # the same records as one CSV, cold
        csv_runs, _ = time_runs(lambda: load_records(ctx.dataset.csv_dir, use_cache=False), 1)
        csv_s = round(csv_runs[0], 6)
    scale = ctx.dataset.n / naive_answer["files"]
    sample = ctx.sample()
    same = (
        ours["records"] == ctx.dataset.n
        and naive_answer["records"] == sample
        and (sample < ctx.dataset.n or naive_answer["digest"] == ours["digest"])
    )
    common = {
        "records": ours["records"],
        "same_records": same and same_warm,
        "naive_sample_n": sample if scale > 1 else None,
    }
    breakdown = (
        run_worker("load_breakdown", data_dir=str(ctx.dataset.yaml_dir)) if ctx.profile else None
    )
    return {
        "load_cold": figure(
            cold,
            naive_runs,
            naive_scale=scale,
            **common,
            csv_one_file_s=csv_s,
            breakdown=breakdown,
            note="fresh process, empty cache; OS page cache not dropped",
        ),
        "load_warm": figure(
            warm,
            naive_runs,
            naive_scale=scale,
            **common,
            note="fresh process, validated-file cache filled by the cold run (an app restart)",
        ),
    }


def stage_geocode(ctx: Context) -> dict[str, Any]:
    """A fresh lookup (tables read from the package data) per run, vectorised vs one by one."""
    postcodes = ctx.dataset.postcodes
    ours_runs, found = time_runs(lambda: PostcodeLookup().lookup(postcodes), ctx.repeat)
    naive_runs, slow = time_runs(
        lambda: naive.geocode_postcodes(postcodes, PostcodeLookup()), ctx.slow_repeat
    )
    lookup = PostcodeLookup()
    lookup.lookup(postcodes)  # tables in memory
    warm_runs, _ = time_runs(lambda: lookup.lookup(postcodes), ctx.repeat)
    records_runs, (frame, _problems) = time_runs(
        lambda: geocode_records(ctx.get_records(), ctx.vocabulary, postcodes=lookup),
        ctx.slow_repeat,
    )
    ctx.frame = frame
    profile = profile_top(lambda: PostcodeLookup().lookup(postcodes)) if ctx.profile else None
    same = bool(
        np.allclose(found["lat"], slow["lat"], equal_nan=True, atol=1e-9)
        and np.allclose(found["lon"], slow["lon"], equal_nan=True, atol=1e-9)
        and _same_labels(found["district_code"], slow["district_code"])
    )
    return {
        "geocode": figure(
            ours_runs,
            naive_runs,
            postcodes=len(postcodes),
            found=int(found["lat"].notna().sum()),
            same_points=same,
            lookup_tables_loaded_s=round(float(np.median(warm_runs)), 6),
            geocode_records_s=round(float(np.median(records_runs)), 6),
            profile=profile,
            note="ours_s includes reading the postcode tables; lookup_tables_loaded_s does not; "
            "geocode_records_s is records -> GeoDataFrame with the tables loaded",
        )
    }


def _same_labels(a: pd.Series, b: pd.Series) -> bool:
    """Equal element by element, any missing value (None, NaN) equal to any other."""
    return len(a) == len(b) and all(
        (pd.isna(x) and pd.isna(y)) or x == y for x, y in zip(a, b, strict=True)
    )


def stage_filter(ctx: Context) -> dict[str, Any]:
    """condition AND art form AND radius on the geocoded frame, index built once (as the app)."""
    frame = ctx.get_frame()
    index_runs, index = time_runs(lambda: build_index(frame, ctx.vocabulary), ctx.repeat)
    ctx.index = index
    selection = Selection(
        condition=(FILTER_CONDITION,),
        art_form=(FILTER_ART_FORM,),
        near="Gloucester",
        radius_km=FILTER_RADIUS_KM,
    )
    ours_runs, ours = time_runs(
        lambda: filter_frame(frame, selection, ctx.vocabulary, origin=FILTER_ORIGIN, index=index),
        max(ctx.repeat, 9),
    )
    naive_runs, slow = time_runs(
        lambda: naive.filter_frame(
            frame, FILTER_CONDITION, FILTER_ART_FORM, FILTER_ORIGIN, FILTER_RADIUS_KM
        ),
        ctx.repeat,
    )
    ours_keys = list(zip(ours["record_id"], ours["location_index"], strict=True))
    slow_keys = list(zip(slow["record_id"], slow["location_index"], strict=True))
    return {
        "filter": figure(
            ours_runs,
            naive_runs,
            rows=len(frame),
            matched=len(ours_keys),
            same_ids=set(ours_keys) == set(slow_keys),
            same_order=ours_keys == slow_keys,
            build_index_s=round(float(np.median(index_runs)), 6),
            note="ours_s with the index built (the app builds it once per data load)",
        )
    }


def stage_search(ctx: Context) -> dict[str, Any]:
    """A broad one-word search (SEARCH_QUERY) on the geocoded frame, index built once (as the
    app); the naive side folds and matches every row's words in Python."""
    frame, index = ctx.get_frame(), ctx.get_index()
    selection = Selection(q=SEARCH_QUERY)
    ours_runs, ours = time_runs(
        lambda: filter_frame(frame, selection, ctx.vocabulary, index=index), max(ctx.repeat, 9)
    )
    naive_runs, slow = time_runs(
        lambda: naive.search_frame(frame, SEARCH_QUERY, ctx.vocabulary), ctx.repeat
    )
    ours_keys = list(zip(ours["record_id"], ours["location_index"], strict=True))
    slow_keys = list(zip(slow["record_id"], slow["location_index"], strict=True))
    profile = (
        profile_top(lambda: filter_frame(frame, selection, ctx.vocabulary, index=index))
        if ctx.profile
        else None
    )
    return {
        "search": figure(
            ours_runs,
            naive_runs,
            rows=len(frame),
            query=SEARCH_QUERY,
            matched=len(ours_keys),
            same_ids=set(ours_keys) == set(slow_keys),
            same_order=ours_keys == slow_keys,
            same_relevance=list(ours[RELEVANCE]) == list(slow[RELEVANCE]),
            profile=profile,
            note="ours_s with the index built (the app builds it once per data load)",
        )
    }


def _payload_points(m: Any) -> int:
    for child in m._children.values():
        if isinstance(child, ProviderLayer):
            return len(json.loads(child.payload)["p"])
    return 0


def write_pages(
    ctx: Context, file_base: str, naive_rendered: tuple[Any, str] | None = None
) -> None:
    """The pages the browser stage opens: ours with its assets as local files, the naive map
    of the sample with its CDN files as local copies and, when the sample is smaller than N,
    an empty naive map (its fixed cost). `naive_rendered`: the naive (map, page) if already
    built (the map-build stage times it); else it is built once here, untimed."""
    frame = ctx.get_frame()
    if naive_rendered is None:
        sample = frame.iloc[: _rows_for_records(frame, ctx.sample())]
        naive_rendered = _render(naive.build_map(sample, ctx.vocabulary))
    slow, slow_page = naive_rendered
    m, page = _render(build_map(frame, ctx.vocabulary, asset_base=file_base))
    ctx.points = {"ours": _payload_points(m), "naive": naive.count_markers(slow)}
    ctx.html = {"ours": ctx.work / "ours.html", "naive": ctx.work / "naive.html"}
    ctx.html["ours"].write_text(page, encoding="utf-8")
    ctx.html["naive"].write_text(localise_cdn_links(slow_page, ctx.work / "cdn"), encoding="utf-8")
    if ctx.sample() < ctx.dataset.n:
        ctx.html["naive_empty"] = ctx.work / "naive-empty.html"
        empty = _render(naive.build_map(frame.iloc[:0], ctx.vocabulary))[1]
        ctx.html["naive_empty"].write_text(
            localise_cdn_links(empty, ctx.work / "cdn"), encoding="utf-8"
        )


def stage_map_build(ctx: Context, file_base: str) -> dict[str, Any]:
    """Folium map -> HTML for every located row; the naive side on a sample when capped.
    Also writes the browser stage's pages (write_pages)."""
    frame = ctx.get_frame()
    ours_runs, (m, page) = time_runs(lambda: _render(build_map(frame, ctx.vocabulary)), ctx.repeat)
    sample = frame.iloc[: _rows_for_records(frame, ctx.sample())]
    naive_runs, (slow, slow_page) = time_runs(
        lambda: _render(naive.build_map(sample, ctx.vocabulary)), ctx.naive_repeat(ctx.sample())
    )
    ours_points, naive_points = _payload_points(m), naive.count_markers(slow)
    located, located_sample = _located(frame), _located(sample)
    write_pages(ctx, file_base, (slow, slow_page))
    scale = located / located_sample if located_sample and located_sample < located else 1.0
    profile = (
        profile_top(lambda: _render(build_map(frame, ctx.vocabulary))) if ctx.profile else None
    )
    return {
        "map_build": figure(
            ours_runs,
            naive_runs,
            naive_scale=scale,
            points=ours_points,
            naive_points=naive_points,
            naive_sample_n=ctx.sample() if scale > 1 else None,
            same_points=ours_points == located and naive_points == located_sample,
            html_bytes=len(page.encode()),
            naive_html_bytes=len(slow_page.encode()),
            html_bytes_per_record=round(len(page.encode()) / max(ours_points, 1), 1),
            naive_html_bytes_per_record=round(len(slow_page.encode()) / max(naive_points, 1), 1),
            profile=profile,
            note="Python time of build_map + rendering the HTML; bytes per record = whole page "
            "/ points (so includes the fixed part)",
        )
    }


def _render(m: Any) -> tuple[Any, str]:
    return m, m.get_root().render()


def _located(frame: pd.DataFrame) -> int:
    return int(frame["lat"].notna().sum()) if len(frame) else 0


def _rows_for_records(frame: pd.DataFrame, n_records: int) -> int:
    """Rows of the first n records (a record may have several location rows)."""
    ids = frame["record_id"].drop_duplicates()
    if n_records >= len(ids):
        return len(frame)
    last = ids.iloc[n_records]
    return int(np.flatnonzero(frame["record_id"].to_numpy() == last)[0])


def make_work_dir() -> Path:
    """A temporary directory for one N (deleted by the suite)."""
    return Path(tempfile.mkdtemp(prefix="aop-bench-"))
