"""Run the benchmark suite: generate data per N, run each stage, write JSON and Markdown."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aop_map.loading import load_vocabulary
from aop_map.offline_assets import file_base_url
from bench import app, browser, report, stages, synth
from bench.timing import REPO_ROOT, skipped

FULL_NS = (1_000, 10_000, 100_000)
QUICK_NS = (1_000, 10_000)
RESULTS_DIR = REPO_ROOT / "bench" / "results"
DEFAULT_OUT = RESULTS_DIR / "latest.json"
# A routine quick check must not overwrite the last full run's figures.
QUICK_OUT = RESULTS_DIR / "latest-quick.json"
README = REPO_ROOT / "bench" / "README.md"
STAGE_GROUPS = ("load", "geocode", "filter", "search", "map_build", "browser", "app")
# The slow naive sides (per-file pure-Python YAML, one folium.Marker each, the page of those
# markers) cost seconds per thousand records; above this many records they run on the first
# `cap` records and are scaled up linearly (their cost is per record), flagged in the results.
FULL_NAIVE_CAP = 10_000
QUICK_NAIVE_CAP = 500


@dataclass(frozen=True)
class Options:
    """What to run."""

    ns: tuple[int, ...]
    repeat: int
    slow_repeat: int
    naive_cap: int | None
    stages: tuple[str, ...]
    out: Path | None
    mode: str
    profile: bool = False
    browser_ns: tuple[int, ...] | None = None  # Ns with browser and app stages (None: all)
    small_naive: int = stages.SMALL_NAIVE  # naive samples up to this size run `repeat` times


def parse_args(argv: list[str]) -> Options:
    """Command-line options -> Options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="N = 1,000 and 10,000 only, fewer repeats (about a minute)",
    )
    parser.add_argument(
        "--n",
        type=int,
        action="append",
        help="record counts to run (repeatable); default 1,000 10,000 100,000",
    )
    parser.add_argument("--repeat", type=int, help="runs per fast stage (median reported)")
    parser.add_argument(
        "--slow-repeat",
        type=int,
        help="runs per slow stage (cold loads, fresh processes, naive sides "
        "over 2,000 records; in --quick every naive side of a map)",
    )
    parser.add_argument(
        "--naive-cap", type=int, help="largest sample the slow naive sides run on (0 = no cap)"
    )
    parser.add_argument(
        "--stages",
        default=",".join(STAGE_GROUPS),
        help=f"comma-separated subset of {', '.join(STAGE_GROUPS)}",
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="record where ours spends its time (default: on, off with --quick)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results JSON (the Markdown goes beside it as .md); default "
        "bench/results/latest.json, or latest-quick.json with --quick",
    )
    args = parser.parse_args(argv)
    chosen = tuple(s.strip() for s in args.stages.split(",") if s.strip())
    unknown = set(chosen) - set(STAGE_GROUPS)
    if unknown:
        parser.error(f"unknown stage(s): {', '.join(sorted(unknown))}")
    cap = (
        args.naive_cap
        if args.naive_cap is not None
        else (QUICK_NAIVE_CAP if args.quick else FULL_NAIVE_CAP)
    )
    return Options(
        ns=tuple(args.n) if args.n else (QUICK_NS if args.quick else FULL_NS),
        repeat=args.repeat or (3 if args.quick else 5),
        slow_repeat=args.slow_repeat or (1 if args.quick else 3),
        naive_cap=cap or None,
        stages=chosen,
        out=args.out or (QUICK_OUT if args.quick else DEFAULT_OUT),
        mode="quick" if args.quick else "full",
        profile=args.profile if args.profile is not None else not args.quick,
        # The browser stages cost ~10-40 s per N; a routine check runs them at the target N.
        browser_ns=(max(QUICK_NS),) if args.quick and not args.n else None,
        # A routine check runs the naive map and page (~1 s each) once, like other slow sides.
        small_naive=0 if args.quick else stages.SMALL_NAIVE,
    )


def run_n(n: int, options: Options, vocabulary: Any, log: Any) -> tuple[dict, dict]:
    """Every chosen stage at one N: (results by stage, facts about the dataset)."""
    work = stages.make_work_dir()
    results: dict[str, Any] = {}
    ctx: stages.Context | None = None
    try:
        start = time.perf_counter()
        # The CSV copy is read only by the load stage's profile (csv_one_file_s).
        csv = options.profile and "load" in options.stages
        dataset = synth.generate(n, work / "data", vocabulary, csv=csv)
        facts = {
            "generate_s": round(time.perf_counter() - start, 3),
            "records": n,
            "postcode_locations": len(dataset.postcodes),
            "area": "Gloucestershire" if n <= synth.GLOUCESTERSHIRE_MAX_N else "England",
        }
        log(f"N={n:,}: generated in {facts['generate_s']:.1f} s")
        ctx = stages.Context(
            dataset,
            vocabulary,
            options.repeat,
            options.naive_cap,
            work,
            slow_repeat=options.slow_repeat,
            profile=options.profile,
            small_naive=options.small_naive,
        )
        for group, run in _plan(ctx, options, n):
            start = time.perf_counter()
            try:
                produced = run()
            except Exception as error:  # one broken stage must not lose the others' figures
                produced = {
                    name: {
                        **skipped(f"error: {error}"),
                        "error": True,
                        "traceback": traceback.format_exc()[-2000:],
                    }
                    for name in _names(group)
                }
            results.update(produced)
            log(
                f"N={n:,}: {group} in {time.perf_counter() - start:.1f} s: "
                + ", ".join(f"{k} {_brief(v)}" for k, v in produced.items())
            )
    finally:
        if ctx is not None:
            ctx.close()
        shutil.rmtree(work, ignore_errors=True)
    return results, facts


def _plan(ctx: stages.Context, options: Options, n: int) -> list[tuple[str, Any]]:
    chosen = set(options.stages)
    plan: list[tuple[str, Any]] = []
    if (
        options.browser_ns is not None
        and n not in options.browser_ns
        and (chosen & {"browser", "app"})
    ):
        chosen -= {"browser", "app"}
        reason = f"quick mode: browser stages run at N = {options.browser_ns[0]:,} only"
        plan.append(
            (
                "browser",
                lambda: {
                    name: skipped(reason)
                    for name in ("browser", "app_first_map", "app_filter_roundtrip")
                },
            )
        )
    if "load" in chosen:
        plan.append(("load", lambda: stages.stage_load(ctx)))
    if "geocode" in chosen:
        plan.append(("geocode", lambda: stages.stage_geocode(ctx)))
    if "filter" in chosen:
        plan.append(("filter", lambda: stages.stage_filter(ctx)))
    if "search" in chosen:
        plan.append(("search", lambda: stages.stage_search(ctx)))
    if "map_build" in chosen:  # times the builds, and writes the browser stage's pages
        plan.append(("map_build", lambda: stages.stage_map_build(ctx, file_base_url())))
    elif "browser" in chosen:  # the pages only, each map built once, untimed
        plan.append(("pages", lambda: _only(False, stages.write_pages(ctx, file_base_url()))))
    if "browser" in chosen:
        plan.append(
            (
                "browser",
                lambda: browser.stage_browser(
                    ctx.html,
                    ctx.points,
                    ctx.repeat,
                    naive_repeat=ctx.naive_repeat(ctx.points.get("naive", 0)),
                    naive_scale=ctx.points_scale(),
                    naive_sample_n=ctx.naive_sample_n(),
                    profile=ctx.profile,
                    get_browser=ctx.get_browser,
                ),
            )
        )
    if "app" in chosen:
        plan.append(("app", lambda: app.stage_app(ctx)))
    return plan


def _only(keep: bool, produced: dict[str, Any] | None) -> dict[str, Any]:
    return produced if keep and produced else {}


def _names(group: str) -> tuple[str, ...]:
    return {
        "load": ("load_cold", "load_warm"),
        "app": ("app_first_map", "app_filter_roundtrip"),
    }.get(group, (group,))


def _brief(entry: dict[str, Any]) -> str:
    if entry.get("skipped"):
        return f"skipped ({entry['skipped'][:80]})"
    ours, naive, ratio = entry.get("ours_s"), entry.get("naive_s"), entry.get("ratio")
    text = f"{ours:.4g} s" if ours is not None else "-"
    if naive is not None:
        text += f" vs {naive:.4g} s ({ratio}x)"
    return text


def run(options: Options, log: Any = None) -> dict[str, Any]:
    """The whole suite; returns the results document (and writes it when options.out)."""
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = time.perf_counter()
    vocabulary = load_vocabulary(REPO_ROOT / "mapdata")
    results: dict[str, Any] = {}
    datasets: dict[str, Any] = {}
    machine = report.machine()
    for n in options.ns:
        results[str(n)], datasets[str(n)] = run_n(n, options, vocabulary, log)
    document = {
        "machine": machine,
        "run": {
            "started": started.isoformat(),
            "mode": options.mode,
            "ns": list(options.ns),
            "repeat": options.repeat,
            "slow_repeat": options.slow_repeat,
            "naive_cap": options.naive_cap,
            "stages": list(options.stages),
            "profile": options.profile,
            "browser_ns": list(options.browser_ns or options.ns),
            "seconds": round(time.perf_counter() - start, 1),
            "load_average_at_end": report.load_average(),
        },
        "datasets": datasets,
        "results": results,
    }
    document["targets"] = report.check_targets(results)
    if options.out is not None:
        report.write_json(options.out, document)
        options.out.with_suffix(".md").write_text(report.markdown(document), encoding="utf-8")
        log(f"wrote {options.out} and {options.out.with_suffix('.md')}")
        if options.out in (DEFAULT_OUT, QUICK_OUT):
            report.update_readme(README, document)
    return document


def main(argv: list[str] | None = None) -> int:
    """`python -m bench`: exit 1 when a stage failed (not when a target was missed)."""
    document = run(parse_args(sys.argv[1:] if argv is None else argv))
    failed = [
        f"N={n} {stage}"
        for n, by_stage in document["results"].items()
        for stage, entry in by_stage.items()
        if entry.get("error")
    ]
    print(report.markdown(document))
    if failed:
        print("failed stages: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0
