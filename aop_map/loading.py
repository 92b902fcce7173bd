"""mapdata YAML/CSV files -> validated records + a list of problems; no Streamlit, no network.

One bad record, row or file never stops the others, and nothing is dropped without a problem
saying where and why. Files are read through :mod:`aop_map.reading`: never through a link, and
refused (with one problem) when over a size, depth, alias or key limit. Validated files are
cached on disk keyed on path + mtime + size, so a second load of thousands of files costs a stat
per file and one read of the cache, whose shards are signed and checked before they are used.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import hmac
import io
import json
import logging
import multiprocessing
import multiprocessing.context
import os
import pickle
import re
import secrets
import tempfile
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from aop_map import fields, settings
from aop_map.reading import (
    LINK_REASON,
    MAX_CSV_BYTES,
    MAX_CSV_COLUMNS,
    MAX_CSV_ROWS,
    MAX_FILE_BYTES,
    FileRefused,
    RawRecord,
    decode_bytes,
    parse_yaml_text,
    read_data_file,
)
from aop_map.records import Problem, Record, excerpt, slugify, validate_record
from aop_map.text import normalise
from aop_map.vocabulary import Vocabulary

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DATA_DIR = PACKAGE_ROOT / "mapdata"
VOCABULARY_FILE = "vocabulary.yaml"
GAZETTEER_FILE = "gazetteer.csv"
# Files in a data directory that are not records, and folders that hold other state.
RESERVED_FILES = frozenset({VOCABULARY_FILE, GAZETTEER_FILE})
SKIPPED_DIRS = frozenset({"submissions"})
RECORD_SUFFIXES = (".yaml", ".yml", ".csv")
# Bump when the parsed or validated shape changes, so old caches are never trusted.
CACHE_VERSION = "6"
CACHE_DIR_NAME = ".aop-cache"
# Fan parsing out to other processes from this many uncached files (below it, starting them
# costs more than it saves), to at most this many processes.
PARALLEL_MIN_FILES = 1500
MAX_LOAD_WORKERS = 4
# Files per cache shard (and per message to a worker), and shards before the cache re-shards.
SHARD_FILES = 250
MAX_SHARDS = 400
# Loads of this many files freeze their objects out of the garbage collector's scans.
FREEZE_MIN_FILES = 1000

logger = logging.getLogger(__name__)


def data_dir_from_env() -> Path:
    """The data directory: $AOP_MAP_DATA_DIR, else the bundled mapdata/."""
    return settings.path("AOP_MAP_DATA_DIR") or BUNDLED_DATA_DIR


def vocabulary_path(data_dir: Path) -> Path:
    """The vocabulary of a data directory, falling back to the bundled one.

    Anything named ``vocabulary.yaml`` there counts, even a link or a folder, so that it is
    refused with a clear message rather than silently replaced by the bundled one.
    """
    own = Path(data_dir) / VOCABULARY_FILE
    return own if os.path.lexists(own) else BUNDLED_DATA_DIR / VOCABULARY_FILE


def load_vocabulary(data_dir: Path | None = None) -> Vocabulary:
    """The controlled vocabulary that applies to a data directory.

    Raises :class:`VocabularyError`, with a plain message naming the file (never its folder),
    when it is missing, unreadable, a link, over a limit, not YAML or not a vocabulary.
    """
    return Vocabulary.load(vocabulary_path(data_dir or data_dir_from_env()))


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


# ---------------------------------------------------------------------------------------------
# Discovering and parsing files


class FileStat(NamedTuple):
    """A record file with the modification time and size that key every cache."""

    path: str
    mtime_ns: int
    size: int


class Skipped(NamedTuple):
    """A file or folder a scan left out unread, and why (a link, a pipe): each is a problem."""

    path: str
    reason: str


# Folders nested deeper than this are not scanned (and reported): real data uses two or three.
MAX_FOLDER_DEPTH = 16
NOT_REGULAR_REASON = "skipped: not a regular file"


def scan_record_files(data_dir: Path, skipped: list[Skipped] | None = None) -> list[FileStat]:
    """Every record file under a directory with its stat, in a stable order.

    One ``os.scandir`` pass: files of a folder (sorted) before its sub-folders (sorted), hidden
    and ``_``-prefixed folders and other state (submissions) skipped. Links are never followed
    and special files (pipes, devices) never opened: those that look like data, and folders
    nested too deep, are added to ``skipped``. A file that vanishes mid-scan is left out; the
    next scan sees the directory as it then is.
    """
    found: list[FileStat] = []
    skipped = skipped if skipped is not None else []
    pending = [(os.fspath(data_dir), 0)]
    while pending:  # depth first, without recursion: a folder tree can be deeper than Python's
        folder, depth = pending.pop()
        folders = _scan_folder(folder, found, skipped)
        if folders and depth >= MAX_FOLDER_DEPTH:
            skipped.append(
                Skipped(
                    folder, f"skipped: its folders are nested more than {MAX_FOLDER_DEPTH} deep"
                )
            )
            continue
        pending.extend((sub, depth + 1) for sub in reversed(folders))
    return found


def _scan_folder(folder: str, found: list[FileStat], skipped: list[Skipped]) -> list[str]:
    """Add a folder's record files to ``found``; its sub-folders to scan, sorted."""
    try:
        with os.scandir(folder) as entries:
            listed = sorted(entries, key=lambda entry: entry.name)
    except OSError:
        return []
    folders: list[str] = []
    for entry in listed:
        name = entry.name
        if name.startswith("."):
            continue
        try:
            is_data = name.lower().endswith(RECORD_SUFFIXES) and name not in RESERVED_FILES
            folder_name = not name.startswith("_") and name not in SKIPPED_DIRS
            if entry.is_symlink():  # reported only when it would have been read
                if is_data or (folder_name and entry.is_dir()):
                    skipped.append(Skipped(entry.path, LINK_REASON))
            elif entry.is_dir(follow_symlinks=False):
                if folder_name:
                    folders.append(entry.path)
            elif is_data:
                if not entry.is_file(follow_symlinks=False):
                    skipped.append(Skipped(entry.path, NOT_REGULAR_REASON))
                    continue
                stat = entry.stat(follow_symlinks=False)
                found.append(FileStat(entry.path, stat.st_mtime_ns, stat.st_size))
        except OSError:
            continue
    return folders


def find_record_files(data_dir: Path) -> list[Path]:
    """Every record file under a directory, in a stable order."""
    return [Path(file.path) for file in scan_record_files(data_dir)]


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


# ---------------------------------------------------------------------------------------------
# CSV: one row per record, flexible headers


# Header spellings are declared with each field (aop_map.fields: csv_aliases), normalised as
# normalise_header makes them; fields.csv_headers() is the lookup, read for each file.
_BOOLEAN_WORDS = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "x": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}


def normalise_header(header: str) -> str:
    """A header's matching key: text.normalise with no separator ("Art forms" -> "artforms")."""
    return normalise(header, "")


def parse_csv_text(text: str, source: str) -> tuple[list[RawRecord], list[Problem]]:
    """Raw records from spreadsheet text; unknown columns and blank rows are reported/skipped.

    A sheet of more than ``MAX_CSV_ROWS`` rows or ``MAX_CSV_COLUMNS`` cells in a row is
    refused with one problem (no records), found while reading, before any record is built
    from it. Cells are limited by the csv module's field size limit (128 KiB unless raised).
    """
    header_line = _first_filled_line(text)
    if header_line is None:
        return [], [Problem(source, "the file is empty", None, severity="warning")]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[Problem] = []
    header: list[str] | None = None
    columns: list[str | None] = []
    rows: list[tuple[list[str], int]] = []
    start = 1
    malformed: Problem | None = None
    try:
        for count, row in enumerate(reader, 1):
            line, start = start, reader.line_num + 1
            if count > MAX_CSV_ROWS or len(row) > MAX_CSV_COLUMNS:
                return [], [_csv_refusal(source, count, len(row), line)]
            if any(cell.strip() for cell in row):
                rows.append((row, line))
    except csv.Error as error:  # the rows before it still count
        malformed = Problem(source, f"malformed CSV: {error}", reader.line_num)
    out: list[RawRecord] = []
    for row, line in rows:
        if header is None:
            header = row
            columns = _map_headers(row, source, line, problems)
        else:
            out.append(_row_to_raw(row, columns, header, line, source, problems))
    if malformed is not None:
        problems.append(malformed)
    if header is not None and "name" not in columns:
        problems.append(Problem(source, "no 'name' column: every row needs a name", 1, "name"))
    return out, problems


def _first_filled_line(text: str) -> str | None:
    for match in re.finditer(r"[^\r\n]+", text):
        if match.group().strip():
            return match.group()
    return None


def _csv_refusal(source: str, rows: int, cells: int, line: int) -> Problem:
    if rows > MAX_CSV_ROWS:
        why = f"more than {MAX_CSV_ROWS:,} rows (split it into several files)"
    else:
        why = f"a row of {cells:,} cells, more than the {MAX_CSV_COLUMNS} a record sheet has"
    return Problem(source, f"refused: {why}", line)


def _map_headers(
    row: list[str], source: str, line: int, problems: list[Problem]
) -> list[str | None]:
    columns: list[str | None] = []
    headers = fields.csv_headers()
    for cell in row:
        column = headers.get(normalise_header(cell))
        if column is None and cell.strip():
            problems.append(
                Problem(
                    source,
                    f"column {excerpt(cell.strip())} not recognised; its values are ignored",
                    line,
                    excerpt(cell.strip(), quote=False),
                    severity="warning",
                )
            )
        if column is not None and column in columns:
            problems.append(
                Problem(
                    source,
                    f"column {excerpt(cell.strip())} repeats {column!r}; the first one is used",
                    line,
                    column,
                    severity="warning",
                )
            )
            column = None
        columns.append(column)
    return columns


def _row_to_raw(
    row: list[str],
    columns: list[str | None],
    header: list[str],
    line: int,
    source: str,
    problems: list[Problem],
) -> RawRecord:
    cells: dict[str, str] = {}
    for index, column in enumerate(columns):
        if column is not None and index < len(row) and row[index].strip():
            cells[column] = row[index].strip()
    if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
        problems.append(
            Problem(
                source,
                f"row has {len(row)} cells but the header has "
                f"{len(header)}; the extra cells are ignored",
                line,
            )
        )
    data = _cells_to_record(cells)
    return RawRecord(data, line, {key: line for key in data})


def split_list(
    value: str, vocabulary: Vocabulary | None = None, field: str | None = None
) -> list[str]:
    """Split a list cell on ';' (or '|'); on ',' only where the whole cell is not one term."""
    for separator in (";", "|", "\n"):
        if separator in value:
            return [part.strip() for part in value.split(separator) if part.strip()]
    if "," in value:
        # The whole cell may be one term ("Arts, crafts"); not in a field this vocabulary has
        # no section for (one just added to the registry).
        whole_is_term = (
            vocabulary is not None
            and field is not None
            and vocabulary.section(field) in vocabulary.sections
            and vocabulary.find(field, value)
        )
        if not whole_is_term:
            return [part.strip() for part in value.split(",") if part.strip()]
    return [value.strip()] if value.strip() else []


def _parse_bool(value: str) -> bool | str:
    return _BOOLEAN_WORDS.get(value.strip().lower(), value)


def _csv_plan() -> dict[str, tuple[str, str, bool, bool, bool]]:
    """Field name -> (part, attribute, is a list, is controlled, is yes/no) of every field
    outside the locations, from the registry as it is now (built once per registry)."""
    return fields.remember(
        "loading.csv_plan",
        lambda: {
            spec.name: (
                spec.group,
                spec.attribute,
                spec.many,
                spec.controlled,
                spec.datatype == "bool",
            )
            for spec in fields.all_fields()
            if spec.group != "locations"
        },
    )


def _cells_to_record(cells: dict[str, str]) -> dict[str, Any]:
    """The nested record shape from flat spreadsheet cells (values still raw text).

    Each field goes to its place in the record (``contact.email``); list cells are split,
    yes/no words read. Location columns make the ``locations`` list.
    """
    data: dict[str, Any] = {}
    plan = _csv_plan()
    for name, cell in cells.items():  # cells are keyed by field name (fields.csv_headers)
        if name not in plan:
            continue  # a location column
        group, attribute, many, controlled, yes_no = plan[name]
        value: Any = cell
        if many:
            value = split_list(value, _CSV_VOCABULARY.get() if controlled else None, name)
        elif yes_no:
            value = _parse_bool(value)
        if group:
            data.setdefault(group, {})[attribute] = value
        else:
            data[name] = value
    locations = _cells_to_locations(cells)
    if locations:
        data["locations"] = locations
    return data


def _cells_to_locations(cells: dict[str, str]) -> list[dict[str, Any]]:
    postcodes = split_list(cells.get("postcode", ""))
    places = split_list(cells.get("place", ""))
    if len(postcodes) > 1 and len(places) not in (0, 1, len(postcodes)):
        places = []  # cannot pair them up; the postcodes locate the record
    locations: list[dict[str, Any]] = []
    count = max(len(postcodes), len(places), 1)
    for index in range(count):
        location: dict[str, Any] = {}
        if index < len(postcodes):
            location["postcode"] = postcodes[index]
        place = places[index] if index < len(places) else (places[0] if len(places) == 1 else None)
        if place:
            location["place"] = place
        if index == 0:  # the venue, address, lat and lon columns describe the first location
            location.update(
                {
                    spec.attribute: cells[spec.name]
                    for spec in fields.location_fields()
                    if spec.name in cells and spec.name not in ("postcode", "place")
                }
            )
        if location:
            locations.append(location)
    return locations


class _VocabularyHolder:
    """The vocabulary used to tell 'Arts, crafts' (one term?) from a comma list while parsing.

    Parsing is cached per file, so it must not depend on anything but the file; the bundled
    vocabulary is stable enough for that decision and is read once.
    """

    _vocabulary: Vocabulary | None = None
    _failed = False  # tried once and failed: not tried again for every cell

    def get(self) -> Vocabulary | None:
        if self._vocabulary is None and not self._failed:
            try:
                self._vocabulary = Vocabulary.load(BUNDLED_DATA_DIR / VOCABULARY_FILE)
            except (OSError, ValueError, yaml.YAMLError):
                self._failed = True
        return self._vocabulary


_CSV_VOCABULARY = _VocabularyHolder()


# ---------------------------------------------------------------------------------------------
# Cache of validated files

# One file's outcome: (its name in messages, (record or None, its problems, its line) per
# record, problems of the file itself). Plain tuples: they unpickle several times faster.
FileResult = tuple[
    str, tuple[tuple[Record | None, tuple[Problem, ...], int | None], ...], tuple[Problem, ...]
]
# A run of files processed together: (their stats, their results pickled, the pickle's MAC).
Shard = tuple[tuple[tuple[str, int, int], ...], bytes | memoryview, bytes]
# The cache file: this line, a one-line JSON header (key, and per shard its files, length and
# MAC), then the shards' pickled bytes one after another.
CACHE_MAGIC = b"aop-map validated files 1\n"
SECRET_FILE = Path("aop-map") / "cache-key"


def cache_secret_path() -> Path | None:
    """Where the key that signs caches is kept: ``$XDG_CONFIG_HOME/aop-map/cache-key``.

    ``$XDG_CONFIG_HOME`` defaults to ``~/.config``, so the key belongs to the user who runs
    the app, outside every data and cache folder. Setting ``XDG_CONFIG_HOME`` moves it (tests
    do). None when there is no home directory.
    """
    config = os.environ.get("XDG_CONFIG_HOME", "").strip()
    try:
        return (Path(config) if config else Path.home() / ".config") / SECRET_FILE
    except RuntimeError:  # no home directory to find
        return None


# Read once per process and path: (path, secret or None when it can be neither read nor made).
_secret: tuple[Path, bytes | None] | None = None
_secret_lock = threading.Lock()
MIN_SECRET_BYTES = 32


def cache_secret() -> bytes | None:
    """The per-installation key that signs cached shards, made on first use (mode 0600).

    Shards are pickles, and unpickling runs code: a shard is only ever unpickled after its
    HMAC-SHA256 under this key checks out. The key lives outside any data or cache folder
    (:func:`cache_secret_path`), so whoever can add files there (a pull request with a
    ``.aop-cache`` folder, a shared data folder) cannot sign a shard. None, and no cache is
    used, when the key can be neither read nor made (no writable home directory, say).
    """
    global _secret
    path = cache_secret_path()
    with _secret_lock:
        if _secret is None or _secret[0] != path:
            _secret = (path, _read_or_make_secret(path) if path is not None else None)
            if _secret[1] is None:
                logger.warning("no cache key at %s: loading without the cache", path)
        return _secret[1]


def _read_or_make_secret(path: Path) -> bytes | None:
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache-key-")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_hex(MIN_SECRET_BYTES).encode())
            try:
                os.link(tmp, path)  # never replaces a key another process has just made
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
        return _read_secret(path)
    except OSError:
        return None


def _read_secret(path: Path) -> bytes | None:
    secret = path.read_bytes().strip()
    return secret if len(secret) >= MIN_SECRET_BYTES else None


class FileCache:
    """Validated files on disk, in shards of a few hundred files keyed on path + mtime + size.

    A shard is reused when none of its files changed; a changed, added or removed file costs a
    re-parse of its shard only. Shards are stored as the pickled bytes the worker processes
    send back, so saving a freshly loaded directory costs a write, not a second pickling.
    The whole cache belongs to one vocabulary and one base folder (problems name files
    relative to it): when either changes it is ignored. Unreadable, corrupt or foreign caches
    are ignored too, so a cache can only make a load faster, never different.

    Each shard carries an HMAC-SHA256 (key: :func:`cache_secret`) of the cache key, its files
    and its bytes, checked before it is unpickled: a forged or damaged shard is dropped and its
    files parsed afresh. The file itself is a JSON header and raw bytes, never unpickled whole.
    """

    FILE_NAME = "records.cache"

    def __init__(self, directory: Path | None, key: str, secret: bytes | None = None) -> None:
        if directory is not None and os.path.islink(directory):
            directory = None  # a cache folder that is a link may point anywhere: not used
        self.secret = secret if secret is not None or directory is None else cache_secret()
        self.path = directory / self.FILE_NAME if directory and self.secret else None
        self.key = key
        self.shards: list[Shard] = []
        self.dirty = False
        if self.path is not None:
            self.shards = self._read(self.path)

    def _read(self, path: Path) -> list[Shard]:
        try:
            data = read_data_file(path, None)  # a regular file, not through a link
        except (OSError, FileRefused):
            return []
        if not data.startswith(CACHE_MAGIC):
            return []  # none yet, or an older format: only a slower load
        try:
            end = data.index(b"\n", len(CACHE_MAGIC))
            header = json.loads(data[len(CACHE_MAGIC) : end])
            if header["key"] != self.key:
                return []
            view, offset, shards = memoryview(data), end + 1, []
            for files, length, mac in header["shards"]:
                stats = tuple((str(path), int(mtime), int(size)) for path, mtime, size in files)
                shards.append((stats, view[offset : offset + int(length)], bytes.fromhex(mac)))
                offset += int(length)
        except (ValueError, KeyError, TypeError):  # corrupt: only a slower load
            return []
        return shards

    def _mac(self, stats: tuple[tuple[str, int, int], ...], blob: bytes | memoryview) -> bytes:
        assert self.secret is not None
        digest = hmac.new(
            self.secret, json.dumps([CACHE_VERSION, self.key, stats]).encode(), hashlib.sha256
        )
        digest.update(b"\0")
        digest.update(blob)
        return digest.digest()

    def lookup(self, files: list[FileStat]) -> dict[str, FileResult]:
        """Results of every file whose shard is unchanged and genuine; the others are dropped."""
        current = {file.path: file for file in files}
        found: dict[str, FileResult] = {}
        kept: list[Shard] = []
        for stats, blob, mac in self.shards:
            if not all(current.get(stat[0]) == stat for stat in stats):
                continue
            if not hmac.compare_digest(mac, self._mac(stats, blob)):
                continue  # forged or damaged: never unpickled, its files are parsed again
            try:
                results = pickle.loads(blob)
            except Exception:
                continue
            found.update(zip((stat[0] for stat in stats), results, strict=True))
            kept.append((stats, blob, mac))
        self.dirty = len(kept) != len(self.shards)
        self.shards = kept
        return found

    def add(self, files: list[FileStat], blob: bytes) -> None:
        """Keep a shard of results (pickled) for these files, signed."""
        if self.path is None:
            return
        stats = tuple((file.path, file.mtime_ns, file.size) for file in files)
        self.shards.append((stats, blob, self._mac(stats, blob)))
        self.dirty = True

    def save(self) -> None:
        """Write the cache atomically when it changed."""
        if self.path is None or not self.dirty:
            return
        header = {
            "key": self.key,
            "shards": [[stats, len(blob), mac.hex()] for stats, blob, mac in self.shards],
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".records-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(CACHE_MAGIC)
                    handle.write(json.dumps(header).encode())
                    handle.write(b"\n")
                    for _stats, blob, _mac in self.shards:
                        handle.write(blob)
                os.replace(tmp, self.path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except OSError:
            pass  # a read-only data directory just loads without a cache


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    # Validated records depend on the code that validated them: a cache made by another
    # version of these modules is never trusted, even when CACHE_VERSION was not bumped.
    digest = hashlib.sha1(CACHE_VERSION.encode())
    for module in ("loading.py", "reading.py", "records.py", "vocabulary.py", "fields.py"):
        try:
            digest.update((Path(__file__).parent / module).read_bytes())
        except OSError:
            digest.update(module.encode())
    return digest.hexdigest()


def cache_key(base: Path, vocabulary: Vocabulary) -> str:
    """What a cache of validated files belongs to: folder, vocabulary and validating code."""
    return f"{base.resolve()}\0{vocabulary.fingerprint()}\0{_code_fingerprint()}"


def default_cache_dir(data_dir: Path) -> Path:
    """$AOP_MAP_CACHE_DIR, else a hidden folder inside the data directory (git-ignored)."""
    chosen = settings.path("AOP_MAP_CACHE_DIR")
    if chosen is not None:
        key = hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:12]
        return chosen / key
    return Path(data_dir) / CACHE_DIR_NAME


# ---------------------------------------------------------------------------------------------
# Parsing and validating files, on several cores when there are many


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


# ---------------------------------------------------------------------------------------------
# Loading a directory


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


def _with_default_id(data: Any) -> Any:
    """Spreadsheets rarely carry ids: derive a stable slug from the name when missing."""
    if isinstance(data, dict) and not data.get("id") and isinstance(data.get("name"), str):
        return {**data, "id": slugify(data["name"])}
    return data


def _display_name(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _with_source(problem: Problem, source: str) -> Problem:
    if problem.source == source:
        return problem
    return Problem(
        source, problem.message, problem.line, problem.field, problem.record_id, problem.severity
    )
