"""The machine description, results JSON and the Markdown table."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.browser import chromium_path

STAGES = (
    "load_cold",
    "load_warm",
    "geocode",
    "filter",
    "search",
    "map_build",
    "browser",
    "app_first_map",
    "app_filter_roundtrip",
)
LIBRARIES = (
    "streamlit",
    "folium",
    "streamlit-folium",
    "geopandas",
    "shapely",
    "pandas",
    "numpy",
    "pyproj",
    "PyYAML",
    "pydantic",
    "playwright",
)
# Targets from the issue, at N = 10,000 unless the key says otherwise. Each is a check on one
# stage's figure: (stage, figure, "max"|"min", bound, N).
TARGETS = (
    ("map_build", "ratio", "min", 20, 10_000),
    ("map_build", "html_bytes_per_record", "max", 150, 10_000),
    ("browser", "ours_s", "max", 1.5, 10_000),
    ("browser", "ratio", "min", 4, 10_000),
    ("load_cold", "ours_s", "max", 3.0, 10_000),
    ("load_warm", "ours_s", "max", 0.3, 10_000),
    ("filter", "ours_s", "max", 0.05, 100_000),
    ("filter", "ratio", "min", 20, 100_000),
    ("geocode", "ours_s", "max", 2.0, 10_000),
    ("app_first_map", "ours_s", "max", 3.0, 10_000),
    ("app_filter_roundtrip", "ours_s", "max", 1.0, 10_000),
)


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, Python and library versions, browser."""
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "yaml_c_loader": _yaml_c(),
        "chromium": _chromium_version(),
        "load_average_at_start": load_average(),
    }


def load_average() -> list[float] | None:
    """1/5/15-minute load averages: how busy the (shared, noisy) machine was."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_gb() -> float | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return round(pages * size / 1e9, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _yaml_c() -> bool:
    import yaml

    return hasattr(yaml, "CSafeLoader")


def _chromium_version() -> str | None:
    path = chromium_path()
    if not path:
        return None
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
        return done.stdout.strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


def check_targets(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target: the measured value and whether it was met (None when not measured)."""
    out = []
    for stage, key, kind, bound, n in TARGETS:
        value = results.get(str(n), {}).get(stage, {}).get(key)
        met = None if value is None else (value <= bound if kind == "max" else value >= bound)
        out.append(
            {
                "n": n,
                "stage": stage,
                "figure": key,
                "target": f"{'<=' if kind == 'max' else '>='} {bound}",
                "value": value,
                "met": met,
            }
        )
    return out


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write atomically (a .tmp beside it, which .gitignore ignores)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def _fmt_s(value: Any) -> str:
    if value is None:
        return "–"
    if value < 0.01:
        return f"{value * 1000:.2f} ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


EXTRA_KEYS = (
    "html_bytes_per_record",
    "naive_html_bytes_per_record",
    "build_index_s",
    "lookup_tables_loaded_s",
    "geocode_records_s",
    "csv_one_file_s",
    "matched",
    "naive_sample_n",
    "first_visit_s",
    "server_start_s",
    "skipped",
)


def _extras(entry: dict[str, Any]) -> str:
    parts = []
    for key in EXTRA_KEYS:
        value = entry.get(key)
        if value is None:
            continue
        if key.endswith("_s") and isinstance(value, int | float):
            value = _fmt_s(value)
        parts.append(f"{key}={value}")
    checks = [k for k in entry if k.startswith("same_")]
    if checks:
        parts.append(
            "same result: " + ", ".join(f"{k[5:]} {'yes' if entry[k] else 'NO'}" for k in checks)
        )
    return "; ".join(parts)


def markdown(document: dict[str, Any]) -> str:
    """The results table, the targets and the machine, in Markdown."""
    lines = [
        "# aop-map benchmark results",
        "",
        f"Run: {document['run']['started']} · mode: {document['run']['mode']} · "
        f"repeat: {document['run']['repeat']} · took {document['run']['seconds']:.0f} s",
        "",
        "| N | stage | ours (median) | naive (median) | naive/ours | extra |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for n, stages in document["results"].items():
        for stage in STAGES:
            entry = stages.get(stage)
            if entry is None:
                continue
            ratio = f"{entry['ratio']:.1f}x" if entry.get("ratio") is not None else "–"
            lines.append(
                f"| {int(n):,} | {stage} | {_fmt_s(entry.get('ours_s'))} | "
                f"{_fmt_s(entry.get('naive_s'))} | {ratio} | {_extras(entry)} |"
            )
    lines += [
        "",
        "## Targets",
        "",
        "| N | stage | figure | target | measured | met |",
        "|---:|---|---|---|---:|---|",
    ]
    for t in document["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        lines.append(
            f"| {t['n']:,} | {t['stage']} | {t['figure']} | {t['target']} | "
            f"{t['value'] if t['value'] is not None else '–'} | {met} |"
        )
    m = document["machine"]
    libs = ", ".join(f"{k} {v}" for k, v in m["libraries"].items() if v)
    lines += [
        "",
        "## Machine",
        "",
        f"{m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, {m['platform']}; "
        f"Python {m['python']}; {libs}; PyYAML C loader: {m['yaml_c_loader']}; "
        f"{m['chromium'] or 'no chromium'}. Load average (1/5/15 min) at the start: "
        f"{m.get('load_average_at_start')}, at the end: "
        f"{document['run'].get('load_average_at_end')}.",
        "",
    ]
    return "\n".join(lines)


def summary(document: dict[str, Any]) -> str:
    """A short Markdown summary of a run for bench/README.md."""
    run = document["run"]
    m = document["machine"]
    lines = [
        f"{run['mode'].capitalize()} run of {run['started']}: {run['seconds']:.0f} s on "
        f"{m['cores']} cores, Python {m['python']}, load average at the start "
        f"{m.get('load_average_at_start')}.",
        "",
        "| N | stage | ours | naive | naive/ours |",
        "|---:|---|---:|---:|---:|",
    ]
    for n, stages in document["results"].items():
        for stage in STAGES:
            entry = stages.get(stage)
            if entry is None or entry.get("skipped"):
                continue
            ratio = f"{entry['ratio']:.1f}x" if entry.get("ratio") is not None else "–"
            star = "*" if entry.get("naive_sample_n") else ""
            lines.append(
                f"| {int(n):,} | {stage} | {_fmt_s(entry.get('ours_s'))} | "
                f"{_fmt_s(entry.get('naive_s'))}{star} | {ratio} |"
            )
    lines += [
        "",
        "\\* naive side run on the first `naive_sample_n` records and scaled up "
        "(see Samples above).",
    ]
    met = [t for t in document["targets"] if t["met"] is not None]
    missed = [
        f"{t['stage']} {t['figure']} at N={t['n']:,} ({t['value']}, target {t['target']})"
        for t in met
        if not t["met"]
    ]
    lines += [
        "",
        f"Targets met: {sum(bool(t['met']) for t in met)} of {len(met)} measured."
        + (" Missed: " + "; ".join(missed) + "." if missed else ""),
    ]
    return "\n".join(lines)


def update_readme(path: Path, document: dict[str, Any]) -> None:
    """Replace the README's section for this run's mode (full or quick) with its summary."""
    mode = document["run"]["mode"]
    start, end = f"<!-- results:{mode} -->", f"<!-- /results:{mode} -->"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return
    block = f"{start}\n{summary(document)}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
