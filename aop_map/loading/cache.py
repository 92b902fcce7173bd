"""The signed cache of validated files and the key that signs it; never unpickles unsigned data."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle
import secrets
import tempfile
import threading
from functools import lru_cache
from pathlib import Path

from aop_map import settings
from aop_map.loading.files import FileStat
from aop_map.reading import FileRefused, read_data_file
from aop_map.records import Problem, Record
from aop_map.vocabulary import Vocabulary

# Bump when the parsed or validated shape changes, so old caches are never trusted.
CACHE_VERSION = "6"
CACHE_DIR_NAME = ".aop-cache"
# Files per cache shard (and per message to a worker), and shards before the cache re-shards.
SHARD_FILES = 250
MAX_SHARDS = 400

logger = logging.getLogger(__name__)

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


# The aop_map folder, whose modules the fingerprint reads.
CODE_DIR = Path(__file__).resolve().parent.parent
# The modules whose code shapes a cached result (parsing, validating, terms, the registry, the
# text normalising headers and ids): a module file, or every file of a package.
SHAPING_MODULES = ("loading", "reading", "records", "vocabulary", "fields", "text")


def shaping_sources(root: Path) -> list[Path]:
    """The files of ``SHAPING_MODULES`` under ``root``: ``<name>.py``, else ``<name>/**/*.py``."""
    found: list[Path] = []
    for module in SHAPING_MODULES:
        single = root / f"{module}.py"
        found += [single] if single.is_file() else sorted((root / module).rglob("*.py"))
    return found


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    # Validated records depend on the code that validated them: a cache made by another
    # version of these modules is never trusted, even when CACHE_VERSION was not bumped.
    # Every file of a package counts, so code moved into a new module still keys the cache.
    digest = hashlib.sha1(CACHE_VERSION.encode())
    for path in shaping_sources(CODE_DIR):
        digest.update(path.relative_to(CODE_DIR).as_posix().encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"unreadable")
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
