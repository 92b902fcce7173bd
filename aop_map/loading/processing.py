"""Parsing and validating files, in helper processes when many; never caches or combines them."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import multiprocessing.context
import os
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from aop_map import settings
from aop_map.loading.cache import SHARD_FILES, FileResult
from aop_map.loading.csv_sheets import parse_csv_text
from aop_map.reading import (
    MAX_CSV_BYTES,
    MAX_FILE_BYTES,
    FileRefused,
    RawRecord,
    decode_bytes,
    parse_yaml_text,
    read_data_file,
)
from aop_map.records import Problem, slugify, validate_record
from aop_map.vocabulary import Vocabulary

# Fan parsing out to other processes from this many uncached files (below it, starting them
# costs more than it saves), to at most this many processes.
PARALLEL_MIN_FILES = 1500
MAX_LOAD_WORKERS = 4

logger = logging.getLogger(__name__)


def parse_file(path: Path) -> tuple[list[RawRecord], list[Problem]]:
    """Raw records and file-level problems of one YAML or CSV file.

    Read only when it is a regular file (never through a link) within its size limit, and
    parsed within the limits of :mod:`aop_map.reading`; a file over one gets one problem saying
    why (and where, when the parser got that far) and no records.
    """
    source = str(path)
    is_csv = path.suffix.lower() == ".csv"
    try:
        text = decode_bytes(
            read_data_file(path, MAX_CSV_BYTES if is_csv else MAX_FILE_BYTES), path.name
        )
        if is_csv:
            return parse_csv_text(text, source)
        return parse_yaml_text(text), []
    except FileRefused as error:
        return [], [Problem(source, error.reason, error.line)]
    except OSError as error:
        return [], [Problem(source, f"cannot read file: {error.strerror or 'unreadable'}")]
    except yaml.YAMLError as error:
        return [], [yaml_problem(source, error)]


# Longest YAML error text shown: the parser's reasons are short, a tag it quotes may not be.
MAX_REASON = 200


def yaml_problem(source: str, error: yaml.YAMLError) -> Problem:
    """The problem of a file that is not valid YAML, at the line the parser stopped."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(error, "problem", None) or str(error).splitlines()[0]
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 1] + "…"
    return Problem(source, f"not valid YAML: {reason}", line)


def process_file(path: Path, source: str, vocabulary: Vocabulary) -> FileResult:
    """Parse and validate one file: every record (or None) with its problems and line.

    Whatever goes wrong in one file stays in it: an unexpected error is logged with its
    traceback and becomes one problem of that file, so the other files still load.
    """
    try:
        raws, file_problems = parse_file(path)
        items = []
        for raw in raws:
            record, problems = validate_record(
                _with_default_id(raw.data),
                vocabulary,
                source=source,
                line=raw.line,
                field_lines=raw.field_lines,
            )
            items.append((record, tuple(problems), raw.line))
    except Exception:  # noqa: BLE001 - one file never stops a load
        logger.exception("loading %s failed", path)
        return (
            source,
            (),
            (
                Problem(
                    source,
                    "could not be loaded: an internal error (the details are in the server log)",
                ),
            ),
        )
    return source, tuple(items), tuple(_with_source(p, source) for p in file_problems)


# A job: (file path, its name in messages).
Job = tuple[str, str]

_worker_vocabulary: Vocabulary | None = None


def _start_worker(vocabulary: Vocabulary) -> None:
    global _worker_vocabulary
    _worker_vocabulary = vocabulary
    gc.disable()  # a worker lives for one load; the collector only slows it down


def _process_chunk(chunk: list[Job]) -> bytes:
    assert _worker_vocabulary is not None
    results = [process_file(Path(path), source, _worker_vocabulary) for path, source in chunk]
    return pickle.dumps(results, pickle.HIGHEST_PROTOCOL)


def load_workers(pending: int) -> int:
    """How many other processes help parse ``pending`` files: 0 unless it pays to fan out.

    $AOP_MAP_LOAD_WORKERS overrides (0 turns fanning out off). This process works too, so
    a 2-core machine uses one helper; starting it costs tens of milliseconds, so small loads
    stay here.
    """
    chosen = settings.count("AOP_MAP_LOAD_WORKERS")  # SettingError when not a whole number
    if chosen is not None:
        return chosen
    if pending < PARALLEL_MIN_FILES:
        return 0
    return max(0, min((os.cpu_count() or 1) - 1, MAX_LOAD_WORKERS))


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is cheapest but unsafe in a threaded process (a Streamlit server): there, fork from a
    # clean single-threaded server process that has the loader imported once.
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def process_files(
    jobs: list[Job], vocabulary: Vocabulary, workers: int = 0, keep_blobs: bool = True
) -> list[tuple[list[FileResult], bytes]]:
    """``process_file`` over many files in shards, in order: (results, pickled results).

    With ``workers`` > 0, helper processes take shards from the front while this process
    takes them from the back, so neither waits for the other. Any failure of the worker pool
    (no semaphores in a sandbox, a killed worker) falls back to doing the work here: fanning
    out can make a load faster but never break it. ``keep_blobs=False`` skips pickling when
    nothing will be cached.
    """
    chunks = [jobs[i : i + SHARD_FILES] for i in range(0, len(jobs), SHARD_FILES)]
    if workers > 0 and len(chunks) > 1:
        try:
            return _process_in_pool(chunks, vocabulary, workers)
        except Exception as error:  # noqa: BLE001 - any pool failure: do it here instead
            logger.warning("parallel loading failed (%s); loading in one process", error)
    return [_process_here(chunk, vocabulary, keep_blobs) for chunk in chunks]


def _process_here(
    chunk: list[Job], vocabulary: Vocabulary, keep_blob: bool = True
) -> tuple[list[FileResult], bytes]:
    results = [process_file(Path(path), source, vocabulary) for path, source in chunk]
    return results, pickle.dumps(results, pickle.HIGHEST_PROTOCOL) if keep_blob else b""


def _process_in_pool(
    chunks: list[list[Job]], vocabulary: Vocabulary, workers: int
) -> list[tuple[list[FileResult], bytes]]:
    done: list[tuple[list[FileResult], bytes] | None] = [None] * len(chunks)
    with ProcessPoolExecutor(
        workers, mp_context=_pool_context(), initializer=_start_worker, initargs=(vocabulary,)
    ) as pool:
        futures = [pool.submit(_process_chunk, chunk) for chunk in chunks]
        # Take shards from the back for as long as no worker has started them.
        for index in range(len(chunks) - 1, -1, -1):
            if not futures[index].cancel():
                break
            done[index] = _process_here(chunks[index], vocabulary)
        for index, future in enumerate(futures):
            if done[index] is None:
                blob = future.result()
                done[index] = (pickle.loads(blob), blob)
    return [item for item in done if item is not None]


def _with_default_id(data: Any) -> Any:
    """Spreadsheets rarely carry ids: derive a stable slug from the name when missing."""
    if isinstance(data, dict) and not data.get("id") and isinstance(data.get("name"), str):
        return {**data, "id": slugify(data["name"])}
    return data


def _with_source(problem: Problem, source: str) -> Problem:
    if problem.source == source:
        return problem
    return Problem(
        source, problem.message, problem.line, problem.field, problem.record_id, problem.severity
    )
