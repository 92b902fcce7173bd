"""Timing helpers: medians of several runs, and runs in a fresh Python process."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def median(values: list[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def time_runs(
    fn: Callable[[], Any], repeat: int, setup: Callable[[], Any] | None = None
) -> tuple[list[float], Any]:
    """Wall-clock seconds of `repeat` calls (setup untimed before each), and the last result."""
    runs: list[float] = []
    result: Any = None
    for _ in range(max(1, repeat)):
        if setup is not None:
            setup()
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return runs, result


def run_worker(task: str, **kwargs: Any) -> dict[str, Any]:
    """Run `bench.worker` in a fresh interpreter and return its JSON answer.

    A fresh process is what "cold" means here: no imported modules warmed by earlier stages,
    no objects cached in memory. (The operating system's page cache cannot be dropped without
    root and a quiet machine, so file contents may still be in memory.)
    """
    payload = json.dumps({"task": task, **kwargs})
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", payload],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.worker {task} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def figure(
    ours: list[float] | None, naive: list[float] | None, *, naive_scale: float = 1.0, **extra: Any
) -> dict[str, Any]:
    """One stage's entry: medians, the ratio naive/ours and every run, plus extra figures.

    `naive_scale` > 1 means the naive side ran on a sample and was scaled up linearly.
    """
    ours_s = median(ours or [])
    naive_s = median(naive or [])
    if naive_s is not None:
        naive_s *= naive_scale
    ratio = naive_s / ours_s if ours_s and naive_s is not None else None
    out: dict[str, Any] = {
        "ours_s": _round(ours_s),
        "naive_s": _round(naive_s),
        "ratio": round(ratio, 2) if ratio is not None else None,
        "ours_runs_s": [_round(v) for v in ours or []],
        "naive_runs_s": [_round(v * naive_scale) for v in naive or []] if naive else None,
    }
    out.update(extra)
    return out


def skipped(reason: str, **extra: Any) -> dict[str, Any]:
    """A stage that did not run, and why."""
    return {"ours_s": None, "naive_s": None, "ratio": None, "skipped": reason, **extra}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def profile_top(
    fn: Callable[[], Any], limit: int = 8, *, threads: bool = False
) -> list[dict[str, Any]]:
    """The functions that dominate one call of fn: cProfile, sorted by own time.

    With `threads`, threads started during the call are profiled too (Streamlit's AppTest
    runs the script in its own thread), and the calling thread's waiting is left out.
    """
    import cProfile
    import pstats
    import threading

    profilers: list[cProfile.Profile] = []
    original = threading.Thread.run

    def profiled_run(thread: threading.Thread) -> None:
        profiler = cProfile.Profile()
        profilers.append(profiler)
        profiler.runcall(original, thread)

    if threads:
        threading.Thread.run = profiled_run  # type: ignore[method-assign]
        try:
            fn()
        finally:
            threading.Thread.run = original  # type: ignore[method-assign]
    else:
        profilers.append(cProfile.Profile())
        profilers[0].runcall(fn)
    if not profilers:
        return []
    stats = pstats.Stats(profilers[0])
    for other in profilers[1:]:
        stats.add(other)
    rows = []
    root = str(REPO_ROOT) + "/"
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in stats.stats.items():
        where = filename.split("site-packages/")[-1].replace(root, "")
        rows.append(
            {
                "function": f"{where}:{line}({name})",
                "calls": calls,
                "own_s": round(tottime, 4),
                "cumulative_s": round(cumtime, 4),
            }
        )
    rows.sort(key=lambda r: -r["own_s"])
    # The project's own functions by cumulative time say which call to fix.
    ours = sorted(
        (
            r
            for r in rows
            if r["function"].startswith(("aop_map/", "pages/", "app.py"))
            and "<module>" not in r["function"]
        ),
        key=lambda r: -r["cumulative_s"],
    )
    return rows[:limit] + [{**r, "project": True} for r in ours[:limit]]
