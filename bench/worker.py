"""Stages that must start from a fresh process: `python -m bench.worker '<json task>'`.

Prints one JSON line: timings (measured around the call, after imports) and a digest of the
result, so the parent can check both sides loaded the same records.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any


def _digest(ids: list[str]) -> str:
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()


def load_ours(data_dir: str, cache_dir: str, **_: Any) -> dict[str, Any]:
    """The project's loader, as it is called: cold when cache_dir is empty, else warm.

    Warm runs in its own fresh process too (an app restart): measured in the process that just
    did the cold load, the garbage collector walking the cold result's objects makes the
    unpickling look several times slower than it is.
    """
    from aop_map.loading import load_records

    start = time.perf_counter()
    loaded = load_records(Path(data_dir), cache_dir=Path(cache_dir))
    seconds = time.perf_counter() - start
    ids = [r.id for r in loaded.records]
    return {
        "seconds": seconds,
        "records": len(ids),
        "digest": _digest(ids),
        "problems": len(loaded.problems),
    }


def load_naive(data_dir: str, limit: int | None = None, **_: Any) -> dict[str, Any]:
    """PyYAML safe_load per file + validate_record per record (first `limit` files only)."""
    from aop_map.loading import find_record_files, vocabulary_path
    from aop_map.vocabulary import Vocabulary
    from bench import naive

    files = find_record_files(Path(data_dir))[:limit]
    start = time.perf_counter()
    vocabulary = Vocabulary.load(vocabulary_path(Path(data_dir)))
    records = naive.load_yaml_files(files, vocabulary)
    seconds = time.perf_counter() - start
    ids = [r.id for r in records]
    return {"seconds": seconds, "files": len(files), "records": len(ids), "digest": _digest(ids)}


def load_breakdown(data_dir: str, **_: Any) -> dict[str, Any]:
    """Where a cold load's time goes: the loader's own steps, timed one after another in this
    process (collector paused, as the loader does), then parsing + validating as the loader
    really does it, with its helper processes."""
    import gc
    import pickle

    from aop_map.loading import (
        load_vocabulary,
        load_workers,
        parse_file,
        process_files,
        scan_record_files,
    )
    from aop_map.records import validate_record
    from bench.timing import profile_top

    gc.disable()
    marks = [time.perf_counter()]
    vocabulary = load_vocabulary(Path(data_dir))
    files = [Path(f.path) for f in scan_record_files(Path(data_dir))]
    marks.append(time.perf_counter())
    parsed = [parse_file(path) for path in files]
    marks.append(time.perf_counter())
    validated = [
        [
            validate_record(
                raw.data, vocabulary, source=path.name, line=raw.line, field_lines=raw.field_lines
            )
            for raw in raws
        ]
        for (raws, _), path in zip(parsed, files, strict=True)
    ]
    marks.append(time.perf_counter())
    pickle.dumps(validated, pickle.HIGHEST_PROTOCOL)
    marks.append(time.perf_counter())
    del parsed, validated
    workers = load_workers(len(files))
    process_files([(str(p), p.name) for p in files], vocabulary, workers)
    marks.append(time.perf_counter())
    gc.enable()
    steps = (
        "vocabulary_and_listing_s",
        "parse_yaml_s",
        "validate_s",
        "pickle_cache_s",
        "parse_validate_pickle_with_workers_s",
    )
    out: dict[str, Any] = {
        k: round(b - a, 4) for k, a, b in zip(steps, marks[:-1], marks[1:], strict=True)
    }
    out["helper_processes"] = workers
    out["profile_parse_first_1000"] = profile_top(lambda: [parse_file(p) for p in files[:1000]])
    return out


def app_script_profile(data_dir: str, cache_dir: str, **_: Any) -> dict[str, Any]:
    """Where the map page's Streamlit script spends its time, run in-process with AppTest:
    a fresh session once the data is cached, then a filter change."""
    import os

    os.environ.update(AOP_MAP_DATA_DIR=data_dir, AOP_MAP_CACHE_DIR=cache_dir, AOP_MAP_OFFLINE="1")
    from streamlit.testing.v1 import AppTest

    from bench.timing import REPO_ROOT, profile_top

    script = str(REPO_ROOT / "app.py")
    AppTest.from_file(script, default_timeout=600).run()  # loads the data into the cache
    session = AppTest.from_file(script, default_timeout=600)
    start = time.perf_counter()
    profile = profile_top(session.run, limit=12, threads=True)
    first = time.perf_counter() - start
    box = next(m for m in session.sidebar.multiselect if m.label.startswith("Health"))
    box.set_value([*box.value, "dementia"])
    start = time.perf_counter()
    change_profile = profile_top(session.run, limit=12, threads=True)
    change = time.perf_counter() - start
    return {
        "session_script_s": round(first, 3),
        "session_profile": profile,
        "filter_change_script_s": round(change, 3),
        "filter_change_profile": change_profile,
        "errors": [str(e.value)[:200] for e in session.exception],
    }


TASKS = {
    "load_ours": load_ours,
    "load_naive": load_naive,
    "load_breakdown": load_breakdown,
    "app_script_profile": app_script_profile,
}


def main(argv: list[str]) -> int:
    task = json.loads(argv[0])
    print(json.dumps(TASKS[task.pop("task")](**task)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
