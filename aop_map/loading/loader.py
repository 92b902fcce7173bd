"""A data directory -> LoadResult: cache reused, the rest processed, combined; never parses."""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from aop_map.loading.cache import (
    CACHE_VERSION,
    MAX_SHARDS,
    SHARD_FILES,
    FileCache,
    FileResult,
    cache_key,
    default_cache_dir,
)
from aop_map.loading.files import (
    FileStat,
    Skipped,
    data_dir_from_env,
    load_vocabulary,
    scan_record_files,
    vocabulary_path,
)
from aop_map.loading.processing import load_workers, process_files
from aop_map.records import Problem, Record
from aop_map.vocabulary import Vocabulary

# Loads of this many files freeze their objects out of the garbage collector's scans.
FREEZE_MIN_FILES = 1000


class Origin(NamedTuple):
    """Where a record was read from."""

    source: str
    line: int | None


@dataclass
class LoadResult:
    """Valid records, every problem found, and where each record came from."""

    records: list[Record]
    problems: list[Problem]
    origins: dict[str, Origin] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        """Problems that changed or dropped data (warnings excluded)."""
        return [p for p in self.problems if p.severity == "error"]


def data_signature(data_dir: Path, files: list[FileStat] | None = None) -> str:
    """Changes whenever a record file or the vocabulary is added, removed or edited."""
    data_dir = Path(data_dir)
    digest = hashlib.sha1(f"{CACHE_VERSION}\0{data_dir.resolve()}\n".encode())
    vocabulary = vocabulary_path(data_dir)
    try:
        stat = os.lstat(vocabulary)
        digest.update(f"{vocabulary}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    except OSError:
        digest.update(b"no vocabulary\n")
    skipped: list[Skipped] = []
    for file in scan_record_files(data_dir, skipped) if files is None else files:
        digest.update(f"{file.path}\0{file.mtime_ns}\0{file.size}\n".encode())
    for item in skipped:  # a new link is a new problem to show
        digest.update(f"{item.path}\0{item.reason}\n".encode())
    return digest.hexdigest()


class _CollectorPaused:
    """Pause the cyclic garbage collector while building many objects that all stay alive.

    Loading allocates hundreds of thousands of objects and frees almost none, which makes the
    collector run again and again over the growing heap for nothing: it tripled load times.
    After a large load (``freeze`` set) the objects are also frozen out of the collector's
    view (``gc.freeze``): records are long-lived and free of reference cycles (refcounting
    still frees them when dropped), and every later full collection would otherwise re-scan
    them all, ~0.2 s a time at 10,000 records. Small loads are left to the collector.
    """

    def __init__(self) -> None:
        self.freeze = False

    def __enter__(self) -> _CollectorPaused:
        self.was_enabled = gc.isenabled()
        gc.disable()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.freeze:
            gc.freeze()
        if self.was_enabled:
            gc.enable()


def load_records(
    data_dir: Path | str | None = None,
    vocabulary: Vocabulary | None = None,
    *,
    use_cache: bool = True,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> LoadResult:
    """Load and validate every record file under a directory.

    Files unchanged since the last load (same path, mtime and size, same vocabulary) come
    from the cache; the rest are parsed and validated, with help from ``workers`` other
    processes when there are many (default from :func:`load_workers`). Duplicate ids keep the
    first copy (in path order) and report the second naming both places.
    """
    data_dir = Path(data_dir) if data_dir is not None else data_dir_from_env()
    if not data_dir.is_dir():
        return LoadResult([], [Problem(str(data_dir), "data directory not found")])
    with _CollectorPaused() as collector:
        vocabulary = vocabulary or load_vocabulary(data_dir)
        skipped: list[Skipped] = []
        files = scan_record_files(data_dir, skipped)
        collector.freeze = len(files) >= FREEZE_MIN_FILES
        base = data_dir.parent
        directory = (cache_dir or default_cache_dir(data_dir)) if use_cache else None
        cache = FileCache(directory, cache_key(base, vocabulary))
        found = cache.lookup(files)
        missing = [file for file in files if file.path not in found]
        if missing:
            jobs = [(file.path, _display_name(Path(file.path), base)) for file in missing]
            count = workers if workers is not None else load_workers(len(jobs))
            shards = process_files(jobs, vocabulary, count, keep_blobs=cache.path is not None)
            start = 0
            for results, blob in shards:
                done = missing[start : start + len(results)]
                start += len(results)
                found.update(zip((file.path for file in done), results, strict=True))
                cache.add(done, blob)
            if len(cache.shards) > MAX_SHARDS:  # many small edits: re-shard the lot once
                cache.shards = []
                for i in range(0, len(files), SHARD_FILES):
                    part = files[i : i + SHARD_FILES]
                    cache.add(
                        part, pickle.dumps([found[f.path] for f in part], pickle.HIGHEST_PROTOCOL)
                    )
        result = _combine([found[file.path] for file in files])
        result.problems[:0] = [
            Problem(_display_name(Path(item.path), base), item.reason) for item in skipped
        ]
        cache.save()
    return result


def _combine(results: list[FileResult]) -> LoadResult:
    """Every file's records and problems in path order; a repeated id keeps the first copy."""
    records: list[Record] = []
    problems: list[Problem] = []
    origins: dict[str, Origin] = {}
    for source, items, file_problems in results:
        found = list(file_problems)
        for record, record_problems, line in items:
            found.extend(record_problems)
            if record is None:
                continue
            first = origins.get(record.id)
            if first is not None:
                where = first.source + (f" line {first.line}" if first.line else "")
                found.append(
                    Problem(
                        source,
                        f"duplicate id {record.id!r}: already used in {where}; "
                        "this copy is ignored",
                        line,
                        "id",
                        record.id,
                    )
                )
                continue
            origins[record.id] = Origin(source, line)
            records.append(record)
        problems.extend(_capped(source, found))
    return LoadResult(records, problems, origins)


# Problems listed per file; the rest are counted in one more. A file of 200,000 one-line
# non-records would otherwise bury every other message (and the About page's table).
MAX_PROBLEMS_PER_FILE = 200


def _capped(source: str, problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS_PER_FILE:
        return problems
    hidden = problems[MAX_PROBLEMS_PER_FILE:]
    errors = sum(p.severity == "error" for p in hidden)
    return [
        *problems[:MAX_PROBLEMS_PER_FILE],
        Problem(
            source,
            f"{len(hidden):,} more problems in this file are not listed ({errors:,} of "
            "them errors): fix the ones above and load it again",
            severity="error" if errors else "warning",
        ),
    ]


def _display_name(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
