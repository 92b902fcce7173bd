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
    """The project's loader with an empty parse cache, then again with it warm."""
    from aop_map.loading import load_records

    start = time.perf_counter()
    cold = load_records(Path(data_dir), cache_dir=Path(cache_dir))
    cold_s = time.perf_counter() - start
    start = time.perf_counter()
    warm = load_records(Path(data_dir), cache_dir=Path(cache_dir))
    warm_s = time.perf_counter() - start
    ids = [r.id for r in cold.records]
    return {"cold_s": cold_s, "warm_s": warm_s, "records": len(ids), "digest": _digest(ids),
            "warm_digest": _digest([r.id for r in warm.records]),
            "problems": len(cold.problems)}


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


TASKS = {"load_ours": load_ours, "load_naive": load_naive}


def main(argv: list[str]) -> int:
    task = json.loads(argv[0])
    print(json.dumps(TASKS[task.pop("task")](**task)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
